//! `letterseal demo`: the client and server flows, narrated.

use std::process::ExitCode;

use getrandom::SysRng;
use std::collections::BTreeMap;

use letterseal::device::DeviceKeys;
use letterseal::group::{
    GracePolicy, Group, GroupError, GroupId, RosterPolicy, VerifiedDistribution,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::SealingKeyId;
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{
    BundleContent, ExpectedOwner, KeyBundle, RegistrationPolicy, VerifiedBundle,
};
use letterseal::safety_number::SafetyNumber;
use letterseal::time::Timestamp;
use rand_core::UnwrapErr;

/// The auditor's view of a legacy group key (crate `letterseal-legacy`): a member
/// unwraps the constant key one open-source client registers for every group.
fn legacy_group_key_audit() -> Result<(), String> {
    use letterseal_legacy::ids::LegacyKeyId;
    use letterseal_legacy::keys::LegacyKeyPair;
    println!(
        "18. An auditor bridges a legacy group whose creator used CHRLINE's constant group key:"
    );
    let creator = LegacyKeyPair::from_bytes(LegacyKeyId::new(60), &[0x60; 32]);
    let member = LegacyKeyPair::from_bytes(LegacyKeyId::new(61), &[0x61; 32]);
    let audit =
        letterseal_cli::attacks::audit_constant_group_key(&creator, member, LegacyKeyId::new(902))?;
    println!(
        "    default policy: the key unwraps with warnings {}",
        audit.warned.warnings().names().join(", ")
    );
    println!(
        "    strict policy: {}",
        match &audit.strict {
            Ok(_) => "ACCEPTED".to_string(),
            Err(e) => format!("refused ({})", e.name()),
        }
    );
    Ok(())
}

/// A toy server store: which device each sealing key belongs to.
struct Server {
    policy: RegistrationPolicy,
    registered: Vec<VerifiedBundle>,
}

impl Server {
    /// Registers `wire`, uploaded by an authenticated session of user `uploader`.
    fn register(&mut self, who: &str, uploader: &str, wire: &[u8], now: Timestamp) {
        let Ok(uploader) = user(uploader) else {
            println!("  server: REJECTED {who}'s upload: invalid user id");
            return;
        };
        let uploader = ExpectedOwner::User(uploader);
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
            .and_then(|b| b.verify(&uploader, &self.policy, now, pinned.as_ref(), &directory))
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

/// Alice and Bob talk over LS3 pairwise sessions; Mallory replays and reflects.
fn conversation(
    rng: &mut UnwrapErr<SysRng>,
    alice: &mut DeviceKeys,
    bob: &mut DeviceKeys,
    server: &Server,
    now: Timestamp,
) -> Result<(), String> {
    let bundle_of = |who: &DeviceKeys| -> Result<VerifiedBundle, String> {
        server
            .registered
            .iter()
            .filter(|b| b.owner() == who.address())
            .max_by_key(|b| b.validity().0)
            .cloned()
            .ok_or_else(|| format!("{} is not registered", who.address()))
    };
    println!(
        "8. Alice fetches Bob's verified bundle and opens a session; Bob does the same. No handshake."
    );
    let mut at_alice = Session::new(alice, &bundle_of(bob)?).map_err(|e| e.to_string())?;
    let mut at_bob = Session::new(bob, &bundle_of(alice)?).map_err(|e| e.to_string())?;
    // Bob's first bundle is registered too; Alice learns both keys and seals to the newest.
    for extra in server
        .registered
        .iter()
        .filter(|b| b.owner() == bob.address())
    {
        at_alice.add_peer_bundle(extra).map_err(|e| e.to_string())?;
    }

    let lines = [
        "Hi Bob! Lunch at noon?",
        "I'll bring the tickets.",
        "See you there.",
    ];
    let mut seal = |line: &str| -> Result<Vec<u8>, String> {
        let message = at_alice
            .seal(
                alice,
                rng,
                now,
                ContentType::Text,
                line.as_bytes(),
                b"chat alice-bob",
            )
            .map_err(|e| e.to_string())?;
        println!(
            "   Alice seals {line:?} -> {} bytes on the wire",
            message.len()
        );
        Ok(message)
    };
    let sealed = [seal(lines[0])?, seal(lines[1])?, seal(lines[2])?];
    println!("9. The network delivers them out of order: 0, 2, 1.");
    for message in [&sealed[0], &sealed[2], &sealed[1]] {
        let opened = at_bob
            .open(bob, now, message, b"chat alice-bob")
            .map_err(|e| e.to_string())?;
        let note = match (opened.skipped, opened.late) {
            (0, false) => String::new(),
            (n, false) => format!(" ({n} earlier message(s) not yet received)"),
            (_, true) => " (late: fills the gap)".to_string(),
        };
        println!(
            "   Bob opens #{}: {:?}{note}",
            opened.counter,
            String::from_utf8_lossy(&opened.plaintext)
        );
    }
    let reply = at_bob
        .seal(
            bob,
            rng,
            now,
            ContentType::Text,
            b"Great, see you!",
            b"chat alice-bob",
        )
        .map_err(|e| e.to_string())?;
    let opened = at_alice
        .open(alice, now, &reply, b"chat alice-bob")
        .map_err(|e| e.to_string())?;
    println!(
        "   Alice opens Bob's reply: {:?}",
        String::from_utf8_lossy(&opened.plaintext)
    );

    println!("10. Mallory replays Alice's first message to Bob.");
    match at_bob.open(bob, now, &sealed[0], b"chat alice-bob") {
        Err(e) => println!("   Bob rejects it: {} — {e}", e.name()),
        Ok(_) => return Err("replay was accepted".into()),
    }
    println!("11. Mallory reflects Alice's message back to Alice, as if Bob had sent it.");
    match at_alice.open(alice, now, &sealed[1], b"chat alice-bob") {
        Err(e) => println!("   Alice rejects it: {} — {e}", e.name()),
        Ok(_) => return Err("reflection was accepted".into()),
    }
    println!("12. Mallory flips one bit of Bob's next message.");
    let next = at_bob
        .seal(
            bob,
            rng,
            now,
            ContentType::Text,
            b"Running 5 min late",
            b"chat alice-bob",
        )
        .map_err(|e| e.to_string())?;
    let mut tampered = next.clone();
    if let Some(byte) = tampered.last_mut() {
        *byte ^= 1;
    }
    match at_alice.open(alice, now, &tampered, b"chat alice-bob") {
        Err(e) => println!("   Alice rejects it: {} — {e}", e.name()),
        Ok(_) => return Err("tampered message was accepted".into()),
    }
    let opened = at_alice
        .open(alice, now, &next, b"chat alice-bob")
        .map_err(|e| e.to_string())?;
    println!(
        "   The genuine message still opens (nothing changed on failure): {:?}",
        String::from_utf8_lossy(&opened.plaintext)
    );
    println!(
        "13. Bob retires his older sealing key; a message sealed to it can no longer be opened."
    );
    let old = bob
        .live_key_ids()
        .copied()
        .find(|id| Some(*id) != bob.current_sealing_key_id())
        .ok_or("Bob has only one key")?;
    let mut stale = Session::new(alice, &bundle_of_key(server, old)?).map_err(|e| e.to_string())?;
    let late = stale
        .seal(alice, rng, now, ContentType::Text, b"to the old key", b"")
        .map_err(|e| e.to_string())?;
    bob.retire(old);
    let mut fresh_bob = Session::new(bob, &bundle_of(alice)?).map_err(|e| e.to_string())?;
    match fresh_bob.open(bob, now, &late, b"") {
        Err(e) => println!("   Bob: {} — {e}", e.name()),
        Ok(_) => return Err("message to a retired key was opened".into()),
    }
    Ok(())
}

/// A group of three: an admin, messages, a forged "from Bob", a refused
/// change, a removal.
fn group_scene(
    rng: &mut UnwrapErr<SysRng>,
    alice: &DeviceKeys,
    bob: &mut DeviceKeys,
    server: &mut Server,
    now: Timestamp,
) -> Result<(), String> {
    let e = |e: GroupError| e.to_string();
    println!(
        "14. Carol registers; Alice creates the group \"book club\" for Alice, Bob and Carol, with herself as admin."
    );
    let mut carol = DeviceKeys::generate(rng, DeviceAddress::new(user("carol")?, DeviceId::new(1)));
    let carol_bundle = carol.add_sealing_key(rng, now, 30 * 86_400);
    server.register("Carol", "carol", &carol_bundle.encode(), now);
    let newest = |who: &DeviceKeys| -> Result<VerifiedBundle, String> {
        let current = who.current_sealing_key_id().ok_or("no sealing key")?;
        bundle_of_key(server, current)
    };
    let (a, b, c) = (newest(alice)?, newest(bob)?, newest(&carol)?);
    let id = GroupId::new("book club").map_err(e)?;
    let state =
        |who: &DeviceKeys| Group::new(id.clone(), who.address().clone(), GracePolicy::default());
    let (mut g_alice, mut g_bob, mut g_carol) = (state(alice), state(bob), state(&carol));
    let mut alice_sessions = BTreeMap::new();
    let admins = RosterPolicy::admins([user("alice")?]).map_err(e)?;
    let first = g_alice
        .propose(
            rng,
            alice,
            &[a.clone(), b.clone(), c.clone()],
            Some(admins),
            &mut alice_sessions,
            now,
        )
        .map_err(e)?;
    let verified = first
        .upload
        .verify_for_server(None, alice.address())
        .map_err(e)?;
    let mut record = verified.record();
    g_alice.commit(now).map_err(e)?;
    println!(
        "   The server checks the signed upload (epoch {}, {} wraps, {} bytes) without any secret, and stores its record",
        verified.epoch(),
        verified.distribution().wraps().len(),
        verified.distribution().encode().len()
    );
    let mut bob_sessions = BTreeMap::from([(
        alice.address().clone(),
        Session::new(bob, &a).map_err(|e| e.to_string())?,
    )]);
    let mut carol_sessions = BTreeMap::from([(
        alice.address().clone(),
        Session::new(&carol, &a).map_err(|e| e.to_string())?,
    )]);
    let view = |v: &VerifiedDistribution, who: &DeviceKeys| {
        v.view_for(who.address())
            .ok_or_else(|| "no view".to_string())
    };
    let for_carol = view(&verified, &carol)?;
    g_bob
        .process(bob, &view(&verified, bob)?, &mut bob_sessions, now)
        .map_err(e)?;
    g_carol
        .process(&mut carol, &for_carol, &mut carol_sessions, now)
        .map_err(e)?;
    // A hostile Carol keeps the epoch secret she just received (the state
    // deletes it once it derives a chain, SPEC.md §8.8).
    let carols_copy = letterseal_cli::attacks::member_secret(&g_carol)?;
    println!(
        "   Bob and Carol each receive the roster and only their own wrap; all three hold transcript {}…",
        &hex::encode(g_bob.transcript().ok_or("no epoch")?.as_bytes())[..16]
    );

    let from_bob = g_bob
        .seal(rng, bob, ContentType::Text, b"Chapter 3 by Friday?", b"")
        .map_err(|e| e.to_string())?;
    for (name, g) in [("Alice", &mut g_alice), ("Carol", &mut g_carol)] {
        let opened = g.open(&from_bob, b"", now).map_err(|e| e.to_string())?;
        println!(
            "   {name} reads from {}: {:?}",
            opened.sender,
            String::from_utf8_lossy(&opened.plaintext)
        );
    }

    println!("15. Carol, who kept the epoch secret, forges a message \"from Bob\".");
    let forged = letterseal_cli::attacks::forge_group_message(&g_carol, &carols_copy, bob, &carol)?;
    match g_alice.open(&forged, b"", now) {
        Err(e) => println!("   Alice rejects it: {} — {e}", e.name()),
        Ok(_) => return Err("forged group message accepted".into()),
    }

    println!(
        "16. Bob, no admin, tries to remove Carol; Carol writes; Alice, the admin, removes her."
    );
    match g_bob.propose(
        rng,
        bob,
        &[a.clone(), b.clone()],
        None,
        &mut bob_sessions,
        now,
    ) {
        Err(err) => println!(
            "   Refused before it leaves Bob's device: {} — {err}",
            err.name()
        ),
        Ok(_) => return Err("a non-admin removed a member".into()),
    }

    let late = g_carol
        .seal(rng, &carol, ContentType::Text, b"see you Friday", b"")
        .map_err(|e| e.to_string())?;
    let second = g_alice
        .propose(rng, alice, &[a, b], None, &mut alice_sessions, now)
        .map_err(e)?;
    let verified = second
        .upload
        .verify_for_server(Some(&record), alice.address())
        .map_err(e)?;
    record = verified.record();
    g_alice.commit(now).map_err(e)?;
    println!(
        "   Epoch {} for Alice and Bob: left {:?}; the server sends Bob a {}-byte delta view; Carol gets none: {}",
        record.epoch,
        second
            .change
            .left
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        view(&verified, bob)?.encode().len(),
        verified.view_for(carol.address()).is_none()
    );
    g_bob
        .process(bob, &view(&verified, bob)?, &mut bob_sessions, now)
        .map_err(e)?;
    match g_bob.open(&late, b"", now) {
        Err(e) => println!("   Carol's message arrives late at Bob: {} — {e}", e.name()),
        Ok(_) => return Err("a removed member's message was accepted".into()),
    }
    let secret_plan = g_alice
        .seal(
            rng,
            alice,
            ContentType::Text,
            b"Surprise party for Carol on Sunday",
            b"",
        )
        .map_err(|e| e.to_string())?;
    let opened = g_bob
        .open(&secret_plan, b"", now)
        .map_err(|e| e.to_string())?;
    println!(
        "   Bob reads: {:?}",
        String::from_utf8_lossy(&opened.plaintext)
    );
    match g_carol.open(&secret_plan, b"", now) {
        Err(e) => println!("   Carol cannot: {} — {e}", e.name()),
        Ok(_) => return Err("removed member read a new message".into()),
    }
    Ok(())
}

fn bundle_of_key(server: &Server, key_id: SealingKeyId) -> Result<VerifiedBundle, String> {
    server
        .registered
        .iter()
        .find(|b| b.sealing_key_id() == key_id)
        .cloned()
        .ok_or_else(|| "key not registered".to_string())
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
    server.register("Alice", "alice", &alice_bundle.encode(), now);
    server.register("Bob", "bob", &bob_bundle.encode(), now);

    println!("3. Mallory registers Alice's sealing key under her own account (unknown key share).");
    let mut mallory = DeviceKeys::generate(
        &mut rng,
        DeviceAddress::new(user("mallory")?, DeviceId::new(1)),
    );
    let own = mallory.add_sealing_key(&mut rng, now, 86_400);
    let stolen = BundleContent::new(
        mallory.address().clone(),
        mallory.identity().public_key(),
        alice_bundle.content().sealing_key,
        &own.content()
            .kem_key
            .validate()
            .map_err(|e| e.to_string())?,
        now,
        now.saturating_add(86_400),
    )
    .sign(mallory.identity());
    server.register("Mallory", "mallory", &stolen.encode(), now);

    println!("4. An attacker on the network changes one byte of Bob's bundle.");
    let mut tampered = bob_bundle.encode();
    // The last byte of not_after: the attacker extends the key's lifetime.
    let not_after_end = tampered.len() - 65;
    if let Some(byte) = tampered.get_mut(not_after_end) {
        *byte ^= 0x01;
    }
    server.register("Bob (tampered)", "bob", &tampered, now);

    println!("5. Bob rotates: a second sealing key under the same identity key; both stay live.");
    let rotated = bob.add_sealing_key(&mut rng, now, 30 * 86_400);
    server.register("Bob (rotation)", "bob", &rotated.encode(), now);
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
    server.register("impostor", "bob", &fake.encode(), now);

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
    conversation(&mut rng, &mut alice, &mut bob, &server, now)?;
    group_scene(&mut rng, &alice, &mut bob, &mut server, now)?;
    println!(
        "17. The published attacks on LINE Letter Sealing, against the legacy format and LS3:"
    );
    let rows = letterseal_cli::attacks::run_all()?;
    println!("{}", letterseal_cli::attacks::table(&rows));
    legacy_group_key_audit()?;
    Ok(ExitCode::SUCCESS)
}
