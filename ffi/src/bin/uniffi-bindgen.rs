//! The UniFFI bindgen, pinned to the same release as the library's runtime: generates the
//! Python (or Kotlin, Swift, Ruby) sources from the compiled `letterseal_ffi` library.
//! See `ffi/README.md`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
