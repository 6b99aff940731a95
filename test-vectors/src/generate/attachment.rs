//! Generators of the attachment vector files (SPEC.md §9).
//!
//! Generation runs on fixed inputs made here, never on outside data, so fixed
//! indexes into blobs this module just sealed are allowed.
#![allow(clippy::indexing_slicing)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::pairwise::run;
use super::{Builder, h, random, rng};
use crate::VectorFile;
use letterseal::attachment::HEADER_LEN;

fn sealed(
    file_key: [u8; 32],
    salt: [u8; 16],
    chunk_size: u32,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), String> {
    sealed_with(file_key, salt, chunk_size, plaintext, "content")
}

fn sealed_with(
    file_key: [u8; 32],
    salt: [u8; 16],
    chunk_size: u32,
    plaintext: &[u8],
    binding: &str,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let out = run(
        "attachment-seal",
        &json!({ "fileKey": h(file_key), "salt": h(salt), "chunkSize": chunk_size, "mediaType": "application/octet-stream", "binding": binding, "plaintext": h(plaintext) }),
    )?;
    let get = |k: &str| -> Result<Vec<u8>, String> {
        hex::decode(out.get(k).and_then(Value::as_str).ok_or("missing")?).map_err(|e| e.to_string())
    };
    Ok((get("blob")?, get("descriptor")?))
}

pub(super) fn seal() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "attachment-seal",
        "9.2, 9.4",
        "Seal a small file: inputs fileKey, salt (16), chunkSize, mediaType (text), binding (\"content\" or \
         \"unbound\"), plaintext; outputs blob (header and chunks) and descriptor (format 2), or InvalidChunkSize.",
        &[
            ("InvalidChunkSize", "Chunk size outside 1 ... 2^24"),
            (
                "ChunkBoundary",
                "Size at or next to a multiple of the chunk size",
            ),
            ("Unbound", "Binding 0: no content digest in the descriptor"),
        ],
    );
    let mut r = rng("attachment-seal");
    for (len, cs, flags) in [
        (0usize, 16u32, &[][..]),
        (1, 16, &[][..]),
        (15, 16, &["ChunkBoundary"][..]),
        (16, 16, &["ChunkBoundary"][..]),
        (17, 16, &["ChunkBoundary"][..]),
        (100, 32, &[][..]),
        (64, 1, &[][..]),
    ] {
        let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
        b.valid(
            &alloc::format!("{len} bytes in chunks of {cs}"),
            flags,
            json!({ "fileKey": h(random::<32>(&mut r)), "salt": h(random::<16>(&mut r)), "chunkSize": cs, "mediaType": "image/jpeg", "binding": "content", "plaintext": h(plaintext) }),
        )?;
    }
    for (len, cs) in [(0usize, 16u32), (17, 16), (100, 32)] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i as u8) ^ 0x5a).collect();
        b.valid(
            &alloc::format!("unbound, {len} bytes in chunks of {cs}"),
            &["Unbound"],
            json!({ "fileKey": h(random::<32>(&mut r)), "salt": h(random::<16>(&mut r)), "chunkSize": cs, "mediaType": "video/mp4", "binding": "unbound", "plaintext": h(plaintext) }),
        )?;
    }
    for cs in [0u32, (1 << 24) + 1] {
        b.invalid(
            &alloc::format!("chunk size {cs}"),
            "InvalidChunkSize",
            json!({ "fileKey": h(random::<32>(&mut r)), "salt": h(random::<16>(&mut r)), "chunkSize": cs, "mediaType": "x", "binding": "content", "plaintext": "" }),
        )?;
    }
    b.finish()
}

pub(super) fn seal_hedged() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "attachment-seal-hedged",
        "9.1, 9.2, 9.4",
        "Hedged sealing of a whole buffer: inputs randomness (32, what the RNG gave), chunkSize, mediaType \
         (text), plaintext; outputs contentDigest, fileKey, salt, blob and descriptor, or InvalidChunkSize. \
         Several cases share one randomness (a replayed RNG): their file keys differ unless their plaintexts \
         are equal.",
        &[
            ("InvalidChunkSize", "Chunk size outside 1 ... 2^24"),
            (
                "ReplayedRandomness",
                "The same randomness as another case of this file",
            ),
        ],
    );
    let mut r = rng("attachment-seal-hedged");
    let replayed: [u8; 32] = random(&mut r);
    let plaintexts: [&[u8]; 5] = [
        b"",
        b"attack at dawn",
        b"attack at dusk",
        b"attack at dawn",
        &[0x42; 40],
    ];
    for (i, p) in plaintexts.iter().enumerate() {
        b.valid(
            &alloc::format!("plaintext {i} ({} bytes), replayed randomness", p.len()),
            &["ReplayedRandomness"],
            json!({ "randomness": h(replayed), "chunkSize": 16, "mediaType": "image/png", "plaintext": h(p) }),
        )?;
    }
    b.valid(
        "40 bytes, replayed randomness, chunks of 32 (the chunk size is bound)",
        &["ReplayedRandomness"],
        json!({ "randomness": h(replayed), "chunkSize": 32, "mediaType": "image/png", "plaintext": h([0x42u8; 40]) }),
    )?;
    b.valid(
        "40 bytes, fresh randomness",
        &[],
        json!({ "randomness": h(random::<32>(&mut r)), "chunkSize": 16, "mediaType": "image/png", "plaintext": h([0x42u8; 40]) }),
    )?;
    b.invalid(
        "chunk size 0",
        "InvalidChunkSize",
        json!({ "randomness": h(replayed), "chunkSize": 0, "mediaType": "x", "plaintext": "00" }),
    )?;
    b.finish()
}

pub(super) fn open() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "attachment-open",
        "9.3, 9.4",
        "Open a whole blob: inputs descriptor, blob; output plaintext, or the failed check.",
        &[
            (
                "UnsupportedVersion",
                "Header version other than 1, or descriptor version other than 1 and 2",
            ),
            (
                "Malformed",
                "Header kind other than 4, or a malformed descriptor (binding byte other than 0 and 1)",
            ),
            ("Unbound", "A format-2 descriptor with binding 0"),
            (
                "Format1",
                "A format-1 descriptor (SHA-256 of the blob), from before format 2",
            ),
            (
                "ChunkSizeMismatch",
                "Header chunk size differs from the descriptor's",
            ),
            (
                "CommitmentMismatch",
                "The header does not commit to the file key",
            ),
            (
                "ChunkAuthenticationFailed",
                "A chunk is tampered, reordered, from another file, or wrongly last",
            ),
            (
                "Truncated",
                "The stream ends inside the header or before any last chunk",
            ),
            ("TooLong", "More plaintext than the descriptor's size"),
            ("SizeMismatch", "Less plaintext than the descriptor's size"),
            (
                "DigestMismatch",
                "The plaintext's content digest (format 1: the blob's SHA-256) differs from the descriptor's",
            ),
        ],
    );
    let mut r = rng("attachment-open");
    let key: [u8; 32] = random(&mut r);
    let plaintext: Vec<u8> = (0..40u8).collect();
    let (blob, descriptor) = sealed(key, random(&mut r), 16, &plaintext)?;
    let (empty_blob, empty_desc) = sealed(random(&mut r), random(&mut r), 16, b"")?;
    b.valid(
        "40 bytes in chunks of 16",
        &[],
        json!({ "descriptor": h(&descriptor), "blob": h(&blob) }),
    )?;
    b.valid(
        "empty file",
        &[],
        json!({ "descriptor": h(&empty_desc), "blob": h(&empty_blob) }),
    )?;

    let case = |d: &[u8], bl: &[u8]| json!({ "descriptor": h(d), "blob": h(bl) });
    let mut v = blob.clone();
    v[0] = 2;
    b.invalid(
        "header version 2",
        "UnsupportedVersion",
        case(&descriptor, &v),
    )?;
    let mut k = blob.clone();
    k[1] = 5;
    b.invalid("header kind 5", "Malformed", case(&descriptor, &k))?;
    let mut d = descriptor.clone();
    d[0] = 9;
    b.invalid(
        "descriptor version 9",
        "UnsupportedVersion",
        case(&d, &blob),
    )?;
    b.invalid(
        "descriptor truncated",
        "Malformed",
        case(&descriptor[..descriptor.len() - 1], &blob),
    )?;
    let mut cs = blob.clone();
    cs[5] = 32;
    b.invalid(
        "header says chunks of 32",
        "ChunkSizeMismatch",
        case(&descriptor, &cs),
    )?;
    let mut c = blob.clone();
    c[30] ^= 1;
    b.invalid("salt modified", "CommitmentMismatch", case(&descriptor, &c))?;
    let mut wrong_key = descriptor.clone();
    wrong_key[1] ^= 1;
    b.invalid(
        "another file key",
        "CommitmentMismatch",
        case(&wrong_key, &blob),
    )?;
    let mut t = blob.clone();
    t[HEADER_LEN + 3] ^= 1;
    b.invalid(
        "chunk 0 modified",
        "ChunkAuthenticationFailed",
        case(&descriptor, &t),
    )?;
    let chunk = |i: usize| HEADER_LEN + i * 32..(HEADER_LEN + (i + 1) * 32).min(blob.len());
    let mut swapped = blob[..HEADER_LEN].to_vec();
    for i in [1, 0, 2] {
        swapped.extend_from_slice(&blob[chunk(i)]);
    }
    b.invalid(
        "chunks 0 and 1 swapped",
        "ChunkAuthenticationFailed",
        case(&descriptor, &swapped),
    )?;
    b.invalid(
        "last chunk dropped",
        "ChunkAuthenticationFailed",
        case(&descriptor, &blob[..chunk(2).start]),
    )?;
    let mut extended = blob.clone();
    extended.extend_from_slice(&blob[chunk(2)]);
    b.invalid(
        "last chunk duplicated",
        "ChunkAuthenticationFailed",
        case(&descriptor, &extended),
    )?;
    b.invalid(
        "header only",
        "Truncated",
        case(&descriptor, &blob[..HEADER_LEN]),
    )?;
    b.invalid(
        "cut inside the header",
        "Truncated",
        case(&descriptor, &blob[..20]),
    )?;
    let size_at = 1 + 32;
    let binding_at = size_at + 8 + 4;
    let mut smaller = descriptor.clone();
    smaller[size_at + 7] = 39;
    b.invalid("descriptor says 39 bytes", "TooLong", case(&smaller, &blob))?;
    let mut larger = descriptor.clone();
    larger[size_at + 7] = 41;
    b.invalid(
        "descriptor says 41 bytes",
        "SizeMismatch",
        case(&larger, &blob),
    )?;
    let mut digest = descriptor.clone();
    digest[binding_at + 1 + 4] ^= 1;
    b.invalid(
        "content digest modified",
        "DigestMismatch",
        case(&digest, &blob),
    )?;
    let mut binding = descriptor.clone();
    binding[binding_at] = 2;
    b.invalid("binding byte 2", "Malformed", case(&binding, &blob))?;
    // The same blob under an unbound descriptor (the binding is the sender's choice).
    let mut unbound = descriptor[..binding_at].to_vec();
    unbound.push(0);
    unbound.extend_from_slice(&descriptor[binding_at + 1 + 32..]);
    b.valid(
        "the same blob, unbound descriptor",
        &["Unbound"],
        case(&unbound, &blob),
    )?;
    let (ublob, udesc) = sealed_with(random(&mut r), random(&mut r), 16, &plaintext, "unbound")?;
    b.valid("unbound, 40 bytes", &["Unbound"], case(&udesc, &ublob))?;
    let mut utamper = ublob.clone();
    utamper[HEADER_LEN + 40] ^= 1;
    b.invalid(
        "unbound, chunk 1 modified",
        "ChunkAuthenticationFailed",
        case(&udesc, &utamper),
    )?;
    // Format 1 (before format 2): the same blob layout, SHA-256 of the blob in the descriptor.
    let format1 = |d: &[u8], bl: &[u8]| -> Vec<u8> {
        use sha2::Digest;
        let mut v = alloc::vec![1u8];
        v.extend_from_slice(&d[1..binding_at]);
        v.extend_from_slice(&sha2::Sha256::digest(bl));
        v.extend_from_slice(&d[binding_at + 1 + 32..]);
        v
    };
    let d1 = format1(&descriptor, &blob);
    b.valid(
        "format 1 descriptor, 40 bytes",
        &["Format1"],
        case(&d1, &blob),
    )?;
    let e1 = format1(&empty_desc, &empty_blob);
    b.valid(
        "format 1 descriptor, empty file",
        &["Format1"],
        case(&e1, &empty_blob),
    )?;
    let mut d1_bad = d1.clone();
    d1_bad[binding_at + 3] ^= 1;
    b.invalid(
        "format 1, blob digest modified",
        "DigestMismatch",
        case(&d1_bad, &blob),
    )?;
    b.invalid(
        "format 1, chunk 0 modified",
        "ChunkAuthenticationFailed",
        case(&d1, &t),
    )?;
    b.finish()
}

pub(super) fn chunk() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "attachment-chunk",
        "9.3",
        "Random access: inputs descriptor, header (54), index, chunk (the sealed chunk's bytes); output \
         plaintext, or InvalidChunk / ChunkAuthenticationFailed / CommitmentMismatch.",
        &[
            (
                "InvalidChunk",
                "Index past the end, or the wrong length for that index",
            ),
            (
                "ChunkAuthenticationFailed",
                "The chunk does not authenticate at that index",
            ),
            (
                "CommitmentMismatch",
                "The header does not commit to the file key",
            ),
        ],
    );
    let mut r = rng("attachment-chunk");
    let plaintext: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(7)).collect();
    let (blob, descriptor) = sealed(random(&mut r), random(&mut r), 16, &plaintext)?;
    let header = &blob[..HEADER_LEN];
    let chunk = |i: usize| &blob[HEADER_LEN + i * 32..(HEADER_LEN + (i + 1) * 32).min(blob.len())];
    let case = |index: u32, c: &[u8]| json!({ "descriptor": h(&descriptor), "header": h(header), "index": index, "chunk": h(c) });
    for i in 0..3u32 {
        b.valid(
            &alloc::format!("chunk {i}"),
            &[],
            case(i, chunk(i as usize)),
        )?;
    }
    b.invalid("index 3 is past the end", "InvalidChunk", case(3, chunk(2)))?;
    b.invalid(
        "chunk 0 at index 2 (wrong length)",
        "InvalidChunk",
        case(2, chunk(0)),
    )?;
    b.invalid(
        "chunk 0 at index 1",
        "ChunkAuthenticationFailed",
        case(1, chunk(0)),
    )?;
    let mut flipped = chunk(1).to_vec();
    flipped[31] ^= 1;
    b.invalid(
        "tag modified",
        "ChunkAuthenticationFailed",
        case(1, &flipped),
    )?;
    let mut bad_header = header.to_vec();
    bad_header[53] ^= 1;
    b.invalid(
        "commitment modified",
        "CommitmentMismatch",
        json!({ "descriptor": h(&descriptor), "header": h(bad_header), "index": 0, "chunk": h(chunk(0)) }),
    )?;
    b.finish()
}
