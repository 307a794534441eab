//! `lockin run` refuses a bad spec before touching the disk, with the same
//! message the claim files get (docs/methods.md, "Limits").

use std::process::Command;

use rstest::rstest;

#[rstest]
#[case::window_zero(&["--window", "0"], "--window: must be in 1..=epochs (400), got 0")]
#[case::fraction_above_one(&["--train-fraction", "1.5"], "--train-fraction: must be strictly between 0 and 1, got 1.5")]
#[case::modulus_zero(&["--modulus", "0"], "--modulus: must be in 2..=1024, got 0")]
#[case::modulus_one(&["--modulus", "1"], "--modulus: must be in 2..=1024, got 1")]
#[case::empty_training_set(&["--modulus", "3", "--train-fraction", "0.05"], "gives 0 training and 9 test pairs")]
#[case::negative_eta(&["--eta=-1"], "--eta: must be in [0, 1] (larger freezes Adam), got -1")]
#[case::eta_that_freezes_adam(&["--eta", "1e30"], "--eta: must be in [0, 1] (larger freezes Adam), got 1.000e30")]
#[case::tiny_fraction(&["--train-fraction", "1e-300"], "1.000e-300 of 5041 pairs gives 0 training")]
#[case::zero_width(&["--width", "0"], "--width: must be in 1..=65536, got 0")]
#[case::nan_lr(&["--lr", "nan"], "--lr: must be a finite number > 0, got NaN")]
#[case::div_needs_a_prime_modulus(&["--task", "div", "--modulus", "6"], "--task: task div needs a prime modulus (every b ≠ 0 invertible mod M), got M = 6")]
#[case::momentum_without_sgd(&["--momentum", "0.9"], "--momentum: adam has no momentum (only sgd does), got 0.9")]
#[case::momentum_of_one(&["--optimizer", "sgd", "--momentum", "1"], "--momentum: must be in [0, 1), got 1")]
#[case::label_noise_of_one(&["--label-noise", "1"], "--label-noise: a fraction of the training pairs in [0, 1), got 1")]
#[case::checkpoint_past_end(&["--epochs", "10", "--window", "5", "--checkpoints", "11"], "--checkpoints: epoch 11 is past the last epoch 10")]
fn bad_specs_are_refused_with_the_field(#[case] args: &[&str], #[case] message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_lockin"))
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(message), "expected {message:?} in:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "a refused run left {}", out.display());
}

#[test]
fn theorem6_refuses_zero_pairs_and_missing_runs() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lockin")).arg("theorem6").args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, stderr) = run(&["--run", "/nonexistent/run", "--pairs", "0"]);
    assert_eq!((code, stderr.contains("--pairs: must be ≥ 1")), (Some(3), true), "{stderr}");
    let (code, stderr) = run(&["--run", "/nonexistent/run"]);
    assert_eq!((code, stderr.contains("no such run directory")), (Some(3), true), "{stderr}");
}

/// A reader that goes away (`lockin run ... 2>&1 | head -1`) takes the
/// rest of the text with it, not the run: closed stdout and stderr pipes
/// before the first progress line, and the run still trains, is published
/// whole and exits 0.
#[test]
fn output_into_a_closed_pipe_loses_the_text_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockin"))
        .args(["run", "--modulus", "5", "--width", "8", "--epochs", "20", "--window", "5"])
        .args(["--train-fraction", "0.6", "--out"])
        .arg(dir.path().join("run"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    // The run directory is whole (trained beside and renamed), and nothing
    // partial is left beside it.
    assert!(lockin::runs::Run::load(&dir.path().join("run")).is_ok());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "a partial directory was left");
    // A full stderr (`2> /dev/full`) stopped the training at its first
    // progress line and left a partial directory; the run is published
    // whole, and the status says the output failed.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_lockin"))
        .args(["run", "--modulus", "5", "--width", "8", "--epochs", "20", "--window", "5"])
        .args(["--train-fraction", "0.6", "--out"])
        .arg(dir.path().join("full"))
        .stderr(full)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3), "{status:?}");
    assert!(lockin::runs::Run::load(&dir.path().join("full")).is_ok());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "a partial directory was left");
}

/// A run that ends early (here lr = 1e30 makes the loss non-finite at epoch
/// 1: a divergence, not a collapse, although its NaN outputs drop out of
/// max|o|) is complete and recorded, and says so by exit
/// status 1, not the 2 of a bad command line.
#[test]
fn a_run_that_ends_early_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_lockin"))
        .args(["run", "--quiet", "--modulus", "5", "--width", "8", "--epochs", "20", "--window", "5"])
        .args(["--train-fraction", "0.6", "--lr", "1e30", "--out"])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DIVERGED") && !stderr.contains("COLLAPSED"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
}

/// `--out` a dangling symbolic link trained the whole run, then failed
/// with "Not a directory" and discarded it; it is refused first.
#[test]
fn a_dangling_out_link_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("out");
    std::os::unix::fs::symlink(dir.path().join("nowhere/run"), &link).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_lockin"))
        .args(["run", "--modulus", "5", "--width", "16", "--epochs", "5", "--window", "2", "--out"])
        .arg(&link)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("symbolic link to nothing") && !text.contains("epoch 5"), "{text}");
}

/// `lockin run --task mul` (and `div`) trains a tiny run whose split is
/// labelled by the task, recorded in spec.json; div's split leaves out
/// b = 0 (docs/methods.md, "Tasks").
#[test]
fn a_run_of_another_task_is_labelled_by_it() {
    use lockin::task::Task;
    let dir = tempfile::tempdir().unwrap();
    // round(0.5 · 49) = 24 (half to even); round(0.5 · 7 · 6) = 21.
    for (task, name, pairs, n) in [(Task::Mul, "mul", 49, 24), (Task::Div, "DIV", 42, 21)] {
        let out = dir.path().join(name);
        let output = Command::new(env!("CARGO_BIN_EXE_lockin"))
            .args(["run", "--quiet", "--task", name, "--modulus", "7", "--width", "16", "--epochs", "4"])
            .args(["--window", "2", "--train-fraction", "0.5", "--lr", "0.01", "--checkpoints", "4", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains(&format!("task            {task} (M = 7, {pairs} pairs)")), "{stdout}");
        let run = lockin::runs::Run::load(&out).unwrap();
        assert_eq!(run.spec.task, task);
        let spec_json = std::fs::read_to_string(out.join("spec.json")).unwrap();
        assert!(spec_json.contains(&format!("\"task\": \"{task}\"")), "{spec_json}");
        let split = run.checkpoint(4).unwrap().split.unwrap();
        assert_eq!((split.train.len(), split.train.len() + split.test.len()), (n, pairs));
        for set in [&split.train, &split.test] {
            for k in 0..set.len() {
                let (a, b) = (set.a[k], set.b[k]);
                let want = match task {
                    Task::Mul => (a * b) % 7,
                    _ => (0..7).find(|q| (q * b) % 7 == a).unwrap(),
                };
                assert_eq!(set.labels[k], want, "{task}: ({a}, {b})");
            }
        }
    }
}
