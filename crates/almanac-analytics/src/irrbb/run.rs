//! EVE of a portfolio under the base market and the six standardised scenarios, by currency
//! and contract (cash-flow method: exact payment dates on each scenario's discount curve).
//!
//! For every scenario the contracts are re-evaluated on the scenario snapshot, so floating
//! resets after the as-of date are projected from the scenario's forecast curves (simple
//! forward over the index tenor, `SnapshotObserver`), while fixings up to the as-of date stay.
//! Each contract's flows are discounted on the discount curve of the flow's currency.
//! Contracts that cannot be valued are listed with their reason, never skipped silently.

use std::collections::BTreeMap;

use std::sync::atomic::{AtomicBool, Ordering};

use almanac_actus::{
    ContractEvent, ContractTerms, EvalContext, RiskFactorObserver, SnapshotObserver,
};
use almanac_market::MarketSnapshot;
use almanac_scenario::standard::{StandardError, StandardSpec};
use almanac_time::DateTime;

/// EVE of one currency as of the valuation date: the sum of its contracts' discounted flows
/// in that currency, in its units, from the bank's side (assets positive, liabilities
/// negative).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct CurrencyEve {
    /// Base EVE.
    pub base: f64,
    /// Per scenario: value and change (`value − base`, EU sign).
    pub scenarios: BTreeMap<String, ScenarioValue>,
}

impl CurrencyEve {
    /// From the values by market: `names[0]` is the base, `value(k)` the EVE on market `k`.
    pub fn from_values(names: &[String], value: impl Fn(usize) -> f64) -> CurrencyEve {
        let base = value(0);
        let scenarios = names
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, name)| {
                let v = value(k);
                (
                    name.clone(),
                    ScenarioValue {
                        value: v,
                        delta: v - base,
                        kao: 0.0,
                    },
                )
            })
            .collect();
        CurrencyEve { base, scenarios }
    }
}

/// A scenario's EVE and its change.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ScenarioValue {
    /// EVE under the scenario (automatic options excluded when they are valued as KAO).
    pub value: f64,
    /// The change of EVE including the automatic options, EU sign: `value − base − kao`
    /// (negative = decline; the Basel loss `EVE_0 − EVE_i + KAO_i` is `−delta`).
    pub delta: f64,
    /// The automatic-option add-on KAO of the scenario (SRP31.127–128; a loss positive; 0
    /// without automatic options or with them at intrinsic value).
    pub kao: f64,
}

/// One contract's present values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContractPv {
    /// Contract id.
    pub contract_id: String,
    /// PV by scenario name (`base` and the six) as of the valuation date, summed over the
    /// currencies of its flows (single-currency contracts: that currency's units), bank's side.
    pub pv: BTreeMap<String, f64>,
}

/// The result.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct EveResult {
    /// EVE by currency.
    pub currencies: BTreeMap<String, CurrencyEve>,
    /// Per-contract PVs (in contract order), when asked for.
    pub contracts: Vec<ContractPv>,
    /// Contracts that could not be valued, with the reason.
    pub failed: Vec<(String, String)>,
    /// Notional repricing flows of the base market by currency, `(t in years, amount)`,
    /// assets positive (see [`super::gap::repricing_flows`]), for the repricing gap.
    pub repricing: BTreeMap<String, Vec<(f64, f64)>>,
}

/// Why the run cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EveError {
    /// A scenario cannot be built (e.g. no shock table for a currency).
    #[error(transparent)]
    Scenario(#[from] StandardError),
    /// A bumped curve cannot be built (sensitivities).
    #[error(transparent)]
    Curve(#[from] almanac_market::CurveError),
    /// Automatic options cannot be valued as asked (e.g. an index without a volatility).
    #[error("{0}")]
    AutomaticOptions(String),
    /// The contracts fed to a streamed run could not be read, said in words.
    #[error("{0}")]
    Input(String),
}

/// Market data seen through a snapshot, noting whether the contract asked for any.
pub(super) struct Recording<'a> {
    inner: SnapshotObserver<'a>,
    used: AtomicBool,
}

impl<'a> Recording<'a> {
    /// Market `m`, nothing asked yet.
    pub(super) fn new(m: &'a MarketSnapshot) -> Recording<'a> {
        Recording {
            inner: SnapshotObserver::new(m),
            used: AtomicBool::new(false),
        }
    }

    /// Whether the contract asked for market data.
    pub(super) fn used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }
}

impl RiskFactorObserver for Recording<'_> {
    fn observe(&self, market_object_code: &str, time: DateTime) -> Option<f64> {
        self.used.store(true, Ordering::Relaxed);
        self.inner.observe(market_object_code, time)
    }
}

/// Evaluates `t` on market `m` into `buf`; returns whether the evaluation read market data.
/// A contract that reads none (fixed rate) has the same events on every market, so callers
/// need to evaluate it only once and re-discount.
pub(super) fn evaluate_on(
    t: &ContractTerms,
    m: &MarketSnapshot,
    buf: &mut Vec<ContractEvent>,
) -> Result<bool, String> {
    evaluate_on_into(t, m, buf)
}

/// The balance at `as_of` of a contract repayable on demand (UMP, or CLM without maturity),
/// signed by role (assets positive, contract currency units): the notional of the ACTUS state
/// after its last event up to `as_of` (so interest capitalised since the status date is in
/// it), else the terms' notional. `events` is a buffer.
pub(crate) fn on_demand_balance(
    t: &ContractTerms,
    m: &MarketSnapshot,
    as_of: DateTime,
    events: &mut Vec<ContractEvent>,
) -> Result<f64, String> {
    let obs = SnapshotObserver::new(m);
    let ctx = EvalContext {
        observer: &obs,
        observed_events: &[],
        to: Some(as_of),
    };
    almanac_actus::evaluate_into(t, &ctx, events).map_err(|e| e.to_string())?;
    Ok(match events.iter().rev().find(|e| e.event_time <= as_of) {
        Some(e) => e.states.notional_principal,
        None => {
            t.contract_role
                .map_or(1.0, almanac_actus::ContractRole::sign)
                * t.notional_principal.unwrap_or(0.0)
        }
    })
}

/// As [`evaluate_on`], the events going to `sink` as they are produced.
pub(crate) fn evaluate_on_into<S: almanac_actus::EventSink>(
    t: &ContractTerms,
    m: &MarketSnapshot,
    sink: &mut S,
) -> Result<bool, String> {
    let obs = Recording::new(m);
    let ctx = EvalContext {
        observer: &obs,
        observed_events: &[],
        to: None,
    };
    almanac_actus::evaluate_each_into(t, &[&ctx], std::slice::from_mut(sink))
        .map_err(|e| e.to_string())?;
    Ok(obs.used())
}

/// Value by currency of the events in `events` (contract `t`) on market `m`: every payoff
/// after `as_of` discounted on the discount curve of its currency; cash at its balance.
/// Amounts in each currency's units, from the bank's side (assets positive).
pub(super) fn discount(
    t: &ContractTerms,
    events: &[ContractEvent],
    m: &MarketSnapshot,
    as_of: DateTime,
) -> Result<BTreeMap<String, f64>, String> {
    let mut pv: BTreeMap<String, f64> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.event_time > as_of && e.payoff != 0.0)
    {
        let ccy = e.currency(t).unwrap_or("");
        let curve = m
            .discount_curve(ccy)
            .map_err(|_| format!("no discount curve for currency {ccy:?}"))?;
        *pv.entry(ccy.to_string()).or_insert(0.0) +=
            e.payoff * curve.discount_at(e.event_time.date());
    }
    // Cash has no future events: it is worth its balance today (overnight).
    if t.contract_type == Some(almanac_actus::ContractType::Csh) {
        let ccy = t.currency.clone().unwrap_or_default();
        let sign = t
            .contract_role
            .map_or(1.0, almanac_actus::ContractRole::sign);
        *pv.entry(ccy).or_insert(0.0) += sign * t.notional_principal.unwrap_or(0.0);
    }
    Ok(pv)
}

/// A contract's value on one market as of `as_of`, by currency of its flows (units of each
/// currency, bank's side: assets positive). `buf` is reused and holds the contract's events
/// afterwards.
pub fn contract_values(
    t: &ContractTerms,
    m: &MarketSnapshot,
    as_of: DateTime,
    buf: &mut Vec<ContractEvent>,
) -> Result<BTreeMap<String, f64>, String> {
    evaluate_on(t, m, buf)?;
    discount(t, buf, m, as_of)
}

/// EVE under base and the six standardised scenarios, contractual view (see
/// [`super::engine::analyse`], which this wraps). `as_of` is the valuation date (flows on or
/// before it are not counted).
pub fn eve_standard(
    contracts: &[ContractTerms],
    base: &MarketSnapshot,
    spec: &StandardSpec,
    as_of: DateTime,
    per_contract: bool,
) -> Result<EveResult, EveError> {
    let options = super::engine::Options {
        per_contract,
        ..Default::default()
    };
    let a = super::engine::analyse(contracts, base, spec, as_of, &options)?;
    Ok(EveResult {
        contracts: a
            .contracts
            .iter()
            .map(|c| ContractPv {
                contract_id: c.contract_id.to_string(),
                pv: c.names.iter().cloned().zip(c.pv.iter().copied()).collect(),
            })
            .collect(),
        failed: a.failed,
        repricing: a
            .contractual
            .repricing
            .iter()
            .map(|(c, d)| (c.clone(), d.as_years()))
            .collect(),
        currencies: a.contractual.currencies,
    })
}

/// The reference implementation the engine is checked against: every event discounted
/// directly on its market's curve, contract by contract.
#[cfg(test)]
pub(super) fn eve_by_event(
    contracts: &[ContractTerms],
    base: &MarketSnapshot,
    spec: &StandardSpec,
    as_of: DateTime,
    per_contract: bool,
) -> Result<EveResult, EveError> {
    use almanac_scenario::irrbb::Scenario;
    use almanac_scenario::standard::apply;
    use rayon::prelude::*;
    let mut markets: Vec<(String, MarketSnapshot)> = vec![("base".to_string(), base.clone())];
    for s in Scenario::ALL {
        markets.push((s.name().to_string(), apply(base, s, spec)?));
    }
    // Per contract: PV per market, or the first error.
    type PerContract = (Vec<BTreeMap<String, f64>>, Vec<(f64, f64)>);
    let values: Vec<Result<PerContract, String>> = contracts
        .par_iter()
        .map_init(Vec::<ContractEvent>::new, |buf, t| {
            let mut by_market = Vec::with_capacity(markets.len());
            // Base first; the scenarios re-evaluate only contracts that read market data
            // (floating resets), the others are re-discounted.
            let reads_market = evaluate_on(t, &markets[0].1, buf)?;
            let repricing = super::gap::repricing_flows(buf, as_of);
            by_market.push(discount(t, buf, &markets[0].1, as_of)?);
            for (_, m) in &markets[1..] {
                if reads_market {
                    evaluate_on(t, m, buf)?;
                }
                by_market.push(discount(t, buf, m, as_of)?);
            }
            Ok((by_market, repricing))
        })
        .collect();
    let mut out = EveResult::default();
    // Sums in contract order: the same on any number of threads.
    let mut totals: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); markets.len()];
    for (t, v) in contracts.iter().zip(values) {
        match v {
            Ok((by_market, repricing)) => {
                if !repricing.is_empty() {
                    out.repricing
                        .entry(t.currency.clone().unwrap_or_default())
                        .or_default()
                        .extend(repricing);
                }
                for (k, pv) in by_market.iter().enumerate() {
                    for (ccy, x) in pv {
                        *totals[k].entry(ccy.clone()).or_insert(0.0) += x;
                    }
                }
                if per_contract {
                    out.contracts.push(ContractPv {
                        contract_id: t.id().to_string(),
                        pv: markets
                            .iter()
                            .zip(&by_market)
                            .map(|((name, _), pv)| (name.clone(), pv.values().sum()))
                            .collect(),
                    });
                }
            }
            Err(e) => out.failed.push((t.id().to_string(), e)),
        }
    }
    let currencies: std::collections::BTreeSet<&String> =
        totals.iter().flat_map(|m| m.keys()).collect();
    for ccy in currencies {
        let base = totals[0].get(ccy).copied().unwrap_or(0.0);
        let scenarios = markets
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, (name, _))| {
                let value = totals[k].get(ccy).copied().unwrap_or(0.0);
                (
                    name.clone(),
                    ScenarioValue {
                        value,
                        delta: value - base,
                        kao: 0.0,
                    },
                )
            })
            .collect();
        out.currencies
            .insert(ccy.clone(), CurrencyEve { base, scenarios });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_scenario::irrbb::Scenario;
    use almanac_time::{Date, DayCount};

    fn flat(rate: f64) -> MarketSnapshot {
        crate::irrbb::testkit::flat(rate)
    }

    fn bond(id: &str, coupon: f64, role: &str, years: i32) -> ContractTerms {
        let md = Date::ymd(2025 + years, 12, 31);
        serde_json::from_str(&format!(
            r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"{role}","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"{md}",
            "notionalPrincipal":1000000,"nominalInterestRate":{coupon},"dayCountConvention":"A365",
            "cycleAnchorDateOfInterestPayment":"2026-12-31","cycleOfInterestPayment":"P1YL1"}}"#
        ))
        .unwrap()
    }

    /// A fixed-rate bond paying its own curve's par rate is worth par.
    #[test]
    fn par_bond_is_worth_par() {
        let m = flat(0.03);
        let c = m.curve("EUR-ESTR").unwrap();
        let as_of = Date::ymd(2025, 12, 31);
        let dates: Vec<Date> = (1..=7).map(|y| Date::ymd(2025 + y, 12, 31)).collect();
        let mut annuity = 0.0;
        let mut prev = as_of;
        for d in &dates {
            annuity += f64::from(prev.days_until(*d)) / 365.0 * c.discount_at(*d);
            prev = *d;
        }
        let par = (1.0 - c.discount_at(dates[6])) / annuity;
        let r = eve_standard(
            &[bond("par", par, "RPA", 7)],
            &m,
            &StandardSpec::default(),
            DateTime::midnight(as_of),
            true,
        )
        .unwrap();
        assert!(
            (r.currencies["EUR"].base - 1_000_000.0).abs() < 1e-6,
            "{}",
            r.currencies["EUR"].base
        );
    }

    /// EVE is additive over any split of the portfolio; parallel up lowers the value of a
    /// fixed-rate asset and raises that of a fixed-rate liability; the same on 1 and 4 threads.
    #[test]
    fn additive_signed_and_thread_independent() {
        let m = flat(0.025);
        let book = vec![
            bond("a", 0.03, "RPA", 10),
            bond("b", 0.02, "RPL", 3),
            bond("c", 0.04, "RPA", 5),
        ];
        let as_of = DateTime::midnight(Date::ymd(2025, 12, 31));
        let spec = StandardSpec::default();
        let all = eve_standard(&book, &m, &spec, as_of, true).unwrap();
        let part1 = eve_standard(&book[..1], &m, &spec, as_of, false).unwrap();
        let part2 = eve_standard(&book[1..], &m, &spec, as_of, false).unwrap();
        let eur = |r: &EveResult| r.currencies["EUR"].clone();
        assert!((eur(&all).base - eur(&part1).base - eur(&part2).base).abs() < 1e-6);
        for s in Scenario::ALL {
            let n = s.name();
            let sum = eur(&part1).scenarios[n].value + eur(&part2).scenarios[n].value;
            assert!((eur(&all).scenarios[n].value - sum).abs() < 1e-6, "{n}");
        }
        let up = |id: &str| {
            all.contracts
                .iter()
                .find(|c| c.contract_id == id)
                .unwrap()
                .pv["parallel_up"]
        };
        let base = |id: &str| {
            all.contracts
                .iter()
                .find(|c| c.contract_id == id)
                .unwrap()
                .pv["base"]
        };
        assert!(up("a") < base("a") && base("a") > 0.0);
        assert!(up("b") > base("b") && base("b") < 0.0);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| eve_standard(&book, &m, &spec, as_of, true).unwrap());
        assert_eq!(one, all);
    }

    /// A floating-rate note resetting on the discount curve's own index is re-evaluated in
    /// each scenario (its resets follow the shocked forwards), so its value barely moves,
    /// while a fixed bond of the same maturity loses value when rates rise.
    #[test]
    fn floating_contracts_are_reevaluated_per_scenario() {
        let mut m = flat(0.03);
        m.insert_index(almanac_market::IndexDefinition {
            name: "IDX".into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-ESTR".into(),
            tenor: "1Y".parse().unwrap(),
            day_count: DayCount::Act365Fixed,
        })
        .unwrap();
        let frn: ContractTerms = serde_json::from_str(
            r#"{"contractType":"PAM","contractID":"frn","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2032-12-31",
            "notionalPrincipal":1000000,"nominalInterestRate":0.03,"dayCountConvention":"A365",
            "cycleAnchorDateOfInterestPayment":"2026-12-31","cycleOfInterestPayment":"P1YL1",
            "cycleAnchorDateOfRateReset":"2026-12-31","cycleOfRateReset":"P1YL1",
            "marketObjectCodeOfRateReset":"IDX"}"#,
        )
        .unwrap();
        let r = eve_standard(
            &[frn, bond("fix", 0.03, "RPA", 7)],
            &m,
            &StandardSpec::default(),
            DateTime::midnight(Date::ymd(2025, 12, 31)),
            true,
        )
        .unwrap();
        let change = |id: &str| {
            let c = r.contracts.iter().find(|c| c.contract_id == id).unwrap();
            c.pv["parallel_up"] - c.pv["base"]
        };
        // Only the first coupon is fixed: about one year of duration against about six.
        assert!(
            change("frn") < 0.0 && change("frn").abs() < 0.25 * change("fix").abs(),
            "{} vs {}",
            change("frn"),
            change("fix")
        );
    }

    /// Cash counts at its balance in every scenario.
    #[test]
    fn cash_is_worth_its_balance() {
        let m = flat(0.02);
        let cash: ContractTerms = serde_json::from_str(
            r#"{"contractType":"CSH","contractID":"cash","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","notionalPrincipal":500}"#,
        )
        .unwrap();
        let r = eve_standard(
            &[cash],
            &m,
            &StandardSpec::default(),
            DateTime::midnight(Date::ymd(2025, 12, 31)),
            false,
        )
        .unwrap();
        assert_eq!(r.currencies["EUR"].base, 500.0);
        assert_eq!(r.currencies["EUR"].scenarios["parallel_up"].delta, 0.0);
    }

    /// A contract in a currency without a curve is listed with its reason.
    #[test]
    fn unvalued_contracts_are_listed() {
        let m = flat(0.02);
        let mut usd = bond("usd", 0.03, "RPA", 2);
        usd.currency = Some("USD".into());
        let r = eve_standard(
            &[usd, bond("eur", 0.03, "RPA", 2)],
            &m,
            &StandardSpec::default(),
            DateTime::midnight(Date::ymd(2025, 12, 31)),
            false,
        )
        .unwrap();
        assert_eq!(r.failed.len(), 1);
        assert!(r.failed[0].1.contains("USD"), "{:?}", r.failed);
        assert!(r.currencies.contains_key("EUR"));
    }
}
