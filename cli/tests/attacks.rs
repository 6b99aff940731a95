//! Each published attack on Letter Sealing works against the legacy format (the
//! documented behaviour) and fails against LS3 (SPEC.md §11.8, SECURITY.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal_cli::attacks::{audit_constant_group_key, run_all};
use letterseal_legacy::LegacyError;
use letterseal_legacy::ids::LegacyKeyId;
use letterseal_legacy::keys::LegacyKeyPair;

#[test]
fn every_attack_works_on_legacy_and_fails_on_ls3() {
    let rows = run_all().unwrap();
    assert_eq!(rows.len(), 7);
    for row in &rows {
        assert!(
            row.legacy_vulnerable,
            "{}: legacy should be vulnerable: {}",
            row.attack, row.legacy
        );
        assert!(
            row.ls3_protected,
            "{}: LS3 should protect: {}",
            row.attack, row.ls3
        );
    }
    let names: Vec<_> = rows.iter().map(|r| r.attack).collect();
    for expected in [
        "Replay",
        "Reordering",
        "Reflection",
        "Group member",
        "Removed member",
        "Unknown key share",
        "Constant group key",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(expected)),
            "missing {expected}"
        );
    }
}

#[test]
fn ls3_rejections_name_the_intended_check() {
    let rows = run_all().unwrap();
    let ls3 = |prefix: &str| {
        rows.iter()
            .find(|r| r.attack.starts_with(prefix))
            .unwrap()
            .ls3
            .clone()
    };
    assert!(ls3("Replay").contains("Replay"));
    assert!(ls3("Reflection").contains("Reflected"));
    assert!(ls3("Group member").contains("BadSignature"));
    assert!(ls3("Removed member").contains("UnknownEpoch"));
    assert!(ls3("Unknown key share").contains("DuplicateSealingKey"));
    assert!(ls3("Constant group key").contains("outsider rejected"));
}

#[test]
fn the_constant_group_key_is_flagged_and_refused_when_strict() {
    let creator = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[1; 32]);
    let member = LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[2; 32]);
    let audit = audit_constant_group_key(&creator, member, LegacyKeyId::new(3)).unwrap();
    assert_eq!(
        audit.warned.warnings().names(),
        ["KnownConstant", "ZeroDerived"]
    );
    assert_eq!(audit.strict.unwrap_err(), LegacyError::WeakGroupKey);
    let rows = run_all().unwrap();
    let row = rows
        .iter()
        .find(|r| r.attack.starts_with("Constant group key"))
        .unwrap();
    assert!(
        row.legacy.contains("KnownConstant, ZeroDerived"),
        "{}",
        row.legacy
    );
    assert!(row.legacy.contains("WeakGroupKey"), "{}", row.legacy);
}
