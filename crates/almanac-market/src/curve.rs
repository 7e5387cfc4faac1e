//! Interest-rate curves: zero rates at pillars, interpolated, with discount factors and
//! forward rates for any period.
//!
//! Conventions (stated once, used everywhere):
//! * Time `t` is in years from the curve's as-of date, measured with the curve's day count
//!   (`Curve::time`). Pillars are times.
//! * Rates are decimals. Internally every zero rate is **continuously compounded**:
//!   `DF(t) = exp(−r(t)·t)`. Input rates in another [`Compounding`] are converted at the pillars.
//! * Interpolation ([`CurveInterpolation`]) is on continuously compounded zero rates (linear,
//!   monotone cubic), on `ln DF` (log-linear) or on forwards (Hagan–West monotone convex).
//!   Beyond the pillars the zero rate is flat (the first pillar's before it, the last one's
//!   after it); monotone convex interpolates from t = 0 to the first pillar as well.
//! * An [`Overlay`] adds a shift to the zero rate at any time (a scenario evaluated at `t`
//!   instead of at the pillars) and optionally floors the result.

use almanac_math::{Interpolation, Interpolator};
use almanac_time::{Date, DayCount};

use crate::error::CurveError;

/// How a quoted rate compounds. Year fractions come from the curve's day count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compounding {
    /// `DF = exp(−r·t)`.
    #[default]
    Continuous,
    /// `DF = 1 / (1 + r·t)`.
    Simple,
    /// `DF = (1 + r/n)^(−n·t)` with `n` compounding periods per year (1, 2, 4, 12).
    Periodic(u32),
}

impl Compounding {
    /// The continuously compounded rate equivalent to `rate` over `t` years.
    pub fn to_continuous(self, rate: f64, t: f64) -> f64 {
        match self {
            Compounding::Continuous => rate,
            Compounding::Simple if t > 0.0 => (rate * t).ln_1p() / t,
            Compounding::Simple => rate,
            Compounding::Periodic(n) => {
                let n = f64::from(n);
                n * (rate / n).ln_1p()
            }
        }
    }

    /// The rate in this compounding equivalent to the continuous rate `rc` over `t` years.
    pub fn from_continuous(self, rc: f64, t: f64) -> f64 {
        match self {
            Compounding::Continuous => rc,
            Compounding::Simple if t > 0.0 => (rc * t).exp_m1() / t,
            Compounding::Simple => rc,
            Compounding::Periodic(n) => {
                let n = f64::from(n);
                n * (rc / n).exp_m1()
            }
        }
    }

    /// Parses `continuous`, `simple`, `annual`, `semiannual`, `quarterly`, `monthly`.
    pub fn from_code(code: &str) -> Option<Compounding> {
        Some(match code.trim().to_ascii_lowercase().as_str() {
            "continuous" => Compounding::Continuous,
            "simple" => Compounding::Simple,
            "annual" => Compounding::Periodic(1),
            "semiannual" | "semi-annual" => Compounding::Periodic(2),
            "quarterly" => Compounding::Periodic(4),
            "monthly" => Compounding::Periodic(12),
            _ => return None,
        })
    }
}

/// How a curve interpolates between pillars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CurveInterpolation {
    /// Linear in the continuously compounded zero rate (the default).
    #[default]
    LinearZero,
    /// Linear in `ln DF` (piecewise constant forward rates).
    LogLinearDiscount,
    /// Monotone cubic (Fritsch–Carlson) in the zero rate.
    MonotoneCubicZero,
    /// Hagan–West monotone convex: continuous, positive-preserving forwards that reproduce the
    /// pillars' discrete forwards (Hagan & West, *Interpolation methods for curve
    /// construction*, Applied Mathematical Finance 2006).
    MonotoneConvex,
}

impl CurveInterpolation {
    /// Parses `linear_zero`, `log_linear_discount`, `monotone_cubic`, `monotone_convex`.
    pub fn from_code(code: &str) -> Option<CurveInterpolation> {
        Some(match code.trim() {
            "linear_zero" | "linear" => CurveInterpolation::LinearZero,
            "log_linear_discount" | "log_linear" => CurveInterpolation::LogLinearDiscount,
            "monotone_cubic" => CurveInterpolation::MonotoneCubicZero,
            "monotone_convex" => CurveInterpolation::MonotoneConvex,
            _ => return None,
        })
    }

    /// The code [`CurveInterpolation::from_code`] reads.
    pub fn code(self) -> &'static str {
        match self {
            CurveInterpolation::LinearZero => "linear_zero",
            CurveInterpolation::LogLinearDiscount => "log_linear_discount",
            CurveInterpolation::MonotoneCubicZero => "monotone_cubic",
            CurveInterpolation::MonotoneConvex => "monotone_convex",
        }
    }
}

/// An additive shift of the zero rate as a function of time (decimals; `t` in years).
#[derive(Debug, Clone, PartialEq)]
pub enum Shift {
    /// `level + slope · exp(−t / decay)`: covers parallel, short-end and rotation shocks.
    Exponential {
        /// Shift at long times.
        level: f64,
        /// Extra shift at t = 0.
        slope: f64,
        /// Decay constant in years (> 0).
        decay: f64,
    },
    /// A tenor table of shifts, interpolated linearly, flat outside.
    Table(Interpolator),
}

impl Shift {
    /// The shift at time `t`.
    pub fn at(&self, t: f64) -> f64 {
        match self {
            Shift::Exponential {
                level,
                slope,
                decay,
            } => level + slope * (-t / decay).exp(),
            Shift::Table(f) => f.value(t),
        }
    }
}

/// A lower bound on shifted rates: `min(at_zero + per_year · t, max)`, but never above the
/// unshifted rate (a rate already below the floor may not be pushed up by it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    /// Floor at t = 0 (decimal).
    pub at_zero: f64,
    /// Increase per year of maturity (decimal per year).
    pub per_year: f64,
    /// Highest value the floor reaches (decimal).
    pub max: f64,
}

impl Floor {
    /// The floored rate at `t`, given the unshifted `base` and the shifted `shocked` rate.
    pub fn apply(&self, t: f64, base: f64, shocked: f64) -> f64 {
        let floor = (self.at_zero + self.per_year * t).min(self.max).min(base);
        shocked.max(floor)
    }
}

/// A shift (and optional floor) evaluated at any time on top of the pillar curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// Added to the zero rate.
    pub shift: Shift,
    /// Applied to the shifted rate.
    pub floor: Option<Floor>,
}

/// A zero curve: identifier, currency, as-of date, day count, pillars and interpolation.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    id: String,
    currency: String,
    as_of: Date,
    day_count: DayCount,
    method: CurveInterpolation,
    times: Vec<f64>,
    /// Continuously compounded zero rates at `times`.
    zeros: Vec<f64>,
    interp: Interp,
    overlay: Option<Overlay>,
}

#[derive(Debug, Clone, PartialEq)]
enum Interp {
    /// Interpolates the zero rate directly.
    Zero(Interpolator),
    /// Interpolates `r·t` linearly (log-linear discount factors), node (0, 0) included.
    RateTime(Interpolator),
    /// Hagan–West monotone convex.
    Convex(MonotoneConvex),
}

impl Curve {
    /// A curve from continuously compounded zero rates at pillar times (years, strictly
    /// increasing, positive).
    #[allow(clippy::too_many_arguments)]
    pub fn from_zero_rates(
        id: &str,
        currency: &str,
        as_of: Date,
        day_count: DayCount,
        method: CurveInterpolation,
        times: Vec<f64>,
        zeros: Vec<f64>,
    ) -> Result<Curve, CurveError> {
        let err = |reason: String| CurveError::Invalid {
            curve: id.to_string(),
            reason,
        };
        if times.is_empty() {
            return Err(err("has no pillar".into()));
        }
        if times.len() != zeros.len() {
            return Err(err(format!(
                "{} pillars but {} rates",
                times.len(),
                zeros.len()
            )));
        }
        for (i, (&t, &r)) in times.iter().zip(&zeros).enumerate() {
            if !t.is_finite() || t <= 0.0 {
                return Err(err(format!(
                    "pillar {} at {t} years is not after the as-of date",
                    i + 1
                )));
            }
            if i > 0 && t <= times[i - 1] {
                return Err(err(format!(
                    "pillars must increase: pillar {} ({t} years) is not after pillar {} ({} years)",
                    i + 1,
                    i,
                    times[i - 1]
                )));
            }
            if !r.is_finite() || r.abs() > 1.0 {
                return Err(err(format!(
                    "zero rate {r} at pillar {} is not a plausible decimal rate",
                    i + 1
                )));
            }
        }
        let interp = build_interp(method, &times, &zeros).map_err(|e| err(e.to_string()))?;
        Ok(Curve {
            id: id.to_string(),
            currency: currency.to_string(),
            as_of,
            day_count,
            method,
            times,
            zeros,
            interp,
            overlay: None,
        })
    }

    /// The curve identifier.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The ISO 4217 currency.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The as-of date (t = 0).
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    /// The day count that turns dates into times.
    pub fn day_count(&self) -> &DayCount {
        &self.day_count
    }

    /// The interpolation method.
    pub fn interpolation(&self) -> CurveInterpolation {
        self.method
    }

    /// Pillar times in years.
    pub fn pillars(&self) -> &[f64] {
        &self.times
    }

    /// Continuously compounded zero rates at the pillars (before any overlay).
    pub fn pillar_zero_rates(&self) -> &[f64] {
        &self.zeros
    }

    /// The overlay, if any.
    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// Time in years from the as-of date to `date` under the curve's day count.
    pub fn time(&self, date: Date) -> f64 {
        self.day_count.year_fraction(self.as_of, date)
    }

    /// The continuously compounded zero rate at time `t` (overlay included).
    pub fn zero(&self, t: f64) -> f64 {
        let base = self.base_zero(t);
        match &self.overlay {
            None => base,
            Some(o) => {
                let shocked = base + o.shift.at(t);
                o.floor.map_or(shocked, |f| f.apply(t, base, shocked))
            }
        }
    }

    /// The zero rate of the pillar curve, without the overlay.
    fn base_zero(&self, t: f64) -> f64 {
        let t_first = self.times[0];
        let t_last = self.times[self.times.len() - 1];
        if t <= 0.0 {
            return self.zeros[0];
        }
        // Before the first pillar the zero rate is flat, except under monotone convex, whose
        // node (0, 0) makes the interval up to the first pillar an ordinary one.
        if t <= t_first && !matches!(self.interp, Interp::Convex(_)) {
            return self.zeros[0];
        }
        if t >= t_last {
            return self.zeros[self.zeros.len() - 1];
        }
        match &self.interp {
            Interp::Zero(f) => f.value(t),
            Interp::RateTime(f) => f.value(t) / t,
            Interp::Convex(c) => c.rate_time(t) / t,
        }
    }

    /// The discount factor at time `t` (1 at t ≤ 0).
    pub fn discount(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        (-self.zero(t) * t).exp()
    }

    /// The discount factor at `date`.
    pub fn discount_at(&self, date: Date) -> f64 {
        self.discount(self.time(date))
    }

    /// The continuously compounded forward rate between times `t1 < t2`; the instantaneous
    /// forward (by a symmetric 1e-6-year difference) when they are equal.
    pub fn forward(&self, t1: f64, t2: f64) -> f64 {
        if (t2 - t1).abs() < 1e-12 {
            let h = 1e-6;
            let a = (t1 - h).max(0.0);
            let b = a + 2.0 * h;
            return (self.zero(b) * b - self.zero(a) * a) / (b - a);
        }
        (self.zero(t2) * t2 - self.zero(t1) * t1) / (t2 - t1)
    }

    /// The simply compounded forward rate for the period `start..end` accruing `accrual` years
    /// (e.g. the index day count's fraction): `(DF(start)/DF(end) − 1) / accrual`.
    pub fn simple_forward(&self, start: Date, end: Date, accrual: f64) -> f64 {
        let ratio = self.discount_at(start) / self.discount_at(end);
        (ratio - 1.0) / accrual
    }

    /// The same curve with new zero rates at the same pillars (a pillar-wise scenario).
    pub fn with_zero_rates(&self, zeros: Vec<f64>) -> Result<Curve, CurveError> {
        let mut c = Curve::from_zero_rates(
            &self.id,
            &self.currency,
            self.as_of,
            self.day_count.clone(),
            self.method,
            self.times.clone(),
            zeros,
        )?;
        c.overlay = self.overlay.clone();
        Ok(c)
    }

    /// The same curve with `f(t, r)` applied to each pillar's zero rate, re-interpolated.
    pub fn map_pillars(&self, f: impl Fn(f64, f64) -> f64) -> Result<Curve, CurveError> {
        let zeros = self
            .times
            .iter()
            .zip(&self.zeros)
            .map(|(&t, &r)| f(t, r))
            .collect();
        self.with_zero_rates(zeros)
    }

    /// The same curve with an overlay evaluated at any time (replacing any previous one).
    pub fn with_overlay(&self, overlay: Overlay) -> Curve {
        Curve {
            overlay: Some(overlay),
            ..self.clone()
        }
    }

    /// The same curve under another identifier.
    pub fn renamed(&self, id: &str) -> Curve {
        Curve {
            id: id.to_string(),
            ..self.clone()
        }
    }
}

fn build_interp(
    method: CurveInterpolation,
    times: &[f64],
    zeros: &[f64],
) -> Result<Interp, almanac_math::InterpolationError> {
    Ok(match method {
        CurveInterpolation::LinearZero => Interp::Zero(Interpolator::new(
            Interpolation::Linear,
            times.to_vec(),
            zeros.to_vec(),
        )?),
        CurveInterpolation::MonotoneCubicZero => Interp::Zero(Interpolator::new(
            Interpolation::MonotoneCubic,
            times.to_vec(),
            zeros.to_vec(),
        )?),
        CurveInterpolation::LogLinearDiscount => {
            let mut xs = vec![0.0];
            xs.extend_from_slice(times);
            let mut ys = vec![0.0];
            ys.extend(times.iter().zip(zeros).map(|(t, r)| t * r));
            Interp::RateTime(Interpolator::new(Interpolation::Linear, xs, ys)?)
        }
        CurveInterpolation::MonotoneConvex => Interp::Convex(MonotoneConvex::new(times, zeros)),
    })
}

/// Hagan–West monotone convex interpolation of `y(t) = r(t)·t` through `(0, 0)` and the
/// pillars. Within pillar interval `i` the instantaneous forward is the interval's discrete
/// forward plus a correction `g(x)` (x ∈ [0, 1] across the interval) built from the forwards
/// at its two ends; `g` integrates to zero over the interval, so the pillars are reproduced.
/// The four shapes of `g` (the paper's sectors i–iv) keep the forward monotone between the
/// node values and avoid spurious oscillation.
#[derive(Debug, Clone, PartialEq)]
struct MonotoneConvex {
    /// Node times, starting with 0.
    t: Vec<f64>,
    /// `r·t` at the nodes, starting with 0.
    y: Vec<f64>,
    /// Discrete forward of interval i (between nodes i−1 and i), index 0 unused.
    fd: Vec<f64>,
    /// Instantaneous forward at each node.
    f: Vec<f64>,
}

impl MonotoneConvex {
    fn new(times: &[f64], zeros: &[f64]) -> MonotoneConvex {
        let mut t = vec![0.0];
        t.extend_from_slice(times);
        let mut y = vec![0.0];
        y.extend(times.iter().zip(zeros).map(|(t, r)| t * r));
        let n = t.len() - 1;
        let mut fd = vec![0.0; n + 1];
        for i in 1..=n {
            fd[i] = (y[i] - y[i - 1]) / (t[i] - t[i - 1]);
        }
        let mut f = vec![0.0; n + 1];
        if n == 1 {
            f[0] = fd[1];
            f[1] = fd[1];
        } else {
            for i in 1..n {
                let w = (t[i] - t[i - 1]) / (t[i + 1] - t[i - 1]);
                f[i] = w * fd[i + 1] + (1.0 - w) * fd[i];
            }
            f[0] = fd[1] - 0.5 * (f[1] - fd[1]);
            f[n] = fd[n] - 0.5 * (f[n - 1] - fd[n]);
        }
        // Positivity collars (the paper's amended method): with positive discrete forwards the
        // node forwards stay within [0, 2·adjacent discrete forward], which keeps every
        // interpolated forward non-negative. Negative-rate curves are left unbounded.
        if fd[1..].iter().all(|&v| v >= 0.0) {
            f[0] = f[0].clamp(0.0, 2.0 * fd[1]);
            for i in 1..n {
                f[i] = f[i].clamp(0.0, 2.0 * fd[i].min(fd[i + 1]));
            }
            f[n] = f[n].clamp(0.0, 2.0 * fd[n]);
        }
        MonotoneConvex { t, y, fd, f }
    }

    /// `r(t)·t` for t inside the node range.
    fn rate_time(&self, tau: f64) -> f64 {
        let n = self.t.len() - 1;
        let i = self.t.partition_point(|&v| v < tau).clamp(1, n);
        let h = self.t[i] - self.t[i - 1];
        let x = ((tau - self.t[i - 1]) / h).clamp(0.0, 1.0);
        let g0 = self.f[i - 1] - self.fd[i];
        let g1 = self.f[i] - self.fd[i];
        self.y[i - 1] + h * (self.fd[i] * x + g_integral(g0, g1, x))
    }
}

/// Below this, a forward correction counts as zero.
const TINY: f64 = 1e-14;

/// The Hagan–West sector of a correction with end values `g0`, `g1`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sector {
    /// No correction.
    Zero,
    /// The paper's sector (i).
    One,
    /// Sector (ii).
    Two,
    /// Sector (iii).
    Three,
    /// Sector (iv).
    Four,
}

fn sector(g0: f64, g1: f64) -> Sector {
    if g0.abs() < TINY && g1.abs() < TINY {
        return Sector::Zero;
    }
    // One end exactly on the discrete forward: the sector (iv) limit would jump at that end
    // (η = 0 or 1), so take the sector (i) quadratic, which is continuous there.
    if g0.abs() < TINY
        || g1.abs() < TINY
        || (g0 < 0.0 && -0.5 * g0 <= g1 && g1 <= -2.0 * g0)
        || (g0 > 0.0 && -0.5 * g0 >= g1 && g1 >= -2.0 * g0)
    {
        Sector::One
    } else if (g0 < 0.0 && g1 > -2.0 * g0) || (g0 > 0.0 && g1 < -2.0 * g0) {
        Sector::Two
    } else if (g0 > 0.0 && 0.0 > g1 && g1 > -0.5 * g0) || (g0 < 0.0 && 0.0 < g1 && g1 < -0.5 * g0) {
        Sector::Three
    } else {
        Sector::Four
    }
}

/// `∫₀ˣ g(s) ds` for the Hagan–West correction with end values `g0 = g(0)`, `g1 = g(1)`.
fn g_integral(g0: f64, g1: f64, x: f64) -> f64 {
    let cube = |v: f64| v * v * v;
    let sec = sector(g0, g1);
    if sec == Sector::Zero {
        return 0.0;
    }
    if sec == Sector::One {
        // g = g0(1 − 4x + 3x²) + g1(−2x + 3x²)
        g0 * (x - 2.0 * x * x + cube(x)) + g1 * (-x * x + cube(x))
    } else if sec == Sector::Two {
        // g = g0 on [0, η], then rises quadratically to g1.
        let eta = (g1 + 2.0 * g0) / (g1 - g0);
        if x <= eta || 1.0 - eta < TINY {
            g0 * x
        } else {
            g0 * x + (g1 - g0) * cube(x - eta) / (3.0 * (1.0 - eta) * (1.0 - eta))
        }
    } else if sec == Sector::Three {
        // g falls quadratically from g0 to g1 on [0, η], then g1.
        let eta = 3.0 * g1 / (g1 - g0);
        if eta < TINY {
            g1 * x
        } else if x < eta {
            g1 * x + (g0 - g1) * eta / 3.0 * (1.0 - cube((eta - x) / eta))
        } else {
            g1 * x + (g0 - g1) * eta / 3.0
        }
    } else {
        // Sector iv: both ends on one side; g passes through A = −g0·g1/(g0 + g1) at η.
        let eta = g1 / (g1 + g0);
        let a = -g0 * g1 / (g0 + g1);
        let left = if eta < TINY {
            0.0
        } else {
            (g0 - a) * eta / 3.0 * (1.0 - cube((eta - x.min(eta)) / eta))
        };
        let right = if x <= eta || 1.0 - eta < TINY {
            0.0
        } else {
            (g1 - a) * cube(x - eta) / (3.0 * (1.0 - eta) * (1.0 - eta))
        };
        a * x + left + right
    }
}

/// `g(x)` itself (the forward correction), for checks; the same sectors as [`g_integral`].
#[cfg(test)]
fn g_value(g0: f64, g1: f64, x: f64) -> f64 {
    let sec = sector(g0, g1);
    if sec == Sector::Zero {
        return 0.0;
    }
    let sq = |v: f64| v * v;
    if sec == Sector::One {
        g0 * (1.0 - 4.0 * x + 3.0 * x * x) + g1 * (-2.0 * x + 3.0 * x * x)
    } else if sec == Sector::Two {
        let eta = (g1 + 2.0 * g0) / (g1 - g0);
        if x <= eta {
            g0
        } else {
            g0 + (g1 - g0) * sq((x - eta) / (1.0 - eta))
        }
    } else if sec == Sector::Three {
        let eta = 3.0 * g1 / (g1 - g0);
        if x < eta {
            g1 + (g0 - g1) * sq((eta - x) / eta)
        } else {
            g1
        }
    } else {
        let eta = g1 / (g1 + g0);
        let a = -g0 * g1 / (g0 + g1);
        if x < eta {
            a + (g0 - a) * sq((eta - x) / eta)
        } else {
            a + (g1 - a) * sq((x - eta) / (1.0 - eta))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn curve(method: CurveInterpolation, times: &[f64], zeros: &[f64]) -> Curve {
        Curve::from_zero_rates(
            "T",
            "EUR",
            Date::ymd(2025, 12, 31),
            DayCount::Act365Fixed,
            method,
            times.to_vec(),
            zeros.to_vec(),
        )
        .unwrap()
    }

    const METHODS: [CurveInterpolation; 4] = [
        CurveInterpolation::LinearZero,
        CurveInterpolation::LogLinearDiscount,
        CurveInterpolation::MonotoneCubicZero,
        CurveInterpolation::MonotoneConvex,
    ];

    #[test]
    fn compounding_round_trips() {
        for c in [
            Compounding::Continuous,
            Compounding::Simple,
            Compounding::Periodic(1),
            Compounding::Periodic(2),
            Compounding::Periodic(12),
        ] {
            for (r, t) in [(0.03, 0.5), (-0.004, 2.0), (0.12, 30.0)] {
                let rc = c.to_continuous(r, t);
                assert!((c.from_continuous(rc, t) - r).abs() < 1e-15, "{c:?}");
            }
        }
        // 5 % annual over 2 years: DF = 1.05^-2.
        let rc = Compounding::Periodic(1).to_continuous(0.05, 2.0);
        assert!(((-rc * 2.0).exp() - 1.05f64.powi(-2)).abs() < 1e-15);
    }

    #[test]
    fn log_linear_gives_constant_forwards_between_pillars() {
        let c = curve(
            CurveInterpolation::LogLinearDiscount,
            &[1.0, 2.0],
            &[0.02, 0.03],
        );
        // Forward between the pillars: (0.06 − 0.02) / 1 = 4 %.
        for (a, b) in [(1.0, 1.5), (1.2, 1.9), (1.5, 2.0)] {
            assert!((c.forward(a, b) - 0.04).abs() < 1e-14);
        }
        assert!((c.zero(1.5) - (0.02 + 0.5 * 0.04) / 1.5).abs() < 1e-15);
    }

    #[test]
    fn bad_pillars_are_errors() {
        let make = |times: Vec<f64>, zeros: Vec<f64>| {
            Curve::from_zero_rates(
                "X",
                "EUR",
                Date::ymd(2025, 12, 31),
                DayCount::Act365Fixed,
                CurveInterpolation::LinearZero,
                times,
                zeros,
            )
        };
        assert!(make(vec![1.0, 1.0], vec![0.01, 0.02]).is_err());
        assert!(make(vec![0.0, 1.0], vec![0.01, 0.02]).is_err());
        assert!(make(vec![1.0], vec![f64::NAN]).is_err());
        assert!(make(vec![], vec![]).is_err());
        let e = make(vec![2.0, 1.0], vec![0.01, 0.02])
            .unwrap_err()
            .to_string();
        assert!(e.contains("X") && e.contains("increase"), "{e}");
    }

    #[test]
    fn overlay_shifts_and_floors() {
        let c = curve(CurveInterpolation::LinearZero, &[1.0, 10.0], &[0.001, 0.02]);
        let up = c.with_overlay(Overlay {
            shift: Shift::Exponential {
                level: 0.02,
                slope: 0.0,
                decay: 4.0,
            },
            floor: None,
        });
        assert!((up.zero(5.0) - c.zero(5.0) - 0.02).abs() < 1e-15);
        let down = c.with_overlay(Overlay {
            shift: Shift::Exponential {
                level: -0.02,
                slope: 0.0,
                decay: 4.0,
            },
            floor: Some(Floor {
                at_zero: -0.015,
                per_year: 0.0003,
                max: 0.0,
            }),
        });
        // At 1y: base 0.1 %, shocked −1.9 %, floor −1.47 %.
        assert!((down.zero(1.0) - (-0.015 + 0.0003)).abs() < 1e-15);
    }

    proptest! {
        /// Every method reproduces the pillars, gives DF(0) = 1, round-trips zero ↔ discount,
        /// and its forwards reproduce the discount factors: DF(a)·exp(−F(a,b)(b−a)) = DF(b).
        #[test]
        fn curve_properties(zeros in proptest::collection::vec(-0.01f64..0.08, 1..10),
                            gaps in proptest::collection::vec(0.05f64..6.0, 10),
                            probes in proptest::collection::vec(0.0f64..60.0, 8)) {
            let mut times = Vec::new();
            let mut t = 0.0;
            for g in gaps.iter().take(zeros.len()) {
                t += g;
                times.push(t);
            }
            for method in METHODS {
                let c = curve(method, &times, &zeros);
                prop_assert_eq!(c.discount(0.0), 1.0);
                for (t, r) in times.iter().zip(&zeros) {
                    prop_assert!((c.zero(*t) - r).abs() < 1e-13, "{:?} pillar {} {} vs {}", method, t, c.zero(*t), r);
                }
                for w in probes.windows(2) {
                    let (a, b) = (w[0].min(w[1]), w[0].max(w[1]));
                    if b - a < 1e-6 { continue; }
                    let df_b = c.discount(a) * (-c.forward(a, b) * (b - a)).exp();
                    // Round trip through a logarithm and an exponential: a few ulps of
                    // `ln DF` (up to ~1 here) each, so relative 1e-12 (1e-13 absolute failed on
                    // zeros [0,0,0,0.062,0,0] between 8.1 and 15.9 years).
                    prop_assert!((df_b - c.discount(b)).abs() < 1e-12 * c.discount(b));
                    if b > 0.0 {
                        let back = -c.discount(b).ln() / b;
                        prop_assert!((back - c.zero(b)).abs() < 1e-12);
                    }
                }
            }
        }

        /// The Hagan–West correction g takes its end values, integrates to zero over the
        /// interval (so pillars are reproduced), and its closed-form integral has g as its
        /// derivative, in every sector.
        #[test]
        fn hagan_west_sectors(g0 in -0.05f64..0.05, g1 in -0.05f64..0.05, x in 0.01f64..0.99) {
            prop_assert!((g_value(g0, g1, 0.0) - g0).abs() < 1e-15);
            prop_assert!((g_value(g0, g1, 1.0) - g1).abs() < 1e-12);
            prop_assert!(g_integral(g0, g1, 1.0).abs() < 1e-15);
            let h = 1e-6;
            let d = (g_integral(g0, g1, x + h) - g_integral(g0, g1, x - h)) / (2.0 * h);
            prop_assert!((d - g_value(g0, g1, x)).abs() < 1e-8, "{} vs {}", d, g_value(g0, g1, x));
        }

        /// With positive discrete forwards (increasing zero rates), the collared node
        /// forwards keep every monotone-convex forward non-negative.
        #[test]
        fn monotone_convex_forwards_positive(zeros in proptest::collection::vec(0.001f64..0.06, 2..8)) {
            let times: Vec<f64> = (1..=zeros.len()).map(|i| i as f64 * 2.0).collect();
            let mut sorted = zeros.clone();
            sorted.sort_by(f64::total_cmp);
            let mc = MonotoneConvex::new(&times, &sorted);
            for i in 1..mc.t.len() {
                let g0 = mc.f[i - 1] - mc.fd[i];
                let g1 = mc.f[i] - mc.fd[i];
                for k in 0..=50 {
                    let f = mc.fd[i] + g_value(g0, g1, f64::from(k) / 50.0);
                    prop_assert!(f > -1e-15, "interval {} x {}: {}", i, k, f);
                }
            }
        }
    }
}
