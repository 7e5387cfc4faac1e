//! Composite contracts built from child contracts in `contractStructure`:
//! * **SWAPS** — a swap of two legs, each a full contract of its own type (PAM, ANN, …):
//!   cross-currency swaps, amortising swaps, basis swaps;
//! * **CAPFL** — a cap, floor or collar on the rate of an underlying loan.
//!
//! Conventions (ACTUS; checked against the official test data, see
//! `docs/research/swaps.md` §2–3):
//! * The legs' roles come from the parent: a receive-first-leg parent (`RFL`) holds the first
//!   leg as an asset (`RPA`) and the second as a liability (`RPL`); otherwise the other way.
//!   Nothing else is inherited; each leg keeps its own dates, currency and conventions.
//! * Gross settlement (`D`) lists every leg event as the leg produces it (first leg first on
//!   equal times). Net settlement (`S`) pairs the legs' IED, MD, PR and IP events that fall on
//!   the same payment time into one event with the summed payoff, notional and accrued
//!   interest (rate reported as 0); unpaired PR and IP events stay as the leg's own, unpaired
//!   IED and MD events and the legs' other events (resets and the like) are not reported.
//! * The swap's purchase pays the price as quoted (`+priceAtPurchaseDate`, no role sign) and
//!   its termination receives `priceAtTerminationDate` plus the legs' accrued interest, as the
//!   test data shows (swaps09, swaps10).
//! * A cap or floor pays, on each interest payment of the underlying, the difference between
//!   the interest without and with the parent's `lifeCap`/`lifeFloor`:
//!   `R × |IP_uncapped − IP_capped|` (`R` = +1 for the buyer). Its events carry no state.

use super::{evaluate_into, in_window, own_event, EvalContext, Model};
use crate::codes::{ContractRole, DeliverySettlement, ReferenceRole};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};
use crate::terms::{ContractTerms, ReferenceObject};

/// The first child with `role` that is a full contract, with its 1-based position.
fn child<'t>(
    m: &Model<'t>,
    role: ReferenceRole,
    term: &'static str,
) -> Result<(u8, &'t ContractTerms), ContractError> {
    m.terms
        .contract_structure
        .iter()
        .enumerate()
        .find_map(|(i, r)| match &r.object {
            ReferenceObject::Contract(c) if r.reference_role == role => {
                Some((u8::try_from(i + 1).ok()?, &**c))
            }
            _ => None,
        })
        .ok_or_else(|| m.missing(term))
}

/// Evaluates a child contract with its role overridden, tagging its events as the child's.
fn run_child(
    terms: &ContractTerms,
    index: u8,
    ctx: &EvalContext<'_>,
    status_key: (almanac_time::DateTime, u16),
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    evaluate_into(terms, ctx, out)?;
    out.retain(|e| e.sort_key() >= status_key);
    for e in out.iter_mut() {
        e.child = index;
    }
    Ok(())
}

fn with_role(terms: &ContractTerms, role: ContractRole) -> ContractTerms {
    let mut t = terms.clone();
    t.contract_role = Some(role);
    t
}

pub(super) fn swap(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let (i1, leg1) = child(
        m,
        ReferenceRole::FirstLeg,
        "contractStructure (first leg, FIL)",
    )?;
    let (i2, leg2) = child(
        m,
        ReferenceRole::SecondLeg,
        "contractStructure (second leg, SEL)",
    )?;
    let (role1, role2) = if t.contract_role == Some(ContractRole::Rfl) {
        (ContractRole::Rpa, ContractRole::Rpl)
    } else {
        (ContractRole::Rpl, ContractRole::Rpa)
    };
    let status_key = (m.status_date, EventType::Ad.sequence());
    let mut ev1 = Vec::new();
    let mut ev2 = Vec::new();
    run_child(&with_role(leg1, role1), i1, ctx, status_key, &mut ev1)?;
    run_child(&with_role(leg2, role2), i2, ctx, status_key, &mut ev2)?;
    if let Some(td) = t.termination_date {
        let key = (td, EventType::Td.sequence());
        ev1.retain(|e| e.sort_key() <= key);
        ev2.retain(|e| e.sort_key() <= key);
    }

    // The swap's own purchase and termination; accrued interest is the legs' at that time.
    let accrued_at = |ev: &[ContractEvent], time| {
        let same: Vec<&ContractEvent> = ev.iter().filter(|e| e.event_time == time).collect();
        if same.is_empty() || same.iter().any(|e| e.event_type == EventType::Ip) {
            return 0.0;
        }
        same.iter()
            .find(|e| e.event_type == EventType::Pr)
            .or(same.last())
            .map_or(0.0, |e| e.states.accrued_interest)
    };
    if let Some(prd) = t
        .purchase_date
        .filter(|&d| in_window(m, ctx, d, EventType::Prd))
    {
        let st = States {
            status_date: prd,
            accrued_interest: accrued_at(&ev1, prd) + accrued_at(&ev2, prd),
            ..States::default()
        };
        out.push(own_event(
            prd,
            EventType::Prd,
            t.price_at_purchase_date.unwrap_or(0.0),
            st,
        ));
    }
    if let Some(td) = t
        .termination_date
        .filter(|&d| in_window(m, ctx, d, EventType::Td))
    {
        let accrued = accrued_at(&ev1, td) + accrued_at(&ev2, td);
        let st = States {
            status_date: td,
            accrued_interest: accrued,
            ..States::default()
        };
        let payoff = t.price_at_termination_date.unwrap_or(0.0) + accrued;
        out.push(own_event(td, EventType::Td, payoff, st));
    }

    if t.delivery_settlement == Some(DeliverySettlement::Cash) {
        net(&ev1, &ev2, out);
    } else {
        out.extend_from_slice(&ev1);
        out.extend_from_slice(&ev2);
    }
    out.sort_by_key(ContractEvent::sort_key);
    super::drop_before_purchase(out, t.purchase_date);
    Ok(())
}

/// Net settlement of two legs (see the module documentation).
fn net(ev1: &[ContractEvent], ev2: &[ContractEvent], out: &mut Vec<ContractEvent>) {
    let netted = |a: &ContractEvent, b: &ContractEvent| {
        let st = States {
            status_date: a.schedule_time,
            notional_principal: a.states.notional_principal + b.states.notional_principal,
            accrued_interest: a.states.accrued_interest + b.states.accrued_interest,
            ..States::default()
        };
        ContractEvent {
            payoff: a.payoff + b.payoff,
            child: 0,
            currency_leg: 0,
            states: st,
            ..*a
        }
    };
    for ty in [EventType::Ied, EventType::Md] {
        let a = ev1.iter().find(|e| e.event_type == ty);
        let b = ev2.iter().find(|e| e.event_type == ty);
        if let (Some(a), Some(b)) = (a, b) {
            if a.event_time == b.event_time {
                out.push(netted(a, b));
            }
        }
    }
    for ty in [EventType::Pr, EventType::Ip] {
        let mut rest2: Vec<&ContractEvent> = ev2.iter().filter(|e| e.event_type == ty).collect();
        let mut rest1 = Vec::new();
        for a in ev1.iter().filter(|e| e.event_type == ty) {
            match rest2.iter().position(|b| b.event_time == a.event_time) {
                Some(j) => {
                    let b = rest2.remove(j);
                    out.push(netted(a, b));
                }
                None => rest1.push(*a),
            }
        }
        out.extend(rest1);
        out.extend(rest2.into_iter().copied());
    }
}

pub(super) fn cap_floor(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let (_, underlying) = child(
        m,
        ReferenceRole::Underlying,
        "contractStructure (underlying, UDL)",
    )?;
    let uncapped = with_role(underlying, ContractRole::Rpa);
    let mut capped = uncapped.clone();
    capped.life_cap = t.life_cap;
    capped.life_floor = t.life_floor;
    if t.life_cap.is_none() && t.life_floor.is_none() {
        return Err(m.missing("lifeCap or lifeFloor"));
    }
    let status_key = (m.status_date, EventType::Ad.sequence());
    let mut a = Vec::new();
    let mut b = Vec::new();
    run_child(&uncapped, 0, ctx, status_key, &mut a)?;
    run_child(&capped, 0, ctx, status_key, &mut b)?;
    a.retain(|e| e.event_type == EventType::Ip);
    b.retain(|e| e.event_type == EventType::Ip);
    if let Some(td) = t.termination_date {
        let key = (td, EventType::Td.sequence());
        a.retain(|e| e.sort_key() <= key);
        b.retain(|e| e.sort_key() <= key);
    }
    // Both runs share the underlying's schedule, so their interest payments pair up in order;
    // a payment found in one run only (not possible with one schedule) would pay nothing.
    let mut j = 0;
    for ea in &a {
        while j < b.len() && b[j].sort_key() < ea.sort_key() {
            j += 1;
        }
        let pb = b
            .get(j)
            .filter(|eb| eb.sort_key() == ea.sort_key())
            .map_or(ea.payoff, |eb| eb.payoff);
        let st = States {
            status_date: ea.schedule_time,
            ..States::default()
        };
        out.push(ContractEvent {
            payoff: m.role_sign * (ea.payoff - pb).abs(),
            child: 0,
            currency_leg: 0,
            states: st,
            ..*ea
        });
    }
    // Purchase and sale of the option itself (the reference implementation drops them).
    if let Some(prd) = t
        .purchase_date
        .filter(|&d| in_window(m, ctx, d, EventType::Prd))
    {
        let st = States {
            status_date: prd,
            ..States::default()
        };
        let price = t.price_at_purchase_date.unwrap_or(0.0);
        out.push(own_event(prd, EventType::Prd, -m.role_sign * price, st));
    }
    if let Some(td) = t
        .termination_date
        .filter(|&d| in_window(m, ctx, d, EventType::Td))
    {
        let st = States {
            status_date: td,
            ..States::default()
        };
        let price = t.price_at_termination_date.unwrap_or(0.0);
        out.push(own_event(td, EventType::Td, m.role_sign * price, st));
    }
    out.sort_by_key(ContractEvent::sort_key);
    super::drop_before_purchase(out, t.purchase_date);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{evaluate, ContractTerms, EvalContext, EventType, MarketData};

    fn market() -> MarketData {
        let mut md = MarketData::default();
        let mut points = Vec::new();
        for (i, v) in [0.01, 0.09, 0.03, 0.05, 0.00, 0.08].iter().enumerate() {
            let month = 1 + 3 * (i % 4);
            let year = 2026 + i / 4;
            let t = format!("{year}-{month:02}-01T00:00:00").parse().unwrap();
            points.push((t, *v));
        }
        md.insert("IDX", points);
        md
    }

    fn leg(id: &str, notional: f64, floating: bool) -> String {
        let reset = if floating {
            r#","cycleAnchorDateOfRateReset":"2026-01-01","cycleOfRateReset":"P3ML1","marketObjectCodeOfRateReset":"IDX""#
        } else {
            ""
        };
        format!(
            r#"{{"contractType":"PAM","contractID":"{id}","statusDate":"2025-12-31","currency":"EUR",
            "initialExchangeDate":"2026-01-01","maturityDate":"2027-07-01","notionalPrincipal":{notional},
            "nominalInterestRate":0.04,"dayCountConvention":"A365",
            "cycleAnchorDateOfInterestPayment":"2026-04-01","cycleOfInterestPayment":"P3ML1"{reset}}}"#
        )
    }

    fn run(json: &str) -> Vec<crate::ContractEvent> {
        let terms: ContractTerms = serde_json::from_str(json).unwrap();
        let md = market();
        let ctx = EvalContext {
            observer: &md,
            observed_events: &[],
            to: None,
        };
        evaluate(&terms, &ctx).unwrap()
    }

    fn swap(settlement: &str) -> Vec<crate::ContractEvent> {
        run(&format!(
            r#"{{"contractType":"SWAPS","contractID":"s","contractRole":"RFL","statusDate":"2025-12-31",
            "currency":"EUR","deliverySettlement":"{settlement}","contractStructure":[
            {{"object":{},"referenceType":"CNT","referenceRole":"FIL"}},
            {{"object":{},"referenceType":"CNT","referenceRole":"SEL"}}]}}"#,
            leg("fix", 1e6, false),
            leg("flt", 1e6, true)
        ))
    }

    /// Net settlement moves the same money as gross settlement: per payment date, the netted
    /// payoff equals the sum of the legs' payoffs; principal exchanges cancel.
    #[test]
    fn net_swap_pays_the_sum_of_the_gross_legs() {
        let gross = swap("D");
        let net = swap("S");
        assert!(gross.iter().any(|e| e.child == 1) && gross.iter().any(|e| e.child == 2));
        assert!(net.iter().all(|e| e.child == 0));
        let mut dates: Vec<_> = gross.iter().map(|e| e.event_time).collect();
        dates.dedup();
        for d in dates {
            let g: f64 = gross
                .iter()
                .filter(|e| e.event_time == d)
                .map(|e| e.payoff)
                .sum();
            let n: f64 = net
                .iter()
                .filter(|e| e.event_time == d)
                .map(|e| e.payoff)
                .sum();
            assert!((g - n).abs() < 1e-9, "{d}: gross {g}, net {n}");
        }
        let ied = net.iter().find(|e| e.event_type == EventType::Ied).unwrap();
        assert_eq!(ied.payoff, 0.0);
        assert_eq!(ied.states.notional_principal, 0.0);
        // Receive fixed 4 %, pay floating: the first quarter's float is 1 %.
        let ip = net.iter().find(|e| e.event_type == EventType::Ip).unwrap();
        assert!(
            (ip.payoff - 1e6 * 0.03 * 90.0 / 365.0).abs() < 1e-6,
            "{}",
            ip.payoff
        );
    }

    fn option(cap: Option<f64>, floor: Option<f64>, role: &str) -> Vec<crate::ContractEvent> {
        let mut extra = String::new();
        if let Some(c) = cap {
            extra += &format!(r#","lifeCap":{c}"#);
        }
        if let Some(f) = floor {
            extra += &format!(r#","lifeFloor":{f}"#);
        }
        run(&format!(
            r#"{{"contractType":"CAPFL","contractID":"c","contractRole":"{role}","statusDate":"2025-12-31",
            "currency":"EUR"{extra},"contractStructure":[
            {{"object":{},"referenceType":"CNT","referenceRole":"UDL"}}]}}"#,
            leg("u", 1e6, true)
        ))
    }

    /// A collar pays what the cap and the floor pay separately (only one of them binds at a
    /// time); the seller pays what the buyer receives; a cap pays `N × (r − cap) × τ`.
    #[test]
    fn collar_is_cap_plus_floor() {
        let cap = option(Some(0.06), None, "BUY");
        let floor = option(None, Some(0.02), "BUY");
        let collar = option(Some(0.06), Some(0.02), "BUY");
        let sold = option(Some(0.06), Some(0.02), "SEL");
        assert_eq!(cap.len(), collar.len());
        assert!(collar.iter().all(|e| e.event_type == EventType::Ip));
        for i in 0..collar.len() {
            let sum = cap[i].payoff + floor[i].payoff;
            assert!((collar[i].payoff - sum).abs() < 1e-9);
            assert_eq!(sold[i].payoff, -collar[i].payoff);
            assert!(cap[i].payoff >= 0.0 && floor[i].payoff >= 0.0);
        }
        // Second quarter (2026-04-01 .. 2026-07-01, 91 days) is reset at 9 %: the cap pays 3 %.
        let q2 = cap
            .iter()
            .find(|e| e.event_time.to_string().starts_with("2026-07-01"))
            .unwrap();
        assert!(
            (q2.payoff - 1e6 * 0.03 * 91.0 / 365.0).abs() < 1e-6,
            "{}",
            q2.payoff
        );
        assert!(cap.iter().any(|e| e.payoff == 0.0) && floor.iter().any(|e| e.payoff > 0.0));
    }
}
