//! End-to-end tests of the `almanac` binary on small inputs.

use std::process::Command;

fn almanac() -> Command {
    Command::new(env!("CARGO_BIN_EXE_almanac"))
}

/// A test's scratch folder, removed when the test passes (kept for a look when it fails).
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn temp_dir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("almanac-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

const GOOD: &str = r#"{"contractID":"good","contractType":"PAM","contractRole":"RPA",
  "currency":"EUR","statusDate":"2025-12-31","initialExchangeDate":"2026-01-01",
  "maturityDate":"2027-01-01","notionalPrincipal":1000,"nominalInterestRate":0.04,
  "dayCountConvention":"30E360","cycleOfInterestPayment":"P6ML1"}"#;

#[test]
fn bad_contracts_are_reported_and_the_rest_still_run() {
    let dir = temp_dir("bad");
    let input = dir.join("contracts.json");
    let bad_date = r#"{"contractID":"bad-date","contractType":"PAM","statusDate":"2025-12-31",
      "initialExchangeDate":"2026-01-01","maturityDate":"2027-02-30","notionalPrincipal":1}"#;
    let inverted = r#"{"contractID":"inverted","contractType":"LAM","statusDate":"2025-12-31",
      "initialExchangeDate":"2026-01-01","maturityDate":"2025-06-01","notionalPrincipal":1,
      "cycleOfPrincipalRedemption":"P1ML1","nextPrincipalRedemptionPayment":1}"#;
    let missing = r#"{"contractID":"no-notional","contractType":"ANN","statusDate":"2025-12-31",
      "initialExchangeDate":"2026-01-01","maturityDate":"2027-01-01"}"#;
    std::fs::write(&input, format!("[{GOOD},{bad_date},{inverted},{missing}]")).unwrap();
    let out = dir.join("out.csv");
    let o = almanac()
        .args(["cashflows", "--contracts"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed contract makes the exit status non-zero"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad-date") && err.contains("maturityDate") && err.contains("2027-02-30"),
        "{err}"
    );
    assert!(
        err.contains("inverted") && err.contains("before the initial exchange"),
        "{err}"
    );
    assert!(
        err.contains("no-notional") && err.contains("notionalPrincipal"),
        "{err}"
    );
    assert!(
        err.contains("4 contracts") && err.contains("3 contracts failed"),
        "{err}"
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "contract_id,event_date,event_type,currency,payoff,notional_principal,\
nominal_interest_rate,accrued_interest"
    );
    // IED, IP at IED, two semi-annual IPs, MD.
    assert_eq!(lines.len(), 1 + 5, "{csv}");
    assert!(lines[1].starts_with("good,2026-01-01T00:00:00,IED,EUR,-1000,1000,0.04,0"));
    assert!(lines[5].starts_with("good,2027-01-01T00:00:00,MD,EUR,1000,0,"));
    let total: f64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(4).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((total - 40.0).abs() < 1e-9, "two coupons of 20: {total}");
}

#[test]
fn csv_input_names_file_and_row_in_errors_and_json_output_parses() {
    let dir = temp_dir("csv");
    let input = dir.join("book.csv");
    std::fs::write(
        &input,
        "contractID,contractType,contractRole,currency,statusDate,initialExchangeDate,\
maturityDate,notionalPrincipal,nominalInterestRate,dayCountConvention,cycleOfInterestPayment\n\
d1,PAM,RPL,EUR,2025-12-31,2026-01-01,2026-07-01,500,0.02,A365,\n\
d2,PAM,RPL,EUR,2025-12-31,2026-01-01,2026-07-01,5x0,0.02,A365,\n",
    )
    .unwrap();
    let o = almanac()
        .args(["cashflows", "--format", "json", "--contracts"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("book.csv row 3") && err.contains("notionalPrincipal"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "IED and MD of the deposit");
    assert_eq!(rows[0]["payoff"], 500.0, "a deposit taken is cash received");
    assert_eq!(rows[1]["event_type"], "MD");
    assert!((rows[1]["payoff"].as_f64().unwrap() + 500.0).abs() < 1e-12);
}

#[test]
fn conformance_command_writes_the_json_report() {
    let dir = temp_dir("conf");
    let json = dir.join("report.json");
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/actus-tests");
    let o = almanac()
        .args(["actus", "conformance", "--tests", suite, "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["total"], 292);
    assert_eq!(v["failed"], 0);
    assert_eq!(
        v["passed"].as_u64().unwrap() + v["expected_failures"].as_u64().unwrap(),
        292
    );
    assert_eq!(v["by_type"]["PAM"]["passed"], 28);
    assert!(v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["id"].is_string()));
}

fn example(path: &str) -> String {
    format!("{}/../../examples/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// The official SRP31.92 check values through the command and its JSON (JPY, t = 3.5 y,
/// shocks evaluated at t).
#[test]
fn scenarios_command_reproduces_the_official_check_values() {
    let dir = temp_dir("scen");
    let json = dir.join("s.json");
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(example("market/zero-curves.csv"))
        .args([
            "--currency",
            "JPY",
            "--mode",
            "continuous",
            "--at",
            "0,3.5,30",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["currency"], "JPY");
    assert_eq!(v["calibration"], "bcbs2016");
    let at = |s: &str, i: usize, k: &str| v["scenarios"][s][i][k].as_f64().unwrap();
    assert!((at("short_up", 1, "shift_bp") - 41.69).abs() < 0.005);
    assert!((at("steepener", 1, "shift_bp") - 25.39).abs() < 0.005);
    assert!((at("flattener", 1, "shift_bp") - -1.64).abs() < 0.005);
    assert_eq!(at("parallel_up", 2, "shift_bp"), 100.0);
    assert_eq!(at("parallel_down", 0, "t"), 0.0);
    // Shocked rate = base + shift when evaluated at t (30y JPY pillar: 2.30 %).
    assert!((at("parallel_down", 2, "zero_rate") - 0.013).abs() < 1e-15);
    for s in [
        "parallel_up",
        "parallel_down",
        "steepener",
        "flattener",
        "short_up",
        "short_down",
    ] {
        assert_eq!(v["scenarios"][s].as_array().unwrap().len(), 3, "{s}");
    }
}

#[test]
fn scenarios_command_runs_a_set_and_reports_bad_files() {
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(example("market/snapshot.toml"))
        .args(["--currency", "EUR", "--at", "1,10", "--file"])
        .arg(example("scenarios/alco.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("bear_steepener") && out.contains("q1_2026_move"),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("sha256"));

    let dir = temp_dir("scen-bad");
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "curve_id,currency,pillar,zero_rate\nX,EUR,1Y,0.02\nX,EUR,6M,0.02\n",
    )
    .unwrap();
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(&bad)
        .args(["--currency", "EUR"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.csv, line 3, field pillar"), "{err}");
    // A currency without a shock table in the calibration is an error, not a zero shock.
    let nok = dir.join("nok.csv");
    std::fs::write(&nok, "curve_id,currency,pillar,zero_rate\nN,NOK,1Y,0.02\n").unwrap();
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(&nok)
        .args(["--currency", "NOK"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no shock sizes for currency NOK"));
}

/// Hull–White paths export: one row per path and month, and the same file on one thread and
/// on two.
#[test]
fn hull_white_paths_are_reproducible_across_thread_counts() {
    let dir = temp_dir("hw");
    let run = |threads: &str, out: &std::path::Path| {
        let o = almanac()
            .env("RAYON_NUM_THREADS", threads)
            .args(["scenarios", "--market"])
            .arg(example("market/zero-curves.csv"))
            .args([
                "--currency",
                "EUR",
                "--hull-white",
                "0.05,0.008",
                "--paths",
                "64",
            ])
            .args(["--years", "2", "--seed", "7", "--antithetic", "--paths-out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(out).unwrap()
    };
    let one = run("1", &dir.join("p1.csv"));
    let two = run("2", &dir.join("p2.csv"));
    assert_eq!(one, two);
    assert_eq!(one.lines().count(), 1 + 64 * 24);
    assert!(one.starts_with("path,t,short_rate,discount_factor\n0,"));
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(example("market/zero-curves.csv"))
        .args(["--currency", "EUR", "--hull-white=-0.1,0.01"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("mean"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Shock sizes derived from a rate history: rates rising 1 bp every business day give
/// 125-business-day changes of 125 bp in every tenor, so 125 bp for all three sizes.
#[test]
fn scenarios_derive_shock_sizes_from_a_history() {
    let dir = temp_dir("hist");
    let hist = dir.join("nok.csv");
    let mut text = String::from("date,3M,6M,1Y,2Y,5Y,7Y,10Y,15Y,20Y\n");
    let start = 18_000; // days since 1970
    for i in 0..200 {
        let d = almanac_time::Date::from_days_since_epoch(start + i);
        let r = 0.01 + 0.0001 * f64::from(i);
        text += &format!("{d},{}\n", vec![format!("{r:.6}"); 9].join(","));
    }
    std::fs::write(&hist, &text).unwrap();
    let market = dir.join("nok.csv.market.csv");
    std::fs::write(
        &market,
        "curve_id,currency,pillar,zero_rate\nN,NOK,1Y,0.02\nN,NOK,10Y,0.03\n",
    )
    .unwrap();
    let json = dir.join("s.json");
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(&market)
        .args(["--currency", "NOK", "--at", "0,1", "--history"])
        .arg(&hist)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["scenarios"]["parallel_up"][0]["shift_bp"], 125.0);
    assert_eq!(v["scenarios"]["short_down"][0]["shift_bp"], -125.0);
    // A malformed number names the file, line and column.
    std::fs::write(&hist, text.replacen("0.010100", "x", 1)).unwrap();
    let o = almanac()
        .args(["scenarios", "--market"])
        .arg(&market)
        .args(["--currency", "NOK", "--history"])
        .arg(&hist)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nok.csv, line 3, field 3M"), "{err}");
}

/// The Parquet export holds the same rows as the CSV export.
#[test]
fn hull_white_paths_export_to_parquet() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let dir = temp_dir("hwpq");
    let run = |out: &std::path::Path| {
        let o = almanac()
            .args(["scenarios", "--market"])
            .arg(example("market/zero-curves.csv"))
            .args([
                "--currency",
                "USD",
                "--hull-white",
                "0.04,0.009",
                "--paths",
                "10",
            ])
            .args(["--years", "1", "--paths-out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (csv, pq) = (dir.join("p.csv"), dir.join("p.parquet"));
    run(&csv);
    run(&pq);
    let reader = SerializedFileReader::new(std::fs::File::open(&pq).unwrap()).unwrap();
    let rows: Vec<String> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            format!(
                "{},{:?},{:?},{:?}",
                r.get_long(0).unwrap(),
                r.get_double(1).unwrap(),
                r.get_double(2).unwrap(),
                r.get_double(3).unwrap()
            )
        })
        .collect();
    let csv_rows: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            let f = |s: &str| format!("{:?}", s.parse::<f64>().unwrap());
            format!("{},{},{},{}", v[0], f(v[1]), f(v[2]), f(v[3]))
        })
        .collect();
    assert_eq!(rows.len(), 10 * 12);
    assert_eq!(rows, csv_rows);
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The new user's path through issue #4: sample bank → import (a broken row reported, not
/// lost) → list snapshots → change an assumption and see the diff → run the cash-flow job →
/// replay it bit-identically → verify the audit log; then tamper with the database and see
/// the audit check fail.
#[test]
fn new_user_flow_from_sample_bank_to_audit() {
    let dir = temp_dir("flow");
    let db = dir.join("almanac.db");
    let run = |args: &[&str]| {
        almanac()
            .current_dir(&dir)
            .args(args)
            .args(["--db", db.to_str().unwrap()])
            .arg("--json")
            .output()
            .unwrap()
    };
    let bank = json_of(
        &almanac()
            .current_dir(&dir)
            .args([
                "sample-bank",
                "--contracts",
                "500",
                "--seed",
                "3",
                "--out",
                "bank",
                "--json",
            ])
            .output()
            .unwrap(),
    );
    let tape = dir.join(bank["tape"].as_str().unwrap());
    let mapping = dir.join(bank["mapping"].as_str().unwrap());
    let mut text = std::fs::read_to_string(&tape).unwrap();
    let rows_before = text.lines().count() - 1;
    text += "BROKEN-1,MORT_FIX,A,12O000,3.1,,2024-01-01,2050-01-01,M,M,,,retail,,,,,,,retail,north,,,,,,,,,,,,\n";
    std::fs::write(&tape, text).unwrap();
    let report = dir.join("report.csv");
    let imported = json_of(&run(&[
        "import",
        tape.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]));
    assert_eq!(imported["imported"].as_u64().unwrap() as usize, rows_before);
    assert_eq!(imported["rejected"], 1);
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(report.contains("balance,12O000"), "{report}");
    // The same file again changes nothing.
    let again = json_of(&run(&[
        "import",
        tape.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
    ]));
    assert_eq!(again["already_present"], true);
    assert_eq!(again["snapshot"], imported["snapshot"]);
    // Strict mode refuses the file.
    let strict = run(&[
        "import",
        tape.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    let snapshots = json_of(&run(&["snapshots", "list"]));
    assert_eq!(snapshots.as_array().unwrap().len(), 1);
    let snapshot = snapshots[0]["id"].as_str().unwrap().to_string();

    let assumptions = dir.join(bank["assumptions"].as_str().unwrap());
    let a1 = json_of(&run(&["assumptions", "put", assumptions.to_str().unwrap()]));
    let changed = dir.join("assumptions-v2.toml");
    std::fs::write(
        &changed,
        std::fs::read_to_string(&assumptions)
            .unwrap()
            .replace("cpr = 0.06", "cpr = 0.08"),
    )
    .unwrap();
    let a2 = json_of(&run(&[
        "assumptions",
        "put",
        changed.to_str().unwrap(),
        "--parent",
        a1["id"].as_str().unwrap(),
        "--author",
        "risk",
        "--reason",
        "faster prepayment",
    ]));
    let diff = json_of(&run(&[
        "assumptions",
        "diff",
        a1["id"].as_str().unwrap(),
        a2["id"].as_str().unwrap(),
    ]));
    assert_eq!(diff["changes"].as_array().unwrap().len(), 1);
    assert_eq!(
        diff["changes"][0]["key"],
        "behaviour.prepayment.mortgages.cpr"
    );
    assert_eq!(diff["changes"][0]["before"], "0.06");
    assert_eq!(diff["changes"][0]["after"], "0.08");

    let market = dir.join(bank["market"].as_str().unwrap());
    let r = json_of(&run(&[
        "run",
        "cashflows",
        "--snapshot",
        &snapshot,
        "--market",
        market.to_str().unwrap(),
    ]));
    assert!(r["events"].as_u64().unwrap() > 10_000);
    let run_id = r["run"].as_str().unwrap().to_string();
    let replay = json_of(&run(&["runs", "replay", &run_id]));
    assert_eq!(replay["identical"], true);
    let audit = json_of(&run(&["audit", "verify"]));
    assert_eq!(audit["ok"], true);
    assert!(audit["entries"].as_u64().unwrap() >= 5);

    // Tampering: edit a stored result behind the store's back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in triggers {
        conn.execute(&format!("DROP TRIGGER \"{t}\""), []).unwrap();
    }
    conn.execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap();
    drop(conn);
    let broken = run(&["audit", "verify"]);
    assert_eq!(
        broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&broken.stdout)
    );
}

/// The validation report as an Excel workbook, from an Excel tape.
#[test]
fn excel_tape_and_excel_report() {
    let dir = temp_dir("xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let header = [
        "contractID",
        "contractType",
        "contractRole",
        "currency",
        "notionalPrincipal",
        "initialExchangeDate",
        "maturityDate",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in [
        ["A", "PAM", "RPA", "EUR", "100", "2025-01-01", "2027-01-01"],
        ["B", "PAM", "RPA", "EUR", "-5", "2025-01-01", "2027-01-01"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    let tape = dir.join("tape.xlsx");
    book.save(&tape).unwrap();
    let report = dir.join("report.xlsx");
    let db = dir.join("x.db");
    let o = almanac()
        .arg("import")
        .arg(&tape)
        .arg("--report")
        .arg(&report)
        .arg("--db")
        .arg(&db)
        .arg("--json")
        .output()
        .unwrap();
    let v = json_of(&o);
    assert_eq!(
        (v["imported"].as_u64(), v["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    let bytes = std::fs::read(&report).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx file is a zip archive");
}

/// Killing `almanac run cashflows` and `almanac import` part-way leaves a consistent store:
/// the audit check passes and every listed run replays.
#[test]
fn killed_runs_and_imports_leave_the_store_consistent() {
    let dir = temp_dir("kill");
    let db = dir.join("k.db");
    let sb = almanac()
        .current_dir(&dir)
        .args(["sample-bank", "--contracts", "3000", "--out", "bank"])
        .output()
        .unwrap();
    assert!(sb.status.success());
    let import = |extra: &[&str]| {
        almanac()
            .current_dir(&dir)
            .args([
                "import",
                "bank/tape.csv",
                "--mapping",
                "bank/mapping.toml",
                "--db",
            ])
            .arg(&db)
            .args(extra)
            .spawn()
            .unwrap()
    };
    // Kill an import at several moments, then let one finish.
    for ms in [5, 40, 120] {
        let mut child = import(&[]);
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(import(&[]).wait().unwrap().success());
    for ms in [20, 150, 400] {
        let mut child = almanac()
            .current_dir(&dir)
            .args([
                "run",
                "cashflows",
                "--snapshot",
                "latest",
                "--market",
                "bank/market.toml",
                "--db",
            ])
            .arg(&db)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    let audit = almanac()
        .args(["audit", "verify", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(json_of(&audit)["ok"], true);
    let runs = json_of(
        &almanac()
            .args(["runs", "list", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    for r in runs.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let replay = almanac()
            .args(["runs", "replay", id, "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(json_of(&replay)["identical"], true);
    }
    let snaps = json_of(
        &almanac()
            .args(["snapshots", "list", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    assert_eq!(snaps.as_array().unwrap().len(), 1);
}

/// Scenario sets are stored like assumption sets, and only when they read as scenario sets.
#[test]
fn scenario_sets_are_stored_and_validated() {
    let dir = temp_dir("sets");
    let db = dir.join("s.db");
    let put = |file: &str| {
        almanac()
            .args(["scenario-sets", "put", file, "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let ok = json_of(&put(&example("scenarios/alco.toml")));
    assert!(ok["id"].as_str().unwrap().starts_with("scn-"));
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\nversion = 1\n[[scenario]]\nname = \"y\"\nstandard = \"sideways\"\n",
    )
    .unwrap();
    let o = put(bad.to_str().unwrap());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 5, field scenario[1].standard"));
    let list = json_of(
        &almanac()
            .args(["scenario-sets", "list", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// `almanac irrbb` from files: the JSON schema, a fixed-rate asset losing value when rates
/// rise, per-contract PVs summing to EVE, and bad input refused.
#[test]
fn irrbb_command_values_eve_under_the_six_scenarios() {
    let dir = temp_dir("irrbb");
    let market = dir.join("m.toml");
    std::fs::write(
        &market,
        "as_of = \"2025-12-31\"\n[[curve]]\nid = \"EUR-ESTR\"\ncurrency = \"EUR\"\nzero_rates = [[\"1Y\", 0.02], [\"30Y\", 0.02]]\n",
    )
    .unwrap();
    let contracts = dir.join("c.json");
    std::fs::write(
        &contracts,
        r#"[{"contractType":"PAM","contractID":"loan","contractRole":"RPA","currency":"EUR",
          "initialExchangeDate":"2025-12-31","maturityDate":"2030-06-30","notionalPrincipal":100,
          "nominalInterestRate":0.0,"dayCountConvention":"A365"},
          {"contractType":"PAM","contractID":"dep","contractRole":"RPL","currency":"EUR",
          "initialExchangeDate":"2025-12-31","maturityDate":"2026-01-01","notionalPrincipal":90,
          "nominalInterestRate":0.0,"dayCountConvention":"A365"}]"#,
    )
    .unwrap();
    let json = dir.join("eve.json");
    let o = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args([
            "--as-of",
            "2025-12-31",
            "--tier1",
            "60",
            "--per-contract",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["as_of"], "2025-12-31");
    assert_eq!(v["currency"], "EUR");
    // 100 in 4.5 years (1642 days) and −90 tomorrow, flat 2 % continuous on ACT/365.
    let base = 100.0 * (-0.02f64 * 1642.0 / 365.0).exp() - 90.0 * (-0.02f64 / 365.0).exp();
    assert!((v["eve"]["base"].as_f64().unwrap() - base).abs() < 1e-9);
    let up = &v["eve"]["scenarios"]["parallel_up"];
    assert!(up["delta"].as_f64().unwrap() < 0.0);
    assert_eq!(v["outlier_test"]["worst_scenario"], "parallel_up");
    // Gap: −90 overnight (the deposit, 1 day), +100 in 4Y–5Y.
    let buckets = v["gap"]["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 19);
    assert_eq!(buckets[0]["rsl"], 90.0);
    assert_eq!(buckets[10]["rsa"], 100.0);
    assert_eq!(buckets[18]["cumulative"], 10.0);
    // ΔNII: the deposit (−90) is repaid after 1 day and refunded for a month at a time (its
    // tenor rounds to one month) at the shocked one-month forward: on a flat continuous curve
    // the simple forward moves by 12·(e^{0.04/12} − e^{0.02/12}); the loan runs past the year.
    let up_nii = v["nii"]["delta"]["parallel_up"].as_f64().unwrap();
    let df = 12.0 * ((0.04f64 / 12.0).exp() - (0.02f64 / 12.0).exp());
    assert!(
        (up_nii - -90.0 * df * (364.0 / 365.0)).abs() < 1e-9,
        "{up_nii}"
    );
    // The first-order repricing measure beside it.
    let approx = v["nii"]["repricing_approximation"]["parallel_up"]
        .as_f64()
        .unwrap();
    assert!((approx - -90.0 * 0.02 * (1.0 - 1.0 / 365.0)).abs() < 1e-9);
    assert_eq!(
        v["nii"]["scenarios"]["base"]["monthly"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert!(v["nii"]["by_product"]["PAM/RPL"].is_object());
    assert_eq!(v["nii"]["outlier_test"]["breach"], false);
    // Sensitivities: a long fixed asset funded overnight loses value when rates rise.
    assert!(v["sensitivities"]["pv01"].as_f64().unwrap() < 0.0);
    assert_eq!(
        v["sensitivities"]["key_rate_pv01"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let pv_sum: f64 = v["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pv"]["base"].as_f64().unwrap())
        .sum();
    assert!((pv_sum - base).abs() < 1e-9);
    let bad = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args(["--as-of", "2025-12-31", "--tier1", "0", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--tier1"));
}

/// A market file as of 2025-12-31 with one EUR curve (2 % at 1 year, 2.5 % at 30).
fn eur_market(dir: &std::path::Path) -> std::path::PathBuf {
    let market = dir.join("m.toml");
    std::fs::write(
        &market,
        "as_of = \"2025-12-31\"\n[[curve]]\nid = \"EUR-ESTR\"\ncurrency = \"EUR\"\nzero_rates = [[\"1Y\", 0.02], [\"30Y\", 0.025]]\n",
    )
    .unwrap();
    market
}

/// The terms of a 20-year monthly annuity mortgage of 300 000 at 3.5 % (ACTUS JSON object).
const MORTGAGE: &str = r#"{"contractType":"ANN","contractID":"MORT-1","contractRole":"RPA","currency":"EUR",
  "statusDate":"2025-12-31","initialExchangeDate":"2025-01-15","maturityDate":"2045-01-15",
  "notionalPrincipal":300000,"nominalInterestRate":0.035,"dayCountConvention":"30E360",
  "cycleAnchorDateOfInterestPayment":"2025-02-15","cycleOfInterestPayment":"P1ML1",
  "cycleAnchorDateOfPrincipalRedemption":"2025-02-15","cycleOfPrincipalRedemption":"P1ML1"}"#;

/// `almanac irrbb` with an assumption set reports the behavioural view beside the
/// contractual one, by the standardised method when asked, and writes the workbook and CSVs.
#[test]
fn irrbb_behaviour_standardised_workbook_and_csv() {
    let dir = temp_dir("irrbb-behaviour");
    let market = eur_market(&dir);
    let contracts = dir.join("c.json");
    std::fs::write(
        &contracts,
        format!(
            r#"[{MORTGAGE},
          {{"contractType":"PAM","contractID":"TD-1","contractRole":"RPL","currency":"EUR",
          "statusDate":"2025-12-31","initialExchangeDate":"2025-06-30","maturityDate":"2027-06-30",
          "notionalPrincipal":100000,"nominalInterestRate":0.02,"dayCountConvention":"A365"}},
          {{"contractType":"UMP","contractID":"NMD-1","contractRole":"RPL","currency":"EUR",
          "statusDate":"2025-12-31","initialExchangeDate":"2020-01-01",
          "notionalPrincipal":150000,"nominalInterestRate":0.0,"dayCountConvention":"A365"}}]"#
        ),
    )
    .unwrap();
    let assumptions = dir.join("a.toml");
    std::fs::write(
        &assumptions,
        "name = \"test\"\n[behaviour.prepayment.mortgages]\ncpr = 0.08\n\
         [behaviour.early_redemption.td]\ntdrr = 0.05\n\
         [behaviour.nmd.current]\ncategory = \"retail_transactional\"\ncore_share = 0.8\n\
         profile = [[2.0, 0.5], [4.0, 0.5]]\n[ftp]\nx = 1\n",
    )
    .unwrap();
    let json = dir.join("out.json");
    let xlsx = dir.join("out.xlsx");
    let csv = dir.join("csv");
    let o = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args([
            "--as-of",
            "2025-12-31",
            "--per-contract",
            "--method",
            "standardised",
        ])
        .args(["--gap-buckets", "1M,1Y,5Y", "--explain", "MORT-1"])
        .arg("--assumptions")
        .arg(&assumptions)
        .arg("--json")
        .arg(&json)
        .arg("--xlsx")
        .arg(&xlsx)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["view"], "behavioural");
    assert_eq!(v["method"], "standardised");
    let c = v["views"]["contractual"]["EUR"]["base"].as_f64().unwrap();
    let b = v["views"]["behavioural"]["EUR"]["base"].as_f64().unwrap();
    assert_eq!(v["eve"]["base"].as_f64().unwrap(), b);
    assert!(c != b);
    // The NMD: 20 % non-core overnight, the core at 2 and 4 years (buckets 1.5Y–2Y, 3Y–4Y,
    // upper bounds inclusive).
    let buckets = v["gap"]["buckets"].as_array().unwrap();
    let rsl = |k: usize| buckets[k]["rsl"].as_f64().unwrap();
    assert!(rsl(0) >= 30_000.0, "{}", rsl(0));
    assert!(rsl(7) >= 60_000.0 && rsl(9) >= 60_000.0);
    // User buckets: the NMD core (2 and 4 years) is in "≤ 5Y"; by product, the deposit's.
    let user = &v["gap"]["user_buckets"];
    assert_eq!(user["bounds_days"].as_array().unwrap().len(), 3);
    let buckets = user["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 4);
    assert_eq!(buckets[2]["bucket"], "≤ 5Y");
    let nmd = &user["by_product"]["UMP/RPL"].as_array().unwrap()[2];
    assert!(
        (nmd["gap"].as_f64().unwrap() + 120_000.0).abs() < 1e-6,
        "{nmd}"
    );
    let user_sum: f64 = buckets.iter().map(|b| b["gap"].as_f64().unwrap()).sum();
    let bcbs_sum: f64 = v["gap"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["gap"].as_f64().unwrap())
        .sum();
    assert!((user_sum - bcbs_sum).abs() < 1e-6);
    // Drill-down: the explained mortgage's flows add up to its PV in every scenario and view.
    let mort = v["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contract_id"] == "MORT-1")
        .unwrap()
        .clone();
    let explained = v["explain"].as_array().unwrap();
    assert_eq!(explained.len(), 14);
    for e in explained {
        let sum: f64 = e["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["pv"].as_f64().unwrap())
            .sum();
        let key = if e["view"] == "behavioural" {
            "pv"
        } else {
            "pv_contractual"
        };
        let reported = mort[key][e["scenario"].as_str().unwrap()].as_f64().unwrap();
        assert!((sum - reported).abs() < 1e-6 * reported.abs(), "{e}");
    }
    // Per contract: both views.
    let nmd = v["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contract_id"] == "NMD-1")
        .unwrap();
    assert!((nmd["pv_contractual"]["base"].as_f64().unwrap() + 150_000.0).abs() < 10.0);
    assert!(nmd["pv"]["base"].as_f64().unwrap() > -150_000.0);
    let bytes = std::fs::read(&xlsx).unwrap();
    assert!(bytes.starts_with(b"PK"));
    let eve_csv = std::fs::read_to_string(csv.join("eve.csv")).unwrap();
    assert!(eve_csv.contains("parallel_up"));
    // A bad assumption set is refused with the file named.
    std::fs::write(&assumptions, "[behaviour.prepayment.m]\ncpr = 2\n").unwrap();
    let o = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args(["--as-of", "2025-12-31", "--assumptions"])
        .arg(&assumptions)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("a.toml") && err.contains("between 0 and 1"),
        "{err}"
    );
}

/// Runs `almanac` with `args` and asserts it succeeded.
fn run_ok(args: &[&str]) -> std::process::Output {
    let o = almanac().args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A path as a `&str` argument.
fn arg(p: &std::path::Path) -> String {
    p.to_str().unwrap().to_string()
}

/// `almanac run irrbb` of the latest snapshot in `db` on the sample bank's market in `bank`,
/// per contract, the report into `out` and a JSON summary on standard output.
fn stored_irrbb_args(
    bank: &std::path::Path,
    db: &std::path::Path,
    out: &std::path::Path,
) -> Vec<String> {
    let market = arg(&bank.join("market.toml"));
    [
        "run",
        "irrbb",
        "--snapshot",
        "latest",
        "--market",
        &market,
        "--per-contract",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([
        "--out".into(),
        arg(out),
        "--db".into(),
        arg(db),
        "--json".into(),
    ])
    .collect()
}

/// Replays stored run `id` of the store `db` and checks that it gives the stored results bit
/// for bit.
fn assert_replays(db: &std::path::Path, id: &str) {
    let o = run_ok(&["runs", "replay", id, "--db", &arg(db), "--json"]);
    let replay: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(replay["identical"], true, "run {id}: {replay}");
}

/// Exports the latest snapshot of the store `db` as ACTUS terms to `out`.
fn export_latest(db: &std::path::Path, out: &std::path::Path) {
    run_ok(&[
        "snapshots",
        "export",
        "latest",
        "--out",
        &arg(out),
        "--db",
        &arg(db),
    ]);
}

/// A sample bank of about `n` contracts written to `dir/bank` and imported into `dir/a.db`.
fn stored_bank(dir: &std::path::Path, n: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let (db, bank) = (dir.join("a.db"), dir.join("bank"));
    run_ok(&[
        "sample-bank",
        "--contracts",
        &n.to_string(),
        "--out",
        &arg(&bank),
    ]);
    run_ok(&[
        "import",
        &arg(&bank.join("tape.csv")),
        "--mapping",
        &arg(&bank.join("mapping.toml")),
        "--db",
        &arg(&db),
    ]);
    (db, bank)
}

/// `almanac run irrbb` values a stored snapshot with its market and assumption set, stores
/// the run with a manifest naming them, and the run replays bit-identically; `snapshots
/// export` writes the same contracts as ACTUS terms, and `almanac irrbb` on that file gives
/// the same EVE.
#[test]
fn run_irrbb_records_and_replays() {
    let dir = temp_dir("run-irrbb");
    let (db, bank) = stored_bank(&dir, 400);
    let (ok, s) = (run_ok, arg);
    let out = dir.join("irrbb.json");
    let o = ok(&[
        "run",
        "irrbb",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--assumptions",
        &s(&bank.join("assumptions.toml")),
        "--per-contract",
        "--out",
        &s(&out),
        "--db",
        &s(&db),
        "--json",
    ]);
    let run: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(run["failed"], 0);
    let id = run["run"].as_str().unwrap();
    // The report file is the stored result, byte for byte.
    use sha2::Digest;
    let file_hash: String = sha2::Sha256::digest(std::fs::read(&out).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(run["results_hash"].as_str().unwrap(), file_hash);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["view"], "behavioural");
    assert!(report["non_interest_positions_excluded"].as_u64().unwrap() >= 2);
    // NII by product: interbank funding costs interest (paid at maturity), mortgages earn it.
    let year = |product: &str| -> f64 {
        report["nii"]["by_product"][product]["base"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum()
    };
    assert!(year("INTERBANK") < 0.0, "{}", year("INTERBANK"));
    assert!(year("MORT_FIX") > 0.0);
    let shown: serde_json::Value =
        serde_json::from_slice(&ok(&["runs", "show", id, "--db", &s(&db), "--json"]).stdout)
            .unwrap();
    let manifest = shown.to_string();
    assert!(
        manifest.contains("asm-") && manifest.contains("mkt-"),
        "{manifest}"
    );
    assert_replays(&db, id);
    // The exported contracts through the file-based command: the same contractual EVE.
    let exported = dir.join("contracts.json");
    export_latest(&db, &exported);
    let file_out = dir.join("file.json");
    ok(&[
        "irrbb",
        "--contracts",
        &s(&exported),
        "--market",
        &s(&bank.join("market.toml")),
        "--as-of",
        "2025-12-31",
        "--json",
        &s(&file_out),
    ]);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file_out).unwrap()).unwrap();
    let a = file["eve"]["base"].as_f64().unwrap();
    let b = report["views"]["contractual"]["EUR"]["base"]
        .as_f64()
        .unwrap();
    assert!((a - b).abs() <= 1e-9 * a.abs(), "{a} {b}");
    // The stored run streams its snapshot (it has facts); the file-based one holds its
    // contracts whole: per-contract values, EVE and the gap are the same to the last bit.
    let streamed_out = dir.join("streamed.json");
    ok(&[
        "run",
        "irrbb",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--per-contract",
        "--out",
        &s(&streamed_out),
        "--db",
        &s(&db),
    ]);
    ok(&[
        "irrbb",
        "--contracts",
        &s(&exported),
        "--market",
        &s(&bank.join("market.toml")),
        "--as-of",
        "2025-12-31",
        "--per-contract",
        "--json",
        &s(&file_out),
    ]);
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (streamed, whole) = (read(&streamed_out), read(&file_out));
    // (By product they differ: plain ACTUS terms carry no product.)
    for key in ["contracts", "by_currency", "eve", "automatic_options"] {
        assert!(streamed[key] == whole[key], "{key} differs");
    }
    assert!(streamed["gap"]["buckets"] == whole["gap"]["buckets"]);
    assert!(streamed["contracts"].as_array().unwrap().len() > 300);
}

/// A snapshot imported now keeps a compact form of each contract beside its JSON, and a
/// stored IRRBB run reads those, streamed or (for an assumption set that asks for the EU
/// materiality test) whole: its report is the one read from the JSON (a snapshot whose forms
/// this build does not read), byte for byte. A damaged form is a failed position, with
/// the reason, never a silently changed contract; `audit verify` finds it.
#[test]
fn run_irrbb_reads_compact_forms_as_the_json() {
    let dir = temp_dir("run-irrbb-forms");
    let (db, bank) = stored_bank(&dir, 300);
    let s = arg;
    // An assumption set that asks for the EU materiality test: the run reads the snapshot
    // whole (it needs every contract first) instead of streaming it.
    let whole = dir.join("eu.toml");
    std::fs::write(
        &whole,
        std::fs::read_to_string(bank.join("assumptions.toml"))
            .unwrap()
            .replace("cpr = 0.06\n", "cpr = 0.06\neu_materiality = true\n"),
    )
    .unwrap();
    // `run irrbb` into `out`, with timings on stderr.
    let command = |out: &std::path::Path, extra: &[&str]| -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_almanac"))
            .args(stored_irrbb_args(&bank, &db, out))
            .args(extra)
            .env("ALMANAC_TIMINGS", "1")
            .output()
            .unwrap()
    };
    let run_with = |out: &std::path::Path, extra: &[&str]| -> serde_json::Value {
        let o = command(out, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // Read whole or streamed, as asked.
        let timings = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            timings.contains("load snapshot contracts"),
            !extra.is_empty(),
            "{timings}"
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let run = |out: &std::path::Path| run_with(out, &[]);
    let eu = ["--assumptions", whole.to_str().unwrap()];
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (positions, forms): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM position_forms)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(positions > 300);
    assert_eq!(
        forms, positions,
        "every sample-bank position has a compact form"
    );
    let from_forms = dir.join("forms.json");
    assert_eq!(run(&from_forms)["failed"], 0);
    let whole_from_forms = dir.join("whole-forms.json");
    assert_eq!(run_with(&whole_from_forms, &eu)["failed"], 0);
    // The same snapshot as one imported before forms: its facts name no form version.
    let facts: String = conn
        .query_row("SELECT facts FROM snapshot_facts", [], |r| r.get(0))
        .unwrap();
    let mut f: serde_json::Value = serde_json::from_str(&facts).unwrap();
    assert!(f["compact_forms"].as_u64().is_some(), "{facts}");
    f.as_object_mut().unwrap().remove("compact_forms");
    conn.execute_batch(&format!(
        "DROP TRIGGER snapshot_facts_no_update;
         UPDATE snapshot_facts SET facts = '{f}';"
    ))
    .unwrap();
    let from_json = dir.join("json.json");
    assert_eq!(run(&from_json)["failed"], 0);
    assert!(
        std::fs::read(&from_forms).unwrap() == std::fs::read(&from_json).unwrap(),
        "the report read from the forms differs from the one read from the JSON"
    );
    let whole_from_json = dir.join("whole-json.json");
    assert_eq!(run_with(&whole_from_json, &eu)["failed"], 0);
    assert!(
        std::fs::read(&whole_from_forms).unwrap() == std::fs::read(&whole_from_json).unwrap(),
        "read whole, the report from the forms differs from the one from the JSON"
    );
    // Positions without a form among those with one (terms that have none, or a store
    // written so): read from their JSON in their place, the same report byte for byte.
    conn.execute_batch(&format!(
        "UPDATE snapshot_facts SET facts = '{facts}';
         DROP TRIGGER position_forms_no_delete;
         DELETE FROM position_forms WHERE ordinal IN (1, 3, 150);"
    ))
    .unwrap();
    let mixed = dir.join("mixed.json");
    assert_eq!(run(&mixed)["failed"], 0);
    assert!(
        std::fs::read(&mixed).unwrap() == std::fs::read(&from_forms).unwrap(),
        "the report with some positions read from their JSON differs"
    );
    // Damaged forms: the positions fail with the reason, the others are valued. The
    // position's own part (an unknown kind) is checked as the form is read; the terms (cut
    // short) by the engine's worker that would value the contract.
    conn.execute_batch(&format!(
        "UPDATE snapshot_facts SET facts = '{facts}';
         DROP TRIGGER position_forms_no_update;
         UPDATE position_forms SET form = x'01000107' WHERE ordinal = 4;
         UPDATE position_forms SET form = x'09' WHERE ordinal = 2;"
    ))
    .unwrap();
    drop(conn);
    let damaged = command(&dir.join("damaged.json"), &[]);
    // The run is stored; the exit code says that positions failed.
    assert_eq!(damaged.status.code(), Some(1));
    let damaged: serde_json::Value = serde_json::from_slice(&damaged.stdout).unwrap();
    assert_eq!(damaged["failed"], 2);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("damaged.json")).unwrap()).unwrap();
    for (k, (position, why)) in [(3, "unknown kind"), (5, "truncated")]
        .into_iter()
        .enumerate()
    {
        let failed = &report["failed"][k];
        assert_eq!(
            failed["contract_id"],
            format!("position {position} of the snapshot")
        );
        let reason = failed["reason"].as_str().unwrap();
        assert!(
            reason.contains("audit verify") && reason.contains(why),
            "{failed}"
        );
    }
    let audit = Command::new(env!("CARGO_BIN_EXE_almanac"))
        .args(["audit", "verify", "--db", &s(&db)])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1), "audit verify finds the form");
}

/// `almanac irrbb --scenarios FILE` runs a scenario set: user, standard and ramped scenarios
/// by their names, with the set's behaviour multipliers; the report names the set.
#[test]
fn irrbb_with_a_scenario_set() {
    let dir = temp_dir("irrbb-set");
    let market = eur_market(&dir);
    let contracts = dir.join("c.json");
    std::fs::write(&contracts, format!("[{MORTGAGE}]")).unwrap();
    let set = dir.join("set.toml");
    std::fs::write(
        &set,
        "name = \"test set\"\nversion = 1\n\
         [[scenario]]\nname = \"up_100\"\nramp_months = 6\nrates = [{ currency = \"EUR\", parallel_bp = 100 }]\n\
         behaviour = { prepayment_multiplier = 0.5 }\n\
         [[scenario]]\nname = \"std_up\"\nstandard = \"parallel_up\"\n",
    )
    .unwrap();
    let assumptions = dir.join("a.toml");
    std::fs::write(&assumptions, "[prepayment.all]\ncpr = 0.10\n").unwrap();
    let json = dir.join("out.json");
    let o = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args(["--as-of", "2025-12-31", "--per-contract", "--scenarios"])
        .arg(&set)
        .arg("--assumptions")
        .arg(&assumptions)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["scenario_set"]["name"], "test set");
    let names: Vec<&String> = v["eve"]["scenarios"].as_object().unwrap().keys().collect();
    assert_eq!(names, vec!["std_up", "up_100"]);
    // A fixed-rate asset loses value when rates rise, more under +200 than +100 bp.
    let delta = |n: &str| v["eve"]["scenarios"][n]["delta"].as_f64().unwrap();
    assert!(delta("std_up") < delta("up_100") && delta("up_100") < 0.0);
    // Ramped NII uses the set's six-month ramp; no parallel pair, so no NII outlier test.
    assert!(v["nii"]["ramped"]["up_100"].is_object());
    assert!(v["nii"]["delta"].is_null());
    // Not a file and not bcbs: a clear error.
    let o = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args([
            "--as-of",
            "2025-12-31",
            "--scenarios",
            "nowhere.toml",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("scenario-set file"));
    // A scenario for a currency the market does not have is an error, not a zero shock.
    std::fs::write(
        &set,
        "name = \"usd\"\nversion = 1\n[[scenario]]\nname = \"usd_up\"\nrates = [{ currency = \"USD\", parallel_bp = 50 }]\n",
    )
    .unwrap();
    let o = almanac()
        .args(["irrbb", "--contracts"])
        .arg(&contracts)
        .arg("--market")
        .arg(&market)
        .args(["--as-of", "2025-12-31", "--scenarios"])
        .arg(&set)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("usd_up") && err.contains("currency USD"),
        "{err}"
    );
}

/// `almanac run irrbb --scenarios FILE` stores the set and the snapshots its historical
/// scenario names, so the run replays from the store alone (the files deleted).
#[test]
fn run_irrbb_on_a_scenario_set_replays_from_the_store() {
    let dir = temp_dir("run-irrbb-set");
    let (db, bank) = stored_bank(&dir, 300);
    let (ok, s) = (run_ok, arg);
    let market = std::fs::read_to_string(bank.join("market.toml")).unwrap();
    let sets = dir.join("sets");
    std::fs::create_dir_all(&sets).unwrap();
    std::fs::write(sets.join("from.toml"), &market).unwrap();
    std::fs::write(
        sets.join("to.toml"),
        market.replace("[\"10Y\", 0.0245]", "[\"10Y\", 0.0295]"),
    )
    .unwrap();
    std::fs::write(
        sets.join("set.toml"),
        "name = \"stored set\"\nversion = 1\n\
         [[scenario]]\nname = \"up_50\"\nrates = [{ currency = \"EUR\", parallel_bp = 50 }]\n\
         [[scenario]]\nname = \"last_quarter\"\nhistorical = { from = \"from.toml\", to = \"to.toml\", mode = \"absolute\" }\n",
    )
    .unwrap();
    let out = dir.join("irrbb.json");
    let o = ok(&[
        "run",
        "irrbb",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--scenarios",
        &s(&sets.join("set.toml")),
        "--out",
        &s(&out),
        "--db",
        &s(&db),
        "--json",
    ]);
    let run: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = run["run"].as_str().unwrap().to_string();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let names: Vec<&String> = report["eve"]["scenarios"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, vec!["last_quarter", "up_50"]);
    // The 10-year point rose by 50 bp: whichever way the sample's mix turns it, EVE moved.
    assert!(
        report["eve"]["scenarios"]["last_quarter"]["delta"]
            .as_f64()
            .unwrap()
            != 0.0
    );
    std::fs::remove_dir_all(&sets).unwrap();
    assert_replays(&db, &id);
    let shown =
        String::from_utf8(ok(&["runs", "show", &id, "--db", &s(&db), "--json"]).stdout).unwrap();
    assert!(
        shown.contains("scn-") && shown.contains("to.toml"),
        "{shown}"
    );
}

/// A five-year bullet loan of 1 000 000 at `rate`, annual coupons (ACTUS JSON object).
fn bullet(id: &str, rate: f64) -> String {
    format!(
        r#"{{"contractType":"PAM","contractID":"{id}","contractRole":"RPA","currency":"EUR",
        "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2030-12-31",
        "notionalPrincipal":1000000,"nominalInterestRate":{rate},"dayCountConvention":"A365",
        "cycleAnchorDateOfInterestPayment":"2026-12-31","cycleOfInterestPayment":"P1YL1"}}"#
    )
}

/// `almanac irrbb --strip-margins`: a 5 % loan with a 1 % margin rule has the EVE of a 4 %
/// loan in every scenario and the NII of the 5 % loan; the report says so. Without margin
/// rules, or without an assumption set, the option is refused.
#[test]
fn irrbb_strips_commercial_margins() {
    let dir = temp_dir("irrbb-margins");
    let market = eur_market(&dir);
    let assumptions = dir.join("a.toml");
    std::fs::write(
        &assumptions,
        "name = \"m\"\n[behaviour.margins.loans]\nspread = 0.01\nselect = { roles = [\"RPA\"] }\n",
    )
    .unwrap();
    let irrbb = |name: &str, rate: f64, extra: &[&str]| -> std::process::Output {
        let contracts = dir.join(format!("{name}.json"));
        std::fs::write(&contracts, format!("[{}]", bullet("L-1", rate))).unwrap();
        almanac()
            .args([
                "irrbb",
                "--contracts",
                &arg(&contracts),
                "--market",
                &arg(&market),
            ])
            .args(["--as-of", "2025-12-31", "--assumptions", &arg(&assumptions)])
            .args(["--json", &arg(&dir.join(format!("{name}-out.json")))])
            .args(extra)
            .output()
            .unwrap()
    };
    let report = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}-out.json"))).unwrap(),
        )
        .unwrap()
    };
    for (name, rate, extra) in [
        ("stripped", 0.05, &["--strip-margins"][..]),
        ("kept", 0.05, &[][..]),
        ("four", 0.04, &[][..]),
    ] {
        let o = irrbb(name, rate, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (stripped, kept, four) = (report("stripped"), report("kept"), report("four"));
    assert_eq!(stripped["margins_stripped"], true);
    assert_eq!(kept["margins_stripped"], false);
    let eve = |v: &serde_json::Value, s: &str| -> f64 {
        if s == "base" {
            v["eve"]["base"].as_f64().unwrap()
        } else {
            v["eve"]["scenarios"][s]["value"].as_f64().unwrap()
        }
    };
    for s in [
        "base",
        "parallel_up",
        "parallel_down",
        "steepener",
        "short_up",
    ] {
        let (a, b) = (eve(&stripped, s), eve(&four, s));
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{s}: {a} vs {b}");
    }
    // About 1 % of 1 000 000 for five years, discounted.
    assert!(eve(&kept, "base") - eve(&stripped, "base") > 45_000.0);
    // NII and the gap keep the margins: as in the run that keeps them.
    assert_eq!(stripped["nii"], kept["nii"]);
    assert_eq!(stripped["gap"], kept["gap"]);
    assert!(
        stripped["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("stripped from the EVE flows of 1 contract;")),
        "{}",
        stripped["warnings"]
    );
    // No margin rules: refused, with the reason.
    std::fs::write(&assumptions, "[behaviour.prepayment.m]\ncpr = 0.05\n").unwrap();
    let o = irrbb("stripped", 0.05, &["--strip-margins"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no margin rules"), "{err}");
    // No assumption set at all.
    let o = almanac()
        .args(["irrbb", "--contracts", &arg(&dir.join("kept.json"))])
        .args([
            "--market",
            &arg(&market),
            "--as-of",
            "2025-12-31",
            "--strip-margins",
        ])
        .args(["--json", &arg(&dir.join("x.json"))])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--strip-margins needs --assumptions"), "{err}");
}

/// `almanac run irrbb --strip-margins` on the sample bank: the manifest records the option and
/// the run replays bit for bit; EVE moves, NII does not.
#[test]
fn run_irrbb_strips_margins_and_replays() {
    let dir = temp_dir("run-irrbb-margins");
    let (db, bank) = stored_bank(&dir, 300);
    let (ok, s) = (run_ok, arg);
    let run = |out: &std::path::Path, strip: bool| -> String {
        let mut args = vec![
            "run".to_string(),
            "irrbb".into(),
            "--snapshot".into(),
            "latest".into(),
            "--market".into(),
            s(&bank.join("market.toml")),
            "--assumptions".into(),
            s(&bank.join("assumptions.toml")),
            "--out".into(),
            s(out),
            "--db".into(),
            s(&db),
            "--json".into(),
        ];
        if strip {
            args.push("--strip-margins".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run: serde_json::Value = serde_json::from_slice(&ok(&args).stdout).unwrap();
        assert_eq!(run["failed"], 0);
        run["run"].as_str().unwrap().to_string()
    };
    let (stripped_out, kept_out) = (dir.join("stripped.json"), dir.join("kept.json"));
    let id = run(&stripped_out, true);
    run(&kept_out, false);
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (stripped, kept) = (read(&stripped_out), read(&kept_out));
    assert_eq!(stripped["margins_stripped"], true);
    assert_eq!(kept["margins_stripped"], false);
    assert!(stripped["eve"]["base"] != kept["eve"]["base"]);
    assert_eq!(stripped["nii"], kept["nii"]);
    // The swaps have no margin rule: said so.
    let note = stripped["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .find(|w| w.contains("commercial margins"))
        .unwrap()
        .to_string();
    assert!(
        !note.contains("for lack of a margin rule: 0 contracts"),
        "{note}"
    );
    let shown: serde_json::Value =
        serde_json::from_slice(&ok(&["runs", "show", &id, "--db", &s(&db), "--json"]).stdout)
            .unwrap();
    assert_eq!(shown["manifest"]["irrbb"]["strip_margins"], true, "{shown}");
    assert_replays(&db, &id);
}

/// `--automatic-options`: by default (kao) the floors of the sample bank's corporate floaters
/// and the caps of its reset mortgages are valued with the market's volatilities and their KAO
/// is in every scenario's ΔEVE; `intrinsic` keeps them in the flows with a warning; both are
/// recorded in the manifest and replay bit for bit. A market without the volatility is an
/// error that says how to fix it.
#[test]
fn irrbb_automatic_options_kao_intrinsic_and_replay() {
    let dir = temp_dir("run-irrbb-kao");
    let (db, bank) = stored_bank(&dir, 400);
    let (ok, s) = (run_ok, arg);
    let market = bank.join("market.toml");
    let run = |out: &std::path::Path, mode: Option<&str>| -> String {
        let mut args = vec![
            "run".to_string(),
            "irrbb".into(),
            "--snapshot".into(),
            "latest".into(),
            "--market".into(),
            s(&market),
            "--per-contract".into(),
            "--tier1".into(),
            "50000000".into(),
            "--out".into(),
            s(out),
            "--db".into(),
            s(&db),
            "--json".into(),
        ];
        if let Some(m) = mode {
            args.extend(["--automatic-options".to_string(), m.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run: serde_json::Value = serde_json::from_slice(&ok(&args).stdout).unwrap();
        assert_eq!(run["failed"], 0);
        run["run"].as_str().unwrap().to_string()
    };
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (kao_out, intr_out) = (dir.join("kao.json"), dir.join("intrinsic.json"));
    let kao_id = run(&kao_out, None);
    let intr_id = run(&intr_out, Some("intrinsic"));
    let (kao, intr) = (read(&kao_out), read(&intr_out));
    let ao = &kao["automatic_options"];
    assert_eq!(ao["method"], "kao");
    assert_eq!(ao["vol_multiplier"], 1.25);
    assert!(ao["contracts_with_options"].as_u64().unwrap() > 0, "{ao}");
    // Corporate floaters hold bought floors; the reset mortgages' caps are sold.
    let options = ao["contracts"].as_array().unwrap();
    assert!(options.iter().any(
        |o| o["contract_id"].as_str().unwrap().starts_with("CORP_FLOAT")
            && o["option"] == "floor"
            && o["side"] == "bought"
    ));
    assert!(options.iter().any(
        |o| o["contract_id"].as_str().unwrap().starts_with("MORT_RESET")
            && o["option"] == "cap"
            && o["side"] == "sold"
    ));
    // Every scenario's change includes its KAO; the aggregation and the outlier test use it.
    let eve = &kao["eve"];
    let base = eve["base"].as_f64().unwrap();
    let mut any = false;
    for (name, sv) in eve["scenarios"].as_object().unwrap() {
        let (value, delta, k) = (
            sv["value"].as_f64().unwrap(),
            sv["delta"].as_f64().unwrap(),
            sv["kao"].as_f64().unwrap(),
        );
        assert!(
            (delta - (value - base - k)).abs() <= 1e-6 * base.abs(),
            "{name}"
        );
        assert_eq!(k, ao["by_currency"]["EUR"][name]["kao"].as_f64().unwrap());
        let bcbs = kao["aggregate_change"][name]["bcbs_losses_only"]
            .as_f64()
            .unwrap();
        // EU sign: the BCBS aggregate is the sum of the declines (one currency here).
        assert_eq!(bcbs, delta.min(0.0), "{name}");
        any |= k != 0.0;
    }
    assert!(any);
    let worst = kao["outlier_test"]["worst_change"].as_f64().unwrap();
    let most = eve["scenarios"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v["delta"].as_f64().unwrap().min(0.0))
        .fold(0.0, f64::min);
    assert_eq!(worst, most);
    // At intrinsic: no add-on, said so in the warnings.
    assert_eq!(intr["automatic_options"]["method"], "intrinsic");
    for sv in intr["eve"]["scenarios"].as_object().unwrap().values() {
        assert_eq!(sv["kao"], 0.0);
    }
    assert!(intr["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("intrinsic value")));
    // Under parallel up the mortgage caps bind: the host (without them) is worth more.
    let up = |r: &serde_json::Value| {
        r["eve"]["scenarios"]["parallel_up"]["value"]
            .as_f64()
            .unwrap()
    };
    assert!(up(&kao) > up(&intr), "{} {}", up(&kao), up(&intr));
    // Both recorded and replayed bit for bit.
    for (id, mode) in [(&kao_id, "kao"), (&intr_id, "intrinsic")] {
        let shown: serde_json::Value =
            serde_json::from_slice(&ok(&["runs", "show", id, "--db", &s(&db), "--json"]).stdout)
                .unwrap();
        assert_eq!(shown["manifest"]["irrbb"]["automatic_options"], mode);
        assert_replays(&db, id);
    }
    // The market without its volatilities: an error naming the index and both ways out.
    let text = std::fs::read_to_string(&market).unwrap();
    let cut = text.find("[[volatility]]").unwrap();
    let bare = dir.join("bare.toml");
    std::fs::write(&bare, &text[..cut]).unwrap();
    let exported = dir.join("contracts.json");
    export_latest(&db, &exported);
    let irrbb = |mode: &str| {
        almanac()
            .args(["irrbb", "--contracts", &s(&exported), "--market", &s(&bare)])
            .args(["--as-of", "2025-12-31", "--automatic-options", mode])
            .args(["--json", &s(&dir.join("file.json"))])
            .output()
            .unwrap()
    };
    let o = irrbb("kao");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("[[volatility]]") && err.contains("--automatic-options intrinsic"),
        "{err}"
    );
    assert!(
        err.contains("EURIBOR3M") || err.contains("EURSWAP5Y"),
        "{err}"
    );
    assert!(irrbb("intrinsic").status.success());
    let o = irrbb("black");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--automatic-options"));
}

/// `--no-sensitivities` skips the sensitivities only: EVE (per contract too), the gap and NII
/// are those of the full run, bit for bit; the run records the choice and replays it.
#[test]
fn run_irrbb_without_sensitivities() {
    let dir = temp_dir("run-irrbb-nosens");
    let (db, bank) = stored_bank(&dir, 300);
    let run = |out: &std::path::Path, extra: &[&str]| -> serde_json::Value {
        let mut args = stored_irrbb_args(&bank, &db, out);
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        serde_json::from_slice(&run_ok(&args).stdout).unwrap()
    };
    let (full_out, lean_out) = (dir.join("full.json"), dir.join("lean.json"));
    run(&full_out, &[]);
    let lean_run = run(&lean_out, &["--no-sensitivities"]);
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (full, lean) = (read(&full_out), read(&lean_out));
    assert!(full["sensitivities"]["pv01"].as_f64().unwrap() != 0.0);
    assert!(lean["sensitivities"].is_null());
    for key in ["eve", "gap", "nii", "contracts", "outlier_test"] {
        assert_eq!(full[key], lean[key], "{key}");
    }
    let id = lean_run["run"].as_str().unwrap();
    assert_replays(&db, id);
}

/// `run liquidity` on a stored sample bank: LCR, NSFR, ladder and survival horizon from its
/// classified positions, the report file is the stored result, and the run replays bit for
/// bit; the EU regime changes the NSFR only where its table differs (Level 1 at 0 % RSF).
/// `almanac liquidity` on the same contracts exported as plain ACTUS terms has no
/// classifications: every contract is treated conservatively and listed in the notes.
#[test]
fn run_liquidity_records_replays_and_reports_missing_classifications() {
    let dir = temp_dir("run-liquidity");
    let (db, bank) = stored_bank(&dir, 400);
    let (ok, s) = (run_ok, arg);
    let out = dir.join("liquidity.json");
    let run = |regime: &str| -> serde_json::Value {
        let o = ok(&[
            "run",
            "liquidity",
            "--snapshot",
            "latest",
            "--market",
            &s(&bank.join("market.toml")),
            "--regime",
            regime,
            "--out",
            &s(&out),
            "--db",
            &s(&db),
            "--json",
        ]);
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let basel = run("basel");
    let id = basel["run"].as_str().unwrap().to_string();
    use sha2::Digest;
    let file_hash: String = sha2::Sha256::digest(std::fs::read(&out).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(basel["results_hash"].as_str().unwrap(), file_hash);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let lcr = &report["lcr"];
    for key in ["hqla", "outflows", "inflows", "inflows_capped", "ratio"] {
        assert!(lcr[key].as_f64().is_some(), "lcr.{key}: {lcr}");
    }
    let lines = lcr["lines"].as_array().unwrap();
    assert!(lines
        .iter()
        .any(|l| l["section"] == "hqla" && l["category"] == "l1_securities"));
    assert!(lines
        .iter()
        .any(|l| l["section"] == "outflow" && l["category"] == "retail_stable"));
    for l in lines {
        let (a, f, w) = (
            l["amount"].as_f64().unwrap(),
            l["factor"].as_f64().unwrap(),
            l["weighted"].as_f64().unwrap(),
        );
        assert!((a * f - w).abs() <= 1e-6 * w.abs().max(1.0), "{l}");
    }
    let nsfr = &report["nsfr"];
    assert!(nsfr["asf"].as_f64().unwrap() > 0.0 && nsfr["rsf"].as_f64().unwrap() > 0.0);
    assert_eq!(report["ladder"]["buckets"].as_array().unwrap().len(), 21);
    assert!(report["survival_horizon"]["contractual"]["beyond_last_bucket"].is_boolean());
    assert_replays(&db, &id);
    // EU: the NSFR's RSF falls by exactly the Level 1 securities' 5 %.
    let l1: f64 = nsfr["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["category"] == "l1_unencumbered")
        .map(|l| l["amount"].as_f64().unwrap())
        .sum();
    assert!(l1 > 0.0);
    run("eu");
    let eu: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rsf = |r: &serde_json::Value| r["nsfr"]["rsf"].as_f64().unwrap();
    assert!((rsf(&report) - rsf(&eu) - 0.05 * l1).abs() < 1e-6 * rsf(&report));
    assert_eq!(eu["lcr"]["outflows"], report["lcr"]["outflows"]);
    // With the assumption set: a behavioural ladder beside the contractual one, which its
    // non-maturity deposit rules move out of the overnight bucket; stored and replayed.
    let o = ok(&[
        "run",
        "liquidity",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--assumptions",
        &s(&bank.join("assumptions.toml")),
        "--out",
        &s(&out),
        "--xlsx",
        &s(&dir.join("liquidity.xlsx")),
        "--csv",
        &s(&dir.join("liquidity-csv")),
        "--db",
        &s(&db),
        "--json",
    ]);
    let with: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    {
        // The workbook: a sheet per part, the lines as in the JSON.
        use calamine::{DataType, Reader};
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook(dir.join("liquidity.xlsx")).unwrap();
        assert_eq!(
            wb.sheet_names(),
            [
                "Summary",
                "LCR",
                "NSFR",
                "Ladder",
                "Behavioural ladder",
                "Notes"
            ]
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let lcr = wb.worksheet_range("LCR").unwrap();
        let lines = doc["lcr"]["lines"].as_array().unwrap();
        assert_eq!(lcr.height(), lines.len() + 1);
        let weighted = lcr.get((1, 5)).and_then(|c| c.get_float()).unwrap();
        assert!((weighted - lines[0]["weighted"].as_f64().unwrap()).abs() < 1e-6);
        let ladder = wb.worksheet_range("Ladder").unwrap();
        assert_eq!(ladder.get((1, 0)).unwrap().to_string(), "Overnight");
        // The CSV files: the same lines, both ladders.
        let rows = |name: &str| {
            csv::Reader::from_path(dir.join("liquidity-csv").join(name))
                .unwrap()
                .records()
                .count()
        };
        assert_eq!(rows("lcr.csv"), lines.len());
        assert_eq!(
            rows("nsfr.csv"),
            doc["nsfr"]["lines"].as_array().unwrap().len()
        );
        assert_eq!(rows("ladder.csv"), 2 * 21);
    }
    let behavioural: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(behavioural["ladder"], report["ladder"]);
    let open = |l: &serde_json::Value| l["open_maturity_outflows"].as_f64().unwrap();
    assert!(open(&behavioural["behavioural_ladder"]) < open(&behavioural["ladder"]));
    assert!(behavioural["survival_horizon"]["behavioural"].is_object());
    assert_replays(&db, with["run"].as_str().unwrap());
    // Plain ACTUS terms: no classification, every contract noted.
    let exported = dir.join("contracts.json");
    export_latest(&db, &exported);
    let plain = dir.join("plain.json");
    ok(&[
        "liquidity",
        "--contracts",
        &s(&exported),
        "--market",
        &s(&bank.join("market.toml")),
        "--as-of",
        "2025-12-31",
        "--json",
        &s(&plain),
    ]);
    let plain: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plain).unwrap()).unwrap();
    let noted: u64 = plain["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["count"].as_u64().unwrap())
        .sum();
    assert!(noted > 0, "{}", plain["notes"]);
    // Without counterparty types, funding runs off at 100 %.
    assert!(
        plain["lcr"]["outflows"].as_f64().unwrap() > report["lcr"]["outflows"].as_f64().unwrap()
    );
}

/// Liquidity in several currencies: each currency apart and the consolidated report in the
/// reporting currency at the market's FX rates; without a rate the run is refused naming the
/// pair (never summed without conversion); an unknown regime or bucket set is refused before
/// any work.
#[test]
fn liquidity_consolidates_currencies_and_refuses_unknown_options() {
    let dir = temp_dir("liquidity-refusals");
    let (_, bank) = stored_bank(&dir, 100);
    let contracts = dir.join("two.json");
    std::fs::write(
        &contracts,
        r#"[
{"contractType":"PAM","contractID":"E1","contractRole":"RPA","currency":"EUR","statusDate":"2025-12-31",
 "initialExchangeDate":"2025-01-01","maturityDate":"2026-01-10","notionalPrincipal":100,"nominalInterestRate":0.0},
{"contractType":"PAM","contractID":"U1","contractRole":"RPA","currency":"USD","statusDate":"2025-12-31",
 "initialExchangeDate":"2025-01-01","maturityDate":"2026-01-10","notionalPrincipal":100,"nominalInterestRate":0.0}
]"#,
    )
    .unwrap();
    let run_on = |market: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "liquidity".to_string(),
            "--contracts".into(),
            arg(&contracts),
            "--market".into(),
            arg(market),
            "--as-of".into(),
            "2025-12-31".into(),
            "--json".into(),
            arg(&dir.join("out.json")),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        almanac().args(&args).output().unwrap()
    };
    let run = |extra: &[&str]| run_on(&bank.join("market.toml"), extra);
    let o = run(&[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("USD/EUR") && err.contains("the 1 position in USD"),
        "{err}"
    );
    // With a USD curve and 1 EUR = 1.10 USD: both currencies, consolidated in EUR.
    let market = std::fs::read_to_string(bank.join("market.toml")).unwrap();
    let with_usd = format!(
        "{market}\n[[fx]]\npair = \"EUR/USD\"\nrate = 1.10\n\n[[curve]]\nid = \"USD-SOFR\"\ncurrency = \"USD\"\nzero_rates = [[\"1Y\", 0.04], [\"10Y\", 0.04]]\n"
    );
    let m2 = dir.join("market-usd.toml");
    std::fs::write(&m2, with_usd).unwrap();
    let o = run_on(&m2, &["--currency", "eur"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    assert_eq!(doc["currency"], "EUR");
    let by = doc["by_currency"].as_object().unwrap();
    assert_eq!(by.keys().collect::<Vec<_>>(), ["EUR", "USD"]);
    assert!((by["USD"]["fx_rate"].as_f64().unwrap() - 1.0 / 1.10).abs() < 1e-12);
    let inflow = |d: &serde_json::Value| d["ladder"]["inflows"][7].as_f64().unwrap();
    assert!((inflow(&doc) - (inflow(&by["EUR"]) + inflow(&by["USD"]) / 1.10)).abs() < 1e-9);
    // User buckets: one to each tenor and one beyond; the same flows in fewer buckets.
    let o = run_on(&m2, &["--buckets", "7D,1M,1Y"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let user: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    let labels: Vec<&str> = user["ladder"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(labels, ["> 0 – 7D", "> 7D – 1M", "> 1M – 1Y", "> 1Y"]);
    let total = |d: &serde_json::Value| -> f64 {
        d["ladder"]["inflows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum()
    };
    assert!((total(&user) - total(&doc)).abs() < 1e-9);
    assert!((user["ladder"]["inflows"][1].as_f64().unwrap() - inflow(&doc)).abs() < 1e-9);
    let o = run_on(&m2, &["--buckets", "1M,7D"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("increasing"));
    // A factor table of one's own: the US reduced LCR at 70 %; a bad factor names the file.
    let reduced = dir.join("us-reduced.toml");
    std::fs::write(
        &reduced,
        "regime = \"us-reduced\"\ninherits = \"us\"\n[lcr.caps]\noutflow_adjustment = { factor = 0.70, source = \"12 CFR 249.30(c)\", status = \"U\" }\n",
    )
    .unwrap();
    let o = run_on(&m2, &["--factors", &arg(&reduced)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    assert_eq!(r["regime"], "us-reduced");
    assert_eq!(r["lcr"]["outflow_adjustment"], 0.7);
    std::fs::write(
        &reduced,
        "regime = \"bad\"\ninherits = \"us\"\n[lcr.outflow]\nretail_stable = { factor = 1.5, source = \"x\", status = \"U\" }\n",
    )
    .unwrap();
    let o = run_on(&m2, &["--factors", &arg(&reduced)]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("us-reduced.toml") && err.contains("retail_stable"),
        "{err}"
    );
    for (flag, value, says) in [
        ("--regime", "uk", "basel, eu or us"),
        ("--buckets", "weekly", "c66 or basel"),
    ] {
        let o = run(&[flag, value]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
}

/// `run liquidity --scenarios`: the example stress set on a stored sample bank gives a stressed
/// ladder and survival horizon per scenario (the joint one revalues the bond book lower), the
/// set is stored with the run, which replays bit for bit; the workbook and CSV files carry the
/// stresses; a category the factor table does not have, or a scenario named like a view, is
/// refused with the scenario's name.
#[test]
fn run_liquidity_with_stress_scenarios() {
    let dir = temp_dir("liquidity-stress");
    let (db, bank) = stored_bank(&dir, 400);
    let (ok, s) = (run_ok, arg);
    let set = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/liquidity.toml");
    let out = dir.join("stressed.json");
    let o = ok(&[
        "run",
        "liquidity",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--scenarios",
        &s(&set),
        "--out",
        &s(&out),
        "--xlsx",
        &s(&dir.join("stressed.xlsx")),
        "--csv",
        &s(&dir.join("stressed-csv")),
        "--db",
        &s(&db),
        "--json",
    ]);
    let run: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let names: Vec<&str> = doc["stresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["idiosyncratic", "market_wide", "joint_rates_up_run"]
    );
    for n in &names {
        let h = &doc["survival_horizon"][n];
        assert!(h["beyond_last_bucket"].is_boolean(), "{n}: {h}");
        assert_eq!(h["position"].as_array().unwrap().len(), 21);
    }
    let effects = |n: usize| &doc["stresses"][n]["effects"];
    let num = |v: &serde_json::Value| v.as_f64().unwrap();
    // Deposits run in the idiosyncratic stress and the downgrade calls the swaps' collateral
    // (2 % of their notional in the sample bank), as the LCR's downgrade line.
    assert!(num(&effects(0)["runoff"]) > 0.0);
    let calls = num(&effects(0)["collateral_calls"]);
    let line = doc["lcr"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["category"] == "downgrade_triggers")
        .unwrap();
    assert!(calls > 0.0 && (num(&line["amount"]) - calls).abs() < 1e-6 * calls);
    // Wider haircuts cut the capacity; rates up take value off the bond book.
    assert!(num(&effects(1)["initial_capacity_change"]) < 0.0);
    assert_eq!(num(&effects(1)["hqla_value_change"]), 0.0);
    assert!(num(&effects(2)["hqla_value_change"]) < 0.0);
    assert_eq!(doc["scenario_set"]["name"], "Liquidity stresses 2026");
    // The stressed overnight outflows exceed the contractual ones by what the stress adds.
    let overnight = |l: &serde_json::Value| num(&l["outflows"][0]);
    assert!(overnight(&doc["stresses"][0]["ladder"]) > overnight(&doc["ladder"]));
    assert_replays(&db, run["run"].as_str().unwrap());
    {
        use calamine::Reader;
        let wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("stressed.xlsx")).unwrap();
        let sheets = wb.sheet_names();
        for want in [
            "S1 idiosyncratic",
            "S2 market_wide",
            "S3 joint_rates_up_run",
            "Stresses",
        ] {
            assert!(sheets.iter().any(|x| x == want), "{want}: {sheets:?}");
        }
        let rows = |name: &str| {
            csv::Reader::from_path(dir.join("stressed-csv").join(name))
                .unwrap()
                .records()
                .count()
        };
        assert_eq!(rows("ladder.csv"), 4 * 21);
        assert_eq!(rows("stresses.csv"), 3);
    }
    // The drill-down: every LCR and NSFR line is the sum of its positions' parts.
    let dd = dir.join("drill.csv");
    ok(&[
        "run",
        "liquidity",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--drill-down",
        &s(&dd),
        "--out",
        &s(&dir.join("drilled.json")),
        "--db",
        &s(&db),
    ]);
    let drilled: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("drilled.json")).unwrap()).unwrap();
    let mut sums: std::collections::BTreeMap<(String, String), f64> = Default::default();
    for r in csv::Reader::from_path(&dd).unwrap().records() {
        let r = r.unwrap();
        if r[3] != *"derivative" {
            *sums
                .entry((r[3].to_string(), r[4].to_string()))
                .or_default() += r[5].parse::<f64>().unwrap();
        }
    }
    let mut checked = 0;
    for (metric, part) in [("lcr", "section"), ("nsfr", "side")] {
        for l in drilled[metric]["lines"].as_array().unwrap() {
            let key = (
                l[part].as_str().unwrap().to_string(),
                l["category"].as_str().unwrap().to_string(),
            );
            if key.1.starts_with("derivative_") {
                continue;
            }
            let amount = l["amount"].as_f64().unwrap();
            let got = sums.get(&key).copied().unwrap_or(0.0);
            assert!(
                (got - amount).abs() <= 1e-6 * amount.abs().max(1.0),
                "{key:?}: {got} {amount}"
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked}");
    // A factor table of one's own is kept in the manifest: the run replays from the store.
    let table = dir.join("eu-3pct.toml");
    std::fs::write(
        &table,
        "regime = \"eu-3pct\"\ninherits = \"eu\"\n[lcr.outflow]\nretail_stable = { factor = 0.03, source = \"LCRDR Art 24(4)\", status = \"P\" }\n",
    )
    .unwrap();
    let o = ok(&[
        "run",
        "liquidity",
        "--snapshot",
        "latest",
        "--market",
        &s(&bank.join("market.toml")),
        "--factors",
        &s(&table),
        "--out",
        &s(&dir.join("own.json")),
        "--db",
        &s(&db),
        "--json",
    ]);
    let own: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    std::fs::remove_file(&table).unwrap();
    assert_replays(&db, own["run"].as_str().unwrap());
    // The same from files, and refusals.
    let exported = dir.join("contracts.json");
    export_latest(&db, &exported);
    let file_run = |set: &std::path::Path| {
        almanac()
            .args([
                "liquidity",
                "--contracts",
                &s(&exported),
                "--market",
                &s(&bank.join("market.toml")),
                "--as-of",
                "2025-12-31",
                "--scenarios",
                &s(set),
                "--json",
                &s(&dir.join("plain.json")),
            ])
            .output()
            .unwrap()
    };
    assert!(file_run(&set).status.success());
    let plain: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plain.json")).unwrap()).unwrap();
    assert_eq!(plain["stresses"].as_array().unwrap().len(), 3);
    let text = std::fs::read_to_string(&set).unwrap();
    for (bad, says) in [
        (
            text.replace("retail_stable = 0.10", "retail_sturdy = 0.10"),
            "retail_sturdy",
        ),
        (
            text.replace("name = \"market_wide\"", "name = \"contractual\""),
            "contractual",
        ),
    ] {
        let f = dir.join("bad.toml");
        std::fs::write(&f, bad).unwrap();
        let o = file_run(&f);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{says}: {err}");
    }
}
