//! Exotic linear amortizer (LAX): a loan whose principal programme is given segment by
//! segment — step-up drawdowns (principal increase, PI) followed by redemptions (PR), each
//! segment with its own anchor, cycle and amount — and whose rate is fixed or floating per
//! segment. Typical use: construction loans and structured amortising facilities.
//!
//! Conventions as for the other amortizers: payoffs from the bank's side (`R` = +1 for an
//! asset, −1 for a liability), rates as decimals per year, accrual on the contract's day count.
//!
//! Rules the official test data fixes (see `docs/research/other-basic.md` §1):
//! * Segment `i` of an array programme runs from its anchor up to the next segment's anchor
//!   (exclusive), the last one up to maturity (exclusive): the final redemption is the MD event.
//! * Without `maturityDate`, maturity is the first redemption date at which the running
//!   notional reaches zero (lax04–lax18; the reference implementation leaves this unfinished).
//! * A floating segment's new rate is `multiplier × observed + spread + arrayRate[i]`, an
//!   absolute rate (lax18), limited by the period and life caps and floors; a fixed segment
//!   sets `arrayRate[i]` (RRF, lax17).
//! * A principal increase pays `−R × amount` (the lender pays out the drawdown).

use almanac_time::{schedule, Cycle, DateTime, EndDate};

use super::{
    drop_before_purchase, emit, fee_payoff, reset_rate_plus, EvalContext, Model, Schedule, Shifted,
};
use crate::codes::{FixedVariable, IncreaseDecrease, InterestCalculationBase};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};

/// One segment of the principal programme.
struct PrincipalSegment {
    anchor: DateTime,
    cycle: Option<Cycle>,
    amount: f64,
    direction: IncreaseDecrease,
}

/// One segment of the rate programme.
struct RateSegment {
    anchor: DateTime,
    cycle: Option<Cycle>,
    rate: f64,
    fixed: bool,
}

/// The `i`-th element of an array term, or its last element when the array is shorter (the
/// suite writes one value for all segments), or `None` when the array is absent.
fn nth<T: Copy>(values: Option<&[T]>, i: usize) -> Option<T> {
    let v = values?;
    v.get(i).or(v.last()).copied()
}

/// Index of the segment a scheduled time belongs to: the last anchor on or before it.
fn segment_of(anchors: impl Iterator<Item = DateTime>, t: DateTime) -> usize {
    anchors.take_while(|a| *a <= t).count().saturating_sub(1)
}

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let ied = t
        .initial_exchange_date
        .ok_or_else(|| m.missing("initialExchangeDate"))?;
    let notional = m.notional()?;
    let principal = principal_segments(m)?;
    let rates = rate_segments(m)?;
    let md = match t.maturity_date {
        Some(md) => md,
        None => derive_maturity(m, notional, &principal)?,
    };
    if md < ied {
        return Err(m.inconsistent(
            "maturityDate",
            &md,
            &format!("is before the initial exchange date {ied}"),
        ));
    }
    let icb = t
        .interest_calculation_base
        .unwrap_or(InterestCalculationBase::Notional);

    // Schedule.
    let mut s = Schedule::default();
    s.add(m, ied, EventType::Ied, Shifted::No);
    if let Some(prd) = t.purchase_date {
        s.add(m, prd, EventType::Prd, Shifted::No);
    }
    for (i, seg) in principal.iter().enumerate() {
        let end = principal.get(i + 1).map_or(md, |next| next.anchor.min(md));
        let ty = match seg.direction {
            IncreaseDecrease::Increase => EventType::Pi,
            IncreaseDecrease::Decrease => EventType::Pr,
        };
        s.add_cycle(m, seg.anchor, end, seg.cycle, EndDate::Exclude, ty);
    }
    s.add(m, md, EventType::Md, Shifted::Yes);
    interest_schedule(m, md, &mut s);
    for (i, seg) in rates.iter().enumerate() {
        let end = rates.get(i + 1).map_or(md, |next| next.anchor.min(md));
        let ty = if seg.fixed {
            EventType::Rrf
        } else {
            EventType::Rr
        };
        s.add_cycle(m, seg.anchor, end, seg.cycle, EndDate::Exclude, ty);
    }
    if let Some(cycle) = t.cycle_of_fee {
        let anchor = t.cycle_anchor_date_of_fee.unwrap_or(ied);
        s.add_cycle(m, anchor, md, Some(cycle), EndDate::Include, EventType::Fp);
    }
    if icb == InterestCalculationBase::NotionalLagged {
        s.add_base_fixings(m, ied, md);
    }
    if let Some(td) = t.termination_date {
        s.terminate_at(td);
    }
    s.finish(m.status_date, ctx.to.or(Some(md)));

    // Evaluation.
    let fee_rate = t.fee_rate.unwrap_or(0.0);
    let rate0 = t.nominal_interest_rate.unwrap_or(0.0);
    let initial_base = |nt: f64| match icb {
        InterestCalculationBase::Notional => nt,
        _ => r * t.interest_calculation_base_amount.unwrap_or(0.0),
    };
    let mut st = States {
        status_date: m.status_date,
        notional_scaling_multiplier: 1.0,
        interest_scaling_multiplier: 1.0,
        fee_accrued: t.fee_accrued.unwrap_or(0.0),
        ..States::default()
    };
    if ied <= m.status_date {
        st.notional_principal = r * notional;
        st.nominal_interest_rate = rate0;
        st.accrued_interest = r * t.accrued_interest.unwrap_or(0.0);
        st.interest_calculation_base_amount = initial_base(st.notional_principal);
    }
    out.reserve(s.events.len());
    for p in &s.events {
        let time = p.schedule_time;
        let y = m.year_fraction(st.status_date, time);
        let interest_due = y * st.nominal_interest_rate * st.interest_calculation_base_amount;
        let fee_due = y * fee_rate * st.notional_principal;
        let accrue = |st: &mut States| {
            st.accrued_interest += interest_due;
            st.fee_accrued += fee_due;
        };
        let payoff = match p.event_type {
            EventType::Ied => {
                st.notional_principal = r * notional;
                st.nominal_interest_rate = rate0;
                st.interest_calculation_base_amount = initial_base(st.notional_principal);
                st.accrued_interest = r * t.accrued_interest.unwrap_or(0.0);
                -r * (notional + t.premium_discount_at_ied.unwrap_or(0.0))
            }
            EventType::Pr | EventType::Pi => {
                let seg = &principal[segment_of(principal.iter().map(|s| s.anchor), time)];
                accrue(&mut st);
                let payoff = if p.event_type == EventType::Pr {
                    let red = seg.amount.min(st.notional_principal.abs());
                    st.notional_principal -= r * red;
                    st.notional_scaling_multiplier * r * red
                } else {
                    st.notional_principal += r * seg.amount;
                    -r * seg.amount
                };
                if icb != InterestCalculationBase::NotionalLagged {
                    st.interest_calculation_base_amount = st.notional_principal;
                }
                payoff
            }
            EventType::Ip => {
                let pay = st.interest_scaling_multiplier * (st.accrued_interest + interest_due);
                st.accrued_interest = 0.0;
                st.fee_accrued += fee_due;
                pay
            }
            EventType::Ipci => {
                st.notional_principal += st.accrued_interest + interest_due;
                st.accrued_interest = 0.0;
                st.fee_accrued += fee_due;
                if icb != InterestCalculationBase::NotionalLagged {
                    st.interest_calculation_base_amount = st.notional_principal;
                }
                0.0
            }
            EventType::Rr | EventType::Rrf => {
                let seg = &rates[segment_of(rates.iter().map(|s| s.anchor), time)];
                accrue(&mut st);
                st.nominal_interest_rate = if p.event_type == EventType::Rrf {
                    seg.rate
                } else {
                    reset_rate_plus(m, ctx, time, st.nominal_interest_rate, seg.rate)?
                };
                0.0
            }
            EventType::Fp => {
                let pay = fee_payoff(m, st.fee_accrued, fee_due);
                st.accrued_interest += interest_due;
                st.fee_accrued = 0.0;
                pay
            }
            EventType::Ipcb => {
                accrue(&mut st);
                st.interest_calculation_base_amount = st.notional_principal;
                0.0
            }
            EventType::Prd => {
                let pay = -r
                    * (t.price_at_purchase_date.unwrap_or(0.0)
                        + st.accrued_interest
                        + interest_due);
                accrue(&mut st);
                pay
            }
            EventType::Td => {
                let pay = r
                    * (t.price_at_termination_date.unwrap_or(0.0)
                        + st.accrued_interest
                        + interest_due);
                st.notional_principal = 0.0;
                st.accrued_interest = 0.0;
                st.fee_accrued = 0.0;
                pay
            }
            EventType::Md => {
                let pay = st.notional_scaling_multiplier * st.notional_principal;
                st.notional_principal = 0.0;
                st.accrued_interest = 0.0;
                st.fee_accrued = 0.0;
                st.interest_calculation_base_amount = 0.0;
                pay
            }
            _ => 0.0,
        };
        st.status_date = time;
        out.push(emit(p, payoff, &st));
    }
    drop_before_purchase(out, t.purchase_date);
    Ok(())
}

fn principal_segments(m: &Model<'_>) -> Result<Vec<PrincipalSegment>, ContractError> {
    let t = m.terms;
    let Some(anchors) = t.array_cycle_anchor_date_of_principal_redemption.as_deref() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(anchors.len());
    for (i, &anchor) in anchors.iter().enumerate() {
        if i > 0 && anchor <= anchors[i - 1] {
            return Err(m.inconsistent(
                "arrayCycleAnchorDateOfPrincipalRedemption",
                &anchor,
                "anchors must be strictly increasing",
            ));
        }
        let amount = nth(t.array_next_principal_redemption_payment.as_deref(), i)
            .ok_or_else(|| m.missing("arrayNextPrincipalRedemptionPayment"))?;
        if amount < 0.0 {
            return Err(m.inconsistent(
                "arrayNextPrincipalRedemptionPayment",
                &amount,
                "must not be negative (arrayIncreaseDecrease gives the direction)",
            ));
        }
        out.push(PrincipalSegment {
            anchor,
            cycle: nth(t.array_cycle_of_principal_redemption.as_deref(), i),
            amount,
            direction: nth(t.array_increase_decrease.as_deref(), i)
                .unwrap_or(IncreaseDecrease::Decrease),
        });
    }
    Ok(out)
}

fn rate_segments(m: &Model<'_>) -> Result<Vec<RateSegment>, ContractError> {
    let t = m.terms;
    let Some(anchors) = t.array_cycle_anchor_date_of_rate_reset.as_deref() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(anchors.len());
    for (i, &anchor) in anchors.iter().enumerate() {
        if i > 0 && anchor <= anchors[i - 1] {
            return Err(m.inconsistent(
                "arrayCycleAnchorDateOfRateReset",
                &anchor,
                "anchors must be strictly increasing",
            ));
        }
        out.push(RateSegment {
            anchor,
            cycle: nth(t.array_cycle_of_rate_reset.as_deref(), i),
            rate: nth(t.array_rate.as_deref(), i).unwrap_or(0.0),
            fixed: nth(t.array_fixed_variable.as_deref(), i) == Some(FixedVariable::Fixed),
        });
    }
    Ok(out)
}

/// Maturity when `maturityDate` is absent: walk the principal programme, adding increases
/// and subtracting redemptions from the notional, until a redemption brings it to zero.
fn derive_maturity(
    m: &Model<'_>,
    notional: f64,
    principal: &[PrincipalSegment],
) -> Result<DateTime, ContractError> {
    /// Longest programme walked (e.g. 83 years of monthly steps) before giving up.
    const MAX_STEPS: i32 = 1000;
    let never = || {
        m.missing("maturityDate (the principal programme never repays the notional, so it cannot be derived)")
    };
    let mut outstanding = notional;
    for (i, seg) in principal.iter().enumerate() {
        let next = principal.get(i + 1).map(|s| s.anchor);
        let mut k = 0;
        loop {
            let date = match seg.cycle {
                Some(c) => {
                    let mut d = c.period.add_to(seg.anchor.date(), k);
                    if m.eom == almanac_time::EndOfMonthConvention::EndOfMonth
                        && seg.anchor.date().is_end_of_month()
                        && c.period.is_month_based()
                    {
                        d = d.end_of_month();
                    }
                    almanac_time::SchedulePoint::with_date(seg.anchor, d)
                }
                None if k == 0 => seg.anchor,
                None => break,
            };
            if next.is_some_and(|n| date >= n) {
                break;
            }
            if k >= MAX_STEPS {
                return Err(never());
            }
            match seg.direction {
                IncreaseDecrease::Increase => outstanding += seg.amount,
                IncreaseDecrease::Decrease => {
                    outstanding -= seg.amount;
                    if outstanding <= 0.0 {
                        return Ok(date);
                    }
                }
            }
            k += 1;
        }
    }
    Err(never())
}

/// Interest payments: the union of the array segments' schedules (each segment runs to the
/// next anchor, inclusive; the last to maturity), turned into capitalisation up to
/// `capitalizationEndDate`.
fn interest_schedule(m: &Model<'_>, md: DateTime, s: &mut Schedule) {
    let t = m.terms;
    let mut dates: Vec<DateTime> = Vec::new();
    if let Some(anchors) = t.array_cycle_anchor_date_of_interest_payment.as_deref() {
        let mut seg = Vec::new();
        for (i, &anchor) in anchors.iter().enumerate() {
            let end = anchors.get(i + 1).copied().unwrap_or(md);
            let cycle = nth(t.array_cycle_of_interest_payment.as_deref(), i);
            schedule::generate_into(&mut seg, anchor, end, cycle, m.eom, EndDate::Include);
            dates.extend_from_slice(&seg);
        }
        dates.sort_unstable();
        dates.dedup();
    }
    let ipced = t.capitalization_end_date;
    for d in dates {
        match ipced {
            Some(c) if d < c => s.add(m, d, EventType::Ipci, Shifted::Yes),
            Some(c) if d == c => {}
            _ => s.add(m, d, EventType::Ip, Shifted::Yes),
        }
    }
    if let Some(c) = ipced {
        s.add(m, c, EventType::Ipci, Shifted::Yes);
    }
}
