//! `almanac liquidity` (from files) and the report shared with `almanac run liquidity` (from
//! the store): LCR, NSFR, contractual maturity ladder and survival horizon.

use std::path::{Path, PathBuf};

use almanac_analytics::liquidity::factors::{FactorTable, Regime};
use almanac_analytics::liquidity::ladder::{Bucket, BASEL_BUCKETS, C66_BUCKETS};
use almanac_analytics::liquidity::run::{Analysis, Liquidity};
use almanac_analytics::liquidity::stress::Stress;
use almanac_balance_sheet::{Attributes, Instrument, Position};
use almanac_market::MarketSnapshot;
use almanac_time::Date;
use anyhow::{bail, Context, Result};

/// Options shared by `almanac liquidity` and `almanac run liquidity`.
#[derive(clap::Args, Clone)]
pub(crate) struct LiquidityOptions {
    /// Regime of the built-in factor table: basel, eu or us.
    #[arg(long, default_value = "basel")]
    pub(crate) regime: String,
    /// A factor table of your own (TOML, `docs/liquidity.md`), usually inheriting a built-in
    /// one (`inherits = "us"`) and changing some factors — a reduced US LCR, a national
    /// discretion; replaces --regime. A stored run keeps the table in its manifest.
    #[arg(long)]
    pub(crate) factors: Option<PathBuf>,
    /// Ladder buckets: c66 (EU C 66.01, 21 buckets), basel (SRP50), or bucket ends as tenors
    /// (e.g. 1D,7D,1M,3M,1Y,5Y: one bucket to each end, and one beyond the last).
    #[arg(long, default_value = "c66")]
    pub(crate) buckets: String,
    /// Assumption set (TOML, or a stored `asm-…` id with `run liquidity`): its behaviour
    /// (prepayment, early redemption, non-maturity deposit slotting) gives the behavioural
    /// ladder and survival horizon beside the contractual ones.
    #[arg(long)]
    pub(crate) assumptions: Option<PathBuf>,
    /// Scenario set (TOML, `docs/scenarios.md`): each scenario's market change, behaviour and
    /// `[scenario.liquidity]` stress give a stressed ladder and survival horizon.
    #[arg(long)]
    pub(crate) scenarios: Option<PathBuf>,
    /// Reporting currency: every currency's amounts converted at the market's FX rates and
    /// added (default: the currency holding the largest sum of balances).
    #[arg(long)]
    pub(crate) currency: Option<String>,
    /// Also write the report as an Excel workbook (LCR, NSFR, ladders with charts, notes).
    #[arg(long)]
    pub(crate) xlsx: Option<PathBuf>,
    /// Also write the report as CSV files into this folder.
    #[arg(long)]
    pub(crate) csv: Option<PathBuf>,
    /// Also write every position's part of every LCR and NSFR line to this CSV file: the
    /// drill-down from a line to its contracts (position, currency, metric, section, category,
    /// amount, factor, weighted).
    #[arg(long)]
    pub(crate) drill_down: Option<PathBuf>,
}

impl LiquidityOptions {
    /// Writes the Excel workbook and CSV files asked for.
    pub(crate) fn write_extras(&self, doc: &serde_json::Value) -> Result<()> {
        if let Some(x) = &self.xlsx {
            write_xlsx(doc, x)?;
        }
        if let Some(d) = &self.csv {
            write_csv(doc, d)?;
        }
        Ok(())
    }
}

impl LiquidityOptions {
    /// The factor table and the buckets asked for.
    pub(crate) fn resolve(&self) -> Result<(FactorTable, &'static [Bucket])> {
        let text = match &self.factors {
            Some(p) => Some(
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            ),
            None => None,
        };
        let label = self
            .factors
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        self.resolve_with(text.as_deref(), &label)
    }

    /// [`LiquidityOptions::resolve`] with the factor table's text given (a stored run's).
    pub(crate) fn resolve_with(
        &self,
        factors: Option<&str>,
        label: &str,
    ) -> Result<(FactorTable, &'static [Bucket])> {
        let table = match factors {
            Some(text) => {
                FactorTable::from_toml(text, None).map_err(|e| anyhow::anyhow!("{label}: {e}"))?
            }
            None => FactorTable::builtin(
                self.regime
                    .parse::<Regime>()
                    .map_err(|e| anyhow::anyhow!("--regime: {e}"))?,
            ),
        };
        let buckets: &'static [Bucket] = match self.buckets.as_str() {
            "c66" => &C66_BUCKETS,
            "basel" => &BASEL_BUCKETS,
            other => user_buckets(other)?,
        };
        Ok((table, buckets))
    }
}

/// User ladder buckets from tenors (`1D,7D,1M,1Y`): a bucket ending at each, increasing, and
/// one open beyond the last. The labels live for the rest of the command (a few bytes).
fn user_buckets(spec: &str) -> Result<&'static [Bucket]> {
    use almanac_analytics::liquidity::ladder::End;
    use almanac_time::{Period, PeriodUnit};
    let mut out: Vec<Bucket> = Vec::new();
    // Comparable lengths: days, or months × 31 so a month never sorts before 30 days.
    let mut last: Option<(i64, String)> = None;
    for t in spec.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let p: Period = t.parse().map_err(|_| {
            anyhow::anyhow!(
                "--buckets {spec:?}: {t:?} is not a tenor (like 1D, 2W, 1M, 1Y); or give c66 \
                 or basel"
            )
        })?;
        let n = i32::try_from(p.count).unwrap_or(i32::MAX);
        let (end, order) = match p.unit {
            PeriodUnit::Day => (End::Days(n), i64::from(n)),
            PeriodUnit::Week => (End::Days(7 * n), 7 * i64::from(n)),
            PeriodUnit::Month => (End::Months(n), 31 * i64::from(n) - 1),
            PeriodUnit::Quarter => (End::Months(3 * n), 93 * i64::from(n) - 1),
            PeriodUnit::HalfYear => (End::Months(6 * n), 186 * i64::from(n) - 1),
            PeriodUnit::Year => (End::Months(12 * n), 372 * i64::from(n) - 1),
        };
        if p.count == 0 || last.as_ref().is_some_and(|(o, _)| *o >= order) {
            bail!("--buckets {spec:?}: the ends must be positive and increasing ({t} is not)");
        }
        let from = last.as_ref().map_or("0".to_string(), |(_, l)| l.clone());
        let label: &'static str = Box::leak(format!("> {from} – {t}").into_boxed_str());
        out.push(Bucket {
            label,
            column: "",
            end,
        });
        last = Some((order, t.to_string()));
    }
    let Some((_, l)) = last else {
        bail!("--buckets {spec:?}: expected c66, basel or tenors like 1D,7D,1M,1Y");
    };
    out.push(Bucket {
        label: Box::leak(format!("> {l}").into_boxed_str()),
        column: "",
        end: End::Never,
    });
    Ok(Box::leak(out.into_boxed_slice()))
}

/// `almanac liquidity`.
#[derive(clap::Args)]
pub(crate) struct LiquidityArgs {
    /// Contracts: JSON (array of ACTUS term objects) or ACTUS-term CSV. Plain terms carry no
    /// classification (counterparty, deposit, HQLA level): every contract then gets the most
    /// conservative treatment, listed in the report's notes. `almanac run liquidity` reads the
    /// classified positions of a stored snapshot.
    #[arg(long)]
    contracts: PathBuf,
    /// Market: TOML snapshot, or zero-curve CSV (then dated by --as-of).
    #[arg(long)]
    market: PathBuf,
    /// As-of date: flows after it are counted; contracts without statusDate take it.
    #[arg(long)]
    as_of: String,
    #[command(flatten)]
    options: LiquidityOptions,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: PathBuf,
}

/// `almanac liquidity`: contracts from a file, without their classifications.
pub(crate) fn run(args: &LiquidityArgs) -> Result<bool> {
    let as_of: Date = args
        .as_of
        .parse()
        .map_err(|e| anyhow::anyhow!("--as-of {:?}: {e}", args.as_of))?;
    let (table, buckets) = args.options.resolve()?;
    let market = crate::scenarios::read_market(&args.market, Some(as_of))?;
    let (inputs, _) = crate::input::read_contracts(&args.contracts)?;
    let mut positions = Vec::with_capacity(inputs.len());
    let mut failed: Vec<(String, String)> = Vec::new();
    for c in inputs {
        match c.terms {
            Ok(mut t) => {
                if t.status_date.is_none() {
                    t.status_date = Some(almanac_time::DateTime::midnight(as_of));
                }
                positions.push(Position {
                    row: 0,
                    instrument: Instrument::Contract(t),
                    attributes: Attributes::default(),
                });
            }
            Err(e) => failed.push((c.origin, e)),
        }
    }
    let behaviour = match &args.options.assumptions {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(
                almanac_analytics::irrbb::Behaviour::from_assumptions_toml(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
            )
        }
        None => None,
    };
    let set = match &args.options.scenarios {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let dir = file.parent().unwrap_or(Path::new("."));
            let load = |name: &str| -> std::result::Result<MarketSnapshot, String> {
                crate::scenarios::read_market(&dir.join(name), Some(as_of))
                    .map_err(|e| format!("{e:#}"))
            };
            Some(stresses(
                &text,
                &file.display().to_string(),
                &market,
                &load,
            )?)
        }
        None => None,
    };
    let mut doc = compute(
        &positions,
        &market,
        as_of,
        &table,
        buckets,
        behaviour.as_ref(),
        set.as_ref().map_or(&[][..], |s| &s.0),
        args.options.currency.as_deref(),
        failed,
        args.options.drill_down.as_deref(),
    )?;
    if let Some((_, info)) = set {
        doc["scenario_set"] = info;
    }
    write_json(&args.json, &doc)?;
    args.options.write_extras(&doc)?;
    summarise(&doc);
    Ok(doc["failed"].as_array().is_none_or(Vec::is_empty))
}

/// The liquidity stresses of a scenario set on `market` (each scenario's market change, its
/// behaviour and its liquidity section), and the set's name, version and hash for the report.
/// `load` resolves the snapshots of historical scenarios.
pub(crate) fn stresses(
    text: &str,
    label: &str,
    market: &MarketSnapshot,
    load: &dyn Fn(&str) -> std::result::Result<MarketSnapshot, String>,
) -> Result<(Vec<Stress>, serde_json::Value)> {
    let set = almanac_scenario::set::read_set(text, label)?;
    let mut out = Vec::with_capacity(set.scenarios.len());
    for def in &set.scenarios {
        if matches!(def.name.as_str(), "contractual" | "behavioural" | "base") {
            bail!(
                "{label}: a scenario may not be called {} (a view of the report)",
                def.name
            );
        }
        let m = if def.is_market_unchanged() {
            None
        } else {
            Some(set.apply(def, market, f64::INFINITY, load)?)
        };
        out.push(Stress::from_def(def, m));
    }
    Ok((
        out,
        serde_json::json!({"name": set.name, "version": set.version, "sha256": set.hash(), "source": label}),
    ))
}

/// The liquidity report of `positions` as JSON, with a stressed ladder and survival horizon
/// per stress; `failed` are positions that could not be read.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compute(
    positions: &[Position],
    market: &MarketSnapshot,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
    behaviour: Option<&almanac_analytics::irrbb::Behaviour>,
    stresses: &[Stress],
    currency: Option<&str>,
    failed: Vec<(String, String)>,
    drill_down: Option<&Path>,
) -> Result<serde_json::Value> {
    let mut run = Analysis::new(market, as_of, table, buckets, behaviour, stresses)?;
    run.reporting_currency(currency);
    run.drill_down(drill_down.is_some());
    run.add_all(positions);
    let l: Liquidity = run.finish()?;
    if let Some(path) = drill_down {
        write_drill_down(path, &l, table)?;
    }
    Ok(report(&l, as_of, table, buckets, failed))
}

/// Writes a run's drill-down lines as CSV, with each line's factor and weighted amount (a
/// derivative's fair value has none: the NSFR nets it by netting set first).
pub(crate) fn write_drill_down(path: &Path, l: &Liquidity, table: &FactorTable) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("creating {}", path.display()))?;
    w.write_record([
        "position", "currency", "metric", "section", "category", "amount", "factor", "weighted",
    ])?;
    for x in &l.position_lines {
        let factor = match x.section {
            "hqla" => table.hqla.get(&x.category).map(|h| h.factor.factor),
            "outflow" => table.outflow.get(&x.category).map(|f| f.factor),
            "inflow" => table.inflow.get(&x.category).map(|f| f.factor),
            "asf" => table.asf.get(&x.category).map(|f| f.factor),
            "rsf" => table.rsf.get(&x.category).map(|f| f.factor),
            _ => None,
        };
        w.write_record([
            x.position.clone(),
            x.currency.clone(),
            x.metric.to_string(),
            x.section.to_string(),
            x.category.clone(),
            x.amount.to_string(),
            factor.map(|f| f.to_string()).unwrap_or_default(),
            factor
                .map(|f| (f * x.amount).to_string())
                .unwrap_or_default(),
        ])?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// The report of a run: the consolidated results in the reporting currency at the top, each
/// currency's in `by_currency`; `failed` are positions that could not be read.
pub(crate) fn report(
    l: &Liquidity,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
    mut failed: Vec<(String, String)>,
) -> serde_json::Value {
    failed.extend(l.failed.iter().cloned());
    let mut doc = results(l, buckets);
    let by_currency: serde_json::Map<String, serde_json::Value> = l
        .by_currency
        .iter()
        .map(|c| {
            let mut part = results(&c.liquidity, buckets);
            part["fx_rate"] = serde_json::json!(c.fx_rate);
            part["positions"] = serde_json::json!(c.positions);
            (c.currency.clone(), part)
        })
        .collect();
    let head = serde_json::json!({
        "as_of": as_of.to_string(),
        "currency": l.currency,
        "regime": table.regime,
        "factor_table": table.title,
    });
    for (k, v) in head.as_object().into_iter().flatten() {
        doc[k] = v.clone();
    }
    doc["by_currency"] = serde_json::Value::Object(by_currency);
    doc["notes"] = serde_json::json!(l.notes);
    doc["failed"] = failed
        .iter()
        .map(|(id, why)| serde_json::json!({"contract_id": id, "reason": why}))
        .collect();
    doc
}

/// The results of a run or of one of its currencies: LCR, NSFR, ladders, survival horizons
/// by view and stress, and the stresses.
fn results(l: &Liquidity, buckets: &[Bucket]) -> serde_json::Value {
    let horizon = |s: &almanac_analytics::liquidity::ladder::Survival| {
        serde_json::json!({
            "days": s.days,
            "interpolated_days": s.interpolated_days,
            "beyond_last_bucket": s.beyond_last_bucket,
            "last_surviving_bucket": s.last_surviving_bucket.map(|k| buckets[k].label),
            "counterbalancing_capacity": s.capacity,
            "gap": s.gap,
            "cumulative_gap": s.cumulative_gap,
            "position": s.position,
        })
    };
    let mut survival = serde_json::Map::new();
    survival.insert("contractual".into(), horizon(&l.survival_horizon));
    if let Some(s) = &l.behavioural_survival_horizon {
        survival.insert("behavioural".into(), horizon(s));
    }
    for s in &l.stresses {
        survival.insert(s.name.clone(), horizon(&s.survival_horizon));
    }
    let stressed: Vec<serde_json::Value> = l
        .stresses
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "window_days": s.window_days,
                "effects": s.effects,
                "ladder": s.ladder,
            })
        })
        .collect();
    let capacity: serde_json::Map<String, serde_json::Value> = l
        .counterbalancing_capacity
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!(v)))
        .collect();
    serde_json::json!({
        "lcr": l.lcr,
        "nsfr": l.nsfr,
        "counterbalancing_capacity": capacity,
        "ladder": l.ladder,
        "behavioural_ladder": l.behavioural_ladder,
        "survival_horizon": survival,
        "stresses": stressed,
    })
}

/// Writes the report, pretty-printed.
pub(crate) fn write_json(path: &Path, doc: &serde_json::Value) -> Result<()> {
    let text = render(doc)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The report's bytes (what a stored run keeps).
pub(crate) fn render(doc: &serde_json::Value) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec_pretty(doc)?)
}

/// A few lines on standard output.
pub(crate) fn summarise(doc: &serde_json::Value) {
    let pct = |v: &serde_json::Value| {
        v.as_f64()
            .map_or_else(|| "n/a".to_string(), |x| format!("{:.2} %", 100.0 * x))
    };
    println!(
        "liquidity {} as of {} ({}): LCR {} (HQLA {:.2}, net outflows {:.2}); NSFR {} (ASF {:.2}, RSF {:.2})",
        doc["currency"].as_str().unwrap_or(""),
        doc["as_of"].as_str().unwrap_or(""),
        doc["regime"].as_str().unwrap_or(""),
        pct(&doc["lcr"]["ratio"]),
        doc["lcr"]["hqla"].as_f64().unwrap_or(0.0),
        doc["lcr"]["net_outflows"].as_f64().unwrap_or(0.0),
        pct(&doc["nsfr"]["ratio"]),
        doc["nsfr"]["asf"].as_f64().unwrap_or(0.0),
        doc["nsfr"]["rsf"].as_f64().unwrap_or(0.0),
    );
    for (view, s) in doc["survival_horizon"].as_object().into_iter().flatten() {
        if s["beyond_last_bucket"].as_bool() == Some(true) {
            println!("  survival horizon ({view}): beyond the last bucket");
        } else {
            println!(
                "  survival horizon ({view}): {} days ({} interpolated)",
                s["days"],
                s["interpolated_days"]
                    .as_f64()
                    .map_or_else(|| "n/a".into(), |d| format!("{d:.1}"))
            );
        }
    }
    for n in doc["notes"].as_array().into_iter().flatten() {
        println!(
            "  {} positions: {}",
            n["count"],
            n["treatment"].as_str().unwrap_or("")
        );
    }
    if let Some(f) = doc["failed"].as_array().filter(|f| !f.is_empty()) {
        println!(
            "  {} positions could not be classified (see failed)",
            f.len()
        );
    }
}

/// The report as an Excel workbook: a summary, the LCR and NSFR lines (category, amount,
/// factor, weighted, source, status), the ladders with a chart of inflows, outflows and the
/// liquidity position, and the treatments applied for missing classifications.
pub(crate) fn write_xlsx(doc: &serde_json::Value, path: &Path) -> Result<()> {
    use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let pct = Format::new().set_num_format("0.00%");
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let mut wb = Workbook::new();
    // Summary.
    let ws = wb.add_worksheet();
    ws.set_name("Summary")?;
    ws.set_column_width(0, 34)?;
    ws.set_column_width(1, 22)?;
    let rows: [(&str, &serde_json::Value, bool); 9] = [
        ("LCR", &doc["lcr"]["ratio"], true),
        ("HQLA after caps", &doc["lcr"]["hqla"], false),
        ("Outflows (weighted)", &doc["lcr"]["outflows"], false),
        ("Inflows (weighted)", &doc["lcr"]["inflows"], false),
        (
            "Inflows after the cap",
            &doc["lcr"]["inflows_capped"],
            false,
        ),
        ("Net cash outflows", &doc["lcr"]["net_outflows"], false),
        ("NSFR", &doc["nsfr"]["ratio"], true),
        ("Available stable funding", &doc["nsfr"]["asf"], false),
        ("Required stable funding", &doc["nsfr"]["rsf"], false),
    ];
    ws.write_with_format(0, 0, "Liquidity", &bold)?;
    ws.write(
        0,
        1,
        format!(
            "{} {} ({})",
            text(&doc["currency"]),
            text(&doc["as_of"]),
            text(&doc["regime"])
        ),
    )?;
    for (k, (label, v, ratio)) in rows.iter().enumerate() {
        let r = k as u32 + 2;
        ws.write(r, 0, *label)?;
        match v.as_f64() {
            Some(x) => ws.write_number_with_format(r, 1, x, if *ratio { &pct } else { &money })?,
            None => ws.write(r, 1, "n/a")?,
        };
    }
    // Each currency in its own units.
    let top = rows.len() as u32 + 3;
    ws.write_with_format(top, 0, "By currency (own units)", &bold)?;
    let head = [
        "currency",
        "FX rate to reporting",
        "positions",
        "LCR",
        "HQLA",
        "net outflows",
        "NSFR",
        "survival (days)",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_with_format(top + 1, c as u16, *h, &bold)?;
    }
    for (k, (ccy, part)) in doc["by_currency"]
        .as_object()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let r = top + 2 + k as u32;
        ws.write(r, 0, ccy.as_str())?;
        ws.write_number(r, 1, num(&part["fx_rate"]))?;
        ws.write_number(r, 2, num(&part["positions"]))?;
        for (c, v, f) in [
            (3u16, &part["lcr"]["ratio"], &pct),
            (4, &part["lcr"]["hqla"], &money),
            (5, &part["lcr"]["net_outflows"], &money),
            (6, &part["nsfr"]["ratio"], &pct),
        ] {
            match v.as_f64() {
                Some(x) => ws.write_number_with_format(r, c, x, f)?,
                None => ws.write(r, c, "n/a")?,
            };
        }
        let h = &part["survival_horizon"]["contractual"];
        if h["beyond_last_bucket"].as_bool() == Some(true) {
            ws.write(r, 7, "beyond")?;
        } else {
            ws.write_number(r, 7, num(&h["days"]))?;
        }
    }
    // LCR and NSFR lines.
    for (name, lines, part) in [
        ("LCR", &doc["lcr"]["lines"], "section"),
        ("NSFR", &doc["nsfr"]["lines"], "side"),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        let head = [
            part, "category", "label", "amount", "factor", "weighted", "source", "status",
        ];
        for (c, h) in head.iter().enumerate() {
            ws.write_with_format(0, c as u16, *h, &bold)?;
        }
        ws.set_column_width(2, 48)?;
        for (k, l) in lines.as_array().into_iter().flatten().enumerate() {
            let r = k as u32 + 1;
            ws.write(r, 0, text(&l[part]))?;
            ws.write(r, 1, text(&l["category"]))?;
            ws.write(r, 2, text(&l["label"]))?;
            ws.write_number_with_format(r, 3, num(&l["amount"]), &money)?;
            ws.write_number_with_format(r, 4, num(&l["factor"]), &pct)?;
            ws.write_number_with_format(r, 5, num(&l["weighted"]), &money)?;
            ws.write(r, 6, text(&l["source"]))?;
            ws.write(r, 7, text(&l["status"]))?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    // Ladders: contractual, behavioural, and one per stress.
    let mut sheets: Vec<(String, &serde_json::Value, &serde_json::Value)> = vec![
        (
            "Ladder".into(),
            &doc["ladder"],
            &doc["survival_horizon"]["contractual"],
        ),
        (
            "Behavioural ladder".into(),
            &doc["behavioural_ladder"],
            &doc["survival_horizon"]["behavioural"],
        ),
    ];
    for (k, st) in doc["stresses"].as_array().into_iter().flatten().enumerate() {
        sheets.push((
            sheet_name(k, &text(&st["name"])),
            &st["ladder"],
            &doc["survival_horizon"][text(&st["name"])],
        ));
    }
    for (name, ladder, survival) in sheets {
        let name = name.as_str();
        let Some(buckets) = ladder["buckets"].as_array() else {
            continue;
        };
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        let head = [
            "bucket",
            "end",
            "inflows",
            "outflows",
            "gap",
            "cumulative gap",
            "capacity",
            "position",
        ];
        for (c, h) in head.iter().enumerate() {
            ws.write_with_format(0, c as u16, *h, &bold)?;
        }
        ws.set_column_width(0, 26)?;
        for (k, b) in buckets.iter().enumerate() {
            let r = k as u32 + 1;
            ws.write(r, 0, text(b))?;
            ws.write(r, 1, text(&ladder["ends"][k]))?;
            let cols = [
                &ladder["inflows"][k],
                &ladder["outflows"][k],
                &survival["gap"][k],
                &survival["cumulative_gap"][k],
                &survival["counterbalancing_capacity"][k],
                &survival["position"][k],
            ];
            for (c, v) in cols.iter().enumerate() {
                ws.write_number_with_format(r, c as u16 + 2, num(v), &money)?;
            }
        }
        let n = buckets.len() as u32;
        let after = n + 2;
        ws.write(
            after,
            0,
            "Open maturity: inflows, outflows (due overnight in the position)",
        )?;
        ws.write_number_with_format(after, 2, num(&ladder["open_maturity_inflows"]), &money)?;
        ws.write_number_with_format(after, 3, num(&ladder["open_maturity_outflows"]), &money)?;
        ws.write(after + 1, 0, "Survival horizon (days; interpolated)")?;
        ws.write(after + 1, 2, survival["days"].to_string())?;
        ws.write(after + 1, 3, survival["interpolated_days"].to_string())?;
        let mut chart = Chart::new(ChartType::Column);
        for (col, label) in [(2u16, "Inflows"), (3, "Outflows")] {
            chart
                .add_series()
                .set_name(label)
                .set_categories((name, 1, 0, n, 0))
                .set_values((name, 1, col, n, col));
        }
        let mut line = Chart::new(ChartType::Line);
        line.add_series()
            .set_name("Liquidity position")
            .set_categories((name, 1, 0, n, 0))
            .set_values((name, 1, 7, n, 7));
        chart.combine(&line);
        chart
            .title()
            .set_name(&format!("{name} {}", text(&doc["currency"])));
        chart.y_axis().set_num_format("#,##0");
        chart.set_width(900).set_height(400);
        ws.insert_chart(1, 9, &chart)?;
        ws.set_freeze_panes(1, 0)?;
    }
    // What each stress did.
    if let Some(stresses) = doc["stresses"].as_array().filter(|s| !s.is_empty()) {
        let ws = wb.add_worksheet();
        ws.set_name("Stresses")?;
        ws.set_column_width(0, 40)?;
        ws.write_with_format(0, 0, "effect", &bold)?;
        for (c, st) in stresses.iter().enumerate() {
            ws.set_column_width(c as u16 + 1, 18)?;
            ws.write_with_format(0, c as u16 + 1, text(&st["name"]), &bold)?;
            let h = &doc["survival_horizon"][text(&st["name"])];
            let mut r = 1;
            for (label, key) in STRESS_EFFECTS {
                ws.write(r, 0, label)?;
                ws.write_number_with_format(r, c as u16 + 1, num(&st["effects"][key]), &money)?;
                r += 1;
            }
            ws.write(r, 0, "Window (days)")?;
            ws.write_number(r, c as u16 + 1, num(&st["window_days"]))?;
            ws.write(r + 1, 0, "Survival horizon (days)")?;
            ws.write(r + 2, 0, "Survival horizon (days, interpolated)")?;
            if h["beyond_last_bucket"].as_bool() == Some(true) {
                ws.write(r + 1, c as u16 + 1, "beyond")?;
            } else {
                ws.write_number(r + 1, c as u16 + 1, num(&h["days"]))?;
                ws.write_number(r + 2, c as u16 + 1, num(&h["interpolated_days"]))?;
            }
        }
    }
    // Notes.
    let ws = wb.add_worksheet();
    ws.set_name("Notes")?;
    ws.write_with_format(0, 0, "treatment", &bold)?;
    ws.write_with_format(0, 1, "positions", &bold)?;
    ws.write_with_format(0, 2, "first ids", &bold)?;
    ws.set_column_width(0, 80)?;
    for (k, n) in doc["notes"].as_array().into_iter().flatten().enumerate() {
        let r = k as u32 + 1;
        ws.write(r, 0, text(&n["treatment"]))?;
        ws.write(r, 1, n["count"].as_u64().unwrap_or(0) as f64)?;
        let ids: Vec<String> = n["positions"]
            .as_array()
            .into_iter()
            .flatten()
            .take(20)
            .map(text)
            .collect();
        ws.write(r, 2, ids.join(", "))?;
    }
    wb.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// What a stress did, as reported (label, key of `effects`).
const STRESS_EFFECTS: [(&str, &str); 10] = [
    ("Funding withdrawn", "runoff"),
    ("On-demand balances retained", "retained"),
    ("Term funding rolled over", "rolled_over"),
    ("Facilities drawn", "drawdowns"),
    ("Downgrade collateral called", "collateral_calls"),
    ("Inflows not received", "inflows_not_received"),
    ("HQLA market value", "hqla_market_value"),
    ("HQLA value change", "hqla_value_change"),
    ("Counterbalancing capacity", "initial_capacity"),
    (
        "Counterbalancing capacity change",
        "initial_capacity_change",
    ),
];

/// A worksheet name for stress `k` (Excel: at most 31 characters, none of `[]:*?/\`, unique).
fn sheet_name(k: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let prefix = format!("S{} ", k + 1);
    let room = 31 - prefix.len();
    format!("{prefix}{}", clean.chars().take(room).collect::<String>())
}

/// The report as CSV files in `dir`: `lcr.csv`, `nsfr.csv` (the lines), `ladder.csv` (by
/// bucket, both views when there is a behavioural one) and `notes.csv` (one row per position a
/// treatment was applied to).
pub(crate) fn write_csv(doc: &serde_json::Value, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let open = |name: &str| -> Result<csv::Writer<std::fs::File>> {
        let p = dir.join(name);
        csv::Writer::from_path(&p).with_context(|| format!("creating {}", p.display()))
    };
    for (file, lines, part) in [
        ("lcr.csv", &doc["lcr"]["lines"], "section"),
        ("nsfr.csv", &doc["nsfr"]["lines"], "side"),
    ] {
        let mut w = open(file)?;
        let head = [
            part, "category", "label", "amount", "factor", "weighted", "source", "status",
        ];
        w.write_record(head)?;
        for l in lines.as_array().into_iter().flatten() {
            w.write_record(head.iter().map(|h| text(&l[*h])))?;
        }
        w.flush()?;
    }
    let mut w = open("ladder.csv")?;
    w.write_record([
        "view",
        "bucket",
        "end",
        "inflows",
        "outflows",
        "gap",
        "cumulative_gap",
        "counterbalancing_capacity",
        "position",
    ])?;
    let mut views = vec![
        ("contractual".to_string(), &doc["ladder"]),
        ("behavioural".to_string(), &doc["behavioural_ladder"]),
    ];
    for st in doc["stresses"].as_array().into_iter().flatten() {
        views.push((text(&st["name"]), &st["ladder"]));
    }
    for (view, ladder) in views {
        let s = &doc["survival_horizon"][view.as_str()];
        for (k, b) in ladder["buckets"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            w.write_record([
                view.clone(),
                text(b),
                text(&ladder["ends"][k]),
                text(&ladder["inflows"][k]),
                text(&ladder["outflows"][k]),
                text(&s["gap"][k]),
                text(&s["cumulative_gap"][k]),
                text(&s["counterbalancing_capacity"][k]),
                text(&s["position"][k]),
            ])?;
        }
    }
    w.flush()?;
    if let Some(stresses) = doc["stresses"].as_array().filter(|s| !s.is_empty()) {
        let mut w = open("stresses.csv")?;
        let mut head = vec!["scenario", "window_days"];
        head.extend(STRESS_EFFECTS.iter().map(|(_, k)| *k));
        head.extend([
            "survival_days",
            "survival_interpolated_days",
            "beyond_last_bucket",
        ]);
        w.write_record(&head)?;
        for st in stresses {
            let h = &doc["survival_horizon"][text(&st["name"]).as_str()];
            let mut row = vec![text(&st["name"]), text(&st["window_days"])];
            row.extend(STRESS_EFFECTS.iter().map(|(_, k)| text(&st["effects"][*k])));
            row.extend([
                text(&h["days"]),
                text(&h["interpolated_days"]),
                text(&h["beyond_last_bucket"]),
            ]);
            w.write_record(&row)?;
        }
        w.flush()?;
    }
    let mut w = open("by_currency.csv")?;
    w.write_record([
        "currency",
        "fx_rate",
        "positions",
        "lcr",
        "hqla",
        "net_outflows",
        "nsfr",
        "asf",
        "rsf",
        "survival_days",
    ])?;
    for (ccy, part) in doc["by_currency"].as_object().into_iter().flatten() {
        w.write_record([
            ccy.clone(),
            text(&part["fx_rate"]),
            text(&part["positions"]),
            text(&part["lcr"]["ratio"]),
            text(&part["lcr"]["hqla"]),
            text(&part["lcr"]["net_outflows"]),
            text(&part["nsfr"]["ratio"]),
            text(&part["nsfr"]["asf"]),
            text(&part["nsfr"]["rsf"]),
            text(&part["survival_horizon"]["contractual"]["days"]),
        ])?;
    }
    w.flush()?;
    let mut w = open("notes.csv")?;
    w.write_record(["position", "treatment"])?;
    for n in doc["notes"].as_array().into_iter().flatten() {
        for id in n["positions"].as_array().into_iter().flatten() {
            w.write_record([text(id), text(&n["treatment"])])?;
        }
    }
    w.flush()?;
    Ok(())
}
