//! Content types (SPEC.md §7.2).

use core::fmt;

use serde::{Deserialize, Serialize};

/// What a message carries. Encoded as a `u16`; every value round-trips, so a
/// receiver can pass on content types it does not know.
///
/// ```
/// use letterseal::pairwise::{Chain, ContentType};
///
/// assert_eq!(ContentType::Text.code(), 0);
/// assert_eq!(ContentType::from(0x8001), ContentType::Application(0x8001)); // app-defined
/// assert_eq!(ContentType::from(99), ContentType::Unknown(99)); // passed on as is
/// assert_eq!(ContentType::Unknown(99).code(), 99);
/// // Group keys and control messages travel on their own chain.
/// assert_eq!(ContentType::GroupKey.chain(), Chain::Control);
/// assert_eq!(ContentType::FileReference.chain(), Chain::Message);
/// ```
///
/// [`Account::seal_to_user`](crate::account::Account::seal_to_user) takes one;
/// [`Event::Message`](crate::account::Event::Message) carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u16", into = "u16")]
pub enum ContentType {
    /// UTF-8 text (code 0).
    Text,
    /// A location (code 1).
    Location,
    /// A reference to an attachment: file key, size, digest (code 2).
    FileReference,
    /// A wrapped group epoch secret (code 3).
    GroupKey,
    /// Protocol control messages (code 4).
    Control,
    /// Application-defined content: codes `0x8000..=0xffff`.
    Application(u16),
    /// A reserved code (`5..=0x7fff`) this release does not know.
    Unknown(u16),
}

/// First application-defined code.
pub const APPLICATION_BASE: u16 = 0x8000;

impl From<u16> for ContentType {
    fn from(code: u16) -> Self {
        match code {
            0 => Self::Text,
            1 => Self::Location,
            2 => Self::FileReference,
            3 => Self::GroupKey,
            4 => Self::Control,
            c if c >= APPLICATION_BASE => Self::Application(c),
            c => Self::Unknown(c),
        }
    }
}

impl From<ContentType> for u16 {
    fn from(t: ContentType) -> u16 {
        match t {
            ContentType::Text => 0,
            ContentType::Location => 1,
            ContentType::FileReference => 2,
            ContentType::GroupKey => 3,
            ContentType::Control => 4,
            ContentType::Application(c) | ContentType::Unknown(c) => c,
        }
    }
}

impl ContentType {
    /// The chain this content type travels on (SPEC.md §7.2): group keys and
    /// control messages on the control chain, everything else on the message chain.
    pub fn chain(self) -> Chain {
        match self {
            Self::GroupKey | Self::Control => Chain::Control,
            _ => Chain::Message,
        }
    }

    /// The wire code.
    pub fn code(self) -> u16 {
        self.into()
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Application(c) => write!(f, "application({c:#06x})"),
            Self::Unknown(c) => write!(f, "unknown({c})"),
            other => fmt::Debug::fmt(other, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in 0..=u16::MAX {
            assert_eq!(ContentType::from(code).code(), code);
        }
        assert_eq!(ContentType::from(0x8000), ContentType::Application(0x8000));
        assert_eq!(ContentType::from(5), ContentType::Unknown(5));
    }
}

/// The two chains of a ratchet epoch (SPEC.md §7.4): control traffic never
/// waits behind chat traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chain {
    /// Text, locations, files and application content.
    Message,
    /// Group keys and control messages.
    Control,
}

impl Chain {
    /// The chain's code in saved states.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Message => 0,
            Self::Control => 1,
        }
    }

    /// The chain of a code in a saved state.
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Message),
            1 => Some(Self::Control),
            _ => None,
        }
    }
}
