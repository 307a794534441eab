//! Where the project's own files are (its claims, the default cache and
//! results), found at run time: a copied or moved checkout, or a binary
//! built into a shared target directory, still finds the checkout it runs in.

use std::path::{Path, PathBuf};

/// Whether `dir` is a lockin checkout: a `Cargo.toml` beside a `claims/` directory.
fn is_root(dir: &Path) -> bool {
    dir.join("claims").is_dir() && dir.join("Cargo.toml").is_file()
}

/// The checkout: the nearest ancestor that is one of the working directory
/// (the [current](current_root) one), of the directory cargo names in
/// `CARGO_MANIFEST_DIR` (set for `cargo run`, `cargo test` and `cargo
/// xtask`), or of the executable; the directory this was built from if
/// none is. What is read by default (claims, snapshots) comes from here;
/// what is written by default goes only into the current checkout
/// ([`writable_root`]).
pub fn root() -> PathBuf {
    found_root().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The checkout the working directory is in, if any.
pub fn current_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().find(|d| is_root(d)).map(Path::to_path_buf)
}

/// The checkout found from the working directory, cargo's directory or the
/// executable, if any.
fn found_root() -> Option<PathBuf> {
    let starts = [
        std::env::current_dir().ok(),
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_exe().ok(),
    ];
    starts.into_iter().flatten().find_map(|start| start.ancestors().find(|d| is_root(d)).map(Path::to_path_buf))
}

/// The checkout that default outputs (`what`, e.g. "the report") may be
/// written into: the current one. Outside a checkout nothing is written
/// into another (the one the binary was built from, or the one cargo
/// names): an error says which option names the path instead (`how`).
pub fn writable_root(what: &str, how: &str) -> anyhow::Result<PathBuf> {
    current_root().ok_or_else(|| {
        anyhow::anyhow!(
            "not inside a lockin checkout, so {what} is not written into the one at {} by default: {how}",
            root().display()
        )
    })
}

/// A note to print when no checkout was found and the one the binary was
/// built from is used for its defaults (claims, cache, results): run
/// outside a checkout, a user should know which files are read.
pub fn fallback_note() -> Option<String> {
    found_root().is_none().then(|| {
        format!(
            "note: not inside a lockin checkout; reading the claims of the one this was built from, {} (nothing is written there)",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

/// `target/lockin` in the current checkout, for `what` (the default
/// results, report or cache); elsewhere an error saying to name it with
/// `how` ([`writable_root`]).
pub fn output_dir(what: &str, how: &str) -> anyhow::Result<PathBuf> {
    Ok(writable_root(what, how)?.join("target").join("lockin"))
}
