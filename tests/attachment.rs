//! LS3 attachments through the public API (SPEC.md §9): BRIEF §4 requirement 11.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::attachment::{
    AttachmentError, AttachmentOpener, AttachmentSealer, FileDescriptor, HEADER_LEN, RandomAccess,
    chunk_count,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const CS: u32 = 1024;

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Seals `plain`, feeding it in pieces of the given sizes (cycled).
fn seal(plain: &[u8], chunk_size: u32, pieces: &[usize], seed: u8) -> (Vec<u8>, FileDescriptor) {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut sealer = AttachmentSealer::new_with_binding(
        &mut rng,
        chunk_size,
        "application/octet-stream",
        letterseal::attachment::BindingMode::Content,
    )
    .unwrap();
    let mut blob = sealer.header().to_vec();
    let mut rest = plain;
    let mut i = 0;
    while !rest.is_empty() {
        let n = pieces[i % pieces.len()].max(1).min(rest.len());
        blob.extend(sealer.update(&rest[..n]).unwrap());
        rest = &rest[n..];
        i += 1;
    }
    let (last, descriptor) = sealer.finish().unwrap();
    blob.extend(last);
    (blob, descriptor)
}

fn open(
    blob: &[u8],
    descriptor: &FileDescriptor,
    pieces: &[usize],
) -> Result<Vec<u8>, AttachmentError> {
    let mut opener = AttachmentOpener::new(descriptor);
    let mut out = Vec::new();
    let mut rest = blob;
    let mut i = 0;
    while !rest.is_empty() {
        let n = pieces[i % pieces.len()].max(1).min(rest.len());
        out.extend_from_slice(&opener.update(&rest[..n])?);
        rest = &rest[n..];
        i += 1;
    }
    out.extend_from_slice(&opener.finish()?);
    Ok(out)
}

#[test]
fn round_trips_at_chunk_boundaries() {
    let cs = CS as usize;
    for len in [0, 1, cs - 1, cs, cs + 1, 3 * cs, 5 * cs + 17] {
        let plain = data(len, 1);
        let (blob, d) = seal(&plain, CS, &[100, 7, 3000], 1);
        assert_eq!(d.size, len as u64);
        let chunks = chunk_count(len as u64, CS);
        assert_eq!(
            blob.len() as u64,
            HEADER_LEN as u64 + len as u64 + 16 * chunks
        );
        assert_eq!(
            open(&blob, &d, &[1, 999, 4096]).unwrap(),
            plain,
            "len {len}"
        );
        assert_eq!(
            open(&blob, &d, &[blob.len()]).unwrap(),
            plain,
            "len {len}, one piece"
        );
    }
}

#[test]
fn random_access_equals_streaming() {
    let cs = CS as usize;
    let plain = data(4 * cs + 300, 2);
    let (blob, d) = seal(&plain, CS, &[5000], 2);
    let access = RandomAccess::new(&d, &blob[..HEADER_LEN]).unwrap();
    assert_eq!(access.chunk_count(), 5);
    let mut joined = Vec::new();
    for i in 0..5u32 {
        let range = access.chunk_range(i).unwrap();
        joined.extend_from_slice(&access.open_chunk(i, &blob[range]).unwrap());
    }
    assert_eq!(joined, plain);
    assert!(access.chunk_range(5).is_none());
    // A chunk opened at the wrong index, or a middle chunk as if it were last, fails.
    let r1 = access.chunk_range(1).unwrap();
    assert_eq!(
        access.open_chunk(2, &blob[r1.clone()]).unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 2 }
    );
    assert_eq!(
        access.open_chunk(4, &blob[r1]).unwrap_err(),
        AttachmentError::InvalidChunk
    );
}

#[test]
fn truncation_extension_reordering_duplication_and_swapping_are_detected() {
    let cs = CS as usize;
    let sealed = cs + 16;
    let plain = data(3 * cs + 10, 3);
    let (blob, d) = seal(&plain, CS, &[cs], 3);
    let chunk = |i: usize| HEADER_LEN + i * sealed..(HEADER_LEN + (i + 1) * sealed).min(blob.len());

    // Truncation: drop the last chunk (stream ends at a chunk boundary), or cut inside it.
    let cut = &blob[..chunk(3).start];
    assert_eq!(
        open(cut, &d, &[777]).unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 2 }
    );
    assert_eq!(
        open(&blob[..blob.len() - 1], &d, &[777]).unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 3 }
    );
    assert_eq!(
        open(&blob[..HEADER_LEN], &d, &[777]).unwrap_err(),
        AttachmentError::Truncated
    );
    assert_eq!(
        open(&blob[..10], &d, &[777]).unwrap_err(),
        AttachmentError::Truncated
    );
    // Extension: a byte or a duplicated chunk after the end.
    let mut longer = blob.clone();
    longer.push(0);
    assert!(open(&longer, &d, &[777]).is_err());
    let mut duplicated = blob.clone();
    duplicated.extend_from_slice(&blob[chunk(3)]);
    assert!(open(&duplicated, &d, &[777]).is_err());
    // Reordering two middle chunks.
    let mut swapped = blob[..HEADER_LEN].to_vec();
    for i in [1, 0, 2, 3] {
        swapped.extend_from_slice(&blob[chunk(i)]);
    }
    assert_eq!(
        open(&swapped, &d, &[777]).unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 0 }
    );
    // A chunk from another file (same key size and position) does not authenticate.
    let (other, _) = seal(&data(3 * cs + 10, 4), CS, &[cs], 4);
    let mut mixed = blob.clone();
    mixed[chunk(1)].copy_from_slice(&other[chunk(1)]);
    assert_eq!(
        open(&mixed, &d, &[777]).unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 1 }
    );
    // Another file's header: the commitment does not match this file key.
    let mut other_header = blob.clone();
    other_header[..HEADER_LEN].copy_from_slice(&other[..HEADER_LEN]);
    assert_eq!(
        open(&other_header, &d, &[777]).unwrap_err(),
        AttachmentError::CommitmentMismatch
    );
}

#[test]
fn every_byte_of_a_small_blob_is_authenticated() {
    let plain = data(2 * CS as usize + 5, 5);
    let (blob, d) = seal(&plain, CS, &[64], 5);
    for i in 0..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 0x10;
        assert!(open(&bad, &d, &[333]).is_err(), "byte {i} accepted");
    }
}

#[test]
fn no_plaintext_before_authentication_and_no_use_after_failure() {
    let cs = CS as usize;
    let plain = data(2 * cs, 6);
    let (blob, d) = seal(&plain, CS, &[cs], 6);
    let mut opener = AttachmentOpener::new(&d);
    // Header plus the whole first chunk: held back (it might be the last).
    assert!(
        opener
            .update(&blob[..HEADER_LEN + cs + 16])
            .unwrap()
            .is_empty()
    );
    // One more byte proves it is not the last: now it is released.
    assert_eq!(
        opener
            .update(&blob[HEADER_LEN + cs + 16..HEADER_LEN + cs + 17])
            .unwrap()
            .len(),
        cs
    );
    let mut bad = blob[HEADER_LEN + cs + 17..].to_vec();
    bad[0] ^= 1;
    opener.update(&bad).unwrap();
    assert_eq!(
        opener.finish().unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 1 }
    );
    let mut failed = AttachmentOpener::new(&d);
    let mut header = blob[..HEADER_LEN].to_vec();
    header[30] ^= 1;
    assert_eq!(
        failed.update(&header).unwrap_err(),
        AttachmentError::CommitmentMismatch
    );
    assert_eq!(
        failed.update(&blob[HEADER_LEN..]).unwrap_err(),
        AttachmentError::Finished
    );
}

#[test]
fn descriptor_is_checked() {
    let plain = data(1500, 7);
    let (blob, d) = seal(&plain, CS, &[1500], 7);
    let encoded = d.encode();
    assert_eq!(FileDescriptor::decode(&encoded).unwrap(), d);
    for len in 0..encoded.len() {
        assert!(FileDescriptor::decode(&encoded[..len]).is_err());
    }
    let mut wrong = d.clone();
    wrong.size += 1;
    assert_eq!(
        open(&blob, &wrong, &[100]).unwrap_err(),
        AttachmentError::SizeMismatch
    );
    let mut wrong = d.clone();
    wrong.size -= 1;
    assert_eq!(
        open(&blob, &wrong, &[100]).unwrap_err(),
        AttachmentError::TooLong
    );
    let mut wrong = d.clone();
    let letterseal::attachment::Binding::Content(digest) = wrong.binding else {
        panic!("the default sealer binds the content");
    };
    let mut flipped = *digest.as_bytes();
    flipped[0] ^= 1;
    wrong.binding = letterseal::attachment::Binding::Content(
        letterseal::attachment::ContentDigest::from_bytes(flipped),
    );
    assert_eq!(
        open(&blob, &wrong, &[100]).unwrap_err(),
        AttachmentError::DigestMismatch
    );
    let mut wrong = d.clone();
    wrong.chunk_size = 2048;
    assert_eq!(
        open(&blob, &wrong, &[100]).unwrap_err(),
        AttachmentError::ChunkSizeMismatch
    );
    let mut wrong = d.clone();
    wrong.file_key = letterseal::attachment::FileKey::from_bytes([9; 32]);
    assert_eq!(
        open(&blob, &wrong, &[100]).unwrap_err(),
        AttachmentError::CommitmentMismatch
    );
    assert!(!format!("{d:?}").contains(&hex::encode(d.file_key.as_bytes())[..12]));
    let mut rng = ChaCha20Rng::from_seed([0; 32]);
    assert_eq!(
        AttachmentSealer::new(&mut rng, 0, "x").unwrap_err(),
        AttachmentError::InvalidChunkSize
    );
    assert_eq!(
        AttachmentSealer::new(&mut rng, (1 << 24) + 1, "x").unwrap_err(),
        AttachmentError::InvalidChunkSize
    );
    assert!(AttachmentSealer::new(&mut rng, 64, "bad\ntype").is_err());
}

#[test]
fn descriptor_travels_in_a_pairwise_file_reference_message() {
    use letterseal::device::DeviceKeys;
    use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    use letterseal::pairwise::{ContentType, Session};
    use letterseal::registration::{NoDirectory, RegistrationPolicy};
    use letterseal::time::Timestamp;
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let mut mk = |name: &str| {
        let mut k = DeviceKeys::generate(
            &mut rng,
            DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)),
        );
        let b = k
            .add_sealing_key(&mut rng, now, 86_400)
            .verify(
                &k.address().clone().into(),
                &RegistrationPolicy::default(),
                now,
                None,
                &NoDirectory,
            )
            .unwrap();
        (k, b)
    };
    let (alice, ab) = mk("alice");
    let (mut bob, bb) = mk("bob");
    let plain = data(5000, 9);
    let (blob, d) = seal(&plain, CS, &[5000], 9);
    let mut at_alice = Session::new(&alice, &bb).unwrap();
    let mut at_bob = Session::new(&bob, &ab).unwrap();
    let msg = at_alice
        .seal(
            &alice,
            &mut rng,
            now,
            ContentType::FileReference,
            &d.encode(),
            b"",
        )
        .unwrap();
    let opened = at_bob.open(&mut bob, now, &msg, b"").unwrap();
    assert_eq!(opened.content_type, ContentType::FileReference);
    let received = FileDescriptor::decode(&opened.plaintext).unwrap();
    assert_eq!(open(&blob, &received, &[4096]).unwrap(), plain);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_split_round_trips(
        len in 0usize..5000,
        chunk_size in prop_oneof![Just(1u32), Just(16), Just(100), Just(1024)],
        seal_pieces in proptest::collection::vec(1usize..3000, 1..6),
        open_pieces in proptest::collection::vec(1usize..3000, 1..6),
        seed in any::<u8>(),
    ) {
        let plain = data(len, seed);
        let (blob, d) = seal(&plain, chunk_size, &seal_pieces, seed);
        prop_assert_eq!(open(&blob, &d, &open_pieces).unwrap(), plain.clone());
        let access = RandomAccess::new(&d, &blob[..HEADER_LEN]).unwrap();
        let mut joined = Vec::new();
        for i in 0..access.chunk_count() as u32 {
            joined.extend_from_slice(&access.open_chunk(i, &blob[access.chunk_range(i).unwrap()]).unwrap());
        }
        prop_assert_eq!(joined, plain);
    }
}

// ---- caller buffers, verified opening, binding modes, format 1 ----------------------------

use letterseal::attachment::{
    Binding, BindingMode, ContentDigest, FileKey, VerifiedOpener, open_into, seal_into, sealed_len,
};

/// Seals with `update_into`/`finish_into` into one exact buffer, in pieces of the given sizes.
fn seal_into_pieces(
    plain: &[u8],
    chunk_size: u32,
    pieces: &[usize],
    seed: u8,
    binding: BindingMode,
) -> (Vec<u8>, FileDescriptor) {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut sealer =
        AttachmentSealer::new_with_binding(&mut rng, chunk_size, "x", binding).unwrap();
    let mut blob = vec![0u8; sealed_len(plain.len() as u64, chunk_size).unwrap()];
    blob[..HEADER_LEN].copy_from_slice(sealer.header());
    let mut at = HEADER_LEN;
    let mut rest = plain;
    let mut i = 0;
    while !rest.is_empty() {
        let n = pieces[i % pieces.len()].max(1).min(rest.len());
        let need = sealer.update_len(n);
        at += sealer
            .update_into(&rest[..n], &mut blob[at..at + need])
            .unwrap();
        rest = &rest[n..];
        i += 1;
    }
    let need = sealer.finish_len();
    let (n, d) = sealer.finish_into(&mut blob[at..at + need]).unwrap();
    assert_eq!(at + n, blob.len());
    (blob, d)
}

#[test]
fn caller_buffer_forms_equal_the_allocating_ones() {
    let cs = CS as usize;
    for len in [0, 1, cs, cs + 1, 3 * cs + 7] {
        let plain = data(len, 11);
        for binding in [BindingMode::Content, BindingMode::Unbound] {
            let (blob, d) = seal_into_pieces(&plain, CS, &[333, cs, 1], 11, binding);
            let mut rng = ChaCha20Rng::from_seed([11; 32]);
            let mut s = AttachmentSealer::new_with_binding(&mut rng, CS, "x", binding).unwrap();
            let mut again = s.header().to_vec();
            again.extend(s.update(&plain).unwrap());
            let (last, d2) = s.finish().unwrap();
            again.extend(last);
            assert_eq!((&blob, &d), (&again, &d2), "len {len} {binding:?}");
            match binding {
                BindingMode::Content => {
                    assert_eq!(d.binding, Binding::Content(ContentDigest::of(&plain)))
                }
                BindingMode::Unbound => assert_eq!(d.binding, Binding::Unbound),
            }
            // Opening into caller buffers, in awkward pieces.
            let mut o = AttachmentOpener::new(&d);
            let mut out = vec![0u8; len];
            let mut at = 0;
            for piece in blob.chunks(cs / 3 + 5) {
                let need = o.update_len(piece.len());
                at += o.update_into(piece, &mut out[at..at + need]).unwrap();
            }
            let need = o.finish_len();
            at += o.finish_into(&mut out[at..at + need]).unwrap();
            assert_eq!((at, &out), (len, &plain));
        }
    }
}

#[test]
fn short_buffers_are_refused_untouched_and_the_stream_goes_on() {
    let cs = CS as usize;
    let plain = data(3 * cs + 5, 12);
    let mut rng = ChaCha20Rng::from_seed([12; 32]);
    let mut s = AttachmentSealer::new(&mut rng, CS, "x").unwrap();
    let mut blob = s.header().to_vec();
    let need = s.update_len(plain.len());
    assert_eq!(need, 3 * (cs + 16));
    let mut short = vec![0xa5u8; need - 1];
    assert_eq!(
        s.update_into(&plain, &mut short).unwrap_err(),
        AttachmentError::BufferTooSmall {
            needed: need,
            actual: need - 1
        }
    );
    assert!(short.iter().all(|&b| b == 0xa5));
    blob.extend(s.update(&plain).unwrap());
    let mut short = vec![0xa5u8; s.finish_len() - 1];
    assert!(matches!(
        s.finish_into(&mut short),
        Err(AttachmentError::BufferTooSmall { .. })
    ));
    assert!(short.iter().all(|&b| b == 0xa5));
    let (last, d) = s.finish().unwrap();
    blob.extend(last);

    let mut o = AttachmentOpener::new(&d);
    let need = o.update_len(blob.len());
    let mut short = vec![0xa5u8; need - 1];
    assert!(matches!(
        o.update_into(&blob, &mut short),
        Err(AttachmentError::BufferTooSmall { .. })
    ));
    assert!(short.iter().all(|&b| b == 0xa5));
    let mut out = o.update(&blob).unwrap().to_vec();
    out.extend_from_slice(&o.finish().unwrap());
    assert_eq!(out, plain);
}

#[test]
fn verified_opener_releases_nothing_before_the_verdict() {
    let cs = CS as usize;
    let plain = data(2 * cs + 9, 13);
    let (blob, d) = seal(&plain, CS, &[cs], 13);
    // Wrong-size buffers: refused, untouched.
    for len in [plain.len() - 1, plain.len() + 1] {
        let mut out = vec![0xa5u8; len];
        assert_eq!(
            VerifiedOpener::new(&d, &mut out).unwrap_err(),
            AttachmentError::BufferLength {
                expected: plain.len(),
                actual: len
            }
        );
        assert!(out.iter().all(|&b| b == 0xa5));
    }
    // The good blob.
    let mut out = vec![0u8; plain.len()];
    open_into(&d, &blob, &mut out).unwrap();
    assert_eq!(out, plain);
    // A bad last chunk: the buffer that already held two good chunks is wiped.
    let mut bad = blob.clone();
    *bad.last_mut().unwrap() ^= 1;
    let mut out = vec![0xa5u8; plain.len()];
    assert_eq!(
        open_into(&d, &bad, &mut out).unwrap_err(),
        AttachmentError::ChunkAuthenticationFailed { index: 2 }
    );
    assert!(out.iter().all(|&b| b == 0));
    // A wrong content digest: every chunk authenticates, the verdict fails, nothing is released.
    let mut wrong = d.clone();
    wrong.binding = Binding::Content(ContentDigest::of(b"something else"));
    let mut out = vec![0xa5u8; plain.len()];
    assert_eq!(
        open_into(&wrong, &blob, &mut out).unwrap_err(),
        AttachmentError::DigestMismatch
    );
    assert!(out.iter().all(|&b| b == 0));
    // Abandoned half way (the stream broke): dropping the opener wipes the buffer.
    let mut out = vec![0xa5u8; plain.len()];
    {
        let mut o = VerifiedOpener::new(&d, &mut out).unwrap();
        o.update(&blob[..HEADER_LEN + cs + 17]).unwrap();
    }
    assert!(out.iter().all(|&b| b == 0));
    // A longer blob (a duplicated last chunk) and a too-small descriptor size: the same
    // verdicts as the streaming opener.
    let mut longer = blob.clone();
    longer.extend_from_slice(&blob[HEADER_LEN..HEADER_LEN + cs + 16]);
    let mut out = vec![0u8; plain.len()];
    assert_eq!(
        open_into(&d, &longer, &mut out).unwrap_err(),
        open(&longer, &d, &[longer.len()]).unwrap_err()
    );
    let mut smaller = d.clone();
    smaller.size -= 10;
    let mut out = vec![0u8; plain.len() - 10];
    assert_eq!(
        open_into(&smaller, &blob, &mut out).unwrap_err(),
        AttachmentError::TooLong
    );
    // After an error, every call is Finished.
    let mut out = vec![0u8; plain.len()];
    let mut o = VerifiedOpener::new(&d, &mut out).unwrap();
    assert!(o.update(&bad[..20]).is_ok());
    let mut header = blob[..HEADER_LEN].to_vec();
    header[30] ^= 1;
    let mut out2 = vec![0u8; plain.len()];
    let mut o2 = VerifiedOpener::new(&d, &mut out2).unwrap();
    assert_eq!(
        o2.update(&header).unwrap_err(),
        AttachmentError::CommitmentMismatch
    );
    assert_eq!(o2.update(&blob).unwrap_err(), AttachmentError::Finished);
    assert_eq!(o2.finish().unwrap_err(), AttachmentError::Finished);
    drop(o);
}

/// SPEC.md §9.4: what the binding protects. A sender seals two different files under one file
/// key and salt (it chose them): unbound, both open under one descriptor; content-bound, only
/// the one the digest names does.
#[test]
fn binding_stops_a_sender_from_equivocating() {
    let key = FileKey::from_bytes([21; 32]);
    let salt = [22u8; 16];
    let seal_with = |p: &[u8], binding| {
        let mut s =
            AttachmentSealer::with_key_and_binding(key.clone(), salt, CS, "x", binding).unwrap();
        let mut blob = s.header().to_vec();
        blob.extend(s.update(p).unwrap());
        let (last, d) = s.finish().unwrap();
        blob.extend(last);
        (blob, d)
    };
    let (a, p_a) = (data(1500, 1), data(1500, 1));
    let p_b = data(1500, 2);
    let (blob_a, da) = seal_with(&a, BindingMode::Unbound);
    let (blob_b, db) = seal_with(&p_b, BindingMode::Unbound);
    assert_eq!(da, db, "one unbound descriptor for two different files");
    assert_eq!(open(&blob_a, &da, &[999]).unwrap(), p_a);
    assert_eq!(open(&blob_b, &da, &[999]).unwrap(), p_b);
    let (blob_a, da) = seal_with(&a, BindingMode::Content);
    let (blob_b, _) = seal_with(&p_b, BindingMode::Content);
    assert_eq!(open(&blob_a, &da, &[999]).unwrap(), p_a);
    assert_eq!(
        open(&blob_b, &da, &[999]).unwrap_err(),
        AttachmentError::DigestMismatch
    );
}

/// Format-1 descriptors (SHA-256 of the blob) from before format 2 still open.
#[test]
fn format_1_descriptors_still_open() {
    use sha2::Digest;
    let plain = data(2500, 14);
    let (blob, d) = seal(&plain, CS, &[700], 14);
    let mut v1 = d.clone();
    v1.binding = Binding::LegacyBlobSha256(sha2::Sha256::digest(&blob).into());
    let encoded = v1.encode();
    assert_eq!(encoded[0], 1);
    assert_eq!(
        encoded.len(),
        1 + 32 + 8 + 4 + 32 + 1 + d.media_type.as_str().len()
    );
    let decoded = FileDescriptor::decode(&encoded).unwrap();
    assert_eq!(decoded, v1);
    assert_eq!(decoded.encode(), encoded);
    assert_eq!(open(&blob, &decoded, &[333]).unwrap(), plain);
    let mut bad = blob.clone();
    bad[10] ^= 1; // the salt: the commitment catches it first
    assert_eq!(
        open(&bad, &decoded, &[333]).unwrap_err(),
        AttachmentError::CommitmentMismatch
    );
    let mut wrong = v1.clone();
    wrong.binding = Binding::LegacyBlobSha256([0; 32]);
    assert_eq!(
        open(&blob, &wrong, &[333]).unwrap_err(),
        AttachmentError::DigestMismatch
    );
    let mut unknown = encoded.clone();
    unknown[0] = 3;
    assert_eq!(
        FileDescriptor::decode(&unknown).unwrap_err(),
        AttachmentError::UnsupportedVersion(3)
    );
}

#[test]
fn random_access_into_caller_buffers() {
    let cs = CS as usize;
    let plain = data(2 * cs + 40, 15);
    let (blob, d) = seal(&plain, CS, &[cs], 15);
    let access = RandomAccess::new(&d, &blob[..HEADER_LEN]).unwrap();
    for i in 0..3u32 {
        let range = access.chunk_range(i).unwrap();
        let len = access.chunk_plaintext_len(i).unwrap();
        assert_eq!(len, range.len() - 16);
        let mut out = vec![0u8; len];
        access
            .open_chunk_into(i, &blob[range.clone()], &mut out)
            .unwrap();
        assert_eq!(out, &plain[i as usize * cs..][..len]);
        let mut in_place = blob[range.clone()].to_vec();
        let opened = access.open_chunk_in_place(i, &mut in_place).unwrap();
        assert_eq!(opened, &plain[i as usize * cs..][..len]);
        // Wrong out length: refused, untouched.
        let mut wrong = vec![0xa5u8; len + 1];
        assert_eq!(
            access
                .open_chunk_into(i, &blob[range.clone()], &mut wrong)
                .unwrap_err(),
            AttachmentError::BufferLength {
                expected: len,
                actual: len + 1
            }
        );
        assert!(wrong.iter().all(|&b| b == 0xa5));
        // A tampered chunk leaves no plaintext behind.
        let mut tampered = blob[range.clone()].to_vec();
        tampered[0] ^= 1;
        let mut out = vec![0xa5u8; len];
        assert_eq!(
            access.open_chunk_into(i, &tampered, &mut out).unwrap_err(),
            AttachmentError::ChunkAuthenticationFailed { index: i }
        );
        let expected = if letterseal::aead::BACKEND == "ring" {
            0
        } else {
            0xa5
        };
        assert!(out.iter().all(|&b| b == expected));
        assert!(access.open_chunk_in_place(i, &mut tampered).is_err());
        assert!(tampered.iter().all(|&b| b == 0));
        // A wrong-length chunk in place: refused, untouched.
        let mut long = blob[range].to_vec();
        long.push(7);
        let before = long.clone();
        assert_eq!(
            access.open_chunk_in_place(i, &mut long).unwrap_err(),
            AttachmentError::InvalidChunk
        );
        assert_eq!(long, before);
    }
}

#[test]
fn one_shot_seal_into_checks_the_buffer_and_matches_seal() {
    let plain = data(5000, 16);
    let len = sealed_len(5000, CS).unwrap();
    let mut rng = ChaCha20Rng::from_seed([16; 32]);
    let mut wrong = vec![0xa5u8; len - 1];
    assert_eq!(
        seal_into(&mut rng, &plain, CS, "x", &mut wrong).unwrap_err(),
        AttachmentError::BufferLength {
            expected: len,
            actual: len - 1
        }
    );
    assert!(wrong.iter().all(|&b| b == 0xa5));
    let mut rng = ChaCha20Rng::from_seed([16; 32]);
    let mut blob = vec![0u8; len];
    let d = seal_into(&mut rng, &plain, CS, "x", &mut blob).unwrap();
    let mut rng = ChaCha20Rng::from_seed([16; 32]);
    let (blob2, d2) = letterseal::attachment::seal(&mut rng, &plain, CS, "x").unwrap();
    assert_eq!((&blob, &d), (&blob2, &d2));
    assert_eq!(d.binding, Binding::Content(ContentDigest::of(&plain)));
    assert_eq!(open(&blob, &d, &[1234]).unwrap(), plain);
    // A hedged streaming sealer given the digest produces the same blob from the same RNG.
    let mut rng = ChaCha20Rng::from_seed([16; 32]);
    let mut s =
        AttachmentSealer::new_hedged(&mut rng, &ContentDigest::of(&plain), CS, "x").unwrap();
    let mut blob3 = s.header().to_vec();
    for piece in plain.chunks(777) {
        blob3.extend(s.update(piece).unwrap());
    }
    let (last, d3) = s.finish().unwrap();
    blob3.extend(last);
    assert_eq!((&blob, &d), (&blob3, &d3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Caller-buffer streaming in any pieces gives the same blob as the Vec forms, and the
    /// verified opener agrees with the streaming one on any single-byte change.
    #[test]
    fn caller_buffers_any_split(
        len in 0usize..3000,
        chunk_size in prop_oneof![Just(1u32), Just(16), Just(100), Just(1024)],
        pieces in proptest::collection::vec(1usize..2000, 1..5),
        flip in any::<prop::sample::Index>(),
        unbound in any::<bool>(),
        seed in any::<u8>(),
    ) {
        let plain = data(len, seed);
        let binding = if unbound { BindingMode::Unbound } else { BindingMode::Content };
        let (blob, d) = seal_into_pieces(&plain, chunk_size, &pieces, seed, binding);
        let mut out = vec![0u8; len];
        open_into(&d, &blob, &mut out).unwrap();
        prop_assert_eq!(&out, &plain);
        let mut bad = blob.clone();
        let at = flip.index(bad.len());
        bad[at] ^= 0x01;
        let mut out = vec![0xa5u8; len];
        let verified = open_into(&d, &bad, &mut out);
        prop_assert!(verified.is_err());
        prop_assert!(out.iter().all(|&b| b == 0));
        prop_assert_eq!(verified.unwrap_err(), open(&bad, &d, &pieces).unwrap_err());
    }
}

#[test]
fn the_streaming_sealer_is_unbound_by_default() {
    let mut rng = ChaCha20Rng::from_seed([18; 32]);
    let sealer = AttachmentSealer::new(&mut rng, CS, "image/png").unwrap();
    let (_, d) = sealer.finish().unwrap();
    assert_eq!(d.binding, letterseal::attachment::Binding::Unbound);
}

#[test]
fn debug_prints_no_secret() {
    let plain = data(300, 17);
    let (_, d) = seal(&plain, CS, &[300], 17);
    let digest = ContentDigest::of(&plain);
    let shown = format!(
        "{d:?} {digest:?} {:?}",
        letterseal::attachment::ContentHasher::new()
    );
    assert!(!shown.contains(&hex::encode(d.file_key.as_bytes())[..12]));
    assert!(!shown.contains(&hex::encode(digest.as_bytes())[..12]));
    assert!(shown.contains("content digest"));
}
