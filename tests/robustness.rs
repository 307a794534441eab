//! Bad input and faults: every case gets a clear error naming the file, the
//! line and the field, nothing passes on no data, and a damaged or foreign
//! cache is never trusted (docs/methods.md, "Limits", "Run directories",
//! "The cache"). Tiny experiments (M = 5, K = 16).

use std::path::{Path, PathBuf};

mod common;

use common::options;
use lockin::backend::Backend;
use lockin::cache::Cache;
use lockin::claims::judge::Verdict;
use lockin::claims::load;
use lockin::claims::verify::{VerifyOptions, from_cache, verify};

const TINY: &str = "{activation: sqr, eta: 1.0e-3, epochs: 40, window: 5, modulus: 5, width: 16, train_fraction: 0.6, lr: 1.0e-2, seeds: {paper: 2, quick: 2}}";
const DETECTOR: &str = "{kind: detector, condition: grok, detector: {lag: 5, min_epoch: 10}}";

/// A claim file with one experiment `grok` (TINY unless `experiment` is
/// given), one measure and one check.
fn claim(id: &str, experiment: &str, measure: &str, quantity: &str) -> String {
    format!(
        "id: {id}\ntitle: t\nsource: test\nstatement: t\npaper: \"-\"\noutcome: reproduces\nexperiments:\n  grok: {experiment}\nmeasures:\n  - {measure}\nexpect:\n  - quantity: {quantity}\n    tolerance: {{at_least: 0}}\n"
    )
}

/// Write `text` as `name` in a fresh directory (kept for the test's life).
fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Load `text` written as `name`: the load error.
fn load_error(name: &str, text: &str) -> String {
    load(&write_temp(name, text)).map(|_| ()).unwrap_err().to_string()
}

/// Every missing or misspelt top-level field of a file at once, each at
/// its line, not one per attempt.
#[test]
fn every_top_level_problem_of_a_file_is_named_at_once() {
    let text = claim("A1", TINY, DETECTOR, "seeds")
        .replace("source: test\n", "")
        .replace("statement: t\n", "")
        .replace("paper: \"-\"\n", "")
        .replace("outcome: reproduces", "outcom: reproduces");
    let e = load_error("A1-x.yaml", &text);
    for expected in [
        "source: missing",
        "statement: missing",
        "paper: missing",
        ":3: outcom: unknown field; did you mean `outcome`?",
    ] {
        assert!(e.contains(expected), "{expected} in\n{e}");
    }
    assert_eq!(e.lines().count(), 4, "{e}");
}

/// Seed sets that would silently mean something else are refused: a
/// torch seed past 2³² − 1 (the generator keeps 32 bits), no seeds at all,
/// `from` over listed seeds; a paired order over a grid whose point skips
/// the quick tier loads (its seeds agree wherever it runs).
#[test]
fn seed_sets_that_would_mislead_are_refused() {
    let with_seeds = |seeds: &str| claim("S1", &TINY.replace("{paper: 2, quick: 2}", seeds), DETECTOR, "seeds");
    let e = load_error("S1-x.yaml", &with_seeds("[0, 4294967296]"));
    assert!(e.contains("4294967296 is past 2³² − 1") && e.contains("seed 0's run"), "{e}");
    let e = load_error("S1-x.yaml", &with_seeds("[]"));
    assert!(e.contains("seeds: experiment `grok` runs no seeds at the paper tier"), "{e}");
    let e = load_error("S1-x.yaml", &with_seeds("{quick: [1], paper: [2, 3], from: 5}"));
    assert!(e.contains("from: shifts counts, but both tiers list their seeds"), "{e}");
    let grid = TINY.replace(
        "seeds: {paper: 2, quick: 2}}",
        "seeds: {paper: 2, quick: 2}, grid: {x: {lr: 0.01}, y: {lr: 0.02, seeds: {quick: 0}}, z: {lr: 0.04}}}",
    );
    let order = "{kind: order, conditions: [\"grok[*]\"], value: {event: {series: train_acc, threshold: 1.0}}, order: decreasing}";
    let text = claim("S2", &grid, order, "steps");
    assert!(load(&write_temp("S2-x.yaml", &text)).is_ok(), "{:?}", load(&write_temp("S2-x.yaml", &text)).err());
}

/// A named bound on a grid point, unquoted, is a YAML list to the parser:
/// the error says to quote it.
#[test]
fn an_unquoted_named_bound_gets_a_hint() {
    let text = claim("Q1", TINY, DETECTOR, "seeds").replace("{at_least: 0}", "{below: grok[a].seeds}");
    let e = load_error("Q1-x.yaml", &text);
    assert!(e.contains("must be quoted: `below: \"grok[a].seeds\"`"), "{e}");
}

/// An error names the line where the field is written as a key, not the
/// first line whose text mentions it (here the title, line 2).
#[test]
fn errors_name_the_line_of_the_field_itself() {
    let text = claim("L1", &TINY.replace("paper: 2", "paper: 1000000000"), DETECTOR, "seeds")
        .replace("title: t", "title: seeds of the grok runs, per seed");
    let e = load_error("L1-x.yaml", &text);
    assert!(e.contains("L1-x.yaml:8: seeds:"), "{e}");
}

#[test]
fn sizes_beyond_the_cost_model_are_load_errors_naming_line_and_field() {
    let huge_seeds = claim("B1", &TINY.replace("paper: 2", "paper: 1000000000"), DETECTOR, "seeds");
    let e = load_error("B1-x.yaml", &huge_seeds);
    assert!(e.contains("B1-x.yaml:") && e.contains("seeds:") && e.contains("a count is 0..=1000"), "{e}");
    let wide = claim("B2", &TINY.replace("width: 16", "width: 100000000000"), DETECTOR, "seeds");
    let e = load_error("B2-x.yaml", &wide);
    assert!(e.contains("B2-x.yaml:8: width: experiment `grok`: must be in 1..=65536"), "{e}");
    let big_m = claim("B3", &TINY.replace("modulus: 5", "modulus: 1000000"), DETECTOR, "seeds");
    assert!(load_error("B3-x.yaml", &big_m).contains("modulus: experiment `grok`: must be in 2..=1024"));
    let long = claim(
        "B4",
        &TINY
            .replace("epochs: 40", "epochs: 999999")
            .replace("width: 16", "width: 16384")
            .replace("modulus: 5", "modulus: 71"),
        DETECTOR,
        "seeds",
    );
    let e = load_error("B4-x.yaml", &long);
    assert!(e.contains("epochs: experiment `grok`: this run costs"), "{e}");
}

#[test]
fn windows_and_epochs_the_runs_cannot_reach_are_load_errors() {
    let rank = claim("W1", TINY, "{kind: effective-rank, condition: grok}", "rank_fraction_0");
    let e = load_error("W1-x.yaml", &rank);
    assert!(e.contains("window: window [200, 400] is past the end of the runs it reads (last epoch 40)"), "{e}");
    let detector = claim("W2", TINY, "{kind: detector, condition: grok, detector: {min_epoch: 100}}", "fired");
    assert!(load_error("W2-x.yaml", &detector).contains("detector: min_epoch 100 or lag 25 is past the end"));
    let lag = claim("W3", TINY, "{kind: detector, condition: grok, detector: {lag: 40, min_epoch: 10}}", "fired");
    assert!(load_error("W3-x.yaml", &lag).contains("past the end"));
    let sep = claim(
        "W4",
        TINY,
        "{kind: late-separation, numerator: grok, denominator: grok, window: [20, 60]}",
        "separation_w20_60",
    );
    assert!(load_error("W4-x.yaml", &sep).contains("window [20, 60] is past the end"));
    let series = claim("W5", TINY, "{kind: series-at, condition: grok, series: [w_sigma1], epochs: [41]}", "x");
    assert!(load_error("W5-x.yaml", &series).contains("epoch 41 is past the end of `grok` (40)"));
}

#[test]
fn grids_that_would_check_nothing_or_misread_a_table_are_load_errors() {
    let grid = |points: &str| format!("{}, grid: {{{points}}}}}", &TINY[..TINY.len() - 1]);
    // Every point skips the quick tier: `cargo test` would check nothing.
    let quick_none = claim("G1", &grid("a: {seeds: {quick: 0}}"), DETECTOR, "\"grok[*].seeds\"");
    let e = load_error("G1-x.yaml", &quick_none);
    assert!(e.contains("expect: nothing is checked at the quick tier"), "{e}");
    // A row of paper values longer than the grid.
    let row = claim("G2", &grid("a: {eta: 0.001}, b: {eta: 0.002}"), DETECTOR, "\"grok[*].seeds\"")
        .replace("    tolerance: {at_least: 0}", "    paper: [1, 2, 3]\n    tolerance: {abs: 0}");
    let e = load_error("G2-x.yaml", &row);
    assert!(e.contains("G2-x.yaml:") && e.contains("paper: `grok[*].seeds`: 3 values for 2 grid points"), "{e}");
    // A check on a point the grid does not have.
    let typo = claim("G3", &grid("a: {eta: 0.001}"), DETECTOR, "\"grok[b].seeds\"");
    assert!(load_error("G3-x.yaml", &typo).contains("quantity: `grok[b].seeds` is not produced"));
    // Counting divergences needs the experiment to allow them.
    let divergence = claim("G4", TINY, "{kind: divergence, condition: grok}", "diverged");
    let e = load_error("G4-x.yaml", &divergence);
    assert!(e.contains("may_diverge: `grok` must say `may_diverge: true`"), "{e}");
}

#[test]
fn ids_names_and_collisions_follow_one_rule() {
    let ok = claim("C12", TINY, DETECTOR, "seeds");
    let e = load_error("C12-foo.yaml", &ok.replace("id: C12", "id: C1"));
    assert!(e.contains("id: `C1` does not match the file name `C12-foo`"), "{e}");
    let e = load_error("..-foo.yaml", &ok.replace("id: C12", "id: .."));
    assert!(e.contains("`..` is not a claim id"), "{e}");
    let twice = ok
        .replace("  grok: ", "  grok: {activation: relu, eta: 0.0, epochs: 40, seeds: {paper: 1, quick: 1}}\n  grok: ");
    let e = load_error("C12-foo.yaml", &twice);
    assert!(e.contains("experiment `grok` is defined twice"), "{e}");
    let collide = ok.replace("measures:\n", &format!("measures:\n  - {DETECTOR}\n"));
    let e = load_error("C12-foo.yaml", &collide);
    assert!(e.contains("two measures both produce `fired`"), "{e}");
    let labelled =
        ok.replace("measures:\n", &format!("measures:\n  - {}\n", DETECTOR.replace("{kind", "{label: again, kind")));
    assert!(load(&write_temp("C12-foo.yaml", &labelled)).is_ok(), "a label separates the two measures");
    let bad_label = ok.replace("{kind", "{label: a.b, kind");
    assert!(load_error("C12-foo.yaml", &bad_label).contains("label: `a.b` must be 1-48 letters, digits and _"));
    let unused = ok.replace(
        "  grok: ",
        "  spare: {activation: relu, eta: 0.0, epochs: 40, seeds: {paper: 1, quick: 1}}\n  grok: ",
    );
    assert!(load_error("C12-foo.yaml", &unused).contains("experiment `spare` is read by no measure"));
    assert!(load(&write_temp("C12-bom.yaml", &format!("\u{feff}{ok}"))).is_ok(), "a byte-order mark is skipped");
    assert!(load_error("C12-foo.yml", &ok).contains("end in .yaml, not .yml"));
    let bad_column = claim("C12", TINY, "{kind: series-at, condition: grok, series: [w_sigma9], epochs: [4]}", "x");
    assert!(load_error("C12-foo.yaml", &bad_column).contains("`w_sigma9` is not a logged series"));
}

/// Names reach file names and condition names: one rule (1-48 of
/// `[A-Za-z0-9_.+-]`) for experiments, grids, points and labels, so that a
/// plain experiment named `g[p30]` cannot silently replace point p30 of
/// grid g, nor a 300-character name make the report fail ("File name too long").
#[test]
fn names_that_reach_file_names_are_checked_once() {
    let grid = |points: &str| format!("{}, grid: {{{points}}}}}", &TINY[..TINY.len() - 1]);
    let ok = claim("N1", TINY, DETECTOR, "seeds");
    let shaped = ok.replace("  grok: ", "  \"grok[a]\": ").replace("condition: grok", "condition: \"grok[a]\"");
    let e = load_error("N1-x.yaml", &shaped);
    assert!(e.contains("experiments: experiment name `grok[a]` must be 1-48"), "{e}");
    let long = "g".repeat(300);
    let e = load_error("N1-x.yaml", &ok.replace("grok", &long));
    assert!(e.contains("must be 1-48") && e.len() < 700, "{e}");
    let slash = claim("N2", &grid("a/b: {eta: 0.001}"), DETECTOR, "\"grok[*].seeds\"");
    assert!(load_error("N2-x.yaml", &slash).contains("point name `a/b` must be 1-48"));
    let long_label = ok.replace("{kind", &format!("{{label: {}, kind", "l".repeat(60)));
    assert!(load_error("N1-x.yaml", &long_label).contains("must be 1-48 letters"));
}

/// Values of the wrong kind are named by their field, with what is accepted
/// (not serde's "data did not match any variant of untagged enum
/// PaperValue", nor a point's `seeds: 3` reported under the field "3").
#[test]
fn wrong_values_are_named_by_field_with_the_accepted_forms() {
    let with_paper = |value: &str| {
        claim("V1", TINY, DETECTOR, "seeds")
            .replace("    tolerance: {at_least: 0}", &format!("    paper: {value}\n    tolerance: {{abs: 1}}"))
    };
    for (value, says) in [
        (".nan", "not a figure"),
        (".inf", "not a figure"),
        ("abc", "`abc` is text"),
        ("{a: 1}", "is not a finite number"),
    ] {
        let e = load_error("V1-x.yaml", &with_paper(value));
        assert!(e.contains("V1-x.yaml:13:") && e.contains("paper: ") && e.contains(says), "{value}: {e}");
    }
    let row = claim(
        "V2",
        &format!("{}, grid: {{a: {{eta: 0.001}}, b: {{eta: 0.002}}}}}}", &TINY[..TINY.len() - 1]),
        DETECTOR,
        "\"grok[*].seeds\"",
    )
    .replace("    tolerance: {at_least: 0}", "    paper: [1, .nan]\n    tolerance: {abs: 0}");
    assert!(load_error("V2-x.yaml", &row).contains("not a figure"));
    let point_seeds = claim(
        "V3",
        &format!("{}, grid: {{a: {{seeds: 3}}}}}}", &TINY[..TINY.len() - 1]),
        DETECTOR,
        "\"grok[*].seeds\"",
    );
    let e = load_error("V3-x.yaml", &point_seeds);
    assert!(e.contains("seeds: `grok[a]`: a point's seeds is a map"), "{e}");
    // Not serde's "data did not match any variant of untagged enum Recorded".
    let holdz = claim("V6", TINY, DETECTOR, "seeds")
        .replace("    tolerance: {at_least: 0}", "    tolerance: {at_least: 0}\n    recorded: holdz");
    let e = load_error("V6-x.yaml", &holdz);
    assert!(e.contains("V6-x.yaml:14:") && e.contains("recorded: expected holds, fails or undefined"), "{e}");
    let half = claim("V7", TINY, DETECTOR, "seeds").replace("outcome: reproduces", "outcome: {quick: reproduces}");
    let e = load_error("V7-x.yaml", &half);
    assert!(e.contains("V7-x.yaml:6:") && e.contains("one per tier with both tiers"), "{e}");
    let e = load_error("V4-x.yaml", &claim("V4", &TINY.replace("eta: 1.0e-3", "eta: abc"), DETECTOR, "seeds"));
    assert!(e.contains("V4-x.yaml:8: eta: experiment `grok`: invalid type"), "{e}");
    let e = load_error(
        "V5-x.yaml",
        &claim("V5", &TINY.replace("seeds: {paper: 2, quick: 2}", "seeds: 3"), DETECTOR, "seeds"),
    );
    assert!(e.contains(": seeds: experiment `grok`: a map of counts per tier ({quick: 3, paper: 15}"), "{e}");
}

/// One claim whose Theorem 6 is undefined (η = 1e-300 with fewer hidden
/// units than training pairs: F̃ᵀF̃ + ηI is singular in f64) is that
/// claim's `Error` with the reason; the claim
/// beside it is still judged: the verification must not panic
/// ("NonPositivePivot", exit 101) and write nothing.
#[test]
fn an_undefined_theorem6_is_one_claims_error() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let singular = TINY.replace("eta: 1.0e-3", "eta: 1.0e-300").replace("width: 16", "width: 8");
    let sign_rule = "{kind: sign-rule, condition: grok, epochs: [0, 10], pairs: 5}";
    std::fs::write(claims.path().join("U1-x.yaml"), claim("U1", &singular, sign_rule, "exact_min")).unwrap();
    std::fs::write(claims.path().join("U2-x.yaml"), claim("U2", TINY, DETECTOR, "seeds")).unwrap();
    let results = verify(&options(claims.path(), cache.path(), Backend::default())).unwrap();
    assert_eq!(results[0].verdict, Verdict::Error, "{:?}", results[0]);
    let why = results[0].error.as_deref().unwrap();
    assert!(why.contains("undefined at epoch 0") && why.contains("not positive definite: pivot"), "{why}");
    assert_eq!(results[1].verdict, Verdict::Pass, "{:?}", results[1].error);
}

/// Silent passes and miscounts a hostile user would try (each must be
/// undefined or refused): a detector that can never compute s(t), a rank read
/// from undefined gaps, a pooled list naming a condition twice, a
/// sign-rule over zero pairs, a factor tolerance around a negative figure.
#[test]
fn measures_that_see_no_data_are_undefined_not_negative() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let short_window = TINY.replace("window: 5", "window: 2");
    let never = claim("H1", &short_window, DETECTOR, "fired_fraction").replace("{at_least: 0}", "{equals: 0}");
    std::fs::write(claims.path().join("H1-x.yaml"), never).unwrap();
    let rank = "{kind: effective-rank, condition: grok, k_max: 4, window: [0, 3]}";
    let ranked = claim("H2", TINY, rank, "rank_fraction_2_w0_3").replace("{at_least: 0}", "{equals: 1}");
    std::fs::write(claims.path().join("H2-x.yaml"), ranked).unwrap();
    // Recorded as undefined, the claim must not pass ("not reproduced
    // (recorded)", exit 0) with nothing measured.
    let recorded = claim("H7", &short_window, DETECTOR, "fire_epoch_median")
        .replace("    tolerance: {at_least: 0}", "    tolerance: {at_least: 0}\n    recorded: undefined")
        .replace("outcome: reproduces\n", "finding: never fires\n");
    std::fs::write(claims.path().join("H7-x.yaml"), recorded).unwrap();
    // Milestones read the same detector: its fire epoch is unknown, not
    // "never fired" (≥ 41), which `{at_least: 0}` would have passed.
    let milestones = "{kind: milestones, condition: grok, detector: {lag: 5, min_epoch: 10}}";
    std::fs::write(claims.path().join("H8-x.yaml"), claim("H8", &short_window, milestones, "fire_median")).unwrap();
    let results = verify(&options(claims.path(), cache.path(), Backend::default())).unwrap();
    assert_eq!(results.len(), 4);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Error, "{}: nothing measured is not judged: {:?}", r.id, r.checks);
        assert!(r.error.as_deref().is_some_and(|e| e.contains("nothing was measured")), "{:?}", r.error);
        assert_eq!(lockin::report::status(r), "not judged (nothing measured)");
        assert_eq!(r.checks[0].state, lockin::claims::CheckState::Undefined, "{}", r.id);
    }
    let lead = "{kind: lead, conditions: [grok, grok], from: {series: train_acc, threshold: 0.5}, to: {series: test_acc, threshold: 0.2}}";
    assert!(load_error("H3-x.yaml", &claim("H3", TINY, lead, "pairs")).contains("`grok` is listed twice"));
    let itself =
        "{kind: lead, conditions: [grok], from: {series: rho, threshold: 0.1}, to: {series: rho, threshold: 0.1}}";
    assert!(load_error("H3-x.yaml", &claim("H3", TINY, itself, "pairs")).contains("the lead of an event over itself"));
    let one_unit = TINY.replace("width: 16", "width: 1");
    let sign_rule = "{kind: sign-rule, condition: grok, epochs: [10], pairs: 5}";
    assert!(
        load_error("H4-x.yaml", &claim("H4", &one_unit, sign_rule, "exact_min")).contains("pairs: must be in 1..=0")
    );
    let itself = claim("H6", TINY, DETECTOR, "seeds").replace("{at_least: 0}", "{at_least: seeds}");
    assert!(load_error("H6-x.yaml", &itself).contains("compares it with itself"), "it would always hold");
    let negative = claim("H5", TINY, DETECTOR, "seeds")
        .replace("    tolerance: {at_least: 0}", "    paper: -0.15\n    tolerance: {factor: 2}");
    assert!(load_error("H5-x.yaml", &negative).contains("needs a paper value > 0"));
}

/// `--fresh` retrains into staging and replaces each run only when the new
/// one is complete (deleting every cached run up front would lose them
/// all on an interrupt).
#[test]
fn fresh_replaces_runs_only_when_retrained() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(claims.path().join("F1-x.yaml"), claim("F1", TINY, DETECTOR, "seeds")).unwrap();
    let opts = options(claims.path(), cache.path(), Backend::default());
    let first = verify(&opts).unwrap();
    let runs = |root: &Path| std::fs::read_dir(root.join("runs")).unwrap().count();
    assert_eq!(runs(cache.path()), 2);
    let done = |root: &Path| {
        let run = std::fs::read_dir(root.join("runs")).unwrap().next().unwrap().unwrap().path();
        std::fs::read_to_string(run.join("summary.json")).unwrap()
    };
    let before = done(cache.path());
    let again = verify(&VerifyOptions { fresh: true, ..opts }).unwrap();
    assert_eq!(again[0].checks, first[0].checks);
    assert_eq!(runs(cache.path()), 2);
    assert_ne!(done(cache.path()), before, "retrained (its wall time differs)");
    assert_eq!(std::fs::read_dir(cache.path().join("staging")).unwrap().count(), 0, "no staging left");
    // A retraining that fails (here: staging is a file, as on a full or
    // read-only cache) makes the claim an error, never judged on the
    // stale runs.
    std::fs::remove_dir(cache.path().join("staging")).unwrap();
    std::fs::write(cache.path().join("staging"), "not a directory").unwrap();
    let opts = options(claims.path(), cache.path(), Backend::default());
    let failed = verify(&VerifyOptions { fresh: true, ..opts }).unwrap();
    assert_eq!(failed[0].verdict, Verdict::Error, "{:?}", failed[0]);
    assert!(failed[0].error.as_deref().is_some_and(|e| e.contains("--fresh")), "{:?}", failed[0].error);
}

#[test]
fn a_backend_missing_from_the_build_is_skipped_without_a_trace() {
    if Backend::Wgpu.available() {
        return; // a wgpu build trains it for real
    }
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(claims.path().join("G1-x.yaml"), claim("G1", TINY, DETECTOR, "seeds")).unwrap();
    let results = verify(&options(claims.path(), cache.path(), Backend::Wgpu)).unwrap();
    assert_eq!(results[0].verdict, Verdict::Skipped);
    assert!(!lockin::claims::results::succeeded(&results), "nothing checked is not a success");
    assert!(results[0].error.as_deref().unwrap().contains("not in this build"));
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0, "nothing written, no staging left");
}

#[test]
fn a_run_that_cannot_be_trained_fails_once_and_names_the_path() {
    let claims = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("cache-is-a-file");
    std::fs::write(&file, "x").unwrap();
    // The root itself a file: one error naming it, before anything is planned.
    let e = verify(&options(claims.path(), &file, Backend::default())).unwrap_err().to_string();
    assert!(e.contains("the run cache") && e.contains("cache-is-a-file is not a directory"), "{e}");
    // A root below a file cannot be created: each run fails once, by path.
    let not_a_dir = file.join("cache");
    for id in ["F1", "F2"] {
        std::fs::write(claims.path().join(format!("{id}-x.yaml")), claim(id, TINY, DETECTOR, "seeds")).unwrap();
    }
    let results = verify(&options(claims.path(), &not_a_dir, Backend::default())).unwrap();
    for r in &results {
        assert_eq!(r.verdict, Verdict::Error);
        let e = r.error.as_deref().unwrap();
        assert!(e.contains("cache-is-a-file") && e.contains("Not a directory"), "{e}");
        assert!(e.contains("failed earlier in this verification"), "tried again: {e}");
    }
}

#[test]
fn a_complete_cache_is_read_without_writing_and_damage_is_retrained() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let sign_rule = "{kind: sign-rule, condition: grok, epochs: [10, 40], pairs: 5}";
    std::fs::write(claims.path().join("R1-x.yaml"), claim("R1", TINY, sign_rule, "exact_min")).unwrap();
    let opts = options(claims.path(), cache.path(), Backend::default());
    let first = verify(&opts).unwrap();
    assert_eq!(first[0].verdict, Verdict::Pass, "{:?}", first[0].error);

    // Verifying again from the complete cache creates, changes and removes nothing.
    let listing = |root: &Path| {
        let mut out: Vec<(PathBuf, std::time::SystemTime)> = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                out.push((path.clone(), std::fs::metadata(&path).unwrap().modified().unwrap()));
                if path.is_dir() {
                    stack.push(path);
                }
            }
        }
        out.sort();
        out
    };
    let before = listing(cache.path());
    let again = verify(&opts).unwrap();
    assert_eq!(again[0].checks, first[0].checks);
    assert_eq!(listing(cache.path()), before, "a complete cache was written to");
    let cached = from_cache(&opts).unwrap();
    assert_eq!(cached[0].checks, first[0].checks);

    // A metrics.csv cut at a line boundary, DONE kept: retrained, same figures.
    let run = std::fs::read_dir(cache.path().join("runs")).unwrap().next().unwrap().unwrap().path();
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let cut: String = csv.lines().take(20).map(|l| format!("{l}\n")).collect();
    std::fs::write(run.join("metrics.csv"), cut).unwrap();
    let cached = from_cache(&opts).unwrap();
    assert_eq!(cached[0].verdict, Verdict::Error, "a damaged run was trusted");
    let retrained = verify(&opts).unwrap();
    assert_eq!(retrained[0].checks, first[0].checks);
    assert_eq!(std::fs::read_to_string(run.join("metrics.csv")).unwrap(), csv);

    // A stored Theorem-6 result is served only for the checkpoint it came from.
    let stored = run.join(format!("theorem6-v{}-e0010-p5.json", lockin::probes::theorem6::VERSION));
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stored).unwrap()).unwrap();
    json["result"]["exact_sign_match"] = 0.5.into(); // an edit that keeps valid JSON
    std::fs::write(&stored, json.to_string()).unwrap();
    assert_eq!(verify(&opts).unwrap()[0].checks, first[0].checks);
    json["checkpoint_hash"] = "0000000000000000".into();
    std::fs::write(&stored, json.to_string()).unwrap();
    assert_eq!(verify(&opts).unwrap()[0].checks, first[0].checks);

    // A damaged checkpoint makes the run unusable: retrained, not an error.
    let checkpoint = run.join("checkpoint-e0010.safetensors");
    let bytes = std::fs::read(&checkpoint).unwrap();
    std::fs::write(&checkpoint, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(&stored).unwrap();
    assert_eq!(verify(&opts).unwrap()[0].checks, first[0].checks);
    assert_eq!(std::fs::read(&checkpoint).unwrap(), bytes);
}

#[test]
fn staging_left_by_a_killed_process_is_cleaned() {
    let cache = tempfile::tempdir().unwrap();
    let staging = cache.path().join("staging");
    let host = lockin::files::host_name();
    let dead = staging.join(format!("run-key~{host}~4194305~0~0000abcd")); // pid above pid_max
    let alive = staging.join(format!("run-key~{host}~{}~0~0000abcd", std::process::id()));
    let foreign = staging.join("run-key~other-host~12~0~0000abcd");
    for d in [&dead, &alive, &foreign] {
        std::fs::create_dir_all(d).unwrap();
    }
    Cache::new(cache.path()).clean_staging();
    assert!(!dead.exists() && alive.exists() && foreign.exists());
}

/// A tolerance per tier is checked at each tier: a bad half is named by the
/// field, and a map that is neither a form nor both tiers says what is accepted.
#[test]
fn a_bad_tolerance_of_one_tier_is_an_error_of_the_field() {
    let with_tolerance = |tolerance: &str| {
        claim("T1", TINY, DETECTOR, "seeds")
            .replace("    tolerance: {at_least: 0}", &format!("    paper: 3\n    tolerance: {tolerance}"))
    };
    assert!(load(&write_temp("T1-x.yaml", &with_tolerance("{quick: {abs: 1}, paper: {abs: 0.5}}"))).is_ok());
    for (tolerance, says) in [
        ("{quick: {factor: 0.5}, paper: {abs: 0.5}}", "at the quick tier: factor must be ≥ 1"),
        ("{quick: {abs: 1}, paper: {abs: -1}}", "at the paper tier: must be a finite number ≥ 0"),
        ("{quick: {abs: 1}}", "one per tier names both tiers and nothing else"),
        ("{quick: {abz: 1}, paper: {abs: 1}}", "unknown variant `abz`"),
    ] {
        let e = load_error("T1-x.yaml", &with_tolerance(tolerance));
        assert!(e.contains("T1-x.yaml:") && e.contains("tolerance") && e.contains(says), "{tolerance}: {e}");
    }
}

/// An observation reports every quantity, so it keeps every warning: it
/// dropped them all, having no check to keep them for.
#[test]
fn an_observation_keeps_its_warnings() {
    let claims = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let text = format!(
        "id: O1\nkind: observation\ntitle: t\nsource: test\nstatement: t\npaper: \"-\"\nexperiments:\n  grok: {TINY}\n\
         measures:\n  - {{kind: threshold, condition: grok, series: train_acc, threshold: 0}}\n"
    );
    std::fs::write(claims.path().join("O1-x.yaml"), text).unwrap();
    let results = verify(&options(claims.path(), cache.path(), Backend::default())).unwrap();
    let warning = results[0].measurement.warnings.iter().find(|w| w.bears_on.iter().any(|q| q == "fire_epoch"));
    assert!(
        warning.is_some_and(|w| w.message.contains("the first epoch looked at")),
        "{:?}",
        results[0].measurement.warnings
    );
}

/// `task` is an experiment field (docs/claims.md, "Experiments"): a
/// built-in loads, an unknown one is named with the built-ins, and `div`
/// refuses a modulus that is not prime, at the field's line.
#[test]
fn a_task_is_an_experiment_field_and_div_needs_a_prime_modulus() {
    use lockin::claims::tier::Tier;
    use lockin::task::Task;
    let with_task = |id: &str, task: &str, modulus: &str| {
        let experiment = TINY.replace("modulus: 5", &format!("modulus: {modulus}, task: {task}"));
        claim(id, &experiment, DETECTOR, "seeds")
    };
    let mul = load(&write_temp("T1-x.yaml", &with_task("T1", "mul", "6"))).unwrap();
    let experiment = &mul.at(Tier::Quick).experiments["grok"];
    assert_eq!(experiment.task, Task::Mul);
    assert_eq!(experiment.train_spec(0, Vec::new(), Backend::default()).task, Task::Mul);
    let e = load_error("T2-x.yaml", &with_task("T2", "pow", "5"));
    assert!(e.contains("T2-x.yaml:8: task: experiment `grok`: unknown task `pow`"), "{e}");
    assert!(e.contains("add, sub, mul, div"), "{e}");
    let e = load_error("T3-x.yaml", &with_task("T3", "div", "6"));
    assert!(e.contains("T3-x.yaml:8: task: experiment `grok`: task div needs a prime modulus"), "{e}");
    assert!(load(&write_temp("T4-x.yaml", &with_task("T4", "div", "7"))).is_ok());
}

/// A polynomial task loads in its normalised form, a bad one is named at
/// its character; a table is read beside the claim file, fixes M to its
/// order, and a `modulus` that differs is refused (docs/methods.md, "Tasks").
#[test]
fn polynomial_and_table_tasks_in_a_claim_file() {
    use lockin::claims::tier::Tier;
    let with_task = |id: &str, task: &str, modulus: &str| {
        claim(id, &TINY.replace("modulus: 5", &format!("{modulus}task: \"{task}\"")), DETECTOR, "seeds")
    };
    let poly = load(&write_temp("P1-x.yaml", &with_task("P1", "poly: a^2 + ab + b^2", "modulus: 7, "))).unwrap();
    assert_eq!(poly.at(Tier::Quick).experiments["grok"].task.to_string(), "poly:x^2+x*y+y^2");
    let e = load_error("P2-x.yaml", &with_task("P2", "poly: x^2 +", "modulus: 7, "));
    assert!(e.contains("P2-x.yaml:8: task: experiment `grok`: task `poly: x^2 +`: at character 6"), "{e}");
    // Z3 beside the claim file, in a folder of its own.
    let path = write_temp("T5-x.yaml", &with_task("T5", "table: tables/z3.txt", ""));
    let dir = path.parent().unwrap();
    std::fs::create_dir(dir.join("tables")).unwrap();
    std::fs::write(dir.join("tables/z3.txt"), "0 1 2\n1 2 0\n2 0 1\n").unwrap();
    let table = load(&path).unwrap();
    let grok = &table.at(Tier::Quick).experiments["grok"];
    assert_eq!((grok.task.to_string(), grok.modulus), ("table:z3".to_string(), 3), "M is the table's order");
    let spec = grok.train_spec(0, Vec::new(), Backend::default());
    assert_eq!(spec.validate().map_err(|e| e.message), Ok(()));
    let wrong = path.with_file_name("T6-x.yaml");
    std::fs::write(&wrong, with_task("T6", "table: tables/z3.txt", "modulus: 5, ")).unwrap();
    let e = load(&wrong).unwrap_err().to_string();
    assert!(e.contains("task table:z3 is a table of order 3, so M is 3 (the number of classes), not 5"), "{e}");
    let e = load_error("T7-x.yaml", &with_task("T7", "table: missing.txt", ""));
    assert!(e.contains("T7-x.yaml:8: task: experiment `grok`:") && e.contains("missing.txt"), "{e}");
}

/// `optimizer`, `momentum`, `loss` and `label_noise` are experiment fields
/// (docs/claims.md, "Experiments"): they reach the run's spec, and a bad
/// one is named with its field at its line.
#[test]
fn the_optimiser_loss_and_label_noise_are_experiment_fields() {
    use lockin::claims::tier::Tier;
    use lockin::train::{loss::Loss, optimizer::Optimizer};
    let with = |id: &str, fields: &str| {
        claim(id, &TINY.replace("modulus: 5", &format!("modulus: 5, {fields}")), DETECTOR, "seeds")
    };
    let fields = "optimizer: sgd, momentum: 0.9, loss: cross_entropy, label_noise: 0.25";
    let loaded = load(&write_temp("O1-x.yaml", &with("O1", fields))).unwrap();
    let spec = loaded.at(Tier::Quick).experiments["grok"].train_spec(0, Vec::new(), Backend::default());
    let got = (spec.optimizer, spec.momentum, spec.loss, spec.label_noise);
    assert_eq!(got, (Optimizer::Sgd, 0.9, Loss::CrossEntropy, 0.25));
    for (id, fields, says) in [
        ("O2", "optimizer: lion", "optimizer: experiment `grok`: unknown variant `lion`, expected one of"),
        ("O3", "momentum: 0.9", "momentum: experiment `grok`: adam has no momentum (only sgd does)"),
        (
            "O4",
            "label_noise: 1.5",
            "label_noise: experiment `grok`: a fraction of the training pairs in [0, 1), got 1.5",
        ),
        ("O5", "loss: hinge", "loss: experiment `grok`: unknown variant `hinge`, expected `mse` or `cross_entropy`"),
        ("O6", "rng: external", "rng: experiment `grok`: external: the seeds of a run made elsewhere"),
    ] {
        let e = load_error(&format!("{id}-x.yaml"), &with(id, fields));
        assert!(e.contains(&format!("{id}-x.yaml:8")) && e.contains(says), "{fields}: {e}");
    }
}
