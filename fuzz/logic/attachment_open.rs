//! Fuzz target: opening LS3 attachments (SPEC.md §9.3–§9.4) — the streaming
//! `AttachmentOpener` (allocating and caller-buffer forms), `VerifiedOpener`,
//! `RandomAccess` (allocating, into a buffer, in place) and `FileDescriptor::decode`.
//!
//! A fixture is built once, deterministically: ten small files, every size of
//! `SIZES` at each chunk size of `CHUNK_SIZES`, each sealed with
//! `AttachmentSealer::with_key_and_binding` under its own file key and salt (the
//! *legitimate* blobs, plaintexts and descriptors). File `i`'s descriptor is
//! content-bound (format 2, binding 1) for `i % 3 == 0`, unbound (binding 0) for
//! `i % 3 == 1`, and format 1 (SHA-256 of the blob) for `i % 3 == 2`.
//!
//! Input: `file ‖ variant ‖ k ‖ k split sizes ‖ payload`.
//!
//! - `file` (mod 10) picks the file; `variant` low nibble (mod 8) the
//!   descriptor the opener is given: the file's own; with another media type
//!   (not bound to the blob: still opens); a wrong digest; size + 1; size − 1
//!   (wrapping: the empty file gets `u64::MAX`); the other chunk size; the next
//!   file's key; size `u64::MAX`.
//! - `variant` high nibble (mod 5) says what is fed: the payload itself; the
//!   file's blob with the payload XOR-ed in (`u16(offset) ‖ mask`); the blob
//!   truncated to `u16(length) mod (blob length + 1)` bytes; the blob with the
//!   payload appended; or the blob, opened with the descriptor the payload
//!   decodes to (if it does).
//! - the fed bytes go to `update` in pieces of the `k` (mod 16) split sizes
//!   (one byte each, 0 allowed), then the rest in one piece, then `finish`.
//!
//! Checks (the *owner* is the file whose key the descriptor carries, if any):
//!
//! - nothing panics;
//! - the plaintext released (by `update` and `finish`) is always a prefix of
//!   the owner's plaintext, and empty without an owner: no unauthenticated or
//!   foreign plaintext;
//! - the open succeeds **iff** the descriptor matches the owner's (key, size,
//!   chunk size; the media type is not bound) with a binding the owner's file
//!   satisfies (unbound, the content digest of its plaintext, or the SHA-256 of
//!   its blob) and the fed bytes are the owner's blob exactly, whatever the
//!   splits; it then released the whole plaintext;
//! - the caller-buffer forms (`update_into`/`finish_into`, exact-size buffers,
//!   same splits) give the same verdict and release the same bytes; a buffer one
//!   byte short is refused with `BufferTooSmall`, left untouched, and the stream
//!   goes on;
//! - `VerifiedOpener` (same splits, a buffer of the descriptor's size when that
//!   is at most 4 KiB) gives the same verdict, and its buffer holds the whole
//!   plaintext on success and only zeros on failure; a wrong-size buffer is
//!   refused with `BufferLength` and left untouched;
//! - after an error, every further `update` and `finish` fails with
//!   `Finished`; no call fails with `Finished` before that;
//! - with a matching descriptor, a prefix of the blob never fails in `update`,
//!   releases exactly the chunks followed by more data, and `finish` gives the
//!   predicted error (`Truncated` or `ChunkAuthenticationFailed` at the
//!   predicted chunk);
//! - `RandomAccess::new` on the fed header succeeds only for the owner's exact
//!   header (and fails with `TooManyChunks` past 2^32 chunks); `open_chunk` on
//!   each chunk's slice of the fed bytes (and on wrong-length slices and
//!   indexes past the end, which are `InvalidChunk`) releases only the owner's
//!   plaintext at that chunk's offset, and opens every chunk of the owner's
//!   blob when the descriptor matches; `open_chunk_into` and
//!   `open_chunk_in_place` agree with it, refuse a wrong-size buffer untouched
//!   and leave no plaintext behind on failure;
//! - `FileDescriptor::decode` is strict: a decoded descriptor re-encodes to
//!   exactly its input.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/attachment_open.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/attachment_open/` are generated from the fixture
//! (`seeds` below); regenerate them after a change to the fixture or the
//! format (`cargo test -p letterseal-repo-tests --test fuzz_corpus -- --ignored
//! regenerate_attachment_open_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use letterseal::attachment::{
    AttachmentError, AttachmentOpener, AttachmentSealer, Binding, BindingMode, ContentDigest,
    FileDescriptor, FileKey, HEADER_LEN, MediaType, RandomAccess, VerifiedOpener, chunk_count,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Digest;

// ---- fixture ----------------------------------------------------------------

/// The chunk sizes of the fixture's files.
const CHUNK_SIZES: [u32; 2] = [16, 64];
/// The plaintext sizes of the fixture's files, at each chunk size.
const SIZES: [usize; 5] = [0, 15, 16, 17, 200];
const MEDIA_TYPE: &str = "application/octet-stream";
/// The AEAD tag length.
const TAG_LEN: usize = 16;
/// Descriptor variants (the selector's low nibble, mod this).
const VARIANTS: u8 = 8;
/// What is fed (the selector's high nibble, mod this).
const MODES: u8 = 5;
/// At most this many chunks are tried with `RandomAccess`.
const MAX_RANDOM_ACCESS: u64 = 16;

/// A file sealed at setup.
struct File {
    plaintext: Vec<u8>,
    blob: Vec<u8>,
    descriptor: FileDescriptor,
}

struct Fixture {
    /// `CHUNK_SIZES.len() × SIZES.len()` files: chunk size major.
    files: Vec<File>,
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x41; 32]);
    let mut files = Vec::new();
    for chunk_size in CHUNK_SIZES {
        for size in SIZES {
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            let mut salt = [0u8; 16];
            rng.fill_bytes(&mut salt);
            let plaintext: Vec<u8> = (0..size)
                .map(|i| (i as u8).wrapping_mul(29).wrapping_add(size as u8))
                .collect();
            let kind = files.len() % 3;
            let binding = if kind == 1 {
                BindingMode::Unbound
            } else {
                BindingMode::Content
            };
            let mut sealer = AttachmentSealer::with_key_and_binding(
                FileKey::from_bytes(key),
                salt,
                chunk_size,
                MEDIA_TYPE,
                binding,
            )
            .expect("fixture sealer");
            let mut blob = sealer.header().to_vec();
            for piece in plaintext.chunks(7) {
                blob.extend(sealer.update(piece).expect("fixture update"));
            }
            let (last, mut descriptor) = sealer.finish().expect("fixture finish");
            blob.extend(last);
            if kind == 2 {
                // Format 1: the same blob, described by its SHA-256.
                descriptor.binding = Binding::LegacyBlobSha256(sha2::Sha256::digest(&blob).into());
            }
            assert_eq!(descriptor.size, size as u64);
            files.push(File {
                plaintext,
                blob,
                descriptor,
            });
        }
    }
    Fixture { files }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- check ------------------------------------------------------------------

/// A parsed input.
struct Input<'a> {
    file: usize,
    variant: u8,
    mode: u8,
    splits: &'a [u8],
    payload: &'a [u8],
}

fn parse(data: &[u8]) -> Option<Input<'_>> {
    let [file, selector, k, rest @ ..] = data else {
        return None;
    };
    let (splits, payload) = rest.split_at(usize::from(k & 0x0f).min(rest.len()));
    Some(Input {
        file: usize::from(*file) % fixture().files.len(),
        variant: (selector & 0x0f) % VARIANTS,
        mode: (selector >> 4) % MODES,
        splits,
        payload,
    })
}

/// The descriptor of `variant` for file `i`.
fn descriptor(fx: &Fixture, i: usize, variant: u8) -> FileDescriptor {
    let mut d = fx.files[i].descriptor.clone();
    match variant {
        0 => {}
        1 => d.media_type = MediaType::new("image/jpeg").unwrap(),
        2 => d.binding = flip_binding(d.binding),
        3 => d.size += 1,
        4 => d.size = d.size.wrapping_sub(1),
        5 => d.chunk_size = if d.chunk_size == 16 { 64 } else { 16 },
        6 => {
            d.file_key = fx.files[(i + 1) % fx.files.len()]
                .descriptor
                .file_key
                .clone()
        }
        _ => d.size = u64::MAX,
    }
    d
}

/// The binding with its digest changed (an unbound descriptor becomes bound to a wrong digest).
fn flip_binding(binding: Binding) -> Binding {
    match binding {
        Binding::Content(d) => {
            let mut b = *d.as_bytes();
            b[31] ^= 0x01;
            Binding::Content(ContentDigest::from_bytes(b))
        }
        Binding::LegacyBlobSha256(mut d) => {
            d[31] ^= 0x01;
            Binding::LegacyBlobSha256(d)
        }
        Binding::Unbound => Binding::Content(ContentDigest::from_bytes([0; 32])),
    }
}

/// `u16be` of the first two bytes (missing bytes are zero) and the rest.
fn u16_prefix(payload: &[u8]) -> (usize, &[u8]) {
    match payload {
        [] => (0, &[]),
        [a] => (usize::from(*a) << 8, &[]),
        [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
    }
}

/// The bytes fed to the opener, and the descriptor it is given (`None` for an
/// undecodable descriptor in mode 4).
fn prepare(fx: &Fixture, input: &Input<'_>) -> Option<(Vec<u8>, FileDescriptor)> {
    let blob = &fx.files[input.file].blob;
    let fed = match input.mode {
        0 => input.payload.to_vec(),
        1 => {
            let (offset, mask) = u16_prefix(input.payload);
            let mut fed = blob.clone();
            let at = offset % blob.len();
            for (b, m) in fed[at..].iter_mut().zip(mask) {
                *b ^= m;
            }
            fed
        }
        2 => {
            let (len, _) = u16_prefix(input.payload);
            blob[..len % (blob.len() + 1)].to_vec()
        }
        3 => [&blob[..], input.payload].concat(),
        _ => {
            let decoded = FileDescriptor::decode(input.payload);
            if let Ok(d) = &decoded {
                assert_eq!(
                    d.encode(),
                    input.payload,
                    "a decoded descriptor must re-encode to the input bytes"
                );
            }
            return decoded.ok().map(|d| (blob.clone(), d));
        }
    };
    Some((fed, descriptor(fx, input.file, input.variant)))
}

/// Whether `d` describes `owner`'s file in everything the blob is checked
/// against (the media type is not): key, size, chunk size, and a binding the
/// file satisfies (SPEC.md §9.4: unbound, its content digest, or its blob's SHA-256).
fn same_blob_fields(d: &FileDescriptor, owner: &File) -> bool {
    let binding_ok = match d.binding {
        Binding::Unbound => true,
        Binding::Content(digest) => digest == ContentDigest::of(&owner.plaintext),
        Binding::LegacyBlobSha256(digest) => {
            digest == <[u8; 32]>::from(sha2::Sha256::digest(&owner.blob))
        }
    };
    d.file_key == owner.descriptor.file_key
        && d.size == owner.descriptor.size
        && d.chunk_size == owner.descriptor.chunk_size
        && binding_ok
}

/// For a matching descriptor and `len` bytes of the legitimate blob: the
/// plaintext bytes `update` releases, and what `finish` gives.
fn predict_prefix(file: &File, len: usize) -> (usize, Result<(), AttachmentError>) {
    let cs = file.descriptor.chunk_size as usize;
    let sealed_chunk = cs + TAG_LEN;
    if len <= HEADER_LEN {
        return (0, Err(AttachmentError::Truncated));
    }
    // Chunk j is opened (as not the last) once a byte after it arrives.
    let opened = (len - HEADER_LEN - 1) / sealed_chunk;
    let held = len - HEADER_LEN - opened * sealed_chunk;
    let finish = if len == file.blob.len() {
        Ok(())
    } else if held < TAG_LEN {
        Err(AttachmentError::Truncated)
    } else {
        Err(AttachmentError::ChunkAuthenticationFailed {
            index: u32::try_from(opened).unwrap(),
        })
    };
    (opened * cs, finish)
}

/// Asserts that `released` is a prefix of the owner's plaintext (empty without one).
fn assert_prefix(owner: Option<&File>, released: &[u8], what: &str) {
    let legit = owner.map_or(&[][..], |f| &f.plaintext[..]);
    assert!(
        legit.starts_with(released),
        "{what} released {} bytes that are not a prefix of the owner's plaintext",
        released.len()
    );
}

/// Feeds `fed` in the input's pieces, then finishes. Returns the first error
/// (or `Ok`) and the plaintext released by `update`s and by `finish`.
fn stream(
    descriptor: &FileDescriptor,
    fed: &[u8],
    splits: &[u8],
    owner: Option<&File>,
) -> (Result<(), AttachmentError>, Vec<u8>, usize) {
    let mut opener = AttachmentOpener::new(descriptor);
    let mut released = Vec::new();
    let mut first_error = None;
    let mut rest = fed;
    let pieces = splits
        .iter()
        .map(|&s| usize::from(s))
        .chain(std::iter::once(usize::MAX));
    for n in pieces {
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        match (opener.update(piece), first_error) {
            (Ok(plain), None) => {
                released.extend_from_slice(&plain);
                assert_prefix(owner, &released, "update");
            }
            (Ok(_), Some(e)) => panic!("update succeeded after {e:?}"),
            (Err(e), None) => {
                assert_ne!(e, AttachmentError::Finished, "Finished before any error");
                first_error = Some(e);
            }
            (Err(e), Some(_)) => assert_eq!(e, AttachmentError::Finished),
        }
    }
    let by_update = released.len();
    let result = match first_error {
        Some(e) => {
            assert_eq!(
                opener.update(b"").map(|_| ()),
                Err(AttachmentError::Finished)
            );
            assert_eq!(
                opener.update(&[0u8; 80]).map(|_| ()),
                Err(AttachmentError::Finished)
            );
            assert_eq!(
                opener.finish().map(|_| ()),
                Err(AttachmentError::Finished),
                "finish after {e:?}"
            );
            Err(e)
        }
        None => match opener.finish() {
            Ok(plain) => {
                released.extend_from_slice(&plain);
                assert_prefix(owner, &released, "finish");
                Ok(())
            }
            Err(e) => {
                assert_ne!(e, AttachmentError::Finished, "Finished before any error");
                Err(e)
            }
        },
    };
    (result, released, by_update)
}

/// The caller-buffer forms over the same pieces: the same verdict and the same
/// released bytes as `stream`; a buffer one byte short is refused untouched.
fn stream_into(
    descriptor: &FileDescriptor,
    fed: &[u8],
    splits: &[u8],
    want: &Result<(), AttachmentError>,
    want_released: &[u8],
) {
    let mut opener = AttachmentOpener::new(descriptor);
    let mut released = Vec::new();
    let mut rest = fed;
    let pieces = splits
        .iter()
        .map(|&s| usize::from(s))
        .chain(std::iter::once(usize::MAX));
    let mut result = Ok(());
    for n in pieces {
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        let needed = opener.update_len(piece.len());
        if needed > 0 && needed < 1 << 16 {
            let mut short = vec![0xa5u8; needed - 1];
            assert_eq!(
                opener.update_into(piece, &mut short),
                Err(AttachmentError::BufferTooSmall {
                    needed,
                    actual: needed - 1
                })
            );
            assert!(short.iter().all(|&b| b == 0xa5), "short buffer written");
        }
        let mut out = vec![0u8; needed.min(1 << 16)];
        match opener.update_into(piece, &mut out) {
            Ok(k) => released.extend_from_slice(&out[..k]),
            Err(e) => {
                assert!(out.iter().all(|&b| b == 0), "plaintext left after {e:?}");
                result = Err(e);
                break;
            }
        }
    }
    if result.is_ok() {
        let needed = opener.finish_len();
        let mut out = vec![0u8; needed];
        match opener.finish_into(&mut out) {
            Ok(k) => released.extend_from_slice(&out[..k]),
            Err(e) => {
                assert!(out.iter().all(|&b| b == 0), "plaintext left after {e:?}");
                result = Err(e);
            }
        }
    }
    assert_eq!(&result, want, "update_into and update disagree");
    if result.is_ok() {
        assert_eq!(released, want_released, "update_into released other bytes");
    } else {
        assert!(
            want_released.starts_with(&released),
            "update_into released more than update"
        );
    }
}

/// `VerifiedOpener` over the same pieces: the same verdict; the buffer holds the
/// plaintext on success and only zeros on failure.
fn verified(
    descriptor: &FileDescriptor,
    fed: &[u8],
    splits: &[u8],
    want: &Result<(), AttachmentError>,
    want_released: &[u8],
) {
    let Some(size) = usize::try_from(descriptor.size).ok().filter(|&s| s <= 4096) else {
        let mut small = [0xa5u8; 3];
        assert!(matches!(
            VerifiedOpener::new(descriptor, &mut small),
            Err(AttachmentError::BufferLength { .. })
        ));
        assert_eq!(small, [0xa5; 3]);
        return;
    };
    let mut out = vec![0xa5u8; size + 1];
    assert!(matches!(
        VerifiedOpener::new(descriptor, &mut out),
        Err(AttachmentError::BufferLength { .. })
    ));
    assert!(out.iter().all(|&b| b == 0xa5));
    let mut out = vec![0xa5u8; size];
    let mut opener = VerifiedOpener::new(descriptor, &mut out).expect("exact size");
    let mut rest = fed;
    let pieces = splits
        .iter()
        .map(|&s| usize::from(s))
        .chain(std::iter::once(usize::MAX));
    let mut result = Ok(());
    for n in pieces {
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        if let Err(e) = opener.update(piece) {
            result = Err(e);
            break;
        }
    }
    let result = match result {
        Ok(()) => opener.finish().map(|plain| plain.to_vec()),
        Err(e) => {
            drop(opener);
            Err(e)
        }
    };
    match (&result, want) {
        (Ok(plain), Ok(())) => assert_eq!(plain, want_released, "verified plaintext"),
        (Err(e), Err(w)) => {
            assert_eq!(e, w, "verified opener's verdict");
            assert!(out.iter().all(|&b| b == 0), "plaintext left after {e:?}");
        }
        (got, _) => panic!("verified opener: {got:?}, streaming: {want:?}"),
    }
}

/// `RandomAccess` on the fed bytes: only the owner's header is accepted, and
/// chunks release only the owner's plaintext at their offset.
fn random_access(descriptor: &FileDescriptor, fed: &[u8], owner: Option<&File>, matching: bool) {
    let header = &fed[..HEADER_LEN.min(fed.len())];
    let access = match RandomAccess::new(descriptor, header) {
        Ok(access) => access,
        Err(AttachmentError::TooManyChunks) => {
            let chunks = chunk_count(descriptor.size, descriptor.chunk_size);
            assert!(chunks > 1 << 32, "TooManyChunks for {chunks} chunks");
            return;
        }
        Err(e) => {
            let owners_header = owner.and_then(|f| f.blob.get(..HEADER_LEN)) == Some(header);
            assert!(
                !(matching && owners_header),
                "RandomAccess refused the owner's header: {e:?}"
            );
            return;
        }
    };
    let Some(owner) = owner else {
        panic!("RandomAccess accepted a header for a key nobody used");
    };
    assert_eq!(
        header,
        &owner.blob[..HEADER_LEN],
        "RandomAccess accepted a header the owner did not seal"
    );
    let chunks = chunk_count(descriptor.size, descriptor.chunk_size);
    assert_eq!(access.chunk_count(), chunks);
    let cs = descriptor.chunk_size as usize;
    for index in 0..=chunks.min(MAX_RANDOM_ACCESS) {
        let index = u32::try_from(index).unwrap();
        let Some(range) = access.chunk_range(index) else {
            assert!(u64::from(index) >= chunks, "no range for chunk {index}");
            assert_eq!(
                access.open_chunk(index, &[0u8; 32]).map(|_| ()),
                Err(AttachmentError::InvalidChunk)
            );
            continue;
        };
        assert!(u64::from(index) < chunks, "a range past the last chunk");
        // A slice of the wrong length is refused before any decryption.
        for wrong in [range.len() - 1, range.len() + 1] {
            let slice = vec![0u8; wrong];
            assert_eq!(
                access.open_chunk(index, &slice).map(|_| ()),
                Err(AttachmentError::InvalidChunk)
            );
        }
        let Some(sealed) = fed.get(range.clone()) else {
            continue;
        };
        let legit = owner.blob.get(range);
        let plain_len = access.chunk_plaintext_len(index).unwrap();
        let mut wrong = vec![0xa5u8; plain_len + 1];
        assert!(matches!(
            access.open_chunk_into(index, sealed, &mut wrong),
            Err(AttachmentError::BufferLength { .. })
        ));
        assert!(wrong.iter().all(|&b| b == 0xa5));
        let mut into = vec![0xa5u8; plain_len];
        let into_result = access.open_chunk_into(index, sealed, &mut into);
        let mut in_place = sealed.to_vec();
        let in_place_result = access
            .open_chunk_in_place(index, &mut in_place)
            .map(|p| p.to_vec());
        match &into_result {
            Ok(()) => assert_eq!(in_place_result.as_deref(), Ok(&into[..])),
            Err(e) => {
                assert_eq!(in_place_result.as_ref().err(), Some(e));
                assert!(in_place.iter().all(|&b| b == 0), "in place: plaintext left");
                assert!(
                    into.iter().all(|&b| b == 0xa5) || into.iter().all(|&b| b == 0),
                    "into: plaintext left"
                );
            }
        }
        let allocating = access.open_chunk(index, sealed);
        assert_eq!(
            allocating.as_ref().map(|p| p.to_vec()).map_err(|e| *e),
            into_result.map(|()| into.clone())
        );
        match allocating {
            Ok(plain) => {
                let at = index as usize * cs;
                assert!(
                    owner.plaintext.get(at..at + plain.len()) == Some(&plain[..]),
                    "open_chunk({index}) released plaintext the owner did not seal there"
                );
            }
            Err(e) => {
                assert_eq!(e, AttachmentError::ChunkAuthenticationFailed { index });
                assert!(
                    !(matching && legit == Some(sealed)),
                    "open_chunk({index}) refused the owner's chunk"
                );
            }
        }
    }
}

/// The file whose key `descriptor` carries, if any.
fn owner_of<'a>(fx: &'a Fixture, descriptor: &FileDescriptor) -> Option<&'a File> {
    fx.files
        .iter()
        .find(|f| f.descriptor.file_key == descriptor.file_key)
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let fx = fixture();
    let Some(input) = parse(data) else {
        return;
    };
    let Some((fed, descriptor)) = prepare(fx, &input) else {
        return;
    };
    let owner = owner_of(fx, &descriptor);
    let matching = owner.is_some_and(|f| same_blob_fields(&descriptor, f));

    let (result, released, by_update) = stream(&descriptor, &fed, input.splits, owner);
    stream_into(&descriptor, &fed, input.splits, &result, &released);
    verified(&descriptor, &fed, input.splits, &result, &released);
    let legit = owner.filter(|f| matching && f.blob == fed);
    match (&result, legit) {
        (Ok(()), Some(f)) => assert_eq!(released, f.plaintext, "released plaintext"),
        (Ok(()), None) => panic!(
            "FORGERY: opened {} bytes that are not a legitimate blob under its descriptor",
            fed.len()
        ),
        (Err(e), Some(_)) => panic!("the legitimate blob failed with {e:?}"),
        (Err(_), None) => {}
    }
    // A prefix of the blob under a matching descriptor: exact progress.
    if let Some(f) = owner.filter(|f| matching && f.blob.starts_with(&fed)) {
        let (want_released, want_finish) = predict_prefix(f, fed.len());
        assert_eq!(result, want_finish, "prefix of {} bytes", fed.len());
        assert_eq!(by_update, want_released, "plaintext released by update");
    }
    random_access(&descriptor, &fed, owner, matching);
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// What streaming an input gives: "Ok", the first error's name, or
/// "no descriptor" / "short input".
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> &'static str {
    let Some(input) = parse(data) else {
        return "short input";
    };
    let Some((fed, descriptor)) = prepare(fixture(), &input) else {
        return "no descriptor";
    };
    let owner = owner_of(fixture(), &descriptor);
    match stream(&descriptor, &fed, input.splits, owner).0 {
        Ok(()) => "Ok",
        Err(e) => e.name(),
    }
}

/// The seeds, from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    // file index: chunk size major; sizes 0, 15, 16, 17, 200.
    let file = |cs: u32, size: usize| -> usize {
        let c = CHUNK_SIZES.iter().position(|&c| c == cs).unwrap();
        let s = SIZES.iter().position(|&s| s == size).unwrap();
        c * SIZES.len() + s
    };
    let input = |f: usize, variant: u8, mode: u8, splits: &[u8], payload: &[u8]| -> Vec<u8> {
        let mut v = vec![u8::try_from(f).unwrap(), mode << 4 | variant];
        v.push(u8::try_from(splits.len()).unwrap());
        v.extend_from_slice(splits);
        v.extend_from_slice(payload);
        v
    };
    let blob = |f: usize| fx.files[f].blob.clone();
    let legit = |f: usize, splits: &[u8]| input(f, 0, 0, splits, &blob(f));
    let xor = |f: usize, at: u16, mask: &[u8]| {
        input(f, 0, 1, &[], &[&at.to_be_bytes()[..], mask].concat())
    };
    let truncate = |f: usize, len: u16| input(f, 0, 2, &[], &len.to_be_bytes());
    let (f200, f17, f16, f0) = (file(16, 200), file(16, 17), file(16, 16), file(16, 0));
    let f64_200 = file(64, 200);
    let at_chunk = |i: usize| u16::try_from(HEADER_LEN + i * (16 + TAG_LEN)).unwrap();
    let swapped = {
        let mut b = blob(f200);
        let sc = 16 + TAG_LEN;
        let (c0, c1) = (
            HEADER_LEN..HEADER_LEN + sc,
            HEADER_LEN + sc..HEADER_LEN + 2 * sc,
        );
        let first = b[c0.clone()].to_vec();
        b.copy_within(c1.clone(), c0.start);
        b[c1].copy_from_slice(&first);
        b
    };
    let other_media = {
        let mut d = fx.files[f17].descriptor.clone();
        d.media_type = MediaType::new("audio/ogg").unwrap();
        d.encode()
    };
    vec![
        ("legit_cs16_size0", legit(f0, &[])),
        ("legit_cs16_size15_split1", legit(file(16, 15), &[1; 15])),
        ("legit_cs16_size16", legit(f16, &[54, 32])),
        ("legit_cs16_size17_split", legit(f17, &[53, 2, 31, 0, 1])),
        ("legit_cs16_size200", legit(f200, &[100, 0, 255])),
        ("legit_cs64_size200", legit(f64_200, &[54, 80, 80, 80])),
        ("other_media_type", input(f17, 1, 0, &[], &blob(f17))),
        ("wrong_digest", input(f200, 2, 0, &[], &blob(f200))),
        (
            "wrong_digest_content",
            input(f17, 2, 0, &[7, 60], &blob(f17)),
        ),
        ("wrong_digest_format1", input(f16, 2, 0, &[], &blob(f16))),
        ("size_plus_1", input(f16, 3, 0, &[], &blob(f16))),
        ("size_minus_1", input(f200, 4, 0, &[], &blob(f200))),
        ("other_chunk_size", input(f17, 5, 0, &[], &blob(f17))),
        ("next_file_key", input(f17, 6, 0, &[], &blob(f17))),
        ("next_file_key_its_blob", input(f16, 6, 0, &[], &blob(f17))),
        ("size_max", input(f0, 7, 0, &[], &blob(f0))),
        ("xor_version", xor(f200, 0, &[0x03])),
        ("xor_kind", xor(f200, 1, &[0x01])),
        ("xor_chunk1_bit", xor(f200, at_chunk(1) + 3, &[0x80])),
        ("xor_last_tag", xor(f17, at_chunk(1) + 1, &[0x01])),
        ("trunc_in_header", truncate(f200, 30)),
        ("trunc_chunk_boundary", truncate(f200, at_chunk(2))),
        ("ext_one_byte", input(f17, 0, 3, &[], &[0])),
        ("swapped_chunks", input(f200, 0, 0, &[], &swapped)),
        (
            "descriptor_legit",
            input(f17, 0, 4, &[9], &fx.files[f17].descriptor.encode()),
        ),
        (
            "descriptor_other_media",
            input(f17, 0, 4, &[], &other_media),
        ),
    ]
}
