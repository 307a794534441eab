//! Helpers shared by the integration tests that verify claim directories.

use std::path::Path;

use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::Tier;
use lockin::claims::verify::VerifyOptions;

/// A quiet quick-tier verification of the claims in `claims` on `backend`.
pub fn options(claims: &Path, cache: &Path, backend: Backend) -> VerifyOptions {
    VerifyOptions {
        claims_dir: claims.into(),
        tier: Tier::Quick,
        backend,
        select: vec![],
        cache: Cache::new(cache),
        fresh: false,
        quiet: true,
        jobs: Some(1),
    }
}
