//! The claims engine end to end on tiny experiments (M = 5, K = 16): loading,
//! broken files, verdicts against recorded outcomes, the cache, results.json.

use std::path::Path;

mod common;

use common::options;
use lockin::backend::Backend;
use lockin::claims::Tier;
use lockin::claims::judge::Verdict;
use lockin::claims::results::{succeeded, summary_line, write_results};
use lockin::claims::verify::{VerifyOptions, verify};

const TINY: &str = "{activation: sqr, eta: 1.0e-3, epochs: 40, window: 5, modulus: 5, width: 16, train_fraction: 0.6, lr: 1.0e-2, seeds: {paper: 2, quick: 2}}";

/// A claim with one check; its `recorded` state follows the outcome (a
/// negative outcome records the check as failing, at that tier).
fn claim(id: &str, outcome: &str, quantity: &str, tolerance: &str, measure: &str) -> String {
    let recorded = match outcome {
        "reproduces" => "holds",
        "does-not-reproduce" => "fails",
        _ => "{quick: fails, paper: holds}",
    };
    format!(
        "id: {id}\ntitle: tiny\nsource: test\nstatement: tiny\npaper: \"-\"\noutcome: {outcome}\n{}experiments:\n  grok: {TINY}\nmeasures:\n  - {measure}\nexpect:\n  - quantity: {quantity}\n    tolerance: {tolerance}\n    recorded: {recorded}\n",
        if outcome == "does-not-reproduce" { "finding: measured otherwise\n" } else { "" }
    )
}

const DETECTOR: &str = "{kind: detector, condition: grok, detector: {lag: 5, min_epoch: 10}}";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn verdicts_follow_recorded_outcomes_and_broken_files_do_not_stop_the_rest() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let d = claims.path();
    write(d, "T1-holds.yaml", &claim("T1", "reproduces", "seeds", "{equals: 2}", DETECTOR));
    write(d, "T2-recorded-negative.yaml", &claim("T2", "does-not-reproduce", "seeds", "{equals: 3}", DETECTOR));
    write(d, "T3-regression.yaml", &claim("T3", "reproduces", "seeds", "{equals: 3}", DETECTOR));
    write(
        d,
        "T4-broken.yaml",
        &claim("T4", "reproduces", "seeds", "{equals: 2}", DETECTOR).replace("tolerance:", "tolerence:"),
    );
    write(
        d,
        "T5-identity.yaml",
        &claim(
            "T5",
            "reproduces",
            "exact_min",
            "{equals: 1}",
            "{kind: sign-rule, condition: grok, epochs: [10, 40], pairs: 5}",
        ),
    );
    write(
        d,
        "T7-per-tier.yaml",
        &claim("T7", "{quick: does-not-reproduce, paper: reproduces}", "seeds", "{equals: 3}", DETECTOR)
            .replace("outcome:", "finding: differs by tier\noutcome:"),
    );
    write(d, "T6-bad-ref.yaml", &claim("T6", "reproduces", "seeds", "{equals: 2}", "{kind: detector, condition: grk}"));

    let opts = options(d, cache.path(), Backend::Ndarray);
    let results = verify(&opts).unwrap();
    let verdict = |id: &str| results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("{id} missing")).verdict;
    assert_eq!(verdict("T1"), Verdict::Pass);
    assert_eq!(verdict("T2"), Verdict::Pass); // recorded as not reproducing, and it does not
    assert_eq!(verdict("T3"), Verdict::Fail);
    assert_eq!(verdict("T4"), Verdict::Error);
    assert_eq!(verdict("T5"), Verdict::Pass);
    assert_eq!(verdict("T6"), Verdict::Error);
    assert_eq!(verdict("T7"), Verdict::Pass); // 2 seeds ≠ 3 at the quick tier, recorded as such
    let t4 = results.iter().find(|r| r.id == "T4").unwrap().error.clone().unwrap();
    assert!(t4.contains("T4-broken.yaml:") && t4.contains("tolerence"), "{t4}");
    let t6 = results.iter().find(|r| r.id == "T6").unwrap().error.clone().unwrap();
    assert!(t6.contains("T6-bad-ref.yaml:10") && t6.contains("`grk`"), "{t6}");
    assert_eq!(summary_line(&results), "4 passed, 1 failed, 2 errors");
    assert!(!succeeded(&results), "a failed or broken claim makes verify-claims, report and list-claims exit 1");

    let json_path = cache.path().join("results.json");
    write_results(&json_path, &results).unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["counts"]["passed"], 4);
    assert_eq!(json["claims"].as_array().unwrap().len(), 7);
    // results.json reads back (undefined values are `null`), as `cargo xtask readme` needs.
    let back: Vec<lockin::claims::ClaimResult> = serde_json::from_value(json["claims"].clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json["claims"]);

    // The two runs are shared by all claims: trained once, then cached.
    let runs = std::fs::read_dir(cache.path().join("runs")).unwrap().count();
    assert_eq!(runs, 2);
    let again = verify(&VerifyOptions { select: vec!["T1".into(), "T5".into()], ..opts }).unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|r| r.verdict == Verdict::Pass));
}

const TINY_CONTROL: &str = "{activation: sqr, eta: 0.0, epochs: 40, window: 5, modulus: 5, width: 16, train_fraction: 0.6, lr: 1.0e-2, seeds: {paper: 2, quick: 2}}";

#[test]
fn report_is_regenerated_from_the_cache_alone() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let d = claims.path();
    write(d, "R1-detector.yaml", &claim("R1", "reproduces", "seeds", "{equals: 2}", DETECTOR));
    let separation = claim(
        "R2",
        "reproduces",
        "separation",
        "{at_least: 0}",
        "{kind: late-separation, numerator: grok, denominator: control, window: [20, 40]}",
    )
    .replace("experiments:\n", &format!("experiments:\n  control: {TINY_CONTROL}\n"))
    .replace("quantity: separation", "quantity: separation_w20_40");
    write(d, "R2-separation.yaml", &separation);
    write(
        d,
        "R3-sign-rule.yaml",
        &claim(
            "R3",
            "reproduces",
            "exact_min",
            "{equals: 1}",
            "{kind: sign-rule, condition: grok, epochs: [10, 40], pairs: 5}",
        ),
    );
    // Two tiny seeds give no line (their events coincide): recorded as undefined;
    // the scatter is drawn all the same. The pairs are counted, so something
    // is measured (a claim with nothing measured is not judged).
    let fit = claim(
        "R4",
        "does-not-reproduce",
        "fit_slope",
        "{at_least: -1.0e9}",
        "{kind: lead, conditions: [grok], from: {series: train_acc, threshold: 0.5}, to: {series: test_acc, threshold: 0.2}}",
    )
    .replace(
        "    tolerance: {at_least: -1.0e9}\n    recorded: fails\n",
        "    paper: 0.8\n    tolerance: {at_least: -1.0e9}\n    recorded: undefined\n  - {quantity: fit_intercept, paper: -75, tolerance: {at_least: -1.0e9}, recorded: undefined}\n  - {quantity: pairs, tolerance: {at_least: 0}}\n",
    );
    write(d, "R4-fit.yaml", &fit);
    let opts = options(d, cache.path(), Backend::default());

    // Nothing cached yet: the report path trains nothing and says so.
    let empty = lockin::claims::verify::from_cache(&opts).unwrap();
    assert!(
        empty.iter().all(|r| r.verdict == Verdict::Error && r.error.as_deref().unwrap().contains("not in the cache"))
    );
    assert!(!cache.path().join("runs").exists());

    let trained = verify(&opts).unwrap();
    assert!(
        trained.iter().all(|r| r.verdict == Verdict::Pass),
        "{:?}",
        trained.iter().map(|r| (&r.id, r.verdict, &r.error, &r.checks)).collect::<Vec<_>>()
    );
    let runs_before: Vec<_> =
        std::fs::read_dir(cache.path().join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    let mtimes = |paths: &[std::path::PathBuf]| {
        paths.iter().map(|p| std::fs::metadata(p.join("DONE")).unwrap().modified().unwrap()).collect::<Vec<_>>()
    };
    let before = mtimes(&runs_before);

    let regenerated = lockin::claims::verify::from_cache(&opts).unwrap();
    assert_eq!(regenerated.len(), 4);
    for (a, b) in trained.iter().zip(&regenerated) {
        // As JSON, where an undefined (NaN) figure is `null` on both sides.
        let checks = |r: &lockin::claims::ClaimResult| serde_json::to_value(&r.checks).unwrap();
        assert_eq!((a.id.as_str(), a.verdict, checks(a)), (b.id.as_str(), b.verdict, checks(b)));
    }
    let out = cache.path().join("report");
    let figures = lockin::report::write_report(&opts, &regenerated, &Default::default(), &out).unwrap().figures;
    assert_eq!(mtimes(&runs_before), before, "the report retrained a run");
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for id in ["R1", "R2", "R3", "R4"] {
        assert!(report.contains(&format!("## {id} — ")), "{id} missing from REPORT.md");
    }
    let names: Vec<&str> = figures.iter().map(|(f, _)| f.as_str()).collect();
    assert!(names.contains(&"gap23.svg") && names.contains(&"theorem6.svg"), "{names:?}");
    assert!(names.contains(&"fit-R4.svg"), "a claim that checks a fit gets its scatter: {names:?}");
    // The report opens with every check in one picture, on the miss axis.
    assert_eq!(names.first(), Some(&"overview.svg"), "{names:?}");
    assert!(report.find("figures/overview.svg") < report.find("## Summary"), "REPORT.md opens with the overview");
    for (file, _) in &figures {
        let svg = std::fs::read_to_string(out.join("figures").join(file)).unwrap();
        let axis = if file == "overview.svg" { "miss" } else { "epoch" };
        assert!(svg.starts_with("<svg") && svg.contains(axis), "{file}");
    }
    // The grok curves seemed to stop at epoch 150 while the controls ran on:
    // each curve now says to which epoch its runs were trained.
    let accuracy = std::fs::read_to_string(out.join("figures").join("accuracy.svg")).unwrap();
    assert!(accuracy.contains("to epoch"), "{accuracy}");
    assert!(out.join("results.json").exists());
}

/// A run made elsewhere, imported from a CSV with fewer columns than
/// lockin logs: the claims it can serve are judged on it (here it is
/// lockin's own log, so the values agree exactly); a claim needing a column
/// it lacks is not judged and says which.
#[test]
fn claims_are_judged_on_imported_runs_and_name_what_they_lack() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let d = claims.path();
    write(d, "I1-detector.yaml", &claim("I1", "reproduces", "fired", "{at_least: 0}", DETECTOR));
    let rank = "{kind: effective-rank, condition: grok, window: [10, 40]}";
    write(d, "I2-rank.yaml", &claim("I2", "reproduces", "rank_fraction_0_w10_40", "{at_least: 0}", rank));
    let opts = options(d, cache.path(), Backend::default());
    let ours = verify(&opts).unwrap();
    let imports = tempfile::tempdir().unwrap();
    let (mut imported, mut as_mul) = (Vec::new(), Vec::new());
    for run in std::fs::read_dir(cache.path().join("runs")).unwrap() {
        let run = lockin::runs::Run::load(&run.unwrap().path()).unwrap();
        // Keep three columns, as another implementation might log them.
        let csv: String = run
            .metrics
            .rows
            .iter()
            .map(|r| format!("{},{},{},{}\n", r.epoch, r.train.accuracy, r.test.accuracy, r.w.gap23))
            .collect();
        let log = imports.path().join(format!("seed{}.csv", run.spec.seed));
        std::fs::write(&log, format!("epoch,train_acc,test_acc,W_gap23\n{csv}").replace("NaN", "")).unwrap();
        let s = &run.spec;
        let conditions = lockin::external::Conditions {
            activation: Some(s.activation),
            eta: Some(s.eta),
            seed: Some(s.seed),
            modulus: Some(s.modulus),
            width: Some(s.width),
            n_train: Some(lockin::data::n_train(s.modulus, s.train_fraction)),
            lr: Some(s.lr),
            window: Some(s.window),
            ..Default::default()
        };
        // The same log said to be multiplication's, from numpy's seeds.
        let mul = lockin::external::Conditions {
            task: Some(lockin::task::Task::Mul),
            rng: Some(lockin::seeding::RngScheme::External),
            ..conditions.clone()
        };
        let out = imports.path().join(format!("mul{}", s.seed));
        as_mul.push(lockin::external::import(&log, None, mul, "numpy", "cpu", &out).unwrap());
        let out = imports.path().join(format!("run{}", s.seed));
        imported.push(lockin::external::import(&log, None, conditions, "test", "cpu", &out).unwrap());
    }
    let loaded: Vec<_> = lockin::claims::load_dir(d).unwrap().into_iter().map(Result::unwrap).collect();
    let lockin_run = |spec: &lockin::train::TrainSpec| {
        lockin::cache::Cache::new(cache.path()).check(&lockin::train::TrainSpec { checkpoints: vec![], ..spec.clone() })
    };
    let judged = lockin::claims::imported::judge(&loaded, Tier::Quick, Backend::default(), &imported, &lockin_run);
    let detector = judged[0].result.as_ref().expect("the detector needs only w_gap23");
    assert_eq!(detector.checks[0].measured, ours[0].checks[0].measured);
    assert!(judged[0].note.contains("seeds 0, 1 of 2"), "{}", judged[0].note);
    assert!(judged[1].result.is_none());
    assert!(judged[1].note.contains("needs `w_sigma1`"), "{}", judged[1].note);
    assert_eq!(judged[0].lockin.as_ref().unwrap().checks[0].measured, ours[0].checks[0].measured);
    let table = lockin::report::side_by_side(&judged);
    assert!(table.contains("I2  not judged: needs `w_sigma1`"), "{table}");
    // A run of one task never serves a claim about another, and says so (#46).
    let judged = lockin::claims::imported::judge(&loaded, Tier::Quick, Backend::default(), &as_mul, &lockin_run);
    assert!(judged[0].result.is_none());
    let note = &judged[0].note;
    assert!(note.contains("is not a run of `grok`: task mul, not add; seeding external, not torch"), "{note}");
}

/// Every file a verification writes into `cache`'s runs, by name, but the
/// wall times (`summary.json` is compared without them).
fn run_files(cache: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for run in std::fs::read_dir(cache.join("runs")).unwrap().flatten() {
        for file in std::fs::read_dir(run.path()).unwrap().flatten() {
            let name = format!("{}/{}", run.file_name().to_string_lossy(), file.file_name().to_string_lossy());
            let mut bytes = std::fs::read(file.path()).unwrap();
            if name.ends_with("summary.json") {
                let summary: lockin::summary::RunSummary = serde_json::from_slice(&bytes).unwrap();
                let timeless =
                    lockin::summary::RunSummary { wall_seconds: 0.0, epoch_times: Default::default(), ..summary };
                bytes = serde_json::to_vec(&timeless).unwrap();
            }
            if !name.ends_with("/DONE") {
                files.insert(name, bytes);
            }
        }
    }
    files
}

/// Runs trained side by side give the same bits as one at a time: the
/// results and every run file (wall times aside) for `--jobs` 1, 2 and 3,
/// with two trajectories shared by several windows and lengths.
#[test]
fn the_job_count_changes_no_bit() {
    let claims = tempfile::tempdir().unwrap();
    let d = claims.path();
    let other = TINY
        .replace("eta: 1.0e-3", "eta: 2.0e-3")
        .replace("seeds: {paper: 2, quick: 2}", "seeds: {paper: 3, quick: 3}");
    let short = TINY.replace("epochs: 40, window: 5", "epochs: 30, window: 3");
    for (id, experiment) in [("J1", TINY.to_string()), ("J2", other), ("J3", short)] {
        let text = claim(id, "reproduces", "seeds", "{at_least: 0}", DETECTOR).replace(TINY, &experiment);
        write(d, &format!("{id}.yaml"), &text);
    }
    let mut seen = Vec::new();
    for jobs in [1, 2, 3] {
        let cache = tempfile::tempdir().unwrap();
        let results = verify(&VerifyOptions { jobs: Some(jobs), ..options(d, cache.path(), Backend::Flex) }).unwrap();
        assert_eq!(results.len(), 3);
        assert!(
            results.iter().all(|r| r.verdict == Verdict::Pass),
            "{:?}",
            results.iter().map(|r| &r.error).collect::<Vec<_>>()
        );
        seen.push((serde_json::to_string(&results).unwrap(), run_files(cache.path())));
    }
    assert_eq!(seen[0].1.keys().filter(|k| k.ends_with("metrics.csv")).count(), 7, "2 + 3 + 2 runs");
    for (jobs, other) in [2, 3].iter().zip(&seen[1..]) {
        assert_eq!(other.0, seen[0].0, "results with {jobs} jobs");
        assert_eq!(other.1, seen[0].1, "run files with {jobs} jobs");
    }
}
