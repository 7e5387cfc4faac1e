//! Reading contracts and market data from files, with errors that name file, row and term.

use std::path::Path;

use almanac_actus::{ContractTerms, MarketData, RawTerms};
use anyhow::{Context, Result};
use serde_json::Value;

/// A contract read from a file, or the reason it could not be read.
pub(crate) struct InputContract {
    /// Where it came from (`file.csv row 12`).
    pub(crate) origin: String,
    /// Boxed: a million of them are moved about, at 1.5 KB each.
    pub(crate) terms: Result<Box<ContractTerms>, String>,
}

/// Reads JSON (an array of term objects, or an ACTUS suite file) or CSV contracts.
pub(crate) fn read_contracts(path: &Path) -> Result<(Vec<InputContract>, MarketData)> {
    let name = path.display().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
        return Ok((read_csv(file, &name)?, MarketData::new()));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    if text.trim_start().starts_with('[') {
        // An array of term objects: read contract by contract, without a document tree of
        // them all first (a million contracts' tree takes gigabytes).
        let mut de = serde_json::Deserializer::from_str(&text);
        let out = serde::de::Deserializer::deserialize_seq(&mut de, Items { name: &name })
            .and_then(|out| de.end().map(|()| out))
            .with_context(|| format!("{name}: not JSON"))?;
        return Ok((out, MarketData::new()));
    }
    let root: Value = serde_json::from_str(&text).with_context(|| format!("{name}: not JSON"))?;
    let mut market = MarketData::new();
    let mut out = Vec::new();
    match root {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let origin = format!("{name} item {}", i + 1);
                out.push(from_value(item, origin));
            }
        }
        Value::Object(cases) => {
            // An ACTUS test-suite file: id → {terms, dataObserved, …}.
            for (id, case) in &cases {
                let origin = format!("{name} case {id}");
                match case.get("terms") {
                    Some(t) => out.push(from_value(t, origin)),
                    None => out.push(InputContract {
                        origin,
                        terms: Err("no terms".into()),
                    }),
                }
                if let Some(d) = case.get("dataObserved") {
                    add_market(&mut market, d, &name)?;
                }
            }
        }
        _ => anyhow::bail!("{name}: expected an array of contracts or an ACTUS suite object"),
    }
    Ok((out, market))
}

/// The items of a JSON array of contracts, each read as it comes ([`almanac_actus::TermsSeed`]:
/// the same terms and errors as [`ContractTerms::from_raw`] on the item), named `file item k`.
struct Items<'a> {
    name: &'a str,
}

impl<'de> serde::de::Visitor<'de> for Items<'_> {
    type Value = Vec<InputContract>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of contracts")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let origin = format!("{} item {}", self.name, out.len() + 1);
            match seq.next_element_seed(Item(&origin))? {
                Some(terms) => out.push(InputContract { origin, terms }),
                None => return Ok(out),
            }
        }
    }
}

/// One item of the array: terms, or why it is not an object of terms.
struct Item<'h>(&'h str);

impl<'de> serde::de::DeserializeSeed<'de> for Item<'_> {
    type Value = Result<Box<ContractTerms>, String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Item<'_> {
    type Value = Result<Box<ContractTerms>, String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of ACTUS terms")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        use serde::de::DeserializeSeed;
        let read = almanac_actus::TermsSeed(self.0)
            .deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(read.0.map_err(|e| e.to_string()))
    }

    // Anything else is an item that is not a contract (reported, the others still read).
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(not_an_object())
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(not_an_object())
    }
}

fn not_an_object() -> Result<Box<ContractTerms>, String> {
    Err("expected an object of ACTUS terms".to_string())
}

fn from_value(v: &Value, origin: String) -> InputContract {
    let terms = match v.as_object() {
        Some(raw) => ContractTerms::from_raw(raw, &origin)
            .map(Box::new)
            .map_err(|e| e.to_string()),
        None => not_an_object(),
    };
    InputContract { origin, terms }
}

/// Reads CSV rows whose header names ACTUS terms; empty cells are absent terms.
pub(crate) fn read_csv<R: std::io::Read>(reader: R, name: &str) -> Result<Vec<InputContract>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .with_context(|| format!("{name}: reading the header"))?
        .clone();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2; // 1-based, after the header line
        let origin = format!("{name} row {row}");
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.push(InputContract {
                    origin,
                    terms: Err(format!("unreadable row: {e}")),
                });
                continue;
            }
        };
        out.push(InputContract {
            terms: csv_terms(&headers, &rec, &origin).map(Box::new),
            origin,
        });
    }
    Ok(out)
}

/// Terms of one CSV record; LAX arrays may be written `[a;b;c]` or `a;b;c`.
pub(crate) fn csv_terms(
    headers: &csv::StringRecord,
    rec: &csv::StringRecord,
    origin: &str,
) -> Result<ContractTerms, String> {
    let mut raw = RawTerms::new();
    for (h, v) in headers.iter().zip(rec.iter()) {
        if v.is_empty() {
            continue;
        }
        let value = if h.starts_with("array") || h == "creditEventTypeCovered" {
            let inner = v.trim_start_matches('[').trim_end_matches(']');
            Value::Array(
                inner
                    .split(';')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            )
        } else {
            Value::String(v.to_string())
        };
        raw.insert(h.to_string(), value);
    }
    ContractTerms::from_raw(&raw, origin).map_err(|e| e.to_string())
}

fn add_market(market: &mut MarketData, data: &Value, name: &str) -> Result<()> {
    let obj = data
        .as_object()
        .with_context(|| format!("{name}: market data must be an object"))?;
    for (code, series) in obj {
        let points = series
            .get("data")
            .and_then(Value::as_array)
            .with_context(|| format!("{name}: series {code} has no data array"))?;
        let mut parsed = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let ts = p
                .get("timestamp")
                .and_then(Value::as_str)
                .with_context(|| {
                    format!("{name}: series {code} point {}: timestamp missing", i + 1)
                })?;
            let t = ts.parse().map_err(|e| {
                anyhow::anyhow!(
                    "{name}: series {code} point {}: timestamp {ts:?}: {e}",
                    i + 1
                )
            })?;
            let value = match p.get("value") {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            }
            .with_context(|| {
                format!(
                    "{name}: series {code} point {}: value is not a number",
                    i + 1
                )
            })?;
            parsed.push((t, value));
        }
        market.insert(code, parsed);
    }
    Ok(())
}

/// Reads a market-data file in the suite's `dataObserved` shape.
pub(crate) fn read_market(path: &Path) -> Result<MarketData> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let root: Value = serde_json::from_str(&text).with_context(|| format!("{name}: not JSON"))?;
    let mut market = MarketData::new();
    add_market(&mut market, &root, &name)?;
    Ok(market)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An array of contracts read item by item gives, item for item, what reading each item
    /// of the parsed document gives: the terms, the errors (naming a contract without an id
    /// by its item), and items that are not objects; a broken document is an error.
    #[test]
    fn an_array_read_item_by_item_is_the_array_read_whole() {
        let text = r#"[
            {"contractType":"PAM","contractID":"A","contractRole":"RPA","currency":"EUR",
             "statusDate":"2025-12-31","initialExchangeDate":"2025-01-01",
             "maturityDate":"2027-01-01","notionalPrincipal":1000,"nominalInterestRate":0.02,
             "vendorField":{"x":[1,2]}},
            {"contractType":"PAM","notionalPrincipal":"lots"},
            {"contractType":"PAM","notionalPrincipal":5},
            "not a contract",
            [1, {"a": 2}],
            null
        ]"#;
        let dir = std::env::temp_dir().join(format!("almanac-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("contracts.json");
        std::fs::write(&path, text).unwrap();
        let (read, _) = read_contracts(&path).unwrap();
        let name = path.display().to_string();
        let whole: Vec<Value> = serde_json::from_str(text).unwrap();
        assert_eq!(read.len(), whole.len());
        for (i, (r, v)) in read.iter().zip(&whole).enumerate() {
            let expected = from_value(v, format!("{name} item {}", i + 1));
            assert_eq!(r.origin, expected.origin);
            assert_eq!(r.terms, expected.terms, "item {}", i + 1);
        }
        assert!(read[0].terms.is_ok());
        assert!(read[1].terms.as_ref().unwrap_err().contains("item 2"));
        assert_eq!(
            read[2].terms.as_ref().unwrap().id(),
            format!("{name} item 3")
        );
        std::fs::write(&path, "[{\"contractType\":\"PAM\"},").unwrap();
        let err = read_contracts(&path).err().unwrap();
        assert!(format!("{err:#}").contains("not JSON"), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
