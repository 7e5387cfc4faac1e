//! Benchmarks of scenario generation: the base snapshot plus the six standardised scenarios for
//! 10 currencies × 3 curves (7 snapshots), in pillar and continuous mode, and a 13-quote curve
//! bootstrap per interpolation.

use std::hint::black_box;

use almanac_market::{bootstrap, Curve, CurveInterpolation, MarketSnapshot, Quote, QuoteKind};
use almanac_scenario::standard::{apply_all, ShockMode, StandardSpec};
use almanac_time::{Date, DayCount};
use criterion::{criterion_main, Criterion};

const CURRENCIES: [&str; 10] = [
    "EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "HKD", "SGD",
];

fn snapshot() -> MarketSnapshot {
    let as_of = Date::ymd(2025, 12, 31);
    let mut m = MarketSnapshot::new(as_of);
    let times: Vec<f64> = vec![
        0.0833, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0,
    ];
    for (k, ccy) in CURRENCIES.iter().enumerate() {
        for (j, kind) in ["OIS", "IBOR3M", "IBOR6M"].iter().enumerate() {
            let zeros = times
                .iter()
                .map(|&t| {
                    0.01 + 0.002 * k as f64 + 0.001 * j as f64 + 0.01 * (1.0 - (-t / 5.0f64).exp())
                })
                .collect();
            m.insert_curve(
                Curve::from_zero_rates(
                    &format!("{ccy}-{kind}"),
                    ccy,
                    as_of,
                    DayCount::Act365Fixed,
                    CurveInterpolation::MonotoneConvex,
                    times.clone(),
                    zeros,
                )
                .expect("valid curve"),
            )
            .expect("same date");
        }
    }
    m
}

fn quotes(as_of: Date) -> Vec<Quote> {
    let mut q = vec![Quote {
        kind: QuoteKind::Deposit {
            day_count: DayCount::Act360,
        },
        end: as_of.add_months(3),
        rate: 0.02,
        label: "deposit 3M".into(),
    }];
    for (years, rate) in [
        (1, 0.0212),
        (2, 0.022),
        (3, 0.0228),
        (4, 0.0235),
        (5, 0.0241),
        (6, 0.0247),
        (7, 0.0252),
        (8, 0.0257),
        (10, 0.0265),
        (12, 0.027),
        (15, 0.0278),
        (20, 0.0281),
    ] {
        q.push(Quote {
            kind: QuoteKind::Swap {
                fixed_period: "1Y".parse().expect("tenor"),
                fixed_day_count: DayCount::ThirtyE360,
                float_period: "6M".parse().expect("tenor"),
            },
            end: as_of.add_months(12 * years),
            rate,
            label: format!("swap {years}Y"),
        });
    }
    q
}

fn benches(c: &mut Criterion) {
    let base = snapshot();
    for (name, mode) in [
        ("pillars", ShockMode::Pillars),
        ("continuous", ShockMode::Continuous),
    ] {
        let spec = StandardSpec {
            mode,
            ..StandardSpec::default()
        };
        c.bench_function(&format!("seven_snapshots_10ccy_3curves_{name}"), |b| {
            b.iter(|| {
                let base = black_box(&base).clone();
                let shocked = apply_all(&base, &spec).expect("all currencies have tables");
                black_box((base, shocked))
            })
        });
    }
    let as_of = Date::ymd(2025, 12, 31);
    let qs = quotes(as_of);
    for method in [
        CurveInterpolation::LinearZero,
        CurveInterpolation::MonotoneConvex,
    ] {
        c.bench_function(&format!("bootstrap_13_quotes_{}", method.code()), |b| {
            b.iter(|| {
                bootstrap(
                    "B",
                    "EUR",
                    as_of,
                    DayCount::Act365Fixed,
                    method,
                    black_box(&qs),
                    None,
                )
                .expect("fits")
            })
        });
    }
}

mod group {
    #![allow(missing_docs, unreachable_pub)]
    criterion::criterion_group!(scenario_benches, super::benches);
}
criterion_main!(group::scenario_benches);
