//! The paper's seeds, bit for bit: the split and θ_0 that lockin's default
//! `torch` scheme builds for seeds 0, 1, 2 at paper scale hash to the SHA-256
//! digests of the tensors PyTorch itself produces for `tian_eigengap.py
//! --seed s` (docs/methods.md, "Seeds"). Raw little-endian row-major bytes;
//! indices as i64 in permutation order.

use lockin::train::TrainSpec;
use rstest::rstest;
use sha2::{Digest, Sha256};

fn sha256(bytes: impl IntoIterator<Item = u8>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes.into_iter().collect::<Vec<u8>>());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn f32_digest(x: &[f32]) -> String {
    sha256(x.iter().flat_map(|v| v.to_le_bytes()))
}

fn i64_digest(x: &[usize]) -> String {
    sha256(x.iter().flat_map(|&v| (v as i64).to_le_bytes()))
}

#[rstest]
#[case::seed_0(
    0,
    "cd42c061632b795ba05abae044c61305b84722997ca8f81a2ebc1c3ef4f22492",
    "b144df9da227755110c2e8e12f3319a43d037205c16d0378934f2dfdd439d136",
    "afd52d01963e7cf24ae4d07426ece82afa7df7e459c332b1b14daeb957342696",
    "fa7d5bd586a577098abe1a14e514d944da173d646832aca778678f447687b164"
)]
#[case::seed_1(
    1,
    "d40cc9d9c91bb42064904e92f8e4ff5f184d0214f62a6c3e3ad4d9e5f0f0d523",
    "d4dee1f92d2e0421d6eb30b05126d16093e6a3298593ac4e893229d1e8534be0",
    "04c7e5e2d0f2aa24fb2f65ed112f00bcc24a444ab966a831433d18a76bb24389",
    "ebb2bfe501089c5620a8e032d09b608230866968c646da6b6ce58cc333cb0eaa"
)]
#[case::seed_2(
    2,
    "47968bb1c3437644e16cbfee47fed7d45c15cd60984d4b51c2f79be9e9c3c55b",
    "9aac011e4ae9d1bdbffefde35198c7bab1dc8ce39f558f0b41967b928e30ada0",
    "8b75651673b62745a4f2d55f8aa66603a8c18b037e35aa84c725444560ac9e5c",
    "1b996f1d3b5217be2911bffb8cad4d5bd8b1e2d06924b45b718bab88ff12c134"
)]
fn default_scheme_gives_pytorchs_tensors(
    #[case] seed: u64,
    #[case] w: &str,
    #[case] v: &str,
    #[case] train_idx: &str,
    #[case] test_idx: &str,
) {
    let start = TrainSpec { seed, ..TrainSpec::default() }.seeded_start();
    assert_eq!(start.split.train.len(), 2016);
    assert_eq!(f32_digest(&start.weights.w), w, "W [2048, 142], seed {seed}");
    assert_eq!(f32_digest(&start.weights.v), v, "V [71, 2048], seed {seed}");
    assert_eq!(i64_digest(&start.split.train.pairs), train_idx, "train_idx, seed {seed}");
    assert_eq!(i64_digest(&start.split.test.pairs), test_idx, "test_idx, seed {seed}");
}
