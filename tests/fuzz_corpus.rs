//! Replays the fuzz seed corpora (`fuzz/corpus/<target>/`) through the same
//! checks as the cargo-fuzz targets in `fuzz/fuzz_targets/`, so the corpora
//! are exercised by every `cargo test` without a nightly toolchain.
//!
//! Each `check_*` function below is a copy of the `check` function of the
//! fuzz target with the same name; keep them in step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use letterseal::codec::{DecodeError, Reader};
use letterseal::keys::{KeyError, SealingPublicKey, SealingSecretKey};
use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy};

/// Every file of `fuzz/corpus/<target>/`, sorted by name, with its contents.
/// Fails if the directory is missing or empty.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let data = fs::read(&path).unwrap();
            (name, data)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no seed files", dir.display());
    files
}

/// Runs `check` on every seed of `target`, naming the seed if a check fails.
fn replay(target: &str, check: fn(&[u8])) -> Vec<(String, Vec<u8>)> {
    let files = corpus(target);
    for (name, data) in &files {
        let outcome = catch_unwind(AssertUnwindSafe(|| check(data)));
        assert!(
            outcome.is_ok(),
            "fuzz/corpus/{target}/{name} fails the {target} checks (input: {})",
            hex::encode(data)
        );
    }
    files
}

// ---- bundle_verify --------------------------------------------------------

fn check_bundle_verify(data: &[u8]) {
    let Ok(bundle) = KeyBundle::decode(data) else {
        return;
    };
    assert_eq!(
        bundle.encode(),
        data,
        "a decoded bundle must re-encode to the input bytes"
    );
    let content = bundle.content().clone();
    let now = content.not_before;
    if let Ok(verified) = bundle.verify(&RegistrationPolicy::default(), now, None, &NoDirectory) {
        assert_eq!(verified.owner(), &content.owner);
        assert_eq!(verified.identity_key(), &content.identity_key);
        assert_eq!(verified.sealing_key(), &content.sealing_key);
        assert!(verified.sealing_key().validate().is_ok());
        assert_eq!(verified.sealing_key_id(), verified.sealing_key().key_id());
        assert_eq!(verified.validity(), (content.not_before, content.not_after));
        assert!(content.not_before < content.not_after);
        assert_eq!(verified.bundle().encode(), data);
    }
}

#[test]
fn bundle_verify_corpus() {
    let files = replay("bundle_verify", check_bundle_verify);
    // The corpus must reach the deep checks: some seeds verify.
    let verified = files
        .iter()
        .filter(|(_, data)| {
            KeyBundle::decode(data)
                .and_then(|b| {
                    let now = b.content().not_before;
                    b.verify(&RegistrationPolicy::default(), now, None, &NoDirectory)
                })
                .is_ok()
        })
        .count();
    assert!(
        verified > 0,
        "no seed in fuzz/corpus/bundle_verify verifies"
    );
}

// ---- codec_reader ---------------------------------------------------------

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

fn check_codec_reader(data: &[u8]) {
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

#[test]
fn codec_reader_corpus() {
    replay("codec_reader", check_codec_reader);
}

// ---- sealing_key_checks ---------------------------------------------------

fn check_sealing_key_checks(data: &[u8]) {
    let Ok(bytes) = <&[u8; 64]>::try_from(data) else {
        return;
    };
    let (pk_bytes, sk_bytes) = bytes.split_at(32);
    let mut pk_arr = [0u8; 32];
    pk_arr.copy_from_slice(pk_bytes);
    let mut sk_arr = [0u8; 32];
    sk_arr.copy_from_slice(sk_bytes);

    let pk = SealingPublicKey::from_bytes(pk_arr);
    let canonical = pk.is_canonical();
    let small = pk.has_small_order();
    let expected = if !canonical {
        Err(KeyError::NonCanonicalSealingKey)
    } else if small {
        Err(KeyError::SmallOrderSealingKey)
    } else {
        Ok(())
    };
    assert_eq!(pk.validate(), expected);
    assert_eq!(pk.key_id(), SealingPublicKey::from_bytes(pk_arr).key_id());

    let sk = SealingSecretKey::from_bytes(&sk_arr);
    match sk.agree(&pk) {
        Ok(shared) => {
            assert!(!small, "agree succeeded for a small-order key {pk:?}");
            assert_ne!(shared.as_bytes(), &[0u8; 32]);
        }
        Err(e) => {
            assert_eq!(e, KeyError::NonContributory);
            assert!(
                small,
                "agree was non-contributory for a key not of small order {pk:?}"
            );
        }
    }
}

#[test]
fn sealing_key_checks_corpus() {
    let files = replay("sealing_key_checks", check_sealing_key_checks);
    // Only 64-byte inputs are checked; a corpus of other sizes would test nothing.
    assert!(
        files.iter().all(|(_, data)| data.len() == 64),
        "every seed in fuzz/corpus/sealing_key_checks must be 64 bytes"
    );
}
