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

/// The report as an Excel workbook (one sheet, bold header, fitted columns).
pub fn to_xlsx(problems: &[Problem]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("problems")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in ["file", "row", "column", "value", "reason"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, p) in problems.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        ws.write_string(r, 0, &p.file)?;
        ws.write_number(r, 1, p.row as f64)?;
        ws.write_string(r, 2, &p.column)?;
        ws.write_string(r, 3, &p.value)?;
        ws.write_string(r, 4, &p.reason)?;
    }
    ws.autofit();
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Excel report reads back (with calamine) with one row per problem.
    #[test]
    fn xlsx_report_reads_back() {
        use calamine::Reader;
        let problems = vec![Problem {
            file: "t.csv".into(),
            row: 7,
            column: "rate".into(),
            value: "x".into(),
            reason: "not a number".into(),
        }];
        let bytes = to_xlsx(&problems).unwrap();
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("problems").unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(rows[0], ["file", "row", "column", "value", "reason"]);
        assert_eq!(rows[1], ["t.csv", "7", "rate", "x", "not a number"]);
    }
}
