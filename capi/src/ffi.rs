//! The exported functions. Every `unsafe` of the crate is here, in the six
//! pointer helpers below (each with its safety argument); the functions
//! themselves only call them and the safe Rust API.
#![allow(unsafe_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::vec::Vec;

use getrandom::SysRng;
use letterseal::account::{Account, Event, Outgoing, Relay};
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::IdentityPublicKey;
use letterseal::pairwise::ContentType;
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_core::UnwrapErr;
use zeroize::Zeroize;

use crate::status::{self, Failure, LsStatus};

/// Borrowed input bytes: `ptr` may be null only when `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LsBytes {
    /// The first byte.
    pub ptr: *const u8,
    /// How many bytes.
    pub len: usize,
}

/// Bytes owned by the caller after a call returns them; free with
/// `ls_buffer_free` (which zeroizes them first).
#[repr(C)]
#[derive(Debug)]
pub struct LsBuffer {
    /// The first byte (null when empty).
    pub ptr: *mut u8,
    /// How many bytes.
    pub len: usize,
    /// The allocation's capacity (for `ls_buffer_free`).
    pub cap: usize,
}

/// One device's account (opaque).
pub struct LsAccount {
    account: Account,
    rng: UnwrapErr<SysRng>,
}

/// A server's records and checks (opaque).
pub struct LsRelay(Relay);

/// A list of envelopes, each with the device it is for (opaque).
pub struct LsList(Vec<Outgoing>);

/// What `ls_account_receive` made of an envelope (opaque).
pub struct LsEvent(Event);

/// The kind of an [`LsEvent`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsEventKind {
    /// A 1:1 message.
    Message = 1,
    /// A group message.
    GroupMessage = 2,
    /// A group's new epoch.
    GroupChanged = 3,
    /// A user's device list was accepted.
    DeviceListUpdated = 4,
    /// A device's key bundle was accepted.
    BundleLearned = 5,
    /// A device's one-time key was accepted.
    OneTimeKeyLearned = 6,
    /// Nothing new.
    Duplicate = 7,
    /// An event this release of the C API does not name.
    Other = 99,
}

type Result<T> = std::result::Result<T, Failure>;

// --- The pointer helpers: the only `unsafe` in the crate. ---

/// Borrows the bytes of `bytes` for the call.
fn slice<'a>(bytes: LsBytes) -> Result<&'a [u8]> {
    if bytes.len == 0 {
        return Ok(&[]);
    }
    if bytes.ptr.is_null() {
        return Err(Failure::new(
            LsStatus::NullPointer,
            "null bytes with a length",
        ));
    }
    // SAFETY: the caller promises (header docs) `ptr` points to `len` readable
    // bytes that stay valid and unmodified for the call; it is non-null here.
    Ok(unsafe { std::slice::from_raw_parts(bytes.ptr, bytes.len) })
}

/// Borrows `n` `LsBytes` at `items` for the call.
fn slices<'a>(items: *const LsBytes, n: usize) -> Result<Vec<&'a [u8]>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Failure::new(
            LsStatus::NullPointer,
            "null array with a length",
        ));
    }
    // SAFETY: the caller promises `items` points to `n` readable `LsBytes`.
    let items = unsafe { std::slice::from_raw_parts(items, n) };
    items.iter().map(|b| slice(*b)).collect()
}

/// Borrows a handle (or a fixed-size array) for the call.
fn borrow<'a, T>(handle: *mut T) -> Result<&'a mut T> {
    // SAFETY: the caller promises a non-null handle came from this library
    // (or points to a writable `T`) and is not used by another thread during
    // the call; null is refused by `as_mut`.
    unsafe { handle.as_mut() }.ok_or_else(|| Failure::new(LsStatus::NullPointer, "null pointer"))
}

/// Writes `value` through the out-pointer `out`.
fn put<T>(out: *mut T, value: T) -> Result<()> {
    if out.is_null() {
        return Err(Failure::new(LsStatus::NullPointer, "null out-pointer"));
    }
    // SAFETY: `out` is non-null and the caller promises it is writable and
    // aligned for `T`; the previous contents are not read or dropped (they
    // are plain data or an uninitialised slot).
    unsafe { out.write(value) };
    Ok(())
}

/// Takes back ownership of a handle made by `Box::into_raw` (null: nothing).
fn take<T>(handle: *mut T) -> Option<Box<T>> {
    // SAFETY: the caller promises `handle` came from this library's matching
    // constructor and is freed once; null is skipped.
    (!handle.is_null()).then(|| unsafe { Box::from_raw(handle) })
}

/// Rebuilds a buffer's `Vec` to free it.
fn take_buffer(buffer: &mut LsBuffer) -> Option<Vec<u8>> {
    if buffer.ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr`, `len` and `cap` are those of a `Vec<u8>` this library
    // leaked in `buffer_from` and not freed before (they are reset below).
    let vec = unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) };
    *buffer = LsBuffer {
        ptr: ptr::null_mut(),
        len: 0,
        cap: 0,
    };
    Some(vec)
}

// --- Safe plumbing. ---

/// Runs `body`, turning an error or a panic into a status.
fn guard(body: impl FnOnce() -> Result<()>) -> LsStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => LsStatus::Ok,
        Ok(Err(failure)) => status::record(failure),
        Err(_) => status::record(Failure::new(
            LsStatus::Panic,
            "panic caught at the C boundary",
        )),
    }
}

fn buffer_from(bytes: Vec<u8>) -> LsBuffer {
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    LsBuffer {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    }
}

fn invalid(what: impl std::fmt::Display) -> Failure {
    Failure::new(LsStatus::InvalidArgument, what)
}

fn user_id(bytes: LsBytes) -> Result<UserId> {
    UserId::new(slice(bytes)?).map_err(|_| invalid("user id must be 1 to 255 bytes"))
}

fn group_id(bytes: LsBytes) -> Result<GroupId> {
    GroupId::new(slice(bytes)?).map_err(|_| invalid("group id must be 1 to 255 bytes"))
}

fn user_ids(items: *const LsBytes, n: usize) -> Result<Vec<UserId>> {
    slices(items, n)?
        .into_iter()
        .map(|b| UserId::new(b).map_err(|_| invalid("user id must be 1 to 255 bytes")))
        .collect()
}

fn key32(key: *const [u8; 32]) -> Result<[u8; 32]> {
    Ok(*borrow(key.cast_mut())?)
}

fn now(seconds: u64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

fn content_type(code: u16) -> ContentType {
    ContentType::from(code)
}

fn new_list(out: *mut *mut LsList, list: Vec<Outgoing>) -> Result<()> {
    put(out, Box::into_raw(Box::new(LsList(list))))
}

fn envelopes(list: Vec<Vec<u8>>, to: &DeviceAddress) -> Vec<Outgoing> {
    list.into_iter()
        .map(|envelope| Outgoing {
            to: to.clone(),
            envelope,
        })
        .collect()
}

// --- Accounts. ---

/// Creates a device's account: the primary of a new user (`primary` true:
/// it makes the user key and lists itself) or a secondary device to be
/// listed by its primary.
///
/// # Safety
/// `user` must point to `user.len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_create(
    user: LsBytes,
    device: u32,
    now_unix_seconds: u64,
    primary: bool,
    out: *mut *mut LsAccount,
) -> LsStatus {
    guard(|| {
        let address = DeviceAddress::new(user_id(user)?, DeviceId::new(device));
        let mut rng = UnwrapErr(SysRng);
        let t = now(now_unix_seconds);
        let account = if primary {
            Account::create_primary(&mut rng, t, address)
        } else {
            Account::create_secondary(&mut rng, t, address)
        };
        put(out, Box::into_raw(Box::new(LsAccount { account, rng })))
    })
}

/// Frees an account (null: nothing). Its secrets are zeroized.
///
/// # Safety
/// `account` must come from this library and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_free(account: *mut LsAccount) {
    drop(take(account));
}

/// Writes the device's 32-byte identity key (for its primary to list).
///
/// # Safety
/// `account` must be a live handle; `out` must point to 32 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_identity_key(
    account: *mut LsAccount,
    out: *mut [u8; 32],
) -> LsStatus {
    guard(|| {
        let key = borrow(account)?.account.identity_key().to_bytes();
        put(out, key)
    })
}

/// On the primary: lists a new device; `out` gets the device-list envelope.
///
/// # Safety
/// `account` must be a live handle, `identity_key` 32 readable bytes, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_add_device(
    account: *mut LsAccount,
    device: u32,
    identity_key: *const [u8; 32],
    out: *mut LsBuffer,
) -> LsStatus {
    guard(|| {
        let key = IdentityPublicKey::from_bytes(&key32(identity_key)?)
            .map_err(|_| invalid("not an Ed25519 identity key"))?;
        let list = borrow(account)?
            .account
            .add_device(DeviceId::new(device), key)?;
        put(out, buffer_from(list))
    })
}

/// On the primary: removes a device; `out` gets the device-list envelope.
/// Update the groups it was in with `ls_account_update_group`.
///
/// # Safety
/// `account` must be a live handle and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_remove_device(
    account: *mut LsAccount,
    device: u32,
    out: *mut LsBuffer,
) -> LsStatus {
    guard(|| {
        let (list, _groups) = borrow(account)?
            .account
            .remove_device(DeviceId::new(device))?;
        put(out, buffer_from(list))
    })
}

/// What to upload now (device list on the primary, key bundle): a list
/// whose entries are addressed to this device itself.
///
/// # Safety
/// `account` must be a live handle and `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_uploads(
    account: *mut LsAccount,
    now_unix_seconds: u64,
    out: *mut *mut LsList,
) -> LsStatus {
    guard(|| {
        let a = borrow(account)?;
        let uploads = a.account.uploads(&mut a.rng, now(now_unix_seconds))?;
        let me = a.account.address().clone();
        new_list(out, envelopes(uploads, &me))
    })
}

/// Seals `plaintext` to every device of `user` (and this user's other
/// devices); `out` gets one envelope per device.
///
/// # Safety
/// `account` must be a live handle, the byte arguments readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_seal_to_user(
    account: *mut LsAccount,
    now_unix_seconds: u64,
    user: LsBytes,
    content: u16,
    plaintext: LsBytes,
    out: *mut *mut LsList,
) -> LsStatus {
    guard(|| {
        let a = borrow(account)?;
        let list = a.account.seal_to_user(
            &mut a.rng,
            now(now_unix_seconds),
            &user_id(user)?,
            content_type(content),
            slice(plaintext)?,
        )?;
        new_list(out, list)
    })
}

/// Creates a group of this user and `members` (user ids); `out` gets the
/// distribution envelope for the relay.
///
/// # Safety
/// `account` must be a live handle, `members` `n` readable `LsBytes`, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_create_group(
    account: *mut LsAccount,
    now_unix_seconds: u64,
    group: LsBytes,
    members: *const LsBytes,
    n: usize,
    out: *mut LsBuffer,
) -> LsStatus {
    guard(|| {
        let a = borrow(account)?;
        let upload = a.account.create_group(
            &mut a.rng,
            now(now_unix_seconds),
            group_id(group)?,
            &user_ids(members, n)?,
        )?;
        put(out, buffer_from(upload))
    })
}

/// Proposes the group's next epoch with users added and removed (both may
/// be empty: the roster then follows the device lists).
///
/// # Safety
/// `account` must be a live handle, the arrays readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_update_group(
    account: *mut LsAccount,
    now_unix_seconds: u64,
    group: LsBytes,
    add: *const LsBytes,
    n_add: usize,
    remove: *const LsBytes,
    n_remove: usize,
    out: *mut LsBuffer,
) -> LsStatus {
    guard(|| {
        let a = borrow(account)?;
        let upload = a.account.update_group(
            &mut a.rng,
            now(now_unix_seconds),
            &group_id(group)?,
            &user_ids(add, n_add)?,
            &user_ids(remove, n_remove)?,
        )?;
        put(out, buffer_from(upload))
    })
}

/// Seals `plaintext` to a group; `out` gets the envelope for the relay.
///
/// # Safety
/// `account` must be a live handle, the byte arguments readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_seal_to_group(
    account: *mut LsAccount,
    now_unix_seconds: u64,
    group: LsBytes,
    content: u16,
    plaintext: LsBytes,
    out: *mut LsBuffer,
) -> LsStatus {
    guard(|| {
        let a = borrow(account)?;
        let sealed = a.account.seal_to_group(
            &mut a.rng,
            now(now_unix_seconds),
            &group_id(group)?,
            content_type(content),
            slice(plaintext)?,
        )?;
        put(out, buffer_from(sealed))
    })
}

/// Takes any envelope that arrived. On success `out` gets the event; on
/// error the account is unchanged.
///
/// # Safety
/// `account` must be a live handle, `envelope` readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_receive(
    account: *mut LsAccount,
    now_unix_seconds: u64,
    envelope: LsBytes,
    out: *mut *mut LsEvent,
) -> LsStatus {
    guard(|| {
        let event = borrow(account)?
            .account
            .receive(now(now_unix_seconds), slice(envelope)?)?;
        put(out, Box::into_raw(Box::new(LsEvent(event))))
    })
}

/// Housekeeping (expired keys and secrets); call now and then.
///
/// # Safety
/// `account` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_expire(
    account: *mut LsAccount,
    now_unix_seconds: u64,
) -> LsStatus {
    guard(|| {
        borrow(account)?.account.expire(now(now_unix_seconds));
        Ok(())
    })
}

/// The 60-digit safety number with `user` (over the two user keys), as
/// ASCII digits in `out`.
///
/// # Safety
/// `account` must be a live handle, `user` readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_safety_number(
    account: *mut LsAccount,
    user: LsBytes,
    out: *mut LsBuffer,
) -> LsStatus {
    guard(|| {
        let user = user_id(user)?;
        let number = borrow(account)?
            .account
            .safety_number(&user)
            .ok_or_else(|| {
                Failure::new(LsStatus::DeviceListNeeded, "no device list for the user")
            })?;
        put(out, buffer_from(number.digits().into_bytes()))
    })
}

/// Writes 32 fresh random bytes: a storage key for `ls_account_export`.
/// Keep it in the OS keystore.
///
/// # Safety
/// `out` must point to 32 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_storage_key_generate(out: *mut [u8; 32]) -> LsStatus {
    guard(|| {
        let mut key = [0u8; 32];
        rand_core::TryRng::try_fill_bytes(&mut SysRng, &mut key)
            .map_err(|_| Failure::new(LsStatus::InvalidArgument, "no OS randomness"))?;
        let result = put(out, key);
        key.zeroize();
        result
    })
}

/// Seals the whole account under `storage_key`: `blob` gets the sealed
/// blob and `generation` its generation (store it somewhere trusted).
///
/// # Safety
/// `account` must be a live handle, `storage_key` 32 readable bytes, the outs writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_export(
    account: *mut LsAccount,
    storage_key: *const [u8; 32],
    blob: *mut LsBuffer,
    generation: *mut u64,
) -> LsStatus {
    guard(|| {
        let key = StorageKey::from_bytes(key32(storage_key)?);
        let a = borrow(account)?;
        let sealed = a.account.export(&mut a.rng, &key)?;
        put(generation, sealed.generation())?;
        put(blob, buffer_from(sealed.into_bytes()))
    })
}

/// Opens a blob from `ls_account_export`, refusing a generation below
/// `minimum_generation`.
///
/// # Safety
/// `storage_key` must be 32 readable bytes, `blob` readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_account_import(
    storage_key: *const [u8; 32],
    blob: LsBytes,
    minimum_generation: u64,
    out: *mut *mut LsAccount,
) -> LsStatus {
    guard(|| {
        let key = StorageKey::from_bytes(key32(storage_key)?);
        let account = Account::import(&key, slice(blob)?, minimum_generation)?;
        put(
            out,
            Box::into_raw(Box::new(LsAccount {
                account,
                rng: UnwrapErr(SysRng),
            })),
        )
    })
}

// --- The relay (server side). ---

/// Creates an empty relay.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_relay_new(out: *mut *mut LsRelay) -> LsStatus {
    guard(|| put(out, Box::into_raw(Box::new(LsRelay(Relay::new())))))
}

/// Frees a relay (null: nothing).
///
/// # Safety
/// `relay` must come from this library and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_relay_free(relay: *mut LsRelay) {
    drop(take(relay));
}

/// Checks an envelope uploaded by the authenticated device (`from_user`,
/// `from_device`); `out` gets what to deliver to whom.
///
/// # Safety
/// `relay` must be a live handle, the byte arguments readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_relay_upload(
    relay: *mut LsRelay,
    now_unix_seconds: u64,
    from_user: LsBytes,
    from_device: u32,
    envelope: LsBytes,
    out: *mut *mut LsList,
) -> LsStatus {
    guard(|| {
        let from = DeviceAddress::new(user_id(from_user)?, DeviceId::new(from_device));
        let list = borrow(relay)?
            .0
            .upload(now(now_unix_seconds), &from, slice(envelope)?)?;
        new_list(out, list)
    })
}

/// What a device fetches to talk to `user`: device list, bundles, one-time
/// keys, as a list of envelopes (addressed to nobody in particular: the
/// entries' device is `user`'s device 0).
///
/// # Safety
/// `relay` must be a live handle, `user` readable, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_relay_fetch_user(
    relay: *mut LsRelay,
    user: LsBytes,
    out: *mut *mut LsList,
) -> LsStatus {
    guard(|| {
        let user = user_id(user)?;
        let list = borrow(relay)?.0.fetch_user(&user);
        new_list(
            out,
            envelopes(list, &DeviceAddress::new(user, DeviceId::new(0))),
        )
    })
}

// --- Lists, events, buffers, errors. ---

/// The number of entries in a list (0 for null).
///
/// # Safety
/// `list` must be a live handle or null.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_list_len(list: *mut LsList) -> usize {
    borrow(list).map(|l| l.0.len()).unwrap_or(0)
}

/// Entry `index` of a list: its envelope and the device it is for, borrowed
/// until the list is freed.
///
/// # Safety
/// `list` must be a live handle and the outs writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_list_get(
    list: *mut LsList,
    index: usize,
    envelope: *mut LsBytes,
    to_user: *mut LsBytes,
    to_device: *mut u32,
) -> LsStatus {
    guard(|| {
        let entry = borrow(list)?
            .0
            .get(index)
            .ok_or_else(|| invalid("index out of range"))?;
        put(
            envelope,
            LsBytes {
                ptr: entry.envelope.as_ptr(),
                len: entry.envelope.len(),
            },
        )?;
        let user = entry.to.user.as_bytes();
        put(
            to_user,
            LsBytes {
                ptr: user.as_ptr(),
                len: user.len(),
            },
        )?;
        put(to_device, entry.to.device.get())
    })
}

/// Frees a list (null: nothing).
///
/// # Safety
/// `list` must come from this library and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_list_free(list: *mut LsList) {
    drop(take(list));
}

/// The event's kind.
///
/// # Safety
/// `event` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_event_kind(event: *mut LsEvent) -> LsEventKind {
    match borrow(event).map(|e| &e.0) {
        Ok(Event::Message { .. }) => LsEventKind::Message,
        Ok(Event::GroupMessage { .. }) => LsEventKind::GroupMessage,
        Ok(Event::GroupChanged { .. }) => LsEventKind::GroupChanged,
        Ok(Event::DeviceListUpdated { .. }) => LsEventKind::DeviceListUpdated,
        Ok(Event::BundleLearned { .. }) => LsEventKind::BundleLearned,
        Ok(Event::OneTimeKeyLearned { .. }) => LsEventKind::OneTimeKeyLearned,
        Ok(Event::Duplicate) => LsEventKind::Duplicate,
        _ => LsEventKind::Other,
    }
}

/// A message event's plaintext and sender, borrowed until the event is
/// freed (`LS_STATUS_INVALID_ARGUMENT` for other events).
///
/// # Safety
/// `event` must be a live handle and the outs writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_event_message(
    event: *mut LsEvent,
    plaintext: *mut LsBytes,
    from_user: *mut LsBytes,
    from_device: *mut u32,
) -> LsStatus {
    guard(|| {
        let event = &borrow(event)?.0;
        let (Some(text), Some(from)) = (event.plaintext(), event.sender()) else {
            return Err(invalid("not a message event"));
        };
        put(
            plaintext,
            LsBytes {
                ptr: text.as_ptr(),
                len: text.len(),
            },
        )?;
        let user = from.user.as_bytes();
        put(
            from_user,
            LsBytes {
                ptr: user.as_ptr(),
                len: user.len(),
            },
        )?;
        put(from_device, from.device.get())
    })
}

/// A group-change event's new epoch and how many devices joined and left.
///
/// # Safety
/// `event` must be a live handle and the outs writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_event_group_change(
    event: *mut LsEvent,
    epoch: *mut u64,
    joined: *mut usize,
    left: *mut usize,
) -> LsStatus {
    guard(|| match &borrow(event)?.0 {
        Event::GroupChanged { change, .. } => {
            put(epoch, change.epoch)?;
            put(joined, change.joined.len())?;
            put(left, change.left.len())
        }
        _ => Err(invalid("not a group change")),
    })
}

/// Frees an event (its plaintext is zeroized; null: nothing).
///
/// # Safety
/// `event` must come from this library and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_event_free(event: *mut LsEvent) {
    drop(take(event));
}

/// Zeroizes and frees a buffer's bytes, and empties it (null or empty: nothing).
///
/// # Safety
/// `buffer` must be null or a buffer filled by this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_buffer_free(buffer: *mut LsBuffer) {
    if let Some(mut bytes) = borrow(buffer).ok().and_then(take_buffer) {
        bytes.zeroize();
    }
}

/// The name of a status code (a static NUL-terminated string; "UNKNOWN"
/// for a code that is not one).
#[unsafe(no_mangle)]
pub extern "C" fn ls_status_name(code: i32) -> *const std::ffi::c_char {
    LsStatus::ALL
        .into_iter()
        .find(|s| *s as i32 == code)
        .map_or(c"UNKNOWN", LsStatus::c_name)
        .as_ptr()
}

/// This thread's last error message, as UTF-8 bytes in `out` (empty if none).
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ls_last_error_message(out: *mut LsBuffer) -> LsStatus {
    guard(|| put(out, buffer_from(status::last_message().into_bytes())))
}
