//! Sensitivities of a portfolio's value to its currency's curves: PV01 (all curves of the
//! currency up 1 bp at their pillars), key-rate PV01 (one pillar at a time), and the
//! effective duration and convexity from ±1 bp. Contracts are re-evaluated on every bumped
//! market, so floating resets move with the bump ("effective" measures).
//!
//! Units: PV01 in currency units per +1 bp (negative for a fixed-rate asset); duration in
//! years; convexity in years².

use almanac_actus::{ContractEvent, ContractTerms};
use almanac_market::{CurveError, MarketSnapshot};
use almanac_time::DateTime;
use rayon::prelude::*;

use super::run::{discount, evaluate_on};

/// One basis point.
pub const BP: f64 = 1e-4;

/// Sensitivities of one currency's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sensitivities {
    /// Currency.
    pub currency: String,
    /// Value on the base market.
    pub value: f64,
    /// Value change for +1 bp on every curve of the currency.
    pub pv01: f64,
    /// Key-rate PV01 by pillar of the currency's discount curve: `(pillar in years, change)`.
    pub key_rate_pv01: Vec<(f64, f64)>,
    /// `−(V₊ − V₋) / (2 V Δ)`.
    pub effective_duration: f64,
    /// `(V₊ + V₋ − 2V) / (V Δ²)`.
    pub effective_convexity: f64,
    /// Contracts that could not be valued.
    pub failed: Vec<(String, String)>,
}

/// The contracts' values in `ccy` on each market, in market order, with the contracts that
/// could not be valued. Each contract is evaluated once and only re-evaluated on the other
/// markets when it reads market data (floating resets); otherwise it is re-discounted.
pub(super) fn values(
    contracts: &[ContractTerms],
    markets: &[MarketSnapshot],
    ccy: &str,
    as_of: DateTime,
) -> (Vec<f64>, Vec<(String, String)>) {
    let per_contract: Vec<Result<Vec<f64>, String>> = contracts
        .par_iter()
        .map_init(Vec::<ContractEvent>::new, |buf, t| {
            let reads_market = evaluate_on(t, &markets[0], buf)?;
            let mut out = Vec::with_capacity(markets.len());
            for (k, m) in markets.iter().enumerate() {
                if k > 0 && reads_market {
                    evaluate_on(t, m, buf)?;
                }
                out.push(discount(t, buf, m, as_of)?.get(ccy).copied().unwrap_or(0.0));
            }
            Ok(out)
        })
        .collect();
    let mut totals = vec![0.0; markets.len()];
    let mut failed = Vec::new();
    for (t, r) in contracts.iter().zip(per_contract) {
        match r {
            Ok(v) => totals.iter_mut().zip(v).for_each(|(a, b)| *a += b),
            Err(e) => failed.push((t.id().to_string(), e)),
        }
    }
    (totals, failed)
}

/// The market with every curve of `ccy` shifted by `dr` at all pillars, or only at pillar
/// `only` of the curve `curve_id`.
pub(super) fn bumped(
    m: &MarketSnapshot,
    ccy: &str,
    dr: f64,
    only: Option<(&str, usize)>,
) -> Result<MarketSnapshot, CurveError> {
    m.map_curves(|c| {
        if c.currency() != ccy {
            return Ok(c.clone());
        }
        match only {
            None => c.map_pillars(|_, r| r + dr),
            Some((id, k)) if id == c.id() => {
                let mut z = c.pillar_zero_rates().to_vec();
                z[k] += dr;
                c.with_zero_rates(z)
            }
            Some(_) => Ok(c.clone()),
        }
    })
}

/// Sensitivities of the contracts' value in `ccy` (flows in that currency).
pub fn sensitivities(
    contracts: &[ContractTerms],
    base: &MarketSnapshot,
    ccy: &str,
    as_of: DateTime,
) -> Result<Sensitivities, CurveError> {
    // Markets: base, all curves ±1 bp, then each pillar of the discount curve +1 bp.
    let mut markets = vec![
        base.clone(),
        bumped(base, ccy, BP, None)?,
        bumped(base, ccy, -BP, None)?,
    ];
    let mut pillars = Vec::new();
    if let Ok(curve) = base.discount_curve(ccy) {
        for (k, &t) in curve.pillars().iter().enumerate() {
            markets.push(bumped(base, ccy, BP, Some((curve.id(), k)))?);
            pillars.push(t);
        }
    }
    let (v, failed) = values(contracts, &markets, ccy, as_of);
    Ok(assemble(ccy, &v, &pillars, failed))
}

/// The sensitivities from the values on [base, all +1 bp, all −1 bp, pillar k +1 bp…].
pub(super) fn assemble(
    ccy: &str,
    v: &[f64],
    pillars: &[f64],
    failed: Vec<(String, String)>,
) -> Sensitivities {
    let (v0, up, down) = (v[0], v[1], v[2]);
    let key_rate_pv01 = pillars
        .iter()
        .zip(&v[3..])
        .map(|(t, x)| (*t, x - v0))
        .collect();
    let (duration, convexity) = if v0 == 0.0 {
        (0.0, 0.0)
    } else {
        (
            -(up - down) / (2.0 * v0 * BP),
            (up + down - 2.0 * v0) / (v0 * BP * BP),
        )
    };
    Sensitivities {
        currency: ccy.to_string(),
        value: v0,
        pv01: up - v0,
        key_rate_pv01,
        effective_duration: duration,
        effective_convexity: convexity,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_market::CurveInterpolation;
    use almanac_time::Date;

    fn market() -> MarketSnapshot {
        crate::irrbb::testkit::eur_market(
            "EUR-ESTR",
            CurveInterpolation::LinearZero,
            &[1.0, 2.0, 5.0, 10.0, 30.0],
            &[0.02, 0.021, 0.023, 0.025, 0.026],
        )
    }

    fn zero_coupon(years: i32) -> ContractTerms {
        serde_json::from_str(&format!(
            r#"{{"contractType":"PAM","contractID":"z{years}","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31",
            "maturityDate":"{}-12-31","notionalPrincipal":1000000,"nominalInterestRate":0.0,
            "dayCountConvention":"A365"}}"#,
            2025 + years
        ))
        .unwrap()
    }

    /// A zero-coupon bond: duration = its time to maturity, convexity = its square, PV01 =
    /// −T·V·1bp (continuous compounding); key-rate PV01s add up to the PV01 (linear zero
    /// interpolation), and sit on the pillars around the maturity.
    #[test]
    fn zero_coupon_duration_convexity_and_key_rates() {
        let m = market();
        let as_of = DateTime::midnight(Date::ymd(2025, 12, 31));
        let z = zero_coupon(7);
        let s = sensitivities(std::slice::from_ref(&z), &m, "EUR", as_of).unwrap();
        let t = f64::from(Date::ymd(2025, 12, 31).days_until(Date::ymd(2032, 12, 31))) / 365.0;
        assert!(
            (s.effective_duration - t).abs() < 1e-6,
            "{}",
            s.effective_duration
        );
        assert!(
            (s.effective_convexity - t * t).abs() < 1e-3,
            "{}",
            s.effective_convexity
        );
        let exact = s.value * (-BP * t).exp_m1();
        assert!((s.pv01 - exact).abs() < 1e-6 * s.value.abs());
        let sum: f64 = s.key_rate_pv01.iter().map(|k| k.1).sum();
        // Equal to first order: the second-order difference is about V·T²·bp²·w₁·w₂.
        assert!(
            (sum - s.pv01).abs() < 1e-3 * s.pv01.abs(),
            "{sum} vs {}",
            s.pv01
        );
        let nonzero: Vec<f64> = s
            .key_rate_pv01
            .iter()
            .filter(|k| k.1.abs() > 1e-9)
            .map(|k| k.0)
            .collect();
        assert_eq!(nonzero, vec![5.0, 10.0]);
    }
}
