//! Progress display: an indicatif bar when stderr is a terminal, plain lines
//! every 100 epochs otherwise (logs, cluster jobs), nothing when quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::metrics::EpochRow;

/// A per-epoch callback showing the progress of one run named `label`.
pub fn epoch_reporter(label: String, epochs: usize, quiet: bool) -> Box<dyn FnMut(&EpochRow)> {
    if quiet {
        return Box::new(|_| {});
    }
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(epochs as u64 + 1);
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
            .expect("valid template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label);
        return Box::new(move |row| {
            bar.set_position(row.epoch as u64 + 1);
            bar.set_message(format!("test acc {:.3} gap23 {:.3e}", row.test.accuracy, row.w.gap23));
            if row.epoch == epochs {
                bar.finish();
            }
        });
    }
    Box::new(move |row| {
        if row.epoch % 100 == 0 || row.epoch == epochs {
            eprintln!(
                "{label}: epoch {}/{epochs} train acc {:.3} test acc {:.3} gap23 {:.3e}",
                row.epoch, row.train.accuracy, row.test.accuracy, row.w.gap23
            );
        }
    })
}
