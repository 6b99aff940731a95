//! One error type for every exported call, and the panic guard every call runs in.

use core::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use letterseal::account::{AccountError, ReceiveError, RelayError};
use letterseal::state::StateError;

/// Why a call was refused. Each variant but `Panic` carries `kind`, the core
/// error's stable name (`AccountError::name()` and its siblings: e.g.
/// `"DeviceListNeeded"`, `"Open"`, `"WrongKey"`), and `message`, its text.
/// A refusal changes nothing and releases no plaintext. In Python each
/// variant is a subclass of `LettersealError`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Error)]
pub enum LettersealError {
    /// An account call that makes something was refused (`AccountError`).
    Account {
        /// `AccountError::name()`.
        kind: String,
        /// The error's text.
        message: String,
    },
    /// An envelope given to `Account.receive` was refused (`ReceiveError`).
    Receive {
        /// `ReceiveError::name()`.
        kind: String,
        /// The error's text.
        message: String,
    },
    /// An upload given to `Relay.upload` was refused (`RelayError`).
    Relay {
        /// `RelayError::name()`.
        kind: String,
        /// The error's text.
        message: String,
    },
    /// A state blob could not be made or opened (`StateError`).
    State {
        /// `StateError::name()`.
        kind: String,
        /// The error's text.
        message: String,
    },
    /// An argument the core's types refuse before any call: `InvalidUserId`,
    /// `InvalidGroupId`, `WrongKeyLength`, `InvalidIdentityKey`,
    /// `TooManyOneTimeKeys`.
    InvalidInput {
        /// Which check failed (one of the names above).
        kind: String,
        /// What was wrong.
        message: String,
    },
    /// A panic inside Rust was caught at the boundary (a bug: please
    /// report it). An object whose call panicked refuses every later call
    /// with this error too.
    Panic {
        /// The panic's message.
        message: String,
    },
}

impl LettersealError {
    /// The error's category (the variant's name).
    pub fn category(&self) -> &'static str {
        match self {
            Self::Account { .. } => "Account",
            Self::Receive { .. } => "Receive",
            Self::Relay { .. } => "Relay",
            Self::State { .. } => "State",
            Self::InvalidInput { .. } => "InvalidInput",
            Self::Panic { .. } => "Panic",
        }
    }

    /// The kind within the category (`"Panic"` for a panic).
    pub fn kind(&self) -> &str {
        match self {
            Self::Account { kind, .. }
            | Self::Receive { kind, .. }
            | Self::Relay { kind, .. }
            | Self::State { kind, .. }
            | Self::InvalidInput { kind, .. } => kind,
            Self::Panic { .. } => "Panic",
        }
    }

    pub(crate) fn invalid_input(kind: &str, message: impl fmt::Display) -> Self {
        Self::InvalidInput {
            kind: kind.to_owned(),
            message: message.to_string(),
        }
    }

    /// What a call on an object returns once an earlier call on it panicked
    /// (its lock is poisoned, and its state may be half-changed).
    pub(crate) fn poisoned() -> Self {
        Self::Panic {
            message: "an earlier call on this object panicked; it can no longer be used".to_owned(),
        }
    }
}

impl fmt::Display for LettersealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Account { kind, message }
            | Self::Receive { kind, message }
            | Self::Relay { kind, message }
            | Self::State { kind, message }
            | Self::InvalidInput { kind, message } => {
                write!(f, "{} {kind}: {message}", self.category())
            }
            Self::Panic { message } => write!(f, "panic in letterseal: {message}"),
        }
    }
}

impl std::error::Error for LettersealError {}

impl From<AccountError> for LettersealError {
    fn from(e: AccountError) -> Self {
        Self::Account {
            kind: e.name().to_owned(),
            message: e.to_string(),
        }
    }
}

impl From<ReceiveError> for LettersealError {
    fn from(e: ReceiveError) -> Self {
        Self::Receive {
            kind: e.name().to_owned(),
            message: e.to_string(),
        }
    }
}

impl From<RelayError> for LettersealError {
    fn from(e: RelayError) -> Self {
        Self::Relay {
            kind: e.name().to_owned(),
            message: e.to_string(),
        }
    }
}

impl From<StateError> for LettersealError {
    fn from(e: StateError) -> Self {
        Self::State {
            kind: e.name().to_owned(),
            message: e.to_string(),
        }
    }
}

/// Runs an exported call's body so that a panic is returned as
/// [`LettersealError::Panic`] instead of unwinding into foreign code.
///
/// `AssertUnwindSafe` is sound here: the only shared state a body touches is
/// an object's `Mutex`, which a panic poisons, and every later call on that
/// object refuses with [`LettersealError::poisoned`].
pub(crate) fn guard<T>(
    body: impl FnOnce() -> Result<T, LettersealError>,
) -> Result<T, LettersealError> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
        Err(LettersealError::Panic { message })
    })
}

#[cfg(test)]
mod tests;
