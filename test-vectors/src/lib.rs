//! letterseal's test vectors (SPEC.md §10): the JSON schema, the checker
//! auditors run, the generator that wrote the files, and the files themselves
//! (this crate's directory, `test-vectors/` in the repository). It drives the
//! `letterseal` crate with its `hazmat` and `json-state` features and the
//! `letterseal-legacy` crate; an application depends on neither this crate nor
//! those features.
//!
//! The checker is pure: it takes a file's text and returns a report, so the CLI
//! (`letterseal vectors verify`) and `cargo test` run exactly the same code.
//! It understands two schemas:
//!
//! - `letterseal-vectors-v1` — ours, one file per protocol step (see
//!   `test-vectors/README.md` for each step's inputs and outputs);
//! - Wycheproof `xdh_comp_schema_v1.json`, `hkdf_test_schema_v1.json` and
//!   `aead_test_schema_v1.json`, run through the crate's X25519, HKDF and
//!   AES-256-GCM paths.
//!
//! # Walkthrough: the auditor
//!
//! What `letterseal vectors verify` does, for the LS3 files at the top of
//! `test-vectors/` (the CLI also walks `external/` and `legacy/`): read each
//! file, check it, and require every case to behave as stated. A file the
//! checker cannot read is an error ([`VectorError`]), never an empty pass.
//!
//! ```
//! use letterseal_vectors::{FileReport, check_file};
//!
//! let mut cases = 0;
//! for entry in std::fs::read_dir(letterseal_vectors::data_dir())? {
//!     let path = entry?.path();
//!     if path.extension().is_some_and(|e| e == "json") {
//!         let report: FileReport = check_file(&std::fs::read_to_string(&path)?)?;
//!         assert!(report.failed.is_empty(), "{}: {:?}", report.step, report.failed);
//!         cases += report.passed;
//!     }
//! }
//! assert!(cases > 500);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`check_vector_file`] shows a case that does not behave as stated being
//! reported; [`generate::all`] rebuilds every file from fixed seeds.

extern crate alloc;

pub mod generate;
mod steps;
mod wycheproof;

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where this crate's vector files are: the directory of its `Cargo.toml`
/// (`test-vectors/` in the repository; the unpacked package when built from
/// a registry). LS3 files at the top, `legacy/` and `external/` below.
///
/// ```
/// assert!(letterseal_vectors::data_dir().join("envelope.json").is_file());
/// ```
pub fn data_dir() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schema name of our vector files.
pub const SCHEMA: &str = "letterseal-vectors-v1";

/// Whether a case must succeed or fail. See the example on [`check_vector_file`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The step must produce exactly the case's `output`.
    Valid,
    /// The step must fail with the case's `error`.
    Invalid,
}

/// One vector file: one protocol step (SPEC.md §10). See the examples on
/// [`check_vector_file`] and [`generate::all`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VectorFile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The protocol step the cases exercise.
    pub step: String,
    /// What the step does.
    pub description: String,
    /// The SPEC.md section of the step.
    pub spec_section: String,
    /// Explanations of the flags used by the cases.
    #[serde(default)]
    pub notes: serde_json::Map<String, Value>,
    /// Must equal `tests.len()`.
    pub number_of_tests: usize,
    /// The cases.
    pub tests: Vec<TestCase>,
}

impl VectorFile {
    /// Pretty-printed JSON with a trailing newline, as stored in the repository.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// One test case. See the example on [`check_vector_file`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestCase {
    /// Unique within the file.
    pub tc_id: u64,
    /// What the case checks.
    pub comment: String,
    /// Wycheproof-style flags; each is explained in the file's `notes`.
    #[serde(default)]
    pub flags: Vec<String>,
    /// The step's inputs.
    pub input: Map<String, Value>,
    /// The expected outputs (empty for invalid cases).
    #[serde(default)]
    pub output: Map<String, Value>,
    /// Valid or invalid.
    pub result: Verdict,
    /// For invalid cases: the expected error's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outcome of checking one file. See the walkthrough in the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The step (or Wycheproof algorithm) of the file.
    pub step: String,
    /// Number of cases that behaved as stated.
    pub passed: usize,
    /// Number of cases that do not apply to this crate (Wycheproof groups with
    /// other key or nonce sizes).
    pub skipped: usize,
    /// Cases that did not behave as stated: `(tcId, reason)`.
    pub failed: Vec<(u64, String)>,
}

/// A file that could not be checked at all. See the example on [`check_file`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VectorError {
    /// Not JSON, or JSON of an unknown shape.
    Parse(String),
    /// A schema or step this runner does not know.
    UnknownStep(String),
    /// The file contradicts the schema (for example a wrong `numberOfTests`).
    Inconsistent(String),
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => write!(f, "cannot parse: {e}"),
            Self::UnknownStep(s) => write!(f, "unknown step or schema: {s}"),
            Self::Inconsistent(e) => write!(f, "inconsistent file: {e}"),
        }
    }
}

impl std::error::Error for VectorError {}

/// Why one case could not be run as written.
#[derive(Debug)]
enum CaseError {
    /// The protocol step failed with this error name (expected for invalid cases).
    Protocol(&'static str),
    /// The case's inputs are missing or malformed (always a failure).
    BadInput(String),
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(name) => write!(f, "error {name}"),
            Self::BadInput(reason) => write!(f, "bad input: {reason}"),
        }
    }
}

type StepOutput = Result<Map<String, Value>, CaseError>;

/// Checks one vector file given as text: ours (`letterseal-vectors-v1`) or
/// Wycheproof's. This is what `letterseal vectors verify` runs on each file;
/// an auditor's own CI can call it directly.
///
/// ```
/// use letterseal_vectors::{VectorError, check_file};
///
/// // A file of the repository (also shipped in the published crate).
/// let text = std::fs::read_to_string(letterseal_vectors::data_dir().join("safety-number.json")).unwrap();
/// let report = check_file(&text).unwrap();
/// assert_eq!(report.step, "safety-number");
/// assert!(report.passed > 0 && report.failed.is_empty());
///
/// // Wycheproof files run through the crate's own X25519, HKDF and AES-GCM paths.
/// let path = letterseal_vectors::data_dir().join("external/wycheproof/x25519_test.json");
/// let text = std::fs::read_to_string(path).unwrap();
/// let report = check_file(&text).unwrap();
/// assert!(report.passed > 0 && report.failed.is_empty());
///
/// // A file it cannot check at all is an error, not an empty pass.
/// assert!(matches!(check_file("not json"), Err(VectorError::Parse(_))));
/// ```
pub fn check_file(text: &str) -> Result<FileReport, VectorError> {
    let value: Value = serde_json::from_str(text).map_err(|e| VectorError::Parse(e.to_string()))?;
    let schema = value
        .get("schema")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if schema == SCHEMA {
        let file: VectorFile =
            serde_json::from_value(value).map_err(|e| VectorError::Parse(e.to_string()))?;
        check_vector_file(&file)
    } else {
        wycheproof::check(schema, &value)
    }
}

/// Checks a parsed file of our schema.
///
/// Every case must behave as stated; a case that does not is listed in
/// [`FileReport::failed`] with its `tcId` and the reason, and the others still run.
///
/// ```
/// use letterseal_vectors::{TestCase, VectorFile, Verdict, check_vector_file};
///
/// let text = std::fs::read_to_string(letterseal_vectors::data_dir().join("safety-number.json")).unwrap();
/// let mut file: VectorFile = serde_json::from_str(&text).unwrap();
/// assert!(check_vector_file(&file).unwrap().failed.is_empty());
///
/// // Claim that a valid case must fail: the checker reports that case.
/// let case: &mut TestCase = file.tests.iter_mut().find(|c| c.result == Verdict::Valid).unwrap();
/// case.result = Verdict::Invalid;
/// case.output.clear();
/// case.error = Some("InvalidIdentityKey".into());
/// let tc_id = case.tc_id;
/// let report = check_vector_file(&file).unwrap();
/// assert_eq!(report.failed.len(), 1);
/// assert_eq!(report.failed[0].0, tc_id);
/// ```
pub fn check_vector_file(file: &VectorFile) -> Result<FileReport, VectorError> {
    if file.schema != SCHEMA {
        return Err(VectorError::UnknownStep(file.schema.clone()));
    }
    let step =
        steps::lookup(&file.step).ok_or_else(|| VectorError::UnknownStep(file.step.clone()))?;
    if file.number_of_tests != file.tests.len() {
        return Err(VectorError::Inconsistent(alloc::format!(
            "numberOfTests is {} but there are {} tests",
            file.number_of_tests,
            file.tests.len()
        )));
    }
    let mut ids = BTreeSet::new();
    let mut report = FileReport {
        step: file.step.clone(),
        ..FileReport::default()
    };
    for case in &file.tests {
        if !ids.insert(case.tc_id) {
            return Err(VectorError::Inconsistent(alloc::format!(
                "duplicate tcId {}",
                case.tc_id
            )));
        }
        if let Some(flag) = case.flags.iter().find(|f| !file.notes.contains_key(*f)) {
            return Err(VectorError::Inconsistent(alloc::format!(
                "tcId {}: flag {flag} has no note",
                case.tc_id
            )));
        }
        match judge(case, step(&case.input)) {
            Ok(()) => report.passed += 1,
            Err(reason) => report.failed.push((case.tc_id, reason)),
        }
    }
    Ok(report)
}

/// Compares a step's result with the case's expectation.
fn judge(case: &TestCase, actual: StepOutput) -> Result<(), String> {
    match (case.result, &case.error, actual) {
        (Verdict::Valid, None, Ok(output)) if output == case.output => Ok(()),
        (Verdict::Valid, None, Ok(output)) => Err(alloc::format!(
            "output differs: expected {}, got {}",
            Value::Object(case.output.clone()),
            Value::Object(output)
        )),
        (Verdict::Valid, None, Err(e)) => Err(alloc::format!("expected success, got {e}")),
        (Verdict::Valid, Some(_), _) => Err("valid case names an error".into()),
        (Verdict::Invalid, None, _) => Err("invalid case names no error".into()),
        (Verdict::Invalid, Some(_), _) if !case.output.is_empty() => {
            Err("invalid case has outputs".into())
        }
        (Verdict::Invalid, Some(expected), Err(CaseError::Protocol(name)))
            if name == expected.as_str() =>
        {
            Ok(())
        }
        (Verdict::Invalid, Some(expected), Err(e)) => {
            Err(alloc::format!("expected error {expected}, got {e}"))
        }
        (Verdict::Invalid, Some(expected), Ok(_)) => Err(alloc::format!(
            "expected error {expected}, but the step succeeded"
        )),
    }
}

/// Accessors for a case's inputs.
struct Inputs<'a>(&'a Map<String, Value>);

impl Inputs<'_> {
    fn value(&self, key: &str) -> Result<&Value, CaseError> {
        self.0
            .get(key)
            .ok_or_else(|| CaseError::BadInput(alloc::format!("missing input {key}")))
    }

    fn bytes(&self, key: &str) -> Result<Vec<u8>, CaseError> {
        hex_value(self.value(key)?, key)
    }

    fn array<const N: usize>(&self, key: &str) -> Result<[u8; N], CaseError> {
        self.bytes(key)?
            .try_into()
            .map_err(|_| CaseError::BadInput(alloc::format!("input {key} must be {N} bytes")))
    }

    fn optional_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, CaseError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => hex_value(v, key).map(Some),
        }
    }

    /// A list of hex strings; a missing key is an empty list.
    fn hex_list(&self, key: &str) -> Result<Vec<Vec<u8>>, CaseError> {
        match self.0.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(|v| hex_value(v, key)).collect(),
            Some(_) => Err(CaseError::BadInput(alloc::format!("{key} must be a list"))),
        }
    }

    fn u64(&self, key: &str) -> Result<u64, CaseError> {
        self.value(key)?
            .as_u64()
            .ok_or_else(|| CaseError::BadInput(alloc::format!("input {key} must be an integer")))
    }
}

fn hex_value(value: &Value, key: &str) -> Result<Vec<u8>, CaseError> {
    let text = value
        .as_str()
        .ok_or_else(|| CaseError::BadInput(alloc::format!("{key} must be a hex string")))?;
    hex::decode(text).map_err(|_| CaseError::BadInput(alloc::format!("{key} is not hex")))
}

/// Randomness fixed by a vector: yields the given bytes, then zeros. Only for
/// reproducing published vectors; it is not random.
struct FixedRng {
    bytes: Vec<u8>,
    position: usize,
}

impl FixedRng {
    fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, position: 0 }
    }
}

impl rand_core::TryRng for FixedRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst {
            *d = self.bytes.get(self.position).copied().unwrap_or(0);
            self.position = self.position.saturating_add(1);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FixedRng {}

/// The ML-KEM key pair the devices of the vector steps keep with a sealing
/// secret: the seed is `SHA-512(sealing secret)` (a convention of the vectors,
/// documented in `test-vectors/README.md`; real devices draw it from the RNG).
fn vector_kem_key(sealing_secret: &[u8; 32]) -> letterseal::keys::KemDecapsulationKey {
    use sha2::Digest;
    let seed: [u8; 64] = sha2::Sha512::digest(sealing_secret).into();
    letterseal::keys::KemDecapsulationKey::from_seed(&zeroize::Zeroizing::new(seed))
}

fn hex_string(bytes: &[u8]) -> Value {
    Value::String(hex::encode(bytes))
}
