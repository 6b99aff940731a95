//! Generators of the pairwise vector files (SPEC.md §7).
//!
//! Generation runs on fixed inputs made here, never on outside data, so fixed
//! indexes into messages this module just sealed are allowed.
#![allow(clippy::indexing_slicing)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Value, json};

use super::{Builder, DAY, T0, h, random, rng, small_order_points, unhex};
use crate::{VectorFile, steps, vector_kem_key};
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{IdentitySecretKey, SealingSecretKey};
use letterseal::registration::BundleContent;
use letterseal::time::Timestamp;

/// A device as the pairwise steps describe it: identity seed, ids, sealing secrets.
pub(super) struct Fixture {
    pub(super) user: &'static [u8],
    pub(super) device: u32,
    pub(super) identity_seed: [u8; 32],
    pub(super) sealing: Vec<[u8; 32]>,
    pub(super) retired: Vec<[u8; 32]>,
}

impl Fixture {
    pub(super) fn new(r: &mut ChaCha20Rng, user: &'static [u8], device: u32) -> Self {
        Self {
            user,
            device,
            identity_seed: random(r),
            sealing: alloc::vec![random(r)],
            retired: Vec::new(),
        }
    }

    /// The inputs describing this device, with field names prefixed.
    pub(super) fn inputs(&self, prefix: &str, into: &mut Map<String, Value>) {
        let hexes = |keys: &[[u8; 32]]| Value::Array(keys.iter().map(h).collect());
        into.insert(
            alloc::format!("{prefix}IdentitySeed"),
            h(self.identity_seed),
        );
        into.insert(alloc::format!("{prefix}UserId"), h(self.user));
        into.insert(alloc::format!("{prefix}DeviceId"), Value::from(self.device));
        into.insert(
            alloc::format!("{prefix}SealingSecrets"),
            hexes(&self.sealing),
        );
        if !self.retired.is_empty() {
            into.insert(
                alloc::format!("{prefix}RetiredSealingSecrets"),
                hexes(&self.retired),
            );
        }
    }

    /// The device's keys, built as the steps build them (SPEC.md §4.5).
    pub(super) fn keys(&self) -> Result<DeviceKeys, String> {
        let identity = IdentitySecretKey::from_seed(&self.identity_seed);
        let mut keys = DeviceKeys::from_identity(self.address()?, identity);
        for (i, secret) in self.retired.iter().chain(self.sealing.iter()).enumerate() {
            let start = Timestamp::from_unix_seconds(T0 + i as u64);
            keys.insert_sealing_key(
                SealingSecretKey::from_bytes(secret),
                vector_kem_key(secret),
                start,
                start.saturating_add(30 * DAY),
            );
        }
        for secret in &self.retired {
            keys.retire(SealingSecretKey::from_bytes(secret).public_key().key_id());
        }
        Ok(keys)
    }

    /// The verified bundle of the newest sealing key.
    pub(super) fn verified_bundle(
        &self,
    ) -> Result<letterseal::registration::VerifiedBundle, String> {
        let owner = letterseal::registration::ExpectedOwner::Device(self.address()?);
        letterseal::registration::KeyBundle::decode(&self.bundle()?)
            .and_then(|b| {
                b.verify(
                    &owner,
                    &letterseal::registration::RegistrationPolicy::default(),
                    Timestamp::from_unix_seconds(T0 + 10),
                    None,
                    &letterseal::registration::NoDirectory,
                )
            })
            .map_err(|e| e.to_string())
    }

    pub(super) fn address(&self) -> Result<DeviceAddress, String> {
        Ok(DeviceAddress::new(
            UserId::new(self.user).map_err(|e| e.to_string())?,
            DeviceId::new(self.device),
        ))
    }

    /// The bundle of the newest sealing key, valid like the steps' devices (SPEC.md §5.1).
    pub(super) fn bundle(&self) -> Result<Vec<u8>, String> {
        let index = self.retired.len() + self.sealing.len() - 1;
        let secret = self.sealing.last().ok_or("no sealing key")?;
        let start = Timestamp::from_unix_seconds(T0 + index as u64);
        let identity = IdentitySecretKey::from_seed(&self.identity_seed);
        Ok(BundleContent::new(
            self.address()?,
            identity.public_key(),
            SealingSecretKey::from_bytes(secret).public_key(),
            vector_kem_key(secret).encapsulation_key_ref(),
            start,
            start.saturating_add(30 * DAY),
        )
        .sign(&identity)
        .encode())
    }
}

pub(super) fn run(step: &str, input: &Value) -> Result<Map<String, Value>, String> {
    let f = steps::lookup(step).ok_or("unknown step")?;
    let input = input.as_object().ok_or("input must be an object")?;
    f(input).map_err(|e| alloc::format!("{step}: {e}"))
}

/// A transcript party's inputs (`alice`/`bob` of `ratchet-transcript`).
fn party_input(f: &Fixture, one_time: &[[u8; 32]], lost_one_time: &[[u8; 32]]) -> Value {
    let hexes = |keys: &[[u8; 32]]| Value::Array(keys.iter().map(h).collect());
    let mut p = Map::new();
    p.insert("identitySeed".into(), h(f.identity_seed));
    p.insert("userId".into(), h(f.user));
    p.insert("deviceId".into(), Value::from(f.device));
    p.insert("sealingSecrets".into(), hexes(&f.sealing));
    if !f.retired.is_empty() {
        p.insert("retiredSealingSecrets".into(), hexes(&f.retired));
    }
    if !one_time.is_empty() {
        p.insert("oneTimeSecrets".into(), hexes(one_time));
    }
    if !lost_one_time.is_empty() {
        p.insert("lostOneTimeSecrets".into(), hexes(lost_one_time));
    }
    Value::Object(p)
}

/// Builds a `ratchet-transcript` case: parties, options and events with their randomness.
struct Script<'a> {
    r: &'a mut ChaCha20Rng,
    input: Map<String, Value>,
    events: Vec<Value>,
    sealed: usize,
    now: u64,
    random_len: usize,
}

/// Randomness offered to each seal: more than the most a seal draws (SPEC.md §7.7:
/// 64 for a start, 128 for a KEM sending step, 32 for the salt).
const SEAL_RANDOM: usize = 256;
/// The most a seal draws: a KEM sending step (32 + 32 + 64) and the salt (32).
const SEAL_RANDOM_KEM: usize = 160;
/// The most a seal draws without KEM steps: a start (32 + 32) and the salt (32).
const SEAL_RANDOM_PLAIN: usize = 96;

impl<'a> Script<'a> {
    fn new(r: &'a mut ChaCha20Rng, alice: Value, bob: Value) -> Self {
        let mut input = Map::new();
        input.insert("alice".into(), alice);
        input.insert("bob".into(), bob);
        input.insert("notBefore".into(), Value::from(T0 + 10));
        Self {
            r,
            input,
            events: Vec::new(),
            sealed: 0,
            now: T0 + 20,
            random_len: SEAL_RANDOM,
        }
    }

    /// Offers each seal `len` random bytes (instead of [`SEAL_RANDOM`]): smaller files.
    fn random_len(mut self, len: usize) -> Self {
        self.random_len = len;
        self
    }

    fn option(mut self, key: &str, value: Value) -> Self {
        self.input.insert(key.into(), value);
        self
    }

    fn seal_on(
        &mut self,
        who: &str,
        session: usize,
        content_type: u16,
        text: &[u8],
        ad: &[u8],
    ) -> usize {
        let mut random = alloc::vec![0u8; self.random_len];
        rand_core::Rng::fill_bytes(self.r, &mut random);
        self.events.push(json!({
            "seal": who, "session": session, "now": self.now, "contentType": content_type,
            "plaintext": hex::encode(text), "associatedData": hex::encode(ad),
            "random": hex::encode(random),
        }));
        self.sealed += 1;
        self.sealed - 1
    }

    fn seal(&mut self, who: &str, text: &[u8]) -> usize {
        self.seal_on(who, 0, 0, text, b"")
    }

    fn open_with(&mut self, who: &str, session: usize, message: usize, ad: &[u8], extra: Value) {
        let mut event = json!({
            "open": who, "session": session, "now": self.now, "message": message,
            "associatedData": hex::encode(ad),
        });
        if let (Some(e), Some(x)) = (event.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                e.insert(k.clone(), v.clone());
            }
        }
        self.events.push(event);
    }

    fn open(&mut self, who: &str, message: usize) {
        self.open_with(who, 0, message, b"", json!({}));
    }

    fn event(&mut self, event: Value) {
        self.events.push(event);
    }

    fn expire(&mut self, who: &str) {
        let now = self.now;
        self.event(json!({"expire": who, "now": now}));
    }

    fn input(self) -> Value {
        let mut input = self.input;
        input.insert("events".into(), Value::Array(self.events));
        Value::Object(input)
    }
}

fn fast_kem_policy() -> Value {
    json!({"maxSkip": 1000, "maxSkipped": 2000, "skippedLifetime": 7 * DAY,
           "kemEverySteps": 2, "kemEverySeconds": 86_400})
}

/// A transcript `policy` input.
fn policy(
    max_skip: u32,
    max_skipped: u32,
    lifetime: u64,
    kem_steps: u32,
    kem_seconds: u64,
) -> Value {
    json!({"maxSkip": max_skip, "maxSkipped": max_skipped, "skippedLifetime": lifetime,
           "kemEverySteps": kem_steps, "kemEverySeconds": kem_seconds})
}

/// The messages a valid transcript seals, in order.
fn sealed_messages(input: &Value) -> Result<Vec<Vec<u8>>, String> {
    let out = run("ratchet-transcript", input)?;
    out.get("results")
        .and_then(Value::as_array)
        .ok_or("no results")?
        .iter()
        .filter_map(|r| r.get("message").and_then(Value::as_str))
        .map(hex::decode)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())
}

/// Whether a sealed message carries the KEM-step fields.
fn is_kem_step(message: &[u8]) -> bool {
    message
        .get(2)
        .is_some_and(|f| f & letterseal::pairwise::FLAG_KEM_STEP != 0)
}

/// A sealed message's session id (SPEC.md §7.3: after version, kind, flags, content type).
fn session_id_of(message: &[u8]) -> &[u8] {
    &message[5..21]
}

pub(super) fn header() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "pairwise-header",
        "7.3",
        "Decode a message header (no body): input header; outputs contentType, sessionId, \
         ratchetKey, previousMessageChain, previousControlChain, n, the INIT fields \
         (initiatorKeyId, responderKeyId, initKemKeyId, initKemCiphertext, oneTimeKeyId when \
         present), the KEM-step fields (stepKemKeyId, stepKemCiphertext, newKemKey), salt, \
         commitment and bound (the header without salt and commitment), or the decoding error.",
        &[
            ("Init", "The header carries the INIT fields"),
            ("OneTime", "The start used a one-time key"),
            ("KemStep", "The header carries the KEM-step fields"),
            ("Malformed", "Not a well-formed header"),
            ("UnsupportedVersion", "A version byte other than 2"),
        ],
    );
    let mut r = rng("pairwise-header");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let bob = Fixture::new(&mut r, b"bob", 1);
    let one_time: [u8; 32] = random(&mut r);
    let mut script = Script::new(
        &mut r,
        party_input(&alice, &[], &[]),
        party_input(&bob, &[one_time], &[]),
    )
    .option("policy", fast_kem_policy())
    .option("aliceOneTimeKey", Value::from(0));
    let first = script.seal("alice", b"hi");
    script.open("bob", first);
    for _ in 0..3 {
        let m = script.seal("bob", b"b");
        script.open("alice", m);
        let m = script.seal("alice", b"a");
        script.open("bob", m);
    }
    let messages = sealed_messages(&script.input())?;
    let header_of = |m: &[u8]| -> Result<Vec<u8>, String> {
        let mut reader = letterseal::codec::Reader::new(m);
        letterseal::pairwise::Header::decode(&mut reader).map_err(|e| e.to_string())?;
        Ok(m[..m.len() - reader.remaining()].to_vec())
    };
    let init = header_of(&messages[0])?;
    b.valid(
        "first message: INIT with a one-time key",
        &["Init", "OneTime"],
        json!({ "header": h(&init) }),
    )?;
    let kem = messages
        .iter()
        .skip(1)
        .map(|m| header_of(m))
        .find(|hdr| {
            hdr.as_ref()
                .is_ok_and(|x| x[2] & letterseal::pairwise::FLAG_KEM_STEP != 0)
        })
        .ok_or("no KEM step in the script")??;
    b.valid("a KEM step", &["KemStep"], json!({ "header": h(&kem) }))?;
    let plain = header_of(&messages[1])?;
    b.valid("a reply", &[], json!({ "header": h(&plain) }))?;

    let mut v1 = plain.clone();
    v1[0] = 1;
    b.invalid(
        "version 1 (draft 1)",
        "UnsupportedVersion",
        json!({ "header": h(&v1) }),
    )?;
    b.invalid(
        "truncated by one byte",
        "Malformed",
        json!({ "header": h(&plain[..plain.len() - 1]) }),
    )?;
    let mut extra = plain.clone();
    extra.push(0);
    b.invalid(
        "one trailing byte",
        "Malformed",
        json!({ "header": h(&extra) }),
    )?;
    let mut kind = plain.clone();
    kind[1] = 2;
    b.invalid("kind 2", "Malformed", json!({ "header": h(&kind) }))?;
    for (comment, flags) in [("an unknown flag", 0x08u8), ("ONE_TIME without INIT", 0x02)] {
        let mut f = plain.clone();
        f[2] = flags;
        b.invalid(comment, "Malformed", json!({ "header": h(&f) }))?;
    }
    for (point, _) in small_order_points()?.iter().take(2) {
        let mut f = plain.clone();
        f[21..53].copy_from_slice(point);
        b.invalid(
            "a small-order ratchet key",
            "Malformed",
            json!({ "header": h(&f) }),
        )?;
    }
    let mut max = plain.clone();
    max[61..65].copy_from_slice(&u32::MAX.to_be_bytes());
    b.invalid("n = 2^32 - 1", "Malformed", json!({ "header": h(&max) }))?;
    let mut bad_kem = kem.clone();
    // The new KEM key starts after the fixed fields, its id and the ciphertext.
    let at = letterseal::pairwise::FIXED_FIELDS_LEN + 16 + letterseal::keys::KEM_CIPHERTEXT_LEN;
    bad_kem[at..at + 2].copy_from_slice(&[0xff, 0xff]);
    b.invalid(
        "a new KEM key failing the modulus check",
        "Malformed",
        json!({ "header": h(&bad_kem) }),
    )?;
    b.finish()
}

pub(super) fn kdf() -> Result<Vec<VectorFile>, String> {
    let mut r = rng("ratchet-kdf");
    let mut root = Builder::new(
        "ratchet-root",
        "7.4",
        "A root step: inputs rootKey, dh (an X25519 result), kemSecret (absent unless a KEM step); \
         outputs rootKey, messageChain, controlChain.",
        &[("KemStep", "With a KEM shared secret")],
    );
    for i in 0..3 {
        let flags: &[&str] = if i == 2 { &["KemStep"] } else { &[] };
        let mut input =
            json!({ "rootKey": h(random::<32>(&mut r)), "dh": h(random::<32>(&mut r)) });
        if i == 2 {
            input["kemSecret"] = h(random::<32>(&mut r));
        }
        root.valid(&alloc::format!("root step {i}"), flags, input)?;
    }
    let mut chain = Builder::new(
        "ratchet-chain",
        "7.4",
        "A chain step: input chainKey; outputs messageSecret, nextChainKey.",
        &[],
    );
    let mut key: [u8; 32] = random(&mut r);
    for i in 0..3 {
        let out = run("ratchet-chain", &json!({ "chainKey": h(key) }))?;
        chain.valid(
            &alloc::format!("step {i} of one chain"),
            &[],
            json!({ "chainKey": h(key) }),
        )?;
        key = unhex(
            out.get("nextChainKey")
                .and_then(Value::as_str)
                .ok_or("next")?,
        )?;
    }
    let mut keys = Builder::new(
        "ratchet-message-keys",
        "7.4",
        "A message's keys: inputs messageSecret, salt; outputs aeadKey, nonce, commitment.",
        &[],
    );
    let secret: [u8; 32] = random(&mut r);
    for i in 0..2 {
        keys.valid(
            &alloc::format!("salt {i}"),
            &[],
            json!({ "messageSecret": h(secret), "salt": h(random::<16>(&mut r)) }),
        )?;
    }
    let mut salt = Builder::new(
        "ratchet-hedged-salt",
        "3.5",
        "A ratchet message's hedged salt (prf = messageSecret, H from it): inputs messageSecret, \
         random (32), bound, associatedData, plaintext; output salt.",
        &[(
            "RepeatedRandomness",
            "The same random bytes as the case before",
        )],
    );
    let random32: [u8; 32] = random(&mut r);
    let bound: [u8; 65] = random(&mut r);
    for (comment, flags, ad, pt) in [
        ("plaintext A", &[][..], &b""[..], &b"attack at dawn"[..]),
        (
            "plaintext B, same randomness",
            &["RepeatedRandomness"][..],
            b"",
            b"attack at dusk",
        ),
        (
            "same plaintext, other associated data",
            &["RepeatedRandomness"][..],
            b"chat 9",
            b"attack at dusk",
        ),
        (
            "bytes moved from plaintext to associated data",
            &["RepeatedRandomness"][..],
            b"chat 9a",
            b"ttack at dusk",
        ),
    ] {
        salt.valid(
            comment,
            flags,
            json!({ "messageSecret": h(secret), "random": h(random32), "bound": h(bound),
                     "associatedData": h(ad), "plaintext": h(pt) }),
        )?;
    }
    Ok(alloc::vec![
        root.finish()?,
        chain.finish()?,
        keys.finish()?,
        salt.finish()?
    ])
}

pub(super) fn init() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "ratchet-init",
        "7.5",
        "The initiator's hybrid start: inputs initiator device (initiatorIdentitySeed, \
         initiatorUserId, initiatorDeviceId, initiatorSealingSecrets: the newest is used), \
         responderBundle (verified at notBefore), notBefore, oneTimeKey (the responder's one-time \
         public key, absent if none), random (ephemeral secret 32 ‖ ML-KEM m 32); outputs \
         ephemeralKey, kemCiphertext, sessionId, rootKey, messageChain, controlChain.",
        &[("OneTime", "With a one-time key")],
    );
    let mut r = rng("ratchet-init");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let bob = Fixture::new(&mut r, b"bob", 2);
    for with_otk in [false, true] {
        let mut input = Map::new();
        alice.inputs("initiator", &mut input);
        input.insert("responderBundle".into(), h(bob.bundle()?));
        input.insert("notBefore".into(), Value::from(T0 + 10));
        input.insert("random".into(), h(random::<64>(&mut r)));
        let flags: &[&str] = if with_otk {
            input.insert(
                "oneTimeKey".into(),
                h(SealingSecretKey::from_bytes(&random(&mut r))
                    .public_key()
                    .as_bytes()),
            );
            &["OneTime"]
        } else {
            &[]
        };
        b.valid(
            if with_otk {
                "with a one-time key"
            } else {
                "without a one-time key"
            },
            flags,
            Value::Object(input),
        )?;
    }
    b.finish()
}

pub(super) fn transcript() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "ratchet-transcript",
        "7.5-7.9",
        "A scripted conversation (test-vectors/README.md): inputs alice, bob (devices), \
         notBefore, policy, aliceKnows/bobKnows (the peer's sealing secrets whose bundles a side \
         knows; default its live ones), aliceOneTimeKey, events (newSession, seal, open, expire); \
         output results, one per event; an invalid case fails at its last event.",
        &[
            (
                "PingPong",
                "The speaking direction alternates (a DH step per turn)",
            ),
            ("KemStep", "KEM steps every 2 sending steps"),
            ("OutOfOrder", "Messages arrive out of order, across epochs"),
            ("Control", "Control traffic beside chat traffic"),
            ("OneTime", "The start uses a one-time key"),
            ("Concurrent", "Both sides start at the same time"),
            ("Replay", "A message is opened twice"),
            ("Reflected", "A side opens its own message"),
            (
                "UnknownSession",
                "A message of a state the side does not hold, without INIT",
            ),
            (
                "StaleSession",
                "A start of a state the side held and dropped",
            ),
            ("RetiredKey", "A start addressed to a retired key"),
            (
                "UnknownRecipientKey",
                "A start addressed to a key the responder never had",
            ),
            (
                "UnknownSenderKey",
                "A start from a key the responder does not know for the peer",
            ),
            (
                "UnknownOneTimeKey",
                "A start naming a one-time key the responder does not have",
            ),
            ("ConsumedOneTimeKey", "A second start with one one-time key"),
            ("PeerKeyExpired", "The peer's bundle expired"),
            ("LocalKeyExpired", "The responder's own key expired"),
            ("TooOld", "A skipped secret expired"),
            ("TooManySkipped", "More skipped than the policy allows"),
            (
                "UnexpectedRatchetKey",
                "A new peer ratchet key before the side sent",
            ),
            (
                "UnknownKemKey",
                "A KEM step to a key the side does not hold",
            ),
            (
                "CommitmentMismatch",
                "The salt was changed, or a message under a ratchet key the state no longer \
                 holds (processed as a new epoch)",
            ),
            ("AuthenticationFailed", "The ciphertext was changed"),
            ("Malformed", "A truncated message"),
            ("UnsupportedVersion", "Version byte 1"),
            (
                "KemSingleUse",
                "Time-driven KEM steps (kemEverySeconds 100): the peer's bundle KEM key serves \
                 two KEM steps; a KEM key the peer sent in a KEM step serves one, so a later due \
                 sending step before the peer's next KEM step is a plain DH step",
            ),
            (
                "SkippedLifetime",
                "A skipped secret at exactly skippedLifetime seconds after it was stored is kept, \
                 by expire and by open (one second later it is gone: the TooOld cases named \
                 'lifetime + 1'). An open may give an earlier now than an event before it (a \
                 clock stepping back), so that only the earlier deletion decides",
            ),
            (
                "ExpiredNotCounted",
                "Skipped secrets past their lifetime do not count against maxSkipped (at the \
                 lifetime itself they do: the TooManySkipped case 'at the lifetime')",
            ),
            (
                "PreviousChainCap",
                "A new peer epoch stores the rest of the previous chain: exactly maxSkip \
                 secrets (one more is TooManySkipped)",
            ),
            (
                "DroppedEpoch",
                "Nine more peer epochs: the oldest stored one is dropped with its skipped \
                 secrets, which do not count against maxSkipped for the message that drops it \
                 (they do one epoch earlier: the TooManySkipped case 'one epoch before the \
                 drop'); its messages are then processed as new epochs",
            ),
            (
                "FourStates",
                "Five ratchet states in one session: Bob's own unconfirmed start (the smallest \
                 session id) stays current although least recently used; the least recently \
                 used other state is dropped (StaleSession), the other three still open",
            ),
            (
                "NewestBundleTie",
                "Two known peer bundles with the same not_before: the start uses the larger key \
                 id",
            ),
        ],
    );
    let mut r = rng("ratchet-transcript");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let bob = Fixture::new(&mut r, b"bob", 1);
    fn plain<'a>(r: &'a mut ChaCha20Rng, alice: &Fixture, bob: &Fixture) -> Script<'a> {
        Script::new(r, party_input(alice, &[], &[]), party_input(bob, &[], &[]))
    }

    // Valid conversations.
    let mut s = plain(&mut r, &alice, &bob).option("policy", fast_kem_policy());
    for round in 0..4u8 {
        let m = s.seal("alice", &[b'a', round]);
        s.open("bob", m);
        let m = s.seal("bob", &[b'b', round]);
        s.open("alice", m);
    }
    b.valid(
        "ping-pong, four turns each way, KEM steps",
        &["PingPong", "KemStep"],
        s.input(),
    )?;

    let mut s = plain(&mut r, &alice, &bob);
    let first: Vec<usize> = (0..4u8).map(|i| s.seal("alice", &[i])).collect();
    s.open("bob", first[2]);
    s.open("bob", first[0]);
    let reply = s.seal("bob", b"reply");
    s.open("alice", reply);
    let next = s.seal("alice", b"new epoch");
    s.open("bob", next);
    s.open("bob", first[3]);
    s.open("bob", first[1]);
    b.valid("out of order across epochs", &["OutOfOrder"], s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let t0 = s.seal("alice", b"text 0");
    let t1 = s.seal("alice", b"text 1");
    let wrap = s.seal_on("alice", 0, 3, &[7; 32], b"group 1");
    let t2 = s.seal("alice", b"text 2");
    s.open_with("bob", 0, wrap, b"group 1", json!({}));
    s.open("bob", t2);
    s.open("bob", t0);
    s.open("bob", t1);
    b.valid(
        "a group-key wrap on the control chain",
        &["Control"],
        s.input(),
    )?;

    let otk: [u8; 32] = random(&mut r);
    let mut s = Script::new(
        &mut r,
        party_input(&alice, &[], &[]),
        party_input(&bob, &[otk], &[]),
    )
    .option("aliceOneTimeKey", Value::from(0));
    let m = s.seal("alice", b"with a one-time key");
    s.open("bob", m);
    let m = s.seal("bob", b"ok");
    s.open("alice", m);
    b.valid("a start with a one-time key", &["OneTime"], s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let a = s.seal("alice", b"A first");
    let bb = s.seal("bob", b"B first");
    s.open("bob", a);
    s.open("alice", bb);
    let a2 = s.seal("alice", b"A second");
    let b2 = s.seal("bob", b"B second");
    s.open("bob", a2);
    s.open("alice", b2);
    let a3 = s.seal("alice", b"A third");
    s.open("bob", a3);
    let b3 = s.seal("bob", b"B third");
    s.open("alice", b3);
    b.valid("concurrent starts converge", &["Concurrent"], s.input())?;

    // Failures, roughly in the order of SPEC 7.7.
    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"x");
    s.open_with("bob", 0, m, b"", json!({"truncate": 40}));
    b.invalid("truncated message", "Malformed", s.input())?;
    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"x");
    s.open_with("bob", 0, m, b"", json!({"flip": [0, 3]}));
    b.invalid("version 1", "UnsupportedVersion", s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    let reply = s.seal("bob", b"y");
    s.event(json!({"newSession": "alice"}));
    s.open_with("alice", 1, reply, b"", json!({}));
    b.invalid(
        "a reply opened by a fresh session",
        "UnknownSession",
        s.input(),
    )?;

    let mut s = plain(&mut r, &alice, &bob);
    let mut starts = alloc::vec![s.seal("alice", b"start 0")];
    for k in 1..5usize {
        s.event(json!({"newSession": "alice"}));
        starts.push(s.seal_on("alice", k, 0, &[k as u8], b""));
    }
    for m in &starts {
        s.open("bob", *m);
    }
    s.open("bob", starts[0]);
    b.invalid("a dropped state's start again", "StaleSession", s.input())?;

    let mut bob_rotated = Fixture::new(&mut r, b"bob", 1);
    bob_rotated.identity_seed = bob.identity_seed;
    bob_rotated.retired = bob.sealing.clone();
    bob_rotated.sealing = alloc::vec![random(&mut r)];
    let mut s = Script::new(
        &mut r,
        party_input(&alice, &[], &[]),
        party_input(&bob_rotated, &[], &[]),
    )
    .option("aliceKnows", json!([h(bob.sealing[0])]));
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    b.invalid("sealed to a key Bob retired", "RetiredKey", s.input())?;

    let stranger: [u8; 32] = random(&mut r);
    let mut s = plain(&mut r, &alice, &bob).option("aliceKnows", json!([h(stranger)]));
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    b.invalid(
        "sealed to a key Bob never had",
        "UnknownRecipientKey",
        s.input(),
    )?;

    let mut alice_rotated = Fixture::new(&mut r, b"alice", 1);
    alice_rotated.identity_seed = alice.identity_seed;
    alice_rotated.sealing = alloc::vec![alice.sealing[0], random(&mut r)];
    let mut s = Script::new(
        &mut r,
        party_input(&alice_rotated, &[], &[]),
        party_input(&bob, &[], &[]),
    )
    .option("bobKnows", json!([h(alice.sealing[0])]));
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    b.invalid(
        "from Alice's newer key, unknown to Bob",
        "UnknownSenderKey",
        s.input(),
    )?;

    let lost: [u8; 32] = random(&mut r);
    let mut s = Script::new(
        &mut r,
        party_input(&alice, &[], &[]),
        party_input(&bob, &[], &[lost]),
    )
    .option("aliceOneTimeKey", Value::from(0));
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    b.invalid(
        "a one-time key Bob does not hold",
        "UnknownOneTimeKey",
        s.input(),
    )?;

    let otk: [u8; 32] = random(&mut r);
    let mut s = Script::new(
        &mut r,
        party_input(&alice, &[], &[]),
        party_input(&bob, &[otk], &[]),
    )
    .option("aliceOneTimeKey", Value::from(0));
    let m = s.seal("alice", b"first");
    s.open("bob", m);
    s.event(json!({"newSession": "alice", "oneTimeKey": 0}));
    let again = s.seal_on("alice", 1, 0, b"second", b"");
    s.open("bob", again);
    b.invalid(
        "the one-time key used twice",
        "ConsumedOneTimeKey",
        s.input(),
    )?;

    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    let m2 = s.seal("alice", b"late");
    s.now = T0 + 10 + 30 * DAY + 300;
    s.open("bob", m2);
    b.invalid(
        "the peer's bundle expired (300 s of skew allowed)",
        "PeerKeyExpired",
        s.input(),
    )?;

    // Alice's live key is her second (valid from notBefore + 1), Bob's his first: Bob's expires first.
    let mut s = Script::new(
        &mut r,
        party_input(&alice_rotated, &[], &[]),
        party_input(&bob, &[], &[]),
    );
    let m = s.seal("alice", b"x");
    s.now = T0 + 10 + 30 * DAY + 300;
    s.open("bob", m);
    b.invalid(
        "Bob's own key expired when the start arrives",
        "LocalKeyExpired",
        s.input(),
    )?;

    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"x");
    s.open("bob", m);
    s.open("bob", m);
    b.invalid("the same message twice", "Replay", s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"x");
    s.open("alice", m);
    b.invalid("Alice opens her own message", "Reflected", s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let ms: Vec<usize> = (0..3u8).map(|i| s.seal("alice", &[i])).collect();
    s.open("bob", ms[2]);
    s.now += 7 * DAY + 1;
    s.event(json!({"expire": "bob", "now": s.now}));
    s.open("bob", ms[0]);
    b.invalid("a skipped secret past its lifetime", "TooOld", s.input())?;

    let mut s = plain(&mut r, &alice, &bob).option(
        "policy",
        json!({"maxSkip": 2, "maxSkipped": 4, "skippedLifetime": 7 * DAY, "kemEverySteps": 16,
               "kemEverySeconds": 86_400}),
    );
    let ms: Vec<usize> = (0..4u8).map(|i| s.seal("alice", &[i])).collect();
    s.open("bob", ms[3]);
    b.invalid("three skipped, two allowed", "TooManySkipped", s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let m0 = s.seal("alice", b"0");
    let m1 = s.seal("alice", b"1");
    s.open("bob", m0);
    s.open_with("bob", 0, m1, b"", json!({"flip": [21, 1]}));
    b.invalid(
        "a changed ratchet key before Bob sent",
        "UnexpectedRatchetKey",
        s.input(),
    )?;

    let mut s = plain(&mut r, &alice, &bob).option("policy", fast_kem_policy());
    let m = s.seal("alice", b"0");
    s.open("bob", m);
    let m = s.seal("bob", b"1");
    s.open("alice", m);
    let m = s.seal("alice", b"2");
    s.open("bob", m);
    let kem = s.seal("bob", b"KEM step");
    s.open_with(
        "alice",
        0,
        kem,
        b"",
        json!({"flip": [letterseal::pairwise::FIXED_FIELDS_LEN, 1]}),
    );
    b.invalid("a KEM step to another KEM key", "UnknownKemKey", s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"0");
    s.open("bob", m);
    let m = s.seal("bob", b"salt");
    s.open_with(
        "alice",
        0,
        m,
        b"",
        json!({"flip": [letterseal::pairwise::FIXED_FIELDS_LEN, 1]}),
    );
    b.invalid("the salt changed", "CommitmentMismatch", s.input())?;

    let mut s = plain(&mut r, &alice, &bob);
    let m = s.seal("alice", b"0");
    s.open_with("bob", 0, m, b"other associated data", json!({}));
    b.invalid("other associated data", "AuthenticationFailed", s.input())?;

    kem_single_use(&mut b, &mut r, &alice, &bob)?;
    reflections(&mut b, &mut r, &alice, &bob)?;
    skipped_lifetime(&mut b, &mut r, &alice, &bob)?;
    previous_chain_cap(&mut b, &mut r, &alice, &bob)?;
    dropped_epochs(&mut b, &mut r, &alice, &bob)?;
    caps_before_kem_key(&mut b, &mut r, &alice, &bob)?;
    four_states(&mut b, &mut r, &alice, &bob)?;
    newest_bundle_tie(&mut b, &mut r, &alice, &bob)?;
    b.finish()
}

/// A transcript between the two fixtures, each seal offered exactly the most a seal can draw
/// in it: with KEM steps (`kem`) or without.
fn tight_script<'a>(
    r: &'a mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
    kem: bool,
) -> Script<'a> {
    Script::new(r, party_input(alice, &[], &[]), party_input(bob, &[], &[])).random_len(if kem {
        SEAL_RANDOM_KEM
    } else {
        SEAL_RANDOM_PLAIN
    })
}

/// Alice starts, Bob replies and Alice opens the reply: her start is confirmed, so her later
/// messages carry no INIT fields.
fn confirmed(s: &mut Script<'_>) {
    let m = s.seal("alice", b"start");
    s.open("bob", m);
    let m = s.seal("bob", b"reply");
    s.open("alice", m);
}

/// SPEC.md §7.6: a KEM key the peer sent in a KEM step serves only the first KEM step after it
/// arrived; a bundle's KEM key any number. KEM steps are due by time only (every 100 s).
fn kem_single_use(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    let mut s =
        tight_script(r, alice, bob, true).option("policy", policy(1000, 2000, 7 * DAY, 1000, 100));
    let t = s.now;
    // (time, sender, a KEM step?): Bob's first two steps use Alice's bundle key; Alice's
    // second uses the key of Bob's second, Bob's third the key of Alice's second; then Bob's
    // fourth, due by time, finds that key used and is a plain DH step.
    let turns: [(u64, &str, bool); 8] = [
        (0, "alice", false),
        (100, "bob", true),
        (150, "alice", false),
        (200, "bob", true),
        (300, "alice", true),
        (400, "bob", true),
        (450, "alice", false),
        (500, "bob", false),
    ];
    for (i, (at, who, _)) in turns.iter().enumerate() {
        s.now = t + at;
        let m = s.seal(who, &[b'k', i as u8]);
        s.open(if *who == "alice" { "bob" } else { "alice" }, m);
    }
    let input = s.input();
    let messages = sealed_messages(&input)?;
    let kem: Vec<bool> = messages.iter().map(|m| is_kem_step(m)).collect();
    let expected: Vec<bool> = turns.iter().map(|t| t.2).collect();
    // Bob's first two KEM steps name the same key: Alice's bundle KEM key.
    let kem_key_id = |m: &[u8]| {
        m[letterseal::pairwise::FIXED_FIELDS_LEN..letterseal::pairwise::FIXED_FIELDS_LEN + 16]
            .to_vec()
    };
    if kem != expected || kem_key_id(&messages[1]) != kem_key_id(&messages[3]) {
        return Err(alloc::format!(
            "KEM single use: KEM steps {kem:?}, expected {expected:?}"
        ));
    }
    b.valid(
        "a KEM-step key serves one KEM step, a bundle key two",
        &["KemStep", "KemSingleUse", "PingPong"],
        input,
    )
}

/// SPEC.md §7.7 check 3: this side's current ratchet key or one of its previous three.
fn reflections(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    for (back, error) in [(3usize, "Reflected"), (4, "CommitmentMismatch")] {
        let mut s = tight_script(r, alice, bob, false);
        // Alice's ratchet keys: E_A (the start), then four sending steps.
        let mut own = alloc::vec![s.seal("alice", b"E")];
        s.open("bob", own[0]);
        for i in 1..=4u8 {
            let m = s.seal("bob", &[b'b', i]);
            s.open("alice", m);
            let m = s.seal("alice", &[b'a', i]);
            s.open("bob", m);
            own.push(m);
        }
        s.open("alice", own[4 - back]);
        b.invalid(
            if back == 3 {
                "Alice opens her own message under her third previous ratchet key"
            } else {
                "Alice opens her own message under her fourth previous ratchet key: no longer \
                 recognised, processed as a new epoch"
            },
            error,
            s.input(),
        )?;
    }
    Ok(())
}

/// After a confirmed start, Alice seals seven messages; Bob opens the third, storing the first
/// two (policy: maxSkip = maxSkipped = 4, skipped secrets kept 60 s).
fn lifetime_script<'a>(
    r: &'a mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> (Script<'a>, Vec<usize>) {
    let mut s =
        tight_script(r, alice, bob, false).option("policy", policy(4, 4, LIFETIME, 16, DAY));
    confirmed(&mut s);
    let ms: Vec<usize> = (0..7u8).map(|i| s.seal("alice", &[b'm', i])).collect();
    s.open("bob", ms[2]);
    (s, ms)
}

/// The skipped-secret lifetime of [`lifetime_script`].
const LIFETIME: u64 = 60;

/// SPEC.md §7.7: a secret stored at t is kept while now − t ≤ skipped_lifetime, by `expire`
/// and by open; an open that commits deletes the expired ones; the caps count only the
/// secrets within their lifetime.
fn skipped_lifetime(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    let (mut s, ms) = lifetime_script(r, alice, bob);
    let t = s.now;
    s.now = t + LIFETIME;
    s.expire("bob");
    s.open("bob", ms[0]);
    s.open("bob", ms[1]);
    b.valid(
        "skipped secrets kept at exactly the lifetime: expire, then open, at t + lifetime",
        &["SkippedLifetime", "OutOfOrder"],
        s.input(),
    )?;

    let (mut s, ms) = lifetime_script(r, alice, bob);
    s.now += LIFETIME + 1;
    s.open("bob", ms[0]);
    b.invalid(
        "a skipped secret opened at lifetime + 1",
        "TooOld",
        s.input(),
    )?;

    let (mut s, ms) = lifetime_script(r, alice, bob);
    let t = s.now;
    s.now = t + LIFETIME + 1;
    s.expire("bob");
    s.now = t + LIFETIME;
    s.open("bob", ms[0]);
    b.invalid(
        "expire at lifetime + 1 deleted the secret (then opened at t + lifetime)",
        "TooOld",
        s.input(),
    )?;

    let (mut s, ms) = lifetime_script(r, alice, bob);
    s.now += LIFETIME + 1;
    s.open("bob", ms[6]);
    s.open("bob", ms[4]);
    b.valid(
        "expired skipped secrets do not count against maxSkipped (0 + 3 <= 4)",
        &["ExpiredNotCounted", "OutOfOrder"],
        s.input(),
    )?;

    let (mut s, ms) = lifetime_script(r, alice, bob);
    s.now += LIFETIME;
    s.open("bob", ms[6]);
    b.invalid(
        "at the lifetime the stored secrets still count against maxSkipped (2 + 3 > 4)",
        "TooManySkipped",
        s.input(),
    )?;

    let (mut s, ms) = lifetime_script(r, alice, bob);
    let t = s.now;
    s.now = t + LIFETIME + 1;
    s.open("bob", ms[6]);
    s.now = t + LIFETIME;
    s.open("bob", ms[0]);
    b.invalid(
        "an open at lifetime + 1 that commits deleted the expired secrets (then opened at \
         t + lifetime)",
        "TooOld",
        s.input(),
    )?;
    Ok(())
}

/// SPEC.md §7.7: the rest of one of the peer's previous chains counts fully against max_skip.
fn previous_chain_cap(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    for opened_first in [2usize, 1] {
        let mut s =
            tight_script(r, alice, bob, false).option("policy", policy(2, 2000, 7 * DAY, 16, DAY));
        confirmed(&mut s);
        let first: Vec<usize> = (0..4u8).map(|i| s.seal("alice", &[b'p', i])).collect();
        for m in &first[..opened_first] {
            s.open("bob", *m);
        }
        let reply = s.seal("bob", b"reply");
        s.open("alice", reply);
        // The header says the previous chain had 4 messages: 4 - opened_first are stored.
        let next = s.seal("alice", b"new epoch");
        s.open("bob", next);
        if opened_first == 2 {
            s.open("bob", first[3]);
            b.valid(
                "the rest of the previous chain is exactly maxSkip (2)",
                &["PreviousChainCap", "OutOfOrder"],
                s.input(),
            )?;
        } else {
            b.invalid(
                "the rest of the previous chain is maxSkip + 1 (3)",
                "TooManySkipped",
                s.input(),
            )?;
        }
    }
    Ok(())
}

/// How far the dropped-epoch script runs.
#[derive(Clone, Copy, PartialEq)]
enum DropUntil {
    /// Alice's ninth epoch starts with a message that skips two (nothing dropped yet).
    Ninth,
    /// Alice's tenth epoch starts with a message that skips two (dropping her first).
    Tenth,
    /// ... and her eleventh, fully opened (dropping her second).
    Eleventh,
}

/// The indexes of some messages of [`dropped_epoch_script`]: Alice's first epoch (4), her
/// second (2), and the three of the epoch whose last message skips two.
struct DropMessages {
    e1: Vec<usize>,
    e2: Vec<usize>,
    skipping: Vec<usize>,
}

/// Alice's epochs E1 … E9/E10/E11 opened by Bob, with skipped secrets of E1 and E2 stored
/// (SPEC.md §7.7: a state keeps the current epoch and 8 earlier ones; maxSkip 2, maxSkipped
/// 5). With `kem`, E2 and Bob's reply to it are KEM steps (due by time), so Bob's current KEM
/// key is no longer his bundle's.
fn dropped_epoch_script<'a>(
    r: &'a mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
    kem: bool,
    until: DropUntil,
) -> (Script<'a>, DropMessages) {
    let kem_seconds = if kem { 100 } else { DAY };
    let mut s =
        tight_script(r, alice, bob, kem).option("policy", policy(2, 5, 7 * DAY, 1000, kem_seconds));
    let t = s.now;
    // E1: four messages, Bob opens the third (storing the first two).
    let e1: Vec<usize> = (0..4u8).map(|i| s.seal("alice", &[1, i])).collect();
    s.open("bob", e1[2]);
    s.now = t + 50;
    let m = s.seal("bob", b"F1");
    s.open("alice", m);
    // E2: two messages, Bob opens the first (storing E1's fourth).
    s.now = t + 100;
    let e2: Vec<usize> = (0..2u8).map(|i| s.seal("alice", &[2, i])).collect();
    s.open("bob", e2[0]);
    s.now = t + 200;
    let m = s.seal("bob", b"F2");
    s.open("alice", m);
    // E3 …: one message each (E3 stores E2's second): Bob holds 4 skipped secrets.
    let last_single = if until == DropUntil::Ninth { 8 } else { 9 };
    for k in 3..=last_single {
        let m = s.seal("alice", &[k]);
        s.open("bob", m);
        let m = s.seal("bob", &[b'F', k]);
        s.open("alice", m);
    }
    // The next epoch: three messages, Bob opens the last (skipping two).
    let skipping: Vec<usize> = (0..3u8).map(|i| s.seal("alice", &[b'x', i])).collect();
    s.open("bob", skipping[2]);
    if until == DropUntil::Eleventh {
        let m = s.seal("bob", b"F10");
        s.open("alice", m);
        let ys: Vec<usize> = (0..4u8).map(|i| s.seal("alice", &[b'y', i])).collect();
        for y in ys {
            s.open("bob", y);
        }
    }
    (s, DropMessages { e1, e2, skipping })
}

/// SPEC.md §7.7: the epoch a message would drop does not count against the caps; a message
/// under a ratchet key the state no longer holds is processed as a new epoch.
fn dropped_epochs(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    let (s, _) = dropped_epoch_script(r, alice, bob, false, DropUntil::Ninth);
    b.invalid(
        "one epoch before the drop: E1's three and E2's one stored secrets count (4 + 2 > 5)",
        "TooManySkipped",
        s.input(),
    )?;
    let (mut s, m) = dropped_epoch_script(r, alice, bob, false, DropUntil::Tenth);
    s.open("bob", m.skipping[0]);
    b.valid(
        "E10 drops E1: its three stored secrets do not count (1 + 2 <= 5)",
        &["DroppedEpoch", "OutOfOrder"],
        s.input(),
    )?;
    let (mut s, m) = dropped_epoch_script(r, alice, bob, false, DropUntil::Tenth);
    s.open("bob", m.e1[0]);
    b.invalid(
        "a message of the dropped E1 (n = 0): a new epoch to Bob, other keys",
        "CommitmentMismatch",
        s.input(),
    )?;
    let (mut s, m) = dropped_epoch_script(r, alice, bob, true, DropUntil::Eleventh);
    s.open("bob", m.e2[1]);
    b.invalid(
        "a message of the dropped KEM-step epoch E2: a new epoch to Bob, whose KEM key changed",
        "UnknownKemKey",
        s.input(),
    )?;
    Ok(())
}

/// SPEC.md §7.7: a new-epoch message is checked against every cap before its KEM key.
fn caps_before_kem_key(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    let mut s =
        tight_script(r, alice, bob, true).option("policy", policy(2, 2000, 7 * DAY, 2, DAY));
    let m = s.seal("alice", b"0");
    s.open("bob", m);
    let m = s.seal("bob", b"1");
    s.open("alice", m);
    let m = s.seal("alice", b"2");
    s.open("bob", m);
    let kem: Vec<usize> = (0..4u8).map(|i| s.seal("bob", &[b'K', i])).collect();
    // The fourth message of Bob's KEM-step epoch, its KEM key id changed: n = 3 > maxSkip.
    s.open_with(
        "alice",
        0,
        kem[3],
        b"",
        json!({"flip": [letterseal::pairwise::FIXED_FIELDS_LEN, 1]}),
    );
    b.invalid(
        "a new-epoch KEM step to another KEM key skipping 3 > maxSkip: the caps come first",
        "TooManySkipped",
        s.input(),
    )
}

/// Bob starts a state; Alice's four sessions start four more at Bob, the first used again
/// before the fourth arrives. Returns the input, Bob's start and Alice's starts.
fn four_states_script(
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
    dropped_again: bool,
) -> (Value, usize, Vec<usize>, Option<usize>) {
    let mut s = tight_script(r, alice, bob, false);
    let own = s.seal("bob", b"Bob starts");
    let mut starts = alloc::vec![s.seal("alice", b"s0")];
    for k in 1..4usize {
        s.event(json!({"newSession": "alice"}));
        starts.push(s.seal_on("alice", k, 0, &[b's', k as u8], b""));
    }
    for m in &starts[..3] {
        s.open("bob", *m);
    }
    // s0 used again: s1 is the least recently used state other than Bob's own (current).
    let again = s.seal_on("alice", 0, 0, b"s0 again", b"");
    s.open("bob", again);
    s.open("bob", starts[3]);
    if dropped_again {
        let m = s.seal_on("alice", 1, 0, b"s1 again", b"");
        s.open("bob", m);
        return (s.input(), own, starts, None);
    }
    let m = s.seal_on("alice", 2, 0, b"s2 again", b"");
    s.open("bob", m);
    let reply = s.seal("bob", b"still in Bob's own state");
    (s.input(), own, starts, Some(reply))
}

/// SPEC.md §7.9: four ratchet states; a fifth drops the least recently used one other than the
/// current one.
fn four_states(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    // Bob's own unconfirmed start stays current only while its session id is smaller than the
    // other states' (SPEC.md §7.9): the randomness is drawn again until it is.
    for _ in 0..64 {
        let snapshot = r.clone();
        let (valid, own, starts, reply) = four_states_script(r, alice, bob, false);
        let messages = sealed_messages(&valid)?;
        let own_id = session_id_of(&messages[own]);
        if !starts.iter().all(|m| session_id_of(&messages[*m]) > own_id) {
            continue;
        }
        if reply.map(|m| session_id_of(&messages[m])) != Some(own_id) {
            return Err("four states: Bob's own state is no longer current".into());
        }
        b.valid(
            "a fifth state drops the least recently used one that is not current",
            &["FourStates"],
            valid,
        )?;
        // The same script up to the fifth state, then the dropped state's start again.
        let (invalid, ..) = four_states_script(&mut snapshot.clone(), alice, bob, true);
        return b.invalid(
            "the dropped state (least recently used, not current) again",
            "StaleSession",
            invalid,
        );
    }
    Err("four states: no session ids in the needed order".into())
}

/// SPEC.md §7.8: the newest peer bundle is the one with the latest not_before, then the
/// largest key id; a start uses it.
fn newest_bundle_tie(
    b: &mut Builder,
    r: &mut ChaCha20Rng,
    alice: &Fixture,
    bob: &Fixture,
) -> Result<(), String> {
    let bob_id = SealingSecretKey::from_bytes(&bob.sealing[0])
        .public_key()
        .key_id();
    // A key Bob never had, with the same not_before (not one of Bob's secrets: j = 0) and a
    // smaller key id, listed first.
    let stranger = loop {
        let candidate: [u8; 32] = random(r);
        if SealingSecretKey::from_bytes(&candidate)
            .public_key()
            .key_id()
            < bob_id
        {
            break candidate;
        }
    };
    let mut s = tight_script(r, alice, bob, false)
        .option("aliceKnows", json!([h(stranger), h(bob.sealing[0])]));
    let m = s.seal("alice", b"to the larger key id");
    s.open("bob", m);
    let m = s.seal("bob", b"ok");
    s.open("alice", m);
    b.valid(
        "two peer bundles with one not_before: the larger key id is the newest",
        &["NewestBundleTie"],
        s.input(),
    )
}
