//! `letterseal demo`: the client and server flows, narrated.

use std::process::ExitCode;

use getrandom::SysRng;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::registration::{BundleContent, KeyBundle, RegistrationPolicy, VerifiedBundle};
use letterseal::safety_number::SafetyNumber;
use letterseal::time::Timestamp;
use rand_core::UnwrapErr;

/// A toy server store: which device each sealing key belongs to.
struct Server {
    policy: RegistrationPolicy,
    registered: Vec<VerifiedBundle>,
}

impl Server {
    fn register(&mut self, who: &str, wire: &[u8], now: Timestamp) {
        let registered = &self.registered;
        let directory = |key: &letterseal::keys::SealingPublicKey| {
            registered
                .iter()
                .find(|b| b.sealing_key() == key)
                .map(|b| b.owner().clone())
        };
        let pinned = KeyBundle::decode(wire).ok().and_then(|b| {
            registered
                .iter()
                .find(|r| r.owner() == &b.content().owner)
                .map(|r| *r.identity_key())
        });
        match KeyBundle::decode(wire)
            .and_then(|b| b.verify(&self.policy, now, pinned.as_ref(), &directory))
        {
            Ok(verified) => {
                println!(
                    "  server: accepted {who}'s bundle for {} (key id {})",
                    verified.owner(),
                    verified.sealing_key_id()
                );
                self.registered.push(verified);
            }
            Err(e) => println!("  server: REJECTED {who}'s bundle: {} — {e}", e.name()),
        }
    }
}

fn user(name: &str) -> Result<UserId, String> {
    UserId::new(name).map_err(|e| e.to_string())
}

pub(crate) fn run() -> Result<ExitCode, String> {
    let mut rng = UnwrapErr(SysRng);
    let now = Timestamp::from_unix_seconds(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs(),
    );
    let mut server = Server {
        policy: RegistrationPolicy::default(),
        registered: Vec::new(),
    };

    println!(
        "1. Alice and Bob each create a device: an Ed25519 identity key and an X25519 sealing key."
    );
    let mut alice = DeviceKeys::generate(
        &mut rng,
        DeviceAddress::new(user("alice")?, DeviceId::new(1)),
    );
    let mut bob =
        DeviceKeys::generate(&mut rng, DeviceAddress::new(user("bob")?, DeviceId::new(1)));
    let alice_bundle = alice.add_sealing_key(&mut rng, now, 30 * 86_400);
    let bob_bundle = bob.add_sealing_key(&mut rng, now, 30 * 86_400);
    println!(
        "   Each signs a key bundle ({} bytes) and uploads it.",
        alice_bundle.encode().len()
    );

    println!(
        "2. The server verifies each bundle (signature, key checks, key id, lifetime, duplicates)."
    );
    server.register("Alice", &alice_bundle.encode(), now);
    server.register("Bob", &bob_bundle.encode(), now);

    println!("3. Mallory registers Alice's sealing key under her own account (unknown key share).");
    let mut mallory = DeviceKeys::generate(
        &mut rng,
        DeviceAddress::new(user("mallory")?, DeviceId::new(1)),
    );
    let _ = mallory.add_sealing_key(&mut rng, now, 86_400);
    let stolen = BundleContent::new(
        mallory.address().clone(),
        mallory.identity().public_key(),
        alice_bundle.content().sealing_key,
        now,
        now.saturating_add(86_400),
    )
    .sign(mallory.identity());
    server.register("Mallory", &stolen.encode(), now);

    println!("4. An attacker on the network changes one byte of Bob's bundle.");
    let mut tampered = bob_bundle.encode();
    if let Some(byte) = tampered.get_mut(20) {
        *byte ^= 0x01;
    }
    server.register("Bob (tampered)", &tampered, now);

    println!("5. Bob rotates: a second sealing key under the same identity key; both stay live.");
    let rotated = bob.add_sealing_key(&mut rng, now, 30 * 86_400);
    server.register("Bob (rotation)", &rotated.encode(), now);
    println!(
        "   Bob's live key ids: {}",
        bob.live_key_ids()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    println!("6. Someone uploads a bundle for Bob's device signed by a different identity key.");
    let mut impostor = DeviceKeys::generate(&mut rng, bob.address().clone());
    let fake = impostor.add_sealing_key(&mut rng, now, 86_400);
    server.register("impostor", &fake.encode(), now);

    println!("7. Alice and Bob compare safety numbers out of band.");
    let a = (alice.address().user.clone(), alice.identity().public_key());
    let b = (bob.address().user.clone(), bob.identity().public_key());
    let at_alice = SafetyNumber::new((&a.0, &a.1), (&b.0, &b.1));
    let at_bob = SafetyNumber::new((&b.0, &b.1), (&a.0, &a.1));
    let digits = at_alice.digits();
    let groups: Vec<&str> = (0..12)
        .filter_map(|i| digits.get(i * 5..i * 5 + 5))
        .collect();
    println!("   Alice reads: {}", groups.join(" "));
    println!(
        "   Bob scans Alice's QR code: {}",
        if at_bob.matches_scanned(&at_alice.to_bytes()) {
            "match"
        } else {
            "MISMATCH"
        }
    );
    println!("Pairwise sessions, groups and attachments join this walk-through as they land.");
    Ok(ExitCode::SUCCESS)
}
