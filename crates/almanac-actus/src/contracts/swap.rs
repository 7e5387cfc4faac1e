//! Plain-vanilla interest-rate swap (SWPPV) and FX outright (FXOUT): the treasury's hedges.
//!
//! SWPPV exchanges a fixed rate (`nominalInterestRate`) against a floating one (starting at
//! `nominalInterestRate2`, reset from market data) on one notional that is never exchanged.
//! Gross settlement (`D`) reports the legs as IPFX and IPFL; net settlement (`S`) one IP. The
//! role sign is +1 for receive-fixed (RF) and −1 for pay-fixed (PF).
//!
//! FXOUT exchanges `notionalPrincipal` in `currency` against `notionalPrincipal2` in
//! `currency2` at maturity: two MD events gross, or one STD in `currency` net, at the FX rate
//! `<currency2>/<currency>` observed on the maturity date.
//!
//! As the official test data shows, purchase pays `−R × price` but termination receives the
//! termination price without the role sign (the price is quoted from the creator's side).

use almanac_time::{DateTime, EndDate, SchedulePoint};

use super::{
    cycle_anchor, drop_before_purchase, emit, reset_rate, EvalContext, Model, Schedule, Shifted,
};
use crate::codes::{ContractType, DeliverySettlement};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    if m.contract_type == ContractType::Fxout {
        fx_outright(m, ctx, out)
    } else {
        plain_vanilla_swap(m, ctx, out)
    }
}

fn plain_vanilla_swap(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let ied = t
        .initial_exchange_date
        .ok_or_else(|| m.missing("initialExchangeDate"))?;
    let md = t.maturity_date.ok_or_else(|| m.missing("maturityDate"))?;
    let notional = t
        .notional_principal
        .ok_or_else(|| m.missing("notionalPrincipal"))?;
    let fixed = t
        .nominal_interest_rate
        .ok_or_else(|| m.missing("nominalInterestRate"))?;
    let floating0 = t
        .nominal_interest_rate2
        .ok_or_else(|| m.missing("nominalInterestRate2"))?;
    if md < ied {
        return Err(m.inconsistent("maturityDate", &md, "is before the initial exchange date"));
    }
    let net = t.delivery_settlement == Some(DeliverySettlement::Cash);
    let mut s = Schedule::default();
    if let Some(prd) = t.purchase_date {
        s.add(m, prd, EventType::Prd, Shifted::No);
    }
    s.add(m, ied, EventType::Ied, Shifted::No);
    s.add(m, md, EventType::Md, Shifted::No);
    let ip_anchor = cycle_anchor(
        t.cycle_anchor_date_of_interest_payment,
        t.cycle_of_interest_payment,
        ied,
    );
    if let Some(anchor) = ip_anchor {
        let mut dates = Vec::new();
        almanac_time::schedule::generate_into(
            &mut dates,
            anchor,
            md,
            t.cycle_of_interest_payment,
            m.eom,
            EndDate::Include,
        );
        for d in dates {
            if net {
                s.add(m, d, EventType::Ip, Shifted::Yes);
            } else {
                s.add(m, d, EventType::Ipfx, Shifted::Yes);
                s.add(m, d, EventType::Ipfl, Shifted::Yes);
            }
        }
    }
    s.add_rate_resets(m, ied, md);
    if let Some(td) = t.termination_date {
        s.terminate_at(td);
    }
    s.finish(m.status_date, ctx.to);

    let mut st = States {
        status_date: m.status_date,
        ..States::default()
    };
    if ied <= m.status_date {
        st.notional_principal = r * notional;
        st.nominal_interest_rate = floating0;
        st.accrued_interest = r * t.accrued_interest.unwrap_or(0.0);
    }
    // Year fraction of the last fixed-leg period: the floating leg pays over the same period.
    let mut last_period = 0.0;
    for p in &s.events {
        let time = p.schedule_time;
        let y = m.year_fraction(st.status_date, time);
        let n = st.notional_principal;
        let floating = st.nominal_interest_rate;
        let accrue = |st: &mut States| {
            let leg1 = if net { fixed - floating } else { fixed };
            st.accrued_interest += leg1 * n * y;
            st.accrued_interest2 -= floating * n * y;
        };
        let payoff = match p.event_type {
            EventType::Ied => {
                st.notional_principal = r * notional;
                st.nominal_interest_rate = floating0;
                0.0
            }
            EventType::Ipfx => {
                last_period = y;
                let pay = st.accrued_interest + y * fixed * n;
                st.accrued_interest = 0.0;
                pay
            }
            EventType::Ipfl => {
                let pay = st.accrued_interest2 - last_period * floating * n;
                st.accrued_interest2 = 0.0;
                pay
            }
            EventType::Ip => {
                let pay = st.accrued_interest + y * (fixed - floating) * n;
                st.accrued_interest = 0.0;
                st.accrued_interest2 = 0.0;
                pay
            }
            EventType::Rr | EventType::Rrf => {
                accrue(&mut st);
                st.nominal_interest_rate = if p.event_type == EventType::Rrf {
                    t.next_reset_rate.unwrap_or(floating)
                } else {
                    reset_rate(m, ctx, time, floating)?
                };
                0.0
            }
            EventType::Prd => {
                accrue(&mut st);
                -r * t.price_at_purchase_date.unwrap_or(0.0)
            }
            EventType::Td | EventType::Md => {
                st.notional_principal = 0.0;
                st.accrued_interest = 0.0;
                st.accrued_interest2 = 0.0;
                if p.event_type == EventType::Td {
                    t.price_at_termination_date.unwrap_or(0.0)
                } else {
                    0.0
                }
            }
            _ => 0.0,
        };
        // IPFL follows IPFX at the same time and reuses its period.
        if p.event_type != EventType::Ipfl {
            st.status_date = time;
        }
        out.push(emit(p, payoff, &st));
    }
    drop_before_purchase(out, t.purchase_date);
    Ok(())
}

fn fx_outright(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let md = t.maturity_date.ok_or_else(|| m.missing("maturityDate"))?;
    let n1 = t
        .notional_principal
        .ok_or_else(|| m.missing("notionalPrincipal"))?;
    let n2 = t
        .notional_principal2
        .ok_or_else(|| m.missing("notionalPrincipal2"))?;
    let ccy = t.currency.as_deref().ok_or_else(|| m.missing("currency"))?;
    let ccy2 = t
        .currency2
        .as_deref()
        .ok_or_else(|| m.missing("currency2"))?;
    let net = t.delivery_settlement == Some(DeliverySettlement::Cash);
    let mut s = Schedule::default();
    if let Some(prd) = t.purchase_date {
        s.add(m, prd, EventType::Prd, Shifted::No);
    }
    // Legs of the gross exchange: (event, currency leg).
    let mut legs: Vec<u8> = Vec::new();
    if let Some(td) = t.termination_date {
        s.add(m, td, EventType::Td, Shifted::No);
    } else if net {
        let period = t
            .settlement_period
            .unwrap_or(almanac_time::Period::new(0, almanac_time::PeriodUnit::Day));
        let settle: DateTime = m.shift(md.with_date(period.add_to(md.date(), 1)));
        s.events.push(super::Pending {
            schedule_time: settle,
            event_time: settle,
            event_type: EventType::Std,
            key: 0,
        });
    } else {
        s.add(m, md, EventType::Md, Shifted::Yes);
        s.add(m, md, EventType::Md, Shifted::Yes);
    }
    s.finish(m.status_date, ctx.to);
    let mut st = States {
        status_date: m.status_date,
        ..States::default()
    };
    for p in &s.events {
        let mut leg = 0;
        let payoff = match p.event_type {
            EventType::Prd => -r * t.price_at_purchase_date.unwrap_or(0.0),
            EventType::Td => t.price_at_termination_date.unwrap_or(0.0),
            EventType::Md => {
                legs.push(0);
                if legs.len() == 1 {
                    r * n1
                } else {
                    leg = 1;
                    -r * n2
                }
            }
            EventType::Std => {
                let code = format!("{ccy2}/{ccy}");
                let fx = m.observe(ctx, Some(&code), "currency2", md)?;
                r * (n1 - fx * n2)
            }
            _ => 0.0,
        };
        st.status_date = p.schedule_time;
        let mut e = emit(p, payoff, &st);
        e.currency_leg = leg;
        out.push(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{evaluate, ContractTerms, EvalContext, EventType, NoMarketData};

    /// A swap whose first reset is already fixed needs no market data for it: the RRF event
    /// sets the floating rate to `nextResetRate`, and the floating leg pays on it.
    #[test]
    fn swap_first_reset_uses_next_reset_rate() {
        let terms: ContractTerms = serde_json::from_str(
            r#"{"contractType":"SWPPV","contractID":"irs","contractRole":"RF","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2026-01-01",
            "maturityDate":"2027-01-01","notionalPrincipal":1000000,
            "nominalInterestRate":0.03,"nominalInterestRate2":0.02,"dayCountConvention":"30E360",
            "cycleAnchorDateOfInterestPayment":"2027-01-01",
            "cycleAnchorDateOfRateReset":"2026-07-01","nextResetRate":0.04,
            "deliverySettlement":"D"}"#,
        )
        .unwrap();
        let ctx = EvalContext {
            observer: &NoMarketData,
            observed_events: &[],
            to: None,
        };
        let events = evaluate(&terms, &ctx).unwrap();
        let rrf = events
            .iter()
            .find(|e| e.event_type == EventType::Rrf)
            .unwrap();
        assert!((rrf.states.nominal_interest_rate - 0.04).abs() < 1e-15);
        let ipfl = events
            .iter()
            .find(|e| e.event_type == EventType::Ipfl)
            .unwrap();
        // Receive fixed: pay floating 0.02 for half a year, then 0.04 for half a year.
        assert!(
            (ipfl.payoff - -(0.5 * 0.02 + 0.5 * 0.04) * 1e6).abs() < 1e-6,
            "{}",
            ipfl.payoff
        );
        let ipfx = events
            .iter()
            .find(|e| e.event_type == EventType::Ipfx)
            .unwrap();
        assert!((ipfx.payoff - 0.03 * 1e6).abs() < 1e-6);
    }
}
