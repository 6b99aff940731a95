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
use crate::attachment::HEADER_LEN;
use crate::vectors::VectorFile;

fn sealed(
    file_key: [u8; 32],
    salt: [u8; 16],
    chunk_size: u32,
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let out = run(
        "attachment-seal",
        &json!({ "fileKey": h(file_key), "salt": h(salt), "chunkSize": chunk_size, "mediaType": "application/octet-stream", "plaintext": h(plaintext) }),
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
        "Seal a small file: inputs fileKey, salt (16), chunkSize, mediaType (text), plaintext; outputs blob \
         (header and chunks) and descriptor, or InvalidChunkSize.",
        &[
            ("InvalidChunkSize", "Chunk size outside 1 ... 2^24"),
            (
                "ChunkBoundary",
                "Size at or next to a multiple of the chunk size",
            ),
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
            json!({ "fileKey": h(random::<32>(&mut r)), "salt": h(random::<16>(&mut r)), "chunkSize": cs, "mediaType": "image/jpeg", "plaintext": h(plaintext) }),
        )?;
    }
    for cs in [0u32, (1 << 24) + 1] {
        b.invalid(
            &alloc::format!("chunk size {cs}"),
            "InvalidChunkSize",
            json!({ "fileKey": h(random::<32>(&mut r)), "salt": h(random::<16>(&mut r)), "chunkSize": cs, "mediaType": "x", "plaintext": "" }),
        )?;
    }
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
                "Header or descriptor version other than 1",
            ),
            (
                "Malformed",
                "Header kind other than 4, or a malformed descriptor",
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
                "The blob's SHA-256 differs from the descriptor's",
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
    digest[size_at + 8 + 4] ^= 1;
    b.invalid("digest modified", "DigestMismatch", case(&digest, &blob))?;
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
