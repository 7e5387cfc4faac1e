//! `almanac sample-bank`: a synthetic mid-sized European bank as a bank would deliver it — a
//! CSV tape in the bank's own columns and codes, the mapping file that reads it, a market
//! snapshot and default assumptions. Deterministic for a seed.
//!
//! Proportions (share of total assets by balance) follow a typical mid-sized retail-and-SME
//! bank: mortgages ~40 %, consumer, corporate and SME loans ~28 %, HQLA securities ~16 %,
//! central-bank reserves ~7 %, other assets; funded by retail and corporate deposits (~55 %),
//! term deposits, interbank and repo funding, issued covered and senior bonds, and equity as the
//! balancing item so that assets = liabilities + equity exactly. Interest-rate swaps hedge part
//! of the fixed-rate mortgage book.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use almanac_math::random::Rng;
use almanac_time::Date;
use anyhow::{Context, Result};

/// The files written.
pub(crate) struct Written {
    pub(crate) tape: PathBuf,
    pub(crate) mapping: PathBuf,
    pub(crate) market: PathBuf,
    pub(crate) assumptions: PathBuf,
}

/// As-of date of the sample bank.
pub(crate) const AS_OF: Date = Date::ymd(2025, 12, 31);

/// Product lines: (code, share of contract count, side, average balance in EUR).
const PRODUCTS: &[(&str, f64, char, f64)] = &[
    ("MORT_FIX", 0.30, 'A', 220_000.0),
    ("MORT_RESET", 0.08, 'A', 240_000.0),
    ("CONSUMER", 0.12, 'A', 18_000.0),
    ("CORP_FIX", 0.02, 'A', 4_000_000.0),
    ("CORP_FLOAT", 0.02, 'A', 5_000_000.0),
    ("SME", 0.05, 'A', 350_000.0),
    ("GOV_BOND", 0.004, 'A', 40_000_000.0),
    ("COVERED_BOND", 0.002, 'A', 25_000_000.0),
    ("CORP_BOND", 0.002, 'A', 10_000_000.0),
    ("NMD_STABLE", 0.20, 'L', 25_000.0),
    ("NMD_LESS_STABLE", 0.10, 'L', 30_000.0),
    ("CORP_OPERATIONAL", 0.01, 'L', 1_500_000.0),
    ("CORP_NONOP", 0.01, 'L', 2_000_000.0),
    ("TERM_DEPOSIT", 0.08, 'L', 60_000.0),
    ("INTERBANK", 0.002, 'L', 30_000_000.0),
    ("REPO", 0.001, 'L', 50_000_000.0),
    ("COVERED_ISSUED", 0.001, 'L', 250_000_000.0),
    ("SENIOR_ISSUED", 0.001, 'L', 150_000_000.0),
    ("IRS_PAYER", 0.002, 'O', 50_000_000.0),
];

const HEADER: &str = "deal_id,product,side,balance,rate_pct,spread_bp,start,end,pay_freq,\
amort_freq,reset_freq,index,segment,insured,stable,transactional,operational,hqla,asset_class,\
business_line,region,encumbered_to,float_rate_pct,encumbered_amount,life_cap_pct,life_floor_pct,\
risk_weight,collateral_hqla,downgrade_collateral,central_bank_eligible,central_bank_haircut,\
facility_kind,facility_received";

/// Writes the sample bank with about `n` contracts into `dir`.
pub(crate) fn write(n: usize, seed: u64, dir: &Path) -> Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut rng = Rng::new(seed);
    let mut tape = String::with_capacity(n * 160);
    tape.push_str(HEADER);
    tape.push('\n');
    let mut assets = 0.0;
    let mut liabilities = 0.0;
    let mut k = 0usize;
    let regions = ["north", "south", "east", "west"];
    // Central-bank reserves and fixed assets first, sized from the loan book later.
    let mut rows: Vec<String> = Vec::with_capacity(n);
    for &(code, share, side, avg) in PRODUCTS {
        let count = ((n as f64) * share).round().max(1.0) as usize;
        for _ in 0..count {
            k += 1;
            let u = rng.next_f64();
            let balance = ((avg * (0.3 + 1.4 * u)) * 100.0).round() / 100.0;
            let region = regions[(rng.next_u64() % 4) as usize];
            let mut row = product_row(code, k, balance, &mut rng, region);
            // The floating leg's current rate, for swaps only; the encumbered amount (the
            // whole bond) where the bond is pledged.
            row.push_str(if code == "IRS_PAYER" { ",2.05" } else { "," });
            if row.split(',').nth(21).is_some_and(|to| !to.is_empty()) {
                row.push_str(&format!(",{balance}"));
            } else {
                row.push(',');
            }
            // Automatic options (valued by `almanac irrbb` as the KAO add-on): corporate
            // floaters floor their all-in rate at the spread (EURIBOR floored at zero, the
            // usual clause), every third reset mortgage caps its rate at 4.5 %.
            match code {
                "CORP_FLOAT" => {
                    let spread_bp: f64 = row
                        .split(',')
                        .nth(5)
                        .and_then(|x| x.parse().ok())
                        .unwrap_or(0.0);
                    row.push_str(&format!(",,{}", spread_bp / 100.0));
                }
                "MORT_RESET" if k % 3 == 0 => row.push_str(",4.5,"),
                _ => row.push_str(",,"),
            }
            // Liquidity: standardised risk weights (NSFR 65 % / 85 % split), mortgages as
            // residential mortgages, repos secured by the Level 1 bonds pledged to them.
            let rw = match code {
                "MORT_FIX" | "MORT_RESET" => "0.35",
                "CONSUMER" => "0.75",
                "SME" => "0.85",
                "CORP_FIX" | "CORP_FLOAT" | "CORP_BOND" => "1",
                "GOV_BOND" => "0",
                "COVERED_BOND" => "0.1",
                _ => "",
            };
            let collateral = if code == "REPO" { "l1" } else { "" };
            // The swaps' CSAs call 2 % of their notional on a three-notch downgrade.
            let downgrade = if code == "IRS_PAYER" {
                format!("{}", round2(balance * 0.02))
            } else {
                String::new()
            };
            // Corporate loans are credit claims the central bank takes at a 25 % haircut.
            let eligible = if matches!(code, "CORP_FIX" | "CORP_FLOAT") {
                "yes,0.25"
            } else {
                ","
            };
            row.push_str(&format!(",{rw},{collateral},{downgrade},{eligible},,"));
            if code.starts_with("MORT") {
                let mut f: Vec<String> = row.split(',').map(str::to_string).collect();
                f[18] = "residential_mortgage".into();
                row = f.join(",");
            }
            match side {
                'A' => assets += balance,
                'L' => liabilities += balance,
                _ => {}
            }
            rows.push(row);
        }
    }
    // Reserves at the central bank: 7 % of loans and securities; fixed assets 1 %.
    let reserves = round2(assets * 0.075);
    let fixed = round2(assets * 0.01);
    rows.push(format!(
        "CB-RESERVES,CB_RESERVES,A,{reserves},0,,{AS_OF},,,,,,sovereign_central_bank_pse,,,,,l1,central_bank_reserves,treasury,north,,,,,,,,,,,,"
    ));
    rows.push(format!(
        "FIXED-ASSETS,FIXED_ASSETS,A,{fixed},,,,,,,,,,,,,,,,corporate_center,north,,,,,,,,,,,,"
    ));
    assets += reserves + fixed;
    // Off balance: committed facilities granted (credit lines to corporates, 4 % of the loan
    // book; to retail clients, 1 %) and a committed liquidity line received from a bank (1 % of
    // assets). Their amounts are undrawn; they count neither in assets nor in liabilities.
    for (id, amount, segment, kind, received) in [
        (
            "FAC-CORPORATE",
            assets * 0.04,
            "non_financial_corporate",
            "credit",
            "",
        ),
        ("FAC-RETAIL", assets * 0.01, "retail", "credit", ""),
        (
            "FAC-RECEIVED",
            assets * 0.01,
            "credit_institution",
            "liquidity",
            "yes",
        ),
    ] {
        rows.push(format!(
            "{id},FACILITY,O,{},,,,,,,,,{segment},,,,,,,treasury,north,,,,,,,,,,,{kind},{received}",
            round2(amount)
        ));
    }
    // Equity balances the sheet; if the liabilities drawn exceed assets, scale deposits down.
    let mut equity = round2(assets * 0.08);
    let target_liabilities = assets - equity;
    let scale = target_liabilities / liabilities;
    let mut scaled_liabilities = 0.0;
    for row in rows.iter_mut() {
        let fields: Vec<&str> = row.split(',').collect();
        if fields[2] == "L" {
            let b: f64 = fields[3].parse().unwrap_or(0.0);
            let nb = round2(b * scale);
            scaled_liabilities += nb;
            let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
            f[3] = format!("{nb}");
            *row = f.join(",");
        }
    }
    // Rounding residue goes to equity, so assets = liabilities + equity to the cent.
    equity = round2(assets - scaled_liabilities);
    rows.push(format!(
        "EQUITY,EQUITY,E,{equity},,,,,,,,,,,,,,,,corporate_center,north,,,,,,,,,,,,"
    ));
    for r in rows {
        tape.push_str(&r);
        tape.push('\n');
    }
    let written = Written {
        tape: dir.join("tape.csv"),
        mapping: dir.join("mapping.toml"),
        market: dir.join("market.toml"),
        assumptions: dir.join("assumptions.toml"),
    };
    std::fs::write(&written.tape, tape)?;
    std::fs::write(&written.mapping, MAPPING)?;
    std::fs::write(&written.market, MARKET)?;
    std::fs::write(&written.assumptions, ASSUMPTIONS)?;
    Ok(written)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn date_after(rng: &mut Rng, min_years: f64, max_years: f64) -> Date {
    let days = (365.25 * (min_years + (max_years - min_years) * rng.next_f64())) as i32;
    AS_OF.add_days(days)
}

fn date_before(rng: &mut Rng, max_years: f64) -> Date {
    let days = 1 + (365.25 * max_years * rng.next_f64()) as i32;
    AS_OF.add_days(-days)
}

/// One tape row of a product; columns as in [`HEADER`].
fn product_row(code: &str, k: usize, balance: f64, rng: &mut Rng, region: &str) -> String {
    let id = format!("{code}-{k:07}");
    let r = |rng: &mut Rng, lo: f64, hi: f64| {
        ((lo + (hi - lo) * rng.next_f64()) * 100.0).round() / 100.0
    };
    let mut s = String::with_capacity(160);
    let w = &mut s;
    match code {
        "MORT_FIX" | "MORT_RESET" => {
            let start = date_before(rng, 8.0);
            let end = start.add_months(12 * (20 + (rng.next_u64() % 11) as i32));
            let (reset, index) = if code == "MORT_RESET" {
                ("5Y", "EURSWAP5Y")
            } else {
                ("", "")
            };
            let _ = write!(w, "{id},{code},A,{balance},{},,{start},{end},M,M,{reset},{index},retail,,,,,,,retail,{region},", r(rng, 2.2, 4.2));
        }
        "CONSUMER" => {
            let start = date_before(rng, 3.0);
            let end = start.add_months(12 * (3 + (rng.next_u64() % 5) as i32));
            let _ = write!(
                w,
                "{id},{code},A,{balance},{},,{start},{end},M,M,,,retail,,,,,,,retail,{region},",
                r(rng, 4.5, 8.5)
            );
        }
        "CORP_FIX" | "SME" => {
            let start = date_before(rng, 3.0);
            let end = start.add_months(12 * (3 + (rng.next_u64() % 6) as i32));
            let seg = if code == "SME" {
                "sme"
            } else {
                "non_financial_corporate"
            };
            let _ = write!(
                w,
                "{id},{code},A,{balance},{},,{start},{end},Q,Q,,,{seg},,,,,,,corporate,{region},",
                r(rng, 3.5, 6.0)
            );
        }
        "CORP_FLOAT" => {
            let start = date_before(rng, 2.0);
            let end = start.add_months(12 * (3 + (rng.next_u64() % 5) as i32));
            let _ = write!(w, "{id},{code},A,{balance},{},{},{start},{end},Q,,3M,EURIBOR3M,non_financial_corporate,,,,,,,corporate,{region},", r(rng, 3.0, 4.5), (100.0 + 200.0 * rng.next_f64()).round());
        }
        "GOV_BOND" | "COVERED_BOND" | "CORP_BOND" => {
            let start = date_before(rng, 4.0);
            let end = date_after(rng, 1.0, 12.0);
            let (hqla, class, seg) = match code {
                "GOV_BOND" => ("l1", "sovereign", "sovereign_central_bank_pse"),
                "COVERED_BOND" => ("l2a", "covered_bond", "credit_institution"),
                _ => ("l2b", "corporate_bond", "non_financial_corporate"),
            };
            let enc = if code == "GOV_BOND" && k % 3 == 0 {
                "repo"
            } else {
                ""
            };
            let _ = write!(w, "{id},{code},A,{balance},{},,{start},{end},Y,,,,{seg},,,,,{hqla},{class},treasury,{region},{enc}", r(rng, 0.5, 3.5));
        }
        "NMD_STABLE" | "NMD_LESS_STABLE" => {
            let start = date_before(rng, 10.0);
            let stable = if code == "NMD_STABLE" { "yes" } else { "no" };
            let _ = write!(w, "{id},{code},L,{balance},{},,{start},,Y,,,,retail,yes,{stable},{stable},,,,retail,{region},", r(rng, 0.0, 0.5));
        }
        "CORP_OPERATIONAL" | "CORP_NONOP" => {
            let start = date_before(rng, 5.0);
            let op = if code == "CORP_OPERATIONAL" {
                "yes"
            } else {
                "no"
            };
            let _ = write!(w, "{id},{code},L,{balance},{},,{start},,Q,,,,non_financial_corporate,no,,,{op},,,corporate,{region},", r(rng, 0.0, 1.5));
        }
        "TERM_DEPOSIT" => {
            let start = date_before(rng, 1.0);
            let end = start.add_months(12 * (1 + (rng.next_u64() % 3) as i32));
            let _ = write!(
                w,
                "{id},{code},L,{balance},{},,{start},{end},Y,,,,retail,yes,,,,,,retail,{region},",
                r(rng, 1.5, 2.8)
            );
        }
        "INTERBANK" | "REPO" => {
            // Money-market funding still running at the as-of date (a deal that has matured
            // is no longer on the balance sheet).
            let start = date_before(rng, 0.2);
            let end = date_after(rng, 0.05, 0.9);
            // Interest at maturity: an annual cycle anchored at the start pays all the
            // interest of a term under a year on its end date.
            let _ = write!(w, "{id},{code},L,{balance},{},,{start},{end},Y,,,,credit_institution,,,,,,,treasury,{region},", r(rng, 1.8, 2.4));
        }
        "COVERED_ISSUED" | "SENIOR_ISSUED" => {
            let start = date_before(rng, 4.0);
            let end = date_after(rng, 2.0, 10.0);
            let _ = write!(w, "{id},{code},L,{balance},{},,{start},{end},Y,,,,other_financial,,,,,,,treasury,{region},", r(rng, 1.0, 3.5));
        }
        _ => {
            // IRS_PAYER: pay fixed, receive EURIBOR3M, hedging fixed mortgages.
            let start = date_before(rng, 3.0);
            let end = start.add_months(12 * (5 + (rng.next_u64() % 6) as i32));
            let _ = write!(w, "{id},{code},O,{balance},{},,{start},{end},Q,,3M,EURIBOR3M,credit_institution,,,,,,,treasury,{region},", r(rng, 2.0, 3.0));
        }
    }
    s
}

const MAPPING: &str = r#"# Mapping of the sample bank's tape (format: docs/data-model.md §4).
[source]
date_format = "YYYY-MM-DD"

[defaults]
currency = "EUR"
legal_entity = "ALMANAC SAMPLE BANK AG"
dayCountConvention = "30E360"
book = "banking"

[columns]
contractID = "deal_id"
contractType = { column = "product", codes = { MORT_FIX = "ANN", MORT_RESET = "ANN", CONSUMER = "ANN", CORP_FIX = "LAM", CORP_FLOAT = "PAM", SME = "ANN", GOV_BOND = "PAM", COVERED_BOND = "PAM", CORP_BOND = "PAM", NMD_STABLE = "UMP", NMD_LESS_STABLE = "UMP", CORP_OPERATIONAL = "UMP", CORP_NONOP = "UMP", TERM_DEPOSIT = "PAM", INTERBANK = "PAM", REPO = "PAM", COVERED_ISSUED = "PAM", SENIOR_ISSUED = "PAM", IRS_PAYER = "SWPPV", CB_RESERVES = "CSH", FIXED_ASSETS = "NI_ASSET", EQUITY = "NI_EQUITY", FACILITY = "NI_OFF_BALANCE" } }
contractRole = { column = "side", codes = { A = "RPA", L = "RPL", O = "PF", E = "RPL" } }
product = "product"
notionalPrincipal = "balance"
nominalInterestRate = { column = "rate_pct", unit = "percent" }
nominalInterestRate2 = { column = "float_rate_pct", unit = "percent" }
rateSpread = { column = "spread_bp", unit = "bp" }
initialExchangeDate = "start"
maturityDate = "end"
cycleOfInterestPayment = { column = "pay_freq", codes = { M = "P1ML1", Q = "P3ML1", Y = "P1YL1" } }
cycleOfPrincipalRedemption = { column = "amort_freq", codes = { M = "P1ML1", Q = "P3ML1" } }
cycleOfRateReset = { column = "reset_freq", codes = { 3M = "P3ML1", 5Y = "P5YL1" } }
marketObjectCodeOfRateReset = "index"
lifeCap = { column = "life_cap_pct", unit = "percent" }
lifeFloor = { column = "life_floor_pct", unit = "percent" }
counterparty_type = "segment"
"deposit.insured" = "insured"
"deposit.stable_relationship" = "stable"
"deposit.transactional" = "transactional"
"deposit.operational" = "operational"
hqla_level = "hqla"
asset_class = "asset_class"
business_line = "business_line"
"dim.region" = "region"
"encumbrance.to" = "encumbered_to"
"encumbrance.amount" = "encumbered_amount"
risk_weight = "risk_weight"
collateral_hqla_level = "collateral_hqla"
downgrade_collateral = "downgrade_collateral"
central_bank_eligible = "central_bank_eligible"
central_bank_haircut = "central_bank_haircut"
"facility.kind" = "facility_kind"
"facility.received" = "facility_received"
"#;

const MARKET: &str = r#"# Market snapshot of the sample bank (format: docs/market-data.md).
as_of = "2025-12-31"

[[curve]]
id = "EUR-ESTR"
currency = "EUR"
discount = true
interpolation = "monotone_convex"
zero_rates = [["1M", 0.0190], ["3M", 0.0191], ["6M", 0.0193], ["1Y", 0.0195], ["2Y", 0.0201],
  ["3Y", 0.0208], ["5Y", 0.0220], ["7Y", 0.0231], ["10Y", 0.0245], ["15Y", 0.0260],
  ["20Y", 0.0265], ["30Y", 0.0258]]

[[curve]]
id = "EUR-EURIBOR3M"
currency = "EUR"
zero_rates = [["3M", 0.0204], ["1Y", 0.0210], ["2Y", 0.0216], ["5Y", 0.0235], ["10Y", 0.0260], ["30Y", 0.0272]]

[[index]]
name = "EURIBOR3M"
currency = "EUR"
forecast_curve = "EUR-EURIBOR3M"
tenor = "3M"
day_count = "A360"

[[index]]
name = "EURSWAP5Y"
currency = "EUR"
forecast_curve = "EUR-EURIBOR3M"
tenor = "5Y"
day_count = "A365"

[[fixing]]
index = "EURIBOR3M"
date = "2025-12-30"
rate = 0.0205

[[fixing]]
index = "EURSWAP5Y"
date = "2025-12-30"
rate = 0.0235

# Normal (Bachelier) implied volatilities, decimal per year: the caps and floors of the
# floaters are valued with them (× 1.25 in the shocked scenarios) for the KAO add-on.
[[volatility]]
index = "EURIBOR3M"
model = "normal"
vol = 0.0090

[[volatility]]
index = "EURSWAP5Y"
model = "normal"
vol = 0.0085
"#;

const ASSUMPTIONS: &str = r#"# Default assumptions of the sample bank (behaviour, new business, FTP, limits).
# Versioned in the store: `almanac assumptions` shows their history and differences.
name = "sample-bank-defaults"

# Behaviour for IRRBB (docs/irrbb.md): named rules, selected by deal-id prefix.
[behaviour.prepayment.mortgages]
cpr = 0.06
select = { id_prefixes = ["MORT_FIX"] }

[behaviour.prepayment.consumer]
cpr = 0.10
select = { id_prefixes = ["CONSUMER"] }

[behaviour.early_redemption.term_deposits]
tdrr = 0.05
select = { id_prefixes = ["TERM_DEPOSIT"] }

[behaviour.nmd.stable]
category = "retail_transactional"
core_share = 0.80
profile = [[0.5, 0.1], [1.0, 0.1], [2.0, 0.2], [3.0, 0.2], [5.0, 0.2], [7.0, 0.2]]
select = { id_prefixes = ["NMD_STABLE"] }

[behaviour.nmd.less_stable]
category = "retail_non_transactional"
core_share = 0.55
profile = [[0.5, 0.2], [1.0, 0.2], [2.0, 0.2], [3.0, 0.2], [5.0, 0.2]]
select = { id_prefixes = ["NMD_LESS_STABLE"] }

[behaviour.nmd.corporate]
category = "wholesale"
core_share = 0.40
profile = [[0.25, 0.25], [0.5, 0.25], [1.0, 0.25], [2.0, 0.25]]
select = { id_prefixes = ["CORP_OPERATIONAL", "CORP_NONOP"] }

# Commercial margins, stripped from the EVE cash flows by `almanac irrbb --strip-margins`
# (SRP31.100): contract rate minus the risk-free rate, decimal per year (positive for loans
# priced above risk-free, negative for deposits paying below it); "rate_spread" takes a
# floater's own spread over its index. NII keeps the margins. Swaps have no rule: they keep
# theirs (reported in the run's warnings).
[behaviour.margins.mortgages]
spread = 0.012
select = { id_prefixes = ["MORT_FIX"] }

[behaviour.margins.floaters]
spread = "rate_spread"
select = { id_prefixes = ["MORT_RESET", "CORP_FLOAT"] }

[behaviour.margins.consumer]
spread = 0.04
select = { id_prefixes = ["CONSUMER"] }

[behaviour.margins.corporate]
spread = 0.02
select = { id_prefixes = ["CORP_FIX"] }

[behaviour.margins.sme]
spread = 0.025
select = { id_prefixes = ["SME"] }

[behaviour.margins.securities_sovereign]
spread = 0.001
select = { id_prefixes = ["GOV_BOND"] }

[behaviour.margins.securities_covered]
spread = 0.003
select = { id_prefixes = ["COVERED_BOND"] }

[behaviour.margins.securities_corporate]
spread = 0.008
select = { id_prefixes = ["CORP_BOND"] }

[behaviour.margins.nmd_retail]
spread = -0.018
select = { id_prefixes = ["NMD_STABLE", "NMD_LESS_STABLE"] }

[behaviour.margins.nmd_corporate]
spread = -0.012
select = { id_prefixes = ["CORP_OPERATIONAL", "CORP_NONOP"] }

[behaviour.margins.term_deposits]
spread = -0.003
select = { id_prefixes = ["TERM_DEPOSIT"] }

[behaviour.margins.wholesale_funding]
spread = 0.001
select = { id_prefixes = ["INTERBANK", "REPO"] }

[behaviour.margins.issued_covered]
spread = 0.004
select = { id_prefixes = ["COVERED_ISSUED"] }

[behaviour.margins.issued_senior]
spread = 0.009
select = { id_prefixes = ["SENIOR_ISSUED"] }

[ftp]
liquidity_premium_bp = { "1Y" = 10, "5Y" = 35, "10Y" = 55 }

[limits]
delta_eve_tier1_max = 0.15
lcr_min = 1.10
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_ingest::{ingest_csv, Mapping};

    /// The sample bank imports completely through its own mapping and balances to the cent.
    #[test]
    fn sample_bank_imports_and_balances() {
        let dir = std::env::temp_dir().join(format!("almanac-sample-{}", std::process::id()));
        let w = write(2_000, 7, &dir).unwrap();
        let mapping = Mapping::from_toml(
            &std::fs::read_to_string(&w.mapping).unwrap(),
            "mapping.toml",
        )
        .unwrap();
        let tape = std::fs::read(&w.tape).unwrap();
        let out = ingest_csv(tape.as_slice(), "tape.csv", Some(&mapping), AS_OF).unwrap();
        assert!(
            out.problems.is_empty(),
            "{:?}",
            &out.problems[..out.problems.len().min(5)]
        );
        assert!(out.positions.len() >= 2_000);
        let totals = almanac_balance_sheet::totals(&out.positions, AS_OF);
        let eur = totals["EUR"];
        assert!(eur.imbalance().abs() < 0.01, "{eur:?}");
        assert!(eur.equity > 0.0 && eur.off_balance > 0);
        assert!(out
            .positions
            .iter()
            .any(|p| p.attributes.encumbrance.is_some()));
        assert!(out
            .positions
            .iter()
            .any(|p| p.attributes.hqla_level == Some(almanac_balance_sheet::HqlaLevel::L1)));
        // Its assumptions hold a valid behaviour set.
        let b = almanac_analytics::irrbb::Behaviour::from_assumptions_toml(
            &std::fs::read_to_string(&w.assumptions).unwrap(),
        )
        .unwrap();
        assert_eq!((b.prepayment.len(), b.nmd.len()), (2, 3));
        // Margin rules for every interest-bearing product but the swaps.
        assert_eq!(b.margins.rules.len(), 14);
        // Deterministic for a seed.
        let again = write(2_000, 7, &dir.join("again")).unwrap();
        assert_eq!(
            std::fs::read(&w.tape).unwrap(),
            std::fs::read(&again.tape).unwrap()
        );
        let market = almanac_market::format::read_snapshot_toml(
            &std::fs::read_to_string(&w.market).unwrap(),
            "market.toml",
        )
        .unwrap();
        // Corporate floaters floor their all-in rate at their spread, some reset mortgages cap
        // theirs, and the market has the volatilities to value them.
        let contracts: Vec<&almanac_actus::ContractTerms> = out
            .positions
            .iter()
            .filter_map(|p| match &p.instrument {
                almanac_balance_sheet::Instrument::Contract(t) => Some(&**t),
                _ => None,
            })
            .collect();
        let floored = contracts
            .iter()
            .filter(|t| t.id().starts_with("CORP_FLOAT"))
            .all(|t| {
                let (f, s) = (
                    t.life_floor.unwrap_or(f64::NAN),
                    t.rate_spread.unwrap_or(0.0),
                );
                (f - s).abs() < 1e-12
            });
        assert!(floored);
        assert!(contracts
            .iter()
            .any(|t| t.id().starts_with("MORT_RESET") && t.life_cap == Some(0.045)));
        assert!(
            market.volatility("EURIBOR3M").is_some() && market.volatility("EURSWAP5Y").is_some()
        );
        // Every contract evaluates on the sample market (non-maturity deposits to a horizon).
        let observer = almanac_actus::SnapshotObserver::new(&market);
        let ctx = almanac_actus::EvalContext {
            observer: &observer,
            observed_events: &[],
            to: Some(almanac_time::DateTime::midnight(AS_OF.add_months(12 * 30))),
        };
        let mut events = 0;
        for p in &out.positions {
            if let almanac_balance_sheet::Instrument::Contract(t) = &p.instrument {
                let e =
                    almanac_actus::evaluate(t, &ctx).unwrap_or_else(|e| panic!("{}: {e}", p.id()));
                events += e.len();
            }
        }
        assert!(events > 100_000, "{events}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
