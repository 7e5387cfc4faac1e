//! Maturity ladder and survival horizon (spec `regulatory-metrics.md` §4): inflows and outflows
//! by time bucket after the as-of date, the net and cumulative gap, the liquidity position
//! against the counterbalancing capacity, and the survival horizon (§4.3 — our definition, not
//! a regulatory one).
//!
//! Buckets are calendar periods from the as-of date: a flow on date `d` falls in the first
//! bucket whose end date is on or after `d` (the overnight bucket ends the day after the
//! as-of date). Amounts are positive units; a gap is `inflows − outflows`.

use almanac_time::Date;
use serde::Serialize;

/// The end of a bucket, counted from the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// This many calendar days after the as-of date.
    Days(i32),
    /// This many calendar months after the as-of date.
    Months(i32),
    /// No end: everything after the previous bucket.
    Never,
}

/// One bucket of a ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Label.
    pub label: &'static str,
    /// Column of the reporting template (`C 66.01` column code), if any.
    pub column: &'static str,
    /// Its end.
    pub end: End,
}

const fn b(label: &'static str, column: &'static str, end: End) -> Bucket {
    Bucket { label, column, end }
}

/// The 21 time buckets of EU C 66.01 (ITS 2021/451 Annex XXII; spec §4.1), overnight to
/// beyond five years.
pub const C66_BUCKETS: [Bucket; 21] = [
    b("Overnight", "0020", End::Days(1)),
    b("> overnight – 2 days", "0030", End::Days(2)),
    b("> 2 – 3 days", "0040", End::Days(3)),
    b("> 3 – 4 days", "0050", End::Days(4)),
    b("> 4 – 5 days", "0060", End::Days(5)),
    b("> 5 – 6 days", "0070", End::Days(6)),
    b("> 6 – 7 days", "0080", End::Days(7)),
    b("> 7 days – 2 weeks", "0090", End::Days(14)),
    b("> 2 – 3 weeks", "0100", End::Days(21)),
    b("> 3 weeks – 30 days", "0110", End::Days(30)),
    b("> 30 days – 5 weeks", "0120", End::Days(35)),
    b("> 5 weeks – 2 months", "0130", End::Months(2)),
    b("> 2 – 3 months", "0140", End::Months(3)),
    b("> 3 – 4 months", "0150", End::Months(4)),
    b("> 4 – 5 months", "0160", End::Months(5)),
    b("> 5 – 6 months", "0170", End::Months(6)),
    b("> 6 – 9 months", "0180", End::Months(9)),
    b("> 9 – 12 months", "0190", End::Months(12)),
    b("> 12 months – 2 years", "0200", End::Months(24)),
    b("> 2 – 5 years", "0210", End::Months(60)),
    b("> 5 years", "0220", End::Never),
];

/// The Basel contractual maturity mismatch buckets (SRP50.6–50.13; spec §4.2).
pub const BASEL_BUCKETS: [Bucket; 13] = [
    b("Overnight", "", End::Days(1)),
    b("> overnight – 7 days", "", End::Days(7)),
    b("> 7 – 14 days", "", End::Days(14)),
    b("> 14 days – 1 month", "", End::Months(1)),
    b("> 1 – 2 months", "", End::Months(2)),
    b("> 2 – 3 months", "", End::Months(3)),
    b("> 3 – 6 months", "", End::Months(6)),
    b("> 6 – 9 months", "", End::Months(9)),
    b("> 9 months – 1 year", "", End::Months(12)),
    b("> 1 – 2 years", "", End::Months(24)),
    b("> 2 – 3 years", "", End::Months(36)),
    b("> 3 – 5 years", "", End::Months(60)),
    b("> 5 years", "", End::Never),
];

/// A set of buckets resolved to dates from an as-of date.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The as-of date.
    pub as_of: Date,
    /// The buckets.
    pub buckets: Vec<Bucket>,
    /// Each bucket's last date (inclusive); `None` for the open-ended last one.
    pub ends: Vec<Option<Date>>,
}

impl Grid {
    /// `buckets` from `as_of`. Their ends must increase.
    ///
    /// # Errors
    /// Ends that do not increase, or an open end before the last bucket.
    pub fn new(as_of: Date, buckets: &[Bucket]) -> Result<Grid, super::LiquidityError> {
        let ends: Vec<Option<Date>> = buckets
            .iter()
            .map(|b| match b.end {
                End::Days(n) => Some(as_of.add_days(n)),
                End::Months(n) => Some(as_of.add_months(n)),
                End::Never => None,
            })
            .collect();
        for (k, w) in ends.windows(2).enumerate() {
            let ok = match (w[0], w[1]) {
                (Some(a), Some(b)) => a < b,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !ok {
                return Err(super::LiquidityError(format!(
                    "ladder bucket {:?} does not end after {:?}",
                    buckets[k + 1].label,
                    buckets[k].label
                )));
            }
        }
        Ok(Grid {
            as_of,
            buckets: buckets.to_vec(),
            ends,
        })
    }

    /// The bucket of a flow on `date` (a date on or before the as-of date is overnight); `None`
    /// beyond a closed last bucket.
    pub fn bucket_of(&self, date: Date) -> Option<usize> {
        let k = self.ends.partition_point(|e| e.is_some_and(|e| e < date));
        (k < self.ends.len()).then_some(k)
    }

    /// Days from the as-of date to the end of bucket `k` (`None` for an open end).
    pub fn days_to_end(&self, k: usize) -> Option<i32> {
        self.ends[k].map(|e| self.as_of.days_until(e))
    }
}

/// The survival horizon and the positions it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survival {
    /// Net gap by bucket: inflows − outflows.
    pub gap: Vec<f64>,
    /// Cumulative net gap by bucket.
    pub cumulative_gap: Vec<f64>,
    /// Counterbalancing capacity at the end of each bucket.
    pub capacity: Vec<f64>,
    /// Liquidity position: capacity + cumulative gap.
    pub position: Vec<f64>,
    /// The last bucket through which the position stays non-negative (`None`: not even the
    /// first).
    pub last_surviving_bucket: Option<usize>,
    /// Days from the as-of date to the end of that bucket; `None` when the bank survives
    /// every bucket (beyond the last) or none.
    pub days: Option<i32>,
    /// The horizon interpolated inside the first failing bucket, flows spread evenly over it
    /// (§4.3): `start + LP_before / fall × (end − start)`, in days, where `fall` is how much
    /// the position drops over the bucket (`−gap` without capacity flows).
    pub interpolated_days: Option<f64>,
    /// Whether the position is non-negative in every bucket.
    pub beyond_last_bucket: bool,
}

/// The survival horizon on `grid` of the flows `inflows[k]`, `outflows[k]` by bucket, from an
/// initial counterbalancing capacity `initial` and its net flows `capacity_flows[k]` (maturing
/// or encumbered CBC assets, facilities drawn; empty for none).
pub fn survival(
    grid: &Grid,
    inflows: &[f64],
    outflows: &[f64],
    initial: f64,
    capacity_flows: &[f64],
) -> Survival {
    let n = grid.buckets.len();
    let at = |v: &[f64], k: usize| v.get(k).copied().unwrap_or(0.0);
    let (mut gap, mut cumulative_gap, mut capacity, mut position) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut cg, mut cbc) = (0.0, initial);
    for k in 0..n {
        let g = at(inflows, k) - at(outflows, k);
        cg += g;
        cbc += at(capacity_flows, k);
        gap.push(g);
        cumulative_gap.push(cg);
        capacity.push(cbc);
        position.push(cbc + cg);
    }
    let first_failing = position.iter().position(|p| *p < 0.0);
    let last_surviving_bucket = match first_failing {
        Some(0) => None,
        Some(f) => Some(f - 1),
        None => n.checked_sub(1),
    };
    let days = match first_failing {
        Some(_) => last_surviving_bucket.and_then(|k| grid.days_to_end(k)),
        None => None,
    };
    let interpolated_days = first_failing.and_then(|f| {
        let start = if f == 0 { 0 } else { grid.days_to_end(f - 1)? };
        let end = grid.days_to_end(f)?;
        let before = if f == 0 { initial } else { position[f - 1] };
        // The position falls by −(its change) over the bucket; it reaches zero this far in.
        let fall = before - position[f];
        (fall > 0.0).then(|| f64::from(start) + before / fall * f64::from(end - start))
    });
    Survival {
        gap,
        cumulative_gap,
        capacity,
        position,
        last_surviving_bucket,
        days,
        interpolated_days,
        beyond_last_bucket: first_failing.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_resolve_to_dates_and_flows_fall_in_them() {
        let as_of = Date::ymd(2026, 1, 31);
        let g = Grid::new(as_of, &C66_BUCKETS).unwrap();
        assert_eq!(g.bucket_of(as_of), Some(0));
        assert_eq!(g.bucket_of(Date::ymd(2026, 2, 1)), Some(0));
        assert_eq!(g.bucket_of(Date::ymd(2026, 2, 2)), Some(1));
        assert_eq!(g.bucket_of(Date::ymd(2026, 3, 2)), Some(9), "30 days");
        assert_eq!(g.bucket_of(Date::ymd(2026, 3, 3)), Some(10));
        // Two months from 31 January end on the last day of March.
        assert_eq!(g.ends[11], Some(Date::ymd(2026, 3, 31)));
        assert_eq!(g.bucket_of(Date::ymd(2026, 3, 31)), Some(11));
        assert_eq!(g.bucket_of(Date::ymd(2040, 1, 1)), Some(20));
        let basel = Grid::new(as_of, &BASEL_BUCKETS).unwrap();
        assert_eq!(basel.bucket_of(Date::ymd(2026, 2, 7)), Some(1));
        let bad = [C66_BUCKETS[2], C66_BUCKETS[1]];
        assert!(Grid::new(as_of, &bad).is_err());
    }

    /// The worked example of spec §6.8: CBC 150, the position first negative in "> 2 – 3
    /// months": horizon the end of "> 5 weeks – 2 months", interpolated 35 / 50 into the next.
    #[test]
    fn worked_example_6_8() {
        let as_of = Date::ymd(2026, 1, 31);
        let g = Grid::new(as_of, &C66_BUCKETS).unwrap();
        let outflows = [
            40.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0, 20.0, 20.0, 25.0, 15.0, 20.0, 60.0,
        ];
        let inflows = [
            5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 5.0, 10.0, 10.0, 15.0, 5.0, 5.0, 10.0,
        ];
        let s = survival(&g, &inflows, &outflows, 150.0, &[]);
        assert_eq!(s.cumulative_gap[12], -165.0);
        assert_eq!(s.position[11], 35.0);
        assert_eq!(s.position[12], -15.0);
        assert_eq!(s.last_surviving_bucket, Some(11));
        assert_eq!(C66_BUCKETS[11].label, "> 5 weeks – 2 months");
        // Two months: 31 January to 31 March.
        assert_eq!(s.days, Some(59));
        // 2.7 months: 35 / 50 of the way from the end of March to the end of April.
        let (start, end) = (59.0, 89.0);
        let expected = start + 0.7 * (end - start);
        assert!((s.interpolated_days.unwrap() - expected).abs() < 1e-9);
        assert!(!s.beyond_last_bucket);
        // A bank that never runs short survives beyond the last bucket.
        let s = survival(&g, &[1.0], &[0.0], 0.0, &[]);
        assert!(s.beyond_last_bucket && s.days.is_none() && s.interpolated_days.is_none());
        // One short from the start: no surviving bucket, the fall interpolated from day 0.
        let s = survival(&g, &[0.0], &[10.0], 5.0, &[]);
        assert_eq!(s.last_surviving_bucket, None);
        assert_eq!(s.interpolated_days, Some(0.5));
    }
}
