//! README.md's "Using it in your app" shows the native-randomness code of
//! `cli/examples/native_randomness.rs` (compiled and run by the CLI's tests) line for line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

/// The lines of the example between its snippet markers, without the function body's indent.
fn example_snippet() -> Vec<String> {
    let example = read("examples/native_randomness.rs");
    let start = example.find("// README snippet: start\n").unwrap();
    let end = example.find("    // README snippet: end\n").unwrap();
    let body = &example[start..end];
    body.lines()
        .skip(1)
        .map(|line| line.strip_prefix("    ").unwrap_or(line).to_string())
        .collect()
}

/// The lines of the one `rust,ignore` block of the README's "Using it in your app" section.
fn readme_snippet() -> Vec<String> {
    let readme = read("../README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Using it in your app\n"))
        .expect("README.md has a section \"Using it in your app\"");
    let blocks: Vec<&str> = section.split("```rust,ignore\n").skip(1).collect();
    assert_eq!(blocks.len(), 1, "one rust,ignore block");
    let block = blocks[0].split("\n```").next().unwrap();
    block.lines().map(str::to_string).collect()
}

#[test]
fn the_readme_shows_the_compiled_native_randomness_example() {
    let example = example_snippet();
    assert!(example.len() > 5, "{example:?}");
    assert_eq!(readme_snippet(), example);
}
