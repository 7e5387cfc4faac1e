//! Credit enhancements: guarantees (CEG) and collateral (CEC) covering other contracts.
//!
//! The covered contracts are the `contractStructure` entries with role `COVE`; the collateral
//! items (CEC) those with role `COVI`. The covered amount at time `t` is
//! `coverage × R × exposure(t)`, with `R` = +1 for the protection buyer and the exposure set
//! by `guaranteedExposure`: the covered contracts' notional (`NO`, the default), notional plus
//! accrued interest (`NI`) or their observed market value (`MV`). When `notionalPrincipal` is
//! given, the covered amount is fixed at `coverage × R × notionalPrincipal` instead.
//!
//! A credit event on a covered contract (an observed `CE` event naming the contract, with a
//! performance listed in `creditEventTypeCovered`, on or before maturity) triggers exercise:
//! the exercise amount (XD, on the event date as observed) is the covered amount — for
//! collateral, no more than the collateral's observed value — and it is paid with the accrued
//! guarantee fee `settlementPeriod` later (STD, business-day shifted). Without a credit event
//! the enhancement simply matures (MD). The guarantee's fee (FP) is paid on its fee cycle:
//! `R × feeRate` per period for fee basis `A`, else `feeRate` × covered amount × year fraction.
//!
//! Rules taken from the official test data where the reference implementation differs (see
//! `docs/research/derivatives.md` §3–4): the credit event must be of a covered type and the
//! exercise event is not business-day shifted, for guarantees as for collateral.

use almanac_time::{DateTime, EndDate, SchedulePoint};

use super::derivative::{add_settlement, settlement_time};
use super::{evaluate_into, EvalContext, Model, Schedule, Shifted};
use crate::codes::{ContractRole, ContractType, FeeBasis, GuaranteedExposure, ReferenceRole};
use crate::error::ContractError;
use crate::event::{ContractEvent, EventType, States};
use crate::terms::{ContractTerms, ReferenceObject};

/// A child of the enhancement: a full contract, or only its identifier.
enum Child<'t> {
    Contract(Box<ContractTerms>),
    Id(&'t str),
}

impl Child<'_> {
    fn id(&self) -> &str {
        match self {
            Child::Contract(c) => c.id(),
            Child::Id(id) => id,
        }
    }
}

fn children<'t>(m: &Model<'t>, role: ReferenceRole) -> Vec<Child<'t>> {
    m.terms
        .contract_structure
        .iter()
        .filter(|r| r.reference_role == role)
        .filter_map(|r| match &r.object {
            ReferenceObject::Contract(c) => {
                // The reference implementation holds covered and covering contracts as assets.
                let mut c = c.clone();
                c.contract_role = Some(ContractRole::Rpa);
                Some(Child::Contract(c))
            }
            ReferenceObject::ContractIdentifier {
                contract_identifier,
            } => Some(Child::Id(contract_identifier.as_str())),
            ReferenceObject::MarketObjectCode { .. } => None,
        })
        .collect()
}

/// The state of a contract at time `t`, after every event of that day, with interest
/// accrued up to `t`.
pub(super) fn state_at(
    terms: &ContractTerms,
    ctx: &EvalContext<'_>,
    t: DateTime,
    buf: &mut Vec<ContractEvent>,
) -> Result<States, ContractError> {
    let at = EvalContext {
        to: Some(t),
        ..*ctx
    };
    evaluate_into(terms, &at, buf)?;
    let model = Model::new(terms)?;
    let last = buf
        .iter()
        .rev()
        .find(|e| e.event_time <= t || e.schedule_time <= t);
    let mut st = match last {
        Some(e) => e.states,
        None => {
            // Nothing happened between the status date and `t`: the initial state.
            let mut st = States {
                status_date: model.status_date,
                ..States::default()
            };
            if terms
                .initial_exchange_date
                .is_some_and(|d| d <= model.status_date)
            {
                st.notional_principal = model.role_sign * terms.notional_principal.unwrap_or(0.0);
                st.nominal_interest_rate = terms.nominal_interest_rate.unwrap_or(0.0);
                st.accrued_interest = model.role_sign * terms.accrued_interest.unwrap_or(0.0);
                st.interest_calculation_base_amount = st.notional_principal;
            }
            st
        }
    };
    if st.status_date < t {
        let base = if model.contract_type == ContractType::Pam
            || st.interest_calculation_base_amount == 0.0
        {
            st.notional_principal
        } else {
            st.interest_calculation_base_amount
        };
        st.accrued_interest +=
            model.year_fraction(st.status_date, t) * st.nominal_interest_rate * base;
        st.status_date = t;
    }
    Ok(st)
}

struct Enhancement<'m, 't> {
    m: &'m Model<'t>,
    covered: Vec<Child<'t>>,
    covering: Vec<Child<'t>>,
    coverage: f64,
    exposure: GuaranteedExposure,
}

impl Enhancement<'_, '_> {
    /// The covered amount at `t` (signed by the enhancement's role).
    fn covered_amount(
        &self,
        ctx: &EvalContext<'_>,
        t: DateTime,
        buf: &mut Vec<ContractEvent>,
    ) -> Result<f64, ContractError> {
        let m = self.m;
        if let Some(n) = m.terms.notional_principal {
            return Ok(self.coverage * m.role_sign * n);
        }
        let mut exposure = 0.0;
        for child in &self.covered {
            let Child::Contract(c) = child else {
                return Err(m.missing(
                    "notionalPrincipal (a covered contract given by identifier only has no state)",
                ));
            };
            exposure += match self.exposure {
                GuaranteedExposure::Notional => state_at(c, ctx, t, buf)?.notional_principal,
                GuaranteedExposure::NotionalAndInterest => {
                    let st = state_at(c, ctx, t, buf)?;
                    st.notional_principal + st.accrued_interest
                }
                GuaranteedExposure::MarketValue => {
                    m.observe(ctx, c.market_object_code.as_deref(), "marketObjectCode", t)?
                }
            };
        }
        Ok(self.coverage * m.role_sign * exposure)
    }

    /// Observed value of the collateral at `t`: price × quantity of each covering item.
    fn collateral_value(&self, ctx: &EvalContext<'_>, t: DateTime) -> Result<f64, ContractError> {
        let m = self.m;
        let mut value = 0.0;
        for child in &self.covering {
            let Child::Contract(c) = child else {
                return Err(m.missing("contractStructure (collateral given by identifier only)"));
            };
            let price = m.observe(ctx, c.market_object_code.as_deref(), "marketObjectCode", t)?;
            value += price * c.quantity.unwrap_or(1.0);
        }
        Ok(value)
    }

    /// Maturity: the term, else the latest maturity of the covered contracts.
    fn maturity(&self) -> Result<DateTime, ContractError> {
        let m = self.m;
        if m.contract_type == ContractType::Ceg {
            if let Some(md) = m.terms.maturity_date {
                return Ok(md);
            }
        }
        let mut md: Option<DateTime> = None;
        for child in &self.covered {
            let Child::Contract(c) = child else {
                return Err(m.missing("maturityDate"));
            };
            let d = c.maturity_date.ok_or_else(|| m.missing("maturityDate"))?;
            md = Some(md.map_or(d, |x| x.max(d)));
        }
        md.ok_or_else(|| m.missing("maturityDate"))
    }
}

pub(super) fn evaluate(
    m: &Model<'_>,
    ctx: &EvalContext<'_>,
    out: &mut Vec<ContractEvent>,
) -> Result<(), ContractError> {
    let t = m.terms;
    let r = m.role_sign;
    let guarantee = m.contract_type == ContractType::Ceg;
    let e = Enhancement {
        m,
        covered: children(m, ReferenceRole::Covered),
        covering: children(m, ReferenceRole::Covering),
        coverage: t.coverage_of_credit_enhancement.unwrap_or(1.0),
        exposure: t
            .guaranteed_exposure
            .unwrap_or(GuaranteedExposure::Notional),
    };
    if e.covered.is_empty() {
        return Err(m.missing("contractStructure (covered contract, COVE)"));
    }
    let md = e.maturity()?;
    let fee_rate = t.fee_rate.unwrap_or(0.0);

    let mut s = Schedule::default();
    if guarantee {
        if let Some(prd) = t.purchase_date {
            s.add(m, prd, EventType::Prd, Shifted::No);
        }
        let fee_anchor = t.cycle_anchor_date_of_fee.or_else(|| {
            let (prd, cycle) = (t.purchase_date?, t.cycle_of_fee?);
            Some(prd.with_date(cycle.period.add_to(prd.date(), 1)))
        });
        if let (true, Some(anchor)) = (fee_rate != 0.0, fee_anchor) {
            let end = t.exercise_date.unwrap_or(md);
            s.add_cycle(
                m,
                anchor,
                end,
                t.cycle_of_fee,
                EndDate::Exclude,
                EventType::Fp,
            );
        }
    }
    // Exercise: already fixed by the terms, or triggered by a covered credit event.
    let ids: Vec<&str> = e.covered.iter().chain(&e.covering).map(Child::id).collect();
    let covered_types = t.credit_event_type_covered.as_deref().unwrap_or_default();
    let credit_event = ctx
        .observed_events
        .iter()
        .filter(|o| {
            o.event_type == EventType::Ce
                && o.time <= md
                && o.contract_id.as_deref().is_some_and(|id| ids.contains(&id))
                && o.contract_performance
                    .is_some_and(|p| covered_types.iter().any(|c| c.code() == p.code()))
        })
        .map(|o| o.time)
        .min();
    let exercise = t.exercise_date.or(credit_event);
    match exercise {
        Some(xd) => {
            s.events
                .retain(|p| p.event_type != EventType::Fp || p.event_time <= xd);
            s.add(m, xd, EventType::Xd, Shifted::No);
            add_settlement(&mut s, settlement_time(m, xd));
        }
        None => s.add(m, md, EventType::Md, Shifted::Yes),
    }
    s.finish(m.status_date, ctx.to);

    let mut buf = Vec::new();
    let fixed_notional = t.notional_principal.is_some();
    let mut st = States {
        status_date: m.status_date,
        exercise_amount: t.exercise_amount.unwrap_or(0.0),
        fee_accrued: if fee_rate == 0.0 {
            0.0
        } else {
            t.fee_accrued.unwrap_or(0.0)
        },
        ..States::default()
    };
    if m.status_date <= md {
        st.notional_principal = e.covered_amount(ctx, m.status_date, &mut buf)?;
    }
    for p in &s.events {
        let time = p.schedule_time;
        let refresh = |st: &mut States, buf: &mut Vec<ContractEvent>| {
            if guarantee && !fixed_notional {
                st.notional_principal = e.covered_amount(ctx, time, buf)?;
            }
            Ok::<(), ContractError>(())
        };
        let payoff = match p.event_type {
            EventType::Prd => {
                refresh(&mut st, &mut buf)?;
                -r * t.price_at_purchase_date.unwrap_or(0.0)
            }
            EventType::Fp => {
                let pay = if t.fee_basis == Some(FeeBasis::Absolute) {
                    r * fee_rate
                } else {
                    st.fee_accrued
                        + st.notional_principal * m.year_fraction(st.status_date, time) * fee_rate
                };
                refresh(&mut st, &mut buf)?;
                st.fee_accrued = 0.0;
                pay
            }
            EventType::Md => {
                st.notional_principal = 0.0;
                0.0
            }
            EventType::Xd => {
                if guarantee {
                    refresh(&mut st, &mut buf)?;
                    st.exercise_amount = st.notional_principal;
                    if fee_rate != 0.0 {
                        let y = m.year_fraction(st.status_date, time);
                        st.fee_accrued += match (t.fee_basis, t.cycle_of_fee) {
                            (Some(FeeBasis::Absolute), Some(cycle)) => {
                                let sd = st.status_date;
                                let next = sd.with_date(cycle.period.add_to(sd.date(), 1));
                                r * fee_rate * y / m.year_fraction(sd, next)
                            }
                            _ => st.notional_principal * y * fee_rate,
                        };
                    }
                } else {
                    st.notional_principal = e.covered_amount(ctx, time, &mut buf)?;
                    let collateral = e.collateral_value(ctx, time)?;
                    st.exercise_amount = r * collateral.min(st.notional_principal.abs());
                }
                0.0
            }
            EventType::Std => {
                let pay = st.exercise_amount + st.fee_accrued;
                st.notional_principal = 0.0;
                st.fee_accrued = 0.0;
                pay
            }
            EventType::Td => t.price_at_termination_date.unwrap_or(0.0),
            _ => 0.0,
        };
        st.status_date = time;
        out.push(super::emit(p, payoff, &st));
    }
    Ok(())
}
