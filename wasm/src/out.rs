//! Values returned to JS: plain objects with camelCase fields, bytes as
//! `Uint8Array`, `u64` counters as `bigint`. Their TypeScript types are in
//! `lib.rs` (`TYPES`).

use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use letterseal::account;
use letterseal::group::{EpochChange, GroupId};
use letterseal::ids::DeviceAddress;
use wasm_bindgen::JsValue;
use zeroize::Zeroizing;

use crate::error::Failure;

/// A plain JS object under construction.
pub(crate) struct Obj(Object);

impl Obj {
    pub(crate) fn new() -> Self {
        Self(Object::new())
    }

    pub(crate) fn set(self, key: &str, value: impl Into<JsValue>) -> Result<Self, Failure> {
        Reflect::set(&self.0, &JsValue::from_str(key), &value.into())
            .map_err(|_| Failure::Type(format!("could not set {key} on a fresh object")))?;
        Ok(self)
    }

    pub(crate) fn done(self) -> JsValue {
        self.0.into()
    }
}

/// Bytes copied from wasm memory into a new `Uint8Array`.
pub(crate) fn bytes(slice: &[u8]) -> JsValue {
    Uint8Array::from(slice).into()
}

/// A `Uint8Array[]`.
pub(crate) fn byte_arrays<T: AsRef<[u8]>>(items: impl IntoIterator<Item = T>) -> JsValue {
    items
        .into_iter()
        .map(|b| bytes(b.as_ref()))
        .collect::<Array>()
        .into()
}

pub(crate) fn group_ids(groups: &[GroupId]) -> JsValue {
    byte_arrays(groups.iter().map(GroupId::as_bytes))
}

/// `{ user, device }`.
pub(crate) fn address(a: &DeviceAddress) -> Result<JsValue, Failure> {
    Ok(Obj::new()
        .set("user", bytes(a.user.as_bytes()))?
        .set("device", a.device.get())?
        .done())
}

fn addresses(list: &[DeviceAddress]) -> Result<JsValue, Failure> {
    list.iter()
        .map(address)
        .collect::<Result<Array, Failure>>()
        .map(JsValue::from)
}

/// `{ to, envelope }[]`.
pub(crate) fn outgoing(list: Vec<account::Outgoing>) -> Result<JsValue, Failure> {
    list.iter()
        .map(|o| {
            Ok(Obj::new()
                .set("to", address(&o.to)?)?
                .set("envelope", bytes(&o.envelope))?
                .done())
        })
        .collect::<Result<Array, Failure>>()
        .map(JsValue::from)
}

/// A `GroupChange`.
pub(crate) fn group_change(c: &EpochChange) -> Result<JsValue, Failure> {
    Ok(Obj::new()
        .set("epoch", BigInt::from(c.epoch))?
        .set("distributor", address(&c.distributor)?)?
        .set("firstEpoch", c.first_epoch)?
        .set("joined", addresses(&c.joined)?)?
        .set("left", addresses(&c.left)?)?
        .set("rekeyed", addresses(&c.rekeyed)?)?
        .done())
}

/// The plaintext, copied straight from the core's zeroizing buffer into a JS
/// `Uint8Array`; the Rust buffer is zeroized when it drops here.
fn plaintext(p: &Zeroizing<Vec<u8>>) -> JsValue {
    bytes(p)
}

fn device_numbers(list: &[letterseal::ids::DeviceId]) -> JsValue {
    list.iter()
        .map(|d| JsValue::from(d.get()))
        .collect::<Array>()
        .into()
}

/// An `Event`: an object with a `type` tag.
pub(crate) fn event(event: account::Event) -> Result<JsValue, Failure> {
    let obj = Obj::new();
    let obj = match event {
        account::Event::Message {
            from,
            to_user,
            content_type,
            plaintext: p,
        } => obj
            .set("type", "Message")?
            .set("sender", address(&from)?)?
            .set("toUser", bytes(to_user.as_bytes()))?
            .set("contentType", content_type.code())?
            .set("plaintext", plaintext(&p))?,
        account::Event::GroupMessage {
            group,
            from,
            content_type,
            plaintext: p,
        } => obj
            .set("type", "GroupMessage")?
            .set("group", bytes(group.as_bytes()))?
            .set("sender", address(&from)?)?
            .set("contentType", content_type.code())?
            .set("plaintext", plaintext(&p))?,
        account::Event::GroupChanged {
            group,
            change,
            committed,
            discarded_proposal,
        } => obj
            .set("type", "GroupChanged")?
            .set("group", bytes(group.as_bytes()))?
            .set("change", group_change(&change)?)?
            .set("committed", committed)?
            .set("discardedProposal", discarded_proposal)?,
        account::Event::DeviceListUpdated {
            user,
            version,
            added,
            removed,
            groups_to_update,
        } => obj
            .set("type", "DeviceListUpdated")?
            .set("user", bytes(user.as_bytes()))?
            .set("version", BigInt::from(version))?
            .set("added", device_numbers(&added))?
            .set("removed", device_numbers(&removed))?
            .set("groupsToUpdate", group_ids(&groups_to_update))?,
        account::Event::BundleLearned { device } => obj
            .set("type", "BundleLearned")?
            .set("device", address(&device)?)?,
        account::Event::OneTimeKeyLearned { device } => obj
            .set("type", "OneTimeKeyLearned")?
            .set("device", address(&device)?)?,
        account::Event::Duplicate => obj.set("type", "Duplicate")?,
        // `account::Event` is non-exhaustive: a variant added to the core
        // later is still reported (its `Debug` text never holds plaintext or
        // keys), not dropped.
        other => obj
            .set("type", "Unrecognized")?
            .set("description", format!("{other:?}"))?,
    };
    Ok(obj.done())
}
