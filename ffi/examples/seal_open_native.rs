//! The native side of the Python timing in `ffi/python/timing.py`: alice seals
//! 1 KiB to bob with `seal_to_user` and bob opens it with `receive`, the same
//! loop the Python script runs through the bindings, with the same OS
//! generator. Prints microseconds per seal+open. Run through
//! `ffi/python/run_tests.sh`, or `cargo run -p letterseal-ffi --example seal_open_native -- 500`.

use std::error::Error;
use std::time::Instant;

use getrandom::SysRng;
use letterseal::account::{Account, Event};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::ContentType;
use letterseal::time::Timestamp;
use rand_core::UnwrapErr;

fn main() -> Result<(), Box<dyn Error>> {
    let iterations: u32 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(500);
    let mut rng = UnwrapErr(SysRng);
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    let mut alice = Account::create_primary(
        &mut rng,
        now,
        DeviceAddress::new(alice_id, DeviceId::new(1)),
    );
    let mut bob = Account::create_primary(
        &mut rng,
        now,
        DeviceAddress::new(bob_id.clone(), DeviceId::new(1)),
    );
    for upload in bob.uploads(&mut rng, now)? {
        alice.receive(now, &upload)?;
    }
    for upload in alice.uploads(&mut rng, now)? {
        bob.receive(now, &upload)?;
    }
    let plaintext = [0x5a_u8; 1024];
    let mut round = |alice: &mut Account, bob: &mut Account| -> Result<(), Box<dyn Error>> {
        for out in alice.seal_to_user(&mut rng, now, &bob_id, ContentType::Text, &plaintext)? {
            match bob.receive(now, &out.envelope)? {
                Event::Message { plaintext: p, .. } if p.len() == 1024 => {}
                other => return Err(format!("unexpected {other:?}").into()),
            }
        }
        Ok(())
    };
    // Warm-up: the first message starts the session.
    for _ in 0..10 {
        round(&mut alice, &mut bob)?;
    }
    let start = Instant::now();
    for _ in 0..iterations {
        round(&mut alice, &mut bob)?;
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    println!("native_us_per_seal_open={micros:.1}");
    Ok(())
}
