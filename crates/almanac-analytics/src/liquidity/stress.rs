//! Liquidity stress scenarios: what a scenario of the set does to the maturity ladder and the
//! counterbalancing capacity, on top of its market change (format of `[scenario.liquidity]` in
//! `docs/scenarios.md`; the rules below are in `docs/liquidity.md`).
//!
//! A stress starts from each position's behavioural view (its contractual view when no
//! behaviour applies) in the scenario — floating-rate flows projected and securities valued on
//! the scenario's market, behaviour at the scenario's rates — and then, over a window of
//! `window_days` calendar days from the as-of date:
//!
//! * **funding that can be withdrawn** (repayable on demand, or retail) loses the run-off rate
//!   `r` of its category: `r × B × w / n` leaves evenly over days `1..=w`, where `B` is the
//!   balance, `n` the window and `w = min(n, days to the position's last flow)`, and the
//!   position's later flows shrink by the same share (what is withdrawn earns nothing more). A
//!   balance repayable on demand keeps `(1 − r) × B` beyond the horizon: it is *retained*, not
//!   due overnight as in the contractual survival horizon;
//! * **other term funding** (secured, wholesale) repays what falls due within the window at the
//!   run-off rate; the rest is rolled over beyond the horizon (*rolled over*);
//! * **assets** receive the inflow rate of their category of what falls due within the
//!   window; the rest is lent again (*not received*);
//! * **committed facilities granted** are drawn at the drawdown rate of their category (or the
//!   scenario's `drawdown_rate`), evenly over the window;
//! * **downgrade collateral** is called at `collateral_call` of the positions'
//!   `downgrade_collateral` overnight;
//! * **counterbalancing capacity**: the HQLA at its market value in the scenario, after the
//!   table's haircut plus the scenario's `haircut_add` for its level.
//!
//! A category the stress does not name keeps the position's own flows. Every rate is linear in
//! the flows it scales, so a position whose balance is shared between two categories is
//! stressed as the two shares. Nothing is lost: what a stress takes out of the ladder is
//! reported as retained, rolled over or not received (property-tested).

use std::collections::BTreeMap;

use almanac_market::MarketSnapshot;
use almanac_scenario::irrbb::Scenario;
use almanac_scenario::set::{LiquidityStress, ScenarioDef};
use almanac_time::Date;
use serde::Serialize;

use super::classify::{Classified, Role, CB_ELIGIBLE, CB_ELIGIBLE_GROSS, FACILITY_RECEIVED};
use super::factors::{FactorTable, Level};
use super::ladder::{Grid, Survival};
use super::LiquidityError;
use crate::irrbb::Behaviour;

/// A liquidity stress scenario ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Stress {
    /// Name, as reported.
    pub name: String,
    /// What it does to liquidity (an empty stress: the scenario's market and behaviour only).
    pub spec: LiquidityStress,
    /// The market under the scenario; `None` when it is the base market.
    pub market: Option<MarketSnapshot>,
    /// The standardised IRRBB scenario it is, if one (behaviour multipliers).
    pub standard: Option<Scenario>,
    /// Prepayment multiplier of the scenario set.
    pub prepayment_multiplier: Option<f64>,
    /// Early-redemption multiplier of the scenario set.
    pub early_redemption_multiplier: Option<f64>,
    /// Drawdown rate of the scenario set's behaviour: the default for facility categories the
    /// stress does not name.
    pub drawdown_rate: Option<f64>,
    /// Multiplier of the scenario set's behaviour on the run-off rates of withdrawable funding
    /// (the result capped at 1).
    pub deposit_runoff_multiplier: Option<f64>,
}

impl Stress {
    /// The stress of a scenario of a set, on its market (`None`: the scenario leaves the base
    /// market unchanged).
    pub fn from_def(def: &ScenarioDef, market: Option<MarketSnapshot>) -> Stress {
        Stress {
            name: def.name.clone(),
            spec: def.liquidity.clone().unwrap_or_default(),
            market,
            standard: match &def.kind {
                almanac_scenario::set::Kind::Standard(s) => Some(*s),
                _ => None,
            },
            prepayment_multiplier: def.behaviour.prepayment_multiplier,
            early_redemption_multiplier: def.behaviour.early_redemption_multiplier,
            drawdown_rate: def.behaviour.drawdown_rate,
            deposit_runoff_multiplier: def.behaviour.deposit_runoff_multiplier,
        }
    }

    /// Checks the stress's categories against `table`: run-off categories must be funding
    /// outflow categories, drawdown ones facility categories, inflow ones inflow categories.
    ///
    /// # Errors
    /// The first unknown category, with the ones there are.
    pub fn check(&self, table: &FactorTable) -> Result<(), LiquidityError> {
        let funding = |c: &str| table.outflow.contains_key(c) && !c.starts_with("facility_");
        let facility = |c: &str| table.outflow.contains_key(c) && c.starts_with("facility_");
        let inflow = |c: &str| table.inflow.contains_key(c);
        for (what, map, ok) in [
            (
                "runoff",
                &self.spec.runoff,
                &funding as &dyn Fn(&str) -> bool,
            ),
            ("drawdown", &self.spec.drawdown, &facility),
            ("inflows", &self.spec.inflows, &inflow),
        ] {
            for k in map.keys() {
                if !ok(k) {
                    let known: Vec<&str> = match what {
                        "inflows" => table.inflow.keys().map(String::as_str).collect(),
                        _ => table
                            .outflow
                            .keys()
                            .map(String::as_str)
                            .filter(|c| ok(c))
                            .collect(),
                    };
                    return Err(LiquidityError(format!(
                        "scenario {}: liquidity.{what} category {k:?} is not one of the {} \
                         table's: {}",
                        self.name,
                        table.regime,
                        known.join(", ")
                    )));
                }
            }
        }
        if let Some(x) = self.drawdown_rate.filter(|x| !(0.0..=1.0).contains(x)) {
            return Err(LiquidityError(format!(
                "scenario {}: behaviour.drawdown_rate {x} is not a share from 0 to 1",
                self.name
            )));
        }
        if let Some(x) = self
            .deposit_runoff_multiplier
            .filter(|x| !(x.is_finite() && *x >= 0.0))
        {
            return Err(LiquidityError(format!(
                "scenario {}: behaviour.deposit_runoff_multiplier {x} is not a multiplier",
                self.name
            )));
        }
        Ok(())
    }

    /// Whether the scenario changes behaviour rates (standard multipliers, set overrides, or
    /// switches and core shares the assumption set gives by the scenario's name).
    pub fn changes_behaviour(&self, b: &Behaviour) -> bool {
        self.standard.is_some()
            || self.prepayment_multiplier.is_some()
            || self.early_redemption_multiplier.is_some()
            || b.scenarios.contains_key(&self.name)
            || b.nmd
                .values()
                .any(|r| r.core_share_by_scenario.contains_key(&self.name))
    }

    /// The counterbalancing capacity's factor of a category: an HQLA category's `1 −
    /// haircut` less the stress's added haircut for its level, not below 0; central-bank
    /// eligible assets (recorded after their own haircut) less `haircut_add.cb_eligible` of
    /// their gross value; facilities received `1 − haircut_add.facilities_received`.
    pub fn capacity_factor(&self, table: &FactorTable, category: &str) -> f64 {
        let add = |k: &str| self.spec.haircut_add.get(k).copied().unwrap_or(0.0);
        let Some(h) = table.hqla.get(category) else {
            return match category {
                CB_ELIGIBLE => 1.0,
                CB_ELIGIBLE_GROSS => -add("cb_eligible"),
                FACILITY_RECEIVED => (1.0 - add("facilities_received")).max(0.0),
                _ => 0.0,
            };
        };
        let level = match h.level {
            Level::L1 | Level::L1Ehqcb => "l1",
            Level::L2a => "l2a",
            Level::L2b => "l2b",
        };
        let add = self.spec.haircut_add.get(level).copied().unwrap_or(0.0);
        (h.factor.factor - add).max(0.0)
    }
}

/// The counterbalancing capacity's factor of a category on the base market: an HQLA
/// category's `1 − haircut`; central-bank eligible assets and facilities received 1 (recorded
/// after their own haircut); the gross helper 0.
pub fn base_capacity_factor(table: &FactorTable, category: &str) -> f64 {
    match table.hqla.get(category) {
        Some(h) => h.factor.factor,
        None => match category {
            CB_ELIGIBLE | FACILITY_RECEIVED => 1.0,
            _ => 0.0,
        },
    }
}

/// A stress's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StressResult {
    /// The scenario's name.
    pub name: String,
    /// The window in days.
    pub window_days: u32,
    /// The stressed ladder.
    pub ladder: super::run::Ladder,
    /// Its survival horizon against the stressed counterbalancing capacity.
    pub survival_horizon: Survival,
    /// What the stress did, in units.
    pub effects: Effects,
}

/// What a stress did: amounts positive (but the two changes, negative for a loss), in units of
/// the report's currency (the reporting currency when consolidated), as of the run's as-of
/// date.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Effects {
    /// Funding withdrawn over the window.
    pub runoff: f64,
    /// Balances repayable on demand that stay beyond the horizon.
    pub retained: f64,
    /// Term funding falling due within the window and rolled over.
    pub rolled_over: f64,
    /// Facilities drawn.
    pub drawdowns: f64,
    /// Downgrade collateral called.
    pub collateral_calls: f64,
    /// Inflows within the window not received (lent again).
    pub inflows_not_received: f64,
    /// HQLA at market value in the scenario, before haircuts.
    pub hqla_market_value: f64,
    /// Its change from the base market's value (the bond book's unrealised loss is negative).
    pub hqla_value_change: f64,
    /// Counterbalancing capacity at the as-of date after the stressed haircuts.
    pub initial_capacity: f64,
    /// Its change from the base counterbalancing capacity (value and haircuts).
    pub initial_capacity_change: f64,
}

/// The ladder's buckets refined by the stress windows' ends: a flow's refined bucket says both
/// its ladder bucket and whether it falls within each window, so a position's flows are summed
/// once and every view and stress works on the sums.
#[derive(Debug, Clone)]
pub(crate) struct Refined {
    /// Days from the as-of date to each refined bucket's end (`i64::MAX`: open).
    ends: Vec<i64>,
    /// The ladder bucket of each refined bucket.
    bucket: Vec<usize>,
    /// Days to each ladder bucket's end (`i64::MAX`: open).
    ladder_ends: Vec<i64>,
}

impl Refined {
    pub(crate) fn new(grid: &Grid, windows: impl IntoIterator<Item = u32>) -> Refined {
        let ladder_ends: Vec<i64> = (0..grid.buckets.len())
            .map(|k| grid.days_to_end(k).map_or(i64::MAX, i64::from))
            .collect();
        let last = ladder_ends.last().copied().unwrap_or(0);
        let mut ends = ladder_ends.clone();
        ends.extend(windows.into_iter().map(i64::from).filter(|w| *w < last));
        ends.sort_unstable();
        ends.dedup();
        let bucket = ends
            .iter()
            .map(|e| ladder_ends.partition_point(|l| l < e))
            .collect();
        Refined {
            ends,
            bucket,
            ladder_ends,
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether refined bucket `r` lies within a window of `days`.
    fn within(&self, r: usize, days: u32) -> bool {
        self.ends[r] <= i64::from(days)
    }
}

/// One position's flows summed by refined bucket (received and paid, positive), and the day
/// of its last flow.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sums {
    ins: Vec<f64>,
    outs: Vec<f64>,
    last: Option<i64>,
}

impl Sums {
    pub(crate) fn new(refined: &Refined) -> Sums {
        Sums {
            ins: vec![0.0; refined.len()],
            outs: vec![0.0; refined.len()],
            last: None,
        }
    }

    /// Sums `flows` (bank's side, dated) from `as_of`; a flow beyond a closed last bucket is
    /// not in the ladder.
    pub(crate) fn fill(&mut self, flows: &[(Date, f64)], as_of: Date, refined: &Refined) {
        self.ins.iter_mut().for_each(|x| *x = 0.0);
        self.outs.iter_mut().for_each(|x| *x = 0.0);
        self.last = None;
        let ends = &refined.ends;
        let mut r = 0usize;
        for &(date, amount) in flows {
            let day = i64::from(as_of.days_until(date));
            self.last = Some(self.last.map_or(day, |l| l.max(day)));
            // Flows come in date order as a rule: walk forward, search otherwise.
            if r > 0 && day <= ends[r - 1] {
                r = ends.partition_point(|e| *e < day);
            }
            while r < ends.len() && ends[r] < day {
                r += 1;
            }
            if r == ends.len() {
                continue;
            }
            if amount > 0.0 {
                self.ins[r] += amount;
            } else {
                self.outs[r] -= amount;
            }
        }
    }
}

/// Ladder sums of one view: inflows and outflows by bucket, open-maturity balances apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    pub(crate) inflows: Vec<f64>,
    pub(crate) outflows: Vec<f64>,
    /// Open-maturity balances (received, paid).
    pub(crate) open: (f64, f64),
}

impl View {
    pub(crate) fn new(n: usize) -> View {
        View {
            inflows: vec![0.0; n],
            outflows: vec![0.0; n],
            open: (0.0, 0.0),
        }
    }

    /// Adds `scale ×` a position's sums.
    pub(crate) fn sums(&mut self, sums: &Sums, scale: f64, refined: &Refined) {
        if sums.last.is_none() || scale == 0.0 {
            return;
        }
        for (r, &k) in refined.bucket.iter().enumerate() {
            self.inflows[k] += sums.ins[r] * scale;
            self.outflows[k] += sums.outs[r] * scale;
        }
    }

    pub(crate) fn open(&mut self, amount: f64) {
        if amount > 0.0 {
            self.open.0 += amount;
        } else {
            self.open.1 -= amount;
        }
    }

    /// An outflow of `amount` (positive) spread evenly over days `1..=days`.
    fn spread_out(&mut self, amount: f64, days: u32, ends: &[i64]) {
        let w = i64::from(days.max(1));
        let mut start = 0i64;
        for (k, &end) in ends.iter().enumerate() {
            let hi = end.min(w);
            if hi > start {
                self.outflows[k] += amount * (hi - start) as f64 / w as f64;
            }
            if end >= w {
                break;
            }
            start = end;
        }
    }

    /// Converts to another currency at `rate`.
    pub(crate) fn scale(&mut self, rate: f64) {
        self.inflows.iter_mut().for_each(|x| *x *= rate);
        self.outflows.iter_mut().for_each(|x| *x *= rate);
        self.open.0 *= rate;
        self.open.1 *= rate;
    }

    pub(crate) fn merge(&mut self, other: &View) {
        for (a, b) in self.inflows.iter_mut().zip(&other.inflows) {
            *a += b;
        }
        for (a, b) in self.outflows.iter_mut().zip(&other.outflows) {
            *a += b;
        }
        self.open.0 += other.open.0;
        self.open.1 += other.open.1;
    }
}

/// The counterbalancing capacity before haircuts by HQLA category: the stock at the as-of date
/// and its changes by bucket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capacity {
    pub(crate) initial: BTreeMap<&'static str, f64>,
    pub(crate) flows: BTreeMap<&'static str, Vec<f64>>,
}

impl Capacity {
    pub(crate) fn add(&mut self, c: &Classified, grid: &Grid) {
        for &(section, category, amount) in &c.lcr {
            if section == super::lcr::Section::Hqla {
                *self.initial.entry(category).or_default() += amount;
            }
        }
        for &(category, amount) in &c.capacity_stock {
            *self.initial.entry(category).or_default() += amount;
        }
        for &(date, category, amount) in &c.capacity_flows {
            if let Some(k) = grid.bucket_of(date) {
                self.flows
                    .entry(category)
                    .or_insert_with(|| vec![0.0; grid.buckets.len()])[k] += amount;
            }
        }
    }

    pub(crate) fn merge(&mut self, other: &Capacity) {
        for (k, v) in &other.initial {
            *self.initial.entry(k).or_default() += v;
        }
        for (k, v) in &other.flows {
            let mine = self.flows.entry(k).or_insert_with(|| vec![0.0; v.len()]);
            for (a, b) in mine.iter_mut().zip(v) {
                *a += b;
            }
        }
    }

    /// Converts to another currency at `rate`.
    pub(crate) fn scale(&mut self, rate: f64) {
        self.initial.values_mut().for_each(|x| *x *= rate);
        for v in self.flows.values_mut() {
            v.iter_mut().for_each(|x| *x *= rate);
        }
    }

    /// The HQLA's market value before haircuts.
    pub(crate) fn market_value(&self, table: &FactorTable) -> f64 {
        self.initial
            .iter()
            .filter(|(k, _)| table.hqla.contains_key(**k))
            .map(|(_, v)| v)
            .sum()
    }

    /// The stock at the as-of date after haircuts by category (`factor` by category), the
    /// gross helper category left out.
    pub(crate) fn by_category(&self, factor: impl Fn(&str) -> f64) -> Vec<(String, f64)> {
        self.initial
            .iter()
            .filter(|(k, _)| **k != CB_ELIGIBLE_GROSS)
            .map(|(k, v)| ((*k).to_string(), v * factor(k)))
            .collect()
    }

    /// The stock after haircuts and its changes by bucket, with `factor` by category.
    pub(crate) fn resolve(&self, n: usize, factor: impl Fn(&str) -> f64) -> (f64, Vec<f64>) {
        let initial = self.initial.iter().map(|(k, v)| v * factor(k)).sum();
        let mut flows = vec![0.0; n];
        for (k, v) in &self.flows {
            let f = factor(k);
            for (a, b) in flows.iter_mut().zip(v) {
                *a += b * f;
            }
        }
        (initial, flows)
    }
}

/// One stress's sums over a run of positions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    pub(crate) view: View,
    pub(crate) capacity: Capacity,
    pub(crate) effects: Effects,
}

impl Part {
    pub(crate) fn new(n: usize) -> Part {
        Part {
            view: View::new(n),
            ..Part::default()
        }
    }

    /// Converts to another currency at `rate`.
    pub(crate) fn scale(&mut self, rate: f64) {
        self.view.scale(rate);
        self.capacity.scale(rate);
        let e = &mut self.effects;
        for x in [
            &mut e.runoff,
            &mut e.retained,
            &mut e.rolled_over,
            &mut e.drawdowns,
            &mut e.collateral_calls,
            &mut e.inflows_not_received,
        ] {
            *x *= rate;
        }
    }

    pub(crate) fn merge(&mut self, other: &Part) {
        self.view.merge(&other.view);
        self.capacity.merge(&other.capacity);
        let (a, b) = (&mut self.effects, &other.effects);
        a.runoff += b.runoff;
        a.retained += b.retained;
        a.rolled_over += b.rolled_over;
        a.drawdowns += b.drawdowns;
        a.collateral_calls += b.collateral_calls;
        a.inflows_not_received += b.inflows_not_received;
    }

    /// Adds one position under the stress: `c` is its classification in the scenario, and
    /// `sums`, `open` the view the stress starts from (behavioural in the scenario, else
    /// contractual).
    pub(crate) fn add(
        &mut self,
        s: &Prepared<'_>,
        c: &Classified,
        sums: &Sums,
        open: f64,
        refined: &Refined,
        grid: &Grid,
    ) {
        self.capacity.add(c, grid);
        let n = s.window;
        let ends = &refined.ladder_ends;
        if c.downgrade_collateral > 0.0 && s.stress.spec.collateral_call > 0.0 {
            let call = c.downgrade_collateral * s.stress.spec.collateral_call;
            self.view.spread_out(call, 1, ends);
            self.effects.collateral_calls += call;
        }
        let view = &mut self.view;
        match c.role {
            Role::Funding {
                first,
                second,
                withdrawable,
                balance,
            } => {
                // The shares the stress names, with their average rate; the rest as it is.
                let mut named = 0.0;
                let mut rate_sum = 0.0;
                for (cat, share) in std::iter::once(first).chain(second) {
                    if let Some(r) = s.stress.spec.runoff.get(cat) {
                        let r = if withdrawable {
                            (r * s.stress.deposit_runoff_multiplier.unwrap_or(1.0)).min(1.0)
                        } else {
                            *r
                        };
                        named += share;
                        rate_sum += share * r;
                    }
                }
                let same = 1.0 - named;
                if same > 0.0 {
                    view.sums(sums, same, refined);
                    view.open(open * same);
                }
                if named <= 0.0 {
                    return;
                }
                let r = rate_sum / named;
                if withdrawable {
                    let last = sums.last.filter(|_| open == 0.0);
                    let w = last.map_or(n, |m| u32::try_from(m.max(1)).map_or(n, |m| n.min(m)));
                    let withdrawn = r * f64::from(w) / f64::from(n);
                    let out = named * withdrawn * balance;
                    view.spread_out(out, w, ends);
                    self.effects.runoff += out;
                    view.sums(sums, named * (1.0 - withdrawn), refined);
                    // What stays of a balance repayable on demand stays beyond the horizon.
                    self.effects.retained += named * (1.0 - withdrawn) * open.abs();
                } else {
                    for (i, &k) in refined.bucket.iter().enumerate() {
                        let scale = if refined.within(i, n) {
                            self.effects.rolled_over +=
                                (sums.outs[i] - sums.ins[i]) * named * (1.0 - r);
                            named * r
                        } else {
                            named
                        };
                        view.inflows[k] += sums.ins[i] * scale;
                        view.outflows[k] += sums.outs[i] * scale;
                    }
                    view.open(open * named);
                }
            }
            Role::Asset { category } => {
                match s.stress.spec.inflows.get(category) {
                    Some(&q) => {
                        for (i, &k) in refined.bucket.iter().enumerate() {
                            let received = if refined.within(i, n) {
                                self.effects.inflows_not_received += sums.ins[i] * (1.0 - q);
                                q
                            } else {
                                1.0
                            };
                            view.inflows[k] += sums.ins[i] * received;
                            view.outflows[k] += sums.outs[i];
                        }
                    }
                    None => view.sums(sums, 1.0, refined),
                }
                view.open(open);
            }
            Role::Facility { category, undrawn } => {
                let d = s
                    .stress
                    .spec
                    .drawdown
                    .get(category)
                    .copied()
                    .or(s.stress.drawdown_rate)
                    .unwrap_or(0.0);
                if d > 0.0 {
                    view.spread_out(d * undrawn, n, ends);
                    self.effects.drawdowns += d * undrawn;
                }
                view.sums(sums, 1.0, refined);
                view.open(open);
            }
            Role::None => {
                view.sums(sums, 1.0, refined);
                view.open(open);
            }
        }
    }
}

/// A stress prepared for a run: its classification context and window.
pub(crate) struct Prepared<'a> {
    pub(crate) stress: &'a Stress,
    /// The context in the scenario: its market and behaviour rates.
    pub(crate) ctx: super::classify::Context<'a>,
    /// Whether the behaviour must be recomputed for positions the market does not change.
    pub(crate) behaviour_changes: bool,
    /// Window in days.
    pub(crate) window: u32,
}

#[cfg(test)]
mod tests {
    use almanac_actus::ContractTerms;
    use almanac_balance_sheet::{
        Attributes, CounterpartyType as Cp, DepositAttributes, Facility, FacilityKind, HqlaLevel,
        Instrument, NonInterestItem, Position, Side as BsSide,
    };

    use super::*;
    use crate::irrbb::testkit::{flat, AS_OF};
    use crate::liquidity::factors::Regime;
    use crate::liquidity::ladder::C66_BUCKETS;
    use crate::liquidity::run::analyse_stressed;

    fn contract(json: &str, a: Attributes) -> Position {
        let t: ContractTerms = serde_json::from_str(json).unwrap();
        Position {
            row: 0,
            instrument: Instrument::Contract(Box::new(t)),
            attributes: a,
        }
    }

    /// A bullet at `rate` (PAM, 30E360), `role` RPA or RPL, maturing on `md`.
    fn bullet(id: &str, role: &str, notional: f64, md: &str, rate: f64, a: Attributes) -> Position {
        contract(
            &format!(
                r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"{role}",
                "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2025-06-30",
                "maturityDate":"{md}","notionalPrincipal":{notional},"nominalInterestRate":{rate},
                "cycleOfInterestPayment":"P6ML1","cycleAnchorDateOfInterestPayment":"2025-12-30",
                "dayCountConvention":"30E360"}}"#
            ),
            a,
        )
    }

    fn on_demand(id: &str, notional: f64, a: Attributes) -> Position {
        contract(
            &format!(
                r#"{{"contractType":"UMP","contractID":"{id}","contractRole":"RPL",
                "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2024-01-01",
                "notionalPrincipal":{notional},"nominalInterestRate":0.0,
                "dayCountConvention":"30E360"}}"#
            ),
            a,
        )
    }

    fn cash(amount: f64) -> Position {
        contract(
            &format!(
                r#"{{"contractType":"CSH","contractID":"CASH","contractRole":"RPA",
                "currency":"EUR","statusDate":"2025-12-31","notionalPrincipal":{amount}}}"#
            ),
            Attributes::default(),
        )
    }

    fn facility(id: &str, undrawn: f64) -> Position {
        Position {
            row: 0,
            instrument: Instrument::NonInterest(NonInterestItem {
                id: id.into(),
                side: BsSide::OffBalance,
                amount: undrawn,
                currency: "EUR".into(),
            }),
            attributes: Attributes {
                counterparty_type: Some(Cp::NonFinancialCorporate),
                facility: Some(Facility {
                    kind: FacilityKind::Credit,
                    committed: true,
                    received: false,
                }),
                ..Attributes::default()
            },
        }
    }

    fn cp(c: Cp) -> Attributes {
        Attributes {
            counterparty_type: Some(c),
            ..Attributes::default()
        }
    }

    fn retail(stable: bool) -> Attributes {
        Attributes {
            counterparty_type: Some(Cp::Retail),
            deposit: Some(DepositAttributes {
                insured: stable,
                transactional: stable,
                ..DepositAttributes::default()
            }),
            ..Attributes::default()
        }
    }

    fn l2a() -> Attributes {
        Attributes {
            hqla_level: Some(HqlaLevel::L2a),
            asset_class: Some("corporate_bond".into()),
            ..Attributes::default()
        }
    }

    fn stress(name: &str, f: impl FnOnce(&mut LiquidityStress)) -> Stress {
        let mut spec = LiquidityStress::default();
        f(&mut spec);
        Stress {
            name: name.into(),
            spec,
            market: None,
            standard: None,
            prepayment_multiplier: None,
            early_redemption_multiplier: None,
            drawdown_rate: None,
            deposit_runoff_multiplier: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// A small bank worked by hand (0 % rates): cash 100, a Level 2A bond 100, a retail deposit
    /// repayable on demand 1,000 (less stable), bank funding 50 due in 10 days carrying 30 of
    /// downgrade collateral, a facility of 200 undrawn.
    fn small_bank() -> Vec<Position> {
        let mut funding = bullet(
            "BANK",
            "RPL",
            50.0,
            "2026-01-10",
            0.0,
            cp(Cp::CreditInstitution),
        );
        funding.attributes.downgrade_collateral = Some(30.0);
        vec![
            cash(100.0),
            bullet("BOND", "RPA", 100.0, "2027-12-31", 0.0, l2a()),
            on_demand("RETAIL", 1000.0, retail(false)),
            funding,
            facility("LINE", 200.0),
        ]
    }

    #[test]
    fn a_stress_worked_by_hand() {
        let table = FactorTable::builtin(Regime::Basel);
        let s = stress("run", |l| {
            l.runoff.insert("retail_less_stable".into(), 0.10);
            l.runoff.insert("unsecured_financial".into(), 0.5);
            l.drawdown
                .insert("facility_credit_non_financial".into(), 0.3);
            l.haircut_add.insert("l2a".into(), 0.10);
            l.collateral_call = 1.0;
        });
        let out = analyse_stressed(
            &small_bank(),
            &flat(0.0),
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            std::slice::from_ref(&s),
        )
        .unwrap();
        // The LCR counts the downgrade collateral at 100 %.
        let line = out
            .lcr
            .lines
            .iter()
            .find(|l| l.category == "downgrade_triggers")
            .unwrap();
        assert!(close(line.weighted, 30.0));
        let r = &out.stresses[0];
        let e = &r.effects;
        // 10 % of 1,000 withdrawn over 30 days, 900 stay; half the 50 due on day 10 is repaid,
        // half rolled; 30 % of 200 drawn over 30 days; 30 called overnight.
        assert!(close(e.runoff, 100.0), "{e:?}");
        assert!(close(e.retained, 900.0));
        assert!(close(e.rolled_over, 25.0));
        assert!(close(e.drawdowns, 60.0));
        assert!(close(e.collateral_calls, 30.0));
        // Capacity: 100 of cash, the bond at 85 % − 10 points = 75.
        assert!(close(e.initial_capacity, 175.0));
        assert!(close(e.initial_capacity_change, -10.0));
        assert!(close(e.hqla_value_change, 0.0));
        // Overnight: 100/30 withdrawn + 60/30 drawn + 30 called.
        let daily = 100.0 / 30.0 + 2.0;
        assert!(close(r.ladder.outflows[0], daily + 30.0));
        // Days 2–7, 8–14 (with the 25 repaid on day 10), 15–21, 22–30.
        assert!(close(r.ladder.outflows[1], daily));
        assert!(close(r.ladder.outflows[7], 7.0 * daily + 25.0));
        assert!(close(r.ladder.outflows[9], 9.0 * daily));
        assert!(close(r.ladder.open_maturity_outflows, 0.0));
        // Position: 175 − 35.33 − 6 × 5.33 − (7 × 5.33 + 25) − 7 × 5.33 = 8 after 21 days, then
        // 8 − 9 × 5.33 = −40 after 30: the bank survives 21 days, 22.5 interpolated.
        let h = &r.survival_horizon;
        assert!(close(h.position[8], 8.0), "{:?}", h.position);
        assert!(close(h.position[9], -40.0));
        assert_eq!(h.days, Some(21));
        assert!(close(h.interpolated_days.unwrap(), 21.0 + 8.0 / 48.0 * 9.0));
        // The contractual survival horizon: the whole deposit due overnight.
        assert_eq!(out.survival_horizon.days, None);
        assert!(!out.survival_horizon.beyond_last_bucket);
    }

    #[test]
    fn an_empty_stress_is_the_behavioural_view() {
        let table = FactorTable::builtin(Regime::Basel);
        let s = stress("nothing", |_| {});
        let out = analyse_stressed(
            &small_bank(),
            &flat(0.02),
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[s],
        )
        .unwrap();
        let r = &out.stresses[0];
        assert_eq!(r.ladder, out.ladder);
        assert_eq!(r.survival_horizon, out.survival_horizon);
        assert_eq!(r.effects.initial_capacity_change, 0.0);
    }

    #[test]
    fn rates_up_revalue_the_bond_book_and_categories_are_checked() {
        let table = FactorTable::builtin(Regime::Basel);
        let base = flat(0.0);
        let up = flat(0.02);
        let mut s = stress("joint", |l| {
            l.runoff.insert("retail_less_stable".into(), 0.2);
        });
        s.market = Some(up.clone());
        let out = analyse_stressed(
            &small_bank(),
            &base,
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[s.clone()],
        )
        .unwrap();
        let e = &out.stresses[0].effects;
        // The zero-coupon bond's value at 2 % for its two years, from the curve itself.
        let df = up
            .discount_curve("EUR")
            .unwrap()
            .discount_at(almanac_time::Date::ymd(2027, 12, 31));
        assert!(close(e.hqla_value_change, 100.0 * df - 100.0), "{e:?}");
        assert!(e.hqla_value_change < -3.0);
        assert!(close(e.initial_capacity, 100.0 + 0.85 * 100.0 * df));
        assert!(close(e.runoff, 200.0));
        // A category the table does not have is refused, naming the scenario.
        let mut bad = s;
        bad.spec.runoff.insert("retail_wobbly".into(), 0.2);
        let err = analyse_stressed(
            &small_bank(),
            &base,
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[bad],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("joint") && err.contains("retail_wobbly"),
            "{err}"
        );
        let mut bad = stress("x", |l| {
            l.drawdown.insert("retail_stable".into(), 0.2);
        });
        bad.market = None;
        assert!(analyse_stressed(
            &small_bank(),
            &base,
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[bad]
        )
        .is_err());
    }

    #[test]
    fn the_scenario_behaviour_sets_default_drawdowns_and_scales_deposit_runoff() {
        let table = FactorTable::builtin(Regime::Basel);
        let mut s = stress("b", |l| {
            l.runoff.insert("retail_less_stable".into(), 0.10);
            l.runoff.insert("unsecured_financial".into(), 0.5);
        });
        s.drawdown_rate = Some(0.5);
        s.deposit_runoff_multiplier = Some(3.0);
        let out = analyse_stressed(
            &small_bank(),
            &flat(0.0),
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[s],
        )
        .unwrap();
        let e = &out.stresses[0].effects;
        assert!(close(e.drawdowns, 100.0));
        // The multiplier scales withdrawals (10 % → 30 %), not the roll-over of term funding.
        assert!(close(e.runoff, 300.0));
        assert!(close(e.rolled_over, 25.0));
    }

    fn in_usd(mut p: Position) -> Position {
        match &mut p.instrument {
            Instrument::Contract(t) => t.currency = Some("USD".into()),
            Instrument::NonInterest(n) => n.currency = "USD".into(),
        }
        p
    }

    /// EUR and USD at 0 %, 1 EUR = 1.25 USD.
    fn two_currencies() -> MarketSnapshot {
        let mut m = flat(0.0);
        m.insert_curve(
            almanac_market::Curve::from_zero_rates(
                "USD-SOFR",
                "USD",
                AS_OF,
                almanac_time::DayCount::Act365Fixed,
                almanac_market::CurveInterpolation::LinearZero,
                vec![1.0, 30.0],
                vec![0.0, 0.0],
            )
            .unwrap(),
        )
        .unwrap();
        m.insert_fx("EUR", "USD", 1.25);
        m
    }

    /// Several currencies: each one's results in its own units, the consolidated ones in the
    /// reporting currency as the sum of the converted sums (caps and ratios after), and with
    /// one currency the consolidated results are that currency's to the last bit.
    #[test]
    fn currencies_are_reported_apart_and_consolidated() {
        let table = FactorTable::builtin(Regime::Basel);
        let market = two_currencies();
        let mut bank = small_bank();
        bank.push(in_usd(contract(
            r#"{"contractType":"CSH","contractID":"USD-CASH","contractRole":"RPA",
            "currency":"USD","statusDate":"2025-12-31","notionalPrincipal":50}"#,
            Attributes::default(),
        )));
        bank.push(in_usd(on_demand("USD-RETAIL", 400.0, retail(false))));
        let s = stress("run", |l| {
            l.runoff.insert("retail_less_stable".into(), 0.10);
        });
        let run = |ccy: Option<&str>| {
            crate::liquidity::run::analyse_in(
                &bank,
                &market,
                AS_OF,
                &table,
                &C66_BUCKETS,
                None,
                std::slice::from_ref(&s),
                ccy,
            )
            .unwrap()
        };
        // The default: the currency with the larger sum of balances (EUR).
        let eur = run(None);
        assert_eq!(eur.currency, "EUR");
        let names: Vec<&str> = eur
            .by_currency
            .iter()
            .map(|c| c.currency.as_str())
            .collect();
        assert_eq!(names, ["EUR", "USD"]);
        let usd_part = &eur.by_currency[1];
        assert!(close(usd_part.fx_rate, 0.8));
        assert_eq!(usd_part.positions, 2);
        let line = |l: &crate::liquidity::run::Liquidity, cat: &str| {
            l.lcr
                .lines
                .iter()
                .find(|x| x.category == cat)
                .map_or(0.0, |x| x.amount)
        };
        assert!(close(line(&eur, "l1_cash"), 100.0 + 0.8 * 50.0));
        assert!(close(
            line(&eur, "retail_less_stable"),
            1000.0 + 0.8 * 400.0
        ));
        assert!(close(
            line(&usd_part.liquidity, "retail_less_stable"),
            400.0
        ));
        // Ladders and stresses add up the same way.
        let eur_part = &eur.by_currency[0].liquidity;
        let open = |l: &crate::liquidity::run::Liquidity| l.ladder.open_maturity_outflows;
        assert!(close(
            open(&eur),
            open(eur_part) + 0.8 * open(&usd_part.liquidity)
        ));
        let runoff = |l: &crate::liquidity::run::Liquidity| l.stresses[0].effects.runoff;
        assert!(close(runoff(&eur), 100.0 + 0.8 * 40.0));
        assert!(close(runoff(&usd_part.liquidity), 40.0));
        // The LCR is the consolidated one, not an average of ratios.
        let ratio = eur.lcr.hqla / eur.lcr.net_outflows;
        assert!(close(eur.lcr.ratio.unwrap(), ratio));
        // In USD: every amount × 1.25.
        let usd = run(Some("USD"));
        assert_eq!(usd.currency, "USD");
        assert!(close(line(&usd, "l1_cash"), 1.25 * 100.0 + 50.0));
        assert!(close(usd.lcr.ratio.unwrap(), eur.lcr.ratio.unwrap()));
        // No rate to the reporting currency: an error naming both.
        let err = crate::liquidity::run::analyse_in(
            &bank,
            &flat(0.0),
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("USD/EUR") && err.contains("the 2 positions in USD"),
            "{err}"
        );
        // One currency: the consolidated results are that currency's.
        let one = crate::liquidity::run::analyse_in(
            &small_bank(),
            &market,
            AS_OF,
            &table,
            &C66_BUCKETS,
            None,
            &[s],
            None,
        )
        .unwrap();
        let own = &one.by_currency[0].liquidity;
        assert_eq!(one.lcr, own.lcr);
        assert_eq!(one.ladder, own.ladder);
        assert_eq!(one.stresses, own.stresses);
    }

    /// Capacity beyond HQLA: a central-bank eligible loan (100 at 0 %, central-bank haircut
    /// 20 %: 80, repaid on 2026-03-31 when it leaves the capacity), a committed facility
    /// received (50) and an uncommitted one (noted, not counted); a stress adds 10 points to
    /// the eligible loan's haircut and takes the facility away.
    #[test]
    fn central_bank_eligible_assets_and_facilities_received() {
        let table = FactorTable::builtin(Regime::Basel);
        let mut loan = bullet(
            "CB-LOAN",
            "RPA",
            100.0,
            "2026-03-31",
            0.0,
            cp(Cp::NonFinancialCorporate),
        );
        loan.attributes.central_bank_eligible = true;
        loan.attributes.central_bank_haircut = Some(0.2);
        let mut no_haircut = bullet(
            "CB-NO-HC",
            "RPA",
            10.0,
            "2026-03-31",
            0.0,
            cp(Cp::NonFinancialCorporate),
        );
        no_haircut.attributes.central_bank_eligible = true;
        let received = |id: &str, amount: f64, committed: bool| {
            let mut f = facility(id, amount);
            f.attributes.facility = Some(Facility {
                kind: FacilityKind::Liquidity,
                committed,
                received: true,
            });
            f
        };
        let bank = vec![
            cash(100.0),
            loan,
            no_haircut,
            received("LINE-IN", 50.0, true),
            received("LINE-MAYBE", 30.0, false),
        ];
        let s = stress("squeeze", |l| {
            l.haircut_add.insert("cb_eligible".into(), 0.1);
            l.haircut_add.insert("facilities_received".into(), 1.0);
        });
        let out =
            analyse_stressed(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS, None, &[s]).unwrap();
        let by: BTreeMap<&str, f64> = out
            .counterbalancing_capacity
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert!(close(by["l1_cash"], 100.0));
        assert!(close(by["cb_eligible"], 80.0));
        assert!(close(by["facility_received"], 50.0));
        assert!(!by.contains_key("cb_eligible_gross"));
        let h = &out.survival_horizon;
        assert!(close(h.capacity[0], 230.0), "{:?}", h.capacity);
        // The loan's repayment (bucket "> 2 – 3 months") takes its 80 out as its 100 comes in.
        let k = 12;
        assert!(
            close(h.capacity[k - 1] - h.capacity[k], 80.0),
            "{:?}",
            h.capacity
        );
        assert!(close(out.ladder.inflows[k], 110.0));
        // The LCR does not count either (not HQLA; no inflow from a facility received).
        assert!(close(out.lcr.hqla_before_caps, 100.0));
        for id in ["CB-NO-HC", "LINE-MAYBE"] {
            assert!(
                out.notes
                    .iter()
                    .any(|n| n.positions.iter().any(|p| p == id)),
                "{id}"
            );
        }
        // The stress: 100 × (1 − 0.2 − 0.1) = 70, the facility gone.
        let e = &out.stresses[0].effects;
        assert!(close(e.initial_capacity, 170.0), "{e:?}");
        assert!(close(e.hqla_value_change, 0.0));
        assert!(close(e.hqla_market_value, 100.0));
    }

    /// LCR40.16: a retail term deposit beyond 30 days that cannot be withdrawn early does not
    /// run off (Basel 0 %, US at the retail rate) and is not withdrawn in a stress; one that
    /// matures within 30 days, or can be withdrawn, runs off as retail.
    #[test]
    fn locked_retail_term_deposits() {
        let locked = |id: &str, md: &str| {
            let mut a = retail(false);
            if let Some(d) = a.deposit.as_mut() {
                d.no_early_withdrawal = true;
            }
            bullet(id, "RPL", 100.0, md, 0.0, a)
        };
        let bank = vec![
            locked("LOCKED", "2026-06-30"),
            locked("LOCKED-SOON", "2026-01-20"),
            bullet("FREE", "RPL", 100.0, "2026-06-30", 0.0, retail(false)),
        ];
        let s = stress("run", |l| {
            l.runoff.insert("retail_less_stable".into(), 0.5);
        });
        let line = |r: &crate::liquidity::run::Liquidity, cat: &str| {
            r.lcr
                .lines
                .iter()
                .find(|l| l.category == cat)
                .map(|l| (l.amount, l.weighted))
        };
        let basel = analyse_stressed(
            &bank,
            &flat(0.0),
            AS_OF,
            &FactorTable::builtin(Regime::Basel),
            &C66_BUCKETS,
            None,
            std::slice::from_ref(&s),
        )
        .unwrap();
        assert_eq!(line(&basel, "retail_term_beyond_30d"), Some((100.0, 0.0)));
        assert_eq!(line(&basel, "retail_less_stable"), Some((200.0, 20.0)));
        // The stress withdraws half of the two others, not the locked one.
        assert!(close(
            basel.stresses[0].effects.runoff,
            50.0 * 20.0 / 30.0 + 50.0
        ));
        let us = analyse_stressed(
            &bank,
            &flat(0.0),
            AS_OF,
            &FactorTable::builtin(Regime::Us),
            &C66_BUCKETS,
            None,
            &[],
        )
        .unwrap();
        assert_eq!(line(&us, "retail_term_beyond_30d"), Some((100.0, 10.0)));
    }

    /// EU inflow rules that differ from Basel (research note D1, D12): operational deposits
    /// placed at another bank (Basel 0 %, EU 5 %; NSFR 50 %) and loans without a contractual
    /// maturity (Basel none, EU 20 %), on their balances.
    #[test]
    fn operational_deposits_placed_and_open_maturity_loans() {
        let placed = |id: &str, a: Attributes| {
            contract(
                &format!(
                    r#"{{"contractType":"UMP","contractID":"{id}","contractRole":"RPA",
                    "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2024-01-01",
                    "notionalPrincipal":100,"nominalInterestRate":0.0,
                    "dayCountConvention":"30E360"}}"#
                ),
                a,
            )
        };
        let mut operational = cp(Cp::CreditInstitution);
        operational.deposit = Some(DepositAttributes {
            operational: true,
            ..DepositAttributes::default()
        });
        let bank = vec![
            placed("OPS", operational),
            placed("OVERDRAFT", cp(Cp::Retail)),
        ];
        let run = |regime| {
            analyse_stressed(
                &bank,
                &flat(0.0),
                AS_OF,
                &FactorTable::builtin(regime),
                &C66_BUCKETS,
                None,
                &[],
            )
            .unwrap()
        };
        let inflow = |r: &crate::liquidity::run::Liquidity, cat: &str| {
            r.lcr
                .lines
                .iter()
                .find(|l| l.category == cat)
                .map(|l| (l.amount, l.weighted))
        };
        let basel = run(Regime::Basel);
        assert_eq!(inflow(&basel, "operational_placed"), Some((100.0, 0.0)));
        assert_eq!(inflow(&basel, "open_maturity_loans"), Some((100.0, 0.0)));
        assert_eq!(inflow(&basel, "financial"), None);
        let rsf = basel
            .nsfr
            .lines
            .iter()
            .find(|l| l.category == "operational_placed")
            .unwrap();
        assert!(close(rsf.weighted, 50.0));
        let eu = run(Regime::Eu);
        assert_eq!(inflow(&eu, "operational_placed"), Some((100.0, 5.0)));
        assert_eq!(inflow(&eu, "open_maturity_loans"), Some((100.0, 20.0)));
        let us = run(Regime::Us);
        assert_eq!(inflow(&us, "open_maturity_loans"), Some((100.0, 0.0)));
    }

    /// The US maturity-mismatch add-on and outflow adjustment (12 CFR 249.30(b)–(c)), by
    /// hand: 100 of bank funding due on day 5 and 80 lent to a bank due on day 20. Net
    /// outflows 100 − min(80, 75) = 25 everywhere; the US adds the peak cumulative maturity
    /// outflow (100, days 5–19) less the day-30 one (20): 80, so 105; a reduced-LCR table at
    /// 70 % counts 73.5.
    #[test]
    fn us_maturity_mismatch_addon_and_outflow_adjustment() {
        assert_eq!(
            crate::liquidity::lcr::maturity_mismatch_addon(&[
                0.0, 0.0, -50.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0
            ]),
            0.0
        );
        let bank = vec![
            cash(200.0),
            bullet(
                "BORROWED",
                "RPL",
                100.0,
                "2026-01-05",
                0.0,
                cp(Cp::CreditInstitution),
            ),
            bullet(
                "LENT",
                "RPA",
                80.0,
                "2026-01-20",
                0.0,
                cp(Cp::CreditInstitution),
            ),
        ];
        let run = |t: &FactorTable| {
            analyse_stressed(&bank, &flat(0.0), AS_OF, t, &C66_BUCKETS, None, &[])
                .unwrap()
                .lcr
        };
        let basel = run(&FactorTable::builtin(Regime::Basel));
        assert!(close(basel.net_outflows, 25.0));
        assert_eq!(basel.maturity_mismatch_addon, 0.0);
        let us = run(&FactorTable::builtin(Regime::Us));
        assert!(close(us.maturity_mismatch_addon, 80.0), "{us:?}");
        assert!(close(us.net_outflows, 105.0));
        let reduced = FactorTable::from_toml(
            "regime = \"us-reduced\"\ninherits = \"us\"\n[lcr.caps]\n\
             outflow_adjustment = { factor = 0.70, source = \"12 CFR 249.30(c)\", status = \"U\" }\n",
            None,
        )
        .unwrap();
        let r = run(&reduced);
        assert!(close(r.net_outflows, 0.7 * 105.0));
        assert!(close(r.ratio.unwrap(), 200.0 / 73.5));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Nothing is lost: what a stress takes out of the ladder is retained, rolled over or
        /// not received, and what it adds is run-off, drawdowns and calls.
        #[test]
        fn stresses_conserve_every_flow(
            seed in 0u64..1_000_000,
            rates in proptest::collection::vec(0.0f64..=1.0, 8),
            window in 1u32..400,
        ) {
            let table = FactorTable::builtin(Regime::Basel);
            let mut state = seed;
            let mut next = move || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 33) as f64 / f64::from(1u32 << 31)
            };
            let mut book = vec![cash(50.0)];
            for i in 0..24 {
                let notional = (100.0 * next()).round() + 1.0;
                let days = 1 + (next() * 900.0) as i32;
                let md = AS_OF.add_days(days).to_string();
                let rate = 0.05 * next();
                let id = format!("P{i}");
                let kind = (next() * 7.0) as u32;
                book.push(match kind {
                    0 => on_demand(&id, notional, retail(next() < 0.5)),
                    // Funding at 0 %: a withdrawn share forfeits its later interest, so only
                    // principal is conserved exactly.
                    1 => bullet(&id, "RPL", notional, &md, 0.0, retail(next() < 0.5)),
                    2 => bullet(&id, "RPL", notional, &md, 0.0, cp(Cp::CreditInstitution)),
                    3 => on_demand(&id, notional, cp(Cp::NonFinancialCorporate)),
                    4 => bullet(&id, "RPA", notional, &md, rate, cp(Cp::Retail)),
                    5 => bullet(&id, "RPA", notional, &md, rate, cp(Cp::CreditInstitution)),
                    _ => facility(&id, notional),
                });
            }
            let s = stress("s", |l| {
                l.window_days = window;
                for (k, cat) in [
                    "retail_stable", "retail_less_stable", "unsecured_financial",
                    "non_operational_non_financial",
                ].iter().enumerate() {
                    l.runoff.insert((*cat).into(), rates[k]);
                }
                l.inflows.insert("retail".into(), rates[4]);
                l.inflows.insert("financial".into(), rates[5]);
                l.drawdown.insert("facility_credit_non_financial".into(), rates[6]);
            });
            let out = analyse_stressed(
                &book, &flat(0.01), AS_OF, &table, &C66_BUCKETS, None, &[s],
            ).unwrap();
            let r = &out.stresses[0];
            let sum = |v: &[f64]| v.iter().sum::<f64>();
            let e = &r.effects;
            let base_out = sum(&out.ladder.outflows) + out.ladder.open_maturity_outflows;
            let stressed_out = sum(&r.ladder.outflows) + r.ladder.open_maturity_outflows;
            let lhs = stressed_out + e.retained + e.rolled_over;
            let rhs = base_out + e.drawdowns + e.collateral_calls;
            proptest::prop_assert!(close(lhs, rhs), "{lhs} != {rhs}");
            let base_in = sum(&out.ladder.inflows);
            let stressed_in = sum(&r.ladder.inflows);
            proptest::prop_assert!(close(stressed_in + e.inflows_not_received, base_in));
        }
    }
}
