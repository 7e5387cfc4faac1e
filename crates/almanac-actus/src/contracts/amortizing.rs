//! Principal at maturity (PAM), linear amortizer (LAM), negative amortizer (NAM) and annuity
//! (ANN): the banking book's loans, deposits and bonds.
//!
//! The four types share one machine; they differ in how principal is repaid:
//! * PAM repays everything at maturity (bullet loans, bonds, term deposits);
//! * LAM repays a fixed principal amount per period;
//! * NAM pays a fixed instalment that includes interest (principal = instalment − interest);
//! * ANN is NAM with the instalment computed by the annuity formula and re-fixed after every
//!   rate reset (PRF events).
//!
//! LAM, NAM and ANN accrue interest on an interest calculation base (the outstanding notional,
//! the notional at initial exchange, or a lagged notional fixed at IPCB events); PAM accrues on
//! the outstanding notional.

use almanac_time::{schedule, DateTime, EndDate, SchedulePoint};

use super::{
    cycle_anchor, fee_payoff, reset_rate, EvalContext, EventSink, Model, Schedule, Shifted,
};
use crate::codes::{ContractType, InterestCalculationBase};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};

/// Which redemption dates an annuity is sized over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Redemptions {
    AfterStatusDate,
    FromStatusDate,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pam,
    Lam,
    Nam,
    Ann,
}

/// Terms with the reference defaults applied.
struct Loan<'m, 't> {
    m: &'m Model<'t>,
    kind: Kind,
    ied: DateTime,
    maturity: DateTime,
    notional: f64,
    rate: f64,
    icb: InterestCalculationBase,
    pr_anchor: DateTime,
    next_reset_rate: Option<f64>,
    fee_rate: f64,
    /// Unadjusted principal redemption dates up to the amortisation end (annuity sizing).
    annuity_dates: Vec<DateTime>,
    /// How many `annuity_dates` fall before the status date (their periods are not needed).
    annuity_skip: usize,
    /// Year fraction of each period between consecutive `annuity_dates` from the status date
    /// on (`[k]` is the period ending at date `annuity_skip + k + 1`): computed once, reused
    /// at every instalment re-fixing.
    annuity_periods: Vec<f64>,
}

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    evaluate_each(m, &[ctx], std::slice::from_mut(out))
}

/// The buffers of one evaluation, kept per thread between evaluations: a book of a million
/// loans is evaluated without allocating them again for every loan.
#[derive(Default)]
struct Buffers {
    sched: Schedule,
    yfs: Vec<f64>,
    annuity_dates: Vec<DateTime>,
    annuity_periods: Vec<f64>,
    accrual_dates: Vec<almanac_time::Date>,
    /// Dates generated while the initial states are found.
    dates: Vec<DateTime>,
}

thread_local! {
    /// This thread's buffers while no evaluation holds them (a nested evaluation, e.g. a leg
    /// of a swap, finds none and uses fresh ones).
    static BUFFERS: std::cell::Cell<Option<Box<Buffers>>> = const { std::cell::Cell::new(None) };
}

/// Evaluates the contract under each context (all with the same `to`), building its terms
/// and schedule once: the schedule does not depend on market data, only the states do.
pub(super) fn evaluate_each<S: EventSink>(
    m: &Model<'_>,
    ctxs: &[&EvalContext<'_>],
    outs: &mut [S],
) -> Result<(), ContractError> {
    let mut buffers = BUFFERS.with(std::cell::Cell::take).unwrap_or_default();
    let result = evaluate_each_with(m, ctxs, outs, &mut buffers);
    BUFFERS.with(|b| b.set(Some(buffers)));
    result
}

fn evaluate_each_with<S: EventSink>(
    m: &Model<'_>,
    ctxs: &[&EvalContext<'_>],
    outs: &mut [S],
    buffers: &mut Buffers,
) -> Result<(), ContractError> {
    let Some(first) = ctxs.first() else {
        return Ok(());
    };
    let t = m.terms;
    let kind = match m.contract_type {
        ContractType::Pam => Kind::Pam,
        ContractType::Lam => Kind::Lam,
        ContractType::Nam => Kind::Nam,
        _ => Kind::Ann,
    };
    let ied = t
        .initial_exchange_date
        .ok_or_else(|| m.missing("initialExchangeDate"))?;
    let notional = m.notional()?;
    let rate = t.nominal_interest_rate.unwrap_or(0.0);
    let pr_anchor = t.cycle_anchor_date_of_principal_redemption.unwrap_or(ied);
    let mut loan = Loan {
        m,
        kind,
        ied,
        maturity: ied,
        notional,
        rate,
        icb: if kind == Kind::Pam {
            InterestCalculationBase::Notional
        } else {
            t.interest_calculation_base
                .unwrap_or(InterestCalculationBase::Notional)
        },
        pr_anchor,
        next_reset_rate: t.next_reset_rate,
        fee_rate: t.fee_rate.unwrap_or(0.0),
        annuity_dates: std::mem::take(&mut buffers.annuity_dates),
        annuity_skip: 0,
        annuity_periods: std::mem::take(&mut buffers.annuity_periods),
    };
    loan.maturity = loan.maturity()?;
    if loan.maturity < ied {
        return Err(m.inconsistent(
            "maturityDate",
            &loan.maturity,
            &format!("is before the initial exchange date {ied}"),
        ));
    }
    let sched = &mut buffers.sched;
    sched.reset();
    if kind == Kind::Ann {
        let end = t.amortization_date.unwrap_or(loan.maturity);
        sched.generate(
            &mut loan.annuity_dates,
            pr_anchor,
            end,
            t.cycle_of_principal_redemption,
            m.eom,
            EndDate::Include,
        );
        // Instalments are only ever re-fixed on or after the status date: the periods
        // before it are not needed.
        loan.annuity_skip = loan.annuity_dates.partition_point(|d| *d < m.status_date);
    }
    sched.keep_from(m.status_date);
    loan.schedule(sched)?;
    let to = first.to.or(if kind == Kind::Pam {
        None
    } else {
        Some(loan.maturity)
    });
    sched.finish(m.status_date, to);
    // The year fraction before each event does not depend on market data: computed once for
    // every context.
    let yfs = &mut buffers.yfs;
    m.year_fractions_along(
        m.status_date,
        sched.events.iter().map(|p| p.schedule_time),
        yfs,
    );
    if kind == Kind::Ann {
        let dates = &mut buffers.accrual_dates;
        dates.clear();
        dates.extend(
            loan.annuity_dates[loan.annuity_skip..]
                .iter()
                .map(|d| d.accrual_date()),
        );
        // The periods between instalment dates are usually the year fractions just computed
        // between events (the events fall on the instalment dates): taken from there when
        // they are, bit for bit the same numbers.
        let reused = m.calc_date_is_accrual_date()
            && periods_from_walk(
                m.status_date.accrual_date(),
                sched.events.iter().map(|p| p.schedule_time.accrual_date()),
                yfs,
                dates,
                &mut loan.annuity_periods,
            );
        if !reused {
            m.day_count.year_fractions(dates, &mut loan.annuity_periods);
        }
    }
    // The states at the status date do not depend on market data either.
    let initial = loan.initial_states(&mut buffers.dates);
    for (ctx, out) in ctxs.iter().zip(outs.iter_mut()) {
        out.begin();
        loan.apply(sched, yfs, &initial, ctx, out)?;
    }
    buffers.annuity_dates = std::mem::take(&mut loan.annuity_dates);
    buffers.annuity_periods = std::mem::take(&mut loan.annuity_periods);
    Ok(())
}

/// The year fractions between consecutive `dates` (`out[j]` from `dates[j]` to `dates[j + 1]`,
/// as [`almanac_time::DayCount::year_fractions`] gives them) read off a walk that started at
/// `start` and went along `walked` (repeated dates allowed) computing `yfs`: possible when
/// `dates` are the walk's distinct dates, from its start or from its first date on (a prefix
/// is enough). Returns whether they were; `out` is then filled.
fn periods_from_walk(
    start: almanac_time::Date,
    walked: impl Iterator<Item = almanac_time::Date>,
    yfs: &[f64],
    dates: &[almanac_time::Date],
    out: &mut Vec<f64>,
) -> bool {
    out.clear();
    let Some(&first) = dates.first() else {
        return true;
    };
    let needed = dates.len() - 1;
    // Which date of `dates` the walk must reach next, and whether the walk is already at
    // `dates[0]`.
    let mut next = 0;
    let mut prev = start;
    if first == start {
        next = 1;
    }
    for (d, y) in walked.zip(yfs) {
        if out.len() == needed {
            return true;
        }
        if d == prev {
            continue;
        }
        if dates.get(next) != Some(&d) {
            return false;
        }
        // A step from dates[next − 1] to dates[next] is a period; the step onto dates[0]
        // (from before it) is not.
        if next > 0 {
            out.push(*y);
        }
        next += 1;
        prev = d;
    }
    out.len() == needed
}

impl Loan<'_, '_> {
    fn maturity(&self) -> Result<DateTime, ContractError> {
        let m = self.m;
        let t = m.terms;
        if let Some(md) = t.maturity_date {
            return Ok(md);
        }
        match self.kind {
            Kind::Pam => Err(m.missing("maturityDate")),
            Kind::Ann if t.amortization_date.is_some() => {
                Ok(t.amortization_date.unwrap_or(self.ied))
            }
            _ => {
                let cycle = t.cycle_of_principal_redemption.ok_or_else(|| {
                    m.missing("maturityDate (or cycleOfPrincipalRedemption to derive it)")
                })?;
                let prnxt = t.next_principal_redemption_payment.ok_or_else(|| {
                    m.missing("maturityDate (or nextPrincipalRedemptionPayment to derive it)")
                })?;
                let sd = m.status_date;
                let last_before_sd = || {
                    schedule::generate(self.pr_anchor, sd, Some(cycle), m.eom, EndDate::Include)
                        .into_iter()
                        .rfind(|d| *d <= sd)
                        .unwrap_or(self.pr_anchor)
                };
                let (last, periods) = if self.kind == Kind::Lam {
                    if prnxt <= 0.0 {
                        return Err(m.inconsistent(
                            "nextPrincipalRedemptionPayment",
                            &prnxt,
                            "must be positive to derive the maturity date",
                        ));
                    }
                    let n = (self.notional / prnxt).ceil();
                    if self.pr_anchor < sd {
                        (last_before_sd(), n)
                    } else {
                        (self.pr_anchor, n - 1.0)
                    }
                } else {
                    let last = if self.pr_anchor >= sd {
                        self.pr_anchor
                    } else {
                        let next = self.ied.with_date(cycle.period.add_to(self.ied.date(), 1));
                        if next >= sd {
                            next
                        } else {
                            last_before_sd()
                        }
                    };
                    let after = last.with_date(cycle.period.add_to(last.date(), 1));
                    let per_cycle =
                        prnxt - m.year_fraction_unshifted(last, after) * self.rate * self.notional;
                    if per_cycle <= 0.0 {
                        return Err(m.inconsistent(
                            "nextPrincipalRedemptionPayment",
                            &prnxt,
                            "does not cover the interest, so the contract never matures; \
                             give maturityDate",
                        ));
                    }
                    (last, (self.notional / per_cycle).ceil() - 1.0)
                };
                if !(0.0..=100_000.0).contains(&periods) {
                    return Err(m.inconsistent(
                        "nextPrincipalRedemptionPayment",
                        &prnxt,
                        "gives an implausible number of redemption periods",
                    ));
                }
                let mut d = cycle.period.add_to(last.date(), periods as i32);
                if m.eom == almanac_time::EndOfMonthConvention::EndOfMonth
                    && last.date().is_end_of_month()
                    && cycle.period.is_month_based()
                {
                    d = d.end_of_month();
                }
                let md = last.with_date(d);
                Ok(if self.kind == Kind::Lam {
                    md
                } else {
                    m.shift(md)
                })
            }
        }
    }

    fn schedule(&self, s: &mut Schedule) -> Result<(), ContractError> {
        let m = self.m;
        let t = m.terms;
        let md = self.maturity;
        s.add(m, self.ied, EventType::Ied, Shifted::No);
        let ip_anchor = cycle_anchor(
            t.cycle_anchor_date_of_interest_payment,
            t.cycle_of_interest_payment,
            self.ied,
        );
        // Redemptions and interest payments on one cycle (the usual loan) are added side by
        // side, so they need no sorting; the events are the same either way.
        let paired = self.kind != Kind::Pam
            && t.capitalization_end_date.is_none()
            && ip_anchor == Some(self.pr_anchor)
            && t.cycle_of_interest_payment == t.cycle_of_principal_redemption;
        if paired {
            s.add_cycle_pair(
                m,
                self.pr_anchor,
                md,
                t.cycle_of_principal_redemption,
                (EventType::Pr, EndDate::Exclude),
                (EventType::Ip, EndDate::Include),
            );
        } else if self.kind != Kind::Pam {
            s.add_cycle(
                m,
                self.pr_anchor,
                md,
                t.cycle_of_principal_redemption,
                EndDate::Exclude,
                EventType::Pr,
            );
        }
        // Interest payments, turned into capitalisation up to the capitalisation end date.
        match ip_anchor {
            Some(anchor) if !paired => {
                let first = s.events.len();
                s.add_cycle(
                    m,
                    anchor,
                    md,
                    t.cycle_of_interest_payment,
                    EndDate::Include,
                    EventType::Ip,
                );
                if let Some(ipced) = t.capitalization_end_date {
                    let cap_key = (m.shift(ipced), EventType::Ipci.sequence());
                    let mut i = first;
                    while i < s.events.len() {
                        if s.events[i].key() == cap_key {
                            s.events.remove(i);
                            continue;
                        }
                        if s.events[i].key() < cap_key {
                            s.events[i].event_type = EventType::Ipci;
                        }
                        i += 1;
                    }
                    s.add(m, ipced, EventType::Ipci, Shifted::Yes);
                }
            }
            Some(_) => {}
            None => {
                if let Some(ipced) = t.capitalization_end_date {
                    s.add(m, ipced, EventType::Ipci, Shifted::Yes);
                }
            }
        }
        // Maturity and purchase after the interest payments: they fall last (the order of
        // adding only matters among events of one type, which sort in the order added).
        let md_shift = if matches!(self.kind, Kind::Lam | Kind::Nam) {
            Shifted::Yes
        } else {
            Shifted::No
        };
        s.add(m, md, EventType::Md, md_shift);
        if let Some(prd) = t.purchase_date {
            s.add(m, prd, EventType::Prd, Shifted::No);
        }
        // Rate resets; the first after the status date uses nextResetRate when given.
        let first = s.add_rate_resets(m, self.ied, md);
        if self.kind == Kind::Ann {
            // The instalment is re-fixed right after every reset.
            for i in first..s.events.len() {
                let reset = s.events[i].schedule_time;
                s.add(m, reset, EventType::Prf, Shifted::Yes);
            }
        }
        // The instalment is fixed the day before the first redemption. When that day is
        // before the initial exchange (first redemption on the exchange date, ACTUS case
        // ann09) there is nothing to size yet: the instalment is fixed at the initial exchange
        // instead (see `Loan::apply`).
        if self.kind == Kind::Ann
            && t.next_principal_redemption_payment.is_none()
            && self.pr_anchor > self.ied
        {
            let day_before = self.pr_anchor.with_date(self.pr_anchor.date().add_days(-1));
            s.add(m, day_before, EventType::Prf, Shifted::Yes);
        }
        if let Some(cycle) = t.cycle_of_fee {
            let anchor = t.cycle_anchor_date_of_fee.unwrap_or(self.ied);
            s.add_cycle(m, anchor, md, Some(cycle), EndDate::Include, EventType::Fp);
        }
        if t.scaling_effect
            .is_some_and(|e| e.scales_interest() || e.scales_notional())
        {
            let anchor = cycle_anchor(
                t.cycle_anchor_date_of_scaling_index,
                t.cycle_of_scaling_index,
                self.ied,
            );
            if let Some(anchor) = anchor {
                s.add_cycle(
                    m,
                    anchor,
                    md,
                    t.cycle_of_scaling_index,
                    EndDate::Exclude,
                    EventType::Sc,
                );
            }
        }
        if self.kind != Kind::Pam && self.icb == InterestCalculationBase::NotionalLagged {
            s.add_base_fixings(m, self.ied, md);
        }
        if let Some(td) = t.termination_date {
            s.terminate_at(td);
        }
        Ok(())
    }

    /// The last date of the interest payment schedule up to the status date (ACTUS: the
    /// schedule starts at the capitalisation end date if any, else at the anchor, else one
    /// cycle after the initial exchange), if there is one.
    fn last_interest_date_before_status(&self, dates: &mut Vec<DateTime>) -> Option<DateTime> {
        let m = self.m;
        let t = m.terms;
        let cycle = t.cycle_of_interest_payment;
        let (start, skip_start) = match (
            t.capitalization_end_date,
            t.cycle_anchor_date_of_interest_payment,
        ) {
            (Some(c), _) => (c, false),
            (None, Some(a)) => (a, false),
            // Generated from the initial exchange, whose own date is not a payment date.
            (None, None) => (self.ied, true),
        };
        cycle?;
        if start >= m.status_date {
            return None;
        }
        // Up to the status date (included: a payment on it has been made, as every event on
        // it), without a long stub folding the last date away.
        let regular = cycle.map(|c| almanac_time::Cycle {
            stub: almanac_time::Stub::Short,
            ..c
        });
        let after = m.status_date.with_date(m.status_date.date().add_days(1));
        schedule::generate_into(dates, start, after, regular, m.eom, EndDate::Exclude);
        let first = usize::from(skip_start);
        dates
            .get(first..)?
            .iter()
            .rev()
            .find(|d| **d <= m.status_date)
            .copied()
    }

    /// Interest calculation base at initial exchange.
    fn initial_base(&self, nt: f64) -> f64 {
        match self.icb {
            InterestCalculationBase::Notional => nt,
            _ => self.m.role_sign * self.m.terms.interest_calculation_base_amount.unwrap_or(0.0),
        }
    }

    /// The states at the status date; `dates` is a buffer for the dates it generates.
    fn initial_states(&self, dates: &mut Vec<DateTime>) -> States {
        let m = self.m;
        let t = m.terms;
        let r = m.role_sign;
        let mut st = States {
            status_date: m.status_date,
            notional_scaling_multiplier: t.notional_scaling_multiplier.unwrap_or(1.0),
            interest_scaling_multiplier: t.interest_scaling_multiplier.unwrap_or(1.0),
            fee_accrued: t.fee_accrued.unwrap_or(0.0),
            ..States::default()
        };
        if let Some(p) = t.contract_performance {
            st.contract_performance = p;
        }
        if self.ied <= m.status_date {
            st.notional_principal = r * self.notional;
            st.nominal_interest_rate = self.rate;
            st.interest_calculation_base_amount = self.initial_base(st.notional_principal);
        }
        // Accrued interest: unsigned in the terms, signed by role in the state (for every
        // kind; PAM and LAM took it unsigned before, counting a liability's accrued interest
        // as a receipt — found by the QuantLib cross-check). When the terms do not give it,
        // it is derived as the ACTUS technical specification says (PAM state initialisation):
        // `Y(t⁻, t0) × Nvl × Nrt` with `t⁻` the last interest payment date before the status
        // date, none (so zero) before the first one — as the suite expects (lam18, lam21).
        st.accrued_interest = match t.accrued_interest {
            Some(a) => r * a,
            None if self.ied <= m.status_date => match self.last_interest_date_before_status(dates)
            {
                Some(last) => {
                    m.year_fraction(last, m.status_date)
                        * st.notional_principal
                        * st.nominal_interest_rate
                }
                None => 0.0,
            },
            None => 0.0,
        };
        // The base of that accrued interest, as far as the rate tells it.
        if self.rate != 0.0 {
            st.interest_accrual_base = st.accrued_interest / self.rate;
        }
        st.next_principal_redemption_payment =
            match (self.kind, t.next_principal_redemption_payment) {
                (_, Some(p)) => p,
                (Kind::Lam, None) => {
                    let end = t.amortization_date.unwrap_or(self.maturity);
                    schedule::generate_into(
                        dates,
                        self.pr_anchor,
                        end,
                        t.cycle_of_principal_redemption,
                        m.eom,
                        EndDate::Include,
                    );
                    let n = dates.iter().filter(|d| **d > m.status_date).count();
                    if n == 0 {
                        0.0
                    } else {
                        self.notional / n as f64
                    }
                }
                (Kind::Ann, None) if self.ied <= m.status_date => {
                    r * self.annuity_amount(&st, Redemptions::AfterStatusDate)
                }
                _ => 0.0,
            };
        st
    }

    /// The annuity instalment (ACTUS technical specification §3.8) for the state `st`: the
    /// constant payment that, with interest at the current rate between the remaining
    /// redemption dates, repays notional plus accrued interest by the amortisation end.
    /// Signed like the notional.
    /// With `Redemptions::FromStatusDate` a redemption on the status date itself counts (the
    /// instalment is being fixed at initial exchange for a redemption on that same day).
    fn annuity_amount(&self, st: &States, which: Redemptions) -> f64 {
        let m = self.m;
        let sd = st.status_date;
        let start = match which {
            Redemptions::AfterStatusDate => self.annuity_dates.partition_point(|d| *d <= sd),
            Redemptions::FromStatusDate => self.annuity_dates.partition_point(|d| *d < sd),
        };
        let dates = &self.annuity_dates[start..];
        let Some(&first) = dates.first() else {
            return 0.0;
        };
        let rate = st.nominal_interest_rate;
        let nt = st.notional_principal;
        let scale = nt + st.accrued_interest + m.year_fraction_unshifted(sd, first) * rate * nt;
        let mut product = 1.0;
        let mut sum = 0.0;
        let from = start.saturating_sub(self.annuity_skip);
        for y in self.annuity_periods[from.min(self.annuity_periods.len())..]
            .iter()
            .rev()
        {
            product *= 1.0 + rate * y;
            sum += product;
        }
        scale * product / (1.0 + sum)
    }

    /// Runs the states through the schedule, each event to `out`, except those before a
    /// purchase (evaluated for their effect on the states, not given: an analysis event on
    /// the purchase day aside, as `drop_before_purchase` keeps).
    fn apply<S: EventSink>(
        &self,
        sched: &Schedule,
        yfs: &[f64],
        initial: &States,
        ctx: &EvalContext<'_>,
        out: &mut S,
    ) -> Result<(), ContractError> {
        let m = self.m;
        let t = m.terms;
        let r = m.role_sign;
        let mut st = *initial;
        let lagged_base = self.icb == InterestCalculationBase::NotionalLagged;
        let purchase = t.purchase_date.map(|prd| (prd, EventType::Prd.sequence()));
        out.reserve(sched.events.len());
        for (p, &y) in sched.events.iter().zip(yfs) {
            let time = p.schedule_time;
            let base = if self.kind == Kind::Pam {
                st.notional_principal
            } else {
                st.interest_calculation_base_amount
            };
            let interest_due = y * st.nominal_interest_rate * base;
            // Every event accrues on the base in force since the last one.
            st.interest_accrual_base += y * base;
            let fee_due = y * self.fee_rate * st.notional_principal;
            let payoff;
            match p.event_type {
                EventType::Ied => {
                    payoff = -r * (self.notional + t.premium_discount_at_ied.unwrap_or(0.0));
                    st.notional_principal = r * self.notional;
                    st.nominal_interest_rate = self.rate;
                    if self.kind == Kind::Pam {
                        if let Some(a) = t.cycle_anchor_date_of_interest_payment {
                            if a < time {
                                let y = m.year_fraction(a, time);
                                st.accrued_interest +=
                                    st.notional_principal * st.nominal_interest_rate * y;
                                st.interest_accrual_base += st.notional_principal * y;
                            }
                        }
                    } else {
                        st.interest_calculation_base_amount =
                            self.initial_base(st.notional_principal);
                        st.accrued_interest = r * t.accrued_interest.unwrap_or(0.0);
                        if self.kind == Kind::Ann
                            && t.next_principal_redemption_payment.is_none()
                            && self.pr_anchor <= self.ied
                        {
                            st.status_date = time;
                            st.next_principal_redemption_payment =
                                r * self.annuity_amount(&st, Redemptions::FromStatusDate);
                        }
                    }
                }
                EventType::Ip => {
                    payoff = st.interest_scaling_multiplier * (st.accrued_interest + interest_due);
                    st.accrued_interest = 0.0;
                    st.fee_accrued += fee_due;
                }
                EventType::Ipci => {
                    payoff = 0.0;
                    st.notional_principal += st.accrued_interest + interest_due;
                    st.accrued_interest = 0.0;
                    st.fee_accrued += y * self.fee_rate * st.notional_principal;
                    if self.kind != Kind::Pam && !lagged_base {
                        st.interest_calculation_base_amount = st.notional_principal;
                    }
                }
                EventType::Rr | EventType::Rrf => {
                    payoff = 0.0;
                    st.accrued_interest += interest_due;
                    st.fee_accrued += fee_due;
                    st.nominal_interest_rate = if p.event_type == EventType::Rrf {
                        self.next_reset_rate.unwrap_or(st.nominal_interest_rate)
                    } else {
                        reset_rate(m, ctx, time, st.nominal_interest_rate)?
                    };
                }
                EventType::Prf => {
                    payoff = 0.0;
                    st.accrued_interest += interest_due;
                    st.fee_accrued += fee_due;
                    st.status_date = time;
                    st.next_principal_redemption_payment =
                        r * self.annuity_amount(&st, Redemptions::AfterStatusDate);
                }
                EventType::Pr => {
                    let outstanding = st.notional_principal.abs();
                    let redemption = |amount: f64| amount - (amount - outstanding).max(0.0);
                    if self.kind == Kind::Lam {
                        let red = redemption(st.next_principal_redemption_payment.abs());
                        payoff = r * st.notional_scaling_multiplier * red;
                        st.accrued_interest += interest_due;
                        st.fee_accrued += fee_due;
                        st.notional_principal -= r * red;
                        if !lagged_base {
                            st.interest_calculation_base_amount = st.notional_principal;
                        }
                    } else {
                        let red = redemption(
                            st.next_principal_redemption_payment
                                - r * (st.accrued_interest + interest_due),
                        );
                        payoff = r * st.notional_scaling_multiplier * red;
                        st.accrued_interest += interest_due;
                        st.fee_accrued += fee_due;
                        st.notional_principal -= r * red;
                        if self.icb == InterestCalculationBase::Notional {
                            st.interest_calculation_base_amount = st.notional_principal;
                        }
                    }
                }
                EventType::Fp => {
                    payoff = fee_payoff(m, st.fee_accrued, fee_due);
                    st.accrued_interest += interest_due;
                    st.fee_accrued = 0.0;
                }
                EventType::Sc => {
                    payoff = 0.0;
                    st.accrued_interest += interest_due;
                    st.fee_accrued += fee_due;
                    let index = m.observe(
                        ctx,
                        t.market_object_code_of_scaling_index.as_deref(),
                        "marketObjectCodeOfScalingIndex",
                        time,
                    )?;
                    let at_deal = t
                        .scaling_index_at_contract_deal_date
                        .filter(|x| *x != 0.0)
                        .ok_or_else(|| m.missing("scalingIndexAtContractDealDate"))?;
                    let multiplier = index / at_deal;
                    if let Some(effect) = t.scaling_effect {
                        if effect.scales_interest() {
                            st.interest_scaling_multiplier = multiplier;
                        }
                        if effect.scales_notional() {
                            st.notional_scaling_multiplier = multiplier;
                        }
                    }
                }
                EventType::Ipcb => {
                    payoff = 0.0;
                    st.accrued_interest += interest_due;
                    st.fee_accrued += fee_due;
                    st.interest_calculation_base_amount = st.notional_principal;
                }
                EventType::Prd => {
                    payoff = -r
                        * (t.price_at_purchase_date.unwrap_or(0.0)
                            + st.accrued_interest
                            + interest_due);
                    st.accrued_interest += interest_due;
                    st.fee_accrued += fee_due;
                }
                EventType::Td => {
                    payoff = r
                        * (t.price_at_termination_date.unwrap_or(0.0)
                            + st.accrued_interest
                            + interest_due);
                    st.notional_principal = 0.0;
                    st.accrued_interest = 0.0;
                    st.fee_accrued = 0.0;
                }
                EventType::Md => {
                    payoff = st.notional_scaling_multiplier * st.notional_principal;
                    st.notional_principal = 0.0;
                    st.accrued_interest = 0.0;
                    st.fee_accrued = 0.0;
                    st.interest_calculation_base_amount = 0.0;
                }
                _ => payoff = 0.0,
            }
            st.status_date = time;
            if purchase.is_none_or(|k| p.event_type == EventType::Ad || p.key() >= k) {
                out.event(p.head(), payoff, &st);
            }
            if matches!(
                p.event_type,
                EventType::Ip | EventType::Ipci | EventType::Td | EventType::Md
            ) {
                // Paid (or capitalised, or ended): the next accrual starts afresh.
                st.interest_accrual_base = 0.0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::periods_from_walk;
    use almanac_time::{Date, DayCount};
    use proptest::prelude::*;

    /// The walk the state loop does: from `start` along `walked`, repeated dates at 0.
    fn walk(dc: &DayCount, start: Date, walked: &[Date]) -> Vec<f64> {
        let mut w = dc.walk(start);
        walked.iter().map(|d| w.to(*d)).collect()
    }

    #[test]
    fn periods_are_read_off_the_walk_only_where_the_dates_are_the_walks() {
        let dc = DayCount::ThirtyE360;
        let d = |m: u32| Date::ymd(2026, m, 15);
        let start = Date::ymd(2026, 1, 10);
        // Events on each date twice (redemption, interest), from after the start.
        let walked = [d(2), d(2), d(3), d(3), d(4), d(4), d(5)];
        let yfs = walk(&dc, start, &walked);
        let mut expected = Vec::new();
        let mut out = Vec::new();
        for dates in [
            vec![d(2), d(3), d(4), d(5)],
            vec![d(2), d(3)],
            vec![d(2)],
            vec![],
        ] {
            dc.year_fractions(&dates, &mut expected);
            assert!(periods_from_walk(
                start,
                walked.iter().copied(),
                &yfs,
                &dates,
                &mut out
            ));
            assert_eq!(out, expected);
        }
        // Dates starting at the walk's start.
        let dates = [start, d(2), d(3)];
        dc.year_fractions(&dates, &mut expected);
        assert!(periods_from_walk(
            start,
            walked.iter().copied(),
            &yfs,
            &dates,
            &mut out
        ));
        assert_eq!(out, expected);
        // A date the walk skips, one it does not reach, or an extra walked date: not read off.
        for dates in [
            vec![d(2), d(4)],
            vec![d(2), d(3), d(4), d(5), d(6)],
            vec![d(3), d(4)],
        ] {
            assert!(!periods_from_walk(
                start,
                walked.iter().copied(),
                &yfs,
                &dates,
                &mut out
            ));
        }
    }

    proptest! {
        /// On any monthly schedule (any day of month, any 30/360 or actual convention), the
        /// periods read off the walk are those computed afresh, bit for bit.
        #[test]
        fn read_off_periods_equal_computed_ones(
            day in 1u32..=31, months in 1usize..60, step in 1i32..=12, start_back in 0i32..40,
            which in 0usize..4,
        ) {
            let dc = [DayCount::ThirtyE360, DayCount::Act360, DayCount::Act365Fixed,
                DayCount::ActActIsda][which].clone();
            let anchor = Date::ymd(2020, 1, day.min(28)).add_days(i32::try_from(day).unwrap() - 1);
            let dates: Vec<Date> = (0..months).map(|k| anchor.add_months(step * k as i32)).collect();
            let start = anchor.add_days(-start_back);
            let walked: Vec<Date> = dates.iter().flat_map(|d| [*d, *d]).collect();
            let yfs = walk(&dc, start, &walked);
            let mut out = Vec::new();
            prop_assert!(periods_from_walk(start, walked.iter().copied(), &yfs, &dates, &mut out));
            let mut expected = Vec::new();
            dc.year_fractions(&dates, &mut expected);
            prop_assert_eq!(out.len(), expected.len());
            for (a, b) in out.iter().zip(&expected) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
}
