//! `letterseal vectors verify` and `letterseal vectors generate`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use letterseal_vectors::FileReport;
use serde_json::{Value, json};
use walkdir::WalkDir;

use crate::input::{Source, path_name, read_limited};
use crate::{CommandError, Outcome};

/// The largest vector file accepted, in bytes (16 MiB; the largest file shipped is 0.25 MiB).
/// Larger files are refused unread.
pub(crate) const MAX_VECTOR_FILE: u64 = 16 * 1024 * 1024;

/// The format name of `vectors verify --json` output.
pub(crate) const JSON_REPORT_FORMAT: &str = "letterseal-verify-report-v1";

/// `test-vectors/` in the current directory if there is one, else letterseal-vectors' files (the
/// ones this binary was built with).
pub(crate) fn default_vector_dir() -> PathBuf {
    let local = PathBuf::from("test-vectors");
    if local.is_dir() {
        local
    } else {
        letterseal_vectors::data_dir().to_path_buf()
    }
}

/// What happened to one input: checked (with a report), or not checkable.
struct Checked {
    name: String,
    result: Result<FileReport, String>,
}

/// The inputs named by `roots`: `-` is standard input, a file is itself, a folder is every
/// `*.json` below it that is not hidden (recursively, sorted, symbolic links followed, loops
/// reported). A root that
/// cannot be read, or a folder without any `.json` file, is an error entry of its own.
fn collect(roots: &[OsString]) -> Vec<Result<Source, (String, String)>> {
    let mut inputs = Vec::new();
    for root in roots {
        let source = Source::from_arg(root);
        let path = match &source {
            Source::Stdin => {
                inputs.push(Ok(source));
                continue;
            }
            Source::File(path) => path.clone(),
        };
        match std::fs::metadata(&path) {
            Err(e) => inputs.push(Err((source.name(), format!("cannot open: {e}")))),
            Ok(meta) if !meta.is_dir() => inputs.push(Ok(source)),
            Ok(_) => {
                let before = inputs.len();
                let walk = WalkDir::new(&path)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter();
                for entry in walk {
                    match entry {
                        Ok(entry) => {
                            // Hidden files are not vectors (`.cargo_vcs_info.json` in a
                            // package).
                            if entry.file_type().is_file()
                                && entry.path().extension().is_some_and(|e| e == "json")
                                && !entry.file_name().to_string_lossy().starts_with('.')
                            {
                                inputs.push(Ok(Source::File(entry.into_path())));
                            }
                        }
                        Err(e) => {
                            let name = e.path().map_or_else(|| source.name(), path_name);
                            inputs.push(Err((name, e.to_string())));
                        }
                    }
                }
                if inputs.len() == before {
                    inputs.push(Err((source.name(), "no .json file in this folder".into())));
                }
            }
        }
    }
    inputs
}

/// Reads and checks one vector file.
fn check(source: &Source) -> Result<FileReport, String> {
    let bytes = read_limited(source, MAX_VECTOR_FILE)?;
    if bytes.is_empty() {
        return Err("empty file, not a vector file".into());
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text, so not a JSON vector file ({})",
            e.utf8_error()
        )
    })?;
    letterseal_vectors::check_file(&text).map_err(|e| e.to_string())
}

/// Checks every vector file under `roots` (default: [`default_vector_dir`]) and writes the report
/// to `out`, as text or as JSON.
///
/// The outcome is an error (exit 2, after the whole report) if any input could not be checked,
/// else [`Outcome::Failed`] if any case failed, else [`Outcome::Passed`].
pub(crate) fn verify(
    roots: &[OsString],
    json: bool,
    out: &mut String,
) -> Result<Outcome, CommandError> {
    let roots = if roots.is_empty() {
        vec![default_vector_dir().into_os_string()]
    } else {
        roots.to_vec()
    };
    let checked: Vec<Checked> = collect(&roots)
        .into_iter()
        .map(|input| match input {
            Ok(source) => Checked {
                name: source.name(),
                result: check(&source),
            },
            Err((name, error)) => Checked {
                name,
                result: Err(error),
            },
        })
        .collect();
    let errors = checked.iter().filter(|c| c.result.is_err()).count();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for report in checked.iter().filter_map(|c| c.result.as_ref().ok()) {
        passed += report.passed;
        failed += report.failed.len();
        skipped += report.skipped;
    }
    let outcome = if errors > 0 {
        Outcome::Error
    } else if failed > 0 {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    if json {
        let report = json_report(&checked, outcome, [passed, failed, skipped, errors]);
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CommandError(format!("cannot format the JSON report: {e}")))?;
        outln!(out, "{text}");
    } else {
        text_report(&checked, out);
        outln!(
            out,
            "{} inputs ({errors} could not be checked), {skipped} cases skipped (not applicable)",
            checked.len()
        );
        outln!(out, "{passed} passed, {} failed", failed + errors);
    }
    match outcome {
        Outcome::Error => Err(CommandError(format!(
            "{errors} of {} inputs could not be checked (see the report)",
            checked.len()
        ))),
        _ => Ok(outcome),
    }
}

fn text_report(checked: &[Checked], out: &mut String) {
    for Checked { name, result } in checked {
        match result {
            Ok(report) => {
                let status = if report.failed.is_empty() {
                    "ok  "
                } else {
                    "FAIL"
                };
                let skip = if report.skipped > 0 {
                    format!(", {} skipped", report.skipped)
                } else {
                    String::new()
                };
                outln!(
                    out,
                    "{status} {name}  [{}] {} passed, {} failed{skip}",
                    report.step,
                    report.passed,
                    report.failed.len()
                );
                for (id, reason) in &report.failed {
                    outln!(out, "       tcId {id}: {reason}");
                }
            }
            Err(e) => outln!(out, "ERR  {name}  {e}"),
        }
    }
}

fn json_report(checked: &[Checked], outcome: Outcome, totals: [usize; 4]) -> Value {
    let [passed, failed, skipped, errors] = totals;
    let files: Vec<Value> = checked
        .iter()
        .map(|Checked { name, result }| match result {
            Ok(report) => json!({
                "path": name,
                "status": if report.failed.is_empty() { "passed" } else { "failed" },
                "step": report.step,
                "passed": report.passed,
                "failed": report.failed.len(),
                "skipped": report.skipped,
                "failures": report.failed.iter().map(|(id, reason)| json!({ "tcId": id, "reason": reason })).collect::<Vec<_>>(),
            }),
            Err(e) => json!({ "path": name, "status": "error", "error": e }),
        })
        .collect();
    json!({
        "format": JSON_REPORT_FORMAT,
        "files": files,
        "totals": {
            "files": checked.len(),
            "errors": errors,
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
        },
        "exitCode": outcome.code(),
    })
}

/// Writes every generated vector file into `dir` (created if missing).
pub(crate) fn generate(dir: &Path, out: &mut String) -> Result<Outcome, CommandError> {
    // Generate (and self-check) everything before writing anything.
    let files = match letterseal_vectors::generate::all() {
        Ok(files) => files,
        Err(e) => {
            outln!(out, "generator self-check failed, nothing written: {e}");
            return Ok(Outcome::Failed);
        }
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| CommandError(format!("{}: cannot create folder: {e}", path_name(dir))))?;
    for file in files {
        let path = dir.join(format!("{}.json", file.step));
        std::fs::write(&path, file.to_json())
            .map_err(|e| CommandError(format!("{}: cannot write: {e}", path_name(&path))))?;
        outln!(
            out,
            "wrote {} ({} cases)",
            path_name(&path),
            file.number_of_tests
        );
    }
    Ok(Outcome::Passed)
}
