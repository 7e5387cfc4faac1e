//! Cross-checks against QuantLib: day counts, the TARGET calendar, business-day conventions and
//! schedules, compared with values QuantLib-Python computed and stored as CSV in
//! `tests/fixtures/`. The fixtures are written by `scripts/gen-time-fixtures.py`, whose header
//! says which QuantLib version was used, how to rerun it and which cases are left out because
//! QuantLib's conventions differ from ACTUS.
//!
//! Every row is checked; a failing test lists every mismatching row with its file and line.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use almanac_time::schedule::generate_into;
use almanac_time::{
    adjust, BusinessDayConvention, Calendar, Cycle, Date, DayCount, EndDate, EndOfMonthConvention,
    Shift,
};

/// Largest accepted difference between a year fraction and QuantLib's.
const TOLERANCE: f64 = 1e-14;

/// One data row of a fixture, with enough context to print it on failure.
struct Row<'a> {
    file: &'static str,
    line_no: usize,
    line: &'a str,
    header: &'a [&'a str],
    fields: Vec<&'a str>,
}

impl Row<'_> {
    fn context(&self) -> String {
        format!("{}:{}: {}", self.file, self.line_no, self.line)
    }

    fn get(&self, column: &str) -> &str {
        let i = self
            .header
            .iter()
            .position(|h| *h == column)
            .unwrap_or_else(|| panic!("{}: no column {column:?}", self.file));
        self.fields
            .get(i)
            .copied()
            .unwrap_or_else(|| panic!("{}: missing column {column:?}", self.context()))
    }

    fn date(&self, column: &str) -> Date {
        let s = self.get(column);
        s.parse()
            .unwrap_or_else(|e| panic!("{}: bad date {s:?}: {e}", self.context()))
    }

    fn opt_date(&self, column: &str) -> Option<Date> {
        (!self.get(column).is_empty()).then(|| self.date(column))
    }

    fn opt_f64(&self, column: &str) -> Option<f64> {
        let s = self.get(column);
        (!s.is_empty()).then(|| {
            s.parse()
                .unwrap_or_else(|e| panic!("{}: bad number {s:?}: {e}", self.context()))
        })
    }
}

fn load(file: &'static str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", file]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `check` on every data row of `file` (lines starting with `#` are comments, the first
/// other line is the header). `check` appends a message to its `String` for each mismatch;
/// the test fails with all of them once every row has been checked.
fn check_rows(file: &'static str, min_rows: usize, mut check: impl FnMut(&Row<'_>, &mut String)) {
    let text = load(file);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let (_, header_line) = lines.next().unwrap_or_else(|| panic!("{file}: no header"));
    let header: Vec<&str> = header_line.split(',').collect();
    let mut failures = String::new();
    let mut rows = 0;
    for (i, line) in lines {
        let row = Row {
            file,
            line_no: i + 1,
            line,
            header: &header,
            fields: line.split(',').collect(),
        };
        assert_eq!(
            row.fields.len(),
            header.len(),
            "{}: wrong number of fields",
            row.context()
        );
        let mut msg = String::new();
        check(&row, &mut msg);
        if !msg.is_empty() {
            writeln!(failures, "{}\n{msg}", row.context()).unwrap();
        }
        rows += 1;
    }
    assert!(
        rows >= min_rows,
        "{file}: only {rows} rows, expected at least {min_rows}"
    );
    assert!(
        failures.is_empty(),
        "{file}: rows disagree with QuantLib:\n{failures}"
    );
}

#[test]
fn day_counts_match_quantlib() {
    check_rows("day_counts.csv", 300, |row, msg| {
        let (start, end) = (row.date("start"), row.date("end"));
        let maturity = row.opt_date("maturity");
        let conventions = [
            ("a360", DayCount::Act360),
            ("a365f", DayCount::Act365Fixed),
            ("aa_isda", DayCount::ActActIsda),
            ("e30_360", DayCount::ThirtyE360),
            ("e30_360_isda", DayCount::ThirtyE360Isda { maturity }),
            ("b252_target", DayCount::Business252(Calendar::Target)),
        ];
        for (column, dc) in conventions {
            let Some(expected) = row.opt_f64(column) else {
                continue;
            };
            let got = dc.year_fraction(start, end);
            if (got - expected).abs() > TOLERANCE {
                writeln!(
                    msg,
                    "  {column} ({}): almanac {got:?}, QuantLib {expected:?}, diff {:e}",
                    dc.code(),
                    got - expected
                )
                .unwrap();
            }
        }
    });
}

#[test]
fn target_holidays_match_quantlib_both_ways() {
    let text = load("target_holidays.csv");
    let holidays: HashSet<Date> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| {
            l.parse()
                .unwrap_or_else(|e| panic!("target_holidays.csv: {l:?}: {e}"))
        })
        .collect();
    assert!(holidays.len() > 250, "only {} holidays", holidays.len());
    let (first, last) = (Date::ymd(1999, 1, 1), Date::ymd(2060, 12, 31));
    for h in &holidays {
        assert!(
            (first..=last).contains(h) && !h.weekday().is_weekend(),
            "target_holidays.csv: {h} is not a weekday in {first}..={last}"
        );
    }
    let mut failures = String::new();
    let mut d = first;
    while d <= last {
        let expected = !d.weekday().is_weekend() && !holidays.contains(&d);
        let got = Calendar::Target.is_business_day(d);
        if got != expected {
            writeln!(
                failures,
                "  {d} ({}): almanac business day = {got}, QuantLib = {expected}",
                d.weekday().short_name()
            )
            .unwrap();
        }
        d = d.add_days(1);
    }
    assert!(
        failures.is_empty(),
        "TARGET business days disagree with QuantLib:\n{failures}"
    );
}

#[test]
fn business_day_conventions_match_quantlib() {
    use BusinessDayConvention as B;
    let columns = [
        ("unadjusted", Shift::Unadjusted, &[B::NoShift][..]),
        (
            "following",
            Shift::Following,
            &[B::ShiftCalculateFollowing, B::CalculateShiftFollowing][..],
        ),
        (
            "modified_following",
            Shift::ModifiedFollowing,
            &[
                B::ShiftCalculateModifiedFollowing,
                B::CalculateShiftModifiedFollowing,
            ][..],
        ),
        (
            "preceding",
            Shift::Preceding,
            &[B::ShiftCalculatePreceding, B::CalculateShiftPreceding][..],
        ),
        (
            "modified_preceding",
            Shift::ModifiedPreceding,
            &[
                B::ShiftCalculateModifiedPreceding,
                B::CalculateShiftModifiedPreceding,
            ][..],
        ),
    ];
    let cal = Calendar::Target;
    check_rows("business_days.csv", 1000, |row, msg| {
        let date = row.date("date");
        for (column, shift, conventions) in columns {
            let expected = row.date(column);
            let got = adjust(date, shift, &cal);
            if got != expected {
                writeln!(
                    msg,
                    "  {column}: almanac adjust({shift:?}) = {got}, QuantLib {expected}"
                )
                .unwrap();
            }
            for bdc in conventions {
                let got = bdc.adjust(date, &cal);
                if got != expected {
                    writeln!(
                        msg,
                        "  {column}: almanac {} = {got}, QuantLib {expected}",
                        bdc.code()
                    )
                    .unwrap();
                }
            }
        }
    });
}

#[test]
fn short_stub_schedules_match_quantlib() {
    let mut out = Vec::new();
    check_rows("schedules.csv", 500, |row, msg| {
        let (anchor, end) = (row.date("anchor"), row.date("end"));
        let tenor = row.get("tenor");
        let cycle: Cycle = format!("{tenor}L1")
            .parse()
            .unwrap_or_else(|e| panic!("{}: bad tenor: {e}", row.context()));
        let eom = EndOfMonthConvention::from_code(row.get("eom"))
            .unwrap_or_else(|e| panic!("{}: {e}", row.context()));
        let expected: Vec<Date> = row
            .get("dates")
            .split(';')
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|e| panic!("{}: bad date {s:?}: {e}", row.context()))
            })
            .collect();
        // `out` is reused across rows, as hot loops do.
        generate_into(&mut out, anchor, end, Some(cycle), eom, EndDate::Include);
        if out != expected {
            let got: Vec<String> = out.iter().map(Date::to_string).collect();
            writeln!(msg, "  almanac {}", got.join(";")).unwrap();
        }
    });
}
