//! The two tiers a claim is judged at (docs/claims.md, "Fields").

use serde::{Deserialize, Serialize};

/// Which seeds to run: the paper's, or `cargo test`'s quick set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The paper's setup with fewer seeds, as each claim file says (`cargo test`).
    #[default]
    Quick,
    /// The paper's seeds, as each claim file says.
    Paper,
}

impl Tier {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Quick => "quick",
            Tier::Paper => "paper",
        }
    }
}
