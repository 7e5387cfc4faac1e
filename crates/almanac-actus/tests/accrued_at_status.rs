//! Accrued interest at the status date when the terms do not give it: derived as the ACTUS
//! technical specification initialises it (PAM state `Nac`: `Y(t⁻, t0) × Nvl × Nrt`, `t⁻` the
//! last interest payment date), so a running contract described as of today pays its full
//! next coupon; none before the first payment date.

use almanac_actus::{evaluate, ContractTerms, EvalContext, EventType, MarketData};

fn first_ip(extra: &str, status: &str) -> f64 {
    let t: ContractTerms = serde_json::from_str(&format!(
        r#"{{"contractType":"PAM","contractID":"c","contractRole":"RPA","currency":"EUR",
        "statusDate":"{status}","initialExchangeDate":"2025-01-15","maturityDate":"2027-01-15",
        "notionalPrincipal":1000000,"nominalInterestRate":0.04,"dayCountConvention":"A365"{extra}}}"#
    ))
    .unwrap();
    let market = MarketData::default();
    let ctx = EvalContext {
        observer: &market,
        observed_events: &[],
        to: None,
    };
    evaluate(&t, &ctx)
        .unwrap()
        .iter()
        .find(|e| e.event_type == EventType::Ip)
        .unwrap()
        .payoff
}

#[test]
fn a_running_contract_pays_its_full_next_coupon() {
    // Quarterly from the initial exchange: the last payment 2025-10-15, the next 2026-01-15.
    let full = 1_000_000.0 * 0.04 * 92.0 / 365.0;
    let got = first_ip(r#","cycleOfInterestPayment":"P3ML1""#, "2025-12-31");
    assert!((got - full).abs() < 1e-9, "{got} vs {full}");
    // Given accrued interest wins.
    let given = first_ip(
        r#","cycleOfInterestPayment":"P3ML1","accruedInterest":100"#,
        "2025-12-31",
    );
    assert!(
        (given - (100.0 + 1_000_000.0 * 0.04 * 15.0 / 365.0)).abs() < 1e-9,
        "{given}"
    );
}

#[test]
fn nothing_accrues_before_the_first_payment_date_or_after_a_payment_on_the_status_date() {
    // First payment after the status date (anchor 2026-03-15): none before it, as the suite's
    // lam18 and lam21 expect; the first coupon counts from the status date.
    let got = first_ip(
        r#","cycleAnchorDateOfInterestPayment":"2026-03-15","cycleOfInterestPayment":"P6ML1""#,
        "2025-12-31",
    );
    let from_status = 1_000_000.0 * 0.04 * 74.0 / 365.0;
    assert!((got - from_status).abs() < 1e-9, "{got} vs {from_status}");
    // A payment on the status date itself has been made: the next counts from it.
    let on = first_ip(r#","cycleOfInterestPayment":"P3ML1""#, "2025-10-15");
    let quarter = 1_000_000.0 * 0.04 * 92.0 / 365.0;
    assert!((on - quarter).abs() < 1e-9, "{on} vs {quarter}");
}
