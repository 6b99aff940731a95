//! `letterseal`: the auditor's test-vector runner, a key-bundle checker and a walk-through of the
//! protocol. `letterseal --help` lists the commands; the exit codes are in [`EXIT_CODES`].

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Appends one formatted line to a `String` report (writing to a `String` cannot fail).
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

mod bundle;
mod demo;
mod input;
mod vectors_cmd;

use bundle::Format;
use input::Source;

/// The exit codes, shown at the end of `letterseal --help` (README.md lists the same).
const EXIT_CODES: &str = "\
Exit status:
  0  success: every check passed
  1  a verification failed: a vector case did not behave as stated, a bundle was rejected,
     or the demo or the generator's self-check failed
  2  usage, input or output error: unknown command or flag, bad argument, missing or
     unreadable file, empty or over-large input, a file that is not a vector file";

/// Letter Sealing-style end-to-end encryption (LS3): check test vectors and key bundles, and
/// walk through the protocol.
#[derive(Debug, Parser)]
#[command(name = "letterseal", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check or regenerate test-vector files.
    #[command(subcommand, after_help = EXIT_CODES)]
    Vectors(VectorsCommand),
    /// Check key bundles as a server would.
    #[command(subcommand, after_help = EXIT_CODES)]
    Bundle(BundleCommand),
    /// Walk through registration, 1:1 sessions, groups and the attacks on legacy Letter Sealing,
    /// with fresh keys from the operating system.
    #[command(after_help = EXIT_CODES)]
    Demo,
}

#[derive(Debug, Subcommand)]
enum VectorsCommand {
    /// Check vector files (ours, Wycheproof, RFC) and report each case.
    #[command(after_help = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// Write the generated vector files (after checking every generated case).
    #[command(after_help = EXIT_CODES)]
    Generate(GenerateArgs),
}

const VERIFY_HELP: &str = "\
Each PATH is a vector file, a folder (every *.json below it, recursively, in name order) or `-`
(one file from standard input). A file larger than 16 MiB is refused unread.

--json prints one JSON object on stdout instead of text:
  {\"format\": \"letterseal-verify-report-v1\", \"exitCode\": 0|1|2,
   \"totals\": {\"files\", \"errors\", \"passed\", \"failed\", \"skipped\"},
   \"files\": [{\"path\", \"status\": \"passed\"|\"failed\", \"step\", \"passed\", \"failed\",
              \"skipped\", \"failures\": [{\"tcId\", \"reason\"}]}
            | {\"path\", \"status\": \"error\", \"error\"}]}

Exit status:
  0  every case of every file behaved as stated
  1  a case failed (and every input could be checked)
  2  usage error, or an input could not be checked (missing, unreadable, empty, too large,
     not UTF-8, not JSON, unknown schema or step, inconsistent); the other inputs are still
     checked and reported";

#[derive(Debug, Args)]
struct VerifyArgs {
    /// Vector files or folders, or `-` for standard input [default: ./test-vectors if it exists,
    /// else the repository's test-vectors/]
    #[arg(value_name = "PATH")]
    paths: Vec<OsString>,
    /// Print a machine-readable JSON report instead of text (format below).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Folder to write into, created if missing [default: ./test-vectors if it exists, else the
    /// repository's test-vectors/]
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Decode and verify one key bundle (SPEC.md §5.3) with the default policy, no pinned
    /// identity key and no directory lookup.
    #[command(after_help = BUNDLE_HELP)]
    Verify(BundleVerifyArgs),
}

const BUNDLE_HELP: &str = "\
The input is at most 64 KiB (an LS3 bundle is at most 1 621 bytes); larger inputs are refused
before they are read in full. On success the bundle's owner, keys and validity are printed.

Exit status:
  0  the bundle is valid at NOW
  1  the bundle was rejected (the error is printed, e.g. `rejected: BadSignature`)
  2  usage or input error: missing, unreadable, empty or over-large input, text that is
     not hex";

#[derive(Debug, Args)]
struct BundleVerifyArgs {
    /// File holding the bundle, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    input: OsString,
    /// How the bundle is written.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// The time to verify at, in Unix seconds [default: the system clock].
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Everything checked passed (exit 0).
    Passed,
    /// A verification failed (exit 1).
    Failed,
    /// An input could not be checked; already reported (exit 2).
    Error,
}

impl Outcome {
    fn code(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::Failed => 1,
            Self::Error => 2,
        }
    }
}

/// A usage, input or output error (exit 2), with the message for stderr.
#[derive(Debug)]
struct CommandError(String);

fn main() -> ExitCode {
    // `--help` and `--version` print on stdout and exit 0; usage errors print on stderr and
    // exit 2 (clap's conventions, which match ours).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            if e.print().is_err() {
                return ExitCode::from(2);
            }
            return ExitCode::from(code);
        }
    };
    let mut out = String::new();
    let result = match cli.command {
        Command::Vectors(VectorsCommand::Verify(args)) => {
            vectors_cmd::verify(&args.paths, args.json, &mut out)
        }
        Command::Vectors(VectorsCommand::Generate(args)) => {
            let dir = args.dir.unwrap_or_else(vectors_cmd::default_vector_dir);
            vectors_cmd::generate(&dir, &mut out)
        }
        Command::Bundle(BundleCommand::Verify(args)) => bundle::verify(
            &Source::from_arg(&args.input),
            args.format,
            args.now,
            &mut out,
        ),
        Command::Demo => match demo::run() {
            Ok(code) => return code,
            Err(e) => {
                outln!(out, "demo failed: {e}");
                Ok(Outcome::Failed)
            }
        },
    };
    if let Err(e) = std::io::stdout().lock().write_all(out.as_bytes()) {
        // A reader that went away (`letterseal ... | head`) needs no message, as with SIGPIPE.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            report_error(&format!("cannot write the output: {e}"));
        }
        return ExitCode::from(2);
    }
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(CommandError(message)) => {
            report_error(&message);
            ExitCode::from(2)
        }
    }
}

/// `error: MESSAGE` on stderr.
fn report_error(message: &str) {
    // If stderr cannot be written either, no one is left to tell; the exit code still says it.
    writeln!(std::io::stderr().lock(), "error: {message}").ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use bundle::MAX_BUNDLE_INPUT;
    use clap::CommandFactory;
    use vectors_cmd::{JSON_REPORT_FORMAT, MAX_VECTOR_FILE};

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_texts_name_the_documented_limits() {
        assert!(VERIFY_HELP.contains(JSON_REPORT_FORMAT));
        assert_eq!(MAX_VECTOR_FILE, 16 << 20);
        assert!(VERIFY_HELP.contains("16 MiB"));
        assert_eq!(MAX_BUNDLE_INPUT, 64 << 10);
        assert!(BUNDLE_HELP.contains("64 KiB"));
    }
}
