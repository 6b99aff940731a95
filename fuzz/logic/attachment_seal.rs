//! Fuzz target: sealing LS3 attachments (SPEC.md §9.1–§9.2, §9.4) through the
//! streaming sealer's caller-buffer forms, with short, exact and roomy buffers.
//!
//! Input: `chunk ‖ mode ‖ n ‖ n × (piece length, slack) ‖ plaintext`.
//!
//! - `chunk` (mod 5) picks the chunk size: 1, 2, 16, 64 or 100.
//! - `mode` (mod 4): content-bound; unbound; hedged with the plaintext's own
//!   digest; hedged with the digest of another plaintext (the caller's mistake).
//! - each of the `n` (mod 32) ops feeds the next `piece length` bytes of the
//!   plaintext to `update_into` with an output buffer of `update_len + slack - 1`
//!   bytes (`slack` mod 4: one byte short, exact, or larger); then `finish_into`
//!   the same way with the last op's slack; the rest of the plaintext goes in
//!   one exact piece before it.
//!
//! Checks:
//!
//! - nothing panics;
//! - a buffer one byte short is refused with `BufferTooSmall`, left untouched,
//!   and the sealer goes on as if the call had not happened (the next, roomy
//!   call succeeds);
//! - a call writes exactly `update_len` / `finish_len` bytes, and nothing past
//!   them in a larger buffer;
//! - the blob equals the one the allocating `update`/`finish` produce with the
//!   same key, salt and binding from the whole plaintext in one piece, and the
//!   descriptor too (so the output does not depend on how the input was cut);
//! - the blob opens to the plaintext with its descriptor, streaming and with
//!   `attachment::open_into`; a content-bound descriptor carries the
//!   plaintext's content digest, an unbound one none;
//! - hedged: the descriptor equals `attachment::seal_into`'s with the same
//!   randomness; with the wrong digest `finish_into` fails with
//!   `ContentDigestMismatch`, leaves zeros where it wrote, and every later call
//!   is `Finished`.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/attachment_seal.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`. The seeds in `fuzz/corpus/attachment_seal/` are
//! written by `seeds` below (`cargo test -p letterseal-repo-tests --test fuzz_corpus -- --ignored
//! regenerate_attachment_seal_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::attachment::{
    AttachmentError, AttachmentOpener, AttachmentSealer, Binding, BindingMode, ContentDigest,
    FileDescriptor, FileKey, HEADER_LEN, SALT_LEN, open_into, seal_into, sealed_len,
};
use rand_core::{TryCryptoRng, TryRng};

const CHUNK_SIZES: [u32; 5] = [1, 2, 16, 64, 100];
const MEDIA: &str = "image/webp";
const FILE_KEY: [u8; 32] = [0x3c; 32];
const SALT: [u8; SALT_LEN] = [0x7e; SALT_LEN];
const RANDOMNESS_BYTE: u8 = 0x42;

/// An RNG that always gives the same bytes (the hedged modes' randomness).
struct Fixed;
impl TryRng for Fixed {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes([RANDOMNESS_BYTE; 4]))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes([RANDOMNESS_BYTE; 8]))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(RANDOMNESS_BYTE);
        Ok(())
    }
}
impl TryCryptoRng for Fixed {}

struct Input<'a> {
    chunk_size: u32,
    mode: u8,
    ops: Vec<(usize, usize)>,
    plaintext: &'a [u8],
}

fn parse(data: &[u8]) -> Option<Input<'_>> {
    let [chunk, mode, n, rest @ ..] = data else {
        return None;
    };
    let n = usize::from(n % 32).min(rest.len() / 2);
    let (ops, plaintext) = rest.split_at(2 * n);
    Some(Input {
        chunk_size: CHUNK_SIZES[usize::from(*chunk) % CHUNK_SIZES.len()],
        mode: mode % 4,
        ops: ops
            .chunks(2)
            .map(|op| (usize::from(op[0]), usize::from(op[1] % 4)))
            .collect(),
        plaintext,
    })
}

fn sealer(input: &Input<'_>) -> AttachmentSealer {
    match input.mode {
        0 | 1 => AttachmentSealer::with_key_and_binding(
            FileKey::from_bytes(FILE_KEY),
            SALT,
            input.chunk_size,
            MEDIA,
            if input.mode == 0 {
                BindingMode::Content
            } else {
                BindingMode::Unbound
            },
        )
        .unwrap(),
        2 => AttachmentSealer::new_hedged(
            &mut Fixed,
            &ContentDigest::of(input.plaintext),
            input.chunk_size,
            MEDIA,
        )
        .unwrap(),
        _ => {
            let mut other = input.plaintext.to_vec();
            other.push(0);
            AttachmentSealer::new_hedged(
                &mut Fixed,
                &ContentDigest::of(&other),
                input.chunk_size,
                MEDIA,
            )
            .unwrap()
        }
    }
}

/// One call with a buffer of `needed + slack - 1` bytes (slack 0: one short).
/// Returns the bytes written, or the error of a call with enough room.
fn call(
    needed: usize,
    slack: usize,
    mut f: impl FnMut(&mut [u8]) -> Result<usize, AttachmentError>,
) -> Result<Vec<u8>, AttachmentError> {
    if slack == 0 && needed > 0 {
        let mut short = vec![0xa5u8; needed - 1];
        assert_eq!(
            f(&mut short),
            Err(AttachmentError::BufferTooSmall {
                needed,
                actual: needed - 1
            })
        );
        assert!(
            short.iter().all(|&b| b == 0xa5),
            "a short buffer was written"
        );
    }
    let room = needed + slack.max(1) - 1;
    let mut out = vec![0xa5u8; room];
    let n = f(&mut out)?;
    assert_eq!(n, needed, "wrote other than the announced length");
    assert!(
        out[n..].iter().all(|&b| b == 0xa5),
        "wrote past the announced length"
    );
    out.truncate(n);
    Ok(out)
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some(input) = parse(data) else {
        return;
    };
    let mut s = sealer(&input);
    let mut blob = s.header().to_vec();
    let mut rest = input.plaintext;
    let mut last_slack = 1;
    for &(len, slack) in &input.ops {
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        let needed = s.update_len(piece.len());
        blob.extend(call(needed, slack, |out| s.update_into(piece, out)).unwrap());
        last_slack = slack;
    }
    let needed = s.update_len(rest.len());
    blob.extend(call(needed, 1, |out| s.update_into(rest, out)).unwrap());
    let needed = s.finish_len();
    let mut descriptor = None;
    let finished = call(needed, last_slack, |out| {
        s.finish_into(out).map(|(n, d)| {
            descriptor = Some(d);
            n
        })
    });
    if input.mode == 3 {
        assert_eq!(finished, Err(AttachmentError::ContentDigestMismatch));
        let mut out = vec![0u8; 1 << 8];
        assert_eq!(s.finish_into(&mut out), Err(AttachmentError::Finished));
        assert_eq!(
            s.update_into(b"x", &mut out),
            Err(AttachmentError::Finished)
        );
        return;
    }
    blob.extend(finished.unwrap());
    let descriptor = descriptor.unwrap();
    assert_eq!(
        Some(blob.len()),
        sealed_len(input.plaintext.len() as u64, input.chunk_size)
    );

    // The same from the allocating forms in one piece.
    let mut whole = sealer(&input);
    let mut again = whole.header().to_vec();
    again.extend(whole.update(input.plaintext).unwrap());
    let (last, d2) = whole.finish().unwrap();
    again.extend(last);
    assert!(again == blob, "the blob depends on how the input was cut");
    assert_eq!(d2, descriptor);
    match (input.mode, descriptor.binding) {
        (1, Binding::Unbound) => {}
        (0 | 2, Binding::Content(d)) => assert_eq!(d, ContentDigest::of(input.plaintext)),
        (mode, binding) => panic!("mode {mode} gave binding {binding:?}"),
    }
    if input.mode == 2 {
        let mut one_shot = vec![0u8; blob.len()];
        let d3 = seal_into(
            &mut Fixed,
            input.plaintext,
            input.chunk_size,
            MEDIA,
            &mut one_shot,
        )
        .unwrap();
        assert!(
            one_shot == blob && d3 == descriptor,
            "hedged forms disagree"
        );
    }
    assert_opens(&blob, &descriptor, input.plaintext);
}

fn assert_opens(blob: &[u8], descriptor: &FileDescriptor, plaintext: &[u8]) {
    let mut o = AttachmentOpener::new(descriptor);
    let mut opened = o.update(blob).unwrap().to_vec();
    opened.extend_from_slice(&o.finish().unwrap());
    assert!(opened == plaintext, "streaming open differs");
    let mut out = vec![0u8; plaintext.len()];
    open_into(descriptor, blob, &mut out).unwrap();
    assert!(out == plaintext, "open_into differs");
    assert!(blob.len() >= HEADER_LEN + 16);
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// The seeds: every mode and chunk size, with short, exact and roomy buffers.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let plain: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(13)).collect();
    let input = |chunk: u8, mode: u8, ops: &[(u8, u8)], len: usize| -> Vec<u8> {
        let mut v = vec![chunk, mode, u8::try_from(ops.len()).unwrap()];
        for &(l, s) in ops {
            v.extend_from_slice(&[l, s]);
        }
        v.extend_from_slice(&plain[..len]);
        v
    };
    vec![
        (
            "content_cs16_short_buffers",
            input(2, 0, &[(5, 0), (40, 0), (0, 0)], 120),
        ),
        ("content_cs1_exact", input(0, 0, &[(3, 1), (7, 1)], 20)),
        (
            "unbound_cs64_roomy",
            input(3, 1, &[(64, 3), (64, 2), (1, 0)], 200),
        ),
        ("unbound_empty", input(4, 1, &[], 0)),
        ("hedged_cs100", input(4, 2, &[(99, 1), (2, 0)], 200)),
        (
            "hedged_cs2_boundaries",
            input(1, 2, &[(2, 1), (2, 0), (1, 3)], 9),
        ),
        ("hedged_wrong_digest", input(2, 3, &[(16, 1)], 33)),
        ("hedged_wrong_digest_empty", input(2, 3, &[], 0)),
    ]
}

/// What an input reaches: the mode's name, or "short input".
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> &'static str {
    match parse(data).map(|i| i.mode) {
        None => "short input",
        Some(0) => "content",
        Some(1) => "unbound",
        Some(2) => "hedged",
        Some(_) => "ContentDigestMismatch",
    }
}
