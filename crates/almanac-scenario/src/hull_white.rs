//! Hull–White one-factor short-rate paths fitted exactly to a base discount curve.
//!
//! # Model
//!
//! Under the risk-neutral measure the short rate follows
//! `dr = (θ(t) − a·r) dt + σ dW`, with mean reversion `a > 0` and volatility `σ ≥ 0`. The
//! drift `θ` is whatever makes the model reprice the base curve `P(0, t)`. Rather than compute
//! `θ`, the rate is split as `r(t) = x(t) + φ(t)`, where
//!
//! * `x` is an Ornstein–Uhlenbeck process, `dx = −a·x dt + σ dW`, `x(0) = 0`, carrying all the
//!   randomness, and
//! * `φ` is deterministic and absorbs the fit to the curve.
//!
//! # Derivation of the fit
//!
//! Write `I(t) = ∫₀ᵗ x(s) ds` and `B(τ) = (1 − e^{−aτ})/a`. Being a linear functional of a
//! Gaussian process started at zero, `I(t)` is Gaussian with mean zero and variance
//!
//! ```text
//! V(0,t) = Var I(t) = (σ²/a²) · ( t − 2·B(t) + (1 − e^{−2at})/(2a) ).
//! ```
//!
//! (Swap the order of integration: `I(t) = σ ∫₀ᵗ B(t − u) dW(u)`, so
//! `V = σ² ∫₀ᵗ B(τ)² dτ`.) The money-market discount factor along a path is
//! `D(t) = exp(−∫₀ᵗ r) = exp(−∫₀ᵗ φ) · exp(−I(t))`, and the log-normal moment
//! `E[e^{−I}] = e^{V/2}` gives `E[D(t)] = exp(−∫₀ᵗ φ + V(0,t)/2)`. Requiring `E[D(t)] = P(0,t)`
//! for every `t` therefore fixes
//!
//! ```text
//! ∫₀ᵗ φ(s) ds = −ln P(0,t) + V(0,t)/2,
//! ```
//!
//! and differentiating, with `∂V/∂t = (σ²/a²)(1 − e^{−at})²`,
//!
//! ```text
//! φ(t) = f(0,t) + (σ²/(2a²)) · (1 − e^{−at})²,     f(0,t) = −∂ ln P(0,t)/∂t.
//! ```
//!
//! The path discount factor then needs no forward rate at all:
//!
//! ```text
//! D(t) = P(0,t) · exp( −I(t) − V(0,t)/2 ),
//! ```
//!
//! so `E[D(t_k)] = P(0, t_k)` holds *exactly* on every grid point (up to Monte-Carlo noise):
//! there is no discretisation bias and no dependence on a numerically differentiated forward.
//! The forward enters only the reported short rate `r(t_k) = x(t_k) + φ(t_k)`.
//!
//! # Exact simulation on the grid
//!
//! Over a step of length `Δ` from `t` to `t + Δ`, the pair `(x, I)` moves by
//!
//! ```text
//! x(t+Δ) = x(t)·e^{−aΔ} + εx,
//! I(t+Δ) = I(t) + x(t)·B(Δ) + εI,
//! ```
//!
//! where `(εx, εI)` is a centred Gaussian vector independent of the past with
//!
//! ```text
//! Var εx     = σ² (1 − e^{−2aΔ}) / (2a)
//! Var εI     = (σ²/a²) · ( Δ − 2·B(Δ) + (1 − e^{−2aΔ})/(2a) )     (= V(0,Δ))
//! Cov(εx,εI) = (σ²/(2a²)) · (1 − e^{−aΔ})²                        (= σ²B(Δ)²/2)
//! ```
//!
//! (`εx = σ∫ e^{−a(t+Δ−u)} dW`, `εI = σ∫ B(t+Δ−u) dW` over `(t, t+Δ]`; the moments follow from
//! the Itô isometry.) Each step draws two independent standard normals `z₁, z₂` and applies the
//! 2×2 Cholesky factor: `εx = L₁₁z₁`, `εI = L₂₁z₁ + L₂₂z₂`. The grid can be irregular; the first
//! step runs from 0 to the first grid time. Expressions such as `t − 2B + …` cancel badly when
//! `a·t` is small, so they are evaluated through series in `a·t` (see `integrated_factor`).
//!
//! # Reproducibility
//!
//! Path `i` draws its normals from [`Rng::for_stream`]`(seed, i)` (inverse-CDF normals, two per
//! step, `z₁` before `z₂`). With antithetic sampling, path `2j + 1` uses the negated normals of
//! path `2j` (stream `2j`); with an odd path count the last path has no partner. Each path is a
//! pure function of the inputs and its index, so the output is bit-identical whatever the number
//! of rayon threads, and path `2j` is the same with or without antithetic sampling.
//!
//! # Forward rates
//!
//! `f(0,t)` is the centred difference of `−ln P` with step `h = min(10⁻⁴, t/2)` years (about
//! 53 minutes): the truncation error is `h²·f''(t)/6`, below 10⁻⁹ for any realistic curve, and
//! the rounding error about `10⁻¹⁶·|ln P|/h ≲ 10⁻¹¹`. On curves whose forward jumps (e.g.
//! piecewise-flat forwards) the value at a jump is the average of the two sides.

use almanac_math::random::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A discount function `t ↦ P(0, t)`, `t` in years from the valuation date.
///
/// Implementations must return a finite, positive value for every `t > 0` that is used
/// (including slightly beyond the last grid time, for the forward-rate difference). Any
/// `Fn(f64) -> f64` is a discount function, so a closure can be passed directly.
pub trait DiscountFunction {
    /// The discount factor `P(0, t)` for a time `t` in years.
    fn discount(&self, t: f64) -> f64;
}

impl<F: Fn(f64) -> f64 + ?Sized> DiscountFunction for F {
    fn discount(&self, t: f64) -> f64 {
        self(t)
    }
}

/// Errors from [`simulate`] and [`HullWhiteParams::new`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HullWhiteError {
    /// The mean reversion `a` must be finite and strictly positive.
    #[error("mean_reversion must be finite and > 0, got {0}")]
    InvalidMeanReversion(f64),
    /// The volatility `σ` must be finite and non-negative.
    #[error("volatility must be finite and >= 0, got {0}")]
    InvalidVolatility(f64),
    /// The time grid has no points.
    #[error("grid is empty")]
    EmptyGrid,
    /// A grid time is not finite, not positive, or not after its predecessor.
    #[error("grid[{index}] = {time} must be finite, > 0 and greater than the previous time")]
    InvalidGridTime {
        /// Position in the grid.
        index: usize,
        /// The offending time in years.
        time: f64,
    },
    /// At least one path is required.
    #[error("paths must be at least 1")]
    NoPaths,
    /// `paths × grid points` does not fit in memory addressing.
    #[error("{paths} paths x {points} grid points is too large")]
    TooLarge {
        /// Requested number of paths.
        paths: usize,
        /// Number of grid points.
        points: usize,
    },
    /// The curve returned a discount factor that is not finite and positive.
    #[error("discount factor P(0, {time}) = {value} must be finite and > 0")]
    InvalidDiscount {
        /// Time in years at which the curve was evaluated.
        time: f64,
        /// The value it returned.
        value: f64,
    },
}

/// Hull–White parameters, as decimals per year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HullWhiteParams {
    /// Mean-reversion speed `a` (e.g. `0.03`); must be finite and > 0.
    pub mean_reversion: f64,
    /// Short-rate volatility `σ` (e.g. `0.01` for 100 bp per √year); finite and ≥ 0.
    pub volatility: f64,
}

impl HullWhiteParams {
    /// Validated constructor.
    ///
    /// # Errors
    ///
    /// [`HullWhiteError::InvalidMeanReversion`] or [`HullWhiteError::InvalidVolatility`].
    pub fn new(mean_reversion: f64, volatility: f64) -> Result<Self, HullWhiteError> {
        let params = Self {
            mean_reversion,
            volatility,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks that `a` is finite and > 0 and `σ` finite and ≥ 0.
    ///
    /// # Errors
    ///
    /// [`HullWhiteError::InvalidMeanReversion`] or [`HullWhiteError::InvalidVolatility`].
    pub fn validate(&self) -> Result<(), HullWhiteError> {
        let a = self.mean_reversion;
        if !(a.is_finite() && a > 0.0) {
            return Err(HullWhiteError::InvalidMeanReversion(a));
        }
        let s = self.volatility;
        if !(s.is_finite() && s >= 0.0) {
            return Err(HullWhiteError::InvalidVolatility(s));
        }
        Ok(())
    }

    /// `Var x(t) = σ²(1 − e^{−2at})/(2a)`, the variance of the short rate at time `t`.
    #[must_use]
    pub fn short_rate_variance(&self, t: f64) -> f64 {
        self.volatility.powi(2) * t * decay_factor(2.0 * self.mean_reversion * t)
    }

    /// `V(0,t) = Var ∫₀ᵗ x(s) ds`, the variance of the integrated short rate.
    #[must_use]
    pub fn integrated_variance(&self, t: f64) -> f64 {
        self.volatility.powi(2) * t.powi(3) * integrated_factor(self.mean_reversion * t)
    }

    /// `Cov(x(t), ∫₀ᵗ x) = (σ²/(2a²))(1 − e^{−at})²`, which is also the convexity term of `φ`.
    #[must_use]
    pub fn convexity(&self, t: f64) -> f64 {
        let b = t * decay_factor(self.mean_reversion * t);
        0.5 * self.volatility.powi(2) * b * b
    }
}

/// `(1 − e^{−y})/y` for `y ≥ 0`, with its limit 1 at `y = 0`; `B(τ) = τ·decay_factor(aτ)`.
fn decay_factor(y: f64) -> f64 {
    if y == 0.0 {
        1.0
    } else {
        -(-y).exp_m1() / y
    }
}

/// `g(y)/y³` with `g(y) = y − 2(1 − e^{−y}) + (1 − e^{−2y})/2`, so that
/// `V(0,t) = σ²t³·integrated_factor(at)`; tends to 1/3 as `y → 0`.
///
/// For `y < 1` the closed form cancels catastrophically (`g ≈ y³/3`), so the Taylor series
/// `g(y) = Σ_{n≥3} (−1)ⁿ (2 − 2ⁿ⁻¹) yⁿ/n!` is summed instead; its terms fall like `(2y)ⁿ/n!`.
fn integrated_factor(y: f64) -> f64 {
    if y < 1.0 {
        // term = (−y)^(n−3) · 3!/n! · … built incrementally as (−y)^(n−3)/n!.
        let mut power_over_factorial = 1.0 / 6.0; // (−y)^0 / 3!
        let mut two_pow = 4.0; // 2^(n−1) at n = 3
        let mut sum = 0.0_f64;
        for n in 3..60_u32 {
            // (−1)^n (2 − 2^(n−1)) y^n/n! / y³ = −(2 − 2^(n−1)) (−y)^(n−3)/n!
            let term = (two_pow - 2.0) * power_over_factorial;
            sum += term;
            if term.abs() <= 1e-17 * sum.abs() {
                break;
            }
            power_over_factorial *= -y / f64::from(n + 1);
            two_pow *= 2.0;
        }
        sum
    } else {
        (y + 2.0 * (-y).exp_m1() - 0.5 * (-2.0 * y).exp_m1()) / (y * y * y)
    }
}

/// What to simulate: the time grid, how many paths, and the random seed.
#[derive(Debug, Clone, PartialEq)]
pub struct PathSpec {
    /// Observation times in years: finite, strictly increasing, the first one > 0.
    pub grid: Vec<f64>,
    /// Number of paths (≥ 1).
    pub paths: usize,
    /// Seed of the experiment; path `i` uses [`Rng::for_stream`]`(seed, i)`.
    pub seed: u64,
    /// Antithetic sampling: path `2j + 1` mirrors path `2j` (negated normals).
    pub antithetic: bool,
}

/// Simulated paths: short rate `r(t_k)` and discount factor `D(t_k) = exp(−∫₀^{t_k} r)` on the
/// grid, stored path-major (`path · grid_len + k`).
#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    grid: Vec<f64>,
    paths: usize,
    short_rates: Vec<f64>,
    discounts: Vec<f64>,
    curve: Vec<f64>,
    forwards: Vec<f64>,
    shifts: Vec<f64>,
}

impl Paths {
    /// The time grid in years.
    #[must_use]
    pub fn grid(&self) -> &[f64] {
        &self.grid
    }

    /// Number of paths.
    #[must_use]
    pub fn path_count(&self) -> usize {
        self.paths
    }

    /// Short rates `r(t_k)` of one path (continuously compounded, decimal per year).
    ///
    /// # Panics
    ///
    /// If `path >= self.path_count()`.
    #[must_use]
    pub fn short_rates(&self, path: usize) -> &[f64] {
        let n = self.grid.len();
        &self.short_rates[path * n..(path + 1) * n]
    }

    /// Discount factors `D(t_k)` of one path.
    ///
    /// # Panics
    ///
    /// If `path >= self.path_count()`.
    #[must_use]
    pub fn discounts(&self, path: usize) -> &[f64] {
        let n = self.grid.len();
        &self.discounts[path * n..(path + 1) * n]
    }

    /// All short rates, path-major.
    #[must_use]
    pub fn all_short_rates(&self) -> &[f64] {
        &self.short_rates
    }

    /// All discount factors, path-major.
    #[must_use]
    pub fn all_discounts(&self) -> &[f64] {
        &self.discounts
    }

    /// The base curve `P(0, t_k)` on the grid.
    #[must_use]
    pub fn curve_discounts(&self) -> &[f64] {
        &self.curve
    }

    /// The instantaneous forwards `f(0, t_k)` of the base curve on the grid.
    #[must_use]
    pub fn forwards(&self) -> &[f64] {
        &self.forwards
    }

    /// The deterministic shift `φ(t_k)`, so that `x(t_k) = r(t_k) − φ(t_k)`.
    #[must_use]
    pub fn shifts(&self) -> &[f64] {
        &self.shifts
    }

    /// Monte-Carlo average of `D(t_k)` over all paths, per grid point.
    #[must_use]
    pub fn mean_discounts(&self) -> Vec<f64> {
        let n = self.grid.len();
        let mut sum = vec![0.0; n];
        for path in self.discounts.chunks_exact(n) {
            for (s, d) in sum.iter_mut().zip(path) {
                *s += d;
            }
        }
        let count = self.paths as f64;
        sum.iter().map(|s| s / count).collect()
    }
}

/// Month-end times `1/12, 2/12, …` up to `years` (rounded to whole months); empty if `years`
/// is not finite or is below half a month.
#[must_use]
pub fn monthly_grid(years: f64) -> Vec<f64> {
    let months = (years * 12.0).round();
    if !(months.is_finite() && months >= 1.0) {
        return Vec::new();
    }
    // Saturating cast: an absurd horizon just allocates what it can.
    (1..=months as usize).map(|m| m as f64 / 12.0).collect()
}

/// Largest finite-difference step for forward rates, in years.
const FORWARD_STEP: f64 = 1e-4;

/// Evaluates the curve and checks the result.
fn checked_discount<C: DiscountFunction + ?Sized>(
    curve: &C,
    t: f64,
) -> Result<f64, HullWhiteError> {
    let value = curve.discount(t);
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(HullWhiteError::InvalidDiscount { time: t, value })
    }
}

/// `f(0,t)` by a centred difference of `−ln P` (step documented in the module docs).
fn instantaneous_forward<C: DiscountFunction + ?Sized>(
    curve: &C,
    t: f64,
) -> Result<f64, HullWhiteError> {
    let h = FORWARD_STEP.min(0.5 * t);
    let up = checked_discount(curve, t + h)?;
    let down = checked_discount(curve, t - h)?;
    Ok((down.ln() - up.ln()) / (2.0 * h))
}

/// Per-step transition coefficients, shared by all paths.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// `e^{−aΔ}`.
    decay: f64,
    /// `B(Δ)`.
    b: f64,
    /// Cholesky factor of the innovation covariance.
    l11: f64,
    l21: f64,
    l22: f64,
}

impl Step {
    fn new(params: &HullWhiteParams, dt: f64) -> Self {
        let a = params.mean_reversion;
        let sigma = params.volatility;
        let y = a * dt;
        // Unit-volatility moments; scaled by σ at the end so σ = 0 needs no special case.
        let var_x = dt * decay_factor(2.0 * y);
        let b = dt * decay_factor(y);
        let cov = 0.5 * b * b;
        let var_i = dt.powi(3) * integrated_factor(y);
        let l11 = var_x.sqrt();
        let l21 = cov / l11;
        let l22 = (var_i - l21 * l21).max(0.0).sqrt();
        Self {
            decay: (-y).exp(),
            b,
            l11: sigma * l11,
            l21: sigma * l21,
            l22: sigma * l22,
        }
    }
}

/// Checks the spec and returns `paths × grid points`.
fn validate_spec(spec: &PathSpec) -> Result<usize, HullWhiteError> {
    if spec.grid.is_empty() {
        return Err(HullWhiteError::EmptyGrid);
    }
    let mut previous = 0.0;
    for (index, &time) in spec.grid.iter().enumerate() {
        if !(time.is_finite() && time > previous) {
            return Err(HullWhiteError::InvalidGridTime { index, time });
        }
        previous = time;
    }
    if spec.paths == 0 {
        return Err(HullWhiteError::NoPaths);
    }
    spec.paths
        .checked_mul(spec.grid.len())
        .ok_or(HullWhiteError::TooLarge {
            paths: spec.paths,
            points: spec.grid.len(),
        })
}

/// Simulates Hull–White paths fitted to `curve`; see the [module documentation](self) for
/// the model, the exact scheme and the reproducibility guarantees.
///
/// The curve is evaluated (on the calling thread) at each grid time and at `t ± h` for the
/// forward rate; the paths are then generated in parallel with rayon.
///
/// # Errors
///
/// Invalid parameters, an empty or non-increasing grid, zero paths, or a curve value that is not
/// finite and positive.
pub fn simulate<C: DiscountFunction + ?Sized>(
    curve: &C,
    params: &HullWhiteParams,
    spec: &PathSpec,
) -> Result<Paths, HullWhiteError> {
    params.validate()?;
    let total = validate_spec(spec)?;
    let grid = &spec.grid;
    let n = grid.len();

    let mut curve_values = Vec::with_capacity(n);
    let mut forwards = Vec::with_capacity(n);
    let mut shifts = Vec::with_capacity(n);
    // ln P(0,t_k) − V(0,t_k)/2: the deterministic part of ln D(t_k).
    let mut log_base = Vec::with_capacity(n);
    let mut steps = Vec::with_capacity(n);
    let mut previous = 0.0;
    for &t in grid {
        let p = checked_discount(curve, t)?;
        let f = instantaneous_forward(curve, t)?;
        curve_values.push(p);
        forwards.push(f);
        shifts.push(f + params.convexity(t));
        log_base.push(p.ln() - 0.5 * params.integrated_variance(t));
        steps.push(Step::new(params, t - previous));
        previous = t;
    }

    let mut short_rates = vec![0.0; total];
    let mut discounts = vec![0.0; total];
    let group = if spec.antithetic { 2 } else { 1 };
    short_rates
        .par_chunks_mut(group * n)
        .zip(discounts.par_chunks_mut(group * n))
        .enumerate()
        .for_each(|(chunk, (rates, dfs))| {
            let mut rng = Rng::for_stream(spec.seed, (chunk * group) as u64);
            let members = rates.len() / n;
            // State (x, I) of the path (index 0) and of its antithetic mirror (index 1).
            let mut x = [0.0_f64; 2];
            let mut integral = [0.0_f64; 2];
            for (k, step) in steps.iter().enumerate() {
                let z1 = rng.standard_normal();
                let z2 = rng.standard_normal();
                for m in 0..members {
                    let (z1, z2) = if m == 0 { (z1, z2) } else { (-z1, -z2) };
                    let eps_x = step.l11 * z1;
                    let eps_i = step.l21 * z1 + step.l22 * z2;
                    integral[m] += x[m] * step.b + eps_i;
                    x[m] = x[m] * step.decay + eps_x;
                    rates[m * n + k] = x[m] + shifts[k];
                    dfs[m * n + k] = (log_base[k] - integral[m]).exp();
                }
            }
        });

    Ok(Paths {
        grid: grid.clone(),
        paths: spec.paths,
        short_rates,
        discounts,
        curve: curve_values,
        forwards,
        shifts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zero rate `z(t) = 0.02 + 0.01(1 − e^{−t/5})`, continuously compounded.
    fn zero_rate(t: f64) -> f64 {
        0.02 + 0.01 * (1.0 - (-t / 5.0).exp())
    }

    fn test_curve(t: f64) -> f64 {
        (-zero_rate(t) * t).exp()
    }

    /// `f(0,t) = d(z·t)/dt = z(t) + t·z'(t)`.
    fn test_forward(t: f64) -> f64 {
        zero_rate(t) + t * 0.01 * (-t / 5.0).exp() / 5.0
    }

    fn spec(grid: Vec<f64>, paths: usize, antithetic: bool) -> PathSpec {
        PathSpec {
            grid,
            paths,
            seed: 20_240_601,
            antithetic,
        }
    }

    fn params(a: f64, sigma: f64) -> HullWhiteParams {
        HullWhiteParams::new(a, sigma).unwrap()
    }

    /// Mean and standard error of a sample of independent values.
    fn mean_and_se(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    #[test]
    fn monte_carlo_mean_discount_reprices_the_curve() {
        let grid = monthly_grid(30.0);
        let paths = 20_000;
        let p = params(0.03, 0.012);
        let out = simulate(&test_curve, &p, &spec(grid.clone(), paths, true)).unwrap();
        assert_eq!(out.path_count(), paths);
        let n = grid.len();
        let mean_discounts = out.mean_discounts();
        let mut worst = 0.0_f64;
        let mut worst_relative = 0.0_f64;
        for (k, &t) in grid.iter().enumerate() {
            // Antithetic partners are dependent: the independent samples are pair averages.
            let pair_means: Vec<f64> = (0..paths / 2)
                .map(|j| {
                    0.5 * (out.all_discounts()[2 * j * n + k]
                        + out.all_discounts()[(2 * j + 1) * n + k])
                })
                .collect();
            let (mean, se) = mean_and_se(&pair_means);
            let target = test_curve(t);
            assert!(se > 0.0);
            let z = (mean - target) / se;
            worst = worst.max(z.abs());
            worst_relative = worst_relative.max((mean / target - 1.0).abs());
            assert!(z.abs() < 4.0, "t = {t}: mean {mean}, P {target}, se {se}");
            assert!((mean_discounts[k] - mean).abs() < 1e-12);
        }
        eprintln!("max |z| = {worst:.3}, max relative error = {worst_relative:.2e}");
        assert!(worst > 0.0);
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        let grid = monthly_grid(5.0);
        let run = |threads: usize, antithetic: bool| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    simulate(
                        &test_curve,
                        &params(0.05, 0.01),
                        &spec(grid.clone(), 501, antithetic),
                    )
                    .unwrap()
                })
        };
        for antithetic in [false, true] {
            let one = run(1, antithetic);
            let four = run(4, antithetic);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(one.all_short_rates()), bits(four.all_short_rates()));
            assert_eq!(bits(one.all_discounts()), bits(four.all_discounts()));
            assert_eq!(one, four);
        }
    }

    #[test]
    fn zero_volatility_is_deterministic_and_reprices_exactly() {
        let grid = monthly_grid(30.0);
        let out = simulate(&test_curve, &params(0.1, 0.0), &spec(grid.clone(), 7, true)).unwrap();
        for path in 0..7 {
            for (k, &t) in grid.iter().enumerate() {
                let d = out.discounts(path)[k];
                assert!((d - test_curve(t)).abs() < 1e-12, "t = {t}");
                let r = out.short_rates(path)[k];
                assert!((r - test_forward(t)).abs() < 1e-9, "t = {t}: {r}");
                assert_eq!(r, out.forwards()[k]);
            }
        }
    }

    #[test]
    fn antithetic_pairs_mirror_each_other() {
        let grid = monthly_grid(10.0);
        let p = params(0.05, 0.015);
        let anti = simulate(&test_curve, &p, &spec(grid.clone(), 5, true)).unwrap();
        let plain = simulate(&test_curve, &p, &spec(grid.clone(), 5, false)).unwrap();
        // Even paths coincide with the plain run; odd paths mirror x, and ln D around its mean.
        for path in [0, 2, 4] {
            assert_eq!(anti.short_rates(path), plain.short_rates(path));
            assert_eq!(anti.discounts(path), plain.discounts(path));
        }
        assert_ne!(anti.short_rates(1), plain.short_rates(1));
        for j in 0..2 {
            for (k, &t) in grid.iter().enumerate() {
                let phi = anti.shifts()[k];
                let x0 = anti.short_rates(2 * j)[k] - phi;
                let x1 = anti.short_rates(2 * j + 1)[k] - phi;
                assert!((x0 + x1).abs() < 1e-15);
                let centre = test_curve(t).ln() - 0.5 * p.integrated_variance(t);
                let l0 = anti.discounts(2 * j)[k].ln() - centre;
                let l1 = anti.discounts(2 * j + 1)[k].ln() - centre;
                assert!((l0 + l1).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn invalid_inputs_are_rejected() {
        assert_eq!(
            HullWhiteParams::new(0.0, 0.01),
            Err(HullWhiteError::InvalidMeanReversion(0.0))
        );
        assert!(matches!(
            HullWhiteParams::new(f64::NAN, 0.01),
            Err(HullWhiteError::InvalidMeanReversion(_))
        ));
        assert_eq!(
            HullWhiteParams::new(0.1, -0.01),
            Err(HullWhiteError::InvalidVolatility(-0.01))
        );
        assert!(matches!(
            HullWhiteParams::new(0.1, f64::INFINITY),
            Err(HullWhiteError::InvalidVolatility(_))
        ));
        let bad_params = HullWhiteParams {
            mean_reversion: -1.0,
            volatility: 0.01,
        };
        assert_eq!(
            simulate(&test_curve, &bad_params, &spec(vec![1.0], 1, false)),
            Err(HullWhiteError::InvalidMeanReversion(-1.0))
        );
        let p = params(0.1, 0.01);
        let run =
            |grid: Vec<f64>, paths: usize| simulate(&test_curve, &p, &spec(grid, paths, false));
        assert_eq!(run(vec![], 1), Err(HullWhiteError::EmptyGrid));
        assert_eq!(
            run(vec![0.0, 1.0], 1),
            Err(HullWhiteError::InvalidGridTime {
                index: 0,
                time: 0.0
            })
        );
        assert_eq!(
            run(vec![0.5, 1.0, 1.0], 1),
            Err(HullWhiteError::InvalidGridTime {
                index: 2,
                time: 1.0
            })
        );
        assert_eq!(
            run(vec![0.5, 0.25], 1),
            Err(HullWhiteError::InvalidGridTime {
                index: 1,
                time: 0.25
            })
        );
        assert!(matches!(
            run(vec![0.5, f64::NAN], 1),
            Err(HullWhiteError::InvalidGridTime { index: 1, .. })
        ));
        assert_eq!(run(vec![1.0], 0), Err(HullWhiteError::NoPaths));
        assert_eq!(
            run(vec![1.0, 2.0], usize::MAX),
            Err(HullWhiteError::TooLarge {
                paths: usize::MAX,
                points: 2
            })
        );
        let broken = |t: f64| if t > 2.0 { -1.0 } else { test_curve(t) };
        assert!(matches!(
            simulate(&broken, &p, &spec(vec![1.0, 3.0], 1, false)),
            Err(HullWhiteError::InvalidDiscount { value, .. }) if value == -1.0
        ));
        let message = HullWhiteError::InvalidVolatility(-0.01).to_string();
        assert!(message.contains("volatility"), "{message}");
    }

    #[test]
    fn factor_moments_match_theory() {
        let grid = vec![0.5, 1.0, 2.0, 5.0, 10.0, 30.0];
        let paths = 20_000;
        let p = params(0.1, 0.01);
        let out = simulate(&test_curve, &p, &spec(grid.clone(), paths, false)).unwrap();
        let nf = paths as f64;
        for (k, &t) in grid.iter().enumerate() {
            let mut xs = Vec::with_capacity(paths);
            let mut is = Vec::with_capacity(paths);
            for path in 0..paths {
                xs.push(out.short_rates(path)[k] - out.shifts()[k]);
                // Recover I(t) = ∫x from D = P·exp(−I − V/2).
                is.push(
                    test_curve(t).ln()
                        - out.discounts(path)[k].ln()
                        - 0.5 * p.integrated_variance(t),
                );
            }
            let (mean_x, se_x) = mean_and_se(&xs);
            assert!(mean_x.abs() < 4.0 * se_x, "t = {t}: mean x {mean_x}");
            let var_x = xs.iter().map(|x| x * x).sum::<f64>() / nf;
            let var_i = is.iter().map(|i| i * i).sum::<f64>() / nf;
            let cov = xs.iter().zip(&is).map(|(x, i)| x * i).sum::<f64>() / nf;
            // Theory, written out independently of the implementation's series.
            let (a, s) = (0.1_f64, 0.01_f64);
            let e = (-a * t).exp();
            let theory_x = s * s * (1.0 - e * e) / (2.0 * a);
            let theory_i = s * s / (a * a) * (t - 2.0 * (1.0 - e) / a + (1.0 - e * e) / (2.0 * a));
            let theory_c = s * s / (2.0 * a * a) * (1.0 - e).powi(2);
            assert!((p.short_rate_variance(t) - theory_x).abs() < 1e-12 * theory_x);
            assert!((p.integrated_variance(t) - theory_i).abs() < 1e-10 * theory_i);
            assert!((p.convexity(t) - theory_c).abs() < 1e-12 * theory_c);
            // Gaussian standard errors of second moments.
            let se_var = |v: f64| v * (2.0 / nf).sqrt();
            assert!(
                (var_x - theory_x).abs() < 4.0 * se_var(theory_x),
                "t = {t}: {var_x}"
            );
            assert!(
                (var_i - theory_i).abs() < 4.0 * se_var(theory_i),
                "t = {t}: {var_i}"
            );
            let se_cov = ((theory_x * theory_i + theory_c * theory_c) / nf).sqrt();
            assert!((cov - theory_c).abs() < 4.0 * se_cov, "t = {t}: {cov}");
        }
    }

    #[test]
    fn discount_factor_is_the_integral_of_the_short_rate() {
        // Fine grid: the trapezoidal integral of r along a path matches −ln D.
        let dt = 1.0 / 1000.0;
        let grid: Vec<f64> = (1..=2000).map(|i| f64::from(i) * dt).collect();
        let p = params(0.2, 0.01);
        let out = simulate(&test_curve, &p, &spec(grid.clone(), 4, false)).unwrap();
        for path in 0..4 {
            let rates = out.short_rates(path);
            let mut integral = 0.0;
            let mut previous = test_forward(0.0); // r(0) = φ(0) = f(0,0)
            for (k, &r) in rates.iter().enumerate() {
                integral += 0.5 * (previous + r) * dt;
                previous = r;
                let exact = -out.discounts(path)[k].ln();
                assert!((integral - exact).abs() < 5e-5, "t = {}", grid[k]);
            }
        }
    }

    #[test]
    fn series_and_closed_forms_agree() {
        for &y in &[
            1e-12_f64, 1e-6, 1e-3, 0.1, 0.5, 0.999, 1.0, 1.001, 2.0, 10.0,
        ] {
            let closed = if y >= 0.1 {
                let e = (-y).exp();
                (y - 2.0 * (1.0 - e) + 0.5 * (1.0 - e * e)) / y.powi(3)
            } else {
                1.0 / 3.0 - y / 4.0 + 7.0 * y * y / 60.0 - y.powi(3) / 24.0
            };
            let got = integrated_factor(y);
            assert!(
                (got - closed).abs() < 1e-9 * closed,
                "y = {y}: {got} vs {closed}"
            );
        }
        // Continuity across the switch at y = 1.
        let below = integrated_factor(1.0 - f64::EPSILON);
        let above = integrated_factor(1.0);
        assert!((below - above).abs() < 1e-15, "{below} vs {above}");
        assert_eq!(decay_factor(0.0), 1.0);
        assert!((decay_factor(1e-10) - (1.0 - 0.5e-10)).abs() < 1e-16);
    }

    #[test]
    fn tiny_mean_reversion_stays_finite() {
        let p = params(1e-300, 0.01);
        assert!((p.integrated_variance(3.0) - 1e-4 * 9.0).abs() < 1e-15);
        let out = simulate(&test_curve, &p, &spec(vec![1.0, 2.0], 2, true)).unwrap();
        assert!(out
            .all_discounts()
            .iter()
            .all(|d| d.is_finite() && *d > 0.0));
    }

    #[test]
    fn streams_differ_between_paths() {
        let out = simulate(&test_curve, &params(0.05, 0.01), &spec(vec![1.0], 3, false)).unwrap();
        assert_ne!(out.short_rates(0), out.short_rates(1));
        assert_ne!(out.short_rates(1), out.short_rates(2));
    }

    #[test]
    fn monthly_grid_shape() {
        let g = monthly_grid(30.0);
        assert_eq!(g.len(), 360);
        assert_eq!(g[0], 1.0 / 12.0);
        assert_eq!(g[359], 30.0);
        assert!(g.windows(2).all(|w| w[1] > w[0]));
        assert!(monthly_grid(0.0).is_empty());
        assert!(monthly_grid(f64::NAN).is_empty());
        assert!(monthly_grid(-1.0).is_empty());
    }

    #[test]
    fn discount_function_accepts_closures_and_trait_objects() {
        let dyn_curve: &(dyn Fn(f64) -> f64 + Sync) = &test_curve;
        let a = simulate(dyn_curve, &params(0.05, 0.01), &spec(vec![1.0], 2, false)).unwrap();
        let b = simulate(&test_curve, &params(0.05, 0.01), &spec(vec![1.0], 2, false)).unwrap();
        assert_eq!(a, b);
    }
}
