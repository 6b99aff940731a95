// The JS scenario of letterseal-wasm, shared by the Node test runner (tests/node.test.mjs) and the
// headless Chromium page (tests/browser/index.html): the same cases as the Python suite
// (ffi/python/tests/test_account.py). `scenarios(ls)` takes the loaded module (Account, Relay,
// generateStorageKey) and returns [name, async function] pairs; a case throws on failure.

const NOW = 1_800_000_000;
const TEXT = 0;
const enc = new TextEncoder();
const b = (s) => enc.encode(s);

// ---- assertions (no node:assert: this file also runs in the browser) ----

function fail(message) {
  throw new Error(message);
}
function ok(value, message) {
  if (!value) fail(message || 'expected a true value');
}
function hex(bytes) {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('');
}
function show(v) {
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})[${hex(v.subarray(0, 24))}]`;
  if (typeof v === 'bigint') return `${v}n`;
  try {
    return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? hex(x) : x));
  } catch {
    return String(v);
  }
}
function deepEqual(a, b) {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return deepEqual(ka, kb) && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return Object.is(a, b);
}
function eq(actual, expected, what = 'value') {
  if (!deepEqual(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}
function throwsWith(fn, check, what) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) fail(`${what}: expected a throw, none happened`);
  check(thrown);
  return thrown;
}
// A LettersealError of the category and kind (kind omitted: any kind).
function refused(fn, category, kind) {
  return throwsWith(
    fn,
    (e) => {
      ok(e instanceof Error, `expected an Error, got ${show(e)}`);
      eq(e.name, 'LettersealError', `name of ${e}`);
      eq(e.category, category, `category of ${e}`);
      if (kind !== undefined) eq(e.kind, kind, `kind of ${e}`);
      ok(typeof e.message === 'string' && e.message.length > 0, 'a message');
    },
    `${category}/${kind}`,
  );
}
function throwsType(fn, ctor, what) {
  return throwsWith(
    fn,
    (e) => ok(e instanceof ctor, `${what}: expected ${ctor.name}, got ${e && e.name}: ${e && e.message}`),
    what,
  );
}
const cmpBytes = (x, y) => {
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
};
const sortedBytes = (list) => [...list].sort(cmpBytes);
const key = (user, device) => `${new TextDecoder().decode(user)}/${device}`;

// A deterministic generator for the random garbage (xorshift32; not for keys).
function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

// ---- the world: devices of several users and the relay between them ----

class World {
  constructor(ls) {
    this.ls = ls;
    this.relay = new ls.Relay();
    this.devices = new Map();
  }
  add(user, device, primary = true) {
    const make = primary ? this.ls.Account.createPrimary : this.ls.Account.createSecondary;
    const account = make(NOW, b(user), device);
    this.devices.set(`${user}/${device}`, account);
    return account;
  }
  get(user, device) {
    return this.devices.get(`${user}/${device}`);
  }
  // Uploads envelopes from a device; delivers the fan-out; returns [to, event] pairs.
  send(user, device, envelopes) {
    const events = [];
    for (const envelope of envelopes) {
      for (const out of this.relay.upload(NOW, { user: b(user), device }, envelope)) {
        const to = key(out.to.user, out.to.device);
        events.push([to, this.devices.get(to).receive(NOW, out.envelope)]);
      }
    }
    return events;
  }
  publish(user, device) {
    this.send(user, device, this.get(user, device).uploads(NOW));
  }
  fetchEveryone() {
    const users = new Set([...this.devices.keys()].map((k) => k.split('/')[0]));
    for (const account of this.devices.values()) {
      for (const user of users) {
        for (const envelope of this.relay.fetchUser(b(user))) account.receive(NOW, envelope);
      }
    }
  }
}

function world(ls) {
  const w = new World(ls);
  w.add('alice', 1);
  w.add('bob', 1);
  w.publish('alice', 1);
  w.publish('bob', 1);
  w.fetchEveryone();
  return w;
}

function only(list) {
  eq(list.length, 1, `length of ${show(list)}`);
  return list[0];
}

const envelopes = (outgoing) => outgoing.map((o) => o.envelope);

// ---- the cases ----

export function scenarios(ls) {
  const { Account, Relay, generateStorageKey } = ls;
  const cases = [];
  const test = (name, fn) => cases.push([name, fn]);

  test('1:1 with a reply', () => {
    const w = world(ls);
    const [alice, bob] = [w.get('alice', 1), w.get('bob', 1)];
    const out = alice.sealToUser(NOW, b('bob'), TEXT, b('Dinner at eight?'));
    eq(out.map((o) => key(o.to.user, o.to.device)), ['bob/1'], 'recipients');
    let [to, event] = only(w.send('alice', 1, envelopes(out)));
    eq(to, 'bob/1');
    eq(event.type, 'Message');
    eq(event.sender, { user: b('alice'), device: 1 }, 'sender');
    eq(event.toUser, b('bob'), 'toUser');
    eq(event.contentType, TEXT);
    eq(event.plaintext, b('Dinner at eight?'), 'plaintext');

    const reply = bob.sealToUser(NOW, b('alice'), 0x8001, b('Yes, see you there.'));
    [to, event] = only(w.send('bob', 1, envelopes(reply)));
    eq(to, 'alice/1');
    eq(event.type, 'Message');
    eq(event.sender, { user: b('bob'), device: 1 });
    eq(event.contentType, 0x8001);
    eq(event.plaintext, b('Yes, see you there.'));

    // A replayed envelope is refused and releases nothing.
    refused(() => bob.receive(NOW, out[0].envelope), 'Receive', 'Open');

    // Both sides compute the same safety number over the two user keys.
    const digits = alice.safetyNumberDigits(b('bob'));
    ok(typeof digits === 'string' && /^[0-9]+$/.test(digits), `digits ${digits}`);
    eq(bob.safetyNumberDigits(b('alice')), digits, 'safety number');
    eq(alice.safetyNumberDigits(b('carol')), undefined, 'unknown user');
  });

  test('group with a reply', () => {
    const w = world(ls);
    const [alice, bob] = [w.get('alice', 1), w.get('bob', 1)];
    const upload = alice.createGroup(NOW, b('book club'), [b('bob')]);
    const events = new Map(w.send('alice', 1, [upload]));
    eq([...events.keys()].sort(), ['alice/1', 'bob/1']);
    const [mine, theirs] = [events.get('alice/1'), events.get('bob/1')];
    ok(mine.type === 'GroupChanged' && mine.committed, 'own change committed');
    ok(theirs.type === 'GroupChanged' && !theirs.committed, 'their change not committed');
    eq(theirs.group, b('book club'));
    eq(typeof theirs.change.epoch, 'bigint');
    eq(theirs.change.epoch, mine.change.epoch);
    eq(theirs.change.distributor, { user: b('alice'), device: 1 });
    eq(bob.groups(), [b('book club')]);
    eq(sortedBytes(bob.groupUsers(b('book club'))), [b('alice'), b('bob')]);

    const sealed = bob.sealToGroup(NOW, b('book club'), TEXT, b('I finished chapter one.'));
    let [to, event] = only(w.send('bob', 1, [sealed]));
    eq(to, 'alice/1');
    eq(event.type, 'GroupMessage');
    eq(event.group, b('book club'));
    eq(event.sender, { user: b('bob'), device: 1 });
    eq(event.plaintext, b('I finished chapter one.'));

    const reply = alice.sealToGroup(NOW, b('book club'), TEXT, b('Me too.'));
    [to, event] = only(w.send('alice', 1, [reply]));
    eq(to, 'bob/1');
    eq(event.plaintext, b('Me too.'));

    refused(() => alice.sealToGroup(NOW, b('no such group'), TEXT, b('x')), 'Account', 'UnknownGroup');

    // A proposal the server refused is aborted; a commit without a proposal is refused.
    alice.updateGroup(NOW, b('book club'), [], [b('bob')]);
    alice.abortGroup(b('book club'));
    refused(() => alice.commitGroup(NOW, b('book club')), 'Account');
  });

  test('a second device gets both sides', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    const laptop = w.add('alice', 2, false);
    ok(!laptop.isPrimary() && alice.isPrimary(), 'primary flags');
    eq(laptop.identityKey().length, 32);
    const listed = alice.addDevice(2, laptop.identityKey());
    w.send('alice', 1, [listed]);
    w.publish('alice', 2);
    w.fetchEveryone();
    const out = w.get('bob', 1).sealToUser(NOW, b('alice'), TEXT, b('to both'));
    const delivered = new Map(w.send('bob', 1, envelopes(out)));
    eq([...delivered.keys()].sort(), ['alice/1', 'alice/2']);
    for (const e of delivered.values()) eq(e.plaintext, b('to both'));

    // alice's own message reaches her laptop too, addressed to bob.
    const mine = alice.sealToUser(NOW, b('bob'), TEXT, b('from the phone'));
    const copies = new Map(w.send('alice', 1, envelopes(mine)));
    eq([...copies.keys()].sort(), ['alice/2', 'bob/1']);
    eq(copies.get('alice/2').toUser, b('bob'));
    eq(copies.get('alice/2').plaintext, b('from the phone'));

    const removed = alice.removeDevice(2);
    eq(removed.groupsToUpdate, []);
    w.send('alice', 1, [removed.envelope]);
    refused(() => alice.removeDevice(1), 'Account', 'CannotRemoveSelf');
  });

  test('save and restore, with refusals', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    const storageKey = generateStorageKey();
    ok(storageKey instanceof Uint8Array && storageKey.length === 32, 'a 32-byte key');
    ok(!deepEqual(storageKey, generateStorageKey()), 'fresh keys differ');
    const first = alice.export(storageKey);
    const second = alice.export(storageKey);
    eq([first.generation, second.generation], [1n, 2n], 'generations');
    eq(alice.generation(), 2n);

    const restored = Account.importSealed(storageKey, second.blob, second.generation);
    eq(restored.generation(), 2n);
    eq(restored.address(), { user: b('alice'), device: 1 });
    eq(restored.identityKey(), alice.identityKey());
    eq(restored.userKeyRecoverySecret(), alice.userKeyRecoverySecret());
    w.devices.set('alice/1', restored);
    const out = restored.sealToUser(NOW, b('bob'), TEXT, b('restored and still here'));
    const [, event] = only(w.send('alice', 1, envelopes(out)));
    eq(event.plaintext, b('restored and still here'));
    // A number works as the minimum generation too.
    eq(Account.importSealed(storageKey, second.blob, 2).generation(), 2n);

    refused(() => Account.importSealed(storageKey, first.blob, second.generation), 'State', 'RolledBack');
    refused(() => Account.importSealed(generateStorageKey(), second.blob, 0), 'State', 'WrongKey');
    const tampered = second.blob.slice();
    tampered[tampered.length - 1] ^= 1;
    refused(() => Account.importSealed(storageKey, tampered, 0), 'State', 'Tampered');
    refused(() => Account.importSealed(storageKey, new Uint8Array(0), 0), 'State', 'Truncated');
    const long = new Uint8Array(33);
    long.set(storageKey);
    for (const badKey of [new Uint8Array(0), storageKey.subarray(0, 31), long]) {
      refused(() => Account.importSealed(badKey, second.blob, 0), 'InvalidInput', 'WrongKeyLength');
      refused(() => alice.export(badKey), 'InvalidInput', 'WrongKeyLength');
    }
  });

  test('the recovery secret restores a lost primary', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    const secret = alice.userKeyRecoverySecret();
    ok(secret instanceof Uint8Array && secret.length === 32, 'a 32-byte secret');
    const laptop = w.add('alice', 2, false);
    eq(laptop.userKeyRecoverySecret(), undefined);
    w.send('alice', 1, [alice.addDevice(2, laptop.identityKey())]);
    w.fetchEveryone();
    refused(() => laptop.restorePrimary(secret.subarray(0, 16)), 'InvalidInput', 'WrongKeyLength');
    refused(() => laptop.restorePrimary(w.get('bob', 1).userKeyRecoverySecret()), 'Account', 'WrongUserKey');
    laptop.restorePrimary(secret);
    ok(laptop.isPrimary(), 'laptop is primary');
  });

  test('the relay refuses a forged device list', () => {
    const w = world(ls);
    const [alice, bob] = [w.get('alice', 1), w.get('bob', 1)];
    const bobList = bob.uploads(NOW)[0];
    // Bob's list uploaded by alice: not her user's list.
    refused(() => w.relay.upload(NOW, { user: b('alice'), device: 1 }, bobList), 'Relay', 'DeviceList');
    // A new "bob" primary signs a list under another user key: refused.
    const impostor = Account.createPrimary(NOW, b('bob'), 7);
    refused(() => w.relay.upload(NOW, { user: b('bob'), device: 7 }, impostor.uploads(NOW)[0]), 'Relay', 'DeviceList');
    // A list with a flipped signature byte: refused.
    const forged = bobList.slice();
    forged[forged.length - 1] ^= 0x40;
    refused(() => w.relay.upload(NOW, { user: b('bob'), device: 1 }, forged), 'Relay', 'DeviceList');
    // Nothing changed: alice still gets bob's real list, as a duplicate.
    eq(alice.receive(NOW, w.relay.fetchUser(b('bob'))[0]), { type: 'Duplicate' });
  });

  test('the relay refuses a bundle from an unlisted device', () => {
    const w = world(ls);
    const tablet = w.add('bob', 2, false);
    const bundle = tablet.uploads(NOW);
    eq(bundle.length, 1, 'a secondary uploads only its bundle');
    refused(() => w.relay.upload(NOW, { user: b('bob'), device: 2 }, bundle[0]), 'Relay', 'UploaderNotListed');
    // Alice's bundle claimed by bob: signed for another owner.
    const aliceBundle = w.get('alice', 1).uploads(NOW).at(-1);
    refused(() => w.relay.upload(NOW, { user: b('bob'), device: 1 }, aliceBundle), 'Relay', 'Registration');
    // One-time keys from an unlisted device: refused too.
    refused(
      () => w.relay.upload(NOW, { user: b('bob'), device: 2 }, tablet.oneTimeKeys(NOW, 1)[0]),
      'Relay',
      'UploaderNotListed',
    );
  });

  test('the relay checks distributions and senders', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    const upload = alice.createGroup(NOW, b('club'), [b('bob')]);
    // A distribution uploaded by a device that did not make it.
    const e = refused(() => w.relay.upload(NOW, { user: b('bob'), device: 1 }, upload), 'Relay', 'Group');
    ok(e.message.includes('not the distributor'), e.message);
    // A damaged distribution.
    const damaged = upload.slice();
    damaged[damaged.length >> 1] ^= 1;
    refused(() => w.relay.upload(NOW, { user: b('alice'), device: 1 }, damaged), 'Relay', 'Group');
    // A 1:1 message uploaded under another sender.
    const message = alice.sealToUser(NOW, b('bob'), TEXT, b('hi'))[0].envelope;
    refused(() => w.relay.upload(NOW, { user: b('bob'), device: 1 }, message), 'Relay', 'SenderMismatch');
    // A group message for a group the relay does not hold (uploaded by a device it does not know).
    w.send('alice', 1, [upload]);
    const sealed = alice.sealToGroup(NOW, b('club'), TEXT, b('x'));
    refused(() => w.relay.upload(NOW, { user: b('carol'), device: 1 }, sealed), 'Relay', 'UnknownGroup');
  });

  test('garbage envelopes are refused and change nothing', () => {
    const w = world(ls);
    const [alice, bob] = [w.get('alice', 1), w.get('bob', 1)];
    const real = alice.sealToUser(NOW, b('bob'), TEXT, b('real'))[0].envelope;
    const next = xorshift(1);
    const garbage = [];
    for (let n = 0; n < real.length; n++) garbage.push(real.subarray(0, n)); // every truncation
    for (let i = 0; i < 200; i++) garbage.push(Uint8Array.from({ length: 1 + (next() % 600) }, () => next() & 0xff));
    garbage.push(randomBytes(64), new Uint8Array(100_000).fill(1), new Uint8Array(10 * 1024 * 1024));
    const big = randomBytes(10 * 1024 * 1024);
    big[0] = real[0];
    garbage.push(big);
    for (const junk of garbage) {
      refused(() => bob.receive(NOW, junk), 'Receive');
      refused(() => w.relay.upload(NOW, { user: b('alice'), device: 1 }, junk), 'Relay');
    }
    // The real envelope still opens: nothing was consumed by the refusals.
    eq(bob.receive(NOW, real).plaintext, b('real'));
  });

  test('bad arguments are typed errors', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    for (const user of [new Uint8Array(0), new Uint8Array(256).fill(0x78)]) {
      refused(() => Account.createPrimary(NOW, user, 1), 'InvalidInput', 'InvalidUserId');
      refused(() => alice.sealToUser(NOW, user, TEXT, b('x')), 'InvalidInput', 'InvalidUserId');
    }
    refused(() => alice.createGroup(NOW, new Uint8Array(0), [b('bob')]), 'InvalidInput', 'InvalidGroupId');
    refused(() => alice.addDevice(2, new Uint8Array(31)), 'InvalidInput', 'WrongKeyLength');
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    refused(() => alice.addDevice(2, notAPoint), 'InvalidInput', 'InvalidIdentityKey');
    refused(() => alice.oneTimeKeys(NOW, 101), 'InvalidInput', 'TooManyOneTimeKeys');
    refused(() => alice.sealToUser(NOW, b('carol'), TEXT, b('x')), 'Account', 'DeviceListNeeded');
    refused(() => w.relay.upload(NOW, { user: new Uint8Array(0), device: 1 }, b('x')), 'InvalidInput', 'InvalidUserId');
    // An array longer than the wasm memory can hold (faked: its `length` getter lies) is a
    // RangeError from the fallible copy, not an allocation failure that would abort the instance.
    class Huge extends Uint8Array {
      get length() {
        return 2 ** 32 - 1;
      }
    }
    throwsType(() => alice.receive(NOW, new Huge(1)), RangeError, 'an array too large for the memory');
    throwsType(() => alice.sealToUser(NOW, b('bob'), TEXT, new Huge(1)), RangeError, 'a plaintext too large');
    // The instance still works.
    eq(generateStorageKey().length, 32);
  });

  test('wrong JS types are TypeErrors and change nothing', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    const calls = [
      (a) => a.receive(NOW, null),
      (a) => a.receive(NOW, undefined),
      (a) => a.receive(NOW),
      (a) => a.receive(NOW, 'a string, not bytes'),
      (a) => a.receive(NOW, [1, 2, 3]),
      (a) => a.receive(NOW, new ArrayBuffer(8)),
      (a) => a.receive(NOW, new Uint16Array(4)),
      (a) => a.receive(NOW, 42),
      (a) => a.receive(null, b('x')),
      (a) => a.receive(undefined, b('x')),
      (a) => a.receive('now', b('x')),
      (a) => a.receive({}, b('x')),
      (a) => a.sealToUser(NOW, 'bob', TEXT, b('x')),
      (a) => a.sealToUser(NOW, b('bob'), TEXT, null),
      (a) => a.sealToUser(NOW, b('bob'), null, b('x')),
      (a) => a.sealToUser(NOW, b('bob'), 1n, b('x')),
      (a) => a.sealToUser(NOW, b('bob'), '0', b('x')),
      (a) => a.createGroup(NOW, b('g'), null),
      (a) => a.createGroup(NOW, b('g'), [null]),
      (a) => a.createGroup(NOW, b('g'), b('bob')),
      (a) => a.createGroup(NOW, b('g'), ['bob']),
      (a) => a.export(null),
      (a) => a.export('0123456789abcdef0123456789abcdef'),
      (a) => a.addDevice(null, new Uint8Array(32)),
      (a) => a.addDevice('2', new Uint8Array(32)),
      (a) => a.restorePrimary(undefined),
      (a) => a.oneTimeKeys(NOW, null),
      (a) => a.safetyNumberDigits(null),
      () => Account.importSealed(null, new Uint8Array(0), 0),
      () => Account.importSealed(new Uint8Array(32), null, 0),
      () => Account.importSealed(new Uint8Array(32), new Uint8Array(0), null),
      () => Account.createPrimary(NOW, 'alice', 1),
      () => Account.createPrimary(NOW, b('alice'), undefined),
      () => w.relay.upload(NOW, null, b('x')),
      () => w.relay.upload(NOW, undefined, b('x')),
      () => w.relay.upload(NOW, [b('alice'), 1], b('x')),
      () => w.relay.upload(NOW, { user: 'alice', device: 1 }, b('x')),
      () => w.relay.upload(NOW, { user: b('alice') }, b('x')),
      () => w.relay.upload(NOW, { user: b('alice'), device: 1 }, null),
      () => w.relay.fetchUser(undefined),
    ];
    const before = alice.export(generateStorageKey()).generation;
    calls.forEach((call, i) => throwsType(() => call(alice), TypeError, `call ${i}: ${call}`));
    // Still usable, and nothing changed (the only state change is the export counter).
    eq(alice.export(generateStorageKey()).generation, before + 1n);
    const out = alice.sealToUser(NOW, b('bob'), TEXT, b('still fine'));
    eq(only(w.send('alice', 1, envelopes(out)))[1].plaintext, b('still fine'));
  });

  test('out-of-range numbers are RangeErrors', () => {
    const w = world(ls);
    const alice = w.get('alice', 1);
    const calls = [
      (a) => a.receive(-1, b('x')),
      (a) => a.receive(-1n, b('x')),
      (a) => a.receive(2n ** 64n, b('x')),
      (a) => a.receive(2 ** 53, b('x')),
      (a) => a.receive(1.5, b('x')),
      (a) => a.receive(NaN, b('x')),
      (a) => a.receive(Infinity, b('x')),
      (a) => a.sealToUser(NOW, b('bob'), 2 ** 16, b('x')),
      (a) => a.sealToUser(NOW, b('bob'), -1, b('x')),
      (a) => a.addDevice(-1, new Uint8Array(32)),
      (a) => a.addDevice(2 ** 32, new Uint8Array(32)),
      (a) => a.addDevice(0.5, new Uint8Array(32)),
      (a) => a.oneTimeKeys(NOW, 2 ** 32),
      (a) => a.oneTimeKeys(NOW, -0.1),
      () => Account.importSealed(new Uint8Array(32), new Uint8Array(0), -1),
      () => w.relay.upload(NOW, { user: b('alice'), device: -1 }, b('x')),
    ];
    calls.forEach((call, i) => throwsType(() => call(alice), RangeError, `call ${i}: ${call}`));
    // The extremes that are in range are accepted (and then refused or not by the core).
    refused(() => alice.receive(2n ** 64n - 1n, b('x')), 'Receive');
    refused(() => alice.receive(Number.MAX_SAFE_INTEGER, b('x')), 'Receive');
    eq(alice.oneTimeKeys(NOW, 0), []);
    refused(() => alice.addDevice(2 ** 32 - 1, notAPoint()), 'InvalidInput', 'InvalidIdentityKey');
  });

  test('fetched keys arrive as typed events', () => {
    const w = new World(ls);
    const alice = w.add('alice', 1);
    const bob = w.add('bob', 1);
    w.publish('bob', 1);
    w.send('bob', 1, bob.oneTimeKeys(NOW, 2));
    const events = w.relay.fetchUser(b('bob')).map((e) => alice.receive(NOW, e));
    eq(events.map((e) => e.type), ['DeviceListUpdated', 'BundleLearned', 'OneTimeKeyLearned']);
    const [listed, bundle, oneTime] = events;
    eq([listed.user, listed.version, listed.added, listed.removed], [b('bob'), 1n, [1], []]);
    eq(bundle.device, { user: b('bob'), device: 1 });
    eq(oneTime.device, { user: b('bob'), device: 1 });
    const again = w.relay.fetchUser(b('bob'));
    eq(alice.receive(NOW, again[0]).type, 'Duplicate');
    eq(alice.receive(NOW, again[1]).type, 'Duplicate');
  });

  return cases;
}

function notAPoint() {
  const k = new Uint8Array(32);
  k[0] = 2;
  return k;
}

// After a trap (a Rust panic; wasm32 aborts on panic) the instance refuses every call. `ls` must
// be a fresh instance of a build with the `test-trap` feature: it is unusable afterwards.
export function trapCase(ls) {
  if (typeof ls._testTrap !== 'function') {
    fail('this build has no _testTrap export: build with --features test-trap (wasm/run_tests.sh does)');
  }
  const alice = ls.Account.createPrimary(NOW, b('alice'), 1);
  const relay = new ls.Relay();
  const trap = throwsWith(
    () => ls._testTrap(),
    (e) => {
      ok(e instanceof WebAssembly.RuntimeError, `expected a WebAssembly.RuntimeError, got ${e && e.name}: ${e}`);
      ok(/unreachable/.test(e.message), `message: ${e.message}`);
    },
    'the trap',
  );
  for (const call of [
    () => ls.generateStorageKey(),
    () => alice.identityKey(),
    () => alice.receive(NOW, b('x')),
    () => relay.fetchUser(b('alice')),
    () => ls.Account.createPrimary(NOW, b('carol'), 1),
  ]) {
    refused(call, 'Panic', 'Panic');
  }
  return trap.message;
}

export { NOW };
