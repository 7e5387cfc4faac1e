//! Boundary-controlled switch (BCS): barrier structures. A market index (the
//! `externalReferenceIndex` entry of `contractStructure`) is monitored on a cycle; when it
//! crosses `boundaryValue` (`INCR`: at or above, `DECR`: at or below) the switch knocks a leg
//! in (`knockINFirstLeg`, `knockINSecondLeg`) or knocks the active leg out
//! (`knockOUTCurrent`). The legs (`FIL`, `SEL`) are full contracts (options, loans, …)
//! evaluated by the engine with the roles the switch gives them (ACTUS contract references:
//! under a non-`RFL` parent the first leg is held as a liability, the second as an asset).
//!
//! The switch time `T*` is the crossing date, or the purchase date when the boundary is
//! never crossed. A leg that is (or becomes) active starts at `T*`: a loan's initial exchange
//! moves to `T*`, any other contract is entered at `T*` at no cost. A leg that was active and
//! is switched off is terminated at `T*` at no cost. The switch itself pays
//! `−R × priceAtPurchaseDate` at purchase and ends (TD) at `T*` when a crossing ended the
//! structure, else at the end of monitoring. Rules reconstructed from the reference
//! implementation and checked by hand against the suite (`docs/research/derivatives.md` §6).

use almanac_time::EndDate;

use super::{evaluate_into, own_event, EvalContext, Model};
use crate::codes::{ContractRole, ContractType, ReferenceRole};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};
use crate::terms::{ContractTerms, ReferenceObject};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Leg {
    First,
    Second,
}

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let boundary = t.boundary_value.ok_or_else(|| m.missing("boundaryValue"))?;
    let rising = match t.boundary_direction.as_deref() {
        Some("INCR") => true,
        Some("DECR") => false,
        Some(other) => {
            return Err(m.inconsistent("boundaryDirection", &other, "must be INCR or DECR"))
        }
        None => return Err(m.missing("boundaryDirection")),
    };
    let effect = t
        .boundary_effect
        .as_deref()
        .ok_or_else(|| m.missing("boundaryEffect"))?;
    let knocked_in = match effect {
        "knockINFirstLeg" => Some(Leg::First),
        "knockINSecondLeg" => Some(Leg::Second),
        "knockOUTCurrent" => None,
        other => {
            return Err(m.inconsistent(
                "boundaryEffect",
                &other,
                "must be knockINFirstLeg, knockINSecondLeg or knockOUTCurrent",
            ))
        }
    };
    let initially = match t.boundary_leg_initially_active.as_deref() {
        Some("FIL") => Some(Leg::First),
        Some("SEL") => Some(Leg::Second),
        None | Some("NULL") | Some("") => None,
        Some(other) => {
            return Err(m.inconsistent(
                "boundaryLegInitiallyActive",
                &other,
                "must be FIL, SEL or NULL",
            ))
        }
    };
    let anchor = t
        .boundary_monitoring_anchor_date
        .ok_or_else(|| m.missing("boundaryMonitoringAnchorDate"))?;
    let end = t
        .boundary_monitoring_end_date
        .ok_or_else(|| m.missing("boundaryMonitoringEndDate"))?;
    let index = t
        .contract_structure
        .iter()
        .find(|c| c.reference_role == ReferenceRole::ExternalReferenceIndex)
        .and_then(|c| match &c.object {
            ReferenceObject::MarketObjectCode { market_object_code } => {
                Some(market_object_code.as_str())
            }
            _ => None,
        })
        .ok_or_else(|| m.missing("contractStructure (externalReferenceIndex)"))?;

    // Monitoring: the switch time is the later of the purchase and the first crossing.
    let mut crossed = t.boundary_crossed_flag == Some(true);
    let mut switch_time = m.status_date;
    let purchase = t.purchase_date.filter(|&p| p > m.status_date);
    if !crossed {
        let dates = almanac_time::schedule::generate(
            anchor,
            end,
            t.boundary_monitoring_cycle,
            m.eom,
            EndDate::Include,
        );
        for d in dates {
            let time = m.shift(d);
            if time < m.status_date {
                continue;
            }
            let v = m.observe(
                ctx,
                Some(index),
                "contractStructure (externalReferenceIndex)",
                d,
            )?;
            if (rising && v >= boundary) || (!rising && v <= boundary) {
                crossed = true;
                switch_time = time;
                break;
            }
        }
    }
    if let Some(p) = purchase {
        if p >= switch_time {
            switch_time = p;
        }
    }
    let (mut first_active, mut second_active) = (
        initially == Some(Leg::First),
        initially == Some(Leg::Second),
    );
    if crossed {
        first_active = knocked_in == Some(Leg::First);
        second_active = knocked_in == Some(Leg::Second);
    }

    if let Some(p) = purchase {
        out.push(own_event(
            p,
            EventType::Prd,
            -r * t.price_at_purchase_date.unwrap_or(0.0),
            States::default(),
        ));
    }
    let parent_rfl = t.contract_role == Some(ContractRole::Rfl);
    let mut buf = Vec::new();
    for (leg, active, role) in [
        (Leg::First, first_active, ReferenceRole::FirstLeg),
        (Leg::Second, second_active, ReferenceRole::SecondLeg),
    ] {
        let Some((i, terms)) = t
            .contract_structure
            .iter()
            .enumerate()
            .find_map(|(i, c)| match &c.object {
                ReferenceObject::Contract(terms) if c.reference_role == role => Some((i, terms)),
                _ => None,
            })
        else {
            continue;
        };
        let mut leg_terms: ContractTerms = (**terms).clone();
        leg_terms.contract_role = Some(match (parent_rfl, leg) {
            (true, Leg::First) | (false, Leg::Second) => ContractRole::Rpa,
            _ => ContractRole::Rpl,
        });
        let is_loan = leg_terms.initial_exchange_date.is_some()
            || leg_terms.contract_type == Some(ContractType::Pam);
        if active {
            if is_loan {
                leg_terms.initial_exchange_date = Some(switch_time);
            } else {
                leg_terms.purchase_date = Some(switch_time);
                leg_terms.price_at_purchase_date = Some(0.0);
            }
        } else if initially == Some(leg) {
            if !is_loan {
                leg_terms.purchase_date = t.purchase_date;
                leg_terms.price_at_purchase_date = Some(0.0);
            }
            leg_terms.termination_date = Some(switch_time);
            leg_terms.price_at_termination_date = Some(0.0);
        } else {
            continue;
        }
        evaluate_into(&leg_terms, ctx, &mut buf)?;
        let child = u8::try_from(i + 1).unwrap_or(u8::MAX);
        for mut e in buf.drain(..) {
            if active && e.event_time < switch_time {
                continue;
            }
            if e.event_type == EventType::Td {
                // Switched off at no cost.
                e.payoff = 0.0;
            }
            if e.event_type == EventType::Prd && e.payoff == 0.0 {
                e.payoff = 0.0; // normalise −0
            }
            e.child = child;
            out.push(e);
        }
    }
    let ends_at_switch = crossed && knocked_in != Some(Leg::First);
    out.push(own_event(
        if ends_at_switch { switch_time } else { end },
        EventType::Td,
        0.0,
        States::default(),
    ));
    if let Some(to) = ctx.to {
        let key = (to, EventType::Ad.sequence());
        out.retain(|e| e.sort_key() <= key);
    }
    out.sort_by_key(ContractEvent::sort_key);
    Ok(())
}
