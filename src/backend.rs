//! Backend selection: burn 0.22 picks the backend at run time through a
//! [`Device`]; each backend is a cargo feature of `burn`.
//!
//! `flex` is the default: faster than `ndarray` (the first backend lockin used) on this
//! machine (README, "Speed"); both are deterministic run to run. `wgpu` exists only in builds with `--features wgpu`.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// A burn backend the harness can train on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-ndarray on the CPU (deprecated in burn 0.22).
    Ndarray,
    /// burn-flex, burn 0.22's pure-Rust CPU backend: the default, because
    /// it is the faster of the two here (README, "Speed").
    #[default]
    Flex,
    /// burn-wgpu (Vulkan, Metal, DX12); needs the `wgpu` cargo feature.
    Wgpu,
}

impl Backend {
    /// The lowercase name used on the command line and in run specs.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Flex => "flex",
            Backend::Wgpu => "wgpu",
        }
    }

    /// Whether this build can run the backend.
    pub fn available(self) -> bool {
        !matches!(self, Backend::Wgpu) || cfg!(feature = "wgpu")
    }

    /// Nothing, or the one error for a backend this build lacks.
    pub fn check_built(self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.available(),
            "backend {} is not in this build: rebuild with `--features {}`",
            self.name(),
            self.name()
        );
        Ok(())
    }

    /// The device to train on. Panics for wgpu in a build without the
    /// feature; callers check [`Backend::available`] first.
    #[allow(deprecated)] // burn-ndarray is deprecated in 0.22 but still supported here
    pub fn device(self) -> Device {
        match self {
            Backend::Ndarray => Device::ndarray(),
            Backend::Flex => Device::flex(),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => panic!("this build has no wgpu backend: rebuild with `--features wgpu`"),
        }
    }
}
