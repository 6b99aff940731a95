//! `ct-check`: a ctgrind-style constant-time check of letterseal.
//!
//! Run it under valgrind memcheck (see `ct/run.sh` and `ct/README.md`):
//!
//! ```text
//! valgrind --error-exitcode=1 --track-origins=yes target/release/ct-check
//! ```
//!
//! Every case first computes its expected result with nothing marked, then
//! marks its secret inputs undefined ([`ct::secret`]), runs one crate
//! operation, marks the final public result defined ([`ct::public`]) and only
//! then compares it with the expected one. Memcheck reports any branch or
//! memory address inside the operation that depends on a secret.
//!
//! `ct-check --control` runs deliberately leaky cases instead, which valgrind
//! must flag (the check can fail). `ct-check --no-declassify` runs the checks
//! without declassifying their results, so that valgrind must flag every case
//! (the secrets reach the results). `ct-check --probe` runs API probes that
//! are not part of any protocol operation (see README.md).
#![deny(unsafe_code)]

mod cases;
mod ct;

use std::process::ExitCode;
use std::time::Instant;

/// What a case is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A library operation that must be constant time (apart from the
    /// documented public decisions, see `supp/decisions.supp`).
    Check,
    /// A deliberately leaky case: valgrind must report it.
    Control,
    /// A library API probe outside the protocol operations (reported, not a gate).
    Probe,
}

/// One named case.
pub struct Case {
    /// Printed as the case runs; also the name of the case function, which
    /// appears in every valgrind stack trace it causes.
    pub name: &'static str,
    /// Check, control or probe.
    pub kind: Kind,
    /// Runs the case; `Err` if the operation gave a wrong result (a harness
    /// or library bug, not a timing finding).
    pub run: fn() -> Result<(), String>,
}

fn under_valgrind() -> bool {
    // Valgrind preloads its core and tool libraries (vgpreload_*.so).
    std::env::var("LD_PRELOAD").is_ok_and(|v| v.contains("vgpreload"))
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: ct-check [--control | --probe | --all] [--no-declassify] [--list] [NAME-SUBSTRING...]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut kind = Some(Kind::Check);
    let mut list = false;
    let mut filters = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--control" => kind = Some(Kind::Control),
            "--probe" => kind = Some(Kind::Probe),
            "--all" => kind = None,
            "--no-declassify" => ct::DECLASSIFY.store(false, std::sync::atomic::Ordering::Relaxed),
            "--list" => list = true,
            "-h" | "--help" => return usage(),
            a if a.starts_with('-') => return usage(),
            a => filters.push(a.to_owned()),
        }
    }
    let selected: Vec<&Case> = cases::ALL
        .iter()
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .filter(|c| filters.is_empty() || filters.iter().any(|f| c.name.contains(f.as_str())))
        .collect();
    if list {
        for case in &selected {
            println!("{:?}\t{}", case.kind, case.name);
        }
        return ExitCode::SUCCESS;
    }
    if selected.is_empty() {
        eprintln!("ct-check: no case matches");
        return ExitCode::from(2);
    }
    if !under_valgrind() {
        eprintln!(
            "ct-check: WARNING: not running under valgrind; the secret/public marks are \
             no-ops and only functional results are checked"
        );
    }
    #[cfg(target_arch = "x86_64")]
    eprintln!(
        "ct-check: cpu features seen: aes={} pclmulqdq={} sha={} avx2={} (valgrind's \
         synthetic CPU when under valgrind; decides the aes/polyval/sha2 backends)",
        std::arch::is_x86_feature_detected!("aes"),
        std::arch::is_x86_feature_detected!("pclmulqdq"),
        std::arch::is_x86_feature_detected!("sha"),
        std::arch::is_x86_feature_detected!("avx2"),
    );
    let mut failed = 0usize;
    let total = selected.len();
    for (i, case) in selected.iter().enumerate() {
        eprintln!("ct-check: [{:>2}/{total}] CASE {}", i + 1, case.name);
        let start = Instant::now();
        let result = (case.run)();
        let ms = start.elapsed().as_millis();
        match result {
            Ok(()) => eprintln!(
                "ct-check: [{:>2}/{total}] done {} ({ms} ms)",
                i + 1,
                case.name
            ),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "ct-check: [{:>2}/{total}] WRONG RESULT {}: {e}",
                    i + 1,
                    case.name
                );
            }
        }
    }
    eprintln!(
        "ct-check: {total} case(s) run, {failed} with a wrong functional result \
         (timing findings are valgrind's errors above)"
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}
