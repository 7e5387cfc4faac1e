//! One pass over the portfolio for the interest-rate-risk figures of a run: EVE under the base
//! market and the six standardised scenarios in the contractual and (with an assumption set)
//! behavioural views, per-contract PVs, the notional repricing flows for the gap and ΔNII, and
//! the sensitivities of one currency.
//!
//! How it stays fast: each contract is evaluated once; only contracts that read market data
//! (floating resets) are evaluated on the other markets, all at once with their schedule built
//! once. Its events are
//! reduced to compact [`Flows`] and discounted through per-day discount-factor tables (one per
//! market and currency, exactly `curve.discount_at(date)`), so a flow costs a table look-up
//! and a multiply. Sensitivities of fixed flows are computed once on the portfolio's flows
//! summed by day (valuation is linear in the flows); only market-reading contracts are
//! re-evaluated on the bumped markets.
//!
//! Determinism: contracts are processed in fixed-size chunks whose partial sums are added in
//! contract order, so results are identical on one thread and on many.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::sync::Arc;

use almanac_actus::{ContractEvent, ContractTerms, ContractType};
use almanac_market::{Curve, MarketSnapshot};
use almanac_scenario::irrbb::Scenario;
use almanac_scenario::standard::{apply, StandardSpec};
use almanac_time::{Date, DateTime};
use rayon::prelude::*;

use super::assumptions::{Behaviour, Margins, Treatment};
use super::flows::{self, Flows};
use super::per_contract::ContractTable;
use super::projection::{monthly, MonthGrid, NiiSums, Staged};
use super::run::{evaluate_on_into, CurrencyEve, EveError};
use super::sensitivity::{bumped, Sensitivities, BP};

/// Days covered by the discount-factor tables (flows later are discounted directly).
const TABLE_DAYS: usize = 60 * 366;

/// Markets valued side by side in one pass over a contract's flows (base and six shocks fit).
const LANES: usize = 8;

/// The row length of the interleaved discount tables for `markets` markets: [`LANES`] when
/// they fit (a fixed-size row the compiler vectorises), else `markets`.
fn interleave_stride(markets: usize) -> usize {
    if markets <= LANES {
        LANES
    } else {
        markets
    }
}
/// Contracts per chunk of work (sums are added chunk by chunk, in order).
const CHUNK: usize = 1024;
/// Chunks in flight at once (bounds the memory of partial results).
const BATCH: usize = 64;

/// Discount factors of one curve by day after the valuation date.
pub(super) struct DayTable<'a> {
    curve: &'a Curve,
    as_of: Date,
    df: Vec<f64>,
}

impl<'a> DayTable<'a> {
    fn new(curve: &'a Curve, as_of: Date) -> DayTable<'a> {
        let df = (0..=TABLE_DAYS)
            .map(|d| curve.discount_at(as_of.add_days(d as i32)))
            .collect();
        DayTable { curve, as_of, df }
    }

    #[inline]
    fn at(&self, day: u32) -> f64 {
        match self.df.get(day as usize) {
            Some(x) => *x,
            None => self.curve.discount_at(self.as_of.add_days(day as i32)),
        }
    }

    /// The discount factor of date `d`: the curve's (`Curve::discount_at`), from the table
    /// on and after the valuation date.
    #[inline]
    pub(super) fn at_date(&self, d: Date) -> f64 {
        match u32::try_from(self.as_of.days_until(d)) {
            Ok(day) => self.at(day),
            Err(_) => self.curve.discount_at(d),
        }
    }
}

/// The run's discount tables by market and currency, for the passes after the engine's.
pub(super) struct DayDiscount<'a> {
    tables: &'a [Vec<DayTable<'a>>],
    ccys: &'a [String],
}

impl DayDiscount<'_> {
    /// Market `m`'s table of currency `ccy`, if the run discounts in it.
    pub(super) fn table(&self, m: usize, ccy: &str) -> Option<&DayTable<'_>> {
        let c = self.ccys.iter().position(|x| x == ccy)?;
        self.tables.get(m)?.get(c)
    }
}

/// Amounts by day after the valuation date (dense over the table horizon, sparse beyond).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayAmounts {
    dense: Vec<f64>,
    beyond: BTreeMap<u32, f64>,
}

impl DayAmounts {
    #[inline]
    fn add(&mut self, day: u32, x: f64) {
        if day as usize <= TABLE_DAYS {
            if self.dense.is_empty() {
                self.dense = vec![0.0; TABLE_DAYS + 1];
            }
            self.dense[day as usize] += x;
        } else {
            *self.beyond.entry(day).or_insert(0.0) += x;
        }
    }

    /// Every amount back to zero, keeping the storage (the same sums afterwards as a new
    /// one: a zero adds nothing and [`DayAmounts::iter`] skips zeros).
    fn reset(&mut self) {
        self.dense.fill(0.0);
        self.beyond.clear();
    }

    fn merge(&mut self, other: &DayAmounts) {
        if !other.dense.is_empty() {
            if self.dense.is_empty() {
                self.dense.clone_from(&other.dense);
            } else {
                self.dense
                    .iter_mut()
                    .zip(&other.dense)
                    .for_each(|(a, b)| *a += b);
            }
        }
        for (d, x) in &other.beyond {
            *self.beyond.entry(*d).or_insert(0.0) += x;
        }
    }

    /// The non-zero amounts as `(day, amount)` in day order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.dense
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != 0.0)
            .map(|(d, x)| (d as u32, *x))
            .chain(self.beyond.iter().map(|(d, x)| (*d, *x)))
    }

    /// As `(t in years on ACT/365F, amount)`.
    pub fn as_years(&self) -> Vec<(f64, f64)> {
        self.iter()
            .map(|(d, x)| (f64::from(d) / 365.0, x))
            .collect()
    }
}

/// What to compute besides EVE.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// Keep every contract's PVs.
    pub per_contract: bool,
    /// Behavioural assumptions: adds the behavioural view.
    pub behaviour: Option<&'a Behaviour>,
    /// Currency whose sensitivities to compute (of the primary view).
    pub sensitivity_currency: Option<&'a str>,
    /// Also compute EVE by the standardised method (§1.6): each scenario's notional
    /// repricing flows netted in the 19 buckets and discounted at the bucket midpoints.
    pub standardised: bool,
    /// NII projection horizon in months (0: none; at most 60).
    pub nii_months: usize,
    /// Segment (product) of each contract, by index into `segment_names`, for NII by product;
    /// `None`: one segment.
    pub segments: Option<&'a [u16]>,
    /// Segment names.
    pub segment_names: &'a [String],
    /// A contract to explain: its flows on every market and view, with their discount factors
    /// and present values ([`Analysis::explained`]).
    pub explain: Option<&'a str>,
    /// Upper bounds, in days after the as-of date, of user-defined repricing-gap buckets (the
    /// last bucket is open-ended beyond the last bound); empty: none.
    pub gap_bounds: &'a [u32],
    /// Strip commercial margins from the EVE flows (SRP31.100) with these rules: every EVE
    /// figure (both views, every scenario, per contract, standardised method, sensitivities,
    /// explanations) values each contract's interest at its rate minus the spread of its
    /// first matching rule; NII and the repricing gap keep the margins. `None`: kept.
    pub margins: Option<&'a Margins>,
    /// Automatic interest-rate options (life caps and floors, CAPFL): valued as the KAO
    /// add-on, hosts in EVE (the default), or at intrinsic value in the flows
    /// ([`super::automatic_options`]).
    pub automatic_options: super::automatic_options::AutomaticOptions,
}

/// One flow of an explained contract.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExplainedFlow {
    /// Payment date.
    pub date: String,
    /// Days after the as-of date.
    pub day: u32,
    /// interest, repayment or exchange.
    pub kind: &'static str,
    /// Currency.
    pub currency: String,
    /// Amount valued, bank's side: the contractual amount less `margin`.
    pub amount: f64,
    /// The commercial margin stripped from the flow (0 unless margins are stripped): the
    /// contract pays `amount + margin`.
    pub margin: f64,
    /// Discount factor of the scenario's curve of the currency at the date.
    pub discount_factor: f64,
    /// `amount × discount_factor`.
    pub pv: f64,
    /// BCBS bucket of the date.
    pub bucket: &'static str,
}

/// An explained contract on one market and view: every flow that makes up its PV.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Explained {
    /// Contract id.
    pub contract_id: String,
    /// Scenario name.
    pub scenario: String,
    /// contractual or behavioural.
    pub view: &'static str,
    /// The contract's PV there: the sum of the flows' PVs.
    pub pv: f64,
    /// The flows.
    pub flows: Vec<ExplainedFlow>,
}

/// Notional repricing flows of the base market by segment and currency, in the 19 BCBS
/// buckets and the user buckets (see [`Options::gap_bounds`]), per view.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GapBySegment {
    /// Segment names.
    pub segments: Vec<String>,
    /// Currencies.
    pub currencies: Vec<String>,
    /// User bucket upper bounds in days (the last bucket beyond them).
    pub user_bounds: Vec<u32>,
    /// `[view][segment][ccy][bucket]`, the 19 BCBS buckets then `user_bounds.len() + 1` user
    /// buckets; assets positive, liabilities negative.
    pub data: Vec<f64>,
}

impl GapBySegment {
    /// Buckets per segment and currency.
    pub fn width(&self) -> usize {
        19 + self.user_bounds.len() + 1
    }

    /// The BCBS (`user = false`) or user buckets of one view, segment and currency.
    pub fn buckets(&self, view: usize, segment: usize, ccy: &str, user: bool) -> Vec<f64> {
        let (ns, nc, w) = (self.segments.len(), self.currencies.len(), self.width());
        let Some(c) = self.currencies.iter().position(|x| x == ccy) else {
            return Vec::new();
        };
        let off = ((view * ns + segment) * nc + c) * w;
        match self.data.get(off..off + w) {
            Some(row) if user => row[19..].to_vec(),
            Some(row) => row[..19].to_vec(),
            None => Vec::new(),
        }
    }
}

/// The NII projection (see [`super::projection`]): monthly NII by scenario, segment and
/// currency, instantaneous and ramped, of the primary view.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NiiProjection {
    /// Months projected.
    pub months: usize,
    /// Segment names.
    pub segments: Vec<String>,
    /// Currencies.
    pub currencies: Vec<String>,
    /// Per scenario (in [`Analysis::scenario_names`] order): `[segment][ccy][month]`, NII of
    /// each calendar month after the as-of date in the currency's units, bank's side (income
    /// positive, expense negative).
    pub instantaneous: Vec<Vec<f64>>,
    /// The same with each scenario's change ramped in linearly over its ramp (one year for
    /// the standardised shocks).
    pub ramped: Vec<Vec<f64>>,
}

impl NiiProjection {
    /// Monthly NII of scenario `k` in currency `ccy`, summed over segments (or of one).
    pub fn monthly(&self, k: usize, ccy: &str, segment: Option<usize>, ramped: bool) -> Vec<f64> {
        let Some(c) = self.currencies.iter().position(|x| x == ccy) else {
            return vec![0.0; self.months];
        };
        let data = if ramped {
            &self.ramped[k]
        } else {
            &self.instantaneous[k]
        };
        let nc = self.currencies.len();
        let mut out = vec![0.0; self.months];
        for g in 0..self.segments.len() {
            if segment.is_some_and(|s| s != g) {
                continue;
            }
            let off = (g * nc + c) * self.months;
            out.iter_mut()
                .zip(&data[off..off + self.months])
                .for_each(|(a, b)| *a += b);
        }
        out
    }
}

/// EVE and repricing of one view.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct View {
    /// EVE by currency (cash-flow method: exact dates on each scenario's discount curve).
    pub currencies: BTreeMap<String, CurrencyEve>,
    /// EVE by currency by the standardised method, when asked for.
    pub standardised: BTreeMap<String, CurrencyEve>,
    /// Net notional repricing cash flows of the base scenario in the 19 buckets by currency
    /// (the standardised method's input), when asked for.
    pub bucket_flows: BTreeMap<String, [f64; 19]>,
    /// Notional repricing flows on the base market by currency and day (assets positive).
    #[serde(skip)]
    pub repricing: BTreeMap<String, DayAmounts>,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    /// `base` then the six scenarios.
    pub scenario_names: Arc<[String]>,
    /// The contractual view (run-off, contractual flows; NMDs repayable on demand).
    pub contractual: View,
    /// The behavioural view, with an assumption set.
    pub behavioural: Option<View>,
    /// Per-contract values, when asked for, in contract order.
    pub contracts: ContractTable,
    /// Contracts that could not be valued, with the reason.
    pub failed: Vec<(String, String)>,
    /// Contracts fed in a form that did not read ([`ContractInput::terms`]), named by
    /// [`ContractInput::name`], with the reason, in portfolio order: never valued.
    pub unreadable: Vec<(String, String)>,
    /// Sensitivities of the asked currency (primary view).
    pub sensitivities: Option<Sensitivities>,
    /// The NII projection, when asked for.
    pub nii: Option<NiiProjection>,
    /// Things the caller should tell the user (nothing was skipped because of them).
    pub warnings: Vec<String>,
    /// The repricing gap by segment (and in the user buckets).
    pub gap_by_segment: GapBySegment,
    /// The explained contract's flows per market and view ([`Options::explain`]).
    pub explained: Vec<Explained>,
    /// The automatic options' values and KAO, when the book has any.
    pub automatic_options: Option<super::automatic_options::KaoReport>,
}

impl Analysis {
    /// The primary view: behavioural when there is one.
    pub fn primary(&self) -> &View {
        self.behavioural.as_ref().unwrap_or(&self.contractual)
    }
}

/// Per-thread scratch space.
#[derive(Default)]
struct Scratch {
    events: Vec<ContractEvent>,
    pv: Vec<f64>,
    /// Flows of a market-reading contract on the other markets (`[0]` base, `[m − 1]`
    /// scenario `m ≥ 2`, then the bumped markets it is re-evaluated on), evaluated together
    /// and reduced as the events are produced.
    multi_flows: Vec<Flows>,
    /// Which bumped markets a market-reading contract is re-evaluated on.
    sens_again: Vec<bool>,
    /// A market-reading contract's value on the base and each bumped market.
    sens_pv: Vec<f64>,
    /// Flows on a bumped market.
    bumped: Flows,
    /// One contract's staged NII contributions per market.
    nii: Vec<Vec<Staged>>,
    contractual: Flows,
    behavioural: Flows,
    /// An option holder's reset periods by market while its limits bind nowhere.
    kao_periods: Vec<Option<Vec<super::automatic_options::Period>>>,
}

/// Partial sums of one chunk of contracts.
struct Partial {
    /// `[view][market][ccy]`.
    totals: Vec<f64>,
    /// `[view][ccy]`.
    repricing: Vec<DayAmounts>,
    /// `[view][market][ccy][bucket]`, standardised method.
    buckets: Vec<f64>,
    /// `[view][segment][ccy][19 + user buckets]`, repricing gap by segment.
    seg_gap: Vec<f64>,
    /// The explained contract, if in this chunk.
    explained: Vec<Explained>,
    /// Contracts whose margins were stripped, that had no margin rule, and that matched one
    /// but are of a type whose margins are not stripped (cash aside).
    margin_counts: [usize; 3],
    /// Base flows of the sensitivity currency from contracts that read no market data.
    fixed_flows: DayAmounts,
    /// Values in the sensitivity currency of the market-reading contracts on the base and
    /// each bumped market.
    sens_floating: Vec<f64>,
    /// NII sums per market.
    nii: Vec<NiiSums>,
    contracts: ContractTable,
    failed: Vec<(String, String)>,
    /// What the engine found of the contracts with automatic options valued as KAO: what the
    /// option pass would otherwise evaluate again.
    option_holders: Vec<HolderValues>,
    /// A streamed portfolio's automatic options, found in this chunk.
    found: super::automatic_options::Found,
    /// Contracts with an interest rate and no payment schedule.
    interest: InterestWithoutSchedule,
    /// Contracts whose input did not read.
    unreadable: Vec<(String, String)>,
    /// An error that stops the run (a holder without a volatility), the chunk's first.
    stop: Option<EveError>,
}

impl Partial {
    /// Empties the sums of a chunk already merged, for the next chunk: the same as a new
    /// one, without allocating (and faulting in) its tables again.
    fn reset(&mut self) {
        self.totals.fill(0.0);
        self.repricing.iter_mut().for_each(DayAmounts::reset);
        self.buckets.fill(0.0);
        self.seg_gap.fill(0.0);
        self.explained.clear();
        self.margin_counts = [0; 3];
        self.fixed_flows.reset();
        self.sens_floating.fill(0.0);
        self.nii.iter_mut().for_each(NiiSums::clear);
        self.contracts.clear();
        self.failed.clear();
        self.option_holders.clear();
        self.found.clear();
        self.interest = InterestWithoutSchedule::default();
        self.unreadable.clear();
        self.stop = None;
    }
}

/// What the engine found of a contract with automatic options valued as KAO.
pub(super) struct HolderValues {
    /// Its index in the portfolio.
    pub(super) index: usize,
    /// Its contractual values by market, margins kept.
    pub(super) pv: Vec<f64>,
    /// Its reset periods by market where no life cap or floor bound at any of its resets:
    /// there its host's flows are its own, and its options need nothing more.
    pub(super) periods: Vec<Option<Vec<super::automatic_options::Period>>>,
}

/// The run's fixed inputs.
struct Setup<'a> {
    markets: &'a [ScenarioMarket],
    /// `[market][ccy]`.
    tables: Vec<Vec<DayTable<'a>>>,
    ccys: Vec<String>,
    as_of: DateTime,
    behaviour: Option<&'a Behaviour>,
    sens_ccy: Option<u16>,
    names: Arc<[String]>,
    per_contract: bool,
    /// Core slots of each NMD rule as `(day, weight)`.
    nmd_slots: Vec<Vec<(u32, f64)>>,
    /// Per prepayment rule and market: the CPR and its convention.
    prepay: Vec<Vec<(f64, flows::RateConvention)>>,
    /// Per early-redemption rule and market: the TDRR.
    redeem: Vec<Vec<f64>>,
    /// Per NMD rule and market: the core share.
    core: Vec<Vec<f64>>,
    /// BCBS bucket of each day.
    bucket_of_day: Vec<u8>,
    /// The standardised method is asked for.
    standardised: bool,
    /// User bucket of each day (empty without user buckets).
    user_bucket_of_day: Vec<u8>,
    /// Number of user buckets (bounds + 1).
    user_buckets: usize,
    /// The contract to explain.
    explain: Option<&'a str>,
    /// The NII month grid, when asked for.
    nii_grid: Option<MonthGrid>,
    /// Bumped markets of the sensitivities (base excluded), with the curve each changed
    /// (`None`: every curve of the currency).
    sens_markets: &'a [(MarketSnapshot, Option<String>)],
    /// Discount factors by currency, day and market interleaved: `[ccy][day · stride + m]`,
    /// with `stride` from [`interleave_stride`] (zeros past the last market).
    interleaved: Vec<Vec<f64>>,
    /// Discount tables of the sensitivity currency: base, then each bumped market.
    sens_tables: Vec<Option<DayTable<'a>>>,
    segment_count: usize,
    /// Margin rules, when margins are stripped.
    margins: Option<&'a Margins>,
    /// Portfolio indices of the contracts with automatic options valued as KAO, ascending
    /// (a portfolio held whole: its plan is made before the engine runs).
    option_holders: Vec<usize>,
    /// A streamed portfolio: each chunk finds its contracts' automatic options itself (how
    /// they are valued: `Some`), on the worker that has their terms at hand.
    find_options: Option<super::automatic_options::AutomaticOptions>,
}

impl Setup<'_> {
    fn ccy_index(&self, c: &str) -> Option<u16> {
        self.ccys.iter().position(|x| x == c).map(|k| k as u16)
    }

    fn views(&self) -> usize {
        if self.behaviour.is_some() {
            2
        } else {
            1
        }
    }

    /// Adds the PV of `f` on market `m` into `totals` (by currency, which start at zero for
    /// each contract) and returns its sum.
    #[inline]
    fn discount(&self, f: &Flows, m: usize, totals: &mut [f64]) -> f64 {
        // The interleaved rows: the markets of a contract are discounted one after the other
        // on the same days, so each row is fetched from memory once for all of them.
        let stride = interleave_stride(self.markets.len());
        let df = |c: usize, day: u32| -> f64 {
            let d = day as usize;
            if d <= TABLE_DAYS {
                self.interleaved[c][d * stride + m]
            } else {
                self.tables[m][c].at(day)
            }
        };
        let Some(first) = f.flows.first() else {
            return 0.0;
        };
        let c0 = first.ccy;
        if f.flows.iter().all(|x| x.ccy == c0) {
            // One currency: its total is the sum, kept in a register.
            let mut sum = 0.0;
            for x in &f.flows {
                sum += x.eve_amount() * df(c0 as usize, x.day);
            }
            totals[c0 as usize] += sum;
            return sum;
        }
        let mut sum = 0.0;
        for x in &f.flows {
            let v = x.eve_amount() * df(x.ccy as usize, x.day);
            totals[x.ccy as usize] += v;
            sum += v;
        }
        sum
    }

    /// The explanation of flows `f` on market `m`.
    fn explain(&self, t: &ContractTerms, f: &Flows, m: usize, view: &'static str) -> Explained {
        let d0 = self.as_of.date();
        let flows: Vec<ExplainedFlow> = f
            .flows
            .iter()
            .map(|x| {
                let df = self.tables[m][x.ccy as usize].at(x.day);
                let b = self
                    .bucket_of_day
                    .get(x.day as usize)
                    .map_or(18, |b| usize::from(*b));
                ExplainedFlow {
                    date: d0.add_days(x.day as i32).to_string(),
                    day: x.day,
                    kind: match x.kind {
                        flows::Kind::Interest => "interest",
                        flows::Kind::Repayment => "repayment",
                        flows::Kind::Exchange => "exchange",
                    },
                    currency: self.ccys[x.ccy as usize].clone(),
                    amount: x.eve_amount(),
                    margin: x.margin,
                    discount_factor: df,
                    pv: x.eve_amount() * df,
                    bucket: super::buckets::BCBS_BUCKETS[b].label,
                }
            })
            .collect();
        Explained {
            contract_id: t.id().to_string(),
            scenario: self.markets[m].name.clone(),
            view,
            pv: flows.iter().map(|x| x.pv).sum(),
            flows,
        }
    }

    /// The explanations of a contract on market `m`: contractual, and behavioural if given.
    fn explain_views(
        &self,
        t: &ContractTerms,
        contractual: &Flows,
        behavioural: Option<&Flows>,
        m: usize,
        out: &mut Vec<Explained>,
    ) {
        out.push(self.explain(t, contractual, m, "contractual"));
        if let Some(b) = behavioural {
            out.push(self.explain(t, b, m, "behavioural"));
        }
    }

    /// Adds the notional repricing cash flows of `f` (SRP31.98: flows up to and including the
    /// first rate reset, where the outstanding principal reprices) to `acc[ccy][bucket]`.
    #[inline]
    fn slot(&self, f: &Flows, acc: &mut [f64]) {
        let bucket =
            |day: u32| usize::from(self.bucket_of_day.get(day as usize).copied().unwrap_or(18));
        let limit = f.first_reset.map_or(u32::MAX, |r| r.0);
        for x in f.flows.iter().take_while(|x| x.day <= limit) {
            acc[x.ccy as usize * 19 + bucket(x.day)] += x.eve_amount();
        }
        if let Some((day, n)) = f.first_reset {
            let ccy = f.flows.first().map_or(0, |x| x.ccy);
            acc[ccy as usize * 19 + bucket(day)] += n;
        }
    }

    /// Behavioural flows of a contract on market `m` from its contractual flows; `spread` is
    /// the margin stripped from an NMD's interest.
    fn behave(
        &self,
        t: &ContractTerms,
        treatment: Treatment,
        m: usize,
        spread: f64,
        s: &mut Scratch,
    ) {
        if self.behaviour.is_none() {
            return;
        }
        match treatment {
            Treatment::Contractual => s.behavioural.clone_from(&s.contractual),
            Treatment::Prepay(k) => {
                let (rate, conv) = self.prepay[k][m];
                flows::prepay(&s.contractual, rate, conv, &mut s.behavioural);
            }
            Treatment::Redeem(k) => {
                flows::redeem_early(&s.contractual, self.redeem[k][m], &mut s.behavioural)
            }
            Treatment::Nmd(k) => {
                let ccy = s.contractual.flows.first().map_or(0, |x| x.ccy);
                flows::nmd(
                    s.contractual.notional_at_as_of,
                    ccy,
                    t.nominal_interest_rate.unwrap_or(0.0),
                    spread,
                    self.core[k][m],
                    &self.nmd_slots[k],
                    &mut s.behavioural,
                );
            }
        }
    }

    /// Evaluates and reduces contract `t` on market `m` into `s.contractual`, with `spread`
    /// the margin to strip; returns whether it read market data. For an option `holder` its
    /// reset periods there go to `s.kao_periods[m]` (see [`Setup::periods_sink`]).
    fn contractual(
        &self,
        t: &ContractTerms,
        m: usize,
        spread: f64,
        holder: bool,
        s: &mut Scratch,
    ) -> Result<bool, String> {
        if t.contract_type == Some(ContractType::Ump) {
            self.on_demand(t, s)?;
            return Ok(false);
        }
        let ccy = |c: &str| self.ccy_index(c);
        let reducer = flows::Reducer::new(t, self.as_of, &ccy, spread, &mut s.contractual);
        let market = &self.markets[m].market;
        if holder {
            let mut sink = (reducer, self.periods_sink(t, Some(m)));
            let reads = evaluate_on_into(t, market, &mut sink)?;
            let (reducer, periods) = sink;
            reducer.finish()?;
            s.kao_periods[m] = periods.finish();
            return Ok(reads);
        }
        let mut sink = reducer;
        let reads = evaluate_on_into(t, market, &mut sink)?;
        sink.finish()?;
        Ok(reads)
    }

    /// What folds option holder `t`'s reset periods on market `m` from its events there, if
    /// no life cap or floor binds at any of its resets
    /// ([`super::automatic_options::UnboundPeriods`]); nothing on a bumped market (`None`).
    fn periods_sink<'s>(
        &'s self,
        t: &'s ContractTerms,
        m: Option<usize>,
    ) -> super::automatic_options::UnboundPeriods<'s, impl FnMut(almanac_time::Date) -> f64 + 's>
    {
        let table = m.and_then(|m| {
            let c = self.ccy_index(t.currency.as_deref()?)?;
            self.tables[m].get(usize::from(c))
        });
        super::automatic_options::UnboundPeriods::new(
            t,
            &self.markets[m.unwrap_or(0)].market,
            self.as_of,
            table.map(|tb| move |d| tb.at_date(d)),
        )
    }

    /// Values a contract whose flows (`s.contractual`) are the same on every market — it reads
    /// no market data and no behaviour varies by scenario — on all markets in one pass over
    /// its flows (the interleaved day tables give every market's discount factor of a day
    /// side by side), in both views.
    fn all_markets(&self, s: &mut Scratch, local: &mut [f64]) {
        let (nm, nc) = (self.markets.len(), self.ccys.len());
        if nm <= LANES {
            self.all_markets_lanes(s, local);
        } else {
            let stride = interleave_stride(nm);
            for x in &s.contractual.flows {
                let c = x.ccy as usize;
                let d = x.day as usize;
                let amount = x.eve_amount();
                for m in 0..nm {
                    let df = if d <= TABLE_DAYS {
                        self.interleaved[c][d * stride + m]
                    } else {
                        self.tables[m][c].at(x.day)
                    };
                    let v = amount * df;
                    s.pv[m] += v;
                    local[m * nc + c] += v;
                }
            }
        }
        if self.views() == 2 {
            let (a, b) = s.pv.split_at_mut(nm);
            b[..nm].copy_from_slice(a);
            let (a, b) = local.split_at_mut(nm * nc);
            b[..nm * nc].copy_from_slice(a);
            s.behavioural.clone_from(&s.contractual);
        }
    }

    /// [`Setup::all_markets`] for at most [`LANES`] markets: each market's sum is a lane of a
    /// fixed-size array the compiler keeps in vector registers, one row of discount factors
    /// per flow. The sums of a run of flows in one currency are added to the contract's and
    /// the currency's totals when the currency changes (a single-currency contract's sums are
    /// the same, bit for bit, as adding flow by flow).
    fn all_markets_lanes(&self, s: &mut Scratch, local: &mut [f64]) {
        let (nm, nc) = (self.markets.len(), self.ccys.len());
        let mut acc = [0.0f64; LANES];
        let mut flush = |c: usize, acc: &mut [f64; LANES]| {
            for m in 0..nm {
                s.pv[m] += acc[m];
                local[m * nc + c] += acc[m];
            }
            *acc = [0.0; LANES];
        };
        let mut current = None;
        for x in &s.contractual.flows {
            let c = x.ccy as usize;
            if current != Some(c) {
                if let Some(prev) = current {
                    flush(prev, &mut acc);
                }
                current = Some(c);
            }
            let d = x.day as usize;
            let amount = x.eve_amount();
            if d <= TABLE_DAYS {
                let row: &[f64; LANES] = self.interleaved[c][d * LANES..d * LANES + LANES]
                    .try_into()
                    .expect("rows of LANES factors");
                for (a, df) in acc.iter_mut().zip(row) {
                    *a += amount * df;
                }
            } else {
                for (m, a) in acc.iter_mut().enumerate().take(nm) {
                    *a += amount * self.tables[m][c].at(x.day);
                }
            }
        }
        if let Some(prev) = current {
            flush(prev, &mut acc);
        }
    }

    /// A market-reading contract's value in the sensitivity currency on the base and each
    /// bumped market into `s.sens_pv`: from its flows there (`s.multi_flows`, margins stripped)
    /// where the bump moves a curve it forecasts from, else its base flows re-discounted.
    /// `s.contractual` holds its base flows.
    fn bumped_values(&self, s: &mut Scratch) {
        let Some(sc) = self.sens_ccy else {
            return;
        };
        s.sens_pv.clear();
        s.sens_pv.push(self.sens_value(sc, &s.contractual, 0));
        let mut j = self.markets.len() - 1;
        for k in 0..self.sens_markets.len() {
            let v = if s.sens_again[k] {
                j += 1;
                self.sens_value(sc, &s.multi_flows[j - 1], k + 1)
            } else {
                self.sens_value(sc, &s.contractual, k + 1)
            };
            s.sens_pv.push(v);
        }
    }

    /// The value of `f`'s flows in the sensitivity currency `sc` on sensitivity market `k`
    /// (0 the base, `k` the `k`-th bumped market).
    fn sens_value(&self, sc: u16, f: &Flows, k: usize) -> f64 {
        self.sens_tables[k].as_ref().map_or(0.0, |tb| {
            f.flows
                .iter()
                .filter(|x| x.ccy == sc)
                .map(|x| x.eve_amount() * tb.at(x.day))
                .sum()
        })
    }

    /// [`Setup::bumped_values`] of the host of a contract whose automatic options are valued
    /// as KAO (EVE holds the host, see [`super::automatic_options`]): the contract without its
    /// life cap and floor, evaluated on the base and every bumped market; nothing for a
    /// standalone cap or floor (EVE holds none of it).
    fn host_bumped_values(
        &self,
        t: &ContractTerms,
        spread: f64,
        s: &mut Scratch,
    ) -> Result<(), String> {
        let Some(sc) = self.sens_ccy else {
            return Ok(());
        };
        s.sens_pv.clear();
        if t.contract_type == Some(ContractType::Capfl) {
            s.sens_pv.resize(self.sens_tables.len(), 0.0);
            return Ok(());
        }
        let mut host = t.clone();
        host.life_cap = None;
        host.life_floor = None;
        // The base, and the bumped markets that move a curve it forecasts from (the others
        // re-discount its base flows), as for any market-reading contract.
        let markets = std::iter::once(&self.markets[0].market).chain(
            self.sens_markets
                .iter()
                .zip(&s.sens_again)
                .filter(|(_, again)| **again)
                .map(|((m, _), _)| m),
        );
        let mut events = Vec::new();
        evaluate_on_each(&host, markets, &mut events)?;
        let ccy = |c: &str| self.ccy_index(c);
        // The host's base flows (the scratch buffers hold the contract's own for the views).
        let mut base = Flows::default();
        flows::reduce(&host, &events[0], self.as_of, &ccy, spread, &mut base)?;
        s.sens_pv.push(self.sens_value(sc, &base, 0));
        let mut j = 1;
        for k in 0..self.sens_markets.len() {
            let v = if s.sens_again[k] {
                flows::reduce(&host, &events[j], self.as_of, &ccy, spread, &mut s.bumped)?;
                j += 1;
                self.sens_value(sc, &s.bumped, k + 1)
            } else {
                self.sens_value(sc, &base, k + 1)
            };
            s.sens_pv.push(v);
        }
        Ok(())
    }

    /// Evaluates a market-reading contract on the base and scenarios 2… at once (its
    /// schedule built once), reduced into `s.multi_flows` with `spread` the margin stripped;
    /// for an option `holder` its reset periods on each of those markets go to
    /// `s.kao_periods`. With `first`, on scenario 1 too, before the others and into
    /// `s.contractual` (what [`Setup::contractual`] does alone): then returns whether the
    /// contract read market data (else `true`, which the caller knew).
    fn evaluate_others(
        &self,
        t: &ContractTerms,
        spread: f64,
        holder: bool,
        first: bool,
        s: &mut Scratch,
    ) -> Result<bool, String> {
        let nm = self.markets.len();
        s.sens_again.clear();
        s.sens_again.extend(
            self.sens_markets
                .iter()
                .map(|(m, changed)| changed.as_ref().is_none_or(|c| reads_curve(t, m, c))),
        );
        // The run's markets in the order evaluated (the bumped markets after them).
        let own: Vec<usize> = first
            .then_some(1)
            .into_iter()
            .chain(std::iter::once(0))
            .chain(2..nm)
            .collect();
        let markets: Vec<&MarketSnapshot> = own
            .iter()
            .map(|&m| &self.markets[m].market)
            .chain(
                self.sens_markets
                    .iter()
                    .zip(&s.sens_again)
                    .filter(|(_, again)| **again)
                    .map(|((m, _), _)| m),
            )
            .collect();
        let others = markets.len() - usize::from(first);
        if s.multi_flows.len() < others {
            s.multi_flows.resize_with(others, Flows::default);
        }
        let ccy = |c: &str| self.ccy_index(c);
        let flows = first
            .then_some(&mut s.contractual)
            .into_iter()
            .chain(s.multi_flows[..others].iter_mut());
        let reducers = flows.map(|f| flows::Reducer::new(t, self.as_of, &ccy, spread, f));
        let reads = if holder {
            let periods_of = |k: usize| own.get(k).copied();
            let mut sinks: Vec<_> = reducers
                .enumerate()
                .map(|(k, r)| (r, self.periods_sink(t, periods_of(k))))
                .collect();
            let reads = evaluate_on_each_into(t, markets.into_iter(), &mut sinks)?;
            for (k, (reducer, periods)) in sinks.into_iter().enumerate() {
                reducer.finish()?;
                if let Some(m) = periods_of(k) {
                    s.kao_periods[m] = periods.finish();
                }
            }
            reads
        } else {
            let mut sinks: Vec<_> = reducers.collect();
            let reads = evaluate_on_each_into(t, markets.into_iter(), &mut sinks)?;
            sinks.into_iter().try_for_each(flows::Reducer::finish)?;
            reads
        };
        Ok(reads || !first)
    }

    /// A non-maturity deposit (UMP) is contractually repayable on demand: its balance at the
    /// as-of date (the ACTUS state after its events up to that date, e.g. capitalised
    /// interest) flows overnight, without interest (so without a margin to strip).
    fn on_demand(&self, t: &ContractTerms, s: &mut Scratch) -> Result<(), String> {
        let ccy = t.currency.as_deref().unwrap_or("");
        let ccy = self
            .ccy_index(ccy)
            .ok_or_else(|| format!("no discount curve for currency {ccy:?}"))?;
        let balance =
            super::run::on_demand_balance(t, &self.markets[0].market, self.as_of, &mut s.events)?;
        flows::nmd(balance, ccy, 0.0, 0.0, 0.0, &[], &mut s.contractual);
        Ok(())
    }

    /// The sums of a chunk of this run, all zero (`nv` views, `nm` markets, `nc` currencies).
    fn new_partial(&self, nv: usize, nm: usize, nc: usize) -> Partial {
        let mut p = Partial {
            totals: vec![0.0; nv * nm * nc],
            repricing: vec![DayAmounts::default(); nv * nc],
            buckets: Vec::new(),
            seg_gap: vec![0.0; nv * self.segment_count * nc * (19 + self.user_buckets)],
            explained: Vec::new(),
            margin_counts: [0; 3],
            option_holders: Vec::new(),
            fixed_flows: DayAmounts::default(),
            sens_floating: vec![0.0; self.sens_tables.len()],
            nii: match &self.nii_grid {
                Some(g) => (0..nm)
                    .map(|_| NiiSums::new(self.segment_count, nc, g.months()))
                    .collect(),
                None => Vec::new(),
            },
            contracts: ContractTable::new(self.names.clone(), nv == 2),
            failed: Vec::new(),
            found: super::automatic_options::Found::default(),
            interest: InterestWithoutSchedule::default(),
            unreadable: Vec::new(),
            stop: None,
        };
        if self.standardised {
            p.buckets = vec![0.0; nv * nm * nc * 19];
        }
        p
    }

    /// Values the contracts of one chunk (`first` is the first one's portfolio index);
    /// `decoded` holds the terms of a contract fed in another form while it is valued.
    #[allow(clippy::too_many_arguments)]
    fn chunk<C: ContractInput>(
        &self,
        first: usize,
        contracts: &[C],
        segs: Option<&[u16]>,
        s: &mut Scratch,
        decoded: &mut ContractTerms,
        reuse: Option<Partial>,
    ) -> Partial {
        let (nv, nm, nc) = (self.views(), self.markets.len(), self.ccys.len());
        let std = self.standardised;
        let mut p = if let Some(mut p) = reuse {
            p.reset();
            p
        } else {
            self.new_partial(nv, nm, nc)
        };
        let mut local = vec![0.0; nv * nm * nc];
        let mut local_buckets = vec![0.0; if std { nv * nm * nc * 19 } else { 0 }];
        for (i, c) in contracts.iter().enumerate() {
            let t: &ContractTerms = match c.terms(decoded) {
                Ok(t) => t,
                Err(why) => {
                    p.unreadable.push((c.name(), why));
                    continue;
                }
            };
            p.interest.add(t);
            local.iter_mut().for_each(|x| *x = 0.0);
            local_buckets.iter_mut().for_each(|x| *x = 0.0);
            s.pv.clear();
            s.pv.resize(nv * nm, 0.0);
            let treatment = self
                .behaviour
                .map_or(Treatment::Contractual, |b| b.treatment(t));
            // The margin stripped from its EVE flows, and which count it goes in.
            // Cash earns no interest: it has no margin and is not counted.
            let (spread, margin_class) = match self.margins {
                Some(_) if t.contract_type == Some(ContractType::Csh) => (0.0, None),
                None => (0.0, None),
                Some(rules) => match rules.spread(t) {
                    Some(x) if flows::strips_margins(t.contract_type) => (x, Some(0)),
                    Some(_) => (0.0, Some(2)),
                    None => (0.0, Some(1)),
                },
            };
            let explain = self.explain.is_some_and(|id| id == t.id());
            let option_holder = match self.find_options {
                Some(mode) => {
                    match p.found.look(t, first + i, &self.markets[0].market, mode) {
                        Ok(h) => h,
                        Err(e) => {
                            // The run stops: the rest of the chunk does not matter.
                            p.stop = Some(e);
                            break;
                        }
                    }
                }
                None => self.option_holders.binary_search(&(first + i)).is_ok(),
            };
            let holder = spread == 0.0 && option_holder;
            if holder {
                s.kao_periods.clear();
                s.kao_periods.resize(nm, None);
            }
            let seg = segs
                .and_then(|v| v.get(i))
                .map_or(0, |g| usize::from(*g).min(self.segment_count - 1));
            // The NII projection's replacement tenor (not needed without one).
            let tenor = if self.nii_grid.is_some() {
                super::projection::tenor_class(t)
            } else {
                0
            };
            let rate = t.nominal_interest_rate.unwrap_or(0.0);
            if self.nii_grid.is_some() {
                s.nii.resize_with(nm, Vec::new);
                s.nii.iter_mut().for_each(Vec::clear);
            }
            // The scenarios first and the base last, so the scratch flows are the base
            // market's when the contract is done. Whether a contract reads market data does
            // not depend on the market, so the first evaluation tells.
            let mut run = || -> Result<(bool, bool), String> {
                let mut reads = false;
                for (k, m) in (1..nm).chain(0..1).enumerate() {
                    if k == 0 {
                        // A contract with rate resets is all but certain to read market
                        // data: evaluated on every market at once, its schedule built once.
                        // (Scenario 1 is then the first market: `m` here.)
                        let all_at_once = t.cycle_of_rate_reset.is_some()
                            && t.contract_type != Some(ContractType::Ump)
                            && nm > 1;
                        reads = if all_at_once {
                            self.evaluate_others(t, spread, holder, true, s)?
                        } else {
                            self.contractual(t, m, spread, holder, s)?
                        };
                        if !reads && (nv == 1 || treatment == Treatment::Contractual) {
                            // The same flows on every market: one pass values them on all.
                            self.all_markets(s, &mut local);
                            if let (Some(grid), Some(sums)) = (&self.nii_grid, p.nii.first()) {
                                // Staged once, applied to every market.
                                sums.stage(grid, seg, &s.contractual, tenor, rate, &mut s.nii[0]);
                            }
                            if explain {
                                for m in 0..nm {
                                    let b = (nv == 2).then_some(&s.behavioural);
                                    self.explain_views(t, &s.contractual, b, m, &mut p.explained);
                                }
                            }
                            if std {
                                self.slot(&s.contractual, &mut local_buckets[..nc * 19]);
                                let (a, b) = local_buckets.split_at_mut(nc * 19);
                                for chunk in b.chunks_mut(nc * 19) {
                                    chunk.copy_from_slice(a);
                                }
                            }
                            return Ok((false, true));
                        }
                        if reads && !all_at_once && (nm > 1 || !self.sens_markets.is_empty()) {
                            self.evaluate_others(t, spread, holder, false, s)?;
                        }
                    } else if reads {
                        // Its flows there, already reduced (the slot gets the previous
                        // market's, no longer needed).
                        let j = if m == 0 { 0 } else { m - 1 };
                        std::mem::swap(&mut s.contractual, &mut s.multi_flows[j]);
                    }
                    let off = m * nc;
                    s.pv[m] = self.discount(&s.contractual, m, &mut local[off..off + nc]);
                    if std {
                        let off = off * 19;
                        self.slot(&s.contractual, &mut local_buckets[off..off + nc * 19]);
                    }
                    if nv == 2 {
                        self.behave(t, treatment, m, spread, s);
                        let off = (nm + m) * nc;
                        s.pv[nm + m] = self.discount(&s.behavioural, m, &mut local[off..off + nc]);
                        if std {
                            let off = off * 19;
                            self.slot(&s.behavioural, &mut local_buckets[off..off + nc * 19]);
                        }
                    }
                    if explain {
                        let b = (nv == 2).then_some(&s.behavioural);
                        self.explain_views(t, &s.contractual, b, m, &mut p.explained);
                    }
                    if let Some(grid) = &self.nii_grid {
                        // Staged: added to the chunk's sums only when every market succeeded.
                        let primary = if nv == 2 {
                            &s.behavioural
                        } else {
                            &s.contractual
                        };
                        p.nii[m].stage(grid, seg, primary, tenor, rate, &mut s.nii[m]);
                    }
                }
                if reads && !self.sens_tables.is_empty() {
                    if option_holder {
                        // EVE holds its host (KAO): so do the sensitivities.
                        self.host_bumped_values(t, spread, s)?;
                    } else {
                        self.bumped_values(s);
                    }
                }
                Ok((reads, false))
            };
            match run() {
                Ok((reads, same_everywhere)) => {
                    if let Some(k) = margin_class {
                        p.margin_counts[k] += 1;
                    }
                    p.totals.iter_mut().zip(&local).for_each(|(a, b)| *a += b);
                    if same_everywhere {
                        // Staged once, for every market.
                        if let Some(staged) = s.nii.first() {
                            p.nii.iter_mut().for_each(|a| a.apply(staged));
                        }
                    } else {
                        p.nii.iter_mut().zip(&s.nii).for_each(|(a, b)| a.apply(b));
                    }
                    p.buckets
                        .iter_mut()
                        .zip(&local_buckets)
                        .for_each(|(a, b)| *a += b);
                    let primary = if nv == 2 {
                        &s.behavioural
                    } else {
                        &s.contractual
                    };
                    if let Some(sc) = self.sens_ccy {
                        if reads {
                            p.sens_floating
                                .iter_mut()
                                .zip(&s.sens_pv)
                                .for_each(|(a, b)| *a += b);
                        } else {
                            for x in primary.flows.iter().filter(|x| x.ccy == sc) {
                                p.fixed_flows.add(x.day, x.eve_amount());
                            }
                        }
                    }
                    let w = 19 + self.user_buckets;
                    let ns = self.segment_count;
                    let (bcbs, user) = (&self.bucket_of_day, &self.user_bucket_of_day);
                    let last_user = self.user_buckets - 1;
                    let mut gap = |view: usize, d: u32, c: u16, x: f64| {
                        let off = ((view * ns + seg) * nc + c as usize) * w;
                        let b = bcbs.get(d as usize).map_or(18, |b| usize::from(*b));
                        p.seg_gap[off + b] += x;
                        let u = user.get(d as usize).map_or(last_user, |u| usize::from(*u));
                        p.seg_gap[off + 19 + u] += x;
                    };
                    s.contractual.repricing(|d, c, x| {
                        p.repricing[c as usize].add(d, x);
                        gap(0, d, c, x);
                    });
                    if nv == 2 {
                        s.behavioural.repricing(|d, c, x| {
                            p.repricing[nc + c as usize].add(d, x);
                            gap(1, d, c, x);
                        });
                    }
                    if holder {
                        let periods = if reads {
                            s.kao_periods.iter_mut().map(Option::take).collect()
                        } else {
                            Vec::new()
                        };
                        p.option_holders.push(HolderValues {
                            index: first + i,
                            pv: s.pv[..nm].to_vec(),
                            periods,
                        });
                    }
                    if self.per_contract {
                        let (c, b) = s.pv.split_at(nm);
                        if nv == 2 {
                            p.contracts.push(t.id(), &b[..nm], Some(c));
                        } else {
                            p.contracts.push(t.id(), c, None);
                        }
                    }
                }
                Err(e) => p.failed.push((t.id().to_string(), e)),
            }
        }
        p
    }
}

/// A warning naming the amortizing contracts (PAM, LAM, ANN, NAM) that carry an interest
/// rate but no interest payment cycle, anchor or capitalisation: ACTUS schedules no interest
/// payment for them (technical specification, PAM schedule of IP), so their interest is in no
/// flow. Usually a tape that leaves out the payment frequency of bullet deposits or loans.
#[derive(Default)]
struct InterestWithoutSchedule {
    /// How many.
    count: usize,
    /// The first ten ids.
    shown: Vec<String>,
}

impl InterestWithoutSchedule {
    /// Counts `t` if it has an interest rate and no payment schedule.
    fn add(&mut self, t: &ContractTerms) {
        if matches!(
            t.contract_type,
            Some(ContractType::Pam | ContractType::Lam | ContractType::Ann | ContractType::Nam)
        ) && t.nominal_interest_rate.is_some_and(|r| r != 0.0)
            && t.cycle_of_interest_payment.is_none()
            && t.cycle_anchor_date_of_interest_payment.is_none()
            && t.capitalization_end_date.is_none()
        {
            self.count += 1;
            if self.shown.len() < 10 {
                self.shown.push(t.id().to_string());
            }
        }
    }

    /// Adds the counts of the contracts after these (chunks merged in portfolio order).
    fn merge(&mut self, later: &mut InterestWithoutSchedule) {
        self.count += later.count;
        let room = 10usize.saturating_sub(self.shown.len());
        self.shown.extend(later.shown.drain(..).take(room));
    }

    /// The warning, if any.
    fn warning(&self) -> Option<String> {
        let n = self.count;
        if n == 0 {
            return None;
        }
        let more = if n > self.shown.len() {
            format!(" and {} more", n - self.shown.len())
        } else {
            String::new()
        };
        Some(format!(
            "{} with an interest rate but no interest payment cycle or anchor \
             (cycleOfInterestPayment, cycleAnchorDateOfInterestPayment): ACTUS schedules no \
             interest payment for them, so their interest is in none of the flows: {}{more}",
            if n == 1 {
                "1 contract".to_string()
            } else {
                format!("{n} contracts")
            },
            self.shown.join(", ")
        ))
    }
}

/// Runs EVE (base + the six standardised scenarios of `spec`), repricing and, if asked,
/// sensitivities over `contracts` as of `as_of` (flows after it are counted; cash at its
/// balance).
pub fn analyse<C: Borrow<ContractTerms> + Sync>(
    contracts: &[C],
    base: &MarketSnapshot,
    spec: &StandardSpec,
    as_of: DateTime,
    options: &Options<'_>,
) -> Result<Analysis, EveError> {
    let mut scenarios = Vec::with_capacity(Scenario::ALL.len());
    for s in Scenario::ALL {
        scenarios.push(ScenarioMarket::standard(s, apply(base, s, spec)?));
    }
    analyse_scenarios(contracts, base, scenarios, as_of, options)
}

/// One scenario of a run: its market and what the behaviour needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioMarket {
    /// Name, as reported.
    pub name: String,
    /// The standardised scenario it is, if it is one (sets the behaviour multipliers).
    pub standard: Option<Scenario>,
    /// The market under the scenario (the full change).
    pub market: MarketSnapshot,
    /// Prepayment multiplier overriding the standard one (scenario-set behaviour).
    pub prepayment_multiplier: Option<f64>,
    /// Early-redemption multiplier overriding the standard one.
    pub early_redemption_multiplier: Option<f64>,
    /// Years over which the change is reached in the ramped NII (1 for the standard ramp).
    pub ramp_years: f64,
}

impl ScenarioMarket {
    /// A standardised scenario on its market.
    pub fn standard(s: Scenario, market: MarketSnapshot) -> ScenarioMarket {
        ScenarioMarket {
            name: s.name().to_string(),
            standard: Some(s),
            market,
            prepayment_multiplier: None,
            early_redemption_multiplier: None,
            ramp_years: 1.0,
        }
    }
}

/// [`analyse`] under any scenarios (a scenario set): `scenarios` are the shocked markets,
/// the base is added first.
pub fn analyse_scenarios<C: Borrow<ContractTerms> + Sync>(
    contracts: &[C],
    base: &MarketSnapshot,
    scenarios: Vec<ScenarioMarket>,
    as_of: DateTime,
    options: &Options<'_>,
) -> Result<Analysis, EveError> {
    // EU materiality (RTS 2024/857 Art 9(2), 10(4)) where the assumption set asks for it.
    let (behaviour, materiality_notes) = match options.behaviour {
        Some(b) => {
            let (b, notes) = b.with_eu_materiality(contracts);
            (Some(b), notes)
        }
        None => (None, Vec::new()),
    };
    let adjusted = Options {
        behaviour: behaviour.as_ref(),
        ..options.clone()
    };
    // Contracts with automatic options, found first: a missing volatility stops the run here.
    let kao = super::automatic_options::Plan::new(contracts, base, adjusted.automatic_options)?;
    analyse_core(
        base,
        scenarios,
        as_of,
        &adjusted,
        materiality_notes,
        Some(kao),
        &mut |each| {
            for (b, batch) in contracts.chunks(CHUNK * BATCH).enumerate() {
                let first = b * CHUNK * BATCH;
                let segs = adjusted
                    .segments
                    .and_then(|v| v.get(first..(first + batch.len()).min(v.len())));
                each(batch, segs)?;
            }
            Ok(())
        },
    )
}

/// A contract as the engine reads it: terms at hand (anything that borrows as
/// [`ContractTerms`]) are read as they are. A source that holds its contracts in another form
/// (the store's compact forms) implements it to have each contract decoded on the worker that
/// values it, into that worker's own terms, just before it is valued: the terms are then hot
/// in the worker's cache, and no box of terms (1.5 KB) is allocated, filled on one core,
/// read on another and freed per contract.
pub trait ContractInput: Sync {
    /// The contract's terms: its own, or decoded into `scratch` (whatever `scratch` held is
    /// replaced). An error says why the input does not read; the contract is then reported
    /// in [`Analysis::unreadable`] and not valued.
    ///
    /// # Errors
    /// Why the contract's input does not read.
    fn terms<'s>(&'s self, scratch: &'s mut ContractTerms) -> Result<&'s ContractTerms, String>;

    /// The name a contract whose input does not read is reported under.
    fn name(&self) -> String;
}

impl<T: Borrow<ContractTerms> + Sync> ContractInput for T {
    fn terms<'s>(&'s self, _: &'s mut ContractTerms) -> Result<&'s ContractTerms, String> {
        Ok(self.borrow())
    }

    fn name(&self) -> String {
        self.borrow().id().to_string()
    }
}

/// A source of contracts for [`analyse_streamed`]: it hands every batch of the portfolio, in
/// order, to the callback with the batch's segment indices (as `Options::segments` gives
/// them for a whole portfolio) — batches of [`FEED_BATCH`] contracts but the last, so the
/// chunks are the same whatever the source.
pub type Feed<'f, C> = dyn FnMut(&mut dyn FnMut(&[C], Option<&[u16]>) -> Result<(), EveError>) -> Result<(), EveError>
    + 'f;

/// The contracts per batch a [`Feed`] hands over (all but the last).
pub const FEED_BATCH: usize = CHUNK * BATCH;

/// [`analyse_scenarios`] on a portfolio streamed in batches (`feed`), never held whole: the
/// options are already adjusted for EU materiality (which needs the whole portfolio; a
/// caller that cannot know it up front runs without an assumption set that asks for it).
/// The result is the same, byte for byte, as on the whole portfolio at once.
///
/// # Errors
/// As [`analyse_scenarios`].
pub fn analyse_streamed<C: ContractInput>(
    base: &MarketSnapshot,
    scenarios: Vec<ScenarioMarket>,
    as_of: DateTime,
    options: &Options<'_>,
    feed: &mut Feed<'_, C>,
) -> Result<Analysis, EveError> {
    analyse_core(base, scenarios, as_of, options, Vec::new(), None, feed)
}

/// The analysis over the batches `feed` hands over; `kao` is the plan of a portfolio held
/// whole, else it is built batch by batch (its holders' terms copied).
#[allow(clippy::too_many_lines)]
fn analyse_core<'p, C: ContractInput>(
    base: &MarketSnapshot,
    scenarios: Vec<ScenarioMarket>,
    as_of: DateTime,
    options: &Options<'_>,
    materiality_notes: Vec<String>,
    kao: Option<super::automatic_options::Plan<'p>>,
    feed: &mut Feed<'_, C>,
) -> Result<Analysis, EveError> {
    let streamed = kao.is_none();
    let mut kao =
        kao.unwrap_or_else(|| super::automatic_options::Plan::empty(options.automatic_options));
    let mut markets = vec![ScenarioMarket {
        name: "base".into(),
        standard: None,
        market: base.clone(),
        prepayment_multiplier: None,
        early_redemption_multiplier: None,
        ramp_years: 1.0,
    }];
    markets.extend(scenarios);
    let ccys: Vec<String> = base.currencies().map(str::to_string).collect();
    let d0 = as_of.date();
    let tables: Vec<Vec<DayTable<'_>>> = markets
        .par_iter()
        .map(|sm| {
            ccys.iter()
                .filter_map(|c| sm.market.discount_curve(c).ok())
                .map(|curve| DayTable::new(curve, d0))
                .collect()
        })
        .collect();
    let names: Arc<[String]> = markets.iter().map(|sm| sm.name.clone()).collect();
    // Sensitivities: the bumped markets and the discount tables of their currency.
    let sens_ccy_name = options
        .sensitivity_currency
        .filter(|c| ccys.iter().any(|x| x == c));
    let (sens_markets, pillars) = match sens_ccy_name {
        Some(c) => bumped_markets(base, c)?,
        None => (Vec::new(), Vec::new()),
    };
    let sens_tables: Vec<Option<DayTable<'_>>> = match sens_ccy_name {
        Some(c) => std::iter::once(base)
            .chain(sens_markets.iter().map(|(m, _)| m))
            .collect::<Vec<_>>()
            .par_iter()
            .map(|m| {
                m.discount_curve(c)
                    .ok()
                    .map(|curve| DayTable::new(curve, d0))
            })
            .collect(),
        None => Vec::new(),
    };
    let stride = interleave_stride(tables.len());
    let interleaved: Vec<Vec<f64>> = (0..ccys.len())
        .map(|c| {
            let mut v = vec![0.0; (TABLE_DAYS + 1) * stride];
            for (m, per_ccy) in tables.iter().enumerate() {
                for (d, df) in per_ccy[c].df.iter().enumerate() {
                    v[d * stride + m] = *df;
                }
            }
            v
        })
        .collect();
    let setup = Setup {
        markets: &markets,
        tables,
        as_of,
        behaviour: options.behaviour,
        sens_ccy: sens_ccy_name.and_then(|c| ccys.iter().position(|x| x == c).map(|k| k as u16)),
        ccys,
        names: names.clone(),
        per_contract: options.per_contract,
        nmd_slots: options.behaviour.map_or_else(Vec::new, |b| {
            b.nmd
                .values()
                .map(|r| {
                    let mut slots: Vec<(u32, f64)> = r
                        .profile
                        .iter()
                        .map(|(y, w)| ((y * 365.0).round() as u32, *w))
                        .collect();
                    slots.sort_by_key(|s| s.0);
                    slots
                })
                .collect()
        }),
        prepay: options.behaviour.map_or_else(Vec::new, |b| {
            b.prepayment
                .values()
                .enumerate()
                .map(|(k, p)| {
                    markets
                        .iter()
                        .map(|sm| {
                            let rate = b.cpr_in(k, &sm.name, sm.standard, sm.prepayment_multiplier);
                            (rate, p.convention)
                        })
                        .collect()
                })
                .collect()
        }),
        redeem: options.behaviour.map_or_else(Vec::new, |b| {
            (0..b.early_redemption.len())
                .map(|k| {
                    markets
                        .iter()
                        .map(|sm| {
                            b.tdrr_in(k, &sm.name, sm.standard, sm.early_redemption_multiplier)
                        })
                        .collect()
                })
                .collect()
        }),
        core: options.behaviour.map_or_else(Vec::new, |b| {
            (0..b.nmd.len())
                .map(|k| {
                    markets
                        .iter()
                        .map(|sm| b.core_share_in(k, &sm.name))
                        .collect()
                })
                .collect()
        }),
        sens_markets: &sens_markets,
        sens_tables,
        interleaved,
        nii_grid: (options.nii_months > 0)
            .then(|| MonthGrid::new(as_of.date(), options.nii_months.min(60))),
        segment_count: options.segment_names.len().max(1),
        bucket_of_day: (0..=TABLE_DAYS)
            .map(|d| super::buckets::bucket_of(d as f64 / 365.0) as u8)
            .collect(),
        standardised: options.standardised,
        user_bucket_of_day: if options.gap_bounds.is_empty() {
            Vec::new()
        } else {
            (0..=TABLE_DAYS as u32)
                .map(|d| options.gap_bounds.partition_point(|b| *b < d).min(250) as u8)
                .collect()
        },
        user_buckets: options.gap_bounds.len().min(250) + 1,
        explain: options.explain,
        margins: options.margins,
        option_holders: kao.holder_indices(),
        find_options: streamed.then(|| kao.mode()),
    };
    let (nv, nm, nc) = (setup.views(), markets.len(), setup.ccys.len());
    let segment_names: Vec<String> = if options.segment_names.is_empty() {
        vec!["all".to_string()]
    } else {
        options.segment_names.to_vec()
    };
    let mut totals = vec![0.0; nv * nm * nc];
    let mut repricing = vec![DayAmounts::default(); nv * nc];
    let mut buckets = vec![
        0.0;
        if options.standardised {
            nv * nm * nc * 19
        } else {
            0
        }
    ];
    let mut seg_gap = vec![0.0; nv * setup.segment_count * nc * (19 + setup.user_buckets)];
    let mut fixed_flows = DayAmounts::default();
    let mut sens_floating = vec![0.0; setup.sens_tables.len()];
    let mut nii: Vec<NiiSums> = Vec::new();
    let mut margin_counts = [0usize; 3];
    let mut holder_values: Vec<HolderValues> = Vec::new();
    let mut out = Analysis {
        contracts: ContractTable::new(names.clone(), nv == 2),
        scenario_names: names,
        warnings: options
            .behaviour
            .map(|b| {
                b.unknown_scenarios(&markets.iter().map(|m| m.name.as_str()).collect::<Vec<_>>())
            })
            .unwrap_or_default()
            .into_iter()
            .map(|n| {
                format!("the assumption set names scenario {n:?}, which this run does not have")
            })
            .chain(materiality_notes)
            .collect(),
        ..Analysis::default()
    };
    let mut offset = 0usize;
    let mut interest = InterestWithoutSchedule::default();
    let mut short_batch_seen = false;
    // The sums of chunks already merged, emptied and filled again by later chunks: a fresh
    // set per chunk faulted in some 600 kB of new memory every time.
    let pool: std::sync::Mutex<Vec<Partial>> = std::sync::Mutex::new(Vec::new());
    feed(&mut |batch: &[C], segs: Option<&[u16]>| {
        // Chunks are cut from the whole sequence only if every batch but the last is full:
        // a feed that breaks this would change the sums' order, so it is refused.
        if short_batch_seen {
            return Err(EveError::Input(format!(
                "a feed handed a batch after one of fewer than {FEED_BATCH} contracts: \
                 only the last batch may be short"
            )));
        }
        short_batch_seen = batch.len() != FEED_BATCH;
        let first = offset;
        offset += batch.len();
        // Each worker decodes a contract fed in another form into its own terms just before
        // valuing it; a streamed portfolio's automatic options are found there too, their
        // terms copied (the batch is gone by the time the options are valued).
        let mut partials: Vec<Partial> = batch
            .par_chunks(CHUNK)
            .enumerate()
            .map_init(
                || (Scratch::default(), Box::<ContractTerms>::default()),
                |(s, decoded), (k, chunk)| {
                    let segs =
                        segs.and_then(|v| v.get(k * CHUNK..(k * CHUNK + chunk.len()).min(v.len())));
                    let reuse = pool.lock().ok().and_then(|mut v| v.pop());
                    setup.chunk(first + k * CHUNK, chunk, segs, s, decoded, reuse)
                },
            )
            .collect();
        // In portfolio order: the first chunk that stopped says why.
        if let Some(e) = partials.iter_mut().find_map(|p| p.stop.take()) {
            return Err(e);
        }
        for mut p in partials {
            interest.merge(&mut p.interest);
            kao.take_found(&mut p.found);
            out.unreadable.append(&mut p.unreadable);
            totals.iter_mut().zip(&p.totals).for_each(|(a, b)| *a += b);
            repricing
                .iter_mut()
                .zip(&p.repricing)
                .for_each(|(a, b)| a.merge(b));
            buckets
                .iter_mut()
                .zip(&p.buckets)
                .for_each(|(a, b)| *a += b);
            seg_gap
                .iter_mut()
                .zip(&p.seg_gap)
                .for_each(|(a, b)| *a += b);
            out.explained.append(&mut p.explained);
            margin_counts
                .iter_mut()
                .zip(p.margin_counts)
                .for_each(|(a, b)| *a += b);
            fixed_flows.merge(&p.fixed_flows);
            if nii.is_empty() {
                nii.clone_from(&p.nii);
            } else {
                nii.iter_mut().zip(&p.nii).for_each(|(a, b)| a.add(b));
            }
            sens_floating
                .iter_mut()
                .zip(&p.sens_floating)
                .for_each(|(a, b)| *a += b);
            out.contracts.append(&p.contracts);
            out.failed.append(&mut p.failed);
            holder_values.append(&mut p.option_holders);
            if let Ok(mut v) = pool.lock() {
                v.push(p);
            }
        }
        Ok(())
    })?;
    out.warnings.extend(interest.warning());
    if options.margins.is_some() {
        // Never silent: how many contracts keep their margins, and why.
        let [stripped, no_rule, unsupported] = margin_counts;
        let n = |k: usize| {
            if k == 1 {
                "1 contract".to_string()
            } else {
                format!("{k} contracts")
            }
        };
        let mut note = format!(
            "commercial margins stripped from the EVE flows of {}; margins kept for lack of a \
             margin rule: {}",
            n(stripped),
            n(no_rule)
        );
        if unsupported > 0 {
            note.push_str(&format!(
                "; margins kept although a rule matched (margins are stripped from PAM, LAM, \
                 ANN, NAM and UMP contracts only): {}",
                n(unsupported)
            ));
        }
        out.warnings.push(note);
    }
    let view = |v: usize| {
        let mut view = View::default();
        for (c, ccy) in setup.ccys.iter().enumerate() {
            let at = |m: usize| totals[(v * nm + m) * nc + c];
            let rep = &repricing[v * nc + c];
            let any = (0..nm).any(|m| at(m) != 0.0) || rep.iter().next().is_some();
            if !any {
                continue;
            }
            view.currencies
                .insert(ccy.clone(), CurrencyEve::from_values(&setup.names, at));
            view.repricing.insert(ccy.clone(), rep.clone());
            if options.standardised {
                let flows = |m: usize| -> [f64; 19] {
                    let off = ((v * nm + m) * nc + c) * 19;
                    let mut a = [0.0; 19];
                    a.copy_from_slice(&buckets[off..off + 19]);
                    a
                };
                let eve = |m: usize| -> f64 {
                    markets[m].market.discount_curve(ccy).map_or(0.0, |curve| {
                        super::eve::eve_standardised(&flows(m), |t| curve.zero(t))
                    })
                };
                view.standardised
                    .insert(ccy.clone(), CurrencyEve::from_values(&setup.names, eve));
                view.bucket_flows.insert(ccy.clone(), flows(0));
            }
        }
        view
    };
    out.contractual = view(0);
    if nv == 2 {
        out.behavioural = Some(view(1));
    }
    kao.apply(
        &mut out,
        &markets,
        &DayDiscount {
            tables: &setup.tables,
            ccys: &setup.ccys,
        },
        as_of,
        options.behaviour,
        options.per_contract,
        &holder_values,
    );
    out.gap_by_segment = GapBySegment {
        segments: segment_names.clone(),
        currencies: setup.ccys.clone(),
        user_bounds: options.gap_bounds.to_vec(),
        data: seg_gap,
    };
    if let (Some(grid), false) = (&setup.nii_grid, nii.is_empty()) {
        let base_accrual = nii[0].accrual.clone();
        let mut instantaneous = Vec::with_capacity(nm);
        let mut ramped = Vec::with_capacity(nm);
        for (k, sm) in markets.iter().enumerate() {
            let m = &sm.market;
            instantaneous.push(monthly(&nii[k], grid, &setup.ccys, m, base, None));
            // Ramped: the existing book's change comes in by the same share as the market's.
            let ramp = sm.ramp_years.max(1.0 / 12.0);
            let mut r = monthly(&nii[k], grid, &setup.ccys, m, base, Some(ramp));
            let months = grid.months();
            for (idx, x) in r.iter_mut().enumerate() {
                let w = (f64::from(grid.start[idx % months]) / 365.0 / ramp).min(1.0);
                *x -= (1.0 - w) * (nii[k].accrual[idx] - base_accrual[idx]);
            }
            ramped.push(r);
        }
        out.nii = Some(NiiProjection {
            months: grid.months(),
            segments: segment_names,
            currencies: setup.ccys.clone(),
            instantaneous,
            ramped,
        });
    }
    if let Some(c) = setup.sens_ccy {
        let ccy = setup.ccys[c as usize].clone();
        // Fixed flows summed by day, re-discounted on each market, plus the floaters' values.
        let fixed: Vec<(u32, f64)> = fixed_flows.iter().collect();
        let v: Vec<f64> = setup
            .sens_tables
            .iter()
            .zip(&sens_floating)
            .map(|(table, fl)| {
                let fixed: f64 = table
                    .as_ref()
                    .map_or(0.0, |t| fixed.iter().map(|(d, x)| x * t.at(*d)).sum());
                fixed + fl
            })
            .collect();
        out.sensitivities = Some(super::sensitivity::assemble(&ccy, &v, &pillars, Vec::new()));
    }
    Ok(out)
}

/// The bumped markets of the sensitivities of `ccy` (base excluded): all curves of the
/// currency ±1 bp, then each pillar of its discount curve +1 bp; with the curve each one
/// changed (`None`: every curve of the currency), and the pillars in years.
type Bumped = (Vec<(MarketSnapshot, Option<String>)>, Vec<f64>);

fn bumped_markets(base: &MarketSnapshot, ccy: &str) -> Result<Bumped, EveError> {
    let mut markets = vec![
        (bumped(base, ccy, BP, None)?, None),
        (bumped(base, ccy, -BP, None)?, None),
    ];
    let mut pillars = Vec::new();
    if let Ok(curve) = base.discount_curve(ccy) {
        for (k, &t) in curve.pillars().iter().enumerate() {
            markets.push((
                bumped(base, ccy, BP, Some((curve.id(), k)))?,
                Some(curve.id().to_string()),
            ));
            pillars.push(t);
        }
    }
    Ok((markets, pillars))
}

/// A contract's events on each of `markets` into `out` (one list per market, in order), its
/// schedule built once ([`almanac_actus::evaluate_each`]).
pub(super) fn evaluate_on_each<'m>(
    t: &ContractTerms,
    markets: impl Iterator<Item = &'m MarketSnapshot>,
    out: &mut Vec<Vec<ContractEvent>>,
) -> Result<(), String> {
    let markets: Vec<&MarketSnapshot> = markets.collect();
    out.resize_with(markets.len(), Vec::new);
    evaluate_on_each_into(t, markets.into_iter(), out).map(|_| ())
}

/// As [`evaluate_on_each`], market `k`'s events going to `sinks[k]` as they are produced
/// ([`almanac_actus::evaluate_each_into`]); markets beyond the sinks are not evaluated.
/// Returns whether the evaluation on the first market read market data (which does not
/// depend on the market: a floater reads its index on every one).
pub(super) fn evaluate_on_each_into<'m, S: almanac_actus::EventSink>(
    t: &ContractTerms,
    mut markets: impl Iterator<Item = &'m MarketSnapshot>,
    sinks: &mut [S],
) -> Result<bool, String> {
    let Some(first) = markets.next() else {
        return Ok(false);
    };
    let first = super::run::Recording::new(first);
    let rest: Vec<almanac_actus::SnapshotObserver<'_>> =
        markets.map(almanac_actus::SnapshotObserver::new).collect();
    let observers = std::iter::once(&first as &dyn almanac_actus::RiskFactorObserver).chain(
        rest.iter()
            .map(|o| o as &dyn almanac_actus::RiskFactorObserver),
    );
    let ctxs: Vec<almanac_actus::EvalContext<'_>> = observers
        .map(|observer| almanac_actus::EvalContext {
            observer,
            observed_events: &[],
            to: None,
        })
        .collect();
    let refs: Vec<&almanac_actus::EvalContext<'_>> = ctxs.iter().collect();
    almanac_actus::evaluate_each_into(t, &refs, sinks).map_err(|e| e.to_string())?;
    Ok(first.used())
}

/// Whether a contract's flows can change when only `curve` changes: its rate-reset index
/// forecasts from that curve, or the index is not one the market defines (then the engine
/// cannot tell, and re-evaluates).
fn reads_curve(t: &ContractTerms, m: &MarketSnapshot, curve: &str) -> bool {
    match &t.market_object_code_of_rate_reset {
        Some(code) => m
            .indices()
            .find(|i| &i.name == code)
            .is_none_or(|i| i.forecast_curve == curve),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_market::{CurveInterpolation, IndexDefinition};
    use almanac_time::DayCount;

    fn market() -> MarketSnapshot {
        let mut m = crate::irrbb::testkit::eur_market(
            "EUR-ESTR",
            CurveInterpolation::MonotoneConvex,
            &[0.25, 1.0, 2.0, 5.0, 10.0, 30.0],
            &[0.019, 0.02, 0.021, 0.023, 0.025, 0.026],
        );
        m.insert_index(IndexDefinition {
            name: "IDX".into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-ESTR".into(),
            tenor: "6M".parse().unwrap(),
            day_count: DayCount::Act360,
        })
        .unwrap();
        m
    }

    fn terms(json: &str) -> ContractTerms {
        serde_json::from_str(json).unwrap()
    }

    /// A mixed book: fixed bullets both ways, an annuity, a linear amortiser, a floater, a term
    /// deposit, an NMD, cash, and a contract in a currency without a curve.
    fn book(n: usize) -> Vec<ContractTerms> {
        let mut out = Vec::new();
        for i in 0..n {
            let years = 1 + (i % 23) as i32;
            let rate = 0.01 + 0.002 * (i % 17) as f64;
            let md = format!("{}-{:02}-15", 2025 + years, 1 + i % 12);
            let json = match i % 9 {
                0 => format!(
                    r#"{{"contractType":"PAM","contractID":"b{i}","contractRole":"RPA","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2024-06-15","maturityDate":"{md}",
                    "notionalPrincipal":{},"nominalInterestRate":{rate},"dayCountConvention":"30E360",
                    "cycleAnchorDateOfInterestPayment":"2025-01-15","cycleOfInterestPayment":"P6ML1"}}"#,
                    1000 + i
                ),
                1 => format!(
                    r#"{{"contractType":"ANN","contractID":"a{i}","contractRole":"RPA","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2025-01-15","maturityDate":"{md}",
                    "notionalPrincipal":{},"nominalInterestRate":{rate},"dayCountConvention":"30E360",
                    "cycleAnchorDateOfInterestPayment":"2025-02-15","cycleOfInterestPayment":"P1ML1",
                    "cycleAnchorDateOfPrincipalRedemption":"2025-02-15","cycleOfPrincipalRedemption":"P1ML1"}}"#,
                    200_000 + i
                ),
                2 => format!(
                    r#"{{"contractType":"LAM","contractID":"l{i}","contractRole":"RPA","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2025-03-01","maturityDate":"{md}",
                    "notionalPrincipal":{},"nominalInterestRate":{rate},"dayCountConvention":"A365",
                    "cycleAnchorDateOfInterestPayment":"2026-03-01","cycleOfInterestPayment":"P3ML1",
                    "cycleAnchorDateOfPrincipalRedemption":"2026-03-01","cycleOfPrincipalRedemption":"P3ML1",
                    "nextPrincipalRedemptionPayment":{}}}"#,
                    120_000,
                    120_000 / (4 * years)
                ),
                3 => format!(
                    r#"{{"contractType":"PAM","contractID":"f{i}","contractRole":"RPA","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2025-07-15","maturityDate":"{md}",
                    "notionalPrincipal":50000,"nominalInterestRate":0.021,"dayCountConvention":"A360",
                    "cycleAnchorDateOfInterestPayment":"2026-01-15","cycleOfInterestPayment":"P6ML1",
                    "cycleAnchorDateOfRateReset":"2026-01-15","cycleOfRateReset":"P6ML1",
                    "marketObjectCodeOfRateReset":"IDX","rateSpread":0.01}}"#
                ),
                4 => format!(
                    r#"{{"contractType":"PAM","contractID":"t{i}","contractRole":"RPL","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2025-10-01","maturityDate":"{}-10-01",
                    "notionalPrincipal":30000,"nominalInterestRate":{rate},"dayCountConvention":"A365"}}"#,
                    2026 + (i % 3) as i32
                ),
                5 => format!(
                    r#"{{"contractType":"UMP","contractID":"d{i}","contractRole":"RPL","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2020-01-01",
                    "notionalPrincipal":{},"nominalInterestRate":0.001,"dayCountConvention":"A365"}}"#,
                    80_000 + i
                ),
                6 => format!(
                    r#"{{"contractType":"CSH","contractID":"c{i}","contractRole":"RPA","currency":"EUR",
                    "statusDate":"2025-12-31","notionalPrincipal":{}}}"#,
                    1000 + i
                ),
                7 => format!(
                    r#"{{"contractType":"PAM","contractID":"u{i}","contractRole":"RPA","currency":"USD",
                    "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"{md}",
                    "notionalPrincipal":1000,"nominalInterestRate":0.03,"dayCountConvention":"A365"}}"#
                ),
                _ => format!(
                    r#"{{"contractType":"PAM","contractID":"i{i}","contractRole":"RPL","currency":"EUR",
                    "statusDate":"2025-12-31","initialExchangeDate":"2023-05-20","maturityDate":"{md}",
                    "notionalPrincipal":{},"nominalInterestRate":{rate},"dayCountConvention":"AA",
                    "cycleAnchorDateOfInterestPayment":"2024-05-20","cycleOfInterestPayment":"P1YL1"}}"#,
                    5000 + i
                ),
            };
            out.push(terms(&json));
        }
        out
    }

    fn as_of() -> DateTime {
        DateTime::midnight(Date::ymd(2025, 12, 31))
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
    }

    /// The day tables give the same PVs as discounting every event on its curve, contract by
    /// contract (the reference implementation), and the same repricing flows; NMDs are the
    /// exception by design (on demand in the engine's contractual view).
    #[test]
    fn interest_without_a_schedule_is_named_in_the_warnings() {
        let pam = |id: &str, extra: &str| -> ContractTerms {
            serde_json::from_str(&format!(
                r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"RPL",
                "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2025-06-30",
                "maturityDate":"2026-06-30","notionalPrincipal":1000000,
                "nominalInterestRate":0.03,"dayCountConvention":"A365"{extra}}}"#
            ))
            .unwrap()
        };
        let book = vec![
            pam("TD-no-cycle", ""),
            pam("TD-yearly", r#","cycleOfInterestPayment":"P1YL1""#),
        ];
        let a = analyse(
            &book,
            &market(),
            &StandardSpec::default(),
            as_of(),
            &Options::default(),
        )
        .unwrap();
        let w: Vec<&String> = a
            .warnings
            .iter()
            .filter(|w| w.contains("no interest payment cycle"))
            .collect();
        assert_eq!(w.len(), 1, "{:?}", a.warnings);
        assert!(
            w[0].starts_with("1 contract with an interest rate"),
            "{}",
            w[0]
        );
        assert!(w[0].ends_with(": TD-no-cycle"), "{}", w[0]);
        // The yearly one pays its interest at maturity, the other pays none: the warning's point.
        let with = analyse(
            &book,
            &market(),
            &StandardSpec::default(),
            as_of(),
            &Options {
                per_contract: true,
                ..Options::default()
            },
        )
        .unwrap();
        let value = |id: &str| {
            with.contracts
                .iter()
                .find(|c| c.contract_id == id)
                .unwrap()
                .pv[0]
        };
        // Half a year of 3 % on 1 000 000 from the status date (no accrued interest given).
        let missing = value("TD-no-cycle") - value("TD-yearly");
        assert!((14_000.0..15_000.0).contains(&missing), "{missing}");
    }

    /// A contract with a rate-reset cycle is evaluated on every market at once; one whose
    /// resets all fall after its maturity reads no market data, and is valued exactly as the
    /// same contract without the cycle.
    #[test]
    fn a_reset_cycle_that_reads_nothing_values_as_fixed() {
        let pam = |id: &str, reset: &str| {
            terms(&format!(
                r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"RPA","currency":"EUR",
                "statusDate":"2025-12-31","initialExchangeDate":"2025-06-15","maturityDate":"2029-06-15",
                "notionalPrincipal":1000000,"nominalInterestRate":0.03,"dayCountConvention":"A360",
                "cycleAnchorDateOfInterestPayment":"2026-06-15","cycleOfInterestPayment":"P1YL1"{reset}}}"#
            ))
        };
        let idle = r#","cycleAnchorDateOfRateReset":"2030-06-15","cycleOfRateReset":"P1YL1",
            "marketObjectCodeOfRateReset":"IDX""#;
        let live = r#","cycleAnchorDateOfRateReset":"2026-06-15","cycleOfRateReset":"P1YL1",
            "marketObjectCodeOfRateReset":"IDX""#;
        let book = vec![pam("fixed", ""), pam("idle", idle), pam("live", live)];
        let opts = Options {
            per_contract: true,
            ..Options::default()
        };
        let a = analyse(&book, &market(), &StandardSpec::default(), as_of(), &opts).unwrap();
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        assert_eq!(a.contracts.row(1).pv, a.contracts.row(0).pv);
        // The live floater moves with the scenarios' forwards: not the fixed contract's values.
        assert_ne!(a.contracts.row(2).pv, a.contracts.row(0).pv);
    }

    #[test]
    fn matches_the_event_by_event_reference() {
        let book: Vec<ContractTerms> = book(60)
            .into_iter()
            .filter(|t| t.contract_type != Some(ContractType::Ump))
            .collect();
        let spec = StandardSpec::default();
        let m = market();
        let reference = super::super::run::eve_by_event(&book, &m, &spec, as_of(), true).unwrap();
        let opts = Options {
            per_contract: true,
            ..Options::default()
        };
        let a = analyse(&book, &m, &spec, as_of(), &opts).unwrap();
        assert_eq!(a.failed, reference.failed);
        assert!(!a.failed.is_empty() && a.failed.iter().all(|f| f.1.contains("USD")));
        assert_eq!(a.contracts.len(), reference.contracts.len());
        for (x, r) in a.contracts.iter().zip(&reference.contracts) {
            assert_eq!(x.contract_id, r.contract_id);
            for (name, v) in &r.pv {
                let got = x.get(name).unwrap();
                assert!(
                    close(got, *v, 1e-12),
                    "{} {name}: {got} vs {v}",
                    x.contract_id
                );
            }
        }
        let eur = &a.contractual.currencies["EUR"];
        let r = &reference.currencies["EUR"];
        assert!(close(eur.base, r.base, 1e-12));
        for (n, v) in &r.scenarios {
            assert!(close(eur.scenarios[n].value, v.value, 1e-12), "{n}");
        }
        // Repricing: the same flows, summed by day.
        let mut expected: BTreeMap<u32, f64> = BTreeMap::new();
        for (t, x) in &reference.repricing["EUR"] {
            *expected.entry((t * 365.0).round() as u32).or_insert(0.0) += x;
        }
        let got: BTreeMap<u32, f64> = a.contractual.repricing["EUR"].iter().collect();
        assert_eq!(got.len(), expected.len());
        for ((d1, x1), (d2, x2)) in got.iter().zip(&expected) {
            assert_eq!(d1, d2);
            assert!(close(*x1, *x2, 1e-12));
        }
    }

    /// Sensitivities from the summed fixed flows plus re-evaluated floaters equal those from
    /// re-valuing every contract on every bumped market.
    #[test]
    fn sensitivities_match_full_revaluation() {
        let book = book(45);
        let m = market();
        let opts = Options {
            sensitivity_currency: Some("EUR"),
            ..Options::default()
        };
        let a = analyse(&book, &m, &StandardSpec::default(), as_of(), &opts).unwrap();
        let s = a.sensitivities.unwrap();
        // The slow path values NMDs by their ACTUS events; leave them out of both.
        let no_nmd: Vec<ContractTerms> = book
            .into_iter()
            .filter(|t| t.contract_type != Some(ContractType::Ump))
            .collect();
        let a2 = analyse(&no_nmd, &m, &StandardSpec::default(), as_of(), &opts).unwrap();
        let s2 = a2.sensitivities.unwrap();
        let slow = super::super::sensitivity::sensitivities(&no_nmd, &m, "EUR", as_of()).unwrap();
        assert!(close(s2.value, slow.value, 1e-12));
        assert!(close(s2.pv01, slow.pv01, 1e-9), "{} {}", s2.pv01, slow.pv01);
        assert!(close(s2.effective_duration, slow.effective_duration, 1e-7));
        for (x, y) in s2.key_rate_pv01.iter().zip(&slow.key_rate_pv01) {
            assert_eq!(x.0, y.0);
            assert!((x.1 - y.1).abs() < 1e-9 * slow.value.abs(), "{x:?} {y:?}");
        }
        // NMDs on demand: about −balance, and with them the value is lower.
        assert!(s.value < s2.value);
        // Floaters on a forecast curve of their own keep their base flows under a key-rate
        // bump of the discount curve: the same figures as full re-evaluation.
        let mut m2 = m.clone();
        m2.insert_curve(
            Curve::from_zero_rates(
                "EUR-IBOR",
                "EUR",
                Date::ymd(2025, 12, 31),
                DayCount::Act365Fixed,
                CurveInterpolation::LinearZero,
                vec![0.5, 5.0, 30.0],
                vec![0.022, 0.025, 0.027],
            )
            .unwrap(),
        )
        .unwrap();
        m2.insert_index(IndexDefinition {
            name: "IDX".into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-IBOR".into(),
            tenor: "6M".parse().unwrap(),
            day_count: DayCount::Act360,
        })
        .unwrap();
        let fast = analyse(&no_nmd, &m2, &StandardSpec::default(), as_of(), &opts)
            .unwrap()
            .sensitivities
            .unwrap();
        let slow = super::super::sensitivity::sensitivities(&no_nmd, &m2, "EUR", as_of()).unwrap();
        assert!(
            close(fast.pv01, slow.pv01, 1e-9),
            "{} {}",
            fast.pv01,
            slow.pv01
        );
        for (x, y) in fast.key_rate_pv01.iter().zip(&slow.key_rate_pv01) {
            assert!((x.1 - y.1).abs() < 1e-9 * slow.value.abs(), "{x:?} {y:?}");
        }
    }

    fn behaviour(text: &str) -> Behaviour {
        Behaviour::from_toml(text).unwrap()
    }

    /// With zero rates and no NMD rule the behavioural view equals the contractual one.
    #[test]
    fn behaviour_off_is_contractual() {
        let book = book(40);
        let b = behaviour("[prepayment.all]\ncpr = 0.0\n[early_redemption.all]\ntdrr = 0.0");
        let opts = Options {
            per_contract: true,
            behaviour: Some(&b),
            ..Options::default()
        };
        let a = analyse(&book, &market(), &StandardSpec::default(), as_of(), &opts).unwrap();
        assert_eq!(
            a.behavioural.as_ref().unwrap().currencies,
            a.contractual.currencies
        );
        for c in &a.contracts {
            assert_eq!(Some(&c.pv), c.contractual.as_ref());
        }
    }

    /// Prepayment pulls a premium loan's value towards par and its repricing forward; early
    /// redemption moves deposits overnight; the NMD core is slotted out to its profile, so the
    /// deposit book gains when rates rise; the notional is conserved in every view.
    #[test]
    fn behaviour_moves_values_the_right_way() {
        let book = book(90);
        let b = behaviour(
            r#"
            [prepayment.all]
            cpr = 0.15
            [early_redemption.all]
            tdrr = 0.10
            [nmd.current]
            category = "retail_transactional"
            core_share = 0.8
            profile = [[2.0, 0.5], [6.0, 0.5]]
            "#,
        );
        let opts = Options {
            per_contract: true,
            behaviour: Some(&b),
            ..Options::default()
        };
        let a = analyse(&book, &market(), &StandardSpec::default(), as_of(), &opts).unwrap();
        assert!(
            a.failed.iter().all(|f| f.0.starts_with('u')),
            "{:?}",
            a.failed
        );
        let c = |id: &str| a.contracts.iter().find(|c| c.contract_id == id).unwrap();
        // a1: annuity at 1.2 %, below the curve: worth less than par; prepaid sooner, more.
        let ann = c("a1");
        assert!(ann.pv[0] > ann.contractual.as_ref().unwrap()[0]);
        // a55 at 2.2 %... pick one above the curve: rate = 0.01 + 0.002·(i mod 17).
        let premium = a
            .contracts
            .iter()
            .filter(|c| c.contract_id.starts_with('a'))
            .find(|c| c.contractual.as_ref().unwrap()[0] > 200_000.0 + 1_000.0)
            .unwrap();
        assert!(premium.pv[0] < premium.contractual.as_ref().unwrap()[0]);
        // Deposits: the NMD slotted core gains in parallel up (liability, long).
        let d = c("d5");
        let (up, base) = (d.get("parallel_up").unwrap(), d.get("base").unwrap());
        assert!(up > base, "{up} {base}");
        let on_demand = d.contractual.as_ref().unwrap();
        assert!((on_demand[0] + 80_005.0).abs() < 10.0, "{}", on_demand[0]);
        // One day of the 200 bp shock: 80 005 × 0.02 / 365 ≈ 4.4.
        assert!((on_demand[1] - on_demand[0]).abs() < 5.0);
        // Conservation: repricing notional equals the outstanding in both views, per sign.
        let sum = |v: &View| -> f64 { v.repricing["EUR"].iter().map(|(_, x)| x).sum() };
        let beh = a.behavioural.as_ref().unwrap();
        assert!(
            close(sum(beh), sum(&a.contractual), 1e-9),
            "{} {}",
            sum(beh),
            sum(&a.contractual)
        );
    }

    /// Evaluating a contract on several markets at once gives the events of evaluating it on
    /// each alone.
    #[test]
    fn evaluating_together_matches_alone() {
        let m = market();
        let spec = StandardSpec::default();
        let markets: Vec<MarketSnapshot> = std::iter::once(m.clone())
            .chain(Scenario::ALL.iter().map(|s| apply(&m, *s, &spec).unwrap()))
            .collect();
        let observers: Vec<almanac_actus::SnapshotObserver<'_>> = markets
            .iter()
            .map(almanac_actus::SnapshotObserver::new)
            .collect();
        let ctxs: Vec<almanac_actus::EvalContext<'_>> = observers
            .iter()
            .map(|o| almanac_actus::EvalContext {
                observer: o,
                observed_events: &[],
                to: None,
            })
            .collect();
        let refs: Vec<&almanac_actus::EvalContext<'_>> = ctxs.iter().collect();
        let mut together = vec![Vec::new(); refs.len()];
        let mut alone = Vec::new();
        for t in book(27) {
            let r = almanac_actus::evaluate_each(&t, &refs, &mut together);
            for (k, ctx) in ctxs.iter().enumerate() {
                match (&r, almanac_actus::evaluate_into(&t, ctx, &mut alone)) {
                    (Ok(()), Ok(())) => assert_eq!(together[k], alone, "{} market {k}", t.id()),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{}: {a:?} vs {b:?}", t.id()),
                }
            }
        }
    }

    /// The same results on one thread and on many, across several chunks.
    #[test]
    fn thread_count_does_not_change_results() {
        let book = book(2 * CHUNK + 37);
        let b = behaviour("[prepayment.all]\ncpr = 0.08\n[early_redemption.all]\ntdrr = 0.03");
        let opts = Options {
            per_contract: true,
            behaviour: Some(&b),
            sensitivity_currency: Some("EUR"),
            standardised: true,
            nii_months: 24,
            ..Options::default()
        };
        let m = market();
        let spec = StandardSpec::default();
        let many = analyse(&book, &m, &spec, as_of(), &opts).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| analyse(&book, &m, &spec, as_of(), &opts).unwrap());
        assert_eq!(one, many);
    }

    /// The standardised method: a zero-coupon bond maturing at a bucket midpoint is worth what
    /// the cash-flow method says (to the half day of rounding); a floater reprices in full at
    /// its first reset, so its ΔEVE is small; the base bucket flows are the repricing flows
    /// plus the interest up to repricing.
    #[test]
    fn standardised_method() {
        let m = market();
        let zero = terms(
            r#"{"contractType":"PAM","contractID":"z","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2028-07-01",
            "notionalPrincipal":1000000,"nominalInterestRate":0.0,"dayCountConvention":"A365"}"#,
        );
        let frn = book(4).swap_remove(3);
        let opts = Options {
            standardised: true,
            per_contract: true,
            ..Options::default()
        };
        let a = analyse(&[zero], &m, &StandardSpec::default(), as_of(), &opts).unwrap();
        let v = &a.contractual;
        // 2028-07-01 is 913 days = 2.5014 y: bucket 2–3 y, midpoint 2.5 y.
        assert_eq!(v.bucket_flows["EUR"][8], 1_000_000.0);
        let (std, cf) = (&v.standardised["EUR"], &v.currencies["EUR"]);
        assert!(close(std.base, cf.base, 1e-4), "{} {}", std.base, cf.base);
        for (n, x) in &cf.scenarios {
            assert!(close(std.scenarios[n].value, x.value, 1e-4), "{n}");
        }
        let a = analyse(&[frn], &m, &StandardSpec::default(), as_of(), &opts).unwrap();
        let std = &a.contractual.standardised["EUR"];
        let flows = a.contractual.bucket_flows["EUR"];
        // Coupon and the whole 50 000 at the 2026-01-15 reset (15 days: bucket 2 of 19).
        assert!(
            flows[1] > 50_000.0 && flows.iter().sum::<f64>() == flows[1],
            "{flows:?}"
        );
        assert!(std.scenarios["parallel_up"].delta.abs() < 0.001 * std.base);
    }

    /// NII projection: a fixed bond beyond the horizon earns its coupon in every scenario; an
    /// overnight deposit rolled over at the scenario's rates moves by about N·Δr·(1 − 1 day);
    /// ramped shocks move it by about half; segments add up to the total.
    #[test]
    fn nii_projection() {
        let m = market();
        let bond = terms(
            r#"{"contractType":"PAM","contractID":"bond","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2030-12-31",
            "notionalPrincipal":1000000,"nominalInterestRate":0.03,"dayCountConvention":"A365",
            "cycleAnchorDateOfInterestPayment":"2026-03-31","cycleOfInterestPayment":"P3ML1"}"#,
        );
        let deposit = terms(
            r#"{"contractType":"PAM","contractID":"dep","contractRole":"RPL","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2026-01-01",
            "notionalPrincipal":500000,"nominalInterestRate":0.01,"dayCountConvention":"A365"}"#,
        );
        let names = vec!["bonds".to_string(), "deposits".to_string()];
        let segs = [0u16, 1];
        let opts = Options {
            nii_months: 12,
            segments: Some(&segs),
            segment_names: &names,
            ..Options::default()
        };
        let a = analyse(
            &[bond, deposit],
            &m,
            &StandardSpec::default(),
            as_of(),
            &opts,
        )
        .unwrap();
        let nii = a.nii.unwrap();
        let up = a
            .scenario_names
            .iter()
            .position(|n| n == "parallel_up")
            .unwrap();
        let total = |k: usize, g: Option<usize>, ramped: bool| -> f64 {
            nii.monthly(k, "EUR", g, ramped).iter().sum()
        };
        // The bond: 3 % of 1 000 000 over 365 days, in every scenario.
        assert!((total(0, Some(0), false) - 30_000.0).abs() < 1e-6);
        assert!((total(up, Some(0), false) - 30_000.0).abs() < 1e-6);
        // The deposit: costs 1 % on day one, then is refunded at the scenario's overnight rate
        // plus its spread: −200 bp... up moves its cost by about 500 000 · 2 % · 364/365.
        let delta = total(up, Some(1), false) - total(0, Some(1), false);
        let approx = -500_000.0 * 0.02 * 364.0 / 365.0;
        assert!(
            (delta - approx).abs() < 0.02 * approx.abs(),
            "{delta} vs {approx}"
        );
        let ramped = total(up, Some(1), true) - total(0, Some(1), true);
        let share = ramped / delta;
        assert!(share > 0.4 && share < 0.6, "{ramped} vs {delta}");
        // Segments add up.
        assert!(
            (total(up, None, false) - total(up, Some(0), false) - total(up, Some(1), false)).abs()
                < 1e-6
        );
    }

    /// The gap by segment adds up to the total gap, in the BCBS and in user buckets, and a
    /// flow lands in the user bucket its day falls in (upper bound inclusive).
    #[test]
    fn gap_by_segment_adds_up() {
        let book = book(80);
        let names: Vec<String> = ["PAM", "ANN", "LAM", "other"].map(String::from).to_vec();
        let segs: Vec<u16> = book
            .iter()
            .map(|t| match t.contract_type.map(|c| c.code()) {
                Some("PAM") => 0,
                Some("ANN") => 1,
                Some("LAM") => 2,
                _ => 3,
            })
            .collect();
        let bounds = [31u32, 365, 1826];
        let opts = Options {
            segments: Some(&segs),
            segment_names: &names,
            gap_bounds: &bounds,
            ..Options::default()
        };
        let a = analyse(&book, &market(), &StandardSpec::default(), as_of(), &opts).unwrap();
        let g = &a.gap_by_segment;
        let total =
            super::super::gap::repricing_gap(a.contractual.repricing["EUR"].as_years(), 0.0);
        for (k, row) in total.iter().enumerate() {
            let sum: f64 = (0..4).map(|s| g.buckets(0, s, "EUR", false)[k]).sum();
            assert!(
                (sum - row.gap).abs() < 1e-6,
                "bucket {k}: {sum} vs {}",
                row.gap
            );
        }
        let user: f64 = (0..4)
            .map(|s| g.buckets(0, s, "EUR", true).iter().sum::<f64>())
            .sum();
        let all: f64 = total.iter().map(|r| r.gap).sum();
        assert!((user - all).abs() < 1e-6);
        // By day: the user buckets hold exactly the flows up to each bound.
        let by_day: Vec<(u32, f64)> = a.contractual.repricing["EUR"].iter().collect();
        let first: f64 = by_day.iter().filter(|(d, _)| *d <= 31).map(|x| x.1).sum();
        let got: f64 = (0..4).map(|s| g.buckets(0, s, "EUR", true)[0]).sum();
        assert!((first - got).abs() < 1e-6);
    }

    /// Spec §6.4 through the projection: a floating loan of 100 repricing at 0.25 y (quarterly)
    /// and a term deposit of 80 maturing at 0.5 y, ±200 bp, constant balance sheet over a
    /// year: ΔNII = 100·2 %·0.75 − 80·2 %·0.5 = +0.7 (−0.7 down). The engine's replacement
    /// earns the simple forward of a continuously compounded curve, which moves by slightly
    /// more than 200 bp, and its dates are calendar quarters: within 2 %.
    #[test]
    fn worked_example_6_4_by_projection() {
        let mut m = crate::irrbb::testkit::flat(0.03);
        m.insert_index(IndexDefinition {
            name: "IDX3M".into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-ESTR".into(),
            tenor: "3M".parse().unwrap(),
            day_count: DayCount::Act365Fixed,
        })
        .unwrap();
        let loan = terms(
            r#"{"contractType":"PAM","contractID":"loan","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-09-30","maturityDate":"2030-12-31",
            "notionalPrincipal":100,"nominalInterestRate":0.03,"dayCountConvention":"A365",
            "cycleAnchorDateOfInterestPayment":"2025-12-31","cycleOfInterestPayment":"P3ML1",
            "cycleAnchorDateOfRateReset":"2026-03-31","cycleOfRateReset":"P3ML1",
            "marketObjectCodeOfRateReset":"IDX3M"}"#,
        );
        let deposit = terms(
            r#"{"contractType":"PAM","contractID":"td","contractRole":"RPL","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2026-06-30",
            "notionalPrincipal":80,"nominalInterestRate":0.03,"dayCountConvention":"A365"}"#,
        );
        let opts = Options {
            nii_months: 12,
            ..Options::default()
        };
        let a = analyse(
            &[loan, deposit],
            &m,
            &StandardSpec::default(),
            as_of(),
            &opts,
        )
        .unwrap();
        let nii = a.nii.unwrap();
        let year = |name: &str| -> f64 {
            let k = a.scenario_names.iter().position(|n| n == name).unwrap();
            nii.monthly(k, "EUR", None, false).iter().sum()
        };
        let up = year("parallel_up") - year("base");
        let down = year("parallel_down") - year("base");
        assert!((up - 0.7).abs() < 0.02 * 0.7, "{up}");
        assert!((down + 0.7).abs() < 0.02 * 0.7, "{down}");
    }

    /// A zero shock reproduces the base exactly, for every contract, both views, EVE, NII
    /// and the standardised method.
    #[test]
    fn a_zero_shock_reproduces_the_base() {
        let book = book(70);
        let m = market();
        let b = behaviour(
            r#"
            [prepayment.all]
            cpr = 0.07
            [early_redemption.all]
            tdrr = 0.04
            [nmd.current]
            category = "retail_transactional"
            core_share = 0.8
            profile = [[2.0, 0.5], [6.0, 0.5]]
            "#,
        );
        let zero = ScenarioMarket {
            name: "zero".into(),
            standard: None,
            market: m.clone(),
            prepayment_multiplier: None,
            early_redemption_multiplier: None,
            ramp_years: 1.0,
        };
        let opts = Options {
            per_contract: true,
            behaviour: Some(&b),
            standardised: true,
            nii_months: 24,
            ..Options::default()
        };
        let a = analyse_scenarios(&book, &m, vec![zero], as_of(), &opts).unwrap();
        for view in [&a.contractual, a.behavioural.as_ref().unwrap()] {
            let eur = &view.currencies["EUR"];
            assert_eq!(eur.scenarios["zero"].value, eur.base);
            assert_eq!(eur.scenarios["zero"].delta, 0.0);
            let std = &view.standardised["EUR"];
            assert_eq!(std.scenarios["zero"].value, std.base);
        }
        for c in &a.contracts {
            assert_eq!(c.pv[0], c.pv[1], "{}", c.contract_id);
        }
        let nii = a.nii.unwrap();
        assert_eq!(
            nii.monthly(0, "EUR", None, false),
            nii.monthly(1, "EUR", None, false)
        );
    }

    /// Runs `book` with the margin rules of `b` stripped (or not) and the behaviour of `b`,
    /// per contract, with sensitivities, the standardised method, NII and explanations of
    /// `explain`.
    fn run_margins(
        book: &[ContractTerms],
        b: &Behaviour,
        strip: bool,
        explain: Option<&str>,
    ) -> Analysis {
        let opts = Options {
            per_contract: true,
            behaviour: Some(b),
            sensitivity_currency: Some("EUR"),
            standardised: true,
            nii_months: 12,
            explain,
            margins: strip.then_some(&b.margins),
            ..Options::default()
        };
        analyse(book, &market(), &StandardSpec::default(), as_of(), &opts).unwrap()
    }

    /// Every EVE figure of two runs agrees to `rel`: per contract in both views, by currency
    /// in both views by both methods, and the sensitivities.
    fn same_eve(a: &Analysis, b: &Analysis, rel: f64) {
        assert!(a.failed.is_empty() && b.failed.is_empty());
        for (x, y) in a.contracts.iter().zip(&b.contracts) {
            for (p, q) in x.pv.iter().zip(y.pv) {
                assert!(close(*p, *q, rel), "{}: {p} vs {q}", x.contract_id);
            }
            let (p, q) = (x.contractual.unwrap(), y.contractual.unwrap());
            for (p, q) in p.iter().zip(q) {
                assert!(close(*p, *q, rel), "{}: {p} vs {q}", x.contract_id);
            }
        }
        for (v, w) in [
            (&a.contractual, &b.contractual),
            (
                a.behavioural.as_ref().unwrap(),
                b.behavioural.as_ref().unwrap(),
            ),
        ] {
            for (e, f) in [
                (&v.currencies["EUR"], &w.currencies["EUR"]),
                (&v.standardised["EUR"], &w.standardised["EUR"]),
            ] {
                assert!(close(e.base, f.base, rel), "{} {}", e.base, f.base);
                for (n, x) in &e.scenarios {
                    assert!(close(x.value, f.scenarios[n].value, rel), "{n}");
                }
            }
        }
        let (s, t) = (
            a.sensitivities.as_ref().unwrap(),
            b.sensitivities.as_ref().unwrap(),
        );
        assert!(close(s.value, t.value, rel));
        assert!(
            (s.pv01 - t.pv01).abs() <= rel * s.value.abs(),
            "{} {}",
            s.pv01,
            t.pv01
        );
    }

    /// SRP31.100, a fixed-rate bullet: a 5 % loan with its 1 % margin stripped is worth, in
    /// every scenario, view and method, what the same loan at 4 % is worth. A running loan
    /// whose accrued interest was earned at 5 % is compared with one that earned it at 4 %.
    #[test]
    fn stripping_a_bullet_values_it_at_the_rate_less_the_spread() {
        let b = behaviour(
            "[margins.loans]\nspread = 0.01\nselect = { id_prefixes = [\"L\"] }\n\
             [prepayment.all]\ncpr = 0.05\nselect = { roles = [\"RPA\"] }",
        );
        let bullet = |id: &str, rate: f64, accrued: f64| {
            terms(&format!(
                r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"RPA","currency":"EUR",
                "statusDate":"2025-12-31","initialExchangeDate":"2025-06-30","maturityDate":"2031-06-30",
                "notionalPrincipal":1000000,"nominalInterestRate":{rate},"dayCountConvention":"A365",
                "cycleAnchorDateOfInterestPayment":"2026-06-30","cycleOfInterestPayment":"P1YL1",
                "accruedInterest":{accrued}}}"#
            ))
        };
        // Accrued from 2025-06-30 to 2025-12-31: 184 days.
        let acc = |r: f64| 1_000_000.0 * r * 184.0 / 365.0;
        let stripped = run_margins(
            &[bullet("L1", 0.05, acc(0.05)), bullet("L2", 0.05, 0.0)],
            &b,
            true,
            None,
        );
        let at_four = run_margins(
            &[bullet("X1", 0.04, acc(0.04)), bullet("X2", 0.04, 0.0)],
            &b,
            false,
            None,
        );
        same_eve(&stripped, &at_four, 1e-9);
        // The margin is worth something: stripping changed the value.
        let kept = run_margins(&[bullet("L1", 0.05, acc(0.05))], &b, false, None);
        assert!(kept.contracts.row(0).pv[0] > stripped.contracts.row(0).pv[0] + 40_000.0);
        assert!(stripped
            .warnings
            .iter()
            .any(|w| w.contains("stripped from the EVE flows of 2 contracts; margins kept for lack of a margin rule: 0 contracts")));
    }

    /// An annuity keeps its principal schedule when its margin is stripped: its interest is
    /// (rate − spread) × outstanding × 1/12 (30E360, the 15th of each month), computed here by
    /// hand on the contractual repayments and discounted on the curve of each scenario.
    #[test]
    fn stripping_an_annuity_strips_its_interest_on_the_same_schedule() {
        let ann = terms(
            r#"{"contractType":"ANN","contractID":"M1","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-15","initialExchangeDate":"2025-12-15","maturityDate":"2035-12-15",
            "notionalPrincipal":200000,"nominalInterestRate":0.05,"dayCountConvention":"30E360",
            "cycleAnchorDateOfInterestPayment":"2026-01-15","cycleOfInterestPayment":"P1ML1",
            "cycleAnchorDateOfPrincipalRedemption":"2026-01-15","cycleOfPrincipalRedemption":"P1ML1"}"#,
        );
        let b = behaviour("[margins.m]\nspread = 0.01");
        let kept = run_margins(std::slice::from_ref(&ann), &b, false, Some("M1"));
        let stripped = run_margins(std::slice::from_ref(&ann), &b, true, Some("M1"));
        let m = market();
        let spec = StandardSpec::default();
        for (k, name) in stripped.scenario_names.iter().enumerate() {
            let curve_market = match k {
                0 => m.clone(),
                _ => apply(&m, Scenario::ALL[k - 1], &spec).unwrap(),
            };
            if k > 0 {
                assert_eq!(Scenario::ALL[k - 1].name(), name);
            }
            let curve = curve_market.discount_curve("EUR").unwrap();
            let flows = &kept
                .explained
                .iter()
                .find(|e| &e.scenario == name && e.view == "contractual")
                .unwrap()
                .flows;
            let (mut n, mut expected) = (200_000.0, 0.0);
            for day in flows
                .iter()
                .map(|f| f.day)
                .collect::<std::collections::BTreeSet<_>>()
            {
                let df = curve.discount_at(as_of().date().add_days(day as i32));
                let of = |kind: &str| -> f64 {
                    flows
                        .iter()
                        .filter(|f| f.day == day && f.kind == kind)
                        .map(|f| f.amount)
                        .sum()
                };
                // The contractual interest is 5 % of the outstanding for a month (checks the
                // hand model), the stripped one 4 %.
                assert!((of("interest") - 0.05 * n / 12.0).abs() < 1e-9, "{day}");
                let repaid = of("repayment");
                expected += (0.04 * n / 12.0 + repaid) * df;
                n -= repaid;
            }
            assert!(n.abs() < 1e-6, "{n}");
            let pv = stripped.contracts.row(0).pv[k];
            assert!(close(pv, expected, 1e-9), "{name}: {pv} vs {expected}");
            // The explanation shows the stripped amounts and the margins, and adds up.
            let e = stripped
                .explained
                .iter()
                .find(|e| &e.scenario == name && e.view == "behavioural")
                .unwrap();
            assert!(close(e.pv, pv, 1e-12));
            let margins: f64 = e.flows.iter().map(|f| f.margin).sum();
            let interest: f64 = flows
                .iter()
                .filter(|f| f.kind == "interest")
                .map(|f| f.amount)
                .sum();
            assert!(close(margins, interest / 5.0, 1e-9), "{margins} {interest}");
        }
    }

    /// A zero-rate deposit whose margin is −2 % (the bank pays nothing where risk-free is
    /// 2 %): stripped, it pays 2 % a year on its balance; a zero-rate NMD likewise, as an NMD
    /// at 2 % would.
    #[test]
    fn stripping_a_negative_margin_from_a_zero_rate_deposit() {
        let deposit = terms(
            r#"{"contractType":"PAM","contractID":"D1","contractRole":"RPL","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2027-12-31",
            "notionalPrincipal":100000,"nominalInterestRate":0.0,"dayCountConvention":"A365",
            "cycleAnchorDateOfInterestPayment":"2026-12-31","cycleOfInterestPayment":"P1YL1"}"#,
        );
        let b = behaviour("[margins.deposits]\nspread = -0.02\nselect = { roles = [\"RPL\"] }");
        let a = run_margins(std::slice::from_ref(&deposit), &b, true, None);
        let m = market();
        let curve = m.discount_curve("EUR").unwrap();
        let df = |y: i32| curve.discount_at(Date::ymd(y, 12, 31));
        // 365 days in each year: 2 % of 100 000 paid, then the balance.
        let expected = -2_000.0 * df(2026) - 2_000.0 * df(2027) - 100_000.0 * df(2027);
        assert!(
            close(a.contracts.row(0).pv[0], expected, 1e-12),
            "{} {expected}",
            a.contracts.row(0).pv[0]
        );
        // Kept, it is worth its discounted balance only.
        let kept = run_margins(&[deposit], &b, false, None);
        assert!(close(
            kept.contracts.row(0).pv[0],
            -100_000.0 * df(2027),
            1e-12
        ));
        // NMDs: a 0 % current account stripped of −2 % is worth an account paying 2 %.
        let nmd = |id: &str, rate: f64| {
            terms(&format!(
                r#"{{"contractType":"UMP","contractID":"{id}","contractRole":"RPL","currency":"EUR",
                "statusDate":"2025-12-31","initialExchangeDate":"2020-01-01",
                "notionalPrincipal":50000,"nominalInterestRate":{rate},"dayCountConvention":"A365"}}"#
            ))
        };
        let b = behaviour(
            "[margins.deposits]\nspread = -0.02\nselect = { id_prefixes = [\"N0\"] }\n\
             [nmd.current]\ncategory = \"retail_transactional\"\ncore_share = 0.8\n\
             profile = [[1.0, 0.5], [4.0, 0.5]]",
        );
        let stripped = run_margins(&[nmd("N0", 0.0)], &b, true, None);
        let at_two = run_margins(&[nmd("N2", 0.02)], &b, false, None);
        same_eve(&stripped, &at_two, 1e-12);
        // …which differs from the 0 % account kept as it is.
        let kept = run_margins(&[nmd("N0", 0.0)], &b, false, None);
        assert!(kept.contracts.row(0).pv[0] > stripped.contracts.row(0).pv[0] + 1_000.0);
    }

    /// A floater stripped of its own rate spread is worth the same floater without a spread
    /// (its current rate, fixed with the spread, likewise without it), in every scenario and
    /// bump.
    #[test]
    fn stripping_a_floater_of_its_rate_spread() {
        let floater = |id: &str, rate: f64, spread: f64| {
            terms(&format!(
                r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"RPA","currency":"EUR",
                "statusDate":"2025-12-31","initialExchangeDate":"2025-07-15","maturityDate":"2030-07-15",
                "notionalPrincipal":50000,"nominalInterestRate":{rate},"dayCountConvention":"A360",
                "cycleAnchorDateOfInterestPayment":"2026-01-15","cycleOfInterestPayment":"P6ML1",
                "cycleAnchorDateOfRateReset":"2026-01-15","cycleOfRateReset":"P6ML1",
                "marketObjectCodeOfRateReset":"IDX","rateSpread":{spread}}}"#
            ))
        };
        let b = behaviour("[margins.floaters]\nspread = \"rate_spread\"");
        let stripped = run_margins(&[floater("F1", 0.031, 0.012)], &b, true, None);
        let plain = run_margins(&[floater("F2", 0.019, 0.0)], &b, false, None);
        same_eve(&stripped, &plain, 1e-9);
        let s = stripped.sensitivities.as_ref().unwrap();
        let t = plain.sensitivities.as_ref().unwrap();
        for (x, y) in s.key_rate_pv01.iter().zip(&t.key_rate_pv01) {
            assert!((x.1 - y.1).abs() < 1e-9 * t.value.abs(), "{x:?} {y:?}");
        }
        let kept = run_margins(&[floater("F1", 0.031, 0.012)], &b, false, None);
        assert!(kept.contracts.row(0).pv[0] > stripped.contracts.row(0).pv[0] + 2_000.0);
    }

    /// Stripping changes EVE only: NII and the repricing gap are those of the run that keeps
    /// the margins, exactly; with every spread zero the whole analysis is the same.
    #[test]
    fn stripping_leaves_nii_and_the_gap_alone() {
        let book = book(120);
        let text = r#"
            [prepayment.all]
            cpr = 0.07
            [early_redemption.all]
            tdrr = 0.04
            [nmd.current]
            category = "retail_transactional"
            core_share = 0.8
            profile = [[2.0, 0.5], [6.0, 0.5]]
            [margins.a_floaters]
            spread = "rate_spread"
            select = { id_prefixes = ["f"] }
            [margins.b_assets]
            spread = 0.011
            select = { roles = ["RPA"] }
            [margins.c_deposits]
            spread = -0.015
            select = { contract_types = ["UMP"] }
            [margins.d_liabilities]
            spread = 0.004
            select = { id_prefixes = ["t"] }
        "#;
        let b = behaviour(text);
        let kept = run_margins(&book, &b, false, None);
        let stripped = run_margins(&book, &b, true, None);
        assert_eq!(stripped.nii, kept.nii);
        assert_eq!(stripped.gap_by_segment, kept.gap_by_segment);
        for (v, w) in [
            (&stripped.contractual, &kept.contractual),
            (
                stripped.behavioural.as_ref().unwrap(),
                kept.behavioural.as_ref().unwrap(),
            ),
        ] {
            assert_eq!(v.repricing, w.repricing);
            assert_ne!(v.currencies["EUR"].base, w.currencies["EUR"].base);
        }
        // Every contract moves but cash and the "i" liabilities (no rule). The "t" deposits
        // have no interest cycle, so no interest payment in ACTUS: not asserted.
        for (x, y) in stripped.contracts.iter().zip(&kept.contracts) {
            let id = &x.contract_id;
            if id.starts_with('t') {
                continue;
            }
            let moved = x.pv[0] != y.pv[0];
            assert_eq!(moved, !id.starts_with(['c', 'i']), "{id}");
        }
        // Counted: 120 contracts, 13 cash and 13 in USD (not valued); the 13 "i" liabilities
        // have no rule.
        let note = stripped
            .warnings
            .iter()
            .find(|w| w.contains("commercial margins"))
            .unwrap();
        assert!(
            note.contains("of 81 contracts; margins kept for lack of a margin rule: 13 contracts"),
            "{note}"
        );
        // All spreads zero: the same analysis but for the note.
        let zero = behaviour(
            &text
                .replace("0.011", "0.0")
                .replace("-0.015", "0.0")
                .replace("0.004", "0.0")
                .replace("\"rate_spread\"", "0"),
        );
        let mut a = run_margins(&book, &zero, true, Some("a1"));
        let e = run_margins(&book, &zero, false, Some("a1"));
        assert_eq!(a.warnings.len(), e.warnings.len() + 1);
        a.warnings.retain(|w| !w.contains("commercial margins"));
        assert_eq!(a, e);
    }

    /// A contract a margin rule selects but whose type the engine cannot strip is counted and
    /// said so, not silently kept.
    #[test]
    fn margins_of_other_types_are_reported() {
        let b = behaviour("[margins.all]\nspread = 0.01");
        let book = vec![
            terms(
                r#"{"contractType":"CLM","contractID":"call","contractRole":"RPA","currency":"EUR",
                "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2026-12-31",
                "notionalPrincipal":1000,"nominalInterestRate":0.03,"dayCountConvention":"A365"}"#,
            ),
            book(7).swap_remove(6),
        ];
        let a = run_margins(&book, &b, true, None);
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        let note = a.warnings.last().unwrap();
        assert!(
            note.contains(
                "of 0 contracts; margins kept for lack of a margin rule: 0 contracts; \
                 margins kept although a rule matched (margins are stripped from PAM, LAM, ANN, \
                 NAM and UMP contracts only): 1 contract"
            ),
            "{note}"
        );
    }
}
