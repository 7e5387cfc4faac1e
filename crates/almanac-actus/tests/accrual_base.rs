//! The interest accrual base the amortizing contracts carry in their states
//! (`States::interest_accrual_base`) checked on every PAM, LAM, ANN and NAM case of the
//! official ACTUS suite: wherever the rate and the interest scaling stayed the same over an
//! interest period, the interest paid must be `scaling × rate × base`.

use std::path::PathBuf;

use almanac_actus::conformance::parse_suite;
use almanac_actus::{evaluate, EvalContext, EventType};

#[test]
fn interest_paid_is_rate_times_accrual_base_on_the_actus_suite() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/actus-tests");
    let mut checked = 0;
    let mut nonzero = 0;
    for name in [
        "actus-tests-pam.json",
        "actus-tests-lam.json",
        "actus-tests-ann.json",
        "actus-tests-nam.json",
    ] {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("the ACTUS suite must be at {}: {e}", dir.display()));
        for case in parse_suite(&text).unwrap() {
            let Ok(terms) = &case.terms else { continue };
            let ctx = EvalContext {
                observer: &case.market,
                observed_events: &case.observed,
                to: case.to,
            };
            let Ok(events) = evaluate(terms, &ctx) else {
                continue;
            };
            // The rate and scaling in force since the last interest payment, if unchanged.
            let mut period: Option<(f64, f64)> = None;
            // Only periods that start at a reported event (initial exchange or a previous
            // payment) are checkable: events before a purchase are not reported.
            let mut constant = false;
            for (k, e) in events.iter().enumerate() {
                let before = if k == 0 {
                    None
                } else {
                    Some(&events[k - 1].states)
                };
                if let Some(b) = before {
                    match period {
                        None => {
                            period = Some((b.nominal_interest_rate, b.interest_scaling_multiplier))
                        }
                        Some((r, s)) => {
                            if r != b.nominal_interest_rate || s != b.interest_scaling_multiplier {
                                constant = false;
                            }
                        }
                    }
                }
                if e.event_type == EventType::Ip {
                    // A period that began before the first reported event is not checkable
                    // unless the rate is read from the event before.
                    if let (true, Some((r, s)), Some(_)) = (constant, period, before) {
                        let expected = s * r * e.states.interest_accrual_base;
                        assert!(
                            (e.payoff - expected).abs() <= 1e-9 * e.payoff.abs().max(1.0),
                            "{}: IP at {} paid {} but scaling × rate × base = {s} × {r} × {} = {expected}",
                            case.id,
                            e.event_time,
                            e.payoff,
                            e.states.interest_accrual_base,
                        );
                        checked += 1;
                        if e.payoff != 0.0 {
                            nonzero += 1;
                        }
                    }
                    period = None;
                    constant = true;
                }
                if matches!(
                    e.event_type,
                    EventType::Ied | EventType::Ipci | EventType::Md | EventType::Td
                ) {
                    period = None;
                    constant = true;
                }
            }
        }
    }
    assert!(
        checked > 1000 && nonzero > 1000,
        "only {checked} interest payments checked ({nonzero} non-zero)"
    );
}
