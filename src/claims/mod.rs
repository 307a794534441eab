//! Claims: YAML files that state a figure of the paper, the experiments that
//! test it, the measurement and the tolerance (docs/claims.md; definitions in
//! docs/methods.md). `schema` is their raw form, `load` reads them and
//! `validate` checks them
//! (`experiment`, `grid` and `expectation` their parts), `measure` computes
//! their quantities (`value`: a number or its bounds), `tolerance` compares,
//! `check` judges one check, `grade` measures a miss in the paper's printed
//! units, `judge` resolves the runs and judges each claim, `record` writes
//! what the checks did into a file, `imported` judges claims on runs made
//! elsewhere, `runner` resolves and trains a claim's runs, `pool` trains
//! them and judges the claims on one pool of workers, `verify` drives a
//! whole verification.

pub mod check;
pub mod expectation;
pub mod experiment;
pub mod grade;
pub mod grid;
pub mod hints;
pub mod imported;
pub mod inventory;
pub mod judge;
pub mod load;
pub mod measure;
pub mod pool;
pub mod problem;
pub mod record;
pub mod results;
pub mod runner;
pub mod schema;
pub mod tier;
pub mod tolerance;
mod validate;
pub mod value;
pub mod verify;

pub use expectation::{CheckState, Expectation};
pub use grade::{Grade, Reading};
pub use grid::Expanded;
pub use judge::{ClaimResult, Verdict};
pub use load::{Claim, LoadError, default_dir, load, load_dir};
pub use measure::{MeasureSpec, Measurement};
pub use problem::Problem;
pub use runner::Runner;
pub use schema::{Outcome, RawClaim, RecordedOutcome};
pub use tier::Tier;
pub use tolerance::Tolerance;
pub use value::Value;
