//! lockin: a reproducibility harness for Xu, *Feature Repulsion and Spectral
//! Lock-in* (arXiv:2605.08119). See `SPEC.md` in the shared folder (quoted as
//! "SPEC §n" throughout) and the README.

pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod claims;
pub mod data;
pub mod measure;
pub mod metrics;
pub mod model;
pub mod nullable;
pub mod progress;
pub mod report;
pub mod runs;
pub mod train;

/// Every epoch allocates tensors of 16–25 MB; glibc's malloc returns such
/// blocks to the OS and page-faults them back in each time. mimalloc keeps
/// them (measured: see the README's benchmark table).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
