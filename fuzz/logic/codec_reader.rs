//! Fuzz target: `letterseal::codec::Reader` driven by a byte-coded program.
//!
//! Input layout: `u8(k) ‖ program (k bytes, or fewer if the input is short) ‖
//! input for the reader`. Each program byte selects an operation (low nibble
//! modulo 11) and a parameter (high nibble). After every operation the reader
//! must not have panicked, `remaining()` must not have grown, a successful
//! read must have consumed exactly its size and returned exactly the bytes at
//! the current position, and a failed fixed-size read must have consumed
//! nothing. `finish` must succeed exactly when nothing is left.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/codec_reader.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::codec::{DecodeError, Reader};

/// Checks a fixed-size read that returned `got` (or failed) when `before`
/// bytes were left, starting at `pos` in `input`.
fn fixed(
    input: &[u8],
    pos: usize,
    before: usize,
    after: usize,
    n: usize,
    got: Result<&[u8], DecodeError>,
) {
    match got {
        Ok(bytes) => {
            assert!(before >= n);
            assert_eq!(before - after, n);
            assert_eq!(bytes, &input[pos..pos + n]);
        }
        Err(e) => {
            assert_eq!(e, DecodeError::Truncated);
            assert!(before < n, "read of {n} failed with {before} bytes left");
            assert_eq!(after, before, "a failed fixed-size read consumed input");
        }
    }
}

/// Checks a length-prefixed read with a `prefix`-byte length.
fn prefixed(
    input: &[u8],
    pos: usize,
    before: usize,
    after: usize,
    prefix: usize,
    got: Result<&[u8], DecodeError>,
) {
    match got {
        Ok(bytes) => {
            assert_eq!(before - after, prefix + bytes.len());
            let len_bytes = &input[pos..pos + prefix];
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            assert_eq!(bytes.len(), len);
            assert_eq!(bytes, &input[pos + prefix..pos + prefix + len]);
        }
        Err(e) => {
            assert_eq!(e, DecodeError::Truncated);
            // Either the prefix itself was short (nothing consumed) or the
            // body was (only the prefix consumed).
            assert!(after == before || before - after == prefix);
        }
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let (program, input) = rest.split_at(usize::from(k).min(rest.len()));
    let mut reader = Reader::new(input);
    for &op in program {
        let before = reader.remaining();
        let pos = input.len() - before;
        let param = usize::from(op >> 4);
        match op & 0x0f {
            0 => {
                let got = reader.u8().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 1, got.as_deref().map_err(|e| *e));
            }
            1 => {
                let got = reader.u16().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 2, got.as_deref().map_err(|e| *e));
            }
            2 => {
                let got = reader.u32().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 4, got.as_deref().map_err(|e| *e));
            }
            3 => {
                let got = reader.u64().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 8, got.as_deref().map_err(|e| *e));
            }
            4 => {
                let got = reader.bytes_u8();
                let after = reader.remaining();
                prefixed(input, pos, before, after, 1, got);
            }
            5 => {
                let got = reader.bytes_u32();
                let after = reader.remaining();
                prefixed(input, pos, before, after, 4, got);
            }
            6 => {
                let (n, got) = match param % 5 {
                    0 => (0, reader.array::<0>().map(|a| a.to_vec())),
                    1 => (1, reader.array::<1>().map(|a| a.to_vec())),
                    2 => (16, reader.array::<16>().map(|a| a.to_vec())),
                    3 => (32, reader.array::<32>().map(|a| a.to_vec())),
                    _ => (64, reader.array::<64>().map(|a| a.to_vec())),
                };
                let after = reader.remaining();
                fixed(input, pos, before, after, n, got.as_deref().map_err(|e| *e));
            }
            7 => {
                let n = match param {
                    15 => usize::MAX,
                    14 => before.saturating_add(1),
                    _ => param * 3,
                };
                let got = reader.take(n);
                let after = reader.remaining();
                fixed(input, pos, before, after, n, got);
            }
            8 => {
                let got = reader.rest();
                assert_eq!(got, &input[pos..]);
                assert_eq!(reader.remaining(), 0);
            }
            9 => {
                let ok = reader.finish().is_ok();
                assert_eq!(ok, before == 0);
                return;
            }
            _ => assert_eq!(reader.remaining(), before),
        }
        assert!(reader.remaining() <= before, "remaining() grew");
    }
    let left = reader.remaining();
    match reader.finish() {
        Ok(()) => assert_eq!(left, 0),
        Err(e) => {
            assert_eq!(e, DecodeError::TrailingBytes);
            assert!(left > 0);
        }
    }
}
