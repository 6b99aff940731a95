//! Property tests of the legacy drop-in pieces (SPEC.md §11.1, §11.5, §11.9):
//! key-id encodings, sessions and streamed media, over arbitrary inputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal_legacy::LegacyError;
use letterseal_legacy::chunks::Chunks;
use letterseal_legacy::ids::{
    KeyIdEncoding, LegacyContentType, LegacyKeyId, LineId, detect_key_id_encoding,
};
use letterseal_legacy::keys::{LegacyKeyPair, LegacyPrivateKey, RawScalarKeyPair};
use letterseal_legacy::media::{
    MediaKeyMaterial, MediaSealer, MediaVerifier, open_media, seal_media,
};
use letterseal_legacy::session::{LegacyVersion, PeerSession, SealOptions};
use letterseal_legacy::v2::NonceLength;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const ALICE: &str = "u000000000000000000000000000a11ce";
const BOB: &str = "u00000000000000000000000000000b0b";

fn encodings() -> impl Strategy<Value = KeyIdEncoding> {
    prop_oneof![Just(KeyIdEncoding::BigEndian), Just(KeyIdEncoding::Compact)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_key_id_round_trips(id in any::<i32>(), encoding in encodings()) {
        let id = LegacyKeyId::new(id);
        let chunk = id.encode(encoding);
        prop_assert_eq!(LegacyKeyId::decode(chunk.as_bytes(), encoding), Ok(id));
        let len = chunk.as_bytes().len();
        match encoding {
            KeyIdEncoding::BigEndian => prop_assert_eq!(len, 4),
            // Thrift compact: 7 bits per byte of zigzag(id).
            KeyIdEncoding::Compact => {
                let zigzag = ((id.get() << 1) ^ (id.get() >> 31)) as u32;
                let bits = 32 - zigzag.leading_zeros() as usize;
                prop_assert_eq!(len, bits.div_ceil(7).max(1));
            }
        }
    }

    #[test]
    fn accepted_compact_chunks_are_canonical(chunk in proptest::collection::vec(any::<u8>(), 0..8)) {
        match LegacyKeyId::from_compact_chunk(&chunk) {
            Ok(id) => {
                let again = id.encode(KeyIdEncoding::Compact);
                prop_assert_eq!(again.as_bytes(), chunk.as_slice());
            },
            Err(e) => prop_assert!(matches!(
                e,
                LegacyError::Truncated
                    | LegacyError::TooLong
                    | LegacyError::TrailingData
                    | LegacyError::NonMinimal
                    | LegacyError::OutOfRange
            )),
        }
    }

    #[test]
    fn detection_recovers_the_sender_encoding(
        sender in any::<i32>(),
        recipient in any::<i32>(),
        encoding in encodings(),
    ) {
        // The opener holds the recipient key: detection finds the encoding the
        // chunks were written in whenever that reading is the held id.
        let s = LegacyKeyId::new(sender).encode(encoding);
        let r = LegacyKeyId::new(recipient).encode(encoding);
        let held = LegacyKeyId::new(recipient);
        let detected = detect_key_id_encoding(s.as_bytes(), r.as_bytes(), |id| id == held).unwrap();
        let read = LegacyKeyId::decode(r.as_bytes(), detected).unwrap();
        prop_assert_eq!(read, held);
        prop_assert_eq!(
            LegacyKeyId::decode(s.as_bytes(), detected).unwrap(),
            LegacyKeyId::new(sender)
        );
    }

    #[test]
    fn sessions_round_trip_any_plaintext(
        plaintext in proptest::collection::vec(any::<u8>(), 0..300),
        content_type in any::<i32>(),
        alice_id in any::<i32>(),
        bob_id in any::<i32>(),
        twelve in any::<bool>(),
        encoding in encodings(),
        seed in any::<[u8; 32]>(),
        raw in any::<bool>(),
    ) {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(alice_id));
        let bob_raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(bob_id), &seed);
        let bob_clamped = LegacyKeyPair::from_bytes(LegacyKeyId::new(bob_id), &seed);
        let (alice_line, bob_line) = (LineId::parse(ALICE).unwrap(), LineId::parse(BOB).unwrap());
        let bob_public = if raw { bob_raw.public() } else { bob_clamped.public() };
        let options = SealOptions {
            nonce_length: if twelve { NonceLength::Twelve } else { NonceLength::Sixteen },
            key_id_encoding: encoding,
        };
        let at_alice = PeerSession::new(&alice, alice_line, &bob_public, bob_line)
            .unwrap()
            .with_options(options);
        let at_bob = if raw {
            PeerSession::new(&bob_raw, bob_line, &alice.public(), alice_line)
        } else {
            PeerSession::new(&bob_clamped, bob_line, &alice.public(), alice_line)
        }
        .unwrap();
        let content_type = LegacyContentType::new(content_type);
        let chunks = at_alice.seal_bytes(&mut rng, content_type, &plaintext).unwrap();
        let (opened, seen) = at_bob.open_bytes(LegacyVersion::V2, content_type, &chunks).unwrap();
        prop_assert_eq!(opened.plaintext.as_slice(), plaintext.as_slice());
        // Detection may read big-endian 4-byte chunks whose compact reading
        // is also valid only if that names the same ids; the ids match either way.
        prop_assert_eq!(opened.sender_key_id, LegacyKeyId::new(alice_id));
        if encoding == KeyIdEncoding::BigEndian {
            prop_assert_eq!(seen, KeyIdEncoding::BigEndian);
        }
        // Any single flipped bit in salt, body or nonce is refused.
        let mut bad = chunks.clone().into_array();
        let which = usize::from(seed[0] % 3);
        let at = usize::from(seed[1]) % bad[which].len();
        bad[which][at] ^= 1 << (seed[2] % 8);
        prop_assert_eq!(
            at_bob
                .open_bytes(LegacyVersion::V2, content_type, &Chunks::new(bad))
                .map(|_| ())
                .unwrap_err(),
            LegacyError::DecryptionFailed
        );
    }

    #[test]
    fn streamed_media_equals_whole_media(
        plaintext in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec(0usize..500, 0..6),
        km in any::<[u8; 32]>(),
        flip in any::<Option<(usize, u8)>>(),
    ) {
        let km = MediaKeyMaterial::from_bytes(km);
        let blob = seal_media(&km, &plaintext).unwrap();
        let mut cuts = cuts;
        cuts.sort_unstable();
        // Seal in the pieces the cuts make.
        let mut sealer = MediaSealer::new(&km);
        let mut streamed = plaintext.clone();
        let mut start = 0;
        for &cut in cuts.iter().chain([&plaintext.len()]) {
            let end = cut.clamp(start, plaintext.len());
            sealer.encrypt_in_place(&mut streamed[start..end]).unwrap();
            start = end;
        }
        streamed.extend_from_slice(&sealer.finish());
        prop_assert_eq!(&streamed, &blob);
        // Verify a possibly flipped blob in the same pieces.
        let mut input = blob.clone();
        if let Some((at, bit)) = flip {
            let at = at % input.len();
            input[at] ^= 1 << (bit % 8);
        }
        let mut verifier = MediaVerifier::new(&km);
        let mut start = 0;
        for &cut in cuts.iter().chain([&input.len()]) {
            let end = cut.clamp(start, input.len());
            verifier.update(&input[start..end]).unwrap();
            start = end;
        }
        let verdict = verifier.finish();
        prop_assert_eq!(verdict.is_ok(), flip.is_none());
        let whole = open_media(&km, &input);
        prop_assert_eq!(whole.is_ok(), flip.is_none());
        if let Ok(verified) = verdict {
            let mut out = input[..plaintext.len()].to_vec();
            let mut pass2 = verified.checked_decryptor();
            pass2.decrypt_in_place(&mut out).unwrap();
            pass2.finish().unwrap();
            prop_assert_eq!(out, plaintext);
        }
    }
}

#[test]
fn raw_and_clamped_conventions_differ_only_for_unclamped_scalars() {
    let peer = LegacyKeyPair::from_bytes(LegacyKeyId::new(9), &[9; 32]);
    for seed in 0u8..=40 {
        let bytes = [seed.wrapping_mul(37); 32];
        let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &bytes);
        let clamped = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &bytes);
        let is_clamped = bytes[0] & 7 == 0 && bytes[31] & 0xc0 == 0x40;
        assert_eq!(
            raw.public_key() == clamped.public_key(),
            is_clamped,
            "{seed}"
        );
        if let Ok(shared) = raw.agree(&peer.public_key()) {
            assert_eq!(
                shared.ct_eq(&clamped.agree(&peer.public_key()).unwrap()),
                is_clamped
            );
        }
    }
}
