//! `almanac cashflows`: every event of every contract, streamed in input order.
//!
//! CSV input is read in chunks; each chunk is evaluated on all cores (rayon) and written in
//! input order before the next is read, so memory stays bounded for any number of contracts.

use std::io::{BufWriter, Write};
use std::path::Path;

use almanac_actus::{
    evaluate_into, ContractEvent, ContractTerms, DateTime, EvalContext, RiskFactorObserver,
    SnapshotObserver,
};
use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::input::{csv_terms, read_contracts, read_market, InputContract};
use crate::{CashflowsArgs, Format};

const CHUNK: usize = 8192;

const HEADER: &str = "contract_id,event_date,event_type,currency,payoff,notional_principal,\
nominal_interest_rate,accrued_interest";

struct Options<'a> {
    observer: &'a dyn RiskFactorObserver,
    as_of: Option<DateTime>,
    to: Option<DateTime>,
    format: Format,
}

/// Outcome of one contract: its formatted rows, or an error message.
type Rendered = Result<String, String>;

fn parse_date(s: &Option<String>, what: &str) -> Result<Option<DateTime>> {
    s.as_deref()
        .map(|v| {
            v.parse()
                .map_err(|e| anyhow::anyhow!("--{what} {v:?}: {e}"))
        })
        .transpose()
}

pub(crate) fn run(args: &CashflowsArgs) -> Result<bool> {
    let as_of = parse_date(&args.as_of, "as-of")?;
    let to = parse_date(&args.to, "to")?;
    // A TOML market is a snapshot (curves, indices, fixings, FX): floating resets read
    // forwards from it. Otherwise the file holds time series in the suite's shape.
    let is_toml = |p: &std::path::Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    };
    let snapshot = match &args.market {
        Some(p) if is_toml(p) => Some(crate::scenarios::read_market(p, None)?),
        _ => None,
    };
    let snapshot_observer = snapshot.as_ref().map(SnapshotObserver::new);
    let extra_market = match &args.market {
        Some(p) if !is_toml(p) => Some(read_market(p)?),
        _ => None,
    };
    let sink: Box<dyn Write> = match &args.out {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let is_csv = args
        .contracts
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut summary = Summary::default();
    begin(&mut w, args.format)?;
    if is_csv {
        let market = extra_market.unwrap_or_default();
        let opts = Options {
            observer: match &snapshot_observer {
                Some(o) => o,
                None => &market,
            },
            as_of,
            to,
            format: args.format,
        };
        stream_csv(&args.contracts, &opts, &mut w, &mut summary)?;
    } else {
        let (contracts, mut market) = read_contracts(&args.contracts)?;
        if let Some(m) = extra_market {
            market = m;
        }
        let opts = Options {
            observer: match &snapshot_observer {
                Some(o) => o,
                None => &market,
            },
            as_of,
            to,
            format: args.format,
        };
        write_chunk(&contracts, &opts, &mut w, &mut summary)?;
    }
    end(&mut w, args.format)?;
    w.flush()?;
    eprintln!(
        "{} contracts, {} events written, {} contracts failed",
        summary.contracts,
        summary.events,
        summary.failed.len()
    );
    for (origin, why) in summary.failed.iter().take(50) {
        eprintln!("  {origin}: {why}");
    }
    if summary.failed.len() > 50 {
        eprintln!("  … and {} more", summary.failed.len() - 50);
    }
    Ok(summary.failed.is_empty())
}

#[derive(Default)]
struct Summary {
    contracts: usize,
    events: usize,
    failed: Vec<(String, String)>,
    first_json_row: bool,
}

fn stream_csv(
    path: &Path,
    opts: &Options<'_>,
    w: &mut impl Write,
    summary: &mut Summary,
) -> Result<()> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let headers = rdr
        .headers()
        .with_context(|| format!("{name}: reading the header"))?
        .clone();
    let mut records = rdr.records();
    let mut row = 1;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        for rec in records.by_ref().take(CHUNK) {
            row += 1;
            chunk.push((row, rec));
        }
        if chunk.is_empty() {
            break;
        }
        let contracts: Vec<InputContract> = chunk
            .into_par_iter()
            .map(|(row, rec)| {
                let origin = format!("{name} row {row}");
                let terms = match rec {
                    Ok(r) => csv_terms(&headers, &r, &origin).map(Box::new),
                    Err(e) => Err(format!("unreadable row: {e}")),
                };
                InputContract { origin, terms }
            })
            .collect();
        write_chunk(&contracts, opts, w, summary)?;
    }
    Ok(())
}

fn write_chunk(
    contracts: &[InputContract],
    opts: &Options<'_>,
    w: &mut impl Write,
    summary: &mut Summary,
) -> Result<()> {
    for part in contracts.chunks(CHUNK) {
        let rendered: Vec<(Rendered, usize)> = part
            .par_iter()
            .map_init(Vec::new, |buf, c| render(c, opts, buf))
            .collect();
        for (c, (r, n)) in part.iter().zip(rendered) {
            summary.contracts += 1;
            match r {
                Ok(text) => {
                    summary.events += n;
                    if opts.format == Format::Json && !text.is_empty() {
                        if summary.first_json_row {
                            w.write_all(b",\n")?;
                        }
                        summary.first_json_row = true;
                    }
                    w.write_all(text.as_bytes())?;
                }
                Err(why) => summary.failed.push((c.origin.clone(), why)),
            }
        }
    }
    Ok(())
}

fn render(
    c: &InputContract,
    opts: &Options<'_>,
    buf: &mut Vec<ContractEvent>,
) -> (Rendered, usize) {
    let terms = match &c.terms {
        Ok(t) => t,
        Err(e) => return (Err(e.clone()), 0),
    };
    let owned;
    let terms = match (opts.as_of, terms.status_date) {
        (Some(as_of), None) => {
            owned = ContractTerms {
                status_date: Some(as_of),
                ..(**terms).clone()
            };
            &owned
        }
        _ => terms,
    };
    let ctx = EvalContext {
        observer: opts.observer,
        observed_events: &[],
        to: opts.to,
    };
    if let Err(e) = evaluate_into(terms, &ctx, buf) {
        return (Err(e.to_string()), 0);
    }
    let id = terms.id();
    let id_csv = csv_field(id);
    let id_json = serde_json::Value::from(id).to_string();
    let mut s = String::with_capacity(buf.len() * 96);
    let mut num = Numbers::default();
    let mut n = 0;
    for e in buf
        .iter()
        .filter(|e| opts.as_of.is_none_or(|a| e.event_time > a))
    {
        let ccy = e.currency(terms).unwrap_or("");
        let st = &e.states;
        let date = e.event_time.iso_bytes();
        let date = std::str::from_utf8(&date).unwrap_or_default();
        let values = [
            e.payoff,
            st.notional_principal,
            st.nominal_interest_rate,
            st.accrued_interest,
        ];
        match opts.format {
            Format::Csv => {
                for field in [&*id_csv, date, e.event_type.code(), ccy] {
                    s.push_str(field);
                    s.push(',');
                }
                for (i, v) in values.into_iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(num.csv(v));
                }
                s.push('\n');
            }
            Format::Json => {
                if n > 0 {
                    s.push_str(",\n");
                }
                s.push_str("{\"contract_id\":");
                s.push_str(&id_json);
                s.push_str(",\"event_date\":\"");
                s.push_str(date);
                s.push_str("\",\"event_type\":\"");
                s.push_str(e.event_type.code());
                s.push_str("\",\"currency\":");
                s.push_str(&serde_json::Value::from(ccy).to_string());
                for (name, v) in JSON_FIELDS.iter().zip(values) {
                    s.push_str(name);
                    s.push_str(num.json(v));
                }
                s.push('}');
            }
        }
        n += 1;
    }
    (Ok(s), n)
}

/// JSON keys of the four numeric columns, each with its leading comma and colon.
const JSON_FIELDS: [&str; 4] = [
    ",\"payoff\":",
    ",\"notional_principal\":",
    ",\"nominal_interest_rate\":",
    ",\"accrued_interest\":",
];

/// Number formatting without the `fmt` machinery (the writer's hot path): whole numbers
/// as integers (`-1000`), others in the shortest form that reads back to the same `f64`.
#[derive(Default)]
struct Numbers {
    int: itoa::Buffer,
    float: ryu::Buffer,
}

impl Numbers {
    /// Largest magnitude printed as an integer (exact in both `f64` and `i64`).
    const MAX_INT: f64 = 9_007_199_254_740_992.0;

    fn csv(&mut self, x: f64) -> &str {
        if x.is_nan() {
            "NaN"
        } else if x.is_infinite() {
            if x > 0.0 {
                "inf"
            } else {
                "-inf"
            }
        } else if x == x.trunc() && x.abs() <= Self::MAX_INT {
            self.int.format(x as i64)
        } else {
            self.float.format_finite(x)
        }
    }

    fn json(&mut self, x: f64) -> &str {
        if x.is_finite() {
            self.csv(x)
        } else {
            "null"
        }
    }
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn begin(w: &mut impl Write, format: Format) -> Result<()> {
    match format {
        Format::Csv => writeln!(w, "{HEADER}")?,
        Format::Json => w.write_all(b"[\n")?,
    }
    Ok(())
}

fn end(w: &mut impl Write, format: Format) -> Result<()> {
    if format == Format::Json {
        w.write_all(b"\n]\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Numbers;

    /// Every printed number reads back to the same `f64`; whole numbers print as integers.
    #[test]
    fn numbers_round_trip() {
        let mut num = Numbers::default();
        assert_eq!(num.csv(-1000.0), "-1000");
        assert_eq!(num.csv(0.04), "0.04");
        assert_eq!(num.csv(-0.0), "0");
        assert_eq!(num.json(f64::NAN), "null");
        assert_eq!(num.csv(f64::NEG_INFINITY), "-inf");
        let mut x = 1.0e-12_f64;
        while x < 1.0e22 {
            for v in [x, -x, x * 1.000_000_1, (x * 3.0).trunc()] {
                assert_eq!(num.csv(v).parse::<f64>().unwrap(), v, "{v:e}");
            }
            x *= 7.3;
        }
    }
}
