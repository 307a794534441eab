//! The per-epoch log (docs/methods.md, "Log alignment", "Update spectrum") and its CSV form.
//!
//! Row t describes θ_t (t = 0..E): train/test accuracy and loss of θ_t and
//! the update spectrum of the window ending with Δ_t. `metrics.csv` has the
//! stable columns [`COLUMNS`]; an undefined value is an empty cell.

use std::fmt::Write as _;

use anyhow::{Context, bail};

use crate::probes::spectrum::SpectrumRow;

/// Loss and accuracy of one set of pairs at one θ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Tian's centred MSE, mean over pairs, sum over classes.
    pub loss: f64,
    /// Fraction of pairs whose argmax output equals the label.
    pub accuracy: f64,
}

/// The CSV header, in order.
pub const COLUMNS: [&str; 17] = [
    "epoch",
    "train_acc",
    "test_acc",
    "train_loss",
    "test_loss",
    "w_sigma1",
    "w_sigma2",
    "w_sigma3",
    "w_sigma4",
    "w_sigma5",
    "w_gap23",
    "v_sigma1",
    "v_sigma2",
    "v_sigma3",
    "v_sigma4",
    "v_sigma5",
    "v_gap23",
];

/// One row of the log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRow {
    /// t, the number of optimiser steps behind θ_t.
    pub epoch: usize,
    /// Loss and accuracy on the training pairs.
    pub train: Evaluation,
    /// Loss and accuracy on the test pairs.
    pub test: Evaluation,
    /// Spectrum of the W-update window.
    pub w: SpectrumRow,
    /// Spectrum of the V-update window.
    pub v: SpectrumRow,
}

/// A run's whole log, with per-column accessors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Rows t = 0..E in order.
    pub rows: Vec<EpochRow>,
}

impl Metrics {
    /// gap23 of the W updates, indexed by epoch.
    pub fn w_gap23(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.w.gap23).collect()
    }

    /// σ_1..σ_5 of the W updates as five series indexed by epoch.
    pub fn w_sigma(&self) -> [Vec<f64>; 5] {
        std::array::from_fn(|k| self.rows.iter().map(|r| r.w.sigma[k]).collect())
    }

    /// Test accuracy indexed by epoch.
    pub fn test_acc(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.test.accuracy).collect()
    }

    /// Train accuracy indexed by epoch.
    pub fn train_acc(&self) -> Vec<f64> {
        self.rows.iter().map(|r| r.train.accuracy).collect()
    }

    /// A logged column by its `metrics.csv` name (any of [`COLUMNS`] but
    /// `epoch`), indexed by epoch; `None` for an unknown name.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let index = COLUMNS.iter().position(|&c| c == name).filter(|&i| i > 0)?;
        Some(self.rows.iter().map(|r| row_values(r)[index - 1]).collect())
    }

    /// The CSV text, header first.
    pub fn to_csv(&self) -> String {
        let mut out = COLUMNS.join(",");
        out.push('\n');
        for r in &self.rows {
            let mut cells = vec![r.epoch.to_string()];
            cells.extend(row_values(r).into_iter().map(cell));
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }

    /// Parse CSV text written by [`Metrics::to_csv`]; errors name the line and column.
    pub fn from_csv(text: &str) -> anyhow::Result<Self> {
        let mut lines = text.lines();
        let header = lines.next().context("empty metrics file")?;
        if header != COLUMNS.join(",") {
            bail!("line 1: header is not the metrics.csv header ({})", COLUMNS.join(","));
        }
        let rows = lines
            .enumerate()
            .map(|(i, line)| parse_row(line).with_context(|| format!("line {}", i + 2)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { rows })
    }
}

/// A row's values in [`COLUMNS`] order, `epoch` left out.
fn row_values(r: &EpochRow) -> Vec<f64> {
    let values = [r.train.accuracy, r.test.accuracy, r.train.loss, r.test.loss];
    let spectra = [r.w, r.v].into_iter().flat_map(|s| s.sigma.into_iter().chain([s.gap23]));
    values.into_iter().chain(spectra).collect()
}

fn cell(x: f64) -> String {
    if x.is_nan() { String::new() } else { format!("{x:e}") }
}

fn parse_row(line: &str) -> anyhow::Result<EpochRow> {
    let cells: Vec<&str> = line.split(',').collect();
    if cells.len() != COLUMNS.len() {
        bail!("{} cells, expected {}", cells.len(), COLUMNS.len());
    }
    let value = |i: usize| -> anyhow::Result<f64> {
        if cells[i].is_empty() {
            return Ok(f64::NAN);
        }
        cells[i].parse().with_context(|| format!("column {}: {:?} is not a number", COLUMNS[i], cells[i]))
    };
    let spectrum = |first: usize| -> anyhow::Result<SpectrumRow> {
        let mut sigma = [0.0; 5];
        for (k, s) in sigma.iter_mut().enumerate() {
            *s = value(first + k)?;
        }
        Ok(SpectrumRow { sigma, gap23: value(first + 5)? })
    };
    Ok(EpochRow {
        epoch: cells[0].parse().with_context(|| format!("column epoch: {:?}", cells[0]))?,
        train: Evaluation { accuracy: value(1)?, loss: value(3)? },
        test: Evaluation { accuracy: value(2)?, loss: value(4)? },
        w: spectrum(5)?,
        v: spectrum(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_with_empty_cells() {
        let row = |epoch, gap: f64| EpochRow {
            epoch,
            train: Evaluation { loss: 0.5, accuracy: 1.0 },
            test: Evaluation { loss: 0.75, accuracy: 0.03125 },
            w: SpectrumRow { sigma: [3.6, 0.46, 0.027, f64::NAN, f64::NAN], gap23: gap },
            v: SpectrumRow::undefined(),
        };
        let metrics = Metrics { rows: vec![row(0, f64::NAN), row(1, 17.037037037037038)] };
        let csv = metrics.to_csv();
        assert!(csv.starts_with("epoch,train_acc,test_acc,train_loss,test_loss,w_sigma1"));
        assert!(csv.lines().nth(1).unwrap().ends_with(",,,,,,,"));
        let back = Metrics::from_csv(&csv).unwrap();
        assert_eq!(back.rows.len(), 2);
        assert_eq!(back.rows[1].w.gap23, 17.037037037037038);
        assert!(back.rows[0].w.gap23.is_nan());
        assert_eq!(back.column("w_sigma2"), Some(vec![0.46, 0.46]));
        assert_eq!(back.column("test_acc"), Some(vec![0.03125, 0.03125]));
        assert_eq!(back.column("epoch"), None);
        assert_eq!(back.column("w_sigma6"), None);
    }

    #[test]
    fn parse_errors_name_line_and_column() {
        let mut csv = Metrics::default().to_csv();
        csv.push_str("0,1,x,0,0,,,,,,,,,,,,\n");
        let err = format!("{:#}", Metrics::from_csv(&csv).unwrap_err());
        assert!(err.contains("line 2") && err.contains("test_acc"), "{err}");
    }
}
