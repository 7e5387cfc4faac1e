//! Criterion benchmarks of contract evaluation: events per second on one core.
//!
//! Run with `cargo bench -p almanac-actus`; figures are recorded in `docs/benchmarks.md`.

use almanac_actus::{
    evaluate_into, ContractTerms, DateTime, EvalContext, MarketData, NoMarketData,
    RiskFactorObserver,
};
use criterion::{black_box, criterion_main, Criterion, Throughput};

fn terms(json: &str) -> ContractTerms {
    serde_json::from_str(json).expect("benchmark terms are valid")
}

fn bench_one(c: &mut Criterion, name: &str, t: &ContractTerms, observer: &dyn RiskFactorObserver) {
    let ctx = EvalContext {
        observer,
        observed_events: &[],
        to: None,
    };
    let mut buf = Vec::new();
    evaluate_into(t, &ctx, &mut buf).expect("benchmark contract evaluates");
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(buf.len() as u64));
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            evaluate_into(black_box(t), &ctx, &mut buf).expect("evaluates");
            black_box(buf.len())
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let annuity = terms(
        r#"{"contractType":"ANN","contractID":"ann30y","contractRole":"RPA","currency":"EUR",
        "statusDate":"2024-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2055-01-01",
        "notionalPrincipal":250000,"nominalInterestRate":0.035,"dayCountConvention":"30E360",
        "cycleAnchorDateOfPrincipalRedemption":"2025-02-01","cycleOfPrincipalRedemption":"P1ML1",
        "cycleAnchorDateOfInterestPayment":"2025-02-01","cycleOfInterestPayment":"P1ML1"}"#,
    );
    bench_one(c, "annuity_30y_monthly", &annuity, &NoMarketData);
    // The sample bank's fixed-rate mortgage: seasoned four and a half years, no anchors, the
    // accrued interest derived at the status date.
    let seasoned = terms(
        r#"{"contractType":"ANN","contractID":"MORT_FIX-0000001","contractRole":"RPA",
        "currency":"EUR","statusDate":"2025-12-31","dayCountConvention":"30E360",
        "initialExchangeDate":"2021-05-28","maturityDate":"2051-05-28",
        "notionalPrincipal":282499.92,"nominalInterestRate":0.0359,
        "cycleOfInterestPayment":"P1ML1","cycleOfPrincipalRedemption":"P1ML1"}"#,
    );
    bench_one(c, "seasoned_mortgage_monthly", &seasoned, &NoMarketData);
    let linear = terms(
        r#"{"contractType":"LAM","contractID":"lam10y","contractRole":"RPA","currency":"EUR",
        "statusDate":"2024-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2035-01-01",
        "notionalPrincipal":1000000,"nominalInterestRate":0.045,"dayCountConvention":"A360",
        "cycleAnchorDateOfPrincipalRedemption":"2025-04-01","cycleOfPrincipalRedemption":"P3ML1",
        "nextPrincipalRedemptionPayment":25000,"cycleOfInterestPayment":"P3ML1"}"#,
    );
    bench_one(c, "linear_10y_quarterly", &linear, &NoMarketData);
    let bullet = terms(
        r#"{"contractType":"PAM","contractID":"pam10y","contractRole":"RPA","currency":"EUR",
        "statusDate":"2024-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2035-01-01",
        "notionalPrincipal":1000000,"nominalInterestRate":0.03,"dayCountConvention":"30E360",
        "cycleOfInterestPayment":"P3ML1"}"#,
    );
    bench_one(c, "bullet_10y_quarterly", &bullet, &NoMarketData);
    let floating = terms(
        r#"{"contractType":"PAM","contractID":"frn10y","contractRole":"RPA","currency":"EUR",
        "statusDate":"2024-12-31","initialExchangeDate":"2025-01-01","maturityDate":"2035-01-01",
        "notionalPrincipal":1000000,"nominalInterestRate":0.03,"dayCountConvention":"A360",
        "cycleOfInterestPayment":"P3ML1","cycleAnchorDateOfRateReset":"2025-04-01",
        "cycleOfRateReset":"P3ML1","marketObjectCodeOfRateReset":"EURIBOR3M",
        "rateSpread":0.01}"#,
    );
    let mut market = MarketData::new();
    let start: DateTime = "2025-01-01".parse().expect("date");
    let points = (0..45)
        .map(|q| {
            let d = start.date().add_months(3 * q);
            (DateTime::midnight(d), 0.02 + 0.0001 * f64::from(q))
        })
        .collect();
    market.insert("EURIBOR3M", points);
    bench_one(c, "floating_10y_quarterly_resets", &floating, &market);
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(contract_benches, super::benches);
}
criterion_main!(group::contract_benches);
