//! One-dimensional interpolation on increasing nodes, with flat extrapolation.
//!
//! Methods:
//! * [`Interpolation::Linear`]: piecewise linear.
//! * [`Interpolation::MonotoneCubic`]: piecewise cubic Hermite with the Fritsch–Carlson
//!   slope limiter (Fritsch & Carlson, *Monotone piecewise cubic interpolation*, SIAM J.
//!   Numer. Anal. 1980): C¹, no overshoot, monotone wherever the data are.
//!
//! Outside the nodes the value is the first or last node's value (flat extrapolation).
//! Curve-specific schemes (log-linear discount factors, Hagan–West monotone convex) live with
//! the curves, which know what the nodes mean.

/// How to interpolate between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Interpolation {
    /// Piecewise linear.
    #[default]
    Linear,
    /// Monotone piecewise cubic Hermite (Fritsch–Carlson).
    MonotoneCubic,
}

/// An interpolant over nodes `(x_i, y_i)` with strictly increasing `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpolator {
    method: Interpolation,
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// Node slopes (monotone cubic only).
    slopes: Vec<f64>,
}

/// Why nodes cannot be interpolated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolationError {
    /// No node at all.
    #[error("no nodes to interpolate")]
    Empty,
    /// `xs` and `ys` differ in length.
    #[error("{xs} x values but {ys} y values")]
    LengthMismatch {
        /// Number of x values.
        xs: usize,
        /// Number of y values.
        ys: usize,
    },
    /// A node is not finite.
    #[error("node {index} is not a finite number")]
    NotFinite {
        /// Index of the node.
        index: usize,
    },
    /// The x values do not increase strictly.
    #[error("x values must increase strictly: node {index} ({x}) is not after the one before")]
    NotIncreasing {
        /// Index of the offending node.
        index: usize,
        /// Its x value.
        x: f64,
    },
}

impl Interpolator {
    /// Builds the interpolant; checks that the nodes are finite and strictly increasing.
    pub fn new(
        method: Interpolation,
        xs: Vec<f64>,
        ys: Vec<f64>,
    ) -> Result<Interpolator, InterpolationError> {
        if xs.is_empty() {
            return Err(InterpolationError::Empty);
        }
        if xs.len() != ys.len() {
            return Err(InterpolationError::LengthMismatch {
                xs: xs.len(),
                ys: ys.len(),
            });
        }
        for (i, (x, y)) in xs.iter().zip(&ys).enumerate() {
            if !x.is_finite() || !y.is_finite() {
                return Err(InterpolationError::NotFinite { index: i });
            }
            if i > 0 && *x <= xs[i - 1] {
                return Err(InterpolationError::NotIncreasing { index: i, x: *x });
            }
        }
        let slopes = match method {
            Interpolation::Linear => Vec::new(),
            Interpolation::MonotoneCubic => fritsch_carlson_slopes(&xs, &ys),
        };
        Ok(Interpolator {
            method,
            xs,
            ys,
            slopes,
        })
    }

    /// The method.
    pub fn method(&self) -> Interpolation {
        self.method
    }

    /// The node abscissae.
    pub fn xs(&self) -> &[f64] {
        &self.xs
    }

    /// The node values.
    pub fn ys(&self) -> &[f64] {
        &self.ys
    }

    /// The interpolated value at `x` (flat outside the nodes).
    pub fn value(&self, x: f64) -> f64 {
        let n = self.xs.len();
        if x <= self.xs[0] {
            return self.ys[0];
        }
        if x >= self.xs[n - 1] {
            return self.ys[n - 1];
        }
        // Index of the interval [x_i, x_{i+1}] holding x.
        let i = self.xs.partition_point(|&v| v <= x) - 1;
        let (x0, x1, y0, y1) = (self.xs[i], self.xs[i + 1], self.ys[i], self.ys[i + 1]);
        let h = x1 - x0;
        let s = (x - x0) / h;
        match self.method {
            Interpolation::Linear => y0 + (y1 - y0) * s,
            Interpolation::MonotoneCubic => {
                let (m0, m1) = (self.slopes[i], self.slopes[i + 1]);
                let s2 = s * s;
                let s3 = s2 * s;
                let h00 = 2.0 * s3 - 3.0 * s2 + 1.0;
                let h10 = s3 - 2.0 * s2 + s;
                let h01 = -2.0 * s3 + 3.0 * s2;
                let h11 = s3 - s2;
                h00 * y0 + h10 * h * m0 + h01 * y1 + h11 * h * m1
            }
        }
    }
}

/// Node slopes for a monotone cubic Hermite interpolant (Fritsch–Carlson): start from the
/// three-point (harmonic-free) average of the secants, set the slope to zero at local extrema,
/// and scale pairs of slopes down where they would overshoot (α² + β² ≤ 9).
fn fritsch_carlson_slopes(xs: &[f64], ys: &[f64]) -> Vec<f64> {
    let n = xs.len();
    if n == 1 {
        return vec![0.0];
    }
    let secants: Vec<f64> = (0..n - 1)
        .map(|i| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]))
        .collect();
    let mut m = vec![0.0; n];
    m[0] = secants[0];
    m[n - 1] = secants[n - 2];
    for i in 1..n - 1 {
        m[i] = if secants[i - 1] * secants[i] <= 0.0 {
            0.0
        } else {
            (secants[i - 1] + secants[i]) / 2.0
        };
    }
    for i in 0..n - 1 {
        let d = secants[i];
        if d == 0.0 {
            m[i] = 0.0;
            m[i + 1] = 0.0;
            continue;
        }
        let a = m[i] / d;
        let b = m[i + 1] / d;
        let r = a * a + b * b;
        if r > 9.0 {
            let tau = 3.0 / r.sqrt();
            m[i] = tau * a * d;
            m[i + 1] = tau * b * d;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn linear_by_hand() {
        let f = Interpolator::new(
            Interpolation::Linear,
            vec![1.0, 2.0, 4.0],
            vec![10.0, 20.0, 0.0],
        )
        .unwrap();
        assert_eq!(f.value(1.5), 15.0);
        assert_eq!(f.value(3.0), 10.0);
        assert_eq!(f.value(0.0), 10.0, "flat on the left");
        assert_eq!(f.value(9.0), 0.0, "flat on the right");
    }

    #[test]
    fn bad_nodes_are_errors() {
        assert_eq!(
            Interpolator::new(Interpolation::Linear, vec![], vec![]),
            Err(InterpolationError::Empty)
        );
        assert!(matches!(
            Interpolator::new(Interpolation::Linear, vec![1.0, 1.0], vec![0.0, 1.0]),
            Err(InterpolationError::NotIncreasing { index: 1, .. })
        ));
        assert!(matches!(
            Interpolator::new(Interpolation::Linear, vec![1.0, f64::NAN], vec![0.0, 1.0]),
            Err(InterpolationError::NotFinite { index: 1 })
        ));
    }

    #[test]
    fn cubic_reproduces_a_line_exactly() {
        let xs = vec![0.5, 1.0, 2.0, 5.0, 10.0];
        let ys: Vec<f64> = xs.iter().map(|x| 0.01 + 0.002 * x).collect();
        let f = Interpolator::new(Interpolation::MonotoneCubic, xs, ys).unwrap();
        for x in [0.7, 1.3, 3.3, 7.7] {
            assert!((f.value(x) - (0.01 + 0.002 * x)).abs() < 1e-15);
        }
    }

    proptest! {
        /// Both methods pass through every node; the monotone cubic stays within the range of
        /// each interval's end values (no overshoot) and is monotone where the data are.
        #[test]
        fn nodes_and_no_overshoot(ys in proptest::collection::vec(-0.05f64..0.1, 2..12),
                                  gaps in proptest::collection::vec(0.05f64..5.0, 12)) {
            let mut xs = Vec::new();
            let mut x = 0.0;
            for g in gaps.iter().take(ys.len()) {
                x += g;
                xs.push(x);
            }
            for method in [Interpolation::Linear, Interpolation::MonotoneCubic] {
                let f = Interpolator::new(method, xs.clone(), ys.clone()).unwrap();
                for (x, y) in xs.iter().zip(&ys) {
                    prop_assert!((f.value(*x) - y).abs() < 1e-15);
                }
                for i in 0..xs.len() - 1 {
                    let (lo, hi) = (ys[i].min(ys[i + 1]), ys[i].max(ys[i + 1]));
                    let mut prev = f.value(xs[i]);
                    for k in 1..=20 {
                        let v = f.value(xs[i] + (xs[i + 1] - xs[i]) * f64::from(k) / 20.0);
                        prop_assert!(v >= lo - 1e-14 && v <= hi + 1e-14);
                        if ys[i + 1] >= ys[i] {
                            prop_assert!(v >= prev - 1e-14);
                        } else {
                            prop_assert!(v <= prev + 1e-14);
                        }
                        prev = v;
                    }
                }
            }
        }
    }
}
