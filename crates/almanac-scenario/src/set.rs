//! Scenario sets: a named, versioned list of scenarios, read from TOML (format in
//! `docs/scenarios.md`) and hashed, so that every metric of a run is computed under exactly
//! the same, identifiable set.
//!
//! A scenario is one of:
//! * **user-defined**: rate shifts per currency or curve (parallel, twist, key rates, tenor
//!   table, summed), FX shocks (relative or absolute), spread shocks, optionally reached
//!   gradually over `ramp_months` (for earnings scenarios), and behavioural overrides carried for
//!   the behaviour models;
//! * **standard**: one of the six IRRBB scenarios under the set's calibration and floor;
//! * **historical**: the change between two dated snapshots, applied absolutely (add the
//!   change in zero rate at each pillar time) or relatively (scale the zero rate by the ratio).
//!
//! Shifts are in basis points in the file and decimals in the API. Rate shifts apply to every
//! interest-rate curve of the currency (or to the one curve named), at the curve's pillars.

use std::collections::BTreeMap;

use almanac_market::format::tenor_years;
use almanac_market::{Curve, CurveError, MarketSnapshot};
use almanac_math::{Interpolation, Interpolator};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::irrbb::{Calibration, Floor, Scenario as Standard};
use crate::standard::{self, StandardSpec};

/// Tenor grid (years) whose neighbours bound a key-rate bump: 3M, 6M, 1Y, 2Y, 3Y, 5Y, 7Y, 10Y,
/// 15Y, 20Y, 30Y (plus any key tenor the scenario names).
pub const KEY_RATE_GRID: [f64; 11] = [0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0];

/// Which curves a shift applies to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Target {
    /// Every interest-rate curve (or spread curve) of a currency.
    Currency(String),
    /// One curve by identifier.
    Curve(String),
}

impl Target {
    fn matches(&self, c: &Curve) -> bool {
        match self {
            Target::Currency(ccy) => c.currency() == ccy,
            Target::Curve(id) => c.id() == id,
        }
    }
}

/// A rate shift as a function of time: piecewise linear through `(t, shift)` knots, flat
/// outside (decimals; t in years).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateShift {
    /// Curves it applies to.
    pub target: Target,
    /// Knot times in years (increasing).
    pub times: Vec<f64>,
    /// Shifts at the knots (decimals).
    pub shifts: Vec<f64>,
}

impl RateShift {
    /// The shift at time `t`.
    pub fn at(&self, t: f64) -> f64 {
        // Piecewise linear through the knots, flat outside; no allocation (called per pillar).
        let (ts, vs) = (&self.times, &self.shifts);
        match ts.len() {
            0 => 0.0,
            _ if t <= ts[0] => vs[0],
            n if t >= ts[n - 1] => vs[n - 1],
            _ => {
                let i = ts.partition_point(|&x| x <= t);
                let w = (t - ts[i - 1]) / (ts[i] - ts[i - 1]);
                vs[i - 1] + w * (vs[i] - vs[i - 1])
            }
        }
    }
}

/// An FX shock on one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FxShock {
    /// Base currency.
    pub base: String,
    /// Quote currency.
    pub quote: String,
    /// Relative change (−0.10 = base currency loses 10 %) or absolute change of the rate.
    pub change: FxChange,
}

/// How an FX rate changes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum FxChange {
    /// `rate × (1 + x)`.
    Relative(f64),
    /// `rate + x`.
    Absolute(f64),
}

/// Behavioural assumptions a scenario overrides, carried for the behaviour models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourOverrides {
    /// Multiplier on prepayment speeds.
    pub prepayment_multiplier: Option<f64>,
    /// Multiplier on non-maturity deposit run-off.
    pub deposit_runoff_multiplier: Option<f64>,
    /// Multiplier on term-deposit early redemption.
    pub early_redemption_multiplier: Option<f64>,
    /// Drawdown rate of undrawn commitments (decimal of the undrawn amount).
    pub drawdown_rate: Option<f64>,
}

/// What a scenario does to liquidity (`[scenario.liquidity]`, format in `docs/scenarios.md`):
/// run-off of funding, drawdown of facilities granted, inflows received, haircut increases and
/// downgrade collateral calls over a stress window. Rates are decimals of the amount they apply
/// to; categories are the factor table's LCR categories (checked by the liquidity engine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidityStress {
    /// Calendar days from the as-of date over which withdrawals and drawdowns happen
    /// (evenly, one share a day), and within which maturing funding and inflows are affected.
    #[serde(default = "thirty")]
    pub window_days: u32,
    /// Run-off by funding category (LCR outflow category, e.g. `retail_stable`,
    /// `unsecured_financial`, `secured_l2a`): the share of the balance withdrawn over the window
    /// (deposits repayable on demand and retail deposits), or of what matures within it that
    /// is not rolled over (other term funding).
    #[serde(default)]
    pub runoff: BTreeMap<String, f64>,
    /// Drawdown by facility category (LCR outflow category, e.g. `facility_credit_retail`):
    /// the share of the undrawn committed amount drawn over the window.
    #[serde(default)]
    pub drawdown: BTreeMap<String, f64>,
    /// Inflows by category (LCR inflow category, e.g. `retail`, `financial`): the share of
    /// what falls due within the window that is received (the rest is lent again).
    #[serde(default)]
    pub inflows: BTreeMap<String, f64>,
    /// Haircut added to the counterbalancing capacity by HQLA level (`l1`, `l2a`, `l2b`), for
    /// other central-bank eligible assets (`cb_eligible`) and for committed facilities
    /// received (`facilities_received`: 1 = not honoured), in decimal points (0.10 takes a
    /// further 10 % of the market value).
    #[serde(default)]
    pub haircut_add: BTreeMap<String, f64>,
    /// Share (0–1) of the positions' downgrade collateral (`downgrade_collateral`, the
    /// collateral a three-notch downgrade calls) called on the first day.
    #[serde(default)]
    pub collateral_call: f64,
}

fn thirty() -> u32 {
    30
}

impl Default for LiquidityStress {
    fn default() -> Self {
        LiquidityStress {
            window_days: 30,
            runoff: BTreeMap::new(),
            drawdown: BTreeMap::new(),
            inflows: BTreeMap::new(),
            haircut_add: BTreeMap::new(),
            collateral_call: 0.0,
        }
    }
}

/// What a scenario does to the market.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Kind {
    /// User-defined shifts.
    User {
        /// Rate shifts (risk-free and projection curves).
        rates: Vec<RateShift>,
        /// Spread shifts (spread curves).
        spreads: Vec<RateShift>,
        /// FX shocks.
        fx: Vec<FxShock>,
    },
    /// One of the six standardised IRRBB scenarios.
    Standard(Standard),
    /// The change between two snapshots (given by name; the caller loads them).
    Historical {
        /// The earlier snapshot.
        from: String,
        /// The later snapshot.
        to: String,
        /// Absolute or relative.
        relative: bool,
    },
}

/// One named scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioDef {
    /// Name (unique in the set).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The market change.
    pub kind: Kind,
    /// Months over which the change is reached linearly (0 = at once).
    pub ramp_months: u32,
    /// Behavioural overrides.
    pub behaviour: BehaviourOverrides,
    /// The liquidity stress, if the scenario has one (left out of the hash when absent, so
    /// sets written before it hash as they did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liquidity: Option<LiquidityStress>,
}

impl ScenarioDef {
    /// Whether the scenario leaves the market as it is (no shift, no FX or spread shock): a
    /// liquidity-only scenario.
    pub fn is_market_unchanged(&self) -> bool {
        matches!(&self.kind, Kind::User { rates, spreads, fx }
            if rates.is_empty() && spreads.is_empty() && fx.is_empty())
    }
}

/// A named, versioned list of scenarios with the settings of its standardised ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioSet {
    /// Set name.
    pub name: String,
    /// Version label.
    pub version: String,
    /// Calibration of standard scenarios.
    pub calibration: Calibration,
    /// Floor of standard scenarios.
    pub floor: Floor,
    /// The scenarios in file order.
    pub scenarios: Vec<ScenarioDef>,
}

/// Why a scenario set cannot be read or applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// A value in the file is wrong.
    #[error("{file}, line {line}, field {field}: {reason}")]
    Field {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// Field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("{file}, line {line}: {reason}")]
    Syntax {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Applying the scenario failed.
    #[error("scenario {scenario}: {reason}")]
    Apply {
        /// Scenario name.
        scenario: String,
        /// Why.
        reason: String,
    },
}

impl ScenarioSet {
    /// A content hash (SHA-256, hex) of the set as read: name, version, settings and every
    /// scenario. Two files that define the same set hash the same, whatever their layout.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(canonical.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The snapshot under scenario `def`, `elapsed_months` after the as-of date (ramps scale
    /// the change by `min(elapsed / ramp, 1)`; use `f64::INFINITY` for the full change).
    /// `load` resolves the snapshot names of historical scenarios.
    pub fn apply(
        &self,
        def: &ScenarioDef,
        base: &MarketSnapshot,
        elapsed_months: f64,
        load: &dyn Fn(&str) -> Result<MarketSnapshot, String>,
    ) -> Result<MarketSnapshot, SetError> {
        let err = |reason: String| SetError::Apply {
            scenario: def.name.clone(),
            reason,
        };
        let scale = if def.ramp_months == 0 {
            1.0
        } else {
            (elapsed_months / f64::from(def.ramp_months)).clamp(0.0, 1.0)
        };
        let curve_err = |e: CurveError| err(e.to_string());
        match &def.kind {
            Kind::User { rates, spreads, fx } => {
                let shift_curve = |c: &Curve, shifts: &[RateShift]| -> Result<Curve, CurveError> {
                    let applicable: Vec<&RateShift> =
                        shifts.iter().filter(|s| s.target.matches(c)).collect();
                    if applicable.is_empty() {
                        return Ok(c.clone());
                    }
                    c.map_pillars(|t, r| {
                        r + scale * applicable.iter().map(|s| s.at(t)).sum::<f64>()
                    })
                };
                // A shift that matches no curve of the market is a mistake in the set (a
                // currency or curve the market does not have), not a zero shock.
                for (what, shifts, curves) in [
                    ("rates", rates, base.curves().collect::<Vec<_>>()),
                    ("spread", spreads, base.spreads().collect::<Vec<_>>()),
                ] {
                    for sh in shifts.iter() {
                        if !curves.iter().any(|c| sh.target.matches(c)) {
                            let target = match &sh.target {
                                Target::Currency(c) => format!("currency {c}"),
                                Target::Curve(id) => format!("curve {id}"),
                            };
                            return Err(err(format!(
                                "the {what} shift for {target} matches no {} curve of the market",
                                if what == "rates" { "rate" } else { "spread" }
                            )));
                        }
                    }
                }
                let m = base
                    .map_curves(|c| shift_curve(c, rates))
                    .map_err(curve_err)?
                    .map_spreads(|c| shift_curve(c, spreads))
                    .map_err(curve_err)?;
                for s in fx {
                    m.fx(&s.base, &s.quote).map_err(|e| err(e.to_string()))?;
                }
                Ok(m.map_fx(|b, q, r| {
                    let mut out = r;
                    for s in fx {
                        let (same, inverse) =
                            (s.base == b && s.quote == q, s.base == q && s.quote == b);
                        if !(same || inverse) {
                            continue;
                        }
                        // Shock the pair as written; an inverse-quoted rate moves reciprocally.
                        let pair_rate = if same { out } else { 1.0 / out };
                        let shocked = match s.change {
                            FxChange::Relative(x) => pair_rate * (1.0 + scale * x),
                            FxChange::Absolute(x) => pair_rate + scale * x,
                        };
                        out = if same { shocked } else { 1.0 / shocked };
                    }
                    out
                }))
            }
            Kind::Standard(s) => {
                let spec = StandardSpec {
                    calibration: self.calibration,
                    floor: self.floor,
                    ..StandardSpec::default()
                };
                if scale >= 1.0 {
                    return standard::apply(base, *s, &spec).map_err(|e| err(e.to_string()));
                }
                let full = standard::apply(base, *s, &spec).map_err(|e| err(e.to_string()))?;
                base.map_curves(|c| {
                    let shocked = full.curve(c.id()).map_err(|e| CurveError::Invalid {
                        curve: c.id().to_string(),
                        reason: e.to_string(),
                    })?;
                    // Same pillars: move each zero rate the ramp's share of the way.
                    let zeros = c
                        .pillar_zero_rates()
                        .iter()
                        .zip(shocked.pillar_zero_rates())
                        .map(|(r, z)| r + scale * (z - r))
                        .collect();
                    c.with_zero_rates(zeros)
                })
                .map_err(curve_err)
            }
            Kind::Historical { from, to, relative } => {
                let a = load(from).map_err(&err)?;
                let b = load(to).map_err(&err)?;
                base.map_curves(|c| {
                    let (ca, cb) = match (a.curve(c.id()), b.curve(c.id())) {
                        (Ok(x), Ok(y)) => (x, y),
                        _ => return Ok(c.clone()),
                    };
                    c.map_pillars(|t, r| {
                        let (ra, rb) = (ca.zero(t), cb.zero(t));
                        if *relative && ra.abs() > 1e-12 {
                            r * (1.0 + scale * (rb / ra - 1.0))
                        } else {
                            r + scale * (rb - ra)
                        }
                    })
                })
                .map_err(curve_err)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    name: String,
    version: Spanned<toml::Value>,
    calibration: Option<Spanned<String>>,
    floor: Option<Spanned<String>>,
    #[serde(default)]
    scenario: Vec<RawScenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    standard: Option<Spanned<String>>,
    historical: Option<RawHistorical>,
    #[serde(default)]
    ramp_months: u32,
    #[serde(default)]
    rates: Vec<RawShift>,
    #[serde(default)]
    spread: Vec<RawShift>,
    #[serde(default)]
    fx: Vec<RawFx>,
    #[serde(default)]
    behaviour: BehaviourOverrides,
    liquidity: Option<Spanned<LiquidityStress>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHistorical {
    from: String,
    to: String,
    mode: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShift {
    currency: Option<Spanned<String>>,
    curve: Option<Spanned<String>>,
    parallel_bp: Option<f64>,
    twist: Option<RawTwist>,
    key_rates: Option<Vec<Spanned<(String, f64)>>>,
    table: Option<Vec<Spanned<(String, f64)>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTwist {
    short_bp: f64,
    long_bp: f64,
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFx {
    pair: Spanned<String>,
    relative: Option<f64>,
    absolute: Option<f64>,
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        almanac_market::format::line_of(self.text, offset)
    }

    fn err<T>(&self, v: &Spanned<T>, field: &str, reason: impl Into<String>) -> SetError {
        SetError::Field {
            file: self.file.to_string(),
            line: self.line(v.span().start),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn tenor(&self, v: &Spanned<String>, field: &str) -> Result<f64, SetError> {
        tenor_years(v.get_ref()).ok_or_else(|| {
            self.err(
                v,
                field,
                format!("{:?} is not a tenor (e.g. 3M, 10Y)", v.get_ref()),
            )
        })
    }
}

/// Reads a scenario set from TOML; errors name the file, line and field.
pub fn read_set(text: &str, file: &str) -> Result<ScenarioSet, SetError> {
    let cx = Ctx { text, file };
    let raw: RawSet = toml::from_str(text).map_err(|e| SetError::Syntax {
        file: file.to_string(),
        line: e.span().map_or(0, |s| cx.line(s.start)),
        reason: e.message().to_string(),
    })?;
    let version = match raw.version.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        _ => return Err(cx.err(&raw.version, "version", "must be a string or an integer")),
    };
    let calibration = match &raw.calibration {
        None => Calibration::Bcbs2016,
        Some(v) => v
            .get_ref()
            .parse()
            .map_err(|e: crate::irrbb::IrrbbError| cx.err(v, "calibration", e.to_string()))?,
    };
    let floor = match &raw.floor {
        None => Floor::None,
        Some(v) => v
            .get_ref()
            .parse()
            .map_err(|e: crate::irrbb::IrrbbError| cx.err(v, "floor", e.to_string()))?,
    };
    let mut scenarios: Vec<ScenarioDef> = Vec::new();
    let mut names = BTreeMap::new();
    for (i, s) in raw.scenario.into_iter().enumerate() {
        let at = format!("scenario[{}]", i + 1);
        if names.insert(s.name.get_ref().clone(), ()).is_some() {
            return Err(cx.err(
                &s.name,
                &format!("{at}.name"),
                format!("{:?} is defined twice", s.name.get_ref()),
            ));
        }
        let user = !s.rates.is_empty() || !s.spread.is_empty() || !s.fx.is_empty();
        let kinds = usize::from(user)
            + usize::from(s.standard.is_some())
            + usize::from(s.historical.is_some());
        // A liquidity-only scenario leaves the market as it is.
        if kinds > 1 || (kinds == 0 && s.liquidity.is_none()) {
            return Err(cx.err(
                &s.name,
                &at,
                "give exactly one of: shifts (rates/spread/fx), standard, historical \
                 (or only a liquidity stress)",
            ));
        }
        let liquidity = match &s.liquidity {
            Some(l) => Some(read_liquidity(&cx, l, &format!("{at}.liquidity"))?),
            None => None,
        };
        let kind = if let Some(std) = &s.standard {
            Kind::Standard(
                std.get_ref()
                    .parse()
                    .map_err(|e: crate::irrbb::IrrbbError| {
                        cx.err(std, &format!("{at}.standard"), e.to_string())
                    })?,
            )
        } else if let Some(h) = &s.historical {
            let relative = match &h.mode {
                None => false,
                Some(m) => match m.get_ref().as_str() {
                    "absolute" => false,
                    "relative" => true,
                    other => {
                        return Err(cx.err(
                            m,
                            &format!("{at}.historical.mode"),
                            format!("{other:?} is not absolute or relative"),
                        ))
                    }
                },
            };
            Kind::Historical {
                from: h.from.clone(),
                to: h.to.clone(),
                relative,
            }
        } else {
            let mut rates = Vec::new();
            for (k, r) in s.rates.iter().enumerate() {
                rates.push(read_shift(
                    &cx,
                    r,
                    &format!("{at}.rates[{}]", k + 1),
                    &s.name,
                )?);
            }
            let mut spreads = Vec::new();
            for (k, r) in s.spread.iter().enumerate() {
                spreads.push(read_shift(
                    &cx,
                    r,
                    &format!("{at}.spread[{}]", k + 1),
                    &s.name,
                )?);
            }
            let mut fx = Vec::new();
            for (k, f) in s.fx.iter().enumerate() {
                let field = format!("{at}.fx[{}]", k + 1);
                let (b, q) = f
                    .pair
                    .get_ref()
                    .split_once('/')
                    .filter(|(b, q)| {
                        almanac_market::currency::is_known(b)
                            && almanac_market::currency::is_known(q)
                    })
                    .ok_or_else(|| {
                        cx.err(
                            &f.pair,
                            &format!("{field}.pair"),
                            format!("{:?} is not BASE/QUOTE with ISO codes", f.pair.get_ref()),
                        )
                    })?;
                let change = match (f.relative, f.absolute) {
                    (Some(x), None) if x.is_finite() && x > -1.0 => FxChange::Relative(x),
                    (None, Some(x)) if x.is_finite() => FxChange::Absolute(x),
                    _ => {
                        return Err(cx.err(
                            &f.pair,
                            &field,
                            "give one of relative (> −1) or absolute",
                        ))
                    }
                };
                fx.push(FxShock {
                    base: b.to_string(),
                    quote: q.to_string(),
                    change,
                });
            }
            Kind::User { rates, spreads, fx }
        };
        scenarios.push(ScenarioDef {
            name: s.name.into_inner(),
            description: s.description,
            kind,
            ramp_months: s.ramp_months,
            behaviour: s.behaviour,
            liquidity,
        });
    }
    Ok(ScenarioSet {
        name: raw.name,
        version,
        calibration,
        floor,
        scenarios,
    })
}

/// Checks a liquidity stress: shares in [0, 1], a window of 1 to 3,650 days, haircut levels
/// `l1`, `l2a`, `l2b`. Category names are checked by the liquidity engine against its table.
fn read_liquidity(
    cx: &Ctx<'_>,
    l: &Spanned<LiquidityStress>,
    at: &str,
) -> Result<LiquidityStress, SetError> {
    let v = l.get_ref();
    if !(1..=3650).contains(&v.window_days) {
        return Err(cx.err(l, &format!("{at}.window_days"), "must be 1 to 3650 days"));
    }
    let share = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
    for (what, map) in [
        ("runoff", &v.runoff),
        ("drawdown", &v.drawdown),
        ("inflows", &v.inflows),
        ("haircut_add", &v.haircut_add),
    ] {
        for (k, x) in map {
            if !share(*x) {
                return Err(cx.err(
                    l,
                    &format!("{at}.{what}.{k}"),
                    format!("{x} is not a share from 0 to 1"),
                ));
            }
        }
    }
    for k in v.haircut_add.keys() {
        if !matches!(
            k.as_str(),
            "l1" | "l2a" | "l2b" | "cb_eligible" | "facilities_received"
        ) {
            return Err(cx.err(
                l,
                &format!("{at}.haircut_add.{k}"),
                "keys are l1, l2a, l2b, cb_eligible and facilities_received",
            ));
        }
    }
    if !share(v.collateral_call) {
        return Err(cx.err(
            l,
            &format!("{at}.collateral_call"),
            format!("{} is not a share from 0 to 1", v.collateral_call),
        ));
    }
    Ok(v.clone())
}

fn read_shift(
    cx: &Ctx<'_>,
    r: &RawShift,
    at: &str,
    name: &Spanned<String>,
) -> Result<RateShift, SetError> {
    let target = match (&r.currency, &r.curve) {
        (Some(c), None) => {
            if !almanac_market::currency::is_known(c.get_ref()) {
                return Err(cx.err(
                    c,
                    &format!("{at}.currency"),
                    format!("{:?} is not an ISO 4217 code", c.get_ref()),
                ));
            }
            Target::Currency(c.get_ref().clone())
        }
        (None, Some(c)) => Target::Curve(c.get_ref().clone()),
        _ => return Err(cx.err(name, at, "give exactly one of currency and curve")),
    };
    // Components as piecewise-linear functions; the sum is piecewise linear on the union of
    // their knots, so it is held exactly as one table.
    let mut parts: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let bp = |v: f64| v / 10_000.0;
    if let Some(p) = r.parallel_bp {
        parts.push((vec![1.0], vec![bp(p)]));
    }
    if let Some(tw) = &r.twist {
        let a = cx.tenor(&tw.from, &format!("{at}.twist.from"))?;
        let b = cx.tenor(&tw.to, &format!("{at}.twist.to"))?;
        if b <= a {
            return Err(cx.err(
                &tw.to,
                &format!("{at}.twist.to"),
                "must be a longer tenor than from",
            ));
        }
        parts.push((vec![a, b], vec![bp(tw.short_bp), bp(tw.long_bp)]));
    }
    if let Some(keys) = &r.key_rates {
        let mut knots: Vec<f64> = KEY_RATE_GRID.to_vec();
        let mut given = Vec::new();
        for k in keys {
            let (tenor, v) = k.get_ref();
            let t = tenor_years(tenor).ok_or_else(|| {
                cx.err(
                    k,
                    &format!("{at}.key_rates"),
                    format!("{tenor:?} is not a tenor"),
                )
            })?;
            given.push((t, bp(*v)));
            knots.push(t);
        }
        knots.sort_by(f64::total_cmp);
        knots.dedup();
        let values = knots
            .iter()
            .map(|t| given.iter().filter(|(g, _)| g == t).map(|(_, v)| v).sum())
            .collect();
        parts.push((knots, values));
    }
    if let Some(table) = &r.table {
        let mut ts = Vec::new();
        let mut vs = Vec::new();
        for k in table {
            let (tenor, v) = k.get_ref();
            let t = tenor_years(tenor).ok_or_else(|| {
                cx.err(
                    k,
                    &format!("{at}.table"),
                    format!("{tenor:?} is not a tenor"),
                )
            })?;
            if ts.last().is_some_and(|&l| t <= l) {
                return Err(cx.err(k, &format!("{at}.table"), "tenors must increase"));
            }
            ts.push(t);
            vs.push(bp(*v));
        }
        parts.push((ts, vs));
    }
    if parts.is_empty() {
        return Err(cx.err(
            name,
            at,
            "no shift given (parallel_bp, twist, key_rates or table)",
        ));
    }
    let mut knots: Vec<f64> = parts.iter().flat_map(|(t, _)| t.iter().copied()).collect();
    knots.sort_by(f64::total_cmp);
    knots.dedup();
    let mut shifts = vec![0.0; knots.len()];
    for (ts, vs) in &parts {
        let f = Interpolator::new(Interpolation::Linear, ts.clone(), vs.clone())
            .map_err(|e| cx.err(name, at, e.to_string()))?;
        for (s, t) in shifts.iter_mut().zip(&knots) {
            *s += f.value(*t);
        }
    }
    Ok(RateShift {
        target,
        times: knots,
        shifts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_market::CurveInterpolation;
    use almanac_time::{Date, DayCount};

    const SET: &str = r#"
name = "ALCO 2026-Q1"
version = 3
calibration = "bcbs2024"
floor = "eu"

[[scenario]]
name = "bear_steepener"
description = "long end up, short end down, reached over a year"
ramp_months = 12
rates = [
  { currency = "EUR", parallel_bp = 25, twist = { short_bp = -50, long_bp = 50, from = "1Y", to = "10Y" } },
  { curve = "EUR-ESTR", key_rates = [["5Y", 10]] },
]
spread = [{ currency = "EUR", parallel_bp = 40 }]
fx = [{ pair = "EUR/USD", relative = -0.1 }]
behaviour = { prepayment_multiplier = 0.5, deposit_runoff_multiplier = 1.5 }

[[scenario]]
name = "irrbb_up"
standard = "parallel_up"

[[scenario]]
name = "2022"
historical = { from = "a", to = "b", mode = "absolute" }
"#;

    fn snapshot(as_of: Date, shift: f64) -> MarketSnapshot {
        let mut m = MarketSnapshot::new(as_of);
        for id in ["EUR-ESTR", "EUR-EURIBOR3M"] {
            m.insert_curve(
                Curve::from_zero_rates(
                    id,
                    "EUR",
                    as_of,
                    DayCount::Act365Fixed,
                    CurveInterpolation::LinearZero,
                    vec![0.5, 1.0, 5.0, 10.0, 30.0],
                    vec![
                        0.02 + shift,
                        0.021 + shift,
                        0.023 + shift,
                        0.025 + shift,
                        0.026 + shift,
                    ],
                )
                .unwrap(),
            )
            .unwrap();
        }
        m.insert_spread(
            Curve::from_zero_rates(
                "EUR-FUNDING",
                "EUR",
                as_of,
                DayCount::Act365Fixed,
                CurveInterpolation::LinearZero,
                vec![1.0, 10.0],
                vec![0.004, 0.009],
            )
            .unwrap(),
        )
        .unwrap();
        m.insert_fx("EUR", "USD", 1.1);
        m
    }

    #[test]
    fn reads_applies_and_hashes() {
        let set = read_set(SET, "s.toml").unwrap();
        assert_eq!(set.version, "3");
        assert_eq!(set.scenarios.len(), 3);
        let base = snapshot(Date::ymd(2025, 12, 31), 0.0);
        let none = |_: &str| -> Result<MarketSnapshot, String> { Err("no files".into()) };
        let s = &set.scenarios[0];
        let full = set.apply(s, &base, f64::INFINITY, &none).unwrap();
        let z =
            |m: &MarketSnapshot, id: &str, i: usize| m.curve(id).unwrap().pillar_zero_rates()[i];
        // 0.5y: parallel 25 − twist 50 (flat before 1Y) = −25 bp; 5Y on ESTR also +10 key rate.
        assert!((z(&full, "EUR-EURIBOR3M", 0) - (0.02 - 0.0025)).abs() < 1e-15);
        let twist_5y = -0.005 + (0.01) * (4.0 / 9.0);
        assert!((z(&full, "EUR-EURIBOR3M", 2) - (0.023 + 0.0025 + twist_5y)).abs() < 1e-15);
        assert!((z(&full, "EUR-ESTR", 2) - (0.023 + 0.0025 + twist_5y + 0.001)).abs() < 1e-15);
        assert!((z(&full, "EUR-ESTR", 3) - (0.025 + 0.0025 + 0.005)).abs() < 1e-15);
        assert!((full.spread("EUR-FUNDING").unwrap().pillar_zero_rates()[0] - 0.008).abs() < 1e-15);
        assert!((full.fx("EUR", "USD").unwrap() - 0.99).abs() < 1e-15);
        // Ramp: half-way after six months.
        let half = set.apply(s, &base, 6.0, &none).unwrap();
        assert!((z(&half, "EUR-ESTR", 3) - (0.025 + 0.5 * 0.0075)).abs() < 1e-15);
        assert!((half.fx("EUR", "USD").unwrap() - 1.1 * 0.95).abs() < 1e-15);
        // Standard scenario with the set's calibration (bcbs2024 EUR parallel 225 bp).
        let up = set
            .apply(&set.scenarios[1], &base, f64::INFINITY, &none)
            .unwrap();
        assert!((z(&up, "EUR-ESTR", 0) - (0.02 + 0.0225)).abs() < 1e-15);
        // Historical: the change between two snapshots, 30 bp everywhere.
        let load = |n: &str| -> Result<MarketSnapshot, String> {
            Ok(snapshot(
                Date::ymd(2025, 12, 31),
                if n == "a" { 0.0 } else { 0.003 },
            ))
        };
        let h = set
            .apply(&set.scenarios[2], &base, f64::INFINITY, &load)
            .unwrap();
        assert!((z(&h, "EUR-ESTR", 4) - 0.029).abs() < 1e-15);
        // The hash depends on content, not layout.
        let relaid = SET.replace("version = 3", "version    =    3\n# comment");
        assert_eq!(read_set(&relaid, "x.toml").unwrap().hash(), set.hash());
        let changed = SET.replace("parallel_bp = 25", "parallel_bp = 26");
        assert_ne!(read_set(&changed, "x.toml").unwrap().hash(), set.hash());
        assert_eq!(set.hash().len(), 64);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            (
                SET.replace(
                    r#"currency = "EUR", parallel_bp = 25"#,
                    r#"currency = "EUX", parallel_bp = 25"#,
                ),
                "line 12, field scenario[1].rates[1].currency",
            ),
            (
                SET.replace(r#"from = "1Y", to = "10Y""#, r#"from = "10Y", to = "1Y""#),
                "field scenario[1].rates[1].twist.to",
            ),
            (
                SET.replace(
                    r#"standard = "parallel_up""#,
                    r#"standard = "parallel_sideways""#,
                ),
                "line 21, field scenario[2].standard",
            ),
            (
                SET.replace(r#"calibration = "bcbs2024""#, r#"calibration = "bcbs2099""#),
                "line 4, field calibration",
            ),
            (
                SET.replace(r#"pair = "EUR/USD""#, r#"pair = "EURUSD""#),
                "field scenario[1].fx[1].pair",
            ),
            (
                SET.replace(r#"mode = "absolute""#, r#"mode = "sideways""#),
                "field scenario[3].historical.mode",
            ),
            (
                SET.replace("name = \"2022\"", "name = \"irrbb_up\""),
                "is defined twice",
            ),
            (
                SET.replace("ramp_months = 12", "ramp_monts = 12"),
                "s.toml, line",
            ),
        ];
        for (text, want) in cases {
            let e = read_set(&text, "s.toml").unwrap_err().to_string();
            assert!(e.contains("s.toml") && e.contains(want), "{want}: {e}");
        }
    }
}

#[cfg(test)]
mod liquidity_tests {
    use super::*;

    const SET: &str = r#"
name = "Liquidity"
version = 1

[[scenario]]
name = "deposit_run"
[scenario.liquidity]
window_days = 60
runoff = { retail_stable = 0.05, unsecured_financial = 1.0 }
drawdown = { facility_credit_retail = 0.1 }
haircut_add = { l2a = 0.1 }
collateral_call = 1.0

[[scenario]]
name = "joint"
standard = "parallel_up"
behaviour = { drawdown_rate = 0.2 }
[scenario.liquidity]
runoff = { retail_less_stable = 0.2 }

[[scenario]]
name = "rates_only"
standard = "parallel_down"
"#;

    #[test]
    fn liquidity_stresses_are_read_and_hashed() {
        let set = read_set(SET, "l.toml").unwrap();
        let run = &set.scenarios[0];
        assert!(run.is_market_unchanged());
        let l = run.liquidity.as_ref().unwrap();
        assert_eq!(l.window_days, 60);
        assert_eq!(l.runoff["unsecured_financial"], 1.0);
        assert_eq!(l.drawdown["facility_credit_retail"], 0.1);
        assert_eq!(l.haircut_add["l2a"], 0.1);
        assert_eq!(l.collateral_call, 1.0);
        let joint = &set.scenarios[1];
        assert!(!joint.is_market_unchanged());
        assert_eq!(joint.liquidity.as_ref().unwrap().window_days, 30);
        assert_eq!(joint.behaviour.drawdown_rate, Some(0.2));
        assert!(set.scenarios[2].liquidity.is_none());
        // The stress is part of the set's identity.
        let changed = SET.replace("retail_stable = 0.05", "retail_stable = 0.06");
        assert_ne!(read_set(&changed, "l.toml").unwrap().hash(), set.hash());
    }

    #[test]
    fn a_scenario_without_a_liquidity_stress_hashes_as_before() {
        // The serialised form of a scenario without a stress has no `liquidity` key.
        let set = read_set(SET, "l.toml").unwrap();
        let json = serde_json::to_string(&set.scenarios[2]).unwrap();
        assert!(!json.contains("liquidity"), "{json}");
    }

    #[test]
    fn bad_stresses_are_refused_naming_the_field() {
        let cases = [
            (
                SET.replace("retail_stable = 0.05", "retail_stable = 1.5"),
                "scenario[1].liquidity.runoff.retail_stable",
            ),
            (
                SET.replace("window_days = 60", "window_days = 0"),
                "scenario[1].liquidity.window_days",
            ),
            (
                SET.replace("{ l2a = 0.1 }", "{ l3 = 0.1 }"),
                "scenario[1].liquidity.haircut_add.l3",
            ),
            (
                SET.replace("collateral_call = 1.0", "collateral_call = -1.0"),
                "scenario[1].liquidity.collateral_call",
            ),
            (SET.replace("window_days", "window"), "l.toml, line"),
        ];
        for (text, want) in cases {
            let e = read_set(&text, "l.toml").unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
        // A scenario with neither a market change nor a stress says what it needs.
        let empty = "name = \"x\"\nversion = 1\n[[scenario]]\nname = \"nothing\"\n";
        let e = read_set(empty, "l.toml").unwrap_err().to_string();
        assert!(e.contains("only a liquidity stress"), "{e}");
    }
}
