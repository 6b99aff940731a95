//! One client object (SPEC.md §13): an [`Account`] is one device of a user. It
//! owns the device's keys, exactly one pairwise session per peer device, the
//! groups, and the verified device lists and key bundles of the users it
//! talks to. It does no I/O: randomness, time and every byte in and out are
//! arguments and return values, and every call takes them in one order —
//! `rng`, `now`, then the inputs.
//!
//! Everything that travels is an [`Envelope`]; [`Account::receive`] takes any
//! of them and returns a typed [`Event`], so an application never guesses
//! what bytes are. A refusal is a [`ReceiveError`] and changes nothing.
//! [`Relay`] is the server's side: the checks a server makes (no secrets) and
//! the fan-out, in memory.
//!
//! # Walkthrough: the client
//!
//! **1. Create the account and upload.** A new user's first device is its
//! *primary* ([`Account::create_primary`]); [`Account::uploads`] gives its
//! signed device list and key bundle for the server. **2. Learn a peer**:
//! feed what the server hands out for a user ([`Relay::fetch_user`]) to
//! [`Account::receive`]. **3. Seal to a user** with
//! [`Account::seal_to_user`]: one [`Outgoing`] envelope per device of the
//! peer (and per other device of one's own); the receiver's
//! [`Account::receive`] returns [`Event::Message`].
//!
//! ```
//! use letterseal::account::{Account, Event, Outgoing, Relay};
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::pairwise::ContentType;
//! use letterseal::time::Timestamp;
//! use rand_core::SeedableRng;
//!
//! // A seeded RNG keeps the example reproducible; an app passes the OS generator,
//! // `rand_core::UnwrapErr(getrandom::SysRng)`, and its clock's time.
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
//! let alice_phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
//! let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
//! let mut relay = Relay::new(); // the server
//!
//! // 1. Create and upload (the relay checks every upload).
//! let mut alice = Account::create_primary(&mut rng, now, alice_phone.clone());
//! let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
//! for upload in alice.uploads(&mut rng, now)? { relay.upload(now, &alice_phone, &upload)?; }
//! for upload in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &upload)?; }
//!
//! // 2. Learn the peer: its device list, then each device's bundle.
//! for envelope in relay.fetch_user(&bob_id) { alice.receive(now, &envelope)?; }
//! for envelope in relay.fetch_user(&alice_id) { bob.receive(now, &envelope)?; }
//!
//! // 3. Seal to a user; the relay delivers; the receiver gets a typed event.
//! let outgoing: Vec<Outgoing> =
//!     alice.seal_to_user(&mut rng, now, &bob_id, ContentType::Text, b"hi bob")?;
//! for out in outgoing {
//!     for delivery in relay.upload(now, &alice_phone, &out.envelope)? {
//!         let event = bob.receive(now, &delivery.envelope)?;
//!         assert_eq!(event.sender(), Some(&alice_phone));
//!         assert_eq!(event.plaintext(), Some(&b"hi bob"[..]));
//!         assert!(matches!(event, Event::Message { content_type: ContentType::Text, .. }));
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **4. Groups.** [`Account::create_group`] proposes a group of users (every
//! device of their device lists); the server orders proposals and fans each
//! member its view, which [`Account::receive`] installs
//! ([`Event::GroupChanged`]). [`Account::seal_to_group`] makes one envelope
//! the server delivers to every member device; [`Account::update_group`]
//! adds or removes users. **5. Save and restore**: [`Account::export`] seals
//! the whole account under a [`StorageKey`]; [`Account::import`] refuses a
//! blob older than the last generation the app saved.
//!
//! ```
//! # use letterseal::account::{Account, Event, Relay};
//! # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! # use letterseal::pairwise::ContentType;
//! # use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//! # let now = Timestamp::from_unix_seconds(1_800_000_000);
//! # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
//! # let alice_phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
//! # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
//! # let mut relay = Relay::new();
//! # let mut alice = Account::create_primary(&mut rng, now, alice_phone.clone());
//! # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
//! # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &alice_phone, &u)?; }
//! # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
//! # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
//! # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
//! use letterseal::group::GroupId;
//! use letterseal::state::StorageKey;
//!
//! // 4. A group: the proposal goes to the server, which sends each member its view.
//! let club = GroupId::new("book club")?;
//! let upload = alice.create_group(&mut rng, now, club.clone(), &[bob_id.clone()])?;
//! for delivery in relay.upload(now, &alice_phone, &upload)? {
//!     let member = if delivery.to == alice_phone { &mut alice } else { &mut bob };
//!     let event = member.receive(now, &delivery.envelope)?;
//!     assert!(matches!(event, Event::GroupChanged { .. }));
//! }
//! assert_eq!(bob.group_users(&club), [alice_id.clone(), bob_id.clone()]);
//! let sealed = bob.seal_to_group(&mut rng, now, &club, ContentType::Text, b"hello club")?;
//! for delivery in relay.upload(now, &bob_phone, &sealed)? {
//!     let event = alice.receive(now, &delivery.envelope)?;
//!     assert_eq!(event.plaintext(), Some(&b"hello club"[..]));
//! }
//!
//! // 5. Save the whole account as one sealed blob; keep the generation somewhere trusted.
//! let key = StorageKey::generate(&mut rng); // in the OS keystore
//! let blob = alice.export(&mut rng, &key)?;
//! let alice = Account::import(&key, blob.as_bytes(), blob.generation())?;
//! assert_eq!(alice.groups().collect::<Vec<_>>(), [&club]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Devices.** A user's other devices are secondaries
//! ([`Account::create_secondary`], whose example also lists the new device
//! with [`Account::add_device`]); the primary removes a lost one
//! ([`Account::remove_device`]); a lost primary is replaced with the recovery
//! secret ([`Account::restore_primary`]). Those methods have examples, as do
//! [`Account::safety_number`], [`Account::forget_user`] (a peer's new user
//! key), [`Account::expire`] (housekeeping and key renewal) and
//! [`Account::one_time_keys`].
//!
//! **When something is missing.** A peer's message can arrive before its
//! device list: [`ReceiveError::DeviceListNeeded`] and
//! [`ReceiveError::BundleNeeded`] name what to fetch; fetch it and call
//! [`Account::receive`] again (see the example on [`ReceiveError`]).

mod device_list;
mod envelope;
mod error;
mod persist;
mod relay;
mod user;

#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

pub use device_list::{
    DEVICE_LIST_VERSION, DeviceList, DeviceListError, ListedDevice, MAX_DEVICES, VerifiedDeviceList,
};
pub use envelope::{ENVELOPE_VERSION, Envelope, EnvelopeError, EnvelopeKind};
pub use error::{AccountError, ReceiveError};
pub use relay::{Relay, RelayError};
pub use user::{UserPublicKey, UserSecretKey};

use envelope::{PairwiseHeader, group_associated_data, split_group_body};

use crate::codec::Writer;
use crate::device::DeviceKeys;
use crate::group::{
    Distribution, EpochChange, GracePolicy, Group, GroupId, Processed, RosterSection,
    RotationReason,
};
use crate::ids::{DeviceAddress, DeviceId, UserId};
use crate::keys::IdentityPublicKey;
use crate::pairwise::{ContentType, EXPIRY_SKEW_SECONDS, Session};
use crate::registration::{
    ExpectedOwner, KeyBundle, NoDirectory, OneTimeKeyBundle, RegistrationPolicy, VerifiedBundle,
};
use crate::safety_number::SafetyNumber;
use crate::state::{self, SealedState, StateError, StorageKey};
use crate::time::Timestamp;

/// How long a sealing key an account registers is valid: 30 days.
pub const SEALING_KEY_LIFETIME_SECONDS: u64 = 30 * 86_400;

/// A sealing key is replaced by [`Account::uploads`] once less than this much
/// of its validity is left: 7 days.
pub const SEALING_KEY_RENEWAL_SECONDS: u64 = 7 * 86_400;

/// What a user's verified device list and the bundles of its devices say.
#[derive(Clone, Debug)]
struct Contact {
    list: VerifiedDeviceList,
    bundles: BTreeMap<DeviceId, VerifiedBundle>,
}

/// One sealed envelope for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The device it is for (the server delivers it there).
    pub to: DeviceAddress,
    /// The envelope's bytes.
    pub envelope: Vec<u8>,
}

/// What [`Account::receive`] made of an envelope.
#[non_exhaustive]
pub enum Event {
    /// A 1:1 message, opened.
    Message {
        /// The device that sent it (authenticated by the session).
        from: DeviceAddress,
        /// The user it was written to: this account's user, or, for a copy
        /// of a message its own other device sent, the peer of that conversation.
        to_user: UserId,
        /// What it carries.
        content_type: ContentType,
        /// The plaintext (zeroized on drop).
        plaintext: Zeroizing<Vec<u8>>,
    },
    /// A group message, opened.
    GroupMessage {
        /// The group.
        group: GroupId,
        /// The member device that sent it (its signature was verified).
        from: DeviceAddress,
        /// What it carries.
        content_type: ContentType,
        /// The plaintext (zeroized on drop).
        plaintext: Zeroizing<Vec<u8>>,
    },
    /// A group's new epoch is installed: another member's change, or this
    /// account's own proposal coming back from the server (`committed`).
    GroupChanged {
        /// The group.
        group: GroupId,
        /// What changed.
        change: EpochChange,
        /// This account's own pending proposal was accepted.
        committed: bool,
        /// This account's own pending proposal for the same epoch was
        /// dropped: the server ordered another member's change first.
        discarded_proposal: bool,
    },
    /// A user's device list is now held (the first one, or a newer version).
    DeviceListUpdated {
        /// The user.
        user: UserId,
        /// The list's version.
        version: u64,
        /// Devices that joined the list.
        added: Vec<DeviceId>,
        /// Devices that left it: their sessions and bundles are deleted.
        removed: Vec<DeviceId>,
        /// Groups whose roster should follow the change: call
        /// [`Account::update_group`] for each (once the added devices'
        /// bundles are known).
        groups_to_update: Vec<GroupId>,
    },
    /// A device's key bundle is held and its session can seal.
    BundleLearned {
        /// The device.
        device: DeviceAddress,
    },
    /// A device's one-time key will be used when this side starts a session with it.
    OneTimeKeyLearned {
        /// The device.
        device: DeviceAddress,
    },
    /// Something already held arrived again (a device list, a bundle, a
    /// group epoch): nothing changed.
    Duplicate,
}

impl Event {
    /// The device that sent a 1:1 or group message.
    pub fn sender(&self) -> Option<&DeviceAddress> {
        match self {
            Self::Message { from, .. } | Self::GroupMessage { from, .. } => Some(from),
            _ => None,
        }
    }

    /// The plaintext of a 1:1 or group message.
    pub fn plaintext(&self) -> Option<&[u8]> {
        match self {
            Self::Message { plaintext, .. } | Self::GroupMessage { plaintext, .. } => {
                Some(plaintext)
            }
            _ => None,
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message {
                from,
                to_user,
                content_type,
                plaintext,
            } => f
                .debug_struct("Message")
                .field("from", from)
                .field("to_user", to_user)
                .field("content_type", content_type)
                .field("plaintext_len", &plaintext.len())
                .finish(),
            Self::GroupMessage {
                group,
                from,
                content_type,
                plaintext,
            } => f
                .debug_struct("GroupMessage")
                .field("group", group)
                .field("from", from)
                .field("content_type", content_type)
                .field("plaintext_len", &plaintext.len())
                .finish(),
            Self::GroupChanged {
                group,
                change,
                committed,
                discarded_proposal,
            } => f
                .debug_struct("GroupChanged")
                .field("group", group)
                .field("change", change)
                .field("committed", committed)
                .field("discarded_proposal", discarded_proposal)
                .finish(),
            Self::DeviceListUpdated {
                user,
                version,
                added,
                removed,
                groups_to_update,
            } => f
                .debug_struct("DeviceListUpdated")
                .field("user", user)
                .field("version", version)
                .field("added", added)
                .field("removed", removed)
                .field("groups_to_update", groups_to_update)
                .finish(),
            Self::BundleLearned { device } => f
                .debug_struct("BundleLearned")
                .field("device", device)
                .finish(),
            Self::OneTimeKeyLearned { device } => f
                .debug_struct("OneTimeKeyLearned")
                .field("device", device)
                .finish(),
            Self::Duplicate => f.write_str("Duplicate"),
        }
    }
}

/// One device of a user, with everything it needs to talk (see the module docs).
pub struct Account {
    device: DeviceKeys,
    /// Held by the primary device only.
    user_key: Option<UserSecretKey>,
    /// Verified device lists (this account's own user included) and bundles.
    contacts: BTreeMap<UserId, Contact>,
    /// Exactly one session per peer device.
    sessions: BTreeMap<DeviceAddress, Session>,
    groups: BTreeMap<GroupId, Group>,
    generation: u64,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("address", self.address())
            .field("primary", &self.user_key.is_some())
            .field("users", &self.contacts.keys().collect::<Vec<_>>())
            .field("sessions", &self.sessions.len())
            .field("groups", &self.groups.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Account {
    /// A new user's first device, its *primary*: it creates the user key and
    /// signs device list version 1 listing itself (SPEC.md §13.4). Send the
    /// envelopes of [`Self::uploads`] to the server.
    ///
    /// ```
    /// use letterseal::account::Account;
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
    /// let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// let phone = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
    /// let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// assert_eq!(alice.address(), &phone);
    /// assert!(alice.is_primary());
    /// // Device list version 1 lists this device under its identity key.
    /// let list = alice.device_list(&phone.user).unwrap();
    /// assert_eq!(list.list().version(), 1);
    /// assert_eq!(list.identity_key(phone.device), Some(&alice.identity_key()));
    /// assert_eq!(alice.uploads(&mut rng, now)?.len(), 2); // the list, then the bundle
    /// assert_eq!(alice.generation(), 0); // not exported yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_primary<R: CryptoRng + ?Sized>(
        rng: &mut R,
        now: Timestamp,
        address: DeviceAddress,
    ) -> Self {
        let user_key = UserSecretKey::generate(rng);
        let mut account = Self::create_secondary(rng, now, address);
        let me = ListedDevice {
            device: account.address().device,
            identity_key: account.identity_key(),
        };
        // One device, version 1: within every rule of §13.2.
        if let Ok(list) = DeviceList::sign(
            &user_key,
            account.address().user.clone(),
            1,
            Vec::from([me]),
        ) {
            account.contacts.insert(
                account.address().user.clone(),
                Contact {
                    list: VerifiedDeviceList::from_trusted(list),
                    bundles: BTreeMap::new(),
                },
            );
        }
        account.user_key = Some(user_key);
        account
    }

    /// Another device of an existing user: it has its own identity and
    /// sealing keys but speaks for the user only once a device list signed by
    /// the primary lists it ([`Self::add_device`] on the primary, then
    /// [`Self::receive`] here). Give [`Self::identity_key`] to the primary.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// // Alice's laptop joins: its identity key reaches her phone (e.g. by QR code).
    /// let laptop_at = DeviceAddress::new(alice_id.clone(), DeviceId::new(2));
    /// let mut laptop = Account::create_secondary(&mut rng, now, laptop_at.clone());
    /// let list = alice.add_device(laptop_at.device, laptop.identity_key())?;
    /// relay.upload(now, &phone, &list)?;
    /// for u in laptop.uploads(&mut rng, now)? { relay.upload(now, &laptop_at, &u)?; }
    /// for user in [&alice_id, &bob_id] {
    ///     for e in relay.fetch_user(user) { laptop.receive(now, &e)?; }
    ///     for e in relay.fetch_user(user) { bob.receive(now, &e)?; }
    /// }
    /// // bob's next message reaches both of alice's devices.
    /// let out = bob.seal_to_user(&mut rng, now, &alice_id, ContentType::Text, b"hi")?;
    /// let to: Vec<_> = out.iter().map(|o| o.to.clone()).collect();
    /// assert_eq!(to, [phone, laptop_at]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_secondary<R: CryptoRng + ?Sized>(
        rng: &mut R,
        now: Timestamp,
        address: DeviceAddress,
    ) -> Self {
        let mut device = DeviceKeys::generate(rng, address);
        device.add_sealing_key(rng, now, SEALING_KEY_LIFETIME_SECONDS);
        Self {
            device,
            user_key: None,
            contacts: BTreeMap::new(),
            sessions: BTreeMap::new(),
            groups: BTreeMap::new(),
            generation: 0,
        }
    }

    /// This device's address. See the example on [`Self::create_primary`].
    pub fn address(&self) -> &DeviceAddress {
        self.device.address()
    }

    /// This device's identity key (what the primary lists). See the examples
    /// on [`Self::create_primary`] and [`Self::create_secondary`].
    pub fn identity_key(&self) -> IdentityPublicKey {
        self.device.identity().public_key()
    }

    /// Whether this device holds the user key. See the example on
    /// [`Self::create_primary`].
    pub fn is_primary(&self) -> bool {
        self.user_key.is_some()
    }

    /// The user key's recovery secret, for the user to keep offline (SPEC.md
    /// §13.4): with it a replacement primary keeps the user's identity
    /// ([`Self::restore_primary`]). `None` on a secondary device. See the
    /// example on [`Self::restore_primary`].
    pub fn user_key_recovery_secret(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.user_key
            .as_ref()
            .map(UserSecretKey::to_recovery_secret)
    }

    /// Makes this device the primary of its user with a recovery secret
    /// (replacing a lost primary). The secret must be the key that signed the
    /// device list this account holds for its user.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// # let laptop_at = DeviceAddress::new(alice_id.clone(), DeviceId::new(2));
    /// # let mut laptop = Account::create_secondary(&mut rng, now, laptop_at.clone());
    /// # let list = alice.add_device(laptop_at.device, laptop.identity_key())?;
    /// # relay.upload(now, &phone, &list)?;
    /// # for e in relay.fetch_user(&alice_id) { laptop.receive(now, &e)?; }
    /// // Written down when the account was made, kept offline.
    /// let secret = alice.user_key_recovery_secret().unwrap();
    /// // The phone is lost; the laptop takes over as primary and removes it.
    /// laptop.restore_primary(&secret)?;
    /// let (list, _) = laptop.remove_device(phone.device)?;
    /// relay.upload(now, &laptop_at, &list)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore_primary(&mut self, recovery_secret: &[u8; 32]) -> Result<(), AccountError> {
        let key = UserSecretKey::from_recovery_secret(recovery_secret);
        let own = self.own_list().ok_or(AccountError::NotListed)?;
        if *own.list().user_key() != key.public_key() {
            return Err(AccountError::WrongUserKey);
        }
        self.user_key = Some(key);
        Ok(())
    }

    /// The device list held for `user` (this account's own user included).
    /// See the example on [`Self::create_primary`].
    pub fn device_list(&self, user: &UserId) -> Option<&VerifiedDeviceList> {
        self.contacts.get(user).map(|c| &c.list)
    }

    fn own_list(&self) -> Option<&VerifiedDeviceList> {
        self.device_list(&self.address().user)
    }

    /// The safety number between this account's user and `user` (SPEC.md
    /// §13.5): over the two *user* keys, so it stays the same when either
    /// user adds or removes a device. `None` until both lists are held.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// let at_alice = alice.safety_number(&bob_id).unwrap();
    /// let at_bob = bob.safety_number(&alice_id).unwrap();
    /// assert_eq!(at_alice.digits(), at_bob.digits()); // the users compare these 60 digits
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn safety_number(&self, user: &UserId) -> Option<SafetyNumber> {
        let mine = self.own_list()?.list();
        let theirs = self.device_list(user)?.list();
        Some(SafetyNumber::new(
            (mine.user(), mine.user_key().as_identity_key()),
            (theirs.user(), theirs.user_key().as_identity_key()),
        ))
    }

    /// Forgets everything held about `user` (its device list, bundles and
    /// sessions), so that a list signed by a new user key — after the
    /// application has the new safety number verified — is accepted as a
    /// first list. Returns whether anything was held.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// use letterseal::account::{DeviceList, DeviceListError, ReceiveError, UserSecretKey};
    ///
    /// // bob starts over with a new user key (no recovery secret).
    /// let new_key = UserSecretKey::generate(&mut rng);
    /// let devices = bob.device_list(&bob_id).unwrap().list().devices().to_vec();
    /// let list = DeviceList::sign(&new_key, bob_id.clone(), 9, devices)?;
    /// let envelope = letterseal::account::Envelope::encode(
    ///     letterseal::account::EnvelopeKind::DeviceList, list.as_bytes())?;
    /// assert_eq!(
    ///     alice.receive(now, &envelope).unwrap_err(),
    ///     ReceiveError::DeviceList(DeviceListError::UserKeyChanged)
    /// );
    /// // After alice and bob compared their new safety number:
    /// alice.forget_user(&bob_id);
    /// assert!(matches!(alice.receive(now, &envelope)?, Event::DeviceListUpdated { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forget_user(&mut self, user: &UserId) -> bool {
        if *user == self.address().user {
            return false;
        }
        self.sessions.retain(|a, _| a.user != *user);
        self.contacts.remove(user).is_some()
    }

    /// What to upload to the server now: on the primary the current device
    /// list, then this device's key bundle. A sealing key that expires within
    /// [`SEALING_KEY_RENEWAL_SECONDS`] is replaced first (the old one stays
    /// live until it expires). See the walkthrough in the [module docs](self)
    /// and the example on [`Self::expire`] (renewal).
    pub fn uploads<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<Vec<Vec<u8>>, AccountError> {
        let mut out = Vec::new();
        if let (Some(_), Some(list)) = (&self.user_key, self.own_list()) {
            out.push(Envelope::encode(
                EnvelopeKind::DeviceList,
                list.list().as_bytes(),
            )?);
        }
        let bundle = self.current_bundle(rng, now);
        out.push(Envelope::encode(EnvelopeKind::KeyBundle, &bundle.encode())?);
        Ok(out)
    }

    fn current_bundle<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: Timestamp) -> KeyBundle {
        let renew_at = now.saturating_add(SEALING_KEY_RENEWAL_SECONDS);
        let current = self.device.current_sealing_key_id().and_then(|id| {
            let (_, not_after) = self.device.sealing_key_validity(&id)?;
            (not_after > renew_at)
                .then(|| self.device.bundle(&id))
                .flatten()
        });
        match current {
            Some(bundle) => bundle,
            None => self
                .device
                .add_sealing_key(rng, now, SEALING_KEY_LIFETIME_SECONDS),
        }
    }

    /// `count` fresh one-time keys of this device, as envelopes for the
    /// server (SPEC.md §5.5): a peer that starts a session with one gets
    /// forward secrecy for this device's sealing key.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// for envelope in alice.one_time_keys(&mut rng, now, 5)? {
    ///     relay.upload(now, &phone, &envelope)?;
    /// }
    /// // bob's fetch claims one; his first message to alice starts from it.
    /// let mut last = None;
    /// for envelope in relay.fetch_user(&alice_id) {
    ///     last = Some(bob.receive(now, &envelope)?);
    /// }
    /// assert!(matches!(last, Some(Event::OneTimeKeyLearned { device }) if device == phone));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn one_time_keys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        count: usize,
    ) -> Result<Vec<Vec<u8>>, AccountError> {
        self.device
            .add_one_time_keys(rng, count, now, SEALING_KEY_LIFETIME_SECONDS)
            .iter()
            .map(|k| Envelope::encode(EnvelopeKind::OneTimeKey, &k.encode()).map_err(Into::into))
            .collect()
    }

    /// On the primary: lists a new device of this user (its identity key
    /// came from the new device, e.g. by a QR code) in device list version
    /// `v + 1`. Returns the list's envelope for the server; the new device and
    /// every peer learn it through [`Self::receive`]. See the example on
    /// [`Self::create_secondary`].
    pub fn add_device(
        &mut self,
        device: DeviceId,
        identity_key: IdentityPublicKey,
    ) -> Result<Vec<u8>, AccountError> {
        let own = self.own_list().ok_or(AccountError::NotListed)?;
        if own.identity_key(device).is_some() {
            return Err(AccountError::AlreadyListed);
        }
        let mut devices = own.list().devices().to_vec();
        devices.push(ListedDevice {
            device,
            identity_key,
        });
        self.sign_own_list(devices)
    }

    /// On the primary: removes a device of this user (lost or retired) in
    /// device list version `v + 1`: its session and bundle are deleted here
    /// and by every peer that receives the list. Returns the list's envelope
    /// and the groups to update ([`Self::update_group`]) so the device is
    /// rotated out.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// # let laptop_at = DeviceAddress::new(alice_id.clone(), DeviceId::new(2));
    /// # let laptop = Account::create_secondary(&mut rng, now, laptop_at.clone());
    /// # let list = alice.add_device(laptop_at.device, laptop.identity_key())?;
    /// # relay.upload(now, &phone, &list)?;
    /// # bob.receive(now, &list)?;
    /// # let old_list = list;
    /// // The laptop is lost: the phone signs a list without it.
    /// let (list, groups_to_update) = alice.remove_device(laptop_at.device)?;
    /// assert!(groups_to_update.is_empty());
    /// relay.upload(now, &phone, &list)?;
    /// match bob.receive(now, &list)? {
    ///     Event::DeviceListUpdated { removed, .. } => assert_eq!(removed, [laptop_at.device]),
    ///     other => panic!("{other:?}"),
    /// }
    /// // Replaying the old list to bring the laptop back is refused.
    /// assert!(matches!(
    ///     bob.receive(now, &old_list),
    ///     Err(letterseal::account::ReceiveError::DeviceList(
    ///         letterseal::account::DeviceListError::Stale { held: 3, received: 2 }
    ///     ))
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_device(
        &mut self,
        device: DeviceId,
    ) -> Result<(Vec<u8>, Vec<GroupId>), AccountError> {
        if device == self.address().device {
            return Err(AccountError::CannotRemoveSelf);
        }
        let own = self.own_list().ok_or(AccountError::NotListed)?;
        if own.identity_key(device).is_none() {
            return Err(AccountError::NotListed);
        }
        let devices = own
            .list()
            .devices()
            .iter()
            .filter(|d| d.device != device)
            .copied()
            .collect();
        let envelope = self.sign_own_list(devices)?;
        let removed = DeviceAddress::new(self.address().user.clone(), device);
        Ok((envelope, self.forget_devices(&[removed])))
    }

    fn sign_own_list(&mut self, devices: Vec<ListedDevice>) -> Result<Vec<u8>, AccountError> {
        let key = self.user_key.as_ref().ok_or(AccountError::NotPrimary)?;
        let own_user = self.address().user.clone();
        let contact = self
            .contacts
            .get_mut(&own_user)
            .ok_or(AccountError::NotListed)?;
        let list = contact.list.next(key, devices)?;
        let envelope = Envelope::encode(EnvelopeKind::DeviceList, list.as_bytes())?;
        contact.list = VerifiedDeviceList::from_trusted(list);
        Ok(envelope)
    }

    /// Deletes the sessions and bundles of `removed` devices; returns the
    /// groups whose roster holds one of them.
    fn forget_devices(&mut self, removed: &[DeviceAddress]) -> Vec<GroupId> {
        for address in removed {
            self.sessions.remove(address);
            if let Some(contact) = self.contacts.get_mut(&address.user) {
                contact.bundles.remove(&address.device);
            }
        }
        self.groups
            .iter()
            .filter(|(_, g)| {
                g.roster()
                    .is_some_and(|r| removed.iter().any(|a| r.get(a).is_some()))
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Seals one message to a user (SPEC.md §13.6): to every device in
    /// `user`'s verified device list and to this account's own other listed
    /// devices, each over its own session. Every session is checked before
    /// any is advanced: a refusal changes nothing. See the walkthrough in the
    /// [module docs](self) and the example on [`AccountError`].
    pub fn seal_to_user<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        user: &UserId,
        content_type: ContentType,
        plaintext: &[u8],
    ) -> Result<Vec<Outgoing>, AccountError> {
        let me = self.address().clone();
        let theirs = self
            .device_list(user)
            .ok_or_else(|| AccountError::DeviceListNeeded(user.clone()))?;
        let mut recipients: BTreeSet<DeviceAddress> = theirs.addresses().collect();
        if let Some(own) = self.own_list() {
            recipients.extend(own.addresses());
        }
        recipients.remove(&me);
        if recipients.is_empty() {
            return Err(AccountError::NoRecipients);
        }
        for to in &recipients {
            let session = self
                .sessions
                .get(to)
                .ok_or_else(|| AccountError::BundleNeeded(to.clone()))?;
            session.seal_checks(&self.device, now, content_type, None)?;
        }
        let mut out = Vec::with_capacity(recipients.len());
        for to in recipients {
            let header = PairwiseHeader {
                sender: me.clone(),
                recipient: to.clone(),
                to_user: user.clone(),
            };
            let session = self
                .sessions
                .get_mut(&to)
                .ok_or_else(|| AccountError::BundleNeeded(to.clone()))?;
            let sealed = session.seal(
                &self.device,
                rng,
                now,
                content_type,
                plaintext,
                &header.associated_data(),
            )?;
            let mut body = Writer::with_capacity(sealed.len() + 64);
            header.encode(&mut body);
            body.raw(&sealed);
            let envelope = Envelope::encode(EnvelopeKind::PairwiseMessage, body.as_bytes())?;
            out.push(Outgoing { to, envelope });
        }
        Ok(out)
    }

    /// The groups this account is in. See the examples in the [module
    /// docs](self) and on [`Self::commit_group`].
    pub fn groups(&self) -> impl Iterator<Item = &GroupId> {
        self.groups.keys()
    }

    /// A group's state (roster, epoch, policy), if this account is in it.
    /// See the example on [`Self::commit_group`].
    pub fn group(&self, group: &GroupId) -> Option<&Group> {
        self.groups.get(group)
    }

    /// The users whose devices are in `group`'s current roster. See the
    /// example on [`Self::update_group`].
    pub fn group_users(&self, group: &GroupId) -> Vec<UserId> {
        let mut users: Vec<UserId> = self
            .groups
            .get(group)
            .and_then(Group::roster)
            .map(|r| r.iter().map(|m| m.address().user).collect())
            .unwrap_or_default();
        users.dedup();
        users
    }

    /// Creates a group of this account's user and `members` (users): its
    /// roster is every device in their verified device lists (SPEC.md §13.7).
    /// Returns the upload for the server; the group's first epoch is pending
    /// until the server accepts it (it comes back through [`Self::receive`],
    /// or call [`Self::commit_group`]). See the examples on
    /// [`Self::update_group`] and [`Self::commit_group`].
    pub fn create_group<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        group: GroupId,
        members: &[UserId],
    ) -> Result<Vec<u8>, AccountError> {
        if self.groups.contains_key(&group) {
            return Err(AccountError::GroupExists);
        }
        let mut users: BTreeSet<UserId> = members.iter().cloned().collect();
        users.insert(self.address().user.clone());
        let mut state = Group::new(
            group.clone(),
            self.address().clone(),
            GracePolicy::default(),
        );
        let upload = self.propose(rng, now, &mut state, &users)?;
        self.groups.insert(group, state);
        Ok(upload)
    }

    /// Proposes `group`'s next epoch with the users of its current roster,
    /// plus `add`, minus `remove`; every listed device of each user with a
    /// held bundle is in the roster, so this also follows device-list changes
    /// (a removed device leaves, a new one joins). Pending like [`Self::create_group`].
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// let club = GroupId::new("club")?;
    /// let upload = alice.create_group(&mut rng, now, club.clone(), &[])?;
    /// for d in relay.upload(now, &phone, &upload)? { alice.receive(now, &d.envelope)?; }
    /// // Add bob: the new epoch's roster holds every device of his list.
    /// let upload = alice.update_group(&mut rng, now, &club, &[bob_id.clone()], &[])?;
    /// for d in relay.upload(now, &phone, &upload)? {
    ///     let account = if d.to == phone { &mut alice } else { &mut bob };
    ///     assert!(matches!(account.receive(now, &d.envelope)?, Event::GroupChanged { .. }));
    /// }
    /// assert_eq!(bob.group_users(&club), [alice_id, bob_id]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update_group<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        group: &GroupId,
        add: &[UserId],
        remove: &[UserId],
    ) -> Result<Vec<u8>, AccountError> {
        let mut users: BTreeSet<UserId> = self.group_users(group).into_iter().collect();
        users.extend(add.iter().cloned());
        for user in remove {
            users.remove(user);
        }
        if !users.contains(&self.address().user) {
            return Err(AccountError::CannotRemoveSelf);
        }
        let mut state = self
            .groups
            .remove(group)
            .ok_or_else(|| AccountError::UnknownGroup(group.clone()))?;
        let result = self.propose(rng, now, &mut state, &users);
        self.groups.insert(group.clone(), state);
        result
    }

    fn propose<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        state: &mut Group,
        users: &BTreeSet<UserId>,
    ) -> Result<Vec<u8>, AccountError> {
        let me = self.address().clone();
        let mut bundles = Vec::new();
        for user in users {
            let contact = self
                .contacts
                .get(user)
                .ok_or_else(|| AccountError::DeviceListNeeded(user.clone()))?;
            for address in contact.list.addresses() {
                if address == me {
                    bundles.push(self.own_bundle(now)?);
                    continue;
                }
                let bundle = contact
                    .bundles
                    .get(&address.device)
                    .ok_or(AccountError::BundleNeeded(address))?;
                bundles.push(bundle.clone());
            }
        }
        let proposal = state.propose(rng, &self.device, &bundles, None, &mut self.sessions, now)?;
        Ok(Envelope::encode(
            EnvelopeKind::Distribution,
            &proposal.upload.encode(),
        )?)
    }

    /// This device's own current bundle, verified as a peer would.
    fn own_bundle(&self, now: Timestamp) -> Result<VerifiedBundle, AccountError> {
        let bundle = self
            .device
            .current_sealing_key_id()
            .and_then(|id| self.device.bundle(&id))
            .ok_or(AccountError::NoSealingKey)?;
        Ok(bundle.verify(
            &ExpectedOwner::Device(self.address().clone()),
            &RegistrationPolicy::default(),
            now,
            None,
            &NoDirectory,
        )?)
    }

    /// The server accepted this account's pending proposal for `group`:
    /// its epoch is now current. (Receiving the upload back does the same.)
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// let club = GroupId::new("club")?;
    /// let upload = alice.create_group(&mut rng, now, club.clone(), &[bob_id.clone()])?;
    /// // The server refused it (say, the id is taken): the pending group is dropped.
    /// alice.abort_group(&club)?;
    /// assert_eq!(alice.groups().count(), 0);
    ///
    /// // Proposed again; this time the server says yes (without echoing the upload).
    /// let upload = alice.create_group(&mut rng, now, club.clone(), &[bob_id.clone()])?;
    /// let change = alice.commit_group(now, &club)?;
    /// assert_eq!(alice.group(&club).and_then(|g| g.current_epoch()), Some(change.epoch));
    /// assert_eq!(alice.groups().collect::<Vec<_>>(), [&club]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn commit_group(
        &mut self,
        now: Timestamp,
        group: &GroupId,
    ) -> Result<EpochChange, AccountError> {
        let state = self
            .groups
            .get_mut(group)
            .ok_or_else(|| AccountError::UnknownGroup(group.clone()))?;
        let change = state.commit(now)?;
        Ok(change)
    }

    /// The server refused this account's pending proposal for `group`: it is
    /// dropped (a group whose first epoch was refused is deleted). See the
    /// example on [`Self::commit_group`].
    pub fn abort_group(&mut self, group: &GroupId) -> Result<(), AccountError> {
        let state = self
            .groups
            .get_mut(group)
            .ok_or_else(|| AccountError::UnknownGroup(group.clone()))?;
        state.abort()?;
        if state.current_epoch().is_none() {
            self.groups.remove(group);
        }
        Ok(())
    }

    /// Seals a message to `group` in its current epoch (SPEC.md §13.7): one
    /// envelope, which the server delivers to every member device. See the
    /// walkthrough in the [module docs](self).
    pub fn seal_to_group<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        _now: Timestamp,
        group: &GroupId,
        content_type: ContentType,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, AccountError> {
        let state = self
            .groups
            .get_mut(group)
            .ok_or_else(|| AccountError::UnknownGroup(group.clone()))?;
        let sealed = state.seal(
            rng,
            &self.device,
            content_type,
            plaintext,
            &group_associated_data(group),
        )?;
        let mut body = Writer::with_capacity(sealed.len() + 256);
        group.encode(&mut body);
        body.raw(&sealed);
        Ok(Envelope::encode(
            EnvelopeKind::GroupMessage,
            body.as_bytes(),
        )?)
    }

    /// Housekeeping, to call now and then (e.g. daily and at start-up):
    /// deletes this device's sealing keys expired more than
    /// [`EXPIRY_SKEW_SECONDS`] ago (a fresh one is made by [`Self::uploads`])
    /// that no session still needs (SPEC.md §13.4: a ratchet state whose
    /// current KEM key is still the bundle's keeps it), its expired one-time
    /// keys, the sessions' skipped message secrets past their lifetime, and
    /// the groups' superseded epochs past their grace period. Returns how
    /// many device keys it deleted.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// // Forty days later: the 30-day sealing key has expired.
    /// let later = now.saturating_add(40 * 86_400);
    /// alice.expire(later); // keeps a key a session still needs (SPEC.md §13.4)
    /// let uploads = alice.uploads(&mut rng, later)?; // a fresh bundle
    /// for u in &uploads { relay.upload(later, &phone, u)?; }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expire(&mut self, now: Timestamp) -> usize {
        let expired: Vec<_> = self
            .device
            .live_key_ids()
            .copied()
            .filter(|id| {
                self.device
                    .sealing_key_validity(id)
                    .is_some_and(|(_, not_after)| {
                        not_after.saturating_add(EXPIRY_SKEW_SECONDS) <= now
                    })
                    && !self.sessions.values().any(|s| s.uses_local_bundle_key(id))
            })
            .collect();
        let retired = expired
            .into_iter()
            .filter(|id| self.device.retire(*id))
            .count();
        let one_time = self.device.expire(now);
        for session in self.sessions.values_mut() {
            session.expire(now);
        }
        for group in self.groups.values_mut() {
            group.expire(now);
        }
        retired.saturating_add(one_time)
    }

    /// The groups whose key should be rotated at `now` under their rotation
    /// policy (SPEC.md §8.12), and why; rotate one with
    /// [`Self::update_group`] with no change of users.
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// use letterseal::group::RotationReason;
    ///
    /// let club = GroupId::new("club")?;
    /// let upload = alice.create_group(&mut rng, now, club.clone(), &[bob_id.clone()])?;
    /// alice.commit_group(now, &club)?;
    /// assert!(alice.groups_due_for_rotation(now).is_empty());
    /// // The default policy rotates a group key after 7 days.
    /// let later = now.saturating_add(8 * 86_400);
    /// let due = alice.groups_due_for_rotation(later);
    /// assert!(matches!(&due[..], [(id, RotationReason::Age(_))] if *id == club));
    /// let rotation = alice.update_group(&mut rng, later, &club, &[], &[])?; // same users, new key
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn groups_due_for_rotation(&self, now: Timestamp) -> Vec<(GroupId, RotationReason)> {
        let bundles: Vec<VerifiedBundle> = self
            .contacts
            .values()
            .flat_map(|c| c.bundles.values().cloned())
            .collect();
        self.groups
            .iter()
            .filter_map(|(id, g)| {
                g.rotation_due(&self.device, &bundles, now)
                    .map(|reason| (id.clone(), reason))
            })
            .collect()
    }

    /// Takes any envelope that arrived and returns what it was (SPEC.md
    /// §13.8). Never panics; a refusal is a typed [`ReceiveError`] and changes
    /// nothing. See the walkthrough in the [module docs](self) and the
    /// example on [`ReceiveError`] (retrying after a fetch).
    pub fn receive(&mut self, now: Timestamp, bytes: &[u8]) -> Result<Event, ReceiveError> {
        let envelope = Envelope::decode(bytes)?;
        let body = envelope.body();
        match envelope.kind() {
            EnvelopeKind::DeviceList => self.receive_device_list(body),
            EnvelopeKind::KeyBundle => self.receive_bundle(now, body),
            EnvelopeKind::OneTimeKey => self.receive_one_time_key(now, body),
            EnvelopeKind::PairwiseMessage => self.receive_message(now, body),
            EnvelopeKind::GroupMessage => self.receive_group_message(now, body),
            EnvelopeKind::Distribution => self.receive_distribution(now, body),
        }
    }

    fn receive_device_list(&mut self, body: &[u8]) -> Result<Event, ReceiveError> {
        let list = DeviceList::decode(body)?;
        let user = list.user().clone();
        let held = self.contacts.get(&user).map(|c| &c.list);
        let verified = match list.verify(&user, held) {
            Ok(verified) => verified,
            Err(DeviceListError::Duplicate) => return Ok(Event::Duplicate),
            Err(other) => return Err(other.into()),
        };
        let listed: BTreeSet<DeviceId> =
            verified.list().devices().iter().map(|d| d.device).collect();
        let before: BTreeSet<DeviceId> = held
            .map(|l| l.list().devices().iter().map(|d| d.device).collect())
            .unwrap_or_default();
        // A device that stays listed but under a new identity key is a new device.
        let rekeyed: BTreeSet<DeviceId> = held
            .map(|l| {
                l.list()
                    .devices()
                    .iter()
                    .filter(|d| {
                        verified
                            .identity_key(d.device)
                            .is_some_and(|k| *k != d.identity_key)
                    })
                    .map(|d| d.device)
                    .collect()
            })
            .unwrap_or_default();
        let added: Vec<DeviceId> = listed
            .iter()
            .filter(|d| !before.contains(d) || rekeyed.contains(d))
            .copied()
            .collect();
        let removed: Vec<DeviceId> = before
            .iter()
            .filter(|d| !listed.contains(d) || rekeyed.contains(d))
            .copied()
            .collect();
        if user == self.address().user {
            let me = verified.identity_key(self.address().device);
            if me != Some(&self.identity_key()) {
                return Err(ReceiveError::OwnDeviceNotListed);
            }
        }
        let version = verified.list().version();
        let removed_addresses: Vec<DeviceAddress> = removed
            .iter()
            .map(|d| DeviceAddress::new(user.clone(), *d))
            .collect();
        let mut groups_to_update = self.forget_devices(&removed_addresses);
        if !added.is_empty() {
            for (id, g) in &self.groups {
                if g.roster().is_some_and(|r| r.contains_user(user.as_bytes()))
                    && !groups_to_update.contains(id)
                {
                    groups_to_update.push(id.clone());
                }
            }
        }
        let bundles = self
            .contacts
            .remove(&user)
            .map(|c| c.bundles)
            .unwrap_or_default();
        self.contacts.insert(
            user.clone(),
            Contact {
                list: verified,
                bundles,
            },
        );
        Ok(Event::DeviceListUpdated {
            user,
            version,
            added,
            removed,
            groups_to_update,
        })
    }

    /// The identity key `owner`'s user's verified list gives `owner`.
    fn listed_key(&self, owner: &DeviceAddress) -> Result<IdentityPublicKey, ReceiveError> {
        let contact = self
            .contacts
            .get(&owner.user)
            .ok_or_else(|| ReceiveError::DeviceListNeeded(owner.user.clone()))?;
        contact
            .list
            .identity_key(owner.device)
            .copied()
            .ok_or_else(|| ReceiveError::DeviceNotListed(owner.clone()))
    }

    fn receive_bundle(&mut self, now: Timestamp, body: &[u8]) -> Result<Event, ReceiveError> {
        let bundle = KeyBundle::decode(body)?;
        let owner = bundle.content().owner.clone();
        let listed = self.listed_key(&owner)?;
        if owner == *self.address() {
            return Ok(Event::Duplicate);
        }
        let verified = bundle.verify(
            &ExpectedOwner::Device(owner.clone()),
            &RegistrationPolicy::default(),
            now,
            Some(&listed),
            &NoDirectory,
        )?;
        let held = self
            .contacts
            .get(&owner.user)
            .and_then(|c| c.bundles.get(&owner.device));
        if held == Some(&verified) {
            return Ok(Event::Duplicate);
        }
        match self.sessions.get_mut(&owner) {
            Some(session) => session.add_peer_bundle(&verified)?,
            None => {
                let session = Session::new(&self.device, &verified)?;
                self.sessions.insert(owner.clone(), session);
            }
        }
        if let Some(contact) = self.contacts.get_mut(&owner.user) {
            contact.bundles.insert(owner.device, verified);
        }
        Ok(Event::BundleLearned { device: owner })
    }

    fn receive_one_time_key(&mut self, now: Timestamp, body: &[u8]) -> Result<Event, ReceiveError> {
        let key = OneTimeKeyBundle::decode(body)?;
        let owner = key.content().owner.clone();
        let listed = self.listed_key(&owner)?;
        if owner == *self.address() {
            // Its own key, handed out by a fetch of its own user: nothing to learn.
            return Ok(Event::Duplicate);
        }
        let verified = key.verify(
            &ExpectedOwner::Device(owner.clone()),
            &RegistrationPolicy::default(),
            now,
            Some(&listed),
            &NoDirectory,
        )?;
        let session = self
            .sessions
            .get_mut(&owner)
            .ok_or_else(|| ReceiveError::BundleNeeded(owner.clone()))?;
        session.offer_one_time_key(&verified)?;
        Ok(Event::OneTimeKeyLearned { device: owner })
    }

    fn receive_message(&mut self, now: Timestamp, body: &[u8]) -> Result<Event, ReceiveError> {
        let (header, sealed) = PairwiseHeader::split(body).map_err(EnvelopeError::Malformed)?;
        if header.recipient != *self.address() {
            return Err(ReceiveError::NotForThisDevice);
        }
        // Another user writes only to this account's user; a copy from one
        // of its own devices names the conversation's peer.
        if header.sender.user != self.address().user && header.to_user != self.address().user {
            return Err(ReceiveError::NotForThisDevice);
        }
        self.listed_key(&header.sender)?;
        let session = self
            .sessions
            .get_mut(&header.sender)
            .ok_or_else(|| ReceiveError::BundleNeeded(header.sender.clone()))?;
        let opened = session.open(&mut self.device, now, sealed, &header.associated_data())?;
        Ok(Event::Message {
            from: header.sender,
            to_user: header.to_user,
            content_type: opened.content_type,
            plaintext: opened.plaintext,
        })
    }

    fn receive_group_message(
        &mut self,
        now: Timestamp,
        body: &[u8],
    ) -> Result<Event, ReceiveError> {
        let (group, sealed) = split_group_body(body).map_err(EnvelopeError::Malformed)?;
        let state = self
            .groups
            .get_mut(&group)
            .ok_or_else(|| ReceiveError::UnknownGroup(group.clone()))?;
        let opened = state.open(sealed, &group_associated_data(&group), now)?;
        Ok(Event::GroupMessage {
            group,
            from: opened.sender.clone(),
            content_type: opened.content_type,
            plaintext: opened.plaintext,
        })
    }

    fn receive_distribution(&mut self, now: Timestamp, body: &[u8]) -> Result<Event, ReceiveError> {
        let distribution = Distribution::decode(body)?;
        let group_id = distribution.core().group_id().clone();
        let me = self.address().clone();
        // Every device of the new roster must be in its user's verified
        // device list under the same identity key (SPEC.md §13.7): the
        // server cannot slip in a device the user did not list.
        let current = self.groups.get(&group_id);
        let roster = match distribution.section() {
            RosterSection::Full(roster) => roster.clone(),
            RosterSection::Delta(delta) => current
                .and_then(Group::roster)
                .ok_or_else(|| ReceiveError::UnknownGroup(group_id.clone()))?
                .apply(delta)?,
        };
        for member in roster.iter() {
            let address = member.address();
            let listed = self.listed_key(&address)?;
            if listed.as_bytes() != member.identity_key_bytes() {
                return Err(ReceiveError::DeviceNotListed(address));
            }
        }
        let existed = self.groups.contains_key(&group_id);
        let mut state = self
            .groups
            .remove(&group_id)
            .unwrap_or_else(|| Group::new(group_id.clone(), me, GracePolicy::default()));
        let processed = state.process(&mut self.device, &distribution, &mut self.sessions, now);
        if processed.is_ok() || existed {
            self.groups.insert(group_id.clone(), state);
        }
        let event = match processed? {
            Processed::Installed {
                change,
                discarded_proposal,
            } => Event::GroupChanged {
                group: group_id,
                change,
                committed: false,
                discarded_proposal,
            },
            Processed::Committed(change) => Event::GroupChanged {
                group: group_id,
                change,
                committed: true,
                discarded_proposal: false,
            },
            Processed::AlreadyProcessed { .. } => Event::Duplicate,
        };
        Ok(event)
    }

    /// Seals the whole account — device keys, user key, device lists,
    /// bundles, sessions and groups — into one blob under `key` (SPEC.md
    /// §12, §13.9), with a generation one higher than the last export. Write
    /// it in place of the previous one in one step; on restart, import it
    /// with the last generation written as the minimum (rollback detection).
    ///
    /// ```
    /// # use letterseal::account::{Account, Event, Relay};
    /// # use letterseal::group::GroupId;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::pairwise::ContentType;
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let mut relay = Relay::new();
    /// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
    /// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
    /// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
    /// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
    /// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
    /// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
    /// # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
    /// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
    /// use letterseal::state::{StateError, StorageKey};
    ///
    /// let key = StorageKey::from_bytes([7; 32]); // 32 bytes from the OS keystore
    /// let first = alice.export(&mut rng, &key)?;
    /// let second = alice.export(&mut rng, &key)?;
    /// // Keep `second.generation()` somewhere trusted; an older blob is refused.
    /// assert!(matches!(
    ///     Account::import(&key, first.as_bytes(), second.generation()),
    ///     Err(StateError::RolledBack { .. })
    /// ));
    /// let restored = Account::import(&key, second.as_bytes(), second.generation())?;
    /// assert_eq!(restored.address(), &phone);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &StorageKey,
    ) -> Result<SealedState, StateError> {
        state::export(self, rng, key)
    }

    /// Opens a blob made by [`Self::export`], refusing a generation below
    /// `minimum_generation` and any damaged, foreign or inconsistent blob.
    /// See the example on [`Self::export`].
    pub fn import(
        key: &StorageKey,
        blob: &[u8],
        minimum_generation: u64,
    ) -> Result<Self, StateError> {
        state::import(key, blob, minimum_generation)
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    ///
    /// ```
    /// # use letterseal::account::Account;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let phone = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
    /// use letterseal::state::StorageKey;
    ///
    /// let mut alice = Account::create_primary(&mut rng, now, phone);
    /// let key = StorageKey::generate(&mut rng);
    /// assert_eq!(alice.generation(), 0);
    /// let blob = alice.export(&mut rng, &key)?;
    /// assert_eq!((alice.generation(), blob.generation()), (1, 1));
    /// let restored = Account::import(&key, blob.as_bytes(), 1)?;
    /// assert_eq!(restored.generation(), 1); // its next export is generation 2
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The account's whole state in its layout (SPEC.md §13.9), unsealed:
    /// for tests and fuzzers that check a refused call changed nothing. It
    /// holds every secret of the account.
    #[cfg(feature = "hazmat")]
    pub fn hazmat_state_bytes(&self) -> Result<Zeroizing<Vec<u8>>, StateError> {
        use crate::state::StateCodec;
        let mut w = Writer::new();
        let encoded = self.encode_state(&mut w);
        let bytes = Zeroizing::new(w.into_bytes());
        encoded.map(|()| bytes)
    }
}
