//! The six standardised IRRBB scenarios applied to a market snapshot: each interest-rate
//! curve of a currency receives that currency's shock (risk-free and projection curves alike;
//! spread curves, FX rates and fixings are left as they are), then the post-shock floor.
//!
//! Two ways to apply a shock ([`ShockMode`]):
//! * **Pillars** (default): the shift is added to the zero rate at each pillar and the curve is
//!   re-interpolated with its own method.
//! * **Continuous**: the shift (and floor) is evaluated at every time `t` the curve is asked
//!   for, exactly as the shape formulas define it.
//!
//! The six shapes are all of the form `level + slope · exp(−t/x)` (SRP31.91), so a continuous
//! shock is held as data ([`almanac_market::Shift::Exponential`]) and checked against
//! [`crate::irrbb::shift_with_decay`] in the tests.

use std::collections::BTreeMap;

use almanac_market::{Curve, CurveError, Floor as CurveFloor, MarketSnapshot, Overlay, Shift};

use crate::irrbb::{
    apply_floor, shift_with_decay, shock_sizes, Calibration, DecayConstant, Floor, Scenario,
    ShockSizes,
};

/// How a shock is applied to a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ShockMode {
    /// Shift the zero rates at the pillars and re-interpolate.
    #[default]
    Pillars,
    /// Evaluate the shift and floor at any time.
    Continuous,
}

/// What the standardised scenarios are built from.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardSpec {
    /// Shock-size table.
    pub calibration: Calibration,
    /// Post-shock floor.
    pub floor: Floor,
    /// Decay constant of the short and long shapes.
    pub decay: DecayConstant,
    /// Pillars or continuous.
    pub mode: ShockMode,
    /// Sizes for currencies outside the table (e.g. derived from a rate history), or
    /// overriding it.
    pub sizes: BTreeMap<String, ShockSizes>,
}

impl Default for StandardSpec {
    fn default() -> Self {
        StandardSpec {
            calibration: Calibration::Bcbs2016,
            floor: Floor::None,
            decay: DecayConstant::BASEL,
            mode: ShockMode::Pillars,
            sizes: BTreeMap::new(),
        }
    }
}

/// Why the standardised scenarios cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StandardError {
    /// No shock sizes for a currency of the snapshot.
    #[error(
        "no shock sizes for currency {currency} in calibration {calibration}: give its sizes \
         or derive them from a rate history"
    )]
    MissingShockTable {
        /// The currency.
        currency: String,
        /// The calibration asked for.
        calibration: Calibration,
    },
    /// A shocked curve is invalid.
    #[error(transparent)]
    Curve(#[from] CurveError),
}

impl StandardSpec {
    /// The shock sizes of `currency`: the override, else the calibration's table.
    pub fn sizes_for(&self, currency: &str) -> Result<ShockSizes, StandardError> {
        self.sizes
            .get(currency)
            .copied()
            .or_else(|| shock_sizes(self.calibration, currency))
            .ok_or_else(|| StandardError::MissingShockTable {
                currency: currency.to_string(),
                calibration: self.calibration,
            })
    }
}

/// `(level, slope)` of the shape `level + slope · exp(−t/x)` of a scenario, in decimals.
pub fn exponential_form(scenario: Scenario, sizes: &ShockSizes) -> (f64, f64) {
    let bp = |v: u32| f64::from(v) / 10_000.0;
    let (p, s, l) = (bp(sizes.parallel_bp), bp(sizes.short_bp), bp(sizes.long_bp));
    match scenario {
        Scenario::ParallelUp => (p, 0.0),
        Scenario::ParallelDown => (-p, 0.0),
        Scenario::ShortUp => (0.0, s),
        Scenario::ShortDown => (0.0, -s),
        // −0.65·S·e + 0.9·L·(1 − e)
        Scenario::Steepener => (0.9 * l, -0.65 * s - 0.9 * l),
        // +0.8·S·e − 0.6·L·(1 − e)
        Scenario::Flattener => (-0.6 * l, 0.8 * s + 0.6 * l),
    }
}

fn curve_floor(floor: Floor) -> Option<CurveFloor> {
    match floor {
        Floor::None => None,
        Floor::Zero => Some(CurveFloor {
            at_zero: 0.0,
            per_year: 0.0,
            max: 0.0,
        }),
        Floor::Eu => Some(CurveFloor {
            at_zero: -0.015,
            per_year: 0.0003,
            max: 0.0,
        }),
    }
}

/// One curve under one scenario.
pub fn shock_curve(
    curve: &Curve,
    scenario: Scenario,
    sizes: &ShockSizes,
    spec: &StandardSpec,
) -> Result<Curve, CurveError> {
    match spec.mode {
        ShockMode::Pillars => curve.map_pillars(|t, r| {
            apply_floor(
                spec.floor,
                t,
                r,
                r + shift_with_decay(scenario, sizes, t, spec.decay),
            )
        }),
        ShockMode::Continuous => {
            let (level, slope) = exponential_form(scenario, sizes);
            Ok(curve.with_overlay(Overlay {
                shift: Shift::Exponential {
                    level,
                    slope,
                    decay: spec.decay.years(),
                },
                floor: curve_floor(spec.floor),
            }))
        }
    }
}

/// The snapshot under one standardised scenario: every curve shocked with its currency's sizes.
pub fn apply(
    base: &MarketSnapshot,
    scenario: Scenario,
    spec: &StandardSpec,
) -> Result<MarketSnapshot, StandardError> {
    // Check every currency first so a missing table is reported as such.
    for c in base.curves() {
        spec.sizes_for(c.currency())?;
    }
    Ok(base.map_curves(|c| {
        let sizes = spec
            .sizes_for(c.currency())
            .map_err(|e| CurveError::Invalid {
                curve: c.id().to_string(),
                reason: e.to_string(),
            })?;
        shock_curve(c, scenario, &sizes, spec)
    })?)
}

/// The six standardised scenarios, in the regulatory order.
pub fn apply_all(
    base: &MarketSnapshot,
    spec: &StandardSpec,
) -> Result<Vec<(Scenario, MarketSnapshot)>, StandardError> {
    Scenario::ALL
        .into_iter()
        .map(|s| apply(base, s, spec).map(|m| (s, m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_market::CurveInterpolation;
    use almanac_time::{Date, DayCount};

    fn snapshot(currency: &str) -> MarketSnapshot {
        let as_of = Date::ymd(2025, 12, 31);
        let mut m = MarketSnapshot::new(as_of);
        let times = vec![0.25, 1.0, 3.5, 10.0, 30.0];
        let zeros = vec![0.001, 0.004, 0.01, 0.015, 0.02];
        m.insert_curve(
            Curve::from_zero_rates(
                &format!("{currency}-OIS"),
                currency,
                as_of,
                DayCount::Act365Fixed,
                CurveInterpolation::LinearZero,
                times,
                zeros,
            )
            .unwrap(),
        )
        .unwrap();
        m
    }

    /// The data form of each shape equals the formula at every t, for both tables.
    #[test]
    fn exponential_form_matches_the_formulas() {
        for ccy in ["EUR", "USD", "JPY", "GBP"] {
            for cal in [Calibration::Bcbs2016, Calibration::Bcbs2024] {
                let sizes = shock_sizes(cal, ccy).unwrap();
                for s in Scenario::ALL {
                    let (level, slope) = exponential_form(s, &sizes);
                    for t in [0.0, 0.0028, 0.5, 3.5, 12.5, 25.0, 60.0] {
                        let direct = shift_with_decay(s, &sizes, t, DecayConstant::BASEL);
                        let data = level + slope * (-t / 4.0).exp();
                        assert!((direct - data).abs() < 1e-15, "{ccy} {s} {t}");
                    }
                }
            }
        }
    }

    /// SRP31.92 check values through the whole chain (JPY, continuous mode, t = 3.5 years).
    #[test]
    fn official_check_values_through_the_snapshot() {
        let base = snapshot("JPY");
        let spec = StandardSpec {
            mode: ShockMode::Continuous,
            ..StandardSpec::default()
        };
        let t = 3.5;
        let r0 = base.curve("JPY-OIS").unwrap().zero(t);
        let shifted = |s: Scenario| {
            let m = apply(&base, s, &spec).unwrap();
            (m.curve("JPY-OIS").unwrap().zero(t) - r0) * 10_000.0
        };
        assert!((shifted(Scenario::ShortUp) - 41.69).abs() < 0.005);
        assert!((shifted(Scenario::Steepener) - 25.39).abs() < 0.005);
        assert!((shifted(Scenario::Flattener) - -1.64).abs() < 0.005);
    }

    /// Pillar mode shifts the pillars exactly and applies the floor there; continuous mode
    /// agrees with it at the pillars.
    #[test]
    fn pillar_and_continuous_agree_at_pillars() {
        let base = snapshot("EUR");
        for floor in [Floor::None, Floor::Zero, Floor::Eu] {
            for s in Scenario::ALL {
                let p = StandardSpec {
                    floor,
                    ..StandardSpec::default()
                };
                let c = StandardSpec {
                    floor,
                    mode: ShockMode::Continuous,
                    ..StandardSpec::default()
                };
                let a = apply(&base, s, &p).unwrap();
                let b = apply(&base, s, &c).unwrap();
                let (ca, cb) = (a.curve("EUR-OIS").unwrap(), b.curve("EUR-OIS").unwrap());
                for &t in ca.pillars() {
                    assert!((ca.zero(t) - cb.zero(t)).abs() < 1e-15, "{floor} {s} {t}");
                }
            }
        }
        // EUR parallel down 200 bp with the EU floor: at 0.25y base 0.1 %, floor −1.4925 %.
        let m = apply(
            &base,
            Scenario::ParallelDown,
            &StandardSpec {
                floor: Floor::Eu,
                ..StandardSpec::default()
            },
        )
        .unwrap();
        let z = m.curve("EUR-OIS").unwrap().pillar_zero_rates()[0];
        assert!((z - (-0.015 + 0.0003 * 0.25)).abs() < 1e-15);
    }

    /// Every scenario snapshot keeps the base's index volatilities as they are (the IRRBB
    /// KAO add-on applies its × 1.25 itself).
    #[test]
    fn scenarios_keep_the_volatilities() {
        let mut base = snapshot("EUR");
        base.insert_index(almanac_market::IndexDefinition {
            name: "EURIBOR3M".into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-OIS".into(),
            tenor: "3M".parse().unwrap(),
            day_count: DayCount::Act360,
        })
        .unwrap();
        let vol = almanac_market::Volatility::term_structure(
            "EURIBOR3M",
            almanac_market::VolatilityModel::Normal,
            vec![(1.0, 0.0085), (5.0, 0.0095)],
        )
        .unwrap();
        base.insert_volatility(vol.clone()).unwrap();
        for (s, m) in apply_all(&base, &StandardSpec::default()).unwrap() {
            assert_eq!(m.volatility("EURIBOR3M"), Some(&vol), "{s}");
            assert_ne!(m.curve("EUR-OIS").unwrap(), base.curve("EUR-OIS").unwrap());
        }
    }

    #[test]
    fn missing_table_is_an_error() {
        let base = snapshot("NOK");
        let e = apply(&base, Scenario::ParallelUp, &StandardSpec::default()).unwrap_err();
        assert!(e.to_string().contains("NOK"), "{e}");
        let mut spec = StandardSpec::default();
        spec.sizes
            .insert("NOK".into(), ShockSizes::new(200, 250, 150));
        assert!(apply(&base, Scenario::ParallelUp, &spec).is_ok());
    }
}
