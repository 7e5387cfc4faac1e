//! The 19 time buckets of the Basel standardised framework (SRP31.96 Table 3) with their
//! midpoints, in years.

/// One time bucket: flows with repricing time `t` in `(lower, upper]` (the first bucket holds
/// everything up to and including its upper bound, i.e. overnight).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Label as in the regulation.
    pub label: &'static str,
    /// Lower bound in years (exclusive; 0 for overnight).
    pub lower: f64,
    /// Upper bound in years (inclusive; infinite for the last bucket).
    pub upper: f64,
    /// Midpoint in years, used for discounting in the standardised method.
    pub midpoint: f64,
}

const fn b(label: &'static str, lower: f64, upper: f64, midpoint: f64) -> Bucket {
    Bucket {
        label,
        lower,
        upper,
        midpoint,
    }
}

/// Upper bound of the overnight bucket: one day, rounded up to 0.003 year so that the
/// regulation's own overnight midpoint (0.0028) falls inside it.
const OVERNIGHT: f64 = 0.003;

/// The 19 buckets and midpoints of SRP31.96 Table 3.
pub const BCBS_BUCKETS: [Bucket; 19] = [
    b("Overnight", 0.0, OVERNIGHT, 0.0028),
    b("O/N-1M", OVERNIGHT, 1.0 / 12.0, 0.0417),
    b("1M-3M", 1.0 / 12.0, 0.25, 0.1667),
    b("3M-6M", 0.25, 0.5, 0.375),
    b("6M-9M", 0.5, 0.75, 0.625),
    b("9M-1Y", 0.75, 1.0, 0.875),
    b("1Y-1.5Y", 1.0, 1.5, 1.25),
    b("1.5Y-2Y", 1.5, 2.0, 1.75),
    b("2Y-3Y", 2.0, 3.0, 2.5),
    b("3Y-4Y", 3.0, 4.0, 3.5),
    b("4Y-5Y", 4.0, 5.0, 4.5),
    b("5Y-6Y", 5.0, 6.0, 5.5),
    b("6Y-7Y", 6.0, 7.0, 6.5),
    b("7Y-8Y", 7.0, 8.0, 7.5),
    b("8Y-9Y", 8.0, 9.0, 8.5),
    b("9Y-10Y", 9.0, 10.0, 9.5),
    b("10Y-15Y", 10.0, 15.0, 12.5),
    b("15Y-20Y", 15.0, 20.0, 17.5),
    b(">20Y", 20.0, f64::INFINITY, 25.0),
];

/// Index of the bucket holding repricing time `t` (years; `t ≤ 0` is overnight).
pub fn bucket_of(t: f64) -> usize {
    BCBS_BUCKETS
        .iter()
        .position(|b| t <= b.upper)
        .unwrap_or(BCBS_BUCKETS.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_time_axis() {
        for w in BCBS_BUCKETS.windows(2) {
            assert_eq!(w[0].upper, w[1].lower);
            assert!(w[0].midpoint < w[1].midpoint);
        }
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(1.0 / 365.0), 0);
        assert_eq!(bucket_of(0.0028), 0);
        assert_eq!(bucket_of(2.0 / 365.0), 1);
        assert_eq!(bucket_of(0.3), 3);
        assert_eq!(bucket_of(1.0), 5);
        assert_eq!(bucket_of(1.0001), 6);
        assert_eq!(bucket_of(4.5), 10);
        assert_eq!(bucket_of(60.0), 18);
    }
}
