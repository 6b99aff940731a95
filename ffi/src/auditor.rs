//! The auditor's vector run (feature `auditor`): the check `letterseal vectors verify` makes on
//! each file, for an auditor's own Python or JVM tooling.
//!
//! Off by default and meant for auditors' builds only: it compiles letterseal-vectors, and with it
//! the core's `hazmat` deterministic constructors, into the library — which an application's
//! library must not carry (README "Feature flags").

use crate::error::{self, LettersealError};

/// One case that did not behave as its file states.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct VectorCaseFailure {
    /// The case's `tcId`.
    pub tc_id: u64,
    /// What differed.
    pub reason: String,
}

/// The outcome of checking one vector file (`letterseal_vectors::FileReport`).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct VectorFileReport {
    /// The protocol step (or Wycheproof algorithm) of the file.
    pub step: String,
    /// Cases that behaved as stated.
    pub passed: u64,
    /// Cases that do not apply to this crate (Wycheproof groups with other sizes).
    pub skipped: u64,
    /// Cases that did not behave as stated; empty when the file passes.
    pub failed: Vec<VectorCaseFailure>,
}

/// Checks one vector file given as its text: ours (`letterseal-vectors-v1`) or Wycheproof's
/// (`letterseal_vectors::check_file`). A file that cannot be checked at all (not JSON, an unknown
/// step, a wrong case count) is `InvalidInput` with kind `VectorParse`, `VectorUnknownStep` or
/// `VectorInconsistent`; a case that fails is in the report, not an error.
#[uniffi::export]
pub fn check_vector_file(text: String) -> Result<VectorFileReport, LettersealError> {
    error::guard(|| {
        use letterseal_vectors::{VectorError, check_file};
        let report = check_file(&text).map_err(|e| {
            let kind = match e {
                VectorError::Parse(_) => "VectorParse",
                VectorError::UnknownStep(_) => "VectorUnknownStep",
                VectorError::Inconsistent(_) => "VectorInconsistent",
            };
            LettersealError::InvalidInput {
                kind: kind.into(),
                message: e.to_string(),
            }
        })?;
        Ok(VectorFileReport {
            step: report.step,
            passed: count(report.passed),
            skipped: count(report.skipped),
            failed: report
                .failed
                .into_iter()
                .map(|(tc_id, reason)| VectorCaseFailure { tc_id, reason })
                .collect(),
        })
    })
}

/// A case count: `usize` is at most 64 bits on every target Rust supports, so this is exact.
fn count(n: usize) -> u64 {
    n as u64
}
