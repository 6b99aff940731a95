//! Fuzz target: the legacy LINE Letter Sealing openers and parsers (SPEC.md
//! §11, crate `letterseal-legacy`): `open_v1`, `open_v2` (12- and 16-byte nonces),
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
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/legacy_open/` are generated from the fixture
//! (`seeds` below); regenerate them after a change to the fixture or the
//! format (`cargo test -p letterseal-repo-tests --test fuzz_corpus -- --ignored
//! regenerate_legacy_open_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use letterseal_legacy::LegacyError;
use letterseal_legacy::chunks::Chunks;
use letterseal_legacy::group::{
    GroupKey, WRAP_LEN, WrappedGroupKey, open_group, seal_group_with, unwrap_group_key,
    wrap_group_key,
};
use letterseal_legacy::ids::{
    KeyIdEncoding, LegacyContentType, LegacyKeyId, LineId, LineIdKind, detect_key_id_encoding,
};
use letterseal_legacy::keys::LegacyKeyPair;
use letterseal_legacy::keys::X25519PublicKey;
use letterseal_legacy::media::{
    MediaKeyMaterial, MediaSealer, MediaVerifier, open_media, seal_media,
};
use letterseal_legacy::payload::{
    Location, Payload, location_json, media_json, parse_key_material, parse_location, parse_text,
    text_json,
};
use letterseal_legacy::session::{
    GroupMemberSession, GroupSenderSession, LegacyVersion, PeerSession, SealOptions,
};
use letterseal_legacy::v1::{V1Message, open_v1, seal_v1};
use letterseal_legacy::v2::{Envelope, V2Message, V2Nonce, open_v2, seal_v2_with};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

// ---- fixture ----------------------------------------------------------------

const ALICE_ID: &str = "u000000000000000000000000000a11ce";
const BOB_ID: &str = "u00000000000000000000000000000b0b";
const CAROL_ID: &str = "u000000000000000000000000000ca201";
const GROUP_ID: &str = "c0000000000000000000000000000f00d";

/// The model's small-order test: the core crate's (SPEC.md §4.3), an oracle
/// independent of the legacy crate's X25519.
fn has_small_order(key: &X25519PublicKey) -> bool {
    letterseal::keys::SealingPublicKey::from_bytes(key.to_bytes()).has_small_order()
}

/// The group key id the server assigned.
const GROUP_KEY_ID: LegacyKeyId = LegacyKeyId::new(77);
const DAVE_ID: &str = "u0000000000000000000000000000da7e";
const ERIN_ID: &str = "u000000000000000000000000000e0e1e";
/// Dave's and Erin's key ids take four compact bytes, like big-endian chunks.
const DAVE_KEY_ID: LegacyKeyId = LegacyKeyId::new(2_500_001);
const ERIN_KEY_ID: LegacyKeyId = LegacyKeyId::new(2_500_002);
/// Number of operations (the selector's low nibble, mod this).
const OPERATIONS: u8 = 10;
/// The content types the session operation picks from.
const SESSION_CONTENT_TYPES: [i32; 4] = [0, 15, 1, 7];
/// The content types the payload operation picks from (high nibble, mod 8).
const CONTENT_TYPES: [i32; 8] = [0, 1, 2, 3, 14, 15, 7, -1];

/// A message sealed at setup.
struct Message {
    chunks: Chunks,
    plaintext: Vec<u8>,
    /// The sender's and the recipient's public keys (the group public key
    /// for group messages).
    from: X25519PublicKey,
    to: X25519PublicKey,
    envelope: Option<Envelope>,
}

/// A group key wrap made at setup, for Bob's key 2002.
struct Wrap {
    creator: X25519PublicKey,
    bytes: [u8; WRAP_LEN],
    key: [u8; 32],
}

struct Fixture {
    /// Bob's key pairs (2002, 2003).
    bob: [LegacyKeyPair; 2],
    group_key: GroupKey,
    /// Alice, Carol, Bob's key 2002, the all-zero point.
    senders: [X25519PublicKey; 4],
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
    /// Erin's session with Dave, and Carol's group messages at a member.
    at_erin: PeerSession,
    from_carol: GroupMemberSession,
    /// Messages sealed through sessions.
    sessions: Vec<SessionMessage>,
}

/// Which session a message was sealed for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SessionKind {
    /// 1:1 between Dave and Erin, either way.
    Peer(LegacyVersion),
    /// Carol to the group.
    Group,
}

/// A message sealed through a session at setup.
struct SessionMessage {
    kind: SessionKind,
    content_type: LegacyContentType,
    chunks: Chunks,
    plaintext: Vec<u8>,
    /// True for Erin's messages to Dave (they open at Erin only by v1 reflection).
    from_erin: bool,
}

fn envelope(to: &str, from: &str, content_type: LegacyContentType) -> Envelope {
    Envelope {
        to: LineId::parse(to).expect("fixture id"),
        from: LineId::parse(from).expect("fixture id"),
        content_type,
    }
}

/// A salt, then the whitepaper's nonce `u64be(counter) ‖ 4 random bytes`,
/// drawn in that order.
fn counter_nonce(rng: &mut ChaCha20Rng, counter: u64) -> ([u8; 16], V2Nonce) {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let mut random = [0u8; 4];
    rng.fill_bytes(&mut random);
    (salt, V2Nonce::from_counter(counter, random))
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
            None => {
                let (salt, nonce) = counter_nonce(&mut rng, 7);
                seal_v2_with(&salt, &nonce, from, &to.public(), &envelope, &plaintext)
            }
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
            None => {
                let (salt, nonce) = counter_nonce(&mut rng, 1);
                seal_group_with(&salt, &nonce, from, &group_public, &envelope, &plaintext)
            }
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

    // Sessions (drawn last, so the fixture above keeps its bytes).
    let dave = LegacyKeyPair::generate(&mut rng, DAVE_KEY_ID);
    let erin = LegacyKeyPair::generate(&mut rng, ERIN_KEY_ID);
    let line = |id: &str| LineId::parse(id).expect("fixture id");
    let at_dave = |options| {
        PeerSession::new(&dave, line(DAVE_ID), &erin.public(), line(ERIN_ID))
            .expect("fixture session")
            .with_options(options)
    };
    let erin_session = || {
        PeerSession::new(&erin, line(ERIN_ID), &dave.public(), line(DAVE_ID))
            .expect("fixture session")
    };
    let carol_sends = |options| {
        GroupSenderSession::new(&carol, line(CAROL_ID), &group_public, line(GROUP_ID))
            .expect("fixture session")
            .with_options(options)
    };
    let from_carol = GroupMemberSession::new(
        &group_key,
        GROUP_KEY_ID,
        line(GROUP_ID),
        &carol.public(),
        line(CAROL_ID),
    )
    .expect("fixture session");
    let compact = SealOptions {
        key_id_encoding: KeyIdEncoding::Compact,
        ..SealOptions::default()
    };
    let twelve = SealOptions {
        nonce_length: letterseal_legacy::v2::NonceLength::Twelve,
        ..SealOptions::default()
    };
    let location = location_json(
        &Location::new(-33.8688, 151.2093)
            .expect("location")
            .with_title("Opera House"),
    );
    let mut sessions = Vec::new();
    let peer_v2 = SessionKind::Peer(LegacyVersion::V2);
    let peer_v1 = SessionKind::Peer(LegacyVersion::V1);
    for (kind, options, content_type, plaintext, from_erin) in [
        (peer_v2, compact, 0, text_json("session hello"), false),
        (peer_v2, twelve, 15, location, false),
        (peer_v2, compact, 7, br#"{"STKID":"1"}"#.to_vec(), false),
        (
            peer_v2,
            SealOptions::default(),
            1,
            media_json(&media_keys[1]),
            false,
        ),
        (peer_v2, compact, 0, b"not json".to_vec(), false),
        (peer_v1, compact, 0, text_json("v1 session"), false),
        (peer_v1, compact, 0, text_json("from Erin"), true),
        (
            SessionKind::Group,
            compact,
            0,
            text_json("Carol, compact"),
            false,
        ),
        (
            SessionKind::Group,
            SealOptions::default(),
            1,
            media_json(&media_keys[0]),
            false,
        ),
    ] {
        let content_type = LegacyContentType::new(content_type);
        let payload = || Payload::parse_any(content_type, &plaintext).expect("fixture payload");
        let chunks = match (kind, from_erin) {
            (SessionKind::Peer(LegacyVersion::V2), _) => {
                at_dave(options).seal_bytes(&mut rng, content_type, &plaintext)
            }
            (SessionKind::Peer(LegacyVersion::V1), false) => {
                at_dave(options).seal_v1(&mut rng, content_type, &payload())
            }
            (SessionKind::Peer(LegacyVersion::V1), true) => erin_session()
                .with_options(options)
                .seal_v1(&mut rng, content_type, &payload()),
            (SessionKind::Group, _) => {
                carol_sends(options).seal_bytes(&mut rng, content_type, &plaintext)
            }
        }
        .expect("fixture session message");
        sessions.push(SessionMessage {
            kind,
            content_type,
            chunks,
            plaintext,
            from_erin,
        });
    }

    let zero = X25519PublicKey::from_bytes([0; 32]);
    assert!(has_small_order(&zero));
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
        at_erin: erin_session(),
        from_carol,
        sessions,
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
        } else if has_small_order(&sender) {
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
    if has_small_order(&creator) {
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

// ---- key ids (SPEC.md §11.1) ---------------------------------------------------

/// An independent model of the compact key-id decoder: where the varint ends
/// decides the error, then the value.
fn model_compact(chunk: &[u8]) -> Result<i32, LegacyError> {
    match chunk.iter().position(|b| b & 0x80 == 0) {
        None if chunk.len() >= 5 => Err(LegacyError::TooLong),
        None => Err(LegacyError::Truncated),
        Some(end) if end >= 5 => Err(LegacyError::TooLong),
        Some(end) if end + 1 < chunk.len() => Err(LegacyError::TrailingData),
        Some(end) if end > 0 && chunk[end] == 0 => Err(LegacyError::NonMinimal),
        Some(end) => {
            let value = chunk[..=end]
                .iter()
                .rev()
                .fold(0u64, |v, b| v << 7 | u64::from(b & 0x7f));
            let zigzag = u32::try_from(value).map_err(|_| LegacyError::OutOfRange)?;
            let magnitude = i64::from(zigzag >> 1);
            let id = if zigzag & 1 == 1 {
                -magnitude - 1
            } else {
                magnitude
            };
            Ok(i32::try_from(id).expect("a 32-bit zigzag value"))
        }
    }
}

/// The detection rule of SPEC.md §11.1, written from the text.
fn model_detect(
    sender: &[u8],
    recipient: &[u8],
    held: &dyn Fn(i32) -> bool,
) -> Result<KeyIdEncoding, LegacyError> {
    let be = |c: &[u8]| <[u8; 4]>::try_from(c).ok().map(i32::from_be_bytes);
    let be_candidate = be(sender).and(be(recipient));
    let (s, r) = (model_compact(sender), model_compact(recipient));
    let compact_candidate = match (s, r) {
        (Ok(_), Ok(r)) => Some(r),
        _ => None,
    };
    match (be_candidate, compact_candidate) {
        (Some(_), None) => Ok(KeyIdEncoding::BigEndian),
        (None, Some(_)) => Ok(KeyIdEncoding::Compact),
        (Some(b), Some(c)) => Ok(if held(b) || !held(c) {
            KeyIdEncoding::BigEndian
        } else {
            KeyIdEncoding::Compact
        }),
        (None, None) => match (sender.len() != 4, s, recipient.len() != 4, r) {
            (true, Err(e), _, _) | (_, _, true, Err(e)) => Err(e),
            _ => Err(LegacyError::Malformed),
        },
    }
}

/// Both decoders against their models, round trips, and detection on the
/// carved chunks with held ids picked by `param`.
fn key_ids(param: u8, payload: &[u8]) {
    let compact = LegacyKeyId::from_compact_chunk(payload);
    assert_eq!(
        compact.map(LegacyKeyId::get),
        model_compact(payload),
        "compact decoding of {payload:02x?}"
    );
    if let Ok(id) = compact {
        assert_eq!(id.encode(KeyIdEncoding::Compact).as_bytes(), payload);
        let be = id.encode(KeyIdEncoding::BigEndian);
        assert_eq!(
            LegacyKeyId::decode(be.as_bytes(), KeyIdEncoding::BigEndian),
            Ok(id)
        );
    }
    if let Ok(id) = LegacyKeyId::decode(payload, KeyIdEncoding::BigEndian) {
        let back = id.encode(KeyIdEncoding::Compact);
        assert_eq!(LegacyKeyId::from_compact_chunk(back.as_bytes()), Ok(id));
        assert!((1..=5).contains(&back.as_bytes().len()));
    }
    let carved = carve(payload);
    if let [sender, recipient] = &carved[..] {
        // Held ids: the big-endian and/or compact readings of the recipient.
        let be_reading = <[u8; 4]>::try_from(&recipient[..])
            .ok()
            .map(i32::from_be_bytes);
        let compact_reading = model_compact(recipient).ok();
        let held = |id: i32| {
            (param & 1 == 1 && be_reading == Some(id))
                || (param & 2 == 2 && compact_reading == Some(id))
        };
        let detected = detect_key_id_encoding(sender, recipient, |id| held(id.get()));
        assert_eq!(
            detected,
            model_detect(sender, recipient, &held),
            "detection"
        );
        if let Ok(encoding) = detected {
            // Both chunks read in the detected encoding.
            assert!(LegacyKeyId::decode(sender, encoding).is_ok());
            assert!(LegacyKeyId::decode(recipient, encoding).is_ok());
        }
    }
}

// ---- media streams (SPEC.md §11.5) --------------------------------------------

/// The streamed sealer and the two-pass opener agree with the whole-buffer
/// functions for any blob and piece size; pass 2 refuses trailing input and
/// reports truncation; random access agrees with the plaintext.
fn media_stream(fx: &Fixture, param: u8, payload: &[u8]) {
    let Some((&size, blob)) = payload.split_first() else {
        return;
    };
    let piece = usize::from(size % 64) + 1;
    let km = &fx.media_keys[usize::from(param & 1)];
    let whole = open_media(km, blob);
    let mut verifier = MediaVerifier::new(km);
    for part in blob.chunks(piece) {
        verifier.update(part).expect("no blob here is 64 GiB");
    }
    let verified = verifier.finish();
    match (&whole, &verified) {
        (Err(a), Err(b)) => assert_eq!(a, b, "pass 1 and the whole-buffer open"),
        (Ok(plain), Ok(v)) => {
            assert_eq!(v.ciphertext_len(), plain.len() as u64);
            // Pass 2, in pieces; checked.
            let mut out = blob[..plain.len()].to_vec();
            let mut pass2 = v.checked_decryptor();
            for part in out.chunks_mut(piece) {
                pass2
                    .decrypt_in_place(part)
                    .expect("within the verified length");
            }
            let mut extra = [0x5a_u8];
            assert_eq!(
                pass2.decrypt_in_place(&mut extra),
                Err(LegacyError::TrailingData)
            );
            assert_eq!(extra, [0x5a], "a refused piece is untouched");
            pass2.finish().expect("the same bytes as pass 1");
            assert_eq!(out.as_slice(), plain.as_slice());
            // Ending early.
            if !plain.is_empty() {
                let mut short = v.decryptor();
                let mut first = blob[..plain.len() - 1].to_vec();
                short.decrypt_in_place(&mut first).expect("a prefix");
                assert_eq!(short.finish(), Err(LegacyError::Truncated));
            }
            // Random access: a range chosen by the piece size.
            let start = piece.min(plain.len());
            let end = (start + piece).min(plain.len());
            let mut range = blob[start..end].to_vec();
            v.decrypt_at(start as u64, &mut range).expect("in range");
            assert_eq!(range.as_slice(), &plain[start..end]);
            let mut beyond = [0u8; 1];
            assert_eq!(
                v.decrypt_at(plain.len() as u64, &mut beyond),
                Err(LegacyError::TrailingData)
            );
            // Sealing the plaintext in pieces gives the blob back.
            let mut sealer = MediaSealer::new(km);
            let mut again = plain.to_vec();
            for part in again.chunks_mut(piece) {
                sealer.encrypt_in_place(part).expect("small");
            }
            again.extend_from_slice(&sealer.finish());
            assert_eq!(again.as_slice(), blob, "the streamed seal");
        }
        _ => panic!("pass 1 and the whole-buffer open disagree"),
    }
    // As for `media`: only legitimate blobs open.
    let legit = fx
        .media
        .iter()
        .any(|(k, b, _)| *k == usize::from(param & 1) && b.as_slice() == blob);
    assert_eq!(whole.is_ok(), legit, "FORGERY or a legitimate blob refused");
}

// ---- sessions (SPEC.md §11.9) --------------------------------------------------

/// Which session opens, as what: (kind, the recipient key id it expects, the
/// sender key id it expects).
fn session_for(param: u8) -> (SessionKind, LegacyKeyId, LegacyKeyId) {
    match param & 3 {
        1 => (
            SessionKind::Peer(LegacyVersion::V1),
            ERIN_KEY_ID,
            DAVE_KEY_ID,
        ),
        2 => (SessionKind::Group, GROUP_KEY_ID, LegacyKeyId::new(3003)),
        _ => (
            SessionKind::Peer(LegacyVersion::V2),
            ERIN_KEY_ID,
            DAVE_KEY_ID,
        ),
    }
}

fn session_open(
    fx: &Fixture,
    kind: SessionKind,
    content_type: LegacyContentType,
    chunks: &Chunks,
) -> Result<letterseal_legacy::session::Received, LegacyError> {
    match kind {
        SessionKind::Peer(version) => fx.at_erin.open(version, content_type, chunks),
        SessionKind::Group => fx.from_carol.open(content_type, chunks),
    }
}

/// A session opens exactly the legitimate messages (whatever the key-id
/// encoding: the AAD holds the integers; for v1 also reflected ones), with
/// their payload; errors come in the order of SPEC.md §11.9.
fn sessions(fx: &Fixture, param: u8, payload: &[u8]) {
    let (kind, recipient_id, sender_id) = session_for(param);
    let content_type = LegacyContentType::new(SESSION_CONTENT_TYPES[usize::from(param >> 2) & 3]);
    let carved = carve(payload);
    let result = Chunks::from_vec(carved.clone())
        .and_then(|chunks| session_open(fx, kind, content_type, &chunks));
    // The predicted error before any cryptography.
    let predicted = (|| {
        let [salt, body, third, sender, recipient] = &carved[..] else {
            return Err(LegacyError::Malformed);
        };
        let encoding = model_detect(sender, recipient, &|id| id == recipient_id.get())?;
        let read = |c: &[u8]| LegacyKeyId::decode(c, encoding).expect("detected");
        let lengths_ok = match kind {
            SessionKind::Peer(LegacyVersion::V1) => {
                salt.len() == 8 && third.len() == 16 && !body.is_empty() && body.len() % 16 == 0
            }
            _ => salt.len() == 16 && matches!(third.len(), 12 | 16) && body.len() >= 16,
        };
        if !lengths_ok {
            return Err(LegacyError::Malformed);
        }
        if (read(sender), read(recipient)) != (sender_id, recipient_id) {
            return Err(LegacyError::UnknownKey);
        }
        Ok(())
    })();
    // The plaintexts of the legitimate messages these chunks may be: the same
    // salt, body and third chunk (v2/groups: and content type; the ids
    // already matched). Carol's group messages include those of the fixture
    // above, sealed without a session.
    let same = |chunks: &Chunks| {
        let sealed = chunks.as_slices();
        carved.len() == 5 && (0..3).all(|i| sealed[i] == &carved[i][..])
    };
    let mut legit: Vec<&[u8]> = fx
        .sessions
        .iter()
        .filter(|m| {
            m.kind == kind
                && same(&m.chunks)
                && match kind {
                    // Reflection: Erin's own v1 message to Dave opens at Erin.
                    SessionKind::Peer(LegacyVersion::V1) => true,
                    _ => m.content_type == content_type && !m.from_erin,
                }
        })
        .map(|m| m.plaintext.as_slice())
        .collect();
    if kind == SessionKind::Group {
        let carols = envelope(GROUP_ID, CAROL_ID, content_type);
        legit.extend(
            fx.group
                .iter()
                .filter(|m| m.envelope == Some(carols) && same(&m.chunks))
                .map(|m| m.plaintext.as_slice()),
        );
    }
    match (result, predicted) {
        (Err(e), Err(want)) => assert_eq!(e, want, "predicted error"),
        (Ok(_), Err(want)) => panic!("opened although {want:?} was expected"),
        (Err(e), Ok(())) => {
            if legit.is_empty() {
                assert_eq!(e, LegacyError::DecryptionFailed);
            } else {
                // Authentic, so only the payload can fail.
                assert_eq!(e, LegacyError::InvalidPayload);
                assert!(
                    legit
                        .iter()
                        .all(|m| Payload::parse_any(content_type, m).is_err())
                );
            }
        }
        (Ok(received), Ok(())) => {
            assert!(
                !legit.is_empty(),
                "FORGERY: a session opened a message nobody sealed"
            );
            assert!(
                legit
                    .iter()
                    .any(|m| Payload::parse_any(content_type, m).as_ref() == Ok(&received.payload)),
                "opened to a payload nobody sealed"
            );
            assert_eq!(received.content_type, content_type);
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
        6 => readers(payload),
        7 => key_ids(param, payload),
        8 => media_stream(fx, param, payload),
        _ => sessions(fx, param, payload),
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

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
        6 => ("readers", LineId::from_bytes(payload).map(|_| ())),
        7 => (
            "key-id",
            LegacyKeyId::from_compact_chunk(payload).map(|_| ()),
        ),
        8 => (
            "media-stream",
            payload
                .split_first()
                .map_or(Err(LegacyError::Malformed), |(_, blob)| {
                    let mut verifier = MediaVerifier::new(&fx.media_keys[usize::from(param & 1)]);
                    verifier
                        .update(blob)
                        .and_then(|()| verifier.finish())
                        .map(|_| ())
                }),
        ),
        _ => {
            let (kind, _, _) = session_for(param);
            let content_type =
                LegacyContentType::new(SESSION_CONTENT_TYPES[usize::from(param >> 2) & 3]);
            (
                "session",
                chunks().and_then(|c| session_open(fx, kind, content_type, &c).map(|_| ())),
            )
        }
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
    let mut seeds = vec![
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
    ];
    seeds.extend(new_seeds(fx));
    seeds
}

/// Seeds of the key-id, media-stream and session operations (7, 8, 9).
#[cfg(test)]
fn new_seeds(fx: &Fixture) -> Vec<(&'static str, Vec<u8>)> {
    let input = |operation: u8, param: u8, payload: &[u8]| -> Vec<u8> {
        [&[param << 4 | operation][..], payload].concat()
    };
    let compact = |id: i32| {
        LegacyKeyId::new(id)
            .encode(KeyIdEncoding::Compact)
            .as_bytes()
            .to_vec()
    };
    let ambiguous = uncarve(&[&compact(3_000_000), &compact(2_500_000)]);
    let stream = |piece: u8, blob: &[u8]| [&[piece][..], blob].concat();
    let mut tampered = fx.media[2].1.clone();
    tampered[3] ^= 0x20;
    // Session messages: param = session (0 v2, 1 v1, 2 group) | content type index << 2.
    let msg = |i: usize| uncarve(&fx.sessions[i].chunks.as_slices());
    let edited = |i: usize, edit: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let mut chunks: Vec<Vec<u8>> = fx.sessions[i]
            .chunks
            .as_slices()
            .iter()
            .map(|c| c.to_vec())
            .collect();
        edit(&mut chunks);
        let slices: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        uncarve(&slices)
    };
    let to_be = |chunks: &mut Vec<Vec<u8>>| {
        for chunk in &mut chunks[3..] {
            let id = LegacyKeyId::from_compact_chunk(chunk).unwrap();
            *chunk = id.to_be_bytes().to_vec();
        }
    };
    vec![
        ("keyid_compact_1001", input(7, 0, &compact(1001))),
        ("keyid_compact_min", input(7, 0, &compact(i32::MIN))),
        ("keyid_truncated", input(7, 0, &[0x80])),
        ("keyid_too_long", input(7, 0, &[0xff; 6])),
        ("keyid_trailing", input(7, 0, &[0x02, 0x00])),
        ("keyid_non_minimal", input(7, 0, &[0x80, 0x00])),
        (
            "keyid_out_of_range",
            input(7, 0, &[0xff, 0xff, 0xff, 0xff, 0x10]),
        ),
        (
            "keyid_detect_ambiguous_compact_held",
            input(7, 2, &ambiguous),
        ),
        ("keyid_detect_ambiguous_be_held", input(7, 1, &ambiguous)),
        (
            "stream_legit_piece8",
            input(8, 0, &stream(7, &fx.media[0].1)),
        ),
        (
            "stream_legit_empty",
            input(8, 0, &stream(0, &fx.media[1].1)),
        ),
        (
            "stream_legit_100_piece33",
            input(8, 1, &stream(32, &fx.media[2].1)),
        ),
        ("stream_ciphertext_bit", input(8, 1, &stream(15, &tampered))),
        ("stream_too_short", input(8, 0, &stream(3, &[0; 20]))),
        ("session_v2_compact_text", input(9, 0, &msg(0))),
        ("session_v2_nonce12_location", input(9, 1 << 2, &msg(1))),
        ("session_v2_other_content_type", input(9, 3 << 2, &msg(2))),
        ("session_v2_media", input(9, 2 << 2, &msg(3))),
        ("session_v2_not_json", input(9, 0, &msg(4))),
        ("session_v1_compact", input(9, 1, &msg(5))),
        (
            "session_v1_reflected",
            input(9, 1, &edited(6, &|c: &mut Vec<Vec<u8>>| c.swap(3, 4))),
        ),
        ("session_v1_from_erin_unknown_key", input(9, 1, &msg(6))),
        ("session_group_compact", input(9, 2, &msg(7))),
        ("session_group_media", input(9, 2 | 2 << 2, &msg(8))),
        (
            "session_v2_reencoded_big_endian",
            input(9, 0, &edited(0, &to_be)),
        ),
        (
            "session_v2_tag_bit",
            input(9, 0, &edited(0, &|c: &mut Vec<Vec<u8>>| c[1][0] ^= 1)),
        ),
        ("session_v2_wrong_content_type", input(9, 1 << 2, &msg(0))),
        (
            "session_v2_key_id_non_minimal",
            input(
                9,
                0,
                &edited(0, &|c: &mut Vec<Vec<u8>>| c[4] = vec![0x80, 0x00]),
            ),
        ),
        (
            "session_v2_mixed_encodings",
            input(
                9,
                0,
                &edited(0, &|c: &mut Vec<Vec<u8>>| {
                    c[3] = DAVE_KEY_ID.to_be_bytes().to_vec()
                }),
            ),
        ),
        ("session_group_message_at_peer", input(9, 0, &msg(7))),
        (
            "session_group_fixture_message_without_session",
            input(9, 2, &uncarve(&fx.group[1].chunks.as_slices())),
        ),
        (
            "session_group_mixed_encodings",
            input(
                9,
                2,
                &edited(7, &|c: &mut Vec<Vec<u8>>| {
                    c[3] = LegacyKeyId::new(3003).to_be_bytes().to_vec();
                }),
            ),
        ),
        (
            "session_v2_four_chunks",
            input(
                9,
                0,
                &edited(0, &|c: &mut Vec<Vec<u8>>| {
                    c.pop();
                }),
            ),
        ),
    ]
}
