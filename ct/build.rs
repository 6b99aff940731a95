//! Compiles the valgrind client-request shim (`src/shim.c`).
//!
//! The header is `<valgrind/memcheck.h>`; set `VALGRIND_INCLUDE` to the
//! directory that contains `valgrind/` if it is not in the default include path
//! (Debian/Ubuntu: package `valgrind`, header in /usr/include/valgrind/).
fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    println!("cargo:rerun-if-env-changed=VALGRIND_INCLUDE");
    let mut build = cc::Build::new();
    build.file("src/shim.c").opt_level(2).warnings(true);
    if let Ok(dir) = std::env::var("VALGRIND_INCLUDE") {
        build.include(dir);
    }
    build.compile("ctshim");
}
