//! The attachment sealer and opener allocate nothing per chunk (issue 17): after creation,
//! their caller-buffer forms (`update_into`, `finish_into`) allocate nothing at all, however
//! many chunks go through. Counted with `allocation-counter`'s global allocator, which only
//! this test binary links.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use letterseal::attachment::{
    AttachmentOpener, AttachmentSealer, BindingMode, HEADER_LEN, RandomAccess, VerifiedOpener,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const CS: u32 = 4096;
const PIECE: usize = 10_000;

#[test]
fn caller_buffer_forms_allocate_nothing_per_chunk() {
    for binding in [BindingMode::Content, BindingMode::Unbound] {
        let plain: Vec<u8> = (0..64 * CS as usize + 123).map(|i| i as u8).collect();
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let mut sealer = AttachmentSealer::new_with_binding(&mut rng, CS, "x", binding).unwrap();
        let mut blob =
            vec![0u8; letterseal::attachment::sealed_len(plain.len() as u64, CS).unwrap()];
        blob[..HEADER_LEN].copy_from_slice(sealer.header());
        let mut at = HEADER_LEN;
        let mut descriptor = None;
        let sealing = allocation_counter::measure(|| {
            for piece in plain.chunks(PIECE) {
                at += sealer.update_into(piece, &mut blob[at..]).unwrap();
            }
            let (n, d) = sealer.finish_into(&mut blob[at..]).unwrap();
            at += n;
            descriptor = Some(d);
        });
        assert_eq!(at, blob.len());
        // `finish_into` hands out the descriptor, which owns its media type (one `String`).
        assert!(sealing.count_total <= 1, "sealing allocated {sealing:?}");
        let d = descriptor.unwrap();

        let mut opener = AttachmentOpener::new(&d);
        let mut out = vec![0u8; plain.len()];
        let mut opened = 0;
        let opening = allocation_counter::measure(|| {
            for piece in blob.chunks(PIECE) {
                opened += opener.update_into(piece, &mut out[opened..]).unwrap();
            }
            opened += opener.finish_into(&mut out[opened..]).unwrap();
        });
        assert_eq!(opening.count_total, 0, "opening allocated {opening:?}");
        assert_eq!((opened, &out), (plain.len(), &plain));

        let mut verified_out = vec![0u8; plain.len()];
        let mut v = VerifiedOpener::new(&d, &mut verified_out).unwrap();
        let verifying = allocation_counter::measure(|| {
            for piece in blob.chunks(PIECE) {
                v.update(piece).unwrap();
            }
        });
        assert_eq!(
            verifying.count_total, 0,
            "verified opening allocated {verifying:?}"
        );
        assert_eq!(v.finish().unwrap(), &plain[..]);

        let access = RandomAccess::new(&d, &blob[..HEADER_LEN]).unwrap();
        let mut chunk = vec![0u8; CS as usize];
        let random = allocation_counter::measure(|| {
            for i in 0..64u32 {
                let range = access.chunk_range(i).unwrap();
                access.open_chunk_into(i, &blob[range], &mut chunk).unwrap();
            }
        });
        assert_eq!(random.count_total, 0, "random access allocated {random:?}");
    }
}
