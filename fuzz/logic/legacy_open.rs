//! Fuzz target: the legacy LINE Letter Sealing openers and parsers (SPEC.md
//! §11, feature `legacy`): `open_v1`, `open_v2` (12- and 16-byte nonces),
//! `open_group`, `unwrap_group_key`, `open_media`, the payload parsers and
//! the id and chunk readers.
//!
//! A fixture is built once, deterministically (a fixed ChaCha20 seed): key
//! pairs for Alice (key id 1001), Bob (2002 and 2003) and Carol (3003), a
//! group key (group key id 77) that Alice and Carol each wrap for Bob (and
//! Alice for Carol), two media key materials, and the *legitimate* messages
//! and blobs sealed with them: v1 between Alice and each of Bob's keys (both
//! ways), v2 from Alice to Bob (text with a 12-byte nonce, location with a
//! 16-byte one, an image payload) and from Bob to Alice, group messages from
//! Alice (12-byte nonce) and Carol (16-byte nonce), and media blobs.
//!
//! Input: `selector ‖ payload`. The selector's low nibble (mod 7) picks the
//! operation, its high nibble a parameter: for v1, v2 and groups the sender
//! public key (bits 0–1: Alice, Carol, Bob's key 2002, the all-zero point of
//! small order) and for v2 and groups the envelope (bits 2–3); for the unwrap
//! the creator's public key; for media the key material; for payloads the
//! content type. Messages are carved from the payload as length-prefixed
//! chunks (`u8(n) ‖ n bytes`, repeated; a short last chunk takes what is
//! left), opened by Bob (his two key pairs, or the group key).
//!
//! Checks:
//!
//! - nothing panics;
//! - the error is predicted from the bytes: `Malformed` for a chunk count
//!   other than 5 or a chunk of the wrong length, then `UnknownKey` for a
//!   recipient key id Bob (or the group key) does not have, then
//!   `NonContributory` for the small-order sender, else only
//!   `DecryptionFailed` or success; a checked message re-encodes to its chunks;
//! - a message that opens is a legitimate one with its plaintext. Allowed
//!   (SPEC.md §11.8): replay (any legitimate message opens again), and for v1
//!   reflection — the key-id chunks are not authenticated and `SS` is the same
//!   both ways, so the salt, ciphertext and MAC of any v1 message between the
//!   sender key and Bob's key opens, whatever the key-id chunks say. For v2 and
//!   groups all five chunks, the envelope and the sender must be a legitimate
//!   message's. Anything else opening is a **forgery**. Every legitimate
//!   message given to the right opener opens;
//! - `unwrap_group_key` succeeds exactly when the wrap's last two blocks are
//!   those of a legitimate wrap from that creator; the key is then the
//!   wrapped key with the wrap's first block XOR-ed into its second half
//!   (unauthenticated CBC, SPEC.md §11.8), and its first half is unchanged
//!   exactly when the first block is;
//! - `open_media` opens exactly the legitimate blobs of that key material (a
//!   blob under 32 bytes is `Malformed`);
//! - payload parsers never panic, `Payload::parse` agrees with
//!   `parse_text`/`parse_location`/`parse_key_material`, and a parsed payload
//!   serializes to JSON that parses back to it exactly (coordinates bit for bit);
//! - `LineId`, key-id chunks, `V2Nonce` and the message types accept exactly
//!   the well-formed inputs and give back their bytes.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/legacy_open.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/legacy_open/` are generated from the fixture
//! (`seeds` below); regenerate them after a change to the fixture or the
//! format (`cargo test --test fuzz_corpus --features legacy -- --ignored
//! regenerate_legacy_open_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use letterseal::keys::SealingPublicKey;
use letterseal::legacy::LegacyError;
use letterseal::legacy::chunks::Chunks;
use letterseal::legacy::group::{
    GroupKey, WRAP_LEN, WrappedGroupKey, open_group, seal_group, unwrap_group_key, wrap_group_key,
};
use letterseal::legacy::ids::{LegacyContentType, LegacyKeyId, LineId, LineIdKind};
use letterseal::legacy::keys::LegacyKeyPair;
use letterseal::legacy::media::{MediaKeyMaterial, open_media, seal_media};
use letterseal::legacy::payload::{
    Location, Payload, location_json, media_json, parse_key_material, parse_location, parse_text,
    text_json,
};
use letterseal::legacy::v1::{V1Message, open_v1, seal_v1};
use letterseal::legacy::v2::{Envelope, V2Message, V2Nonce, open_v2, seal_v2, seal_v2_with};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

// ---- fixture ----------------------------------------------------------------

const ALICE_ID: &str = "u000000000000000000000000000a11ce";
const BOB_ID: &str = "u00000000000000000000000000000b0b";
const CAROL_ID: &str = "u000000000000000000000000000ca201";
const GROUP_ID: &str = "c0000000000000000000000000000f00d";
/// The group key id the server assigned.
const GROUP_KEY_ID: LegacyKeyId = LegacyKeyId::new(77);
/// Number of operations (the selector's low nibble, mod this).
const OPERATIONS: u8 = 7;
/// The content types the payload operation picks from (high nibble, mod 8).
const CONTENT_TYPES: [i32; 8] = [0, 1, 2, 3, 14, 15, 7, -1];

/// A message sealed at setup.
struct Message {
    chunks: Chunks,
    plaintext: Vec<u8>,
    /// The sender's and the recipient's public keys (the group public key
    /// for group messages).
    from: SealingPublicKey,
    to: SealingPublicKey,
    envelope: Option<Envelope>,
}

/// A group key wrap made at setup, for Bob's key 2002.
struct Wrap {
    creator: SealingPublicKey,
    bytes: [u8; WRAP_LEN],
    key: [u8; 32],
}

struct Fixture {
    /// Bob's key pairs (2002, 2003).
    bob: [LegacyKeyPair; 2],
    group_key: GroupKey,
    /// Alice, Carol, Bob's key 2002, the all-zero point.
    senders: [SealingPublicKey; 4],
    /// The envelopes v2 opens with, and those group messages open with.
    envelopes: [Envelope; 4],
    group_envelopes: [Envelope; 4],
    v1: Vec<Message>,
    v2: Vec<Message>,
    group: Vec<Message>,
    wraps: Vec<Wrap>,
    media_keys: [MediaKeyMaterial; 2],
    /// (index into `media_keys`, blob, plaintext).
    media: Vec<(usize, Vec<u8>, Vec<u8>)>,
}

fn envelope(to: &str, from: &str, content_type: LegacyContentType) -> Envelope {
    Envelope {
        to: LineId::parse(to).expect("fixture id"),
        from: LineId::parse(from).expect("fixture id"),
        content_type,
    }
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x6c; 32]);
    let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1001));
    let bob = [
        LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2002)),
        LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2003)),
    ];
    let carol = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(3003));
    let group_key = GroupKey::generate(&mut rng);
    let group_public = group_key.public(GROUP_KEY_ID);
    let media_keys = [
        MediaKeyMaterial::generate(&mut rng),
        MediaKeyMaterial::generate(&mut rng),
    ];
    let text = LegacyContentType::TEXT;
    let envelopes = [
        envelope(BOB_ID, ALICE_ID, text),
        envelope(BOB_ID, ALICE_ID, LegacyContentType::LOCATION),
        envelope(BOB_ID, ALICE_ID, LegacyContentType::IMAGE),
        envelope(ALICE_ID, BOB_ID, text),
    ];
    let group_envelopes = [
        envelope(GROUP_ID, ALICE_ID, text),
        envelope(GROUP_ID, CAROL_ID, text),
        envelope(BOB_ID, ALICE_ID, text),
        envelope(GROUP_ID, ALICE_ID, LegacyContentType::IMAGE),
    ];

    let mut v1 = Vec::new();
    for (from, to, plaintext) in [
        (&alice, &bob[0], &br#"{"text":"v1 hello"}"#[..]),
        (&alice, &bob[1], b""),
        (&alice, &bob[0], &[0x42; 32]),
        (&bob[0], &alice, b"from Bob"),
    ] {
        let chunks = seal_v1(&mut rng, from, &to.public(), plaintext).expect("fixture v1");
        v1.push(Message {
            chunks,
            plaintext: plaintext.to_vec(),
            from: from.public_key(),
            to: to.public_key(),
            envelope: None,
        });
    }

    let location = location_json(&Location::new(35.6812, 139.7671).expect("location"));
    let image = media_json(&media_keys[0]);
    let mut v2 = Vec::new();
    for (from, to, env, nonce, plaintext) in [
        (&alice, &bob[0], 0, None, text_json("v2 hello")),
        (&alice, &bob[1], 1, Some([0x16; 16]), location),
        (&alice, &bob[0], 2, None, image),
        (&bob[0], &alice, 3, None, text_json("from Bob")),
    ] {
        let envelope = envelopes[env];
        let chunks = match nonce {
            None => seal_v2(&mut rng, 7, from, &to.public(), &envelope, &plaintext),
            Some(long) => {
                let mut salt = [0u8; 16];
                rng.fill_bytes(&mut salt);
                let nonce = V2Nonce::Long(long);
                seal_v2_with(&salt, &nonce, from, &to.public(), &envelope, &plaintext)
            }
        }
        .expect("fixture v2");
        v2.push(Message {
            chunks,
            plaintext,
            from: from.public_key(),
            to: to.public_key(),
            envelope: Some(envelope),
        });
    }

    let mut group = Vec::new();
    for (from, env, nonce, plaintext) in [
        (&alice, 0, None, text_json("group hello")),
        (&carol, 1, Some([0x61; 16]), text_json("from Carol")),
    ] {
        let envelope = group_envelopes[env];
        let chunks = match nonce {
            None => seal_group(&mut rng, 1, from, &group_public, &envelope, &plaintext),
            Some(long) => {
                let mut salt = [0u8; 16];
                rng.fill_bytes(&mut salt);
                let nonce = V2Nonce::Long(long);
                seal_v2_with(&salt, &nonce, from, &group_public, &envelope, &plaintext)
            }
        }
        .expect("fixture group message");
        group.push(Message {
            chunks,
            plaintext,
            from: from.public_key(),
            to: group_public.key,
            envelope: Some(envelope),
        });
    }

    // Alice and Carol each wrap the group key for Bob's key 2002.
    let wraps = [&alice, &carol]
        .into_iter()
        .map(|creator| Wrap {
            creator: creator.public_key(),
            bytes: *wrap_group_key(creator.secret_key(), &bob[0].public_key(), &group_key)
                .expect("fixture wrap")
                .as_bytes(),
            key: *group_key.to_bytes(),
        })
        .collect();

    let mut media = Vec::new();
    for (km, plaintext) in [
        (0, b"JPEG bytes".to_vec()),
        (0, Vec::new()),
        (1, (0..100u8).collect()),
    ] {
        let blob = seal_media(&media_keys[km], &plaintext).expect("fixture media");
        media.push((km, blob, plaintext));
    }

    let zero = SealingPublicKey::from_bytes([0; 32]);
    assert!(zero.has_small_order());
    let senders = [
        alice.public_key(),
        carol.public_key(),
        bob[0].public_key(),
        zero,
    ];
    Fixture {
        bob,
        group_key,
        senders,
        envelopes,
        group_envelopes,
        v1,
        v2,
        group,
        wraps,
        media_keys,
        media,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- check ------------------------------------------------------------------

/// Length-prefixed chunks: `u8(n) ‖ n bytes`, repeated; a short last chunk
/// takes what is left.
fn carve(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    while let Some((&n, rest)) = data.split_first() {
        let (chunk, tail) = rest.split_at(usize::from(n).min(rest.len()));
        chunks.push(chunk.to_vec());
        data = tail;
    }
    chunks
}

/// The inverse of `carve` for chunks of at most 255 bytes.
#[cfg(test)]
fn uncarve(chunks: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in chunks {
        out.push(u8::try_from(chunk.len()).unwrap());
        out.extend_from_slice(chunk);
    }
    out
}

/// Which message format `open` is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    V1,
    V2,
    Group,
}

/// Whether the chunk lengths are those of `format` (SPEC.md §11.2–§11.4).
fn well_formed(format: Format, chunks: &[Vec<u8>]) -> bool {
    let [salt, body, third, sender, recipient] = chunks else {
        return false;
    };
    let ids = sender.len() == 4 && recipient.len() == 4;
    match format {
        Format::V1 => {
            ids && salt.len() == 8 && third.len() == 16 && !body.is_empty() && body.len() % 16 == 0
        }
        Format::V2 | Format::Group => {
            ids && salt.len() == 16 && matches!(third.len(), 12 | 16) && body.len() >= 16
        }
    }
}

fn key_id(chunk: &[u8]) -> LegacyKeyId {
    LegacyKeyId::from_chunk(chunk).expect("a checked key-id chunk")
}

/// v1, v2 or a group message: predicted error order, and nothing but a
/// legitimate message opens.
fn open(fx: &Fixture, format: Format, param: u8, payload: &[u8]) {
    let carved = carve(payload);
    let sender = fx.senders[usize::from(param & 3)];
    let envelope = match format {
        Format::Group => fx.group_envelopes[usize::from(param >> 2) & 3],
        _ => fx.envelopes[usize::from(param >> 2) & 3],
    };
    let result = Chunks::from_vec(carved.clone()).and_then(|chunks| {
        // A checked message gives back exactly its chunks.
        match format {
            Format::V1 => {
                if let Ok(m) = V1Message::from_chunks(&chunks) {
                    assert_eq!(m.to_chunks(), chunks, "v1 chunks re-encode");
                }
                open_v1(&fx.bob, &sender, &chunks)
            }
            Format::V2 => {
                if let Ok(m) = V2Message::from_chunks(&chunks) {
                    assert_eq!(m.to_chunks(), chunks, "v2 chunks re-encode");
                }
                open_v2(&fx.bob, &sender, &envelope, &chunks)
            }
            Format::Group => open_group(&fx.group_key, GROUP_KEY_ID, &sender, &envelope, &chunks),
        }
    });
    // What `open` may give.
    let expected = if !well_formed(format, &carved) {
        Err(LegacyError::Malformed)
    } else {
        let recipient = key_id(&carved[4]);
        let known = match format {
            Format::Group => recipient == GROUP_KEY_ID,
            _ => fx.bob.iter().any(|k| k.key_id() == recipient),
        };
        if !known {
            Err(LegacyError::UnknownKey)
        } else if sender.has_small_order() {
            Err(LegacyError::NonContributory)
        } else {
            Ok(())
        }
    };
    // The recipient's public key the opener used (for v1/v2: Bob's key named
    // by the message).
    let recipient_public = |chunks: &[Vec<u8>]| match format {
        Format::Group => fx.group_key.public_key(),
        _ => {
            let id = key_id(&chunks[4]);
            fx.bob
                .iter()
                .find(|k| k.key_id() == id)
                .expect("a known key")
                .public_key()
        }
    };
    let legitimate: &[Message] = match format {
        Format::V1 => &fx.v1,
        Format::V2 => &fx.v2,
        Format::Group => &fx.group,
    };
    // The messages these bytes may open as.
    let allowed = |chunks: &[Vec<u8>]| -> Vec<&Message> {
        let me = recipient_public(chunks);
        legitimate
            .iter()
            .filter(|m| {
                let sealed = m.chunks.as_slices();
                match format {
                    // The key-id chunks are not authenticated, and SS is the
                    // same both ways (reflection).
                    Format::V1 => {
                        (0..3).all(|i| sealed[i] == &chunks[i][..])
                            && ((m.from == sender && m.to == me)
                                || (m.to == sender && m.from == me))
                    }
                    Format::V2 | Format::Group => {
                        sealed.iter().zip(chunks).all(|(a, b)| *a == &b[..])
                            && m.envelope == Some(envelope)
                            && m.from == sender
                            && m.to == me
                    }
                }
            })
            .collect()
    };
    match (result, expected) {
        (Err(e), Err(want)) => assert_eq!(e, want),
        (Ok(opened), Err(want)) => panic!("opened although {want:?} was expected: {opened:?}"),
        (Err(e), Ok(())) => {
            assert_eq!(e, LegacyError::DecryptionFailed);
            assert!(
                allowed(&carved).is_empty(),
                "a legitimate message failed to open"
            );
        }
        (Ok(opened), Ok(())) => {
            let allowed = allowed(&carved);
            assert!(
                !allowed.is_empty(),
                "FORGERY: a message nobody sealed opened: {opened:?}"
            );
            assert!(
                allowed
                    .iter()
                    .any(|m| m.plaintext.as_slice() == opened.plaintext.as_slice()),
                "opened to a plaintext nobody sealed"
            );
            assert_eq!(opened.sender_key_id, key_id(&carved[3]));
            assert_eq!(opened.recipient_key_id, key_id(&carved[4]));
        }
    }
}

/// `unwrap_group_key` at Bob's key 2002: unauthenticated CBC, modelled exactly.
fn unwrap(fx: &Fixture, param: u8, payload: &[u8]) {
    let creator = fx.senders[usize::from(param & 3)];
    let result = WrappedGroupKey::from_slice(payload)
        .and_then(|wrap| unwrap_group_key(fx.bob[0].secret_key(), &creator, &wrap));
    if payload.len() != WRAP_LEN {
        assert_eq!(result.err(), Some(LegacyError::Malformed));
        return;
    }
    if creator.has_small_order() {
        assert_eq!(result.err(), Some(LegacyError::NonContributory));
        return;
    }
    // The last two blocks decide the padding; the first only changes the key.
    let legit = fx
        .wraps
        .iter()
        .find(|w| w.creator == creator && w.bytes[16..] == payload[16..]);
    match (result, legit) {
        (Ok(key), Some(w)) => {
            let key = key.to_bytes();
            for i in 0..16 {
                assert_eq!(
                    key[16 + i],
                    w.key[16 + i] ^ payload[i] ^ w.bytes[i],
                    "second half of an unwrapped key"
                );
            }
            assert_eq!(
                key[..16] == w.key[..16],
                payload[..16] == w.bytes[..16],
                "first half of an unwrapped key"
            );
        }
        (Ok(_), None) => panic!("FORGERY: a wrap with new last blocks unwrapped"),
        (Err(e), Some(_)) => panic!("a wrap with legitimate last blocks failed: {e:?}"),
        (Err(e), None) => assert_eq!(e, LegacyError::DecryptionFailed),
    }
}

/// `open_media`: exactly the legitimate blobs of that key material open.
fn media(fx: &Fixture, param: u8, payload: &[u8]) {
    let km = usize::from(param & 1);
    let result = open_media(&fx.media_keys[km], payload);
    let legit = fx
        .media
        .iter()
        .find(|(k, blob, _)| *k == km && blob == payload);
    match (result, legit) {
        (Ok(plain), Some((_, _, want))) => assert_eq!(plain.as_slice(), want.as_slice()),
        (Ok(_), None) => panic!("FORGERY: a media blob nobody sealed opened"),
        (Err(e), Some(_)) => panic!("a legitimate media blob failed: {e:?}"),
        (Err(e), None) if payload.len() < 32 => assert_eq!(e, LegacyError::Malformed),
        (Err(e), None) => assert_eq!(e, LegacyError::DecryptionFailed),
    }
}

/// Coordinates round-trip exactly: the library's JSON reads every number back
/// to the double it wrote (serde_json's `float_roundtrip`; found by this target).
fn same_coordinate(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

fn same_location(a: &Location, b: &Location) -> bool {
    same_coordinate(a.latitude(), b.latitude())
        && same_coordinate(a.longitude(), b.longitude())
        && a.address() == b.address()
        && a.title() == b.title()
}

/// The payload parsers: no panic, agreement, and round trips.
fn payloads(param: u8, payload: &[u8]) {
    let text = parse_text(payload);
    let location = parse_location(payload);
    let key_material = parse_key_material(payload);
    if let Ok(t) = &text {
        assert_eq!(parse_text(&text_json(t)).as_ref(), Ok(t), "text round trip");
    }
    if let Ok(l) = &location {
        let back = parse_location(&location_json(l)).expect("a built location parses");
        assert!(
            same_location(&back, l),
            "location round trip: {l:?} -> {back:?}"
        );
    }
    if let Ok(km) = &key_material {
        assert_eq!(
            parse_key_material(&media_json(km)).as_ref(),
            Ok(km),
            "key material round trip"
        );
    }
    let content_type = LegacyContentType::new(CONTENT_TYPES[usize::from(param) % 8]);
    let parsed = Payload::parse(content_type, payload);
    let want = match content_type {
        LegacyContentType::TEXT => text.map(Payload::Text),
        LegacyContentType::LOCATION => location.map(Payload::Location),
        t if t.is_media() => key_material.map(Payload::Media),
        _ => Err(LegacyError::InvalidPayload),
    };
    assert_eq!(parsed, want, "Payload::parse agrees with the parsers");
    if let Ok(p) = &parsed {
        let back = Payload::parse(content_type, &p.to_json()).expect("a built payload parses");
        let same = match (&back, p) {
            (Payload::Location(a), Payload::Location(b)) => same_location(a, b),
            _ => back == *p,
        };
        assert!(same, "payload round trip: {p:?} -> {back:?}");
    }
}

/// Ids, key-id chunks, nonces and the message types' length checks.
fn readers(payload: &[u8]) {
    let valid_id = payload.len() == 33
        && matches!(payload[0], b'u' | b'c')
        && payload[1..]
            .iter()
            .all(|d| matches!(d, b'0'..=b'9' | b'a'..=b'f'));
    match LineId::from_bytes(payload) {
        Ok(id) => {
            assert!(valid_id, "accepted the id {payload:?}");
            assert_eq!(&id.as_bytes()[..], payload);
            assert_eq!(LineId::parse(id.as_str()), Ok(id));
            let kind = if payload[0] == b'c' {
                LineIdKind::Group
            } else {
                LineIdKind::User
            };
            assert!(id.kind() == kind, "id kind");
        }
        Err(e) => {
            assert!(!valid_id, "refused the id {payload:?}");
            assert_eq!(e, LegacyError::InvalidId);
        }
    }
    match LegacyKeyId::from_chunk(payload) {
        Ok(id) => assert_eq!(&id.to_be_bytes()[..], payload),
        Err(e) => {
            assert_ne!(payload.len(), 4);
            assert_eq!(e, LegacyError::Malformed);
        }
    }
    match V2Nonce::from_slice(payload) {
        Ok(nonce) => assert_eq!(nonce.as_bytes(), payload),
        Err(e) => {
            assert!(!matches!(payload.len(), 12 | 16));
            assert_eq!(e, LegacyError::Malformed);
        }
    }
    let carved = carve(payload);
    match Chunks::from_vec(carved.clone()) {
        Ok(chunks) => {
            assert_eq!(carved.len(), 5);
            for (format, ok) in [
                (
                    Format::V1,
                    V1Message::from_chunks(&chunks).map(|m| m.to_chunks()),
                ),
                (
                    Format::V2,
                    V2Message::from_chunks(&chunks).map(|m| m.to_chunks()),
                ),
            ] {
                match ok {
                    Ok(back) => {
                        assert!(well_formed(format, &carved));
                        assert_eq!(back, chunks);
                    }
                    Err(e) => {
                        assert!(!well_formed(format, &carved));
                        assert_eq!(e, LegacyError::Malformed);
                    }
                }
            }
        }
        Err(e) => {
            assert_ne!(carved.len(), 5);
            assert_eq!(e, LegacyError::Malformed);
        }
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    let param = selector >> 4;
    match (selector & 0x0f) % OPERATIONS {
        0 => open(fx, Format::V1, param, payload),
        1 => open(fx, Format::V2, param, payload),
        2 => open(fx, Format::Group, param, payload),
        3 => unwrap(fx, param, payload),
        4 => media(fx, param, payload),
        5 => payloads(param, payload),
        _ => readers(payload),
    }
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// What an input gives: the operation and "Ok" or the error's name (for
/// the readers: of `LineId::from_bytes`).
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> String {
    let Some((&selector, payload)) = data.split_first() else {
        return "empty input".into();
    };
    let fx = fixture();
    let param = selector >> 4;
    let sender = fx.senders[usize::from(param & 3)];
    let chunks = || Chunks::from_vec(carve(payload));
    let (operation, result) = match (selector & 0x0f) % OPERATIONS {
        0 => (
            "v1",
            chunks().and_then(|c| open_v1(&fx.bob, &sender, &c).map(|_| ())),
        ),
        1 => {
            let envelope = fx.envelopes[usize::from(param >> 2) & 3];
            (
                "v2",
                chunks().and_then(|c| open_v2(&fx.bob, &sender, &envelope, &c).map(|_| ())),
            )
        }
        2 => {
            let envelope = fx.group_envelopes[usize::from(param >> 2) & 3];
            let open = |c: Chunks| {
                open_group(&fx.group_key, GROUP_KEY_ID, &sender, &envelope, &c).map(|_| ())
            };
            ("group", chunks().and_then(open))
        }
        3 => (
            "unwrap",
            WrappedGroupKey::from_slice(payload)
                .and_then(|w| unwrap_group_key(fx.bob[0].secret_key(), &sender, &w).map(|_| ())),
        ),
        4 => (
            "media",
            open_media(&fx.media_keys[usize::from(param & 1)], payload).map(|_| ()),
        ),
        5 => {
            let content_type = LegacyContentType::new(CONTENT_TYPES[usize::from(param) % 8]);
            ("payload", Payload::parse(content_type, payload).map(|_| ()))
        }
        _ => ("readers", LineId::from_bytes(payload).map(|_| ())),
    };
    match result {
        Ok(()) => format!("{operation} Ok"),
        Err(e) => format!("{operation} {}", e.name()),
    }
}

/// The seeds, from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    // selector = parameter << 4 | operation
    let input = |operation: u8, param: u8, payload: &[u8]| -> Vec<u8> {
        [&[param << 4 | operation][..], payload].concat()
    };
    let message = |m: &Message| uncarve(&m.chunks.as_slices());
    let edited = |m: &Message, chunk: usize, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut chunks: Vec<Vec<u8>> = m.chunks.as_slices().iter().map(|c| c.to_vec()).collect();
        edit(&mut chunks[chunk]);
        let slices: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        uncarve(&slices)
    };
    // Senders: 0 Alice, 1 Carol, 2 Bob's key 2002, 3 the zero point.
    // v1 reflection: Bob's message to Alice with the key-id chunks swapped.
    let reflected = {
        let [salt, c, mac, sender, recipient] = fx.v1[3].chunks.as_slices();
        uncarve(&[salt, c, mac, recipient, sender])
    };
    let flip_first = |v: &mut Vec<u8>| v[0] ^= 0x01;
    let wrap = |i: usize| fx.wraps[i].bytes.to_vec();
    let mut wrap_c0 = wrap(0);
    wrap_c0[3] ^= 0x40;
    let mut media_tag = fx.media[0].1.clone();
    *media_tag.last_mut().unwrap() ^= 0x01;
    let group_id = GROUP_ID.as_bytes();
    let four_chunks = {
        let [a, b, c, d, _] = fx.v1[0].chunks.as_slices();
        uncarve(&[a, b, c, d])
    };
    vec![
        ("v1_alice_to_2002", input(0, 0, &message(&fx.v1[0]))),
        ("v1_alice_to_2003_empty", input(0, 0, &message(&fx.v1[1]))),
        ("v1_reflected_bob_to_alice", input(0, 0, &reflected)),
        (
            "v1_bob_to_alice_unknown_key",
            input(0, 0, &message(&fx.v1[3])),
        ),
        (
            "v1_mac_bit",
            input(0, 0, &edited(&fx.v1[2], 2, &flip_first)),
        ),
        ("v1_zero_sender", input(0, 3, &message(&fx.v1[0]))),
        ("v2_text_nonce12", input(1, 0, &message(&fx.v2[0]))),
        ("v2_location_nonce16", input(1, 1 << 2, &message(&fx.v2[1]))),
        ("v2_image", input(1, 2 << 2, &message(&fx.v2[2]))),
        ("v2_wrong_envelope", input(1, 1 << 2, &message(&fx.v2[0]))),
        (
            "v2_nonce13",
            input(1, 0, &edited(&fx.v2[0], 2, &|v: &mut Vec<u8>| v.push(0))),
        ),
        ("group_alice", input(2, 0, &message(&fx.group[0]))),
        (
            "group_carol_nonce16",
            input(2, 1 | 1 << 2, &message(&fx.group[1])),
        ),
        (
            "group_wrong_key_id",
            input(2, 0, &edited(&fx.group[0], 4, &|v: &mut Vec<u8>| v[3] ^= 1)),
        ),
        ("unwrap_alice", input(3, 0, &wrap(0))),
        ("unwrap_first_block_bit", input(3, 0, &wrap_c0)),
        ("unwrap_carol_wrap_as_alice", input(3, 0, &wrap(1))),
        ("media_legit", input(4, 0, &fx.media[0].1)),
        ("media_tag_bit", input(4, 0, &media_tag)),
        (
            "payload_location_float_1ulp",
            input(
                5,
                5,
                br#"{"latitude":3.333333333333333e120,"longitude":139.7671}"#,
            ),
        ),
        ("payload_location", input(5, 5, &fx.v2[1].plaintext)),
        ("payload_image", input(5, 1, &fx.v2[2].plaintext)),
        ("readers_group_id", input(6, 0, group_id)),
        ("v1_four_chunks", input(0, 0, &four_chunks)),
    ]
}
