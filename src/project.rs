//! Where the project's own files are (its claims, the default cache and
//! results), found at run time: a copied or moved checkout, or a binary
//! built into a shared target directory, still finds the checkout it runs in.

use std::path::{Path, PathBuf};

/// Whether `dir` is a lockin checkout: a `Cargo.toml` beside a `claims/` directory.
fn is_root(dir: &Path) -> bool {
    dir.join("claims").is_dir() && dir.join("Cargo.toml").is_file()
}

/// The checkout: the nearest ancestor that is one of the directory cargo
/// names in `CARGO_MANIFEST_DIR` (set for `cargo run`, `cargo test` and
/// `cargo xtask`), of the working directory, or of the executable; the
/// directory this was built from if none is.
pub fn root() -> PathBuf {
    let starts = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
        std::env::current_exe().ok(),
    ];
    starts
        .into_iter()
        .flatten()
        .find_map(|start| start.ancestors().find(|d| is_root(d)).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// `target/lockin` in the checkout: the default cache, results and report.
pub fn output_dir() -> PathBuf {
    root().join("target").join("lockin")
}
