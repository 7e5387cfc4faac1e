use super::*;

const MAPPING: &str = r#"
[source]
date_format = "DD.MM.YYYY"
delimiter = ";"

[defaults]
contractRole = "RPA"
legal_entity = "ALMANAC BANK AG"
currency = "EUR"
dayCountConvention = "30E360"

[columns]
contractID = "deal"
contractType = { column = "product", codes = { MORT = "ANN", LOAN = "PAM", TD = "PAM", EQ = "NI_EQUITY", FA = "NI_ASSET" } }
contractRole = { column = "side", codes = { A = "RPA", L = "RPL" } }
notionalPrincipal = { column = "balance_cents", scale = 0.01 }
nominalInterestRate = { column = "rate_pct", unit = "percent" }
initialExchangeDate = "start"
maturityDate = "end"
cycleOfInterestPayment = { column = "freq", codes = { M = "P1ML1", Q = "P3ML1", Y = "P1YL1" } }
cycleOfPrincipalRedemption = { column = "freq_pr", codes = { M = "P1ML1" } }
counterparty_type = { column = "segment", codes = { PRIV = "retail", CORP = "non_financial_corporate" } }
"deposit.insured" = "dgs"
"dim.region" = "region"
"behaviour.prepayment" = "prepay"
"#;

const TAPE: &str =
    "deal;product;side;balance_cents;rate_pct;start;end;freq;freq_pr;segment;dgs;region;prepay
M1;MORT;A;25000000;3.45;15.01.2025;15.01.2050;M;M;PRIV;;north;cpr_mortgage
L1;LOAN;A;100000000;4.7;31.03.2025;31.03.2030;Q;;CORP;;south;
D1;TD;L;5000000;2.1;01.10.2025;01.10.2026;Y;;PRIV;yes;north;
BAD1;SWAPX;A;100;1;01.01.2025;01.01.2026;Y;;PRIV;;north;
BAD2;LOAN;A;abc;4;31.02.2025;31.03.2030;W;;CORP;;south;
BAD3;LOAN;A;100;4;01.01.2030;01.01.2025;Y;;CORP;;south;
EQ1;EQ;;30000000;;;;;;;;;
M1;MORT;A;1;1;15.01.2025;15.01.2050;M;M;PRIV;;north;
";

fn run() -> Ingested {
    let m = Mapping::from_toml(MAPPING, "map.toml").unwrap();
    ingest_csv(
        TAPE.as_bytes(),
        "tape.csv",
        Some(&m),
        Date::ymd(2025, 12, 31),
    )
    .unwrap()
}

#[test]
fn every_row_is_imported_or_rejected_with_reasons() {
    let out = run();
    assert_eq!(out.rows, 8);
    let ids: Vec<&str> = out.positions.iter().map(Position::id).collect();
    assert_eq!(ids, ["M1", "L1", "D1", "EQ1"]);
    assert_eq!(out.rejected_rows, 4);
    assert_eq!(out.positions.len() as u64 + out.rejected_rows, out.rows);
    let by_row = |r: u64| -> Vec<&Problem> { out.problems.iter().filter(|p| p.row == r).collect() };
    // Unknown product code: named column, value and the known codes.
    let p = by_row(4);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].column.as_str(), p[0].value.as_str()),
        ("product", "SWAPX")
    );
    assert!(p[0].reason.contains("unknown code") && p[0].reason.contains("MORT"));
    // Several problems in one row are all reported.
    let p = by_row(5);
    let cols: Vec<&str> = p.iter().map(|x| x.column.as_str()).collect();
    assert!(
        cols.contains(&"balance_cents") && cols.contains(&"freq"),
        "{p:?}"
    );
    // Inconsistent dates.
    let p = by_row(6);
    assert_eq!(p[0].column, "end");
    assert!(p[0].reason.contains("before the initial exchange"));
    // Duplicate id names the first row.
    let p = by_row(8);
    assert!(p[0].reason.contains("duplicate id: row 1"), "{p:?}");
    assert!(out.problems.iter().all(|p| p.file == "tape.csv"));
}

#[test]
fn units_codes_defaults_and_attributes() {
    let out = run();
    let m1 = &out.positions[0];
    let Instrument::Contract(t) = &m1.instrument else {
        panic!()
    };
    assert_eq!(t.notional_principal, Some(250_000.0));
    assert_eq!(t.nominal_interest_rate, Some(0.0345));
    assert_eq!(t.maturity_date.unwrap().to_string(), "2050-01-15T00:00:00");
    assert_eq!(t.status_date.unwrap().to_string(), "2025-12-31T00:00:00");
    assert_eq!(t.currency.as_deref(), Some("EUR"));
    assert_eq!(m1.attributes.legal_entity, "ALMANAC BANK AG");
    assert_eq!(
        m1.attributes.counterparty_type,
        Some(CounterpartyType::Retail)
    );
    assert_eq!(m1.attributes.dimensions["region"], "north");
    assert_eq!(m1.attributes.behaviour["prepayment"], "cpr_mortgage");
    let d1 = &out.positions[2];
    assert!(d1.attributes.deposit.unwrap().insured);
    assert_eq!(d1.side(Date::ymd(2025, 12, 31)), Side::Liability);
    let eq = &out.positions[3];
    assert_eq!(eq.side(Date::ymd(2025, 12, 31)), Side::Equity);
    assert_eq!(eq.balance(Date::ymd(2025, 12, 31)), 300_000.0);
}

#[test]
fn same_result_on_any_number_of_threads() {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(run);
    let four = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(run);
    assert_eq!(one.positions, four.positions);
    assert_eq!(one.problems, four.problems);
}

#[test]
fn mapping_errors_and_missing_columns() {
    let e = Mapping::from_toml(
        "[columns]\nnotAField = \"x\"\ncontractID = \"id\"\n",
        "m.toml",
    )
    .unwrap_err();
    assert!(e.to_string().contains("columns.notAField"), "{e}");
    let e = Mapping::from_toml("[columns]\ncurrency = \"ccy\"\n", "m.toml").unwrap_err();
    assert!(e.to_string().contains("contractID is required"), "{e}");
    let e = Mapping::from_toml("[columns\n", "m.toml").unwrap_err();
    assert!(e.to_string().contains("m.toml: line 1"), "{e}");
    let m = Mapping::from_toml(
        "[columns]\ncontractID = \"id\"\ncurrency = \"ccy\"\n",
        "m.toml",
    )
    .unwrap();
    let e = ingest_csv(
        "id\nX\n".as_bytes(),
        "t.csv",
        Some(&m),
        Date::ymd(2025, 1, 1),
    )
    .unwrap_err();
    assert!(e.to_string().contains("column \"ccy\""), "{e}");
}

#[test]
fn reports_in_csv_and_json() {
    let out = run();
    let csv = report::to_csv(&out.problems);
    assert!(csv.starts_with("file,row,column,value,reason\n"));
    assert_eq!(csv.lines().count(), 1 + out.problems.len());
    let json: serde_json::Value = serde_json::from_str(&report::to_json(&out.problems)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), out.problems.len());
    assert_eq!(json[0]["row"], 4);
}

#[test]
fn content_hash_depends_on_every_input() {
    let d = Date::ymd(2025, 12, 31);
    let h = content_hash(b"tape", b"map", d);
    assert_eq!(h.len(), 64);
    assert_ne!(h, content_hash(b"tape2", b"map", d));
    assert_ne!(h, content_hash(b"tape", b"map2", d));
    assert_ne!(h, content_hash(b"tape", b"map", Date::ymd(2026, 1, 1)));
    assert_eq!(h, content_hash(b"tape", b"map", d));
}

/// The liquidity attributes: collateral level, risk weight and a facility, read from columns;
/// bad values are row problems naming the column.
#[test]
fn liquidity_attributes_are_read_and_checked() {
    let mapping = r#"
[defaults]
currency = "EUR"
[columns]
contractID = "deal"
contractType = { column = "product", codes = { LOAN = "PAM", LINE = "NI_OFF_BALANCE" } }
contractRole = { column = "side", codes = { A = "RPA", O = "RPA" } }
notionalPrincipal = "balance"
nominalInterestRate = "rate"
initialExchangeDate = "start"
maturityDate = "end"
collateral_hqla_level = "coll"
risk_weight = "rw"
downgrade_collateral = "dg"
"facility.kind" = "facility"
"facility.committed" = "committed"
"#;
    let tape = "deal,product,side,balance,rate,start,end,coll,rw,facility,committed,dg
R1,LOAN,A,100,0.01,2025-01-01,2026-01-05,l1,0.35,,,25
R2,LOAN,A,100,0.01,2025-01-01,2026-01-05,gold,1.5,,,
R3,LOAN,A,100,0.01,2025-01-01,2026-01-05,,13,,,
R4,LOAN,A,100,0.01,2025-01-01,2026-01-05,,,credit,no,
R5,LOAN,A,100,0.01,2025-01-01,2026-01-05,,,,yes,
R6,LOAN,A,100,0.01,2025-01-01,2026-01-05,,,,,-3
";
    let m = Mapping::from_toml(mapping, "map.toml").unwrap();
    let out = ingest_csv(tape.as_bytes(), "t.csv", Some(&m), Date::ymd(2025, 12, 31)).unwrap();
    let by_id = |id: &str| out.positions.iter().find(|p| p.id() == id);
    let r1 = &by_id("R1").unwrap().attributes;
    assert_eq!(r1.collateral_hqla_level, Some(HqlaLevel::L1));
    assert_eq!(r1.risk_weight, Some(0.35));
    assert_eq!(r1.downgrade_collateral, Some(25.0));
    let r4 = &by_id("R4").unwrap().attributes;
    assert_eq!(
        r4.facility,
        Some(Facility {
            kind: FacilityKind::Credit,
            committed: false,
            received: false,
        })
    );
    for (id, column) in [
        ("R2", "coll"),
        ("R3", "rw"),
        ("R5", "facility.committed"),
        ("R6", "dg"),
    ] {
        assert!(by_id(id).is_none(), "{id} should be rejected");
        assert!(
            out.problems.iter().any(|p| p.column == column),
            "{id}: {:?}",
            out.problems
        );
    }
}

/// Central-bank eligibility, its haircut and facilities received are read; bad values are row
/// problems naming the column.
#[test]
fn capacity_attributes_are_read_and_checked() {
    let mapping = r#"
[defaults]
currency = "EUR"
[columns]
contractID = "deal"
contractType = { column = "product", codes = { LOAN = "PAM", LINE = "NI_OFF_BALANCE" } }
contractRole = { column = "side", codes = { A = "RPA", O = "RPA" } }
notionalPrincipal = "balance"
nominalInterestRate = "rate"
initialExchangeDate = "start"
maturityDate = "end"
central_bank_eligible = "cbe"
central_bank_haircut = "cbh"
"facility.kind" = "facility"
"facility.received" = "received"
"#;
    let tape = "deal,product,side,balance,rate,start,end,cbe,cbh,facility,received
C1,LOAN,A,100,0.01,2025-01-01,2026-01-05,yes,0.12,,
C2,LOAN,A,100,0.01,2025-01-01,2026-01-05,maybe,,,
C3,LOAN,A,100,0.01,2025-01-01,2026-01-05,yes,1.5,,
F1,LINE,O,50,,,,,,liquidity,yes
F2,LINE,O,50,,,,,,,yes
";
    let m = Mapping::from_toml(mapping, "map.toml").unwrap();
    let out = ingest_csv(tape.as_bytes(), "t.csv", Some(&m), Date::ymd(2025, 12, 31)).unwrap();
    let by_id = |id: &str| out.positions.iter().find(|p| p.id() == id);
    let c1 = &by_id("C1").unwrap().attributes;
    assert!(c1.central_bank_eligible);
    assert_eq!(c1.central_bank_haircut, Some(0.12));
    let f1 = by_id("F1").unwrap().attributes.facility.unwrap();
    assert!(f1.received && f1.committed);
    for (id, column) in [("C2", "cbe"), ("C3", "cbh"), ("F2", "facility.committed")] {
        assert!(by_id(id).is_none(), "{id} should be rejected");
        assert!(
            out.problems.iter().any(|p| p.column == column),
            "{id}: {:?}",
            out.problems
        );
    }
}
