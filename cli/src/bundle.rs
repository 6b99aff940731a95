//! `letterseal bundle verify`: check a key bundle as a server would (SPEC.md §5.3).

use clap::ValueEnum;
use letterseal::registration::{ExpectedOwner, KeyBundle, NoDirectory, RegistrationPolicy};
use letterseal::time::Timestamp;

use crate::input::{Source, read_limited};
use crate::{CommandError, Outcome};

/// The largest bundle input accepted, in bytes (64 KiB). An LS3 bundle is at most 1 621 bytes
/// (3 242 hex digits); the rest is room for whitespace. Larger inputs are refused unread.
pub(crate) const MAX_BUNDLE_INPUT: u64 = 64 * 1024;

/// How the bundle bytes are written in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Hex if the input is ASCII text (printable characters and whitespace only), else binary.
    /// A binary LS3 bundle starts with its version byte 0x02, a control character, so it is never
    /// taken for text; text that is not hex is a hex error, not a bundle.
    Auto,
    /// Hex digits (either case); ASCII whitespace anywhere is ignored.
    Hex,
    /// The bundle bytes as they are.
    Binary,
}

/// Reads, decodes and verifies one bundle; prints the verdict on stdout.
pub(crate) fn verify(
    source: &Source,
    format: Format,
    now: Option<u64>,
    out: &mut String,
) -> Result<Outcome, CommandError> {
    let input = read_limited(source, MAX_BUNDLE_INPUT).map_err(|e| read_error(source, &e))?;
    if input.is_empty() {
        return Err(CommandError(format!(
            "{}: empty input, no bundle",
            source.name()
        )));
    }
    let bytes =
        decode(&input, format).map_err(|e| CommandError(format!("{}: {e}", source.name())))?;
    let now = match now {
        Some(seconds) => seconds,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| CommandError(format!("the system clock is before 1970: {e}")))?
            .as_secs(),
    };
    let result = KeyBundle::decode(&bytes).and_then(|bundle| {
        // Checked on its own, a bundle is expected to belong to the device it names (printed
        // below); a server passes the uploader it authenticated instead.
        let owner = ExpectedOwner::Device(bundle.content().owner.clone());
        bundle.verify(
            &owner,
            &RegistrationPolicy::default(),
            Timestamp::from_unix_seconds(now),
            None,
            &NoDirectory,
        )
    });
    match result {
        Ok(verified) => {
            let (not_before, not_after) = verified.validity();
            outln!(out, "valid bundle for {}", verified.owner());
            outln!(out, "  identity key {:?}", verified.identity_key());
            outln!(out, "  sealing key  {:?}", verified.sealing_key());
            outln!(out, "  key id       {}", verified.sealing_key_id());
            outln!(out, "  KEM key id   {}", verified.kem_key_id());
            outln!(out, "  valid        {not_before} .. {not_after}");
            Ok(Outcome::Passed)
        }
        Err(e) => {
            outln!(out, "rejected: {} ({e})", e.name());
            Ok(Outcome::Failed)
        }
    }
}

/// The bundle bytes of `input` read as `format`.
fn decode(input: &[u8], format: Format) -> Result<Vec<u8>, String> {
    let is_text = input
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    match format {
        Format::Binary => Ok(input.to_vec()),
        Format::Auto if !is_text => Ok(input.to_vec()),
        Format::Auto | Format::Hex => {
            let digits: Vec<u8> = input
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            if digits.is_empty() {
                return Err("only whitespace, no bundle".into());
            }
            hex::decode(&digits).map_err(|e| format!("not hex: {e}"))
        }
    }
}

/// The error for an input that could not be read, named. The old `bundle verify HEX` took the
/// bundle on the command line, so a missing file whose name looks like hex gets a hint.
fn read_error(source: &Source, error: &str) -> CommandError {
    let error = format!("{}: {error}", source.name());
    let looks_like_hex = match source {
        Source::File(path) => path.to_str().is_some_and(|s| {
            s.len() >= 2 && !path.exists() && s.bytes().all(|b| b.is_ascii_hexdigit())
        }),
        Source::Stdin => false,
    };
    if looks_like_hex {
        CommandError(format!(
            "{error}\n  (the bundle is read from a file or `-`, standard input; for hex on the \
             command line: echo HEX | letterseal bundle verify -)"
        ))
    } else {
        CommandError(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_reads_text_as_hex_and_anything_else_as_binary() {
        assert_eq!(
            decode(b"01ab\n cd\n", Format::Auto).unwrap(),
            [1, 0xab, 0xcd]
        );
        assert_eq!(decode(b"01AB", Format::Auto).unwrap(), [1, 0xab]);
        assert_eq!(decode(&[1, 0xab], Format::Auto).unwrap(), [1, 0xab]);
        assert_eq!(decode(b"01\x7f", Format::Auto).unwrap(), b"01\x7f");
        assert_eq!(
            decode("01é".as_bytes(), Format::Auto).unwrap(),
            "01é".as_bytes()
        );
        assert_eq!(
            decode(b"01 xy", Format::Auto).unwrap_err(),
            "not hex: Invalid character 'x' at position 2"
        );
        assert_eq!(
            decode(b"abc", Format::Auto).unwrap_err(),
            "not hex: Odd number of digits"
        );
        assert_eq!(
            decode(b" \n", Format::Auto).unwrap_err(),
            "only whitespace, no bundle"
        );
    }

    #[test]
    fn explicit_formats_do_not_guess() {
        assert_eq!(decode(b"0102", Format::Binary).unwrap(), b"0102");
        assert!(
            decode(&[1, 2], Format::Hex)
                .unwrap_err()
                .starts_with("not hex")
        );
        assert_eq!(decode(b"0102", Format::Hex).unwrap(), [1, 2]);
    }
}
