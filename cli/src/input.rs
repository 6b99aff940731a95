//! Reading the command's inputs with a size limit, from a file or standard input.
//!
//! Nothing is read past the limit: a file whose size is known is refused before any byte is read,
//! and every other source (standard input, pipes, devices) is read through `take(limit + 1)`, so an
//! endless or huge input costs at most `limit + 1` bytes of memory.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where an input comes from: a file, or standard input (`-` on the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Standard input.
    Stdin,
    /// A file (or anything `File::open` accepts: a FIFO, a device).
    File(PathBuf),
}

impl Source {
    /// `-` is standard input; anything else is a path (not necessarily UTF-8).
    pub(crate) fn from_arg(arg: &OsStr) -> Self {
        if arg == "-" {
            Self::Stdin
        } else {
            Self::File(PathBuf::from(arg))
        }
    }

    /// How the input is named in messages (paths that are not UTF-8 are shown lossily).
    pub(crate) fn name(&self) -> String {
        match self {
            Self::Stdin => "<stdin>".to_string(),
            Self::File(path) => path_name(path),
        }
    }
}

/// A path as shown in messages: as it is if it is UTF-8, else quoted with escapes (`"\xFF.json"`),
/// so that no two names look alike.
pub(crate) fn path_name(path: &Path) -> String {
    match path.to_str() {
        Some(text) => text.to_string(),
        None => format!("{path:?}"),
    }
}

/// Reads at most `limit` bytes from `source`; a larger input is an error, never a partial read.
/// An empty input is returned as empty: the caller decides what that means. Error messages do
/// not repeat the source's name ([`Source::name`]); the caller adds it where it is needed.
pub(crate) fn read_limited(source: &Source, limit: u64) -> Result<Vec<u8>, String> {
    match source {
        Source::Stdin => read_to_limit(io::stdin().lock(), limit),
        Source::File(path) => {
            let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
            let metadata = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
            if metadata.is_dir() {
                return Err("is a directory, not a file".into());
            }
            if metadata.is_file() && metadata.len() > limit {
                return Err(format!(
                    "{} bytes is more than the limit of {limit} bytes",
                    metadata.len()
                ));
            }
            read_to_limit(file, limit)
        }
    }
}

fn read_to_limit(reader: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if u64::try_from(bytes.len()).map_or(true, |len| len > limit) {
        return Err(format!("more than the limit of {limit} bytes"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_at_the_limit_is_read_and_one_byte_more_is_refused() {
        assert_eq!(read_to_limit(&[7u8; 4][..], 4).unwrap(), [7u8; 4]);
        let err = read_to_limit(&[7u8; 5][..], 4).unwrap_err();
        assert_eq!(err, "more than the limit of 4 bytes");
        assert_eq!(read_to_limit(&[][..], 4).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn an_endless_reader_costs_at_most_the_limit() {
        let err = read_to_limit(io::repeat(0), 1 << 20).unwrap_err();
        assert_eq!(err, "more than the limit of 1048576 bytes");
    }

    #[test]
    fn dash_is_stdin_and_anything_else_a_path() {
        assert_eq!(Source::from_arg(OsStr::new("-")), Source::Stdin);
        assert_eq!(
            Source::from_arg(OsStr::new("--")),
            Source::File(PathBuf::from("--"))
        );
        assert_eq!(Source::Stdin.name(), "<stdin>");
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_is_named_with_escapes() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(OsStr::from_bytes(b"a\xffb.json"));
        assert_eq!(path_name(path), r#""a\xFFb.json""#);
        assert_eq!(path_name(Path::new("ok.json")), "ok.json");
    }
}
