//! Liquidity factor tables: LCR HQLA factors, run-off and inflow rates, caps; NSFR available and
//! required stable funding factors — one table per regime, held as configuration (TOML), each
//! factor with its source and verification status.
//!
//! The built-in tables are `basel.toml` and `eu.toml` (the EU table inherits Basel's and lists
//! what differs); a user table is the same TOML, optionally with `inherits = "basel"` or
//! `"eu"`. Factors are decimals in `[0, 1]`: an HQLA factor is `1 − haircut`, a rate applies to
//! the balance or amount the line carries.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The regimes with a built-in factor table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// Basel Framework (LCR30, LCR40, NSF30).
    Basel,
    /// EU: LCR Delegated Regulation 2015/61 and the CRR NSFR articles.
    Eu,
    /// US: 12 CFR 249 (LCR and NSFR).
    Us,
}

impl std::str::FromStr for Regime {
    type Err = FactorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "basel" => Ok(Regime::Basel),
            "eu" => Ok(Regime::Eu),
            "us" => Ok(Regime::Us),
            other => Err(FactorError(format!(
                "unknown liquidity regime {other:?} (basel, eu or us)"
            ))),
        }
    }
}

/// How sure we are of a factor (the specification's legend, `regulatory-metrics.md` §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Status {
    /// Checked against the primary text.
    P,
    /// Checked against a secondary source only.
    S,
    /// Unverified: to be confirmed before it is relied on.
    U,
}

/// One factor: its value (decimal), where it comes from and how sure we are of it.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    /// The factor, a decimal in `[0, 1]`.
    pub factor: f64,
    /// The paragraph or article it comes from.
    pub source: String,
    /// Verification status.
    pub status: Status,
    /// What the category holds, in words.
    #[serde(default)]
    pub label: String,
}

/// The HQLA level a category counts in for the caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Level 1 other than covered bonds.
    L1,
    /// Level 1 extremely high quality covered bonds (EU).
    L1Ehqcb,
    /// Level 2A.
    L2a,
    /// Level 2B.
    L2b,
}

/// An HQLA category: its level and its factor (`1 − haircut`).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct HqlaFactor {
    /// The level it counts in.
    pub level: Level,
    /// The factor.
    #[serde(flatten)]
    pub factor: Factor,
}

/// How the caps on Level 2 assets are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapMethod {
    /// The Basel adjustments for the 15 % and 40 % caps (LCR30.35–30.36; spec §2.3).
    Basel,
    /// The EU Annex I formula, which also floors Level 1 without covered bonds.
    EuAnnexI,
}

/// The LCR caps.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Caps {
    /// How they are applied.
    pub method: CapMethod,
    /// Level 2 (2A + 2B) at most this share of the stock.
    pub level2: Factor,
    /// Level 2B at most this share of the stock.
    pub level2b: Factor,
    /// Inflows at most this share of outflows.
    pub inflows: Factor,
    /// Level 1 other than covered bonds at least this share of the stock (EU).
    pub level1_non_covered: Option<Factor>,
    /// Whether the caps are computed after unwinding the secured transactions maturing within
    /// 30 days (LCR30.34; EU Art 17(2)); `unwind = false` in a table takes the stock as held.
    pub unwind: bool,
    /// The US maturity-mismatch add-on (12 CFR 249.30(b)): net cash outflows grow by the peak
    /// of the cumulative weighted maturity outflows within 30 days over their day-30 value.
    pub maturity_mismatch_addon: bool,
    /// The share of net cash outflows that counts (12 CFR 249.30(c): 100 % for Category I–III
    /// banks, 85 % or 70 % for the reduced LCR); 1 elsewhere.
    pub outflow_adjustment: Factor,
}

/// A regime's liquidity factors.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorTable {
    /// The regime's name, e.g. `basel`.
    pub regime: String,
    /// What the table implements.
    pub title: String,
    /// LCR caps.
    pub caps: Caps,
    /// HQLA categories.
    pub hqla: BTreeMap<String, HqlaFactor>,
    /// Run-off rates by outflow category.
    pub outflow: BTreeMap<String, Factor>,
    /// Rates by inflow category.
    pub inflow: BTreeMap<String, Factor>,
    /// ASF factors by category.
    pub asf: BTreeMap<String, Factor>,
    /// RSF factors by category.
    pub rsf: BTreeMap<String, Factor>,
}

/// A factor table that cannot be read, or a category it lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("liquidity factors: {0}")]
pub struct FactorError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    regime: String,
    #[serde(default)]
    title: String,
    inherits: Option<String>,
    #[serde(default)]
    lcr: RawLcr,
    #[serde(default)]
    nsfr: RawNsfr,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLcr {
    #[serde(default)]
    caps: RawCaps,
    #[serde(default)]
    hqla: BTreeMap<String, HqlaFactor>,
    #[serde(default)]
    outflow: BTreeMap<String, Factor>,
    #[serde(default)]
    inflow: BTreeMap<String, Factor>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCaps {
    method: Option<CapMethod>,
    level2: Option<Factor>,
    level2b: Option<Factor>,
    inflows: Option<Factor>,
    level1_non_covered: Option<Factor>,
    unwind: Option<bool>,
    maturity_mismatch_addon: Option<bool>,
    outflow_adjustment: Option<Factor>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNsfr {
    #[serde(default)]
    asf: BTreeMap<String, Factor>,
    #[serde(default)]
    rsf: BTreeMap<String, Factor>,
}

const BASEL: &str = include_str!("basel.toml");
const EU: &str = include_str!("eu.toml");
const US: &str = include_str!("us.toml");

impl FactorTable {
    /// The built-in table of `regime`.
    pub fn builtin(regime: Regime) -> FactorTable {
        let table = match regime {
            Regime::Basel => Self::from_toml(BASEL, None),
            Regime::Eu => Self::from_toml(EU, Some(&Self::builtin(Regime::Basel))),
            Regime::Us => Self::from_toml(US, Some(&Self::builtin(Regime::Basel))),
        };
        // The built-in tables are tested to read (see the tests below).
        table.unwrap_or_else(|e| unreachable!("built-in liquidity table: {e}"))
    }

    /// A table from TOML text. With `inherits = "basel"` or `"eu"` the text lists what differs
    /// from that built-in table; `base` is used instead when given.
    ///
    /// # Errors
    /// Malformed TOML, an unknown field, a factor outside `[0, 1]`, a missing cap (naming the
    /// section, category and field).
    pub fn from_toml(text: &str, base: Option<&FactorTable>) -> Result<FactorTable, FactorError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| FactorError(e.to_string()))?;
        let inherited = match (&raw.inherits, base) {
            (_, Some(b)) => Some(b.clone()),
            (Some(name), None) => Some(Self::builtin(name.parse()?)),
            (None, None) => None,
        };
        let caps = |name: &str, own: Option<Factor>, from: Option<&Factor>| {
            own.or_else(|| from.cloned())
                .ok_or_else(|| FactorError(format!("[lcr.caps] has no {name}")))
        };
        let b = inherited.as_ref();
        let table = FactorTable {
            regime: raw.regime,
            title: raw.title,
            caps: Caps {
                method: raw
                    .lcr
                    .caps
                    .method
                    .or(b.map(|b| b.caps.method))
                    .unwrap_or(CapMethod::Basel),
                level2: caps("level2", raw.lcr.caps.level2, b.map(|b| &b.caps.level2))?,
                level2b: caps("level2b", raw.lcr.caps.level2b, b.map(|b| &b.caps.level2b))?,
                inflows: caps("inflows", raw.lcr.caps.inflows, b.map(|b| &b.caps.inflows))?,
                level1_non_covered: raw
                    .lcr
                    .caps
                    .level1_non_covered
                    .or_else(|| b.and_then(|b| b.caps.level1_non_covered.clone())),
                unwind: raw
                    .lcr
                    .caps
                    .unwind
                    .or(b.map(|b| b.caps.unwind))
                    .unwrap_or(true),
                maturity_mismatch_addon: raw
                    .lcr
                    .caps
                    .maturity_mismatch_addon
                    .or(b.map(|b| b.caps.maturity_mismatch_addon))
                    .unwrap_or(false),
                outflow_adjustment: raw
                    .lcr
                    .caps
                    .outflow_adjustment
                    .or_else(|| b.map(|b| b.caps.outflow_adjustment.clone()))
                    .unwrap_or_else(|| Factor {
                        factor: 1.0,
                        source: "none".into(),
                        status: Status::P,
                        label: "All net cash outflows".into(),
                    }),
            },
            hqla: merged(b.map(|b| &b.hqla), raw.lcr.hqla),
            outflow: merged(b.map(|b| &b.outflow), raw.lcr.outflow),
            inflow: merged(b.map(|b| &b.inflow), raw.lcr.inflow),
            asf: merged(b.map(|b| &b.asf), raw.nsfr.asf),
            rsf: merged(b.map(|b| &b.rsf), raw.nsfr.rsf),
        };
        table.validate()?;
        Ok(table)
    }

    fn validate(&self) -> Result<(), FactorError> {
        let check = |section: &str, key: &str, f: &Factor| {
            if !(0.0..=1.0).contains(&f.factor) {
                return Err(FactorError(format!(
                    "[{section}] {key}: factor {} is outside [0, 1]",
                    f.factor
                )));
            }
            Ok(())
        };
        check("lcr.caps", "level2", &self.caps.level2)?;
        check("lcr.caps", "level2b", &self.caps.level2b)?;
        check("lcr.caps", "inflows", &self.caps.inflows)?;
        check(
            "lcr.caps",
            "outflow_adjustment",
            &self.caps.outflow_adjustment,
        )?;
        if let Some(f) = &self.caps.level1_non_covered {
            check("lcr.caps", "level1_non_covered", f)?;
        }
        if self.caps.method == CapMethod::EuAnnexI && self.caps.level1_non_covered.is_none() {
            return Err(FactorError(
                "[lcr.caps] method eu_annex_i needs level1_non_covered".into(),
            ));
        }
        for (k, f) in &self.hqla {
            check("lcr.hqla", k, &f.factor)?;
        }
        for (section, map) in [
            ("lcr.outflow", &self.outflow),
            ("lcr.inflow", &self.inflow),
            ("nsfr.asf", &self.asf),
            ("nsfr.rsf", &self.rsf),
        ] {
            for (k, f) in map {
                check(section, k, f)?;
            }
        }
        Ok(())
    }
}

/// `own` over `base`: categories of `own` replace or add to those of `base`.
fn merged<T: Clone>(
    base: Option<&BTreeMap<String, T>>,
    own: BTreeMap<String, T>,
) -> BTreeMap<String, T> {
    let mut out = base.cloned().unwrap_or_default();
    out.extend(own);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_tables_read_and_the_eu_table_changes_only_what_differs() {
        let basel = FactorTable::builtin(Regime::Basel);
        let eu = FactorTable::builtin(Regime::Eu);
        assert_eq!(basel.caps.method, CapMethod::Basel);
        assert_eq!(eu.caps.method, CapMethod::EuAnnexI);
        assert_eq!(basel.outflow["retail_stable"].factor, 0.05);
        assert_eq!(basel.rsf["l1_unencumbered"].factor, 0.05);
        assert_eq!(eu.rsf["l1_unencumbered"].factor, 0.0);
        assert_eq!(eu.hqla["l1_ehqcb"].factor.factor, 0.93);
        assert!(!basel.hqla.contains_key("l1_ehqcb"));
        let us = FactorTable::builtin(Regime::Us);
        assert_eq!(us.outflow["retail_stable"].factor, 0.03);
        assert_eq!(us.outflow["facility_bank"].factor, 0.50);
        assert_eq!(us.rsf["l1_unencumbered"].factor, 0.0);
        assert_eq!(us.inflow, basel.inflow);
        // Inherited unchanged (the EU cites its own article for downgrade triggers).
        assert_eq!(eu.outflow.len(), basel.outflow.len());
        for (k, f) in &basel.outflow {
            assert_eq!(eu.outflow[k].factor, f.factor, "{k}");
        }
        assert_eq!(eu.outflow["downgrade_triggers"].source, "LCRDR Art 30(2)");
        assert_eq!(eu.asf, basel.asf);
        assert_eq!(eu.caps.inflows, basel.caps.inflows);
        // Every built-in factor cites its source.
        for t in [&basel, &eu, &us] {
            for f in t
                .outflow
                .values()
                .chain(t.inflow.values())
                .chain(t.asf.values())
                .chain(t.rsf.values())
                .chain(t.hqla.values().map(|h| &h.factor))
            {
                assert!(!f.source.is_empty() && !f.label.is_empty(), "{f:?}");
            }
        }
    }

    #[test]
    fn a_user_table_overrides_inherits_and_is_checked() {
        let text = r#"
regime = "national"
inherits = "basel"
[lcr.outflow]
retail_stable = { factor = 0.03, source = "LCR40.11", status = "P", label = "DGS option" }
"#;
        let t = FactorTable::from_toml(text, None).unwrap();
        assert_eq!(t.outflow["retail_stable"].factor, 0.03);
        assert_eq!(t.outflow["retail_less_stable"].factor, 0.10);
        let bad = text.replace("0.03", "1.5");
        let e = FactorTable::from_toml(&bad, None).unwrap_err();
        assert!(
            e.0.contains("[lcr.outflow] retail_stable") && e.0.contains("1.5"),
            "{e}"
        );
        let e = FactorTable::from_toml("regime = \"x\"\n", None).unwrap_err();
        assert!(e.0.contains("no level2"), "{e}");
        let e = FactorTable::from_toml("regime = \"x\"\ninherits = \"uk\"\n", None).unwrap_err();
        assert!(e.0.contains("unknown liquidity regime"), "{e}");
        let e = FactorTable::from_toml("regime = \"x\"\ncolour = 1\n", None).unwrap_err();
        assert!(e.0.contains("colour"), "{e}");
    }
}
