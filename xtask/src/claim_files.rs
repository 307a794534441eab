//! `list-claims`, `new-claim` and `readme`: the claim files and the README's table.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use lockin::claims::{ClaimResult, Tier, default_dir, load_dir};

use super::verify::results_path;

const TEMPLATE: &str = include_str!("claim-template.yaml");

/// `list-claims`: every claim file and whether it loads (status 3 if one does not).
pub fn list(dir: &Path) -> anyhow::Result<ExitCode> {
    let mut broken = false;
    for entry in load_dir(dir)? {
        broken |= entry.is_err();
        match entry {
            Ok(c) => {
                println!("{:<5} {:<26} {}  ({})", c.raw.id, c.outcome.describe(), c.raw.title, c.path.display())
            }
            Err(e) => println!("ERROR {e}"),
        }
    }
    Ok(if broken { ExitCode::from(super::status::ERROR) } else { ExitCode::SUCCESS })
}

/// `new-claim ID`: `claims/ID-new-claim.yaml` from the template, if the id is free.
pub fn new_claim(id: &str) -> anyhow::Result<ExitCode> {
    lockin::claims::schema::check_id(id).map_err(anyhow::Error::msg)?;
    let dir = default_dir();
    let taken = std::fs::read_dir(&dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| name.split(['-', '.']).next() == Some(id));
    if let Some(name) = taken {
        bail!("claim id {id} is taken by {}", dir.join(name).display());
    }
    let path = dir.join(format!("{id}-new-claim.yaml"));
    std::fs::write(&path, TEMPLATE.replace("ID", id)).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("wrote {}: edit it, then `cargo test {id}` and review its snapshot", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `readme`: the README's results table from both tiers' results files (a
/// tier not yet verified shows as "—" in its column).
pub fn readme() -> anyhow::Result<ExitCode> {
    let tier_results = |tier: Tier| {
        let path = results_path(tier);
        if path.exists() {
            read_results(&path)
        } else {
            eprintln!("note: {} is missing; its column shows —", path.display());
            Ok(Vec::new())
        }
    };
    let (quick, paper) = (tier_results(Tier::Quick)?, tier_results(Tier::Paper)?);
    let path = lockin::project::root().join("README.md");
    let readme = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let table = lockin::report::readme::table(&quick, &paper);
    lockin::files::write_atomic(&path, lockin::report::readme::splice(&readme, &table)?.as_bytes())?;
    println!("{}: results table of {} claims rewritten", path.display(), quick.len().max(paper.len()));
    Ok(ExitCode::SUCCESS)
}

/// The claim results stored in a results file.
fn read_results(path: &Path) -> anyhow::Result<Vec<ClaimResult>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (run `cargo xtask verify-claims` at that tier first)", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_value(json["claims"].clone()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
