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
    found_root().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The checkout found from cargo's directory, the working directory or the
/// executable, if any.
fn found_root() -> Option<PathBuf> {
    let starts = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
        std::env::current_exe().ok(),
    ];
    starts.into_iter().flatten().find_map(|start| start.ancestors().find(|d| is_root(d)).map(Path::to_path_buf))
}

/// A note to print when no checkout was found and the one the binary was
/// built from is used for its defaults (claims, cache, results): run
/// outside a checkout, a user should know which files are read.
pub fn fallback_note() -> Option<String> {
    found_root().is_none().then(|| {
        format!(
            "note: not inside a lockin checkout; using the one this was built from, {}, for its claims/ and target/lockin/",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

/// `target/lockin` in the checkout: the default cache, results and report.
pub fn output_dir() -> PathBuf {
    root().join("target").join("lockin")
}
