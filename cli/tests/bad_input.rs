//! Bad input beyond `tests/cli.rs`'s table: inputs that are not regular files (endless devices,
//! `/dev/null`, a closed standard input), huge and non-UTF-8 arguments, JSON that nests deeply,
//! and the shape of every error: exit 2 with exactly one `error: ...` line on stderr (or one
//! error entry in the `--json` report), never a panic or backtrace.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// 100 MiB: the "huge" input.
const HUGE: u64 = 100 * 1024 * 1024;

fn letterseal() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("letterseal");
    // Any panic would print its message and a backtrace; the checks below look for both.
    cmd.env("RUST_BACKTRACE", "1");
    cmd
}

fn letterseal_std() -> StdCommand {
    let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin!("letterseal"));
    cmd.env("RUST_BACKTRACE", "1");
    cmd
}

/// The process exited with `code`, printed no panic or backtrace, and (for code 2) wrote exactly
/// one line to stderr, starting with `error: ` unless clap reported a usage error.
fn assert_clean(output: &Output, code: i32) -> (String, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for text in [&stdout, &stderr] {
        assert!(!text.contains("panicked"), "{text}");
        assert!(!text.contains("stack backtrace"), "{text}");
        assert!(!text.contains("RUST_BACKTRACE"), "{text}");
    }
    (stdout, stderr)
}

/// Like [`assert_clean`] for an input error: exit 2, one `error: ` line naming `needle`.
fn assert_one_line_error(output: &Output, needle: &str) {
    let (stdout, stderr) = assert_clean(output, 2);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.ends_with('\n'), "{stderr:?}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr}");
}

/// The single file entry of a `vectors verify --json` report, checked to be an error (exit 2,
/// with the one-line summary on stderr).
fn json_error_entry(output: &Output) -> serde_json::Value {
    let (stdout, stderr) = assert_clean(output, 2);
    assert_eq!(
        stderr,
        "error: 1 of 1 inputs could not be checked (see the report)\n"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["exitCode"], 2);
    assert_eq!(report["totals"]["errors"], 1);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["status"], "error");
    files[0].clone()
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_device_is_refused_at_the_limit() {
    let start = Instant::now();
    let output = letterseal()
        .args(["bundle", "verify", "/dev/zero"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "/dev/zero: more than the limit of 65536 bytes");
    let output = letterseal()
        .args(["vectors", "verify", "--json", "/dev/zero"])
        .output()
        .unwrap();
    let entry = json_error_entry(&output);
    assert_eq!(entry["path"], "/dev/zero");
    assert_eq!(entry["error"], "more than the limit of 16777216 bytes");
    // Reading 16 MiB + 1 byte of zeros takes milliseconds; reading all of an endless device
    // would never end. (Not a timing assertion on speed: a generous bound on termination.)
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[cfg(unix)]
#[test]
fn a_device_or_closed_stdin_with_nothing_in_it_is_empty_input() {
    let output = letterseal()
        .args(["bundle", "verify", "/dev/null"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "/dev/null: empty input, no bundle");
    let output = letterseal_std()
        .args(["bundle", "verify", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_one_line_error(&output, "<stdin>: empty input, no bundle");
    let output = letterseal_std()
        .args(["vectors", "verify", "--json", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let entry = json_error_entry(&output);
    assert_eq!(entry["path"], "<stdin>");
    assert_eq!(entry["error"], "empty file, not a vector file");
}

#[test]
fn a_huge_file_through_stdin_is_refused_without_reading_it_all() {
    // Standard input redirected from a 100 MiB (sparse) file: the command cannot rely on a
    // size check of a path, and must stop at its limit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    std::fs::File::create(&path).unwrap().set_len(HUGE).unwrap();
    let output = letterseal()
        .args(["bundle", "verify", "--format", "binary", "-"])
        .pipe_stdin(&path)
        .unwrap()
        .output()
        .unwrap();
    assert_one_line_error(&output, "<stdin>: more than the limit of 65536 bytes");
}

#[test]
fn a_huge_argument_is_a_clear_error() {
    // 100 KiB: under Linux's 128 KiB limit for one argument. Not hex digits (a hex-looking
    // bundle argument gets a second line, a hint to use standard input).
    let long = "x".repeat(100 * 1024);
    // As a path: the file system refuses the name; one line, exit 2.
    let output = letterseal()
        .args(["bundle", "verify"])
        .arg(&long)
        .output()
        .unwrap();
    assert_one_line_error(&output, "cannot open");
    let output = letterseal()
        .args(["vectors", "verify", "--json"])
        .arg(&long)
        .output()
        .unwrap();
    let entry = json_error_entry(&output);
    assert!(
        entry["error"].as_str().unwrap().starts_with("cannot open"),
        "{entry}"
    );
    // As an option value and as a command: usage errors (clap's message, exit 2).
    for args in [
        vec!["bundle", "verify", "--now", long.as_str(), "-"],
        vec!["bundle", "verify", "--format", long.as_str(), "-"],
        vec![long.as_str()],
    ] {
        let output = letterseal().args(&args).output().unwrap();
        let (stdout, stderr) = assert_clean(&output, 2);
        assert_eq!(stdout, "");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
}

#[test]
fn json_that_nests_deeply_is_an_input_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.json");
    let depth = 1 << 20;
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    std::fs::write(&path, text).unwrap();
    let output = letterseal()
        .args(["vectors", "verify", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let entry = json_error_entry(&output);
    assert!(
        entry["error"].as_str().unwrap().contains("recursion limit"),
        "{entry}"
    );
}

#[test]
fn hex_at_the_limit_is_read_and_one_byte_more_is_refused() {
    // 64 KiB of hex digits: read in full (at the limit), then rejected as a bundle (exit 1).
    let hex = "00".repeat(32 * 1024);
    let output = letterseal()
        .args(["bundle", "verify", "--now", "1800000000", "-"])
        .write_stdin(hex)
        .output()
        .unwrap();
    let (stdout, _) = assert_clean(&output, 1);
    assert!(stdout.starts_with("rejected: "), "{stdout}");
    // One byte more: refused before decoding (exit 2).
    let output = letterseal()
        .args(["bundle", "verify", "-"])
        .write_stdin("0".repeat(64 * 1024 + 1))
        .output()
        .unwrap();
    assert_one_line_error(&output, "more than the limit of 65536 bytes");
}

#[cfg(unix)]
#[test]
fn non_utf8_names_and_contents_in_a_folder_are_reported_per_file() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"caf\xe9.json");
    std::fs::write(dir.path().join(name), b"{\"schema\": \"caf\xe9\"}").unwrap();
    let output = letterseal()
        .args(["vectors", "verify", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let entry = json_error_entry(&output);
    assert!(
        entry["path"]
            .as_str()
            .unwrap()
            .ends_with(r#"caf\xE9.json""#),
        "{entry}"
    );
    assert!(
        entry["error"]
            .as_str()
            .unwrap()
            .starts_with("not UTF-8 text"),
        "{entry}"
    );
    // The text report names it the same way, on one line.
    let output = letterseal()
        .args(["vectors", "verify"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, _) = assert_clean(&output, 2);
    let line = stdout
        .lines()
        .find(|l| l.contains(r#"caf\xE9.json""#))
        .unwrap_or_else(|| panic!("no line for the file in\n{stdout}"));
    assert!(line.contains("not UTF-8 text"), "{line}");
}

#[cfg(unix)]
#[test]
fn generate_into_a_place_that_cannot_be_a_folder_is_one_line() {
    use std::os::unix::ffi::OsStringExt;
    let mut inside_a_device = PathBuf::from("/dev/null");
    inside_a_device.push(OsString::from_vec(b"\xff".to_vec()));
    let output = letterseal()
        .args(["vectors", "generate"])
        .arg(&inside_a_device)
        .output()
        .unwrap();
    assert_one_line_error(&output, r#""/dev/null/\xFF": cannot create folder"#);
}
