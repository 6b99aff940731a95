//! `letterseal`: the auditor's test-vector runner and a walk-through of the protocol.
//!
//! ```text
//! letterseal vectors verify [FILE|DIR ...]   check vector files (default: the repository's test-vectors/)
//! letterseal vectors generate [DIR]          write the generated vector files (default: test-vectors/)
//! letterseal demo                            walk through registration and verification
//! letterseal bundle verify HEX [NOW]         verify a hex-encoded key bundle as a server would
//! ```

mod demo;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use letterseal::registration::{ExpectedOwner, KeyBundle, NoDirectory, RegistrationPolicy};
use letterseal::time::Timestamp;
use letterseal::vectors::{self, FileReport};

const USAGE: &str = "usage:
  letterseal vectors verify [FILE|DIR ...]   check vector files (default: test-vectors/)
  letterseal vectors generate [DIR]          write the generated vector files (default: test-vectors/)
  letterseal demo                            walk through registration, verification and safety numbers
  letterseal bundle verify HEX [NOW]         verify a hex key bundle (NOW: Unix seconds, default: clock)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["vectors", "verify", paths @ ..] => verify(paths),
        ["vectors", "generate"] => generate(&default_vector_dir()),
        ["vectors", "generate", dir] => generate(Path::new(dir)),
        ["demo"] => demo::run(),
        ["bundle", "verify", hex] => bundle_verify(hex, None),
        ["bundle", "verify", hex, now] => bundle_verify(hex, Some(now)),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// `test-vectors/` in the current directory if there is one, else the repository's.
fn default_vector_dir() -> PathBuf {
    let local = PathBuf::from("test-vectors");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("test-vectors")
    }
}

/// Every `.json` file under `path`, sorted; `path` itself if it is a file.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        if child.is_dir() {
            collect(&child, out)?;
        } else if child.extension().is_some_and(|e| e == "json") {
            out.push(child);
        }
    }
    Ok(())
}

fn verify(paths: &[&str]) -> Result<ExitCode, String> {
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![default_vector_dir()]
    } else {
        paths.iter().map(PathBuf::from).collect()
    };
    let mut files = Vec::new();
    for root in &roots {
        collect(root, &mut files)?;
    }
    if files.is_empty() {
        return Err("no vector files found".into());
    }
    let (mut passed, mut failed, mut skipped, mut bad_files) = (0, 0, 0, 0);
    for file in &files {
        let report = std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| vectors::check_file(&text).map_err(|e| e.to_string()));
        match report {
            Ok(FileReport {
                step,
                passed: p,
                skipped: s,
                failed: f,
            }) => {
                let status = if f.is_empty() { "ok  " } else { "FAIL" };
                let skip = if s > 0 {
                    format!(", {s} skipped")
                } else {
                    String::new()
                };
                println!(
                    "{status} {}  [{step}] {p} passed, {} failed{skip}",
                    file.display(),
                    f.len()
                );
                for (id, reason) in &f {
                    println!("       tcId {id}: {reason}");
                }
                passed += p;
                failed += f.len();
                skipped += s;
            }
            Err(e) => {
                println!("FAIL {}  {e}", file.display());
                bad_files += 1;
            }
        }
    }
    println!(
        "{} files ({bad_files} unreadable), {skipped} cases skipped (not applicable)",
        files.len()
    );
    println!("{passed} passed, {} failed", failed + bad_files);
    Ok(if failed + bad_files == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn generate(dir: &Path) -> Result<ExitCode, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for file in vectors::generate::all()? {
        let path = dir.join(format!("{}.json", file.step));
        std::fs::write(&path, file.to_json()).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {} ({} cases)", path.display(), file.number_of_tests);
    }
    Ok(ExitCode::SUCCESS)
}

fn bundle_verify(hex_bundle: &str, now: Option<&str>) -> Result<ExitCode, String> {
    let bytes = hex::decode(hex_bundle.trim()).map_err(|e| format!("not hex: {e}"))?;
    let now = match now {
        Some(n) => n
            .parse()
            .map_err(|_| "NOW must be Unix seconds".to_string())?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs(),
    };
    let result = KeyBundle::decode(&bytes).and_then(|b| {
        // Checked on its own, a bundle is expected to belong to the device it names
        // (printed below); a server passes the uploader it authenticated instead.
        let owner = ExpectedOwner::Device(b.content().owner.clone());
        b.verify(
            &owner,
            &RegistrationPolicy::default(),
            Timestamp::from_unix_seconds(now),
            None,
            &NoDirectory,
        )
    });
    match result {
        Ok(v) => {
            let (nb, na) = v.validity();
            println!("valid bundle for {}", v.owner());
            println!("  identity key {:?}", v.identity_key());
            println!("  sealing key  {:?}", v.sealing_key());
            println!("  key id       {}", v.sealing_key_id());
            println!("  KEM key id   {}", v.kem_key_id());
            println!("  valid        {nb} .. {na}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("rejected: {} ({e})", e.name());
            Ok(ExitCode::FAILURE)
        }
    }
}
