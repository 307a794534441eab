//! Weights files: checkpoints and `--init-from` imports share one
//! safetensors format (docs/methods.md, "Run directories"):
//!
//! | tensor | dtype | shape | meaning |
//! |---|---|---|---|
//! | `W` | F32 | [K, 2M] | first layer, paper layout |
//! | `V` | F32 | [M, K] | second layer |
//! | `train_idx` | I64 | `[n]` | optional: training pair indices i = a·M + b |
//! | `test_idx` | I64 | [M² − n] | optional (with `train_idx`): the rest |
//!
//! The shapes fix M and K; the indices, when present, must partition the
//! task's pairs (the M² pairs, or the M·(M−1) with b ≠ 0 for `div`;
//! docs/methods.md, "Tasks"), which label them.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::data::{Split, check_partition};
use crate::model::Weights;
use crate::task::Task;

/// The contents of a weights file.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightsFile {
    /// M, from V's shape.
    pub modulus: usize,
    /// K, from V's shape.
    pub width: usize,
    /// W and V.
    pub weights: Weights,
    /// The split, when the file has `train_idx` and `test_idx`.
    pub split: Option<Split>,
}

fn f32_bytes(x: &[f32]) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn i64_bytes(x: &[usize]) -> Vec<u8> {
    x.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect()
}

/// The safetensors bytes of W, V and (optionally) the split.
pub fn to_bytes(modulus: usize, width: usize, weights: &Weights, split: Option<&Split>) -> anyhow::Result<Vec<u8>> {
    let w = f32_bytes(&weights.w);
    let v = f32_bytes(&weights.v);
    let mut tensors = vec![
        ("W".to_string(), TensorView::new(Dtype::F32, vec![width, 2 * modulus], &w)?),
        ("V".to_string(), TensorView::new(Dtype::F32, vec![modulus, width], &v)?),
    ];
    let (train, test);
    if let Some(split) = split {
        train = i64_bytes(&split.train.pairs);
        test = i64_bytes(&split.test.pairs);
        tensors.push(("train_idx".into(), TensorView::new(Dtype::I64, vec![split.train.len()], &train)?));
        tensors.push(("test_idx".into(), TensorView::new(Dtype::I64, vec![split.test.len()], &test)?));
    }
    Ok(safetensors::serialize(tensors, None)?)
}

/// Parse weights-file bytes read from `path` (named in errors); a split
/// is one of `task`'s pairs, labelled by it.
pub fn from_bytes(path: &Path, bytes: &[u8], task: &Task) -> anyhow::Result<WeightsFile> {
    parse(bytes, task).with_context(|| format!("{}: not a valid lockin weights file", path.display()))
}

/// Read and validate a weights file for a run of `task`; errors name the file and the tensor.
pub fn read(path: &Path, task: &Task) -> anyhow::Result<WeightsFile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    from_bytes(path, &bytes, task)
}

fn tensor<'a>(file: &'a SafeTensors<'a>, name: &str, dtype: Dtype, rank: usize) -> anyhow::Result<TensorView<'a>> {
    let view = file.tensor(name).map_err(|_| anyhow::anyhow!("tensor `{name}` is missing"))?;
    ensure!(view.dtype() == dtype, "tensor `{name}` has dtype {:?}, expected {dtype:?}", view.dtype());
    ensure!(view.shape().len() == rank, "tensor `{name}` has shape {:?}, expected rank {rank}", view.shape());
    Ok(view)
}

fn parse(bytes: &[u8], task: &Task) -> anyhow::Result<WeightsFile> {
    let file = SafeTensors::deserialize(bytes)?;
    let v = tensor(&file, "V", Dtype::F32, 2)?;
    let (modulus, width) = (v.shape()[0], v.shape()[1]);
    let w = tensor(&file, "W", Dtype::F32, 2)?;
    ensure!(
        w.shape() == [width, 2 * modulus],
        "tensor `W` has shape {:?}, expected [K, 2M] = [{width}, {}] (from V's [M, K])",
        w.shape(),
        2 * modulus
    );
    let floats = |view: &TensorView| {
        view.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect::<Vec<f32>>()
    };
    let weights = Weights { w: floats(&w), v: floats(&v) };
    ensure!(weights.w.iter().chain(&weights.v).all(|x| x.is_finite()), "`W` or `V` holds a non-finite value");
    let names = file.names();
    let split = match (names.contains(&"train_idx"), names.contains(&"test_idx")) {
        (false, false) => None,
        (true, true) => {
            let indices = |name: &str| -> anyhow::Result<Vec<usize>> {
                let view = tensor(&file, name, Dtype::I64, 1)?;
                view.data()
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .map(|i| usize::try_from(i).map_err(|_| anyhow::anyhow!("`{name}` holds the negative index {i}")))
                    .collect()
            };
            let (train, test) = (indices("train_idx")?, indices("test_idx")?);
            check_partition(task, modulus, &train, &test).map_err(anyhow::Error::msg)?;
            Some(Split::from_task_indices(task, modulus, train, test))
        }
        _ => bail!("`train_idx` and `test_idx` come together: the file has only one of them"),
    };
    Ok(WeightsFile { modulus, width, weights, split })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activation, ModelShape};
    use crate::seeding::RngScheme;

    fn sample() -> (Weights, Split) {
        let shape = ModelShape { modulus: 5, width: 8, activation: Activation::Sqr };
        (Weights::seeded(&shape, 1, RngScheme::Torch), Split::seeded(5, 10, 1, RngScheme::Torch))
    }

    #[test]
    fn round_trips_with_and_without_split() {
        let dir = tempfile::tempdir().unwrap();
        let (weights, split) = sample();
        let path = dir.path().join("a.safetensors");
        std::fs::write(&path, to_bytes(5, 8, &weights, Some(&split)).unwrap()).unwrap();
        let back = read(&path, &Task::Add).unwrap();
        assert_eq!((back.modulus, back.width), (5, 8));
        assert_eq!(back.weights, weights);
        assert_eq!(back.split.unwrap(), split);
        std::fs::write(&path, to_bytes(5, 8, &weights, None).unwrap()).unwrap();
        assert!(read(&path, &Task::Add).unwrap().split.is_none());
    }

    fn error_of(tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let views: Vec<_> =
            tensors.iter().map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap())).collect();
        std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
        format!("{:#}", read(&path, &Task::Add).unwrap_err())
    }

    #[test]
    fn rejects_bad_shapes_dtypes_and_indices() {
        let (weights, _) = sample();
        let (w, v) = (f32_bytes(&weights.w), f32_bytes(&weights.v));
        let e = error_of(vec![("W", Dtype::F32, vec![10, 8], w.clone()), ("V", Dtype::F32, vec![5, 8], v.clone())]);
        assert!(e.contains("bad.safetensors") && e.contains("`W` has shape [10, 8]"), "{e}");
        let e = error_of(vec![("W", Dtype::F32, vec![8, 10], w.clone())]);
        assert!(e.contains("`V` is missing"), "{e}");
        let v64: Vec<u8> = weights.v.iter().flat_map(|x| (*x as f64).to_le_bytes()).collect();
        let e = error_of(vec![("W", Dtype::F32, vec![8, 10], w.clone()), ("V", Dtype::F64, vec![5, 8], v64)]);
        assert!(e.contains("dtype F64"), "{e}");
        let mut train: Vec<usize> = (0..10).collect();
        train[3] = 2;
        let e = error_of(vec![
            ("W", Dtype::F32, vec![8, 10], w.clone()),
            ("V", Dtype::F32, vec![5, 8], v.clone()),
            ("train_idx", Dtype::I64, vec![10], i64_bytes(&train)),
            ("test_idx", Dtype::I64, vec![15], i64_bytes(&(10..25).collect::<Vec<_>>())),
        ]);
        assert!(e.contains("train_idx: pair index 2 appears twice"), "{e}");
        let e = error_of(vec![
            ("W", Dtype::F32, vec![8, 10], w),
            ("V", Dtype::F32, vec![5, 8], v),
            ("train_idx", Dtype::I64, vec![1], i64_bytes(&[0])),
        ]);
        assert!(e.contains("come together"), "{e}");
    }
}
