//! Issue 15's refusals through the `Account` façade (SPEC.md §13.1–13.8): a
//! forged device list, a list signed by the wrong key, a replayed old list
//! (rollback of a removal) and envelopes relabelled as another kind are each
//! refused with a typed error and change nothing. The cases that need no
//! state are also in `test-vectors/device-list-verify.json` and
//! `test-vectors/envelope.json` (checked by `tests/vectors.rs`, the CLI and
//! the Python reference); the relabellings that only an account can refuse
//! (the associated data of §13.6–13.7) are here. letterseal-vectors replays
//! the invalid envelope vectors through `Account::receive`
//! (`test-vectors/tests/account_envelopes.rs`).
#![cfg(feature = "hazmat")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::account::{
    Account, DeviceList, DeviceListError, Envelope, EnvelopeKind, ListedDevice, ReceiveError,
    UserSecretKey,
};
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::IdentitySecretKey;
use letterseal::labels;
use letterseal::pairwise::ContentType;
use letterseal::registration::RegistrationError;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const NOW: u64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(NOW)
}

fn address(user: &str, device: u32) -> DeviceAddress {
    DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(device))
}

fn user(name: &str) -> UserId {
    UserId::new(name).unwrap()
}

/// Alice and Bob, primaries, each holding the other's device list and bundle.
struct Pair {
    rng: ChaCha20Rng,
    alice: Account,
    bob: Account,
    /// Alice's uploads: her device list (version 1), then her bundle.
    alice_uploads: Vec<Vec<u8>>,
}

fn pair() -> Pair {
    let mut rng = ChaCha20Rng::from_seed([15; 32]);
    let mut alice = Account::create_primary(&mut rng, now(), address("alice", 1));
    let mut bob = Account::create_primary(&mut rng, now(), address("bob", 1));
    let alice_uploads = alice.uploads(&mut rng, now()).unwrap();
    let bob_uploads = bob.uploads(&mut rng, now()).unwrap();
    for e in &bob_uploads {
        alice.receive(now(), e).unwrap();
    }
    for e in &alice_uploads {
        bob.receive(now(), e).unwrap();
    }
    Pair {
        rng,
        alice,
        bob,
        alice_uploads,
    }
}

/// `receive` refuses `envelope` and leaves the account byte for byte as it was.
fn refused(account: &mut Account, envelope: &[u8]) -> ReceiveError {
    let before = account.hazmat_state_bytes().unwrap();
    let error = match account.receive(now(), envelope) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    assert_eq!(
        *before,
        *account.hazmat_state_bytes().unwrap(),
        "a refusal changed the account ({error})"
    );
    error
}

fn list_envelope(list: &[u8]) -> Vec<u8> {
    Envelope::encode(EnvelopeKind::DeviceList, list).unwrap()
}

fn relabel(envelope: &[u8], kind: EnvelopeKind) -> Vec<u8> {
    let mut out = envelope.to_vec();
    out[1] = kind.code();
    out
}

#[test]
fn a_forged_device_list_is_refused() {
    let mut p = pair();
    let list = Envelope::decode(&p.alice_uploads[0])
        .unwrap()
        .body()
        .to_vec();
    // The signature edited.
    let mut forged = list.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(
        refused(&mut p.bob, &list_envelope(&forged)),
        ReceiveError::DeviceList(DeviceListError::BadSignature)
    );
    // A device added to the content, the version raised, the old signature kept.
    let mallory_device = IdentitySecretKey::from_seed(&[7; 32]).public_key();
    let user_len = 5;
    let version_at = 2 + user_len + 32;
    let mut content = list[..list.len() - 64].to_vec();
    content[version_at + 7] = 2;
    let count_at = version_at + 8;
    content[count_at] = 2;
    content.extend_from_slice(&9u32.to_be_bytes());
    content.extend_from_slice(mallory_device.as_bytes());
    content.extend_from_slice(&list[list.len() - 64..]);
    assert_eq!(
        refused(&mut p.bob, &list_envelope(&content)),
        ReceiveError::DeviceList(DeviceListError::BadSignature)
    );
    assert_eq!(
        p.bob.device_list(&user("alice")).unwrap().list().version(),
        1
    );
}

#[test]
fn a_device_list_signed_by_the_wrong_key_is_refused() {
    let mut p = pair();
    let alice_device = p.alice.identity_key();
    let held = p.bob.device_list(&user("alice")).unwrap().list().clone();
    // Mallory's own user key, validly signed: the user key changed.
    let mallory = UserSecretKey::from_recovery_secret(&[9; 32]);
    let takeover = DeviceList::sign(
        &mallory,
        user("alice"),
        2,
        vec![ListedDevice {
            device: DeviceId::new(1),
            identity_key: alice_device,
        }],
    )
    .unwrap();
    assert_eq!(
        refused(&mut p.bob, &list_envelope(takeover.as_bytes())),
        ReceiveError::DeviceList(DeviceListError::UserKeyChanged)
    );
    // Alice's user key named, Mallory's signature: a forgery.
    let mut claimed = held.as_bytes()[..held.as_bytes().len() - 64].to_vec();
    claimed[2 + 5 + 32 + 7] = 2;
    let signature = IdentitySecretKey::from_seed(&[9; 32])
        .sign_labeled(labels::sig::DEVICE_LIST, &claimed)
        .to_bytes();
    claimed.extend_from_slice(&signature);
    assert_eq!(
        refused(&mut p.bob, &list_envelope(&claimed)),
        ReceiveError::DeviceList(DeviceListError::BadSignature)
    );
    // Only after the application forgets the old key is the new one taken.
    assert!(p.bob.forget_user(&user("alice")));
    p.bob
        .receive(now(), &list_envelope(takeover.as_bytes()))
        .unwrap();
}

#[test]
fn a_replayed_old_device_list_cannot_undo_a_removal() {
    let mut p = pair();
    let second = Account::create_secondary(&mut p.rng, now(), address("alice", 2));
    let v2 = p
        .alice
        .add_device(DeviceId::new(2), second.identity_key())
        .unwrap();
    let (v3, _) = p.alice.remove_device(DeviceId::new(2)).unwrap();
    p.bob.receive(now(), &v2).unwrap();
    assert!(
        p.bob
            .device_list(&user("alice"))
            .unwrap()
            .lists(&address("alice", 2))
    );
    p.bob.receive(now(), &v3).unwrap();
    assert!(
        !p.bob
            .device_list(&user("alice"))
            .unwrap()
            .lists(&address("alice", 2))
    );
    // The server (or anyone) replays version 2, which still lists device 2.
    assert_eq!(
        refused(&mut p.bob, &v2),
        ReceiveError::DeviceList(DeviceListError::Stale {
            held: 3,
            received: 2
        })
    );
    assert_eq!(
        refused(&mut p.bob, &p.alice_uploads[0]),
        ReceiveError::DeviceList(DeviceListError::Stale {
            held: 3,
            received: 1
        })
    );
    let list = p.bob.device_list(&user("alice")).unwrap().list();
    assert_eq!(list.version(), 3);
    assert!(
        !p.bob
            .device_list(&user("alice"))
            .unwrap()
            .lists(&address("alice", 2))
    );
}

#[test]
fn relabelled_envelopes_are_refused() {
    let mut p = pair();
    let message = p
        .alice
        .seal_to_user(&mut p.rng, now(), &user("bob"), ContentType::Text, b"hi")
        .unwrap()
        .remove(0)
        .envelope;
    let team = GroupId::new(b"team").unwrap();
    let distribution = p
        .alice
        .create_group(&mut p.rng, now(), team.clone(), &[user("bob")])
        .unwrap();
    p.alice.commit_group(now(), &team).unwrap();
    let group_message = p
        .alice
        .seal_to_group(&mut p.rng, now(), &team, ContentType::Text, b"hi team")
        .unwrap();
    let one_time = p
        .alice
        .one_time_keys(&mut p.rng, now(), 1)
        .unwrap()
        .remove(0);

    // A device list relabelled as a key bundle: the bundle decoder refuses it.
    assert_eq!(
        refused(
            &mut p.bob,
            &relabel(&p.alice_uploads[0], EnvelopeKind::KeyBundle)
        ),
        ReceiveError::Registration(RegistrationError::UnsupportedVersion(1))
    );
    // A 1:1 message relabelled as a group message: its sender's user id
    // ("alice") reads as a group id Bob is not in.
    assert_eq!(
        refused(&mut p.bob, &relabel(&message, EnvelopeKind::GroupMessage)),
        ReceiveError::UnknownGroup(GroupId::new(b"alice").unwrap())
    );
    // A group message relabelled as a 1:1 message.
    let e = refused(
        &mut p.bob,
        &relabel(&group_message, EnvelopeKind::PairwiseMessage),
    );
    assert!(
        matches!(
            e,
            ReceiveError::Envelope(_) | ReceiveError::NotForThisDevice
        ),
        "{e:?}"
    );

    // Every envelope under every other kind byte is refused and changes nothing.
    let all = [
        p.alice_uploads[0].clone(),
        p.alice_uploads[1].clone(),
        one_time,
        message.clone(),
        distribution.clone(),
        group_message.clone(),
    ];
    for envelope in &all {
        let own = Envelope::decode(envelope).unwrap().kind();
        for code in 1..=6u8 {
            let kind = EnvelopeKind::from_code(code).unwrap();
            if kind != own {
                refused(&mut p.bob, &relabel(envelope, kind));
            }
        }
    }

    // Bob joins the group, and still nothing relabelled opens; the originals do.
    p.bob.receive(now(), &distribution).unwrap();
    for envelope in &all[3..] {
        let own = Envelope::decode(envelope).unwrap().kind();
        for code in 1..=6u8 {
            let kind = EnvelopeKind::from_code(code).unwrap();
            if kind != own {
                refused(&mut p.bob, &relabel(envelope, kind));
            }
        }
    }
    p.bob.receive(now(), &message).unwrap();
    p.bob.receive(now(), &group_message).unwrap();
}

#[test]
fn a_group_message_under_a_group_id_equal_to_the_senders_user_id_does_not_open() {
    // The 1:1 body read as a group message names group "alice": make Bob a
    // member of a group of that id, so the refusal comes from the group's
    // associated data and signature (§13.6–13.7), not from a missing group.
    let mut p = pair();
    let alice_group = GroupId::new(b"alice").unwrap();
    let distribution = p
        .alice
        .create_group(&mut p.rng, now(), alice_group.clone(), &[user("bob")])
        .unwrap();
    p.alice.commit_group(now(), &alice_group).unwrap();
    p.bob.receive(now(), &distribution).unwrap();
    let message = p
        .alice
        .seal_to_user(&mut p.rng, now(), &user("bob"), ContentType::Text, b"hi")
        .unwrap()
        .remove(0)
        .envelope;
    let e = refused(&mut p.bob, &relabel(&message, EnvelopeKind::GroupMessage));
    assert!(matches!(e, ReceiveError::GroupOpen(_)), "{e:?}");
    p.bob.receive(now(), &message).unwrap();
}
