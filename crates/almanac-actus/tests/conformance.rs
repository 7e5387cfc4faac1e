//! Runs the official ACTUS test suite (`../shared/actus-tests`, v1.0 plus the newer upstream
//! cases) and checks the outcome against `expected-failures.txt`.

use std::path::PathBuf;

use almanac_actus::conformance::{parse_suite, ExpectedFailures, Report};

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/actus-tests")
}

fn suite_files() -> Vec<PathBuf> {
    let dir = suite_dir();
    let mut files = Vec::new();
    for d in [dir.clone(), dir.join("upstream-after-v1.0")] {
        let entries = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("the ACTUS suite must be at {}: {e}", d.display()));
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn actus_suite_passes_except_listed_cases() {
    let expected = ExpectedFailures::builtin();
    let mut report = Report::default();
    let mut v1_total = 0;
    let mut v1_passed = 0;
    for f in suite_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let cases = parse_suite(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let before = report.overall;
        report.add_cases(&cases, &expected);
        if !f.to_string_lossy().contains("upstream-after") {
            v1_total += report.overall.total - before.total;
            v1_passed += report.overall.passed - before.passed;
        }
    }
    println!("{}", report.table());
    println!("v1.0: {v1_passed} of {v1_total} cases pass");
    assert_eq!(v1_total, 276, "the v1.0 suite has 276 cases");
    let unexpected: Vec<_> = report.failures.iter().filter(|f| !f.expected).collect();
    assert!(
        unexpected.is_empty(),
        "unexpected outcomes:\n{unexpected:#?}"
    );
    // Every listed id must be a real case.
    let listed = expected.ids().count();
    assert_eq!(
        listed, report.overall.expected_failures,
        "expected-failures.txt lists unknown ids"
    );
}
