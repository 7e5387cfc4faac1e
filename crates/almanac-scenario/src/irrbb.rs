//! The six standardised IRRBB interest-rate shock scenarios: shock sizes per currency, the
//! shape of each shock along the maturity axis, post-shock lower bounds, and the derivation of
//! shock sizes from a rate history for currencies that have no table entry.
//!
//! Everything here is pure: no I/O, no clock, no global state. The functions return *shifts*
//! that a scenario adds to a base zero curve; building the shocked market snapshot is done by the
//! caller.
//!
//! # Conventions
//!
//! * **Units.** Shock *sizes* are whole basis points ([`ShockSizes`] fields end in `_bp`), as the
//!   regulatory tables state them. Shifts and rates are **decimals** (0.02 = 2 %; 1 bp = 0.0001).
//! * **Time** `t_years` is the time from the as-of date in years (the bucket midpoint of
//!   SRP31.96 in the standardised framework). The shape formulas are meant for `t_years >= 0`;
//!   they are evaluated as written for any finite value and are not clamped.
//! * **Sign.** A positive shift raises the rate. "Up" scenarios are positive everywhere, "down"
//!   scenarios negative everywhere; the steepener and flattener change sign along the curve.
//! * **Which rate.** The shifts apply to the risk-free zero rate with continuous compounding, the
//!   basis the Basel standardised framework discounts with (SRP31.129(2)):
//!   `R_i(t) = R_0(t) + shift(i, t)`, then [`apply_floor`].
//!
//! # Example
//!
//! ```
//! use almanac_scenario::irrbb::{apply_floor, shift, shock_sizes, Calibration, Floor, Scenario};
//!
//! let eur = shock_sizes(Calibration::Bcbs2016, "EUR").expect("EUR is in the table");
//! // Short rates up at 3.5 years: 250 bp × exp(−3.5 / 4).
//! let up = shift(Scenario::ShortUp, &eur, 3.5);
//! assert!((up - 0.025 * (-0.875_f64).exp()).abs() < 1e-15);
//! // Parallel down from a 0.50 % base at 10 years hits the EU floor of −1.20 %.
//! let shocked = 0.005 + shift(Scenario::ParallelDown, &eur, 10.0);
//! assert!((apply_floor(Floor::Eu, 10.0, 0.005, shocked) - (-0.012)).abs() < 1e-15);
//! ```
//!
//! # References
//!
//! * BCBS, *The Basel Framework*, SRP31.90 (scenarios and shock sizes), SRP31.91 (shapes),
//!   SRP31.92 (worked example), SRP31.93 (floors), SRP98.56–98.62 (calibration method, as
//!   amended in July 2024 and reproduced in OSFI B-12 Annex 1).
//! * Commission Delegated Regulation (EU) 2024/856, Articles 1, 2, 3(7) and Annex Part A.
//! * `../shared/spec/regulatory-metrics.md` §1.1–1.5 (tables with verification status) and
//!   §6.1 (worked shock vectors used as tests below).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Errors of the IRRBB shock functions: unknown codes, an invalid decay constant, and rate
/// histories that cannot be calibrated. All are input errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IrrbbError {
    /// A code that is not one of the known values.
    #[error("unknown {kind} code {code:?}; expected one of {expected}")]
    UnknownCode {
        /// Which list of codes (calibration, scenario, floor).
        kind: &'static str,
        /// The code given.
        code: String,
        /// The accepted codes, comma-separated.
        expected: &'static str,
    },
    /// The decay constant of the short/long scaling is not a positive finite number of years.
    #[error("the shock decay constant must be a positive, finite number of years; got {years}")]
    InvalidDecay {
        /// The value given, in years.
        years: f64,
    },
    /// The history has too few business days to form even one change over the horizon.
    #[error(
        "the rate history has {rows} business days; at least {required} are needed for \
         {horizon_business_days}-business-day changes"
    )]
    HistoryTooShort {
        /// Number of rows (business days) given.
        rows: usize,
        /// Minimum number of rows (horizon + 1).
        required: usize,
        /// The change horizon in business days.
        horizon_business_days: usize,
    },
    /// One of the nine calibration tenors has no column in the history.
    #[error("the rate history has no column for tenor {tenor}")]
    MissingTenor {
        /// The missing tenor label (one of [`CALIBRATION_TENORS`]).
        tenor: &'static str,
    },
    /// A calibration tenor appears in more than one column, so the series is ambiguous.
    #[error("the rate history has more than one column for tenor {tenor}")]
    DuplicateTenor {
        /// The repeated tenor label (one of [`CALIBRATION_TENORS`]).
        tenor: &'static str,
    },
    /// A row does not have one value per tenor column.
    #[error("row {row} of the rate history has {found} values; expected {expected}")]
    RowLength {
        /// Zero-based row index (business day).
        row: usize,
        /// Number of tenor columns.
        expected: usize,
        /// Number of values in the row.
        found: usize,
    },
    /// A rate used by the calibration is NaN or infinite.
    #[error("the rate at row {row}, tenor {tenor} is not finite ({value})")]
    NonFiniteRate {
        /// Zero-based row index (business day).
        row: usize,
        /// The tenor label.
        tenor: &'static str,
        /// The value found.
        value: f64,
    },
}

// ---------------------------------------------------------------------------------------------
// Calibrations and shock sizes
// ---------------------------------------------------------------------------------------------

/// A published set of standardised shock sizes (table 1.3a or 1.3b of the spec).
///
/// Both calibrations are in force in different jurisdictions, so both are carried. The code
/// ([`Calibration::code`]) is what run specifications and reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// `bcbs2016`: the BCBS April 2016 calibration (d368, SRP31.90 Table 2; daily data
    /// 2000–2015), which is also the **EU** calibration of Commission Delegated Regulation
    /// (EU) 2024/856 Annex Part A.
    ///
    /// * Source: RTS 2024/856 Annex Part A (verified against the Official Journal text); the
    ///   BCBS-side equality for its 21 currencies is inferred, not read (spec status S/U).
    /// * Jurisdiction: European Union (supervisory outlier test and standardised approach), and
    ///   BCBS member jurisdictions that have not adopted the 2024 recalibration.
    /// * Effective: in the EU from the application of RTS 2024/856; under BCBS until a
    ///   jurisdiction moves to [`Calibration::Bcbs2024`] (implementation date 1 January 2026).
    ///   The start dates are not recorded in the spec.
    /// * The EU table adds six EU-only currencies (BGN, CZK, DKK, HUF, PLN, RON), flagged
    ///   [`ShockTableRow::eu_only`].
    Bcbs2016,
    /// `bcbs2024`: the BCBS July 2024 recalibration of SRP31.90 (daily data 2000–2023).
    ///
    /// * Source: SRP31.90 as amended July 2024, read in its reproduction in OSFI Guideline B-12
    ///   Annex 1 Table 1 (spec status P for the OSFI text, S for the BCBS figures).
    /// * Jurisdiction: BCBS member jurisdictions implementing the recalibration (e.g. Canada,
    ///   OSFI B-12). **Not** adopted in the EU at the time of writing.
    /// * Effective: **1 January 2026** (BCBS implementation date).
    Bcbs2024,
}

impl Calibration {
    /// Both calibrations, oldest first.
    pub const ALL: [Calibration; 2] = [Calibration::Bcbs2016, Calibration::Bcbs2024];

    /// The stable code: `"bcbs2016"` or `"bcbs2024"`.
    pub const fn code(self) -> &'static str {
        match self {
            Calibration::Bcbs2016 => "bcbs2016",
            Calibration::Bcbs2024 => "bcbs2024",
        }
    }
}

impl fmt::Display for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Calibration {
    type Err = IrrbbError;

    /// Parses the exact code (`"bcbs2016"`, `"bcbs2024"`).
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Calibration::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| IrrbbError::UnknownCode {
                kind: "calibration",
                code: code.to_owned(),
                expected: "bcbs2016, bcbs2024",
            })
    }
}

/// The three shock sizes S̄_parallel, S̄_short, S̄_long of one currency, in **whole basis points**
/// (200 = 2 %).
///
/// # Invariants
///
/// Sizes are magnitudes: the sign of a shift comes from the [`Scenario`], never from these
/// fields. Values from the published tables and from [`derive_shock_sizes`] are multiples of
/// 25 bp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShockSizes {
    /// Parallel shock size, bp.
    pub parallel_bp: u32,
    /// Short-rate shock size at `t = 0`, bp.
    pub short_bp: u32,
    /// Long-rate shock size reached as `t → ∞`, bp.
    pub long_bp: u32,
}

impl ShockSizes {
    /// Shock sizes from three bp magnitudes (parallel, short, long).
    pub const fn new(parallel_bp: u32, short_bp: u32, long_bp: u32) -> ShockSizes {
        ShockSizes {
            parallel_bp,
            short_bp,
            long_bp,
        }
    }
}

/// One row of a published shock-size table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShockTableRow {
    /// ISO 4217 currency code, upper case.
    pub currency: &'static str,
    /// The three shock sizes, bp.
    pub sizes: ShockSizes,
    /// `true` for rows that exist only in the EU table (RTS 2024/856 Annex Part A) and not in
    /// the BCBS table (marked † in the spec): BGN, CZK, DKK, HUF, PLN, RON.
    pub eu_only: bool,
}

const fn row(
    currency: &'static str,
    parallel_bp: u32,
    short_bp: u32,
    long_bp: u32,
) -> ShockTableRow {
    ShockTableRow {
        currency,
        sizes: ShockSizes::new(parallel_bp, short_bp, long_bp),
        eu_only: false,
    }
}

const fn eu_row(
    currency: &'static str,
    parallel_bp: u32,
    short_bp: u32,
    long_bp: u32,
) -> ShockTableRow {
    ShockTableRow {
        currency,
        sizes: ShockSizes::new(parallel_bp, short_bp, long_bp),
        eu_only: true,
    }
}

/// Table 1.3a of the spec: BCBS 2016 = EU RTS 2024/856 Annex Part A, bp (parallel, short, long).
const BCBS_2016: [ShockTableRow; 27] = [
    row("ARS", 400, 500, 300),
    row("AUD", 300, 450, 200),
    eu_row("BGN", 250, 350, 150),
    row("BRL", 400, 500, 300),
    row("CAD", 200, 300, 150),
    row("CHF", 100, 150, 100),
    row("CNY", 250, 300, 150),
    eu_row("CZK", 200, 250, 100),
    eu_row("DKK", 200, 250, 150),
    row("EUR", 200, 250, 100),
    row("GBP", 250, 300, 150),
    row("HKD", 200, 250, 100),
    eu_row("HUF", 300, 450, 200),
    row("IDR", 400, 500, 350),
    row("INR", 400, 500, 300),
    row("JPY", 100, 100, 100),
    row("KRW", 300, 400, 200),
    row("MXN", 400, 500, 300),
    eu_row("PLN", 250, 350, 150),
    eu_row("RON", 350, 500, 250),
    row("RUB", 400, 500, 300),
    row("SAR", 200, 300, 150),
    row("SEK", 200, 300, 150),
    row("SGD", 150, 200, 100),
    row("TRY", 400, 500, 300),
    row("USD", 200, 300, 150),
    row("ZAR", 400, 500, 300),
];

/// Table 1.3b of the spec: BCBS July 2024 recalibration, bp (parallel, short, long).
const BCBS_2024: [ShockTableRow; 21] = [
    row("ARS", 400, 500, 300),
    row("AUD", 350, 425, 300),
    row("BRL", 400, 500, 300),
    row("CAD", 200, 275, 175),
    row("CHF", 175, 250, 200),
    row("CNY", 225, 300, 150),
    row("EUR", 225, 350, 200),
    row("GBP", 275, 425, 250),
    row("HKD", 225, 375, 200),
    row("IDR", 400, 500, 300),
    row("INR", 325, 475, 225),
    row("JPY", 100, 100, 100),
    row("KRW", 225, 350, 225),
    row("MXN", 400, 500, 200),
    row("RUB", 400, 500, 300),
    row("SAR", 275, 375, 250),
    row("SEK", 275, 425, 200),
    row("SGD", 175, 250, 225),
    row("TRY", 400, 500, 300),
    row("USD", 200, 300, 225),
    row("ZAR", 325, 500, 300),
];

/// The whole published table of a calibration, sorted by currency code.
pub fn shock_table(calibration: Calibration) -> &'static [ShockTableRow] {
    match calibration {
        Calibration::Bcbs2016 => &BCBS_2016,
        Calibration::Bcbs2024 => &BCBS_2024,
    }
}

/// The published shock sizes (bp) of `currency` in `calibration`, or `None` if the table has no
/// row for it (derive sizes with [`derive_shock_sizes`] then).
///
/// `currency` is an ISO 4217 code, matched ignoring ASCII case. Under
/// [`Calibration::Bcbs2016`] the six EU-only rows (BGN, CZK, DKK, HUF, PLN, RON) are returned
/// too; check [`ShockTableRow::eu_only`] through [`shock_table`] where that matters.
pub fn shock_sizes(calibration: Calibration, currency: &str) -> Option<ShockSizes> {
    shock_table(calibration)
        .iter()
        .find(|r| r.currency.eq_ignore_ascii_case(currency))
        .map(|r| r.sizes)
}

// ---------------------------------------------------------------------------------------------
// Scenarios and shapes
// ---------------------------------------------------------------------------------------------

/// The six standardised interest-rate shock scenarios (SRP31.90; RTS 2024/856 Art 1(1)).
///
/// Each variant documents its shift ΔR(t) in terms of the sizes of [`ShockSizes`] and the
/// scalings `α_short(t) = exp(−t/x)`, `α_long(t) = 1 − exp(−t/x)` (SRP31.91; x = 4 years by
/// default). All six apply to EVE; only the two parallel shocks are used for the NII outlier
/// test (RTS 2024/856 Art 1(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// `parallel_up`: ΔR(t) = +S̄_parallel for every t (SRP31.90(1)).
    ParallelUp,
    /// `parallel_down`: ΔR(t) = −S̄_parallel for every t (SRP31.90(2)).
    ParallelDown,
    /// `steepener` (short rates down, long rates up; SRP31.90(3)):
    /// ΔR(t) = −0.65·S̄_short·α_short(t) + 0.9·S̄_long·α_long(t).
    Steepener,
    /// `flattener` (short rates up, long rates down; SRP31.90(4)):
    /// ΔR(t) = +0.8·S̄_short·α_short(t) − 0.6·S̄_long·α_long(t).
    Flattener,
    /// `short_up`: ΔR(t) = +S̄_short·α_short(t) (SRP31.90(5)).
    ShortUp,
    /// `short_down`: ΔR(t) = −S̄_short·α_short(t) (SRP31.90(6)).
    ShortDown,
}

impl Scenario {
    /// The six scenarios in the order of SRP31.90: parallel up, parallel down, steepener,
    /// flattener, short up, short down.
    pub const ALL: [Scenario; 6] = [
        Scenario::ParallelUp,
        Scenario::ParallelDown,
        Scenario::Steepener,
        Scenario::Flattener,
        Scenario::ShortUp,
        Scenario::ShortDown,
    ];

    /// The stable name: `parallel_up`, `parallel_down`, `steepener`, `flattener`, `short_up`,
    /// `short_down`.
    pub const fn name(self) -> &'static str {
        match self {
            Scenario::ParallelUp => "parallel_up",
            Scenario::ParallelDown => "parallel_down",
            Scenario::Steepener => "steepener",
            Scenario::Flattener => "flattener",
            Scenario::ShortUp => "short_up",
            Scenario::ShortDown => "short_down",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = IrrbbError;

    /// Parses the exact name returned by [`Scenario::name`].
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| IrrbbError::UnknownCode {
                kind: "scenario",
                code: name.to_owned(),
                expected: "parallel_up, parallel_down, steepener, flattener, short_up, short_down",
            })
    }
}

/// The decay constant `x` of the short and long scalings `exp(−t/x)` and `1 − exp(−t/x)`, in
/// **years**.
///
/// SRP31.91 footnote 8 sets x = 4 "for most currencies" and lets the national supervisor set
/// another value; RTS 2024/856 Art 2 uses 4.
///
/// # Invariants
///
/// The value is positive and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecayConstant(f64);

impl DecayConstant {
    /// The standard x = 4 years (SRP31.91(2), footnote 8; RTS 2024/856 Art 2(2)).
    pub const BASEL: DecayConstant = DecayConstant(4.0);

    /// A decay constant of `years` years.
    ///
    /// # Errors
    ///
    /// [`IrrbbError::InvalidDecay`] if `years` is not positive and finite.
    pub fn try_new(years: f64) -> Result<DecayConstant, IrrbbError> {
        if years.is_finite() && years > 0.0 {
            Ok(DecayConstant(years))
        } else {
            Err(IrrbbError::InvalidDecay { years })
        }
    }

    /// The constant in years.
    pub const fn years(self) -> f64 {
        self.0
    }
}

impl Default for DecayConstant {
    /// [`DecayConstant::BASEL`] (4 years).
    fn default() -> Self {
        DecayConstant::BASEL
    }
}

/// Converts whole basis points to a decimal rate (100 bp → 0.01).
fn bp_to_decimal(bp: u32) -> f64 {
    // Division (not multiplication by 1e-4) is correctly rounded, so 200 bp is exactly the
    // double nearest to 0.02.
    f64::from(bp) / 10_000.0
}

/// The shift of `scenario` at time `t_years`, as a **decimal** (0.02 = +200 bp), with the
/// standard decay constant x = 4 years.
///
/// Same as [`shift_with_decay`] with [`DecayConstant::BASEL`]; see there for conventions.
pub fn shift(scenario: Scenario, sizes: &ShockSizes, t_years: f64) -> f64 {
    shift_with_decay(scenario, sizes, t_years, DecayConstant::BASEL)
}

/// The shift ΔR(t) of `scenario` at time `t_years`, as a **decimal**, with decay constant
/// `decay` (SRP31.91).
///
/// # Conventions
///
/// * `sizes` in bp (magnitudes); result in decimal (0.02 = +200 bp), positive = rates up.
/// * `t_years`: time from the as-of date in years, meant to be `>= 0` (e.g. an SRP31.96 bucket
///   midpoint). At `t = 0` the short scaling is 1 and the long scaling 0; as `t → ∞` they tend
///   to 0 and 1.
/// * The shift is added to the continuously compounded risk-free zero rate; apply
///   [`apply_floor`] to the result of the addition.
/// * Formulas (α_short = exp(−t/x), α_long = 1 − exp(−t/x)):
///   parallel ±S̄_parallel; short ±S̄_short·α_short;
///   steepener −0.65·|S̄_short·α_short| + 0.9·|S̄_long·α_long|;
///   flattener +0.8·|S̄_short·α_short| − 0.6·|S̄_long·α_long|.
///
/// # References
///
/// SRP31.91(1)–(4) and footnote 8; RTS 2024/856 Art 2(1)–(4).
pub fn shift_with_decay(
    scenario: Scenario,
    sizes: &ShockSizes,
    t_years: f64,
    decay: DecayConstant,
) -> f64 {
    let parallel = bp_to_decimal(sizes.parallel_bp);
    let short_scaling = (-t_years / decay.years()).exp();
    // 1 − exp(−t/x) via exp_m1 keeps full precision for small t.
    let long_scaling = -(-t_years / decay.years()).exp_m1();
    // |ΔR_short(t)| and |ΔR_long(t)|: the sizes are magnitudes and the scalings are positive for
    // t > 0; abs() keeps the SRP31.91(4) absolute values literal for t < 0 too.
    let short = (bp_to_decimal(sizes.short_bp) * short_scaling).abs();
    let long = (bp_to_decimal(sizes.long_bp) * long_scaling).abs();
    match scenario {
        Scenario::ParallelUp => parallel,
        Scenario::ParallelDown => -parallel,
        Scenario::Steepener => -0.65 * short + 0.9 * long,
        Scenario::Flattener => 0.8 * short - 0.6 * long,
        Scenario::ShortUp => short,
        Scenario::ShortDown => -short,
    }
}

// ---------------------------------------------------------------------------------------------
// Post-shock floors
// ---------------------------------------------------------------------------------------------

/// EU floor at `t = 0`: −150 bp, as a decimal (RTS 2024/856 Art 3(7)).
pub const EU_FLOOR_AT_ZERO: f64 = -0.015;
/// Yearly rise of the EU floor: +3 bp per year, as a decimal per year (RTS 2024/856 Art 3(7)).
pub const EU_FLOOR_RISE_PER_YEAR: f64 = 0.0003;
/// Maturity in years from which the EU floor is 0 % (RTS 2024/856 Art 3(7)).
pub const EU_FLOOR_ZERO_FROM_YEARS: f64 = 50.0;

/// The lower bound applied to post-shock rates (spec §1.5).
///
/// In every variant the bound is never above the unshocked rate: where the base rate is
/// already below the floor level, the base rate is the bound ("the lower observed rate is used
/// instead", RTS 2024/856 Art 3(7)), so a floor never pushes a rate above where it started
/// and never lowers a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Floor {
    /// `none`: no lower bound; the shocked rate is used as is. This is the BCBS default:
    /// SRP31.93 prescribes no floor.
    None,
    /// `zero`: post-shock rates not below 0 %; where the unshocked rate is already below 0 %,
    /// not below the unshocked rate. Bound = min(0, R_0(t)).
    ///
    /// An engine choice for supervisors that use the SRP31.93 option: SRP31.93 allows a national
    /// floor provided it is not above zero; the "lower observed rate" clause mirrors the EU rule.
    Zero,
    /// `eu`: RTS 2024/856 Art 3(7). Level(t) = −1.50 % + 0.03 % · t for t < 50 years and 0 %
    /// for t ≥ 50 years (−150 bp at t = 0, rising 3 bp a year); where the unshocked rate is
    /// below that level, the unshocked rate. Bound = min(level(t), R_0(t)).
    Eu,
}

impl Floor {
    /// The three floors.
    pub const ALL: [Floor; 3] = [Floor::None, Floor::Zero, Floor::Eu];

    /// The stable code: `"none"`, `"zero"` or `"eu"`.
    pub const fn code(self) -> &'static str {
        match self {
            Floor::None => "none",
            Floor::Zero => "zero",
            Floor::Eu => "eu",
        }
    }

    /// The floor level at `t_years`, as a decimal, *before* the "never above the unshocked
    /// rate" clause: −∞ for [`Floor::None`], 0 for [`Floor::Zero`], the maturity-dependent EU
    /// level for [`Floor::Eu`] (−0.015 at t = 0, −0.012 at t = 10, 0 from t = 50).
    pub fn level(self, t_years: f64) -> f64 {
        match self {
            Floor::None => f64::NEG_INFINITY,
            Floor::Zero => 0.0,
            Floor::Eu => {
                if t_years >= EU_FLOOR_ZERO_FROM_YEARS {
                    0.0
                } else {
                    // min() guards against a rounding residue just above 0 close to 50 years.
                    (EU_FLOOR_AT_ZERO + EU_FLOOR_RISE_PER_YEAR * t_years).min(0.0)
                }
            }
        }
    }
}

impl fmt::Display for Floor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Floor {
    type Err = IrrbbError;

    /// Parses the exact code (`"none"`, `"zero"`, `"eu"`).
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Floor::ALL
            .into_iter()
            .find(|f| f.code() == code)
            .ok_or_else(|| IrrbbError::UnknownCode {
                kind: "floor",
                code: code.to_owned(),
                expected: "none, zero, eu",
            })
    }
}

/// The post-shock rate at `t_years` after the lower bound `floor`, as a decimal.
///
/// Result = max(shocked_rate, min(floor.level(t), base_rate)) — see [`Floor`] for each rule.
///
/// # Conventions
///
/// * `base_rate` is the unshocked rate R_0(t) and `shocked_rate` is R_0(t) + ΔR(t), both
///   decimal continuously compounded zero rates at the same `t_years` (years from as-of).
/// * The result is never below `shocked_rate` (a floor never lowers a rate) and never below
///   min(level, base_rate). Applying it to up-shocks is harmless.
/// * A NaN `shocked_rate` is returned unchanged rather than replaced by the bound.
///
/// # References
///
/// SRP31.93; RTS 2024/856 Art 3(7) (and Art 4(1), which applies it to NII as well).
pub fn apply_floor(floor: Floor, t_years: f64, base_rate: f64, shocked_rate: f64) -> f64 {
    let level = floor.level(t_years);
    let bound = if base_rate < level { base_rate } else { level };
    // Written as a comparison (not f64::max) so that a NaN shocked rate propagates.
    if shocked_rate < bound {
        bound
    } else {
        shocked_rate
    }
}

// ---------------------------------------------------------------------------------------------
// Calibration from a rate history (SRP98.56–98.62, July 2024 method)
// ---------------------------------------------------------------------------------------------

/// The nine tenors of the calibration method, in the order used for averaging
/// (SRP98, as reproduced in OSFI B-12 Annex 1 §5).
pub const CALIBRATION_TENORS: [&str; 9] = ["3M", "6M", "1Y", "2Y", "5Y", "7Y", "10Y", "15Y", "20Y"];
/// The tenors averaged for the short shock.
pub const SHORT_TENORS: [&str; 3] = ["3M", "6M", "1Y"];
/// The tenors averaged for the long shock.
pub const LONG_TENORS: [&str; 3] = ["10Y", "15Y", "20Y"];
/// Horizon of the rate changes: 125 business days (six months).
pub const CHANGE_HORIZON_BUSINESS_DAYS: usize = 125;
/// The percentile of absolute averaged changes taken as the raw shock: the 99.9th, as a
/// probability.
pub const CALIBRATION_PERCENTILE: f64 = 0.999;
/// Floor of every derived shock size, bp.
pub const DERIVED_SHOCK_FLOOR_BP: u32 = 100;
/// Cap of the derived parallel shock size, bp.
pub const DERIVED_PARALLEL_CAP_BP: u32 = 400;
/// Cap of the derived short shock size, bp.
pub const DERIVED_SHORT_CAP_BP: u32 = 500;
/// Cap of the derived long shock size, bp.
pub const DERIVED_LONG_CAP_BP: u32 = 300;
/// Derived shock sizes are rounded to the nearest multiple of this many bp.
pub const DERIVED_SHOCK_ROUNDING_BP: u32 = 25;

/// A daily history of risk-free rates of one currency, one column per tenor, aligned on the
/// same business days.
///
/// # Conventions
///
/// * `tenors[j]` labels column `j`. The calibration reads the columns labelled `3M`, `6M`,
///   `1Y`, `2Y`, `5Y`, `7Y`, `10Y`, `15Y`, `20Y` (ASCII case and surrounding spaces ignored);
///   other columns are allowed and ignored, and column order is free.
/// * `rows[d][j]` is the rate of tenor `j` on business day `d`, a **decimal** (0.02 = 2 %).
///   Rows are consecutive business days, oldest first. The regulatory sample is 3 January 2000
///   to 29 December 2023.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateHistory {
    /// Tenor label of each column, e.g. `"3M"`, `"10Y"`.
    pub tenors: Vec<String>,
    /// One row per business day, oldest first; one decimal rate per tenor column.
    pub rows: Vec<Vec<f64>>,
}

impl RateHistory {
    /// A history from its column labels and rows (decimals); validated by
    /// [`derive_shock_sizes`].
    pub fn new(tenors: Vec<String>, rows: Vec<Vec<f64>>) -> RateHistory {
        RateHistory { tenors, rows }
    }
}

/// Shock sizes (bp) for a currency without a table row, derived from its rate history by the
/// BCBS July 2024 method (SRP98.56–98.62 as reproduced in OSFI B-12 Annex 1 §5–11).
///
/// Steps:
/// 1. For each of the nine tenors and each business day d ≥ h, the change
///    ΔR_k(d) = R_k(d) − R_k(d − h) with h = 125 business days.
/// 2. Per day, the average change over the tenor group: parallel = all nine tenors, short =
///    3M, 6M, 1Y, long = 10Y, 15Y, 20Y (arithmetic mean, equal weights).
/// 3. Raw shock = 99.9th percentile of the absolute averaged changes over all days, in bp.
///    **Percentile definition:** linear interpolation between order statistics (Hyndman–Fan
///    type 7, the default of R and NumPy): with the n sorted values x₀ ≤ … ≤ xₙ₋₁ and
///    h' = (n − 1)·0.999, the result is x⌊h'⌋ + (h' − ⌊h'⌋)·(x⌊h'⌋+1 − x⌊h'⌋).
/// 4. Bounds: S̄ = max(100, min(raw, cap)) with caps 400 (parallel), 500 (short), 300 (long).
/// 5. Rounding to the nearest multiple of 25 bp; an exact tie (e.g. 112.5 bp) rounds up.
///
/// The method presumes about 24 years of data; this function only requires h + 1 = 126 rows,
/// and judging the length of the sample is left to the caller.
///
/// # Errors
///
/// * [`IrrbbError::MissingTenor`] / [`IrrbbError::DuplicateTenor`] if one of the nine tenors
///   has no column or several.
/// * [`IrrbbError::RowLength`] if a row does not have one value per column.
/// * [`IrrbbError::NonFiniteRate`] if a rate of one of the nine tenors is NaN or infinite.
/// * [`IrrbbError::HistoryTooShort`] if there are fewer than 126 rows.
pub fn derive_shock_sizes(history: &RateHistory) -> Result<ShockSizes, IrrbbError> {
    let columns = calibration_columns(&history.tenors)?;
    let expected = history.tenors.len();
    for (row_index, rates) in history.rows.iter().enumerate() {
        if rates.len() != expected {
            return Err(IrrbbError::RowLength {
                row: row_index,
                expected,
                found: rates.len(),
            });
        }
        for (tenor, &column) in CALIBRATION_TENORS.iter().zip(columns.iter()) {
            let value = rates[column];
            if !value.is_finite() {
                return Err(IrrbbError::NonFiniteRate {
                    row: row_index,
                    tenor,
                    value,
                });
            }
        }
    }
    let h = CHANGE_HORIZON_BUSINESS_DAYS;
    let required = h + 1;
    if history.rows.len() < required {
        return Err(IrrbbError::HistoryTooShort {
            rows: history.rows.len(),
            required,
            horizon_business_days: h,
        });
    }

    let days = history.rows.len() - h;
    let mut parallel = Vec::with_capacity(days);
    let mut short = Vec::with_capacity(days);
    let mut long = Vec::with_capacity(days);
    for (earlier, later) in history.rows.iter().zip(history.rows.iter().skip(h)) {
        // Changes in CALIBRATION_TENORS order: indices 0..3 short, 6..9 long.
        let mut changes = [0.0_f64; 9];
        for (change, &column) in changes.iter_mut().zip(columns.iter()) {
            *change = later[column] - earlier[column];
        }
        parallel.push(mean(&changes).abs());
        short.push(mean(&changes[0..3]).abs());
        long.push(mean(&changes[6..9]).abs());
    }

    Ok(ShockSizes {
        parallel_bp: bound_and_round_bp(
            percentile_type7(&mut parallel, CALIBRATION_PERCENTILE) * 10_000.0,
            DERIVED_PARALLEL_CAP_BP,
        ),
        short_bp: bound_and_round_bp(
            percentile_type7(&mut short, CALIBRATION_PERCENTILE) * 10_000.0,
            DERIVED_SHORT_CAP_BP,
        ),
        long_bp: bound_and_round_bp(
            percentile_type7(&mut long, CALIBRATION_PERCENTILE) * 10_000.0,
            DERIVED_LONG_CAP_BP,
        ),
    })
}

/// Column index of each of the nine calibration tenors, in [`CALIBRATION_TENORS`] order.
fn calibration_columns(labels: &[String]) -> Result<[usize; 9], IrrbbError> {
    let mut columns = [0_usize; 9];
    for (slot, &tenor) in columns.iter_mut().zip(CALIBRATION_TENORS.iter()) {
        let mut found = labels
            .iter()
            .enumerate()
            .filter(|(_, label)| label.trim().eq_ignore_ascii_case(tenor))
            .map(|(index, _)| index);
        *slot = found.next().ok_or(IrrbbError::MissingTenor { tenor })?;
        if found.next().is_some() {
            return Err(IrrbbError::DuplicateTenor { tenor });
        }
    }
    Ok(columns)
}

/// Arithmetic mean of a non-empty slice, summed in slice order.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Type 7 percentile (linear interpolation between order statistics) of finite values, with
/// `p` in [0, 1]. Sorts `values` in place. Returns NaN for an empty slice (not reached by
/// [`derive_shock_sizes`], which has at least one value).
fn percentile_type7(values: &mut [f64], p: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let position = (n - 1) as f64 * p;
    // position is in [0, n − 1], so the casts are exact and in range.
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(n - 1);
    let weight = position - lower as f64;
    values[lower] + weight * (values[upper] - values[lower])
}

/// Steps 4–5 of the calibration: S̄ = max(floor, min(raw, cap)), then rounded to the nearest
/// multiple of 25 bp (ties away from zero, i.e. up). `raw_bp` is non-negative and finite.
fn bound_and_round_bp(raw_bp: f64, cap_bp: u32) -> u32 {
    let bounded = raw_bp
        .min(f64::from(cap_bp))
        .max(f64::from(DERIVED_SHOCK_FLOOR_BP));
    let step = f64::from(DERIVED_SHOCK_ROUNDING_BP);
    // bounded is in [100, 500], so the cast is exact and cannot saturate.
    ((bounded / step).round() * step) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BP: f64 = 1e-4;

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "actual {actual}, expected {expected}, tolerance {tolerance}"
        );
    }

    fn jpy() -> ShockSizes {
        ShockSizes::new(100, 100, 100)
    }

    // ---- tables -------------------------------------------------------------------------

    #[test]
    fn bcbs2016_table_spot_checks() {
        let c = Calibration::Bcbs2016;
        assert_eq!(shock_sizes(c, "EUR"), Some(ShockSizes::new(200, 250, 100)));
        assert_eq!(shock_sizes(c, "USD"), Some(ShockSizes::new(200, 300, 150)));
        assert_eq!(shock_sizes(c, "JPY"), Some(ShockSizes::new(100, 100, 100)));
        assert_eq!(shock_sizes(c, "GBP"), Some(ShockSizes::new(250, 300, 150)));
        assert_eq!(shock_sizes(c, "CHF"), Some(ShockSizes::new(100, 150, 100)));
        assert_eq!(shock_sizes(c, "IDR"), Some(ShockSizes::new(400, 500, 350)));
        assert_eq!(shock_sizes(c, "RON"), Some(ShockSizes::new(350, 500, 250)));
        assert_eq!(shock_sizes(c, "BGN"), Some(ShockSizes::new(250, 350, 150)));
        assert_eq!(shock_sizes(c, "eur"), shock_sizes(c, "EUR"));
        assert_eq!(shock_sizes(c, "XYZ"), None);
    }

    #[test]
    fn bcbs2024_table_spot_checks() {
        let c = Calibration::Bcbs2024;
        assert_eq!(shock_sizes(c, "EUR"), Some(ShockSizes::new(225, 350, 200)));
        assert_eq!(shock_sizes(c, "USD"), Some(ShockSizes::new(200, 300, 225)));
        assert_eq!(shock_sizes(c, "JPY"), Some(ShockSizes::new(100, 100, 100)));
        assert_eq!(shock_sizes(c, "GBP"), Some(ShockSizes::new(275, 425, 250)));
        assert_eq!(shock_sizes(c, "CHF"), Some(ShockSizes::new(175, 250, 200)));
        assert_eq!(shock_sizes(c, "MXN"), Some(ShockSizes::new(400, 500, 200)));
        assert_eq!(shock_sizes(c, "ZAR"), Some(ShockSizes::new(325, 500, 300)));
        // The EU-only rows belong to the EU (2016-based) table only.
        assert_eq!(shock_sizes(c, "BGN"), None);
        assert_eq!(shock_sizes(c, "PLN"), None);
    }

    #[test]
    fn tables_have_the_expected_rows() {
        let eu_only: Vec<&str> = shock_table(Calibration::Bcbs2016)
            .iter()
            .filter(|r| r.eu_only)
            .map(|r| r.currency)
            .collect();
        assert_eq!(eu_only, ["BGN", "CZK", "DKK", "HUF", "PLN", "RON"]);
        let bcbs_2016: Vec<&str> = shock_table(Calibration::Bcbs2016)
            .iter()
            .filter(|r| !r.eu_only)
            .map(|r| r.currency)
            .collect();
        let bcbs_2024: Vec<&str> = shock_table(Calibration::Bcbs2024)
            .iter()
            .map(|r| r.currency)
            .collect();
        // Same 21 BCBS currencies in both calibrations.
        assert_eq!(bcbs_2016.len(), 21);
        assert_eq!(bcbs_2016, bcbs_2024);
        assert!(shock_table(Calibration::Bcbs2024)
            .iter()
            .all(|r| !r.eu_only));
        for calibration in Calibration::ALL {
            let table = shock_table(calibration);
            // Sorted and unique, so a lookup can never be ambiguous.
            assert!(table.windows(2).all(|w| w[0].currency < w[1].currency));
            for r in table {
                let s = r.sizes;
                for bp in [s.parallel_bp, s.short_bp, s.long_bp] {
                    assert_eq!(bp % 25, 0, "{calibration} {}", r.currency);
                    assert!((100..=500).contains(&bp), "{calibration} {}", r.currency);
                }
            }
        }
        // The 2024 table obeys the 2024 method's caps.
        for r in shock_table(Calibration::Bcbs2024) {
            assert!(r.sizes.parallel_bp <= DERIVED_PARALLEL_CAP_BP);
            assert!(r.sizes.short_bp <= DERIVED_SHORT_CAP_BP);
            assert!(r.sizes.long_bp <= DERIVED_LONG_CAP_BP);
        }
    }

    #[test]
    fn calibration_codes_round_trip() {
        assert_eq!(Calibration::Bcbs2016.code(), "bcbs2016");
        assert_eq!(Calibration::Bcbs2024.code(), "bcbs2024");
        for c in Calibration::ALL {
            assert_eq!(c.code().parse::<Calibration>(), Ok(c));
            assert_eq!(c.to_string(), c.code());
        }
        assert!(matches!(
            "BCBS2016".parse::<Calibration>(),
            Err(IrrbbError::UnknownCode {
                kind: "calibration",
                ..
            })
        ));
    }

    // ---- scenarios and shapes -----------------------------------------------------------

    #[test]
    fn scenario_names_and_order() {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "parallel_up",
                "parallel_down",
                "steepener",
                "flattener",
                "short_up",
                "short_down"
            ]
        );
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>(), Ok(s));
            assert_eq!(s.to_string(), s.name());
        }
        assert!(matches!(
            "parallel-up".parse::<Scenario>(),
            Err(IrrbbError::UnknownCode {
                kind: "scenario",
                ..
            })
        ));
    }

    #[test]
    fn srp31_92_check_values_at_3_5_years() {
        // SRP31.92: α_short(3.5) = e^(−0.875) = 0.41686…
        let short_only = ShockSizes::new(100, 100, 0);
        assert_close(
            shift(Scenario::ShortUp, &short_only, 3.5) / BP,
            41.69,
            0.005,
        );
        assert_close(
            shift(Scenario::ShortDown, &short_only, 3.5) / BP,
            -41.69,
            0.005,
        );
        // JPY, |short| = |long| = 100 bp.
        assert_close(shift(Scenario::Steepener, &jpy(), 3.5) / BP, 25.39, 0.005);
        assert_close(shift(Scenario::Flattener, &jpy(), 3.5) / BP, -1.64, 0.005);
    }

    #[test]
    fn eur_2016_shock_vectors_match_spec_6_1() {
        let eur = ShockSizes::new(200, 250, 100);
        // t, steepener, flattener, short up (bp), from spec §6.1.
        let expected = [
            (0.0028, -162.3233, 199.8181, 249.8251),
            (0.375, -139.9039, 176.7327, 227.6276),
            (1.25, -94.7329, 130.2201, 182.9039),
            (3.5, -15.2577, 48.3841, 104.2155),
            (4.5, 8.0253, 24.4096, 81.1631),
            (9.5, 66.5138, -35.8162, 23.2536),
            (25.0, 89.5126, -59.4981, 0.4826),
        ];
        for (t, steepener, flattener, short_up) in expected {
            assert_close(shift(Scenario::ParallelUp, &eur, t) / BP, 200.0, 1e-9);
            assert_close(shift(Scenario::ParallelDown, &eur, t) / BP, -200.0, 1e-9);
            assert_close(shift(Scenario::Steepener, &eur, t) / BP, steepener, 1e-4);
            assert_close(shift(Scenario::Flattener, &eur, t) / BP, flattener, 1e-4);
            assert_close(shift(Scenario::ShortUp, &eur, t) / BP, short_up, 1e-4);
            assert_close(shift(Scenario::ShortDown, &eur, t) / BP, -short_up, 1e-4);
        }
    }

    #[test]
    fn parallel_is_constant_and_exact() {
        let usd = ShockSizes::new(200, 300, 150);
        for t in [0.0, 0.0028, 1.0, 7.3, 25.0, 100.0] {
            assert_eq!(shift(Scenario::ParallelUp, &usd, t), 0.02);
            assert_eq!(shift(Scenario::ParallelDown, &usd, t), -0.02);
        }
    }

    #[test]
    fn short_shock_starts_full_and_dies_out() {
        let usd = ShockSizes::new(200, 300, 150);
        assert_eq!(shift(Scenario::ShortUp, &usd, 0.0), 0.03);
        // 0.03 · e^(−1e-9/4) = 0.03 − 7.5e-12.
        assert_close(shift(Scenario::ShortUp, &usd, 1e-9), 0.03 - 7.5e-12, 1e-16);
        assert!(shift(Scenario::ShortUp, &usd, 200.0).abs() < 1e-20);
        assert!(shift(Scenario::ShortDown, &usd, 200.0).abs() < 1e-20);
        // Monotone decay.
        let mut previous = f64::INFINITY;
        for k in 0..100 {
            let current = shift(Scenario::ShortUp, &usd, f64::from(k) * 0.5);
            assert!(current < previous);
            previous = current;
        }
    }

    #[test]
    fn rotations_change_sign_along_the_curve() {
        let usd = ShockSizes::new(200, 300, 150);
        // t = 0: only the short leg is active.
        assert_close(shift(Scenario::Steepener, &usd, 0.0), -0.65 * 0.03, 1e-15);
        assert_close(shift(Scenario::Flattener, &usd, 0.0), 0.8 * 0.03, 1e-15);
        // Long end: only the long leg remains.
        assert_close(shift(Scenario::Steepener, &usd, 200.0), 0.9 * 0.015, 1e-15);
        assert_close(shift(Scenario::Flattener, &usd, 200.0), -0.6 * 0.015, 1e-15);
        assert!(shift(Scenario::Steepener, &usd, 0.0) < 0.0);
        assert!(shift(Scenario::Steepener, &usd, 25.0) > 0.0);
        assert!(shift(Scenario::Flattener, &usd, 0.0) > 0.0);
        assert!(shift(Scenario::Flattener, &usd, 25.0) < 0.0);
    }

    #[test]
    fn decay_constant_is_validated_and_used() {
        assert_eq!(DecayConstant::default(), DecayConstant::BASEL);
        assert_eq!(DecayConstant::BASEL.years(), 4.0);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                DecayConstant::try_new(bad),
                Err(IrrbbError::InvalidDecay { .. })
            ));
        }
        let eur = ShockSizes::new(200, 250, 100);
        let four = DecayConstant::try_new(4.0).expect("4 years is valid");
        let two = DecayConstant::try_new(2.0).expect("2 years is valid");
        for s in Scenario::ALL {
            assert_eq!(shift_with_decay(s, &eur, 3.5, four), shift(s, &eur, 3.5));
        }
        // x = 2: α_short(3.5) = e^(−1.75).
        assert_close(
            shift_with_decay(Scenario::ShortUp, &eur, 3.5, two),
            0.025 * (-1.75_f64).exp(),
            1e-15,
        );
    }

    // ---- floors -------------------------------------------------------------------------

    #[test]
    fn floor_codes_round_trip() {
        for f in Floor::ALL {
            assert_eq!(f.code().parse::<Floor>(), Ok(f));
            assert_eq!(f.to_string(), f.code());
        }
        assert_eq!("none".parse::<Floor>(), Ok(Floor::None));
        assert_eq!("zero".parse::<Floor>(), Ok(Floor::Zero));
        assert_eq!("eu".parse::<Floor>(), Ok(Floor::Eu));
        assert!(matches!(
            "EU".parse::<Floor>(),
            Err(IrrbbError::UnknownCode { kind: "floor", .. })
        ));
    }

    #[test]
    fn eu_floor_levels_match_spec_6_1() {
        assert_eq!(Floor::Eu.level(0.0), -0.015);
        assert_close(Floor::Eu.level(0.0028) / BP, -149.9916, 1e-9);
        assert_close(Floor::Eu.level(1.0) / BP, -147.0, 1e-9);
        assert_close(Floor::Eu.level(10.0) / BP, -120.0, 1e-9);
        assert_close(Floor::Eu.level(25.0) / BP, -75.0, 1e-9);
        assert!(Floor::Eu.level(49.999) < 0.0);
        for t in [50.0, 50.5, 75.0, 1000.0] {
            assert_eq!(Floor::Eu.level(t), 0.0);
        }
        // Never above zero, non-decreasing in t.
        let mut previous = f64::NEG_INFINITY;
        for k in 0..=120 {
            let level = Floor::Eu.level(f64::from(k) * 0.5);
            assert!(level <= 0.0 && level >= previous);
            previous = level;
        }
    }

    #[test]
    fn eu_floor_cases_from_spec_6_1() {
        // Base flat 0.50 %, parallel down 200 bp → raw −1.50 %.
        assert_close(apply_floor(Floor::Eu, 1.0, 0.005, -0.015), -0.0147, 1e-15);
        assert_close(apply_floor(Floor::Eu, 10.0, 0.005, -0.015), -0.012, 1e-15);
        // Observed rate below the floor: the observed rate is the bound.
        assert_eq!(apply_floor(Floor::Eu, 1.0, -0.02, -0.04), -0.02);
        // At 50 years and beyond the floor is 0 %, but never above the unshocked rate.
        assert_eq!(apply_floor(Floor::Eu, 60.0, 0.01, -0.01), 0.0);
        assert_eq!(apply_floor(Floor::Eu, 60.0, -0.003, -0.023), -0.003);
        // Not binding: unchanged.
        assert_eq!(apply_floor(Floor::Eu, 10.0, 0.03, 0.01), 0.01);
        assert_eq!(apply_floor(Floor::Eu, 0.0, 0.03, 0.05), 0.05);
    }

    #[test]
    fn zero_and_none_floors() {
        assert_eq!(apply_floor(Floor::None, 1.0, 0.005, -0.015), -0.015);
        assert_eq!(apply_floor(Floor::None, 1.0, -0.02, -0.04), -0.04);
        assert_eq!(apply_floor(Floor::Zero, 1.0, 0.005, -0.015), 0.0);
        assert_eq!(apply_floor(Floor::Zero, 1.0, 0.005, 0.001), 0.001);
        assert_eq!(apply_floor(Floor::Zero, 1.0, -0.002, -0.022), -0.002);
        assert_eq!(apply_floor(Floor::Zero, 1.0, -0.002, 0.018), 0.018);
        assert!(apply_floor(Floor::Eu, 1.0, 0.01, f64::NAN).is_nan());
    }

    proptest! {
        #[test]
        fn floor_never_lowers_a_rate_and_respects_its_bound(
            t in 0.0f64..80.0,
            base in -0.05f64..0.10,
            shift_bp in -600.0f64..600.0,
        ) {
            let shocked = base + shift_bp * BP;
            for floor in Floor::ALL {
                let result = apply_floor(floor, t, base, shocked);
                // Never lowers a rate.
                prop_assert!(result >= shocked);
                // Never below the bound min(level, base).
                prop_assert!(result >= floor.level(t).min(base));
                // Never pushes a rate above both its shocked and its unshocked value.
                prop_assert!(result <= shocked.max(base));
                // Leaves a rate that already respects the level alone.
                if shocked >= floor.level(t) {
                    prop_assert_eq!(result, shocked);
                }
            }
        }
    }

    // ---- calibration from history -------------------------------------------------------

    fn labels() -> Vec<String> {
        CALIBRATION_TENORS.iter().map(|t| (*t).to_owned()).collect()
    }

    /// A history whose 125-day changes are prescribed: the first 125 rows are `base`, and row
    /// `125 + i` is row `i` plus `changes(i)` per tenor (decimals).
    fn history_with_changes(
        base: [f64; 9],
        count: usize,
        changes: impl Fn(usize) -> [f64; 9],
    ) -> RateHistory {
        let h = CHANGE_HORIZON_BUSINESS_DAYS;
        let mut rows: Vec<Vec<f64>> = vec![base.to_vec(); h];
        for i in 0..count {
            let d = changes(i);
            let next: Vec<f64> = rows[i].iter().zip(d.iter()).map(|(r, c)| r + c).collect();
            rows.push(next);
        }
        RateHistory::new(labels(), rows)
    }

    const BASE: [f64; 9] = [
        0.010, 0.011, 0.012, 0.015, 0.020, 0.022, 0.025, 0.026, 0.027,
    ];

    /// Per-tenor slopes: short tenors m_short, the 2Y/5Y/7Y tenors m_mid, long m_long.
    fn grouped(m_short: f64, m_mid: f64, m_long: f64) -> [f64; 9] {
        [
            m_short, m_short, m_short, m_mid, m_mid, m_mid, m_long, m_long, m_long,
        ]
    }

    #[test]
    fn percentile_type7_by_hand() {
        let mut values: Vec<f64> = (1..=1000).rev().map(f64::from).collect();
        // h' = 999 · 0.999 = 998.001 → x[998] + 0.001·(x[999] − x[998]) = 999.001.
        assert_close(percentile_type7(&mut values, 0.999), 999.001, 1e-9);
        assert_eq!(percentile_type7(&mut [5.0], 0.999), 5.0);
        assert_eq!(percentile_type7(&mut [1.0, 3.0], 0.5), 2.0);
        assert_eq!(percentile_type7(&mut [1.0, 3.0], 1.0), 3.0);
        assert!(percentile_type7(&mut [], 0.999).is_nan());
    }

    #[test]
    fn derived_sizes_from_constant_changes() {
        // Every 125-day change equals, in bp: short tenors 281.25, mid 125, long 120.
        // short 281.25 → 275; long 120 → 125; parallel (3·281.25 + 3·125 + 3·120)/9
        // = 175.4166… → 175.
        let history =
            history_with_changes(BASE, 300, |_| grouped(281.25 * BP, 125.0 * BP, 120.0 * BP));
        assert_eq!(
            derive_shock_sizes(&history),
            Ok(ShockSizes::new(175, 275, 125))
        );
    }

    #[test]
    fn derived_sizes_from_varying_changes_by_hand() {
        // Change i (i = 0..1000) of each tenor is (−1)^i · m_group · (i + 1) bp, so the absolute
        // averaged changes of a group are m·1, m·2, …, m·1000 bp and the type-7 99.9th
        // percentile is m · 999.001 bp:
        //   short m = 0.40 → 399.6004 → 400;
        //   long  m = 0.16 → 159.8402 → 150;
        //   parallel m = (0.40 + 0.25 + 0.16)/3 = 0.27 → 269.7003 → 275.
        let history = history_with_changes(BASE, 1000, |i| {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            let n = (i + 1) as f64;
            grouped(
                0.40 * n * sign * BP,
                0.25 * n * sign * BP,
                0.16 * n * sign * BP,
            )
        });
        assert_eq!(history.rows.len(), 1125);
        assert_eq!(
            derive_shock_sizes(&history),
            Ok(ShockSizes::new(275, 400, 150))
        );
    }

    #[test]
    fn derived_sizes_are_floored_and_capped() {
        // Huge changes hit every cap.
        let high = history_with_changes(BASE, 200, |_| grouped(0.09, 0.09, 0.09));
        assert_eq!(
            derive_shock_sizes(&high),
            Ok(ShockSizes::new(400, 500, 300))
        );
        // Tiny changes hit the floor.
        let low = history_with_changes(BASE, 200, |_| grouped(10.0 * BP, 5.0 * BP, -BP));
        assert_eq!(derive_shock_sizes(&low), Ok(ShockSizes::new(100, 100, 100)));
        // A constant history (no change at all) too.
        let flat = history_with_changes(BASE, 10, |_| [0.0; 9]);
        assert_eq!(
            derive_shock_sizes(&flat),
            Ok(ShockSizes::new(100, 100, 100))
        );
    }

    #[test]
    fn bounds_and_rounding() {
        let cap = DERIVED_SHORT_CAP_BP;
        assert_eq!(bound_and_round_bp(0.0, cap), 100);
        assert_eq!(bound_and_round_bp(50.0, cap), 100);
        assert_eq!(bound_and_round_bp(112.4, cap), 100);
        // Exact tie rounds up.
        assert_eq!(bound_and_round_bp(112.5, cap), 125);
        assert_eq!(bound_and_round_bp(137.4, cap), 125);
        assert_eq!(bound_and_round_bp(137.6, cap), 150);
        assert_eq!(bound_and_round_bp(487.4, cap), 475);
        assert_eq!(bound_and_round_bp(487.5, cap), 500);
        assert_eq!(bound_and_round_bp(612.0, cap), 500);
        assert_eq!(bound_and_round_bp(410.0, DERIVED_PARALLEL_CAP_BP), 400);
        assert_eq!(bound_and_round_bp(299.0, DERIVED_LONG_CAP_BP), 300);
        assert_eq!(bound_and_round_bp(310.0, DERIVED_LONG_CAP_BP), 300);
        assert_eq!(bound_and_round_bp(287.4, DERIVED_LONG_CAP_BP), 275);
    }

    #[test]
    fn history_columns_may_be_reordered_relabelled_and_extended() {
        let reference = history_with_changes(BASE, 300, |i| {
            let n = (i % 7) as f64;
            grouped(40.0 * n * BP, 30.0 * n * BP, 20.0 * n * BP)
        });
        let expected = derive_shock_sizes(&reference).expect("valid history");
        // Reverse the columns, lower-case the labels, pad them, add a 30Y column.
        let mut tenors: Vec<String> = labels()
            .into_iter()
            .rev()
            .map(|l| l.to_lowercase())
            .collect();
        tenors[0] = " 20y ".to_owned();
        tenors.push("30Y".to_owned());
        let rows = reference
            .rows
            .iter()
            .map(|r| {
                let mut row: Vec<f64> = r.iter().rev().copied().collect();
                row.push(f64::NAN); // not a calibration tenor: ignored
                row
            })
            .collect();
        let shuffled = RateHistory::new(tenors, rows);
        assert_eq!(derive_shock_sizes(&shuffled), Ok(expected));
    }

    #[test]
    fn history_errors() {
        let h = CHANGE_HORIZON_BUSINESS_DAYS;
        let too_short = RateHistory::new(labels(), vec![BASE.to_vec(); h]);
        assert_eq!(
            derive_shock_sizes(&too_short),
            Err(IrrbbError::HistoryTooShort {
                rows: h,
                required: h + 1,
                horizon_business_days: h,
            })
        );
        let just_enough = RateHistory::new(labels(), vec![BASE.to_vec(); h + 1]);
        assert!(derive_shock_sizes(&just_enough).is_ok());

        let mut missing_labels = labels();
        missing_labels[7] = "12Y".to_owned();
        let missing = RateHistory::new(missing_labels, vec![BASE.to_vec(); h + 1]);
        assert_eq!(
            derive_shock_sizes(&missing),
            Err(IrrbbError::MissingTenor { tenor: "15Y" })
        );

        let mut duplicate_labels = labels();
        duplicate_labels.push("1y".to_owned());
        let mut wide = BASE.to_vec();
        wide.push(0.0);
        let duplicate = RateHistory::new(duplicate_labels, vec![wide; h + 1]);
        assert_eq!(
            derive_shock_sizes(&duplicate),
            Err(IrrbbError::DuplicateTenor { tenor: "1Y" })
        );

        let mut ragged = vec![BASE.to_vec(); h + 1];
        ragged[3].pop();
        assert_eq!(
            derive_shock_sizes(&RateHistory::new(labels(), ragged)),
            Err(IrrbbError::RowLength {
                row: 3,
                expected: 9,
                found: 8,
            })
        );

        let mut non_finite = vec![BASE.to_vec(); h + 1];
        non_finite[42][4] = f64::INFINITY;
        assert!(matches!(
            derive_shock_sizes(&RateHistory::new(labels(), non_finite)),
            Err(IrrbbError::NonFiniteRate {
                row: 42,
                tenor: "5Y",
                ..
            })
        ));
        let mut nan = vec![BASE.to_vec(); h + 1];
        nan[0][0] = f64::NAN;
        assert!(matches!(
            derive_shock_sizes(&RateHistory::new(labels(), nan)),
            Err(IrrbbError::NonFiniteRate {
                row: 0,
                tenor: "3M",
                ..
            })
        ));
    }
}
