//! Net interest income over a horizon of up to five years, month by month, under a constant
//! balance sheet (regulatory-metrics spec §1.9; RTS 2024/856 Art 4): the existing book earns
//! its contractual interest (floating resets projected on each scenario's forwards), and every
//! principal repaid within the horizon is replaced by the same product — same repricing tenor,
//! same spread over the market — at the scenario's rates, rolling over at its tenor until the
//! horizon. Ramped scenarios move the market linearly from the base to the shocked curve over
//! the first year.
//!
//! Conventions, stated once:
//! * The existing book's NII is its interest accrual: each interest payment accrues evenly (by
//!   days) over its period, the first one net of the interest accrued before the as-of date.
//!   Interest capitalised into principal (IPCI) is not counted.
//! * A replacement starts on the repayment day and rolls over every tenor at the same point of
//!   its month; its rate is the simple forward over the tenor on the scenario's discount curve
//!   of its currency at the start of the month it reprices in, plus the contract's spread over
//!   the base curve today (`rate − F₀(0, τ)`). Tenors are rounded to 1, 3, 6, 12, 24, 60, 120
//!   or 240 months (the contract's rate-reset period if it floats, else its original term).
//! * Ramped: the market at time `t` is `base + min(t, 1) · (shocked − base)`; a floater's
//!   accrual moves by the same share of its instantaneous change.
//! * Amounts from the bank's side: income positive, expense negative; in each currency's units.

use almanac_actus::ContractTerms;
use almanac_market::MarketSnapshot;
use almanac_time::Date;

use super::flows::{Flows, Kind};

/// Replacement tenors, in months.
pub const TENORS: [u32; 8] = [1, 3, 6, 12, 24, 60, 120, 240];

/// The replacement tenor class of a contract: its rate-reset period if it floats, else its
/// original term (initial exchange to maturity); one month when neither is known.
pub fn tenor_class(t: &ContractTerms) -> usize {
    let years = match (
        &t.cycle_of_rate_reset,
        t.initial_exchange_date,
        t.maturity_date,
    ) {
        (Some(c), _, _) => c.period.approx_years(),
        (None, Some(ied), Some(md)) => f64::from(ied.date().days_until(md.date())) / 365.25,
        _ => 1.0 / 12.0,
    };
    let months = (years * 12.0).max(1.0);
    // The nearest tenor on a log scale; the tenors' logarithms are taken once per process
    // (a million contracts would otherwise take them thirty times each).
    static LN_TENORS: std::sync::LazyLock<[f64; TENORS.len()]> =
        std::sync::LazyLock::new(|| TENORS.map(|m| f64::from(m).ln()));
    let ln_months = months.ln();
    LN_TENORS
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let d = |ln_m: f64| (ln_m - ln_months).abs();
            d(*a.1).total_cmp(&d(*b.1))
        })
        .map_or(0, |(k, _)| k)
}

/// The monthly grid of a horizon: month `i` covers days `[start[i], start[i + 1])` after the
/// as-of date.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthGrid {
    /// Day offsets of the month starts, `months + 1` of them.
    pub start: Vec<u32>,
}

impl MonthGrid {
    /// The grid of `months` calendar months from `as_of`.
    pub fn new(as_of: Date, months: usize) -> MonthGrid {
        MonthGrid {
            start: (0..=months)
                .map(|i| as_of.days_until(as_of.add_months(i as i32)).max(0) as u32)
                .collect(),
        }
    }

    /// Number of months.
    pub fn months(&self) -> usize {
        self.start.len() - 1
    }

    /// The horizon in days.
    pub fn days(&self) -> u32 {
        self.start[self.months()]
    }

    /// The month holding `day` (< horizon).
    pub fn month_of(&self, day: u32) -> usize {
        self.start.partition_point(|s| *s <= day).saturating_sub(1)
    }

    /// Length of month `i` in days.
    pub fn len(&self, i: usize) -> u32 {
        self.start[i + 1] - self.start[i]
    }

    /// Spreads `amount` accruing evenly over days `(a, b]` into `out[month]`, within the grid.
    pub fn spread(&self, a: u32, b: u32, amount: f64, out: &mut [f64]) {
        self.spread_with(a, b, amount, |i, x| out[i] += x);
    }

    /// The same, handing each month's share to `add(month, amount)`.
    pub fn spread_with(&self, a: u32, b: u32, amount: f64, mut add: impl FnMut(usize, f64)) {
        if b <= a {
            return;
        }
        let per_day = amount / f64::from(b - a);
        let end = b.min(self.days());
        let mut d = a;
        while d < end {
            let i = self.month_of(d);
            let next = self.start[i + 1].min(end);
            add(i, per_day * f64::from(next - d));
            d = next;
        }
    }
}

/// Accumulators of one market: the existing book's accrual by `[segment][ccy][month]` and the
/// replacements' sums by `[segment][ccy][tenor][month][4]`: ΣN, ΣN·φ, ΣN·r, ΣN·r·φ, where
/// `N` is the repaid principal, `φ` the fraction of its month gone by on the repayment day and
/// `r` the contract's rate.
#[derive(Debug, Clone)]
pub struct NiiSums {
    segments: usize,
    ccys: usize,
    months: usize,
    /// Existing book.
    pub accrual: Vec<f64>,
    /// Replacements.
    pub replacement: Vec<f64>,
    /// Which `[segment][ccy]` blocks may hold anything but zeros: a chunk of the engine
    /// touches one or two segments, and emptying and adding the sums of all of them (some
    /// 120 kB per market with twenty segments) for each chunk was 2 % of a 1M run.
    touched: Vec<bool>,
}

/// Equal sums, whichever blocks were touched.
impl PartialEq for NiiSums {
    fn eq(&self, other: &NiiSums) -> bool {
        (self.segments, self.ccys, self.months) == (other.segments, other.ccys, other.months)
            && self.accrual == other.accrual
            && self.replacement == other.replacement
    }
}

impl NiiSums {
    /// Zeroed sums.
    pub fn new(segments: usize, ccys: usize, months: usize) -> NiiSums {
        NiiSums {
            segments,
            ccys,
            months,
            accrual: vec![0.0; segments * ccys * months],
            replacement: vec![0.0; segments * ccys * TENORS.len() * months * 4],
            touched: vec![false; segments * ccys],
        }
    }

    /// The length of a `[segment][ccy]` block of the replacement sums.
    fn replacement_block(&self) -> usize {
        TENORS.len() * self.months * 4
    }

    /// Sets every sum to zero.
    pub fn clear(&mut self) {
        let (m, r) = (self.months, self.replacement_block());
        for (b, t) in self.touched.iter_mut().enumerate() {
            if std::mem::take(t) {
                self.accrual[b * m..(b + 1) * m].fill(0.0);
                self.replacement[b * r..(b + 1) * r].fill(0.0);
            }
        }
    }

    /// Adds another's sums.
    pub fn add(&mut self, other: &NiiSums) {
        let (m, r) = (self.months, self.replacement_block());
        for (b, t) in other.touched.iter().enumerate() {
            if !t {
                continue;
            }
            self.touched[b] = true;
            let (a, x) = (
                &mut self.accrual[b * m..(b + 1) * m],
                &other.accrual[b * m..],
            );
            a.iter_mut().zip(x).for_each(|(a, b)| *a += b);
            let (a, x) = (
                &mut self.replacement[b * r..(b + 1) * r],
                &other.replacement[b * r..],
            );
            a.iter_mut().zip(x).for_each(|(a, b)| *a += b);
        }
    }

    /// Adds staged contributions (see [`NiiSums::stage`]).
    pub fn apply(&mut self, staged: &[Staged]) {
        let (m, r) = (self.months, self.replacement_block());
        for &(replacement, off, x) in staged {
            if replacement {
                self.replacement[off] += x;
                self.touched[off / r] = true;
            } else {
                self.accrual[off] += x;
                self.touched[off / m] = true;
            }
        }
    }

    /// One contract's contributions, without adding them: `(into replacement sums, offset,
    /// amount)`, so a contract is only counted once it is valued on every market.
    pub fn stage(
        &self,
        grid: &MonthGrid,
        segment: usize,
        f: &Flows,
        tenor: usize,
        rate: f64,
        out: &mut Vec<Staged>,
    ) {
        let horizon = grid.days();
        let (g, m) = (segment, self.months);
        let mut prev = 0;
        let mut first = true;
        let mut k = 0;
        while k < f.flows.len() {
            let day = f.flows[k].day;
            let ccy = f.flows[k].ccy as usize;
            let mut interest = None;
            while k < f.flows.len() && f.flows[k].day == day {
                let x = f.flows[k];
                match x.kind {
                    // A flow there only for its commercial margin is not interest the
                    // contract pays: NII includes margins, and is what it is without it.
                    Kind::Interest if x.margin_only() => {}
                    Kind::Interest => *interest.get_or_insert(0.0) += x.amount,
                    Kind::Repayment if x.day < horizon && x.amount != 0.0 => {
                        let j = grid.month_of(x.day);
                        let phi = f64::from(x.day - grid.start[j]) / f64::from(grid.len(j));
                        let off = ((((g * self.ccys + x.ccy as usize) * TENORS.len() + tenor) * m)
                            + j)
                            * 4;
                        let n = x.amount;
                        out.extend([
                            (true, off, n),
                            (true, off + 1, n * phi),
                            (true, off + 2, n * rate),
                            (true, off + 3, n * rate * phi),
                        ]);
                    }
                    _ => {}
                }
                k += 1;
            }
            // Interest flows of a day share one accrual period, from the previous interest
            // day (the as-of date for the first, net of what accrued before it).
            if let (Some(mut amount), true) = (interest, day > 0) {
                if first {
                    amount -= f.accrued_at_as_of;
                    first = false;
                }
                let off = (g * self.ccys + ccy) * m;
                grid.spread_with(prev, day, amount, |i, x| out.push((false, off + i, x)));
                prev = day;
                if day >= horizon {
                    break;
                }
            }
        }
    }
}

/// A staged contribution: `(into the replacement sums, offset, amount)`.
pub type Staged = (bool, usize, f64);

/// Monthly NII of one scenario by segment and currency: `[segment][ccy][month]`.
pub type Monthly = Vec<f64>;

/// The simple forward over `[t, t + τ]` (years) on a market's discount curve of `ccy`.
fn forward(m: &MarketSnapshot, ccy: &str, t: f64, tau: f64) -> f64 {
    m.discount_curve(ccy).map_or(0.0, |c| {
        let (d1, d2) = (c.discount(t), c.discount(t + tau));
        (d1 / d2 - 1.0) / tau
    })
}

/// Monthly NII of a market from its sums: the existing book plus the replacements priced on
/// `market` (with `ramp = Some(years)`: the market moves linearly from `base` to `market` over
/// that many years) and `base` for the spreads.
pub fn monthly(
    sums: &NiiSums,
    grid: &MonthGrid,
    ccys: &[String],
    market: &MarketSnapshot,
    base: &MarketSnapshot,
    ramp: Option<f64>,
) -> Monthly {
    let (segs, nc, m) = (sums.segments, sums.ccys, sums.months);
    let mut out = sums.accrual.clone();
    let t_of = |i: usize| f64::from(grid.start[i]) / 365.0;
    for (c, ccy) in ccys.iter().enumerate() {
        for (k, &tenor_months) in TENORS.iter().enumerate() {
            let tau = f64::from(tenor_months) / 12.0;
            let f0_today = forward(base, ccy, 0.0, tau);
            // The replacement rate (before spread) for a repricing in month i.
            let rate_at: Vec<f64> = (0..m)
                .map(|i| {
                    let shocked = forward(market, ccy, t_of(i), tau);
                    match ramp {
                        Some(years) => {
                            let b = forward(base, ccy, t_of(i), tau);
                            b + (t_of(i) / years).min(1.0) * (shocked - b)
                        }
                        None => shocked,
                    }
                })
                .collect();
            for g in 0..segs {
                let off_out = (g * nc + c) * m;
                for j in 0..m {
                    let off = ((((g * nc + c) * TENORS.len() + k) * m) + j) * 4;
                    let s = &sums.replacement[off..off + 4];
                    if s[0] == 0.0 {
                        continue;
                    }
                    // Spread sums: Σ N·(r − F₀(0, τ)) and the same weighted by φ.
                    let (sp, sp_phi) = (s[2] - f0_today * s[0], s[3] - f0_today * s[1]);
                    let mut current = rate_at[j];
                    for i in j..m {
                        let len = f64::from(grid.len(i)) / 365.0;
                        let since = (i - j) as u32;
                        let income = if i == j {
                            current * (s[0] - s[1]) + (sp - sp_phi)
                        } else if since % tenor_months == 0 {
                            // Reprices in this month at the same point as it started.
                            let new = rate_at[i];
                            let v = current * s[1] + new * (s[0] - s[1]) + sp;
                            current = new;
                            v
                        } else {
                            current * s[0] + sp
                        };
                        out[off_out + i] += income * len;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irrbb::flows::Flow;

    fn flat(rate: f64) -> MarketSnapshot {
        crate::irrbb::testkit::flat(rate)
    }

    /// The replacement tenor is the nearest on a log scale, worked by hand: ln(18/12) = 0.405
    /// exceeds ln(24/18) = 0.288, so an 18-month term rolls at 24 months.
    #[test]
    fn tenor_classes() {
        let terms = |json: &str| -> ContractTerms {
            *serde_json::from_str::<almanac_actus::TermsFromJson>(json)
                .expect("json")
                .0
                .expect("terms")
        };
        let term = |ied: &str, md: &str| {
            terms(&format!(
                r#"{{"contractType":"PAM","contractID":"x","initialExchangeDate":"{ied}T00:00:00",
                    "maturityDate":"{md}T00:00:00"}}"#
            ))
        };
        let tenor = |t: &ContractTerms| TENORS[tenor_class(t)];
        assert_eq!(tenor(&term("2020-01-01", "2050-01-01")), 240);
        assert_eq!(tenor(&term("2025-01-01", "2026-07-02")), 24);
        assert_eq!(tenor(&term("2025-01-01", "2025-04-01")), 3);
        assert_eq!(tenor(&term("2025-01-01", "2025-01-05")), 1);
        let reset = terms(
            r#"{"contractType":"ANN","contractID":"x","initialExchangeDate":"2020-01-01T00:00:00",
                "maturityDate":"2050-01-01T00:00:00","cycleOfRateReset":"P5YL1"}"#,
        );
        assert_eq!(tenor(&reset), 60);
        let nothing = terms(r#"{"contractType":"PAM","contractID":"x"}"#);
        assert_eq!(tenor(&nothing), 1);
    }

    /// Sums that empty and add only the blocks they touched are the full sums: adding gives
    /// the element-wise total, emptying leaves every sum zero, and a reused set sums as a
    /// new one.
    #[test]
    fn sums_touched_by_block_add_and_clear_as_whole_arrays() {
        let (segments, ccys, months) = (5, 2, 12);
        let mut state = 99u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        let mut random_staged = |n: usize| -> Vec<Staged> {
            let r = TENORS.len() * months * 4;
            (0..n)
                .map(|_| {
                    let replacement = next() % 2 == 0;
                    // Only a couple of segments, as in one chunk.
                    let block = (next() % 2 * 3) as usize * ccys + (next() % 2) as usize;
                    let within = (next() as usize) % if replacement { r } else { months };
                    let off = block * if replacement { r } else { months } + within;
                    (replacement, off, (next() % 1000) as f64 - 500.0)
                })
                .collect()
        };
        let mut total = NiiSums::new(segments, ccys, months);
        let mut chunk = NiiSums::new(segments, ccys, months);
        let (mut accrual, mut replacement) = (total.accrual.clone(), total.replacement.clone());
        for _ in 0..20 {
            chunk.clear();
            assert!(chunk
                .accrual
                .iter()
                .chain(&chunk.replacement)
                .all(|x| *x == 0.0));
            let staged = random_staged(50);
            chunk.apply(&staged);
            for &(rep, off, x) in &staged {
                if rep {
                    replacement[off] += x;
                } else {
                    accrual[off] += x;
                }
            }
            total.add(&chunk);
            assert_eq!(total.accrual, accrual);
            assert_eq!(total.replacement, replacement);
        }
        let mut fresh = NiiSums::new(segments, ccys, months);
        fresh.add(&total);
        assert_eq!(fresh, total);
    }

    #[test]
    fn grid_spreads_by_days() {
        let g = MonthGrid::new(Date::ymd(2025, 12, 31), 12);
        assert_eq!(g.days(), 365);
        assert_eq!(g.start[1], 31);
        let mut out = vec![0.0; 12];
        g.spread(0, 365, 365.0, &mut out);
        assert_eq!(out[0], 31.0);
        assert_eq!(out[1], 28.0);
        assert!((out.iter().sum::<f64>() - 365.0).abs() < 1e-9);
        // Beyond the horizon nothing is added.
        let mut out = vec![0.0; 12];
        g.spread(300, 430, 130.0, &mut out);
        assert!((out.iter().sum::<f64>() - 65.0).abs() < 1e-9);
    }

    /// A one-month deposit of 100 at 1 % repaid on day 31 and rolled monthly: under a flat
    /// curve the replacement earns the forward plus the same spread, so the base NII is the
    /// contract rate all year; +200 bp adds about 100 · 2 % · 334/365.
    #[test]
    fn replacement_rolls_at_its_tenor() {
        let g = MonthGrid::new(Date::ymd(2025, 12, 31), 12);
        let base = flat(0.02);
        let up = flat(0.04);
        let mut sums = NiiSums::new(1, 1, 12);
        let flows = Flows {
            flows: vec![
                Flow {
                    day: 31,
                    ccy: 0,
                    kind: Kind::Interest,
                    amount: 100.0 * 0.01 * 31.0 / 365.0,
                    margin: 0.0,
                    notional_after: 0.0,
                },
                Flow {
                    day: 31,
                    ccy: 0,
                    kind: Kind::Repayment,
                    amount: 100.0,
                    margin: 0.0,
                    notional_after: 0.0,
                },
            ],
            ..Flows::default()
        };
        let mut staged = Vec::new();
        sums.stage(&g, 0, &flows, 0, 0.01, &mut staged);
        sums.apply(&staged);
        let ccys = vec!["EUR".to_string()];
        let nii0: f64 = monthly(&sums, &g, &ccys, &base, &base, None).iter().sum();
        let nii1: f64 = monthly(&sums, &g, &ccys, &up, &base, None).iter().sum();
        // Base: 1 % on 100 over the year (the forward term structure is flat).
        assert!((nii0 - 1.0).abs() < 1e-3, "{nii0}");
        let delta = nii1 - nii0;
        let approx = 100.0 * 0.02 * 334.0 / 365.0;
        assert!(
            (delta - approx).abs() < 0.01 * approx,
            "{delta} vs {approx}"
        );
        // Ramped: the rise comes in over the year, so about half as much.
        let ramp: f64 = monthly(&sums, &g, &ccys, &up, &base, Some(1.0))
            .iter()
            .sum();
        assert!(ramp - nii0 > 0.3 * delta && ramp - nii0 < 0.7 * delta);
    }
}
