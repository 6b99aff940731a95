//! Generates the JS glue and TypeScript types of letterseal-wasm with
//! `wasm-bindgen-cli-support`, the library behind the `wasm-bindgen` CLI,
//! pinned to the same version as the `wasm-bindgen` runtime (a workspace
//! build: no separate `cargo install`).
//!
//! `letterseal-wasm-bindgen <input.wasm> <out-dir> <nodejs|web>`

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let usage = "usage: letterseal-wasm-bindgen <input.wasm> <out-dir> <nodejs|web>";
    let (Some(input), Some(out_dir), Some(target), None) =
        (args.next(), args.next(), args.next(), args.next())
    else {
        return Err(usage.into());
    };
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(PathBuf::from(input))
        .typescript(true)
        // As the CLI does: the web build's `init()` without an argument fetches
        // `letterseal_wasm_bg.wasm` beside the JS (the library's default omits that path).
        .omit_default_module_path(false)
        .out_name("letterseal_wasm");
    match target.to_str() {
        Some("nodejs") => bindgen.nodejs(true)?,
        Some("web") => bindgen.web(true)?,
        _ => return Err(usage.into()),
    };
    bindgen.generate(PathBuf::from(out_dir))?;
    Ok(())
}
