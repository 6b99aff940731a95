//! The plain data that crosses the boundary, and its conversions from and to
//! the core's typed ids, keys and events.

use letterseal::account;
use letterseal::group::{EpochChange, GroupId};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::IdentityPublicKey;
use letterseal::pairwise::ContentType;
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use zeroize::Zeroizing;

use crate::error::LettersealError;

/// One device of a user: the user id (1 to 255 bytes) and the device number.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Address {
    /// The user id's bytes.
    pub user: Vec<u8>,
    /// The device number within the user.
    pub device: u32,
}

/// One sealed envelope for one device (what the server delivers there).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Outgoing {
    /// The device it is for.
    pub to: Address,
    /// The envelope's bytes.
    pub envelope: Vec<u8>,
}

/// An exported account: the sealed blob and its generation. Write the blob
/// in place of the previous one in one step, and keep the generation
/// somewhere the blob's storage cannot roll back; pass it to
/// [`Account::import_sealed`](crate::Account::import_sealed) as the minimum.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportedAccount {
    /// The sealed blob (authenticated and encrypted under the storage key).
    pub blob: Vec<u8>,
    /// Its generation: one higher than the previous export's.
    pub generation: u64,
}

impl core::fmt::Debug for ExportedAccount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExportedAccount")
            .field("blob_len", &self.blob.len())
            .field("generation", &self.generation)
            .finish()
    }
}

/// A group's new epoch, as installed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct GroupChange {
    /// The new epoch number.
    pub epoch: u64,
    /// The device that made the change.
    pub distributor: Address,
    /// This device's first epoch of the group: `joined` and `left` are empty.
    pub first_epoch: bool,
    /// Devices that joined.
    pub joined: Vec<Address>,
    /// Devices that left.
    pub left: Vec<Address>,
    /// Devices that stayed but changed their identity or sealing key.
    pub rekeyed: Vec<Address>,
}

/// What [`Account::remove_device`](crate::Account::remove_device) returns.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RemovedDevice {
    /// The new device list's envelope, for the server.
    pub envelope: Vec<u8>,
    /// Groups to update ([`Account::update_group`](crate::Account::update_group))
    /// so the removed device is rotated out.
    pub groups_to_update: Vec<Vec<u8>>,
}

/// What [`Account::receive`](crate::Account::receive) made of an envelope.
/// Plaintexts are `bytes`; content types are the wire codes (0 text,
/// 1 location, 2 file reference, `0x8000..=0xffff` application-defined).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Event {
    /// A 1:1 message, opened.
    Message {
        /// The sending device (authenticated by the session).
        sender: Address,
        /// The user it was written to: this account's user, or, for a copy of
        /// a message this user's other device sent, the peer of that conversation.
        to_user: Vec<u8>,
        /// The content type's wire code.
        content_type: u16,
        /// The plaintext.
        plaintext: Vec<u8>,
    },
    /// A group message, opened.
    GroupMessage {
        /// The group id.
        group: Vec<u8>,
        /// The sending member device (its signature was verified).
        sender: Address,
        /// The content type's wire code.
        content_type: u16,
        /// The plaintext.
        plaintext: Vec<u8>,
    },
    /// A group's new epoch is installed.
    GroupChanged {
        /// The group id.
        group: Vec<u8>,
        /// What changed.
        change: GroupChange,
        /// This account's own pending proposal was accepted.
        committed: bool,
        /// This account's own pending proposal for the same epoch was dropped.
        discarded_proposal: bool,
    },
    /// A user's device list is now held (the first one, or a newer version).
    DeviceListUpdated {
        /// The user id.
        user: Vec<u8>,
        /// The list's version.
        version: u64,
        /// Devices that joined the list.
        added: Vec<u32>,
        /// Devices that left it (their sessions and bundles are deleted).
        removed: Vec<u32>,
        /// Groups whose roster should follow: call `update_group` for each.
        groups_to_update: Vec<Vec<u8>>,
    },
    /// A device's key bundle is held; its session can seal.
    BundleLearned {
        /// The device.
        device: Address,
    },
    /// A device's one-time key will be used for the next session with it.
    OneTimeKeyLearned {
        /// The device.
        device: Address,
    },
    /// Something already held arrived again: nothing changed.
    Duplicate,
    /// An event this version of the bindings does not know (a newer core):
    /// the envelope was accepted. `description` is the core's `Debug` text,
    /// which never holds plaintext or keys.
    Unrecognized {
        /// What the core reported.
        description: String,
    },
}

impl core::fmt::Debug for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Message {
                sender,
                to_user,
                content_type,
                plaintext,
            } => f
                .debug_struct("Message")
                .field("sender", sender)
                .field("to_user", to_user)
                .field("content_type", content_type)
                .field("plaintext_len", &plaintext.len())
                .finish(),
            Self::GroupMessage {
                group,
                sender,
                content_type,
                plaintext,
            } => f
                .debug_struct("GroupMessage")
                .field("group", group)
                .field("sender", sender)
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
            Self::Unrecognized { description } => f
                .debug_struct("Unrecognized")
                .field("description", description)
                .finish(),
        }
    }
}

// Conversions in.

pub(crate) fn now(unix_seconds: u64) -> Timestamp {
    Timestamp::from_unix_seconds(unix_seconds)
}

pub(crate) fn user_id(bytes: &[u8]) -> Result<UserId, LettersealError> {
    UserId::new(bytes).map_err(|e| LettersealError::invalid_input("InvalidUserId", e))
}

pub(crate) fn user_ids(ids: &[Vec<u8>]) -> Result<Vec<UserId>, LettersealError> {
    ids.iter().map(|u| user_id(u)).collect()
}

pub(crate) fn group_id(bytes: &[u8]) -> Result<GroupId, LettersealError> {
    GroupId::new(bytes).map_err(|e| LettersealError::invalid_input("InvalidGroupId", e))
}

pub(crate) fn address(a: &Address) -> Result<DeviceAddress, LettersealError> {
    Ok(DeviceAddress::new(
        user_id(&a.user)?,
        DeviceId::new(a.device),
    ))
}

/// Exactly 32 bytes, or an `InvalidInput` error of kind `WrongKeyLength`.
/// The copy is zeroized on drop.
pub(crate) fn key_bytes(what: &str, bytes: &[u8]) -> Result<Zeroizing<[u8; 32]>, LettersealError> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| {
        LettersealError::invalid_input(
            "WrongKeyLength",
            format_args!("{what} must be 32 bytes, got {}", bytes.len()),
        )
    })?;
    Ok(Zeroizing::new(array))
}

pub(crate) fn storage_key(bytes: &[u8]) -> Result<StorageKey, LettersealError> {
    let key = key_bytes("storage key", bytes)?;
    Ok(StorageKey::from_bytes(*key))
}

pub(crate) fn identity_key(bytes: &[u8]) -> Result<IdentityPublicKey, LettersealError> {
    let key = key_bytes("identity key", bytes)?;
    IdentityPublicKey::from_bytes(&key)
        .map_err(|e| LettersealError::invalid_input("InvalidIdentityKey", e))
}

pub(crate) fn content_type(code: u16) -> ContentType {
    ContentType::from(code)
}

// Conversions out.

impl From<&DeviceAddress> for Address {
    fn from(a: &DeviceAddress) -> Self {
        Self {
            user: a.user.as_bytes().to_vec(),
            device: a.device.get(),
        }
    }
}

impl From<account::Outgoing> for Outgoing {
    fn from(o: account::Outgoing) -> Self {
        Self {
            to: Address::from(&o.to),
            envelope: o.envelope,
        }
    }
}

impl From<&EpochChange> for GroupChange {
    fn from(c: &EpochChange) -> Self {
        let addresses = |list: &[DeviceAddress]| list.iter().map(Address::from).collect();
        Self {
            epoch: c.epoch,
            distributor: Address::from(&c.distributor),
            first_epoch: c.first_epoch,
            joined: addresses(&c.joined),
            left: addresses(&c.left),
            rekeyed: addresses(&c.rekeyed),
        }
    }
}

pub(crate) fn group_ids(groups: &[GroupId]) -> Vec<Vec<u8>> {
    groups.iter().map(|g| g.as_bytes().to_vec()).collect()
}

/// Moves the plaintext out of the core's zeroizing buffer. The core's buffer
/// is left empty; the returned vector is copied into UniFFI's buffer (see the
/// crate docs on zeroization).
fn take_plaintext(mut plaintext: Zeroizing<Vec<u8>>) -> Vec<u8> {
    core::mem::take(&mut *plaintext)
}

impl From<account::Event> for Event {
    fn from(event: account::Event) -> Self {
        match event {
            account::Event::Message {
                from,
                to_user,
                content_type,
                plaintext,
            } => Self::Message {
                sender: Address::from(&from),
                to_user: to_user.as_bytes().to_vec(),
                content_type: content_type.code(),
                plaintext: take_plaintext(plaintext),
            },
            account::Event::GroupMessage {
                group,
                from,
                content_type,
                plaintext,
            } => Self::GroupMessage {
                group: group.as_bytes().to_vec(),
                sender: Address::from(&from),
                content_type: content_type.code(),
                plaintext: take_plaintext(plaintext),
            },
            account::Event::GroupChanged {
                group,
                change,
                committed,
                discarded_proposal,
            } => Self::GroupChanged {
                group: group.as_bytes().to_vec(),
                change: GroupChange::from(&change),
                committed,
                discarded_proposal,
            },
            account::Event::DeviceListUpdated {
                user,
                version,
                added,
                removed,
                groups_to_update,
            } => Self::DeviceListUpdated {
                user: user.as_bytes().to_vec(),
                version,
                added: added.iter().map(|d| d.get()).collect(),
                removed: removed.iter().map(|d| d.get()).collect(),
                groups_to_update: group_ids(&groups_to_update),
            },
            account::Event::BundleLearned { device } => Self::BundleLearned {
                device: Address::from(&device),
            },
            account::Event::OneTimeKeyLearned { device } => Self::OneTimeKeyLearned {
                device: Address::from(&device),
            },
            account::Event::Duplicate => Self::Duplicate,
            // `account::Event` is non-exhaustive: a variant added to the core
            // after this crate was written is still reported, not dropped.
            other => Self::Unrecognized {
                description: format!("{other:?}"),
            },
        }
    }
}
