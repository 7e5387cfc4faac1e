//! The validation report: one line per problem, as CSV or JSON.

use crate::Problem;

/// The report as CSV with the header `file,row,column,value,reason`.
pub fn to_csv(problems: &[Problem]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["file", "row", "column", "value", "reason"]);
    for p in problems {
        let _ = w.write_record([
            p.file.as_str(),
            &p.row.to_string(),
            &p.column,
            &p.value,
            &p.reason,
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The report as a JSON array of problem objects.
pub fn to_json(problems: &[Problem]) -> String {
    serde_json::to_string_pretty(problems).unwrap_or_else(|_| "[]".into())
}
