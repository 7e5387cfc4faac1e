//! Call money (CLM) and undefined maturity profile (UMP): balances without a fixed maturity
//! whose interest is capitalised — interbank call money, notice deposits, current and savings
//! accounts.
//!
//! CLM runs to its maturity date, or to the horizon when it has none; a call notice (an
//! observed XD event at T) ends it: interest stops accruing at T and is paid with the principal
//! `xDayNotice` later. UMP runs to the horizon (exclusive); its principal moves only through
//! observed deposits and withdrawals (PR/PI events) or termination.

use almanac_time::{DateTime, EndDate, SchedulePoint};

use super::{emit, fee_payoff, reset_rate, EvalContext, Model, Schedule, Shifted};
use crate::codes::ContractType;
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let is_clm = m.contract_type == ContractType::Clm;
    let ied = t
        .initial_exchange_date
        .ok_or_else(|| m.missing("initialExchangeDate"))?;
    let notional = t
        .notional_principal
        .ok_or_else(|| m.missing("notionalPrincipal"))?;
    let end = if is_clm {
        t.maturity_date.or(ctx.to)
    } else {
        ctx.to
    }
    .ok_or_else(|| m.missing("maturityDate (or an analysis horizon)"))?;
    let mut s = Schedule::default();
    s.add(m, ied, EventType::Ied, Shifted::No);
    if is_clm {
        s.add(m, end, EventType::Ip, Shifted::No);
        s.add(m, end, EventType::Md, Shifted::No);
    }
    if let Some(cycle) = t.cycle_of_interest_payment {
        let anchor = t.cycle_anchor_date_of_interest_payment.unwrap_or(ied);
        s.add_cycle(
            m,
            anchor,
            end,
            Some(cycle),
            EndDate::Exclude,
            EventType::Ipci,
        );
    }
    s.add_rate_resets(m, ied, end);
    if let Some(cycle) = t.cycle_of_fee {
        let anchor = t.cycle_anchor_date_of_fee.unwrap_or(ied);
        s.add_cycle(m, anchor, end, Some(cycle), EndDate::Exclude, EventType::Fp);
    }
    if !is_clm {
        for e in ctx.observed_events {
            if matches!(e.event_type, EventType::Pr | EventType::Pi) {
                s.add(m, e.time, e.event_type, Shifted::No);
            }
        }
        if let Some(td) = t.termination_date {
            s.terminate_at(td);
        }
    }
    // Call notice: everything from the notice date on is replaced by XD at T and interest and
    // principal settled xDayNotice later (not cut by the horizon).
    let call = if is_clm {
        ctx.observed_events
            .iter()
            .find(|e| e.event_type == EventType::Xd)
            .map(|e| e.time)
    } else {
        None
    };
    if let Some(notice) = call {
        s.events
            .retain(|e| e.event_type == EventType::Ied || e.event_time < notice);
    }
    s.finish(m.status_date, ctx.to);

    let mut st = States {
        status_date: m.status_date,
        ..States::default()
    };
    if ied <= m.status_date {
        st.notional_principal = r * notional;
        st.nominal_interest_rate = t.nominal_interest_rate.unwrap_or(0.0);
        st.accrued_interest = r * t.accrued_interest.unwrap_or(0.0);
        st.fee_accrued = t.fee_accrued.unwrap_or(0.0);
    }
    let fee_rate = t.fee_rate.unwrap_or(0.0);
    for p in &s.events {
        let time = p.schedule_time;
        let y = m.year_fraction(st.status_date, time);
        let interest_due = y * st.nominal_interest_rate * st.notional_principal;
        let fee_due = y * fee_rate * st.notional_principal;
        let payoff = match p.event_type {
            EventType::Ied => {
                st.notional_principal = r * notional;
                st.nominal_interest_rate = t.nominal_interest_rate.unwrap_or(0.0);
                st.accrued_interest = r * t.accrued_interest.unwrap_or(0.0);
                -r * notional
            }
            EventType::Ipci => {
                st.notional_principal += st.accrued_interest + interest_due;
                st.accrued_interest = 0.0;
                st.fee_accrued += fee_due;
                0.0
            }
            EventType::Rr | EventType::Rrf => {
                st.accrued_interest += interest_due;
                st.fee_accrued += fee_due;
                st.nominal_interest_rate = if p.event_type == EventType::Rrf {
                    t.next_reset_rate.unwrap_or(st.nominal_interest_rate)
                } else {
                    reset_rate(m, ctx, time, st.nominal_interest_rate)?
                };
                0.0
            }
            EventType::Fp => {
                st.accrued_interest += interest_due;
                let pay = fee_payoff(m, st.fee_accrued, fee_due);
                st.fee_accrued = 0.0;
                pay
            }
            EventType::Ip => {
                let pay = st.accrued_interest + interest_due;
                st.accrued_interest = 0.0;
                pay
            }
            EventType::Md => {
                let pay = st.notional_principal;
                st.notional_principal = 0.0;
                st.accrued_interest = 0.0;
                st.fee_accrued = 0.0;
                pay
            }
            EventType::Pr | EventType::Pi => {
                // Observed withdrawal (PR) or deposit (PI), unsigned amount.
                let amount = ctx
                    .observed_events
                    .iter()
                    .find(|e| e.time == time && e.event_type == p.event_type)
                    .map_or(0.0, |e| e.value);
                st.accrued_interest += interest_due;
                st.fee_accrued += fee_due;
                let signed = if p.event_type == EventType::Pr {
                    amount
                } else {
                    -amount
                };
                st.notional_principal -= r * signed;
                r * signed
            }
            EventType::Td => {
                let pay = r * t.price_at_termination_date.unwrap_or(0.0)
                    + st.accrued_interest
                    + interest_due;
                st.notional_principal = 0.0;
                st.accrued_interest = 0.0;
                st.fee_accrued = 0.0;
                pay
            }
            _ => 0.0,
        };
        st.status_date = time;
        out.push(emit(p, payoff, &st));
    }
    if let Some(notice) = call {
        settle_call(m, ctx, notice, st, out)?;
    }
    Ok(())
}

/// Call notice at `notice`: XD fixes the interest accrued to the notice date; interest (IP)
/// and principal (STD) are paid `xDayNotice` later.
fn settle_call(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    notice: DateTime,
    mut st: States,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    if notice <= m.status_date || ctx.to.is_some_and(|to| notice > to) {
        return Ok(());
    }
    let period = m
        .terms
        .x_day_notice
        .ok_or_else(|| m.missing("xDayNotice"))?;
    let settle = notice.with_date(period.add_to(notice.date(), 1));
    let y = m.year_fraction(st.status_date, notice);
    st.accrued_interest += y * st.nominal_interest_rate * st.notional_principal;
    st.status_date = notice;
    let interest = st.accrued_interest;
    let pending = |time: DateTime, ty: EventType| super::Pending {
        schedule_time: time,
        event_time: time,
        event_type: ty,
        key: 0,
    };
    // With a notice period the fixed interest is shown as moved to the pending payment.
    let mut shown = st;
    if settle > notice {
        shown.accrued_interest = 0.0;
    }
    out.push(emit(&pending(notice, EventType::Xd), 0.0, &shown));
    st.accrued_interest = 0.0;
    st.status_date = settle;
    out.push(emit(&pending(settle, EventType::Ip), interest, &st));
    let principal = st.notional_principal;
    st.notional_principal = 0.0;
    out.push(emit(&pending(settle, EventType::Std), principal, &st));
    Ok(())
}
