//! Each published attack on Letter Sealing works against the legacy format (the
//! documented behaviour) and fails against LS3 (SPEC.md §11.8, SECURITY.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal_cli::attacks::run_all;

#[test]
fn every_attack_works_on_legacy_and_fails_on_ls3() {
    let rows = run_all().unwrap();
    assert_eq!(rows.len(), 6);
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
}
