//! Positions without interest: cash (CSH), stock (STK) and commodity (COM).

use almanac_time::{schedule, DateTime, EndDate};

use super::{emit, EvalContext, Model, Schedule, Shifted};
use crate::codes::ContractType;
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};

/// Horizon for dividend schedules of a stock held without a termination date or horizon.
const STOCK_MAX_YEARS: i32 = 100;

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let mut s = Schedule::default();
    match m.contract_type {
        ContractType::Csh => {
            // Cash has no schedule; monitoring dates come from outside.
            for e in ctx
                .observed_events
                .iter()
                .filter(|e| e.event_type == EventType::Ad)
            {
                s.add(m, e.time, EventType::Ad, Shifted::No);
            }
        }
        ContractType::Stk => {
            if let Some(prd) = t.purchase_date {
                s.add(m, prd, EventType::Prd, Shifted::No);
            }
            if let Some(cycle) = t.cycle_of_dividend {
                let anchor = t
                    .cycle_anchor_date_of_dividend
                    .or(t.purchase_date)
                    .ok_or_else(|| m.missing("cycleAnchorDateOfDividend"))?;
                // Dividends run to the termination date; without one, far enough for any
                // horizon (the horizon itself is not a dividend date).
                let end = t
                    .termination_date
                    .unwrap_or_else(|| anchor.with_date_years(STOCK_MAX_YEARS));
                let mut dates = Vec::new();
                schedule::generate_into(
                    &mut dates,
                    anchor,
                    end,
                    Some(cycle),
                    m.eom,
                    EndDate::Include,
                );
                for d in dates {
                    s.add(m, d, EventType::Dv, Shifted::Yes);
                }
            }
            if let Some(td) = t.termination_date {
                s.terminate_at(td);
            }
        }
        _ => {
            // Commodity: purchase and sale strictly inside (status date, horizon).
            let inside = |d: DateTime| d > m.status_date && ctx.to.is_none_or(|to| d < to);
            if let Some(prd) = t.purchase_date.filter(|d| inside(*d)) {
                s.add(m, prd, EventType::Prd, Shifted::No);
            }
            if let Some(td) = t.termination_date.filter(|d| inside(*d)) {
                s.add(m, td, EventType::Td, Shifted::No);
            }
        }
    }
    s.finish(m.status_date, ctx.to);
    let quantity = t.quantity.unwrap_or(1.0);
    let mut st = States {
        status_date: m.status_date,
        ..States::default()
    };
    if m.contract_type == ContractType::Csh {
        st.notional_principal = r * t
            .notional_principal
            .ok_or_else(|| m.missing("notionalPrincipal"))?;
    }
    for p in &s.events {
        let payoff = match p.event_type {
            EventType::Prd => -r * quantity * t.price_at_purchase_date.unwrap_or(0.0),
            EventType::Td => r * quantity * t.price_at_termination_date.unwrap_or(0.0),
            EventType::Dv => {
                r * quantity
                    * m.observe(
                        ctx,
                        t.market_object_code_of_dividends.as_deref(),
                        "marketObjectCodeOfDividends",
                        p.schedule_time,
                    )?
            }
            _ => 0.0,
        };
        st.status_date = p.schedule_time;
        out.push(emit(p, payoff, &st));
    }
    Ok(())
}

trait AddYears {
    fn with_date_years(self, years: i32) -> Self;
}

impl AddYears for DateTime {
    fn with_date_years(self, years: i32) -> DateTime {
        use almanac_time::SchedulePoint;
        self.with_date(self.date().add_months(12 * years))
    }
}
