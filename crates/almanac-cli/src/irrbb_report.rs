//! IRRBB report outputs from the JSON document that `almanac irrbb` builds: an Excel workbook
//! with native charts ([`write_xlsx`]) and a set of CSV files ([`write_csv`]).
//!
//! Both read the document defensively: any section may be absent, null or of another shape
//! than expected, and what they do not know they skip, so the document can grow new sections
//! and fields without breaking them. Arrays of flat objects (gap buckets, key rates, failed
//! contracts, future monthly NII…) are written generically, one column per field.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rust_xlsxwriter::{Chart, ChartType, Format, FormatBorder, Workbook, Worksheet};
use serde_json::{Map, Value};

/// Rows of an Excel worksheet.
const EXCEL_ROWS: u32 = 1_048_576;

/// Columns of an Excel worksheet.
const EXCEL_COLUMNS: usize = 16_384;

/// Characters of an Excel cell.
const EXCEL_CELL_CHARS: usize = 32_767;

/// Preferred column order of the gap buckets (`GapRow`); other fields follow.
const GAP_COLUMNS: [&str; 11] = [
    "index",
    "bucket",
    "label",
    "lower",
    "upper",
    "midpoint",
    "rsa",
    "rsl",
    "gap",
    "cumulative",
    "earnings_at_risk",
];

/// Header of an empty gap table: the fields of `GapRow`.
const GAP_HEADER: [&str; 7] = [
    "bucket",
    "midpoint",
    "rsa",
    "rsl",
    "gap",
    "cumulative",
    "earnings_at_risk",
];

/// Columns of the key-rate PV01 table.
const KEY_RATE_COLUMNS: [&str; 2] = ["pillar_years", "pv01"];

/// Columns of the failed-contract table.
const FAILED_COLUMNS: [&str; 2] = ["contract_id", "reason"];

/// Scalar fields of the sensitivities section, in report order.
const SENSITIVITY_FIELDS: [&str; 5] = [
    "currency",
    "value",
    "pv01",
    "effective_duration",
    "effective_convexity",
];

/// Fields of the EVE outlier test, in report order.
const EVE_OUTLIER_FIELDS: [&str; 6] = [
    "worst_scenario",
    "worst_change",
    "tier1",
    "ratio",
    "threshold",
    "outlier",
];

/// Fields of the NII outlier test, in report order.
const NII_OUTLIER_FIELDS: [&str; 5] = ["worst_delta", "tier1", "ratio", "threshold", "breach"];

/// Top-level fields the summary shows with a label; other top-level scalars follow as they are.
const SUMMARY_FIELDS: [(&str, &str); 6] = [
    ("as_of", "As of"),
    ("currency", "Reporting currency"),
    ("calibration", "Shock calibration"),
    ("floor", "Post-shock floor"),
    ("method", "Method"),
    ("margins_stripped", "Commercial margins stripped (EVE)"),
];

/// A JSON null to borrow for missing fields.
static NULL: Value = Value::Null;

// ---------------------------------------------------------------------------------------------
// Reading the document.

/// Rank of a scenario name in report order: base, the six standardised scenarios in their
/// regulatory order, then any other (ties broken by name).
fn scenario_rank(name: &str) -> usize {
    use almanac_scenario::irrbb::Scenario;
    if name == "base" {
        return 0;
    }
    Scenario::ALL
        .iter()
        .position(|s| s.name() == name)
        .map_or(Scenario::ALL.len() + 1, |k| k + 1)
}

/// Names in report order: base and the standard scenarios first, then the others sorted.
fn scenario_order<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = names.into_iter().collect();
    v.sort_by(|a, b| {
        scenario_rank(a)
            .cmp(&scenario_rank(b))
            .then_with(|| a.cmp(b))
    });
    v.dedup();
    v
}

/// The elements of an array field, or none.
fn array_of(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// True for a string, number or boolean.
fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// The fields of `obj`: those named in `preferred` first, in that order, then the others.
fn ordered_fields<'a>(
    obj: &'a Map<String, Value>,
    preferred: &[&str],
) -> Vec<(&'a str, &'a Value)> {
    let mut out: Vec<(&str, &Value)> = preferred
        .iter()
        .filter_map(|p| obj.get_key_value(*p))
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    out.extend(
        obj.iter()
            .filter(|(k, _)| !preferred.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v)),
    );
    out
}

/// The columns of a table of row objects: the `preferred` ones that occur, then every other
/// field in order of first appearance. A row that is not an object counts as a `value` field.
fn table_columns(rows: &[Value], preferred: &[&str]) -> Vec<String> {
    let mut cols: Vec<String> = preferred
        .iter()
        .filter(|p| rows.iter().any(|r| r.get(**p).is_some()))
        .map(|p| (*p).to_string())
        .collect();
    let mut seen: HashSet<String> = cols.iter().cloned().collect();
    for r in rows {
        match r.as_object() {
            Some(o) => {
                for k in o.keys() {
                    if !seen.contains(k) {
                        seen.insert(k.clone());
                        cols.push(k.clone());
                    }
                }
            }
            None => {
                if seen.insert("value".to_string()) {
                    cols.push("value".to_string());
                }
            }
        }
    }
    cols
}

/// Field `col` of a table row (a non-object row is its own `value`).
fn field<'a>(row: &'a Value, col: &str) -> &'a Value {
    match row.as_object() {
        Some(o) => o.get(col).unwrap_or(&NULL),
        None if col == "value" => row,
        None => &NULL,
    }
}

/// A map keyed by scenario (or anything) as table rows in scenario order: an object value
/// gives its fields after `key`, a scalar value goes to `value_name`.
fn keyed_rows(map: &Map<String, Value>, key: &str, value_name: &str) -> Vec<Value> {
    scenario_order(map.keys().map(String::as_str))
        .into_iter()
        .map(|k| {
            let mut row = Map::new();
            row.insert(key.to_string(), Value::String(k.to_string()));
            match &map[k] {
                Value::Object(o) => {
                    for (f, v) in o {
                        if f != key {
                            row.insert(f.clone(), v.clone());
                        }
                    }
                }
                v => {
                    row.insert(value_name.to_string(), v.clone());
                }
            }
            Value::Object(row)
        })
        .collect()
}

/// EVE by currency: the `by_currency` section, with the top-level `eve` under the reporting
/// currency first when `by_currency` lacks it.
fn eve_by_currency(doc: &Value) -> Vec<(&str, &Map<String, Value>)> {
    let mut out = Vec::new();
    let by = doc.get("by_currency").and_then(Value::as_object);
    let ccy = doc.get("currency").and_then(Value::as_str).unwrap_or("");
    if let Some(eve) = doc.get("eve").and_then(Value::as_object) {
        if by.is_none_or(|b| !b.contains_key(ccy)) {
            out.push((ccy, eve));
        }
    }
    if let Some(b) = by {
        out.extend(
            b.iter()
                .filter_map(|(c, e)| e.as_object().map(|e| (c.as_str(), e))),
        );
    }
    out
}

/// The scenarios of one currency's EVE in report order: `(name, value, delta, kao)`.
fn eve_scenarios(eve: &Map<String, Value>) -> Vec<(&str, &Value, &Value, &Value)> {
    let Some(s) = eve.get("scenarios").and_then(Value::as_object) else {
        return Vec::new();
    };
    scenario_order(s.keys().map(String::as_str))
        .into_iter()
        .map(|n| {
            let v = &s[n];
            (
                n,
                v.get("value").unwrap_or(&NULL),
                v.get("delta").unwrap_or(&NULL),
                v.get("kao").unwrap_or(&NULL),
            )
        })
        .collect()
}

/// Per-contract PV maps and the prefix of their column names: the reported view's `pv`, and
/// the contractual view's `pv_contractual` when the reported view is behavioural.
const CONTRACT_PV_FIELDS: [(&str, &str); 2] = [("pv", ""), ("pv_contractual", "contractual_")];

/// A value column of the per-contract table.
struct PvColumn {
    /// The PV map it reads (`pv` or `pv_contractual`).
    map: &'static str,
    /// The scenario.
    scenario: String,
    /// Its header.
    header: String,
}

/// The value columns of the per-contract PVs: every scenario of `pv` in report order, then
/// those of `pv_contractual`, if any.
fn contract_columns(rows: &[Value]) -> Vec<PvColumn> {
    let mut out = Vec::new();
    for (map, prefix) in CONTRACT_PV_FIELDS {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for r in rows {
            if let Some(pv) = r.get(map).and_then(Value::as_object) {
                for k in pv.keys() {
                    if !names.contains(k.as_str()) {
                        names.insert(k);
                    }
                }
            }
        }
        out.extend(scenario_order(names).into_iter().map(|s| PvColumn {
            map,
            scenario: s.to_string(),
            header: format!("{prefix}{s}"),
        }));
    }
    out
}

/// The value of column `c` for contract row `row`.
fn contract_pv<'a>(row: &'a Value, c: &PvColumn) -> &'a Value {
    row.get(c.map)
        .and_then(|m| m.get(&c.scenario))
        .unwrap_or(&NULL)
}

/// The per-contract rows of a report: the document's `contracts` array, or the engine's
/// values given beside the document (turned into a row one at a time, so a million
/// contracts are never all JSON values at once).
#[derive(Clone, Copy)]
pub(crate) enum ContractRows<'a> {
    /// Rows already in the document.
    Json(&'a [Value]),
    /// The engine's per-contract values.
    Values(&'a almanac_analytics::irrbb::ContractTable),
}

impl ContractRows<'_> {
    fn len(&self) -> usize {
        match self {
            ContractRows::Json(r) => r.len(),
            ContractRows::Values(v) => v.len(),
        }
    }

    fn row(&self, k: usize) -> std::borrow::Cow<'_, Value> {
        match self {
            ContractRows::Json(r) => std::borrow::Cow::Borrowed(&r[k]),
            ContractRows::Values(v) => {
                std::borrow::Cow::Owned(serde_json::to_value(v.row(k)).unwrap_or(Value::Null))
            }
        }
    }

    /// The value columns: from every row of a document, from the first of the engine's
    /// values (they all have the same scenarios).
    fn columns(&self) -> Vec<PvColumn> {
        match self {
            ContractRows::Json(r) => contract_columns(r),
            ContractRows::Values(v) if v.is_empty() => Vec::new(),
            ContractRows::Values(_) => contract_columns(&[self.row(0).into_owned()]),
        }
    }

    /// The rows of `doc`, else `given`.
    fn of<'b>(doc: &'b Value, given: Option<ContractRows<'b>>) -> Option<ContractRows<'b>> {
        doc.get("contracts")
            .and_then(Value::as_array)
            .map(|r| ContractRows::Json(r))
            .or(given)
    }
}

// ---------------------------------------------------------------------------------------------
// Excel.

/// How a numeric field is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    /// Money: `#,##0.00`.
    Amount,
    /// A ratio or rate: `0.00%`.
    Ratio,
    /// Years, durations, counts: Excel's general format.
    Plain,
}

/// The display of a numeric field, from its name.
fn num_kind(field: &str) -> Num {
    let f = field.to_ascii_lowercase();
    if ["ratio", "threshold", "pct", "percent", "shift"]
        .iter()
        .any(|p| f.contains(p))
        || f.ends_with("rate")
    {
        Num::Ratio
    } else if [
        "year",
        "midpoint",
        "duration",
        "convexity",
        "lower",
        "upper",
        "index",
        "month",
        "count",
        "horizon",
        "bucket",
    ]
    .iter()
    .any(|p| f.contains(p))
    {
        Num::Plain
    } else {
        Num::Amount
    }
}

/// The formats of the workbook.
struct Styles {
    /// Column headers.
    header: Format,
    /// Section titles.
    title: Format,
    /// Notes such as "no data".
    note: Format,
    /// Money.
    amount: Format,
    /// Ratios.
    ratio: Format,
}

impl Styles {
    fn new() -> Self {
        Self {
            header: Format::new()
                .set_bold()
                .set_border_bottom(FormatBorder::Thin),
            title: Format::new().set_bold(),
            note: Format::new().set_italic(),
            amount: Format::new().set_num_format("#,##0.00"),
            ratio: Format::new().set_num_format("0.00%"),
        }
    }

    fn number(&self, kind: Num) -> Option<&Format> {
        match kind {
            Num::Amount => Some(&self.amount),
            Num::Ratio => Some(&self.ratio),
            Num::Plain => None,
        }
    }
}

/// `s` cut to what an Excel cell holds.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(EXCEL_CELL_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Writes a JSON value into a cell: numbers with the format of `kind`, strings, booleans;
/// null leaves the cell empty and any nested value is written as compact JSON.
fn put(ws: &mut Worksheet, row: u32, col: u16, v: &Value, kind: Num, st: &Styles) -> Result<()> {
    match v {
        Value::Null => {}
        Value::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
        Value::Number(n) => {
            if let Some(x) = n.as_f64() {
                put_number(ws, row, col, x, kind, st)?;
            }
        }
        Value::String(s) => {
            ws.write_string(row, col, clip(s))?;
        }
        other => {
            ws.write_string(row, col, clip(&other.to_string()))?;
        }
    }
    Ok(())
}

/// Writes a number with the format of `kind`.
fn put_number(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    x: f64,
    kind: Num,
    st: &Styles,
) -> Result<()> {
    match st.number(kind) {
        Some(f) => ws.write_number_with_format(row, col, x, f)?,
        None => ws.write_number(row, col, x)?,
    };
    Ok(())
}

/// Writes a header row from column `col` on.
fn header(ws: &mut Worksheet, row: u32, col: u16, names: &[&str], st: &Styles) -> Result<()> {
    for (j, n) in (col..).zip(names) {
        ws.write_string_with_format(row, j, clip(n), &st.header)?;
    }
    Ok(())
}

/// Writes a bold section title in column A; returns the next row.
fn title(ws: &mut Worksheet, row: u32, text: &str, st: &Styles) -> Result<u32> {
    ws.write_string_with_format(row, 0, text, &st.title)?;
    Ok(row + 1)
}

/// Writes an italic note in column A; returns the next row.
fn note(ws: &mut Worksheet, row: u32, text: &str, st: &Styles) -> Result<u32> {
    ws.write_string_with_format(row, 0, text, &st.note)?;
    Ok(row + 1)
}

/// Writes `label | value` in columns A and B; returns the next row.
fn kv(ws: &mut Worksheet, row: u32, label: &str, v: &Value, kind: Num, st: &Styles) -> Result<u32> {
    ws.write_string(row, 0, clip(label))?;
    put(ws, row, 1, v, kind, st)?;
    Ok(row + 1)
}

/// Sets the widths of the columns from `col` on.
fn widths(ws: &mut Worksheet, col: u16, w: &[f64]) -> Result<()> {
    for (j, w) in (col..).zip(w) {
        ws.set_column_width(j, *w)?;
    }
    Ok(())
}

/// A table written by [`xl_table`].
struct Written {
    /// Its columns.
    cols: Vec<String>,
    /// The row after its last.
    next_row: u32,
    /// The rows that did not fit on the sheet.
    dropped: usize,
}

impl Written {
    /// The column of field `name`, if any, counted from the table's first column.
    fn col(&self, name: &str) -> Option<u16> {
        self.cols
            .iter()
            .position(|c| c == name)
            .and_then(|i| u16::try_from(i).ok())
    }
}

/// Writes an array of row objects as a table with its header at (`row`, `col`), one column per
/// field (see [`table_columns`]), and sets the column widths. Rows past Excel's last row are
/// dropped and counted.
fn xl_table(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    rows: &[Value],
    preferred: &[&str],
    st: &Styles,
) -> Result<Written> {
    let mut cols = table_columns(rows, preferred);
    cols.truncate(EXCEL_COLUMNS.saturating_sub(usize::from(col)));
    let names: Vec<&str> = cols.iter().map(String::as_str).collect();
    header(ws, row, col, &names, st)?;
    let kinds: Vec<Num> = cols.iter().map(|c| num_kind(c)).collect();
    let room = usize::try_from(EXCEL_ROWS.saturating_sub(row + 1)).unwrap_or(usize::MAX);
    let shown = rows.len().min(room);
    let mut r = row + 1;
    for data in &rows[..shown] {
        for ((j, c), kind) in (col..).zip(&cols).zip(&kinds) {
            put(ws, r, j, field(data, c), *kind, st)?;
        }
        r += 1;
    }
    for ((j, c), kind) in (col..).zip(&cols).zip(&kinds) {
        let longest = rows
            .iter()
            .take(1000)
            .map(|d| match field(d, c) {
                Value::String(s) => s.chars().count(),
                Value::Number(_) => 14,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let base = if *kind == Num::Amount { 16 } else { 10 };
        let w = longest.max(c.chars().count() + 2).clamp(base, 80);
        ws.set_column_width(j, u32::try_from(w).unwrap_or(80))?;
    }
    Ok(Written {
        cols,
        next_row: r,
        dropped: rows.len() - shown,
    })
}

/// Writes a non-scalar value under a title `name` from column A: an object of scalars as
/// `label | value` rows, an object of objects as a table keyed by its keys, an array as a
/// table. Returns the next row.
fn xl_block(ws: &mut Worksheet, row: u32, name: &str, v: &Value, st: &Styles) -> Result<u32> {
    let mut row = title(ws, row, name, st)?;
    match v {
        Value::Object(o) if o.values().all(|x| is_scalar(x) || x.is_null()) => {
            for k in scenario_order(o.keys().map(String::as_str)) {
                row = kv(ws, row, k, &o[k], num_kind(k), st)?;
            }
        }
        Value::Object(o) => {
            row = xl_table(ws, row, 0, &keyed_rows(o, "key", "value"), &["key"], st)?.next_row;
        }
        Value::Array(a) => row = xl_table(ws, row, 0, a, &[], st)?.next_row,
        other => row = kv(ws, row, name, other, num_kind(name), st)?,
    }
    Ok(row + 1)
}

/// The "Summary" sheet: run parameters, base EVE, the worst scenario, the outlier tests and
/// the contract counts.
fn summary_sheet(ws: &mut Worksheet, doc: &Value, st: &Styles) -> Result<()> {
    ws.set_name("Summary")?;
    header(ws, 0, 0, &["Item", "Value"], st)?;
    ws.set_freeze_panes(1, 0)?;
    widths(ws, 0, &[36.0, 28.0])?;
    let mut row = 1;
    for (key, label) in SUMMARY_FIELDS {
        if let Some(v) = doc.get(key).filter(|v| !v.is_null()) {
            row = kv(ws, row, label, v, Num::Plain, st)?;
        }
    }
    let eve = doc.get("eve").and_then(Value::as_object);
    let base = eve.and_then(|e| e.get("base")).and_then(Value::as_f64);
    if let Some(b) = base {
        ws.write_string(row, 0, "Base EVE")?;
        put_number(ws, row, 1, b, Num::Amount, st)?;
        row += 1;
    }
    let worst = eve.and_then(|e| {
        eve_scenarios(e)
            .into_iter()
            .filter_map(|(n, _, d, _)| d.as_f64().map(|d| (n, d)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    });
    if let Some((name, delta)) = worst {
        ws.write_string(row, 0, "Worst ΔEVE scenario")?;
        ws.write_string(row, 1, clip(name))?;
        ws.write_string(row + 1, 0, "Worst ΔEVE")?;
        put_number(ws, row + 1, 1, delta, Num::Amount, st)?;
        row += 2;
        if let Some(b) = base.filter(|b| *b != 0.0) {
            ws.write_string(row, 0, "Worst ΔEVE / base EVE")?;
            put_number(ws, row, 1, delta / b, Num::Ratio, st)?;
            row += 1;
        }
    }
    let tests = [
        (
            "EVE outlier test (SRP31.82)",
            doc.get("outlier_test"),
            &EVE_OUTLIER_FIELDS[..],
        ),
        (
            "NII outlier test (RTS 2024/856 Art 5)",
            doc.get("nii").and_then(|n| n.get("outlier_test")),
            &NII_OUTLIER_FIELDS[..],
        ),
    ];
    for (name, test, fields) in tests {
        if let Some(t) = test.and_then(Value::as_object) {
            row = title(ws, row + 1, name, st)?;
            for (k, v) in ordered_fields(t, fields) {
                row = kv(ws, row, k, v, num_kind(k), st)?;
            }
        }
    }
    row += 1;
    let failed = array_of(doc.get("failed")).len();
    ws.write_string(row, 0, "Failed contracts")?;
    ws.write_number(row, 1, failed as f64)?;
    row += 1;
    if let Some(c) = doc.get("contracts").and_then(Value::as_array) {
        ws.write_string(row, 0, "Contracts valued (per-contract PVs)")?;
        ws.write_number(row, 1, c.len() as f64)?;
        row += 1;
    }
    // Other top-level scalars, as they are.
    if let Some(o) = doc.as_object() {
        for (k, v) in o {
            if is_scalar(v) && !SUMMARY_FIELDS.iter().any(|(f, _)| f == k) {
                row = kv(ws, row, k, v, num_kind(k), st)?;
            }
        }
    }
    Ok(())
}

/// Writes one currency's scenario rows (scenario, base, value, delta, delta / base, KAO)
/// from column `col`; returns how many.
fn xl_eve_rows(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    eve: &Map<String, Value>,
    st: &Styles,
) -> Result<u32> {
    let base = eve.get("base").and_then(Value::as_f64);
    let mut n = 0;
    for (name, value, delta, kao) in eve_scenarios(eve) {
        let r = row + n;
        ws.write_string(r, col, clip(name))?;
        if let Some(b) = base {
            put_number(ws, r, col + 1, b, Num::Amount, st)?;
        }
        put(ws, r, col + 2, value, Num::Amount, st)?;
        put(ws, r, col + 3, delta, Num::Amount, st)?;
        if let (Some(b), Some(d)) = (base.filter(|b| *b != 0.0), delta.as_f64()) {
            put_number(ws, r, col + 4, d / b, Num::Ratio, st)?;
        }
        put(ws, r, col + 5, kao, Num::Amount, st)?;
        n += 1;
    }
    Ok(n)
}

/// The "EVE" sheet: the reporting currency's scenarios with a ΔEVE column chart, EVE by
/// currency and the aggregate change across currencies.
fn eve_sheet(ws: &mut Worksheet, doc: &Value, st: &Styles) -> Result<()> {
    const NAME: &str = "EVE";
    ws.set_name(NAME)?;
    header(
        ws,
        0,
        0,
        &[
            "Scenario",
            "Base EVE",
            "EVE",
            "ΔEVE",
            "ΔEVE / base EVE",
            "KAO (in ΔEVE)",
        ],
        st,
    )?;
    ws.set_freeze_panes(1, 0)?;
    widths(ws, 0, &[18.0, 20.0, 20.0, 20.0, 20.0, 18.0, 18.0])?;
    let ccy = doc.get("currency").and_then(Value::as_str).unwrap_or("");
    let mut row = 1;
    match doc.get("eve").and_then(Value::as_object) {
        Some(eve) => {
            let n = xl_eve_rows(ws, row, 0, eve, st)?;
            if n > 0 {
                let mut chart = Chart::new(ChartType::Column);
                chart
                    .title()
                    .set_name(format!("ΔEVE by scenario {ccy}").trim());
                chart
                    .add_series()
                    .set_name("ΔEVE")
                    .set_categories((NAME, 1, 0, n, 0))
                    .set_values((NAME, 1, 3, n, 3));
                chart.legend().set_hidden();
                chart.y_axis().set_num_format("#,##0");
                ws.insert_chart(1, 7, &chart)?;
                row += n;
            } else {
                row = note(ws, row, "No scenario in the EVE section.", st)?;
            }
        }
        None => {
            row = note(
                ws,
                row,
                "No EVE for the reporting currency in this report.",
                st,
            )?
        }
    }
    if let Some(by) = doc.get("by_currency").and_then(Value::as_object) {
        row = title(ws, row + 1, "EVE by currency", st)?;
        header(
            ws,
            row,
            0,
            &[
                "Currency",
                "Scenario",
                "Base EVE",
                "EVE",
                "ΔEVE",
                "ΔEVE / base EVE",
                "KAO (in ΔEVE)",
            ],
            st,
        )?;
        row += 1;
        for (c, e) in by {
            let Some(e) = e.as_object() else { continue };
            let n = xl_eve_rows(ws, row, 1, e, st)?;
            for r in row..row + n {
                ws.write_string(r, 0, clip(c))?;
            }
            row += n;
        }
    }
    if let Some(agg) = doc.get("aggregate_change").and_then(Value::as_object) {
        row = title(ws, row + 1, "Aggregate ΔEVE across currencies", st)?;
        let rows = keyed_rows(agg, "scenario", "value");
        xl_table(
            ws,
            row,
            0,
            &rows,
            &["scenario", "bcbs_losses_only", "eu_half_gains"],
            st,
        )?;
        // Keep the widths of the scenario table above.
        widths(ws, 0, &[18.0, 20.0, 20.0, 20.0, 20.0, 18.0, 18.0])?;
    }
    Ok(())
}

/// The "Gap" sheet: one row per bucket, every field a column, the gap per bucket as columns
/// with the cumulative gap as a line, and the section's other fields below.
fn gap_sheet(ws: &mut Worksheet, doc: &Value, st: &Styles) -> Result<()> {
    const NAME: &str = "Gap";
    ws.set_name(NAME)?;
    let gap = doc.get("gap");
    let buckets = array_of(gap.and_then(|g| g.get("buckets")));
    if buckets.is_empty() {
        note(ws, 0, "No repricing gap in this report.", st)?;
        return Ok(());
    }
    let t = xl_table(ws, 0, 0, buckets, &GAP_COLUMNS, st)?;
    ws.set_freeze_panes(1, 0)?;
    let last = t.next_row - 1;
    let cats = t.col("bucket").or_else(|| t.col("label"));
    let series = |chart: &mut Chart, name: &str, col: u16| {
        let s = chart.add_series();
        s.set_name(name).set_values((NAME, 1, col, last, col));
        if let Some(c) = cats {
            s.set_categories((NAME, 1, c, last, c));
        }
    };
    let chart = match (t.col("gap"), t.col("cumulative")) {
        (Some(g), cum) => {
            let mut chart = Chart::new(ChartType::Column);
            series(&mut chart, "Gap", g);
            if let Some(c) = cum {
                let mut line = Chart::new(ChartType::Line);
                series(&mut line, "Cumulative gap", c);
                chart.combine(&line);
            }
            Some(chart)
        }
        (None, Some(c)) => {
            let mut chart = Chart::new(ChartType::Line);
            series(&mut chart, "Cumulative gap", c);
            Some(chart)
        }
        (None, None) => None,
    };
    if let Some(mut chart) = chart {
        let ccy = gap
            .and_then(|g| g.get("currency"))
            .and_then(Value::as_str)
            .unwrap_or("");
        chart
            .title()
            .set_name(format!("Repricing gap by bucket {ccy}").trim());
        chart.y_axis().set_num_format("#,##0");
        chart.set_width(720).set_height(360);
        let at = u16::try_from(t.cols.len() + 1).unwrap_or(u16::MAX);
        ws.insert_chart(1, at, &chart)?;
    }
    let mut row = t.next_row + 1;
    if t.dropped > 0 {
        row = note(
            ws,
            row,
            &format!("{} more buckets not shown.", t.dropped),
            st,
        )?;
    }
    if let Some(g) = gap.and_then(Value::as_object) {
        for (k, v) in ordered_fields(g, &["currency", "parallel_shift"]) {
            if k != "buckets" && is_scalar(v) {
                row = kv(ws, row, k, v, num_kind(k), st)?;
            }
        }
    }
    Ok(())
}

/// The "NII" sheet: the section's scalars, ΔNII per scenario, the outlier test and any other
/// object or array (e.g. a monthly table) as a block below.
fn nii_sheet(ws: &mut Worksheet, doc: &Value, st: &Styles) -> Result<()> {
    ws.set_name("NII")?;
    header(ws, 0, 0, &["Item", "Value"], st)?;
    ws.set_freeze_panes(1, 0)?;
    widths(ws, 0, &[28.0, 20.0])?;
    let Some(nii) = doc.get("nii").and_then(Value::as_object) else {
        note(ws, 1, "No NII section in this report.", st)?;
        return Ok(());
    };
    let mut row = 1;
    let fields = ordered_fields(nii, &["horizon_years", "method", "delta", "outlier_test"]);
    for (k, v) in &fields {
        if is_scalar(v) {
            row = kv(ws, row, k, v, num_kind(k), st)?;
        }
    }
    row += 1;
    for (k, v) in &fields {
        match (*k, v) {
            ("delta", Value::Object(d)) => {
                row = title(ws, row, "ΔNII by scenario", st)?;
                let rows = keyed_rows(d, "scenario", "delta_nii");
                row = xl_table(ws, row, 0, &rows, &["scenario", "delta_nii"], st)?.next_row + 1;
            }
            ("outlier_test", Value::Object(_)) => {
                row = xl_block(ws, row, "NII outlier test", v, st)?;
            }
            (_, Value::Object(_) | Value::Array(_)) => row = xl_block(ws, row, k, v, st)?,
            _ => {}
        }
    }
    widths(ws, 0, &[28.0, 20.0])?;
    Ok(())
}

/// The "Sensitivities" sheet: value, PV01, duration and convexity in A:B, the key-rate PV01
/// table in D:E with a column chart.
fn sensitivities_sheet(ws: &mut Worksheet, doc: &Value, st: &Styles) -> Result<()> {
    const NAME: &str = "Sensitivities";
    ws.set_name(NAME)?;
    header(ws, 0, 0, &["Item", "Value"], st)?;
    ws.set_freeze_panes(1, 0)?;
    let Some(sens) = doc.get("sensitivities").and_then(Value::as_object) else {
        widths(ws, 0, &[24.0, 20.0])?;
        note(ws, 1, "No sensitivities in this report.", st)?;
        return Ok(());
    };
    let fields = ordered_fields(sens, &SENSITIVITY_FIELDS);
    let mut row = 1;
    for (k, v) in &fields {
        if is_scalar(v) {
            row = kv(ws, row, k, v, num_kind(k), st)?;
        }
    }
    let key_rates = array_of(sens.get("key_rate_pv01"));
    if !key_rates.is_empty() {
        let t = xl_table(ws, 0, 3, key_rates, &KEY_RATE_COLUMNS, st)?;
        row = row.max(t.next_row);
        if let Some(v) = t.col("pv01") {
            let last = t.next_row - 1;
            let mut chart = Chart::new(ChartType::Column);
            let s = chart.add_series();
            s.set_name("Key-rate PV01")
                .set_values((NAME, 1, 3 + v, last, 3 + v));
            if let Some(p) = t.col("pillar_years") {
                s.set_categories((NAME, 1, 3 + p, last, 3 + p));
            }
            chart.title().set_name("Key-rate PV01 by pillar (years)");
            chart.legend().set_hidden();
            chart.y_axis().set_num_format("#,##0.00");
            let at = 3 + u16::try_from(t.cols.len() + 1).unwrap_or(0);
            ws.insert_chart(1, at, &chart)?;
        }
    }
    row += 1;
    for (k, v) in &fields {
        if *k != "key_rate_pv01" && matches!(v, Value::Object(_) | Value::Array(_)) {
            row = xl_block(ws, row, k, v, st)?;
        }
    }
    widths(ws, 0, &[24.0, 20.0])?;
    Ok(())
}

/// The "Contracts" sheets: one row per contract, a column per scenario; `per_sheet` rows per
/// sheet, continued on "Contracts (2)" and so on. Written in constant-memory mode.
fn contracts_sheets(
    wb: &mut Workbook,
    rows: ContractRows<'_>,
    per_sheet: u32,
    st: &Styles,
) -> Result<()> {
    let columns = rows.columns();
    let mut names = vec!["contract_id"];
    names.extend(columns.iter().map(|c| c.header.as_str()));
    let per = usize::try_from(per_sheet.clamp(1, EXCEL_ROWS - 1)).unwrap_or(1);
    let n = rows.len();
    let sheets = n.div_ceil(per).max(1);
    for i in 0..sheets {
        let ws = wb.add_worksheet_with_constant_memory();
        ws.set_name(if i == 0 {
            "Contracts".to_string()
        } else {
            format!("Contracts ({})", i + 1)
        })?;
        ws.set_column_width(0, 28)?;
        for (j, c) in (1..).zip(&columns) {
            ws.set_column_width(j, c.header.len().max(16) as f64 + 2.0)?;
        }
        ws.set_freeze_panes(1, 0)?;
        header(ws, 0, 0, &names, st)?;
        for (r, k) in (1..).zip(i * per..((i + 1) * per).min(n)) {
            let c = rows.row(k);
            put(
                ws,
                r,
                0,
                c.get("contract_id").unwrap_or(&NULL),
                Num::Plain,
                st,
            )?;
            for (j, col) in (1..).zip(&columns) {
                if let Some(x) = contract_pv(&c, col).as_f64() {
                    ws.write_number_with_format(r, j, x, &st.amount)?;
                }
            }
        }
    }
    Ok(())
}

/// The "Failed" sheet: contract id and reason.
fn failed_sheet(ws: &mut Worksheet, doc: &Value, st: &Styles) -> Result<()> {
    ws.set_name("Failed")?;
    ws.set_freeze_panes(1, 0)?;
    let rows = array_of(doc.get("failed"));
    if rows.is_empty() {
        header(ws, 0, 0, &FAILED_COLUMNS, st)?;
        widths(ws, 0, &[28.0, 60.0])?;
        note(ws, 1, "No contract failed.", st)?;
        return Ok(());
    }
    let t = xl_table(ws, 0, 0, rows, &FAILED_COLUMNS, st)?;
    if t.dropped > 0 {
        let at = u16::try_from(t.cols.len() + 1).unwrap_or(u16::MAX);
        ws.write_string_with_format(
            0,
            at,
            format!("{} more not shown: see failed.csv", t.dropped),
            &st.note,
        )?;
    }
    Ok(())
}

/// Writes the IRRBB report `doc` (the document of `almanac irrbb --json`) as an Excel
/// workbook at `path`: sheets Summary, EVE (with a ΔEVE column chart), Gap (gap columns with
/// the cumulative gap as a line), NII, Sensitivities (key-rate PV01 chart), Contracts (when
/// the document has per-contract PVs: a column per scenario of `pv`, then `contractual_…`
/// columns from `pv_contractual` if present; continued on "Contracts (2)"… past Excel's row
/// limit, in constant-memory mode) and Failed. Absent or null sections give a sheet with a note; unknown ones are skipped.
pub(crate) fn write_xlsx(
    doc: &Value,
    contracts: Option<ContractRows<'_>>,
    path: &Path,
) -> Result<()> {
    write_xlsx_with(doc, contracts, path, EXCEL_ROWS - 1)
}

/// [`write_xlsx`] with at most `contracts_per_sheet` contracts per sheet.
fn write_xlsx_with(
    doc: &Value,
    contracts: Option<ContractRows<'_>>,
    path: &Path,
    contracts_per_sheet: u32,
) -> Result<()> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    summary_sheet(wb.add_worksheet(), doc, &st)?;
    eve_sheet(wb.add_worksheet(), doc, &st)?;
    gap_sheet(wb.add_worksheet(), doc, &st)?;
    nii_sheet(wb.add_worksheet(), doc, &st)?;
    sensitivities_sheet(wb.add_worksheet(), doc, &st)?;
    if let Some(rows) = ContractRows::of(doc, contracts) {
        // Stream the large sheets through a temporary file beside the output rather than in
        // the system temp directory, which may be memory-backed; the default is kept when
        // that folder is not writable (then saving fails with the real error below).
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let _ = wb.set_tempdir(dir);
        contracts_sheets(&mut wb, rows, contracts_per_sheet, &st)?;
    }
    failed_sheet(wb.add_worksheet(), doc, &st)?;
    wb.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// CSV.

/// Writes a JSON value as one CSV field: numbers in full precision (integers as integers,
/// other numbers with Rust's shortest round-trip formatting), strings as they are, booleans
/// as `true`/`false`, null empty, nested values as compact JSON.
fn csv_value(w: &mut csv::Writer<File>, v: &Value, buf: &mut String) -> csv::Result<()> {
    match v {
        Value::String(s) => w.write_field(s),
        Value::Null => w.write_field(""),
        Value::Bool(b) => w.write_field(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            buf.clear();
            if let Some(i) = n.as_i64() {
                let _ = write!(buf, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(buf, "{u}");
            } else if let Some(x) = n.as_f64() {
                let _ = write!(buf, "{x}");
            }
            w.write_field(buf.as_bytes())
        }
        other => w.write_field(other.to_string()),
    }
}

/// Ends a record started with `write_field`.
fn csv_end(w: &mut csv::Writer<File>) -> csv::Result<()> {
    w.write_record(None::<&[u8]>)
}

/// Creates `dir/name`, lets `fill` write it and records its path.
fn csv_file(
    dir: &Path,
    name: &str,
    out: &mut Vec<PathBuf>,
    fill: impl FnOnce(&mut csv::Writer<File>) -> csv::Result<()>,
) -> Result<()> {
    let path = dir.join(name);
    let ctx = || format!("writing {}", path.display());
    let mut w = csv::Writer::from_path(&path).with_context(ctx)?;
    fill(&mut w).with_context(ctx)?;
    w.flush().with_context(ctx)?;
    out.push(path);
    Ok(())
}

/// Writes an array of row objects as a CSV table (see [`table_columns`]); with no rows, the
/// header is `empty_header`.
fn csv_table(
    w: &mut csv::Writer<File>,
    rows: &[Value],
    preferred: &[&str],
    empty_header: &[&str],
) -> csv::Result<()> {
    let cols = if rows.is_empty() {
        empty_header.iter().map(|c| (*c).to_string()).collect()
    } else {
        table_columns(rows, preferred)
    };
    if cols.is_empty() {
        return Ok(());
    }
    w.write_record(&cols)?;
    let mut buf = String::new();
    for r in rows {
        for c in &cols {
            csv_value(w, field(r, c), &mut buf)?;
        }
        csv_end(w)?;
    }
    Ok(())
}

/// A file-name-safe version of a field name.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the IRRBB report `doc` as CSV files in `dir` (created if needed) and returns their
/// paths: `eve.csv` (currency, scenario, base, value, delta, kao for every currency),
/// `eve_aggregate.csv` (when the document has `aggregate_change`), `gap.csv`, `nii.csv`
/// (plus `nii_<field>.csv` for any table inside the NII section), `sensitivities.csv`,
/// `key_rates.csv`, `contracts.csv` (when the document has per-contract PVs; columns as on the
/// Contracts sheet) and `failed.csv`.
/// Every file has a header row, even when its section is absent; quoting follows RFC 4180
/// and numbers keep full precision, so reading them back gives the document's numbers
/// exactly.
pub(crate) fn write_csv(
    doc: &Value,
    contracts: Option<ContractRows<'_>>,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = Vec::new();
    let mut buf = String::new();
    csv_file(dir, "eve.csv", &mut out, |w| {
        w.write_record(["currency", "scenario", "base", "value", "delta", "kao"])?;
        for (ccy, eve) in eve_by_currency(doc) {
            let base = eve.get("base").unwrap_or(&NULL);
            for (name, value, delta, kao) in eve_scenarios(eve) {
                w.write_field(ccy)?;
                w.write_field(name)?;
                for v in [base, value, delta, kao] {
                    csv_value(w, v, &mut buf)?;
                }
                csv_end(w)?;
            }
        }
        Ok(())
    })?;
    if let Some(agg) = doc.get("aggregate_change").and_then(Value::as_object) {
        let rows = keyed_rows(agg, "scenario", "value");
        csv_file(dir, "eve_aggregate.csv", &mut out, |w| {
            csv_table(
                w,
                &rows,
                &["scenario", "bcbs_losses_only", "eu_half_gains"],
                &["scenario", "bcbs_losses_only", "eu_half_gains"],
            )
        })?;
    }
    let buckets = array_of(doc.get("gap").and_then(|g| g.get("buckets")));
    csv_file(dir, "gap.csv", &mut out, |w| {
        csv_table(w, buckets, &GAP_COLUMNS, &GAP_HEADER)
    })?;
    let nii = doc.get("nii").and_then(Value::as_object);
    csv_file(dir, "nii.csv", &mut out, |w| {
        w.write_record(["scenario", "horizon_years", "delta_nii"])?;
        let Some(nii) = nii else { return Ok(()) };
        let horizon = nii.get("horizon_years").unwrap_or(&NULL);
        if let Some(d) = nii.get("delta").and_then(Value::as_object) {
            for name in scenario_order(d.keys().map(String::as_str)) {
                w.write_field(name)?;
                csv_value(w, horizon, &mut buf)?;
                csv_value(w, &d[name], &mut buf)?;
                csv_end(w)?;
            }
        }
        Ok(())
    })?;
    for (k, v) in nii.into_iter().flatten() {
        if let Value::Array(rows) = v {
            csv_file(dir, &format!("nii_{}.csv", file_stem(k)), &mut out, |w| {
                csv_table(w, rows, &[], &[])
            })?;
        }
    }
    let sens = doc.get("sensitivities").and_then(Value::as_object);
    csv_file(dir, "sensitivities.csv", &mut out, |w| {
        let Some(sens) = sens else {
            return w.write_record(SENSITIVITY_FIELDS);
        };
        let fields: Vec<(&str, &Value)> = ordered_fields(sens, &SENSITIVITY_FIELDS)
            .into_iter()
            .filter(|(_, v)| is_scalar(v) || v.is_null())
            .collect();
        w.write_record(fields.iter().map(|(k, _)| *k))?;
        for (_, v) in &fields {
            csv_value(w, v, &mut buf)?;
        }
        csv_end(w)
    })?;
    let key_rates = array_of(sens.and_then(|s| s.get("key_rate_pv01")));
    csv_file(dir, "key_rates.csv", &mut out, |w| {
        csv_table(w, key_rates, &KEY_RATE_COLUMNS, &KEY_RATE_COLUMNS)
    })?;
    if let Some(rows) = ContractRows::of(doc, contracts) {
        csv_file(dir, "contracts.csv", &mut out, |w| {
            let columns = rows.columns();
            w.write_field("contract_id")?;
            for c in &columns {
                w.write_field(&c.header)?;
            }
            csv_end(w)?;
            for k in 0..rows.len() {
                let row = rows.row(k);
                csv_value(w, row.get("contract_id").unwrap_or(&NULL), &mut buf)?;
                for c in &columns {
                    csv_value(w, contract_pv(&row, c), &mut buf)?;
                }
                csv_end(w)?;
            }
            Ok(())
        })?;
    }
    csv_file(dir, "failed.csv", &mut out, |w| {
        csv_table(
            w,
            array_of(doc.get("failed")),
            &FAILED_COLUMNS,
            &FAILED_COLUMNS,
        )
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{open_workbook, Data, Range, Reader, Xlsx};
    use serde_json::json;

    const BUCKETS: [(&str, f64); 19] = [
        ("Overnight", 0.0028),
        ("O/N-1M", 0.0417),
        ("1M-3M", 0.1667),
        ("3M-6M", 0.375),
        ("6M-9M", 0.625),
        ("9M-1Y", 0.875),
        ("1Y-1.5Y", 1.25),
        ("1.5Y-2Y", 1.75),
        ("2Y-3Y", 2.5),
        ("3Y-4Y", 3.5),
        ("4Y-5Y", 4.5),
        ("5Y-6Y", 5.5),
        ("6Y-7Y", 6.5),
        ("7Y-8Y", 7.5),
        ("8Y-9Y", 8.5),
        ("9Y-10Y", 9.5),
        ("10Y-15Y", 12.5),
        ("15Y-20Y", 17.5),
        ("20Y+", 25.0),
    ];

    /// A document shaped like `almanac irrbb --json --per-contract --tier1 …` writes, with
    /// numbers that need every digit.
    fn sample_doc() -> Value {
        let base = 1_234_567.891_234_5;
        let values = [
            ("parallel_up", 1_180_000.123_456_7),
            ("parallel_down", 1_290_000.1 + 0.2),
            ("steepener", 1_233_000.0 + 1.0 / 3.0),
            ("flattener", 1_240_111.000_000_1),
            ("short_up", 1_200_000.0 - 1e-9),
            ("short_down", 1_260_000.5),
        ];
        let scenarios: Map<String, Value> = values
            .iter()
            .map(|(n, v)| {
                let kao = if *n == "parallel_up" { 1_234.5 } else { 0.0 };
                (
                    (*n).to_string(),
                    json!({"value": v, "delta": v - base - kao, "kao": kao}),
                )
            })
            .collect();
        let usd: Map<String, Value> = values
            .iter()
            .map(|(n, v)| {
                (
                    (*n).to_string(),
                    json!({"value": v / 7.0, "delta": (v - base) / 7.0}),
                )
            })
            .collect();
        let mut cumulative = 0.0;
        let gap: Vec<Value> = BUCKETS
            .iter()
            .enumerate()
            .map(|(k, (label, mid))| {
                let rsa = 1000.0 * (k as f64 + 1.0) / 3.0;
                let rsl = if k < 3 { 2500.0 + 0.1 * k as f64 } else { 0.0 };
                let gap = rsa - rsl;
                cumulative += gap;
                let ear = if *mid <= 1.0 {
                    gap * 0.02 * (1.0 - mid)
                } else {
                    0.0
                };
                json!({
                    "bucket": label, "midpoint": mid, "rsa": rsa, "rsl": rsl, "gap": gap,
                    "cumulative": cumulative, "earnings_at_risk": ear,
                })
            })
            .collect();
        let contracts: Vec<Value> = (0..5)
            .map(|i| {
                let pv = 10_000.0 / 7.0 * f64::from(i + 1);
                json!({"contract_id": format!("LOAN-{i}"), "pv": {
                    "base": pv, "parallel_up": pv * 0.97, "parallel_down": pv * 1.03,
                    "steepener": pv * 0.99, "flattener": pv * 1.01, "short_up": pv * 0.995,
                    "short_down": pv * 1.005,
                }})
            })
            .collect();
        json!({
            "as_of": "2025-12-31",
            "currency": "EUR",
            "calibration": "bcbs2016",
            "floor": "eu",
            "method": "cashflow",
            "eve": {"base": base, "scenarios": scenarios},
            "by_currency": {
                "EUR": {"base": base, "scenarios": scenarios},
                "USD": {"base": base / 7.0, "scenarios": usd},
            },
            "aggregate_change": {
                "parallel_up": {"bcbs_losses_only": -54_567.767_777_8, "eu_half_gains": -54_567.767_777_8},
                "parallel_down": {"bcbs_losses_only": 0.0, "eu_half_gains": 27_716.204_382_75},
            },
            "outlier_test": {
                "worst_scenario": "parallel_up", "worst_change": -54_567.767_777_8,
                "tier1": 300_000.0, "ratio": -0.181_892_559_259_333_3, "threshold": -0.15,
                "outlier": true,
            },
            "failed": [
                {"contract_id": "BAD-1", "reason": "unknown contract type \"XYZ\", line 3"},
                {"contract_id": "BAD-2", "reason": "missing maturity\nand rate"},
            ],
            "gap": {"currency": "EUR", "parallel_shift": 0.02, "buckets": gap},
            "nii": {
                "horizon_years": 1,
                "method": "repricing, constant balance sheet, instantaneous parallel shock",
                "delta": {"parallel_up": 123.456_789_012_345_6, "parallel_down": -123.456_789_012_345_6},
                "outlier_test": {"worst_delta": -123.456_789_012_345_6, "tier1": 300_000.0,
                    "ratio": -0.000_411_522_630_041_152, "threshold": -0.05, "breach": false},
            },
            "sensitivities": {
                "currency": "EUR", "value": base, "pv01": -321.987_654_321,
                "key_rate_pv01": [
                    {"pillar_years": 0.25, "pv01": -1.0 / 3.0},
                    {"pillar_years": 1.0, "pv01": -12.345_678_9},
                    {"pillar_years": 5.0, "pv01": -150.0 / 7.0},
                    {"pillar_years": 10.0, "pv01": -200.000_000_000_01},
                ],
                "effective_duration": 2.607_818_181_818_18,
                "effective_convexity": 9.123_456_789,
            },
            "contracts": contracts,
        })
    }

    /// A fresh folder for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "almanac-irrbb-report-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn number(r: &Range<Data>, row: u32, col: u32) -> f64 {
        match r.get_value((row, col)) {
            Some(Data::Float(x)) => *x,
            Some(Data::Int(i)) => *i as f64,
            other => panic!("({row}, {col}): not a number: {other:?}"),
        }
    }

    fn text(r: &Range<Data>, row: u32, col: u32) -> String {
        match r.get_value((row, col)) {
            Some(Data::String(s)) => s.clone(),
            other => panic!("({row}, {col}): not a string: {other:?}"),
        }
    }

    /// The column of a header in row 0.
    fn column(r: &Range<Data>, name: &str) -> u32 {
        (0..r.end().map_or(0, |e| e.1 + 1))
            .find(|c| matches!(r.get_value((0, *c)), Some(Data::String(s)) if s == name))
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    #[test]
    fn workbook_has_the_sheets_values_and_charts() {
        let doc = sample_doc();
        let dir = scratch("xlsx");
        let path = dir.join("irrbb.xlsx");
        write_xlsx(&doc, None, &path).unwrap();

        let bytes = std::fs::read(&path).unwrap();
        for part in [
            "xl/charts/chart1.xml",
            "xl/charts/chart2.xml",
            "xl/charts/chart3.xml",
        ] {
            assert!(contains(&bytes, part), "{part} missing");
        }

        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(
            wb.sheet_names(),
            [
                "Summary",
                "EVE",
                "Gap",
                "NII",
                "Sensitivities",
                "Contracts",
                "Failed"
            ]
        );

        let eve = wb.worksheet_range("EVE").unwrap();
        assert_eq!(text(&eve, 1, 0), "parallel_up");
        let up = &doc["eve"]["scenarios"]["parallel_up"];
        assert_eq!(number(&eve, 1, 1), doc["eve"]["base"].as_f64().unwrap());
        assert_eq!(number(&eve, 1, 2), up["value"].as_f64().unwrap());
        assert_eq!(number(&eve, 1, 3), up["delta"].as_f64().unwrap());
        let pct = up["delta"].as_f64().unwrap() / doc["eve"]["base"].as_f64().unwrap();
        assert_eq!(number(&eve, 1, 4), pct);
        assert_eq!(text(&eve, 0, 5), "KAO (in ΔEVE)");
        assert_eq!(number(&eve, 1, 5), up["kao"].as_f64().unwrap());
        assert_eq!(text(&eve, 6, 0), "short_down");

        let gap = wb.worksheet_range("Gap").unwrap();
        assert_eq!(text(&gap, 0, 0), "bucket");
        assert_eq!(text(&gap, 4, 0), "3M-6M");
        let rsa = column(&gap, "rsa");
        let cum = column(&gap, "cumulative");
        let buckets = doc["gap"]["buckets"].as_array().unwrap();
        assert_eq!(number(&gap, 4, rsa), buckets[3]["rsa"].as_f64().unwrap());
        assert_eq!(
            number(&gap, 19, cum),
            buckets[18]["cumulative"].as_f64().unwrap()
        );

        let contracts = wb.worksheet_range("Contracts").unwrap();
        assert_eq!(text(&contracts, 0, 1), "base");
        assert_eq!(text(&contracts, 0, 2), "parallel_up");
        assert_eq!(text(&contracts, 0, 7), "short_down");
        assert_eq!(text(&contracts, 3, 0), "LOAN-2");
        let pv = doc["contracts"][2]["pv"]["parallel_up"].as_f64().unwrap();
        assert_eq!(number(&contracts, 3, 2), pv);

        let summary = wb.worksheet_range("Summary").unwrap();
        let rows: Vec<(String, Data)> = (0..summary.end().unwrap().0 + 1)
            .filter_map(|r| match summary.get_value((r, 0)) {
                Some(Data::String(s)) => Some((
                    s.clone(),
                    summary.get_value((r, 1)).cloned().unwrap_or(Data::Empty),
                )),
                _ => None,
            })
            .collect();
        let get = |k: &str| rows.iter().find(|(l, _)| l == k).map(|(_, v)| v.clone());
        assert_eq!(get("As of"), Some(Data::String("2025-12-31".into())));
        assert_eq!(
            get("Base EVE"),
            Some(Data::Float(doc["eve"]["base"].as_f64().unwrap()))
        );
        assert_eq!(
            get("Worst ΔEVE scenario"),
            Some(Data::String("parallel_up".into()))
        );
        assert_eq!(get("outlier"), Some(Data::Bool(true)));
        assert_eq!(get("breach"), Some(Data::Bool(false)));
        assert_eq!(get("Failed contracts"), Some(Data::Float(2.0)));

        let sens = wb.worksheet_range("Sensitivities").unwrap();
        assert_eq!(text(&sens, 0, 3), "pillar_years");
        assert_eq!(number(&sens, 3, 4), -150.0 / 7.0);

        let nii = wb.worksheet_range("NII").unwrap();
        let found = (0..nii.end().unwrap().0 + 1).any(|r| {
            matches!(nii.get_value((r, 0)), Some(Data::String(s)) if s == "parallel_down")
                && matches!(nii.get_value((r, 1)), Some(Data::Float(x)) if *x == -123.456_789_012_345_6)
        });
        assert!(found, "ΔNII parallel_down not on the NII sheet");

        let failed = wb.worksheet_range("Failed").unwrap();
        assert_eq!(text(&failed, 2, 1), "missing maturity\nand rate");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Past the rows of one sheet the contracts continue on "Contracts (2)" and so on.
    #[test]
    fn contracts_continue_on_further_sheets() {
        let doc = sample_doc();
        let dir = scratch("split");
        let path = dir.join("irrbb.xlsx");
        write_xlsx_with(&doc, None, &path, 2).unwrap();
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        let names = wb.sheet_names();
        assert_eq!(
            names[5..],
            ["Contracts", "Contracts (2)", "Contracts (3)", "Failed"]
        );
        let third = wb.worksheet_range("Contracts (3)").unwrap();
        assert_eq!(text(&third, 0, 0), "contract_id");
        assert_eq!(text(&third, 1, 0), "LOAN-4");
        assert_eq!(third.end().unwrap().0, 1);
        let base = doc["contracts"][4]["pv"]["base"].as_f64().unwrap();
        assert_eq!(number(&third, 1, 1), base);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::Reader::from_path(path).unwrap();
        let header = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
            .collect();
        (header, rows)
    }

    /// The CSV field as the same f64, bit for bit.
    fn same(field: &str, v: &Value) {
        let x: f64 = field.parse().unwrap();
        let y = v.as_f64().unwrap();
        assert_eq!(x.to_bits(), y.to_bits(), "{field} vs {y}");
    }

    #[test]
    fn csv_files_round_trip_the_numbers() {
        let doc = sample_doc();
        let dir = scratch("csv").join("out");
        let files = write_csv(&doc, None, &dir).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "eve.csv",
                "eve_aggregate.csv",
                "gap.csv",
                "nii.csv",
                "sensitivities.csv",
                "key_rates.csv",
                "contracts.csv",
                "failed.csv"
            ]
        );

        let (h, rows) = read_csv(&dir.join("eve.csv"));
        assert_eq!(h, ["currency", "scenario", "base", "value", "delta", "kao"]);
        assert_eq!(rows.len(), 12);
        for r in &rows {
            let e = &doc["by_currency"][&r[0]];
            same(&r[2], &e["base"]);
            same(&r[3], &e["scenarios"][&r[1]]["value"]);
            same(&r[4], &e["scenarios"][&r[1]]["delta"]);
            match e["scenarios"][&r[1]].get("kao") {
                Some(k) => same(&r[5], k),
                None => assert_eq!(r[5], ""),
            }
        }
        assert_eq!(rows[0][5], "1234.5");
        assert_eq!(
            (rows[0][0].as_str(), rows[0][1].as_str()),
            ("EUR", "parallel_up")
        );

        let (h, rows) = read_csv(&dir.join("eve_aggregate.csv"));
        assert_eq!(h, ["scenario", "bcbs_losses_only", "eu_half_gains"]);
        assert_eq!(rows[0][0], "parallel_up");
        same(
            &rows[1][2],
            &doc["aggregate_change"]["parallel_down"]["eu_half_gains"],
        );

        let (h, rows) = read_csv(&dir.join("gap.csv"));
        assert_eq!(h, GAP_HEADER);
        assert_eq!(rows.len(), 19);
        for (r, b) in rows.iter().zip(doc["gap"]["buckets"].as_array().unwrap()) {
            assert_eq!(r[0], b["bucket"].as_str().unwrap());
            for (field, name) in r[1..].iter().zip(&h[1..]) {
                same(field, &b[name]);
            }
        }

        let (h, rows) = read_csv(&dir.join("nii.csv"));
        assert_eq!(h, ["scenario", "horizon_years", "delta_nii"]);
        assert_eq!(rows[0][..2], ["parallel_up", "1"]);
        same(&rows[1][2], &doc["nii"]["delta"]["parallel_down"]);

        let (h, rows) = read_csv(&dir.join("sensitivities.csv"));
        assert_eq!(h, SENSITIVITY_FIELDS);
        assert_eq!(rows[0][0], "EUR");
        for (field, name) in rows[0][1..].iter().zip(&h[1..]) {
            same(field, &doc["sensitivities"][name]);
        }

        let (h, rows) = read_csv(&dir.join("key_rates.csv"));
        assert_eq!(h, KEY_RATE_COLUMNS);
        for (r, k) in rows
            .iter()
            .zip(doc["sensitivities"]["key_rate_pv01"].as_array().unwrap())
        {
            same(&r[0], &k["pillar_years"]);
            same(&r[1], &k["pv01"]);
        }

        let (h, rows) = read_csv(&dir.join("contracts.csv"));
        assert_eq!(
            h,
            [
                "contract_id",
                "base",
                "parallel_up",
                "parallel_down",
                "steepener",
                "flattener",
                "short_up",
                "short_down"
            ]
        );
        for (r, c) in rows.iter().zip(doc["contracts"].as_array().unwrap()) {
            assert_eq!(r[0], c["contract_id"].as_str().unwrap());
            for (field, name) in r[1..].iter().zip(&h[1..]) {
                same(field, &c["pv"][name]);
            }
        }

        let (h, rows) = read_csv(&dir.join("failed.csv"));
        assert_eq!(h, FAILED_COLUMNS);
        assert_eq!(rows[0][1], "unknown contract type \"XYZ\", line 3");
        assert_eq!(rows[1][1], "missing maturity\nand rate");
        let raw = std::fs::read_to_string(dir.join("failed.csv")).unwrap();
        assert!(raw.contains("\"unknown contract type \"\"XYZ\"\", line 3\""));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    /// Numbers that `{}` prints without an exponent and integers still parse back exactly.
    #[test]
    fn csv_numbers_keep_every_bit() {
        let xs = [
            0.1 + 0.2,
            1.0 / 3.0,
            -0.0,
            5e-324,
            f64::MAX,
            1e21,
            123_456_789_012_345_680.0,
            -2.5e-7,
        ];
        let doc = json!({
            "sensitivities": {"key_rate_pv01": xs.iter().map(|x| json!({"pillar_years": 1, "pv01": x})).collect::<Vec<_>>()},
        });
        let dir = scratch("bits");
        write_csv(&doc, None, &dir).unwrap();
        let (_, rows) = read_csv(&dir.join("key_rates.csv"));
        assert_eq!(rows.len(), xs.len());
        for (r, x) in rows.iter().zip(xs) {
            assert_eq!(r[0], "1");
            assert_eq!(
                r[1].parse::<f64>().unwrap().to_bits(),
                x.to_bits(),
                "{}",
                r[1]
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An empty document, nulls and unexpected shapes still give a workbook and CSV files.
    #[test]
    fn missing_and_odd_sections_still_write() {
        let docs = [
            json!({}),
            json!(null),
            json!({
                "as_of": "2025-12-31", "eve": null, "by_currency": {"EUR": null, "USD": 3},
                "aggregate_change": {"parallel_up": 5},
                "outlier_test": null, "gap": {"buckets": null}, "nii": 7,
                "sensitivities": {"key_rate_pv01": [1.5, {"pv01": null}], "value": "n/a"},
                "contracts": [1, "x", {"pv": null}, {"contract_id": 4, "pv": {"custom": 2.0, "base": [1]}}],
                "failed": [{"contract_id": "A", "reason": {"nested": true}, "extra": [1, 2]}],
                "views": {"contractual": {"eve": {}}, "behavioural": null},
            }),
            json!({
                "eve": {"base": 0.0, "scenarios": {"parallel_up": {"value": 1.0}}},
                "gap": {"buckets": [{"bucket": "Overnight", "rsa": 1.0}]},
                "nii": {"delta": {}, "monthly": [{"month": 1, "delta": 2.0}, {"month": 2}]},
                "contracts": [],
            }),
            json!({
                "view": "behavioural",
                "contracts": [
                    {"contract_id": "M1", "pv": {"base": 1.5, "parallel_up": 1.25},
                     "pv_contractual": {"base": 1.75, "parallel_up": 1.125}},
                    {"contract_id": "M2", "pv": {"base": 2.5}},
                ],
            }),
        ];
        let dir = scratch("odd");
        for (i, doc) in docs.iter().enumerate() {
            let path = dir.join(format!("doc{i}.xlsx"));
            write_xlsx(doc, None, &path).unwrap();
            let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
            assert_eq!(
                wb.sheet_names()[..5],
                ["Summary", "EVE", "Gap", "NII", "Sensitivities"]
            );
            assert!(wb.worksheet_range("Failed").is_ok());
            let files = write_csv(doc, None, &dir.join(format!("csv{i}"))).unwrap();
            assert!(files.len() >= 6);
        }
        let (h, rows) = read_csv(&dir.join("csv3").join("nii_monthly.csv"));
        let (m, d) = if h[0] == "month" { (0, 1) } else { (1, 0) };
        assert_eq!(
            (h.len(), h[m].as_str(), h[d].as_str()),
            (2, "month", "delta")
        );
        assert_eq!((rows[0][m].as_str(), rows[0][d].as_str()), ("1", "2"));
        assert_eq!((rows[1][m].as_str(), rows[1][d].as_str()), ("2", ""));
        let (h, rows) = read_csv(&dir.join("csv2").join("contracts.csv"));
        assert_eq!(h, ["contract_id", "base", "custom"]);
        assert_eq!(rows[3], ["4", "[1]", "2"]);
        let (h, rows) = read_csv(&dir.join("csv4").join("contracts.csv"));
        let header = ["contract_id", "base", "parallel_up", "contractual_base"];
        assert_eq!(h[..4], header);
        assert_eq!(h[4], "contractual_parallel_up");
        assert_eq!(
            rows,
            [
                ["M1", "1.5", "1.25", "1.75", "1.125"],
                ["M2", "2.5", "", "", ""]
            ]
        );
        let mut wb: Xlsx<_> = open_workbook(dir.join("doc4.xlsx")).unwrap();
        let c = wb.worksheet_range("Contracts").unwrap();
        assert_eq!(text(&c, 0, 4), "contractual_parallel_up");
        assert_eq!(number(&c, 1, 3), 1.75);
        let summary = wb.worksheet_range("Summary").unwrap();
        let view = (0..summary.end().unwrap().0 + 1).any(
            |r| matches!(summary.get_value((r, 1)), Some(Data::String(s)) if s == "behavioural"),
        );
        assert!(view, "the top-level view is not in the summary");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// One million contracts on one sheet, in constant memory (slow: run with `--ignored`).
    #[test]
    #[ignore = "writes a million-row workbook; about a minute"]
    fn a_million_contracts() {
        let rows: Vec<Value> = (0..1_000_000)
            .map(|i| {
                let pv = f64::from(i) * 1.5;
                json!({"contract_id": format!("C{i}"), "pv": {
                    "base": pv, "parallel_up": pv * 0.97, "parallel_down": pv * 1.03,
                    "steepener": pv, "flattener": pv, "short_up": pv, "short_down": pv,
                }})
            })
            .collect();
        let doc = json!({"contracts": rows});
        let dir = scratch("million");
        let path = dir.join("irrbb.xlsx");
        let t = std::time::Instant::now();
        write_xlsx(&doc, None, &path).unwrap();
        eprintln!("xlsx: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        write_csv(&doc, None, &dir).unwrap();
        eprintln!("csv: {:?}", t.elapsed());
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        let c = wb.worksheet_range("Contracts").unwrap();
        assert_eq!(c.end().unwrap().0, 1_000_000);
        assert_eq!(text(&c, 1_000_000, 0), "C999999");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The engine's per-contract values given beside the document write the same rows as
    /// the same values inside it.
    #[test]
    fn contract_values_beside_the_document_write_the_same_rows() {
        use almanac_analytics::irrbb::ContractTable;
        let names: std::sync::Arc<[String]> = ["base", "parallel_up", "parallel_down"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut values = ContractTable::new(names, true);
        for k in 0..5 {
            values.push(
                &format!("C-{k}"),
                &[100.0 + f64::from(k), 99.5, 100.25 / 3.0],
                Some(&[1.0, 2.0, f64::from(k) / 7.0]),
            );
        }
        let bare = json!({"as_of": "2025-12-31"});
        let mut with = bare.clone();
        with["contracts"] = serde_json::to_value(values.iter().collect::<Vec<_>>()).unwrap();
        let base = std::env::temp_dir().join(format!("almanac-rows-{}", std::process::id()));
        let (a, b) = (base.join("json"), base.join("values"));
        write_csv(&with, None, &a).unwrap();
        write_csv(&bare, Some(ContractRows::Values(&values)), &b).unwrap();
        let read = |d: &Path| std::fs::read(d.join("contracts.csv")).unwrap();
        assert_eq!(read(&a), read(&b));
        assert!(String::from_utf8(read(&b))
            .unwrap()
            .contains("contractual_parallel_up"));
        let x = base.join("v.xlsx");
        write_xlsx(&bare, Some(ContractRows::Values(&values)), &x).unwrap();
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&x).unwrap();
        use calamine::Reader;
        let sheet = wb.worksheet_range("Contracts").unwrap();
        assert_eq!(sheet.height(), 6);
        std::fs::remove_dir_all(&base).ok();
    }
}
