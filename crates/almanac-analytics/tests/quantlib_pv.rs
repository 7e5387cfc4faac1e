//! Independent check of contract present values (issue #5): every contract of a generated
//! portfolio (PAM fixed / floating / zero coupon / interest at maturity, LAM, ANN, floating LAM
//! and ANN; RPA and RPL; A360, A365, AA, 30E360, 30E360ISDA; monthly to annual cycles;
//! forward-starting and seasoned) is valued with `irrbb::contract_values` on a base market and
//! three shocked ones, and compared with QuantLib-Python's valuation of the same contractual
//! cash flows.
//!
//! The fixtures in `tests/fixtures/quantlib/` are written by `scripts/gen-quantlib-fixtures.py`
//! (QuantLib 1.44), whose header states the conventions and how to regenerate them; CI never
//! needs Python. `expected.json` holds `pv[contract_id][market]` and metadata.
//!
//! Every contract of the fixtures is checked, on every market, against
//! `|ours − QuantLib| ≤ max(1e-9·|QuantLib|, 1e-6)`. The contracts listed in
//! [`KNOWN_DISCREPANCIES`] are the exception: they expose engine behaviour that disagrees with
//! the contractual value and are checked by the ignored test
//! `known_discrepancies_agree_with_quantlib` (run it with `--ignored`; remove an entry once
//! the engine is fixed).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use almanac_actus::{ContractTerms, DateTime};
use almanac_analytics::irrbb::contract_values;
use almanac_market::format::read_snapshot_toml;
use almanac_market::MarketSnapshot;

/// Largest accepted relative difference.
const RELATIVE: f64 = 1e-9;
/// Absolute floor in currency units, for PVs near zero.
const ABSOLUTE: f64 = 1e-6;

/// Contracts on which the engine is known to disagree with the contractual value, with why.
const KNOWN_DISCREPANCIES: &[(&str, &str)] = &[(
    "KNOWN-PAM-TAPE-NO-ACCRUED",
    "without accruedInterest the engine derives it as the ACTUS specification initialises it, \
         from the last interest payment date up to the status date; this contract's first \
         payment date is after the status date, so none has accrued (as the suite expects in \
         lam18 and lam21) and its first coupon counts interest from the status date only, \
         where the fixture (QuantLib) accrues from the initial exchange. A tape of contracts in \
         their first period must carry accrued interest",
)];

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quantlib")
}

fn read(name: &str) -> String {
    let path = fixture_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Fixtures {
    contracts: Vec<ContractTerms>,
    /// Market name → snapshot.
    markets: BTreeMap<String, MarketSnapshot>,
    /// Contract id → market name → QuantLib PV.
    expected: BTreeMap<String, BTreeMap<String, f64>>,
    descriptions: BTreeMap<String, String>,
}

fn load() -> Fixtures {
    let contracts: Vec<ContractTerms> =
        serde_json::from_str(&read("contracts.json")).expect("contracts.json: ACTUS terms");
    let doc: serde_json::Value =
        serde_json::from_str(&read("expected.json")).expect("expected.json");
    let meta = &doc["metadata"];
    let files = meta["markets"]
        .as_object()
        .expect("metadata.markets: {name: file}");
    let mut markets = BTreeMap::new();
    for (name, file) in files {
        let file = file.as_str().expect("market file name");
        let snap = read_snapshot_toml(&read(file), file).unwrap_or_else(|e| panic!("{e}"));
        markets.insert(name.clone(), snap);
    }
    let expected: BTreeMap<String, BTreeMap<String, f64>> =
        serde_json::from_value(doc["pv"].clone()).expect("pv: {contract: {market: pv}}");
    let descriptions: BTreeMap<String, String> =
        serde_json::from_value(meta["descriptions"].clone()).unwrap_or_default();
    Fixtures {
        contracts,
        markets,
        expected,
        descriptions,
    }
}

/// One comparison.
struct Row {
    contract: String,
    market: String,
    ours: Result<f64, String>,
    quantlib: f64,
}

impl Row {
    fn abs_err(&self) -> f64 {
        match self.ours {
            Ok(v) => (v - self.quantlib).abs(),
            Err(_) => f64::INFINITY,
        }
    }

    fn rel_err(&self) -> f64 {
        self.abs_err() / self.quantlib.abs().max(f64::MIN_POSITIVE)
    }

    fn ok(&self) -> bool {
        self.abs_err() <= (RELATIVE * self.quantlib.abs()).max(ABSOLUTE)
    }
}

/// Values every contract whose id `select` accepts on every market.
fn compare(f: &Fixtures, select: impl Fn(&str) -> bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut buf = Vec::new();
    for t in f.contracts.iter().filter(|t| select(t.id())) {
        let id = t.id();
        let expected = f
            .expected
            .get(id)
            .unwrap_or_else(|| panic!("expected.json has no PV for contract {id}"));
        for (name, m) in &f.markets {
            let quantlib = *expected
                .get(name)
                .unwrap_or_else(|| panic!("expected.json has no PV of {id} on market {name}"));
            let ours = contract_values(t, m, DateTime::midnight(m.as_of()), &mut buf)
                .map(|by_ccy| by_ccy.values().sum::<f64>());
            rows.push(Row {
                contract: id.to_string(),
                market: name.clone(),
                ours,
                quantlib,
            });
        }
    }
    rows
}

/// The worst rows by relative error, as a table.
fn report(f: &Fixtures, rows: &[Row], n: usize) -> String {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by(|a, b| b.rel_err().total_cmp(&a.rel_err()));
    let mut s = String::new();
    for r in sorted.iter().take(n) {
        let ours = match &r.ours {
            Ok(v) => format!("{v:.6}"),
            Err(e) => format!("error: {e}"),
        };
        let _ = writeln!(
            s,
            "  {} [{}]: ours {ours}, QuantLib {:.6}, diff {:.3e}, rel {:.3e}{}\n      {}",
            r.contract,
            r.market,
            r.quantlib,
            r.abs_err(),
            r.rel_err(),
            if r.ok() { "" } else { "  <-- FAIL" },
            f.descriptions.get(&r.contract).map_or("", String::as_str)
        );
    }
    s
}

fn is_known(id: &str) -> bool {
    KNOWN_DISCREPANCIES.iter().any(|(k, _)| *k == id)
}

/// The fixtures are complete: every contract has a PV on every market, nothing extra, the
/// markets are the four documented ones, and the portfolio covers every product and day count.
#[test]
fn fixtures_are_complete() {
    let f = load();
    let ids: BTreeSet<&str> = f.contracts.iter().map(ContractTerms::id).collect();
    assert_eq!(ids.len(), f.contracts.len(), "duplicate contract ids");
    let expected_ids: BTreeSet<&str> = f.expected.keys().map(String::as_str).collect();
    assert_eq!(
        ids, expected_ids,
        "contracts.json and expected.json list different ids"
    );
    let names: BTreeSet<&str> = f.markets.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["base", "parallel_down_200", "parallel_up_200", "steepener"])
    );
    for (id, by_market) in &f.expected {
        let m: BTreeSet<&str> = by_market.keys().map(String::as_str).collect();
        assert_eq!(m, names, "{id}: PVs for other markets than the fixtures'");
    }
    for (id, _) in KNOWN_DISCREPANCIES {
        assert!(
            ids.contains(id),
            "known discrepancy {id} is not in the fixtures"
        );
    }
    let raw: Vec<serde_json::Value> =
        serde_json::from_str(&read("contracts.json")).expect("contracts.json");
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for c in &raw {
        let ty = c["contractType"].as_str().unwrap_or_default().to_string();
        let dc = c["dayCountConvention"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        seen.insert((ty, dc));
    }
    for ty in ["PAM", "LAM", "ANN"] {
        for dc in ["A360", "A365", "AA", "30E360", "30E360ISDA"] {
            assert!(
                seen.contains(&(ty.to_string(), dc.to_string())),
                "no {ty} contract with day count {dc}"
            );
        }
    }
}

/// Every contract agrees with QuantLib on every market (known discrepancies excepted).
#[test]
fn contract_pvs_agree_with_quantlib() {
    let f = load();
    let rows = compare(&f, |id| !is_known(id));
    assert!(!rows.is_empty());
    let failures = rows.iter().filter(|r| !r.ok()).count();
    let worst = rows.iter().map(Row::rel_err).fold(0.0, f64::max);
    let summary = format!(
        "{} contracts x {} markets = {} values; worst relative error {worst:.3e}\n{}",
        rows.len() / f.markets.len(),
        f.markets.len(),
        rows.len(),
        report(&f, &rows, 12)
    );
    assert!(
        failures == 0,
        "{failures} of {} values disagree with QuantLib beyond {RELATIVE:e} relative \
         ({ABSOLUTE:e} absolute); worst first:\n{}",
        rows.len(),
        report(&f, &rows, failures.max(12))
    );
    // Shown with `--nocapture`.
    eprintln!("{summary}");
}

/// The known discrepancies: fails until the engine is fixed (run with `--ignored`).
#[test]
#[ignore = "engine discrepancies found by the QuantLib check; see KNOWN_DISCREPANCIES"]
fn known_discrepancies_agree_with_quantlib() {
    let f = load();
    let rows = compare(&f, is_known);
    let mut why = String::new();
    for (id, reason) in KNOWN_DISCREPANCIES {
        let _ = writeln!(why, "  {id}: {reason}");
    }
    assert!(
        rows.iter().all(Row::ok),
        "{}\n{why}",
        report(&f, &rows, rows.len())
    );
}
