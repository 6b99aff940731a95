//! The `Account` façade and the `Relay` (SPEC.md §13): multi-device users,
//! signed device lists, envelopes, typed events, and refusals that change
//! nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use letterseal::account::{
    Account, AccountError, DeviceList, DeviceListError, Envelope, EnvelopeError, EnvelopeKind,
    Event, ListedDevice, ReceiveError, Relay, RelayError, UserSecretKey,
};
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{ContentType, OpenError};
use letterseal::state::{StateError, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);

fn user(name: &str) -> UserId {
    UserId::new(name).unwrap()
}

fn addr(name: &str, device: u32) -> DeviceAddress {
    DeviceAddress::new(user(name), DeviceId::new(device))
}

/// Devices, a relay, and the events each device received.
struct Net {
    rng: ChaCha20Rng,
    relay: Relay,
    devices: BTreeMap<DeviceAddress, Account>,
    inbox: BTreeMap<DeviceAddress, Vec<Event>>,
}

impl Net {
    fn new() -> Self {
        Self {
            rng: ChaCha20Rng::from_seed([3; 32]),
            relay: Relay::new(),
            devices: BTreeMap::new(),
            inbox: BTreeMap::new(),
        }
    }

    fn primary(&mut self, at: &DeviceAddress) {
        let account = Account::create_primary(&mut self.rng, NOW, at.clone());
        self.devices.insert(at.clone(), account);
        self.publish(at);
    }

    /// A secondary device, listed by its user's primary `primary`.
    fn secondary(&mut self, at: &DeviceAddress, primary: &DeviceAddress) {
        let account = Account::create_secondary(&mut self.rng, NOW, at.clone());
        let key = account.identity_key();
        self.devices.insert(at.clone(), account);
        let list = self.dev(primary).add_device(at.device, key).unwrap();
        self.send(primary, &[list]);
        self.publish(at);
    }

    fn dev(&mut self, at: &DeviceAddress) -> &mut Account {
        self.devices.get_mut(at).unwrap()
    }

    fn publish(&mut self, at: &DeviceAddress) {
        let uploads = self
            .devices
            .get_mut(at)
            .unwrap()
            .uploads(&mut self.rng, NOW)
            .unwrap();
        self.send(at, &uploads);
    }

    fn send(&mut self, from: &DeviceAddress, envelopes: &[Vec<u8>]) {
        for envelope in envelopes {
            for out in self.relay.upload(NOW, from, envelope).unwrap() {
                let event = self.dev(&out.to).receive(NOW, &out.envelope).unwrap();
                self.inbox.entry(out.to).or_default().push(event);
            }
        }
    }

    fn fetch_all(&mut self) {
        let users: Vec<UserId> = self.devices.keys().map(|a| a.user.clone()).collect();
        for account in self.devices.values_mut() {
            for u in &users {
                for envelope in self.relay.fetch_user(u) {
                    account.receive(NOW, &envelope).unwrap();
                }
            }
        }
    }

    fn say(&mut self, from: &DeviceAddress, to: &str, text: &str) -> Vec<DeviceAddress> {
        let out = self
            .devices
            .get_mut(from)
            .unwrap()
            .seal_to_user(
                &mut self.rng,
                NOW,
                &user(to),
                ContentType::Text,
                text.as_bytes(),
            )
            .unwrap();
        let recipients = out.iter().map(|o| o.to.clone()).collect();
        let envelopes: Vec<Vec<u8>> = out.into_iter().map(|o| o.envelope).collect();
        self.send(from, &envelopes);
        recipients
    }

    fn say_in(&mut self, from: &DeviceAddress, group: &GroupId, text: &str) {
        let envelope = self
            .devices
            .get_mut(from)
            .unwrap()
            .seal_to_group(
                &mut self.rng,
                NOW,
                group,
                ContentType::Text,
                text.as_bytes(),
            )
            .unwrap();
        self.send(from, &[envelope]);
    }

    /// The plaintexts `at` received, in order, and empties its inbox.
    fn texts(&mut self, at: &DeviceAddress) -> Vec<String> {
        self.inbox
            .remove(at)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| {
                e.plaintext()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
            })
            .collect()
    }

    fn state(&self, at: &DeviceAddress) -> Vec<u8> {
        self.devices[at].hazmat_state_bytes().unwrap().to_vec()
    }
}

/// alice (phone, laptop), bob (phone), carol (phone); everyone knows everyone.
fn three_users() -> Net {
    let mut net = Net::new();
    net.primary(&addr("alice", 1));
    net.secondary(&addr("alice", 2), &addr("alice", 1));
    net.primary(&addr("bob", 1));
    net.primary(&addr("carol", 1));
    net.fetch_all();
    net
}

#[test]
fn a_message_to_a_user_reaches_every_listed_device_and_the_senders_other_devices() {
    let mut net = three_users();
    let recipients = net.say(&addr("bob", 1), "alice", "hi alice");
    assert_eq!(recipients, vec![addr("alice", 1), addr("alice", 2)]);
    assert_eq!(net.texts(&addr("alice", 1)), ["hi alice"]);
    assert_eq!(net.texts(&addr("alice", 2)), ["hi alice"]);

    // alice's reply from her laptop also reaches her phone, marked as written to bob.
    net.say(&addr("alice", 2), "bob", "hi bob");
    assert_eq!(net.texts(&addr("bob", 1)), ["hi bob"]);
    let phone = net.inbox.remove(&addr("alice", 1)).unwrap();
    match &phone[..] {
        [Event::Message { from, to_user, .. }] => {
            assert_eq!(*from, addr("alice", 2));
            assert_eq!(*to_user, user("bob"));
        }
        other => panic!("{other:?}"),
    }
    assert!(net.texts(&addr("carol", 1)).is_empty());
}

#[test]
fn a_group_follows_its_users_devices_through_additions_and_removals() {
    let mut net = three_users();
    let club = GroupId::new("club").unwrap();
    let upload = net
        .devices
        .get_mut(&addr("alice", 1))
        .unwrap()
        .create_group(
            &mut net.rng,
            NOW,
            club.clone(),
            &[user("bob"), user("carol")],
        )
        .unwrap();
    net.send(&addr("alice", 1), &[upload]);
    net.inbox.clear();
    net.say_in(&addr("carol", 1), &club, "one");
    for at in [addr("alice", 1), addr("alice", 2), addr("bob", 1)] {
        assert_eq!(net.texts(&at), ["one"], "{at}");
    }

    // bob adds a tablet: the device-list event names the group to update.
    let tablet = Account::create_secondary(&mut net.rng, NOW, addr("bob", 2));
    let key = tablet.identity_key();
    net.devices.insert(addr("bob", 2), tablet);
    let list = net
        .dev(&addr("bob", 1))
        .add_device(DeviceId::new(2), key)
        .unwrap();
    net.send(&addr("bob", 1), std::slice::from_ref(&list));
    net.publish(&addr("bob", 2));
    let event = net.dev(&addr("carol", 1)).receive(NOW, &list).unwrap();
    match event {
        Event::DeviceListUpdated {
            user: u,
            version,
            added,
            removed,
            groups_to_update,
        } => {
            assert_eq!(u, user("bob"));
            assert_eq!(version, 2);
            assert_eq!(added, vec![DeviceId::new(2)]);
            assert!(removed.is_empty());
            assert_eq!(groups_to_update, vec![club.clone()]);
        }
        other => panic!("{other:?}"),
    }
    net.fetch_all();
    let upload = net
        .devices
        .get_mut(&addr("carol", 1))
        .unwrap()
        .update_group(&mut net.rng, NOW, &club, &[], &[])
        .unwrap();
    net.send(&addr("carol", 1), &[upload]);
    net.inbox.clear();
    net.say_in(&addr("alice", 2), &club, "two");
    assert_eq!(net.texts(&addr("bob", 2)), ["two"]);

    // bob removes the tablet: it is out of the next epoch and reads nothing more.
    let (list, groups) = net
        .dev(&addr("bob", 1))
        .remove_device(DeviceId::new(2))
        .unwrap();
    assert_eq!(groups, vec![club.clone()]);
    net.send(&addr("bob", 1), std::slice::from_ref(&list));
    for at in [addr("alice", 1), addr("alice", 2), addr("carol", 1)] {
        match net.dev(&at).receive(NOW, &list).unwrap() {
            Event::DeviceListUpdated { removed, .. } => assert_eq!(removed, vec![DeviceId::new(2)]),
            other => panic!("{other:?}"),
        }
    }
    let upload = net
        .devices
        .get_mut(&addr("bob", 1))
        .unwrap()
        .update_group(&mut net.rng, NOW, &club, &[], &[])
        .unwrap();
    net.send(&addr("bob", 1), &[upload]);
    let roster: Vec<DeviceAddress> = net.devices[&addr("alice", 1)]
        .group(&club)
        .unwrap()
        .roster()
        .unwrap()
        .iter()
        .map(|m| m.address())
        .collect();
    assert!(!roster.contains(&addr("bob", 2)));
    net.inbox.clear();
    net.say_in(&addr("alice", 1), &club, "three");
    assert!(net.texts(&addr("bob", 2)).is_empty());
    assert_eq!(net.texts(&addr("bob", 1)), ["three"]);
    // A 1:1 message to bob no longer goes to the removed tablet either.
    assert_eq!(net.say(&addr("carol", 1), "bob", "x"), vec![addr("bob", 1)]);
}

#[test]
fn a_forged_or_foreign_device_list_is_refused_and_changes_nothing() {
    let mut net = three_users();
    let carol = addr("carol", 1);
    let before = net.state(&carol);
    let list = net.relay.fetch_user(&user("bob")).remove(0);
    let body = Envelope::decode(&list).unwrap().body().to_vec();

    // One bit of the content flipped (a device id): the signature fails.
    let mut forged = body.clone();
    let at = forged.len() - 64 - 36;
    forged[at] ^= 1;
    let forged = Envelope::encode(EnvelopeKind::DeviceList, &forged).unwrap();
    assert_eq!(
        net.dev(&carol).receive(NOW, &forged).unwrap_err(),
        ReceiveError::DeviceList(DeviceListError::BadSignature)
    );

    // A list for bob signed by another key: refused against the pinned user key.
    let mallory = UserSecretKey::generate(&mut net.rng);
    let bob_device = DeviceList::decode(&body).unwrap().devices()[0];
    let foreign = DeviceList::sign(&mallory, user("bob"), 9, vec![bob_device]).unwrap();
    let foreign = Envelope::encode(EnvelopeKind::DeviceList, foreign.as_bytes()).unwrap();
    assert_eq!(
        net.dev(&carol).receive(NOW, &foreign).unwrap_err(),
        ReceiveError::DeviceList(DeviceListError::UserKeyChanged)
    );
    // ... and by the relay, which holds bob's list too.
    assert_eq!(
        net.relay
            .upload(NOW, &addr("bob", 1), &foreign)
            .unwrap_err(),
        RelayError::DeviceList(DeviceListError::UserKeyChanged)
    );
    // A list uploaded by another user is refused by the relay.
    assert_eq!(
        net.relay.upload(NOW, &carol, &list).unwrap_err(),
        RelayError::DeviceList(DeviceListError::WrongUser)
    );
    assert_eq!(net.state(&carol), before);

    // Once the users verified the new safety number, the app forgets the old key.
    let old = net.devices[&carol].safety_number(&user("bob")).unwrap();
    assert!(net.dev(&carol).forget_user(&user("bob")));
    assert!(matches!(
        net.dev(&carol).receive(NOW, &foreign).unwrap(),
        Event::DeviceListUpdated { .. }
    ));
    assert_ne!(
        net.devices[&carol].safety_number(&user("bob")).unwrap(),
        old
    );
}

#[test]
fn a_replayed_old_device_list_cannot_undo_a_removal() {
    let mut net = three_users();
    let old = net.relay.fetch_user(&user("alice")).remove(0);
    let (list, _) = net
        .dev(&addr("alice", 1))
        .remove_device(DeviceId::new(2))
        .unwrap();
    net.send(&addr("alice", 1), std::slice::from_ref(&list));
    let bob = addr("bob", 1);
    net.dev(&bob).receive(NOW, &list).unwrap();
    let before = net.state(&bob);
    assert_eq!(
        net.dev(&bob).receive(NOW, &old).unwrap_err(),
        ReceiveError::DeviceList(DeviceListError::Stale {
            held: 3,
            received: 2
        })
    );
    assert!(matches!(
        net.dev(&bob).receive(NOW, &list).unwrap(),
        Event::Duplicate
    ));
    assert_eq!(net.state(&bob), before);
    assert_eq!(
        net.relay.upload(NOW, &addr("alice", 1), &old).unwrap_err(),
        RelayError::DeviceList(DeviceListError::Stale {
            held: 3,
            received: 2
        })
    );
    // The removed laptop learns it is out.
    assert_eq!(
        net.dev(&addr("alice", 2)).receive(NOW, &list).unwrap_err(),
        ReceiveError::OwnDeviceNotListed
    );
}

#[test]
fn an_envelope_relabelled_as_another_kind_is_refused() {
    let mut net = three_users();
    let out = net
        .devices
        .get_mut(&addr("bob", 1))
        .unwrap()
        .seal_to_user(&mut net.rng, NOW, &user("carol"), ContentType::Text, b"x")
        .unwrap();
    let carol = addr("carol", 1);
    let body = Envelope::decode(&out[0].envelope).unwrap().body().to_vec();
    let before = net.state(&carol);
    for kind in [
        EnvelopeKind::GroupMessage,
        EnvelopeKind::Distribution,
        EnvelopeKind::KeyBundle,
        EnvelopeKind::OneTimeKey,
        EnvelopeKind::DeviceList,
    ] {
        let relabelled = Envelope::encode(kind, &body).unwrap();
        assert!(
            net.dev(&carol).receive(NOW, &relabelled).is_err(),
            "{kind:?}"
        );
    }
    // The header is bound to the message: another `to user` fails to open.
    let mut bytes = out[0].envelope.clone();
    let pos = bytes.windows(5).position(|w| w == b"carol").unwrap();
    bytes[pos + 4] = b'x'; // "carox": no longer this user, refused before opening
    assert_eq!(
        net.dev(&carol).receive(NOW, &bytes).unwrap_err(),
        ReceiveError::NotForThisDevice
    );
    assert_eq!(net.state(&carol), before);
    assert_eq!(
        Envelope::decode(&[2, 1, 0, 0, 0, 0]),
        Err(EnvelopeError::UnknownVersion(2))
    );
    assert_eq!(
        Envelope::decode(&[1, 7, 0, 0, 0, 0]),
        Err(EnvelopeError::UnknownKind(7))
    );
    // The genuine envelope still opens afterwards: nothing was consumed.
    assert_eq!(
        net.dev(&carol)
            .receive(NOW, &out[0].envelope)
            .unwrap()
            .plaintext(),
        Some(&b"x"[..])
    );
    // ... once.
    assert!(matches!(
        net.dev(&carol).receive(NOW, &out[0].envelope).unwrap_err(),
        ReceiveError::Open(OpenError::Replay { .. })
    ));
}

#[test]
fn garbage_never_changes_an_account() {
    let mut net = three_users();
    let carol = addr("carol", 1);
    let before = net.state(&carol);
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let real = net.relay.fetch_user(&user("bob"));
    for i in 0..2_000u32 {
        let mut bytes = real[(i as usize) % real.len()].clone();
        let n = bytes.len();
        let pos = (rand_core::Rng::next_u32(&mut rng) as usize) % n;
        bytes[pos] ^= 1 << (i % 8);
        if i % 3 == 0 {
            bytes.truncate(pos);
        }
        // Some mutations still decode and verify (a flipped bit in a length
        // that is then truncated away is not among them): either way the
        // state must not change, which the assertion below checks.
        if let Ok(event) = net.dev(&carol).receive(NOW, &bytes) {
            assert!(matches!(event, Event::Duplicate), "{event:?}");
        }
    }
    assert_eq!(net.state(&carol), before);
}

#[test]
fn sealing_to_a_user_with_a_missing_bundle_changes_no_session() {
    let mut net = three_users();
    // bob lists a new device but it has not published a bundle yet.
    let tablet = Account::create_secondary(&mut net.rng, NOW, addr("bob", 2));
    let key = tablet.identity_key();
    let list = net
        .dev(&addr("bob", 1))
        .add_device(DeviceId::new(2), key)
        .unwrap();
    net.send(&addr("bob", 1), std::slice::from_ref(&list));
    let carol = addr("carol", 1);
    net.dev(&carol).receive(NOW, &list).unwrap();
    let before = net.state(&carol);
    let err = net
        .devices
        .get_mut(&carol)
        .unwrap()
        .seal_to_user(&mut net.rng, NOW, &user("bob"), ContentType::Text, b"x")
        .unwrap_err();
    assert_eq!(err, AccountError::BundleNeeded(addr("bob", 2)));
    assert_eq!(net.state(&carol), before);
    assert_eq!(
        net.dev(&carol)
            .seal_to_user(
                &mut ChaCha20Rng::from_seed([1; 32]),
                NOW,
                &user("dave"),
                ContentType::Text,
                b"x"
            )
            .unwrap_err(),
        AccountError::DeviceListNeeded(user("dave"))
    );
}

#[test]
fn the_relay_refuses_what_the_lists_do_not_allow() {
    let mut net = three_users();
    // A bundle from a device its user never listed.
    let mut stranger = Account::create_secondary(&mut net.rng, NOW, addr("bob", 7));
    let uploads = stranger.uploads(&mut net.rng, NOW).unwrap();
    assert_eq!(
        net.relay
            .upload(NOW, &addr("bob", 7), &uploads[0])
            .unwrap_err(),
        RelayError::UploaderNotListed
    );
    // A message whose header names another sender than the uploader.
    let out = net
        .devices
        .get_mut(&addr("bob", 1))
        .unwrap()
        .seal_to_user(&mut net.rng, NOW, &user("carol"), ContentType::Text, b"x")
        .unwrap();
    assert_eq!(
        net.relay
            .upload(NOW, &addr("alice", 1), &out[0].envelope)
            .unwrap_err(),
        RelayError::SenderMismatch
    );
    // A group message for a group the relay does not hold.
    let mut body = vec![4];
    body.extend_from_slice(b"none");
    let envelope = Envelope::encode(EnvelopeKind::GroupMessage, &body).unwrap();
    assert_eq!(
        net.relay
            .upload(NOW, &addr("alice", 1), &envelope)
            .unwrap_err(),
        RelayError::UnknownGroup
    );
}

#[test]
fn a_whole_account_saves_and_restores_with_rollback_detection() {
    let mut net = three_users();
    let club = GroupId::new("club").unwrap();
    let upload = net
        .devices
        .get_mut(&addr("bob", 1))
        .unwrap()
        .create_group(&mut net.rng, NOW, club.clone(), &[user("alice")])
        .unwrap();
    net.send(&addr("bob", 1), &[upload]);
    net.say(&addr("alice", 1), "bob", "before");
    let key = StorageKey::generate(&mut net.rng);
    let alice = addr("alice", 2);
    let first = net
        .devices
        .get_mut(&alice)
        .unwrap()
        .export(&mut net.rng, &key)
        .unwrap();
    let second = net
        .devices
        .get_mut(&alice)
        .unwrap()
        .export(&mut net.rng, &key)
        .unwrap();
    assert_eq!(second.generation(), first.generation() + 1);
    assert!(matches!(
        Account::import(&key, first.as_bytes(), second.generation()).unwrap_err(),
        StateError::RolledBack { .. }
    ));
    let wrong = StorageKey::generate(&mut net.rng);
    assert_eq!(
        Account::import(&wrong, second.as_bytes(), 0).unwrap_err(),
        StateError::WrongKey
    );
    let restored = Account::import(&key, second.as_bytes(), second.generation()).unwrap();
    assert_eq!(
        restored.hazmat_state_bytes(),
        net.devices[&alice].hazmat_state_bytes()
    );
    net.devices.insert(alice.clone(), restored);
    net.inbox.clear();
    net.say(&addr("bob", 1), "alice", "after");
    net.say_in(&addr("bob", 1), &club, "group after");
    assert_eq!(net.texts(&alice), ["after", "group after"]);
}

#[test]
fn the_primary_can_be_replaced_with_the_recovery_secret() {
    let mut net = three_users();
    let secret = net.devices[&addr("alice", 1)]
        .user_key_recovery_secret()
        .unwrap();
    assert!(
        net.devices[&addr("alice", 2)]
            .user_key_recovery_secret()
            .is_none()
    );
    let laptop = net.dev(&addr("alice", 2));
    assert_eq!(
        laptop
            .add_device(DeviceId::new(3), laptop.identity_key())
            .unwrap_err(),
        AccountError::NotPrimary
    );
    assert_eq!(
        laptop.restore_primary(&[7; 32]).unwrap_err(),
        AccountError::WrongUserKey
    );
    laptop.restore_primary(&secret).unwrap();
    assert!(laptop.is_primary());
    // The laptop, now primary, removes the lost phone.
    let (list, _) = laptop.remove_device(DeviceId::new(1)).unwrap();
    net.send(&addr("alice", 2), std::slice::from_ref(&list));
    let before = net.devices[&addr("bob", 1)]
        .safety_number(&user("alice"))
        .unwrap();
    net.dev(&addr("bob", 1)).receive(NOW, &list).unwrap();
    // The user key is the same: so is the safety number.
    assert_eq!(
        net.devices[&addr("bob", 1)]
            .safety_number(&user("alice"))
            .unwrap(),
        before
    );
    assert_eq!(
        net.say(&addr("bob", 1), "alice", "x"),
        vec![addr("alice", 2)]
    );
}

#[test]
fn device_list_signing_rules() {
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let key = UserSecretKey::generate(&mut rng);
    let device = |id: u32, rng: &mut ChaCha20Rng| ListedDevice {
        device: DeviceId::new(id),
        identity_key: letterseal::keys::IdentitySecretKey::generate(rng).public_key(),
    };
    let one = device(1, &mut rng);
    assert_eq!(
        DeviceList::sign(&key, user("a"), 0, vec![one]).unwrap_err(),
        DeviceListError::ZeroVersion
    );
    assert_eq!(
        DeviceList::sign(&key, user("a"), 1, vec![]).unwrap_err(),
        DeviceListError::DeviceCount
    );
    assert_eq!(
        DeviceList::sign(&key, user("a"), 1, vec![one, one]).unwrap_err(),
        DeviceListError::UnsortedDevices
    );
    let same_key = ListedDevice {
        device: DeviceId::new(2),
        ..one
    };
    assert_eq!(
        DeviceList::sign(&key, user("a"), 1, vec![one, same_key]).unwrap_err(),
        DeviceListError::DuplicateDeviceKey
    );
    let many: Vec<_> = (0..33).map(|i| device(i, &mut rng)).collect();
    assert_eq!(
        DeviceList::sign(&key, user("a"), 1, many[..33].to_vec()).unwrap_err(),
        DeviceListError::DeviceCount
    );
    let list = DeviceList::sign(&key, user("a"), 1, many[..32].to_vec()).unwrap();
    let decoded = DeviceList::decode(list.as_bytes()).unwrap();
    assert_eq!(decoded, list);
    let mut trailing = list.encode();
    trailing.push(0);
    assert!(matches!(
        DeviceList::decode(&trailing).unwrap_err(),
        DeviceListError::Malformed(_)
    ));
    for cut in 0..list.as_bytes().len() {
        assert!(DeviceList::decode(&list.as_bytes()[..cut]).is_err());
    }
}

#[test]
fn the_chat_example_stays_within_150_lines_of_code() {
    let code = include_str!("../examples/chat.rs")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .count();
    assert!(code <= 150, "examples/chat.rs has {code} non-comment lines");
}

#[test]
fn a_primary_uploading_its_list_again_changes_nothing_at_the_relay() {
    let mut net = three_users();
    let uploads = net
        .devices
        .get_mut(&addr("bob", 1))
        .unwrap()
        .uploads(&mut net.rng, NOW)
        .unwrap();
    for upload in &uploads {
        assert!(
            net.relay
                .upload(NOW, &addr("bob", 1), upload)
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn housekeeping_renews_keys_and_asks_for_group_rotation() {
    let mut net = three_users();
    let club = GroupId::new("club").unwrap();
    let upload = net
        .devices
        .get_mut(&addr("bob", 1))
        .unwrap()
        .create_group(&mut net.rng, NOW, club.clone(), &[user("carol")])
        .unwrap();
    net.send(&addr("bob", 1), &[upload]);
    assert!(
        net.devices[&addr("bob", 1)]
            .groups_due_for_rotation(NOW)
            .is_empty()
    );

    // Forty days on: every first sealing key (30 days) has expired. A device
    // with no session deletes its own; bob's sessions still use his bundle's
    // KEM key as their current KEM key (SPEC.md §13.4), so he keeps it.
    let later = Timestamp::from_unix_seconds(NOW.unix_seconds() + 40 * 86_400);
    let mut lonely = Account::create_primary(&mut net.rng, NOW, addr("dave", 1));
    assert_eq!(lonely.expire(later), 1);
    let bob = net.dev(&addr("bob", 1));
    assert_eq!(bob.expire(later), 0);
    let due = bob.groups_due_for_rotation(later);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].0, club);
    // The next uploads carry a fresh key, which carol learns.
    let uploads = bob
        .uploads(&mut ChaCha20Rng::from_seed([9; 32]), later)
        .unwrap();
    for upload in &uploads {
        net.relay.upload(later, &addr("bob", 1), upload).unwrap();
    }
    for envelope in net.relay.fetch_user(&user("bob")) {
        net.dev(&addr("carol", 1))
            .receive(later, &envelope)
            .unwrap();
    }
    // carol's own key expired too: sealing is refused until she renews it.
    assert!(matches!(
        net.devices
            .get_mut(&addr("carol", 1))
            .unwrap()
            .seal_to_user(&mut net.rng, later, &user("bob"), ContentType::Text, b"x")
            .unwrap_err(),
        AccountError::Seal(letterseal::pairwise::SealError::LocalKeyExpired(_))
    ));
    let carol = net.devices.get_mut(&addr("carol", 1)).unwrap();
    carol.expire(later);
    for upload in carol
        .uploads(&mut ChaCha20Rng::from_seed([10; 32]), later)
        .unwrap()
    {
        net.relay.upload(later, &addr("carol", 1), &upload).unwrap();
    }
    for envelope in net.relay.fetch_user(&user("carol")) {
        net.dev(&addr("bob", 1)).receive(later, &envelope).unwrap();
    }
    let out = net
        .devices
        .get_mut(&addr("carol", 1))
        .unwrap()
        .seal_to_user(
            &mut net.rng,
            later,
            &user("bob"),
            ContentType::Text,
            b"still here",
        )
        .unwrap();
    for o in out {
        for d in net
            .relay
            .upload(later, &addr("carol", 1), &o.envelope)
            .unwrap()
        {
            let event = net.dev(&d.to).receive(later, &d.envelope).unwrap();
            assert_eq!(event.plaintext(), Some(&b"still here"[..]));
        }
    }
}
