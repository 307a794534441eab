//! The tasks as a user runs them: paths relative to the caller, exit
//! statuses that tell a failed claim from a broken harness, plans that
//! refuse broken input, quiet ends on a closed pipe. Tiny claims (M = 5).

use std::path::Path;
use std::process::{Command, Output};

const TINY: &str = "{activation: sqr, eta: 1.0e-3, epochs: 40, window: 5, modulus: 5, width: 16, train_fraction: 0.6, lr: 1.0e-2, seeds: {paper: 1, quick: 1}}";

/// A claim file checking the seed count against `tolerance`.
fn claim(id: &str, tolerance: &str) -> String {
    format!(
        "id: {id}\ntitle: t\nsource: test\nstatement: t\npaper: \"-\"\noutcome: reproduces\nexperiments:\n  grok: {TINY}\nmeasures:\n  - {{kind: detector, condition: grok, detector: {{lag: 5, min_epoch: 10}}}}\nexpect:\n  - quantity: seeds\n    tolerance: {tolerance}\n"
    )
}

/// `xtask ARGS` run in `cwd`.
fn xtask(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).current_dir(cwd).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A working directory with `claims/` holding the given files.
fn workdir(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("claims")).unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join("claims").join(name), body).unwrap();
    }
    dir
}

/// Paths are the caller's: xtask must not change into the checkout first,
/// where `--claims-dir claims` would name the checkout's claims.
#[test]
fn relative_paths_are_the_callers() {
    let dir = workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]);
    let out = xtask(dir.path(), &["list-claims", "--claims-dir", "claims"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("T1 ") && !text(&out).contains("C01"), "{}", text(&out));
    let missing = xtask(dir.path(), &["list-claims", "--claims-dir", "nowhere"]);
    assert!(text(&missing).contains("nowhere") && missing.status.code() == Some(3), "{}", text(&missing));
}

/// 0 all passed, 1 a claim failed, 3 a claim could not be judged (not 1
/// for both), all with results written where asked.
#[test]
fn exit_status_tells_a_failed_claim_from_a_broken_one() {
    let verify = |files: &[(&str, String)]| {
        let dir = workdir(files);
        let args = ["verify-claims", "--tier", "quick", "--claims-dir", "claims", "--cache", "cache"];
        let out = xtask(dir.path(), &[&args[..], &["--results", "r.json", "--report", "report"]].concat());
        assert!(dir.path().join("r.json").exists() && dir.path().join("report/REPORT.md").exists(), "{}", text(&out));
        (out.status.code(), text(&out))
    };
    let (code, out) = verify(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = verify(&[("T1-x.yaml", claim("T1", "{equals: 2}"))]);
    assert_eq!(code, Some(1), "{out}");
    let (code, out) = verify(&[("T1-x.yaml", claim("T1", "{equals: 1}")), ("T2-x.yaml", "id: T2\n".into())]);
    assert_eq!(code, Some(3), "a broken claim file is an error, not a failed claim: {out}");
    assert!(out.contains("T2-x.yaml"), "{out}");
}

/// A results path that would overwrite a claim file is refused, never
/// silently written.
#[test]
fn results_are_never_written_into_the_claims() {
    let dir = workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]);
    let args = ["verify-claims", "--tier", "quick", "--claims-dir", "claims", "--cache", "cache"];
    let out = xtask(dir.path(), &[&args[..], &["--results", "claims/T1-x.yaml", "--report", "report"]].concat());
    assert_eq!(out.status.code(), Some(2), "a bad command line: {}", text(&out));
    assert!(text(&out).contains("inside the claims directory"), "{}", text(&out));
    assert!(std::fs::read_to_string(dir.path().join("claims/T1-x.yaml")).unwrap().starts_with("id: T1"));
    // Refused before anything trains.
    assert!(!dir.path().join("cache/runs").exists(), "trained before refusing");
}

/// `new-claim c01` was accepted beside C01; a bad id exited 3, not 2.
#[test]
fn new_claim_ids_are_checked_like_the_loader_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let twin = xtask(root, &["new-claim", "c01"]);
    assert_eq!(twin.status.code(), Some(3), "{}", text(&twin));
    assert!(text(&twin).contains("taken by") && text(&twin).contains("C01-"), "{}", text(&twin));
    let bad = xtask(root, &["new-claim", "a b"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

/// `--plan` must not exit 0 and say nothing for either.
#[test]
fn plans_refuse_broken_files_and_empty_selections() {
    let dir = workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}")), ("T2-x.yaml", "id: T2\n".into())]);
    let out = xtask(dir.path(), &["plan", "p.jsonl", "--claims-dir", "claims", "--cache", "cache"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("T2-x.yaml") && text(&out).contains("do not load"), "{}", text(&out));
    let dir = workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]);
    let args = ["plan", "p.jsonl", "--claims-dir", "claims", "--cache", "cache", "--claim", "Z9"];
    let out = xtask(dir.path(), &args);
    assert!(out.status.code() == Some(3) && text(&out).contains("matches"), "{}", text(&out));
    let out = xtask(dir.path(), &["plan", "p.jsonl", "--claims-dir", "claims", "--cache", "cache"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("p.jsonl")).unwrap().lines().count(), 1);
    let out = xtask(dir.path(), &["train-planned", "p.jsonl", "--index", "0", "--cache", "cache"]);
    assert!(text(&out).starts_with("trained "), "{}", text(&out));
    // The report reads the caller's claims directory too.
    let out =
        xtask(dir.path(), &["report", "--tier", "quick", "--claims-dir", "claims", "--cache", "cache", "--out", "rep"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.path().join("rep/REPORT.md").exists());
}

/// A reader that goes away (`xtask list-claims 2>&1 | head -0`) loses the
/// text, and the task still ends as it would have: exit 0, no panic.
#[test]
fn a_closed_pipe_loses_the_text_not_the_task() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("list-claims")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// A copy of the checkout's README, claims and snapshots in a fresh
/// directory with no results files (as in a fresh clone).
fn checkout_copy() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .args(["-r", "README.md", "Cargo.toml", "claims", "snapshots", "docs"])
        .arg(dir.path())
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// `xtask ARGS` in `dir`, finding the checkout from there.
fn xtask_in_copy(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir)
        .env_remove("CARGO_MANIFEST_DIR")
        .args(args)
        .output()
        .unwrap()
}

/// The README's results are the committed snapshots of both tiers: `readme
/// --check` passes on the checkout, fails when one paper-tier figure is
/// edited, and `readme` in a fresh clone (no results files) changes nothing.
#[test]
fn readme_check_guards_both_tiers() {
    let here = xtask(Path::new(env!("CARGO_MANIFEST_DIR")), &["readme", "--check"]);
    assert_eq!(here.status.code(), Some(0), "{}", text(&here));
    let dir = checkout_copy();
    let before = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    let rewrite = xtask_in_copy(dir.path(), &["readme"]);
    assert_eq!(rewrite.status.code(), Some(0), "{}", text(&rewrite));
    let after = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    let changed: Vec<&str> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).collect();
    assert!(changed.is_empty(), "readme dropped or changed rows: {changed:?}");
    let snap = dir.path().join("snapshots/paper/C02.snap");
    let text_before = std::fs::read_to_string(&snap).unwrap();
    let edited = text_before.replacen("measured: '174'", "measured: '175'", 1);
    assert_ne!(edited, text_before, "C02's paper snapshot changed; update this test");
    std::fs::write(&snap, edited).unwrap();
    let check = xtask_in_copy(dir.path(), &["readme", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains("175"), "{}", text(&check));
}

/// The README's evidence and docs/tolerances.md are the claim files' own
/// words: a finding or a tolerance's reason edited in a claim file, and not
/// regenerated, fails `readme --check`, naming the file that is stale.
#[test]
fn readme_check_guards_findings_and_tolerance_reasons() {
    let dir = checkout_copy();
    let claim = dir.path().join("claims/C43-eta-inverse-scaling.yaml");
    let original = std::fs::read_to_string(&claim).unwrap();
    for (from, to, stale) in [
        ("6.3 times the epochs", "6.4 times the epochs", "README.md"),
        ("predicting 1740", "predicting 1750", "tolerances.md"),
    ] {
        let edited = original.replacen(from, to, 1);
        assert_ne!(edited, original, "C43 changed; update this test");
        std::fs::write(&claim, &edited).unwrap();
        let check = xtask_in_copy(dir.path(), &["readme", "--check"]);
        assert_eq!(check.status.code(), Some(1), "{}", text(&check));
        let out = text(&check);
        assert!(out.contains(&format!("{stale}: differs")) && out.contains(to), "{out}");
    }
}

/// The verification of [`a_full_stdout_is_an_error_not_a_panic`]: it named
/// no report, so the report of its toy claim replaced the user's in the
/// checkout's target/lockin/report.
const FULL_STDOUT_VERIFY: [&str; 11] = [
    "verify-claims",
    "--tier",
    "quick",
    "--claims-dir",
    "claims",
    "--cache",
    "cache",
    "--results",
    "r.json",
    "--report",
    "report",
];

/// B13: two snapshot files of one id gave the README row of whichever
/// `read_dir` listed last. Both, and a snapshot whose claim is gone, are
/// errors naming the files.
#[test]
fn duplicate_and_orphan_snapshots_are_errors() {
    let dir = checkout_copy();
    let paper = dir.path().join("snapshots/paper");
    std::fs::copy(paper.join("C01.snap"), paper.join("C01-old.snap")).unwrap();
    let out = xtask_in_copy(dir.path(), &["readme", "--check"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("C01.snap") && text(&out).contains("C01-old.snap"), "{}", text(&out));
    std::fs::remove_file(paper.join("C01-old.snap")).unwrap();
    let orphan = std::fs::read_to_string(paper.join("C01.snap")).unwrap().replacen("id: C01", "id: C99", 1);
    std::fs::write(paper.join("C99.snap"), orphan).unwrap();
    let out = xtask_in_copy(dir.path(), &["readme"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("C99.snap") && text(&out).contains("no claim file"), "{}", text(&out));
}

/// A full stdout (`> /dev/full`) panicked with a backtrace and exit 101; it
/// ends with one error line and the documented status 3, the results
/// written. A full stderr does not stop the work either.
#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let dir = workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]);
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let list = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir.path())
        .args(["list-claims", "--claims-dir", "claims"])
        .stdout(full())
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(3), "{}", text(&list));
    assert!(!text(&list).contains("panicked") && text(&list).contains("No space left"), "{}", text(&list));
    let args = FULL_STDOUT_VERIFY;
    let verify =
        Command::new(env!("CARGO_BIN_EXE_xtask")).current_dir(dir.path()).args(args).stdout(full()).output().unwrap();
    assert_eq!(verify.status.code(), Some(3), "{}", text(&verify));
    assert!(!text(&verify).contains("panicked"), "{}", text(&verify));
    assert!(dir.path().join("r.json").exists(), "results are written before the table");
    // A full stderr stopped the work at its first progress line: no results,
    // no report. The work runs to its end; the status still says 3.
    let args = ["verify-claims", "--tier", "quick", "--claims-dir", "claims", "--cache", "c2", "--results", "r2.json"];
    let quiet = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir.path())
        .args(args)
        .args(["--report", "rep2"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(3), "{}", text(&quiet));
    assert!(dir.path().join("r2.json").exists() && dir.path().join("rep2/REPORT.md").exists());
}

/// `--runs` on a directory with no imported run said "0 imported runs" and
/// exited 0; it is an error before anything trains.
#[test]
fn runs_without_imports_is_an_error() {
    let dir = workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]);
    std::fs::create_dir(dir.path().join("imports")).unwrap();
    let args = ["verify-claims", "--tier", "quick", "--claims-dir", "claims", "--cache", "cache", "--runs", "imports"];
    let out = xtask(dir.path(), &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("no imported run there"), "{}", text(&out));
    assert!(!dir.path().join("cache/runs").exists(), "trained before refusing");
}

/// Each `new-claim --kind` template, written into `--claims-dir`, loads as
/// a claim of that kind, as `list-claims` shows.
#[test]
fn every_template_loads_as_its_kind() {
    let dir = workdir(&[]);
    for (id, kind) in [("T90", "paper"), ("T91", "hypothesis"), ("T92", "observation")] {
        let out = xtask(dir.path(), &["new-claim", id, "--claims-dir", "claims", "--kind", kind]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(dir.path().join(format!("claims/{id}-new-claim.yaml")).exists(), "{}", text(&out));
    }
    let list = xtask(dir.path(), &["list-claims", "--claims-dir", "claims"]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list));
    for (id, kind) in [("T90", "paper"), ("T91", "hypothesis"), ("T92", "observation")] {
        let line = text(&list).lines().find(|l| l.starts_with(id)).map(str::to_string).unwrap_or_default();
        assert!(line.contains(kind), "{id}: {line}");
    }
    // An observation checks nothing: it does not "reproduce".
    assert!(text(&list).contains("observed (nothing checked)"), "{}", text(&list));
}

/// An open hypothesis (no `recorded:`) is judged and exits 0 as "open";
/// `record` writes its states (a refuted check with a `finding` stub);
/// after that it is a guarded claim that passes, and fails if it drifts.
#[test]
fn an_open_hypothesis_is_judged_then_recorded_into_a_guarded_claim() {
    let hypothesis = format!(
        "id: H1\nkind: hypothesis\ntitle: t\nsource: test\nstatement: t\npaper: \"-\"\nexperiments:\n  grok: {TINY}\n\
         measures:\n  - {{kind: detector, condition: grok, detector: {{lag: 5, min_epoch: 10}}}}\nexpect:\n  \
         # one seed\n  - quantity: seeds\n    tolerance: {{equals: 1}}\n  - {{quantity: seeds, tolerance: {{above: 5}}}}\n"
    );
    let dir = workdir(&[("H1-x.yaml", hypothesis)]);
    let common = ["--claims-dir", "claims", "--cache", "cache"];
    let verify = |dir: &Path| {
        let args =
            [&["verify-claims", "--tier", "quick", "--results", "r.json", "--report", "report"][..], &common].concat();
        xtask(dir, &args)
    };
    let open = verify(dir.path());
    assert_eq!(open.status.code(), Some(0), "{}", text(&open));
    assert!(text(&open).contains("refuted") && text(&open).contains("1 open hypothesis"), "{}", text(&open));
    let list = xtask(dir.path(), &["list-claims", "--claims-dir", "claims"]);
    assert!(text(&list).contains("open (nothing recorded)"), "{}", text(&list));
    let record = xtask(dir.path(), &[&["record", "H1"][..], &common].concat());
    assert_eq!(record.status.code(), Some(0), "{}", text(&record));
    let file = std::fs::read_to_string(dir.path().join("claims/H1-x.yaml")).unwrap();
    assert!(file.contains("  # one seed\n  - quantity: seeds\n    recorded: holds\n"), "{file}");
    assert!(file.contains("tolerance: {above: 5}, recorded: fails}"), "{file}");
    let stub = "finding: >-\n  Recorded by `cargo xtask record`: seeds 1 against > 5 (fails) (quick tier)";
    assert!(file.contains(stub), "{file}");
    let guarded = verify(dir.path());
    assert_eq!(guarded.status.code(), Some(0), "{}", text(&guarded));
    assert!(text(&guarded).contains("1 passed (of which 1 hypothesis)"), "{}", text(&guarded));
    std::fs::write(dir.path().join("claims/H1-x.yaml"), file.replace("{above: 5}", "{above: 0}")).unwrap();
    assert_eq!(verify(dir.path()).status.code(), Some(1), "a recorded failure that now holds fails");
    // Re-recording one tier invents no state for the other, says what
    // changed, and drops its own stub once every check holds.
    let again = xtask(dir.path(), &[&["record", "H1", "--tier", "quick"][..], &common].concat());
    assert!(text(&again).contains("was recorded as fails at the quick tier and now holds"), "{}", text(&again));
    let file = std::fs::read_to_string(dir.path().join("claims/H1-x.yaml")).unwrap();
    assert!(file.contains("tolerance: {above: 0}, recorded: holds}") && !file.contains("finding:"), "{file}");
}

/// B2: a stub edited as `record` asks, keeping its first words, was
/// replaced by a fresh stub on the next record. B1: a line added under it
/// moved into the key before. The author's finding is kept, byte for byte.
#[test]
fn record_never_replaces_the_authors_finding() {
    let hypothesis = format!(
        "id: H3\nkind: hypothesis\ntitle: t\nsource: test\nstatement: t\npaper: \"-\"\nexperiments:\n  grok: {TINY}\n\
         measures:\n  - {{kind: detector, condition: grok, detector: {{lag: 5, min_epoch: 10}}}}\nexpect:\n\
         - {{quantity: seeds, tolerance: {{above: 5}}}}\n"
    );
    let dir = workdir(&[("H3-x.yaml", hypothesis)]);
    let path = dir.path().join("claims/H3-x.yaml");
    let record = || xtask(dir.path(), &["record", "H3", "--claims-dir", "claims", "--cache", "cache"]);
    // B7: record checked its edit in `$TMPDIR/lockin-record-PID`, a
    // predictable name; it uses no scratch space at all now.
    let no_tmp = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir.path())
        .env("TMPDIR", dir.path().join("claims/H3-x.yaml/not-a-directory"))
        .args(["record", "H3", "--claims-dir", "claims", "--cache", "cache"])
        .output()
        .unwrap();
    assert_eq!(no_tmp.status.code(), Some(0), "{}", text(&no_tmp));
    let stubbed = std::fs::read_to_string(&path).unwrap();
    let stub_line = stubbed.lines().find(|l| l.contains("Say here what this means.")).unwrap().to_string();
    for mine in [
        stub_line.replace("Say here what this means.", "One seed cannot be more than five."),
        format!("{stub_line}\n  One seed cannot be more than five."),
    ] {
        let edited = stubbed.replace(&stub_line, &mine);
        std::fs::write(&path, &edited).unwrap();
        let again = record();
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert!(text(&again).contains("is yours and was left as it is"), "{}", text(&again));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), edited, "the author's finding was changed");
    }
}

/// `record` refuses a claim whose precondition does not hold: its answer
/// would be recorded for a question the runs did not pose.
#[test]
fn an_ill_posed_hypothesis_is_not_recorded() {
    let hypothesis = format!(
        "id: H2\nkind: hypothesis\ntitle: t\nsource: test\nstatement: t\npaper: \"-\"\nexperiments:\n  grok: {TINY}\n\
         measures:\n  - {{kind: detector, condition: grok, detector: {{lag: 5, min_epoch: 10}}}}\n\
         requires:\n  - {{quantity: seeds, tolerance: {{above: 5}}}}\nexpect:\n  - {{quantity: seeds, tolerance: {{equals: 1}}}}\n"
    );
    let dir = workdir(&[("H2-x.yaml", hypothesis.clone())]);
    let out = xtask(dir.path(), &["record", "H2", "--claims-dir", "claims", "--cache", "cache"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("ill-posed") && text(&out).contains("nothing is recorded"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("claims/H2-x.yaml")).unwrap(), hypothesis);
}

/// Run outside any checkout (a copied binary, another directory), xtask
/// says which checkout's claims and cache it uses instead of using them
/// silently.
#[test]
fn outside_a_checkout_xtask_names_the_one_it_uses() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("xtask");
    std::fs::copy(env!("CARGO_BIN_EXE_xtask"), &copy).unwrap();
    let out = Command::new(&copy)
        .current_dir(dir.path())
        .env_remove("CARGO_MANIFEST_DIR")
        .args(["list-claims", "--claims-dir", "nowhere"])
        .output()
        .unwrap();
    assert!(
        text(&out).contains("note: not inside a lockin checkout; reading the claims of the one this was built from"),
        "{}",
        text(&out)
    );
}

/// Every file under `dir`, with its bytes, for comparing a tree before and after.
fn tree(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(tree(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// `cargo test` overwrote the user's report: an invocation that named no
/// `--report`, run outside a checkout, wrote into the checkout xtask was
/// built from. The suite's xtask invocations run here against a copy of
/// the binary inside a stand-in build checkout whose target/lockin (a
/// sentinel report and results), claims and README must come out
/// unchanged; the defaults that would write there are refused instead.
#[test]
fn the_suites_invocations_never_write_into_the_build_checkout() {
    let build = tempfile::tempdir().unwrap();
    let (root, work) = (build.path().join("checkout"), workdir(&[("T1-x.yaml", claim("T1", "{equals: 1}"))]));
    for dir in ["claims", "target/debug", "target/lockin/report", "snapshots/paper"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(root.join("README.md"), "the user's README\n").unwrap();
    std::fs::write(root.join("claims/T1-x.yaml"), claim("T1", "{equals: 1}")).unwrap();
    std::fs::write(root.join("target/lockin/report/REPORT.md"), "the user's report\n").unwrap();
    std::fs::write(root.join("target/lockin/results-quick.json"), "the user's results\n").unwrap();
    let binary = root.join("target/debug/xtask");
    std::fs::copy(env!("CARGO_BIN_EXE_xtask"), &binary).unwrap();
    let before = tree(&root);
    let common = ["--claims-dir", "claims", "--cache", "cache"];
    let verify = ["verify-claims", "--tier", "quick"];
    let suite: Vec<Vec<&str>> = vec![
        FULL_STDOUT_VERIFY.to_vec(),
        [&FULL_STDOUT_VERIFY[..9], &["--report", "rep2"]].concat(),
        [&verify[..], &common, &["--results", "r.json", "--report", "report"]].concat(),
        [&verify[..], &common, &["--results", "r.json"]].concat(), // no --report: refused
        [&verify[..], &common].concat(),                           // no --results: refused
        [&verify[..], &["--claims-dir", "claims"]].concat(),       // no --cache: refused
        [&verify[..], &common, &["--results", "r.json", "--report", "report", "--accept"]].concat(),
        vec!["report", "--tier", "quick", "--claims-dir", "claims", "--cache", "cache"],
        vec!["plan", "p.jsonl", "--claims-dir", "claims", "--cache", "cache"],
        vec!["train-planned", "p.jsonl", "--index", "0"],
        vec!["record", "T1", "--cache", "cache"],
        vec!["new-claim", "T9"],
        vec!["readme"],
        vec!["list-claims"],
        // The build checkout's own claims, read by default: their paper
        // snapshots are compared, never written there.
        vec![
            "verify-claims",
            "--tier",
            "paper",
            "--cache",
            "cache",
            "--results",
            "r.json",
            "--report",
            "rep3",
            "--accept",
        ],
    ];
    for args in &suite {
        let out = Command::new(&binary).current_dir(work.path()).env_remove("CARGO_MANIFEST_DIR").args(args).output();
        let out = out.unwrap();
        let said = text(&out);
        assert!(!said.contains("panicked"), "{args:?}: {said}");
        if out.status.code() == Some(3) && !said.contains("No space left") {
            assert!(said.contains("not inside a lockin checkout") || said.contains("--"), "{args:?}: {said}");
        }
    }
    assert_eq!(tree(&root), before, "an xtask invocation wrote into the build checkout");
    assert!(work.path().join("report/REPORT.md").exists(), "the named report is written");
}
