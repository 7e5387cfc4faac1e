//! Options (OPTNS) and futures (FUTUR) on a market price: equity, commodity or index
//! options and futures held as hedges or in the trading book.
//!
//! The underlying is the first `contractStructure` entry with role `UDL`; it names a market
//! object (`MOC`) whose price `S` is observed at exercise. At the exercise date (or maturity)
//! the exercise amount `XA` is fixed, and paid `settlementPeriod` later (business-day shifted):
//! * call `max(S − K1, 0)`, put `max(K1 − S, 0)`, call-put `max(S − K1, 0) + max(K2 − S, 0)`;
//! * future `S − futuresPrice` (negative when the price fell).
//!
//! Amounts are per contract as the ACTUS suite defines them (`quantity` does not scale them);
//! the role sign `R` is +1 for the buyer. Purchase pays `−R × priceAtPurchaseDate`, settlement
//! pays `R × XA`. Events on or before the status date are not produced; an exercise already
//! fixed (`exerciseDate`, `exerciseAmount` given) is still settled.

use almanac_time::{DateTime, Period, PeriodUnit, SchedulePoint};

use super::{drop_before_purchase, emit, EvalContext, Model, Pending, Schedule, Shifted};
use crate::codes::{ContractType, OptionType, ReferenceRole};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};
use crate::terms::ReferenceObject;

/// The settlement time: `settlementPeriod` after `t`, moved to a business day.
pub(super) fn settlement_time(m: &Model<'_>, t: DateTime) -> DateTime {
    let period = m
        .terms
        .settlement_period
        .unwrap_or(Period::new(0, PeriodUnit::Day));
    m.shift(t.with_date(period.add_to(t.date(), 1)))
}

/// Adds a settlement event whose scheduled time is already the payment time.
pub(super) fn add_settlement(s: &mut Schedule, time: DateTime) {
    s.events.push(Pending {
        schedule_time: time,
        event_time: time,
        event_type: EventType::Std,
        key: 0,
    });
}

/// The market object code of the underlying (`UDL` entry of `contractStructure`).
pub(super) fn underlying_code<'t>(m: &Model<'t>) -> Result<&'t str, ContractError> {
    m.terms
        .contract_structure
        .iter()
        .find(|r| r.reference_role == ReferenceRole::Underlying)
        .and_then(|r| match &r.object {
            ReferenceObject::MarketObjectCode { market_object_code } => {
                Some(market_object_code.as_str())
            }
            ReferenceObject::Contract(c) => c.market_object_code.as_deref(),
            ReferenceObject::ContractIdentifier { .. } => None,
        })
        .or(m.terms.market_object_code.as_deref())
        .ok_or_else(|| m.missing("contractStructure (underlying market object, UDL)"))
}

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let future = m.contract_type == ContractType::Futur;
    let md = t.maturity_date.ok_or_else(|| m.missing("maturityDate"))?;
    let udl = underlying_code(m)?;
    // Intrinsic value of the position at the underlying price `s`.
    let value = |s: f64| -> Result<f64, ContractError> {
        if future {
            let f = t.futures_price.ok_or_else(|| m.missing("futuresPrice"))?;
            return Ok(s - f);
        }
        let k1 = t.option_strike1.ok_or_else(|| m.missing("optionStrike1"))?;
        Ok(
            match t.option_type.ok_or_else(|| m.missing("optionType"))? {
                OptionType::Call => (s - k1).max(0.0),
                OptionType::Put => (k1 - s).max(0.0),
                OptionType::CallPut => {
                    let k2 = t.option_strike2.ok_or_else(|| m.missing("optionStrike2"))?;
                    (s - k1).max(0.0) + (k2 - s).max(0.0)
                }
            },
        )
    };
    let exercise = t.exercise_date.unwrap_or(md);

    let mut s = Schedule::default();
    if let Some(prd) = t.purchase_date {
        s.add(m, prd, EventType::Prd, Shifted::No);
    }
    s.add(m, exercise, EventType::Xd, Shifted::Yes);
    add_settlement(&mut s, settlement_time(m, exercise));
    s.add(m, md, EventType::Md, Shifted::Yes);
    if let Some(td) = t.termination_date {
        s.terminate_at(td);
    }
    s.finish(m.status_date, ctx.to);

    let mut st = States {
        status_date: m.status_date,
        exercise_amount: t.exercise_amount.unwrap_or(0.0),
        ..States::default()
    };
    for p in &s.events {
        let time = p.schedule_time;
        let payoff = match p.event_type {
            EventType::Prd => -r * t.price_at_purchase_date.unwrap_or(0.0),
            EventType::Xd => {
                let price = m.observe(ctx, Some(udl), "contractStructure (UDL)", time)?;
                st.exercise_amount = value(price)?;
                0.0
            }
            EventType::Std => {
                let pay = r * st.exercise_amount;
                st.exercise_amount = 0.0;
                pay
            }
            EventType::Td => t.price_at_termination_date.unwrap_or(0.0),
            _ => 0.0,
        };
        st.status_date = time;
        out.push(emit(p, payoff, &st));
    }
    drop_before_purchase(out, t.purchase_date);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{evaluate, ContractTerms, EvalContext, EventType, MarketData};

    /// Settlement amount of a contract on an index that ends at `price`.
    fn settle(kind: &str, price: f64) -> f64 {
        let terms: ContractTerms = serde_json::from_str(&format!(
            r#"{{"contractID":"x","contractRole":"BUY","currency":"EUR","statusDate":"2026-01-01",
            "maturityDate":"2026-06-30","settlementPeriod":"P2D","calendar":"MF",
            "businessDayConvention":"SCF","optionStrike1":100,"optionStrike2":90,"futuresPrice":100,
            "contractStructure":[{{"object":{{"marketObjectCode":"IDX"}},"referenceType":"MOC","referenceRole":"UDL"}}],
            {kind}}}"#
        ))
        .unwrap();
        let mut md = MarketData::default();
        md.insert("IDX", vec![("2026-06-30T00:00:00".parse().unwrap(), price)]);
        let ctx = EvalContext {
            observer: &md,
            observed_events: &[],
            to: None,
        };
        let events = evaluate(&terms, &ctx).unwrap();
        let std = events
            .iter()
            .find(|e| e.event_type == EventType::Std)
            .unwrap();
        // 2026-06-30 is a Tuesday: settlement two days later, on Thursday 2026-07-02.
        assert_eq!(std.event_time.to_string(), "2026-07-02T00:00:00");
        std.payoff
    }

    /// Put-call parity at expiry: call − put = future = S − K, whatever S is; a call-put
    /// (strangle) pays the call above K1 plus the put below K2.
    #[test]
    fn call_minus_put_is_the_future() {
        let call = r#""contractType":"OPTNS","optionType":"C""#;
        let put = r#""contractType":"OPTNS","optionType":"P""#;
        let future = r#""contractType":"FUTUR""#;
        let strangle = r#""contractType":"OPTNS","optionType":"CP""#;
        for s in [50.0, 90.0, 99.5, 100.0, 131.25] {
            let (c, p, f) = (settle(call, s), settle(put, s), settle(future, s));
            assert!(c >= 0.0 && p >= 0.0);
            assert!((c - p - f).abs() < 1e-12 && (f - (s - 100.0)).abs() < 1e-12);
            let expected = (s - 100.0_f64).max(0.0) + (90.0 - s).max(0.0);
            assert!((settle(strangle, s) - expected).abs() < 1e-12);
        }
    }
}
