//! Contract types: schedules, payoff functions (POF) and state transitions (STF).
//!
//! Every contract runs the same way (ACTUS technical specification §2): the terms give a
//! schedule of events; events are sorted by payment time and event sequence; each event first
//! computes its payoff on the pre-event state, then moves the state. The module for each
//! family holds its schedule rules and functions; this module holds what they share:
//! resolved terms ([`Model`]), the schedule builder ([`Schedule`]), the filtering rules and the
//! dispatch ([`evaluate`]).
//!
//! Where the reference implementation and the official test data disagree, the test data
//! decides, and the difference is written down next to the code.

mod amortizing;
mod boundary;
mod call_money;
mod composite;
mod credit;
mod derivative;
mod exotic;
mod holding;
mod swap;

use almanac_time::{
    schedule, BusinessDayConvention, Calendar, Cycle, Date, DateTime, DayCount, EndDate,
    EndOfMonthConvention,
};

use crate::codes::{ContractRole, ContractType};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventHead, EventType, States};
use crate::observer::{ObservedEvent, RiskFactorObserver};
use crate::terms::{CalendarCode, ContractTerms, DayCountCode};

/// What a contract is evaluated against: market data, observed events and the horizon.
#[derive(Clone, Copy)]
pub struct EvalContext<'a> {
    /// Market observations (reset rates, indices, prices, FX).
    pub observer: &'a dyn RiskFactorObserver,
    /// Unscheduled events (calls, prepayments, credit events, monitoring dates).
    pub observed_events: &'a [ObservedEvent],
    /// Analysis horizon: events after it are not produced. `None` runs to the contract's end.
    pub to: Option<DateTime>,
}

/// Evaluates one contract: its events from the status date to the horizon, each with payoff
/// and post-event state, in payment order.
pub fn evaluate(
    terms: &ContractTerms,
    ctx: &EvalContext<'_>,
) -> Result<Vec<ContractEvent>, ContractError> {
    let mut out = Vec::new();
    evaluate_into(terms, ctx, &mut out)?;
    Ok(out)
}

/// As [`evaluate`], writing into `out` (cleared first) so a caller can reuse the buffer.
pub fn evaluate_into(
    terms: &ContractTerms,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    out.clear();
    let model = Model::new(terms)?;
    match model.contract_type {
        ContractType::Pam | ContractType::Lam | ContractType::Nam | ContractType::Ann => {
            amortizing::evaluate(&model, ctx, out)
        }
        ContractType::Lax => exotic::evaluate(&model, ctx, out),
        ContractType::Swaps => composite::swap(&model, ctx, out),
        ContractType::Capfl => composite::cap_floor(&model, ctx, out),
        ContractType::Optns | ContractType::Futur => derivative::evaluate(&model, ctx, out),
        ContractType::Ceg | ContractType::Cec => credit::evaluate(&model, ctx, out),
        ContractType::Bcs => boundary::evaluate(&model, ctx, out),
        ContractType::Clm | ContractType::Ump => call_money::evaluate(&model, ctx, out),
        ContractType::Swppv | ContractType::Fxout => swap::evaluate(&model, ctx, out),
        ContractType::Csh | ContractType::Stk | ContractType::Com => {
            holding::evaluate(&model, ctx, out)
        }
    }
}

/// Evaluates one contract under several contexts — the same contract on several markets, as
/// scenario analysis does — into `outs[k]` for `ctxs[k]`. Where the contexts share their
/// horizon (`to`) the terms and schedule of PAM, LAM, NAM and ANN are built once and only
/// the states are run per context; the events are the same as `evaluate_into` gives for each
/// context on its own. Contexts beyond the number of buffers are not evaluated.
pub fn evaluate_each(
    terms: &ContractTerms,
    ctxs: &[&EvalContext<'_>],
    outs: &mut [Vec<ContractEvent>],
) -> Result<(), ContractError> {
    evaluate_each_into(terms, ctxs, outs)
}

/// Receives a contract's events one at a time, in payment order, as the state machine
/// produces them: what a caller that only reduces the events (to cash flows, to a value)
/// needs, without a list of them in between. A `Vec<ContractEvent>` is the sink that keeps
/// them all.
pub trait EventSink {
    /// A new evaluation starts: forget the events of any earlier one.
    fn begin(&mut self);
    /// The next event: what and when, its payoff, and the states after it.
    fn event(&mut self, head: EventHead, payoff: f64, states: &States);
    /// About `n` events will follow (a hint).
    fn reserve(&mut self, n: usize) {
        let _ = n;
    }
}

impl EventSink for Vec<ContractEvent> {
    #[inline]
    fn begin(&mut self) {
        self.clear();
    }

    #[inline]
    fn event(&mut self, head: EventHead, payoff: f64, states: &States) {
        self.push(head.with(payoff, states));
    }

    fn reserve(&mut self, n: usize) {
        Vec::reserve(self, n);
    }
}

/// Both sinks get every event, the first one first: one evaluation feeds two consumers.
impl<A: EventSink, B: EventSink> EventSink for (A, B) {
    #[inline]
    fn begin(&mut self) {
        self.0.begin();
        self.1.begin();
    }

    #[inline]
    fn event(&mut self, head: EventHead, payoff: f64, states: &States) {
        self.0.event(head, payoff, states);
        self.1.event(head, payoff, states);
    }

    fn reserve(&mut self, n: usize) {
        self.0.reserve(n);
        self.1.reserve(n);
    }
}

/// As [`evaluate_each`], each context's events going to its sink in `sinks` as they are
/// produced (every sink gets `begin` first, then exactly the events `evaluate_into` would
/// list, in order). PAM, LAM, NAM and ANN run straight into the sinks; other types are
/// evaluated into a list first.
pub fn evaluate_each_into<S: EventSink>(
    terms: &ContractTerms,
    ctxs: &[&EvalContext<'_>],
    sinks: &mut [S],
) -> Result<(), ContractError> {
    let model = Model::new(terms)?;
    let same_horizon = ctxs.windows(2).all(|w| w[0].to == w[1].to);
    match model.contract_type {
        ContractType::Pam | ContractType::Lam | ContractType::Nam | ContractType::Ann
            if same_horizon =>
        {
            amortizing::evaluate_each(&model, ctxs, sinks)
        }
        _ => {
            let mut events = Vec::new();
            for (ctx, sink) in ctxs.iter().zip(sinks.iter_mut()) {
                evaluate_into(terms, ctx, &mut events)?;
                sink.begin();
                sink.reserve(events.len());
                for e in &events {
                    sink.event(e.head(), e.payoff, &e.states);
                }
            }
            Ok(())
        }
    }
}

/// Terms resolved into what every contract type needs: role sign, conventions, calendar.
pub(crate) struct Model<'t> {
    pub(crate) terms: &'t ContractTerms,
    pub(crate) id: &'t str,
    pub(crate) contract_type: ContractType,
    /// Role sign R: +1 asset-like, −1 liability-like.
    pub(crate) role_sign: f64,
    pub(crate) status_date: DateTime,
    pub(crate) day_count: DayCount,
    pub(crate) bdc: BusinessDayConvention,
    pub(crate) calendar: Calendar,
    pub(crate) eom: EndOfMonthConvention,
}

impl<'t> Model<'t> {
    pub(crate) fn new(terms: &'t ContractTerms) -> Result<Model<'t>, ContractError> {
        let id = terms.id();
        // `ok_or_else`: the error (and its copy of the id) is built only when the term is
        // missing, not on every evaluation.
        let contract_type = terms
            .contract_type
            .ok_or_else(|| ContractError::MissingTerm {
                contract_id: id.to_string(),
                term: "contractType",
                contract_type: "any contract",
            })?;
        let ct = contract_type.code();
        let missing = |term: &'static str| ContractError::MissingTerm {
            contract_id: id.to_string(),
            term,
            contract_type: ct,
        };
        let status_date = terms.status_date.ok_or_else(|| missing("statusDate"))?;
        let role = terms.contract_role.unwrap_or(ContractRole::Rpa);
        let calendar = match terms.calendar {
            None | Some(CalendarCode::NoCalendar) => Calendar::NoHolidays,
            Some(CalendarCode::MondayToFriday) => Calendar::MondayToFriday,
            Some(CalendarCode::Target) => Calendar::Target,
            Some(CalendarCode::MondayToFridayWithHolidays) => Calendar::with_holidays(
                terms
                    .holidays
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|h| h.date())
                    .collect(),
            ),
        };
        let maturity = terms.maturity_date.map(DateTime::date);
        let day_count = match terms.day_count_convention.unwrap_or(DayCountCode::A365) {
            DayCountCode::A360 => DayCount::Act360,
            DayCountCode::A365 => DayCount::Act365Fixed,
            DayCountCode::ActActIsda => DayCount::ActActIsda,
            DayCountCode::ThirtyE360 => DayCount::ThirtyE360,
            DayCountCode::ThirtyE360Isda => DayCount::ThirtyE360Isda { maturity },
            DayCountCode::TwentyEightE336 => DayCount::TwentyEightE336,
            DayCountCode::B252 => DayCount::Business252(calendar.clone()),
        };
        Ok(Model {
            terms,
            id,
            contract_type,
            role_sign: role.sign(),
            status_date,
            day_count,
            bdc: terms.business_day_convention.unwrap_or_default(),
            calendar,
            eom: terms.end_of_month_convention.unwrap_or_default(),
        })
    }

    pub(crate) fn missing(&self, term: &'static str) -> ContractError {
        ContractError::MissingTerm {
            contract_id: self.id.to_string(),
            term,
            contract_type: self.contract_type.code(),
        }
    }

    pub(crate) fn inconsistent(
        &self,
        term: &'static str,
        value: &dyn std::fmt::Display,
        reason: &str,
    ) -> ContractError {
        ContractError::Inconsistent {
            contract_id: self.id.to_string(),
            term,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// `notionalPrincipal`, required and not negative (the contract role gives the sign).
    pub(crate) fn notional(&self) -> Result<f64, ContractError> {
        let notional = self
            .terms
            .notional_principal
            .ok_or_else(|| self.missing("notionalPrincipal"))?;
        if notional < 0.0 {
            return Err(self.inconsistent(
                "notionalPrincipal",
                &notional,
                "must not be negative (the contract role gives the sign)",
            ));
        }
        Ok(notional)
    }

    /// The payment time of a scheduled time (business-day shifted, time of day kept).
    #[inline]
    pub(crate) fn shift(&self, t: DateTime) -> DateTime {
        use almanac_time::SchedulePoint;
        if self.bdc == BusinessDayConvention::NoShift {
            return t;
        }
        let d = self.bdc.adjust(t.date(), &self.calendar);
        if d == t.date() {
            t
        } else {
            t.with_date(d)
        }
    }

    /// The date accruals run to for a scheduled time: shifted under `SC…` conventions,
    /// unshifted under `CS…`; 23:59:59 counts as the next day.
    #[inline]
    pub(crate) fn calc_date(&self, t: DateTime) -> Date {
        let d = t.accrual_date();
        // No shift moves it (NOS, CS…): the accrual date, without a calendar look-up.
        if self.calc_date_is_accrual_date() {
            return d;
        }
        if t.is_end_of_day() {
            // Shift the written date, then step to the end of that day.
            return self
                .bdc
                .calculation_date(t.date(), &self.calendar)
                .add_days(1);
        }
        self.bdc.calculation_date(d, &self.calendar)
    }

    /// Whether [`Model::calc_date`] is the accrual date of every time (no business-day shift
    /// moves the date accruals run to): the `NOS` and `CS…` conventions.
    #[inline]
    pub(crate) fn calc_date_is_accrual_date(&self) -> bool {
        self.bdc == BusinessDayConvention::NoShift || self.bdc.calculates_on_scheduled_date()
    }

    /// Year fraction between two scheduled times under the contract's conventions.
    pub(crate) fn year_fraction(&self, from: DateTime, to: DateTime) -> f64 {
        self.day_count
            .year_fraction(self.calc_date(from), self.calc_date(to))
    }

    /// Year fractions of a state loop: from `start` to the first of `times`, then between
    /// consecutive `times`, each as [`Model::year_fraction`] gives it (bit for bit), into `out`.
    pub(crate) fn year_fractions_along(
        &self,
        start: DateTime,
        times: impl Iterator<Item = DateTime>,
        out: &mut Vec<f64>,
    ) {
        out.clear();
        let mut walk = self.day_count.walk(self.calc_date(start));
        out.extend(times.map(|t| walk.to(self.calc_date(t))));
    }

    /// Year fraction on the times as written (no business-day shift).
    pub(crate) fn year_fraction_unshifted(&self, from: DateTime, to: DateTime) -> f64 {
        self.day_count
            .year_fraction(from.accrual_date(), to.accrual_date())
    }

    pub(crate) fn observe(
        &self,
        ctx: &EvalContext<'_>,
        market_object_code: Option<&str>,
        term: &'static str,
        t: DateTime,
    ) -> Result<f64, ContractError> {
        let code = market_object_code.ok_or_else(|| self.missing(term))?;
        ctx.observer
            .observe(code, t)
            .ok_or_else(|| ContractError::MissingObservation {
                contract_id: self.id.to_string(),
                market_object_code: code.to_string(),
                time: t.to_string(),
            })
    }
}

/// The rate after a reset at `time` from the market series `marketObjectCodeOfRateReset`:
/// `multiplier × observed + spread`, the change limited by `periodFloor`/`periodCap`, the
/// result by `lifeFloor`/`lifeCap` (ACTUS STF of RR). Rates are decimals per year.
pub(crate) fn reset_rate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    time: DateTime,
    current: f64,
) -> Result<f64, ContractError> {
    reset_rate_plus(m, ctx, time, current, 0.0)
}

/// As [`reset_rate`] with `margin` added to the new rate before the limits (a LAX segment's
/// `arrayRate`).
pub(crate) fn reset_rate_plus(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    time: DateTime,
    current: f64,
    margin: f64,
) -> Result<f64, ContractError> {
    let t = m.terms;
    let observed = m.observe(
        ctx,
        t.market_object_code_of_rate_reset.as_deref(),
        "marketObjectCodeOfRateReset",
        time,
    )?;
    let target =
        t.rate_multiplier.unwrap_or(1.0) * observed + t.rate_spread.unwrap_or(0.0) + margin;
    Ok(clamp_rate(m, current, target))
}

/// The rate after a reset to `target` from `current`: the change limited by
/// `periodFloor`/`periodCap`, the result by `lifeFloor`/`lifeCap`.
fn clamp_rate(m: &Model<'_>, current: f64, target: f64) -> f64 {
    let t = m.terms;
    let delta = (target - current)
        .max(t.period_floor.unwrap_or(f64::NEG_INFINITY))
        .min(t.period_cap.unwrap_or(f64::INFINITY));
    (current + delta)
        .max(t.life_floor.unwrap_or(f64::NEG_INFINITY))
        .min(t.life_cap.unwrap_or(f64::INFINITY))
}

/// The anchor of a cycle: the given anchor, else `default` (the initial exchange date) when
/// the cycle is set, else none (ACTUS default for `cycleAnchorDateOf…`).
pub(crate) fn cycle_anchor(
    anchor: Option<DateTime>,
    cycle: Option<Cycle>,
    default: DateTime,
) -> Option<DateTime> {
    anchor.or(cycle.map(|_| default))
}

/// Fee payment: the fixed amount `R × feeRate` for fee basis A, else the fees accrued on the
/// notional (`fee_accrued + fee_due`, in the contract currency).
pub(crate) fn fee_payoff(m: &Model<'_>, fee_accrued: f64, fee_due: f64) -> f64 {
    if m.terms.fee_basis == Some(crate::FeeBasis::Absolute) {
        m.role_sign * m.terms.fee_rate.unwrap_or(0.0)
    } else {
        fee_accrued + fee_due
    }
}

/// A scheduled event before evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) schedule_time: DateTime,
    pub(crate) event_time: DateTime,
    pub(crate) event_type: EventType,
    /// Sort key, filled in by [`Schedule::finish`].
    pub(crate) key: u64,
}

impl Pending {
    pub(crate) fn key(&self) -> (DateTime, u16) {
        (self.event_time, self.event_type.sequence())
    }

    /// [`Pending::key`] packed into one integer with the same order, for fast sorting:
    /// days (offset to be non-negative) | second of day (17 bits) | sequence (10 bits).
    #[inline]
    fn packed_key(&self) -> u64 {
        pack_key(self.event_time, self.event_type.sequence())
    }
}

/// `(time, sequence)` packed into one integer with the same order (see
/// [`Pending::packed_key`]).
#[inline]
fn pack_key(time: DateTime, sequence: u16) -> u64 {
    let days = (i64::from(time.date().days_since_epoch()) + (1 << 31)) as u64;
    (days << 27) | (u64::from(time.second_of_day()) << 10) | u64::from(sequence)
}

/// Collects scheduled events, then filters and sorts them by the ACTUS rules.
#[derive(Default)]
pub(crate) struct Schedule {
    pub(crate) events: Vec<Pending>,
    dates: Vec<DateTime>,
    /// The last generated date sequence and what generated it: an annuity's instalment
    /// dates, its redemptions and its interest payments are usually one sequence.
    memo: Option<(GenKey, Vec<DateTime>)>,
    /// Events sorting before this packed key are not kept (see [`Schedule::keep_from`]).
    keep_from: Option<u64>,
    /// Sorting buffers of [`Schedule::finish`], kept for the next contract.
    order: Vec<(u64, usize)>,
    sorted: Vec<Pending>,
}

/// What a generated date sequence depends on.
#[derive(Clone, Copy, PartialEq)]
struct GenKey {
    anchor: DateTime,
    end: DateTime,
    cycle: Option<Cycle>,
    eom: EndOfMonthConvention,
    end_date: EndDate,
}

/// Whether an event's date moves with the business-day convention.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shifted {
    Yes,
    No,
}

impl Schedule {
    /// Drops, as they are added, the events that [`Schedule::finish`] would drop for being
    /// before `status_date`: for contracts whose schedule building never looks at an event
    /// before the status date again (rate resets are always kept until `finish`: an
    /// instalment re-fixing follows each).
    /// Empties the schedule for another contract, keeping its storage (and the last
    /// generated date sequence, which depends only on what generated it).
    pub(crate) fn reset(&mut self) {
        self.events.clear();
        self.keep_from = None;
    }

    pub(crate) fn keep_from(&mut self, status_date: DateTime) {
        self.keep_from = Some(pack_key(status_date, EventType::Ad.sequence()));
    }

    pub(crate) fn add(&mut self, m: &Model<'_>, t: DateTime, ty: EventType, shifted: Shifted) {
        let event_time = if shifted == Shifted::Yes {
            m.shift(t)
        } else {
            t
        };
        let key = pack_key(event_time, ty.sequence());
        if self.keep_from.is_some_and(|k| key < k) {
            return;
        }
        self.events.push(Pending {
            schedule_time: t,
            event_time,
            event_type: ty,
            key,
        });
    }

    /// Adds the events of a cycle; returns how many were added.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_cycle(
        &mut self,
        m: &Model<'_>,
        anchor: DateTime,
        end: DateTime,
        cycle: Option<Cycle>,
        end_date: EndDate,
        ty: EventType,
    ) -> usize {
        let mut dates = std::mem::take(&mut self.dates);
        self.generate(&mut dates, anchor, end, cycle, m.eom, end_date);
        for &t in &dates {
            self.add(m, t, ty, Shifted::Yes);
        }
        let n = dates.len();
        self.dates = dates;
        n
    }

    /// Adds the events of two cycles with the same anchor and period (`first` and `second`:
    /// event type and whether the end date is included), merged by date — each cycle's own
    /// order kept, `first` before `second` on a shared date — as [`Schedule::finish`] would
    /// sort them when `first` sorts before `second` on a day, so that it has nothing to sort.
    pub(crate) fn add_cycle_pair(
        &mut self,
        m: &Model<'_>,
        anchor: DateTime,
        end: DateTime,
        cycle: Option<Cycle>,
        first: (EventType, EndDate),
        second: (EventType, EndDate),
    ) {
        let mut a = std::mem::take(&mut self.dates);
        let mut b = Vec::new();
        self.generate(&mut a, anchor, end, cycle, m.eom, first.1);
        self.generate(&mut b, anchor, end, cycle, m.eom, second.1);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i] <= b[j]) {
                self.add(m, a[i], first.0, Shifted::Yes);
                i += 1;
            } else {
                self.add(m, b[j], second.0, Shifted::Yes);
                j += 1;
            }
        }
        self.dates = a;
    }

    /// [`schedule::generate_into`], reusing the last sequence generated when it is the same
    /// one, or the same one with its end date included (then this is it without the end
    /// date, whenever that holds: three dates or more).
    pub(crate) fn generate(
        &mut self,
        out: &mut Vec<DateTime>,
        anchor: DateTime,
        end: DateTime,
        cycle: Option<Cycle>,
        eom: EndOfMonthConvention,
        end_date: EndDate,
    ) {
        let key = GenKey {
            anchor,
            end,
            cycle,
            eom,
            end_date,
        };
        if let Some((k, dates)) = &self.memo {
            if *k == key {
                out.clear();
                out.extend_from_slice(dates);
                return;
            }
            let included = GenKey {
                end_date: EndDate::Include,
                ..key
            };
            if end_date == EndDate::Exclude && *k == included && dates.len() >= 3 {
                out.clear();
                out.extend_from_slice(&dates[..dates.len() - 1]);
                return;
            }
        }
        schedule::generate_into(out, anchor, end, cycle, eom, end_date);
        match &mut self.memo {
            Some((k, dates)) => {
                *k = key;
                dates.clone_from(out);
            }
            None => self.memo = Some((key, out.clone())),
        }
    }

    /// Adds the rate resets (RR) of the terms' reset cycle up to `end` (exclusive), anchored
    /// at `default_anchor` when no anchor is given; with `nextResetRate` the first reset after
    /// the status date becomes RRF. Returns the index of the first reset added.
    pub(crate) fn add_rate_resets(
        &mut self,
        m: &Model<'_>,
        default_anchor: DateTime,
        end: DateTime,
    ) -> usize {
        let t = m.terms;
        let first = self.events.len();
        let Some(anchor) = cycle_anchor(
            t.cycle_anchor_date_of_rate_reset,
            t.cycle_of_rate_reset,
            default_anchor,
        ) else {
            return first;
        };
        let keep_from = self.keep_from.take();
        self.add_cycle(
            m,
            anchor,
            end,
            t.cycle_of_rate_reset,
            EndDate::Exclude,
            EventType::Rr,
        );
        self.keep_from = keep_from;
        if t.next_reset_rate.is_some() {
            let sd_key = (m.status_date, EventType::Ad.sequence());
            if let Some(e) = self.events[first..]
                .iter_mut()
                .filter(|e| e.key() > sd_key)
                .min_by_key(|e| e.key())
            {
                e.event_type = EventType::Rrf;
            }
        }
        first
    }

    /// Adds the fixings of a lagged interest calculation base (IPCB) up to `end` (exclusive),
    /// anchored at `default_anchor` when no anchor is given.
    pub(crate) fn add_base_fixings(
        &mut self,
        m: &Model<'_>,
        default_anchor: DateTime,
        end: DateTime,
    ) {
        let t = m.terms;
        if let Some(anchor) = cycle_anchor(
            t.cycle_anchor_date_of_interest_calculation_base,
            t.cycle_of_interest_calculation_base,
            default_anchor,
        ) {
            self.add_cycle(
                m,
                anchor,
                end,
                t.cycle_of_interest_calculation_base,
                EndDate::Exclude,
                EventType::Ipcb,
            );
        }
    }

    /// Termination: drops everything after the termination event, then adds it.
    pub(crate) fn terminate_at(&mut self, td: DateTime) {
        let key = (td, EventType::Td.sequence());
        self.events.retain(|e| e.key() <= key);
        self.events.push(Pending {
            schedule_time: td,
            event_time: td,
            event_type: EventType::Td,
            key: 0,
        });
    }

    /// Drops events on or before the status date (only an analysis event on the status date
    /// would survive) and events after the horizon (events on the horizon date stay), then
    /// sorts by payment time and event sequence, keeping insertion order for ties.
    pub(crate) fn finish(&mut self, status_date: DateTime, to: Option<DateTime>) {
        let seq_ad = EventType::Ad.sequence();
        let from = pack_key(status_date, seq_ad);
        let to = to.map_or(u64::MAX, |to| pack_key(to, seq_ad));
        // Keys afresh: a contract type may have changed an event's type since it was added.
        for e in &mut self.events {
            e.key = e.packed_key();
        }
        self.events.retain(|e| e.key >= from && e.key <= to);
        // Events are added cycle by cycle, each cycle in date order: often already sorted.
        if !self.events.is_sorted_by_key(|e| e.key) {
            // A stable sort: ties keep their insertion order (the index breaks them), in the
            // schedule's own buffers. The standard stable sort allocates a scratch buffer on
            // every call, and this runs for nearly every contract evaluated: glibc gave its
            // pages back and faulted them in again (3 % of a 1M IRRBB run's CPU).
            self.order.clear();
            self.order
                .extend(self.events.iter().enumerate().map(|(i, e)| (e.key, i)));
            self.order.sort_unstable();
            self.sorted.clear();
            let events = &self.events;
            self.sorted
                .extend(self.order.iter().map(|&(_, i)| events[i]));
            std::mem::swap(&mut self.events, &mut self.sorted);
        }
    }
}

/// An event of a composite contract itself (not of a child): no currency leg, an empty
/// state dated at the event.
pub(crate) fn own_event(
    time: DateTime,
    ty: EventType,
    payoff: f64,
    states: States,
) -> ContractEvent {
    ContractEvent {
        event_time: time,
        schedule_time: time,
        event_type: ty,
        payoff,
        currency_leg: 0,
        child: 0,
        states: States {
            status_date: time,
            ..states
        },
    }
}

/// Whether an event at `time` of type `ty` lies inside the evaluation window: after the
/// status date and on or before the horizon (the rules of [`Schedule::finish`]).
pub(crate) fn in_window(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    time: DateTime,
    ty: EventType,
) -> bool {
    let key = (time, ty.sequence());
    let ad = EventType::Ad.sequence();
    key >= (m.status_date, ad) && ctx.to.is_none_or(|to| key <= (to, ad))
}

impl Pending {
    /// What and when the event is, as an output event tells it.
    #[inline]
    pub(crate) fn head(&self) -> EventHead {
        EventHead {
            event_time: self.event_time,
            schedule_time: self.schedule_time,
            event_type: self.event_type,
            currency_leg: 0,
            child: 0,
        }
    }
}

/// Turns a pending event into an output event with its payoff and post-event state.
pub(crate) fn emit(p: &Pending, payoff: f64, states: &States) -> ContractEvent {
    ContractEvent {
        event_time: p.event_time,
        schedule_time: p.schedule_time,
        event_type: p.event_type,
        payoff,
        currency_leg: 0,
        child: 0,
        states: *states,
    }
}

/// Drops events before a purchase (they were evaluated, so their state effects remain).
pub(crate) fn drop_before_purchase(out: &mut Vec<ContractEvent>, purchase: Option<DateTime>) {
    if let Some(prd) = purchase {
        let key = (prd, EventType::Prd.sequence());
        out.retain(|e| e.event_type == EventType::Ad || e.sort_key() >= key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_time::Date;

    /// `finish` sorts by payment time then event sequence, and events that tie on both keep
    /// the order they were added in (as a stable sort does), whatever the input order and
    /// however many times the schedule's buffers are reused.
    #[test]
    fn finish_sorts_stably_in_reused_buffers() {
        let at = |d: u32| DateTime::midnight(Date::ymd(2026, 1, 1).add_days(d as i32));
        let types = [EventType::Ip, EventType::Pr, EventType::Rr, EventType::Ipci];
        let mut schedule = Schedule::default();
        let mut state = 12_345u64;
        for round in 0..50 {
            schedule.reset();
            let n = 1 + round * 7;
            // Each event's schedule time records its insertion index (as seconds): ties are
            // told apart by it.
            for i in 0..n {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let day = (state >> 33) as u32 % 20;
                let ty = types[(state >> 20) as usize % types.len()];
                schedule.events.push(Pending {
                    schedule_time: DateTime::new(Date::ymd(2000, 1, 1), i as u32).unwrap(),
                    event_time: at(day),
                    event_type: ty,
                    key: 0,
                });
            }
            let mut expected = schedule.events.clone();
            expected.sort_by_key(|e| (e.event_time, e.event_type.sequence()));
            schedule.finish(at(0), None);
            let order = |v: &[Pending]| -> Vec<(DateTime, u16, DateTime)> {
                v.iter()
                    .map(|e| (e.event_time, e.event_type.sequence(), e.schedule_time))
                    .collect()
            };
            // Events on the status date are dropped (but an analysis event).
            let expected: Vec<Pending> = expected
                .into_iter()
                .filter(|e| e.event_time > at(0))
                .collect();
            assert_eq!(order(&schedule.events), order(&expected), "round {round}");
        }
    }
}
