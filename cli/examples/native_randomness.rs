//! The native-randomness snippet of README.md ("Using it in your app"), compiled here because
//! this crate depends on getrandom (the library does not, so its README doctests cannot compile
//! this one). `cli/tests/readme.rs` checks that README.md shows exactly the lines between the
//! markers. Run: `cargo run -p letterseal-cli --example native_randomness`.

use letterseal::time::Timestamp;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // README snippet: start
    use getrandom::SysRng;
    use letterseal::device::DeviceKeys;
    use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    use rand_core::UnwrapErr;

    // The operating system's generator. UnwrapErr panics in the rare case that the OS cannot
    // provide randomness; every letterseal function that needs randomness takes `&mut rng`.
    let mut rng = UnwrapErr(SysRng);
    let me = DeviceAddress::new(UserId::new("alice@example.org")?, DeviceId::new(1));
    let mut device = DeviceKeys::generate(&mut rng, me);
    // README snippet: end

    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let bundle = device.add_sealing_key(&mut rng, now, 30 * 86_400).encode();
    println!(
        "a {}-byte key bundle for {}",
        bundle.len(),
        device.address()
    );
    Ok(())
}
