//! `almanac cashflows`: every event of every contract, streamed in input order.
//!
//! CSV input is read in chunks; each chunk is evaluated on all cores (rayon) and written in
//! input order before the next is read, so memory stays bounded for any number of contracts.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use almanac_actus::{
    evaluate_into, ContractEvent, ContractTerms, DateTime, EvalContext, RiskFactorObserver,
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
    let extra_market = args.market.as_deref().map(read_market).transpose()?;
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
            observer: &market,
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
            observer: &market,
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
                    Ok(r) => csv_terms(&headers, &r, &origin),
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
                ..terms.clone()
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
    let mut s = String::with_capacity(buf.len() * 96);
    let mut n = 0;
    for e in buf
        .iter()
        .filter(|e| opts.as_of.is_none_or(|a| e.event_time > a))
    {
        let ccy = e.currency(terms).unwrap_or("");
        let st = &e.states;
        match opts.format {
            Format::Csv => {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{}",
                    csv_field(id),
                    e.event_time,
                    e.event_type,
                    ccy,
                    e.payoff,
                    st.notional_principal,
                    st.nominal_interest_rate,
                    st.accrued_interest
                );
            }
            Format::Json => {
                if n > 0 {
                    s.push_str(",\n");
                }
                let _ = write!(
                    s,
                    "{{\"contract_id\":{},\"event_date\":\"{}\",\"event_type\":\"{}\",\
                     \"currency\":{},\"payoff\":{},\"notional_principal\":{},\
                     \"nominal_interest_rate\":{},\"accrued_interest\":{}}}",
                    serde_json::Value::from(id),
                    e.event_time,
                    e.event_type,
                    serde_json::Value::from(ccy),
                    json_number(e.payoff),
                    json_number(st.notional_principal),
                    json_number(st.nominal_interest_rate),
                    json_number(st.accrued_interest)
                );
            }
        }
        n += 1;
    }
    (Ok(s), n)
}

fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "null".to_string()
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
