//! Fuzz target: strict decoding of the pairwise message header (SPEC.md §7.3).
//!
//! `Header::decode` reads from the front of a `codec::Reader` over the input
//! (the rest of a message follows the header, so trailing bytes are allowed).
//! It must never panic; it must succeed exactly when the input starts with
//! version 1 and kind 1 and holds at least 92 bytes; a decoded header must
//! have consumed exactly 92 bytes, and re-encode to exactly those bytes (one
//! encoding per header), with `bound_fields()` their first 44 bytes. A failed
//! decode reports `UnknownVersion(v)` for a version byte `v != 1`,
//! `InvalidValue` for a kind other than 1, and `Truncated` otherwise.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/pairwise_header.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::codec::{DecodeError, Reader};
use letterseal::pairwise::{BOUND_FIELDS_LEN, HEADER_LEN, Header, KIND_PAIRWISE, VERSION};

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let mut reader = Reader::new(data);
    let result = Header::decode(&mut reader);
    let consumed = data.len() - reader.remaining();
    let well_formed = data.len() >= HEADER_LEN && data[0] == VERSION && data[1] == KIND_PAIRWISE;
    match result {
        Ok(header) => {
            assert!(well_formed, "decoded a header from {} bytes", data.len());
            assert_eq!(
                consumed, HEADER_LEN,
                "a header is exactly {HEADER_LEN} bytes"
            );
            let encoded = header.encode();
            assert_eq!(
                &encoded[..],
                &data[..HEADER_LEN],
                "a decoded header must re-encode to the bytes it was read from"
            );
            assert_eq!(&header.bound_fields()[..], &data[..BOUND_FIELDS_LEN]);
            assert_eq!(
                header.content_type.code(),
                u16::from_be_bytes([data[2], data[3]]),
                "content types are carried through unchanged"
            );
            let mut again = Reader::new(&encoded);
            assert_eq!(Header::decode(&mut again), Ok(header));
            assert_eq!(again.remaining(), 0);
        }
        Err(e) => {
            assert!(!well_formed, "rejected a well-formed header: {e:?}");
            let expected = match data {
                [v, ..] if *v != VERSION => DecodeError::UnknownVersion(*v),
                [_, k, ..] if *k != KIND_PAIRWISE => DecodeError::InvalidValue,
                _ => DecodeError::Truncated,
            };
            assert_eq!(e, expected);
        }
    }
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// Whether `data` starts with a header that decodes (the re-encoding checks run).
#[cfg(test)]
pub(crate) fn decodes(data: &[u8]) -> bool {
    Header::decode(&mut Reader::new(data)).is_ok()
}
