//! A liquidity run over a balance sheet: every position classified (on all cores), then the
//! LCR, the NSFR, the contractual maturity ladder and the survival horizon against the HQLA
//! stock as counterbalancing capacity.

use almanac_balance_sheet::{HqlaLevel, Instrument, Position};
use almanac_market::MarketSnapshot;
use almanac_time::Date;
use rayon::prelude::*;
use serde::Serialize;

use super::classify::{
    behavioural_in, classify, needs_levels, Classified, Context, Role, ScenarioRef,
};
use super::factors::FactorTable;
use super::ladder::{survival, Bucket, Grid, Survival};
use super::lcr::{lcr_unwound, HqlaStock, Item as LcrItem, Lcr};
use super::nsfr::{nsfr, Item as NsfrItem, Nsfr};
use super::stress::{Capacity, Part, Prepared, Refined, Stress, StressResult, Sums, View};
use super::LiquidityError;
use crate::irrbb::Behaviour;

/// The contractual maturity ladder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ladder {
    /// Bucket labels.
    pub buckets: Vec<String>,
    /// Each bucket's last date (`None`: open-ended).
    pub ends: Vec<Option<String>>,
    /// Inflows by bucket (units, positive), open-maturity balances excluded.
    pub inflows: Vec<f64>,
    /// Outflows by bucket (units, positive), open-maturity balances excluded.
    pub outflows: Vec<f64>,
    /// Balances repayable on demand: assets (received) and liabilities (paid), shown apart and
    /// counted in the overnight bucket of the survival horizon.
    pub open_maturity_inflows: f64,
    /// See `open_maturity_inflows`.
    pub open_maturity_outflows: f64,
}

/// A treatment applied for a missing attribute (or a part not covered yet), with every
/// position it was applied to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// What was done, in words.
    pub treatment: String,
    /// How many positions.
    pub count: usize,
    /// Their ids, in balance-sheet order.
    pub positions: Vec<String>,
}

/// A liquidity run's results.
///
/// Amounts are in the reporting currency `currency`: each currency's sums converted at the
/// market's FX rate to it (a stress's at its scenario market's rate) and added before any ratio
/// or cap, so the LCR caps apply to the consolidated stock. `by_currency` has the same results
/// per currency in that currency's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Liquidity {
    /// The reporting currency (ISO code; empty when no position names one).
    pub currency: String,
    /// The LCR.
    pub lcr: Lcr,
    /// The NSFR.
    pub nsfr: Nsfr,
    /// The contractual ladder.
    pub ladder: Ladder,
    /// The survival horizon, contractual flows against the counterbalancing capacity.
    pub survival_horizon: Survival,
    /// The counterbalancing capacity at the as-of date by category, after haircuts: the HQLA
    /// categories (before the LCR's caps), `cb_eligible` (other central-bank eligible assets
    /// after the central bank's haircut) and `facility_received` (committed, undrawn).
    pub counterbalancing_capacity: Vec<(String, f64)>,
    /// The behavioural ladder (an assumption set's prepayment, early redemption and
    /// non-maturity deposit slotting at base-scenario rates), when one is given.
    pub behavioural_ladder: Option<Ladder>,
    /// The survival horizon of the behavioural ladder.
    pub behavioural_survival_horizon: Option<Survival>,
    /// The stress scenarios' ladders and survival horizons, in the order given.
    pub stresses: Vec<StressResult>,
    /// Treatments applied for missing attributes, and what is not covered yet: each with the
    /// positions it applies to.
    pub notes: Vec<Note>,
    /// Positions that could not be classified, with the reason.
    pub failed: Vec<(String, String)>,
    /// Each currency's results in its own units (their notes and failures are the run's).
    pub by_currency: Vec<CurrencyLiquidity>,
    /// Every position's part of the LCR and NSFR lines, in balance-sheet order, when asked for
    /// ([`Analysis::drill_down`]); empty otherwise.
    pub position_lines: Vec<PositionLine>,
}

/// One currency's part of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrencyLiquidity {
    /// The currency (empty for positions that name none: counted in the reporting currency).
    pub currency: String,
    /// Units of the reporting currency per unit of this one on the base market.
    pub fx_rate: f64,
    /// Positions in it.
    pub positions: usize,
    /// Its results, in its units.
    pub liquidity: Liquidity,
}

/// One position's part of an LCR or NSFR line: the drill-down from a line to its contracts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionLine {
    /// The position's id.
    pub position: String,
    /// Its currency (the amount is in it).
    pub currency: String,
    /// `lcr` or `nsfr`.
    pub metric: &'static str,
    /// `hqla`, `outflow`, `inflow`, `asf`, `rsf`, or `derivative` (a derivative's fair value,
    /// which the NSFR nets by netting set before its lines).
    pub section: &'static str,
    /// The factor table's category (the netting set for a derivative).
    pub category: String,
    /// The amount it puts in the line (units of `currency`).
    pub amount: f64,
}

/// Notes and failures of a run of positions, in balance-sheet order, and the drill-down lines
/// when asked for.
#[derive(Debug, Default)]
struct Log {
    notes: std::collections::BTreeMap<&'static str, Vec<String>>,
    failed: Vec<(String, String)>,
    lines: Vec<PositionLine>,
}

impl Log {
    fn merge(&mut self, other: Log) {
        for (k, mut v) in other.notes {
            self.notes.entry(k).or_default().append(&mut v);
        }
        self.failed.extend(other.failed);
        self.lines.extend(other.lines);
    }

    /// The drill-down lines of one classified position.
    fn keep(&mut self, p: &Position, c: &Classified) {
        let line = |metric, section, category: &str, amount| PositionLine {
            position: p.id().to_string(),
            currency: p.currency().to_string(),
            metric,
            section,
            category: category.to_string(),
            amount,
        };
        for &(section, category, amount) in &c.lcr {
            let s = match section {
                super::lcr::Section::Hqla => "hqla",
                super::lcr::Section::Outflow => "outflow",
                super::lcr::Section::Inflow => "inflow",
            };
            self.lines.push(line("lcr", s, category, amount));
        }
        for &(side, category, amount) in &c.nsfr {
            let s = match side {
                super::nsfr::Side::Asf => "asf",
                super::nsfr::Side::Rsf => "rsf",
            };
            if amount != 0.0 {
                self.lines.push(line("nsfr", s, category, amount));
            }
        }
        if let Some((set, value)) = &c.derivative {
            self.lines.push(line("nsfr", "derivative", set, *value));
        }
    }
}

/// Positions classified and summed together.
const CHUNK: usize = 4096;

/// The sums of a run of positions in one currency.
#[derive(Clone)]
struct Partial {
    contractual: View,
    behavioural: View,
    capacity: Capacity,
    lcr: std::collections::BTreeMap<(super::lcr::Section, &'static str), f64>,
    nsfr: std::collections::BTreeMap<(super::nsfr::Side, &'static str), f64>,
    stresses: Vec<Part>,
    /// The unwind of secured transactions within 30 days (LCR30.34).
    unwind: HqlaStock,
    /// Derivatives' fair values by netting set (NSFR).
    derivatives: std::collections::BTreeMap<String, f64>,
    /// Weighted net maturity outflows by day 1–30 (the US add-on).
    maturity: [f64; 30],
    /// Positions, and the sum of their balances (the default reporting currency's measure).
    positions: usize,
    balance: f64,
    /// Scratch: a position's contractual, behavioural and scenario flows by refined bucket.
    scratch: [Sums; 3],
}

impl Partial {
    fn new(buckets: usize, stresses: usize, refined: &Refined) -> Partial {
        Partial {
            scratch: [Sums::new(refined), Sums::new(refined), Sums::new(refined)],
            contractual: View::new(buckets),
            behavioural: View::new(buckets),
            capacity: Capacity::default(),
            lcr: Default::default(),
            nsfr: Default::default(),
            stresses: (0..stresses).map(|_| Part::new(buckets)).collect(),
            unwind: HqlaStock::default(),
            derivatives: Default::default(),
            maturity: [0.0; 30],
            positions: 0,
            balance: 0.0,
        }
    }

    /// Converts the sums to another currency: `base` for the base market's, `stress[i]` for
    /// stress `i`'s.
    fn scale(&mut self, base: f64, stress: &[f64]) {
        self.contractual.scale(base);
        self.behavioural.scale(base);
        self.capacity.scale(base);
        self.lcr.values_mut().for_each(|x| *x *= base);
        self.nsfr.values_mut().for_each(|x| *x *= base);
        self.unwind.scale(base);
        self.derivatives.values_mut().for_each(|x| *x *= base);
        self.maturity.iter_mut().for_each(|x| *x *= base);
        self.balance *= base;
        for (part, f) in self.stresses.iter_mut().zip(stress) {
            part.scale(*f);
        }
    }

    fn add(&mut self, c: &Classified, grid: &Grid, refined: &Refined) {
        self.positions += 1;
        self.balance += c.signed_balance.abs();
        self.unwind = self.unwind.plus(&c.unwind);
        for &(day, x) in &c.maturity {
            self.maturity[usize::from(day.clamp(1, 30)) - 1] += x;
        }
        if let Some((set, value)) = &c.derivative {
            match self.derivatives.get_mut(set) {
                Some(v) => *v += value,
                None => {
                    self.derivatives.insert(set.clone(), *value);
                }
            }
        }
        for &(section, category, amount) in &c.lcr {
            *self.lcr.entry((section, category)).or_default() += amount;
        }
        for &(side, category, amount) in &c.nsfr {
            *self.nsfr.entry((side, category)).or_default() += amount;
        }
        let [contractual, behavioural, _] = &mut self.scratch;
        contractual.fill(&c.flows, grid.as_of, refined);
        self.contractual.sums(contractual, 1.0, refined);
        self.contractual.open(c.open_maturity);
        match &c.behavioural {
            Some((f, open)) => {
                behavioural.fill(f, grid.as_of, refined);
                self.behavioural.sums(behavioural, 1.0, refined);
                self.behavioural.open(*open);
            }
            None => {
                self.behavioural.sums(contractual, 1.0, refined);
                self.behavioural.open(c.open_maturity);
            }
        }
        self.capacity.add(c, grid);
    }

    /// Adds `p` under each stress, reclassifying it in the scenario only when the scenario can
    /// change it (its market for floating rates, securities and derivatives; its behaviour
    /// rates for positions with a behavioural rule).
    /// Call after [`Partial::add`] of the same position (its sums are reused).
    fn add_stressed(
        &mut self,
        p: &Position,
        c: &Classified,
        prepared: &[Prepared<'_>],
        grid: &Grid,
        refined: &Refined,
        failed: &mut Vec<(String, String)>,
    ) {
        let [contractual, behavioural, scenario] = &mut self.scratch;
        let base = if c.behavioural.is_some() {
            &*behavioural
        } else {
            &*contractual
        };
        let base_open = view_of(c).1;
        for (part, s) in self.stresses.iter_mut().zip(prepared) {
            let sensitive = match &p.instrument {
                Instrument::Contract(t) => {
                    s.stress.market.is_some()
                        && Role::market_sensitive(
                            t,
                            // Valued in the capacity: securities and eligible credit claims.
                            p.attributes
                                .hqla_level
                                .is_some_and(|l| l != HqlaLevel::None)
                                || p.attributes.central_bank_eligible,
                        )
                }
                Instrument::NonInterest(_) => false,
            };
            if sensitive {
                match classify(p, &s.ctx) {
                    Ok(cs) => {
                        let (f, open) = view_of(&cs);
                        scenario.fill(f, grid.as_of, refined);
                        part.add(s, &cs, scenario, open, refined, grid);
                    }
                    Err(e) => failed.push((
                        p.id().to_string(),
                        format!("scenario {}: {e}", s.stress.name),
                    )),
                }
            } else if s.behaviour_changes && c.behavioural.is_some() {
                match behavioural_in(p, c, &s.ctx) {
                    Some((f, open)) => {
                        scenario.fill(&f, grid.as_of, refined);
                        part.add(s, c, scenario, open, refined, grid);
                    }
                    None => part.add(s, c, contractual, c.open_maturity, refined, grid),
                }
            } else {
                part.add(s, c, base, base_open, refined, grid);
            }
        }
    }

    fn merge(&mut self, other: Partial) {
        self.contractual.merge(&other.contractual);
        self.behavioural.merge(&other.behavioural);
        self.capacity.merge(&other.capacity);
        for (k, v) in other.lcr {
            *self.lcr.entry(k).or_default() += v;
        }
        for (k, v) in other.nsfr {
            *self.nsfr.entry(k).or_default() += v;
        }
        self.positions += other.positions;
        self.balance += other.balance;
        self.unwind = self.unwind.plus(&other.unwind);
        for (a, b) in self.maturity.iter_mut().zip(&other.maturity) {
            *a += b;
        }
        for (k, v) in &other.derivatives {
            *self.derivatives.entry(k.clone()).or_default() += v;
        }
        for (a, b) in self.stresses.iter_mut().zip(&other.stresses) {
            a.merge(b);
        }
    }
}

/// The behavioural view of a classified position: its behavioural flows and balance repayable
/// on demand, else its contractual ones.
fn view_of(c: &Classified) -> (&[(Date, f64)], f64) {
    match &c.behavioural {
        Some((f, open)) => (f.as_slice(), *open),
        None => (c.flows.as_slice(), c.open_maturity),
    }
}

/// Runs the liquidity metrics of `positions` as of `as_of` on `market` with `table`, the
/// ladder in `buckets`.
///
/// # Errors
/// A factor category missing from `table`, or bucket ends that do not increase.
pub fn analyse(
    positions: &[Position],
    market: &MarketSnapshot,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
) -> Result<Liquidity, LiquidityError> {
    analyse_with(positions, market, as_of, table, buckets, None)
}

/// [`analyse`] with an assumption set's behaviour for the behavioural ladder.
///
/// # Errors
/// As [`analyse`].
pub fn analyse_with(
    positions: &[Position],
    market: &MarketSnapshot,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
    behaviour: Option<&Behaviour>,
) -> Result<Liquidity, LiquidityError> {
    analyse_stressed(positions, market, as_of, table, buckets, behaviour, &[])
}

/// [`analyse_with`] and liquidity stress scenarios: each one's ladder, counterbalancing
/// capacity and survival horizon (`stress` module), in the default reporting currency (see
/// [`Analysis::reporting_currency`]).
///
/// # Errors
/// As [`analyse`], and a stress naming a category the table does not have.
pub fn analyse_stressed(
    positions: &[Position],
    market: &MarketSnapshot,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
    behaviour: Option<&Behaviour>,
    stresses: &[Stress],
) -> Result<Liquidity, LiquidityError> {
    analyse_in(
        positions, market, as_of, table, buckets, behaviour, stresses, None,
    )
}

/// [`analyse_stressed`] in reporting currency `currency` (`None`: the default).
///
/// # Errors
/// As [`analyse_stressed`], and a currency without an FX rate to the reporting one.
#[allow(clippy::too_many_arguments)]
pub fn analyse_in(
    positions: &[Position],
    market: &MarketSnapshot,
    as_of: Date,
    table: &FactorTable,
    buckets: &[Bucket],
    behaviour: Option<&Behaviour>,
    stresses: &[Stress],
    currency: Option<&str>,
) -> Result<Liquidity, LiquidityError> {
    let mut a = Analysis::new(market, as_of, table, buckets, behaviour, stresses)?;
    a.reporting_currency(currency);
    a.add_all(positions);
    a.finish()
}

/// A liquidity run fed its positions in batches, in balance-sheet order (a stored snapshot
/// streamed from the store), and summed as they come: memory holds a batch, not the balance
/// sheet. The result does not depend on the batch sizes or the thread count: positions are
/// classified in fixed chunks of the whole sequence whose sums are merged in order.
pub struct Analysis<'a> {
    ctx: Context<'a>,
    grid: Grid,
    refined: Refined,
    prepared: Vec<Prepared<'a>>,
    stresses: &'a [Stress],
    table: &'a FactorTable,
    behaviour: Option<&'a Behaviour>,
    /// Sums by currency, in the order the currencies were first seen.
    totals: Vec<Partial>,
    currencies: Vec<String>,
    index: std::collections::HashMap<String, usize>,
    log: Log,
    reporting: Option<String>,
    drill_down: bool,
    /// Positions not yet in a full chunk.
    pending: Vec<Position>,
    /// Positions that name their collateral by id without its level: classified at the end,
    /// when every position's level is known.
    deferred: Vec<Position>,
    /// HQLA levels of the positions seen so far, by id.
    levels: std::collections::HashMap<String, HqlaLevel>,
}

impl<'a> Analysis<'a> {
    /// A run as of `as_of` on `market` with `table`, the ladder in `buckets`, an assumption
    /// set's behaviour and stresses.
    ///
    /// # Errors
    /// Bucket ends that do not increase; a stress naming a category `table` does not have.
    pub fn new(
        market: &'a MarketSnapshot,
        as_of: Date,
        table: &'a FactorTable,
        buckets: &[Bucket],
        behaviour: Option<&'a Behaviour>,
        stresses: &'a [Stress],
    ) -> Result<Analysis<'a>, LiquidityError> {
        for s in stresses {
            s.check(table)?;
        }
        let mut ctx = Context::without_levels(as_of, market, table);
        ctx.behaviour = behaviour;
        let grid = Grid::new(as_of, buckets)?;
        let refined = Refined::new(&grid, stresses.iter().map(|s| s.spec.window_days.max(1)));
        let prepared = stresses
            .iter()
            .map(|s| {
                let mut sc = ctx.clone();
                if let Some(m) = &s.market {
                    sc.market = m;
                }
                sc.scenario = ScenarioRef {
                    name: &s.name,
                    standard: s.standard,
                    prepayment_multiplier: s.prepayment_multiplier,
                    early_redemption_multiplier: s.early_redemption_multiplier,
                };
                Prepared {
                    stress: s,
                    ctx: sc,
                    behaviour_changes: behaviour.is_some_and(|b| s.changes_behaviour(b)),
                    window: s.spec.window_days.max(1),
                }
            })
            .collect();
        Ok(Analysis {
            ctx,
            grid,
            refined,
            prepared,
            stresses,
            table,
            behaviour,
            totals: Vec::new(),
            currencies: Vec::new(),
            index: Default::default(),
            log: Log::default(),
            reporting: None,
            drill_down: false,
            pending: Vec::new(),
            deferred: Vec::new(),
            levels: Default::default(),
        })
    }

    /// Sets the reporting currency (`None`: the default, the currency holding the largest sum
    /// of balances, each in its own units; the first of equals in alphabetical order).
    pub fn reporting_currency(&mut self, currency: Option<&str>) {
        self.reporting = currency.map(str::to_ascii_uppercase);
    }

    /// Keeps every position's part of the LCR and NSFR lines (`Liquidity::position_lines`):
    /// memory for a few lines per position.
    pub fn drill_down(&mut self, keep: bool) {
        self.drill_down = keep;
    }

    /// Adds a whole balance sheet held in memory (instead of [`Analysis::add`] in batches):
    /// every level is known up front, so each position is classified in its place.
    pub fn add_all(&mut self, positions: &[Position]) {
        let ctx = Context::new(self.ctx.as_of, self.ctx.market, positions, self.table);
        self.ctx.levels.clone_from(&ctx.levels);
        for p in &mut self.prepared {
            p.ctx.levels.clone_from(&ctx.levels);
        }
        self.classify(positions, None);
    }

    /// Adds the next positions of the balance sheet.
    pub fn add(&mut self, positions: Vec<Position>) {
        for p in positions {
            if let Some(l) = p.attributes.hqla_level {
                self.levels.insert(p.id().to_string(), l);
            }
            if needs_levels(&p) {
                self.deferred.push(p);
            } else {
                self.pending.push(p);
            }
        }
        let full = self.pending.len() / CHUNK * CHUNK;
        if full > 0 {
            let rest = self.pending.split_off(full);
            let batch = std::mem::replace(&mut self.pending, rest);
            self.classify(&batch, None);
        }
    }

    /// Classifies `positions` in chunks on all cores and adds their sums in order; `ctx`
    /// replaces the run's contexts (the deferred positions' pass, with every level known).
    fn classify(&mut self, positions: &[Position], ctx: Option<(&Context<'a>, &[Prepared<'a>])>) {
        let n = self.grid.buckets.len();
        // Each position's currency by its index in the run's list.
        let mut which = Vec::with_capacity(positions.len());
        for p in positions {
            let c = p.currency();
            let k = match self.index.get(c) {
                Some(k) => *k,
                None => {
                    self.currencies.push(c.to_string());
                    self.index.insert(c.to_string(), self.currencies.len() - 1);
                    self.currencies.len() - 1
                }
            };
            which.push(k);
        }
        let (ctx, prepared) = ctx.unwrap_or((&self.ctx, &self.prepared));
        let (grid, refined, stresses) = (&self.grid, &self.refined, self.stresses.len());
        let keep = self.drill_down;
        // Chunks of positions classified on all cores, each summed on its own (by currency),
        // the sums merged in balance-sheet order: the same result, to the last bit, whatever
        // the thread count.
        let partials: Vec<(Vec<Option<Partial>>, Log)> = positions
            .par_chunks(CHUNK)
            .zip(which.par_chunks(CHUNK))
            .map(|(chunk, ccys)| {
                let mut parts: Vec<Option<Partial>> = Vec::new();
                let mut log = Log::default();
                for (p, &k) in chunk.iter().zip(ccys) {
                    if parts.len() <= k {
                        parts.resize_with(k + 1, || None);
                    }
                    let part = parts[k].get_or_insert_with(|| Partial::new(n, stresses, refined));
                    match classify(p, ctx) {
                        Ok(c) => {
                            for note in &c.notes {
                                log.notes.entry(note).or_default().push(p.id().to_string());
                            }
                            if keep {
                                log.keep(p, &c);
                            }
                            part.add(&c, grid, refined);
                            part.add_stressed(p, &c, prepared, grid, refined, &mut log.failed);
                        }
                        Err(e) => log.failed.push((p.id().to_string(), e)),
                    }
                }
                (parts, log)
            })
            .collect();
        for (parts, log) in partials {
            for (k, part) in parts.into_iter().enumerate() {
                if let Some(part) = part {
                    while self.totals.len() <= k {
                        self.totals.push(Partial::new(n, stresses, refined));
                    }
                    self.totals[k].merge(part);
                }
            }
            self.log.merge(log);
        }
    }

    /// The results.
    ///
    /// # Errors
    /// A factor category missing from the table.
    pub fn finish(mut self) -> Result<Liquidity, LiquidityError> {
        let pending = std::mem::take(&mut self.pending);
        self.classify(&pending, None);
        let deferred = std::mem::take(&mut self.deferred);
        if !deferred.is_empty() {
            let levels = std::mem::take(&mut self.levels);
            let mut ctx = self.ctx.clone();
            ctx.levels.clone_from(&levels);
            let prepared: Vec<Prepared<'a>> = self
                .prepared
                .iter()
                .map(|p| {
                    let mut c = p.ctx.clone();
                    c.levels.clone_from(&levels);
                    Prepared { ctx: c, ..*p }
                })
                .collect();
            self.classify(&deferred, Some((&ctx, &prepared)));
        }
        let n = self.grid.buckets.len();
        while self.totals.len() < self.currencies.len() {
            self.totals
                .push(Partial::new(n, self.stresses.len(), &self.refined));
        }
        let Analysis {
            grid,
            stresses,
            table,
            behaviour,
            totals,
            currencies,
            log,
            reporting,
            refined,
            ctx,
            ..
        } = self;
        let reporting = reporting.unwrap_or_else(|| {
            let mut best: Option<(&str, f64)> = None;
            let mut named: Vec<(&str, f64)> = currencies
                .iter()
                .zip(&totals)
                .filter(|(c, _)| !c.is_empty())
                .map(|(c, t)| (c.as_str(), t.balance))
                .collect();
            named.sort_by(|a, b| a.0.cmp(b.0));
            for (c, b) in named {
                if best.is_none_or(|(_, x)| b > x) {
                    best = Some((c, b));
                }
            }
            best.map(|(c, _)| c.to_string()).unwrap_or_default()
        });
        // Each currency converted to the reporting one and added: the base market's rate, a
        // stress's on its scenario market.
        let empty = Log::default();
        let mut consolidated = Partial::new(n, stresses.len(), &refined);
        let mut by_currency = Vec::with_capacity(currencies.len());
        let mut order: Vec<usize> = (0..currencies.len()).collect();
        order.sort_by(|a, b| currencies[*a].cmp(&currencies[*b]));
        for k in order {
            let (ccy, part) = (&currencies[k], &totals[k]);
            let rate = |m: &MarketSnapshot| -> Result<f64, LiquidityError> {
                if ccy.is_empty() {
                    return Ok(1.0);
                }
                m.fx(ccy, &reporting).map_err(|_| {
                    LiquidityError(format!(
                        "no FX rate {ccy}/{reporting} in the market{}: the {} position{} in \
                         {ccy} cannot be added to the reporting currency {reporting}",
                        if std::ptr::eq(m, ctx.market) {
                            String::new()
                        } else {
                            " of a stress scenario".to_string()
                        },
                        part.positions,
                        if part.positions == 1 { "" } else { "s" },
                    ))
                })
            };
            let base = rate(ctx.market)?;
            let per_stress = stresses
                .iter()
                .map(|s| rate(s.market.as_ref().unwrap_or(ctx.market)))
                .collect::<Result<Vec<f64>, _>>()?;
            let mut converted = part.clone();
            converted.scale(base, &per_stress);
            consolidated.merge(converted);
            let mut own = summarise(part, &empty, &grid, table, behaviour, stresses)?;
            own.currency.clone_from(ccy);
            by_currency.push(CurrencyLiquidity {
                currency: ccy.clone(),
                fx_rate: base,
                positions: part.positions,
                liquidity: own,
            });
        }
        let mut out = summarise(&consolidated, &log, &grid, table, behaviour, stresses)?;
        out.currency = reporting;
        out.position_lines = log.lines;
        out.by_currency = by_currency;
        Ok(out)
    }
}

/// The run's results from its sums.
fn summarise(
    total: &Partial,
    log: &Log,
    grid: &Grid,
    table: &FactorTable,
    behaviour: Option<&Behaviour>,
    stresses: &[Stress],
) -> Result<Liquidity, LiquidityError> {
    let n = grid.buckets.len();
    let Partial {
        contractual,
        behavioural,
        capacity,
        lcr: lcr_sums,
        nsfr: nsfr_sums,
        stresses: stress_parts,
        unwind,
        derivatives,
        maturity,
        ..
    } = total;
    let lcr_items = lcr_sums
        .iter()
        .map(|((section, category), amount)| LcrItem {
            section: *section,
            category,
            amount: *amount,
        });
    // NSFR derivatives (NSF30.14, 30.32): fair values netted by netting set; the net of
    // assets over liabilities at 100 % RSF, of liabilities over assets at 0 % ASF, and the
    // gross liabilities' add-on (no variation margin is deducted: the data model has none).
    let assets: f64 = derivatives.values().map(|v| v.max(0.0)).sum();
    let liabilities: f64 = derivatives.values().map(|v| (-v).max(0.0)).sum();
    let derivative_items = (!derivatives.is_empty()).then(|| {
        [
            NsfrItem {
                side: super::nsfr::Side::Rsf,
                category: "derivative_assets_net",
                amount: (assets - liabilities).max(0.0),
            },
            NsfrItem {
                side: super::nsfr::Side::Asf,
                category: "derivative_liabilities_net",
                amount: (liabilities - assets).max(0.0),
            },
            NsfrItem {
                side: super::nsfr::Side::Rsf,
                category: "derivative_liabilities_gross",
                amount: liabilities,
            },
        ]
    });
    let nsfr_items = nsfr_sums
        .iter()
        .map(|((side, category), amount)| NsfrItem {
            side: *side,
            category,
            amount: *amount,
        })
        .chain(derivative_items.into_iter().flatten());
    let lcr = lcr_unwound(lcr_items, *unwind, maturity, table)?;
    let nsfr = nsfr(nsfr_items, table)?;
    // Survival: open-maturity balances fall due overnight; the counterbalancing capacity is
    // the HQLA stock after haircuts (before the LCR's caps, which are the LCR's), less the
    // securities as they are repaid, plus encumbered ones as they are released.
    let base_factor = |k: &str| super::stress::base_capacity_factor(table, k);
    let (initial, capacity_flows) = capacity.resolve(n, base_factor);
    let horizon = |v: &View, initial: f64, flows: &[f64]| {
        let (mut sin, mut sout) = (v.inflows.clone(), v.outflows.clone());
        if n > 0 {
            sin[0] += v.open.0;
            sout[0] += v.open.1;
        }
        survival(grid, &sin, &sout, initial, flows)
    };
    let ladder = |v: View| Ladder {
        buckets: grid.buckets.iter().map(|b| b.label.to_string()).collect(),
        ends: grid.ends.iter().map(|e| e.map(|d| d.to_string())).collect(),
        inflows: v.inflows,
        outflows: v.outflows,
        open_maturity_inflows: v.open.0,
        open_maturity_outflows: v.open.1,
    };
    let survival_horizon = horizon(contractual, initial, &capacity_flows);
    let (behavioural_ladder, behavioural_survival_horizon) = match behaviour {
        Some(_) => {
            let s = horizon(behavioural, initial, &capacity_flows);
            (Some(ladder(behavioural.clone())), Some(s))
        }
        None => (None, None),
    };
    let base_value = capacity.market_value(table);
    let stresses = stresses
        .iter()
        .zip(stress_parts)
        .map(|(s, part)| {
            let (init, flows) = part.capacity.resolve(n, |k| s.capacity_factor(table, k));
            let mut effects = part.effects.clone();
            effects.hqla_market_value = part.capacity.market_value(table);
            effects.hqla_value_change = effects.hqla_market_value - base_value;
            effects.initial_capacity = init;
            effects.initial_capacity_change = init - initial;
            StressResult {
                name: s.name.clone(),
                window_days: s.spec.window_days,
                survival_horizon: horizon(&part.view, init, &flows),
                ladder: ladder(part.view.clone()),
                effects,
            }
        })
        .collect();
    Ok(Liquidity {
        currency: String::new(),
        counterbalancing_capacity: capacity.by_category(base_factor),
        lcr,
        nsfr,
        ladder: ladder(contractual.clone()),
        survival_horizon,
        behavioural_ladder,
        behavioural_survival_horizon,
        stresses,
        notes: log
            .notes
            .iter()
            .map(|(treatment, positions)| Note {
                treatment: (*treatment).to_string(),
                count: positions.len(),
                positions: positions.clone(),
            })
            .collect(),
        failed: log.failed.clone(),
        by_currency: Vec::new(),
        position_lines: Vec::new(),
    })
}

/// The worked examples of the specification (§6.6, §6.7) built as balance sheets of contracts
/// and run through the ACTUS engine and the classifier (a flat 0 % curve, so a security's
/// market value is its notional).
#[cfg(test)]
mod tests {
    use almanac_actus::ContractTerms;
    use almanac_balance_sheet::{
        Attributes, CounterpartyType as Cp, DepositAttributes, Encumbrance, Facility, FacilityKind,
        HqlaLevel, Instrument, NonInterestItem, Position, Side as BsSide,
    };

    use super::*;
    use crate::irrbb::testkit::{flat, AS_OF};
    use crate::liquidity::factors::Regime;
    use crate::liquidity::ladder::C66_BUCKETS;

    fn terms(json: &str) -> Box<ContractTerms> {
        Box::new(serde_json::from_str(json).unwrap())
    }

    fn position(id: &str, t: Box<ContractTerms>, a: Attributes) -> Position {
        assert_eq!(t.id(), id);
        Position {
            row: 0,
            instrument: Instrument::Contract(t),
            attributes: a,
        }
    }

    /// A zero-rate bullet: `role` RPA or RPL, maturing on `md`.
    fn bullet(id: &str, role: &str, notional: f64, md: &str, a: Attributes) -> Position {
        let t = terms(&format!(
            r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"{role}",
            "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2025-06-30",
            "maturityDate":"{md}","notionalPrincipal":{notional},"nominalInterestRate":0.0,
            "dayCountConvention":"30E360"}}"#
        ));
        position(id, t, a)
    }

    /// A deposit repayable on demand.
    fn on_demand(id: &str, notional: f64, a: Attributes) -> Position {
        let t = terms(&format!(
            r#"{{"contractType":"UMP","contractID":"{id}","contractRole":"RPL",
            "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2024-01-01",
            "notionalPrincipal":{notional},"nominalInterestRate":0.0,
            "dayCountConvention":"30E360"}}"#
        ));
        position(id, t, a)
    }

    fn item(id: &str, side: BsSide, amount: f64, a: Attributes) -> Position {
        Position {
            row: 0,
            instrument: Instrument::NonInterest(NonInterestItem {
                id: id.into(),
                side,
                amount,
                currency: "EUR".into(),
            }),
            attributes: a,
        }
    }

    fn cp(c: Cp) -> Attributes {
        Attributes {
            counterparty_type: Some(c),
            ..Attributes::default()
        }
    }

    fn with(mut a: Attributes, f: impl FnOnce(&mut Attributes)) -> Attributes {
        f(&mut a);
        a
    }

    fn security(level: HqlaLevel, class: &str) -> Attributes {
        Attributes {
            hqla_level: Some(level),
            asset_class: Some(class.into()),
            ..Attributes::default()
        }
    }

    fn encumbered(mut a: Attributes, amount: f64) -> Attributes {
        a.encumbrance = Some(Encumbrance {
            amount,
            to: "repo".into(),
            until: None,
        });
        a
    }

    fn facility(kind: FacilityKind) -> Attributes {
        with(cp(Cp::NonFinancialCorporate), |a| {
            a.facility = Some(Facility {
                kind,
                committed: true,
                received: false,
            })
        })
    }

    fn deposit(c: Cp, d: DepositAttributes) -> Attributes {
        with(cp(c), |a| a.deposit = Some(d))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// Spec §6.6 as contracts.
    fn lcr_bank() -> Vec<Position> {
        let cash = terms(
            r#"{"contractType":"CSH","contractID":"CASH","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","notionalPrincipal":60}"#,
        );
        // The swap pays 18 of fixed interest in 16 days (notional 24,000 at 1.8 % over 15/360
        // of a year) and receives a floating leg at 0 %.
        let swap = terms(
            r#"{"contractType":"SWPPV","contractID":"SWAP","contractRole":"PFL",
            "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2026-01-01",
            "maturityDate":"2030-01-16","notionalPrincipal":24000,"nominalInterestRate":0.018,
            "nominalInterestRate2":0.0,"cycleAnchorDateOfInterestPayment":"2026-01-16",
            "cycleOfInterestPayment":"P1YL1","dayCountConvention":"30E360",
            "deliverySettlement":"D"}"#,
        );
        let stable = DepositAttributes {
            insured: true,
            transactional: true,
            ..DepositAttributes::default()
        };
        let operational = DepositAttributes {
            operational: true,
            ..DepositAttributes::default()
        };
        let repo = |level| {
            with(cp(Cp::CreditInstitution), |a| {
                a.collateral_hqla_level = Some(level)
            })
        };
        vec![
            position("CASH", cash, Attributes::default()),
            bullet(
                "L2A",
                "RPA",
                60.0,
                "2027-12-31",
                security(HqlaLevel::L2a, "corporate_bond"),
            ),
            bullet(
                "L2B",
                "RPA",
                40.0,
                "2028-12-31",
                security(HqlaLevel::L2b, "corporate_bond"),
            ),
            // The collateral of the repos: encumbered, so not in the stock.
            bullet(
                "GOV-REPOED",
                "RPA",
                150.0,
                "2030-12-31",
                encumbered(security(HqlaLevel::L1, "sovereign"), 150.0),
            ),
            bullet(
                "L2A-REPOED",
                "RPA",
                40.0,
                "2030-12-31",
                encumbered(security(HqlaLevel::L2a, "covered_bond"), 40.0),
            ),
            on_demand("RETAIL-STABLE", 800.0, deposit(Cp::Retail, stable)),
            on_demand(
                "RETAIL-LESS",
                200.0,
                deposit(Cp::Retail, DepositAttributes::default()),
            ),
            on_demand(
                "OPERATIONAL",
                80.0,
                deposit(Cp::NonFinancialCorporate, operational),
            ),
            on_demand(
                "NFC",
                50.0,
                deposit(Cp::NonFinancialCorporate, DepositAttributes::default()),
            ),
            bullet(
                "BANK-FUNDING",
                "RPL",
                20.0,
                "2026-01-10",
                cp(Cp::CreditInstitution),
            ),
            item(
                "FACILITY-CREDIT",
                BsSide::OffBalance,
                100.0,
                facility(FacilityKind::Credit),
            ),
            item(
                "FACILITY-LIQUIDITY",
                BsSide::OffBalance,
                20.0,
                facility(FacilityKind::Liquidity),
            ),
            bullet("REPO-L1", "RPL", 150.0, "2026-01-05", repo(HqlaLevel::L1)),
            bullet("REPO-L2A", "RPL", 40.0, "2026-01-05", repo(HqlaLevel::L2a)),
            position("SWAP", swap, cp(Cp::CreditInstitution)),
            bullet("RETAIL-LOAN", "RPA", 30.0, "2026-01-20", cp(Cp::Retail)),
            bullet(
                "NFC-LOAN",
                "RPA",
                40.0,
                "2026-01-20",
                cp(Cp::NonFinancialCorporate),
            ),
            bullet(
                "PLACEMENT",
                "RPA",
                25.0,
                "2026-01-10",
                cp(Cp::CreditInstitution),
            ),
            bullet(
                "REVERSE-L2A",
                "RPA",
                50.0,
                "2026-01-05",
                repo(HqlaLevel::L2a),
            ),
            bullet(
                "REVERSE-OTHER",
                "RPA",
                12.5,
                "2026-01-05",
                repo(HqlaLevel::None),
            ),
        ]
    }

    #[test]
    fn worked_example_6_6_through_the_engine() {
        // The specification's example computes the caps on the stock as held.
        let mut table = FactorTable::builtin(Regime::Basel);
        table.caps.unwind = false;
        let bank = lcr_bank();
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        let line = |cat: &str| {
            r.lcr
                .lines
                .iter()
                .find(|l| l.category == cat)
                .map(|l| l.weighted)
        };
        let derivatives = line("derivatives_net").unwrap_or(0.0);
        assert!(close(derivatives, 18.0), "{derivatives}");
        assert!(close(r.lcr.hqla, 100.0), "{}", r.lcr.hqla);
        assert!(close(r.lcr.outflows, 160.0), "{:#?}", r.lcr.lines);
        assert!(close(r.lcr.inflows, 80.0), "{:#?}", r.lcr.lines);
        assert!(close(r.lcr.ratio.unwrap(), 1.25), "{:?}", r.lcr.ratio);
        // The variant: 60 more placed with banks; the inflow cap binds.
        let mut bank = bank;
        bank.push(bullet(
            "PLACEMENT-2",
            "RPA",
            60.0,
            "2026-01-10",
            cp(Cp::CreditInstitution),
        ));
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(close(r.lcr.inflows, 140.0) && close(r.lcr.inflows_capped, 120.0));
        assert!(close(r.lcr.ratio.unwrap(), 2.5), "{:?}", r.lcr.ratio);
    }

    /// The same balance sheet with the unwind (LCR30.34), worked by hand: the Level 1 repo
    /// unwinds to nothing; the Level 2A repo (40) takes 40 out of Level 1 and returns 40 of
    /// Level 2A; the reverse repos (50 against Level 2A, 12.5 against other collateral) return
    /// 62.5 to Level 1 and take 50 of Level 2A. Adjusted: Level 1 82.5, Level 2A 41, Level 2B
    /// 20, so adj15 = max(20 − 15/85 × 123.5, 20 − 15/60 × 82.5, 0) = 0 and adj40 = 41 + 20 −
    /// ⅔ × 82.5 = 6: HQLA 131 − 6 = 125 and the LCR 125 / 80 = 156.25 %.
    #[test]
    fn worked_example_6_6_with_the_unwind() {
        let table = FactorTable::builtin(Regime::Basel);
        assert!(table.caps.unwind);
        let r = analyse(&lcr_bank(), &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(close(r.lcr.unwind.l1, 22.5), "{:?}", r.lcr.unwind);
        assert!(close(r.lcr.unwind.l2a, -10.0));
        assert!(close(r.lcr.hqla_before_caps, 131.0));
        assert!(close(r.lcr.hqla, 125.0), "{}", r.lcr.hqla);
        assert!(close(r.lcr.ratio.unwrap(), 1.5625));
    }

    /// Spec §6.7 as contracts.
    fn nsfr_bank() -> Vec<Position> {
        let cash = terms(
            r#"{"contractType":"CSH","contractID":"CASH","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","notionalPrincipal":50}"#,
        );
        let stable = DepositAttributes {
            insured: true,
            stable_relationship: true,
            ..DepositAttributes::default()
        };
        let loan = |c: Cp, rw: f64, class: &str| {
            with(cp(c), |a| {
                a.risk_weight = Some(rw);
                a.asset_class = Some(class.into());
            })
        };
        vec![
            item("CAPITAL", BsSide::Equity, 100.0, Attributes::default()),
            on_demand("RETAIL-STABLE", 500.0, deposit(Cp::Retail, stable)),
            on_demand(
                "RETAIL-LESS",
                300.0,
                deposit(Cp::Retail, DepositAttributes::default()),
            ),
            bullet(
                "NFC-DEPOSIT",
                "RPL",
                200.0,
                "2026-06-30",
                cp(Cp::NonFinancialCorporate),
            ),
            bullet(
                "FI-FUNDING",
                "RPL",
                50.0,
                "2026-03-31",
                cp(Cp::CreditInstitution),
            ),
            bullet(
                "SENIOR-BOND",
                "RPL",
                100.0,
                "2029-12-31",
                cp(Cp::OtherFinancial),
            ),
            position("CASH", cash, Attributes::default()),
            bullet(
                "GOV",
                "RPA",
                200.0,
                "2030-12-31",
                security(HqlaLevel::L1, "sovereign"),
            ),
            bullet(
                "CORP-L2A",
                "RPA",
                50.0,
                "2030-12-31",
                security(HqlaLevel::L2a, "corporate_bond"),
            ),
            bullet(
                "FI-LOAN",
                "RPA",
                100.0,
                "2026-03-31",
                cp(Cp::CreditInstitution),
            ),
            bullet(
                "MORTGAGE",
                "RPA",
                400.0,
                "2045-12-31",
                loan(Cp::Retail, 0.35, "residential_mortgage"),
            ),
            bullet(
                "CORP-LONG",
                "RPA",
                300.0,
                "2030-12-31",
                loan(Cp::NonFinancialCorporate, 1.0, "loan"),
            ),
            bullet(
                "CORP-SHORT",
                "RPA",
                100.0,
                "2026-06-30",
                loan(Cp::NonFinancialCorporate, 1.0, "loan"),
            ),
            item("FIXED-ASSETS", BsSide::Asset, 50.0, Attributes::default()),
            item(
                "FACILITIES",
                BsSide::OffBalance,
                200.0,
                facility(FacilityKind::Credit),
            ),
        ]
    }

    #[test]
    fn worked_example_6_7_through_the_engine() {
        let bank = nsfr_bank();
        let r = analyse(
            &bank,
            &flat(0.0),
            AS_OF,
            &FactorTable::builtin(Regime::Basel),
            &C66_BUCKETS,
        )
        .unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        assert!(close(r.nsfr.asf, 1045.0), "{:#?}", r.nsfr.lines);
        assert!(close(r.nsfr.rsf, 657.5), "{:#?}", r.nsfr.lines);
        assert!(close(r.nsfr.ratio.unwrap(), 1045.0 / 657.5));
        let eu = analyse(
            &bank,
            &flat(0.0),
            AS_OF,
            &FactorTable::builtin(Regime::Eu),
            &C66_BUCKETS,
        )
        .unwrap();
        assert!(close(eu.nsfr.rsf, 647.5) && close(eu.nsfr.ratio.unwrap(), 1045.0 / 647.5));
    }

    /// The ladder holds exactly the contracts' flows: every flow after the as-of date of every
    /// contract, in its bucket, and the balances repayable on demand apart.
    #[test]
    fn the_ladder_reconciles_with_the_contract_flows() {
        let bank = lcr_bank();
        let market = flat(0.0);
        let r = analyse(
            &bank,
            &market,
            AS_OF,
            &FactorTable::builtin(Regime::Basel),
            &C66_BUCKETS,
        )
        .unwrap();
        let table = FactorTable::builtin(Regime::Basel);
        let ctx = Context::new(AS_OF, &market, &bank, &table);
        let (mut ins, mut outs) = (0.0, 0.0);
        for p in &bank {
            for (_, x) in classify(p, &ctx).unwrap().flows {
                if x > 0.0 {
                    ins += x;
                } else {
                    outs -= x;
                }
            }
        }
        assert!(close(r.ladder.inflows.iter().sum::<f64>(), ins));
        assert!(close(r.ladder.outflows.iter().sum::<f64>(), outs));
        assert!(close(
            r.ladder.open_maturity_outflows,
            800.0 + 200.0 + 80.0 + 50.0
        ));
        // Repos of 190 and 20 of bank funding fall due in the first ten days.
        let first_ten: f64 = r.ladder.outflows[..8].iter().sum();
        assert!(first_ten >= 210.0, "{:?}", r.ladder.outflows);
    }

    /// A maturing Level 1 bond leaves the counterbalancing capacity as its cash comes in, and
    /// an encumbered one joins it when released: the liquidity position counts each once.
    #[test]
    fn maturing_and_released_hqla_move_the_capacity_not_the_position() {
        let mut pledged = encumbered(security(HqlaLevel::L1, "sovereign"), 50.0);
        if let Some(e) = pledged.encumbrance.as_mut() {
            e.until = Some(almanac_time::Date::ymd(2026, 1, 20));
        }
        let bank = vec![
            bullet(
                "BILL",
                "RPA",
                100.0,
                "2026-01-10",
                security(HqlaLevel::L1, "sovereign"),
            ),
            bullet("PLEDGED", "RPA", 50.0, "2026-12-31", pledged),
        ];
        let table = FactorTable::builtin(Regime::Basel);
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        let s = &r.survival_horizon;
        // Initially only the free bill: 100.
        assert!(close(r.lcr.hqla_before_caps, 100.0));
        let bill = 7; // > 7 days – 2 weeks: 10 January
        let release = 9; // > 3 weeks – 30 days: after the release on 20 January
        assert!(close(s.capacity[bill - 1], 100.0));
        assert!(close(s.capacity[bill], 0.0), "{:?}", s.capacity);
        assert!(close(r.ladder.inflows[bill], 100.0));
        // The position does not move when the bill's cash replaces the bill.
        assert!(close(s.position[bill], s.position[bill - 1]));
        // The pledged bond joins the capacity when released, and leaves it at maturity.
        assert!(close(s.capacity[release], 50.0), "{:?}", s.capacity);
        assert!(close(*s.capacity.last().unwrap(), 0.0), "{:?}", s.capacity);
    }

    /// Without behavioural assumptions the behavioural ladder is the contractual one, bit for
    /// bit (the issue's consistency check); a non-maturity deposit rule slots the deposits'
    /// balance by its profile instead of overnight, conserving it.
    #[test]
    fn the_behavioural_ladder_without_assumptions_is_the_contractual_one() {
        let bank = lcr_bank();
        let table = FactorTable::builtin(Regime::Basel);
        let none = crate::irrbb::Behaviour::default();
        let r = analyse_with(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS, Some(&none)).unwrap();
        assert_eq!(r.behavioural_ladder.as_ref(), Some(&r.ladder));
        assert_eq!(
            r.behavioural_survival_horizon.as_ref(),
            Some(&r.survival_horizon)
        );
        let nmd = crate::irrbb::Behaviour::from_assumptions_toml(
            r#"
[behaviour.nmd.stable]
category = "retail_transactional"
core_share = 0.8
profile = [[1.0, 0.5], [3.0, 0.5]]
select = { id_prefixes = ["RETAIL-STABLE"] }
"#,
        )
        .unwrap();
        let b = analyse_with(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS, Some(&nmd)).unwrap();
        let bl = b.behavioural_ladder.unwrap();
        let total = |l: &Ladder| l.outflows.iter().sum::<f64>() + l.open_maturity_outflows;
        assert!(
            close(total(&bl), total(&b.ladder)),
            "{} {}",
            total(&bl),
            total(&b.ladder)
        );
        assert!(close(
            bl.open_maturity_outflows,
            b.ladder.open_maturity_outflows - 800.0
        ));
        // The non-core 20 % overnight, the core 80 % half at one year (the "> 9 – 12 months"
        // bucket ends on the anniversary) and half at three ("> 2 – 5 years").
        let extra = |k: usize| bl.outflows[k] - b.ladder.outflows[k];
        assert!(close(extra(0), 160.0), "{:?}", bl.outflows);
        assert!(
            close(extra(17), 320.0) && close(extra(19), 320.0),
            "{:?}",
            bl.outflows
        );
        // The contractual view is unchanged by the assumptions.
        assert_eq!(b.ladder, r.ladder);
    }

    /// Sums are made per fixed chunk of positions and merged in order: one thread and many
    /// give the same report, to the last bit, over several chunks.
    #[test]
    fn thread_count_does_not_change_the_results() {
        let bank: Vec<Position> = (0..3 * CHUNK / 20 + 7).flat_map(|_| lcr_bank()).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                analyse(
                    &bank,
                    &flat(0.0),
                    AS_OF,
                    &FactorTable::builtin(Regime::Basel),
                    &C66_BUCKETS,
                )
                .unwrap()
            })
        };
        let (one, many) = (run(1), run(4));
        assert_eq!(format!("{one:?}"), format!("{many:?}"));
        assert!(close(one.lcr.ratio.unwrap(), 1.5625));
    }

    /// A balance sheet streamed in batches of any sizes gives the report of the whole, to the
    /// last bit (chunks are cut from the whole sequence); a repo that names its collateral by
    /// id waits for the collateral's level, which may come in a later batch.
    #[test]
    fn streaming_in_batches_gives_the_whole_report() {
        let mut bank: Vec<Position> = (0..2 * CHUNK / 20 + 3).flat_map(|_| lcr_bank()).collect();
        let table = FactorTable::builtin(Regime::Basel);
        let market = flat(0.0);
        let whole = analyse(&bank, &market, AS_OF, &table, &C66_BUCKETS).unwrap();
        for sizes in [vec![1, 5, 4096, 77], vec![10_000], vec![4095, 4097, 1]] {
            let mut run = Analysis::new(&market, AS_OF, &table, &C66_BUCKETS, None, &[]).unwrap();
            let mut rest = bank.clone();
            for size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let tail = rest.split_off((*size).min(rest.len()));
                run.add(std::mem::replace(&mut rest, tail));
            }
            let streamed = run.finish().unwrap();
            assert_eq!(format!("{whole:?}"), format!("{streamed:?}"), "{sizes:?}");
        }
        // The repo names its collateral, which comes after it in the balance sheet.
        let repo = bullet(
            "REPO-BY-ID",
            "RPL",
            100.0,
            "2026-01-10",
            with(cp(Cp::CreditInstitution), |a| {
                a.collateral = vec!["GOV-LATER".into()]
            }),
        );
        let gov = bullet(
            "GOV-LATER",
            "RPA",
            100.0,
            "2030-12-31",
            security(HqlaLevel::L1, "sovereign"),
        );
        bank = vec![repo, gov];
        let mut run = Analysis::new(&market, AS_OF, &table, &C66_BUCKETS, None, &[]).unwrap();
        run.add(vec![bank[0].clone()]);
        run.add(vec![bank[1].clone()]);
        let streamed = run.finish().unwrap();
        let whole = analyse(&bank, &market, AS_OF, &table, &C66_BUCKETS).unwrap();
        for r in [&streamed, &whole] {
            assert!(r
                .lcr
                .lines
                .iter()
                .any(|l| l.category == "secured_l1" && close(l.amount, 100.0)));
        }
    }

    /// Spec §6.8 as contracts through the engine: a capacity of 150 in cash, and in each
    /// C 66.01 bucket a zero-rate loan repaid (the inflows) and zero-rate bank funding repaid
    /// (the outflows) on the bucket's last day. The ladder holds exactly the example's rows and
    /// the bank survives to the end of "> 5 weeks – 2 months" (59 days, 2 months), 35/50 into
    /// the next bucket when interpolated (2.7 months).
    #[test]
    fn worked_example_6_8_through_the_engine() {
        let outflows = [
            40.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0, 20.0, 20.0, 25.0, 15.0, 20.0, 60.0,
        ];
        let inflows = [
            5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 5.0, 10.0, 10.0, 15.0, 5.0, 5.0, 10.0,
        ];
        let grid = Grid::new(AS_OF, &C66_BUCKETS).unwrap();
        let cash = terms(
            r#"{"contractType":"CSH","contractID":"CASH","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","notionalPrincipal":150}"#,
        );
        let mut bank = vec![position("CASH", cash, Attributes::default())];
        for k in 0..outflows.len() {
            let end = grid.ends[k].unwrap().to_string();
            if outflows[k] > 0.0 {
                bank.push(bullet(
                    &format!("OUT-{k}"),
                    "RPL",
                    outflows[k],
                    &end,
                    cp(Cp::CreditInstitution),
                ));
            }
            if inflows[k] > 0.0 {
                bank.push(bullet(
                    &format!("IN-{k}"),
                    "RPA",
                    inflows[k],
                    &end,
                    cp(Cp::Retail),
                ));
            }
        }
        let table = FactorTable::builtin(Regime::Basel);
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        for k in 0..outflows.len() {
            assert!(
                close(r.ladder.outflows[k], outflows[k]),
                "bucket {k}: {:?}",
                r.ladder
            );
            assert!(close(r.ladder.inflows[k], inflows[k]), "bucket {k}");
        }
        let h = &r.survival_horizon;
        assert!(close(h.capacity[0], 150.0));
        assert!(close(h.position[11], 35.0) && close(h.position[12], -15.0));
        assert_eq!(
            C66_BUCKETS[h.last_surviving_bucket.unwrap()].label,
            "> 5 weeks – 2 months"
        );
        // Two months: 31 December to 28 February; then 35/50 of March.
        assert_eq!(h.days, Some(59));
        assert!(close(h.interpolated_days.unwrap(), 59.0 + 0.7 * 31.0));
    }

    /// Derivatives in the NSFR (NSF30.14, 30.32), by hand on a flat 0 % curve: the §6.6
    /// payer swap pays 18 then 432 a year four times (fair value −1,746); a receiver with the
    /// same terms is worth +1,746. Netted by counterparty.
    #[test]
    fn derivatives_in_the_nsfr_net_by_counterparty() {
        let swap = |id: &str, role: &str, cp: Option<&str>| {
            let t = terms(&format!(
                r#"{{"contractType":"SWPPV","contractID":"{id}","contractRole":"{role}",
                "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2026-01-01",
                "maturityDate":"2030-01-16","notionalPrincipal":24000,"nominalInterestRate":0.018,
                "nominalInterestRate2":0.0,"cycleAnchorDateOfInterestPayment":"2026-01-16",
                "cycleOfInterestPayment":"P1YL1","dayCountConvention":"30E360",
                "deliverySettlement":"D"}}"#
            ));
            let a = Attributes {
                counterparty_id: cp.map(str::to_string),
                ..Attributes::default()
            };
            position(id, t, a)
        };
        let table = FactorTable::builtin(Regime::Basel);
        let line = |r: &Liquidity, cat: &str| {
            r.nsfr
                .lines
                .iter()
                .find(|l| l.category == cat)
                .map(|l| (l.amount, l.weighted))
                .unwrap()
        };
        // Two counterparties: 1,746 of assets and of liabilities, nothing net; 20 % of the
        // gross liabilities required.
        let bank = vec![
            swap("PAY", "PFL", Some("X")),
            swap("RECEIVE", "RFL", Some("Y")),
        ];
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(close(line(&r, "derivative_assets_net").0, 0.0));
        assert!(close(line(&r, "derivative_liabilities_net").0, 0.0));
        let (gross, weighted) = line(&r, "derivative_liabilities_gross");
        assert!(close(gross, 1746.0), "{gross}");
        assert!(close(weighted, 0.2 * 1746.0));
        assert!(close(r.nsfr.rsf, 0.2 * 1746.0));
        // A payer with Y nets Y's receiver to nothing: X's 1,746 of liabilities are net.
        let mut bank = bank;
        bank.push(swap("PAY-Y", "PFL", Some("Y")));
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(close(line(&r, "derivative_liabilities_net").0, 1746.0));
        assert!(close(line(&r, "derivative_liabilities_gross").0, 1746.0));
        // Without a counterparty a swap is its own netting set, and noted.
        bank.push(swap("ALONE", "RFL", None));
        let r = analyse(&bank, &flat(0.0), AS_OF, &table, &C66_BUCKETS).unwrap();
        assert!(close(line(&r, "derivative_assets_net").0, 0.0));
        assert!(close(line(&r, "derivative_liabilities_net").0, 0.0));
        assert!(r
            .notes
            .iter()
            .any(|n| n.positions == ["ALONE"] && n.treatment.contains("netting set")));
        // EU: 5 % of the gross liabilities (CRR Art 428s(2)).
        let eu = analyse(
            &bank,
            &flat(0.0),
            AS_OF,
            &FactorTable::builtin(Regime::Eu),
            &C66_BUCKETS,
        )
        .unwrap();
        assert!(close(
            line(&eu, "derivative_liabilities_gross").1,
            0.05 * 1746.0
        ));
    }

    /// Missing classifications get the most conservative treatment and a note naming the
    /// position.
    #[test]
    fn missing_classifications_are_reported_with_the_treatment() {
        let bank = vec![
            bullet(
                "NO-CP-FUNDING",
                "RPL",
                10.0,
                "2026-01-10",
                Attributes::default(),
            ),
            bullet(
                "NO-CP-LOAN",
                "RPA",
                10.0,
                "2026-01-10",
                Attributes::default(),
            ),
            bullet(
                "NO-RW",
                "RPA",
                10.0,
                "2030-01-10",
                cp(Cp::NonFinancialCorporate),
            ),
        ];
        let r = analyse(
            &bank,
            &flat(0.0),
            AS_OF,
            &FactorTable::builtin(Regime::Basel),
            &C66_BUCKETS,
        )
        .unwrap();
        for id in ["NO-CP-FUNDING", "NO-CP-LOAN", "NO-RW"] {
            assert!(
                r.notes.iter().any(|n| n.positions.iter().any(|p| p == id)),
                "{id}: {:?}",
                r.notes
            );
        }
        assert!(r.notes.iter().all(|n| n.count == n.positions.len()));
        let line = |cat: &str| {
            r.lcr
                .lines
                .iter()
                .find(|l| l.category == cat)
                .map(|l| l.weighted)
        };
        assert_eq!(line("unsecured_financial"), Some(10.0));
        assert_eq!(line("retail"), None);
    }
}
