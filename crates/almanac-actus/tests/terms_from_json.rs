//! [`TermsFromJson`] (terms read term by term while parsing) against [`ContractTerms::from_raw`]
//! (terms read from a parsed map): the same terms, or the same error, for every contract of the
//! official ACTUS suite, and for bad terms.

use std::path::PathBuf;

use almanac_actus::{ContractTerms, RawTerms, TermsFromJson};
use serde_json::Value;

fn both(
    obj: &serde_json::Map<String, Value>,
) -> (Result<ContractTerms, String>, Result<ContractTerms, String>) {
    let text = serde_json::to_string(obj).unwrap();
    let streamed: TermsFromJson = serde_json::from_str(&text).unwrap();
    let raw: RawTerms = obj.clone();
    (
        streamed.0.map(|t| *t).map_err(|e| e.to_string()),
        ContractTerms::from_raw(&raw, "").map_err(|e| e.to_string()),
    )
}

#[test]
fn streamed_terms_equal_terms_from_the_map_on_the_actus_suite() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/actus-tests");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let suite: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for (id, case) in suite.as_object().unwrap() {
            let Some(terms) = case.get("terms").and_then(Value::as_object) else {
                continue;
            };
            let (a, b) = both(terms);
            assert_eq!(a, b, "{id}");
            n += 1;
        }
    }
    assert!(n > 250, "only {n} cases");
}

#[test]
fn streamed_terms_name_the_same_bad_term() {
    let obj: serde_json::Map<String, Value> = serde_json::from_str(
        r#"{"contractType": "PAM", "contractID": "X-1", "nominalInterestRate": "five",
            "notionalPrincipal": " 1000", "someVendorField": 7}"#,
    )
    .unwrap();
    let (a, b) = both(&obj);
    assert_eq!(a, b);
    let e = a.unwrap_err();
    assert!(
        e.contains("X-1") && e.contains("nominalInterestRate") && e.contains("five"),
        "{e}"
    );
    // Unknown terms are kept, in both.
    let ok: serde_json::Map<String, Value> =
        serde_json::from_str(r#"{"contractType": "PAM", "contractID": "X-2", "vendor": 7}"#)
            .unwrap();
    let (a, b) = both(&ok);
    assert_eq!(a, b);
    assert_eq!(a.unwrap().extra.get("vendor"), Some(&Value::from(7)));
}

/// A contract without an id is named by the hint in both readings, in its terms and in its
/// errors; a given id wins over the hint.
#[test]
fn a_seeded_reading_names_a_contract_without_an_id_by_the_hint() {
    use serde::de::DeserializeSeed;
    let seeded = |text: &str, hint: &str| {
        let mut de = serde_json::Deserializer::from_str(text);
        let t = almanac_actus::TermsSeed(hint).deserialize(&mut de).unwrap();
        let raw: RawTerms = serde_json::from_str(text).unwrap();
        (
            t.0.map(|t| *t).map_err(|e| e.to_string()),
            ContractTerms::from_raw(&raw, hint).map_err(|e| e.to_string()),
        )
    };
    let (a, b) = seeded(
        r#"{"contractType": "PAM", "notionalPrincipal": 1000}"#,
        "f.json item 3",
    );
    assert_eq!(a, b);
    assert_eq!(a.unwrap().id(), "f.json item 3");
    let (a, b) = seeded(
        r#"{"contractType": "PAM", "nominalInterestRate": "x"}"#,
        "item 4",
    );
    assert_eq!(a, b);
    assert!(a.unwrap_err().contains("item 4"));
    let (a, b) = seeded(r#"{"contractType": "PAM", "contractID": "Z"}"#, "item 5");
    assert_eq!(a, b);
    assert_eq!(a.unwrap().id(), "Z");
}
