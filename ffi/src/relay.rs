//! [`Relay`]: the server's checks and fan-out, wrapping [`letterseal::account::Relay`].

use std::sync::{Arc, Mutex, MutexGuard};

use letterseal::account;

use crate::error::{LettersealError, guard};
use crate::types::{Address, Outgoing, address, now, user_id};

/// A server's records and checks, in memory (SPEC.md §13.10): device lists
/// are verified against the held version and user key, bundles and one-time
/// keys against the uploader's listed identity key, distributions against
/// the group's record and every member's device list, and messages against
/// the authenticated uploader. It holds no secret.
#[derive(Debug, uniffi::Object)]
pub struct Relay {
    inner: Mutex<account::Relay>,
}

impl Relay {
    fn lock(&self) -> Result<MutexGuard<'_, account::Relay>, LettersealError> {
        self.inner.lock().map_err(|_| LettersealError::poisoned())
    }
}

#[uniffi::export]
impl Relay {
    /// An empty relay with the default registration policy.
    #[uniffi::constructor]
    pub fn new() -> Result<Arc<Self>, LettersealError> {
        guard(|| {
            Ok(Arc::new(Self {
                inner: Mutex::new(account::Relay::new()),
            }))
        })
    }

    /// Takes an envelope uploaded by the authenticated device `uploader` and
    /// returns what to deliver to whom. A refusal (`Relay` error) stores and
    /// delivers nothing.
    pub fn upload(
        &self,
        now_unix_seconds: u64,
        uploader: Address,
        envelope: Vec<u8>,
    ) -> Result<Vec<Outgoing>, LettersealError> {
        guard(|| {
            let from = address(&uploader)?;
            let out = self
                .lock()?
                .upload(now(now_unix_seconds), &from, &envelope)?;
            Ok(out.into_iter().map(Outgoing::from).collect())
        })
    }

    /// Everything a device needs to talk to `user`: its device list, then
    /// each listed device's bundle and one unclaimed one-time key (claimed).
    pub fn fetch_user(&self, user: Vec<u8>) -> Result<Vec<Vec<u8>>, LettersealError> {
        guard(|| Ok(self.lock()?.fetch_user(&user_id(&user)?)))
    }
}
