//! Excel tapes (xlsx, xls, ods): the first worksheet, its first row the header; cells become
//! text as a CSV export would write them, then the same validation as CSV.
//!
//! Numbers that are whole print as integers, others in their shortest exact form; Excel dates
//! (serial days from 1899-12-30) print in the mapping's date layout; error cells (`#N/A`…)
//! print as written, so the row is rejected with that value named.

use std::io::Cursor;

use almanac_balance_sheet::Position;
use almanac_time::Date;
use calamine::{open_workbook_auto_from_rs, Data, Reader};

use crate::{ingest_records, DateFormat, IngestError, Ingested, Mapping};

/// Reads an Excel tape from its bytes; otherwise as [`crate::ingest_csv_into`].
pub fn ingest_xlsx_into(
    bytes: &[u8],
    file: &str,
    mapping: Option<&Mapping>,
    as_of: Date,
    sink: &mut dyn FnMut(Vec<Position>),
) -> Result<Ingested, IngestError> {
    let err = |reason: String| IngestError::Tape {
        file: file.to_string(),
        reason,
    };
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| err(format!("not a spreadsheet: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| err("the workbook has no worksheet".into()))?
        .map_err(|e| err(format!("cannot read the first worksheet: {e}")))?;
    let date_format = mapping.map_or(DateFormat::Iso, |m| m.date_format);
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| err("the first worksheet is empty".into()))?
        .iter()
        .map(|c| cell(c, DateFormat::Iso).trim().to_string())
        .collect();
    let width = header.len();
    let records = rows.map(move |r| {
        let mut cells: Vec<String> = r.iter().map(|c| cell(c, date_format)).collect();
        // Trailing empty cells may be missing from a sheet's row.
        cells.resize(width.max(cells.len()), String::new());
        Ok(csv::StringRecord::from(cells))
    });
    ingest_records(&header, records, file, mapping, as_of, sink)
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        ryu::Buffer::new().format(v).to_string()
    }
}

fn cell(c: &Data, date_format: DateFormat) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            // Excel serial date: days since 1899-12-30 (the 1900 leap-year bug included).
            let days = dt.as_f64().floor() as i32;
            date_format.render(Date::ymd(1899, 12, 30).add_days(days))
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real xlsx file written by rust_xlsxwriter, with text, numbers, an Excel date and an
    /// empty cell, imports like CSV; a bad code is reported with its cell's value.
    #[test]
    fn xlsx_tape_imports_like_csv() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (c, h) in ["id", "kind", "balance", "start", "end"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        let rows = [("A", "PAM", 1000.5), ("B", "XYZ", 250.0)];
        for (r, (id, kind, bal)) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, *id).unwrap();
            ws.write_string(r, 1, *kind).unwrap();
            ws.write_number(r, 2, *bal).unwrap();
            let d1 = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 1, 1).unwrap();
            let d2 = rust_xlsxwriter::ExcelDateTime::from_ymd(2027, 1, 1).unwrap();
            ws.write_datetime_with_format(r, 3, &d1, &date).unwrap();
            ws.write_datetime_with_format(r, 4, &d2, &date).unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        let mapping = Mapping::from_toml(
            "[defaults]\ncurrency = \"EUR\"\ncontractRole = \"RPA\"\n[columns]\ncontractID = \"id\"\n\
             contractType = { column = \"kind\", codes = { PAM = \"PAM\" } }\n\
             notionalPrincipal = \"balance\"\ninitialExchangeDate = \"start\"\nmaturityDate = \"end\"\n",
            "m.toml",
        )
        .unwrap();
        let mut positions = Vec::new();
        let out = ingest_xlsx_into(
            &bytes,
            "tape.xlsx",
            Some(&mapping),
            Date::ymd(2025, 12, 31),
            &mut |c| positions.extend(c),
        )
        .unwrap();
        assert_eq!(out.rows, 2);
        assert_eq!(positions.len(), 1);
        let almanac_balance_sheet::Instrument::Contract(a) = &positions[0].instrument else {
            panic!()
        };
        assert_eq!(a.notional_principal, Some(1000.5));
        assert_eq!(
            a.initial_exchange_date.unwrap().date(),
            Date::ymd(2025, 1, 1)
        );
        assert_eq!(a.maturity_date.unwrap().date(), Date::ymd(2027, 1, 1));
        assert_eq!(out.problems.len(), 1);
        assert_eq!(
            (
                out.problems[0].row,
                out.problems[0].column.as_str(),
                out.problems[0].value.as_str()
            ),
            (2, "kind", "XYZ")
        );
        assert!(ingest_xlsx_into(
            b"not a workbook",
            "x.xlsx",
            None,
            Date::ymd(2025, 1, 1),
            &mut |_| {}
        )
        .is_err());
    }
}
