//! The mapping file (TOML): how a bank's own tape columns and codes become positions.
//!
//! ```toml
//! [source]
//! date_format = "DD.MM.YYYY"        # YYYY-MM-DD (default), DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYYMMDD
//! delimiter = ";"                   # default ","
//!
//! [defaults]                        # applied when a row leaves the field empty
//! contractRole = "RPA"
//! legal_entity = "ALMANAC BANK AG"
//!
//! [columns]                         # target field = source column, or a table
//! contractID = "deal_id"
//! contractType = { column = "product", codes = { MORT = "ANN", TD = "PAM", EQ = "NI_EQUITY" } }
//! notionalPrincipal = { column = "balance_cents", scale = 0.01 }
//! nominalInterestRate = { column = "rate_pct", unit = "percent" }
//! rateSpread = { column = "spread", unit = "bp" }
//! maturityDate = "end_date"
//! counterparty_type = { column = "segment", codes = { PRIV = "retail", CORP = "non_financial_corporate" } }
//! "deposit.insured" = "dgs_flag"
//! "dim.region" = "region"
//! "behaviour.prepayment" = "prepay_model"
//! ```
//!
//! Targets: ACTUS term names (camelCase, as in the dictionary) go to the contract terms;
//! attribute names (snake_case, see `docs/data-model.md`) to the ALM attributes; `dim.<name>`
//! to user dimensions; `behaviour.<kind>` to behavioural model references. A `contractType`
//! of `NI_ASSET`, `NI_LIABILITY`, `NI_EQUITY` or `NI_OFF_BALANCE` (a facility's undrawn
//! amount, say) makes the row a non-interest item whose amount
//! is its `notionalPrincipal`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::IngestError;

/// How a cell's number is converted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// As written.
    AsIs,
    /// Percent to decimal (÷ 100).
    Percent,
    /// Basis points to decimal (÷ 10,000).
    BasisPoints,
    /// Multiplied by a factor (e.g. 0.01 for cents to units).
    Scale(f64),
}

/// One mapped field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Target name (ACTUS term, attribute, `dim.x`, `behaviour.x`).
    pub target: String,
    /// Source column.
    pub column: String,
    /// Code translation (source code → target code); unknown codes are errors.
    pub codes: Option<BTreeMap<String, String>>,
    /// Numeric conversion.
    pub unit: Unit,
}

/// Date layouts a tape may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `2025-12-31` (also accepts a time part).
    Iso,
    /// `31.12.2025`.
    DayDotMonth,
    /// `31/12/2025`.
    DaySlashMonth,
    /// `12/31/2025`.
    MonthSlashDay,
    /// `20251231`.
    Compact,
}

/// A parsed mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Date layout of the tape.
    pub date_format: DateFormat,
    /// CSV delimiter.
    pub delimiter: u8,
    /// Defaults by target.
    pub defaults: BTreeMap<String, String>,
    /// Mapped fields in file order.
    pub fields: Vec<Field>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    source: RawSource,
    #[serde(default)]
    defaults: BTreeMap<String, toml::Value>,
    columns: BTreeMap<String, RawField>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSource {
    date_format: Option<String>,
    delimiter: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawField {
    Column(String),
    Table {
        column: String,
        codes: Option<BTreeMap<String, String>>,
        unit: Option<String>,
        scale: Option<f64>,
    },
}

/// Attribute targets the mapping accepts (besides ACTUS terms, `dim.*` and `behaviour.*`).
pub const ATTRIBUTE_TARGETS: &[&str] = &[
    "legal_entity",
    "business_line",
    "product",
    "book",
    "accounting",
    "counterparty_id",
    "counterparty_type",
    "deposit.insured",
    "deposit.insured_amount",
    "deposit.stable_relationship",
    "deposit.transactional",
    "deposit.operational",
    "deposit.no_early_withdrawal",
    "hqla_level",
    "asset_class",
    "encumbrance.amount",
    "encumbrance.to",
    "encumbrance.until",
    "collateral",
    "collateral_hqla_level",
    "risk_weight",
    "downgrade_collateral",
    "facility.kind",
    "facility.committed",
    "facility.received",
    "central_bank_eligible",
    "central_bank_haircut",
];

/// Whether `target` names something the model holds.
fn known_target(target: &str) -> bool {
    ATTRIBUTE_TARGETS.contains(&target)
        || target.starts_with("dim.")
        || target.starts_with("behaviour.")
        || almanac_actus::ContractTerms::TERM_NAMES.contains(&target)
}

impl Mapping {
    /// Reads a mapping from TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Mapping, IngestError> {
        let err = |reason: String| IngestError::Mapping {
            file: file.to_string(),
            reason,
        };
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| almanac_market_line(text, s.start));
            err(format!("line {line}: {}", e.message()))
        })?;
        let date_format = match raw.source.date_format.as_deref().unwrap_or("YYYY-MM-DD") {
            "YYYY-MM-DD" => DateFormat::Iso,
            "DD.MM.YYYY" => DateFormat::DayDotMonth,
            "DD/MM/YYYY" => DateFormat::DaySlashMonth,
            "MM/DD/YYYY" => DateFormat::MonthSlashDay,
            "YYYYMMDD" => DateFormat::Compact,
            other => {
                return Err(err(format!(
                    "source.date_format {other:?} is not one of YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYYMMDD"
                )))
            }
        };
        let delimiter = match raw.source.delimiter.as_deref().unwrap_or(",").as_bytes() {
            [b] if b.is_ascii() => *b,
            _ => return Err(err("source.delimiter must be one ASCII character".into())),
        };
        let mut defaults = BTreeMap::new();
        for (k, v) in raw.defaults {
            if !known_target(&k) {
                return Err(err(format!("defaults.{k}: not an ACTUS term or attribute")));
            }
            let text = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            defaults.insert(k, text);
        }
        let mut fields = Vec::new();
        for (target, f) in raw.columns {
            if !known_target(&target) {
                return Err(err(format!(
                    "columns.{target}: not an ACTUS term, an attribute ({}), dim.<name> or behaviour.<kind>",
                    ATTRIBUTE_TARGETS.join(", ")
                )));
            }
            let field = match f {
                RawField::Column(column) => Field {
                    target,
                    column,
                    codes: None,
                    unit: Unit::AsIs,
                },
                RawField::Table {
                    column,
                    codes,
                    unit,
                    scale,
                } => {
                    let unit = match (unit.as_deref(), scale) {
                        (None, None) => Unit::AsIs,
                        (Some("percent"), None) => Unit::Percent,
                        (Some("bp"), None) => Unit::BasisPoints,
                        (None, Some(s)) if s.is_finite() && s != 0.0 => Unit::Scale(s),
                        _ => {
                            return Err(err(format!(
                                "columns.{target}: give unit = \"percent\" or \"bp\", or a non-zero scale, not both"
                            )))
                        }
                    };
                    Field {
                        target,
                        column,
                        codes,
                        unit,
                    }
                }
            };
            fields.push(field);
        }
        if !fields.iter().any(|f| f.target == "contractID") {
            return Err(err(
                "columns.contractID is required: every position needs an id".into(),
            ));
        }
        Ok(Mapping {
            date_format,
            delimiter,
            defaults,
            fields,
        })
    }

    /// The identity mapping for a tape whose header already names the model's fields.
    pub fn identity(header: &[String]) -> Mapping {
        Mapping {
            date_format: DateFormat::Iso,
            delimiter: b',',
            defaults: BTreeMap::new(),
            fields: header
                .iter()
                .filter(|h| known_target(h))
                .map(|h| Field {
                    target: h.clone(),
                    column: h.clone(),
                    codes: None,
                    unit: Unit::AsIs,
                })
                .collect(),
        }
    }
}

fn almanac_market_line(text: &str, offset: usize) -> usize {
    almanac_market::format::line_of(text, offset)
}

impl DateFormat {
    /// `date` written in this layout (how a typed date of a Parquet or Excel tape is shown).
    pub fn render(self, date: almanac_time::Date) -> String {
        let d = date.to_string();
        let (y, m, dd) = (&d[0..4], &d[5..7], &d[8..10]);
        match self {
            DateFormat::Iso => d.to_string(),
            DateFormat::DayDotMonth => format!("{dd}.{m}.{y}"),
            DateFormat::DaySlashMonth => format!("{dd}/{m}/{y}"),
            DateFormat::MonthSlashDay => format!("{m}/{dd}/{y}"),
            DateFormat::Compact => format!("{y}{m}{dd}"),
        }
    }

    /// The ISO date of a cell in this layout, or `None`.
    pub fn to_iso(self, cell: &str) -> Option<String> {
        let s = cell.trim();
        let (y, m, d) = match self {
            DateFormat::Iso => return Some(s.to_string()),
            DateFormat::DayDotMonth => split3(s, '.').map(|(d, m, y)| (y, m, d))?,
            DateFormat::DaySlashMonth => split3(s, '/').map(|(d, m, y)| (y, m, d))?,
            DateFormat::MonthSlashDay => split3(s, '/').map(|(m, d, y)| (y, m, d))?,
            DateFormat::Compact => {
                if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (&s[0..4], &s[4..6], &s[6..8])
            }
        };
        let num = |v: &str| v.parse::<u32>().ok();
        Some(format!("{:04}-{:02}-{:02}", num(y)?, num(m)?, num(d)?))
    }
}

fn split3(s: &str, sep: char) -> Option<(&str, &str, &str)> {
    let mut it = s.split(sep);
    let out = (it.next()?, it.next()?, it.next()?);
    it.next().is_none().then_some(out)
}
