//! The account's sealed state (SPEC.md §13.9): one blob, kind 4, holding
//! every part of the account; each part in its own layout of §12.2.

use alloc::collections::BTreeMap;

use zeroize::Zeroizing;

use super::{Account, Contact, DeviceList, UserSecretKey, VerifiedDeviceList};
use crate::codec::{Reader, Writer};
use crate::device::DeviceKeys;
use crate::group::Group;
use crate::ids::DeviceId;
use crate::pairwise::Session;
use crate::registration::{KeyBundle, VerifiedBundle};
use crate::state::{StateCodec, StateError, StateKind, check, field, read_list, write_len};

/// The account layout version (SPEC.md §13.9).
const ACCOUNT_BLOB_VERSION: u16 = 1;

/// Writes a nested state as `lp32(its layout)`; the buffer is zeroized.
fn write_nested<T: StateCodec>(
    w: &mut Writer,
    name: &'static str,
    state: &T,
) -> Result<(), StateError> {
    let mut inner = Writer::new();
    let encoded = state.encode_state(&mut inner);
    let inner = Zeroizing::new(inner.into_bytes());
    encoded?;
    write_bytes(w, name, &inner)
}

/// `lp32(bytes)`.
fn write_bytes(w: &mut Writer, name: &'static str, bytes: &[u8]) -> Result<(), StateError> {
    write_len(w, name, bytes.len())?;
    w.raw(bytes);
    Ok(())
}

fn read_nested<T: StateCodec>(r: &mut Reader<'_>, name: &'static str) -> Result<T, StateError> {
    let bytes = field(name, r.bytes_u32())?;
    let mut inner = Reader::new(bytes);
    let state = T::decode_state(&mut inner)?;
    field(name, inner.finish())?;
    Ok(state)
}

impl StateCodec for Account {
    const KIND: StateKind = StateKind::Account;
    const VERSION: u16 = ACCOUNT_BLOB_VERSION;

    fn generation_mut(&mut self) -> &mut u64 {
        &mut self.generation
    }

    /// `lp32(device keys) ‖ u8(0 | 1) ‖ [user key seed] ‖ u32(u) ‖ u × (lp32(device
    /// list) ‖ u32(b) ‖ b × lp32(key bundle)) ‖ u32(s) ‖ s × lp32(session) ‖
    /// u32(g) ‖ g × lp32(group)`, users, bundles, sessions and groups in
    /// ascending order of their keys.
    fn encode_state(&self, w: &mut Writer) -> Result<(), StateError> {
        write_nested(w, "device", &self.device)?;
        match &self.user_key {
            Some(key) => {
                w.u8(1);
                w.raw(key.to_recovery_secret().as_ref());
            }
            None => w.u8(0),
        }
        write_len(w, "users", self.contacts.len())?;
        for contact in self.contacts.values() {
            write_bytes(w, "device list", contact.list.list().as_bytes())?;
            write_len(w, "bundles", contact.bundles.len())?;
            for bundle in contact.bundles.values() {
                write_bytes(w, "bundle", &bundle.bundle().encode())?;
            }
        }
        write_len(w, "sessions", self.sessions.len())?;
        for session in self.sessions.values() {
            write_nested(w, "session", session)?;
        }
        write_len(w, "groups", self.groups.len())?;
        for group in self.groups.values() {
            write_nested(w, "group", group)?;
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError> {
        let device: DeviceKeys = read_nested(r, "device")?;
        let user_key = match field("user key", r.u8())? {
            0 => None,
            1 => {
                let seed = Zeroizing::new(field("user key", r.array::<32>())?);
                Some(UserSecretKey::from_recovery_secret(&seed))
            }
            _ => return Err(StateError::Invalid { field: "user key" }),
        };
        let me = device.address().clone();
        let mut contacts = BTreeMap::new();
        let lists = read_list(r, "users", 8, |r| {
            let list = DeviceList::decode(field("device list", r.bytes_u32())?).map_err(|_| {
                StateError::Invalid {
                    field: "device list",
                }
            })?;
            let user = list.user().clone();
            let verified = list.verify(&user, None).map_err(|_| StateError::Invalid {
                field: "device list",
            })?;
            let bundles = read_list(r, "bundles", 4, |r| {
                let bundle = KeyBundle::decode(field("bundle", r.bytes_u32())?)
                    .and_then(VerifiedBundle::from_storage)
                    .map_err(|_| StateError::Invalid { field: "bundle" })?;
                let owner = bundle.owner();
                check(
                    "bundle",
                    owner.user == user
                        && verified.identity_key(owner.device) == Some(bundle.identity_key()),
                )?;
                Ok(bundle)
            })?;
            Ok((verified, bundles))
        })?;
        for (list, bundles) in lists {
            let user = list.list().user().clone();
            let mut by_device: BTreeMap<DeviceId, VerifiedBundle> = BTreeMap::new();
            for bundle in bundles {
                let device = bundle.owner().device;
                check(
                    "bundles",
                    by_device.last_key_value().is_none_or(|(d, _)| *d < device),
                )?;
                by_device.insert(device, bundle);
            }
            check(
                "users",
                contacts.last_key_value().is_none_or(|(u, _)| *u < user),
            )?;
            contacts.insert(
                user,
                Contact {
                    list: VerifiedDeviceList::from_trusted(list.list().clone()),
                    bundles: by_device,
                },
            );
        }
        if let Some(key) = &user_key {
            let own = contacts.get(&me.user);
            check(
                "user key",
                own.is_some_and(|c| *c.list.list().user_key() == key.public_key()),
            )?;
        }
        let mut sessions = BTreeMap::new();
        for session in read_list(r, "sessions", 4, |r| read_nested::<Session>(r, "session"))? {
            let peer = session.peer().clone();
            check(
                "sessions",
                sessions.last_key_value().is_none_or(|(p, _)| *p < peer),
            )?;
            sessions.insert(peer, session);
        }
        let mut groups = BTreeMap::new();
        for group in read_list(r, "groups", 4, |r| read_nested::<Group>(r, "group"))? {
            let id = group.group_id().clone();
            check("groups", group.local() == &me)?;
            check(
                "groups",
                groups.last_key_value().is_none_or(|(g, _)| *g < id),
            )?;
            groups.insert(id, group);
        }
        Ok(Self {
            device,
            user_key,
            contacts,
            sessions,
            groups,
            generation: 0,
        })
    }
}
