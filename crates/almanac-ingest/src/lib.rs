//! Ingestion: a bank's tape (CSV, Parquet or Excel) and a mapping file become balance-sheet positions, with a
//! validation report that names the file, row, column, value and reason of every problem.
//!
//! Every input row is either imported or listed as rejected with all its problems; nothing is
//! dropped or altered silently. What a row becomes:
//! 1. each mapped cell is trimmed, translated through its code table (an unknown code is a
//!    problem), converted (percent, basis points, scale) and, for date fields, read in the
//!    mapping's date layout;
//! 2. empty fields take the mapping's defaults; `statusDate` defaults to the as-of date;
//! 3. the ACTUS terms are read with their dictionary rules (`ContractTerms::from_raw`) and a
//!    few consistency checks run (maturity not before initial exchange, notional not negative);
//! 4. attributes are read into their types (codes of `docs/data-model.md`).
//!
//! Rows are converted in parallel in chunks, so memory stays bounded and the result is the same
//! on any number of threads.
#![deny(clippy::unwrap_used, clippy::print_stdout)]

pub mod mapping;
pub mod parquet_tape;
pub mod report;
pub mod xlsx_tape;

use std::collections::BTreeMap;
use std::io::Read;

use almanac_actus::{ContractTerms, RawTerms};
use almanac_balance_sheet::{
    Accounting, Attributes, Book, CounterpartyType, DepositAttributes, Encumbrance, Facility,
    FacilityKind, HqlaLevel, Instrument, NonInterestItem, Position, Side,
};
use almanac_time::Date;
use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use mapping::{DateFormat, Field, Mapping, Unit};
pub use parquet_tape::ingest_parquet_into;
pub use xlsx_tape::ingest_xlsx_into;

/// One problem with one cell (or a whole row).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// The tape's file name.
    pub file: String,
    /// 1-based data row (the header is row 0).
    pub row: u64,
    /// Source column (or the target field when the value came from a default).
    pub column: String,
    /// The value as written.
    pub value: String,
    /// What is wrong.
    pub reason: String,
}

/// The outcome of reading a tape.
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    /// Rows read (excluding the header).
    pub rows: u64,
    /// Positions from the valid rows, in row order.
    pub positions: Vec<Position>,
    /// Problems of the rejected rows, in row order.
    pub problems: Vec<Problem>,
    /// Rows rejected.
    pub rejected_rows: u64,
}

/// Errors that stop an import as a whole (as opposed to row problems).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The mapping file is wrong.
    #[error("{file}: {reason}")]
    Mapping {
        /// Mapping file name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The tape cannot be read at all.
    #[error("{file}: {reason}")]
    Tape {
        /// Tape file name.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

/// Content hash of an import's inputs (tape, mapping, as-of date): SHA-256, hex.
pub fn content_hash(tape: &[u8], mapping: &[u8], as_of: Date) -> String {
    let mut h = Sha256::new();
    h.update(b"almanac-import-v1\0");
    h.update(as_of.to_string().as_bytes());
    h.update(b"\0");
    h.update(mapping);
    h.update(b"\0");
    h.update(tape);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Rows converted per parallel chunk.
const CHUNK: usize = 32_768;

/// Reads a CSV tape with `mapping` (`None`: the header names the model's fields directly).
pub fn ingest_csv(
    reader: impl Read,
    file: &str,
    mapping: Option<&Mapping>,
    as_of: Date,
) -> Result<Ingested, IngestError> {
    let mut positions = Vec::new();
    let mut out = ingest_csv_into(reader, file, mapping, as_of, &mut |chunk| {
        positions.extend(chunk);
    })?;
    out.positions = positions;
    Ok(out)
}

/// As [`ingest_csv`], handing the valid positions to `sink` chunk by chunk (in row order)
/// instead of keeping them, so a large tape is imported in bounded memory. The returned
/// [`Ingested`] has the counts and problems but no positions.
pub fn ingest_csv_into(
    reader: impl Read,
    file: &str,
    mapping: Option<&Mapping>,
    as_of: Date,
    sink: &mut dyn FnMut(Vec<Position>),
) -> Result<Ingested, IngestError> {
    let tape_err = |reason: String| IngestError::Tape {
        file: file.to_string(),
        reason,
    };
    let delimiter = mapping.map_or(b',', |m| m.delimiter);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(reader);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| tape_err(format!("header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let records = rdr.into_records().map(|r| r.map_err(|e| e.to_string()));
    ingest_records(&header, records, file, mapping, as_of, sink)
}

/// The shared path of every tape format: a header and records (as text cells) become
/// positions and problems. `records` yields each row or the reason it cannot be read.
pub fn ingest_records(
    header: &[String],
    mut records: impl Iterator<Item = Result<csv::StringRecord, String>>,
    file: &str,
    mapping: Option<&Mapping>,
    as_of: Date,
    sink: &mut dyn FnMut(Vec<Position>),
) -> Result<Ingested, IngestError> {
    let tape_err = |reason: String| IngestError::Tape {
        file: file.to_string(),
        reason,
    };
    let identity;
    let mapping = match mapping {
        Some(m) => m,
        None => {
            identity = Mapping::identity(header);
            &identity
        }
    };
    // Column index of every mapped field; a mapped column missing from the header stops the
    // import (every row would fail the same way).
    let mut columns = Vec::with_capacity(mapping.fields.len());
    for f in &mapping.fields {
        let i = header.iter().position(|h| *h == f.column).ok_or_else(|| {
            tape_err(format!(
                "the mapping reads column {:?} for {}, but the header has no such column",
                f.column, f.target
            ))
        })?;
        columns.push(i);
    }
    let cx = RowContext {
        file,
        mapping,
        columns: &columns,
        width: header.len(),
        as_of,
    };
    let mut out = Ingested::default();
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut chunk: Vec<(u64, csv::StringRecord)> = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        for rec in records.by_ref() {
            out.rows += 1;
            let row = out.rows;
            match rec {
                Ok(r) => chunk.push((row, r)),
                Err(e) => {
                    out.rejected_rows += 1;
                    out.problems.push(Problem {
                        file: file.to_string(),
                        row,
                        column: String::new(),
                        value: String::new(),
                        reason: format!("unreadable row: {e}"),
                    });
                }
            }
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let converted: Vec<Result<Position, Vec<Problem>>> = chunk
            .par_iter()
            .map(|(row, rec)| cx.convert(*row, rec))
            .collect();
        let mut keep = Vec::with_capacity(converted.len());
        for c in converted {
            match c {
                // Duplicate ids: every later occurrence is rejected, naming the first.
                Ok(p) => match seen.get(p.id()) {
                    Some(first) => {
                        out.rejected_rows += 1;
                        out.problems.push(Problem {
                            file: file.to_string(),
                            row: p.row,
                            column: column_of(mapping, "contractID"),
                            value: p.id().to_string(),
                            reason: format!("duplicate id: row {first} has the same id"),
                        });
                    }
                    None => {
                        seen.insert(p.id().to_string(), p.row);
                        keep.push(p);
                    }
                },
                Err(problems) => {
                    out.rejected_rows += 1;
                    out.problems.extend(problems);
                }
            }
        }
        sink(keep);
    }
    // Unreadable rows were recorded as they came; keep the report in row order.
    out.problems.sort_by_key(|p| p.row);
    Ok(out)
}

fn column_of(mapping: &Mapping, target: &str) -> String {
    mapping
        .fields
        .iter()
        .find(|f| f.target == target)
        .map_or_else(|| format!("({target})"), |f| f.column.clone())
}

struct RowContext<'a> {
    file: &'a str,
    mapping: &'a Mapping,
    columns: &'a [usize],
    width: usize,
    as_of: Date,
}

/// ACTUS terms whose values are dates.
fn is_date_term(name: &str) -> bool {
    name.ends_with("Date")
        || name.starts_with("cycleAnchorDate")
        || name == "arrayCycleAnchorDateOfPrincipalRedemption"
}

impl RowContext<'_> {
    fn problem(&self, row: u64, column: &str, value: &str, reason: impl Into<String>) -> Problem {
        Problem {
            file: self.file.to_string(),
            row,
            column: column.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    fn convert(&self, row: u64, rec: &csv::StringRecord) -> Result<Position, Vec<Problem>> {
        let mut problems = Vec::new();
        if rec.len() != self.width {
            problems.push(self.problem(
                row,
                "",
                "",
                format!("has {} fields, the header {}", rec.len(), self.width),
            ));
            return Err(problems);
        }
        // Target → (value, source column).
        let mut values: BTreeMap<&str, (String, String)> = BTreeMap::new();
        for (f, &i) in self.mapping.fields.iter().zip(self.columns) {
            let cell = rec.get(i).unwrap_or_default().trim();
            if cell.is_empty() {
                continue;
            }
            let mut v = match &f.codes {
                None => cell.to_string(),
                Some(codes) => match codes.get(cell) {
                    Some(t) => t.clone(),
                    None => {
                        problems.push(self.problem(
                            row,
                            &f.column,
                            cell,
                            format!(
                                "unknown code for {} (known: {})",
                                f.target,
                                codes.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                        continue;
                    }
                },
            };
            if f.unit != Unit::AsIs {
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => {
                        let y = match f.unit {
                            Unit::Percent => x / 100.0,
                            Unit::BasisPoints => x / 10_000.0,
                            Unit::Scale(s) => x * s,
                            Unit::AsIs => x,
                        };
                        v = y.to_string();
                    }
                    _ => {
                        problems.push(self.problem(
                            row,
                            &f.column,
                            cell,
                            format!("{} needs a number", f.target),
                        ));
                        continue;
                    }
                }
            }
            if is_date_term(&f.target) || f.target == "encumbrance.until" {
                match self.mapping.date_format.to_iso(&v) {
                    Some(iso) => v = iso,
                    None => {
                        problems.push(self.problem(
                            row,
                            &f.column,
                            cell,
                            format!("{} is not a date in the mapping's format", f.target),
                        ));
                        continue;
                    }
                }
            }
            values.insert(f.target.as_str(), (v, f.column.clone()));
        }
        for (k, v) in &self.mapping.defaults {
            values
                .entry(k.as_str())
                .or_insert_with(|| (v.clone(), format!("(default {k})")));
        }
        values
            .entry("statusDate")
            .or_insert_with(|| (self.as_of.to_string(), "(as-of date)".into()));

        let mut terms = RawTerms::new();
        let mut attrs = Attributes::default();
        let mut deposit = DepositAttributes::default();
        let mut has_deposit = false;
        let (mut facility_kind, mut facility_committed, mut facility_received) = (None, None, None);
        let (mut enc_amount, mut enc_to, mut enc_until) = (None, None, None);
        for (target, (v, col)) in &values {
            let mut bad = |reason: String| problems.push(self.problem(row, col, v, reason));
            let flag = |v: &str| match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "y" => Some(true),
                "0" | "false" | "no" | "n" => Some(false),
                _ => None,
            };
            match *target {
                "legal_entity" => attrs.legal_entity = v.clone(),
                "business_line" => attrs.business_line = Some(v.clone()),
                "product" => attrs.product = Some(v.clone()),
                "asset_class" => attrs.asset_class = Some(v.clone()),
                "counterparty_id" => attrs.counterparty_id = Some(v.clone()),
                "book" => match code::<Book>(v) {
                    Some(b) => attrs.book = b,
                    None => bad("book must be banking or trading".into()),
                },
                "accounting" => match code::<Accounting>(v) {
                    Some(a) => attrs.accounting = Some(a),
                    None => bad("accounting must be amortised_cost, fvoci or fvpl".into()),
                },
                "counterparty_type" => match code::<CounterpartyType>(v) {
                    Some(c) => attrs.counterparty_type = Some(c),
                    None => bad("counterparty_type must be retail, sme, non_financial_corporate, sovereign_central_bank_pse, credit_institution or other_financial".into()),
                },
                "hqla_level" => match code::<HqlaLevel>(v) {
                    Some(h) => attrs.hqla_level = Some(h),
                    None => bad("hqla_level must be l1, l2a, l2b or none".into()),
                },
                "collateral" => {
                    attrs.collateral = v.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                }
                "collateral_hqla_level" => match code::<HqlaLevel>(v) {
                    Some(h) => attrs.collateral_hqla_level = Some(h),
                    None => bad("collateral_hqla_level must be l1, l2a, l2b or none".into()),
                },
                "risk_weight" => match v.parse::<f64>() {
                    // A decimal: 0.35 is 35 %; 12.5 (1,250 %) is the largest weight there is.
                    Ok(x) if x.is_finite() && (0.0..=12.5).contains(&x) => {
                        attrs.risk_weight = Some(x)
                    }
                    _ => bad("risk_weight must be a decimal from 0 to 12.5 (0.35 for 35 %)".into()),
                },
                "downgrade_collateral" => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => attrs.downgrade_collateral = Some(x),
                    _ => bad("downgrade_collateral must be an amount of 0 or more".into()),
                },
                "facility.kind" => match code::<FacilityKind>(v) {
                    Some(k) => facility_kind = Some(k),
                    None => bad("facility.kind must be credit or liquidity".into()),
                },
                "facility.committed" => match flag(v) {
                    Some(b) => facility_committed = Some(b),
                    None => bad("facility.committed must be true/false, yes/no or 1/0".into()),
                },
                "facility.received" => match flag(v) {
                    Some(b) => facility_received = Some(b),
                    None => bad("facility.received must be true/false, yes/no or 1/0".into()),
                },
                "central_bank_eligible" => match flag(v) {
                    Some(b) => attrs.central_bank_eligible = b,
                    None => bad("central_bank_eligible must be true/false, yes/no or 1/0".into()),
                },
                "central_bank_haircut" => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && (0.0..=1.0).contains(&x) => {
                        attrs.central_bank_haircut = Some(x)
                    }
                    _ => bad("central_bank_haircut must be a decimal from 0 to 1".into()),
                },
                "deposit.insured_amount" => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => {
                        deposit.insured_amount = Some(x);
                        has_deposit = true;
                    }
                    _ => bad("deposit.insured_amount must be a non-negative number".into()),
                },
                t if t.starts_with("deposit.") => match flag(v) {
                    Some(b) => {
                        has_deposit = true;
                        match t {
                            "deposit.insured" => deposit.insured = b,
                            "deposit.stable_relationship" => deposit.stable_relationship = b,
                            "deposit.transactional" => deposit.transactional = b,
                            "deposit.no_early_withdrawal" => deposit.no_early_withdrawal = b,
                            _ => deposit.operational = b,
                        }
                    }
                    None => bad(format!("{t} must be true/false, yes/no or 1/0")),
                },
                "encumbrance.amount" => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => enc_amount = Some(x),
                    _ => bad("encumbrance.amount must be a non-negative number".into()),
                },
                "encumbrance.to" => enc_to = Some(v.clone()),
                "encumbrance.until" => match v.parse::<Date>() {
                    Ok(d) => enc_until = Some(d),
                    Err(e) => bad(e.to_string()),
                },
                t if t.starts_with("dim.") => {
                    attrs.dimensions.insert(t["dim.".len()..].to_string(), v.clone());
                }
                t if t.starts_with("behaviour.") => {
                    attrs.behaviour.insert(t["behaviour.".len()..].to_string(), v.clone());
                }
                t => {
                    terms.insert(t.to_string(), Value::String(v.clone()));
                }
            }
        }
        if has_deposit {
            attrs.deposit = Some(deposit);
        }
        match (facility_kind, facility_committed.or(facility_received)) {
            (Some(kind), _) => {
                attrs.facility = Some(Facility {
                    kind,
                    committed: facility_committed.unwrap_or(true),
                    received: facility_received.unwrap_or(false),
                })
            }
            (None, None) => {}
            (None, Some(_)) => problems.push(self.problem(
                row,
                "facility.committed",
                "",
                "facility.committed and facility.received need facility.kind",
            )),
        }
        match (enc_amount, enc_to) {
            (Some(amount), Some(to)) => {
                attrs.encumbrance = Some(Encumbrance {
                    amount,
                    to,
                    until: enc_until,
                })
            }
            (None, None) => {}
            _ => problems.push(self.problem(
                row,
                "encumbrance",
                "",
                "encumbrance needs both amount and to",
            )),
        }
        let source = |term: &str| -> String {
            values
                .get(term)
                .map_or_else(|| format!("({term})"), |(_, c)| c.clone())
        };
        let id = values
            .get("contractID")
            .map(|(v, _)| v.clone())
            .unwrap_or_default();
        if id.is_empty() {
            problems.push(self.problem(row, &source("contractID"), "", "the id is empty"));
        }
        // Non-interest items.
        let kind = values.get("contractType").map(|(v, _)| v.as_str());
        let side = match kind {
            Some("NI_ASSET") => Some(Side::Asset),
            Some("NI_LIABILITY") => Some(Side::Liability),
            Some("NI_EQUITY") => Some(Side::Equity),
            Some("NI_OFF_BALANCE") => Some(Side::OffBalance),
            _ => None,
        };
        let instrument = if let Some(side) = side {
            let amount = values
                .get("notionalPrincipal")
                .and_then(|(v, _)| v.parse::<f64>().ok())
                .filter(|x| x.is_finite() && *x >= 0.0);
            let currency = values
                .get("currency")
                .map(|(v, _)| v.clone())
                .unwrap_or_default();
            if amount.is_none() {
                problems.push(self.problem(
                    row,
                    &source("notionalPrincipal"),
                    "",
                    "a non-interest item needs a non-negative amount (notionalPrincipal)",
                ));
            }
            if currency.len() != 3 {
                problems.push(self.problem(
                    row,
                    &source("currency"),
                    &currency,
                    "needs an ISO 4217 currency",
                ));
            }
            Instrument::NonInterest(NonInterestItem {
                id: id.clone(),
                side,
                amount: amount.unwrap_or(0.0),
                currency,
            })
        } else {
            match ContractTerms::from_raw(&terms, &id) {
                Ok(t) => {
                    if let (Some(ied), Some(md)) = (t.initial_exchange_date, t.maturity_date) {
                        if md < ied {
                            problems.push(self.problem(
                                row,
                                &source("maturityDate"),
                                &md.to_string(),
                                format!("maturity is before the initial exchange date {ied}"),
                            ));
                        }
                    }
                    if t.notional_principal.is_some_and(|n| n < 0.0) {
                        problems.push(self.problem(
                            row,
                            &source("notionalPrincipal"),
                            "",
                            "notional must not be negative (the contract role gives the direction)",
                        ));
                    }
                    let type_column = source("contractType");
                    if t.contract_type.is_none()
                        && !problems.iter().any(|p| {
                            p.column == type_column
                                || self
                                    .mapping
                                    .fields
                                    .iter()
                                    .any(|f| f.target == "contractType" && f.column == p.column)
                        })
                    {
                        problems.push(self.problem(
                            row,
                            &source("contractType"),
                            "",
                            "contractType is required",
                        ));
                    }
                    Instrument::Contract(Box::new(t))
                }
                Err(e) => {
                    problems.push(self.problem(row, &source(&e.term), &e.value, e.reason));
                    return Err(problems);
                }
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Position {
            row,
            instrument,
            attributes: attrs,
        })
    }
}

/// Reads a snake_case code into an attribute enum.
fn code<T: serde::de::DeserializeOwned>(v: &str) -> Option<T> {
    serde_json::from_value(Value::String(v.trim().to_ascii_lowercase())).ok()
}

#[cfg(test)]
mod tests;
