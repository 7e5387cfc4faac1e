//! Contract terms: the static attributes of an ACTUS contract.
//!
//! [`ContractTerms`] holds every term Almanac reads, named after the ACTUS dictionary (v1.4)
//! in snake_case and serialised under the dictionary's camelCase identifiers, so a test-suite
//! file or an ACTUS JSON export loads unchanged.
//!
//! Input is first read as a loose map of term name → JSON value ([`RawTerms`]) and then checked
//! term by term, so an error names the contract, the term, the value and the reason. The loader
//! accepts the quirks of the official test suite (`../shared/spec/actus-notes.md` §1.1, §7):
//! numbers given as JSON numbers or as strings with spaces, timestamps with or without
//! seconds, old term names (`fixingDays`, `cycleOfDividendPayment`, `creatorId`, …), `NOCALENDAR`,
//! cycles written as `settlementPeriod`, and LAX arrays given as bare scalars. Unknown terms are
//! kept in [`ContractTerms::extra`], never dropped.
//!
//! Conventions: rates are decimals per year (0.05 = 5 %), amounts are in the contract currency
//! and unsigned (the role gives the sign), dates are ACTUS date-times.

use std::collections::BTreeMap;

use almanac_time::{BusinessDayConvention, Cycle, DateTime, EndOfMonthConvention, Period};
use serde::Serialize;
use serde_json::Value;

use crate::codes::*;
use crate::error::TermError;

/// Terms as read from a file, before checking: ACTUS term name → value.
pub type RawTerms = serde_json::Map<String, Value>;

code_enum! {
    /// ACTUS day-count code (`dayCountConvention`); turned into an
    /// [`almanac_time::DayCount`] once the calendar and maturity are known.
    DayCountCode {
        /// Actual/360.
        A360 = "A360",
        /// Actual/365 Fixed.
        A365 = "A365",
        /// Actual/Actual ISDA.
        ActActIsda = "AA",
        /// 30E/360.
        ThirtyE360 = "30E360",
        /// 30E/360 ISDA.
        ThirtyE360Isda = "30E360ISDA",
        /// 28/336.
        TwentyEightE336 = "28E336",
        /// Business/252.
        B252 = "B252",
    }
}

code_enum! {
    /// ACTUS calendar code (`calendar`).
    CalendarCode {
        /// No holidays.
        NoCalendar = "NC" | "NOCALENDAR",
        /// Monday to Friday.
        MondayToFriday = "MF",
        /// Monday to Friday with the contract's `holidays` list (upstream ACTUS extension).
        MondayToFridayWithHolidays = "MFH",
        /// TARGET2 (Almanac extension for euro contracts).
        Target = "TARGET",
    }
}

/// Parsing of one term value from JSON.
trait TermValue: Sized {
    fn parse_term(v: &Value) -> Result<Self, String>;
}

fn as_text(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s.as_str()),
        _ => Err("expected text".to_string()),
    }
}

impl TermValue for f64 {
    fn parse_term(v: &Value) -> Result<f64, String> {
        let x = match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| "not a finite number".to_string())?,
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| "not a number".to_string())?,
            _ => return Err("expected a number".to_string()),
        };
        if x.is_finite() {
            Ok(x)
        } else {
            Err("not a finite number".to_string())
        }
    }
}

impl TermValue for String {
    fn parse_term(v: &Value) -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.trim().to_string()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err("expected text".to_string()),
        }
    }
}

impl TermValue for DateTime {
    fn parse_term(v: &Value) -> Result<DateTime, String> {
        as_text(v)?
            .parse()
            .map_err(|e: almanac_time::TimeError| e.to_string())
    }
}

impl TermValue for Cycle {
    fn parse_term(v: &Value) -> Result<Cycle, String> {
        as_text(v)?
            .parse()
            .map_err(|e: almanac_time::TimeError| e.to_string())
    }
}

impl TermValue for Period {
    fn parse_term(v: &Value) -> Result<Period, String> {
        as_text(v)?
            .parse()
            .map_err(|e: almanac_time::TimeError| e.to_string())
    }
}

impl TermValue for BusinessDayConvention {
    fn parse_term(v: &Value) -> Result<Self, String> {
        BusinessDayConvention::from_code(as_text(v)?).map_err(|e| e.to_string())
    }
}

impl TermValue for EndOfMonthConvention {
    fn parse_term(v: &Value) -> Result<Self, String> {
        EndOfMonthConvention::from_code(as_text(v)?).map_err(|e| e.to_string())
    }
}

impl TermValue for bool {
    fn parse_term(v: &Value) -> Result<bool, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) => match s.trim().to_ascii_uppercase().as_str() {
                "TRUE" => Ok(true),
                "FALSE" => Ok(false),
                _ => Err("expected TRUE or FALSE".to_string()),
            },
            _ => Err("expected TRUE or FALSE".to_string()),
        }
    }
}

impl<T: TermValue> TermValue for Vec<T> {
    fn parse_term(v: &Value) -> Result<Vec<T>, String> {
        match v {
            Value::Array(items) => items.iter().map(T::parse_term).collect(),
            // The suite writes one-element LAX arrays as bare scalars.
            other => Ok(vec![T::parse_term(other)?]),
        }
    }
}

/// The code enums as term values: parsed from their ACTUS code, and in the compact form
/// ([`crate::compact`]) written as it.
macro_rules! impl_code_term {
    ($($t:ty),*) => {$(
        impl TermValue for $t {
            fn parse_term(v: &Value) -> Result<Self, String> {
                let s = as_text(v)?;
                <$t>::from_code(s).ok_or_else(|| format!("unknown code; expected one of {}",
                    <$t>::CODES.join(", ")))
            }
        }
    )*
        crate::compact::compact_by_code!($($t),*);
    };
}
impl_code_term!(
    ContractType,
    ContractRole,
    InterestCalculationBase,
    ScalingEffect,
    FeeBasis,
    DeliverySettlement,
    OptionType,
    OptionExerciseType,
    ContractPerformance,
    GuaranteedExposure,
    IncreaseDecrease,
    FixedVariable,
    DayCountCode,
    CalendarCode,
    CreditEventType
);

/// A child reference in `contractStructure`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractReference {
    /// The referenced object.
    pub object: ReferenceObject,
    /// Kind of reference (CNT, CID, MOC, …).
    pub reference_type: ReferenceType,
    /// Role of the child (FIL, SEL, UDL, COVE, COVI, …).
    pub reference_role: ReferenceRole,
}

/// What a [`ContractReference`] points to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ReferenceObject {
    /// A full child contract (`CNT`).
    Contract(Box<ContractTerms>),
    /// A contract identifier (`CID`).
    ContractIdentifier {
        /// The referenced contract's `contractID`.
        #[serde(rename = "contractIdentifier")]
        contract_identifier: String,
    },
    /// A market object code (`MOC`).
    MarketObjectCode {
        /// The market object code.
        #[serde(rename = "marketObjectCode")]
        market_object_code: String,
    },
}

/// Old or misspelt term names found in the suite and the names they stand for.
const ALIASES: &[(&str, &str)] = &[
    ("fixingDays", "fixingPeriod"),
    (
        "cycleAnchorDateOfDividendPayment",
        "cycleAnchorDateOfDividend",
    ),
    ("cycleOfDividendPayment", "cycleOfDividend"),
    ("creatorId", "creatorID"),
    ("contractId", "contractID"),
    ("counterpartyId", "counterpartyID"),
];

/// The canonical ACTUS name for a term key (resolving the aliases of the test suite).
pub fn canonical_term_name(key: &str) -> &str {
    ALIASES
        .iter()
        .find(|(a, _)| *a == key)
        .map_or(key, |(_, c)| c)
}

macro_rules! terms {
    ($( $(#[$m:meta])* $field:ident : $ty:ty = $key:literal ),+ $(,)?) => {
        /// The terms of one ACTUS contract. See the module documentation for conventions.
        #[derive(Debug, Clone, PartialEq, Default, Serialize)]
        pub struct ContractTerms {
            $(
                $(#[$m])*
                #[serde(rename = $key, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )+
            /// Children of a composite contract (`contractStructure`).
            #[serde(rename = "contractStructure", skip_serializing_if = "Vec::is_empty")]
            pub contract_structure: Vec<ContractReference>,
            /// Terms Almanac does not interpret, kept as given (e.g. `notionalRate`).
            #[serde(flatten)]
            pub extra: BTreeMap<String, Value>,
        }

        impl ContractTerms {
            /// The ACTUS names of every term Almanac interprets.
            pub const TERM_NAMES: &'static [&'static str] = &[$($key,)+ "contractStructure"];

            fn set_term(&mut self, key: &str, value: &Value) -> Result<bool, String> {
                match key {
                    $($key => { self.$field = Some(<$ty>::parse_term(value)?); Ok(true) })+
                    _ => Ok(false),
                }
            }

            /// The fingerprint of the terms' layout in their compact form
            /// ([`ContractTerms::write_compact`]): a hash of every term's name and type in
            /// declaration order.
            pub const COMPACT_LAYOUT: u32 = crate::compact::fnv1a(
                concat!($($key, ":", stringify!($ty), ";"),+).as_bytes()
            );

            /// Writes each term that is set: its index in the declaration, then its value.
            pub(crate) fn write_compact_terms(&self, out: &mut Vec<u8>) {
                let mut index: u8 = 0;
                $(
                    if let Some(v) = &self.$field {
                        out.push(index);
                        crate::compact::Compact::write(v, out);
                    }
                    index += 1;
                )+
                let _ = index;
            }
        }

        /// The reader of each term's compact value, by its index in the declaration.
        pub(crate) const COMPACT_READERS: &[crate::compact::ReadTerm] = &[$(
            |t, r| {
                t.$field = Some(<$ty as crate::compact::Compact>::read(r)?);
                Ok(())
            }
        ),+];
    };
}

terms! {
    /// Unique contract identifier (`contractID`).
    contract_id: String = "contractID",
    /// Contract type (`contractType`).
    contract_type: ContractType = "contractType",
    /// Role of the record's creator (`contractRole`); gives the sign of payoffs.
    contract_role: ContractRole = "contractRole",
    /// Date the terms and the given states refer to (`statusDate`).
    status_date: DateTime = "statusDate",
    /// Date the contract was agreed (`contractDealDate`).
    contract_deal_date: DateTime = "contractDealDate",
    /// Creator's identifier (`creatorID`).
    creator_id: String = "creatorID",
    /// Counterparty identifier (`counterpartyID`).
    counterparty_id: String = "counterpartyID",
    /// Contract currency, ISO 4217 (`currency`).
    currency: String = "currency",
    /// Second currency (FXOUT, `currency2`).
    currency2: String = "currency2",
    /// Market object code of the contract itself (`marketObjectCode`).
    market_object_code: String = "marketObjectCode",
    /// Performance state at the status date (`contractPerformance`).
    contract_performance: ContractPerformance = "contractPerformance",
    /// Day-count convention (`dayCountConvention`).
    day_count_convention: DayCountCode = "dayCountConvention",
    /// Business-day convention (`businessDayConvention`).
    business_day_convention: BusinessDayConvention = "businessDayConvention",
    /// Holiday calendar (`calendar`).
    calendar: CalendarCode = "calendar",
    /// Explicit holidays for calendar `MFH` (`holidays`, upstream extension).
    holidays: Vec<DateTime> = "holidays",
    /// End-of-month convention (`endOfMonthConvention`).
    end_of_month_convention: EndOfMonthConvention = "endOfMonthConvention",
    /// Date principal is first exchanged (`initialExchangeDate`).
    initial_exchange_date: DateTime = "initialExchangeDate",
    /// Contractual maturity (`maturityDate`).
    maturity_date: DateTime = "maturityDate",
    /// Notional principal, unsigned, in `currency` (`notionalPrincipal`).
    notional_principal: f64 = "notionalPrincipal",
    /// Second notional, unsigned, in `currency2` (`notionalPrincipal2`).
    notional_principal2: f64 = "notionalPrincipal2",
    /// Nominal interest rate, decimal per year (`nominalInterestRate`).
    nominal_interest_rate: f64 = "nominalInterestRate",
    /// Second-leg rate, decimal per year (`nominalInterestRate2`).
    nominal_interest_rate2: f64 = "nominalInterestRate2",
    /// Interest accrued at the status date, signed by role as a state (`accruedInterest`).
    accrued_interest: f64 = "accruedInterest",
    /// Premium (+) or discount (−) paid at initial exchange (`premiumDiscountAtIED`).
    premium_discount_at_ied: f64 = "premiumDiscountAtIED",
    /// Anchor of the interest payment cycle (`cycleAnchorDateOfInterestPayment`).
    cycle_anchor_date_of_interest_payment: DateTime = "cycleAnchorDateOfInterestPayment",
    /// Interest payment cycle (`cycleOfInterestPayment`).
    cycle_of_interest_payment: Cycle = "cycleOfInterestPayment",
    /// End of interest capitalisation (`capitalizationEndDate`).
    capitalization_end_date: DateTime = "capitalizationEndDate",
    /// Anchor of the principal redemption cycle (`cycleAnchorDateOfPrincipalRedemption`).
    cycle_anchor_date_of_principal_redemption: DateTime = "cycleAnchorDateOfPrincipalRedemption",
    /// Principal redemption cycle (`cycleOfPrincipalRedemption`).
    cycle_of_principal_redemption: Cycle = "cycleOfPrincipalRedemption",
    /// Next principal redemption amount, unsigned (`nextPrincipalRedemptionPayment`); for ANN
    /// and NAM the whole instalment including interest.
    next_principal_redemption_payment: f64 = "nextPrincipalRedemptionPayment",
    /// Date to which an annuity is sized (`amortizationDate`).
    amortization_date: DateTime = "amortizationDate",
    /// Anchor of the rate reset cycle (`cycleAnchorDateOfRateReset`).
    cycle_anchor_date_of_rate_reset: DateTime = "cycleAnchorDateOfRateReset",
    /// Rate reset cycle (`cycleOfRateReset`).
    cycle_of_rate_reset: Cycle = "cycleOfRateReset",
    /// Spread added at resets, decimal (`rateSpread`).
    rate_spread: f64 = "rateSpread",
    /// Multiplier of the observed rate at resets (`rateMultiplier`).
    rate_multiplier: f64 = "rateMultiplier",
    /// Index observed at resets (`marketObjectCodeOfRateReset`).
    market_object_code_of_rate_reset: String = "marketObjectCodeOfRateReset",
    /// Rate set at the first reset after the status date (`nextResetRate`).
    next_reset_rate: f64 = "nextResetRate",
    /// Maximum rise of the rate at one reset (`periodCap`).
    period_cap: f64 = "periodCap",
    /// Maximum fall of the rate at one reset (`periodFloor`).
    period_floor: f64 = "periodFloor",
    /// Lifetime rate cap (`lifeCap`).
    life_cap: f64 = "lifeCap",
    /// Lifetime rate floor (`lifeFloor`).
    life_floor: f64 = "lifeFloor",
    /// Fixing lag before a reset (`fixingPeriod`; old name `fixingDays`).
    fixing_period: Period = "fixingPeriod",
    /// Anchor of the interest calculation base cycle.
    cycle_anchor_date_of_interest_calculation_base: DateTime = "cycleAnchorDateOfInterestCalculationBase",
    /// Interest calculation base cycle (`cycleOfInterestCalculationBase`).
    cycle_of_interest_calculation_base: Cycle = "cycleOfInterestCalculationBase",
    /// Base interest accrues on (`interestCalculationBase`).
    interest_calculation_base: InterestCalculationBase = "interestCalculationBase",
    /// Initial interest calculation base amount (`interestCalculationBaseAmount`).
    interest_calculation_base_amount: f64 = "interestCalculationBaseAmount",
    /// Anchor of the fee cycle (`cycleAnchorDateOfFee`).
    cycle_anchor_date_of_fee: DateTime = "cycleAnchorDateOfFee",
    /// Fee cycle (`cycleOfFee`).
    cycle_of_fee: Cycle = "cycleOfFee",
    /// Fee rate or amount (`feeRate`), per `feeBasis`.
    fee_rate: f64 = "feeRate",
    /// Fee basis (`feeBasis`).
    fee_basis: FeeBasis = "feeBasis",
    /// Fees accrued at the status date (`feeAccrued`).
    fee_accrued: f64 = "feeAccrued",
    /// Anchor of the scaling index cycle (`cycleAnchorDateOfScalingIndex`).
    cycle_anchor_date_of_scaling_index: DateTime = "cycleAnchorDateOfScalingIndex",
    /// Scaling index cycle (`cycleOfScalingIndex`).
    cycle_of_scaling_index: Cycle = "cycleOfScalingIndex",
    /// What the scaling index scales (`scalingEffect`).
    scaling_effect: ScalingEffect = "scalingEffect",
    /// Scaling index value at the deal date (`scalingIndexAtContractDealDate`).
    scaling_index_at_contract_deal_date: f64 = "scalingIndexAtContractDealDate",
    /// Index observed at SC events (`marketObjectCodeOfScalingIndex`).
    market_object_code_of_scaling_index: String = "marketObjectCodeOfScalingIndex",
    /// Notional scaling multiplier at the status date (`notionalScalingMultiplier`).
    notional_scaling_multiplier: f64 = "notionalScalingMultiplier",
    /// Interest scaling multiplier at the status date (`interestScalingMultiplier`).
    interest_scaling_multiplier: f64 = "interestScalingMultiplier",
    /// Secondary-market purchase date (`purchaseDate`).
    purchase_date: DateTime = "purchaseDate",
    /// Clean price paid at purchase, unsigned (`priceAtPurchaseDate`).
    price_at_purchase_date: f64 = "priceAtPurchaseDate",
    /// Sale or early termination date (`terminationDate`).
    termination_date: DateTime = "terminationDate",
    /// Clean price received at termination, unsigned (`priceAtTerminationDate`).
    price_at_termination_date: f64 = "priceAtTerminationDate",
    /// Notice period of a call (`xDayNotice`).
    x_day_notice: Period = "xDayNotice",
    /// Delay between exercise and settlement (`settlementPeriod`).
    settlement_period: Period = "settlementPeriod",
    /// Gross delivery or net cash settlement (`deliverySettlement`).
    delivery_settlement: DeliverySettlement = "deliverySettlement",
    /// Quantity of units (STK, COM, OPTNS, FUTUR: `quantity`).
    quantity: f64 = "quantity",
    /// Unit of a commodity (`unit`).
    unit: String = "unit",
    /// Anchor of the dividend cycle (`cycleAnchorDateOfDividend`).
    cycle_anchor_date_of_dividend: DateTime = "cycleAnchorDateOfDividend",
    /// Dividend cycle (`cycleOfDividend`).
    cycle_of_dividend: Cycle = "cycleOfDividend",
    /// Market object code of the dividend series (suite term `marketObjectCodeOfDividends`).
    market_object_code_of_dividends: String = "marketObjectCodeOfDividends",
    /// Option type (`optionType`).
    option_type: OptionType = "optionType",
    /// First strike (`optionStrike1`).
    option_strike1: f64 = "optionStrike1",
    /// Second strike (`optionStrike2`).
    option_strike2: f64 = "optionStrike2",
    /// Exercise style (`optionExerciseType`).
    option_exercise_type: OptionExerciseType = "optionExerciseType",
    /// Futures price agreed at the deal (`futuresPrice`).
    futures_price: f64 = "futuresPrice",
    /// Exercise date, if exercised before the status date (`exerciseDate`).
    exercise_date: DateTime = "exerciseDate",
    /// Exercise amount, if exercised before the status date (`exerciseAmount`).
    exercise_amount: f64 = "exerciseAmount",
    /// Share of the covered exposure that is covered (`coverageOfCreditEnhancement`).
    coverage_of_credit_enhancement: f64 = "coverageOfCreditEnhancement",
    /// Which exposure a credit enhancement covers (`guaranteedExposure`).
    guaranteed_exposure: GuaranteedExposure = "guaranteedExposure",
    /// Credit events that trigger a credit enhancement (`creditEventTypeCovered`).
    credit_event_type_covered: Vec<CreditEventType> = "creditEventTypeCovered",
    /// Observed market value of the position (`marketValueObserved`).
    market_value_observed: f64 = "marketValueObserved",
    /// LAX: anchors of the principal redemption segments.
    array_cycle_anchor_date_of_principal_redemption: Vec<DateTime> = "arrayCycleAnchorDateOfPrincipalRedemption",
    /// LAX: cycles of the principal redemption segments.
    array_cycle_of_principal_redemption: Vec<Cycle> = "arrayCycleOfPrincipalRedemption",
    /// LAX: redemption amount of each segment.
    array_next_principal_redemption_payment: Vec<f64> = "arrayNextPrincipalRedemptionPayment",
    /// LAX: whether each segment increases (PI) or decreases (PR) the principal.
    array_increase_decrease: Vec<IncreaseDecrease> = "arrayIncreaseDecrease",
    /// LAX: anchors of the interest payment segments.
    array_cycle_anchor_date_of_interest_payment: Vec<DateTime> = "arrayCycleAnchorDateOfInterestPayment",
    /// LAX: cycles of the interest payment segments.
    array_cycle_of_interest_payment: Vec<Cycle> = "arrayCycleOfInterestPayment",
    /// LAX: anchors of the rate reset segments.
    array_cycle_anchor_date_of_rate_reset: Vec<DateTime> = "arrayCycleAnchorDateOfRateReset",
    /// LAX: cycles of the rate reset segments.
    array_cycle_of_rate_reset: Vec<Cycle> = "arrayCycleOfRateReset",
    /// LAX: rate (fixed) or spread (variable) of each reset segment.
    array_rate: Vec<f64> = "arrayRate",
    /// LAX: fixed or variable per reset segment.
    array_fixed_variable: Vec<FixedVariable> = "arrayFixedVariable",
    /// BCS: boundary level of the underlying.
    boundary_value: f64 = "boundaryValue",
    /// BCS: direction of the crossing (`INCR`/`DECR`).
    boundary_direction: String = "boundaryDirection",
    /// BCS: effect of a crossing (`knockINFirstLeg`, …).
    boundary_effect: String = "boundaryEffect",
    /// BCS: leg active before any crossing (`FIL`, `SEL`, `NULL`).
    boundary_leg_initially_active: String = "boundaryLegInitiallyActive",
    /// BCS: first monitoring date.
    boundary_monitoring_anchor_date: DateTime = "boundaryMonitoringAnchorDate",
    /// BCS: last monitoring date.
    boundary_monitoring_end_date: DateTime = "boundaryMonitoringEndDate",
    /// BCS: monitoring cycle.
    boundary_monitoring_cycle: Cycle = "boundaryMonitoringCycle",
    /// BCS: whether the boundary was already crossed at the status date.
    boundary_crossed_flag: bool = "boundaryCrossedFlag",
}

impl ContractTerms {
    /// Checks raw terms. `contract_id_hint` names the contract in errors when the terms lack a
    /// `contractID` (for example the test-case identifier).
    pub fn from_raw(raw: &RawTerms, contract_id_hint: &str) -> Result<ContractTerms, TermError> {
        let id = raw
            .get("contractID")
            .or_else(|| raw.get("contractId"))
            .and_then(|v| String::parse_term(v).ok())
            .unwrap_or_else(|| contract_id_hint.to_string());
        let err = |term: &str, value: &Value, reason: String| TermError {
            contract_id: id.clone(),
            term: term.to_string(),
            value: value_text(value),
            reason,
        };
        let mut t = ContractTerms::default();
        for (key, value) in raw {
            match t.read_term(key, value) {
                Ok(TermRead::Read) => {}
                Ok(TermRead::Structure) => t.contract_structure = parse_structure(value, &id)?,
                Ok(TermRead::Extra) => {
                    t.extra.insert(key.clone(), value.clone());
                }
                Err(reason) => return Err(err(key, value, reason)),
            }
        }
        if t.contract_id.is_none() {
            t.contract_id = Some(id);
        }
        Ok(t)
    }

    /// Reads the term `key` (any of its accepted spellings) from `value` into `self`; a null
    /// or blank value is no term. The contract structure and terms Almanac does not know are
    /// left to the caller: the one needs the contract's id, the other is kept as given.
    fn read_term(&mut self, key: &str, value: &Value) -> Result<TermRead, String> {
        if value.is_null() || matches!(value, Value::String(s) if s.trim().is_empty()) {
            return Ok(TermRead::Read);
        }
        let name = canonical_term_name(key);
        if name == "contractStructure" {
            return Ok(TermRead::Structure);
        }
        Ok(if self.set_term(name, value)? {
            TermRead::Read
        } else {
            TermRead::Extra
        })
    }

    /// The contract identifier, or `""`.
    pub fn id(&self) -> &str {
        self.contract_id.as_deref().unwrap_or("")
    }

    /// The `index`-th entry of `contractStructure` (0-based) when it is a full child contract.
    pub fn child(&self, index: usize) -> Option<&ContractTerms> {
        match &self.contract_structure.get(index)?.object {
            ReferenceObject::Contract(c) => Some(c),
            _ => None,
        }
    }
}

/// Contract terms read straight from a JSON object by a serde deserializer, term by term as
/// [`ContractTerms::from_raw`] reads a map (the same terms, extras and errors) without
/// building the map first: what loading a million stored positions needs. The outcome of the
/// terms is inside, so a bad term does not fail the surrounding document's parse. The terms
/// are built in place on the heap: at about 1.5 KB they are costly to move.
#[derive(Debug)]
pub struct TermsFromJson(pub Result<Box<ContractTerms>, TermError>);

/// What [`ContractTerms::read_term`] made of one entry.
enum TermRead {
    /// Read into the terms (or a null or blank value, which is no term).
    Read,
    /// The contract structure, for the caller to read once the contract's id is known.
    Structure,
    /// Not a term Almanac knows: for the caller to keep in `extra`.
    Extra,
}

/// An object key, borrowed from the input when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl std::ops::Deref for Key<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a term name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for TermsFromJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TermsFromJson, D::Error> {
        serde::de::DeserializeSeed::deserialize(TermsSeed(""), d)
    }
}

/// Reads [`TermsFromJson`] naming a contract without a `contractID` by the given hint, as
/// [`ContractTerms::from_raw`] does with its `contract_id_hint` (plain deserialization
/// leaves such a contract's id empty).
#[derive(Debug, Clone, Copy)]
pub struct TermsSeed<'h>(pub &'h str);

impl<'de> serde::de::DeserializeSeed<'de> for TermsSeed<'_> {
    type Value = TermsFromJson;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<TermsFromJson, D::Error> {
        struct V<'h> {
            hint: &'h str,
        }
        impl<'de> serde::de::Visitor<'de> for V<'_> {
            type Value = TermsFromJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of ACTUS terms")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TermsFromJson, A::Error> {
                let mut t = Box::<ContractTerms>::default();
                // The first bad term (named once the contract id is known), the structure
                // (read once it is).
                let mut bad: Option<(String, Value, String)> = None;
                let mut structure: Option<Value> = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    let value: Value = map.next_value()?;
                    if bad.is_some() {
                        continue;
                    }
                    match t.read_term(&key, &value) {
                        Ok(TermRead::Read) => {}
                        Ok(TermRead::Structure) => structure = Some(value),
                        Ok(TermRead::Extra) => {
                            t.extra.insert(key.to_string(), value);
                        }
                        Err(reason) => bad = Some((key.to_string(), value, reason)),
                    }
                }
                let id = t
                    .contract_id
                    .take()
                    .unwrap_or_else(|| self.hint.to_string());
                if let Some((term, value, reason)) = bad {
                    return Ok(TermsFromJson(Err(TermError {
                        contract_id: id,
                        term,
                        value: value_text(&value),
                        reason,
                    })));
                }
                if let Some(v) = structure {
                    match parse_structure(&v, &id) {
                        Ok(s) => t.contract_structure = s,
                        Err(e) => return Ok(TermsFromJson(Err(e))),
                    }
                }
                t.contract_id = Some(id);
                Ok(TermsFromJson(Ok(t)))
            }
        }
        d.deserialize_map(V { hint: self.0 })
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_structure(value: &Value, parent_id: &str) -> Result<Vec<ContractReference>, TermError> {
    let err = |v: &Value, reason: &str| TermError {
        contract_id: parent_id.to_string(),
        term: "contractStructure".to_string(),
        value: value_text(v),
        reason: reason.to_string(),
    };
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![value],
        other => return Err(err(other, "expected a list of references")),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let obj = item
            .as_object()
            .ok_or_else(|| err(item, "expected a reference object"))?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::trim);
        let reference_type = text("referenceType")
            .and_then(ReferenceType::from_code)
            .ok_or_else(|| err(item, "referenceType missing or not CNT/CID/MOC/EID/CST"))?;
        let reference_role = text("referenceRole")
            .and_then(ReferenceRole::from_code)
            .ok_or_else(|| err(item, "referenceRole missing or unknown"))?;
        let object = obj
            .get("object")
            .ok_or_else(|| err(item, "reference without object"))?;
        let object = match reference_type {
            ReferenceType::Contract => {
                let raw = object
                    .as_object()
                    .ok_or_else(|| err(object, "expected child terms"))?;
                let hint = format!("{parent_id}/{}", reference_role.code());
                ReferenceObject::Contract(Box::new(ContractTerms::from_raw(raw, &hint)?))
            }
            ReferenceType::MarketObjectCode => ReferenceObject::MarketObjectCode {
                market_object_code: object
                    .get("marketObjectCode")
                    .and_then(|v| String::parse_term(v).ok())
                    .ok_or_else(|| err(object, "MOC reference without marketObjectCode"))?,
            },
            _ => ReferenceObject::ContractIdentifier {
                contract_identifier: object
                    .get("contractIdentifier")
                    .and_then(|v| String::parse_term(v).ok())
                    .ok_or_else(|| err(object, "reference without contractIdentifier"))?,
            },
        };
        out.push(ContractReference {
            object,
            reference_type,
            reference_role,
        });
    }
    Ok(out)
}

impl<'de> serde::Deserialize<'de> for ContractTerms {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ContractTerms, D::Error> {
        let raw = RawTerms::deserialize(d)?;
        ContractTerms::from_raw(&raw, "").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawTerms {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn accepts_suite_quirks() {
        let t = ContractTerms::from_raw(
            &raw(
                r#"{"contractID":"x","contractType":"PAM","notionalPrincipal":"  5000",
                "premiumDiscountAtIED": 0, "calendar":"NOCALENDAR", "fixingDays":"P2D",
                "settlementPeriod":"P5DL0", "statusDate":"2013-08-01T00:00",
                "arrayRate":"0.05", "notionalRate":"0", "scalingEffect":"IOO"}"#,
            ),
            "case",
        )
        .unwrap();
        assert_eq!(t.notional_principal, Some(5000.0));
        assert_eq!(t.premium_discount_at_ied, Some(0.0));
        assert_eq!(t.calendar, Some(CalendarCode::NoCalendar));
        assert_eq!(t.fixing_period.unwrap().count, 2);
        assert_eq!(t.settlement_period.unwrap().count, 5);
        assert_eq!(t.array_rate, Some(vec![0.05]));
        assert_eq!(t.scaling_effect, Some(ScalingEffect::Interest));
        assert!(t.extra.contains_key("notionalRate"));
    }

    #[test]
    fn errors_name_contract_term_value_and_reason() {
        let e = ContractTerms::from_raw(
            &raw(r#"{"contractID":"loan-7","maturityDate":"2013-02-30T00:00:00"}"#),
            "",
        )
        .unwrap_err();
        assert_eq!(e.contract_id, "loan-7");
        assert_eq!(e.term, "maturityDate");
        assert_eq!(e.value, "2013-02-30T00:00:00");
        assert!(e.reason.contains("not a calendar date"), "{}", e.reason);
        let e = ContractTerms::from_raw(&raw(r#"{"dayCountConvention":"ACT/ACT"}"#), "row 3")
            .unwrap_err();
        assert_eq!(e.contract_id, "row 3");
        assert!(e.reason.contains("A365"));
    }

    #[test]
    fn serialises_under_actus_names() {
        let t = ContractTerms::from_raw(
            &raw(r#"{"contractID":"x","cycleOfInterestPayment":"P3ML1","nominalInterestRate":"0.05"}"#),
            "",
        )
        .unwrap();
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["cycleOfInterestPayment"], "P3ML1");
        assert_eq!(v["nominalInterestRate"], 0.05);
        let back: ContractTerms = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
    }
}
