//! `almanac irrbb`: EVE and ΔEVE under the six standardised scenarios, straight from files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use almanac_analytics::irrbb::{aggregate, eve_standard, outlier_test, Aggregation};
use almanac_scenario::irrbb::{Calibration, Floor};
use almanac_scenario::standard::StandardSpec;
use almanac_time::{Date, DateTime};
use anyhow::{bail, Context, Result};

/// Arguments of `almanac irrbb`.
#[derive(clap::Args)]
pub(crate) struct IrrbbArgs {
    /// Contracts: JSON (array of ACTUS term objects or a suite file) or ACTUS-term CSV.
    #[arg(long)]
    contracts: PathBuf,
    /// Market: TOML snapshot, or zero-curve CSV (then dated by --as-of).
    #[arg(long)]
    market: PathBuf,
    /// Valuation date: flows after it are valued; contracts without statusDate take it.
    #[arg(long)]
    as_of: String,
    /// Shock-size table: bcbs2016 or bcbs2024.
    #[arg(long, default_value = "bcbs2016")]
    calibration: String,
    /// Post-shock floor: none, zero or eu.
    #[arg(long, default_value = "none")]
    floor: String,
    /// Tier 1 capital for the outlier test (in the reporting currency).
    #[arg(long)]
    tier1: Option<f64>,
    /// Reporting currency shown at the top level (default: the only or largest currency).
    #[arg(long)]
    currency: Option<String>,
    /// Add every contract's PV under base and each scenario.
    #[arg(long)]
    per_contract: bool,
    /// Write the result as JSON to this file.
    #[arg(long)]
    json: PathBuf,
}

pub(crate) fn run(args: &IrrbbArgs) -> Result<bool> {
    let as_of: Date = args
        .as_of
        .parse()
        .map_err(|e| anyhow::anyhow!("--as-of {:?}: {e}", args.as_of))?;
    if let Some(t) = args.tier1 {
        if !(t.is_finite() && t > 0.0) {
            bail!("--tier1 must be a positive amount, got {t}");
        }
    }
    let market = crate::scenarios::read_market(&args.market, Some(as_of))?;
    if market.as_of() != as_of {
        bail!(
            "{}: the market is as of {}, the valuation date is {as_of}",
            args.market.display(),
            market.as_of()
        );
    }
    let (inputs, _) = crate::input::read_contracts(&args.contracts)?;
    let mut contracts = Vec::with_capacity(inputs.len());
    let mut failed: Vec<(String, String)> = Vec::new();
    for c in inputs {
        match c.terms {
            Ok(mut t) => {
                if t.status_date.is_none() {
                    t.status_date = Some(DateTime::midnight(as_of));
                }
                contracts.push(t);
            }
            Err(e) => failed.push((c.origin, e)),
        }
    }
    let spec = StandardSpec {
        calibration: args.calibration.parse::<Calibration>()?,
        floor: args.floor.parse::<Floor>()?,
        ..StandardSpec::default()
    };
    let result = eve_standard(
        &contracts,
        &market,
        &spec,
        DateTime::midnight(as_of),
        args.per_contract,
    )?;
    failed.extend(result.failed.iter().cloned());
    let currency = match &args.currency {
        Some(c) => c.to_ascii_uppercase(),
        None => result
            .currencies
            .iter()
            .max_by(|a, b| a.1.base.abs().total_cmp(&b.1.base.abs()))
            .map(|(c, _)| c.clone())
            .unwrap_or_default(),
    };
    let top = result.currencies.get(&currency);
    // Per scenario: aggregate change across currencies, by regime.
    let mut aggregates = serde_json::Map::new();
    let mut worst_bcbs: BTreeMap<String, f64> = BTreeMap::new();
    for s in almanac_scenario::irrbb::Scenario::ALL {
        let n = s.name();
        let changes: BTreeMap<String, f64> = result
            .currencies
            .iter()
            .map(|(c, e)| (c.clone(), e.scenarios.get(n).map_or(0.0, |v| v.delta)))
            .collect();
        let bcbs = aggregate(&changes, Aggregation::BcbsLossesOnly);
        let eu = aggregate(&changes, Aggregation::EuHalfGains);
        worst_bcbs.insert(n.to_string(), bcbs);
        aggregates.insert(
            n.to_string(),
            serde_json::json!({"bcbs_losses_only": bcbs, "eu_half_gains": eu}),
        );
    }
    let outlier = args
        .tier1
        .and_then(|t| outlier_test(&worst_bcbs, t))
        .map(|o| serde_json::to_value(o).unwrap_or_default());
    let mut doc = serde_json::json!({
        "as_of": as_of.to_string(),
        "currency": currency,
        "calibration": spec.calibration.code(),
        "floor": spec.floor.code(),
        "method": "cashflow",
        "eve": top.map(|e| serde_json::to_value(e).unwrap_or_default()),
        "by_currency": serde_json::to_value(&result.currencies)?,
        "aggregate_change": aggregates,
        "outlier_test": outlier,
        "failed": failed.iter().map(|(id, why)| serde_json::json!({"contract_id": id, "reason": why})).collect::<Vec<_>>(),
    });
    // Repricing gap of the reporting currency in the 19 buckets; the earnings column uses the
    // currency's parallel shock.
    let shift = spec
        .sizes_for(&currency)
        .map_or(0.02, |s| f64::from(s.parallel_bp) / 10_000.0);
    let gap = almanac_analytics::irrbb::repricing_gap(
        result.repricing.get(&currency).cloned().unwrap_or_default(),
        shift,
    );
    doc["gap"] = serde_json::json!({"currency": currency, "parallel_shift": shift, "buckets": gap});
    // ΔNII over one year under the parallel shocks, constant balance sheet.
    let flows = result.repricing.get(&currency).cloned().unwrap_or_default();
    let (up, down) = (
        almanac_analytics::irrbb::delta_nii(&flows, shift, 1.0),
        almanac_analytics::irrbb::delta_nii(&flows, -shift, 1.0),
    );
    doc["nii"] = serde_json::json!({
        "horizon_years": 1,
        "method": "repricing, constant balance sheet, instantaneous parallel shock",
        "delta": {"parallel_up": up, "parallel_down": down},
        "outlier_test": args.tier1.map(|t| almanac_analytics::irrbb::nii_outlier_test(up, down, t)),
    });
    // PV01, key-rate PV01 and effective duration / convexity of the reporting currency.
    let sens = almanac_analytics::irrbb::sensitivities(
        &contracts,
        &market,
        &currency,
        DateTime::midnight(as_of),
    )?;
    doc["sensitivities"] = serde_json::json!({
        "currency": sens.currency,
        "value": sens.value,
        "pv01": sens.pv01,
        "key_rate_pv01": sens.key_rate_pv01.iter().map(|(t, v)| serde_json::json!({"pillar_years": t, "pv01": v})).collect::<Vec<_>>(),
        "effective_duration": sens.effective_duration,
        "effective_convexity": sens.effective_convexity,
    });
    if args.per_contract {
        doc["contracts"] = serde_json::to_value(&result.contracts)?;
    }
    write_json(&args.json, &doc)?;
    // Human summary.
    if let Some(e) = top {
        println!("EVE {currency} as of {as_of}: base {:.2}", e.base);
        for (n, v) in &e.scenarios {
            println!("  {n:<14} {:>18.2}  change {:>16.2}", v.value, v.delta);
        }
    }
    if let Some(o) = &doc["outlier_test"].as_object() {
        println!(
            "outlier test: worst {} {:.2} = {:.2} % of Tier 1 → {}",
            o["worst_scenario"].as_str().unwrap_or(""),
            o["worst_change"].as_f64().unwrap_or(0.0),
            o["ratio"].as_f64().unwrap_or(0.0) * 100.0,
            if o["outlier"].as_bool().unwrap_or(false) {
                "OUTLIER"
            } else {
                "within 15 %"
            }
        );
    }
    for (id, why) in failed.iter().take(20) {
        eprintln!("  not valued: {id}: {why}");
    }
    Ok(failed.is_empty())
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(v)?)
        .with_context(|| format!("writing {}", path.display()))
}
