//! The one error model of the bindings, as in the Python bindings: every
//! refusal is a JS `Error` whose `name` is `"LettersealError"`, with
//! `category` (the core error type: `Account`, `Receive`, `Relay`, `State`,
//! `InvalidInput`, or `Panic`) and `kind` (the core error's stable `name()`).
//! A wrong JS type throws a `TypeError`, a number out of range a `RangeError`,
//! before the core is called.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use letterseal::account::{AccountError, ReceiveError, RelayError};
use letterseal::state::StateError;
use wasm_bindgen::JsValue;

/// The categories of [`Failure::Refusal`]: the core error type each maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// `AccountError`: an account call that makes something was refused.
    Account,
    /// `ReceiveError`: an envelope given to `receive` was refused.
    Receive,
    /// `RelayError`: an upload given to `Relay.upload` was refused.
    Relay,
    /// `StateError`: a sealed blob could not be made or opened.
    State,
    /// An argument the core's types refuse (`InvalidUserId`, `InvalidGroupId`,
    /// `WrongKeyLength`, `InvalidIdentityKey`, `TooManyOneTimeKeys`).
    InvalidInput,
    /// An earlier call trapped (a Rust panic): the module instance is unusable.
    Panic,
}

impl Category {
    /// The category's name as JS sees it in `error.category`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::Receive => "Receive",
            Self::Relay => "Relay",
            Self::State => "State",
            Self::InvalidInput => "InvalidInput",
            Self::Panic => "Panic",
        }
    }
}

/// Why a call failed, before it becomes a JS exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A `LettersealError`: category, kind and message.
    Refusal {
        /// Which core error type.
        category: Category,
        /// The core error's `name()` (or the input check's name).
        kind: String,
        /// The error's text.
        message: String,
    },
    /// A JS `TypeError`: an argument of the wrong JS type (`null`,
    /// `undefined`, a string where bytes belong, ...).
    Type(String),
    /// A JS `RangeError`: a number that is not an integer in the parameter's
    /// range.
    Range(String),
}

impl Failure {
    pub(crate) fn invalid_input(kind: &str, message: impl fmt::Display) -> Self {
        Self::Refusal {
            category: Category::InvalidInput,
            kind: kind.to_owned(),
            message: message.to_string(),
        }
    }

    fn refusal(category: Category, kind: &str, message: impl fmt::Display) -> Self {
        Self::Refusal {
            category,
            kind: kind.to_owned(),
            message: message.to_string(),
        }
    }

    /// The category (`None` for a `TypeError` or `RangeError`).
    pub fn category(&self) -> Option<Category> {
        match self {
            Self::Refusal { category, .. } => Some(*category),
            Self::Type(_) | Self::Range(_) => None,
        }
    }

    /// The kind (`None` for a `TypeError` or `RangeError`).
    pub fn kind(&self) -> Option<&str> {
        match self {
            Self::Refusal { kind, .. } => Some(kind),
            Self::Type(_) | Self::Range(_) => None,
        }
    }

    /// The JS exception: a `LettersealError`-named `Error`, a `TypeError` or a
    /// `RangeError`. Only callable on wasm32 (it makes JS objects).
    pub(crate) fn into_js(self) -> JsValue {
        match self {
            Self::Refusal {
                category,
                kind,
                message,
            } => {
                let error = js_sys::Error::new(&message);
                error.set_name("LettersealError");
                let object: &JsValue = error.as_ref();
                // Setting a property of a fresh `Error` cannot fail; if it did,
                // the error would still be thrown, only without the field.
                let _category_set: Result<bool, JsValue> = js_sys::Reflect::set(
                    object,
                    &JsValue::from_str("category"),
                    &JsValue::from_str(category.as_str()),
                );
                let _kind_set: Result<bool, JsValue> = js_sys::Reflect::set(
                    object,
                    &JsValue::from_str("kind"),
                    &JsValue::from_str(&kind),
                );
                error.into()
            }
            Self::Type(message) => js_sys::TypeError::new(&message).into(),
            Self::Range(message) => js_sys::RangeError::new(&message).into(),
        }
    }
}

impl From<AccountError> for Failure {
    fn from(e: AccountError) -> Self {
        Self::refusal(Category::Account, e.name(), e)
    }
}

impl From<ReceiveError> for Failure {
    fn from(e: ReceiveError) -> Self {
        Self::refusal(Category::Receive, e.name(), e)
    }
}

impl From<RelayError> for Failure {
    fn from(e: RelayError) -> Self {
        Self::refusal(Category::Relay, e.name(), e)
    }
}

impl From<StateError> for Failure {
    fn from(e: StateError) -> Self {
        Self::refusal(Category::State, e.name(), e)
    }
}

/// Set by the panic hook, just before the panic becomes a trap (wasm32 aborts
/// on panic: no unwinding, no `catch_unwind`).
static TRAPPED: AtomicBool = AtomicBool::new(false);

/// Marks the module instance as unusable. Called by the panic hook.
pub(crate) fn mark_trapped() {
    TRAPPED.store(true, Ordering::SeqCst);
}

/// Every exported call checks this first: after a trap the instance's memory
/// may hold a half-changed account, a held borrow or a half-done allocation,
/// so no later call runs.
pub(crate) fn ensure_not_trapped() -> Result<(), Failure> {
    if TRAPPED.load(Ordering::SeqCst) {
        return Err(Failure::refusal(
            Category::Panic,
            "Panic",
            "an earlier call trapped (a Rust panic, a bug: please report it); this module \
             instance can no longer be used: load the module again and import the last export",
        ));
    }
    Ok(())
}

/// Runs an exported call's body after the trap check, turning a [`Failure`]
/// into the JS exception.
pub(crate) fn call<T>(body: impl FnOnce() -> Result<T, Failure>) -> Result<T, JsValue> {
    ensure_not_trapped()
        .and_then(|()| body())
        .map_err(Failure::into_js)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_names() {
        let f = Failure::from(StateError::RolledBack {
            generation: 1,
            minimum: 2,
        });
        assert_eq!(f.category(), Some(Category::State));
        assert_eq!(f.kind(), Some("RolledBack"));
        let f = Failure::invalid_input("WrongKeyLength", "storage key must be 32 bytes");
        assert_eq!(
            (f.category(), f.kind()),
            (Some(Category::InvalidInput), Some("WrongKeyLength"))
        );
        assert_eq!(Failure::Type("x".into()).category(), None);
    }
}
