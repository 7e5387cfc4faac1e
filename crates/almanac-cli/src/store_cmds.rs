//! Commands on the store: import, snapshots, assumptions, runs, audit.
//!
//! Every command opens the store file given by `--db` (default `almanac.db` in the working
//! directory), prints a human summary, or JSON with `--json`.

use std::path::Path;

use almanac_actus::{evaluate_into, ContractEvent, DateTime, EvalContext, SnapshotObserver};
use almanac_balance_sheet::{Instrument, Position};
use almanac_ingest::{content_hash, ingest_csv_into, report, Mapping};
use almanac_market::format::read_snapshot_toml;
use almanac_market::MarketSnapshot;
use almanac_store::{
    DocumentKind, NewDocument, NewRun, NewSnapshot, Reject, RunInfo, SqliteStore, Storage,
    StoredPosition,
};
use almanac_time::Date;
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// Now, as an ISO timestamp in UTC (the store takes time from its callers).
pub(crate) fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i32;
    let s = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        Date::from_days_since_epoch(days),
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

fn open(db: &Path) -> Result<SqliteStore> {
    SqliteStore::open(db).with_context(|| format!("opening the store {}", db.display()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// `almanac import`.
pub(crate) fn import(
    tape: &Path,
    mapping: Option<&Path>,
    as_of: Option<&str>,
    strict: bool,
    db: &Path,
    json: bool,
    report_path: Option<&Path>,
) -> Result<bool> {
    let as_of: Date = match as_of {
        Some(s) => s
            .parse()
            .map_err(|e| anyhow::anyhow!("--as-of {s:?}: {e}"))?,
        None => crate::sample_bank::AS_OF,
    };
    let tape_bytes = std::fs::read(tape).with_context(|| format!("reading {}", tape.display()))?;
    let (mapping_bytes, mapping) = match mapping {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let m = Mapping::from_toml(&text, &p.display().to_string())?;
            (text.into_bytes(), Some(m))
        }
        None => (Vec::new(), None),
    };
    let name = tape.display().to_string();
    // Positions go to their stored (JSON) form chunk by chunk, so the parsed terms of a large
    // tape are never all in memory at once.
    let mut positions: Vec<StoredPosition> = Vec::new();
    let mut facts = SnapshotFacts {
        compact_forms: Some(almanac_balance_sheet::COMPACT_FORM_VERSION),
        ..SnapshotFacts::default()
    };
    let mut sink = |chunk: Vec<Position>| {
        facts.add(&chunk);
        positions.par_extend(chunk.par_iter().map(|p| StoredPosition {
            row: p.row,
            contract_id: p.id().to_string(),
            json: p.to_json(),
            form: p.compact_form(),
        }));
    };
    let out = if tape
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        let f = std::fs::File::open(tape).with_context(|| format!("reading {}", tape.display()))?;
        almanac_ingest::ingest_parquet_into(f, &name, mapping.as_ref(), as_of, &mut sink)?
    } else if tape.extension().is_some_and(|e| {
        ["xlsx", "xlsm", "xls", "ods"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    }) {
        almanac_ingest::ingest_xlsx_into(&tape_bytes, &name, mapping.as_ref(), as_of, &mut sink)?
    } else {
        ingest_csv_into(
            tape_bytes.as_slice(),
            &name,
            mapping.as_ref(),
            as_of,
            &mut sink,
        )?
    };
    if let Some(r) = report_path {
        let ext = r.extension().map(|e| e.to_ascii_lowercase());
        let bytes = match ext.as_ref().and_then(|e| e.to_str()) {
            Some("json") => report::to_json(&out.problems).into_bytes(),
            Some("xlsx") => report::to_xlsx(&out.problems)
                .map_err(|e| anyhow::anyhow!("writing the Excel report: {e}"))?,
            _ => report::to_csv(&out.problems).into_bytes(),
        };
        std::fs::write(r, bytes).with_context(|| format!("writing {}", r.display()))?;
    }
    for p in out.problems.iter().take(20) {
        eprintln!(
            "{}, row {}, column {}: {:?}: {}",
            p.file, p.row, p.column, p.value, p.reason
        );
    }
    if out.problems.len() > 20 {
        eprintln!(
            "… and {} more problems (see --report)",
            out.problems.len() - 20
        );
    }
    if strict && !out.problems.is_empty() {
        eprintln!(
            "strict mode: {} rows rejected, nothing imported",
            out.rejected_rows
        );
        if json {
            print_json(
                &serde_json::json!({"snapshot": null, "imported": 0, "rejected": out.rejected_rows}),
            );
        }
        return Ok(false);
    }
    let hash = content_hash(&tape_bytes, &mapping_bytes, as_of);
    let rejects = out
        .problems
        .iter()
        .map(|p| Reject {
            row: p.row,
            column: p.column.clone(),
            value: p.value.clone(),
            reason: p.reason.clone(),
        })
        .collect();
    let mut store = open(db)?;
    let created = now();
    let outcome = store.import_snapshot(NewSnapshot {
        as_of: &as_of.to_string(),
        source: &name,
        content_hash: &hash,
        created_at: &created,
        positions,
        rejects,
        facts: Some(serde_json::to_string(&facts)?),
    })?;
    if json {
        print_json(&serde_json::json!({
            "snapshot": outcome.snapshot_id,
            "imported": outcome.imported,
            "rejected": outcome.rejected,
            "already_present": outcome.already_present,
        }));
    } else if outcome.already_present {
        println!(
            "{}: already imported as {} (same content), nothing changed",
            name, outcome.snapshot_id
        );
    } else {
        println!(
            "{}: snapshot {} as of {as_of}: {} positions imported, {} rows rejected",
            name, outcome.snapshot_id, outcome.imported, outcome.rejected
        );
    }
    Ok(true)
}

/// `almanac snapshots list`.
pub(crate) fn snapshots(db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let list = store.snapshots()?;
    if json {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|s| {
                serde_json::json!({"id": s.id, "as_of": s.as_of, "source": s.source,
                    "content_hash": s.content_hash, "created_at": s.created_at,
                    "positions": s.positions, "rejected": s.rejected})
            })
            .collect();
        print_json(&serde_json::Value::Array(v));
    } else {
        println!(
            "{:<20} {:<10} {:>10} {:>9}  {:<20}  source",
            "id", "as of", "positions", "rejected", "created"
        );
        for s in list {
            println!(
                "{:<20} {:<10} {:>10} {:>9}  {:<20}  {}",
                s.id, s.as_of, s.positions, s.rejected, s.created_at, s.source
            );
        }
    }
    Ok(true)
}

/// `almanac assumptions put`.
pub(crate) fn assumptions_put(
    kind: DocumentKind,
    file: &Path,
    parent: Option<&str>,
    author: &str,
    reason: &str,
    db: &Path,
    json: bool,
) -> Result<bool> {
    let body =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed: toml::Value = toml::from_str(&body)
        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message()))?;
    if kind == DocumentKind::ScenarioSet {
        // Stored only if it reads as a scenario set (errors name file, line and field).
        almanac_scenario::set::read_set(&body, &file.display().to_string())?;
    }
    let name = parsed
        .get("name")
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            file.file_stem()
                .map_or("assumptions".into(), |s| s.to_string_lossy().into_owned())
        });
    let mut store = open(db)?;
    let id = store.put_document(NewDocument {
        kind,
        name: name.clone(),
        body,
        parent: parent.map(str::to_string),
        author: author.to_string(),
        created_at: now(),
        reason: reason.to_string(),
    })?;
    if json {
        print_json(&serde_json::json!({"id": id, "name": name}));
    } else {
        println!("{} {name}: {id}", kind.as_str());
    }
    Ok(true)
}

/// `almanac assumptions list`.
pub(crate) fn assumptions_list(kind: DocumentKind, db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let docs = store.documents(Some(kind))?;
    if json {
        let v: Vec<serde_json::Value> = docs
            .iter()
            .map(|d| {
                serde_json::json!({"id": d.id, "name": d.name, "parent": d.parent,
                "author": d.author, "created_at": d.created_at, "reason": d.reason})
            })
            .collect();
        print_json(&serde_json::Value::Array(v));
    } else {
        for d in docs {
            println!(
                "{}  {}  {}  {}  parent {}  — {}",
                d.id,
                d.name,
                d.created_at,
                d.author,
                d.parent.as_deref().unwrap_or("-"),
                d.reason
            );
        }
    }
    Ok(true)
}

/// `almanac assumptions show`.
pub(crate) fn assumptions_show(id: &str, db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let d = store.document(id)?;
    let history = store.history(id)?;
    if json {
        print_json(
            &serde_json::json!({"id": d.info.id, "name": d.info.name, "parent": d.info.parent,
            "author": d.info.author, "created_at": d.info.created_at, "reason": d.info.reason,
            "history": history.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), "body": d.body}),
        );
    } else {
        println!(
            "{} ({}) by {} at {}: {}",
            d.info.id, d.info.name, d.info.author, d.info.created_at, d.info.reason
        );
        for h in history.iter().skip(1) {
            println!(
                "  parent {} by {} at {}: {}",
                h.id, h.author, h.created_at, h.reason
            );
        }
        println!("{}", d.body);
    }
    Ok(true)
}

/// `almanac assumptions diff`.
pub(crate) fn assumptions_diff(a: &str, b: &str, db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let (da, db_) = (store.document(a)?, store.document(b)?);
    let changes = crate::diff::diff(&da.body, &db_.body)
        .map_err(|e| anyhow::anyhow!("stored document is not TOML: {e}"))?;
    if json {
        print_json(&serde_json::json!({"from": a, "to": b, "changes": changes}));
    } else if changes.is_empty() {
        println!("no differences");
    } else {
        for c in &changes {
            match (&c.before, &c.after) {
                (Some(x), Some(y)) => println!("~ {} = {x} -> {y}", c.key),
                (None, Some(y)) => println!("+ {} = {y}", c.key),
                (Some(x), None) => println!("- {} = {x}", c.key),
                (None, None) => {}
            }
        }
    }
    Ok(true)
}

/// What a run that streams a snapshot needs to know before its first position, gathered at
/// import and stored with the snapshot (schema version 3).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct SnapshotFacts {
    /// The contracts' segment labels (product, else contract type and role), distinct and
    /// sorted: the NII and gap segments of an IRRBB run.
    pub(crate) segments: std::collections::BTreeSet<String>,
    /// The contracts' outstanding notional (absolute) by currency, in each currency's units:
    /// the default reporting currency.
    pub(crate) notional_by_currency: std::collections::BTreeMap<String, f64>,
    /// The version of the compact forms stored beside the positions
    /// ([`almanac_balance_sheet::COMPACT_FORM_VERSION`]; none before schema version 4): a run
    /// reads them instead of the JSON when it reads this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) compact_forms: Option<u64>,
}

impl SnapshotFacts {
    fn add(&mut self, positions: &[Position]) {
        for p in positions {
            if let Instrument::Contract(t) = &p.instrument {
                let label = crate::irrbb::segment_label(t, p.attributes.product.as_deref());
                if !self.segments.contains(label.as_ref()) {
                    self.segments.insert(label.into_owned());
                }
                if let Some(c) = t.currency.as_deref() {
                    *self.notional_by_currency.entry(c.to_string()).or_default() +=
                        t.notional_principal.unwrap_or(0.0).abs();
                }
            }
        }
    }
}

/// The run manifest: everything a result depends on.
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    kind: String,
    engine: String,
    snapshot: String,
    snapshot_hash: String,
    market: Option<String>,
    /// Horizon of a cash-flow run; the valuation date of an IRRBB run.
    horizon: String,
    /// The assumption set (document id) of a run that uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assumptions: Option<String>,
    /// The options of an IRRBB run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    irrbb: Option<IrrbbManifest>,
    /// The options of a liquidity run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    liquidity: Option<LiquidityManifest>,
    /// The scenario set (document id) of a run on one, with the market documents of its
    /// historical scenarios by the name the set gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scenario_set: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    scenario_markets: std::collections::BTreeMap<String, String>,
}

/// What a liquidity run was asked for: the built-in factor table's regime and the ladder.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct LiquidityManifest {
    regime: String,
    buckets: String,
    /// The reporting currency asked for (`None`: the default rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    /// A factor table of the user's (its TOML text), replacing the regime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    factors: Option<String>,
}

/// What an IRRBB run was asked for (everything else is in the documents named).
#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct IrrbbManifest {
    calibration: String,
    floor: String,
    method: String,
    tier1: Option<f64>,
    #[serde(default = "one_year")]
    nii_horizon_years: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    gap_buckets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    explain: Option<String>,
    currency: Option<String>,
    per_contract: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    no_sensitivities: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    strip_margins: bool,
    /// kao or intrinsic; a run recorded before the option existed valued caps and floors at
    /// intrinsic value, and replays so.
    #[serde(default = "intrinsic_options")]
    automatic_options: String,
}

fn one_year() -> u32 {
    1
}

fn intrinsic_options() -> String {
    "intrinsic".into()
}

/// Positions evaluated per parallel chunk.
const RUN_CHUNK: usize = 8_192;

/// The stored result of a cash-flow run: totals by currency and year, the event count, and
/// the SHA-256 of the full event listing (one CSV line per event, contracts in row order), so
/// a replay can prove it reproduced every event exactly without storing them all.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct CashflowResults {
    contracts: usize,
    events: usize,
    failed: Vec<String>,
    events_sha256: String,
    /// currency → year → [inflows, outflows] (units; payoffs from the bank's side).
    by_currency_year: std::collections::BTreeMap<String, std::collections::BTreeMap<i32, [f64; 2]>>,
}

/// Cash flows of every contract of a snapshot, evaluated in chunks in row order.
fn cashflow_results(
    stored: &[StoredPosition],
    market: Option<&MarketSnapshot>,
    horizon: DateTime,
) -> Result<CashflowResults> {
    let empty = almanac_actus::NoMarketData;
    let snap_obs = market.map(SnapshotObserver::new);
    let observer: &dyn almanac_actus::RiskFactorObserver = match &snap_obs {
        Some(o) => o,
        None => &empty,
    };
    let ctx = EvalContext {
        observer,
        observed_events: &[],
        to: Some(horizon),
    };
    let mut hasher = Sha256::new();
    hasher.update(b"contract_id,event_date,event_type,currency,payoff,notional_principal\n");
    let mut results = CashflowResults {
        contracts: 0,
        events: 0,
        failed: Vec::new(),
        events_sha256: String::new(),
        by_currency_year: Default::default(),
    };
    for chunk in stored.chunks(RUN_CHUNK) {
        // Each contract: its listing and its (currency, year, payoff) flows.
        type Flows = Vec<(String, i32, f64)>;
        let rendered: Vec<Result<(String, Flows), String>> = chunk
            .par_iter()
            .map_init(Vec::<ContractEvent>::new, |buf, sp| {
                let p = Position::from_json(&sp.json)
                    .map_err(|e| format!("{}: {e}", sp.contract_id))?;
                let Instrument::Contract(t) = &p.instrument else {
                    return Ok((String::new(), Vec::new()));
                };
                evaluate_into(t, &ctx, buf).map_err(|e| format!("{}: {e}", p.id()))?;
                let mut s = String::with_capacity(buf.len() * 64);
                let mut flows = Vec::with_capacity(buf.len());
                let mut f = ryu::Buffer::new();
                for e in buf.iter() {
                    let date = e.event_time.iso_bytes();
                    let ccy = e.currency(t).unwrap_or("");
                    for part in [
                        p.id(),
                        std::str::from_utf8(&date).unwrap_or_default(),
                        e.event_type.code(),
                        ccy,
                    ] {
                        s.push_str(part);
                        s.push(',');
                    }
                    s.push_str(f.format(e.payoff));
                    s.push(',');
                    s.push_str(f.format(e.states.notional_principal));
                    s.push('\n');
                    if e.payoff != 0.0 {
                        flows.push((ccy.to_string(), e.event_time.date().year(), e.payoff));
                    }
                }
                Ok((s, flows))
            })
            .collect();
        for r in rendered {
            results.contracts += 1;
            match r {
                Ok((text, flows)) => {
                    results.events += text.bytes().filter(|&b| b == b'\n').count();
                    hasher.update(text.as_bytes());
                    for (ccy, year, payoff) in flows {
                        let cell = results
                            .by_currency_year
                            .entry(ccy)
                            .or_default()
                            .entry(year)
                            .or_insert([0.0, 0.0]);
                        if payoff > 0.0 {
                            cell[0] += payoff;
                        } else {
                            cell[1] += payoff;
                        }
                    }
                }
                Err(e) => results.failed.push(e),
            }
        }
    }
    results.events_sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(results)
}

fn compute(store: &SqliteStore, m: &Manifest) -> Result<Vec<u8>> {
    let stored = store.snapshot_positions(&m.snapshot)?;
    let market = match &m.market {
        Some(id) => {
            let d = store.document(id)?;
            Some(read_snapshot_toml(&d.body, id)?)
        }
        None => None,
    };
    let horizon: Date = m
        .horizon
        .parse()
        .map_err(|e| anyhow::anyhow!("manifest horizon: {e}"))?;
    let results = cashflow_results(&stored, market.as_ref(), DateTime::midnight(horizon))?;
    Ok(serde_json::to_vec_pretty(&results)?)
}

/// `almanac run cashflows`.
pub(crate) fn run_cashflows(
    snapshot: &str,
    market: Option<&Path>,
    horizon_years: u32,
    db: &Path,
    json: bool,
) -> Result<bool> {
    let mut store = open(db)?;
    let info = find_snapshot(&store, snapshot, db)?;
    let snapshot = info.id.as_str();
    let market_id = match market {
        Some(p) => Some(put_market(
            &mut store,
            p,
            &format!("a cash-flow run on {snapshot}"),
        )?),
        None => None,
    };
    let as_of: Date = info
        .as_of
        .parse()
        .map_err(|e| anyhow::anyhow!("snapshot as-of: {e}"))?;
    let manifest = Manifest {
        kind: "cashflows".into(),
        engine: engine_id(),
        snapshot: info.id.clone(),
        snapshot_hash: info.content_hash.clone(),
        market: market_id,
        horizon: as_of.add_months(12 * horizon_years as i32).to_string(),
        assumptions: None,
        irrbb: None,
        liquidity: None,
        scenario_set: None,
        scenario_markets: Default::default(),
    };
    let results = compute(&store, &manifest)?;
    let summary: CashflowResults = serde_json::from_slice(&results)?;
    let events = summary.events;
    for f in summary.failed.iter().take(20) {
        eprintln!("  not evaluated: {f}");
    }
    if summary.failed.len() > 20 {
        eprintln!(
            "  … and {} more contracts not evaluated",
            summary.failed.len() - 20
        );
    }
    let manifest_json = serde_json::to_string(&manifest)?;
    // The results hash is the store's SHA-256 of them (computed once, for the audit entry).
    let RunInfo {
        id, results_hash, ..
    } = store.record_run(&NewRun {
        kind: "cashflows".into(),
        manifest_json,
        results,
        results_hash: String::new(),
        created_at: now(),
    })?;
    let failed = summary.failed.len();
    if json {
        print_json(
            &serde_json::json!({"run": id, "events": events, "failed": failed,
            "results_hash": results_hash}),
        );
    } else {
        println!(
            "run {id}: cash flows of {snapshot}, {events} events, {failed} contracts not \
             evaluated, results sha256 {results_hash}"
        );
    }
    // Recorded either way (the failures are part of the results); the exit status says
    // whether every contract was evaluated.
    Ok(failed == 0)
}

/// A snapshot by id, or the most recently imported one for `latest`.
fn find_snapshot(
    store: &SqliteStore,
    snapshot: &str,
    db: &Path,
) -> Result<almanac_store::SnapshotInfo> {
    let all = store.snapshots()?;
    if snapshot == "latest" {
        all.into_iter().last()
    } else {
        all.into_iter().find(|s| s.id == snapshot)
    }
    .with_context(|| format!("no snapshot {snapshot} in {}", db.display()))
}

/// Stores `body` as a new document of `kind` by the current user, now; returns its id.
fn put_text(
    store: &mut SqliteStore,
    kind: DocumentKind,
    name: String,
    body: String,
    reason: String,
) -> Result<String> {
    Ok(store.put_document(NewDocument {
        kind,
        name,
        body,
        parent: None,
        author: whoami(),
        created_at: now(),
        reason,
    })?)
}

/// A file's name for a document, or `default`.
fn file_name(p: &Path, default: &str) -> String {
    p.file_name()
        .map_or(default.into(), |n| n.to_string_lossy().into_owned())
}

/// Stores a market file (after checking it reads) as a document; returns its id.
fn put_market(store: &mut SqliteStore, p: &Path, purpose: &str) -> Result<String> {
    let body = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    read_snapshot_toml(&body, &p.display().to_string())?;
    put_text(
        store,
        DocumentKind::Market,
        file_name(p, "market"),
        body,
        format!("market data of {purpose}"),
    )
}

/// A snapshot's contracts with their products, the count of its non-interest positions, and
/// the unreadable ones.
struct SnapshotContracts {
    /// Boxed as the positions hold them: a million terms of 1.5 kB each are not moved
    /// (unboxing them cost 3 s and 1.5 GB on the 1M sample bank).
    #[allow(clippy::vec_box)]
    contracts: Vec<Box<almanac_actus::ContractTerms>>,
    products: Vec<Option<String>>,
    non_interest: usize,
    failed: Vec<(String, String)>,
}

/// A batch of a snapshot's positions as read: their compact forms, or the positions.
enum PositionBatch {
    Forms(almanac_store::FormBatch),
    Positions(Vec<almanac_store::StoredPosition>),
}

/// Reads a snapshot's positions in batches: their compact forms when `forms` (the snapshot's
/// facts name the version this build reads) and the snapshot has them, else the positions.
fn read_batches(
    store: &SqliteStore,
    snapshot: &str,
    forms: bool,
    each: &mut dyn FnMut(PositionBatch),
) -> Result<()> {
    const BATCH: usize = 16_384;
    let read = forms
        && store.snapshot_forms_batched(snapshot, BATCH, &mut |b| each(PositionBatch::Forms(b)))?;
    if !read {
        store.snapshot_positions_batched(snapshot, BATCH, &mut |b| {
            each(PositionBatch::Positions(b));
        })?;
    }
    Ok(())
}

/// A position's contract terms and product (`None` for a non-interest item), or why it does
/// not read back.
type Parsed = Result<Option<(Box<almanac_actus::ContractTerms>, Option<String>)>, String>;

/// Takes the contracts out of batches of positions, counting the non-interest items and
/// listing the positions that do not read back.
#[derive(Default)]
struct Unpacker {
    failed: Vec<(String, String)>,
    non_interest: usize,
    /// Positions taken so far: names a position whose form does not read.
    ordinal: usize,
}

impl Unpacker {
    /// Parses `batch` on all cores (only the terms and the product: the other attributes
    /// are skipped over unparsed) and hands each contract to `push`, in row order. The batch
    /// is freed here, after: freeing on the workers is slower.
    fn take(
        &mut self,
        batch: PositionBatch,
        push: &mut dyn FnMut(Box<almanac_actus::ContractTerms>, Option<String>),
    ) {
        use almanac_store::FormEntry;
        let from_json = |json: &str| -> Parsed {
            almanac_balance_sheet::contract_from_json(json).map_err(|e| e.to_string())
        };
        // Each position parsed, with the id a failure is reported under.
        let (parsed, ids): (Vec<Parsed>, Vec<Option<&str>>) = match &batch {
            PositionBatch::Positions(batch) => (
                batch.par_iter().map(|sp| from_json(&sp.json)).collect(),
                batch
                    .iter()
                    .map(|sp| Some(sp.contract_id.as_str()))
                    .collect(),
            ),
            PositionBatch::Forms(b) => (
                b.entries
                    .par_iter()
                    .map(|e| match e {
                        FormEntry::Form(r) => {
                            almanac_balance_sheet::contract_from_compact(&b.bytes[r.clone()])
                                .map_err(damaged_form)
                        }
                        FormEntry::Json(sp) => from_json(&sp.json),
                    })
                    .collect(),
                b.entries
                    .iter()
                    .map(|e| match e {
                        FormEntry::Form(_) => None,
                        FormEntry::Json(sp) => Some(sp.contract_id.as_str()),
                    })
                    .collect(),
            ),
        };
        for (r, id) in parsed.into_iter().zip(ids) {
            match r {
                Ok(Some((t, product))) => push(t, product),
                Ok(None) => self.non_interest += 1,
                Err(e) => self.failed.push((
                    id.map_or_else(
                        || format!("position {} of the snapshot", self.ordinal + 1),
                        str::to_owned,
                    ),
                    e,
                )),
            }
            self.ordinal += 1;
        }
        drop(batch);
    }

    /// [`Unpacker::take`] for a streamed IRRBB run: each contract handed to `push` as its
    /// compact form, checked only as far as its kind and product (the engine's worker that
    /// values it reads its terms); positions without a form are parsed here, on all cores.
    /// Contracts without a status date take `as_of`.
    fn take_fed(
        &mut self,
        batch: PositionBatch,
        as_of: almanac_time::DateTime,
        push: &mut dyn FnMut(crate::irrbb::Fed),
    ) {
        use crate::irrbb::Fed;
        use almanac_store::FormEntry;
        let fed_terms = |mut terms: Box<almanac_actus::ContractTerms>, product| {
            if terms.status_date.is_none() {
                terms.status_date = Some(as_of);
            }
            Fed::Terms { terms, product }
        };
        let almanac_store::FormBatch { bytes, entries } = match batch {
            PositionBatch::Positions(_) => {
                return self.take(batch, &mut |t, product| push(fed_terms(t, product)));
            }
            PositionBatch::Forms(b) => b,
        };
        // Positions stored without a form (terms with no compact form), parsed on all cores.
        let parsed: Vec<Option<Parsed>> = if entries.iter().any(|e| matches!(e, FormEntry::Json(_)))
        {
            entries
                .par_iter()
                .map(|e| match e {
                    FormEntry::Json(sp) => Some(
                        almanac_balance_sheet::contract_from_json(&sp.json)
                            .map_err(|e| e.to_string()),
                    ),
                    FormEntry::Form(_) => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        let bytes = std::sync::Arc::new(bytes);
        let mut parsed = parsed.into_iter();
        for e in entries {
            let json = parsed.next().flatten();
            let position = self.ordinal;
            self.ordinal += 1;
            let fail = match (e, json) {
                (FormEntry::Form(range), _) => {
                    match bytes
                        .get(range.clone())
                        .ok_or_else(|| "compact form: outside its batch".to_string())
                        .and_then(|f| {
                            almanac_balance_sheet::compact_parts(f).map_err(|e| e.to_string())
                        }) {
                        Ok(None) => {
                            self.non_interest += 1;
                            None
                        }
                        Ok(Some((_, terms))) => {
                            // The terms' own form ends the position's.
                            let terms = range.end - terms.len()..range.end;
                            push(Fed::Form {
                                bytes: std::sync::Arc::clone(&bytes),
                                range,
                                terms,
                                position,
                                as_of,
                            });
                            None
                        }
                        Err(e) => Some((
                            format!("position {} of the snapshot", position + 1),
                            damaged_form(e),
                        )),
                    }
                }
                (FormEntry::Json(_), Some(Ok(Some((t, product))))) => {
                    push(fed_terms(t, product));
                    None
                }
                (FormEntry::Json(_), Some(Ok(None))) => {
                    self.non_interest += 1;
                    None
                }
                (FormEntry::Json(sp), Some(Err(e))) => Some((sp.contract_id, e)),
                (FormEntry::Json(sp), None) => Some((
                    sp.contract_id,
                    "the position was not parsed (an internal error)".to_string(),
                )),
            };
            if let Some(f) = fail {
                self.failed.push(f);
            }
        }
    }
}

/// Why a stored position's compact form fails it, and where to look.
pub(crate) fn damaged_form(e: impl std::fmt::Display) -> String {
    format!("{e} (the stored form does not read back: `almanac audit verify` checks the store)")
}

/// The contracts of a snapshot (in row order), with the positions that are not contracts
/// (non-interest items: fixed assets, equity) counted, and positions that do not read back
/// listed with the reason; read from their compact forms when `forms` (see [`read_batches`]).
fn snapshot_contracts(
    store: &SqliteStore,
    snapshot: &str,
    forms: bool,
) -> Result<SnapshotContracts> {
    // Reading the rows (one thread, the store's) and parsing them (all cores) overlap: the
    // store hands over batches that a second thread parses while it reads the next.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<PositionBatch>(4);
        let parser = scope.spawn(move || {
            let mut contracts = Vec::new();
            let mut products = Vec::new();
            let mut unpacker = Unpacker::default();
            for batch in rx {
                unpacker.take(batch, &mut |t, product| {
                    contracts.push(t);
                    products.push(product);
                });
            }
            SnapshotContracts {
                contracts,
                products,
                non_interest: unpacker.non_interest,
                failed: unpacker.failed,
            }
        });
        let read = read_batches(store, snapshot, forms, &mut |batch| {
            // The parser only stops early by panicking, which the join below reports.
            let _ = tx.send(batch);
        });
        drop(tx);
        let out = parser
            .join()
            .map_err(|_| anyhow::anyhow!("reading the snapshot's positions failed"))?;
        read?;
        Ok(out)
    })
}

/// `almanac snapshots export`: the ACTUS terms of a snapshot's contracts as a JSON array.
pub(crate) fn snapshots_export(snapshot: &str, out: &Path, db: &Path) -> Result<bool> {
    use std::io::Write;
    let store = open(db)?;
    let info = find_snapshot(&store, snapshot, db)?;
    let SnapshotContracts {
        contracts,
        non_interest,
        failed,
        ..
    } = snapshot_contracts(&store, &info.id, false)?;
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let mut write = || -> Result<()> {
        w.write_all(b"[\n")?;
        for (k, t) in contracts.iter().enumerate() {
            if k > 0 {
                w.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut w, t)?;
        }
        w.write_all(b"\n]\n")?;
        w.flush()?;
        Ok(())
    };
    write().with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{}: {} contracts of {} ({non_interest} non-interest positions not exported)",
        out.display(),
        contracts.len(),
        info.id
    );
    for (id, why) in &failed {
        eprintln!("  unreadable position {id}: {why}");
    }
    Ok(failed.is_empty())
}

/// Recomputes an IRRBB run from its manifest: the report (JSON bytes, as written to the
/// `--json` file) and the report itself.
fn compute_irrbb(store: &SqliteStore, m: &Manifest) -> Result<(Vec<u8>, crate::irrbb::Report)> {
    let report = irrbb_report(store, m)?;
    let t0 = std::time::Instant::now();
    // Sized up front (a contract's line is about 230 bytes): growing a 300 MB buffer by
    // doubling copies it over and over into fresh pages.
    let mut bytes = Vec::with_capacity((1 << 20) + report.contracts.len() * 300);
    crate::irrbb::write_json_to(&mut bytes, &report.doc, &report.contracts)?;
    crate::timing("render report JSON", t0);
    Ok((bytes, report))
}

/// Writes `report` as JSON to the file `out` and encodes the same bytes for the store as
/// they are rendered ([`almanac_store::ResultsWriter`]).
fn write_and_encode(
    out: &Path,
    report: &crate::irrbb::Report,
) -> Result<almanac_store::EncodedResults> {
    /// Both at once: the file and the store's encoder.
    struct Tee<'a> {
        file: std::io::BufWriter<std::fs::File>,
        results: &'a mut almanac_store::ResultsWriter,
    }
    impl std::io::Write for Tee<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.file.write_all(buf)?;
            self.results.write_all(buf)?;
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.file.flush()
        }
    }
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut results = almanac_store::ResultsWriter::new();
    let mut tee = Tee {
        file: std::io::BufWriter::with_capacity(1 << 20, file),
        results: &mut results,
    };
    crate::irrbb::write_json_to(&mut tee, &report.doc, &report.contracts)
        .with_context(|| format!("writing {}", out.display()))?;
    drop(tee);
    Ok(results.finish()?)
}

/// The IRRBB report of a run's manifest, not yet rendered.
fn irrbb_report(store: &SqliteStore, m: &Manifest) -> Result<crate::irrbb::Report> {
    let opts = m
        .irrbb
        .clone()
        .context("an IRRBB run without its options in the manifest")?;
    let (market, as_of, behaviour) = manifest_inputs(store, m, "an IRRBB run")?;
    // A snapshot stored with its facts is streamed through the engine (ADR 0004), unless the
    // assumption set asks for the EU materiality test, which needs every contract first.
    let facts: Option<SnapshotFacts> = match store.snapshot_facts(&m.snapshot)? {
        Some(text) => Some(
            serde_json::from_str(&text)
                .with_context(|| format!("the facts stored with snapshot {}", m.snapshot))?,
        ),
        None => None,
    };
    // Read from the compact forms stored beside the positions when this build reads them.
    let forms = facts.as_ref().and_then(|f| f.compact_forms)
        == Some(almanac_balance_sheet::COMPACT_FORM_VERSION);
    let facts = facts.filter(|_| behaviour.as_ref().is_none_or(|b| !b.asks_eu_materiality()));
    let options = crate::irrbb::IrrbbOptions {
        calibration: opts.calibration,
        floor: opts.floor,
        method: opts.method,
        scenarios: "bcbs".into(),
        assumptions: None,
        strip_margins: opts.strip_margins,
        automatic_options: opts.automatic_options,
        tier1: opts.tier1,
        nii_horizon_years: opts.nii_horizon_years,
        gap_buckets: opts.gap_buckets,
        explain: opts.explain,
        currency: opts.currency,
        per_contract: opts.per_contract,
        no_sensitivities: opts.no_sensitivities,
        xlsx: None,
        csv: None,
    };
    // A scenario set from the store, its historical snapshots from the documents named.
    let set_text = match &m.scenario_set {
        Some(id) => Some(store.document(id)?.body),
        None => None,
    };
    let load = |name: &str| stored_scenario_market(store, m, name);
    let source = set_text.map(|text| crate::irrbb::SetSource {
        text,
        label: m.scenario_set.clone().unwrap_or_default(),
        load: &load,
    });
    let (mut report, non_interest) = match &facts {
        Some(facts) => streamed_irrbb(
            store,
            &m.snapshot,
            facts,
            &market,
            as_of,
            &options,
            &crate::irrbb::Inputs {
                behaviour: behaviour.as_ref(),
                products: None,
                set: source.as_ref(),
            },
        )?,
        None => {
            let t0 = std::time::Instant::now();
            let SnapshotContracts {
                mut contracts,
                products,
                non_interest,
                failed,
            } = snapshot_contracts(store, &m.snapshot, forms)?;
            crate::timing("load snapshot contracts", t0);
            let report = crate::irrbb::analyse(
                &mut contracts,
                failed,
                &market,
                as_of,
                &options,
                &crate::irrbb::Inputs {
                    behaviour: behaviour.as_ref(),
                    products: Some(&products),
                    set: source.as_ref(),
                },
            )?;
            // A million boxed terms take a while to free: the command ends soon, and the
            // system takes the memory back at once.
            free_at_exit((contracts, products));
            (report, non_interest)
        }
    };
    report.doc["snapshot"] = serde_json::json!(m.snapshot);
    report.doc["non_interest_positions_excluded"] = serde_json::json!(non_interest);
    Ok(report)
}

/// An IRRBB run on a stored snapshot streamed through the engine: this thread reads batches
/// from the store while a worker parses them and the engine analyses them on all cores, so
/// the terms are never all in memory. Returns the report and the number of non-interest
/// positions left out; positions that do not parse come first in `failed`, as in the whole
/// run.
fn streamed_irrbb(
    store: &SqliteStore,
    snapshot: &str,
    facts: &SnapshotFacts,
    market: &MarketSnapshot,
    as_of: Date,
    options: &crate::irrbb::IrrbbOptions,
    inputs: &crate::irrbb::Inputs<'_>,
) -> Result<(crate::irrbb::Report, usize)> {
    let forms = facts.compact_forms == Some(almanac_balance_sheet::COMPACT_FORM_VERSION);
    let t0 = std::time::Instant::now();
    let out = std::thread::scope(|scope| -> Result<_> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<PositionBatch>(4);
        // The reader has a connection of its own (one SQLite connection serves one thread;
        // WAL lets readers run side by side).
        let path = store.path().to_path_buf();
        let reader = scope.spawn(move || -> Result<()> {
            let own = SqliteStore::open(&path)?;
            read_batches(&own, snapshot, forms, &mut |batch| {
                // An analysis that stopped (an error) has said why; the reading just ends.
                let _ = tx.send(batch);
            })
        });
        let mut unpacker = Unpacker::default();
        let as_of_time = almanac_time::DateTime::midnight(as_of);
        let mut batches =
            |each: &mut dyn FnMut(Vec<crate::irrbb::Fed>) -> Result<()>| -> Result<()> {
                for batch in rx.iter() {
                    let mut fed = Vec::new();
                    unpacker.take_fed(batch, as_of_time, &mut |f| fed.push(f));
                    each(fed)?;
                }
                Ok(())
            };
        let report = crate::irrbb::analyse_fed(
            &mut batches,
            facts,
            Vec::new(),
            market,
            as_of,
            options,
            inputs,
        );
        // Stop the reader (if the analysis stopped early, its sends fail) before waiting.
        drop(rx);
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("reading the snapshot's positions failed"))?;
        let report = report?;
        read?;
        Ok((report, unpacker.failed, unpacker.non_interest))
    })?;
    crate::timing("read and analyse (streamed)", t0);
    let (mut report, failed, non_interest) = out;
    if !failed.is_empty() {
        // The positions that did not parse come first, as when the snapshot is read whole.
        let mut all: Vec<serde_json::Value> = failed
            .iter()
            .map(|(id, why)| serde_json::json!({"contract_id": id, "reason": why}))
            .collect();
        all.extend(report.doc["failed"].as_array().cloned().unwrap_or_default());
        report.failed += failed.len();
        report.doc["failed"] = serde_json::Value::Array(all);
    }
    Ok((report, non_interest))
}

/// Leaves `x` to the end of the process: freeing a million small allocations one by one
/// takes the allocator half a second of CPU the command's last steps need, and the system
/// takes a process's memory back at exit in one go. Only for what a command holds until it
/// ends (its inputs and report), never in a loop.
pub(crate) fn free_at_exit<T>(x: T) {
    std::mem::forget(x);
}

/// Stores a scenario-set file and the TOML snapshots its historical scenarios name (relative
/// to the file); returns the set's document id and the snapshots' ids by name.
fn put_scenario_set(
    store: &mut SqliteStore,
    file: &Path,
    snapshot: &str,
    run: &str,
) -> Result<(Option<String>, std::collections::BTreeMap<String, String>)> {
    use almanac_scenario::set::{read_set, Kind};
    let body =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let set = read_set(&body, &file.display().to_string())?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut markets = std::collections::BTreeMap::new();
    for def in &set.scenarios {
        if let Kind::Historical { from, to, .. } = &def.kind {
            for name in [from, to] {
                if markets.contains_key(name) {
                    continue;
                }
                let path = dir.join(name);
                if !path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
                {
                    bail!(
                        "{}: scenario {}: a stored run needs TOML snapshots for historical \
                         scenarios, not {}",
                        file.display(),
                        def.name,
                        path.display()
                    );
                }
                let id = put_market(
                    store,
                    &path,
                    &format!("scenario {} of a run on {snapshot}", def.name),
                )?;
                markets.insert(name.clone(), id);
            }
        }
    }
    let id = put_text(
        store,
        DocumentKind::ScenarioSet,
        set.name.clone(),
        body,
        format!("scenario set of {run} on {snapshot}"),
    )?;
    Ok((Some(id), markets))
}

/// `almanac run irrbb`.
pub(crate) fn run_irrbb(
    snapshot: &str,
    market: &Path,
    opts: &crate::irrbb::IrrbbOptions,
    out: &Path,
    db: &Path,
    json: bool,
) -> Result<bool> {
    opts.check()?;
    let mut store = open(db)?;
    let info = find_snapshot(&store, snapshot, db)?;
    // A scenario set is stored with the snapshots its historical scenarios refer to, so the
    // run replays from the store alone.
    let (scenario_set, scenario_markets) = if opts.scenarios == "bcbs" {
        (None, Default::default())
    } else {
        put_scenario_set(
            &mut store,
            Path::new(&opts.scenarios),
            &info.id,
            "an IRRBB run",
        )?
    };
    let market_id = put_market(&mut store, market, &format!("an IRRBB run on {}", info.id))?;
    // Validated as the IRRBB command reads it, then stored.
    opts.behaviour()?;
    let assumptions = stored_assumptions(
        &mut store,
        opts.assumptions.as_deref(),
        &format!("assumptions of an IRRBB run on {}", info.id),
    )?;
    let manifest = Manifest {
        kind: "irrbb".into(),
        engine: engine_id(),
        snapshot: info.id.clone(),
        snapshot_hash: info.content_hash.clone(),
        market: Some(market_id),
        horizon: info.as_of.clone(),
        assumptions,
        scenario_set,
        scenario_markets,
        irrbb: Some(IrrbbManifest {
            calibration: opts.calibration.clone(),
            floor: opts.floor.clone(),
            method: opts.method.clone(),
            tier1: opts.tier1,
            nii_horizon_years: opts.nii_horizon_years,
            gap_buckets: opts.gap_buckets.clone(),
            explain: opts.explain.clone(),
            currency: opts.currency.clone(),
            per_contract: opts.per_contract,
            no_sensitivities: opts.no_sensitivities,
            strip_margins: opts.strip_margins,
            automatic_options: opts.automatic_options.to_ascii_lowercase(),
        }),
        liquidity: None,
    };
    let report = irrbb_report(&store, &manifest)?;
    let new = NewRun {
        kind: "irrbb".into(),
        manifest_json: serde_json::to_string(&manifest)?,
        // Encoded as the report is written, below.
        results: Vec::new(),
        // The store's SHA-256 of the results, computed once, for the audit entry too.
        results_hash: String::new(),
        created_at: now(),
    };
    // The stored results are the report file's bytes, rendered once: written to the file and
    // hashed and compressed for the store as they are produced, never held whole, while
    // another thread writes the Excel and CSV files.
    let t0 = std::time::Instant::now();
    let (encoded, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let t0 = std::time::Instant::now();
            let r = opts.write_extras(&report);
            crate::timing("write the Excel and CSV files", t0);
            r
        });
        let t0 = std::time::Instant::now();
        let encoded = write_and_encode(out, &report);
        crate::timing("render, write and encode the report", t0);
        (encoded, writer.join())
    });
    let encoded = encoded?;
    written.map_err(|_| anyhow::anyhow!("writing the report files failed"))??;
    let t1 = std::time::Instant::now();
    let RunInfo {
        id, results_hash, ..
    } = store.record_encoded_run(&new, encoded)?;
    crate::timing("store the results", t1);
    crate::timing("store and write the report", t0);
    if json {
        print_json(&serde_json::json!({"run": id, "failed": report.failed,
            "results_hash": results_hash, "json": out.display().to_string()}));
    } else {
        crate::irrbb::summarise(&report);
        println!(
            "run {id}: IRRBB of {}, results sha256 {results_hash}",
            info.id
        );
    }
    let ok = report.failed == 0;
    free_at_exit(report);
    Ok(ok)
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "almanac".into())
}

/// `almanac runs list`.
pub(crate) fn runs_list(db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let runs = store.runs()?;
    if json {
        let v: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({"id": r.id, "kind": r.kind, "created_at": r.created_at,
                "results_hash": r.results_hash, "results_bytes": r.results_len})
            })
            .collect();
        print_json(&serde_json::Value::Array(v));
    } else {
        for r in runs {
            println!(
                "{}  {:<10} {}  {} bytes  sha256 {}",
                r.id, r.kind, r.created_at, r.results_len, r.results_hash
            );
        }
    }
    Ok(true)
}

/// `almanac runs show`.
pub(crate) fn runs_show(id: &str, db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let r = store.run(id)?;
    let manifest: serde_json::Value = serde_json::from_str(&r.manifest_json)?;
    if json {
        print_json(
            &serde_json::json!({"id": r.id, "kind": r.kind, "created_at": r.created_at,
            "manifest": manifest, "results_hash": r.results_hash, "results_bytes": r.results.len()}),
        );
    } else {
        println!("run {} ({}) at {}", r.id, r.kind, r.created_at);
        println!("manifest: {}", serde_json::to_string_pretty(&manifest)?);
        println!(
            "results: {} bytes, sha256 {}",
            r.results.len(),
            r.results_hash
        );
    }
    Ok(true)
}

/// `almanac runs replay`: recompute and compare; true only when bit-identical.
pub(crate) fn runs_replay(id: &str, db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let r = store.run(id)?;
    let manifest: Manifest = serde_json::from_str(&r.manifest_json)
        .with_context(|| format!("run {id}: unreadable manifest"))?;
    let again = match manifest.kind.as_str() {
        "cashflows" => compute(&store, &manifest)?,
        "irrbb" => compute_irrbb(&store, &manifest)?.0,
        "liquidity" => compute_liquidity(&store, &manifest, None)?.0,
        other => bail!("run {id}: replay of {other} runs is not supported"),
    };
    let hash = sha256_hex(&again);
    let identical = hash == r.results_hash && again == r.results;
    let first_difference = (!identical).then(|| {
        let (a, b) = (
            String::from_utf8_lossy(&r.results),
            String::from_utf8_lossy(&again),
        );
        a.lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .map_or_else(
                || "different number of lines".to_string(),
                |i| format!("line {}", i + 1),
            )
    });
    if json {
        print_json(
            &serde_json::json!({"run": id, "identical": identical, "stored_hash": r.results_hash,
            "replayed_hash": hash, "first_difference": first_difference}),
        );
    } else if identical {
        println!("run {id}: replayed, results bit-identical (sha256 {hash})");
    } else {
        println!(
            "run {id}: results DIFFER: stored {} replayed {hash}, first difference at {}",
            r.results_hash,
            first_difference.unwrap_or_default()
        );
    }
    Ok(identical)
}

/// `almanac audit verify`.
pub(crate) fn audit_verify(db: &Path, json: bool) -> Result<bool> {
    let store = open(db)?;
    let report = store.verify_audit()?;
    if json {
        print_json(
            &serde_json::json!({"ok": report.ok, "entries": report.entries,
            "problems": report.problems, "head": report.head_hash}),
        );
    } else if report.ok {
        println!(
            "audit log intact: {} entries, head {}",
            report.entries,
            report.head_hash.unwrap_or_default()
        );
    } else {
        println!("audit log BROKEN ({} entries):", report.entries);
        for p in &report.problems {
            println!("  {p}");
        }
    }
    Ok(report.ok)
}

/// What a stored IRRBB or liquidity run (`what`, for messages) reads from its manifest's
/// documents: the market, the as-of (valuation) date and the assumption set's behaviour.
fn manifest_inputs(
    store: &SqliteStore,
    m: &Manifest,
    what: &str,
) -> Result<(
    MarketSnapshot,
    Date,
    Option<almanac_analytics::irrbb::Behaviour>,
)> {
    let market_id = m
        .market
        .as_ref()
        .with_context(|| format!("{what} without market data"))?;
    let market = read_snapshot_toml(&store.document(market_id)?.body, market_id)?;
    let as_of: Date = m
        .horizon
        .parse()
        .map_err(|e| anyhow::anyhow!("the manifest's as-of date: {e}"))?;
    let behaviour = match &m.assumptions {
        Some(id) => Some(
            almanac_analytics::irrbb::Behaviour::from_assumptions_toml(&store.document(id)?.body)
                .map_err(|e| anyhow::anyhow!("{id}: {e}"))?,
        ),
        None => None,
    };
    Ok((market, as_of, behaviour))
}

/// The market snapshot a stored run's historical scenario names, from the documents its
/// manifest lists.
fn stored_scenario_market(
    store: &SqliteStore,
    m: &Manifest,
    name: &str,
) -> std::result::Result<MarketSnapshot, String> {
    let id = m
        .scenario_markets
        .get(name)
        .ok_or_else(|| format!("the run stored no snapshot for {name:?}"))?;
    let doc = store.document(id).map_err(|e| e.to_string())?;
    read_snapshot_toml(&doc.body, id).map_err(|e| e.to_string())
}

/// Computes a liquidity run from its manifest: the report's bytes and its JSON.
fn compute_liquidity(
    store: &SqliteStore,
    m: &Manifest,
    drill_down: Option<&Path>,
) -> Result<(Vec<u8>, serde_json::Value)> {
    let opts = m
        .liquidity
        .clone()
        .context("a liquidity run without its options in the manifest")?;
    let options = crate::liquidity::LiquidityOptions {
        regime: opts.regime,
        factors: None,
        buckets: opts.buckets,
        assumptions: None,
        scenarios: None,
        currency: opts.currency.clone(),
        xlsx: None,
        csv: None,
        drill_down: None,
    };
    let (market, as_of, behaviour) = manifest_inputs(store, m, "a liquidity run")?;
    let (table, buckets) =
        options.resolve_with(opts.factors.as_deref(), "the run's factor table")?;
    // A scenario set from the store, its historical snapshots from the documents named.
    let load = |name: &str| stored_scenario_market(store, m, name);
    let set = match &m.scenario_set {
        Some(id) => Some(crate::liquidity::stresses(
            &store.document(id)?.body,
            id,
            &market,
            &load,
        )?),
        None => None,
    };
    let stresses = set.as_ref().map_or(&[][..], |s| &s.0);
    // The snapshot streamed: this thread reads batches from the store while a worker parses
    // and classifies the previous ones on all cores; memory holds a few batches, not the
    // balance sheet.
    let t0 = std::time::Instant::now();
    let currency = options.currency.as_deref();
    let (l, failed) = std::thread::scope(|scope| -> Result<_> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<StoredPosition>>(2);
        let (market, table, behaviour) = (&market, &table, behaviour.as_ref());
        let worker = scope.spawn(move || -> Result<_> {
            let mut run = almanac_analytics::liquidity::run::Analysis::new(
                market, as_of, table, buckets, behaviour, stresses,
            )?;
            run.reporting_currency(currency);
            run.drill_down(drill_down.is_some());
            let mut failed = Vec::new();
            for batch in rx {
                let parsed: Vec<_> = batch
                    .par_iter()
                    .map(|sp| Position::from_json(&sp.json).map_err(|e| e.to_string()))
                    .collect();
                let mut positions = Vec::with_capacity(batch.len());
                for (sp, r) in batch.into_iter().zip(parsed) {
                    match r {
                        Ok(p) => positions.push(p),
                        Err(e) => failed.push((sp.contract_id, e)),
                    }
                }
                run.add(positions);
            }
            Ok((run.finish()?, failed))
        });
        let read = store.snapshot_positions_batched(&m.snapshot, 16_384, &mut |batch| {
            // A worker that stopped (an error) has said why; the reading just ends.
            let _ = tx.send(batch);
        });
        drop(tx);
        let out = worker
            .join()
            .map_err(|_| anyhow::anyhow!("the liquidity worker stopped unexpectedly"))??;
        read?;
        Ok(out)
    })?;
    crate::timing(
        "liquidity (read, classify, LCR, NSFR, ladders, stresses)",
        t0,
    );
    if let Some(path) = drill_down {
        crate::liquidity::write_drill_down(path, &l, &table)?;
    }
    let mut doc = crate::liquidity::report(&l, as_of, &table, buckets, failed);
    if let Some((_, info)) = set {
        doc["scenario_set"] = info;
    }
    doc["snapshot"] = serde_json::json!(m.snapshot);
    Ok((crate::liquidity::render(&doc)?, doc))
}

/// `almanac run liquidity`.
pub(crate) fn run_liquidity(
    snapshot: &str,
    market: &Path,
    opts: &crate::liquidity::LiquidityOptions,
    out: &Path,
    db: &Path,
    json: bool,
) -> Result<bool> {
    opts.resolve()?;
    let mut store = open(db)?;
    let info = find_snapshot(&store, snapshot, db)?;
    let market_id = put_market(
        &mut store,
        market,
        &format!("a liquidity run on {}", info.id),
    )?;
    let assumptions = stored_assumptions(
        &mut store,
        opts.assumptions.as_deref(),
        &format!("assumptions of a liquidity run on {}", info.id),
    )?;
    let (scenario_set, scenario_markets) = match &opts.scenarios {
        Some(file) => put_scenario_set(&mut store, file, &info.id, "a liquidity run")?,
        None => (None, Default::default()),
    };
    let manifest = Manifest {
        kind: "liquidity".into(),
        engine: engine_id(),
        snapshot: info.id.clone(),
        snapshot_hash: info.content_hash.clone(),
        market: Some(market_id),
        horizon: info.as_of.clone(),
        assumptions,
        irrbb: None,
        liquidity: Some(LiquidityManifest {
            regime: opts.regime.to_ascii_lowercase(),
            buckets: opts.buckets.clone(),
            currency: opts.currency.as_ref().map(|c| c.to_ascii_uppercase()),
            factors: match &opts.factors {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?,
                ),
                None => None,
            },
        }),
        scenario_set,
        scenario_markets,
    };
    let (results, doc) = compute_liquidity(&store, &manifest, opts.drill_down.as_deref())?;
    std::fs::write(out, &results).with_context(|| format!("writing {}", out.display()))?;
    opts.write_extras(&doc)?;
    let RunInfo {
        id, results_hash, ..
    } = store.record_run(&NewRun {
        kind: "liquidity".into(),
        manifest_json: serde_json::to_string(&manifest)?,
        results,
        results_hash: String::new(),
        created_at: now(),
    })?;
    let ok = doc["failed"].as_array().is_none_or(Vec::is_empty);
    if json {
        print_json(&serde_json::json!({"run": id, "results_hash": results_hash,
            "json": out.display().to_string(), "lcr": doc["lcr"]["ratio"], "nsfr": doc["nsfr"]["ratio"]}));
    } else {
        crate::liquidity::summarise(&doc);
        println!(
            "run {id}: liquidity of {}, results sha256 {results_hash}",
            info.id
        );
    }
    Ok(ok)
}

/// A run's assumption set as a stored document id: `path` names a stored `asm-…` document, or
/// a file that is checked (its behaviour must read) and stored now with `purpose`.
fn stored_assumptions(
    store: &mut SqliteStore,
    path: Option<&Path>,
    purpose: &str,
) -> Result<Option<String>> {
    let Some(p) = path else {
        return Ok(None);
    };
    if !p.exists() && p.to_string_lossy().starts_with("asm-") {
        let id = p.to_string_lossy().into_owned();
        store.document(&id)?;
        return Ok(Some(id));
    }
    let body = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    almanac_analytics::irrbb::Behaviour::from_assumptions_toml(&body)
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    Ok(Some(put_text(
        store,
        DocumentKind::Assumptions,
        file_name(p, "assumptions"),
        body,
        purpose.to_string(),
    )?))
}

/// The engine a run was computed by, for its manifest: version and source revision.
fn engine_id() -> String {
    format!(
        "almanac {} ({})",
        env!("CARGO_PKG_VERSION"),
        env!("ALMANAC_REVISION")
    )
}
