//! Behavioural assumptions for interest-rate risk (regulatory-metrics spec §1.10–1.12), as held
//! in an assumption set (TOML): prepayment of fixed-rate loans (CPR), early redemption of
//! fixed-rate term deposits (TDRR), and the core / non-core split and slotting of
//! non-maturity deposits (NMD), each switchable per scenario.
//!
//! Rules are named; a contract takes the first matching rule, NMD rules first, then
//! prepayment, then early redemption, each kind's rules in name order.
//!
//! ```toml
//! [prepayment.mortgages]        # SRP31.117–121
//! cpr = 0.06                    # CPR₀, decimal per year
//! convention = "compound"       # or "linear" (EU Annex: outstanding × CPR × period)
//! scenario_multipliers = true   # γ of SRP31.119 Table 5 (default true)
//! select = { contract_types = ["ANN", "LAM", "NAM"], roles = ["RPA"] }
//!
//! [early_redemption.retail]     # SRP31.122–125
//! tdrr = 0.05
//! select = { contract_types = ["PAM"], roles = ["RPL"] }
//!
//! [nmd.retail_current]          # SRP31.107–112
//! category = "retail_transactional"
//! core_share = 0.85             # the bank's estimate of the stable, core share
//! profile = [[1.0, 0.3], [3.0, 0.3], [7.0, 0.4]]   # (years, weight) of the core
//! select = { id_prefixes = ["NMD-RT"] }
//!
//! [scenarios.parallel_down]     # switches per scenario (default: all on)
//! prepayment = false
//!
//! [margins.mortgages]           # SRP31.100: commercial margins EVE may strip
//! spread = 0.012                # contract rate minus the risk-free rate, decimal per year
//! select = { id_prefixes = ["MORT"] }
//!
//! [margins.floaters]
//! spread = "rate_spread"        # the contract's own ACTUS rateSpread
//! select = { id_prefixes = ["FRN"] }
//! ```
//!
//! Margin rules are separate from the behaviour treatments: they are only read when a run
//! strips margins from its EVE flows, and a contract takes the first margin rule (in name
//! order) that matches it, whatever its behaviour. A margin rule without `select` matches
//! every contract.
//!
//! Prepayment and early redemption apply only to fixed-rate contracts (no rate reset). The
//! default selections are: prepayment — ANN, LAM, NAM assets; early redemption — PAM
//! liabilities; NMD — UMP liabilities. In an assumption document that also holds other
//! sections (FTP, limits), the behaviour sits under `[behaviour]`
//! ([`Behaviour::from_assumptions_toml`]).

use std::collections::BTreeMap;

use almanac_actus::ContractTerms;
use almanac_scenario::irrbb::Scenario;

use super::behaviour::{cpr_multiplier, tdrr_multiplier, NmdCategory};
use super::flows::RateConvention;

/// Which contracts a rule applies to; every list given must match (an empty list matches all).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// ACTUS contract types (`"ANN"`, …).
    #[serde(default)]
    pub contract_types: Vec<String>,
    /// ACTUS roles (`"RPA"`, `"RPL"`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Prefixes of the contract identifier.
    #[serde(default)]
    pub id_prefixes: Vec<String>,
    /// Currencies.
    #[serde(default)]
    pub currencies: Vec<String>,
}

impl Selector {
    fn with(types: &[&str], roles: &[&str]) -> Selector {
        Selector {
            contract_types: types.iter().map(|s| s.to_string()).collect(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            ..Selector::default()
        }
    }

    /// Whether the contract matches.
    pub fn matches(&self, t: &ContractTerms) -> bool {
        let any = |list: &[String], v: Option<&str>| {
            list.is_empty() || v.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)))
        };
        any(&self.contract_types, t.contract_type.map(|c| c.code()))
            && any(&self.roles, t.contract_role.map(|r| r.code()))
            && any(&self.currencies, t.currency.as_deref())
            && (self.id_prefixes.is_empty()
                || self
                    .id_prefixes
                    .iter()
                    .any(|p| t.id().starts_with(p.as_str())))
    }
}

fn yes() -> bool {
    true
}

/// Prepayment of fixed-rate loans.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Prepayment {
    /// Base CPR, decimal per year.
    pub cpr: f64,
    /// Annual rate → period fraction.
    #[serde(default)]
    pub convention: RateConvention,
    /// Apply the scenario multipliers γ (SRP31.119).
    #[serde(default = "yes")]
    pub scenario_multipliers: bool,
    /// Contracts it applies to (default ANN, LAM, NAM assets).
    #[serde(default = "prepayment_default")]
    pub select: Selector,
    /// EU RTS 2024/857 Art 9(2): no prepayment when the loans of all prepayment rules are
    /// under 5 % of the assets (by outstanding notional).
    #[serde(default)]
    pub eu_materiality: bool,
}

fn prepayment_default() -> Selector {
    Selector::with(&["ANN", "LAM", "NAM"], &["RPA"])
}

/// Early redemption of fixed-rate term deposits.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyRedemption {
    /// Base TDRR, decimal (share of the outstanding redeemed early).
    pub tdrr: f64,
    /// Apply the scenario multipliers u (SRP31.125).
    #[serde(default = "yes")]
    pub scenario_multipliers: bool,
    /// Contracts it applies to (default PAM liabilities).
    #[serde(default = "redemption_default")]
    pub select: Selector,
    /// EU RTS 2024/857 Art 10(4): no early redemption when the deposits of all
    /// early-redemption rules are under 5 % of the liabilities (by outstanding notional).
    #[serde(default)]
    pub eu_materiality: bool,
}

fn redemption_default() -> Selector {
    Selector::with(&["PAM"], &["RPL"])
}

/// The NMD category, as written in the assumption file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Retail transactional.
    RetailTransactional,
    /// Retail non-transactional.
    RetailNonTransactional,
    /// Wholesale.
    Wholesale,
}

impl Category {
    /// The Basel category.
    pub fn basel(self) -> NmdCategory {
        match self {
            Category::RetailTransactional => NmdCategory::RetailTransactional,
            Category::RetailNonTransactional => NmdCategory::RetailNonTransactional,
            Category::Wholesale => NmdCategory::Wholesale,
        }
    }
}

/// One NMD rule.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NmdRule {
    /// Category (sets the caps of SRP31.110 Table 4).
    pub category: Category,
    /// Estimated core share of the balance (capped by the category's cap).
    pub core_share: f64,
    /// Core share per scenario name, overriding `core_share` there (e.g. the EU simplified
    /// approach's short-rate-up and -down proportions); capped likewise.
    #[serde(default)]
    pub core_share_by_scenario: BTreeMap<String, f64>,
    /// Slotting of the core: `(years, weight)`, weights summing to 1; the weighted average
    /// maturity must not exceed the category's cap.
    pub profile: Vec<(f64, f64)>,
    /// Contracts it applies to (default UMP liabilities).
    #[serde(default = "nmd_default")]
    pub select: Selector,
}

fn nmd_default() -> Selector {
    Selector::with(&["UMP"], &["RPL"])
}

/// Which behaviours are on in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Switches {
    /// Prepayment on.
    #[serde(default = "yes")]
    pub prepayment: bool,
    /// Early redemption on.
    #[serde(default = "yes")]
    pub early_redemption: bool,
    /// NMD slotting on (off: the contractual, on-demand view).
    #[serde(default = "yes")]
    pub nmd: bool,
}

impl Default for Switches {
    fn default() -> Switches {
        Switches {
            prepayment: true,
            early_redemption: true,
            nmd: true,
        }
    }
}

/// The commercial margin a margin rule strips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// A spread, decimal per year: the contract rate minus the risk-free rate (positive for a
    /// loan priced above risk-free, negative for a deposit paying below it).
    Fixed(f64),
    /// The contract's own rate spread (ACTUS `rateSpread`, 0 when it has none): the margin of a
    /// floater over its index.
    RateSpread,
}

impl Spread {
    /// The spread of contract `t`.
    pub fn of(self, t: &ContractTerms) -> f64 {
        match self {
            Spread::Fixed(s) => s,
            Spread::RateSpread => t.rate_spread.unwrap_or(0.0),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Spread {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Spread, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Spread;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal spread per year or \"rate_spread\"")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Spread, E> {
                Ok(Spread::Fixed(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Spread, E> {
                Ok(Spread::Fixed(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Spread, E> {
                Ok(Spread::Fixed(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Spread, E> {
                match v {
                    "rate_spread" => Ok(Spread::RateSpread),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for Spread {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Spread::Fixed(x) => s.serialize_f64(*x),
            Spread::RateSpread => s.serialize_str("rate_spread"),
        }
    }
}

/// One margin rule: the commercial margin of the contracts it selects.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarginRule {
    /// The margin: a decimal per year, or `"rate_spread"`.
    pub spread: Spread,
    /// Contracts it applies to (default: all).
    #[serde(default)]
    pub select: Selector,
}

/// Commercial-margin rules by name (SRP31.100): what a run that strips margins from its EVE
/// flows takes off each contract's rate.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Margins {
    /// Rules by name.
    pub rules: BTreeMap<String, MarginRule>,
}

impl Margins {
    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The spread of the first rule (in name order) that selects `t`, or `None` when none
    /// does.
    pub fn spread(&self, t: &ContractTerms) -> Option<f64> {
        self.rules
            .values()
            .find(|r| r.select.matches(t))
            .map(|r| r.spread.of(t))
    }
}

/// A behavioural assumption set.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Prepayment rules by name.
    #[serde(default)]
    pub prepayment: BTreeMap<String, Prepayment>,
    /// Early-redemption rules by name.
    #[serde(default)]
    pub early_redemption: BTreeMap<String, EarlyRedemption>,
    /// NMD rules by name.
    #[serde(default)]
    pub nmd: BTreeMap<String, NmdRule>,
    /// Switches per scenario name (`base`, `parallel_up`, …); unnamed scenarios: all on.
    #[serde(default)]
    pub scenarios: BTreeMap<String, Switches>,
    /// Commercial-margin rules, read only by a run that strips margins from EVE.
    #[serde(default, skip_serializing_if = "Margins::is_empty")]
    pub margins: Margins,
}

/// Why an assumption set is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AssumptionError {
    /// Not valid TOML or not the expected shape.
    #[error("assumptions: {0}")]
    Parse(String),
    /// A value out of range.
    #[error("assumptions: {field} = {value}: {reason}")]
    Value {
        /// Field.
        field: String,
        /// Value.
        value: f64,
        /// Why.
        reason: &'static str,
    },
    /// A scenario name that cannot be one (names are lower-case letters, digits, `_`, `-`).
    #[error("assumptions: {0:?} is not a scenario name (lower-case letters, digits, _ and -)")]
    Scenario(String),
    /// An NMD slotting profile that breaks the rules.
    #[error("assumptions: nmd.{rule}: {reason}")]
    Nmd {
        /// Rule name.
        rule: String,
        /// Why.
        reason: String,
    },
}

/// Scenario names are those of a scenario set: lower-case letters, digits and `_`. Whether
/// the run has them is checked against the run ([`Behaviour::unknown_scenarios`]).
fn scenario_name(name: &str) -> Result<(), AssumptionError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AssumptionError::Scenario(name.to_string()))
    }
}

fn rate(field: &str, v: f64) -> Result<(), AssumptionError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(AssumptionError::Value {
            field: field.into(),
            value: v,
            reason: "must be a decimal between 0 and 1",
        })
    }
}

impl Behaviour {
    /// Parses and validates an assumption set in TOML.
    pub fn from_toml(text: &str) -> Result<Behaviour, AssumptionError> {
        let b: Behaviour =
            toml::from_str(text).map_err(|e| AssumptionError::Parse(e.to_string()))?;
        b.validate()?;
        Ok(b)
    }

    /// The behaviour of an assumption document: its `[behaviour]` table (other sections such
    /// as FTP or limits are not read here), or an empty set when it has none.
    pub fn from_assumptions_toml(text: &str) -> Result<Behaviour, AssumptionError> {
        let doc: toml::Table =
            toml::from_str(text).map_err(|e| AssumptionError::Parse(e.to_string()))?;
        match doc.get("behaviour") {
            None => Ok(Behaviour::default()),
            Some(v) => {
                let b: Behaviour = v.clone().try_into().map_err(|e: toml::de::Error| {
                    AssumptionError::Parse(format!("[behaviour]: {e}"))
                })?;
                b.validate()?;
                Ok(b)
            }
        }
    }

    /// Checks rates, scenario names and NMD profiles (weights sum to 1, average maturity
    /// within the category's cap, SRP31.110).
    pub fn validate(&self) -> Result<(), AssumptionError> {
        for (name, p) in &self.prepayment {
            rate(&format!("prepayment.{name}.cpr"), p.cpr)?;
        }
        for (name, r) in &self.early_redemption {
            rate(&format!("early_redemption.{name}.tdrr"), r.tdrr)?;
        }
        for name in self.scenarios.keys() {
            scenario_name(name)?;
        }
        for (name, r) in &self.margins.rules {
            if let Spread::Fixed(v) = r.spread {
                if !(v.is_finite() && v.abs() < 1.0) {
                    return Err(AssumptionError::Value {
                        field: format!("margins.{name}.spread"),
                        value: v,
                        reason: "must be a decimal per year between -1 and 1 (exclusive)",
                    });
                }
            }
        }
        for (k, rule) in &self.nmd {
            rate(&format!("nmd.{k}.core_share"), rule.core_share)?;
            for (name, v) in &rule.core_share_by_scenario {
                scenario_name(name)?;
                rate(&format!("nmd.{k}.core_share_by_scenario.{name}"), *v)?;
            }
            if rule
                .profile
                .iter()
                .any(|(t, _)| !(t.is_finite() && *t > 0.0))
            {
                return Err(AssumptionError::Nmd {
                    rule: k.clone(),
                    reason: "profile times must be positive years".into(),
                });
            }
            super::behaviour::nmd_split(1.0, rule.category.basel(), 1.0, &rule.profile).map_err(
                |e| AssumptionError::Nmd {
                    rule: k.clone(),
                    reason: e.to_string(),
                },
            )?;
        }
        Ok(())
    }

    /// The scenario names the set mentions that are not among `names` (the run's).
    pub fn unknown_scenarios(&self, names: &[&str]) -> Vec<String> {
        let mentioned = self.scenarios.keys().chain(
            self.nmd
                .values()
                .flat_map(|r| r.core_share_by_scenario.keys()),
        );
        let mut out: Vec<String> = mentioned
            .filter(|n| !names.contains(&n.as_str()))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether the set changes any flow at all (margin rules do not: they only say what a
    /// run that strips margins takes off).
    pub fn is_empty(&self) -> bool {
        self.prepayment.is_empty() && self.early_redemption.is_empty() && self.nmd.is_empty()
    }

    /// The switches of a scenario (`None` = base).
    pub fn switches(&self, s: Option<Scenario>) -> Switches {
        self.switches_named(s.map_or("base", Scenario::name))
    }

    /// The switches of a scenario by name.
    pub fn switches_named(&self, name: &str) -> Switches {
        self.scenarios.get(name).copied().unwrap_or_default()
    }

    /// The treatment of one contract: the first matching NMD rule, else prepayment rule
    /// (fixed rate only), else early-redemption rule (fixed rate only), by index in name
    /// order.
    pub fn treatment(&self, t: &ContractTerms) -> Treatment {
        if let Some(k) = self.nmd.values().position(|r| r.select.matches(t)) {
            return Treatment::Nmd(k);
        }
        let fixed = t.cycle_of_rate_reset.is_none()
            && t.market_object_code_of_rate_reset.is_none()
            && t.array_cycle_of_rate_reset.is_none();
        if !fixed {
            return Treatment::Contractual;
        }
        if let Some(k) = self.prepayment.values().position(|r| r.select.matches(t)) {
            return Treatment::Prepay(k);
        }
        if let Some(k) = self
            .early_redemption
            .values()
            .position(|r| r.select.matches(t))
        {
            return Treatment::Redeem(k);
        }
        Treatment::Contractual
    }

    /// Scenario CPR of prepayment rule `k`: `min(1, γ · CPR₀)`, or 0 when prepayment is off
    /// in the scenario.
    pub fn cpr(&self, k: usize, s: Option<Scenario>) -> f64 {
        self.cpr_in(k, s.map_or("base", Scenario::name), s, None)
    }

    /// CPR of rule `k` in scenario `name`: the multiplier is `multiplier` if given (a
    /// scenario set's override), else the standard scenario's γ, else 1.
    pub fn cpr_in(
        &self,
        k: usize,
        name: &str,
        standard: Option<Scenario>,
        multiplier: Option<f64>,
    ) -> f64 {
        let rule = self.prepayment.values().nth(k);
        scenario_rate(
            rule.map(|p| (p.cpr, p.scenario_multipliers)),
            self.switches_named(name).prepayment,
            multiplier.or(standard.map(cpr_multiplier)),
        )
    }

    /// Scenario TDRR of early-redemption rule `k`: `min(1, u · TDRR₀)`, or 0 when early
    /// redemption is off in the scenario.
    pub fn tdrr(&self, k: usize, s: Option<Scenario>) -> f64 {
        self.tdrr_in(k, s.map_or("base", Scenario::name), s, None)
    }

    /// TDRR of rule `k` in scenario `name` (multiplier as in [`Behaviour::cpr_in`]).
    pub fn tdrr_in(
        &self,
        k: usize,
        name: &str,
        standard: Option<Scenario>,
        multiplier: Option<f64>,
    ) -> f64 {
        let rule = self.early_redemption.values().nth(k);
        scenario_rate(
            rule.map(|r| (r.tdrr, r.scenario_multipliers)),
            self.switches_named(name).early_redemption,
            multiplier.or(standard.map(tdrr_multiplier)),
        )
    }

    /// Core share of NMD rule `k` in a scenario, after the category's cap; 0 (all on demand)
    /// when NMD slotting is off in the scenario.
    pub fn core_share(&self, k: usize, s: Option<Scenario>) -> f64 {
        self.core_share_in(k, s.map_or("base", Scenario::name))
    }

    /// Core share of NMD rule `k` in scenario `name`.
    pub fn core_share_in(&self, k: usize, name: &str) -> f64 {
        let Some(rule) = self.nmd.values().nth(k) else {
            return 0.0;
        };
        if !self.switches_named(name).nmd {
            return 0.0;
        }
        let share = rule
            .core_share_by_scenario
            .get(name)
            .copied()
            .unwrap_or(rule.core_share);
        share.min(rule.category.basel().caps().0)
    }
}

/// The EU materiality threshold of RTS 2024/857 Art 9(2) and 10(4).
pub const EU_MATERIALITY: f64 = 0.05;

impl Behaviour {
    /// Whether a rule asks for the EU materiality test, which needs the whole portfolio
    /// before the run ([`Behaviour::with_eu_materiality`]).
    pub fn asks_eu_materiality(&self) -> bool {
        self.prepayment.values().any(|p| p.eu_materiality)
            || self.early_redemption.values().any(|r| r.eu_materiality)
    }

    /// The set with the EU materiality rules applied to `contracts`: when the contracts that
    /// prepayment rules treat are under 5 % of the assets (outstanding notional, all
    /// currencies' units summed as given), the rules that ask for it (`eu_materiality`) get a
    /// rate of 0; likewise early redemption against the liabilities. Returns the set and what
    /// was switched off, with the shares.
    pub fn with_eu_materiality<C: std::borrow::Borrow<ContractTerms>>(
        &self,
        contracts: &[C],
    ) -> (Behaviour, Vec<String>) {
        let wants_p = self.prepayment.values().any(|p| p.eu_materiality);
        let wants_r = self.early_redemption.values().any(|r| r.eu_materiality);
        if !(wants_p || wants_r) {
            return (self.clone(), Vec::new());
        }
        let (mut assets, mut liabilities, mut prepaid, mut redeemed) = (0.0, 0.0, 0.0, 0.0);
        for t in contracts {
            let t: &ContractTerms = t.borrow();
            let n = t.notional_principal.unwrap_or(0.0).abs();
            let asset = t
                .contract_role
                .map_or(1.0, almanac_actus::ContractRole::sign)
                > 0.0;
            if asset {
                assets += n;
            } else {
                liabilities += n;
            }
            match self.treatment(t) {
                Treatment::Prepay(_) => prepaid += n,
                Treatment::Redeem(_) => redeemed += n,
                _ => {}
            }
        }
        let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
        let mut out = self.clone();
        let mut notes = Vec::new();
        let p_share = share(prepaid, assets);
        if wants_p && p_share < EU_MATERIALITY {
            for (name, p) in out.prepayment.iter_mut().filter(|(_, p)| p.eu_materiality) {
                p.cpr = 0.0;
                notes.push(format!(
                    "prepayment.{name}: the prepayable loans are {:.2} % of the assets, under \
                     the EU 5 % threshold: CPR set to 0",
                    100.0 * p_share
                ));
            }
        }
        let r_share = share(redeemed, liabilities);
        if wants_r && r_share < EU_MATERIALITY {
            for (name, r) in out
                .early_redemption
                .iter_mut()
                .filter(|(_, r)| r.eu_materiality)
            {
                r.tdrr = 0.0;
                notes.push(format!(
                    "early_redemption.{name}: the redeemable deposits are {:.2} % of the \
                     liabilities, under the EU 5 % threshold: TDRR set to 0",
                    100.0 * r_share
                ));
            }
        }
        (out, notes)
    }
}

/// A scenario's rate from a rule's base rate and whether it takes multipliers: `min(1, m ·
/// rate)` with the scenario's multiplier `m` (1 when none), 0 when switched off or no rule.
fn scenario_rate(rule: Option<(f64, bool)>, on: bool, multiplier: Option<f64>) -> f64 {
    match (rule, on) {
        (Some((rate, true)), true) => (multiplier.unwrap_or(1.0) * rate).min(1.0),
        (Some((rate, false)), true) => rate,
        _ => 0.0,
    }
}

/// How a contract's flows are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Contractual flows.
    Contractual,
    /// Prepayment rule k.
    Prepay(usize),
    /// Early-redemption rule k.
    Redeem(usize),
    /// NMD rule k.
    Nmd(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_validates_and_applies_multipliers() {
        let b = Behaviour::from_toml(
            r#"
            [prepayment.all]
            cpr = 0.10
            [early_redemption.all]
            tdrr = 0.05
            [nmd.current]
            category = "retail_transactional"
            core_share = 0.95
            profile = [[3.5, 0.5], [6.5, 0.5]]
            [scenarios.short_down]
            prepayment = false
            "#,
        )
        .unwrap();
        // Spec §6.5.
        assert!((b.cpr(0, Some(Scenario::ParallelUp)) - 0.08).abs() < 1e-15);
        assert!((b.cpr(0, Some(Scenario::ParallelDown)) - 0.12).abs() < 1e-15);
        assert_eq!(b.cpr(0, Some(Scenario::ShortDown)), 0.0);
        assert_eq!(b.cpr(0, None), 0.10);
        assert!((b.tdrr(0, Some(Scenario::Flattener)) - 0.06).abs() < 1e-15);
        assert!((b.tdrr(0, Some(Scenario::Steepener)) - 0.04).abs() < 1e-15);
        assert_eq!(b.core_share(0, None), 0.9);
        let deposit: ContractTerms = serde_json::from_str(
            r#"{"contractType":"UMP","contractID":"d","contractRole":"RPL","currency":"EUR"}"#,
        )
        .unwrap();
        assert_eq!(b.treatment(&deposit), Treatment::Nmd(0));
        let td: ContractTerms = serde_json::from_str(
            r#"{"contractType":"PAM","contractID":"t","contractRole":"RPL","currency":"EUR"}"#,
        )
        .unwrap();
        assert_eq!(b.treatment(&td), Treatment::Redeem(0));
        let frn: ContractTerms = serde_json::from_str(
            r#"{"contractType":"ANN","contractID":"f","contractRole":"RPA","currency":"EUR",
            "cycleOfRateReset":"P1YL1"}"#,
        )
        .unwrap();
        assert_eq!(b.treatment(&frn), Treatment::Contractual);
    }

    /// Scenario names the run does not have are reported, not refused: one assumption set
    /// serves runs with different scenario sets.
    #[test]
    fn names_unknown_scenarios() {
        let b = Behaviour::from_toml("[scenarios.parallel_sideways]\nnmd = false").unwrap();
        assert_eq!(
            b.unknown_scenarios(&["base", "parallel_up"]),
            vec!["parallel_sideways".to_string()]
        );
        assert!(b.unknown_scenarios(&["parallel_sideways"]).is_empty());
        // A scenario set's own multiplier overrides the standard one; none means 1.
        let p = Behaviour::from_toml("[prepayment.all]\ncpr = 0.10").unwrap();
        assert!((p.cpr_in(0, "slow", None, Some(0.5)) - 0.05).abs() < 1e-15);
        assert!((p.cpr_in(0, "user", None, None) - 0.10).abs() < 1e-15);
        let up = Some(Scenario::ParallelUp);
        assert!((p.cpr_in(0, "irrbb_up", up, None) - 0.08).abs() < 1e-15);
        assert!((p.cpr_in(0, "irrbb_up", up, Some(2.0)) - 0.20).abs() < 1e-15);
    }

    /// EU materiality: under 5 % of the assets the prepayment rule is switched off and said
    /// so; at or over it, kept.
    #[test]
    fn eu_materiality_switches_small_books_off() {
        let b = Behaviour::from_toml(
            "[prepayment.all]\ncpr = 0.1\neu_materiality = true\n\
             [early_redemption.all]\ntdrr = 0.05\n",
        )
        .unwrap();
        let c = |id: &str, t: &str, role: &str, n: f64| -> ContractTerms {
            serde_json::from_str(&format!(
                r#"{{"contractType":"{t}","contractID":"{id}","contractRole":"{role}","notionalPrincipal":{n}}}"#
            ))
            .unwrap()
        };
        let small = vec![
            c("m", "ANN", "RPA", 4.0),
            c("b", "PAM", "RPA", 96.0),
            c("d", "PAM", "RPL", 50.0),
        ];
        let (out, notes) = b.with_eu_materiality(&small);
        assert_eq!(out.cpr(0, None), 0.0);
        assert_eq!(
            out.tdrr(0, None),
            0.05,
            "early redemption did not ask for the test"
        );
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("4.00 %"), "{notes:?}");
        let big = vec![c("m", "ANN", "RPA", 5.0), c("b", "PAM", "RPA", 95.0)];
        let (out, notes) = b.with_eu_materiality(&big);
        assert_eq!(out.cpr(0, None), 0.1);
        assert!(notes.is_empty());
    }

    #[test]
    fn refuses_bad_sets() {
        for (text, needle) in [
            ("[prepayment.m]\ncpr = 1.5", "between 0 and 1"),
            (
                "[scenarios.\"Parallel Up\"]\nnmd = false",
                "not a scenario name",
            ),
            (
                "[nmd.w]\ncategory = \"wholesale\"\ncore_share = 0.5\nprofile = [[5.0, 1.0]]",
                "exceeds the cap",
            ),
            (
                "[nmd.w]\ncategory = \"wholesale\"\ncore_share = 0.5\nprofile = [[1.0, 0.5]]",
                "sum to 1",
            ),
            ("[prepayment.m]\ncpr = 0.1\nspeed = 2", "unknown field"),
        ] {
            let e = Behaviour::from_toml(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    /// Margin rules: a number or the contract's own rate spread, first match in name order,
    /// under `[behaviour]` too; they change no behaviour.
    #[test]
    fn margin_rules() {
        let text = r#"
            [behaviour.margins.a_floaters]
            spread = "rate_spread"
            select = { id_prefixes = ["FRN"] }
            [behaviour.margins.b_loans]
            spread = 0.012
            select = { roles = ["RPA"] }
            [behaviour.margins.c_deposits]
            spread = -0.02
            [behaviour.margins.d_zero]
            spread = 0
        "#;
        let b = Behaviour::from_assumptions_toml(text).unwrap();
        assert!(b.is_empty());
        assert_eq!(b.margins.rules.len(), 4);
        let c = |json: &str| -> ContractTerms { serde_json::from_str(json).unwrap() };
        let frn = c(
            r#"{"contractType":"PAM","contractID":"FRN1","contractRole":"RPA","rateSpread":0.0075}"#,
        );
        let loan = c(r#"{"contractType":"ANN","contractID":"L1","contractRole":"RPA"}"#);
        let dep = c(r#"{"contractType":"UMP","contractID":"D1","contractRole":"RPL"}"#);
        assert_eq!(b.margins.spread(&frn), Some(0.0075));
        assert_eq!(b.margins.spread(&loan), Some(0.012));
        assert_eq!(b.margins.spread(&dep), Some(-0.02));
        assert_eq!(b.margins.rules["d_zero"].spread, Spread::Fixed(0.0));
        let only_loans =
            Behaviour::from_toml("[margins.l]\nspread = 0.01\nselect = { roles = [\"RPA\"] }")
                .unwrap();
        assert_eq!(only_loans.margins.spread(&dep), None);
        // A floater without a rate spread has none to strip.
        let bare = c(r#"{"contractType":"PAM","contractID":"FRN2","contractRole":"RPA"}"#);
        assert_eq!(b.margins.spread(&bare), Some(0.0));
        for (text, needle) in [
            ("[margins.m]\nspread = 1.5", "margins.m.spread = 1.5"),
            ("[margins.m]\nspread = -1.0", "between -1 and 1"),
            ("[margins.m]\nspread = nan", "margins.m.spread = NaN"),
            ("[margins.m]\nspread = \"libor\"", "rate_spread"),
            ("[margins.m]\nspread = 0.01\nmargin = 2", "unknown field"),
            (
                "[margins.m]\nselect = { roles = [\"RPA\"] }",
                "missing field `spread`",
            ),
        ] {
            let e = Behaviour::from_toml(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
