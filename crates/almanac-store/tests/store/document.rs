//! Documents: content addressing, versions and history.

use almanac_store::{document_id, DocumentKind, ObjectKind, Storage, StoreError};

use crate::support::{aborted_by_trigger, document, TempDir};

const CURVES_V1: &str = r#"{"curves":{"EUR":[[1.0,0.02]]}}"#;
const CURVES_V2: &str = r#"{"curves":{"EUR":[[1.0,0.021]]}}"#;
const CURVES_V3: &str = r#"{"curves":{"EUR":[[1.0,0.022]]}}"#;

#[test]
fn a_document_round_trips_with_its_metadata() {
    let dir = TempDir::new("document-round-trip");
    let mut store = dir.open();
    let id = store
        .put_document(document(DocumentKind::Market, "eur-base", CURVES_V1, None))
        .unwrap();
    assert_eq!(id, document_id(DocumentKind::Market, CURVES_V1));
    assert!(id.starts_with("mkt-") && id.len() == 4 + 64);

    let stored = store.document(&id).unwrap();
    assert_eq!(stored.body, CURVES_V1);
    assert_eq!(stored.info.id, id);
    assert_eq!(stored.info.kind, DocumentKind::Market);
    assert_eq!(stored.info.name, "eur-base");
    assert_eq!(stored.info.parent, None);
    assert_eq!(stored.info.author, "alm-team");
    assert_eq!(stored.info.created_at, "2026-11-02T10:00:00Z");
    assert_eq!(stored.info.reason, "update eur-base");
    assert_eq!(store.documents(None).unwrap(), vec![stored.info]);
}

#[test]
fn the_same_body_gives_the_same_id_and_is_stored_once() {
    let dir = TempDir::new("document-idempotent");
    let mut store = dir.open();
    let first = store
        .put_document(document(DocumentKind::ScenarioSet, "irrbb", "{}", None))
        .unwrap();
    let mut again = document(DocumentKind::ScenarioSet, "other-name", "{}", None);
    again.author = "someone-else".into();
    assert_eq!(store.put_document(again).unwrap(), first);
    assert_eq!(store.documents(None).unwrap().len(), 1);
    assert_eq!(store.document(&first).unwrap().info.name, "irrbb");
    assert_eq!(store.audit().unwrap().len(), 1);

    // The kind is part of the identity.
    let other_kind = store
        .put_document(document(DocumentKind::Assumptions, "irrbb", "{}", None))
        .unwrap();
    assert_ne!(other_kind, first);
    assert!(other_kind.starts_with("asm-"));
    assert_eq!(store.documents(None).unwrap().len(), 2);
}

#[test]
fn history_walks_the_parents_newest_first() {
    let dir = TempDir::new("document-history");
    let mut store = dir.open();
    let v1 = store
        .put_document(document(DocumentKind::Market, "eur-base", CURVES_V1, None))
        .unwrap();
    let v2 = store
        .put_document(document(
            DocumentKind::Market,
            "eur-base",
            CURVES_V2,
            Some(&v1),
        ))
        .unwrap();
    let v3 = store
        .put_document(document(
            DocumentKind::Market,
            "eur-base",
            CURVES_V3,
            Some(&v2),
        ))
        .unwrap();
    // An unrelated document does not show up.
    store
        .put_document(document(DocumentKind::Market, "usd-base", "{}", None))
        .unwrap();

    let history = store.history(&v3).unwrap();
    let ids: Vec<&str> = history.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [v3.as_str(), v2.as_str(), v1.as_str()]);
    assert_eq!(history[0].parent.as_deref(), Some(v2.as_str()));
    assert_eq!(history[2].parent, None);
    assert_eq!(store.history(&v1).unwrap().len(), 1);

    // A branch: a second child of v1.
    let branch = store
        .put_document(document(DocumentKind::Market, "eur-base", "[]", Some(&v1)))
        .unwrap();
    let ids: Vec<String> = store
        .history(&branch)
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, [branch, v1]);
}

#[test]
fn a_parent_must_exist_and_share_kind_and_name() {
    let dir = TempDir::new("document-parent");
    let mut store = dir.open();
    let v1 = store
        .put_document(document(DocumentKind::Market, "eur-base", CURVES_V1, None))
        .unwrap();

    let missing = document_id(DocumentKind::Market, "never stored");
    match store.put_document(document(
        DocumentKind::Market,
        "eur-base",
        CURVES_V2,
        Some(&missing),
    )) {
        Err(StoreError::ParentNotFound { parent }) => assert_eq!(parent, missing),
        other => panic!("expected a missing parent, got {other:?}"),
    }
    match store.put_document(document(
        DocumentKind::Market,
        "usd-base",
        CURVES_V2,
        Some(&v1),
    )) {
        Err(StoreError::ParentMismatch {
            parent_name, name, ..
        }) => assert_eq!(
            (parent_name.as_str(), name.as_str()),
            ("eur-base", "usd-base")
        ),
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    match store.put_document(document(
        DocumentKind::Assumptions,
        "eur-base",
        CURVES_V2,
        Some(&v1),
    )) {
        Err(StoreError::ParentMismatch {
            parent_kind, kind, ..
        }) => assert_eq!(
            (parent_kind.as_str(), kind.as_str()),
            ("market", "assumptions")
        ),
        other => panic!("expected a kind mismatch, got {other:?}"),
    }
    assert_eq!(store.documents(None).unwrap().len(), 1);
    assert_eq!(store.audit().unwrap().len(), 1);
}

#[test]
fn documents_are_listed_by_kind() {
    let dir = TempDir::new("document-kinds");
    let mut store = dir.open();
    let market = store
        .put_document(document(DocumentKind::Market, "m", "1", None))
        .unwrap();
    let scenarios = store
        .put_document(document(DocumentKind::ScenarioSet, "s", "2", None))
        .unwrap();
    let assumptions = store
        .put_document(document(DocumentKind::Assumptions, "a", "3", None))
        .unwrap();
    let ids = |kind| -> Vec<String> {
        store
            .documents(kind)
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect()
    };
    assert_eq!(
        ids(Some(DocumentKind::Market)),
        std::slice::from_ref(&market)
    );
    assert_eq!(
        ids(Some(DocumentKind::ScenarioSet)),
        std::slice::from_ref(&scenarios)
    );
    assert_eq!(
        ids(Some(DocumentKind::Assumptions)),
        std::slice::from_ref(&assumptions)
    );
    let mut all = ids(None);
    all.sort();
    let mut expected = vec![market, scenarios, assumptions];
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn unknown_documents_are_not_found_and_bad_input_is_refused() {
    let dir = TempDir::new("document-errors");
    let mut store = dir.open();
    let id = document_id(DocumentKind::Market, "x");
    for result in [
        store.document(&id).map(|_| ()),
        store.history(&id).map(|_| ()),
    ] {
        assert!(matches!(
            result,
            Err(StoreError::NotFound {
                object: ObjectKind::Document,
                ..
            })
        ));
    }
    let mut no_reason = document(DocumentKind::Market, "m", "x", None);
    no_reason.reason.clear();
    assert!(matches!(
        store.put_document(no_reason),
        Err(StoreError::InvalidInput {
            field: "reason",
            ..
        })
    ));
    assert!(store.documents(None).unwrap().is_empty());
}

#[test]
fn documents_cannot_be_updated_or_deleted() {
    let dir = TempDir::new("document-immutable");
    let mut store = dir.open();
    store
        .put_document(document(DocumentKind::Market, "m", CURVES_V1, None))
        .unwrap();
    let raw = dir.raw();
    assert!(aborted_by_trigger(
        raw.execute("UPDATE documents SET body = '{}'", [])
    ));
    assert!(aborted_by_trigger(raw.execute("DELETE FROM documents", [])));
}
