//! The market snapshot: everything market-related that a run reads, for one as-of date.

use std::collections::BTreeMap;

use almanac_time::{Date, DayCount, Period};

use crate::curve::Curve;
use crate::error::{CurveError, MarketError};
use crate::volatility::Volatility;

/// An interest-rate index (EURIBOR 3M, €STR, SOFR…): which curve projects it, its tenor and
/// the day count its rate accrues on.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDefinition {
    /// Index name as contracts refer to it (ACTUS `marketObjectCodeOfRateReset`).
    pub name: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Identifier of the forecasting curve.
    pub forecast_curve: String,
    /// Tenor of the rate (e.g. 3M; 1D for overnight indices).
    pub tenor: Period,
    /// Accrual day count of the quoted rate.
    pub day_count: DayCount,
}

/// Curves, spreads, FX rates, index definitions, fixings and index volatilities for one as-of
/// date. Built once, then only read; scenarios derive new snapshots from it (keeping its
/// volatilities as they are).
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSnapshot {
    as_of: Date,
    curves: BTreeMap<String, Curve>,
    discount: BTreeMap<String, String>,
    spreads: BTreeMap<String, Curve>,
    indices: BTreeMap<String, IndexDefinition>,
    fx: BTreeMap<(String, String), f64>,
    fixings: BTreeMap<String, Vec<(Date, f64)>>,
    volatilities: BTreeMap<String, Volatility>,
}

impl MarketSnapshot {
    /// An empty snapshot for `as_of`.
    pub fn new(as_of: Date) -> MarketSnapshot {
        MarketSnapshot {
            as_of,
            curves: BTreeMap::new(),
            discount: BTreeMap::new(),
            spreads: BTreeMap::new(),
            indices: BTreeMap::new(),
            fx: BTreeMap::new(),
            fixings: BTreeMap::new(),
            volatilities: BTreeMap::new(),
        }
    }

    /// The as-of date.
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    fn check_date(&self, curve: &Curve) -> Result<(), CurveError> {
        if curve.as_of() != self.as_of {
            return Err(CurveError::Invalid {
                curve: curve.id().to_string(),
                reason: format!(
                    "is as of {} but the snapshot is as of {}",
                    curve.as_of(),
                    self.as_of
                ),
            });
        }
        Ok(())
    }

    /// Adds (or replaces) a curve. The first curve of a currency becomes its discount curve
    /// unless [`MarketSnapshot::set_discount_curve`] says otherwise.
    pub fn insert_curve(&mut self, curve: Curve) -> Result<(), CurveError> {
        self.check_date(&curve)?;
        self.discount
            .entry(curve.currency().to_string())
            .or_insert_with(|| curve.id().to_string());
        self.curves.insert(curve.id().to_string(), curve);
        Ok(())
    }

    /// Sets the discount curve of a currency.
    pub fn set_discount_curve(
        &mut self,
        currency: &str,
        curve_id: &str,
    ) -> Result<(), MarketError> {
        if !self.curves.contains_key(curve_id) {
            return Err(MarketError::Unknown {
                what: "curve",
                name: curve_id.to_string(),
            });
        }
        self.discount
            .insert(currency.to_string(), curve_id.to_string());
        Ok(())
    }

    /// Adds a spread curve (zero spreads over a base curve, continuously compounded).
    pub fn insert_spread(&mut self, spread: Curve) -> Result<(), CurveError> {
        self.check_date(&spread)?;
        self.spreads.insert(spread.id().to_string(), spread);
        Ok(())
    }

    /// Adds an index definition; its forecast curve must be in the snapshot.
    pub fn insert_index(&mut self, index: IndexDefinition) -> Result<(), MarketError> {
        if !self.curves.contains_key(&index.forecast_curve) {
            return Err(MarketError::Unknown {
                what: "curve",
                name: index.forecast_curve.clone(),
            });
        }
        self.indices.insert(index.name.clone(), index);
        Ok(())
    }

    /// Sets the FX rate `base/quote` (units of `quote` per unit of `base`).
    pub fn insert_fx(&mut self, base: &str, quote: &str, rate: f64) {
        self.fx.insert((base.to_string(), quote.to_string()), rate);
    }

    /// Adds a historical fixing of an index.
    pub fn insert_fixing(&mut self, index: &str, date: Date, rate: f64) {
        let v = self.fixings.entry(index.to_string()).or_default();
        match v.binary_search_by_key(&date, |p| p.0) {
            Ok(i) => v[i].1 = rate,
            Err(i) => v.insert(i, (date, rate)),
        }
    }

    /// Adds (or replaces) the volatility of an index; the index must be defined.
    pub fn insert_volatility(&mut self, vol: Volatility) -> Result<(), MarketError> {
        if !self.indices.contains_key(vol.index()) {
            return Err(MarketError::Unknown {
                what: "index",
                name: vol.index().to_string(),
            });
        }
        self.volatilities.insert(vol.index().to_string(), vol);
        Ok(())
    }

    /// The volatility of an index, if the snapshot has one.
    pub fn volatility(&self, index: &str) -> Option<&Volatility> {
        self.volatilities.get(index)
    }

    /// All index volatilities.
    pub fn volatilities(&self) -> impl Iterator<Item = &Volatility> {
        self.volatilities.values()
    }

    /// A curve by identifier.
    pub fn curve(&self, id: &str) -> Result<&Curve, MarketError> {
        self.curves.get(id).ok_or_else(|| MarketError::Unknown {
            what: "curve",
            name: id.to_string(),
        })
    }

    /// All curves, by identifier.
    pub fn curves(&self) -> impl Iterator<Item = &Curve> {
        self.curves.values()
    }

    /// The discount curve of a currency.
    pub fn discount_curve(&self, currency: &str) -> Result<&Curve, MarketError> {
        let id = self
            .discount
            .get(currency)
            .ok_or_else(|| MarketError::Unknown {
                what: "discount curve for currency",
                name: currency.to_string(),
            })?;
        self.curve(id)
    }

    /// Currencies that have a discount curve.
    pub fn currencies(&self) -> impl Iterator<Item = &str> {
        self.discount.keys().map(String::as_str)
    }

    /// A spread curve by identifier.
    pub fn spread(&self, id: &str) -> Result<&Curve, MarketError> {
        self.spreads.get(id).ok_or_else(|| MarketError::Unknown {
            what: "spread curve",
            name: id.to_string(),
        })
    }

    /// All spread curves.
    pub fn spreads(&self) -> impl Iterator<Item = &Curve> {
        self.spreads.values()
    }

    /// Index definitions.
    pub fn indices(&self) -> impl Iterator<Item = &IndexDefinition> {
        self.indices.values()
    }

    /// FX rates as given.
    pub fn fx_rates(&self) -> impl Iterator<Item = (&str, &str, f64)> {
        self.fx
            .iter()
            .map(|((b, q), r)| (b.as_str(), q.as_str(), *r))
    }

    /// All fixings of every index.
    pub fn fixings(&self) -> impl Iterator<Item = (&str, &[(Date, f64)])> {
        self.fixings.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The FX rate `base/quote`: given directly, as the inverse of `quote/base`, or crossed
    /// through one other currency. 1 for equal currencies.
    pub fn fx(&self, base: &str, quote: &str) -> Result<f64, MarketError> {
        if base == quote {
            return Ok(1.0);
        }
        let direct = |b: &str, q: &str| -> Option<f64> {
            if let Some(r) = self.fx.get(&(b.to_string(), q.to_string())) {
                return Some(*r);
            }
            self.fx
                .get(&(q.to_string(), b.to_string()))
                .map(|r| 1.0 / r)
        };
        if let Some(r) = direct(base, quote) {
            return Ok(r);
        }
        let mut vias: Vec<&str> = self
            .fx
            .keys()
            .flat_map(|(b, q)| [b.as_str(), q.as_str()])
            .collect();
        vias.sort_unstable();
        vias.dedup();
        for via in vias {
            if let (Some(a), Some(b)) = (direct(base, via), direct(via, quote)) {
                return Ok(a * b);
            }
        }
        Err(MarketError::Unknown {
            what: "FX rate",
            name: format!("{base}/{quote}"),
        })
    }

    /// The rate of `index` fixed on `fixing_date`: the stored fixing (the last one on or
    /// before the date) when the date is on or before the as-of date, else the forward rate
    /// for `fixing_date .. fixing_date + tenor` from the index's forecast curve (simple
    /// compounding on the index day count).
    pub fn index_rate(&self, index: &str, fixing_date: Date) -> Result<f64, MarketError> {
        if fixing_date <= self.as_of {
            let series = self
                .fixings
                .get(index)
                .ok_or_else(|| MarketError::Unknown {
                    what: "fixings of index",
                    name: index.to_string(),
                })?;
            let i = series.partition_point(|p| p.0 <= fixing_date);
            return if i == 0 {
                Err(MarketError::Unknown {
                    what: "fixing on or before",
                    name: format!("{fixing_date} of {index}"),
                })
            } else {
                Ok(series[i - 1].1)
            };
        }
        let def = self
            .indices
            .get(index)
            .ok_or_else(|| MarketError::Unknown {
                what: "index",
                name: index.to_string(),
            })?;
        let curve = self.curve(&def.forecast_curve)?;
        let end = def.tenor.add_to(fixing_date, 1);
        let accrual = def.day_count.year_fraction(fixing_date, end);
        Ok(curve.simple_forward(fixing_date, end, accrual))
    }

    /// A new snapshot with every curve passed through `f`; spreads, FX rates, indices,
    /// fixings and volatilities are kept. Used by scenarios.
    pub fn map_curves(
        &self,
        mut f: impl FnMut(&Curve) -> Result<Curve, CurveError>,
    ) -> Result<MarketSnapshot, CurveError> {
        let mut out = self.clone();
        for (id, c) in &self.curves {
            out.curves.insert(id.clone(), f(c)?);
        }
        Ok(out)
    }

    /// A new snapshot with spread curves passed through `f`.
    pub fn map_spreads(
        &self,
        mut f: impl FnMut(&Curve) -> Result<Curve, CurveError>,
    ) -> Result<MarketSnapshot, CurveError> {
        let mut out = self.clone();
        for (id, c) in &self.spreads {
            out.spreads.insert(id.clone(), f(c)?);
        }
        Ok(out)
    }

    /// A new snapshot with FX rates passed through `f(base, quote, rate)`.
    pub fn map_fx(&self, mut f: impl FnMut(&str, &str, f64) -> f64) -> MarketSnapshot {
        let mut out = self.clone();
        for ((b, q), r) in out.fx.iter_mut() {
            *r = f(b, q, *r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::CurveInterpolation;

    fn snapshot() -> MarketSnapshot {
        let as_of = Date::ymd(2025, 12, 31);
        let mut m = MarketSnapshot::new(as_of);
        let c = Curve::from_zero_rates(
            "EUR-EURIBOR3M",
            "EUR",
            as_of,
            DayCount::Act365Fixed,
            CurveInterpolation::LinearZero,
            vec![0.25, 10.0],
            vec![0.02, 0.03],
        )
        .unwrap();
        m.insert_curve(c).unwrap();
        m.insert_index(IndexDefinition {
            name: "EURIBOR3M".into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-EURIBOR3M".into(),
            tenor: "3M".parse().unwrap(),
            day_count: DayCount::Act360,
        })
        .unwrap();
        m.insert_fixing("EURIBOR3M", Date::ymd(2025, 12, 30), 0.0205);
        m.insert_fx("EUR", "USD", 1.08);
        m.insert_fx("EUR", "GBP", 0.86);
        m
    }

    #[test]
    fn fx_direct_inverse_and_cross() {
        let m = snapshot();
        assert_eq!(m.fx("EUR", "USD").unwrap(), 1.08);
        assert!((m.fx("USD", "EUR").unwrap() - 1.0 / 1.08).abs() < 1e-15);
        assert!((m.fx("GBP", "USD").unwrap() - 1.08 / 0.86).abs() < 1e-15);
        assert!(m.fx("JPY", "USD").is_err());
    }

    #[test]
    fn index_rate_is_fixing_then_forward() {
        let m = snapshot();
        assert_eq!(
            m.index_rate("EURIBOR3M", Date::ymd(2025, 12, 31)).unwrap(),
            0.0205
        );
        assert!(m.index_rate("EURIBOR3M", Date::ymd(2025, 12, 1)).is_err());
        let start = Date::ymd(2026, 6, 30);
        let end = Date::ymd(2026, 9, 30);
        let c = m.curve("EUR-EURIBOR3M").unwrap();
        let expected = (c.discount_at(start) / c.discount_at(end) - 1.0) / (92.0 / 360.0);
        assert!((m.index_rate("EURIBOR3M", start).unwrap() - expected).abs() < 1e-15);
    }

    #[test]
    fn curve_date_must_match() {
        let mut m = snapshot();
        let other = Curve::from_zero_rates(
            "X",
            "EUR",
            Date::ymd(2025, 6, 30),
            DayCount::Act365Fixed,
            CurveInterpolation::LinearZero,
            vec![1.0],
            vec![0.01],
        )
        .unwrap();
        assert!(m.insert_curve(other).is_err());
        assert_eq!(m.discount_curve("EUR").unwrap().id(), "EUR-EURIBOR3M");
    }
}
