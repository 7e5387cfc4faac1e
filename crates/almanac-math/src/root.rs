//! One-dimensional root finding: Brent's method (Brent, *Algorithms for Minimization without
//! Derivatives*, 1973, ch. 4): bisection safeguarded inverse quadratic / secant steps, so it
//! converges whenever the root is bracketed, usually superlinearly.

/// Why no root was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    /// `f(lo)` and `f(hi)` have the same sign, so the interval may hold no root.
    #[error("the interval [{lo}, {hi}] does not bracket a root (f = {f_lo} and {f_hi})")]
    NotBracketed {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
        /// `f(lo)`.
        f_lo: f64,
        /// `f(hi)`.
        f_hi: f64,
    },
    /// The function returned a non-finite value.
    #[error("the function is not finite at {x}")]
    NotFinite {
        /// Where.
        x: f64,
    },
    /// No convergence within the iteration budget.
    #[error("no convergence after {iterations} iterations (last x = {x})")]
    NoConvergence {
        /// Iterations made.
        iterations: usize,
        /// Last estimate.
        x: f64,
    },
}

/// A root of `f` in `[lo, hi]` to absolute tolerance `tol` in x (or where `f` is exactly 0).
pub fn brent(mut f: impl FnMut(f64) -> f64, lo: f64, hi: f64, tol: f64) -> Result<f64, RootError> {
    const MAX_ITER: usize = 200;
    let (mut a, mut b) = (lo, hi);
    let (mut fa, mut fb) = (f(a), f(b));
    if !fa.is_finite() {
        return Err(RootError::NotFinite { x: a });
    }
    if !fb.is_finite() {
        return Err(RootError::NotFinite { x: b });
    }
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if fa.signum() == fb.signum() {
        return Err(RootError::NotBracketed {
            lo,
            hi,
            f_lo: fa,
            f_hi: fb,
        });
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..MAX_ITER {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * f64::EPSILON * b.abs() + 0.5 * tol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol1 || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            // Inverse quadratic interpolation (secant when only two points differ).
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let q0 = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * q0 * (q0 - r) - (b - a) * (r - 1.0));
                q = (q0 - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol1 * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol1 { d } else { tol1.copysign(m) };
        fb = f(b);
        if !fb.is_finite() {
            return Err(RootError::NotFinite { x: b });
        }
    }
    Err(RootError::NoConvergence {
        iterations: MAX_ITER,
        x: b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_known_roots() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, 1e-15).unwrap();
        assert!((r - std::f64::consts::SQRT_2).abs() < 1e-14);
        let r = brent(|x| x.cos() - x, 0.0, 1.0, 1e-15).unwrap();
        assert!((r.cos() - r).abs() < 1e-14);
        // A flat-then-steep function (like a discount factor in a far pillar).
        let r = brent(|x| (-x * 30.0).exp() - 0.5, -1.0, 1.0, 1e-16).unwrap();
        assert!((r - 2f64.ln() / 30.0).abs() < 1e-15);
    }

    #[test]
    fn unbracketed_and_nan_are_errors() {
        assert!(matches!(
            brent(|x| x * x + 1.0, -1.0, 1.0, 1e-12),
            Err(RootError::NotBracketed { .. })
        ));
        assert!(matches!(
            brent(|_| f64::NAN, -1.0, 1.0, 1e-12),
            Err(RootError::NotFinite { .. })
        ));
    }
}
