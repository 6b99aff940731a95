//! The `letterseal` command as a user runs it: help, version, usage errors, each subcommand, the
//! documented exit codes (0 ok, 1 a verification failed, 2 usage or input error), and bad input on
//! every input path (empty, huge, binary garbage, not UTF-8), which must end in a message and the
//! documented code, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use assert_cmd::Command;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::time::Timestamp;
use predicates::prelude::*;
use rand_core::SeedableRng;

/// 100 MiB: the "huge" input of the bad-input checks.
const HUGE: u64 = 100 * 1024 * 1024;

/// The repository's vector folder.
fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-vectors")
}

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

/// The process ended with `code` and a message, without a panic or backtrace.
fn assert_clean_exit(output: &Output, code: i32) -> (String, String) {
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
    if code == 2 {
        assert!(!stderr.is_empty(), "no message on stderr");
    }
    (stdout, stderr)
}

/// A bundle signed at 1_800_000_000 for 30 days, by a seeded device.
fn bundle() -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    let address = DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1));
    let mut device = DeviceKeys::generate(&mut rng, address);
    device
        .add_sealing_key(&mut rng, Timestamp::from_unix_seconds(NOW), 30 * 86_400)
        .encode()
}

const NOW: u64 = 1_800_000_000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A temporary folder holding `name` with `contents`.
fn temp_file(name: impl AsRef<OsStr>, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name.as_ref());
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

/// A temporary sparse file of `HUGE` zero bytes (no disk space, no memory).
fn huge_file(name: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_file(name, b"");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(HUGE)
        .unwrap();
    (dir, path)
}

/// Runs `letterseal args` with `HUGE` bytes of `byte` written into a pipe on its standard input
/// (so the command cannot learn the size in advance), from a small buffer.
fn run_with_huge_pipe(args: &[&str], byte: u8) -> Output {
    let mut child = letterseal_std()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![byte; 1 << 20];
        let mut written = 0u64;
        while written < HUGE {
            // The command stops reading at its limit and exits: a broken pipe here is expected.
            if stdin.write_all(&chunk).is_err() {
                return written;
            }
            written += chunk.len() as u64;
        }
        written
    });
    let output = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    assert!(written < HUGE, "the command read all {written} bytes");
    output
}

// ---------------------------------------------------------------------------------------------
// Help, version, usage errors
// ---------------------------------------------------------------------------------------------

#[test]
fn help_goes_to_stdout_with_exit_0_and_documents_the_exit_codes() {
    for flag in ["--help", "-h"] {
        letterseal()
            .arg(flag)
            .assert()
            .code(0)
            .stderr("")
            .stdout(predicate::str::contains("Usage: letterseal <COMMAND>"))
            .stdout(predicate::str::contains("vectors"))
            .stdout(predicate::str::contains("bundle"))
            .stdout(predicate::str::contains("demo"))
            .stdout(predicate::str::contains("Exit status:"))
            .stdout(predicate::str::contains("0  success"))
            .stdout(predicate::str::contains("1  a verification failed"))
            .stdout(predicate::str::contains("2  usage, input or output error"));
    }
}

#[test]
fn version_goes_to_stdout_with_exit_0() {
    for flag in ["--version", "-V"] {
        letterseal()
            .arg(flag)
            .assert()
            .code(0)
            .stderr("")
            .stdout(format!("letterseal {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn every_subcommand_has_help() {
    let cases: [(&[&str], &str); 8] = [
        (
            &["vectors", "--help"],
            "Usage: letterseal vectors <COMMAND>",
        ),
        (
            &["vectors", "verify", "--help"],
            "Usage: letterseal vectors verify [OPTIONS] [PATH]...",
        ),
        (&["vectors", "verify", "-h"], "letterseal-verify-report-v1"),
        (
            &["vectors", "generate", "--help"],
            "Usage: letterseal vectors generate [DIR]",
        ),
        (&["bundle", "--help"], "Usage: letterseal bundle <COMMAND>"),
        (
            &["bundle", "verify", "--help"],
            "Usage: letterseal bundle verify [OPTIONS] <INPUT>",
        ),
        (&["demo", "--help"], "Usage: letterseal demo"),
        (
            &["help", "bundle", "verify"],
            "Usage: letterseal bundle verify [OPTIONS] <INPUT>",
        ),
    ];
    for (args, usage) in cases {
        letterseal()
            .args(args)
            .assert()
            .code(0)
            .stderr("")
            .stdout(predicate::str::contains(usage))
            .stdout(predicate::str::contains("Exit status:"));
    }
}

#[test]
fn bundle_verify_long_help_documents_format_detection() {
    letterseal()
        .args(["bundle", "verify", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ASCII text (printable characters and whitespace only)",
        ))
        .stdout(predicate::str::contains("64 KiB"));
}

#[test]
fn an_unknown_command_is_named_and_exits_2() {
    for args in [
        &["frobnicate"][..],
        &["vectors", "frobnicate"],
        &["bundle", "frobnicate"],
    ] {
        let output = letterseal().args(args).output().unwrap();
        let (stdout, stderr) = assert_clean_exit(&output, 2);
        assert_eq!(stdout, "");
        assert!(
            stderr.contains("unrecognized subcommand 'frobnicate'"),
            "{stderr}"
        );
    }
}

#[test]
fn an_unknown_flag_is_named_and_exits_2() {
    for args in [
        &["--frobnicate"][..],
        &["vectors", "verify", "--frobnicate"],
        &["vectors", "generate", "--frobnicate"],
        &["bundle", "verify", "--frobnicate", "-"],
        &["demo", "--frobnicate"],
    ] {
        let output = letterseal().args(args).output().unwrap();
        let (stdout, stderr) = assert_clean_exit(&output, 2);
        assert_eq!(stdout, "");
        assert!(
            stderr.contains("unexpected argument '--frobnicate'"),
            "{stderr}"
        );
    }
}

#[test]
fn missing_commands_and_arguments_exit_2() {
    for args in [&[][..], &["vectors"], &["bundle"], &["bundle", "verify"]] {
        let output = letterseal().args(args).output().unwrap();
        let (_, stderr) = assert_clean_exit(&output, 2);
        assert!(stderr.contains("Usage: letterseal"), "{stderr}");
    }
}

#[test]
fn bad_option_values_exit_2() {
    for (args, message) in [
        (
            &["bundle", "verify", "--now", "yesterday", "-"][..],
            "invalid value 'yesterday' for '--now <UNIX_SECONDS>'",
        ),
        (
            &["bundle", "verify", "--now", "-1", "-"],
            "unexpected argument '-1'",
        ),
        (
            &["bundle", "verify", "--format", "base64", "-"],
            "invalid value 'base64' for '--format <FORMAT>'",
        ),
        (
            &["vectors", "generate", "a", "b"],
            "unexpected argument 'b'",
        ),
    ] {
        let output = letterseal().args(args).output().unwrap();
        let (_, stderr) = assert_clean_exit(&output, 2);
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_usage_errors_or_paths() {
    use std::os::unix::ffi::OsStrExt;
    let garbage = OsStr::from_bytes(b"\xff\xfe");
    // As a command name or an option value: a usage error.
    for args in [
        vec![garbage],
        vec![OsStr::new("vectors"), garbage],
        vec![
            OsStr::new("bundle"),
            OsStr::new("verify"),
            OsStr::new("--now"),
            garbage,
            OsStr::new("-"),
        ],
        vec![
            OsStr::new("bundle"),
            OsStr::new("verify"),
            OsStr::new("--format"),
            garbage,
            OsStr::new("-"),
        ],
    ] {
        let output = letterseal().args(&args).output().unwrap();
        assert_clean_exit(&output, 2);
    }
    // As a path: a path like any other (here a missing one), named with escapes.
    for args in [
        vec![OsStr::new("bundle"), OsStr::new("verify"), garbage],
        vec![OsStr::new("vectors"), OsStr::new("verify"), garbage],
    ] {
        let output = letterseal().args(&args).output().unwrap();
        let (stdout, stderr) = assert_clean_exit(&output, 2);
        assert!(
            format!("{stdout}{stderr}").contains(r#""\xFF\xFE": cannot open"#)
                || stdout.contains(r#"ERR  "\xFF\xFE"  cannot open"#),
            "{stdout}{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// vectors verify
// ---------------------------------------------------------------------------------------------

#[test]
fn vectors_verify_defaults_to_the_repository_vectors_and_passes() {
    let output = letterseal()
        .args(["vectors", "verify"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 0);
    assert!(stdout.contains("ok   "), "{stdout}");
    assert!(stdout.contains("labeled-derive"), "{stdout}");
    assert!(stdout.ends_with(" passed, 0 failed\n"), "{stdout}");
}

#[test]
fn vectors_verify_takes_files_folders_and_stdin() {
    let file = vector_dir().join("labeled-derive.json");
    letterseal()
        .args(["vectors", "verify"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "[labeled-derive] 14 passed, 0 failed",
        ))
        .stdout(predicate::str::ends_with("14 passed, 0 failed\n"));
    letterseal()
        .args(["vectors", "verify"])
        .arg(vector_dir().join("external"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wycheproof/x25519_test.json"))
        .stdout(predicate::str::contains("rfc"));
    letterseal()
        .args(["vectors", "verify", "-"])
        .write_stdin(std::fs::read(&file).unwrap())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ok   <stdin>  [labeled-derive] 14 passed",
        ));
}

/// `labeled-derive.json` with the expected output of tcId 1 changed.
fn failing_vector_file() -> Vec<u8> {
    let text = std::fs::read_to_string(vector_dir().join("labeled-derive.json")).unwrap();
    let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file["tests"][0]["output"]["okm"] = "00".repeat(16).into();
    serde_json::to_vec(&file).unwrap()
}

#[test]
fn a_failed_case_exits_1_and_is_named() {
    let (_dir, path) = temp_file("bad.json", &failing_vector_file());
    let output = letterseal()
        .args(["vectors", "verify"])
        .arg(&path)
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 1);
    assert!(stdout.contains("FAIL "), "{stdout}");
    assert!(stdout.contains("tcId 1: "), "{stdout}");
    assert!(stdout.ends_with("13 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn json_output_reports_every_file_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        vector_dir().join("labeled-derive.json"),
        dir.path().join("a-good.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("b-bad.json"), failing_vector_file()).unwrap();
    std::fs::write(dir.path().join("ignored.txt"), b"not a vector file").unwrap();

    let output = letterseal()
        .args(["vectors", "verify", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = assert_clean_exit(&output, 1);
    assert_eq!(stderr, "");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["format"], "letterseal-verify-report-v1");
    assert_eq!(report["exitCode"], 1);
    assert_eq!(
        report["totals"],
        serde_json::json!({"files": 2, "errors": 0, "passed": 27, "failed": 1, "skipped": 0})
    );
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files[0]["path"].as_str().unwrap().ends_with("a-good.json"));
    assert_eq!(files[0]["status"], "passed");
    assert_eq!(files[0]["step"], "labeled-derive");
    assert_eq!(files[0]["failures"], serde_json::json!([]));
    assert_eq!(files[1]["status"], "failed");
    assert_eq!(files[1]["failed"], 1);
    assert_eq!(files[1]["failures"][0]["tcId"], 1);
    assert!(files[1]["failures"][0]["reason"].is_string());

    // An input that cannot be checked: exit 2, and an entry of its own.
    std::fs::write(dir.path().join("c-garbage.json"), b"{").unwrap();
    let output = letterseal()
        .args(["vectors", "verify", "--json"])
        .arg(dir.path())
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["exitCode"], 2);
    assert_eq!(report["totals"]["errors"], 2);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files[2]["status"], "error");
    assert!(
        files[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot parse")
    );
    assert_eq!(files[3]["status"], "error");
    assert!(
        files[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot open")
    );

    // The whole repository set, as an auditor's CI would run it.
    let output = letterseal()
        .args(["vectors", "verify", "--json"])
        .arg(vector_dir())
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["exitCode"], 0);
    assert_eq!(report["totals"]["failed"], 0);
    assert!(report["totals"]["passed"].as_u64().unwrap() > 1000);
}

#[test]
fn a_folder_without_vector_files_and_an_unknown_step_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = letterseal()
        .args(["vectors", "verify"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 2);
    assert!(stdout.contains("no .json file in this folder"), "{stdout}");

    let unknown = br#"{"schema": "letterseal-vectors-v1", "step": "time-travel", "description": "",
        "specSection": "0", "numberOfTests": 0, "tests": []}"#;
    let (_dir, path) = temp_file("unknown.json", unknown);
    let output = letterseal()
        .args(["vectors", "verify"])
        .arg(&path)
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 2);
    assert!(
        stdout.contains("unknown step or schema: time-travel"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
}

#[cfg(unix)]
#[test]
fn vector_paths_that_are_not_utf8_are_read() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join(OsStr::from_bytes(b"f\xf6lder"));
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(
        vector_dir().join("labeled-derive.json"),
        sub.join(OsStr::from_bytes(b"v\xe9ctors.json")),
    )
    .unwrap();
    letterseal()
        .args(["vectors", "verify"])
        .arg(&sub)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(r#"v\xE9ctors.json"#))
        .stdout(predicate::str::ends_with("14 passed, 0 failed\n"));
}

// ---------------------------------------------------------------------------------------------
// vectors generate
// ---------------------------------------------------------------------------------------------

#[test]
fn vectors_generate_writes_the_repository_files_and_they_verify() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new");
    letterseal()
        .args(["vectors", "generate"])
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("labeled-derive.json (14 cases)"));
    let generated = std::fs::read(out.join("labeled-derive.json")).unwrap();
    assert_eq!(
        generated,
        std::fs::read(vector_dir().join("labeled-derive.json")).unwrap()
    );
    letterseal()
        .args(["vectors", "verify"])
        .arg(&out)
        .assert()
        .code(0);
}

#[test]
fn vectors_generate_into_a_file_exits_2() {
    let (_dir, path) = temp_file("file", b"x");
    let output = letterseal()
        .args(["vectors", "generate"])
        .arg(&path)
        .output()
        .unwrap();
    let (stdout, stderr) = assert_clean_exit(&output, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("cannot create folder"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn vectors_generate_into_a_folder_named_in_non_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(OsStr::from_bytes(b"\xff"));
    letterseal()
        .args(["vectors", "generate"])
        .arg(&out)
        .assert()
        .code(0);
    assert!(out.join("labeled-derive.json").is_file());
}

// ---------------------------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_runs_and_exits_0() {
    let output = letterseal().arg("demo").output().unwrap();
    let (stdout, _) = assert_clean_exit(&output, 0);
    assert!(
        stdout.contains("server: accepted Alice's bundle"),
        "{stdout}"
    );
    assert!(stdout.contains("REJECTED"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// bundle verify
// ---------------------------------------------------------------------------------------------

#[test]
fn a_valid_bundle_verifies_from_file_or_stdin_as_hex_or_binary() {
    let bundle = bundle();
    let now = NOW.to_string();
    let wrapped_hex: String = hex(&bundle)
        .as_bytes()
        .chunks(64)
        .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
        .collect();
    let inputs: [(&str, Vec<u8>); 4] = [
        ("binary", bundle.clone()),
        ("hex", hex(&bundle).into_bytes()),
        ("HEX", hex(&bundle).to_uppercase().into_bytes()),
        ("wrapped hex", wrapped_hex.into_bytes()),
    ];
    for (what, input) in inputs {
        let (_dir, path) = temp_file("bundle", &input);
        for format in ["auto", if what == "binary" { "binary" } else { "hex" }] {
            letterseal()
                .args(["bundle", "verify", "--now", &now, "--format", format])
                .arg(&path)
                .assert()
                .code(0)
                .stdout(predicate::str::starts_with("valid bundle for alice/1\n"));
            letterseal()
                .args(["bundle", "verify", "--now", &now, "--format", format, "-"])
                .write_stdin(input.clone())
                .assert()
                .code(0)
                .stdout(predicate::str::starts_with("valid bundle for alice/1\n"));
        }
    }
}

#[test]
fn a_rejected_bundle_exits_1_with_the_reason() {
    let now = NOW.to_string();
    let mut tampered = bundle();
    *tampered.last_mut().unwrap() ^= 1;
    letterseal()
        .args(["bundle", "verify", "--now", &now, "-"])
        .write_stdin(hex(&tampered))
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("rejected: BadSignature"));
    // Verified 31 days later: expired.
    let later = (NOW + 31 * 86_400).to_string();
    letterseal()
        .args(["bundle", "verify", "--now", &later, "-"])
        .write_stdin(bundle())
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("rejected: Expired"));
    // Without --now the system clock is used: this bundle is from 2027.
    let output = letterseal()
        .args(["bundle", "verify", "-"])
        .write_stdin(bundle())
        .output()
        .unwrap();
    assert!(matches!(output.status.code(), Some(0 | 1)));
    // Hex read as binary: not a bundle.
    letterseal()
        .args(["bundle", "verify", "--format", "binary", "--now", &now, "-"])
        .write_stdin(hex(&bundle()))
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("rejected: UnsupportedVersion"));
}

#[test]
fn bundle_input_errors_exit_2_and_name_the_problem() {
    let bundle = bundle();
    let (_dir, dir_path) = temp_file("x", b"");
    let folder = dir_path.parent().unwrap().to_path_buf();
    let cases: Vec<(Vec<&OsStr>, Vec<u8>, &str)> = vec![
        (
            vec![OsStr::new("-")],
            b"0102zz".to_vec(),
            "<stdin>: not hex: Invalid character 'z' at position 4",
        ),
        (
            vec![OsStr::new("--format"), OsStr::new("hex"), OsStr::new("-")],
            bundle.clone(),
            "<stdin>: not hex",
        ),
        (
            vec![OsStr::new("-")],
            b"abc".to_vec(),
            "not hex: Odd number of digits",
        ),
        (vec![OsStr::new("-")], b" \n\t".to_vec(), "only whitespace"),
        (
            vec![folder.as_os_str()],
            Vec::new(),
            "is a directory, not a file",
        ),
        (
            vec![OsStr::new("/nonexistent/bundle")],
            Vec::new(),
            "/nonexistent/bundle: cannot open",
        ),
        (
            vec![OsStr::new("01abcdef")],
            Vec::new(),
            "echo HEX | letterseal bundle verify -",
        ),
    ];
    for (args, stdin, message) in cases {
        let output = letterseal()
            .args(["bundle", "verify", "--now", "1800000000"])
            .args(&args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        let (stdout, stderr) = assert_clean_exit(&output, 2);
        assert_eq!(stdout, "");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input on every input path: empty, huge, binary garbage, not UTF-8
// ---------------------------------------------------------------------------------------------

/// The input paths: each takes its input from a file, a file in a folder, or standard input.
#[derive(Clone, Copy, Debug)]
enum InputPath {
    BundleFile,
    BundleStdin,
    VectorFile,
    VectorFolder,
    VectorStdin,
}

const INPUT_PATHS: [InputPath; 5] = [
    InputPath::BundleFile,
    InputPath::BundleStdin,
    InputPath::VectorFile,
    InputPath::VectorFolder,
    InputPath::VectorStdin,
];

impl InputPath {
    fn is_bundle(self) -> bool {
        matches!(self, Self::BundleFile | Self::BundleStdin)
    }

    /// Runs the command on `path` (a file named `*.json` in its own folder) as this input path.
    fn run(self, path: &Path) -> Output {
        let mut cmd = letterseal_std();
        match self {
            Self::BundleFile => cmd
                .args(["bundle", "verify", "--now", "1800000000"])
                .arg(path),
            Self::BundleStdin => cmd
                .args(["bundle", "verify", "--now", "1800000000", "-"])
                .stdin(std::fs::File::open(path).unwrap()),
            Self::VectorFile => cmd.args(["vectors", "verify"]).arg(path),
            Self::VectorFolder => cmd.args(["vectors", "verify"]).arg(path.parent().unwrap()),
            Self::VectorStdin => cmd
                .args(["vectors", "verify", "-"])
                .stdin(std::fs::File::open(path).unwrap()),
        };
        cmd.output().unwrap()
    }

    /// The code and message this path gives for `input`.
    fn expect(self, input: BadInput) -> (i32, &'static str) {
        match (input, self.is_bundle()) {
            (BadInput::Empty, true) => (2, "empty input, no bundle"),
            (BadInput::Empty, false) => (2, "empty file, not a vector file"),
            (BadInput::Huge, true) => (2, "more than the limit of 65536 bytes"),
            (BadInput::Huge, false) => (2, "more than the limit of 16777216 bytes"),
            // Binary input is taken as a bundle and rejected by the verifier.
            (BadInput::Garbage | BadInput::NotUtf8, true) => (1, "rejected: "),
            (BadInput::Garbage | BadInput::NotUtf8, false) => (2, "not UTF-8 text"),
            // Text is taken as hex.
            (BadInput::NotJson, true) => (2, "not hex: Invalid character 'h' at position 0"),
            (BadInput::NotJson, false) => (2, "cannot parse"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum BadInput {
    Empty,
    Huge,
    Garbage,
    NotUtf8,
    NotJson,
}

fn bad_input_file(input: BadInput) -> (tempfile::TempDir, PathBuf) {
    match input {
        BadInput::Empty => temp_file("input.json", b""),
        BadInput::Huge => huge_file("input.json"),
        // Fixed "random" bytes that happen to be valid UTF-8 neither.
        BadInput::Garbage => {
            let garbage: Vec<u8> = (0u32..4096)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            temp_file("input.json", &garbage)
        }
        // Latin-1 text: plausible JSON, but not UTF-8.
        BadInput::NotUtf8 => temp_file("input.json", b"{\"schema\": \"caf\xe9\"}"),
        // ASCII text, but neither hex nor JSON.
        BadInput::NotJson => temp_file("input.json", b"hello, world!\n"),
    }
}

#[test]
fn bad_input_on_every_path_gives_a_message_and_the_documented_code() {
    for input in [
        BadInput::Empty,
        BadInput::Huge,
        BadInput::Garbage,
        BadInput::NotUtf8,
        BadInput::NotJson,
    ] {
        let (_dir, path) = bad_input_file(input);
        for input_path in INPUT_PATHS {
            let output = input_path.run(&path);
            let (code, message) = input_path.expect(input);
            let (stdout, stderr) = assert_clean_exit(&output, code);
            assert!(
                format!("{stdout}{stderr}").contains(message),
                "{input_path:?} with {input:?}: expected {message:?} in\n{stdout}\n{stderr}"
            );
        }
    }
}

#[test]
fn huge_input_through_a_pipe_is_refused_without_reading_it_all() {
    for byte in [b'0', 0xff] {
        let output = run_with_huge_pipe(&["bundle", "verify", "-"], byte);
        let (_, stderr) = assert_clean_exit(&output, 2);
        assert!(
            stderr.contains("<stdin>: more than the limit of 65536 bytes"),
            "{stderr}"
        );

        let output = run_with_huge_pipe(&["vectors", "verify", "--json", "-"], byte);
        let (stdout, _) = assert_clean_exit(&output, 2);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            report["files"][0]["error"],
            "more than the limit of 16777216 bytes"
        );
    }
}

#[test]
fn output_that_cannot_be_written_exits_2_without_a_panic() {
    // A reader that went away: exit 2, quietly.
    let mut child = letterseal_std()
        .args(["vectors", "verify"])
        .arg(vector_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    // A full disk: exit 2 with the reason.
    #[cfg(target_os = "linux")]
    {
        let output = letterseal_std()
            .args(["vectors", "verify"])
            .arg(vector_dir())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let (_, stderr) = assert_clean_exit(&output, 2);
        assert!(
            stderr.starts_with("error: cannot write the output: "),
            "{stderr}"
        );
    }
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let (_dir, path) = huge_file("huge.json");
    let output = letterseal()
        .args(["bundle", "verify"])
        .arg(&path)
        .output()
        .unwrap();
    let (_, stderr) = assert_clean_exit(&output, 2);
    assert!(
        stderr.contains("104857600 bytes is more than the limit of 65536 bytes"),
        "{stderr}"
    );
    let output = letterseal()
        .args(["vectors", "verify"])
        .arg(&path)
        .output()
        .unwrap();
    let (stdout, _) = assert_clean_exit(&output, 2);
    assert!(
        stdout.contains("104857600 bytes is more than the limit of 16777216 bytes"),
        "{stdout}"
    );
}
