//! Generators of the pairwise vector files (SPEC.md §7).
//!
//! Generation runs on fixed inputs made here, never on outside data, so fixed
//! indexes into messages this module just sealed are allowed.
#![allow(clippy::indexing_slicing)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Value, json};

use super::{Builder, DAY, T0, h, random, rng, small_order_points};
use crate::device::DeviceKeys;
use crate::ids::{DeviceAddress, DeviceId, UserId};
use crate::keys::{IdentitySecretKey, SealingSecretKey};
use crate::registration::BundleContent;
use crate::time::Timestamp;
use crate::vectors::{VectorFile, steps, vector_kem_key};

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
    pub(super) fn verified_bundle(&self) -> Result<crate::registration::VerifiedBundle, String> {
        let owner = crate::registration::ExpectedOwner::Device(self.address()?);
        crate::registration::KeyBundle::decode(&self.bundle()?)
            .and_then(|b| {
                b.verify(
                    &owner,
                    &crate::registration::RegistrationPolicy::default(),
                    Timestamp::from_unix_seconds(T0 + 10),
                    None,
                    &crate::registration::NoDirectory,
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

/// A `pairwise-seal` input.
fn seal_input(
    sender: &Fixture,
    recipient: &Fixture,
    counter: u64,
    random: [u8; 32],
    content_type: u16,
    plaintext: &[u8],
    ad: &[u8],
) -> Result<Value, String> {
    seal_input_at(
        sender,
        recipient,
        counter,
        random,
        content_type,
        plaintext,
        ad,
        T0 + 10,
    )
}

/// A `pairwise-seal` input at a given time.
#[allow(clippy::too_many_arguments)]
fn seal_input_at(
    sender: &Fixture,
    recipient: &Fixture,
    counter: u64,
    random: [u8; 32],
    content_type: u16,
    plaintext: &[u8],
    ad: &[u8],
    now: u64,
) -> Result<Value, String> {
    let mut input = Map::new();
    sender.inputs("sender", &mut input);
    input.insert("recipientBundle".into(), h(recipient.bundle()?));
    input.insert("notBefore".into(), Value::from(T0 + 10));
    input.insert("now".into(), Value::from(now));
    input.insert("counter".into(), Value::from(counter));
    input.insert("random".into(), h(random));
    input.insert("contentType".into(), Value::from(content_type));
    input.insert("plaintext".into(), h(plaintext));
    input.insert("associatedData".into(), h(ad));
    Ok(Value::Object(input))
}

/// Seals through the `pairwise-seal` step and returns the message bytes.
fn seal_message(
    r: &mut ChaCha20Rng,
    sender: &Fixture,
    recipient: &Fixture,
    counter: u64,
    plaintext: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>, String> {
    let out = run(
        "pairwise-seal",
        &seal_input(sender, recipient, counter, random(r), 0, plaintext, ad)?,
    )?;
    let text = out
        .get("message")
        .and_then(Value::as_str)
        .ok_or("no message")?;
    hex::decode(text).map_err(|e| e.to_string())
}

pub(super) fn header() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "pairwise-header",
        "7.3",
        "Decoding a 92-byte pairwise header: input header; outputs contentType, senderKeyId, recipientKeyId, \
         counter, salt, commitment and bound (the 44 bytes bound into the message keys), or \
         UnsupportedVersion / Malformed.",
        &[
            ("UnsupportedVersion", "Version byte other than 1"),
            ("Malformed", "Wrong kind byte, or not exactly 92 bytes"),
        ],
    );
    let mut r = rng("pairwise-header");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let bob = Fixture::new(&mut r, b"bob", 1);
    let mut headers = Vec::new();
    for (counter, ct, comment) in [
        (0u64, 0u16, "first text message"),
        (41, 1, "location, counter 41"),
        (
            u64::MAX - 1,
            0x8001,
            "application type, largest usable counter",
        ),
        (7, 999, "reserved content type is carried through"),
    ] {
        let input = seal_input(&alice, &bob, counter, random(&mut r), ct, b"x", b"")?;
        let message = run("pairwise-seal", &input)?;
        let text = message
            .get("message")
            .and_then(Value::as_str)
            .ok_or("no message")?;
        let header = hex::decode(text.get(..184).ok_or("short")?).map_err(|e| e.to_string())?;
        b.valid(comment, &[], json!({ "header": h(&header) }))?;
        headers.push(header);
    }
    let base = headers.first().cloned().ok_or("no header")?;
    let with = |i: usize, v: u8| {
        let mut x = base.clone();
        if let Some(byte) = x.get_mut(i) {
            *byte = v;
        }
        x
    };
    b.invalid(
        "version 0",
        "UnsupportedVersion",
        json!({ "header": h(with(0, 0)) }),
    )?;
    b.invalid(
        "version 2",
        "UnsupportedVersion",
        json!({ "header": h(with(0, 2)) }),
    )?;
    b.invalid(
        "kind 2 (not pairwise)",
        "Malformed",
        json!({ "header": h(with(1, 2)) }),
    )?;
    b.invalid("91 bytes", "Malformed", json!({ "header": h(&base[..91]) }))?;
    let mut long = base.clone();
    long.push(0);
    b.invalid("93 bytes", "Malformed", json!({ "header": h(long) }))?;
    b.invalid("empty", "Malformed", json!({ "header": "" }))?;
    b.finish()
}

fn party_inputs(f: &Fixture, prefix: &str, into: &mut Map<String, Value>) -> Result<(), String> {
    let identity = IdentitySecretKey::from_seed(&f.identity_seed).public_key();
    let sealing = SealingSecretKey::from_bytes(f.sealing.last().ok_or("no key")?).public_key();
    into.insert(alloc::format!("{prefix}UserId"), h(f.user));
    into.insert(alloc::format!("{prefix}DeviceId"), Value::from(f.device));
    into.insert(
        alloc::format!("{prefix}IdentityKey"),
        h(identity.as_bytes()),
    );
    into.insert(alloc::format!("{prefix}SealingKey"), h(sealing.as_bytes()));
    Ok(())
}

fn chain_input(sender: &Fixture, recipient: &Fixture) -> Result<Value, String> {
    let mut input = Map::new();
    input.insert(
        "senderSealingSecret".into(),
        h(sender.sealing.last().ok_or("no key")?),
    );
    party_inputs(sender, "sender", &mut input)?;
    party_inputs(recipient, "recipient", &mut input)?;
    Ok(Value::Object(input))
}

pub(super) fn chain_key() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "pairwise-chain-key",
        "7.4",
        "Chain key of the direction sender -> recipient: inputs senderSealingSecret and, for sender and \
         recipient, UserId (hex), DeviceId, IdentityKey, SealingKey; outputs shared (X25519) and chainKey, \
         or NonContributory.",
        &[
            (
                "Direction",
                "The reverse direction of the previous case: same shared secret, other chain",
            ),
            (
                "UnknownKeyShare",
                "Carol registered Alice's sealing key: same shared secret, other chain",
            ),
            (
                "NonContributory",
                "The recipient's sealing key has small order",
            ),
        ],
    );
    let mut r = rng("pairwise-chain-key");
    let alice = Fixture::new(&mut r, b"alice@example.org", 1);
    let bob = Fixture::new(&mut r, b"bob@example.org", 3);
    b.valid("Alice -> Bob", &[], chain_input(&alice, &bob)?)?;
    b.valid("Bob -> Alice", &["Direction"], chain_input(&bob, &alice)?)?;
    let mut carol = Fixture::new(&mut r, b"carol@example.org", 1);
    carol.sealing = alice.sealing.clone();
    b.valid(
        "Carol (holding Alice's sealing key) -> Bob",
        &["UnknownKeyShare"],
        chain_input(&carol, &bob)?,
    )?;
    let alice2 = Fixture::new(&mut r, b"alice@example.org", 2);
    b.valid(
        "Alice's second device -> Bob",
        &[],
        chain_input(&alice2, &bob)?,
    )?;
    let mut input = chain_input(&alice, &bob)?;
    let (point, _) = small_order_points()?[0];
    if let Some(obj) = input.as_object_mut() {
        obj.insert("recipientSealingKey".into(), h(point));
    }
    b.invalid("recipient sealing key u = 0", "NonContributory", input)?;
    b.finish()
}

pub(super) fn message_keys() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "pairwise-message-keys",
        "7.4",
        "Message keys: inputs chainKey, salt (16), bound (the 44 header bytes bound into the keys); outputs \
         aeadKey, nonce, commitment.",
        &[],
    );
    let mut r = rng("pairwise-message-keys");
    for i in 0..6u64 {
        let mut bound = Vec::with_capacity(44);
        bound.extend_from_slice(&[1, 1, 0, (i % 3) as u8]);
        bound.extend_from_slice(&random::<32>(&mut r));
        bound.extend_from_slice(&(i * 1000).to_be_bytes());
        b.valid(
            &alloc::format!("random chain, counter {}", i * 1000),
            &[],
            json!({ "chainKey": h(random::<32>(&mut r)), "salt": h(random::<16>(&mut r)), "bound": h(bound) }),
        )?;
    }
    b.finish()
}

pub(super) fn seal() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "pairwise-seal",
        "7.5",
        "Seal with fixed randomness: inputs sender device (senderIdentitySeed, senderUserId, senderDeviceId, \
         senderSealingSecrets: the newest is used), recipientBundle (verified at notBefore), notBefore (keys \
         of the device are valid from notBefore + index for 30 days), now, counter (the session's next \
         counter), random (the 32 bytes the hedged salt draws, SPEC 3.5), contentType, plaintext, \
         associatedData; output message, or the failed check of SPEC 7.5.",
        &[
            ("CounterExhausted", "The counter is 2^64 - 1"),
            ("Rotation", "The sender has two live keys"),
            (
                "LocalKeyExpired",
                "The sender's newest key expired before now (plus 300 s)",
            ),
            (
                "PeerKeyExpired",
                "The recipient's key expired before now (plus 300 s)",
            ),
            (
                "RepeatedRandomness",
                "The same 32 random bytes as another case",
            ),
        ],
    );
    let mut r = rng("pairwise-seal");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let bob = Fixture::new(&mut r, b"bob", 1);
    /// (comment, counter, content type, plaintext, associated data)
    type Case<'a> = (&'a str, u64, u16, &'a [u8], &'a [u8]);
    let cases: [Case<'_>; 6] = [
        ("empty text", 0, 0, b"", b""),
        ("one byte", 1, 0, b"!", b""),
        (
            "text with associated data",
            2,
            0,
            b"hello Bob",
            b"conversation 7",
        ),
        ("location", 17, 1, b"{\"lat\":35.68,\"lon\":139.76}", b""),
        (
            "application type, 100 bytes",
            1000,
            0x8123,
            &[0xa5; 100],
            b"app",
        ),
        ("largest usable counter", u64::MAX - 1, 0, b"last", b""),
    ];
    for (comment, counter, ct, pt, ad) in cases {
        b.valid(
            comment,
            &[],
            seal_input(&alice, &bob, counter, random(&mut r), ct, pt, ad)?,
        )?;
    }
    let mut rotated = Fixture::new(&mut r, b"alice", 1);
    rotated.identity_seed = alice.identity_seed;
    rotated.sealing = alloc::vec![alice.sealing[0], random(&mut r)];
    b.valid(
        "after rotation the newest key seals",
        &["Rotation"],
        seal_input(&rotated, &bob, 3, random(&mut r), 0, b"new key", b"")?,
    )?;
    // A repeated RNG output: the hedged salt still differs for another message.
    let repeated = random(&mut r);
    for (comment, pt) in [
        ("repeated randomness, message A", &b"attack at dawn"[..]),
        ("repeated randomness, message B", &b"attack at dusk"[..]),
    ] {
        b.valid(
            comment,
            &["RepeatedRandomness"],
            seal_input(&alice, &bob, 5, repeated, 0, pt, b"")?,
        )?;
    }
    b.invalid(
        "counter 2^64 - 1",
        "CounterExhausted",
        seal_input(&alice, &bob, u64::MAX, random(&mut r), 0, b"", b"")?,
    )?;
    // Bob's bundle is valid until T0 + 30 days, Alice's key until notBefore + 30 days;
    // 300 s of skew are allowed after each.
    let bob_expiry = T0 + 30 * DAY + 300;
    let alice_expiry = T0 + 10 + 30 * DAY + 300;
    b.valid(
        "one second before the recipient key expires (skew allowance)",
        &[],
        seal_input_at(
            &alice,
            &bob,
            0,
            random(&mut r),
            0,
            b"late",
            b"",
            bob_expiry - 1,
        )?,
    )?;
    b.invalid(
        "recipient key expired",
        "PeerKeyExpired",
        seal_input_at(
            &alice,
            &bob,
            0,
            random(&mut r),
            0,
            b"too late",
            b"",
            bob_expiry,
        )?,
    )?;
    b.invalid(
        "sender key expired (checked before the recipient key)",
        "LocalKeyExpired",
        seal_input_at(
            &alice,
            &bob,
            0,
            random(&mut r),
            0,
            b"too late",
            b"",
            alice_expiry,
        )?,
    )?;
    b.finish()
}

fn open_input(
    recipient: &Fixture,
    sender: &Fixture,
    delivered: &[Vec<u8>],
    message: &[u8],
    ad: &[u8],
) -> Result<Value, String> {
    open_input_at(recipient, sender, delivered, message, ad, T0 + 20)
}

fn open_input_at(
    recipient: &Fixture,
    sender: &Fixture,
    delivered: &[Vec<u8>],
    message: &[u8],
    ad: &[u8],
    now: u64,
) -> Result<Value, String> {
    let mut input = Map::new();
    recipient.inputs("recipient", &mut input);
    input.insert("senderBundle".into(), h(sender.bundle()?));
    input.insert("notBefore".into(), Value::from(T0 + 10));
    input.insert("now".into(), Value::from(now));
    input.insert(
        "delivered".into(),
        Value::Array(delivered.iter().map(h).collect()),
    );
    input.insert("message".into(), h(message));
    input.insert("associatedData".into(), h(ad));
    Ok(Value::Object(input))
}

pub(super) fn open() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "pairwise-open",
        "7.5",
        "Open after the delivered messages were opened: inputs recipient device (recipientIdentitySeed, \
         recipientUserId, recipientDeviceId, recipientSealingSecrets, recipientRetiredSealingSecrets), \
         senderBundle, notBefore (the bundle is verified then), now, delivered (messages opened first, in \
         order), message, associatedData; outputs contentType, plaintext, counter, skipped, late, or the \
         failed check of SPEC 7.5.",
        &[
            ("OutOfOrder", "The message arrives after a later one"),
            ("Gap", "Counters were skipped"),
            ("Rotation", "The recipient has two live keys"),
            ("Malformed", "Not a well-formed message"),
            ("UnsupportedVersion", "Version byte other than 1"),
            (
                "Reflected",
                "The recipient's own message to the sender, fed back to it",
            ),
            ("RetiredKey", "Sealed to a key the recipient retired"),
            (
                "UnknownRecipientKey",
                "Sealed to a key the recipient never had",
            ),
            (
                "UnknownSenderKey",
                "Sealed with a key the session does not know for the sender",
            ),
            (
                "PeerKeyExpired",
                "The sender's key expired before now (plus 300 s)",
            ),
            ("Replay", "The counter was already accepted"),
            (
                "TooOld",
                "The counter is 1024 or more below the highest accepted one",
            ),
            (
                "CommitmentMismatch",
                "The header's commitment does not match the derived keys",
            ),
            ("AuthenticationFailed", "The AEAD tag does not verify"),
        ],
    );
    let mut r = rng("pairwise-open");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let bob = Fixture::new(&mut r, b"bob", 1);
    let m: Vec<Vec<u8>> = (0..5u64)
        .map(|i| {
            seal_message(
                &mut r,
                &alice,
                &bob,
                i,
                alloc::format!("message {i}").as_bytes(),
                b"",
            )
        })
        .collect::<Result<_, _>>()?;
    let with_ad = seal_message(&mut r, &alice, &bob, 0, b"with associated data", b"chat 9")?;
    b.valid(
        "first message",
        &[],
        open_input(&bob, &alice, &[], &m[0], b"")?,
    )?;
    b.valid(
        "with associated data",
        &[],
        open_input(&bob, &alice, &[], &with_ad, b"chat 9")?,
    )?;
    b.valid(
        "gap: 0 then 4",
        &["Gap"],
        open_input(&bob, &alice, &m[..1], &m[4], b"")?,
    )?;
    b.valid(
        "out of order: 3 then 1",
        &["OutOfOrder"],
        open_input(&bob, &alice, &m[3..4], &m[1], b"")?,
    )?;
    // Bob rotated: the message to his old key still opens while it is live.
    let mut bob_rotated = Fixture::new(&mut r, b"bob", 1);
    bob_rotated.identity_seed = bob.identity_seed;
    bob_rotated.sealing = alloc::vec![bob.sealing[0], random(&mut r)];
    b.valid(
        "to the older of two live keys",
        &["Rotation"],
        open_input(&bob_rotated, &alice, &[], &m[0], b"")?,
    )?;

    // Failures, in the order of SPEC 7.5.
    b.invalid(
        "truncated to the header",
        "Malformed",
        open_input(&bob, &alice, &[], &m[0][..92], b"")?,
    )?;
    let mut v2 = m[0].clone();
    v2[0] = 2;
    b.invalid(
        "version 2",
        "UnsupportedVersion",
        open_input(&bob, &alice, &[], &v2, b"")?,
    )?;
    let reflected = seal_message(&mut r, &bob, &alice, 0, b"Bob to Alice", b"")?;
    b.invalid(
        "Bob's own message to Alice",
        "Reflected",
        open_input(&bob, &alice, &[], &reflected, b"")?,
    )?;
    let mut bob_retired = Fixture::new(&mut r, b"bob", 1);
    bob_retired.identity_seed = bob.identity_seed;
    bob_retired.retired = bob.sealing.clone();
    bob_retired.sealing = alloc::vec![random(&mut r)];
    b.invalid(
        "sealed to a retired key",
        "RetiredKey",
        open_input(&bob_retired, &alice, &[], &m[0], b"")?,
    )?;
    let mut bob_other = Fixture::new(&mut r, b"bob", 1);
    bob_other.identity_seed = bob.identity_seed;
    b.invalid(
        "sealed to a key Bob never had",
        "UnknownRecipientKey",
        open_input(&bob_other, &alice, &[], &m[0], b"")?,
    )?;
    let carol = Fixture::new(&mut r, b"carol", 1);
    let from_carol = seal_message(&mut r, &carol, &bob, 0, b"from Carol", b"")?;
    b.invalid(
        "from Carol, in the session with Alice",
        "UnknownSenderKey",
        open_input(&bob, &alice, &[], &from_carol, b"")?,
    )?;
    // Alice's bundle key (index 0) is valid until T0 + 30 days, plus 300 s of skew.
    b.valid(
        "one second before the sender key expires",
        &[],
        open_input_at(&bob, &alice, &[], &m[0], b"", T0 + 30 * DAY + 299)?,
    )?;
    b.invalid(
        "sender key expired",
        "PeerKeyExpired",
        open_input_at(&bob, &alice, &[], &m[0], b"", T0 + 30 * DAY + 300)?,
    )?;
    b.invalid(
        "replay",
        "Replay",
        open_input(&bob, &alice, &m[..1], &m[0], b"")?,
    )?;
    let far = seal_message(&mut r, &alice, &bob, 1024, b"far ahead", b"")?;
    b.invalid(
        "counter 0 after counter 1024",
        "TooOld",
        open_input(&bob, &alice, &[far], &m[0], b"")?,
    )?;
    let mut salt_flip = m[0].clone();
    salt_flip[50] ^= 1;
    b.invalid(
        "salt modified",
        "CommitmentMismatch",
        open_input(&bob, &alice, &[], &salt_flip, b"")?,
    )?;
    let mut commit_flip = m[0].clone();
    commit_flip[70] ^= 1;
    b.invalid(
        "commitment modified",
        "CommitmentMismatch",
        open_input(&bob, &alice, &[], &commit_flip, b"")?,
    )?;
    let mut counter_flip = m[0].clone();
    counter_flip[43] ^= 1;
    b.invalid(
        "counter modified",
        "CommitmentMismatch",
        open_input(&bob, &alice, &[], &counter_flip, b"")?,
    )?;
    let mut body_flip = m[1].clone();
    if let Some(last) = body_flip.last_mut() {
        *last ^= 0x80;
    }
    b.invalid(
        "tag modified",
        "AuthenticationFailed",
        open_input(&bob, &alice, &[], &body_flip, b"")?,
    )?;
    b.invalid(
        "wrong associated data",
        "AuthenticationFailed",
        open_input(&bob, &alice, &[], &with_ad, b"chat 8")?,
    )?;
    b.invalid(
        "associated data missing",
        "AuthenticationFailed",
        open_input(&bob, &alice, &[], &with_ad, b"")?,
    )?;
    b.finish()
}
