//! Implied volatilities of interest-rate indices, for options on them (the caps and floors
//! embedded in floating-rate contracts, standalone caps and floors).
//!
//! One entry per index: a model (only `normal`, Bachelier, for now: rates can be negative, so
//! volatilities are absolute, in rate units per √year) and a flat volatility or a term
//! structure by option expiry. Expiries are years from the as-of date on ACT/365F; between
//! pillars the volatility is linear in expiry, outside them flat.
//!
//! Scenario snapshots carry the base's volatilities unchanged (they are cloned with the rest
//! of the snapshot); whoever needs a shocked volatility (the IRRBB KAO add-on's × 1.25)
//! applies it.

use almanac_math::{Interpolation, Interpolator};

/// The model a volatility is quoted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VolatilityModel {
    /// Normal (Bachelier): the forward rate moves by `σ·√τ·Z`; `σ` in rate units per √year
    /// (`0.0090` = 90 bp).
    #[default]
    Normal,
}

impl VolatilityModel {
    /// The model named `code` (`normal`; `bachelier` is accepted as its other name).
    pub fn from_code(code: &str) -> Option<VolatilityModel> {
        match code.to_ascii_lowercase().as_str() {
            "normal" | "bachelier" => Some(VolatilityModel::Normal),
            _ => None,
        }
    }

    /// The model's code.
    pub fn code(self) -> &'static str {
        match self {
            VolatilityModel::Normal => "normal",
        }
    }
}

/// The implied volatility of one index by option expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Volatility {
    index: String,
    model: VolatilityModel,
    /// Volatility by expiry in years: linear between points, flat outside them.
    by_expiry: Interpolator,
}

impl Volatility {
    /// A volatility of `index` flat in expiry.
    pub fn flat(index: &str, model: VolatilityModel, vol: f64) -> Result<Volatility, String> {
        Volatility::term_structure(index, model, vec![(0.0, vol)])
    }

    /// A term structure of `index`: `(expiry in years, volatility)` with increasing expiries;
    /// linear in expiry between points, flat outside. Volatilities must be finite and not
    /// negative.
    pub fn term_structure(
        index: &str,
        model: VolatilityModel,
        points: Vec<(f64, f64)>,
    ) -> Result<Volatility, String> {
        if points.is_empty() {
            return Err("no volatility given".into());
        }
        for (k, &(t, v)) in points.iter().enumerate() {
            if !(t.is_finite() && t >= 0.0) {
                return Err(format!(
                    "expiry {t} is not a time in years from the as-of date"
                ));
            }
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("volatility {v} is not a non-negative number"));
            }
            if k > 0 && t <= points[k - 1].0 {
                return Err("expiries must increase".into());
            }
        }
        let (expiries, vols) = points.into_iter().unzip();
        let by_expiry =
            Interpolator::new(Interpolation::Linear, expiries, vols).map_err(|e| e.to_string())?;
        Ok(Volatility {
            index: index.to_string(),
            model,
            by_expiry,
        })
    }

    /// The index.
    pub fn index(&self) -> &str {
        &self.index
    }

    /// The model.
    pub fn model(&self) -> VolatilityModel {
        self.model
    }

    /// The points `(expiry in years, volatility)` as given.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.by_expiry
            .xs()
            .iter()
            .copied()
            .zip(self.by_expiry.ys().iter().copied())
    }

    /// The volatility (rate units per √year) for an option expiring `t` years after the
    /// as-of date (ACT/365F): linear in `t` between points, flat before the first and after
    /// the last.
    pub fn at(&self, t: f64) -> f64 {
        self.by_expiry.value(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_interpolated() {
        let f = Volatility::flat("IDX", VolatilityModel::Normal, 0.009).unwrap();
        assert_eq!(f.at(0.0), 0.009);
        assert_eq!(f.at(30.0), 0.009);
        let ts = Volatility::term_structure(
            "IDX",
            VolatilityModel::Normal,
            vec![(1.0, 0.0085), (5.0, 0.0095)],
        )
        .unwrap();
        assert_eq!(ts.at(0.25), 0.0085);
        assert_eq!(ts.at(1.0), 0.0085);
        assert!((ts.at(3.0) - 0.0090).abs() < 1e-15);
        assert_eq!(ts.at(5.0), 0.0095);
        assert_eq!(ts.at(12.0), 0.0095);
    }

    #[test]
    fn refuses_bad_points() {
        let n = VolatilityModel::Normal;
        assert!(Volatility::flat("IDX", n, -0.001).is_err());
        assert!(Volatility::flat("IDX", n, f64::NAN).is_err());
        assert!(Volatility::term_structure("IDX", n, vec![]).is_err());
        assert!(Volatility::term_structure("IDX", n, vec![(2.0, 0.01), (1.0, 0.01)]).is_err());
        assert_eq!(VolatilityModel::from_code("Bachelier"), Some(n));
        assert_eq!(VolatilityModel::from_code("lognormal"), None);
    }
}
