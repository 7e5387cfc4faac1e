//! The compact binary form of contract terms: it gives back exactly the terms written, for
//! every plain contract of the official ACTUS suite and for a contract with terms of every
//! kind; it refuses what it cannot hold; and no bytes make reading panic.

use std::path::PathBuf;

use almanac_actus::conformance::parse_suite;
use almanac_actus::{ContractTerms, RawTerms};

fn suite_terms() -> Vec<ContractTerms> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/actus-tests");
    let mut out = Vec::new();
    for d in [dir.clone(), dir.join("upstream-after-v1.0")] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("the ACTUS suite must be at {}: {e}", d.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for case in parse_suite(&text).unwrap() {
                if let Ok(t) = case.terms {
                    out.push(t);
                }
            }
        }
    }
    out
}

fn round_trip(t: &ContractTerms) -> Option<ContractTerms> {
    let mut bytes = vec![0xAB];
    if !t.write_compact(&mut bytes) {
        assert_eq!(bytes, [0xAB], "a refused form leaves the buffer as it was");
        return None;
    }
    Some(*ContractTerms::read_compact(&bytes[1..]).expect("a written form reads back"))
}

/// Terms of every kind: text, numbers, dates with a time of day, periods, cycles with both
/// stubs, codes, flags and lists.
fn every_kind() -> ContractTerms {
    let raw: RawTerms = serde_json::from_str(
        r#"{
        "contractID": "X-1", "contractType": "LAX", "contractRole": "RPL",
        "statusDate": "2025-12-31T00:00:00", "currency": "EUR", "currency2": "USD",
        "dayCountConvention": "AA", "businessDayConvention": "CSMF", "calendar": "MFH",
        "holidays": ["2026-01-01T00:00:00", "2026-12-25T00:00:00"],
        "endOfMonthConvention": "EOM", "initialExchangeDate": "2024-02-29T00:00:00",
        "maturityDate": "2034-02-28T23:59:59", "notionalPrincipal": 1234567.891,
        "nominalInterestRate": -0.0012345678901234567, "accruedInterest": 0.1,
        "cycleOfInterestPayment": "P3ML0", "cycleOfRateReset": "P1YL1",
        "fixingPeriod": "P0D", "xDayNotice": "P2W", "settlementPeriod": "P1H",
        "rateSpread": 0.005, "marketObjectCodeOfRateReset": "EURIBOR3M",
        "interestCalculationBase": "NTL", "feeBasis": "N", "scalingEffect": "INO",
        "creditEventTypeCovered": ["DF", "DL"], "boundaryCrossedFlag": true,
        "arrayCycleAnchorDateOfPrincipalRedemption": ["2025-01-01T00:00:00", "2027-01-01T00:00:00"],
        "arrayCycleOfPrincipalRedemption": ["P1YL1", "P6ML0"],
        "arrayNextPrincipalRedemptionPayment": [1000, 2000.5],
        "arrayIncreaseDecrease": ["INC", "DEC"], "arrayFixedVariable": ["F", "V"],
        "arrayRate": [0.01, 0.02], "contractPerformance": "PF"
    }"#,
    )
    .unwrap();
    ContractTerms::from_raw(&raw, "X").unwrap()
}

#[test]
fn every_plain_suite_contract_reads_back_exactly() {
    let all = suite_terms();
    assert!(all.len() > 250, "the suite has its contracts");
    let mut plain = 0;
    for t in &all {
        match round_trip(t) {
            Some(back) => {
                assert_eq!(&back, t, "{}", t.id());
                plain += 1;
            }
            None => assert!(
                !t.contract_structure.is_empty() || !t.extra.is_empty(),
                "{} is plain but has no compact form",
                t.id()
            ),
        }
    }
    // Most of the suite is plain; composite contracts and unknown terms are read from JSON.
    assert!(plain * 2 > all.len(), "{plain} of {}", all.len());
}

#[test]
fn terms_of_every_kind_read_back_exactly() {
    let t = every_kind();
    assert!(t.holidays.as_ref().is_some_and(|h| h.len() == 2));
    assert!(t.maturity_date.is_some_and(|d| d.second_of_day() == 86_399));
    let back = round_trip(&t).expect("plain terms have a compact form");
    assert_eq!(back, t);
    // Bit for bit, including a number with no short decimal form.
    assert_eq!(
        back.nominal_interest_rate.unwrap().to_bits(),
        t.nominal_interest_rate.unwrap().to_bits()
    );
}

/// Read one after the other into the same terms (as an IRRBB worker does), each contract
/// comes back exactly: nothing of the contract before it is left behind, even after a form
/// that did not read.
#[test]
fn forms_read_into_the_same_terms_leave_nothing_behind() {
    let mut all = suite_terms();
    all.insert(0, every_kind());
    let mut scratch = every_kind();
    let mut read = 0;
    for t in &all {
        let mut bytes = Vec::new();
        if !t.write_compact(&mut bytes) {
            continue;
        }
        // A truncated form first: it fails, and leaves the terms partly read.
        let _ = scratch.read_compact_into(&bytes[..bytes.len() / 2]);
        scratch
            .read_compact_into(&bytes)
            .expect("a written form reads back");
        assert_eq!(&scratch, t, "{}", t.id());
        read += 1;
    }
    assert!(read > 100, "{read}");
}

#[test]
fn terms_with_a_structure_or_unknown_terms_have_no_compact_form() {
    let mut t = every_kind();
    t.extra
        .insert("notionalRate".into(), serde_json::json!(1.0));
    assert!(round_trip(&t).is_none());
    let composite = suite_terms()
        .into_iter()
        .find(|t| !t.contract_structure.is_empty())
        .expect("the suite has composite contracts");
    assert!(round_trip(&composite).is_none());
}

#[test]
fn another_format_or_layout_is_refused() {
    let mut bytes = Vec::new();
    assert!(every_kind().write_compact(&mut bytes));
    let mut other = bytes.clone();
    other[0] = almanac_actus::COMPACT_FORMAT + 1;
    let e = ContractTerms::read_compact(&other).unwrap_err();
    assert!(e.to_string().contains("format"), "{e}");
    let mut other = bytes.clone();
    other[1] ^= 1;
    let e = ContractTerms::read_compact(&other).unwrap_err();
    assert!(e.to_string().contains("layout"), "{e}");
    assert!(ContractTerms::read_compact(&[]).is_err());
}

#[test]
fn every_truncation_is_an_error_or_a_prefix_of_the_terms() {
    let mut bytes = Vec::new();
    assert!(every_kind().write_compact(&mut bytes));
    for n in 0..bytes.len() {
        // A cut between two terms is a valid form of fewer terms; any other cut is an error.
        if let Ok(t) = ContractTerms::read_compact(&bytes[..n]) {
            let mut again = Vec::new();
            assert!(t.write_compact(&mut again));
            assert_eq!(again, bytes[..n], "a prefix reads back as that prefix");
        }
    }
}

#[test]
fn random_damage_never_panics() {
    // A deterministic xorshift: flips, inserts and deletes bytes of valid forms.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let forms: Vec<Vec<u8>> = suite_terms()
        .iter()
        .chain(std::iter::once(&every_kind()))
        .filter_map(|t| {
            let mut b = Vec::new();
            t.write_compact(&mut b).then_some(b)
        })
        .collect();
    let mut errors = 0;
    for i in 0..20_000 {
        let mut b = forms[i % forms.len()].clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % (b.len() + 1);
            match next() % 3 {
                0 if at < b.len() => b[at] ^= 1 << (next() % 8),
                1 => b.insert(at, next() as u8),
                _ if at < b.len() => {
                    b.remove(at);
                }
                _ => {}
            }
        }
        match ContractTerms::read_compact(&b) {
            // Whatever reads is valid terms: written again, they read back the same.
            Ok(t) => assert_eq!(round_trip(&t).as_ref(), Some(&*t)),
            Err(_) => errors += 1,
        }
    }
    assert!(errors > 10_000, "most damage is detected: {errors}");
}
