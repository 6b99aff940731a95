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
    let mut sealer =
        AttachmentSealer::new(&mut rng, chunk_size, "application/octet-stream").unwrap();
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
    wrong.digest[0] ^= 1;
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
            .verify(&RegistrationPolicy::default(), now, None, &NoDirectory)
            .unwrap();
        (k, b)
    };
    let (alice, ab) = mk("alice");
    let (bob, bb) = mk("bob");
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
    let opened = at_bob.open(&bob, now, &msg, b"").unwrap();
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
