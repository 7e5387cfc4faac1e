//! Automatic interest-rate options in EVE: the KAO add-on (BCBS SRP31.127–128; EU RTS
//! 2024/857 Art 13 and 17(5)).
//!
//! The caps and floors embedded in floating-rate contracts (ACTUS `lifeCap`, `lifeFloor`) and
//! the standalone caps and floors (`CAPFL`) are stripped out of EVE and valued here:
//!
//! * EVE values every such contract **without** its cap and floor (the host; a `CAPFL`
//!   contributes nothing), in every scenario;
//! * each option is valued as a strip of caplets or floorlets on the reset index (normal,
//!   Bachelier, model), on the base market at the index's implied volatility and on each
//!   scenario market at 1.25 × that volatility;
//! * per scenario `i` and currency `c`, `ΔFVAO = value(i, 1.25σ) − value(base, σ)` for each
//!   option, and `KAO_i,c = Σ_sold ΔFVAO − Σ_bought ΔFVAO` (a loss is positive);
//! * the change in EVE includes it: Basel `ΔEVE = EVE_0 − EVE_i + KAO_i`, in the engine's EU
//!   sign `delta = EVE_i − EVE_0 − KAO_i` ([`super::ScenarioValue`]).
//!
//! The option. A contract resetting to `all-in = m · index + s` (`rateMultiplier`,
//! `rateSpread`) with a life cap `C` pays `min(all-in, C) = all-in − |m| · caplet(index, K)`
//! with strike `K = (C − s)/m` (a floorlet when `m < 0`); a life floor likewise adds a
//! floorlet. Reset `i`, fixed at `τ_i` years after the as-of date (ACT/365F) on the forward
//! `F_i` the ACTUS engine projects for it (the market's `index_rate`: the simple forward over
//! the index tenor, no lag), pays on every interest payment of its period, so
//!
//! `value = |m| · Σ_i Bachelier(F_i, K, σ(τ_i)·√τ_i) · A_i`,
//! `A_i = Σ_j isc_j · base_j · DF(T_j)`,
//!
//! where `base_j` is the part of the host's interest accrual base
//! ([`almanac_actus::States::interest_accrual_base`], `∂payoff/∂rate`) accrued during period
//! `i` and paid at `T_j`. Resets fixed on or before the as-of date are at intrinsic value.
//! Holder's value, positive. An asset with a cap has **sold** it, an asset with a floor
//! **bought** it; a liability the other way round; a `CAPFL` held (`RPA`) is bought, written
//! (`RPL`) sold, and (as the ACTUS payoff `|IP_uncapped − IP_capped|` says) a collar is a cap
//! plus a floor of the same holder.
//!
//! Limits, said in the run's warnings: period caps and floors are path-dependent and are not
//! valued (the contract stays at intrinsic in its host); contracts other than PAM, LAM, NAM
//! and ANN (and `CAPFL` on one of them) stay at intrinsic. The annuity `A_i` is the host's:
//! an annuity whose capped rate would change its instalments is valued on the host's
//! schedule (the second-order effect of the cap on the principal is not in the option).

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeMap, HashMap, HashSet};

use almanac_actus::{
    ContractEvent, ContractRole, ContractTerms, ContractType, EventHead, EventSink, EventType,
    ReferenceObject, ReferenceRole, States,
};
use almanac_market::{MarketSnapshot, Volatility};
use almanac_time::{Date, DateTime};
use rayon::prelude::*;

use super::assumptions::{Behaviour, Treatment};
use super::engine::DayDiscount;
use super::engine::{
    evaluate_on_each, evaluate_on_each_into, Analysis, ExplainedFlow, HolderValues, ScenarioMarket,
    View,
};
use super::run::EveError;

/// The volatility multiplier of the shocked scenarios (SRP31.127).
pub const VOL_MULTIPLIER: f64 = 1.25;

/// How automatic interest-rate options enter EVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutomaticOptions {
    /// SRP31.127–128: contracts valued without their caps and floors, which are valued with
    /// volatility (× 1.25 in the scenarios) and enter ΔEVE as the KAO add-on.
    #[default]
    Kao,
    /// Caps and floors applied to the projected rates inside the flows (intrinsic value, no
    /// volatility, no add-on).
    Intrinsic,
}

impl AutomaticOptions {
    /// `kao` or `intrinsic`.
    pub fn code(self) -> &'static str {
        match self {
            AutomaticOptions::Kao => "kao",
            AutomaticOptions::Intrinsic => "intrinsic",
        }
    }
}

impl std::str::FromStr for AutomaticOptions {
    type Err = String;
    fn from_str(s: &str) -> Result<AutomaticOptions, String> {
        match s.to_ascii_lowercase().as_str() {
            "kao" => Ok(AutomaticOptions::Kao),
            "intrinsic" => Ok(AutomaticOptions::Intrinsic),
            other => Err(format!("{other:?}: expected kao or intrinsic")),
        }
    }
}

/// A cap or a floor (on an index: a caplet or floorlet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// Pays `max(rate − strike, 0)`.
    Cap,
    /// Pays `max(strike − rate, 0)`.
    Floor,
}

impl OptionKind {
    fn flip(self) -> OptionKind {
        match self {
            OptionKind::Cap => OptionKind::Floor,
            OptionKind::Floor => OptionKind::Cap,
        }
    }
}

/// Which side of an option the bank is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The bank wrote it (a cap on a loan it holds, a floor on a deposit it took).
    Sold,
    /// The bank holds it.
    Bought,
}

/// The standard normal distribution function, to about 1e-15 relative in its tails:
/// through `erfc` (musl's, by the `libm` crate: rational approximations within an ulp), on
/// the side where it is not a difference of nearly equal numbers.
pub fn normal_cdf(d: f64) -> f64 {
    let x = d / std::f64::consts::SQRT_2;
    if x < 0.0 {
        0.5 * libm::erfc(-x)
    } else {
        1.0 - 0.5 * libm::erfc(x)
    }
}

/// The standard normal density.
pub fn normal_pdf(d: f64) -> f64 {
    (-0.5 * d * d).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Undiscounted Bachelier (normal model) price of a caplet or floorlet on a forward `f` with
/// strike `k` (both decimals per year) and standard deviation `sd = σ·√τ` (same units, `τ`
/// in years): a rate, per unit of notional × year fraction; intrinsic when `sd` is 0.
pub fn bachelier(kind: OptionKind, f: f64, k: f64, sd: f64) -> f64 {
    let x = match kind {
        OptionKind::Cap => f - k,
        OptionKind::Floor => k - f,
    };
    if sd.is_nan() || sd <= 0.0 {
        return x.max(0.0);
    }
    let d = x / sd;
    x * normal_cdf(d) + sd * normal_pdf(d)
}

/// A cap or floor at `limit` on the all-in rate `m · index + s`, per unit of accrual base:
/// `|m|` options on the index at strike `(limit − s)/m` (a cap turns into a floor when
/// `m < 0`); with `m = 0` the all-in rate is `s` and the option its intrinsic value.
pub fn all_in_option(kind: OptionKind, limit: f64, m: f64, s: f64, f: f64, sd: f64) -> f64 {
    if m == 0.0 {
        return bachelier(kind, s, limit, 0.0);
    }
    let strike = (limit - s) / m;
    let kind = if m > 0.0 { kind } else { kind.flip() };
    m.abs() * bachelier(kind, f, strike, sd)
}

/// One reset period of a host on one market: its forward, its expiry and its annuity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    /// The projected index rate, decimal per year on the index's day count (the fixing when
    /// on or before the as-of date).
    pub forward: f64,
    /// Years from the as-of date to the reset (ACT/365F); not positive when fixed.
    pub expiry: f64,
    /// `Σ isc · base · DF` over the interest payments of the period after the as-of date, in
    /// the contract currency × years (the base is notional × year fraction on the contract's
    /// day count), signed like the notional.
    pub annuity: f64,
}

/// The reset periods of a host from its events on `market` (see the module documentation),
/// with `df` the discount factor of a payment date. Payments after `until` (a `CAPFL`'s
/// termination) do not count.
pub fn periods(
    events: &[ContractEvent],
    code: &str,
    market: &MarketSnapshot,
    as_of: DateTime,
    until: Option<DateTime>,
    df: &mut impl FnMut(Date) -> f64,
) -> Result<Vec<Period>, String> {
    let mut fold = PeriodFold::new(code, market, as_of, until);
    for e in events {
        fold.push(e.head(), &e.states, df);
    }
    fold.finish()
}

/// [`periods`] event by event, as a contract's events are produced.
struct PeriodFold<'a> {
    code: &'a str,
    market: &'a MarketSnapshot,
    as_of: DateTime,
    until: Option<DateTime>,
    out: Vec<Period>,
    /// The period the events are in (none before the first reset, or after a reset to a rate
    /// given in the terms).
    current: Option<usize>,
    /// Accrual base accrued and not yet paid, by period.
    unpaid: Vec<(usize, f64)>,
    /// The accrual base after the previous event, zero after a payment.
    previous: Option<f64>,
    /// Why the first reset that could not be projected could not.
    error: Option<String>,
}

impl<'a> PeriodFold<'a> {
    fn new(
        code: &'a str,
        market: &'a MarketSnapshot,
        as_of: DateTime,
        until: Option<DateTime>,
    ) -> PeriodFold<'a> {
        PeriodFold {
            code,
            market,
            as_of,
            until,
            out: Vec::new(),
            current: None,
            unpaid: Vec::new(),
            previous: None,
            error: None,
        }
    }

    /// Starts over.
    fn clear(&mut self) {
        self.out.clear();
        self.current = None;
        self.unpaid.clear();
        self.previous = None;
        self.error = None;
    }

    /// The next event and the states after it; a child's events do not count.
    fn push(&mut self, e: EventHead, states: &States, df: &mut impl FnMut(Date) -> f64) {
        if e.child != 0 || self.error.is_some() {
            return;
        }
        let base = states.interest_accrual_base;
        if let (Some(p), Some(prev)) = (self.current, self.previous) {
            let x = base - prev;
            if x != 0.0 {
                match self.unpaid.last_mut() {
                    Some(last) if last.0 == p => last.1 += x,
                    _ => self.unpaid.push((p, x)),
                }
            }
        }
        match e.event_type {
            EventType::Ip | EventType::Ipci | EventType::Td => {
                let counts =
                    e.event_time > self.as_of && self.until.is_none_or(|u| e.event_time <= u);
                if counts {
                    let df = df(e.event_time.date());
                    let isc = states.interest_scaling_multiplier;
                    for &(p, x) in &self.unpaid {
                        self.out[p].annuity += isc * x * df;
                    }
                }
                self.unpaid.clear();
            }
            EventType::Md => self.unpaid.clear(),
            EventType::Rr => {
                let date = e.schedule_time.date();
                match self.market.index_rate(self.code, date) {
                    Ok(forward) => {
                        self.out.push(Period {
                            forward,
                            expiry: f64::from(self.as_of.date().days_until(date)) / 365.0,
                            annuity: 0.0,
                        });
                        self.current = Some(self.out.len() - 1);
                    }
                    Err(err) => {
                        self.error = Some(format!("reset on {date}: {err}"));
                        return;
                    }
                }
            }
            // A reset to a rate given in the terms: no option on it.
            EventType::Rrf => self.current = None,
            _ => {}
        }
        self.previous = Some(
            if matches!(
                e.event_type,
                EventType::Ip | EventType::Ipci | EventType::Td | EventType::Md
            ) {
                0.0
            } else {
                base
            },
        );
    }

    /// The periods, or why a reset could not be projected.
    fn finish(self) -> Result<Vec<Period>, String> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

/// The reset periods of a contract with a life cap or floor on one market, folded from its
/// own events as they are produced (an [`EventSink`]), when no limit bound at any of its resets
/// there — no reset rate at or beyond a limit —, so that its host's events are these very
/// events (see [`UnboundPeriods::finish`]). `D` gives the discount factor of a payment date
/// on that market.
pub(super) struct UnboundPeriods<'a, D> {
    /// `None` for a contract without a reset index or a discount table.
    fold: Option<PeriodFold<'a>>,
    df: Option<D>,
    cap: Option<f64>,
    floor: Option<f64>,
    /// Whether a reset rate reached a limit.
    bound: bool,
}

impl<'a, D: FnMut(Date) -> f64> UnboundPeriods<'a, D> {
    /// For holder `t` on `market`; `df` is `None` when its currency has no discount table
    /// there (then there are no periods).
    pub(super) fn new(
        t: &'a ContractTerms,
        market: &'a MarketSnapshot,
        as_of: DateTime,
        df: Option<D>,
    ) -> UnboundPeriods<'a, D> {
        UnboundPeriods {
            fold: t
                .market_object_code_of_rate_reset
                .as_deref()
                .filter(|_| df.is_some())
                .map(|code| PeriodFold::new(code, market, as_of, None)),
            df,
            cap: t.life_cap,
            floor: t.life_floor,
            bound: false,
        }
    }

    /// The periods (see [`periods`]) when no limit bound at any reset; `None` when one did,
    /// when a reset could not be projected, or when the contract has no reset index or
    /// discount table.
    pub(super) fn finish(self) -> Option<Vec<Period>> {
        if self.bound {
            return None;
        }
        self.fold?.finish().ok()
    }
}

impl<D: FnMut(Date) -> f64> EventSink for UnboundPeriods<'_, D> {
    fn begin(&mut self) {
        self.bound = false;
        if let Some(f) = &mut self.fold {
            f.clear();
        }
    }

    #[inline]
    fn event(&mut self, head: EventHead, _payoff: f64, states: &States) {
        let (Some(fold), Some(df)) = (&mut self.fold, &mut self.df) else {
            return;
        };
        if self.bound {
            return;
        }
        if matches!(head.event_type, EventType::Rr | EventType::Rrf) {
            let r = states.nominal_interest_rate;
            if self.cap.is_some_and(|c| r >= c) || self.floor.is_some_and(|f| r <= f) {
                self.bound = true;
                return;
            }
        }
        fold.push(head, states, df);
    }
}

/// [`UnboundPeriods`] from a list of events.
#[cfg(test)]
pub(super) fn unbound_periods(
    t: &ContractTerms,
    events: &[ContractEvent],
    market: &MarketSnapshot,
    as_of: DateTime,
    df: impl FnMut(Date) -> f64,
) -> Option<Vec<Period>> {
    let mut sink = UnboundPeriods::new(t, market, as_of, Some(df));
    sink.begin();
    for e in events {
        sink.event(e.head(), e.payoff, &e.states);
    }
    sink.finish()
}

/// The holder's value of a cap or floor at `limit` on the all-in rate of a host with periods
/// `periods`, at volatility `vol × scale`; `role` is the host's role sign.
#[allow(clippy::too_many_arguments)]
pub fn strip_value(
    periods: &[Period],
    kind: OptionKind,
    limit: f64,
    multiplier: f64,
    spread: f64,
    vol: &Volatility,
    scale: f64,
    role: f64,
) -> f64 {
    periods
        .iter()
        .filter(|p| p.annuity != 0.0)
        .map(|p| {
            let sd = if p.expiry > 0.0 {
                vol.at(p.expiry) * scale * p.expiry.sqrt()
            } else {
                0.0
            };
            all_in_option(kind, limit, multiplier, spread, p.forward, sd) * p.annuity * role
        })
        .sum()
}

/// One option of a contract.
#[derive(Debug, Clone, Copy)]
struct Embedded {
    kind: OptionKind,
    side: Side,
    limit: f64,
}

/// A contract with automatic options, to value.
struct Holder<'a> {
    /// The contract's terms: borrowed from the portfolio, or owned when the portfolio is
    /// streamed (its batches are dropped before the options are valued).
    terms: Cow<'a, ContractTerms>,
    /// A CAPFL's underlying, on whose resets its options are written; `None` for options
    /// embedded in the contract itself (see [`Holder::underlying`]).
    /// Boxed: rare, and 1.5 KB inline in every holder otherwise.
    capfl_underlying: Option<Box<Cow<'a, ContractTerms>>>,
    /// A standalone cap or floor: the whole contract is the option.
    standalone: bool,
    options: Vec<Embedded>,
    currency: String,
    index: String,
}

impl Holder<'_> {
    /// The contract on whose resets the options are written: the contract itself, or a
    /// CAPFL's underlying. Valued without caps or floors (and a CAPFL's as an asset): the
    /// host, built when valued.
    fn underlying(&self) -> &ContractTerms {
        self.capfl_underlying.as_deref().map_or(&self.terms, |u| u)
    }

    /// The holder with its terms owned (one copy of a contract with embedded options).
    fn into_owned(self) -> Holder<'static> {
        Holder {
            terms: Cow::Owned(self.terms.into_owned()),
            capfl_underlying: self
                .capfl_underlying
                .map(|u| Box::new(Cow::Owned((*u).into_owned()))),
            standalone: self.standalone,
            options: self.options,
            currency: self.currency,
            index: self.index,
        }
    }
}

/// The option report of a run ([`Analysis::automatic_options`]).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct KaoReport {
    /// `kao` or `intrinsic`.
    pub method: &'static str,
    /// The volatility multiplier of the shocked scenarios.
    pub vol_multiplier: f64,
    /// Contracts whose options were valued (KAO) or that carry caps or floors (intrinsic).
    pub contracts_with_options: usize,
    /// Per currency and scenario (base included): the option values and KAO.
    pub by_currency: BTreeMap<String, BTreeMap<String, KaoScenario>>,
    /// Per option (with `per_contract`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contracts: Vec<OptionValues>,
}

/// One currency and scenario of the KAO.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct KaoScenario {
    /// `Σ_sold ΔFVAO − Σ_bought ΔFVAO` in the currency, as of the valuation date (a loss
    /// positive; 0 for the base).
    pub kao: f64,
    /// Holder's value of the options the bank sold (base: at σ; scenarios: at 1.25 σ).
    pub sold_value: f64,
    /// Holder's value of the options the bank bought.
    pub bought_value: f64,
    /// `Σ_sold ΔFVAO`: change of `sold_value` from the base.
    pub sold_delta: f64,
    /// `Σ_bought ΔFVAO`.
    pub bought_delta: f64,
}

/// One option of one contract.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OptionValues {
    /// Contract id.
    pub contract_id: String,
    /// Currency.
    pub currency: String,
    /// Reset index.
    pub index: String,
    /// cap or floor.
    pub option: OptionKind,
    /// sold or bought (by the bank).
    pub side: Side,
    /// The cap or floor on the all-in rate, decimal per year.
    pub strike: f64,
    /// Holder's value by scenario in the contract currency, as of the valuation date (base at
    /// σ, scenarios at 1.25 σ).
    pub value: BTreeMap<String, f64>,
}

/// What a run does with its automatic options: found before the run (so a missing
/// volatility stops it at once), applied to its result after.
pub(super) struct Plan<'a> {
    mode: AutomaticOptions,
    /// Boxed: a holder with its terms owned is some 1.6 KB, which a growing vector would
    /// copy again and again.
    #[allow(clippy::vec_box)]
    holders: Vec<Box<Holder<'a>>>,
    /// The portfolio index of each holder.
    indices: Vec<usize>,
    /// Contracts with caps or floors left at intrinsic value, with the reason.
    intrinsic: Vec<(String, &'static str)>,
}

fn is_amortizing(t: &ContractTerms) -> bool {
    matches!(
        t.contract_type,
        Some(ContractType::Pam | ContractType::Lam | ContractType::Nam | ContractType::Ann)
    )
}

fn has_limits(t: &ContractTerms) -> bool {
    t.life_cap.is_some()
        || t.life_floor.is_some()
        || t.period_cap.is_some()
        || t.period_floor.is_some()
}

/// The host and options of a contract with caps or floors, or why it stays at intrinsic.
fn holder(t: &ContractTerms) -> Result<Option<Holder<'_>>, &'static str> {
    let standalone = t.contract_type == Some(ContractType::Capfl);
    let underlying = if standalone {
        let u = t.contract_structure.iter().find_map(|r| match &r.object {
            ReferenceObject::Contract(c) if r.reference_role == ReferenceRole::Underlying => {
                Some(&**c)
            }
            _ => None,
        });
        match u {
            Some(u) => u,
            None => return Err("a CAPFL without an underlying contract in its terms"),
        }
    } else {
        t
    };
    if !is_amortizing(underlying) {
        return Err(if standalone {
            "a CAPFL on an underlying other than PAM, LAM, NAM or ANN"
        } else {
            "caps and floors are valued on PAM, LAM, NAM and ANN contracts only"
        });
    }
    if underlying.period_cap.is_some() || underlying.period_floor.is_some() {
        return Err("period caps and floors are path-dependent and not valued");
    }
    if standalone && (underlying.life_cap.is_some() || underlying.life_floor.is_some()) {
        return Err("a CAPFL on an underlying with caps or floors of its own");
    }
    let Some(index) = underlying.market_object_code_of_rate_reset.clone() else {
        // No reset from an index: the limits never bind.
        return Ok(None);
    };
    if let (Some(c), Some(f)) = (t.life_cap, t.life_floor) {
        if f > c {
            return Err("a life floor above the life cap");
        }
    }
    // The bank's side: a CAPFL by its role (held or written); an embedded cap is sold on an
    // asset and bought on a liability, a floor the other way round.
    let sign = t.contract_role.map_or(1.0, ContractRole::sign);
    let (cap_side, floor_side) = match (standalone, sign > 0.0) {
        (true, true) => (Side::Bought, Side::Bought),
        (true, false) => (Side::Sold, Side::Sold),
        (false, true) => (Side::Sold, Side::Bought),
        (false, false) => (Side::Bought, Side::Sold),
    };
    let mut options = Vec::new();
    if let Some(c) = t.life_cap {
        options.push(Embedded {
            kind: OptionKind::Cap,
            side: cap_side,
            limit: c,
        });
    }
    if let Some(f) = t.life_floor {
        options.push(Embedded {
            kind: OptionKind::Floor,
            side: floor_side,
            limit: f,
        });
    }
    let currency = t
        .currency
        .clone()
        .or_else(|| underlying.currency.clone())
        .unwrap_or_default();
    Ok(Some(Holder {
        terms: Cow::Borrowed(t),
        capfl_underlying: standalone.then(|| Box::new(Cow::Borrowed(underlying))),
        standalone,
        options,
        currency,
        index,
    }))
}

/// Finds the contracts with automatic options among `contracts` (the portfolio's from index
/// `offset` on): each holder, or why its options stay at intrinsic value, handed to `found`
/// with its portfolio index. With [`AutomaticOptions::Kao`], every one that is valued needs a
/// volatility of its index in `base`; its absence is an error that names the contract, the
/// index and the way out.
fn scan<'c, C: Borrow<ContractTerms>>(
    contracts: &'c [C],
    offset: usize,
    base: &MarketSnapshot,
    mode: AutomaticOptions,
    mut found: impl FnMut(usize, Result<Holder<'c>, (String, &'static str)>),
) -> Result<(), EveError> {
    for (k, t) in contracts.iter().enumerate() {
        if let Some(h) = scan_one(t.borrow(), base, mode)? {
            found(offset + k, h);
        }
    }
    Ok(())
}

/// [`scan`] of one contract: `None` when it has no automatic options.
#[allow(clippy::type_complexity)]
fn scan_one<'c>(
    t: &'c ContractTerms,
    base: &MarketSnapshot,
    mode: AutomaticOptions,
) -> Result<Option<Result<Holder<'c>, (String, &'static str)>>, EveError> {
    // The hot path: two option checks per contract.
    if !has_limits(t) && t.contract_type != Some(ContractType::Capfl) {
        return Ok(None);
    }
    if mode == AutomaticOptions::Intrinsic {
        return Ok(Some(Err((
            t.id().to_string(),
            "--automatic-options intrinsic",
        ))));
    }
    match holder(t) {
        Ok(Some(h)) => {
            if base.volatility(&h.index).is_none() {
                return Err(EveError::AutomaticOptions(format!(
                    "contract {} has a life cap or floor on index {}, but the market has \
                     no volatility for {}: add a [[volatility]] entry for it to the \
                     market (index = \"{}\", model = \"normal\", vol = …; \
                     docs/market-data.md) or run with --automatic-options intrinsic",
                    t.id(),
                    h.index,
                    h.index,
                    h.index
                )));
            }
            Ok(Some(Ok(h)))
        }
        Ok(None) => Ok(None),
        Err(why) => Ok(Some(Err((t.id().to_string(), why)))),
    }
}

/// What the engine found of the automatic options of a streamed portfolio's contracts, on
/// the worker that valued them (their terms at hand there, and only there): the holders with
/// their terms copied, and the contracts left at intrinsic value, in portfolio order; added
/// to the plan with [`Plan::take_found`].
#[derive(Default)]
pub(super) struct Found {
    /// Each holder with its portfolio index. Boxed: see [`Plan::holders`].
    #[allow(clippy::vec_box)]
    holders: Vec<(usize, Box<Holder<'static>>)>,
    intrinsic: Vec<(String, &'static str)>,
}

impl Found {
    /// Looks for automatic options in the contract at portfolio `index` ([`scan`]); returns
    /// whether its options are valued (it is a holder).
    pub(super) fn look(
        &mut self,
        t: &ContractTerms,
        index: usize,
        base: &MarketSnapshot,
        mode: AutomaticOptions,
    ) -> Result<bool, EveError> {
        match scan_one(t, base, mode)? {
            Some(Ok(h)) => {
                self.holders.push((index, Box::new(h.into_owned())));
                Ok(true)
            }
            Some(Err(e)) => {
                self.intrinsic.push(e);
                Ok(false)
            }
            None => Ok(false),
        }
    }

    /// Empties it for the next chunk.
    pub(super) fn clear(&mut self) {
        self.holders.clear();
        self.intrinsic.clear();
    }
}

impl<'a> Plan<'a> {
    /// Finds the contracts with automatic options. With [`AutomaticOptions::Kao`], every one
    /// that is valued needs a volatility of its index in `base`; its absence is an error that
    /// names the contract, the index and the way out.
    pub(super) fn new<C: Borrow<ContractTerms>>(
        contracts: &'a [C],
        base: &MarketSnapshot,
        mode: AutomaticOptions,
    ) -> Result<Plan<'a>, EveError> {
        let mut plan = Plan::empty(mode);
        plan.add(contracts, 0, base)?;
        Ok(plan)
    }

    /// A plan with no contracts yet.
    pub(super) fn empty(mode: AutomaticOptions) -> Plan<'a> {
        Plan {
            mode,
            holders: Vec::new(),
            indices: Vec::new(),
            intrinsic: Vec::new(),
        }
    }

    /// Adds the contracts with automatic options among `contracts`, the portfolio's from
    /// index `offset` on, borrowing their terms.
    pub(super) fn add<C: Borrow<ContractTerms>>(
        &mut self,
        contracts: &'a [C],
        offset: usize,
        base: &MarketSnapshot,
    ) -> Result<(), EveError> {
        scan(contracts, offset, base, self.mode, |index, h| match h {
            Ok(h) => {
                self.holders.push(Box::new(h));
                self.indices.push(index);
            }
            Err(e) => self.intrinsic.push(e),
        })
    }

    /// Adds what the engine found in a chunk of a streamed portfolio (chunks taken in
    /// portfolio order), emptying `found`.
    pub(super) fn take_found(&mut self, found: &mut Found) {
        for (index, h) in found.holders.drain(..) {
            self.holders.push(h);
            self.indices.push(index);
        }
        self.intrinsic.append(&mut found.intrinsic);
    }

    /// How the options are valued.
    pub(super) fn mode(&self) -> AutomaticOptions {
        self.mode
    }

    /// The portfolio indices of the contracts whose options are valued, ascending: the
    /// engine hands back their values by market (see [`Plan::apply`]).
    pub(super) fn holder_indices(&self) -> Vec<usize> {
        self.indices.clone()
    }

    /// Values the options on every market and applies them to `out`: hosts in place of the
    /// contracts in EVE (both views, per contract), KAO in every scenario's change (both
    /// methods), the report in [`Analysis::automatic_options`], the limits in the warnings.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply(
        &self,
        out: &mut Analysis,
        markets: &[ScenarioMarket],
        discount: &DayDiscount<'_>,
        as_of: DateTime,
        behaviour: Option<&Behaviour>,
        per_contract: bool,
        engine_values: &[HolderValues],
    ) {
        self.warn(out);
        if self.holders.is_empty() {
            if !self.intrinsic.is_empty() {
                out.automatic_options = Some(KaoReport {
                    method: self.mode.code(),
                    vol_multiplier: VOL_MULTIPLIER,
                    contracts_with_options: match self.mode {
                        AutomaticOptions::Intrinsic => self.intrinsic.len(),
                        AutomaticOptions::Kao => 0,
                    },
                    ..KaoReport::default()
                });
            }
            return;
        }
        let failed: HashSet<&str> = out.failed.iter().map(|f| f.0.as_str()).collect();
        // The contract's own values by market, as the engine found them (contractual view,
        // margins kept): else evaluated here.
        let own: HashMap<usize, &HolderValues> =
            engine_values.iter().map(|v| (v.index, v)).collect();
        let results: Vec<Option<Result<Valued, String>>> = self
            .holders
            .par_iter()
            .zip(&self.indices)
            .map_init(EventBuffers::default, |buffers, (h, i)| {
                (!failed.contains(h.terms.id()))
                    .then(|| value(h, markets, discount, as_of, own.get(i).copied(), buffers))
            })
            .collect();
        let names: Vec<String> = out.scenario_names.to_vec();
        let nm = names.len();
        // Per currency: Δ of EVE (host − contract) by market, per view; option sums.
        let mut host_delta: [BTreeMap<String, Vec<f64>>; 2] = Default::default();
        let mut sums: BTreeMap<String, Vec<KaoScenario>> = BTreeMap::new();
        let mut per_holder: Vec<Option<&Valued>> = Vec::with_capacity(self.holders.len());
        let mut report_contracts = Vec::new();
        let mut not_valued = Vec::new();
        for (h, r) in self.holders.iter().zip(&results) {
            let v = match r {
                None => {
                    per_holder.push(None);
                    continue;
                }
                Some(Err(e)) => {
                    not_valued.push(format!("{}: {e}", h.terms.id()));
                    per_holder.push(None);
                    continue;
                }
                Some(Ok(v)) => v,
            };
            per_holder.push(Some(v));
            let behavioural_too =
                behaviour.is_none_or(|b| b.treatment(&h.terms) == Treatment::Contractual);
            for (view, on) in [(0, true), (1, behavioural_too)] {
                if on {
                    let d = host_delta[view]
                        .entry(h.currency.clone())
                        .or_insert_with(|| vec![0.0; nm]);
                    d.iter_mut().zip(&v.delta).for_each(|(a, b)| *a += b);
                }
            }
            let s = sums
                .entry(h.currency.clone())
                .or_insert_with(|| vec![KaoScenario::default(); nm]);
            for (o, values) in h.options.iter().zip(&v.values) {
                for k in 0..nm {
                    let change = values[k] - values[0];
                    match o.side {
                        Side::Sold => {
                            s[k].sold_value += values[k];
                            s[k].sold_delta += change;
                        }
                        Side::Bought => {
                            s[k].bought_value += values[k];
                            s[k].bought_delta += change;
                        }
                    }
                }
                if per_contract {
                    report_contracts.push(OptionValues {
                        contract_id: h.terms.id().to_string(),
                        currency: h.currency.clone(),
                        index: h.index.clone(),
                        option: o.kind,
                        side: o.side,
                        strike: o.limit,
                        value: names.iter().cloned().zip(values.iter().copied()).collect(),
                    });
                }
            }
        }
        for s in sums.values_mut() {
            for x in s.iter_mut() {
                x.kao = x.sold_delta - x.bought_delta;
            }
        }
        if !not_valued.is_empty() {
            out.warnings.push(format!(
                "{} contracts with automatic options could not be valued as such and stay at \
                 intrinsic value in EVE: {}",
                not_valued.len(),
                not_valued.join("; ")
            ));
        }
        let kao = |ccy: &str, k: usize| sums.get(ccy).map_or(0.0, |s| s[k].kao);
        adjust(&mut out.contractual, &names, &host_delta[0], &kao);
        if let Some(b) = out.behavioural.as_mut() {
            adjust(b, &names, &host_delta[1], &kao);
        }
        // The drill-down of an explained holder: one more line, the host minus the contract
        // (the caps' and floors' effect on its flows, taken out of EVE), so its flows still
        // add up to the value reported for it.
        for e in out.explained.iter_mut() {
            let found = self
                .holders
                .iter()
                .zip(&per_holder)
                .find(|(h, _)| h.terms.id() == e.contract_id);
            let (Some((h, Some(v))), Some(k)) =
                (found, names.iter().position(|n| *n == e.scenario))
            else {
                continue;
            };
            let behavioural_too =
                behaviour.is_none_or(|b| b.treatment(&h.terms) == Treatment::Contractual);
            if e.view == "behavioural" && !behavioural_too {
                continue;
            }
            e.flows.push(ExplainedFlow {
                date: as_of.date().to_string(),
                day: 0,
                kind: "automatic_options_removed",
                currency: h.currency.clone(),
                amount: v.delta[k],
                margin: 0.0,
                discount_factor: 1.0,
                pv: v.delta[k],
                bucket: super::buckets::BCBS_BUCKETS[0].label,
            });
            e.pv += v.delta[k];
        }
        // Per contract: the host's value in place of the contract's.
        if !out.contracts.is_empty() {
            let nv = usize::from(out.behavioural.is_some());
            let mut next = self
                .holders
                .iter()
                .zip(&per_holder)
                .filter_map(|(h, v)| v.map(|v| (h, v)))
                .peekable();
            for i in 0..out.contracts.len() {
                let Some((h, v)) = next.peek() else { break };
                if out.contracts.id(i) != h.terms.id() {
                    continue;
                }
                let behavioural_too =
                    behaviour.is_none_or(|b| b.treatment(&h.terms) == Treatment::Contractual);
                let (pv, contractual) = out.contracts.values_mut(i);
                if nv == 0 || behavioural_too {
                    pv.iter_mut().zip(&v.delta).for_each(|(a, b)| *a += b);
                }
                if let Some(c) = contractual {
                    c.iter_mut().zip(&v.delta).for_each(|(a, b)| *a += b);
                }
                next.next();
            }
        }
        out.automatic_options = Some(KaoReport {
            method: self.mode.code(),
            vol_multiplier: VOL_MULTIPLIER,
            contracts_with_options: per_holder.iter().filter(|v| v.is_some()).count(),
            by_currency: sums
                .into_iter()
                .map(|(c, s)| (c, names.iter().cloned().zip(s).collect()))
                .collect(),
            contracts: report_contracts,
        });
    }

    /// The warnings: options at intrinsic value, and why.
    fn warn(&self, out: &mut Analysis) {
        if self.intrinsic.is_empty() {
            return;
        }
        if self.mode == AutomaticOptions::Intrinsic {
            out.warnings.push(format!(
                "automatic options at intrinsic value: the caps and floors of {} contracts are \
                 applied to the projected rates in their flows, without volatility and without \
                 the KAO add-on (SRP31.127–128; --automatic-options kao values them)",
                self.intrinsic.len()
            ));
            return;
        }
        let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (id, why) in &self.intrinsic {
            by_reason.entry(why).or_default().push(id);
        }
        for (why, ids) in by_reason {
            let shown: Vec<&str> = ids.iter().take(10).copied().collect();
            let more = if ids.len() > 10 {
                format!(" and {} more", ids.len() - 10)
            } else {
                String::new()
            };
            out.warnings.push(format!(
                "automatic options of {} contracts valued at intrinsic value (left in the \
                 host, no KAO) — {why}: {}{more}",
                ids.len(),
                shown.join(", ")
            ));
        }
    }
}

/// One holder valued on every market.
struct Valued {
    /// EVE of the host minus that of the contract, by market (contract currency).
    delta: Vec<f64>,
    /// `[option][market]` holder's values (base at σ, the others at 1.25 σ).
    values: Vec<Vec<f64>>,
}

/// Event lists of a holder's own contract by market, for when the engine did not value it,
/// kept between holders (a 30-year monthly mortgage has some 70 KB of events per market).
#[derive(Default)]
struct EventBuffers {
    own: Vec<Vec<ContractEvent>>,
}

/// A host's value on one market (its payoffs after the as-of date discounted by `df`, summed
/// in event order as [`present_value`] sums them) and its reset periods ([`periods`]), folded
/// from its events as they are produced instead of from a list of them.
struct HostFold<'a, D> {
    as_of: DateTime,
    pv: f64,
    fold: PeriodFold<'a>,
    df: D,
}

impl<D: FnMut(Date) -> f64> EventSink for HostFold<'_, D> {
    fn begin(&mut self) {
        // The start of a float sum, as `Iterator::sum` has it.
        self.pv = std::iter::empty::<f64>().sum();
        self.fold.clear();
    }

    #[inline]
    fn event(&mut self, head: EventHead, payoff: f64, states: &States) {
        if head.event_time > self.as_of && payoff != 0.0 {
            self.pv += payoff * (self.df)(head.event_time.date());
        }
        self.fold.push(head, states, &mut self.df);
    }
}

/// One holder valued on every market. `engine`: what the engine found of it (its own values
/// and, on the markets where no limit bound, its reset periods); the host is evaluated only on
/// the other markets (all of them for a standalone option or without the engine's values).
fn value(
    h: &Holder<'_>,
    markets: &[ScenarioMarket],
    discount: &DayDiscount<'_>,
    as_of: DateTime,
    engine: Option<&HolderValues>,
    buffers: &mut EventBuffers,
) -> Result<Valued, String> {
    let nm = markets.len();
    let engine = engine.filter(|e| e.pv.len() == nm && e.periods.len() == nm);
    let own = engine.map(|e| e.pv.as_slice());
    let known = |k: usize| -> Option<&Vec<Period>> {
        if h.standalone {
            return None;
        }
        engine.and_then(|e| e.periods[k].as_ref())
    };
    let need: Vec<usize> = (0..nm).filter(|&k| known(k).is_none()).collect();
    let mut host: ContractTerms = h.underlying().clone();
    host.life_cap = None;
    host.life_floor = None;
    if h.standalone {
        host.contract_role = Some(ContractRole::Rpa);
    }
    let host = &host;
    let until = if h.standalone {
        h.terms.termination_date
    } else {
        None
    };
    // The host's value and reset periods on each market in `need`, folded from its events as
    // they are produced (the engine's discount factors by day: the curve's, day by day).
    let on_need = || need.iter().map(|&k| &markets[k].market);
    let mut folds = Vec::with_capacity(need.len());
    for &k in &need {
        let table = discount
            .table(k, &h.currency)
            .ok_or_else(|| format!("no discount curve for currency {:?}", h.currency))?;
        folds.push(HostFold {
            as_of,
            pv: 0.0,
            fold: PeriodFold::new(&h.index, &markets[k].market, as_of, until),
            df: move |d: Date| table.at_date(d),
        });
    }
    let own_events = &mut buffers.own;
    if !need.is_empty() {
        evaluate_on_each_into(host, on_need(), &mut folds)?;
        if own.is_none() {
            evaluate_on_each(&h.terms, on_need(), own_events)?;
        }
    }
    let mut folds = folds.into_iter();
    let m = host.rate_multiplier.unwrap_or(1.0);
    let s = host.rate_spread.unwrap_or(0.0);
    let role = host.contract_role.map_or(1.0, ContractRole::sign);
    let mut delta = Vec::with_capacity(nm);
    let mut values = vec![Vec::with_capacity(nm); h.options.len()];
    for (k, sm) in markets.iter().enumerate() {
        let market = &sm.market;
        let vol = market
            .volatility(&h.index)
            .or_else(|| markets[0].market.volatility(&h.index))
            .ok_or_else(|| format!("no volatility for index {}", h.index))?;
        let scale = if k == 0 { 1.0 } else { VOL_MULTIPLIER };
        let computed;
        let ps: &[Period] = match (known(k), need.binary_search(&k)) {
            // No limit bound here: the host is the contract itself.
            (Some(ps), _) => {
                delta.push(0.0);
                ps
            }
            (None, Ok(n)) => {
                let mut f = folds
                    .next()
                    .ok_or("every market without known periods is folded")?;
                let own_pv = match own {
                    Some(v) => v[k],
                    None => present_value(&own_events[n], as_of, &mut f.df),
                };
                let host_pv = if h.standalone { 0.0 } else { f.pv };
                delta.push(host_pv - own_pv);
                computed = f.fold.finish()?;
                &computed
            }
            (None, Err(_)) => unreachable!("every market without known periods is evaluated"),
        };
        for (o, v) in h.options.iter().zip(values.iter_mut()) {
            v.push(strip_value(ps, o.kind, o.limit, m, s, vol, scale, role));
        }
    }
    Ok(Valued { delta, values })
}

/// The value of a single-currency contract's events after `as_of` (as the engine discounts
/// them: every payoff on its payment date).
fn present_value(
    events: &[ContractEvent],
    as_of: DateTime,
    df: &mut impl FnMut(Date) -> f64,
) -> f64 {
    events
        .iter()
        .filter(|e| e.event_time > as_of && e.payoff != 0.0)
        .map(|e| e.payoff * df(e.event_time.date()))
        .sum()
}

/// A view with the hosts in place of the contracts (`delta` by currency and market added to
/// the values) and every scenario's change net of its KAO: `delta = value − base − kao`.
fn adjust(
    view: &mut View,
    names: &[String],
    host_delta: &BTreeMap<String, Vec<f64>>,
    kao: &dyn Fn(&str, usize) -> f64,
) {
    for (ccy, e) in view.currencies.iter_mut() {
        if let Some(d) = host_delta.get(ccy) {
            e.base += d[0];
            for (k, name) in names.iter().enumerate().skip(1) {
                if let Some(sv) = e.scenarios.get_mut(name) {
                    sv.value += d[k];
                }
            }
        }
    }
    for eve in [&mut view.currencies, &mut view.standardised] {
        for (ccy, e) in eve.iter_mut() {
            for (k, name) in names.iter().enumerate().skip(1) {
                if let Some(sv) = e.scenarios.get_mut(name) {
                    sv.kao = kao(ccy, k);
                    sv.delta = sv.value - e.base - sv.kao;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
