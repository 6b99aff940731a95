//! The server's side of accounts (SPEC.md §13.10): every check a server makes
//! on what devices upload, with no secret, and the fan-out to recipients.
//! [`Relay`] keeps its records in memory; a deployment with its own storage
//! makes the same checks through the same calls it wraps
//! ([`DeviceList::verify`], [`KeyBundle::verify`](crate::registration::KeyBundle::verify),
//! [`Distribution::verify_for_server`]).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use super::envelope::{PairwiseHeader, split_group_body};
use super::{
    DeviceList, DeviceListError, Envelope, EnvelopeError, EnvelopeKind, Outgoing,
    VerifiedDeviceList,
};
use crate::group::{Distribution, GroupError, GroupId, Roster, ServerRecord};
use crate::ids::{DeviceAddress, UserId};
use crate::registration::{
    ExpectedOwner, KeyBundle, NoDirectory, OneTimeKeyBundle, RegistrationError, RegistrationPolicy,
};
use crate::time::Timestamp;

/// Why the relay refused an upload. Nothing was stored or delivered. See
/// the examples on [`Relay`] and [`Relay::upload`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayError {
    /// Not an envelope.
    Envelope(EnvelopeError),
    /// A device list refused (forged, not the uploader's user, stale, new user key).
    DeviceList(DeviceListError),
    /// A key bundle or one-time key refused.
    Registration(RegistrationError),
    /// A distribution refused.
    Group(GroupError),
    /// The uploading device is not in its user's device list (or no list is held).
    UploaderNotListed,
    /// A group roster holds a device its user's device list does not list
    /// (under that identity key).
    MemberNotListed(DeviceAddress),
    /// A message whose sender is not the authenticated uploader.
    SenderMismatch,
    /// A message to a device that is not listed.
    UnknownRecipient,
    /// A group message for a group the relay does not hold, or from a non-member.
    UnknownGroup,
}

impl RelayError {
    /// A stable name for logs and bindings.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Envelope(_) => "Envelope",
            Self::DeviceList(_) => "DeviceList",
            Self::Registration(_) => "Registration",
            Self::Group(_) => "Group",
            Self::UploaderNotListed => "UploaderNotListed",
            Self::MemberNotListed(_) => "MemberNotListed",
            Self::SenderMismatch => "SenderMismatch",
            Self::UnknownRecipient => "UnknownRecipient",
            Self::UnknownGroup => "UnknownGroup",
        }
    }
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "envelope: {e}"),
            Self::DeviceList(e) => write!(f, "device list: {e}"),
            Self::Registration(e) => write!(f, "key upload: {e}"),
            Self::Group(e) => write!(f, "distribution: {e}"),
            Self::UploaderNotListed => f.write_str("uploader not in its user's device list"),
            Self::MemberNotListed(d) => write!(f, "{d} is not in its user's device list"),
            Self::SenderMismatch => f.write_str("sender is not the uploader"),
            Self::UnknownRecipient => f.write_str("recipient not listed"),
            Self::UnknownGroup => f.write_str("unknown group or not a member"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RelayError {}

impl From<EnvelopeError> for RelayError {
    fn from(e: EnvelopeError) -> Self {
        Self::Envelope(e)
    }
}

impl From<DeviceListError> for RelayError {
    fn from(e: DeviceListError) -> Self {
        Self::DeviceList(e)
    }
}

impl From<RegistrationError> for RelayError {
    fn from(e: RegistrationError) -> Self {
        Self::Registration(e)
    }
}

impl From<GroupError> for RelayError {
    fn from(e: GroupError) -> Self {
        Self::Group(e)
    }
}

/// A server's records and checks, in memory.
///
/// [`Self::upload`] takes the device the server authenticated (by its own
/// login, not part of letterseal) and the bytes it uploaded; it checks and
/// stores keys and device lists, checks group changes against the group's
/// record, and returns each message with the device to deliver it to.
/// [`Self::fetch_user`] hands out what a device needs to talk to a user. A
/// deployment with its own storage makes the same checks through the calls
/// this wraps ([`DeviceList::verify`],
/// [`KeyBundle::verify`](crate::registration::KeyBundle::verify),
/// [`Distribution::verify_for_server`]).
///
/// # Walkthrough: the server
///
/// ```
/// use letterseal::account::{Account, Relay, RelayError};
/// use letterseal::group::GroupId;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::pairwise::ContentType;
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
/// # let now = Timestamp::from_unix_seconds(1_800_000_000);
/// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
/// # let alice_phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
/// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
/// # let mut alice = Account::create_primary(&mut rng, now, alice_phone.clone());
/// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
/// let mut relay = Relay::new();
/// // Registration: each device's list and bundle, checked and stored.
/// for upload in alice.uploads(&mut rng, now)? { relay.upload(now, &alice_phone, &upload)?; }
/// for upload in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &upload)?; }
/// // Lookup: what a device needs to talk to a user.
/// for envelope in relay.fetch_user(&bob_id) { alice.receive(now, &envelope)?; }
/// for envelope in relay.fetch_user(&alice_id) { bob.receive(now, &envelope)?; }
///
/// // A message: delivered only if the sender is the uploader and the recipient is listed.
/// let out = alice.seal_to_user(&mut rng, now, &bob_id, ContentType::Text, b"hi")?;
/// let deliveries = relay.upload(now, &alice_phone, &out[0].envelope)?;
/// assert_eq!(deliveries[0].to, bob_phone);
/// let forged = relay.upload(now, &bob_phone, &out[0].envelope).unwrap_err();
/// assert_eq!(forged, RelayError::SenderMismatch);
/// assert_eq!(forged.name(), "SenderMismatch");
///
/// // A group change: checked against the record, one view per member device.
/// let club = GroupId::new("club")?;
/// let upload = alice.create_group(&mut rng, now, club.clone(), &[bob_id.clone()])?;
/// assert_eq!(relay.upload(now, &alice_phone, &upload)?.len(), 2);
/// let record = relay.group_record(&club).unwrap();
/// assert_eq!(record.roster.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Relay {
    policy: RegistrationPolicy,
    lists: BTreeMap<UserId, VerifiedDeviceList>,
    /// Each device's latest bundle and unclaimed one-time keys, as envelopes.
    bundles: BTreeMap<DeviceAddress, Vec<u8>>,
    one_time_keys: BTreeMap<DeviceAddress, Vec<Vec<u8>>>,
    groups: BTreeMap<GroupId, ServerRecord>,
}

impl Relay {
    /// An empty relay with the default [`RegistrationPolicy`]. See the
    /// example on [`Relay`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes an envelope uploaded by the authenticated device `from` and
    /// returns what to deliver to whom. Device lists, bundles and one-time
    /// keys are checked and stored (and delivered to nobody: devices fetch
    /// them with [`Self::fetch_user`]; the list already held, uploaded again,
    /// is accepted and changes nothing); a distribution is checked against
    /// the group's record and every member's device list, stored, and each
    /// member (the uploader too) gets its view; a message goes to its
    /// recipient(s). A refusal stores and delivers nothing.
    ///
    /// ```
    /// use letterseal::account::{Account, Relay, RelayError};
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::time::Timestamp;
    /// use rand_core::SeedableRng;
    ///
    /// let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
    /// let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// let mut relay = Relay::new();
    /// let phone = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
    /// let mut alice = Account::create_primary(&mut rng, now, phone.clone());
    /// // The session authenticated the uploader as alice/1: her list, then her bundle.
    /// for upload in alice.uploads(&mut rng, now)? {
    ///     assert!(relay.upload(now, &phone, &upload)?.is_empty()); // stored, nothing to deliver
    /// }
    /// // A device alice never listed cannot register keys for her.
    /// let ghost = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(66));
    /// let mut impostor = Account::create_secondary(&mut rng, now, ghost.clone());
    /// let bundle = impostor.uploads(&mut rng, now)?.remove(0);
    /// assert_eq!(relay.upload(now, &ghost, &bundle), Err(RelayError::UploaderNotListed));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload(
        &mut self,
        now: Timestamp,
        from: &DeviceAddress,
        envelope: &[u8],
    ) -> Result<Vec<Outgoing>, RelayError> {
        let decoded = Envelope::decode(envelope)?;
        let body = decoded.body();
        match decoded.kind() {
            EnvelopeKind::DeviceList => {
                let held = self.lists.get(&from.user);
                let list = match DeviceList::decode(body)?.verify(&from.user, held) {
                    // The list it holds, uploaded again (a primary's periodic uploads).
                    Err(DeviceListError::Duplicate) => return Ok(Vec::new()),
                    other => other?,
                };
                if !list.lists(from) {
                    return Err(RelayError::UploaderNotListed);
                }
                // Bundles of devices the new list leaves out are dropped.
                self.bundles
                    .retain(|a, _| a.user != from.user || list.lists(a));
                self.one_time_keys
                    .retain(|a, _| a.user != from.user || list.lists(a));
                self.lists.insert(from.user.clone(), list);
                Ok(Vec::new())
            }
            EnvelopeKind::KeyBundle => {
                let listed = self.listed_key(from)?;
                KeyBundle::decode(body)?.verify(
                    &ExpectedOwner::Device(from.clone()),
                    &self.policy,
                    now,
                    Some(&listed),
                    &NoDirectory,
                )?;
                self.bundles.insert(from.clone(), envelope.to_vec());
                Ok(Vec::new())
            }
            EnvelopeKind::OneTimeKey => {
                let listed = self.listed_key(from)?;
                OneTimeKeyBundle::decode(body)?.verify(
                    &ExpectedOwner::Device(from.clone()),
                    &self.policy,
                    now,
                    Some(&listed),
                    &NoDirectory,
                )?;
                self.one_time_keys
                    .entry(from.clone())
                    .or_default()
                    .push(envelope.to_vec());
                Ok(Vec::new())
            }
            EnvelopeKind::Distribution => self.distribution(from, body),
            EnvelopeKind::PairwiseMessage => {
                let (header, _) = PairwiseHeader::split(body).map_err(EnvelopeError::Malformed)?;
                if header.sender != *from {
                    return Err(RelayError::SenderMismatch);
                }
                self.listed_key(from)?;
                self.listed_key(&header.recipient)
                    .map_err(|_| RelayError::UnknownRecipient)?;
                Ok(Vec::from([Outgoing {
                    to: header.recipient,
                    envelope: envelope.to_vec(),
                }]))
            }
            EnvelopeKind::GroupMessage => {
                let (group, _) = split_group_body(body).map_err(EnvelopeError::Malformed)?;
                let record = self.groups.get(&group).ok_or(RelayError::UnknownGroup)?;
                if record.roster.get(from).is_none() {
                    return Err(RelayError::UnknownGroup);
                }
                Ok(record
                    .roster
                    .iter()
                    .map(|m| m.address())
                    .filter(|a| a != from)
                    .map(|to| Outgoing {
                        to,
                        envelope: envelope.to_vec(),
                    })
                    .collect())
            }
        }
    }

    fn distribution(
        &mut self,
        from: &DeviceAddress,
        body: &[u8],
    ) -> Result<Vec<Outgoing>, RelayError> {
        let upload = Distribution::decode(body)?;
        let group = upload.core().group_id().clone();
        let verified = upload.verify_for_server(self.groups.get(&group), from)?;
        self.check_roster(verified.roster())?;
        let mut out = Vec::with_capacity(verified.roster().len());
        for member in verified.roster().iter() {
            let to = member.address();
            if let Some(view) = verified.view_for(&to) {
                out.push(Outgoing {
                    envelope: Envelope::encode(EnvelopeKind::Distribution, &view.encode())?,
                    to,
                });
            }
        }
        self.groups.insert(group, verified.record());
        Ok(out)
    }

    /// Every roster device is listed by its user under the same identity key.
    fn check_roster(&self, roster: &Roster) -> Result<(), RelayError> {
        for member in roster.iter() {
            let address = member.address();
            let listed = self
                .listed_key(&address)
                .map_err(|_| RelayError::MemberNotListed(address.clone()))?;
            if listed.as_bytes() != member.identity_key_bytes() {
                return Err(RelayError::MemberNotListed(address));
            }
        }
        Ok(())
    }

    fn listed_key(
        &self,
        device: &DeviceAddress,
    ) -> Result<crate::keys::IdentityPublicKey, RelayError> {
        self.lists
            .get(&device.user)
            .and_then(|l| l.identity_key(device.device))
            .copied()
            .ok_or(RelayError::UploaderNotListed)
    }

    /// What a device fetches to talk to `user`: its device list, then each
    /// listed device's bundle and (claimed, so handed out once) one of its
    /// one-time keys, all as envelopes for [`Account::receive`](super::Account::receive).
    /// See the examples on [`Relay`] and
    /// [`Account::one_time_keys`](super::Account::one_time_keys).
    pub fn fetch_user(&mut self, user: &UserId) -> Vec<Vec<u8>> {
        let Some(list) = self.lists.get(user) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Ok(envelope) = Envelope::encode(EnvelopeKind::DeviceList, list.list().as_bytes()) {
            out.push(envelope);
        }
        for address in list.addresses() {
            if let Some(bundle) = self.bundles.get(&address) {
                out.push(bundle.clone());
            }
            if let Some(key) = self.one_time_keys.get_mut(&address).and_then(Vec::pop) {
                out.push(key);
            }
        }
        out
    }

    /// The record held for a group. See the example on [`Relay`].
    pub fn group_record(&self, group: &GroupId) -> Option<&ServerRecord> {
        self.groups.get(group)
    }
}
