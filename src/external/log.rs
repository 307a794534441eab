//! Reading an imported log (docs/methods.md, "Runs made elsewhere"): a CSV
//! with named columns or the paper script's JSON lines, as a table of
//! numbers, checked against each column's domain, then as lockin's metrics.

use std::collections::BTreeMap;

use anyhow::{Context, bail};

use crate::metrics::{COLUMNS, EpochRow, Evaluation, Metrics};
use crate::probes::spectrum::SpectrumRow;

/// A log as named columns of numbers: NaN for a blank cell (not logged),
/// [`NOT_A_NUMBER`] for a cell logged as NaN or ±inf.
pub(super) type Table = Vec<BTreeMap<String, f64>>;

/// A cell the source logged as not a number (NaN, ±inf, an overflow):
/// undefined like a blank one, but, in the training loss, a divergence.
pub(super) const NOT_A_NUMBER: f64 = f64::INFINITY;

/// Whether lockin reads a column of that (lower-case) name.
fn is_read(name: &str) -> bool {
    COLUMNS.contains(&name)
}

/// A cell as a value: blank is not logged (NaN); not finite (`nan`, `inf`,
/// an overflow) is [`NOT_A_NUMBER`].
fn value_of(cell: &str, line: usize, name: &str) -> anyhow::Result<f64> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(f64::NAN);
    }
    let x: f64 = cell.parse().with_context(|| format!("line {line}, column {name}: `{cell}` is not a number"))?;
    Ok(if x.is_finite() { x } else { NOT_A_NUMBER })
}

/// The values a column can hold: accuracies are fractions in [0, 1];
/// losses, singular values, gaps and ρ are ≥ 0. The first value outside is
/// an error naming the column, the row and the domain, and saying so when
/// a whole accuracy column looks like percent.
fn check_domains(table: &Table, columns: &[String]) -> anyhow::Result<()> {
    for column in columns {
        let accuracy = column.ends_with("_acc");
        let hi = if accuracy { 1.0 } else { f64::INFINITY };
        let values: Vec<(usize, f64)> = table
            .iter()
            .enumerate()
            .filter_map(|(i, row)| row.get(column).map(|v| (i, *v)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        let Some((row, value)) = values.iter().find(|(_, v)| !(0.0..=hi).contains(v)) else { continue };
        let percent = accuracy && values.iter().all(|(_, v)| (0.0..=100.0).contains(v));
        bail!(
            "column {column}, row {} (epoch {row}): {value} is outside its domain [0, {}{}",
            row + 1,
            if accuracy { "1]" } else { "∞)" },
            if percent { "; the whole column lies in [0, 100]: it looks like percent, give fractions" } else { "" }
        );
    }
    Ok(())
}

/// A CSV cell or name without surrounding blanks and double quotes.
fn unquoted(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')).unwrap_or(cell)
}

/// Why a header with no `epoch` column was not read, where its form says:
/// another separator.
fn separator_hint(header: &str) -> String {
    match [';', '\t', '|'].into_iter().find(|sep| header.contains(*sep) && !header.contains(',')) {
        Some(sep) => format!(
            "; the header is separated by {:?}, not commas: lockin reads comma-separated values",
            sep.to_string()
        ),
        None => String::new(),
    }
}

pub(super) fn table_of_csv(text: &str) -> anyhow::Result<Table> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().context("empty file")?;
    let mut header: Vec<String> = first.split(',').map(|h| unquoted(h).to_ascii_lowercase()).collect();
    // A trailing comma on every line is no column.
    let trailing = header.len() > 1 && header.last().is_some_and(String::is_empty);
    if trailing {
        header.pop();
    }
    if !header.iter().any(|h| h == "epoch") {
        bail!("line 1: no `epoch` column (found {}){}", header.join(", "), separator_hint(first));
    }
    if let Some((i, twice)) = header.iter().enumerate().find(|(i, h)| header[..*i].contains(h)) {
        bail!("line 1: column {} is `{twice}` again (names are matched without regard to case)", i + 1);
    }
    let mut table: Table = lines
        .enumerate()
        .map(|(i, line)| {
            let mut cells: Vec<&str> = line.split(',').map(unquoted).collect();
            if trailing && cells.len() == header.len() + 1 && cells.last() == Some(&"") {
                cells.pop();
            }
            if cells.len() != header.len() {
                bail!("line {}: {} cells for {} columns", i + 2, cells.len(), header.len());
            }
            // Columns lockin does not read are not parsed.
            header
                .iter()
                .zip(cells)
                .filter(|(name, _)| is_read(name))
                .map(|(name, cell)| Ok((name.clone(), value_of(cell, i + 2, name)?)))
                .collect()
        })
        .collect::<anyhow::Result<_>>()?;
    // The names of unread columns stay known (as undefined in row 0).
    if let Some(first) = table.first_mut() {
        first.extend(header.iter().filter(|h| !is_read(h)).map(|h| (h.clone(), f64::NAN)));
    }
    Ok(table)
}

/// A JSON line with Python's bare `NaN`, `Infinity` and `-Infinity`
/// values as `null`; inside strings (keys such as `NaN_count`) nothing is
/// touched.
fn python_json(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if !in_string && let Some(word) = ["-Infinity", "Infinity", "NaN"].into_iter().find(|w| rest.starts_with(w)) {
            out.push_str("null");
            rest = &rest[word.len()..];
            continue;
        }
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_string = !in_string,
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// One JSON line as named values; keys that differ only in case are refused.
fn row_of_jsonl(line: &str, number: usize) -> anyhow::Result<BTreeMap<String, f64>> {
    let row: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&python_json(line)).with_context(|| format!("line {number}: not a JSON object"))?;
    let mut out = BTreeMap::new();
    for (k, v) in row {
        let name = k.to_ascii_lowercase();
        // Every key is a column, a null (NaN) one too; lockin's columns must be numbers.
        let value = match v {
            serde_json::Value::Null => NOT_A_NUMBER,
            serde_json::Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            other if is_read(&name) => bail!("line {number}, key {k}: `{other}` is not a number"),
            _ => f64::NAN,
        };
        if out.insert(name.clone(), value).is_some() {
            bail!("line {number}: two keys are `{name}` when case is ignored; keep one");
        }
    }
    Ok(out)
}

pub(super) fn table_of_jsonl(text: &str) -> anyhow::Result<Table> {
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, line)| row_of_jsonl(line, i + 1)).collect()
}

/// What a log gives: lockin's metrics, the columns it had and those lockin
/// does not read, and the epoch its loss was logged as not a number.
pub(super) struct Read {
    pub(super) metrics: Metrics,
    pub(super) columns: Vec<String>,
    pub(super) ignored: Vec<String>,
    pub(super) diverged_at: Option<usize>,
}

/// The log as lockin's metrics (rows 0..=E in order), with what else it gives.
pub(super) fn metrics_of(table: &Table) -> anyhow::Result<Read> {
    table.first().context("no rows")?;
    if table.len() < 2 {
        bail!("one row (epoch 0) only: a run needs epochs 0 and 1 at least");
    }
    let mut present: Vec<String> = table.iter().flat_map(|row| row.keys().cloned()).collect();
    present.sort();
    present.dedup();
    if !present.iter().any(|c| c == "epoch") {
        bail!("no `epoch` column");
    }
    let columns: Vec<String> =
        COLUMNS[1..].iter().filter(|c| present.iter().any(|p| p == *c)).map(|c| c.to_string()).collect();
    if columns.is_empty() {
        bail!("no column lockin reads (one of {})", COLUMNS[1..].join(", "));
    }
    let ignored = present.iter().filter(|p| !COLUMNS.contains(&p.as_str())).cloned().collect();
    check_domains(table, &columns)?;
    let diverged_at = table.iter().position(|row| row.get("train_loss") == Some(&NOT_A_NUMBER));
    let mut rows = Vec::with_capacity(table.len());
    for (i, row) in table.iter().enumerate() {
        let get = |name: &str| row.get(name).copied().filter(|v| v.is_finite()).unwrap_or(f64::NAN);
        if get("epoch").is_nan() {
            bail!("row {}: its epoch is not a number", i + 1);
        }
        if get("epoch") != i as f64 {
            bail!("row {} holds epoch {}, expected {i}: a log is every epoch from 0 in order", i + 1, get("epoch"));
        }
        let spectrum = |p: &str| SpectrumRow {
            sigma: std::array::from_fn(|k| get(&format!("{p}_sigma{}", k + 1))),
            gap23: get(&format!("{p}_gap23")),
        };
        rows.push(EpochRow {
            epoch: i,
            train: Evaluation { loss: get("train_loss"), accuracy: get("train_acc") },
            test: Evaluation { loss: get("test_loss"), accuracy: get("test_acc") },
            w: spectrum("w"),
            v: spectrum("v"),
        });
    }
    Ok(Read { metrics: Metrics { rows }, columns, ignored, diverged_at })
}
