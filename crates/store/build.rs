//! No build step of its own. Its build-dependencies pin the features of crates shared by
//! build scripts and proc-macros (the "host" side): libduckdb-sys's build script depends on
//! serde_derive and therefore syn, so any new proc-macro dependency that turned on another syn
//! feature would make cargo re-run that script, which recompiles bundled DuckDB (about 35
//! minutes). With every syn feature already on, adding dependencies leaves DuckDB alone.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
