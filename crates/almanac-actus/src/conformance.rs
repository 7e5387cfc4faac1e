//! Conformance with the official ACTUS test suite.
//!
//! The suite (`actus-tests-*.json`) holds test cases keyed by id; each has `terms`, a horizon
//! `to`, market data `dataObserved`, unscheduled events `eventsObserved` and the expected
//! events `results`. This module reads a suite file's text, runs each case through
//! [`crate::evaluate`] and compares event by event:
//! date, event type and currency exactly; `payoff`, `notionalPrincipal`,
//! `nominalInterestRate`, `accruedInterest` and `exerciseAmount` (where the expected record
//! has them) within `|computed − expected| ≤ 1e-8 + 1e-10·|expected|` ([`within_tolerance`]).
//!
//! Cases that do not pass yet are listed with a reason in `expected-failures.txt` beside this
//! crate's manifest ([`ExpectedFailures::builtin`]). A run *fails* when a case outside that list
//! fails or a listed case passes, so the list can only shrink.
//!
//! This module reads no files itself; the caller passes the text.

use std::collections::BTreeMap;

use almanac_time::DateTime;
use serde::Serialize;
use serde_json::Value;

use crate::{
    evaluate, ContractEvent, ContractTerms, EvalContext, EventType, MarketData, ObservedEvent,
};

/// Absolute part of the comparison tolerance.
pub const ABSOLUTE_TOLERANCE: f64 = 1e-8;
/// Relative part of the comparison tolerance.
pub const RELATIVE_TOLERANCE: f64 = 1e-10;

/// True when `computed` matches `expected` within `1e-8 + 1e-10·|expected|`.
pub fn within_tolerance(computed: f64, expected: f64) -> bool {
    (computed - expected).abs() <= ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * expected.abs()
}

/// One expected event.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedEvent {
    /// Payment date.
    pub event_date: DateTime,
    /// Event type code as written.
    pub event_type: String,
    /// Currency, when given.
    pub currency: Option<String>,
    /// Numeric fields present in the record: (ACTUS name, value).
    pub values: Vec<(&'static str, f64)>,
}

/// One test case of the suite.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// Test id (`pam01`).
    pub id: String,
    /// Contract type code from the terms (`PAM`), or `?`.
    pub contract_type: String,
    /// The terms, or why they could not be read.
    pub terms: Result<ContractTerms, String>,
    /// Analysis horizon (`to`), if set.
    pub to: Option<DateTime>,
    /// Market data.
    pub market: MarketData,
    /// Observed events.
    pub observed: Vec<ObservedEvent>,
    /// Expected events, or why they could not be read.
    pub expected: Result<Vec<ExpectedEvent>, String>,
}

const NUMERIC_FIELDS: &[&str] = &[
    "payoff",
    "notionalPrincipal",
    "nominalInterestRate",
    "accruedInterest",
    "exerciseAmount",
];

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim)
}

/// Reads the text of one suite file into its cases (in id order).
pub fn parse_suite(json: &str) -> Result<Vec<TestCase>, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let cases = root.as_object().ok_or("expected an object of test cases")?;
    let mut out: Vec<TestCase> = cases
        .iter()
        .map(|(id, case)| parse_case(id, case))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn parse_case(id: &str, case: &Value) -> TestCase {
    let raw = case.get("terms").and_then(Value::as_object);
    let contract_type = raw
        .and_then(|t| t.get("contractType"))
        .and_then(text)
        .unwrap_or("?")
        .to_string();
    let terms = match raw {
        Some(r) => ContractTerms::from_raw(r, id).map_err(|e| e.to_string()),
        None => Err("case has no terms".to_string()),
    };
    let to = case
        .get("to")
        .and_then(text)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let mut market = MarketData::new();
    if let Some(data) = case.get("dataObserved").and_then(Value::as_object) {
        for (code, series) in data {
            let points = series
                .get("data")
                .and_then(Value::as_array)
                .map(|pts| {
                    pts.iter()
                        .filter_map(|p| {
                            let t = p.get("timestamp").and_then(text)?.parse().ok()?;
                            Some((t, number(p.get("value")?)?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            market.insert(code, points);
        }
    }
    let observed = case
        .get("eventsObserved")
        .and_then(Value::as_array)
        .map(|evs| {
            evs.iter()
                .filter_map(|e| {
                    Some(ObservedEvent {
                        time: e.get("time").and_then(text)?.parse().ok()?,
                        event_type: EventType::from_code(e.get("type").and_then(text)?)?,
                        value: e.get("value").and_then(number).unwrap_or(0.0),
                        contract_id: e.get("contractId").and_then(text).map(str::to_string),
                        contract_performance: e
                            .get("states")
                            .and_then(|s| s.get("contractPerformance"))
                            .and_then(text)
                            .and_then(crate::ContractPerformance::from_code),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let expected = case
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| "case has no results".to_string())
        .and_then(|rs| rs.iter().map(parse_expected).collect());
    TestCase {
        id: id.to_string(),
        contract_type,
        terms,
        to,
        market,
        observed,
        expected,
    }
}

fn parse_expected(r: &Value) -> Result<ExpectedEvent, String> {
    let event_date = r
        .get("eventDate")
        .and_then(text)
        .ok_or("result without eventDate")?
        .parse()
        .map_err(|e| format!("bad eventDate: {e}"))?;
    let event_type = r
        .get("eventType")
        .and_then(text)
        .ok_or("result without eventType")?;
    let mut values = Vec::new();
    for &f in NUMERIC_FIELDS {
        if let Some(v) = r.get(f) {
            values.push((f, number(v).ok_or_else(|| format!("{f} is not a number"))?));
        }
    }
    Ok(ExpectedEvent {
        event_date,
        event_type: event_type.to_string(),
        currency: r.get("currency").and_then(text).map(str::to_string),
        values,
    })
}

fn field(e: &ContractEvent, name: &str) -> f64 {
    match name {
        "payoff" => e.payoff,
        "notionalPrincipal" => e.states.notional_principal,
        "nominalInterestRate" => e.states.nominal_interest_rate,
        "accruedInterest" => e.states.accrued_interest,
        _ => e.states.exercise_amount,
    }
}

/// Runs one case; `Ok(())` when every event matches, else the first difference.
pub fn run_case(case: &TestCase) -> Result<(), String> {
    let terms = case.terms.as_ref().map_err(|e| format!("terms: {e}"))?;
    let expected = case
        .expected
        .as_ref()
        .map_err(|e| format!("results: {e}"))?;
    let ctx = EvalContext {
        observer: &case.market,
        observed_events: &case.observed,
        to: case.to,
    };
    let computed = evaluate(terms, &ctx).map_err(|e| e.to_string())?;
    compare(terms, &computed, expected)
}

/// Compares computed events with expected ones.
pub fn compare(
    terms: &ContractTerms,
    computed: &[ContractEvent],
    expected: &[ExpectedEvent],
) -> Result<(), String> {
    for (i, (c, e)) in computed.iter().zip(expected).enumerate() {
        let at = format!("event {i} ({} {})", e.event_date, e.event_type);
        if c.event_time != e.event_date || c.event_type.code() != e.event_type {
            return Err(format!("{at}: computed {} {}", c.event_time, c.event_type));
        }
        if let Some(ccy) = &e.currency {
            let ours = c.currency(terms);
            if ours != Some(ccy.as_str()) {
                return Err(format!("{at}: currency {ours:?}, expected {ccy}"));
            }
        }
        for &(name, want) in &e.values {
            let got = field(c, name);
            if !within_tolerance(got, want) {
                return Err(format!(
                    "{at}: {name} {got} expected {want} (diff {:e})",
                    got - want
                ));
            }
        }
    }
    if computed.len() != expected.len() {
        let extra = computed
            .get(expected.len())
            .map(|c| format!("; first extra computed: {} {}", c.event_time, c.event_type))
            .unwrap_or_default();
        return Err(format!(
            "{} events computed, {} expected{extra}",
            computed.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// Cases known not to pass yet, each with its reason.
#[derive(Debug, Clone, Default)]
pub struct ExpectedFailures {
    entries: BTreeMap<String, String>,
}

impl ExpectedFailures {
    /// Reads `id  reason` lines; `#` starts a comment; blank lines are ignored.
    pub fn parse(text: &str) -> ExpectedFailures {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(char::is_whitespace) {
                Some((id, reason)) => (id.to_string(), reason.trim().to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect();
        ExpectedFailures { entries }
    }

    /// The list kept in the repository (`crates/almanac-actus/expected-failures.txt`).
    pub fn builtin() -> ExpectedFailures {
        ExpectedFailures::parse(include_str!("../expected-failures.txt"))
    }

    /// The recorded reason, if `id` is listed.
    pub fn reason(&self, id: &str) -> Option<&str> {
        self.entries.get(id).map(String::as_str)
    }

    /// Listed ids.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// Counts for one contract type or the whole suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Cases run.
    pub total: usize,
    /// Cases that matched.
    pub passed: usize,
    /// Cases that failed and are listed as expected failures.
    pub expected_failures: usize,
    /// Cases that failed unexpectedly, or passed although listed.
    pub failed: usize,
}

/// A case that did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Test id.
    pub id: String,
    /// Why it failed (or that it passed unexpectedly).
    pub reason: String,
    /// True when listed in the expected-failures file.
    #[serde(skip)]
    pub expected: bool,
}

/// The result of a conformance run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Counts over all cases.
    #[serde(flatten)]
    pub overall: Counts,
    /// Counts per contract type.
    pub by_type: BTreeMap<String, Counts>,
    /// Every case that did not pass, expected or not.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Runs `cases` and records the outcomes against `expected_failures`.
    pub fn add_cases(&mut self, cases: &[TestCase], expected_failures: &ExpectedFailures) {
        for case in cases {
            let outcome = run_case(case);
            let listed = expected_failures.reason(&case.id);
            let counts = self.by_type.entry(case.contract_type.clone()).or_default();
            counts.total += 1;
            self.overall.total += 1;
            match (outcome, listed) {
                (Ok(()), None) => {
                    counts.passed += 1;
                    self.overall.passed += 1;
                }
                (Ok(()), Some(_)) => {
                    counts.failed += 1;
                    self.overall.failed += 1;
                    self.failures.push(Failure {
                        id: case.id.clone(),
                        reason: "passes but is listed as an expected failure: remove it from \
                                 the list"
                            .to_string(),
                        expected: false,
                    });
                }
                (Err(why), Some(reason)) => {
                    counts.expected_failures += 1;
                    self.overall.expected_failures += 1;
                    self.failures.push(Failure {
                        id: case.id.clone(),
                        reason: format!("{reason} [{why}]"),
                        expected: true,
                    });
                }
                (Err(why), None) => {
                    counts.failed += 1;
                    self.overall.failed += 1;
                    self.failures.push(Failure {
                        id: case.id.clone(),
                        reason: why,
                        expected: false,
                    });
                }
            }
        }
    }

    /// True when nothing outside the expected-failures list failed.
    pub fn is_success(&self) -> bool {
        self.overall.failed == 0
    }

    /// A plain-text table: one row per contract type and a total.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<8}{:>7}{:>8}{:>10}{:>8}\n",
            "type", "cases", "passed", "expected", "failed"
        );
        for (ty, c) in &self.by_type {
            s.push_str(&format!(
                "{:<8}{:>7}{:>8}{:>10}{:>8}\n",
                ty, c.total, c.passed, c.expected_failures, c.failed
            ));
        }
        let c = self.overall;
        s.push_str(&format!(
            "{:<8}{:>7}{:>8}{:>10}{:>8}\n",
            "total", c.total, c.passed, c.expected_failures, c.failed
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_absolute_plus_relative() {
        assert!(within_tolerance(1.0 + 9e-9, 1.0));
        assert!(!within_tolerance(1.0 + 2e-8, 1.0));
        assert!(within_tolerance(1e7 + 1e-3 * 0.9, 1e7));
        assert!(!within_tolerance(1e7 + 2e-3, 1e7));
    }

    #[test]
    fn expected_failures_file_format() {
        let f = ExpectedFailures::parse("# comment\nann09  PRF before IED\n\nclm07 call\n");
        assert_eq!(f.reason("ann09"), Some("PRF before IED"));
        assert_eq!(f.reason("clm07"), Some("call"));
        assert_eq!(f.reason("pam01"), None);
    }

    #[test]
    fn a_wrong_number_is_reported_with_its_field() {
        let suite = r#"{"t1":{"identifier":"t1","terms":{"contractType":"PAM","contractID":"t1",
          "contractRole":"RPA","statusDate":"2012-12-31T00:00:00","currency":"USD",
          "initialExchangeDate":"2013-01-01T00:00:00","maturityDate":"2014-01-01T00:00:00",
          "notionalPrincipal":"1000","nominalInterestRate":"0.05","dayCountConvention":"30E360",
          "cycleOfInterestPayment":"P1YL1"},"to":"","dataObserved":{},"eventsObserved":[],
          "results":[
           {"eventDate":"2013-01-01T00:00:00","eventType":"IED","payoff":-1000,"currency":"USD",
            "notionalPrincipal":1000,"nominalInterestRate":0.05,"accruedInterest":0},
           {"eventDate":"2013-01-01T00:00:00","eventType":"IP","payoff":0,"currency":"USD",
            "notionalPrincipal":1000,"nominalInterestRate":0.05,"accruedInterest":0},
           {"eventDate":"2014-01-01T00:00:00","eventType":"IP","payoff":"50.5","currency":"USD",
            "notionalPrincipal":1000,"nominalInterestRate":0.05,"accruedInterest":0},
           {"eventDate":"2014-01-01T00:00","eventType":"MD","payoff":1000,"currency":"USD",
            "notionalPrincipal":0,"nominalInterestRate":0.05,"accruedInterest":0}]}}"#;
        let cases = parse_suite(suite).unwrap();
        let err = run_case(&cases[0]).unwrap_err();
        assert!(err.contains("payoff 50 expected 50.5"), "{err}");
    }
}
