//! lockin: a reproducibility harness for Xu, *Feature Repulsion and Spectral
//! Lock-in* (arXiv:2605.08119). What it computes is defined in `docs/methods.md`
//! (cited by section throughout), the claim files in `docs/claims.md`; usage is
//! in the README.

pub mod allocator;
pub mod backend;
pub mod bench;
pub mod cache;
pub mod checkpoint;
pub mod claims;
pub mod console;
pub mod data;
pub mod estimate;
pub mod external;
pub mod files;
pub mod format;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod nullable;
pub mod numerics;
pub mod plan;
pub mod probes;
pub mod progress;
pub mod project;
pub mod report;
pub mod run_name;
pub mod runs;
pub mod seeding;
pub mod summary;
pub mod task;
pub mod theorem6_store;
pub mod train;
