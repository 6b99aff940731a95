//! `Account`: one device of a user, wrapping [`letterseal::account::Account`].

use core::cell::RefCell;

use letterseal::account;
use letterseal::ids::DeviceAddress;
use wasm_bindgen::prelude::*;

use crate::args;
use crate::error::{Failure, call};
use crate::os_rng;
use crate::out::{self, Obj};

/// The most one-time keys one call of `oneTimeKeys` makes (as in the
/// Python bindings).
pub const MAX_ONE_TIME_KEYS_PER_CALL: u32 = 100;

/// One device of a user (SPEC.md §13): its keys, one session per peer
/// device, its groups, and the verified device lists and bundles of the users
/// it talks to. Every call that makes keys or nonces draws them from
/// `crypto.getRandomValues`. Free it with `free()` (or let the
/// `FinalizationRegistry` do it): the Rust side then zeroizes every key.
#[wasm_bindgen]
pub struct Account {
    inner: RefCell<account::Account>,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.inner.try_borrow() {
            // The core's `Debug` shows ids and counts, never keys or plaintext.
            Ok(inner) => core::fmt::Debug::fmt(&*inner, f),
            Err(_) => f.write_str("Account { <in use> }"),
        }
    }
}

impl Account {
    fn wrap(inner: account::Account) -> Self {
        Self {
            inner: RefCell::new(inner),
        }
    }

    /// Runs `body` on the account after the trap check. A call re-entering
    /// the same account (impossible from JS, which is single-threaded and
    /// gets no callback) would be refused, not aliased.
    fn with<T>(
        &self,
        body: impl FnOnce(&mut account::Account) -> Result<T, Failure>,
    ) -> Result<T, JsValue> {
        call(|| {
            let mut inner = self.inner.try_borrow_mut().map_err(|_| {
                Failure::Type("this Account is already in use by another call".to_owned())
            })?;
            body(&mut inner)
        })
    }
}

fn device_address(user: &JsValue, device: &JsValue) -> Result<DeviceAddress, Failure> {
    Ok(DeviceAddress::new(
        args::user_id("user", user)?,
        args::device(device)?,
    ))
}

#[wasm_bindgen]
impl Account {
    /// A new user's first device, its primary: it makes the user key and
    /// signs device list version 1 listing itself. Send `uploads()` to the
    /// server next.
    #[wasm_bindgen(js_name = createPrimary)]
    pub fn create_primary(
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] device: JsValue,
    ) -> Result<Account, JsValue> {
        call(|| {
            let (now, address) = (args::now(&now)?, device_address(&user, &device)?);
            Ok(Self::wrap(account::Account::create_primary(
                &mut os_rng(),
                now,
                address,
            )))
        })
    }

    /// A further device of an existing user: the primary lists it with
    /// `addDevice` (given this device's `identityKey()`).
    #[wasm_bindgen(js_name = createSecondary)]
    pub fn create_secondary(
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] device: JsValue,
    ) -> Result<Account, JsValue> {
        call(|| {
            let (now, address) = (args::now(&now)?, device_address(&user, &device)?);
            Ok(Self::wrap(account::Account::create_secondary(
                &mut os_rng(),
                now,
                address,
            )))
        })
    }

    /// Opens a blob made by `export` under `storageKey` (32 bytes), refusing
    /// a generation below `minGeneration` (rollback) and any damaged, foreign
    /// or inconsistent blob (`State` errors).
    #[wasm_bindgen(js_name = importSealed)]
    pub fn import_sealed(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] storage_key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] blob: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] min_generation: JsValue,
    ) -> Result<Account, JsValue> {
        call(|| {
            let key = args::storage_key(&storage_key)?;
            let blob = args::secret_bytes("blob", &blob)?;
            let min_generation = args::u64_arg("minGeneration", &min_generation)?;
            Ok(Self::wrap(account::Account::import(
                &key,
                &blob,
                min_generation,
            )?))
        })
    }

    /// This device's address.
    #[wasm_bindgen(unchecked_return_type = "Address")]
    pub fn address(&self) -> Result<JsValue, JsValue> {
        self.with(|a| out::address(a.address()))
    }

    /// This device's identity public key (32 bytes): what the primary lists
    /// with `addDevice`.
    #[wasm_bindgen(js_name = identityKey, unchecked_return_type = "Uint8Array")]
    pub fn identity_key(&self) -> Result<JsValue, JsValue> {
        self.with(|a| Ok(out::bytes(&a.identity_key().to_bytes())))
    }

    /// Whether this device holds the user key.
    #[wasm_bindgen(js_name = isPrimary)]
    pub fn is_primary(&self) -> Result<bool, JsValue> {
        self.with(|a| Ok(a.is_primary()))
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> Result<u64, JsValue> {
        self.with(|a| Ok(a.generation()))
    }

    /// The user key's recovery secret (32 bytes, a secret: show it to the
    /// user once, never log it); `undefined` on a secondary device.
    #[wasm_bindgen(
        js_name = userKeyRecoverySecret,
        unchecked_return_type = "Uint8Array | undefined"
    )]
    pub fn user_key_recovery_secret(&self) -> Result<JsValue, JsValue> {
        self.with(|a| {
            Ok(a.user_key_recovery_secret()
                .map_or(JsValue::UNDEFINED, |s| out::bytes(s.as_slice())))
        })
    }

    /// Makes this device the primary of its user with a recovery secret (32
    /// bytes) that matches the user key of the held device list.
    #[wasm_bindgen(js_name = restorePrimary)]
    pub fn restore_primary(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] recovery_secret: JsValue,
    ) -> Result<(), JsValue> {
        self.with(|a| {
            let secret = args::key_bytes("recoverySecret", &recovery_secret)?;
            Ok(a.restore_primary(&secret)?)
        })
    }

    /// The safety number between this user and `user` as digits, for the two
    /// people to compare; `undefined` until both device lists are held.
    #[wasm_bindgen(js_name = safetyNumberDigits)]
    pub fn safety_number_digits(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] user: JsValue,
    ) -> Result<Option<String>, JsValue> {
        self.with(|a| {
            Ok(a.safety_number(&args::user_id("user", &user)?)
                .map(|n| n.digits()))
        })
    }

    /// Forgets everything held about `user` (after a verified change of its
    /// user key). Returns whether anything was held.
    #[wasm_bindgen(js_name = forgetUser)]
    pub fn forget_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] user: JsValue,
    ) -> Result<bool, JsValue> {
        self.with(|a| Ok(a.forget_user(&args::user_id("user", &user)?)))
    }

    /// What to upload to the server now: the device list (on the primary)
    /// and this device's key bundle (renewing a sealing key near expiry).
    #[wasm_bindgen(unchecked_return_type = "Uint8Array[]")]
    pub fn uploads(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            Ok(out::byte_arrays(a.uploads(&mut os_rng(), now)?))
        })
    }

    /// `count` fresh one-time keys, as envelopes for the server (at most
    /// 100 per call).
    #[wasm_bindgen(js_name = oneTimeKeys, unchecked_return_type = "Uint8Array[]")]
    pub fn one_time_keys(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] count: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            let count = args::u32_arg("count", &count)?;
            if count > MAX_ONE_TIME_KEYS_PER_CALL {
                return Err(Failure::invalid_input(
                    "TooManyOneTimeKeys",
                    format_args!("at most {MAX_ONE_TIME_KEYS_PER_CALL} per call, asked {count}"),
                ));
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            Ok(out::byte_arrays(a.one_time_keys(
                &mut os_rng(),
                now,
                count,
            )?))
        })
    }

    /// On the primary: lists a new device of this user (its 32-byte identity
    /// key came from that device). Returns the new device list's envelope
    /// for the server.
    #[wasm_bindgen(js_name = addDevice, unchecked_return_type = "Uint8Array")]
    pub fn add_device(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] device: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] identity_key: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let device = args::device(&device)?;
            let key = args::identity_key(&identity_key)?;
            Ok(out::bytes(&a.add_device(device, key)?))
        })
    }

    /// On the primary: removes a device of this user. Returns the new device
    /// list's envelope and the groups to update.
    #[wasm_bindgen(js_name = removeDevice, unchecked_return_type = "RemovedDevice")]
    pub fn remove_device(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] device: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let device = args::device(&device)?;
            let (envelope, groups) = a.remove_device(device)?;
            Ok(Obj::new()
                .set("envelope", out::bytes(&envelope))?
                .set("groupsToUpdate", out::group_ids(&groups))?
                .done())
        })
    }

    /// Seals one message to every device of `user` and to this user's own
    /// other devices. `contentType` is the wire code (0 for text). All or
    /// nothing: a refusal changes no session.
    #[wasm_bindgen(js_name = sealToUser, unchecked_return_type = "Outgoing[]")]
    pub fn seal_to_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] content_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] plaintext: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            let user = args::user_id("user", &user)?;
            let content_type = args::content_type(&content_type)?;
            let plaintext = args::secret_bytes("plaintext", &plaintext)?;
            out::outgoing(a.seal_to_user(&mut os_rng(), now, &user, content_type, &plaintext)?)
        })
    }

    /// The groups this account is in (their ids).
    #[wasm_bindgen(unchecked_return_type = "Uint8Array[]")]
    pub fn groups(&self) -> Result<JsValue, JsValue> {
        self.with(|a| Ok(out::byte_arrays(a.groups().map(|g| g.as_bytes()))))
    }

    /// The users whose devices are in `group`'s current roster.
    #[wasm_bindgen(js_name = groupUsers, unchecked_return_type = "Uint8Array[]")]
    pub fn group_users(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] group: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let users = a.group_users(&args::group_id(&group)?);
            Ok(out::byte_arrays(users.iter().map(|u| u.as_bytes())))
        })
    }

    /// Creates a group of this user and `members` (user ids). Returns the
    /// upload for the server; the first epoch is pending until it comes back.
    #[wasm_bindgen(js_name = createGroup, unchecked_return_type = "Uint8Array")]
    pub fn create_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] group: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] members: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            let group = args::group_id(&group)?;
            let members = args::user_ids("members", &members)?;
            Ok(out::bytes(&a.create_group(
                &mut os_rng(),
                now,
                group,
                &members,
            )?))
        })
    }

    /// Proposes `group`'s next epoch: its users plus `add` minus `remove`,
    /// every listed device of each. Pending like `createGroup`.
    #[wasm_bindgen(js_name = updateGroup, unchecked_return_type = "Uint8Array")]
    pub fn update_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] group: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] add: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] remove: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            let group = args::group_id(&group)?;
            let (add, remove) = (
                args::user_ids("add", &add)?,
                args::user_ids("remove", &remove)?,
            );
            Ok(out::bytes(&a.update_group(
                &mut os_rng(),
                now,
                &group,
                &add,
                &remove,
            )?))
        })
    }

    /// The server accepted this account's pending proposal for `group`.
    #[wasm_bindgen(js_name = commitGroup, unchecked_return_type = "GroupChange")]
    pub fn commit_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] group: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let (now, group) = (args::now(&now)?, args::group_id(&group)?);
            out::group_change(&a.commit_group(now, &group)?)
        })
    }

    /// The server refused this account's pending proposal for `group`.
    #[wasm_bindgen(js_name = abortGroup)]
    pub fn abort_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] group: JsValue,
    ) -> Result<(), JsValue> {
        self.with(|a| Ok(a.abort_group(&args::group_id(&group)?)?))
    }

    /// Seals a message to `group`'s current epoch: one envelope, which the
    /// server delivers to every member device.
    #[wasm_bindgen(js_name = sealToGroup, unchecked_return_type = "Uint8Array")]
    pub fn seal_to_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] group: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] content_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] plaintext: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            let group = args::group_id(&group)?;
            let content_type = args::content_type(&content_type)?;
            let plaintext = args::secret_bytes("plaintext", &plaintext)?;
            Ok(out::bytes(&a.seal_to_group(
                &mut os_rng(),
                now,
                &group,
                content_type,
                &plaintext,
            )?))
        })
    }

    /// Takes any envelope that arrived and returns what it was. A refusal is
    /// a `Receive` error and changes nothing.
    #[wasm_bindgen(unchecked_return_type = "Event")]
    pub fn receive(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] envelope: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let now = args::now(&now)?;
            let envelope = args::bytes("envelope", &envelope)?;
            out::event(a.receive(now, &envelope)?)
        })
    }

    /// Seals the whole account into one blob under `storageKey` (32 bytes),
    /// with a generation one higher than the last export.
    #[wasm_bindgen(unchecked_return_type = "ExportedAccount")]
    pub fn export(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] storage_key: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|a| {
            let key = args::storage_key(&storage_key)?;
            let sealed = a.export(&mut os_rng(), &key)?;
            let generation = sealed.generation();
            Ok(Obj::new()
                .set("blob", out::bytes(&sealed.into_bytes()))?
                .set("generation", js_sys::BigInt::from(generation))?
                .done())
        })
    }
}
