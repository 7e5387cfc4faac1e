//! Reading contracts and market data from files, with errors that name file, row and term.

use std::path::Path;

use almanac_actus::{ContractTerms, MarketData, RawTerms};
use anyhow::{Context, Result};
use serde_json::Value;

/// A contract read from a file, or the reason it could not be read.
pub(crate) struct InputContract {
    /// Where it came from (`file.csv row 12`).
    pub(crate) origin: String,
    pub(crate) terms: Result<ContractTerms, String>,
}

/// Reads JSON (an array of term objects, or an ACTUS suite file) or CSV contracts.
pub(crate) fn read_contracts(path: &Path) -> Result<(Vec<InputContract>, MarketData)> {
    let name = path.display().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
        return Ok((read_csv(file, &name)?, MarketData::new()));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let root: Value = serde_json::from_str(&text).with_context(|| format!("{name}: not JSON"))?;
    let mut market = MarketData::new();
    let mut out = Vec::new();
    match root {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let origin = format!("{name} item {}", i + 1);
                out.push(from_value(item, origin));
            }
        }
        Value::Object(cases) => {
            // An ACTUS test-suite file: id → {terms, dataObserved, …}.
            for (id, case) in &cases {
                let origin = format!("{name} case {id}");
                match case.get("terms") {
                    Some(t) => out.push(from_value(t, origin)),
                    None => out.push(InputContract {
                        origin,
                        terms: Err("no terms".into()),
                    }),
                }
                if let Some(d) = case.get("dataObserved") {
                    add_market(&mut market, d, &name)?;
                }
            }
        }
        _ => anyhow::bail!("{name}: expected an array of contracts or an ACTUS suite object"),
    }
    Ok((out, market))
}

fn from_value(v: &Value, origin: String) -> InputContract {
    let terms = match v.as_object() {
        Some(raw) => ContractTerms::from_raw(raw, &origin).map_err(|e| e.to_string()),
        None => Err("expected an object of ACTUS terms".to_string()),
    };
    InputContract { origin, terms }
}

/// Reads CSV rows whose header names ACTUS terms; empty cells are absent terms.
pub(crate) fn read_csv<R: std::io::Read>(reader: R, name: &str) -> Result<Vec<InputContract>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .with_context(|| format!("{name}: reading the header"))?
        .clone();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2; // 1-based, after the header line
        let origin = format!("{name} row {row}");
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.push(InputContract {
                    origin,
                    terms: Err(format!("unreadable row: {e}")),
                });
                continue;
            }
        };
        out.push(InputContract {
            terms: csv_terms(&headers, &rec, &origin),
            origin,
        });
    }
    Ok(out)
}

/// Terms of one CSV record; LAX arrays may be written `[a;b;c]` or `a;b;c`.
pub(crate) fn csv_terms(
    headers: &csv::StringRecord,
    rec: &csv::StringRecord,
    origin: &str,
) -> Result<ContractTerms, String> {
    let mut raw = RawTerms::new();
    for (h, v) in headers.iter().zip(rec.iter()) {
        if v.is_empty() {
            continue;
        }
        let value = if h.starts_with("array") || h == "creditEventTypeCovered" {
            let inner = v.trim_start_matches('[').trim_end_matches(']');
            Value::Array(
                inner
                    .split(';')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            )
        } else {
            Value::String(v.to_string())
        };
        raw.insert(h.to_string(), value);
    }
    ContractTerms::from_raw(&raw, origin).map_err(|e| e.to_string())
}

fn add_market(market: &mut MarketData, data: &Value, name: &str) -> Result<()> {
    let obj = data
        .as_object()
        .with_context(|| format!("{name}: market data must be an object"))?;
    for (code, series) in obj {
        let points = series
            .get("data")
            .and_then(Value::as_array)
            .with_context(|| format!("{name}: series {code} has no data array"))?;
        let mut parsed = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let ts = p
                .get("timestamp")
                .and_then(Value::as_str)
                .with_context(|| {
                    format!("{name}: series {code} point {}: timestamp missing", i + 1)
                })?;
            let t = ts.parse().map_err(|e| {
                anyhow::anyhow!(
                    "{name}: series {code} point {}: timestamp {ts:?}: {e}",
                    i + 1
                )
            })?;
            let value = match p.get("value") {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            }
            .with_context(|| {
                format!(
                    "{name}: series {code} point {}: value is not a number",
                    i + 1
                )
            })?;
            parsed.push((t, value));
        }
        market.insert(code, parsed);
    }
    Ok(())
}

/// Reads a market-data file in the suite's `dataObserved` shape.
pub(crate) fn read_market(path: &Path) -> Result<MarketData> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let root: Value = serde_json::from_str(&text).with_context(|| format!("{name}: not JSON"))?;
    let mut market = MarketData::new();
    add_market(&mut market, &root, &name)?;
    Ok(market)
}
