//! [`Account`]: one device of a user, wrapping [`letterseal::account::Account`].

use std::sync::{Arc, Mutex, MutexGuard};

use letterseal::account;
use letterseal::ids::{DeviceAddress, DeviceId};
use zeroize::Zeroizing;

use crate::error::{LettersealError, guard};
use crate::os_rng;
use crate::types::{
    self, Address, Event, ExportedAccount, GroupChange, Outgoing, RemovedDevice, group_id,
    key_bytes, now, user_id, user_ids,
};

/// The most one-time keys one call of [`Account::one_time_keys`] makes.
pub const MAX_ONE_TIME_KEYS_PER_CALL: u32 = 100;

/// One device of a user (SPEC.md §13): its keys, one session per peer
/// device, its groups, and the verified device lists and bundles of the
/// users it talks to. Calls run one at a time (an internal `Mutex`). Every
/// call that makes keys or nonces draws them from the OS generator.
#[derive(uniffi::Object)]
pub struct Account {
    inner: Mutex<account::Account>,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.inner.try_lock() {
            // The core's `Debug` shows ids and counts, never keys or plaintext.
            Ok(inner) => core::fmt::Debug::fmt(&*inner, f),
            Err(_) => f.write_str("Account { <in use or poisoned> }"),
        }
    }
}

impl Account {
    fn wrap(inner: account::Account) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(inner),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, account::Account>, LettersealError> {
        self.inner.lock().map_err(|_| LettersealError::poisoned())
    }

    /// Runs `body` on the locked account inside the panic guard.
    fn with<T>(
        &self,
        body: impl FnOnce(&mut account::Account) -> Result<T, LettersealError>,
    ) -> Result<T, LettersealError> {
        guard(|| body(&mut *self.lock()?))
    }
}

fn device_address(user: &[u8], device: u32) -> Result<DeviceAddress, LettersealError> {
    Ok(DeviceAddress::new(user_id(user)?, DeviceId::new(device)))
}

#[uniffi::export]
impl Account {
    /// A new user's first device, its primary: it makes the user key and
    /// signs device list version 1 listing itself. Send [`Self::uploads`]
    /// to the server next.
    #[uniffi::constructor]
    pub fn create_primary(
        now_unix_seconds: u64,
        user: Vec<u8>,
        device: u32,
    ) -> Result<Arc<Self>, LettersealError> {
        guard(|| {
            let address = device_address(&user, device)?;
            Ok(Self::wrap(account::Account::create_primary(
                &mut os_rng(),
                now(now_unix_seconds),
                address,
            )))
        })
    }

    /// A further device of an existing user: the primary lists it with
    /// [`Self::add_device`] (given this device's [`Self::identity_key`]).
    #[uniffi::constructor]
    pub fn create_secondary(
        now_unix_seconds: u64,
        user: Vec<u8>,
        device: u32,
    ) -> Result<Arc<Self>, LettersealError> {
        guard(|| {
            let address = device_address(&user, device)?;
            Ok(Self::wrap(account::Account::create_secondary(
                &mut os_rng(),
                now(now_unix_seconds),
                address,
            )))
        })
    }

    /// Opens a blob made by [`Self::export`] under `storage_key` (32 bytes),
    /// refusing a generation below `min_generation` (rollback) and any
    /// damaged, foreign or inconsistent blob (`State` errors).
    #[uniffi::constructor]
    pub fn import_sealed(
        storage_key: Vec<u8>,
        blob: Vec<u8>,
        min_generation: u64,
    ) -> Result<Arc<Self>, LettersealError> {
        let storage_key = Zeroizing::new(storage_key);
        guard(|| {
            let key = types::storage_key(&storage_key)?;
            Ok(Self::wrap(account::Account::import(
                &key,
                &blob,
                min_generation,
            )?))
        })
    }

    /// This device's address.
    pub fn address(&self) -> Result<Address, LettersealError> {
        self.with(|a| Ok(Address::from(a.address())))
    }

    /// This device's identity public key (32 bytes): what the primary lists
    /// with [`Self::add_device`].
    pub fn identity_key(&self) -> Result<Vec<u8>, LettersealError> {
        self.with(|a| Ok(a.identity_key().to_bytes().to_vec()))
    }

    /// Whether this device holds the user key.
    pub fn is_primary(&self) -> Result<bool, LettersealError> {
        self.with(|a| Ok(a.is_primary()))
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> Result<u64, LettersealError> {
        self.with(|a| Ok(a.generation()))
    }

    /// The user key's recovery secret (32 bytes, a secret: show it to the
    /// user once, never log it); `None` on a secondary device.
    pub fn user_key_recovery_secret(&self) -> Result<Option<Vec<u8>>, LettersealError> {
        self.with(|a| Ok(a.user_key_recovery_secret().map(|s| s.to_vec())))
    }

    /// Makes this device the primary of its user with a recovery secret (32
    /// bytes) that matches the user key of the held device list.
    pub fn restore_primary(&self, recovery_secret: Vec<u8>) -> Result<(), LettersealError> {
        let recovery_secret = Zeroizing::new(recovery_secret);
        self.with(|a| {
            let secret = key_bytes("recovery secret", &recovery_secret)?;
            Ok(a.restore_primary(&secret)?)
        })
    }

    /// The safety number between this user and `user` as digits, for the
    /// two people to compare; `None` until both device lists are held.
    pub fn safety_number_digits(&self, user: Vec<u8>) -> Result<Option<String>, LettersealError> {
        self.with(|a| Ok(a.safety_number(&user_id(&user)?).map(|n| n.digits())))
    }

    /// Forgets everything held about `user` (after a verified change of its
    /// user key). Returns whether anything was held.
    pub fn forget_user(&self, user: Vec<u8>) -> Result<bool, LettersealError> {
        self.with(|a| Ok(a.forget_user(&user_id(&user)?)))
    }

    /// What to upload to the server now: the device list (on the primary)
    /// and this device's key bundle (renewing a sealing key near expiry).
    pub fn uploads(&self, now_unix_seconds: u64) -> Result<Vec<Vec<u8>>, LettersealError> {
        self.with(|a| Ok(a.uploads(&mut os_rng(), now(now_unix_seconds))?))
    }

    /// `count` fresh one-time keys, as envelopes for the server (at most
    /// [`MAX_ONE_TIME_KEYS_PER_CALL`]).
    pub fn one_time_keys(
        &self,
        now_unix_seconds: u64,
        count: u32,
    ) -> Result<Vec<Vec<u8>>, LettersealError> {
        self.with(|a| {
            if count > MAX_ONE_TIME_KEYS_PER_CALL {
                return Err(LettersealError::invalid_input(
                    "TooManyOneTimeKeys",
                    format_args!("at most {MAX_ONE_TIME_KEYS_PER_CALL} per call, asked {count}"),
                ));
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            Ok(a.one_time_keys(&mut os_rng(), now(now_unix_seconds), count)?)
        })
    }

    /// On the primary: lists a new device of this user (its 32-byte
    /// identity key came from that device). Returns the new device list's
    /// envelope for the server.
    pub fn add_device(
        &self,
        device: u32,
        identity_key: Vec<u8>,
    ) -> Result<Vec<u8>, LettersealError> {
        self.with(|a| {
            let key = types::identity_key(&identity_key)?;
            Ok(a.add_device(DeviceId::new(device), key)?)
        })
    }

    /// On the primary: removes a device of this user. Returns the new device
    /// list's envelope and the groups to update.
    pub fn remove_device(&self, device: u32) -> Result<RemovedDevice, LettersealError> {
        self.with(|a| {
            let (envelope, groups) = a.remove_device(DeviceId::new(device))?;
            Ok(RemovedDevice {
                envelope,
                groups_to_update: types::group_ids(&groups),
            })
        })
    }

    /// Seals one message to every device of `user` and to this user's own
    /// other devices. `content_type` is the wire code (0 for text). All or
    /// nothing: a refusal changes no session.
    pub fn seal_to_user(
        &self,
        now_unix_seconds: u64,
        user: Vec<u8>,
        content_type: u16,
        plaintext: Vec<u8>,
    ) -> Result<Vec<Outgoing>, LettersealError> {
        let plaintext = Zeroizing::new(plaintext);
        self.with(|a| {
            let out = a.seal_to_user(
                &mut os_rng(),
                now(now_unix_seconds),
                &user_id(&user)?,
                types::content_type(content_type),
                &plaintext,
            )?;
            Ok(out.into_iter().map(Outgoing::from).collect())
        })
    }

    /// The groups this account is in (their ids).
    pub fn groups(&self) -> Result<Vec<Vec<u8>>, LettersealError> {
        self.with(|a| Ok(a.groups().map(|g| g.as_bytes().to_vec()).collect()))
    }

    /// The users whose devices are in `group`'s current roster.
    pub fn group_users(&self, group: Vec<u8>) -> Result<Vec<Vec<u8>>, LettersealError> {
        self.with(|a| {
            Ok(a.group_users(&group_id(&group)?)
                .into_iter()
                .map(Vec::from)
                .collect())
        })
    }

    /// Creates a group of this user and `members` (user ids). Returns the
    /// upload for the server; the first epoch is pending until it comes back.
    pub fn create_group(
        &self,
        now_unix_seconds: u64,
        group: Vec<u8>,
        members: Vec<Vec<u8>>,
    ) -> Result<Vec<u8>, LettersealError> {
        self.with(|a| {
            let members = user_ids(&members)?;
            Ok(a.create_group(
                &mut os_rng(),
                now(now_unix_seconds),
                group_id(&group)?,
                &members,
            )?)
        })
    }

    /// Proposes `group`'s next epoch: its users plus `add` minus `remove`,
    /// every listed device of each. Pending like [`Self::create_group`].
    pub fn update_group(
        &self,
        now_unix_seconds: u64,
        group: Vec<u8>,
        add: Vec<Vec<u8>>,
        remove: Vec<Vec<u8>>,
    ) -> Result<Vec<u8>, LettersealError> {
        self.with(|a| {
            let (add, remove) = (user_ids(&add)?, user_ids(&remove)?);
            Ok(a.update_group(
                &mut os_rng(),
                now(now_unix_seconds),
                &group_id(&group)?,
                &add,
                &remove,
            )?)
        })
    }

    /// The server accepted this account's pending proposal for `group`.
    pub fn commit_group(
        &self,
        now_unix_seconds: u64,
        group: Vec<u8>,
    ) -> Result<GroupChange, LettersealError> {
        self.with(|a| {
            let change = a.commit_group(now(now_unix_seconds), &group_id(&group)?)?;
            Ok(GroupChange::from(&change))
        })
    }

    /// The server refused this account's pending proposal for `group`.
    pub fn abort_group(&self, group: Vec<u8>) -> Result<(), LettersealError> {
        self.with(|a| Ok(a.abort_group(&group_id(&group)?)?))
    }

    /// Seals a message to `group`'s current epoch: one envelope, which the
    /// server delivers to every member device.
    pub fn seal_to_group(
        &self,
        now_unix_seconds: u64,
        group: Vec<u8>,
        content_type: u16,
        plaintext: Vec<u8>,
    ) -> Result<Vec<u8>, LettersealError> {
        let plaintext = Zeroizing::new(plaintext);
        self.with(|a| {
            Ok(a.seal_to_group(
                &mut os_rng(),
                now(now_unix_seconds),
                &group_id(&group)?,
                types::content_type(content_type),
                &plaintext,
            )?)
        })
    }

    /// Takes any envelope that arrived and returns what it was. A refusal is
    /// a `Receive` error and changes nothing.
    pub fn receive(
        &self,
        now_unix_seconds: u64,
        envelope: Vec<u8>,
    ) -> Result<Event, LettersealError> {
        self.with(|a| Ok(Event::from(a.receive(now(now_unix_seconds), &envelope)?)))
    }

    /// Seals the whole account into one blob under `storage_key` (32 bytes),
    /// with a generation one higher than the last export.
    pub fn export(&self, storage_key: Vec<u8>) -> Result<ExportedAccount, LettersealError> {
        let storage_key = Zeroizing::new(storage_key);
        self.with(|a| {
            let key = types::storage_key(&storage_key)?;
            let sealed = a.export(&mut os_rng(), &key)?;
            let generation = sealed.generation();
            Ok(ExportedAccount {
                blob: sealed.into_bytes(),
                generation,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_after_a_panic_is_refused_not_run() {
        let account = Account::create_primary(1_800_000_000, b"alice".to_vec(), 1).unwrap();
        let poison = guard::<()>(|| {
            let _held = account.lock()?;
            panic!("while holding the lock")
        });
        assert_eq!(poison.unwrap_err().kind(), "Panic");
        assert_eq!(account.address().unwrap_err(), LettersealError::poisoned());
        assert_eq!(
            account.receive(0, vec![1, 2, 3]).unwrap_err(),
            LettersealError::poisoned()
        );
    }

    #[test]
    fn one_time_keys_are_capped() {
        let account = Account::create_primary(1_800_000_000, b"alice".to_vec(), 1).unwrap();
        let e = account
            .one_time_keys(1_800_000_000, MAX_ONE_TIME_KEYS_PER_CALL + 1)
            .unwrap_err();
        assert_eq!(
            (e.category(), e.kind()),
            ("InvalidInput", "TooManyOneTimeKeys")
        );
        assert_eq!(account.one_time_keys(1_800_000_000, 3).unwrap().len(), 3);
    }
}
