//! Who may change a group's roster (SPEC.md §8.2).
//!
//! The policy travels in every signed core. Members and the server check each
//! new epoch against the previous one: under *any member* (LINE's behaviour)
//! every member may change anything; under *admins* the admins (user ids) may
//! change anything, and every other member may only remove or re-key its own
//! user's devices, or rotate the epoch without a change.

use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::GroupError;
use super::roster::{Change, Changes, Roster};
use crate::codec::{Reader, Writer};
use crate::ids::UserId;

/// The most admins a policy names.
pub const MAX_ADMINS: usize = 255;
// The admin count is written as a `u8`, which holds exactly this much.
const _: () = assert!(MAX_ADMINS == u8::MAX as usize);

const ANY_MEMBER: u8 = 0;
const ADMINS: u8 = 1;

/// Who may change the roster (SPEC.md §8.2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRepr", into = "PolicyRepr")]
pub struct RosterPolicy(Policy);

#[derive(Clone, PartialEq, Eq)]
enum Policy {
    AnyMember,
    /// Strictly increasing (SPEC.md §8.1 order), 1 to 255 entries; `count` is
    /// `list.len()`, checked when the policy was built or read.
    Admins {
        list: Vec<UserId>,
        count: u8,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyRepr {
    /// `null` for any member; required.
    #[serde(deserialize_with = "Option::deserialize")]
    admins: Option<Vec<UserId>>,
}

impl TryFrom<PolicyRepr> for RosterPolicy {
    type Error = GroupError;
    fn try_from(r: PolicyRepr) -> Result<Self, GroupError> {
        match r.admins {
            None => Ok(Self::any_member()),
            Some(list) => {
                let strict = list.windows(2).all(|w| match w {
                    [a, b] => a < b,
                    _ => true,
                });
                if strict {
                    Self::admins(list)
                } else {
                    Err(GroupError::InvalidPolicy)
                }
            }
        }
    }
}

impl From<RosterPolicy> for PolicyRepr {
    fn from(p: RosterPolicy) -> Self {
        match p.0 {
            Policy::AnyMember => Self { admins: None },
            Policy::Admins { list, .. } => Self { admins: Some(list) },
        }
    }
}

impl fmt::Debug for RosterPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Policy::AnyMember => f.write_str("AnyMember"),
            Policy::Admins { list, .. } => f.debug_tuple("Admins").field(list).finish(),
        }
    }
}

impl Default for RosterPolicy {
    /// Any member may change the roster (LINE's behaviour).
    fn default() -> Self {
        Self::any_member()
    }
}

impl RosterPolicy {
    /// Any member may change anything (LINE's behaviour).
    pub fn any_member() -> Self {
        Self(Policy::AnyMember)
    }

    /// Only these users may add members, remove others and change the
    /// policy. Sorted and deduplicated; fails with
    /// [`GroupError::InvalidPolicy`] for no admin or more than 255.
    pub fn admins(users: impl IntoIterator<Item = UserId>) -> Result<Self, GroupError> {
        let mut list: Vec<UserId> = users.into_iter().collect();
        list.sort();
        list.dedup();
        let count = u8::try_from(list.len())
            .ok()
            .filter(|&count| count > 0)
            .ok_or(GroupError::InvalidPolicy)?;
        Ok(Self(Policy::Admins { list, count }))
    }

    /// The admins, or `None` under *any member*.
    pub fn admin_list(&self) -> Option<&[UserId]> {
        match &self.0 {
            Policy::AnyMember => None,
            Policy::Admins { list, .. } => Some(list),
        }
    }

    /// Whether this user may change anything: always under *any member*.
    pub fn is_admin(&self, user: &[u8]) -> bool {
        match &self.0 {
            Policy::AnyMember => true,
            Policy::Admins { list, .. } => {
                list.binary_search_by(|a| a.as_bytes().cmp(user)).is_ok()
            }
        }
    }

    /// `u8(0)` or `u8(1) ‖ u8(k) ‖ k × lp8(admin)` (SPEC.md §8.2).
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn encode(&self, w: &mut Writer) {
        match &self.0 {
            Policy::AnyMember => w.u8(ANY_MEMBER),
            Policy::Admins { list, count } => {
                w.u8(ADMINS);
                w.u8(*count);
                for a in list {
                    a.encode(w);
                }
            }
        }
    }

    /// Reads a policy: `InvalidPolicy` for an unknown kind, no admin, an
    /// empty admin, or admins not strictly increasing; `Malformed` if cut short.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, GroupError> {
        match r.u8()? {
            ANY_MEMBER => Ok(Self::any_member()),
            ADMINS => {
                let k = r.u8()?;
                if k == 0 {
                    return Err(GroupError::InvalidPolicy);
                }
                let mut list: Vec<UserId> = Vec::with_capacity(usize::from(k));
                for _ in 0..k {
                    let bytes = r.bytes_u8()?;
                    let user = UserId::new(bytes).map_err(|_| GroupError::InvalidPolicy)?;
                    if list.last().is_some_and(|last| *last >= user) {
                        return Err(GroupError::InvalidPolicy);
                    }
                    list.push(user);
                }
                Ok(Self(Policy::Admins { list, count: k }))
            }
            _ => Err(GroupError::InvalidPolicy),
        }
    }

    /// The invariant of SPEC.md §8.2: under admins, some member's user is an admin.
    pub(crate) fn has_admin_member(&self, roster: &Roster) -> bool {
        match &self.0 {
            Policy::AnyMember => true,
            Policy::Admins { list, .. } => list.iter().any(|a| roster.contains_user(a.as_bytes())),
        }
    }
}

/// The permission rule of SPEC.md §8.2 for a distributor of user `user`
/// moving from `old` (policy and the changes against its roster) to the
/// new policy. `old = None` is epoch 1.
pub(crate) fn check_permission(
    old: Option<(&RosterPolicy, &Changes<'_>)>,
    new_policy: &RosterPolicy,
    user: &[u8],
) -> Result<(), GroupError> {
    let Some((old_policy, changes)) = old else {
        // Epoch 1: under admins, the creator is an admin.
        return if new_policy.is_admin(user) {
            Ok(())
        } else {
            Err(GroupError::NotPermitted)
        };
    };
    if old_policy.is_admin(user) {
        return Ok(());
    }
    if new_policy != old_policy {
        return Err(GroupError::NotPermitted);
    }
    let own = |u: &[u8]| u == user;
    let allowed = changes.list.iter().all(|c| match c {
        Change::Removed(m) => own(m.user_id()),
        Change::Added(_) => false,
        Change::Changed { old, new } => {
            own(new.user_id()) && old.identity_key_bytes() == new.identity_key_bytes()
        }
    });
    if allowed {
        Ok(())
    } else {
        Err(GroupError::NotPermitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::DecodeError;

    fn uid(s: &str) -> UserId {
        UserId::new(s).unwrap()
    }

    #[test]
    fn encoding_is_strict_and_round_trips() {
        for policy in [
            RosterPolicy::any_member(),
            RosterPolicy::admins([uid("bob"), uid("alice"), uid("bob")]).unwrap(),
        ] {
            let mut w = Writer::new();
            policy.encode(&mut w);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            assert_eq!(RosterPolicy::decode(&mut r).unwrap(), policy);
            r.finish().unwrap();
        }
        let bad: [&[u8]; 6] = [
            &[2],
            &[1, 0],
            &[1, 1, 0],
            &[1, 2, 1, b'b', 1, b'a'],
            &[1, 2, 1, b'a', 1, b'a'],
            &[0xff],
        ];
        for b in bad {
            assert_eq!(
                RosterPolicy::decode(&mut Reader::new(b)).unwrap_err(),
                GroupError::InvalidPolicy,
                "{b:?}"
            );
        }
        assert_eq!(
            RosterPolicy::decode(&mut Reader::new(&[1, 2, 1, b'a'])).unwrap_err(),
            GroupError::Malformed(DecodeError::Truncated)
        );
        assert_eq!(
            RosterPolicy::admins([]).unwrap_err(),
            GroupError::InvalidPolicy
        );
        assert!(
            RosterPolicy::admins((0..256u32).map(|i| UserId::new(i.to_be_bytes()).unwrap()))
                .is_err()
        );
        let admins = RosterPolicy::admins([uid("a"), uid("ab")]).unwrap();
        assert!(admins.is_admin(b"ab") && !admins.is_admin(b"b"));
        assert!(RosterPolicy::any_member().is_admin(b"anyone"));
    }
}
