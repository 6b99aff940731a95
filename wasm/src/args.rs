//! Arguments from JS, checked before the core sees them. Every parameter
//! arrives as a `JsValue` (typed in the `.d.ts`), so a wrong JS type is a
//! `TypeError` and an out-of-range number a `RangeError` here, never a silent
//! coercion by the glue code (which would turn `-1` into `4294967295`, a
//! string into zero bytes, or `null` into `0`).

use js_sys::{Array, BigInt, Reflect, Uint8Array};
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::IdentityPublicKey;
use letterseal::pairwise::ContentType;
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use wasm_bindgen::{JsCast, JsValue};
use zeroize::Zeroizing;

use crate::error::Failure;

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A `Uint8Array` (or a subclass such as Node's `Buffer`), copied into Rust.
/// The copy's memory is reserved fallibly: an array larger than the wasm
/// memory can still take is a `RangeError`, not an allocation failure (which
/// would abort the instance).
pub(crate) fn bytes(what: &str, value: &JsValue) -> Result<Vec<u8>, Failure> {
    let array = value.dyn_ref::<Uint8Array>().ok_or_else(|| {
        Failure::Type(format!(
            "{what} must be a Uint8Array, got {}",
            type_name(value)
        ))
    })?;
    let too_large = || {
        Failure::Range(format!(
            "{what} ({} bytes) does not fit in the WebAssembly memory",
            array.length()
        ))
    };
    let len = usize::try_from(array.length()).map_err(|_| too_large())?;
    let mut copy = Vec::new();
    copy.try_reserve_exact(len).map_err(|_| too_large())?;
    copy.resize(len, 0);
    array.copy_to(&mut copy);
    Ok(copy)
}

/// As [`bytes`], for a secret: the Rust copy is zeroized on drop.
pub(crate) fn secret_bytes(what: &str, value: &JsValue) -> Result<Zeroizing<Vec<u8>>, Failure> {
    bytes(what, value).map(Zeroizing::new)
}

/// An array of `Uint8Array`s.
pub(crate) fn byte_arrays(what: &str, value: &JsValue) -> Result<Vec<Vec<u8>>, Failure> {
    if !Array::is_array(value) {
        return Err(Failure::Type(format!(
            "{what} must be an array of Uint8Array, got {}",
            type_name(value)
        )));
    }
    Array::from(value)
        .iter()
        .map(|item| bytes(&format!("each of {what}"), &item))
        .collect()
}

/// A non-negative integer up to `max`: a JS number (exactly an integer, at
/// most `Number.MAX_SAFE_INTEGER`) or, if `bigint_ok`, a `bigint`.
fn integer(what: &str, value: &JsValue, max: u64, bigint_ok: bool) -> Result<u64, Failure> {
    let out_of_range = || Failure::Range(format!("{what} must be an integer from 0 to {max}"));
    if let Some(number) = value.as_f64() {
        // `as` is exact here: the value is checked to be a whole number in
        // 0..=2^53-1 first, and every such number is an exact u64.
        let whole = number.is_finite() && number.fract() == 0.0;
        if !whole || number < 0.0 || number > MAX_SAFE_INTEGER as f64 {
            return Err(out_of_range());
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked above: a whole number in 0..=2^53-1"
        )]
        let whole = number as u64;
        return if whole <= max {
            Ok(whole)
        } else {
            Err(out_of_range())
        };
    }
    if bigint_ok && value.is_bigint() {
        let text = value
            .dyn_ref::<BigInt>()
            .and_then(|b| b.to_string(10).ok())
            .map(String::from)
            .ok_or_else(out_of_range)?;
        return text
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(out_of_range);
    }
    let expected = if bigint_ok {
        "a number or bigint"
    } else {
        "a number"
    };
    Err(Failure::Type(format!(
        "{what} must be {expected}, got {}",
        type_name(value)
    )))
}

/// `now`: whole seconds since the Unix epoch (number or bigint).
pub(crate) fn now(value: &JsValue) -> Result<Timestamp, Failure> {
    integer("now", value, u64::MAX, true).map(Timestamp::from_unix_seconds)
}

/// A `u64` given as a number or bigint.
pub(crate) fn u64_arg(what: &str, value: &JsValue) -> Result<u64, Failure> {
    integer(what, value, u64::MAX, true)
}

/// A `u32` given as a number.
pub(crate) fn u32_arg(what: &str, value: &JsValue) -> Result<u32, Failure> {
    let n = integer(what, value, u64::from(u32::MAX), false)?;
    u32::try_from(n).map_err(|_| Failure::Range(format!("{what} must be at most {}", u32::MAX)))
}

/// A content type's wire code (a number, 0 to 65535).
pub(crate) fn content_type(value: &JsValue) -> Result<ContentType, Failure> {
    let n = integer("contentType", value, u64::from(u16::MAX), false)?;
    u16::try_from(n)
        .map(ContentType::from)
        .map_err(|_| Failure::Range(format!("contentType must be at most {}", u16::MAX)))
}

/// A device number (a number, 0 to 2^32-1).
pub(crate) fn device(value: &JsValue) -> Result<DeviceId, Failure> {
    u32_arg("device", value).map(DeviceId::new)
}

pub(crate) fn user_id_from(bytes: &[u8]) -> Result<UserId, Failure> {
    UserId::new(bytes).map_err(|e| Failure::invalid_input("InvalidUserId", e))
}

/// A user id: a `Uint8Array` of 1 to 255 bytes.
pub(crate) fn user_id(what: &str, value: &JsValue) -> Result<UserId, Failure> {
    user_id_from(&bytes(what, value)?)
}

/// An array of user ids.
pub(crate) fn user_ids(what: &str, value: &JsValue) -> Result<Vec<UserId>, Failure> {
    byte_arrays(what, value)?
        .iter()
        .map(|u| user_id_from(u))
        .collect()
}

/// A group id: a `Uint8Array` of 1 to 255 bytes.
pub(crate) fn group_id(value: &JsValue) -> Result<GroupId, Failure> {
    GroupId::new(bytes("group", value)?).map_err(|e| Failure::invalid_input("InvalidGroupId", e))
}

/// A device address: an object `{ user: Uint8Array, device: number }`.
pub(crate) fn address(what: &str, value: &JsValue) -> Result<DeviceAddress, Failure> {
    if !value.is_object() {
        return Err(Failure::Type(format!(
            "{what} must be an object {{ user: Uint8Array, device: number }}, got {}",
            type_name(value)
        )));
    }
    let field = |name: &str| {
        Reflect::get(value, &JsValue::from_str(name))
            .map_err(|_| Failure::Type(format!("{what}.{name} could not be read")))
    };
    let user = user_id(&format!("{what}.user"), &field("user")?)?;
    let device = u32_arg(&format!("{what}.device"), &field("device")?)?;
    Ok(DeviceAddress::new(user, DeviceId::new(device)))
}

/// Exactly 32 bytes, or an `InvalidInput` error of kind `WrongKeyLength`. The
/// copy is zeroized on drop.
pub(crate) fn key_bytes(what: &str, value: &JsValue) -> Result<Zeroizing<[u8; 32]>, Failure> {
    let bytes = secret_bytes(what, value)?;
    let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        Failure::invalid_input(
            "WrongKeyLength",
            format_args!("{what} must be 32 bytes, got {}", bytes.len()),
        )
    })?;
    Ok(Zeroizing::new(array))
}

/// A storage key (32 bytes).
pub(crate) fn storage_key(value: &JsValue) -> Result<StorageKey, Failure> {
    let key = key_bytes("storageKey", value)?;
    Ok(StorageKey::from_bytes(*key))
}

/// An identity public key (32 bytes, a valid Ed25519 point).
pub(crate) fn identity_key(value: &JsValue) -> Result<IdentityPublicKey, Failure> {
    let key = key_bytes("identityKey", value)?;
    IdentityPublicKey::from_bytes(&key).map_err(|e| Failure::invalid_input("InvalidIdentityKey", e))
}

/// A short description of a JS value's type for error messages (never its
/// content, which may be secret).
fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if value.is_undefined() {
        "undefined".to_owned()
    } else if Array::is_array(value) {
        "an array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}
