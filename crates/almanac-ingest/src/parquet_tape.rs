//! Parquet tapes: each row's columns become text cells, then the same validation as CSV.
//!
//! Column values are rendered as a tape writer would write them: integers and decimals in
//! full, floating-point numbers in their shortest exact form, dates (`DATE`, timestamps) as
//! ISO `YYYY-MM-DD`, strings as they are, nulls as empty cells. The mapping's date layout is
//! not used for typed dates (they are ISO already), only for dates stored as strings.

use std::fs::File;

use almanac_balance_sheet::Position;
use almanac_time::Date;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::{ingest_records, IngestError, Ingested, Mapping};

/// Reads a Parquet tape; otherwise as [`crate::ingest_csv_into`].
pub fn ingest_parquet_into(
    tape: File,
    file: &str,
    mapping: Option<&Mapping>,
    as_of: Date,
    sink: &mut dyn FnMut(Vec<Position>),
) -> Result<Ingested, IngestError> {
    let err = |reason: String| IngestError::Tape {
        file: file.to_string(),
        reason,
    };
    let reader =
        SerializedFileReader::new(tape).map_err(|e| err(format!("not a Parquet file: {e}")))?;
    let header: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| err(format!("cannot read rows: {e}")))?;
    let date_format = mapping.map_or(crate::DateFormat::Iso, |m| m.date_format);
    let records = rows.map(move |row| {
        let row = row.map_err(|e| e.to_string())?;
        let cells: Vec<String> = row
            .get_column_iter()
            .map(|(_, f)| cell(f, date_format))
            .collect();
        Ok(csv::StringRecord::from(cells))
    });
    ingest_records(&header, records, file, mapping, as_of, sink)
}

/// A typed value as a tape cell.
fn cell(f: &Field, date_format: crate::DateFormat) -> String {
    let date = |days: i64| -> String {
        date_format.render(Date::from_days_since_epoch(
            i32::try_from(days).unwrap_or(i32::MAX),
        ))
    };
    match f {
        Field::Null => String::new(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float(v) => ryu::Buffer::new().format(*v).to_string(),
        Field::Double(v) => ryu::Buffer::new().format(*v).to_string(),
        Field::Str(s) => s.clone(),
        Field::Date(days) => date(i64::from(*days)),
        Field::TimestampMillis(ms) => date(ms.div_euclid(86_400_000)),
        Field::TimestampMicros(us) => date(us.div_euclid(86_400_000_000)),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    use super::*;

    /// A Parquet tape with typed columns (strings, doubles, dates, nulls) imports like the
    /// equivalent CSV, and a bad row is reported with its column and value.
    #[test]
    fn parquet_tape_imports_like_csv() {
        let path =
            std::env::temp_dir().join(format!("almanac-tape-{}.parquet", std::process::id()));
        let schema = Arc::new(
            parse_message_type(
                "message tape { REQUIRED BYTE_ARRAY id (UTF8); REQUIRED BYTE_ARRAY kind (UTF8); \
                 OPTIONAL DOUBLE balance; REQUIRED INT32 start (DATE); REQUIRED INT32 end (DATE); }",
            )
            .unwrap(),
        );
        let mut w = SerializedFileWriter::new(
            File::create(&path).unwrap(),
            schema,
            Arc::new(WriterProperties::builder().build()),
        )
        .unwrap();
        let mut g = w.next_row_group().unwrap();
        let ids: Vec<ByteArray> = ["A", "B", "C"]
            .iter()
            .map(|s| ByteArray::from(*s))
            .collect();
        let kinds: Vec<ByteArray> = ["PAM", "PAM", "XYZ"]
            .iter()
            .map(|s| ByteArray::from(*s))
            .collect();
        let start = Date::ymd(2025, 1, 1).days_since_epoch();
        let end = Date::ymd(2027, 1, 1).days_since_epoch();
        let mut c = g.next_column().unwrap().unwrap();
        c.typed::<ByteArrayType>()
            .write_batch(&ids, None, None)
            .unwrap();
        c.close().unwrap();
        let mut c = g.next_column().unwrap().unwrap();
        c.typed::<ByteArrayType>()
            .write_batch(&kinds, None, None)
            .unwrap();
        c.close().unwrap();
        let mut c = g.next_column().unwrap().unwrap();
        // B has no balance (null): a PAM without notional is still read; its problem shows later.
        c.typed::<DoubleType>()
            .write_batch(&[1000.5, 250.0], Some(&[1, 0, 1]), None)
            .unwrap();
        c.close().unwrap();
        for v in [start, end] {
            let mut c = g.next_column().unwrap().unwrap();
            c.typed::<Int32Type>()
                .write_batch(&[v, v, v], None, None)
                .unwrap();
            c.close().unwrap();
        }
        g.close().unwrap();
        w.close().unwrap();

        let mapping = Mapping::from_toml(
            "[defaults]\ncurrency = \"EUR\"\ncontractRole = \"RPA\"\n[columns]\ncontractID = \"id\"\n\
             contractType = \"kind\"\nnotionalPrincipal = \"balance\"\ninitialExchangeDate = \"start\"\n\
             maturityDate = \"end\"\n",
            "m.toml",
        )
        .unwrap();
        let mut positions = Vec::new();
        let out = ingest_parquet_into(
            File::open(&path).unwrap(),
            "tape.parquet",
            Some(&mapping),
            Date::ymd(2025, 12, 31),
            &mut |chunk| positions.extend(chunk),
        )
        .unwrap();
        assert_eq!(out.rows, 3);
        assert_eq!(positions.len(), 2);
        let crate::Instrument::Contract(a) = &positions[0].instrument else {
            panic!()
        };
        assert_eq!(a.notional_principal, Some(1000.5));
        assert_eq!(a.maturity_date.unwrap().date(), Date::ymd(2027, 1, 1));
        assert_eq!(out.problems.len(), 1);
        assert_eq!(
            (out.problems[0].row, out.problems[0].column.as_str()),
            (3, "kind")
        );
        assert_eq!(out.problems[0].value, "XYZ");
        std::fs::remove_file(&path).ok();
    }
}
