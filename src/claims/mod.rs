//! Claims: YAML files that state a figure of the paper, the experiments that
//! test it, the measurement and the tolerance (docs/claims.md; definitions in
//! docs/methods.md). `schema` is their raw form, `load` reads them and
//! `validate` checks them
//! (`experiment`, `grid` and `expectation` their parts), `measure` computes
//! their quantities (`value`: a number or its bounds), `tolerance` compares,
//! `check` judges one check, `grade` measures a miss in the paper's printed
//! units, `judge` resolves the runs and judges each claim, `record` writes
//! what the checks did into a file, `imported` judges claims on runs made
//! elsewhere, `verify` drives a whole verification.

pub mod check;
pub mod expectation;
pub mod experiment;
pub mod grade;
pub mod grid;
pub mod imported;
pub mod judge;
pub mod load;
pub mod measure;
pub mod record;
pub mod schema;
pub mod tolerance;
mod validate;
pub mod value;
pub mod verify;

use serde::{Deserialize, Serialize};

pub use expectation::{CheckState, Expectation};
pub use grade::{Grade, Reading};
pub use grid::Expanded;
pub use judge::{ClaimResult, Runner, Verdict};
pub use load::{Claim, LoadError, load, load_dir};
pub use measure::{MeasureSpec, Measurement};
pub use schema::{Outcome, RawClaim, RecordedOutcome};
pub use tolerance::Tolerance;
pub use value::Value;

/// What is wrong in a claim file: the field at fault and why (the loader
/// adds the file and the line: [`LoadError`]). Every validation step of
/// the claim files reports in this one shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field, as the file names it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: String, message: String) -> Self {
        Self { field, message }
    }
}

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

/// The claim files' directory of the checkout ([`crate::project::root`]).
pub fn default_dir() -> std::path::PathBuf {
    crate::project::root().join("claims")
}
