//! Fuzz target: strict decoding of the pairwise message header (SPEC.md §7.3).
//!
//! `Header::decode` reads from the front of a `codec::Reader` over the input
//! (the rest of a message follows the header, so trailing bytes are allowed).
//! It must never panic. A decoded header must have consumed exactly its own
//! encoding: re-encoding gives the bytes it was read from (one encoding per
//! header), `bound()` is those bytes without the last 48 (salt and
//! commitment), the flags match the optional fields, the ratchet key is valid
//! and `n < 2^32 − 1`; decoding the re-encoding gives the same header. A
//! failed decode reports `UnknownVersion(v)` exactly when the first byte is
//! some `v != 2`.
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
use letterseal::pairwise::{FLAG_INIT, FLAG_KEM_STEP, FLAG_ONE_TIME, Header, VERSION};

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let mut reader = Reader::new(data);
    let result = Header::decode(&mut reader);
    let consumed = data.len() - reader.remaining();
    match result {
        Ok(header) => {
            let encoded = header.encode();
            assert_eq!(
                consumed,
                encoded.len(),
                "a header consumes its own encoding"
            );
            assert_eq!(
                &encoded[..],
                &data[..consumed],
                "a decoded header must re-encode to the bytes it was read from"
            );
            assert_eq!(&header.bound()[..], &data[..consumed - 48]);
            let flags = data[2];
            assert_eq!(header.init.is_some(), flags & FLAG_INIT != 0);
            assert_eq!(
                header
                    .init
                    .as_ref()
                    .is_some_and(|i| i.one_time_key_id.is_some()),
                flags & FLAG_ONE_TIME != 0
            );
            assert_eq!(header.kem_step.is_some(), flags & FLAG_KEM_STEP != 0);
            assert!(header.ratchet_key.validate().is_ok());
            assert!(header.n < u32::MAX);
            assert_eq!(
                header.content_type.code(),
                u16::from_be_bytes([data[3], data[4]]),
                "content types are carried through unchanged"
            );
            let mut again = Reader::new(&encoded);
            assert_eq!(Header::decode(&mut again), Ok(header));
            assert_eq!(again.remaining(), 0);
        }
        Err(e) => match data.first() {
            Some(v) if *v != VERSION => assert_eq!(e, DecodeError::UnknownVersion(*v)),
            _ => assert!(!matches!(e, DecodeError::UnknownVersion(_)), "{e:?}"),
        },
    }
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// Whether `data` starts with a header that decodes (the re-encoding checks run).
#[cfg(test)]
pub(crate) fn decodes(data: &[u8]) -> bool {
    Header::decode(&mut Reader::new(data)).is_ok()
}
