//! One balance sheet: positions held once, as of a date, each with its ACTUS contract terms
//! (for cash flows) and the ALM attributes every function needs (for classification in
//! IRRBB, liquidity, FTP and reporting). Field-by-field documentation with units and codes:
//! `docs/data-model.md`.
//!
//! Conventions: amounts are in the position's currency, in units (not cents); rates are
//! decimals; the direction of a contract comes from its ACTUS `contractRole` (RPA asset, RPL
//! liability); non-contract items (fixed assets, provisions, equity) carry an explicit side.
#![deny(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;

use almanac_actus::{ContractRole, ContractTerms, ContractType};
use almanac_time::Date;
use serde::{Deserialize, Serialize};

/// Where an item sits on the balance sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// An asset.
    Asset,
    /// A liability.
    Liability,
    /// Equity (own funds).
    Equity,
    /// Off balance sheet: derivatives' notionals, undrawn commitments, guarantees.
    OffBalance,
}

/// Regulatory book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Book {
    /// The banking book (IRRBB scope).
    #[default]
    Banking,
    /// The trading book.
    Trading,
}

/// IFRS 9 accounting classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Accounting {
    /// Amortised cost.
    AmortisedCost,
    /// Fair value through other comprehensive income.
    Fvoci,
    /// Fair value through profit or loss.
    Fvpl,
}

/// Counterparty type, as the LCR and NSFR classify counterparties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterpartyType {
    /// Natural persons.
    Retail,
    /// Small and medium-sized enterprises.
    Sme,
    /// Non-financial corporates.
    NonFinancialCorporate,
    /// Sovereigns, central banks and public-sector entities.
    SovereignCentralBankPse,
    /// Credit institutions.
    CreditInstitution,
    /// Other financial customers.
    OtherFinancial,
}

/// HQLA level of a security (LCR Delegated Regulation Arts 10–12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HqlaLevel {
    /// Level 1.
    L1,
    /// Level 2A.
    L2a,
    /// Level 2B.
    L2b,
    /// Not HQLA.
    None,
}

/// Deposit attributes that drive LCR outflow and NSFR ASF factors.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositAttributes {
    /// Covered by a deposit guarantee scheme.
    #[serde(default)]
    pub insured: bool,
    /// The covered amount, when only part is insured (units).
    pub insured_amount: Option<f64>,
    /// Established relationship making withdrawal unlikely (LCR Art 24(2)).
    #[serde(default)]
    pub stable_relationship: bool,
    /// Held in a transactional account, e.g. salaries paid in (LCR Art 24(3)).
    #[serde(default)]
    pub transactional: bool,
    /// Operational deposit (clearing, custody, cash management; LCR Art 27).
    #[serde(default)]
    pub operational: bool,
    /// A term deposit the depositor has no legal right to withdraw before maturity, or only
    /// with a significant penalty (LCR40.16): beyond 30 days it does not run off in the LCR.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_early_withdrawal: bool,
}

/// Encumbrance of an asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encumbrance {
    /// Encumbered amount (units).
    pub amount: f64,
    /// To whom or what (e.g. `covered_bond`, `repo`, `central_bank`).
    pub to: String,
    /// Until when, if known.
    pub until: Option<Date>,
}

/// The ALM attributes of a position.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// Legal entity holding the position.
    #[serde(default)]
    pub legal_entity: String,
    /// Business line (for FTP margin split and reporting).
    pub business_line: Option<String>,
    /// Product code of the bank.
    pub product: Option<String>,
    /// Regulatory book.
    #[serde(default)]
    pub book: Book,
    /// Accounting classification.
    pub accounting: Option<Accounting>,
    /// Counterparty identifier.
    pub counterparty_id: Option<String>,
    /// Counterparty type.
    pub counterparty_type: Option<CounterpartyType>,
    /// Deposit attributes (deposits only).
    pub deposit: Option<DepositAttributes>,
    /// HQLA level (securities held).
    pub hqla_level: Option<HqlaLevel>,
    /// Asset class of a security (e.g. `sovereign`, `covered_bond`, `corporate_bond`).
    pub asset_class: Option<String>,
    /// Encumbrance.
    pub encumbrance: Option<Encumbrance>,
    /// Identifiers of collateral positions securing this one.
    #[serde(default)]
    pub collateral: Vec<String>,
    /// Behavioural model references by kind (e.g. `prepayment = "cpr_mortgages"`).
    #[serde(default)]
    pub behaviour: BTreeMap<String, String>,
    /// Free user dimensions for reporting hierarchies (e.g. `region = "north"`).
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// HQLA level of the collateral securing this contract (repos, reverse repos, secured
    /// loans): what the LCR's secured funding and reverse repo rates depend on. When absent
    /// the collateral positions named in `collateral` tell, if any.
    #[serde(default)]
    pub collateral_hqla_level: Option<HqlaLevel>,
    /// Standardised-approach risk weight (decimal, e.g. 0.35): the NSFR's 65 % / 85 % split of
    /// performing loans of a year or more (NSF30.30–30.31).
    #[serde(default)]
    pub risk_weight: Option<f64>,
    /// A credit or liquidity facility the bank has granted: on an off-balance non-interest item
    /// whose amount is the undrawn part.
    #[serde(default)]
    pub facility: Option<Facility>,
    /// Collateral the bank must post if its credit rating falls by up to three notches (units
    /// of the position's currency, positive): derivatives' and financing contracts' downgrade
    /// triggers (LCR outflow at 100 %; called in liquidity stresses).
    #[serde(default)]
    pub downgrade_collateral: Option<f64>,
    /// Eligible as collateral at the central bank without being HQLA (securities, or credit
    /// claims): part of the counterbalancing capacity at market value less
    /// `central_bank_haircut`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub central_bank_eligible: bool,
    /// The central bank's haircut on it (decimal, e.g. 0.12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub central_bank_haircut: Option<f64>,
}

/// A facility granted by the bank (LCR40.59–40.64; NSF30.33), or received by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    /// Credit or liquidity facility (LCR40.61: a liquidity facility backs the customer's debt
    /// coming due).
    pub kind: FacilityKind,
    /// Committed (irrevocable or conditionally revocable); an uncommitted facility is other
    /// contingent funding.
    #[serde(default = "committed_by_default")]
    pub committed: bool,
    /// A facility the bank has received (a line it may draw), not granted: counterbalancing
    /// capacity when committed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub received: bool,
}

fn committed_by_default() -> bool {
    true
}

/// Credit or liquidity facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// A credit facility.
    Credit,
    /// A liquidity facility.
    Liquidity,
}

/// A balance-sheet item without contractual cash flows: fixed assets, provisions, equity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonInterestItem {
    /// Identifier.
    pub id: String,
    /// Asset, liability or equity.
    pub side: Side,
    /// Carrying amount (units, positive).
    pub amount: f64,
    /// ISO 4217 currency.
    pub currency: String,
}

/// What a position is: a contract with ACTUS terms, or a non-interest item.
#[derive(Debug, Clone, PartialEq)]
pub enum Instrument {
    /// A financial contract.
    Contract(Box<ContractTerms>),
    /// A non-interest item.
    NonInterest(NonInterestItem),
}

/// One position of the balance sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// Source row (1-based data row of the input tape) for traceability.
    pub row: u64,
    /// The instrument.
    pub instrument: Instrument,
    /// ALM attributes.
    pub attributes: Attributes,
}

/// Serialised form of a position (what the store keeps).
#[derive(Serialize, Deserialize)]
struct StoredForm {
    row: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    terms: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    non_interest: Option<NonInterestItem>,
    attributes: Attributes,
}

/// [`StoredForm`] as read back: the terms checked as they are parsed.
#[derive(Deserialize)]
struct StoredFormIn {
    row: u64,
    terms: Option<almanac_actus::TermsFromJson>,
    non_interest: Option<NonInterestItem>,
    attributes: Attributes,
}

/// [`StoredForm`] as the interest-rate analytics read it back: the terms, and of the
/// attributes only the product (everything else is skipped over, unparsed).
#[derive(Deserialize)]
struct StoredContractIn {
    terms: Option<almanac_actus::TermsFromJson>,
    non_interest: Option<serde::de::IgnoredAny>,
    attributes: ProductOnly,
}

#[derive(Deserialize)]
struct ProductOnly {
    product: Option<String>,
}

/// A contract's terms and its product code (see [`contract_from_json`]).
pub type ContractAndProduct = (Box<almanac_actus::ContractTerms>, Option<String>);

/// A stored position's contract terms and product, when only those are needed (the IRRBB
/// engine reads a million of them): `Ok(None)` for a non-interest item. The JSON is checked
/// for syntax in full, but the other attributes are not parsed (their types were checked when
/// the position was stored; [`Position::from_json`] reads them all).
pub fn contract_from_json(json: &str) -> Result<Option<ContractAndProduct>, PositionError> {
    let f: StoredContractIn =
        serde_json::from_str(json).map_err(|e| PositionError(e.to_string()))?;
    match (f.terms, f.non_interest) {
        (Some(almanac_actus::TermsFromJson(terms)), None) => Ok(Some((
            terms.map_err(|e| PositionError(e.to_string()))?,
            f.attributes.product,
        ))),
        (None, Some(_)) => Ok(None),
        _ => Err(PositionError(
            "neither contract terms nor a non-interest item".into(),
        )),
    }
}

/// A stored position's compact form ([`Position::compact_form`]) read back: the contract
/// terms and product, as [`contract_from_json`] reads them from the JSON; `Ok(None)` for a
/// non-interest item. An error means the form is damaged or of another build: readers compare
/// the version recorded with the forms to [`COMPACT_FORM_VERSION`] first and read the JSON for
/// forms of another build.
pub fn contract_from_compact(form: &[u8]) -> Result<Option<ContractAndProduct>, PositionError> {
    match compact_parts(form)? {
        None => Ok(None),
        Some((product, terms)) => {
            let terms =
                ContractTerms::read_compact(terms).map_err(|e| PositionError(e.to_string()))?;
            Ok(Some((terms, product.map(str::to_owned))))
        }
    }
}

/// A contract's compact form taken apart ([`compact_parts`]): its product and the terms' own
/// form.
pub type CompactParts<'f> = (Option<&'f str>, &'f [u8]);

/// A stored position's compact form ([`Position::compact_form`]) taken apart without reading
/// its terms: `Ok(None)` for a non-interest item, else the product and the terms' own form,
/// for [`ContractTerms::read_compact`] or [`ContractTerms::read_compact_into`] (which a
/// reader may call later, on another thread). An error means the position's part of the form
/// is damaged; the terms' part is checked only when it is read.
pub fn compact_parts(form: &[u8]) -> Result<Option<CompactParts<'_>>, PositionError> {
    let bad = |why: &str| PositionError(format!("compact form: {why}"));
    match form.split_first() {
        Some((&FORM_NON_INTEREST, [])) => Ok(None),
        Some((&FORM_CONTRACT, rest)) => match rest.split_first() {
            Some((0, terms)) => Ok(Some((None, terms))),
            Some((1, rest)) => {
                let (len, rest) = rest
                    .split_first_chunk::<4>()
                    .ok_or_else(|| bad("truncated product"))?;
                let len = usize::try_from(u32::from_le_bytes(*len))
                    .map_err(|_| bad("product too long"))?;
                if rest.len() < len {
                    return Err(bad("truncated product"));
                }
                let (text, terms) = rest.split_at(len);
                let text = std::str::from_utf8(text).map_err(|_| bad("product not UTF-8"))?;
                Ok(Some((Some(text), terms)))
            }
            _ => Err(bad("bad product flag")),
        },
        _ => Err(bad("unknown kind")),
    }
}

/// Names the compact form this build writes and reads ([`Position::compact_form`]): its own
/// version, the terms' format and their layout fingerprint
/// ([`ContractTerms::COMPACT_LAYOUT`]). A reader given forms written under another value reads
/// the JSON instead.
pub const COMPACT_FORM_VERSION: u64 = (FORM_VERSION << 40)
    | ((almanac_actus::COMPACT_FORMAT as u64) << 32)
    | ContractTerms::COMPACT_LAYOUT as u64;

/// The version of the position's own part of the form (kind byte, product).
const FORM_VERSION: u64 = 1;

/// The first byte of a compact form: what follows.
const FORM_NON_INTEREST: u8 = 0;
const FORM_CONTRACT: u8 = 1;

/// A position that cannot be read back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("position: {0}")]
pub struct PositionError(pub String);

impl Position {
    /// The position's identifier (`contractID` or the item id).
    pub fn id(&self) -> &str {
        match &self.instrument {
            Instrument::Contract(t) => t.id(),
            Instrument::NonInterest(n) => &n.id,
        }
    }

    /// The currency.
    pub fn currency(&self) -> &str {
        match &self.instrument {
            Instrument::Contract(t) => t.currency.as_deref().unwrap_or(""),
            Instrument::NonInterest(n) => &n.currency,
        }
    }

    /// Side of the balance sheet: from the item, or from the contract's type and role
    /// (derivatives, forward-starting contracts and guarantees are off balance).
    pub fn side(&self, as_of: Date) -> Side {
        match &self.instrument {
            Instrument::NonInterest(n) => n.side,
            Instrument::Contract(t) => {
                use ContractType::*;
                let ty = t.contract_type;
                if matches!(
                    ty,
                    Some(Swppv | Swaps | Capfl | Fxout | Optns | Futur | Ceg | Cec | Bcs)
                ) {
                    return Side::OffBalance;
                }
                if t.initial_exchange_date.is_some_and(|d| d.date() > as_of) {
                    return Side::OffBalance;
                }
                match t.contract_role.map(ContractRole::sign) {
                    Some(s) if s < 0.0 => Side::Liability,
                    _ => Side::Asset,
                }
            }
        }
    }

    /// Carrying amount on the as-of date (units, positive): the notional (plus accrued
    /// interest given in the terms) of on-balance contracts, the amount of non-interest items,
    /// 0 off balance.
    pub fn balance(&self, as_of: Date) -> f64 {
        if self.side(as_of) == Side::OffBalance {
            return 0.0;
        }
        match &self.instrument {
            Instrument::NonInterest(n) => n.amount,
            Instrument::Contract(t) => {
                t.notional_principal.unwrap_or(0.0) + t.accrued_interest.unwrap_or(0.0)
            }
        }
    }

    /// JSON for the store.
    pub fn to_json(&self) -> String {
        let (terms, non_interest) = match &self.instrument {
            Instrument::Contract(t) => (serde_json::to_value(t).ok(), None),
            Instrument::NonInterest(n) => (None, Some(n.clone())),
        };
        serde_json::to_string(&StoredForm {
            row: self.row,
            terms,
            non_interest,
            attributes: self.attributes.clone(),
        })
        .unwrap_or_default()
    }

    /// What the interest-rate analytics read of this position, in a compact binary form a
    /// store can keep beside the JSON (read back by [`contract_from_compact`], the same as
    /// [`contract_from_json`] gives): for a contract its product and terms
    /// ([`ContractTerms::write_compact`]), for a non-interest item one byte. `None` for a
    /// contract whose terms have no compact form (a `contractStructure`, or terms Almanac
    /// does not interpret): it is read from its JSON.
    pub fn compact_form(&self) -> Option<Vec<u8>> {
        match &self.instrument {
            Instrument::NonInterest(_) => Some(vec![FORM_NON_INTEREST]),
            Instrument::Contract(t) => {
                let mut out = Vec::with_capacity(192);
                out.push(FORM_CONTRACT);
                match &self.attributes.product {
                    None => out.push(0),
                    Some(p) => {
                        out.push(1);
                        out.extend_from_slice(&u32::try_from(p.len()).ok()?.to_le_bytes());
                        out.extend_from_slice(p.as_bytes());
                    }
                }
                t.write_compact(&mut out).then_some(out)
            }
        }
    }

    /// Reads a position from its stored JSON (contract terms re-validated).
    pub fn from_json(json: &str) -> Result<Position, PositionError> {
        let f: StoredFormIn =
            serde_json::from_str(json).map_err(|e| PositionError(e.to_string()))?;
        let instrument = match (f.terms, f.non_interest) {
            (Some(almanac_actus::TermsFromJson(terms)), None) => {
                Instrument::Contract(terms.map_err(|e| PositionError(e.to_string()))?)
            }
            (None, Some(n)) => Instrument::NonInterest(n),
            _ => {
                return Err(PositionError(
                    "neither contract terms nor a non-interest item".into(),
                ))
            }
        };
        Ok(Position {
            row: f.row,
            instrument,
            attributes: f.attributes,
        })
    }
}

/// Totals of one currency: what the balance sheet holds on each side.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// Sum of assets (units).
    pub assets: f64,
    /// Sum of liabilities (units).
    pub liabilities: f64,
    /// Sum of equity (units).
    pub equity: f64,
    /// Number of off-balance positions.
    pub off_balance: usize,
}

impl Totals {
    /// Assets − liabilities − equity: zero for a balanced sheet.
    pub fn imbalance(&self) -> f64 {
        self.assets - self.liabilities - self.equity
    }
}

/// Totals per currency of a set of positions as of a date.
pub fn totals(positions: &[Position], as_of: Date) -> BTreeMap<String, Totals> {
    let mut out: BTreeMap<String, Totals> = BTreeMap::new();
    for p in positions {
        let t = out.entry(p.currency().to_string()).or_default();
        let b = p.balance(as_of);
        match p.side(as_of) {
            Side::Asset => t.assets += b,
            Side::Liability => t.liabilities += b,
            Side::Equity => t.equity += b,
            Side::OffBalance => t.off_balance += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(json: &str) -> Position {
        Position {
            row: 1,
            instrument: Instrument::Contract(Box::new(serde_json::from_str(json).unwrap())),
            attributes: Attributes {
                legal_entity: "BANK".into(),
                counterparty_type: Some(CounterpartyType::Retail),
                deposit: Some(DepositAttributes {
                    insured: true,
                    ..DepositAttributes::default()
                }),
                ..Attributes::default()
            },
        }
    }

    /// An equity item (row 2, 1 EUR).
    fn equity() -> Position {
        Position {
            row: 2,
            instrument: Instrument::NonInterest(NonInterestItem {
                id: "EQ".into(),
                side: Side::Equity,
                amount: 1.0,
                currency: "EUR".into(),
            }),
            attributes: Attributes::default(),
        }
    }

    #[test]
    fn sides_balances_and_round_trip() {
        let as_of = Date::ymd(2025, 12, 31);
        let loan = contract(
            r#"{"contractType":"PAM","contractID":"L1","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2030-01-01",
            "notionalPrincipal":1000,"nominalInterestRate":0.03}"#,
        );
        let dep = contract(
            r#"{"contractType":"PAM","contractID":"D1","contractRole":"RPL","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2026-01-01",
            "notionalPrincipal":700,"nominalInterestRate":0.01}"#,
        );
        let swap = contract(
            r#"{"contractType":"SWPPV","contractID":"S1","contractRole":"PF","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2030-01-01",
            "notionalPrincipal":500,"nominalInterestRate":0.02,"nominalInterestRate2":0.01}"#,
        );
        let equity = Position {
            row: 4,
            instrument: Instrument::NonInterest(NonInterestItem {
                id: "EQ".into(),
                side: Side::Equity,
                amount: 300.0,
                currency: "EUR".into(),
            }),
            attributes: Attributes::default(),
        };
        assert_eq!(loan.side(as_of), Side::Asset);
        assert_eq!(dep.side(as_of), Side::Liability);
        assert_eq!(swap.side(as_of), Side::OffBalance);
        let all = vec![loan.clone(), dep, swap, equity.clone()];
        let t = totals(&all, as_of)["EUR"];
        assert_eq!(
            (t.assets, t.liabilities, t.equity, t.off_balance),
            (1000.0, 700.0, 300.0, 1)
        );
        assert_eq!(t.imbalance(), 0.0);
        for p in [loan, equity] {
            assert_eq!(Position::from_json(&p.to_json()).unwrap(), p);
        }
    }

    #[test]
    fn the_contract_reader_gives_the_terms_and_product_of_the_full_reader() {
        let mut loan = contract(
            r#"{"contractType":"ANN","contractID":"M1","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2045-01-01",
            "notionalPrincipal":250000,"nominalInterestRate":0.031,
            "cycleOfPrincipalRedemption":"P1ML1","cycleOfInterestPayment":"P1ML1"}"#,
        );
        loan.attributes.product = Some("MORT_FIX".into());
        loan.attributes
            .dimensions
            .insert("region".into(), "east".into());
        let json = loan.to_json();
        let full = Position::from_json(&json).unwrap();
        let Instrument::Contract(terms) = full.instrument else {
            panic!("a contract")
        };
        let (lean, product) = contract_from_json(&json).unwrap().unwrap();
        assert_eq!(lean, terms);
        assert_eq!(product.as_deref(), Some("MORT_FIX"));
        let equity = equity();
        assert!(contract_from_json(&equity.to_json()).unwrap().is_none());
        // Bad terms, a broken document and a position of neither kind are errors.
        let bad = json.replace("\"P1ML1\"", "\"monthly\"");
        assert!(contract_from_json(&bad).unwrap_err().0.contains("monthly"));
        assert!(contract_from_json(&json[..json.len() - 3]).is_err());
        assert!(contract_from_json(r#"{"row":1,"attributes":{}}"#)
            .unwrap_err()
            .0
            .contains("neither"));
    }

    #[test]
    fn the_compact_form_reads_as_the_json_does() {
        let mut loan = contract(
            r#"{"contractType":"ANN","contractID":"M1","contractRole":"RPA","currency":"EUR",
            "statusDate":"2025-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2045-01-01",
            "notionalPrincipal":250000.37,"nominalInterestRate":0.031,"lifeCap":0.045,
            "cycleOfPrincipalRedemption":"P1ML1","cycleOfInterestPayment":"P1ML1",
            "cycleOfRateReset":"P5YL1","marketObjectCodeOfRateReset":"EURSWAP5Y"}"#,
        );
        let without_product = loan.clone();
        loan.attributes.product = Some("MORT_RESET".into());
        let equity = equity();
        for p in [&loan, &without_product, &equity] {
            let form = p
                .compact_form()
                .expect("plain positions have a compact form");
            assert_eq!(
                contract_from_compact(&form).unwrap(),
                contract_from_json(&p.to_json()).unwrap(),
                "{}",
                p.id()
            );
        }
        assert_eq!(equity.compact_form(), Some(vec![FORM_NON_INTEREST]));
        // Terms Almanac does not interpret: no compact form, the JSON is read.
        let mut odd = loan.clone();
        if let Instrument::Contract(t) = &mut odd.instrument {
            t.extra.insert("notionalRate".into(), serde_json::json!(1));
        }
        assert_eq!(odd.compact_form(), None);
        // Every cut of a form, and other kinds, are errors, never a wrong contract.
        let form = loan.compact_form().unwrap();
        let whole = contract_from_compact(&form).unwrap();
        for n in 0..form.len() {
            if let Ok(r) = contract_from_compact(&form[..n]) {
                // A cut between two terms is a form of fewer terms.
                assert_ne!(r, whole);
                assert!(n > 20, "only cuts after the header and product read");
            }
        }
        assert!(contract_from_compact(&[]).is_err());
        assert!(contract_from_compact(&[7]).is_err());
        assert!(contract_from_compact(&[FORM_NON_INTEREST, 0]).is_err());
        assert!(contract_from_compact(&[FORM_CONTRACT, 2]).is_err());
    }
}
