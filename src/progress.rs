//! Progress display: indicatif bars when stderr is a terminal (one per run
//! training, under an overall bar for the plan), plain lines otherwise
//! (every 100 epochs of a run, and each finished run with the plan's ETA:
//! logs, cluster jobs), nothing when quiet.

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::metrics::EpochRow;
use crate::say;

/// A per-epoch callback showing the progress of one run named `label`.
pub fn epoch_reporter(label: String, epochs: usize, quiet: bool) -> Box<dyn FnMut(&EpochRow)> {
    if quiet {
        return Box::new(|_| {});
    }
    if std::io::stderr().is_terminal() {
        let bar = bars().add(ProgressBar::new(epochs as u64 + 1));
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
            .expect("valid template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label);
        return Box::new(move |row| {
            bar.set_position(row.epoch as u64 + 1);
            bar.set_message(format!("test acc {:.3} gap23 {:.3e}", row.test.accuracy, row.w.gap23));
            if row.epoch == epochs {
                bar.finish_and_clear();
            }
        });
    }
    Box::new(move |row| {
        if row.epoch % 100 == 0 || row.epoch == epochs {
            say!(
                "{label}: epoch {}/{epochs} train acc {:.3} test acc {:.3} gap23 {:.3e}",
                row.epoch,
                row.train.accuracy,
                row.test.accuracy,
                row.w.gap23
            );
        }
    })
}

/// Every bar on screen, so that concurrent runs draw one line each.
fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(MultiProgress::new)
}

/// Progress over a plan's runs, by their FLOP: an overall bar with its ETA
/// on a terminal, a line per finished run otherwise.
pub struct PlanProgress {
    bar: Option<ProgressBar>,
    total_flop: f64,
    runs: usize,
    done: Mutex<(usize, f64)>,
    started: Instant,
    quiet: bool,
}

impl PlanProgress {
    /// Progress over `runs` runs costing `total_flop` in all.
    pub fn new(runs: usize, total_flop: f64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = bars().add(ProgressBar::new(total_flop.max(1.0) as u64));
            let style = ProgressStyle::with_template("plan [{bar:30}] {percent}% of the FLOP, {msg} (ETA {eta})")
                .expect("valid template")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(format!("0/{runs} runs"));
            bar
        });
        Self { bar, total_flop, runs, done: Mutex::new((0, 0.0)), started: Instant::now(), quiet }
    }

    /// Run `label`, costing `flop`, has finished.
    pub fn finished(&self, label: &str, flop: f64) {
        let (runs, flop_done) = {
            let mut done = self.done.lock().expect("no panics while held");
            *done = (done.0 + 1, done.1 + flop);
            *done
        };
        if let Some(bar) = &self.bar {
            bar.set_position(flop_done as u64);
            bar.set_message(format!("{runs}/{} runs", self.runs));
            if runs == self.runs {
                bar.finish_and_clear();
            }
        } else if !self.quiet {
            let seconds = self.started.elapsed().as_secs_f64();
            let left = (self.total_flop - flop_done).max(0.0) / (flop_done / seconds).max(1.0);
            say!("[{runs}/{}] trained {label} ({:.0} s in all, about {:.0} s left)", self.runs, seconds, left);
        }
    }
}
