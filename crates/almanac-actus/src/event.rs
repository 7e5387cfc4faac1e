//! Contract events and the states they leave behind.

use almanac_time::DateTime;
use serde::Serialize;

use crate::codes::{code_enum, ContractPerformance};
use crate::terms::ContractTerms;

code_enum! {
    /// ACTUS event type.
    EventType {
        /// Analysis / monitoring date: no cash flow.
        Ad = "AD",
        /// Initial exchange of principal.
        Ied = "IED",
        /// Fee payment.
        Fp = "FP",
        /// Scheduled principal redemption.
        Pr = "PR",
        /// Principal drawing.
        Pd = "PD",
        /// Principal increase (LAX).
        Pi = "PI",
        /// Principal payment amount fixing (ANN/NAM instalment recalculation).
        Prf = "PRF",
        /// Penalty payment.
        Py = "PY",
        /// Unscheduled principal prepayment.
        Pp = "PP",
        /// Interest payment.
        Ip = "IP",
        /// Fixed-leg interest payment (SWPPV, gross).
        Ipfx = "IPFX",
        /// Floating-leg interest payment (SWPPV, gross).
        Ipfl = "IPFL",
        /// Interest capitalisation.
        Ipci = "IPCI",
        /// Credit event.
        Ce = "CE",
        /// Rate reset to a known rate.
        Rrf = "RRF",
        /// Rate reset from observed market data.
        Rr = "RR",
        /// Dividend payment.
        Dv = "DV",
        /// Purchase.
        Prd = "PRD",
        /// Margin call.
        Mr = "MR",
        /// Termination.
        Td = "TD",
        /// Scaling index fixing.
        Sc = "SC",
        /// Interest calculation base fixing.
        Ipcb = "IPCB",
        /// Maturity.
        Md = "MD",
        /// Exercise.
        Xd = "XD",
        /// Settlement.
        Std = "STD",
    }
}

impl EventType {
    /// Order of events on the same date (the reference implementation's sequence; events
    /// without an explicit place come first).
    pub fn sequence(self) -> u16 {
        use EventType::*;
        match self {
            Ied => 20,
            Pr => 30,
            Ip | Ipci | Ipfx => 40,
            Ipfl => 45,
            Fp => 60,
            Dv => 70,
            Mr => 80,
            Rr | Rrf => 100,
            Prf => 105,
            Sc => 110,
            Ipcb => 120,
            Prd => 130,
            Td => 140,
            Md => 150,
            Xd => 160,
            Std => 170,
            Ad => 950,
            Pd | Pi | Py | Pp | Ce => 0,
        }
    }
}

/// The state of a contract after an event. Amounts are signed by the contract role
/// (positive for an asset position, ACTUS convention); rates are decimals per year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct States {
    /// Outstanding principal (NT), signed.
    pub notional_principal: f64,
    /// Rate in force (IPNR), decimal per year.
    pub nominal_interest_rate: f64,
    /// Interest accrued and not yet paid (IPAC), signed.
    pub accrued_interest: f64,
    /// Fees accrued and not yet paid (FEAC).
    pub fee_accrued: f64,
    /// Amount interest accrues on (ICBA), signed.
    pub interest_calculation_base_amount: f64,
    /// Next principal redemption or instalment (PRNXT).
    pub next_principal_redemption_payment: f64,
    /// Notional scaling multiplier (SCNT).
    pub notional_scaling_multiplier: f64,
    /// Interest scaling multiplier (SCIP).
    pub interest_scaling_multiplier: f64,
    /// Amount fixed at exercise (XA).
    pub exercise_amount: f64,
    /// Second-leg notional (SWPPV), signed.
    pub notional_principal2: f64,
    /// Second-leg rate (SWPPV floating leg).
    pub nominal_interest_rate2: f64,
    /// Second-leg accrued interest, signed.
    pub accrued_interest2: f64,
    /// Time of the last state update (SD).
    pub status_date: DateTime,
    /// Not an ACTUS state: the base the accrued interest accrued on, `Σ year fraction ×
    /// interest calculation base` (year fractions on the contract's day count; currency ×
    /// years, signed like the notional) since the last interest payment,
    /// up to and including this event. On an interest payment (`IP`, `IPCI`) it is the base of
    /// the interest paid, so `∂payoff/∂rate = interest scaling multiplier × base`: what
    /// stripping a spread from a contract's rate needs, whatever the rate (zero included).
    /// Kept by the amortizing contracts (PAM, LAM, ANN, NAM); zero elsewhere.
    #[serde(skip)]
    pub interest_accrual_base: f64,
    /// Performance state.
    #[serde(skip)]
    pub contract_performance: ContractPerformance,
}

impl Default for States {
    fn default() -> States {
        States {
            notional_principal: 0.0,
            nominal_interest_rate: 0.0,
            accrued_interest: 0.0,
            fee_accrued: 0.0,
            interest_calculation_base_amount: 0.0,
            next_principal_redemption_payment: 0.0,
            notional_scaling_multiplier: 1.0,
            interest_scaling_multiplier: 1.0,
            exercise_amount: 0.0,
            notional_principal2: 0.0,
            nominal_interest_rate2: 0.0,
            accrued_interest2: 0.0,
            status_date: DateTime::default(),
            interest_accrual_base: 0.0,
            contract_performance: ContractPerformance::Performing,
        }
    }
}

/// One evaluated contract event: when, what, the cash flow and the post-event state.
///
/// `payoff` is the cash flow from the point of view of the record's creator: positive means
/// money received (ACTUS convention; an asset's principal repayment is positive, a deposit's
/// is negative). It is in `currency`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContractEvent {
    /// The payment date: the scheduled date moved by the business-day convention.
    pub event_time: DateTime,
    /// The scheduled (unadjusted) date; accruals and market observations use it.
    pub schedule_time: DateTime,
    /// Event type.
    pub event_type: EventType,
    /// Cash flow, signed from the creator's point of view, in `currency`.
    pub payoff: f64,
    /// Currency of the payoff (index into the currencies of the contract that produced the
    /// event: 0 = `currency`, 1 = `currency2`).
    pub currency_leg: u8,
    /// Which contract produced the event: 0 = the evaluated contract itself, `k` = its `k`-th
    /// child contract in `contractStructure` (1-based; the legs of a swap). See
    /// [`ContractEvent::source_terms`].
    pub child: u8,
    /// State after the event (of the contract that produced it).
    pub states: States,
}

/// An event without its payoff and states: when, what, in which currency, from which
/// contract. What an [`crate::EventSink`] gets beside the payoff and a reference to the states
/// (copying the states into a whole event is what a sink that reads a few of them avoids).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventHead {
    /// As [`ContractEvent::event_time`].
    pub event_time: DateTime,
    /// As [`ContractEvent::schedule_time`].
    pub schedule_time: DateTime,
    /// As [`ContractEvent::event_type`].
    pub event_type: EventType,
    /// As [`ContractEvent::currency_leg`].
    pub currency_leg: u8,
    /// As [`ContractEvent::child`].
    pub child: u8,
}

impl EventHead {
    /// The whole event with `payoff` and the states after it.
    #[inline]
    pub fn with(self, payoff: f64, states: &States) -> ContractEvent {
        ContractEvent {
            event_time: self.event_time,
            schedule_time: self.schedule_time,
            event_type: self.event_type,
            payoff,
            currency_leg: self.currency_leg,
            child: self.child,
            states: *states,
        }
    }

    /// As [`ContractEvent::currency`].
    #[inline]
    pub fn currency<'a>(&self, contract: &'a ContractTerms) -> Option<&'a str> {
        let t = match self.child {
            0 => contract,
            k => contract.child(usize::from(k) - 1).unwrap_or(contract),
        };
        match self.currency_leg {
            1 => t.currency2.as_deref(),
            _ => t.currency.as_deref(),
        }
    }
}

impl ContractEvent {
    /// The event without its payoff and states.
    #[inline]
    pub fn head(&self) -> EventHead {
        EventHead {
            event_time: self.event_time,
            schedule_time: self.schedule_time,
            event_type: self.event_type,
            currency_leg: self.currency_leg,
            child: self.child,
        }
    }

    /// Sort key: payment time, then the ACTUS sequence of event types.
    pub fn sort_key(&self) -> (DateTime, u16) {
        (self.event_time, self.event_type.sequence())
    }

    /// The terms of the contract that produced this event: `contract` itself, or the child
    /// contract the event came from.
    pub fn source_terms<'a>(&self, contract: &'a ContractTerms) -> &'a ContractTerms {
        match self.child {
            0 => contract,
            k => contract.child(usize::from(k) - 1).unwrap_or(contract),
        }
    }

    /// The currency of the payoff, given the evaluated contract's terms.
    #[inline]
    pub fn currency<'a>(&self, contract: &'a ContractTerms) -> Option<&'a str> {
        self.head().currency(contract)
    }
}
