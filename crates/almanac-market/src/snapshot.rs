//! The market snapshot: everything market-related that a run reads, for one as-of date.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// The projected index rates already asked for (see [`ForwardCache`]).
    forwards: ForwardCache,
}

/// The projected rates of a snapshot's indices by fixing day, each computed the first time it
/// is asked for: an IRRBB run asks a few thousand distinct fixings of its floating-rate
/// contracts millions of times (each projection interpolates the forecast curve twice and
/// takes two exponentials). A memo, not part of the snapshot's value: a clone starts empty,
/// every change to the snapshot empties it, and two snapshots compare equal whatever their
/// caches hold. The rates are the same, bit for bit, as computed afresh; an index that cannot
/// be projected is not cached (its error is computed again).
#[derive(Default)]
struct ForwardCache {
    /// Per index in name order: its name and, once it is first projected, a slot per day
    /// after the as-of date (up to [`ForwardCache::DAYS`]), [`ForwardCache::EMPTY`] until
    /// computed.
    #[allow(clippy::type_complexity)]
    tables: std::sync::OnceLock<Vec<(String, std::sync::OnceLock<Box<[AtomicU64]>>)>>,
}

impl ForwardCache {
    /// Fixing days cached after the as-of date (60 years).
    const DAYS: usize = 60 * 366;
    /// The bits of a slot not yet computed (a NaN no computation yields).
    const EMPTY: u64 = 0x7ff8_dead_beef_0001;

    /// The slot of `index` on the `day`-th day after the as-of date, if cached.
    fn slot(
        &self,
        indices: &BTreeMap<String, IndexDefinition>,
        index: &str,
        day: usize,
    ) -> Option<&AtomicU64> {
        if day >= Self::DAYS {
            return None;
        }
        let tables = self.tables.get_or_init(|| {
            indices
                .keys()
                .map(|name| (name.clone(), std::sync::OnceLock::new()))
                .collect()
        });
        let (_, slots) = tables.iter().find(|(name, _)| name == index)?;
        let slots = slots.get_or_init(|| {
            (0..Self::DAYS)
                .map(|_| AtomicU64::new(Self::EMPTY))
                .collect()
        });
        Some(&slots[day])
    }
}

impl Clone for ForwardCache {
    fn clone(&self) -> ForwardCache {
        ForwardCache::default()
    }
}

impl PartialEq for ForwardCache {
    fn eq(&self, _: &ForwardCache) -> bool {
        true
    }
}

impl std::fmt::Debug for ForwardCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForwardCache")
    }
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
            forwards: ForwardCache::default(),
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
        self.forwards = ForwardCache::default();
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
        self.forwards = ForwardCache::default();
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
        self.forwards = ForwardCache::default();
        self.check_date(&spread)?;
        self.spreads.insert(spread.id().to_string(), spread);
        Ok(())
    }

    /// Adds an index definition; its forecast curve must be in the snapshot.
    pub fn insert_index(&mut self, index: IndexDefinition) -> Result<(), MarketError> {
        self.forwards = ForwardCache::default();
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
        self.forwards = ForwardCache::default();
        self.fx.insert((base.to_string(), quote.to_string()), rate);
    }

    /// Adds a historical fixing of an index.
    pub fn insert_fixing(&mut self, index: &str, date: Date, rate: f64) {
        self.forwards = ForwardCache::default();
        let v = self.fixings.entry(index.to_string()).or_default();
        match v.binary_search_by_key(&date, |p| p.0) {
            Ok(i) => v[i].1 = rate,
            Err(i) => v.insert(i, (date, rate)),
        }
    }

    /// Adds (or replaces) the volatility of an index; the index must be defined.
    pub fn insert_volatility(&mut self, vol: Volatility) -> Result<(), MarketError> {
        self.forwards = ForwardCache::default();
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
        let day = usize::try_from(self.as_of.days_until(fixing_date)).unwrap_or(usize::MAX);
        let slot = self.forwards.slot(&self.indices, index, day);
        if let Some(bits) = slot
            .map(|s| s.load(Ordering::Relaxed))
            .filter(|b| *b != ForwardCache::EMPTY)
        {
            return Ok(f64::from_bits(bits));
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
        let rate = curve.simple_forward(fixing_date, end, accrual);
        if let Some(slot) = slot {
            slot.store(rate.to_bits(), Ordering::Relaxed);
        }
        Ok(rate)
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

    /// The projection asked afresh, without the cache.
    fn uncached(m: &MarketSnapshot, index: &str, d: Date) -> f64 {
        let def = &m.indices[index];
        let end = def.tenor.add_to(d, 1);
        m.curve(&def.forecast_curve).unwrap().simple_forward(
            d,
            end,
            def.day_count.year_fraction(d, end),
        )
    }

    #[test]
    fn cached_projections_are_the_computed_ones_and_follow_changes() {
        let mut m = snapshot();
        let as_of = m.as_of();
        // Every day of the cache and beyond it, twice (computed, then cached), bit for bit.
        let days: Vec<i32> = (1..ForwardCache::DAYS as i32 + 400).step_by(7).collect();
        for _ in 0..2 {
            for &k in &days {
                let d = as_of.add_days(k);
                assert_eq!(
                    m.index_rate("EURIBOR3M", d).unwrap().to_bits(),
                    uncached(&m, "EURIBOR3M", d).to_bits(),
                    "{d}"
                );
            }
        }
        assert!(m.index_rate("NOPE", as_of.add_days(10)).is_err());
        let d = Date::ymd(2030, 3, 15);
        let before = m.index_rate("EURIBOR3M", d).unwrap();
        // A shifted copy (scenarios) projects from its own curves, not the cache it was
        // cloned from.
        let shifted = m.map_curves(|c| c.map_pillars(|_, z| z + 0.01)).unwrap();
        let up = shifted.index_rate("EURIBOR3M", d).unwrap();
        assert!(up > before + 0.009, "{before} {up}");
        assert_eq!(up.to_bits(), uncached(&shifted, "EURIBOR3M", d).to_bits());
        assert_eq!(shifted.clone(), shifted);
        // Replacing the forecast curve empties the cache.
        let flat = Curve::from_zero_rates(
            "EUR-EURIBOR3M",
            "EUR",
            as_of,
            DayCount::Act365Fixed,
            CurveInterpolation::LinearZero,
            vec![1.0],
            vec![0.05],
        )
        .unwrap();
        m.insert_curve(flat).unwrap();
        let after = m.index_rate("EURIBOR3M", d).unwrap();
        assert_ne!(after, before);
        assert_eq!(after.to_bits(), uncached(&m, "EURIBOR3M", d).to_bits());
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
