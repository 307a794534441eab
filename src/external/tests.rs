//! Imports as a user makes them: formats, bad logs, edits after the fact.

use super::*;

const CSV: &str = "epoch,train_acc,test_acc,W_sigma1,W_sigma2,W_sigma3,W_gap23,extra\n\
                   0,0.01,0.02,,,,,7\n1,0.5,0.25,3,2,1,2,7\n2,1,0.75,4,2,0.5,4,7\n";

fn conditions() -> Conditions {
    Conditions {
        activation: Some(Activation::Sqr),
        eta: Some(2e-4),
        seed: Some(0),
        modulus: Some(5),
        width: Some(16),
        n_train: Some(15),
        lr: Some(1e-3),
        window: Some(2),
        ..Conditions::default()
    }
}

/// An import records its task and seeding (`--task`, `--seeding`); a run of
/// one task serves no request of another, and the difference is named (#46).
#[test]
fn an_import_records_its_task_and_seeding() {
    use crate::task::Task;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(&log, CSV).unwrap();
    let mul = Conditions { task: Some(Task::Mul), rng: Some(RngScheme::External), ..conditions() };
    let run = import(&log, None, mul, "numpy trainer", "cpu", &dir.path().join("mul")).unwrap();
    let json = std::fs::read_to_string(dir.path().join("mul/imported.json")).unwrap();
    assert!(json.contains(r#""task": "mul""#) && json.contains(r#""rng": "external""#), "{json}");
    let add = TrainSpec { task: Task::Add, rng: RngScheme::Torch, epochs: 1, ..run.run.spec.clone() };
    assert!(run.serving(&add).is_none());
    assert_eq!(run.objective_mismatch(&add).unwrap(), "task mul, not add; seeding external, not torch");
    let mul_torch = TrainSpec { task: Task::Mul, ..add.clone() };
    assert_eq!(run.objective_mismatch(&mul_torch).unwrap(), "seeding external, not torch");
    assert!(run.objective_mismatch(&TrainSpec { seed: 9, ..add.clone() }).is_none(), "another seed is another run");
    let torch_mul = Conditions { task: Some(Task::Mul), ..conditions() };
    let run = import(&log, None, torch_mul, "numpy trainer", "cpu", &dir.path().join("mul-torch")).unwrap();
    assert!(run.serving(&mul_torch).is_some() && run.objective_mismatch(&mul_torch).is_none());
    let adamw = TrainSpec { optimizer: Optimizer::Adamw, ..mul_torch };
    assert_eq!(run.objective_mismatch(&adamw).unwrap(), "optimizer adam, not adamw");
    // Division's fraction is of its M·(M − 1) pairs: 15 of 20 at M = 5.
    let div = Conditions { task: Some(Task::Div), ..conditions() };
    let run = import(&log, None, div, "numpy trainer", "cpu", &dir.path().join("div")).unwrap();
    assert_eq!((run.run.spec.n_train(), run.run.spec.train_fraction), (15, 0.75));
}

#[test]
fn a_csv_log_becomes_a_run_with_its_columns_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(&log, CSV).unwrap();
    let run = import(&log, None, conditions(), "test", "cpu", &dir.path().join("run")).unwrap();
    assert_eq!(run.provenance.columns, ["train_acc", "test_acc", "w_sigma1", "w_sigma2", "w_sigma3", "w_gap23"]);
    assert_eq!(run.provenance.ignored, ["extra"]);
    assert_eq!(run.run.metrics.w_gap23()[2], 4.0);
    assert!(run.run.metrics.rows[1].w.sigma[3].is_nan(), "σ4 is not in the file: undefined");
    assert_eq!((run.run.spec.epochs, crate::data::n_train(5, run.run.spec.train_fraction)), (2, 15));
    assert!(run.has("w_gap23") && !run.has("w_sigma4"));
    let serve = TrainSpec { epochs: 1, ..run.run.spec.clone() };
    assert_eq!(run.serving(&serve).unwrap().metrics.rows.len(), 2);
    assert!(run.serving(&TrainSpec { seed: 1, ..serve.clone() }).is_none());
    // Matched by lockin's run identity: a perturbed start or a run through
    // a collapse is another run; the backend, arithmetic and Gram are the
    // other framework's own.
    assert!(run.serving(&TrainSpec { perturb: Some(1), ..serve.clone() }).is_none());
    assert!(run.serving(&TrainSpec { through_collapse: true, ..serve.clone() }).is_none());
    let gram = crate::probes::spectrum::GramPrecision::F32;
    assert!(run.serving(&TrainSpec { gram, ieee_subnormals: true, ..serve }).is_some());
}

#[test]
fn the_paper_script_s_jsonl_and_config_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    std::fs::write(&log, "{\"epoch\": 0, \"train_acc\": 0.1, \"W_gap23\": NaN}\n{\"epoch\": 1, \"train_acc\": 1.0, \"W_gap23\": 2.5}\n{\"epoch\": 2, \"train_acc\": 1.0, \"W_gap23\": Infinity}\n")
        .unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"M": 5, "K": 16, "eta": 0.0002, "lr": 0.001, "seed": 3, "window": 2, "n_train": 15}"#)
        .unwrap();
    let given = Conditions { activation: Some(Activation::Sqr), ..Conditions::default() };
    let run = import(&log, Some(&config), given, "PyTorch", "mps", &dir.path().join("run")).unwrap();
    assert_eq!((run.run.spec.seed, run.provenance.format.as_str()), (3, "paper-jsonl"));
    assert!(run.run.metrics.w_gap23()[0].is_nan() && run.run.metrics.w_gap23()[1] == 2.5);
}

/// A config value of the wrong type is an error naming its key, never
/// taken for an absent one; a whole number written as 23.0 is read; an
/// activation's case does not matter.
#[test]
fn config_values_of_the_wrong_type_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    std::fs::write(&log, "{\"epoch\": 0, \"train_acc\": 0.1}\n{\"epoch\": 1, \"train_acc\": 1.0}\n").unwrap();
    let config = dir.path().join("config.json");
    let base = r#""K": 16, "lr": 0.001, "window": 1, "n_train": 15, "activation": "ReLU""#;
    let import_with = |extra: &str, out: &str| {
        std::fs::write(&config, format!("{{{base}, {extra}}}")).unwrap();
        import(&log, Some(&config), Conditions::default(), "PyTorch", "cpu", &dir.path().join(out))
    };
    let run = import_with(r#""M": 5.0, "eta": 0.0002, "seed": 3"#, "ok").unwrap();
    assert_eq!((run.run.spec.modulus, run.run.spec.activation), (5, Activation::Relu));
    for (extra, says) in [
        (r#""M": 23.5, "eta": 0.0002, "seed": 3"#, "`M` is 23.5, expected a whole number"),
        (r#""M": 5, "eta": "2e-4", "seed": 3"#, "`eta` is \"2e-4\", expected a number"),
        (r#""M": 5, "eta": 0.0002, "seed": -1"#, "`seed` is -1, expected a whole number"),
    ] {
        let e = format!("{:#}", import_with(extra, "bad").unwrap_err());
        assert!(e.contains(says), "{extra}: {e}");
    }
}

/// Hostile inputs: the paper script's jsonl, whose first row has
/// `W_gap23: NaN`, keeps its gap column; an `inf` cell is undefined (it
/// must not make the detector fire); unread text
/// columns are not parsed; a BOM is skipped.
#[test]
fn imports_keep_what_the_file_has_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.JSONL");
    std::fs::write(&log, "{\"epoch\": 0, \"W_gap23\": NaN, \"note\": \"x\"}\n{\"epoch\": 1, \"W_gap23\": 2.0}\n{\"epoch\": 2, \"W_gap23\": 3.0}\n").unwrap();
    let run = import(&log, None, conditions(), "t", "d", &dir.path().join("a")).unwrap();
    assert_eq!(run.provenance.columns, ["w_gap23"]);
    let csv = dir.path().join("log.csv");
    std::fs::write(&csv, "\u{feff}epoch,W_gap23,note\n0,,hello\n1,inf,x\n2,4,y\n").unwrap();
    let run = import(&csv, None, conditions(), "t", "d", &dir.path().join("b")).unwrap();
    assert!(run.run.metrics.w_gap23()[1].is_nan() && run.run.metrics.w_gap23()[2] == 4.0);
    assert_eq!(run.provenance.ignored, ["note"]);
    let twice = dir.path().join("twice.csv");
    std::fs::write(&twice, "epoch,W_gap23,w_gap23\n0,1,2\n").unwrap();
    let e = format!("{:#}", import(&twice, None, conditions(), "t", "d", &dir.path().join("c")).unwrap_err());
    assert!(e.contains("is `w_gap23` again"), "{e}");
}

#[test]
fn bad_logs_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |name: &str, text: &str| {
        let log = dir.path().join(name);
        std::fs::write(&log, text).unwrap();
        format!(
            "{:#}",
            import(&log, None, conditions(), "t", "d", &dir.path().join(format!("{name}-run"))).unwrap_err()
        )
    };
    assert!(bad("a.csv", "epoch,train_acc\n0,0.1\n2,0.2\n").contains("row 2 holds epoch 2, expected 1"));
    assert!(bad("b.csv", "train_acc\n0.1\n").contains("no `epoch` column"));
    assert!(bad("c.csv", "epoch,train_acc\n0,abc\n").contains("line 2, column train_acc: `abc` is not a number"));
    let log = dir.path().join("d.csv");
    std::fs::write(&log, "epoch,train_acc\n0,0.1\n1,0.2\n").unwrap();
    let unknown = Conditions { seed: None, ..conditions() };
    let e = format!("{:#}", import(&log, None, unknown, "t", "d", &dir.path().join("d-run")).unwrap_err());
    assert!(e.contains("the log's seed is not known"), "{e}");
    // Impossible values were imported and judged.
    let e = bad("p.csv", "epoch,test_acc\n0,5.19\n1,100\n");
    assert!(
        e.contains("column test_acc, row 1 (epoch 0): 5.19 is outside its domain [0, 1]") && e.contains("percent"),
        "{e}"
    );
    let e = bad("n.csv", "epoch,test_acc\n0,-0.3\n1,0.5\n");
    assert!(e.contains("-0.3 is outside") && !e.contains("percent"), "{e}");
    assert!(
        bad("s.csv", "epoch,w_sigma1\n0,1\n1,-2\n")
            .contains("column w_sigma1, row 2 (epoch 1): -2 is outside its domain [0, ∞)")
    );
}

/// Log forms a user meets: quoted cells, other separators, CR line
/// ends, trailing commas, one row, JSON lines under another name, keys
/// that differ in case, `NaN` inside a key, empty provenance.
#[test]
fn log_forms_are_read_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..=20).map(|e| format!("{e},0.5\n")).collect();
    let try_import = |name: &str, text: &str| {
        let log = dir.path().join(name);
        std::fs::write(&log, text).unwrap();
        import(&log, None, conditions(), "t", "d", &dir.path().join(format!("{name}-run")))
    };
    let quoted: String = (0..=20).map(|e| format!("\"{e}\",\"0.5\"\n")).collect();
    assert!(try_import("q.csv", &format!("\"epoch\",\"train_acc\"\n{quoted}")).is_ok());
    let cr = format!("epoch,train_acc\n{rows}").replace('\n', "\r");
    assert!(try_import("cr.csv", &cr).is_ok(), "CR-only line ends");
    let trailing: String = (0..=20).map(|e| format!("{e},0.5,\n")).collect();
    let run = try_import("t.csv", &format!("epoch,train_acc,\n{trailing}")).unwrap();
    assert!(run.provenance.ignored.is_empty(), "{:?}", run.provenance.ignored);
    let e = format!("{:#}", try_import("s.csv", "epoch;train_acc\n0;0.5\n").unwrap_err());
    assert!(e.contains("separated by \";\""), "{e}");
    let e = format!("{:#}", try_import("one.csv", "epoch,train_acc\n0,0.5\n").unwrap_err());
    assert!(e.contains("one row (epoch 0) only"), "{e}");
    let lines: String =
        (0..=20).map(|e| format!("{{\"epoch\": {e}, \"train_acc\": 0.5, \"NaN_count\": NaN}}\n")).collect();
    let run = try_import("log.txt", &lines).unwrap();
    assert_eq!(run.provenance.format, "paper-jsonl");
    assert_eq!(run.provenance.ignored, ["nan_count"], "a key holding `NaN` is kept as written");
    let e =
        format!("{:#}", try_import("c.jsonl", "{\"epoch\": 0, \"Train_acc\": 0.1, \"train_acc\": 0.2}\n").unwrap_err());
    assert!(e.contains("two keys are `train_acc`"), "{e}");
    let log = dir.path().join("p.csv");
    std::fs::write(&log, format!("epoch,train_acc\n{rows}")).unwrap();
    let e = format!("{:#}", import(&log, None, conditions(), "", "d", &dir.path().join("p")).unwrap_err());
    assert!(e.contains("--framework"), "{e}");
}

/// Two imported runs of one seed: the first in name order won, so
/// renaming the directories flipped the verdict. Refused.
#[test]
fn two_imports_of_one_seed_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let rows: String = (0..=20).map(|e| format!("{e},0.5\n")).collect();
    std::fs::write(&log, format!("epoch,train_acc\n{rows}")).unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    for name in ["a", "b"] {
        import(&log, None, conditions(), "t", "d", &runs.join(name)).unwrap();
    }
    let e = format!("{:#}", ImportedRun::load_all(&runs).unwrap_err());
    assert!(e.contains("are both seed") && e.contains("keep one"), "{e}");
}

/// Editing, truncating or re-labelling an import after the fact was
/// judged silently; every read now checks each file's hash.
#[test]
fn an_edited_import_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let rows: String = (0..=20).map(|e| format!("{e},0.5\n")).collect();
    std::fs::write(&log, format!("epoch,train_acc\n{rows}")).unwrap();
    for (name, file, edit) in [
        ("metrics", "metrics.csv", &(|t: String| t.replacen("5e-1", "6e-1", 1)) as &dyn Fn(String) -> String),
        ("truncated", "metrics.csv", &|t: String| t.lines().take(10).map(|l| format!("{l}\n")).collect()),
        ("seed", "imported.json", &|t: String| t.replacen("\"seed\": 0", "\"seed\": 1", 1)),
    ] {
        let out = dir.path().join(name);
        import(&log, None, conditions(), "t", "d", &out).unwrap();
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let edited = edit(text.clone());
        assert_ne!(edited, text, "{name}: the edit must change the file");
        std::fs::write(out.join(file), edited).unwrap();
        let e = format!("{:#}", ImportedRun::load(&out).unwrap_err());
        assert!(e.contains("changed since it was imported") && e.contains(file), "{name}: {e}");
    }
}

/// A loss logged every 10 epochs (blank cells between) was read as a
/// divergence at epoch 1; a loss logged as NaN is one.
#[test]
fn blank_loss_cells_are_not_logged_and_nan_ones_diverge() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..=30).map(|e| format!("{e},{}\n", if e % 10 == 0 { "0.5" } else { "" })).collect();
    let sparse = dir.path().join("sparse.csv");
    std::fs::write(&sparse, format!("epoch,train_loss\n{rows}")).unwrap();
    let run = import(&sparse, None, conditions(), "t", "d", &dir.path().join("sparse")).unwrap();
    assert_eq!(run.run.summary.diverged_at, None);
    let nan = dir.path().join("nan.csv");
    std::fs::write(&nan, "epoch,train_loss\n0,0.5\n1,\n2,nan\n3,\n").unwrap();
    let run = import(&nan, None, conditions(), "t", "d", &dir.path().join("nan")).unwrap();
    assert_eq!(run.run.summary.diverged_at, Some(2));
}
