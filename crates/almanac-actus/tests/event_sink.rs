//! [`evaluate_each_into`] hands a sink exactly the events [`evaluate_into`] lists — same
//! events, same order, same states, bit for bit — on every case of the official ACTUS suite,
//! for the contract types that run straight into the sink (PAM, LAM, NAM, ANN, including
//! purchases and terminations) and the ones that are listed first.

use std::path::PathBuf;

use almanac_actus::conformance::parse_suite;
use almanac_actus::{
    evaluate_each_into, evaluate_into, ContractEvent, EvalContext, EventHead, EventSink, States,
};

/// A sink that keeps the events in its own list and counts how often it was begun.
#[derive(Default)]
struct Recorder {
    events: Vec<ContractEvent>,
    begun: usize,
}

impl EventSink for Recorder {
    fn begin(&mut self) {
        self.begun += 1;
        self.events.clear();
    }

    fn event(&mut self, head: EventHead, payoff: f64, states: &States) {
        self.events.push(head.with(payoff, states));
    }
}

fn same(a: &[ContractEvent], b: &[ContractEvent]) -> bool {
    // Bit for bit: NaN states (none expected) would compare unequal with `==`.
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| format!("{x:?}") == format!("{y:?}"))
}

#[test]
fn a_sink_gets_exactly_the_listed_events_on_the_actus_suite() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/actus-tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the ACTUS suite must be at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut compared, mut purchases) = (0, 0);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(cases) = parse_suite(&text) else {
            continue;
        };
        for case in cases {
            let Ok(terms) = &case.terms else { continue };
            let ctx = EvalContext {
                observer: &case.market,
                observed_events: &case.observed,
                to: case.to,
            };
            let mut listed = Vec::new();
            let listed_ok = evaluate_into(terms, &ctx, &mut listed).is_ok();
            // Two contexts (the same one twice): each sink gets its own full run.
            let mut sinks = [Recorder::default(), Recorder::default()];
            let sunk_ok = evaluate_each_into(terms, &[&ctx, &ctx], &mut sinks).is_ok();
            assert_eq!(
                listed_ok, sunk_ok,
                "{}: one way failed, the other not",
                case.id
            );
            if !listed_ok {
                continue;
            }
            for sink in &sinks {
                assert_eq!(sink.begun, 1, "{}", case.id);
                assert!(
                    same(&sink.events, &listed),
                    "{}: the sink got {} events, the list has {}",
                    case.id,
                    sink.events.len(),
                    listed.len()
                );
            }
            compared += 1;
            if terms.purchase_date.is_some() {
                purchases += 1;
            }
        }
    }
    assert!(compared > 250, "only {compared} cases compared");
    assert!(purchases > 0, "no case with a purchase date compared");
}
