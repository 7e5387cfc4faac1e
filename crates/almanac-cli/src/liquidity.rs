//! `almanac liquidity` (from files) and the report shared with `almanac run liquidity` (from
//! the store): LCR, NSFR, contractual maturity ladder and survival horizon.

use std::path::{Path, PathBuf};

use almanac_analytics::liquidity::factors::{FactorTable, Regime};
use almanac_analytics::liquidity::ladder::{Bucket, BASEL_BUCKETS, C66_BUCKETS};
use almanac_analytics::liquidity::run::{analyse_with, Liquidity};
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
    /// Ladder buckets: c66 (EU C 66.01, 21 buckets) or basel (SRP50).
    #[arg(long, default_value = "c66")]
    pub(crate) buckets: String,
    /// Assumption set (TOML, or a stored `asm-…` id with `run liquidity`): its behaviour
    /// (prepayment, early redemption, non-maturity deposit slotting) gives the behavioural
    /// ladder and survival horizon beside the contractual ones.
    #[arg(long)]
    pub(crate) assumptions: Option<PathBuf>,
}

impl LiquidityOptions {
    /// The factor table and the buckets asked for.
    pub(crate) fn resolve(&self) -> Result<(FactorTable, &'static [Bucket])> {
        let regime: Regime = self
            .regime
            .parse()
            .map_err(|e| anyhow::anyhow!("--regime: {e}"))?;
        let buckets: &'static [Bucket] = match self.buckets.as_str() {
            "c66" => &C66_BUCKETS,
            "basel" => &BASEL_BUCKETS,
            other => bail!("--buckets {other:?}: expected c66 or basel"),
        };
        Ok((FactorTable::builtin(regime), buckets))
    }
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
                    instrument: Instrument::Contract(Box::new(t)),
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
    let doc = compute(
        &positions,
        &market,
        as_of,
        &table,
        buckets,
        behaviour.as_ref(),
        failed,
    )?;
    write_json(&args.json, &doc)?;
    summarise(&doc);
    Ok(doc["failed"].as_array().is_none_or(Vec::is_empty))
}

/// The liquidity report of `positions` as JSON; `failed` are positions that could not be read.
pub(crate) fn compute(
    positions: &[Position],
    market: &MarketSnapshot,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
    behaviour: Option<&almanac_analytics::irrbb::Behaviour>,
    mut failed: Vec<(String, String)>,
) -> Result<serde_json::Value> {
    // One currency for now: amounts of several would be summed without conversion.
    let currencies: std::collections::BTreeSet<&str> = positions
        .iter()
        .map(Position::currency)
        .filter(|c| !c.is_empty())
        .collect();
    if currencies.len() > 1 {
        bail!(
            "the positions are in {} currencies ({}): the liquidity run handles one currency \
             so far (no FX conversion into a reporting currency yet)",
            currencies.len(),
            currencies.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let l: Liquidity = analyse_with(positions, market, as_of, table, buckets, behaviour)?;
    failed.extend(l.failed.iter().cloned());
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
    Ok(serde_json::json!({
        "as_of": as_of.to_string(),
        "currency": currencies.into_iter().next().unwrap_or(""),
        "regime": table.regime,
        "factor_table": table.title,
        "lcr": l.lcr,
        "nsfr": l.nsfr,
        "ladder": l.ladder,
        "behavioural_ladder": l.behavioural_ladder,
        "survival_horizon": survival,
        "notes": l.notes,
        "failed": failed
            .iter()
            .map(|(id, why)| serde_json::json!({"contract_id": id, "reason": why}))
            .collect::<Vec<_>>(),
    }))
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
    let s = &doc["survival_horizon"]["contractual"];
    if s["beyond_last_bucket"].as_bool() == Some(true) {
        println!("  survival horizon: beyond the last bucket");
    } else {
        println!(
            "  survival horizon: {} days ({} interpolated)",
            s["days"],
            s["interpolated_days"]
                .as_f64()
                .map_or_else(|| "n/a".into(), |d| format!("{d:.1}"))
        );
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
