"""The Python bindings of letterseal's account façade, end to end through a Relay.

Run with ffi/python/run_tests.sh (it builds the library and generates the bindings first).
"""

import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letterseal import (  # noqa: E402
    Account,
    Address,
    Event,
    LettersealError,
    Relay,
    generate_storage_key,
)

NOW = 1_800_000_000
TEXT = 0


class World:
    """Devices of several users and the relay between them, as an app and its server."""

    def __init__(self):
        self.relay = Relay()
        self.devices = {}

    def add(self, user: bytes, device: int, primary: bool = True) -> Account:
        make = Account.create_primary if primary else Account.create_secondary
        account = make(NOW, user, device)
        self.devices[(user, device)] = account
        return account

    def send(self, user: bytes, device: int, envelopes):
        """Uploads envelopes from a device; delivers the fan-out; returns (to, event) pairs."""
        events = []
        for envelope in envelopes:
            for out in self.relay.upload(NOW, Address(user=user, device=device), envelope):
                to = (out.to.user, out.to.device)
                events.append((to, self.devices[to].receive(NOW, out.envelope)))
        return events

    def publish(self, user: bytes, device: int):
        self.send(user, device, self.devices[(user, device)].uploads(NOW))

    def fetch_everyone(self):
        users = {u for (u, _) in self.devices}
        for account in self.devices.values():
            for user in users:
                for envelope in self.relay.fetch_user(user):
                    account.receive(NOW, envelope)


@pytest.fixture
def world():
    w = World()
    w.add(b"alice", 1)
    w.add(b"bob", 1)
    w.publish(b"alice", 1)
    w.publish(b"bob", 1)
    w.fetch_everyone()
    return w


def outgoing_envelopes(outgoing):
    return [o.envelope for o in outgoing]


def only(events):
    assert len(events) == 1, events
    return events[0]


def assert_refused(excinfo, category, kind):
    assert isinstance(excinfo.value, getattr(LettersealError, category)), excinfo.value
    assert excinfo.value.kind == kind, excinfo.value
    assert excinfo.value.message


def test_one_to_one_with_a_reply(world):
    alice, bob = world.devices[(b"alice", 1)], world.devices[(b"bob", 1)]
    out = alice.seal_to_user(NOW, b"bob", TEXT, b"Dinner at eight?")
    assert [(o.to.user, o.to.device) for o in out] == [(b"bob", 1)]
    to, event = only(world.send(b"alice", 1, outgoing_envelopes(out)))
    assert to == (b"bob", 1)
    assert isinstance(event, Event.MESSAGE)
    assert event.sender == Address(user=b"alice", device=1)
    assert event.to_user == b"bob"
    assert event.content_type == TEXT
    assert event.plaintext == b"Dinner at eight?"

    reply = bob.seal_to_user(NOW, b"alice", 0x8001, b"Yes, see you there.")
    to, event = only(world.send(b"bob", 1, outgoing_envelopes(reply)))
    assert to == (b"alice", 1)
    assert isinstance(event, Event.MESSAGE)
    assert event.sender == Address(user=b"bob", device=1)
    assert event.content_type == 0x8001
    assert event.plaintext == b"Yes, see you there."

    # A replayed envelope is refused and releases nothing.
    with pytest.raises(LettersealError) as e:
        bob.receive(NOW, out[0].envelope)
    assert_refused(e, "Receive", "Open")

    # Both sides compute the same safety number over the two user keys.
    digits = alice.safety_number_digits(b"bob")
    assert digits is not None and digits.isdigit()
    assert digits == bob.safety_number_digits(b"alice")
    assert alice.safety_number_digits(b"carol") is None


def test_group_chat_with_a_reply(world):
    alice, bob = world.devices[(b"alice", 1)], world.devices[(b"bob", 1)]
    upload = alice.create_group(NOW, b"book club", [b"bob"])
    events = dict(world.send(b"alice", 1, [upload]))
    assert set(events) == {(b"alice", 1), (b"bob", 1)}
    mine, theirs = events[(b"alice", 1)], events[(b"bob", 1)]
    assert isinstance(mine, Event.GROUP_CHANGED) and mine.committed
    assert isinstance(theirs, Event.GROUP_CHANGED) and not theirs.committed
    assert theirs.group == b"book club"
    assert theirs.change.epoch == mine.change.epoch
    assert theirs.change.distributor == Address(user=b"alice", device=1)
    assert bob.groups() == [b"book club"]
    assert sorted(bob.group_users(b"book club")) == [b"alice", b"bob"]

    sealed = bob.seal_to_group(NOW, b"book club", TEXT, b"I finished chapter one.")
    to, event = only(world.send(b"bob", 1, [sealed]))
    assert to == (b"alice", 1)
    assert isinstance(event, Event.GROUP_MESSAGE)
    assert event.group == b"book club"
    assert event.sender == Address(user=b"bob", device=1)
    assert event.plaintext == b"I finished chapter one."

    reply = alice.seal_to_group(NOW, b"book club", TEXT, b"Me too.")
    to, event = only(world.send(b"alice", 1, [reply]))
    assert to == (b"bob", 1)
    assert event.plaintext == b"Me too."

    with pytest.raises(LettersealError) as e:
        alice.seal_to_group(NOW, b"no such group", TEXT, b"x")
    assert_refused(e, "Account", "UnknownGroup")


def test_a_second_device_gets_both_sides(world):
    alice = world.devices[(b"alice", 1)]
    laptop = world.add(b"alice", 2, primary=False)
    assert not laptop.is_primary() and alice.is_primary()
    assert len(laptop.identity_key()) == 32
    listed = alice.add_device(2, laptop.identity_key())
    world.send(b"alice", 1, [listed])
    world.publish(b"alice", 2)
    world.fetch_everyone()
    out = world.devices[(b"bob", 1)].seal_to_user(NOW, b"alice", TEXT, b"to both")
    delivered = dict(world.send(b"bob", 1, outgoing_envelopes(out)))
    assert set(delivered) == {(b"alice", 1), (b"alice", 2)}
    assert all(e.plaintext == b"to both" for e in delivered.values())

    removed = alice.remove_device(2)
    assert removed.groups_to_update == []
    world.send(b"alice", 1, [removed.envelope])
    with pytest.raises(LettersealError) as e:
        alice.remove_device(1)
    assert_refused(e, "Account", "CannotRemoveSelf")


def test_save_and_restore(world):
    alice = world.devices[(b"alice", 1)]
    key = generate_storage_key()
    assert isinstance(key, bytes) and len(key) == 32
    assert key != generate_storage_key()
    first = alice.export(key)
    second = alice.export(key)
    assert (first.generation, second.generation) == (1, 2)
    assert alice.generation() == 2

    restored = Account.import_sealed(key, second.blob, second.generation)
    assert restored.generation() == 2
    assert restored.address() == Address(user=b"alice", device=1)
    assert restored.identity_key() == alice.identity_key()
    assert restored.user_key_recovery_secret() == alice.user_key_recovery_secret()
    world.devices[(b"alice", 1)] = restored
    out = restored.seal_to_user(NOW, b"bob", TEXT, b"restored and still here")
    _, event = only(world.send(b"alice", 1, outgoing_envelopes(out)))
    assert event.plaintext == b"restored and still here"

    with pytest.raises(LettersealError) as e:
        Account.import_sealed(key, first.blob, second.generation)
    assert_refused(e, "State", "RolledBack")
    with pytest.raises(LettersealError) as e:
        Account.import_sealed(generate_storage_key(), second.blob, 0)
    assert_refused(e, "State", "WrongKey")
    tampered = bytearray(second.blob)
    tampered[-1] ^= 1
    with pytest.raises(LettersealError) as e:
        Account.import_sealed(key, bytes(tampered), 0)
    assert_refused(e, "State", "Tampered")
    with pytest.raises(LettersealError) as e:
        Account.import_sealed(key, b"", 0)
    assert_refused(e, "State", "Truncated")
    for bad_key in [b"", key[:31], key + b"\x00"]:
        with pytest.raises(LettersealError) as e:
            Account.import_sealed(bad_key, second.blob, 0)
        assert_refused(e, "InvalidInput", "WrongKeyLength")
        with pytest.raises(LettersealError) as e:
            alice.export(bad_key)
        assert_refused(e, "InvalidInput", "WrongKeyLength")


def test_recovery_secret_restores_a_lost_primary(world):
    alice = world.devices[(b"alice", 1)]
    secret = alice.user_key_recovery_secret()
    assert isinstance(secret, bytes) and len(secret) == 32
    laptop = world.add(b"alice", 2, primary=False)
    assert laptop.user_key_recovery_secret() is None
    world.send(b"alice", 1, [alice.add_device(2, laptop.identity_key())])
    world.fetch_everyone()
    with pytest.raises(LettersealError) as e:
        laptop.restore_primary(secret[:16])
    assert_refused(e, "InvalidInput", "WrongKeyLength")
    with pytest.raises(LettersealError) as e:
        laptop.restore_primary(world.devices[(b"bob", 1)].user_key_recovery_secret())
    assert_refused(e, "Account", "WrongUserKey")
    laptop.restore_primary(secret)
    assert laptop.is_primary()


def test_relay_refuses_a_forged_device_list(world):
    alice, bob = world.devices[(b"alice", 1)], world.devices[(b"bob", 1)]
    bob_list = bob.uploads(NOW)[0]
    # Bob's list uploaded by alice: not her user's list.
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"alice", device=1), bob_list)
    assert_refused(e, "Relay", "DeviceList")
    # A new "bob" primary signs a list under another user key: refused.
    impostor = Account.create_primary(NOW, b"bob", 7)
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=7), impostor.uploads(NOW)[0])
    assert_refused(e, "Relay", "DeviceList")
    # A list with a flipped signature byte: refused.
    forged = bytearray(bob_list)
    forged[-1] ^= 0x40
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=1), bytes(forged))
    assert_refused(e, "Relay", "DeviceList")
    # Nothing changed: alice still gets bob's real list.
    assert alice.receive(NOW, world.relay.fetch_user(b"bob")[0]) == Event.DUPLICATE()


def test_relay_refuses_a_bundle_from_an_unlisted_device(world):
    tablet = world.add(b"bob", 2, primary=False)
    bundle = tablet.uploads(NOW)
    assert len(bundle) == 1  # a secondary uploads only its bundle
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=2), bundle[0])
    assert_refused(e, "Relay", "UploaderNotListed")
    # Alice's bundle claimed by bob: signed for another owner.
    alice_bundle = world.devices[(b"alice", 1)].uploads(NOW)[-1]
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=1), alice_bundle)
    assert_refused(e, "Relay", "Registration")
    # One-time keys from an unlisted device: refused too.
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=2), tablet.one_time_keys(NOW, 1)[0])
    assert_refused(e, "Relay", "UploaderNotListed")


def test_relay_checks_distributions_and_senders(world):
    alice = world.devices[(b"alice", 1)]
    upload = alice.create_group(NOW, b"club", [b"bob"])
    # A distribution uploaded by a device that did not make it.
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=1), upload)
    assert_refused(e, "Relay", "Group")
    assert "not the distributor" in e.value.message
    # A damaged distribution.
    damaged = bytearray(upload)
    damaged[len(damaged) // 2] ^= 1
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"alice", device=1), bytes(damaged))
    assert_refused(e, "Relay", "Group")
    # A 1:1 message uploaded under another sender.
    message = alice.seal_to_user(NOW, b"bob", TEXT, b"hi")[0].envelope
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"bob", device=1), message)
    assert_refused(e, "Relay", "SenderMismatch")
    # A group message for a group the relay does not hold.
    world.send(b"alice", 1, [upload])
    sealed = alice.seal_to_group(NOW, b"club", TEXT, b"x")
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"carol", device=1), sealed)
    assert_refused(e, "Relay", "UnknownGroup")


def test_garbage_envelopes_raise_and_change_nothing(world):
    alice, bob = world.devices[(b"alice", 1)], world.devices[(b"bob", 1)]
    real = alice.seal_to_user(NOW, b"bob", TEXT, b"real")[0].envelope
    rng = random.Random(1)
    garbage = [real[:n] for n in range(len(real))]  # every truncation
    garbage += [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 600))) for _ in range(200)]
    garbage += [os.urandom(64), b"\x01" * 100_000, bytes(10 * 1024 * 1024)]
    garbage += [real[:1] + os.urandom(10 * 1024 * 1024)]
    for junk in garbage:
        with pytest.raises(LettersealError) as e:
            bob.receive(NOW, junk)
        assert isinstance(e.value, LettersealError.Receive), e.value
    # The real envelope still opens: nothing was consumed by the refusals.
    event = bob.receive(NOW, real)
    assert event.plaintext == b"real"


def test_bad_arguments_raise_typed_errors(world):
    alice = world.devices[(b"alice", 1)]
    for user in [b"", b"x" * 256]:
        with pytest.raises(LettersealError) as e:
            Account.create_primary(NOW, user, 1)
        assert_refused(e, "InvalidInput", "InvalidUserId")
        with pytest.raises(LettersealError) as e:
            alice.seal_to_user(NOW, user, TEXT, b"x")
        assert_refused(e, "InvalidInput", "InvalidUserId")
    with pytest.raises(LettersealError) as e:
        alice.create_group(NOW, b"", [b"bob"])
    assert_refused(e, "InvalidInput", "InvalidGroupId")
    with pytest.raises(LettersealError) as e:
        alice.add_device(2, b"\x00" * 31)
    assert_refused(e, "InvalidInput", "WrongKeyLength")
    with pytest.raises(LettersealError) as e:
        alice.add_device(2, b"\x02" + b"\x00" * 31)
    assert_refused(e, "InvalidInput", "InvalidIdentityKey")
    with pytest.raises(LettersealError) as e:
        alice.one_time_keys(NOW, 101)
    assert_refused(e, "InvalidInput", "TooManyOneTimeKeys")
    with pytest.raises(LettersealError) as e:
        alice.seal_to_user(NOW, b"carol", TEXT, b"x")
    assert_refused(e, "Account", "DeviceListNeeded")
    with pytest.raises(LettersealError) as e:
        world.relay.upload(NOW, Address(user=b"", device=1), b"x")
    assert_refused(e, "InvalidInput", "InvalidUserId")


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.receive(NOW, None),
        lambda a: a.receive(NOW, "a string, not bytes"),
        lambda a: a.receive(None, b"x"),
        lambda a: a.receive("now", b"x"),
        lambda a: a.seal_to_user(NOW, "bob", TEXT, b"x"),
        lambda a: a.seal_to_user(NOW, b"bob", TEXT, None),
        lambda a: a.seal_to_user(NOW, b"bob", None, b"x"),
        lambda a: a.create_group(NOW, b"g", None),
        lambda a: a.create_group(NOW, b"g", [None]),
        lambda a: a.export(None),
        lambda a: a.add_device(None, b"\x00" * 32),
        lambda a: Account.import_sealed(None, b"", 0),
    ],
)
def test_wrong_types_raise_type_errors(world, call):
    with pytest.raises(TypeError):
        call(world.devices[(b"alice", 1)])


@pytest.mark.parametrize("uploader", [None, (b"alice", 1), {"user": b"alice", "device": 1}])
def test_a_record_argument_of_the_wrong_type_raises_attribute_error(world, uploader):
    # UniFFI's generated code duck-types record arguments: it reads `.user` and `.device`.
    with pytest.raises(AttributeError):
        world.relay.upload(NOW, uploader, b"x")


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.receive(-1, b"x"),
        lambda a: a.receive(2**64, b"x"),
        lambda a: a.seal_to_user(NOW, b"bob", 2**16, b"x"),
        lambda a: a.add_device(-1, b"\x00" * 32),
        lambda a: a.one_time_keys(NOW, 2**32),
    ],
)
def test_out_of_range_integers_raise_value_errors(world, call):
    with pytest.raises(ValueError):
        call(world.devices[(b"alice", 1)])


def test_fetched_keys_arrive_as_typed_events():
    w = World()
    alice, bob = w.add(b"alice", 1), w.add(b"bob", 1)
    w.publish(b"bob", 1)
    w.send(b"bob", 1, bob.one_time_keys(NOW, 2))
    events = [alice.receive(NOW, e) for e in w.relay.fetch_user(b"bob")]
    assert [type(e) for e in events] == [
        Event.DEVICE_LIST_UPDATED,
        Event.BUNDLE_LEARNED,
        Event.ONE_TIME_KEY_LEARNED,
    ]
    listed, bundle, one_time = events
    assert (listed.user, listed.version, listed.added, listed.removed) == (b"bob", 1, [1], [])
    assert bundle.device == Address(user=b"bob", device=1)
    assert one_time.device == Address(user=b"bob", device=1)
    # The list and the bundle again: nothing changes.
    again = w.relay.fetch_user(b"bob")
    assert alice.receive(NOW, again[0]).is_duplicate()
    assert alice.receive(NOW, again[1]).is_duplicate()
