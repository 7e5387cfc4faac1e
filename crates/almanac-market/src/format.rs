//! Reading market data from text: the zero-curve CSV and the TOML market snapshot. Both are
//! documented with examples in `docs/market-data.md`; every error names the file, the line
//! and the field.
//!
//! The functions take the file's *text* and its name (for messages): reading the file is the
//! caller's job, so this crate stays free of I/O.

use std::collections::BTreeMap;

use almanac_time::{Calendar, Date, DayCount, Period, PeriodUnit};
use serde::Deserialize;
use toml::Spanned;

use crate::bootstrap::{bootstrap, Quote, QuoteKind};
use crate::currency;
use crate::curve::{Compounding, Curve, CurveInterpolation};
use crate::error::MarketError;
use crate::snapshot::{IndexDefinition, MarketSnapshot};
use crate::volatility::{Volatility, VolatilityModel};

/// A pillar as written: an ISO date or a tenor from the as-of date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pillar {
    /// A date.
    Date(Date),
    /// A tenor (`1M`, `10Y`, `2W`, `1D`).
    Tenor(Period),
}

impl Pillar {
    /// Parses `2030-06-30` or `10Y`.
    pub fn parse(s: &str) -> Result<Pillar, String> {
        let s = s.trim();
        if let Ok(d) = s.parse::<Date>() {
            return Ok(Pillar::Date(d));
        }
        let upper = s.to_ascii_uppercase();
        let p: Period = upper.parse().map_err(|_| {
            format!("{s:?} is neither a date (YYYY-MM-DD) nor a tenor (e.g. 3M, 10Y)")
        })?;
        if p.count == 0 {
            return Err(format!("tenor {s:?} is zero"));
        }
        Ok(Pillar::Tenor(p))
    }

    /// The pillar's date, given the as-of date.
    pub fn date(self, as_of: Date) -> Date {
        match self {
            Pillar::Date(d) => d,
            Pillar::Tenor(p) => p.add_to(as_of, 1),
        }
    }

    /// Time in years: the day count from `as_of` to the pillar date; without an as-of date a
    /// tenor counts nominally (n months = n/12, n weeks = 7n/365, n days = n/365 years).
    pub fn time(self, as_of: Option<Date>, day_count: &DayCount) -> Result<f64, String> {
        match (self, as_of) {
            (p, Some(a)) => Ok(day_count.year_fraction(a, p.date(a))),
            (Pillar::Tenor(p), None) => {
                let n = f64::from(p.count);
                Ok(match p.unit {
                    PeriodUnit::Day => n / 365.0,
                    PeriodUnit::Week => 7.0 * n / 365.0,
                    PeriodUnit::Month => n / 12.0,
                    PeriodUnit::Quarter => n / 4.0,
                    PeriodUnit::HalfYear => n / 2.0,
                    PeriodUnit::Year => n,
                })
            }
            (Pillar::Date(d), None) => Err(format!(
                "pillar {d} is a date but no as-of date was given to measure it from"
            )),
        }
    }
}

/// The 1-based line of byte `offset` in `text` (for messages about TOML values).
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A tenor (`3M`, `10Y`) in nominal years: n days = n/365, n weeks = 7n/365, n months = n/12.
pub fn tenor_years(s: &str) -> Option<f64> {
    match Pillar::parse(s).ok()? {
        p @ Pillar::Tenor(_) => p.time(None, &DayCount::Act365Fixed).ok(),
        Pillar::Date(_) => None,
    }
}

/// The as-of date used for curves read without one (tenor pillars counted nominally): the
/// curves' date-based look-ups are then meaningless, only their time-based ones.
pub const UNDATED: Date = Date::ymd(1970, 1, 1);

/// Reads zero curves from CSV with the header `curve_id,currency,pillar,zero_rate`: one row per
/// pillar, rates continuously compounded decimals on ACT/365F, pillars increasing within a
/// curve. Curves are interpolated with `method`. Without `as_of` every pillar must be a tenor.
pub fn read_zero_curves_csv(
    text: &str,
    file: &str,
    as_of: Option<Date>,
    method: CurveInterpolation,
) -> Result<Vec<Curve>, MarketError> {
    const HEADER: [&str; 4] = ["curve_id", "currency", "pillar", "zero_rate"];
    let field_err = |line: usize, field: &str, reason: String| MarketError::Field {
        file: file.to_string(),
        line,
        field: field.to_string(),
        reason,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header = rdr.headers().map_err(|e| MarketError::Syntax {
        file: file.to_string(),
        line: 1,
        reason: e.to_string(),
    })?;
    let names: Vec<&str> = header.iter().collect();
    if names != HEADER {
        return Err(MarketError::Syntax {
            file: file.to_string(),
            line: 1,
            reason: format!(
                "the header must be `{}`, found `{}`",
                HEADER.join(","),
                names.join(",")
            ),
        });
    }
    // (id, currency, first line) in order of appearance; pillars per id.
    let mut order: Vec<(String, String, usize)> = Vec::new();
    let mut pillars: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let day_count = DayCount::Act365Fixed;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| MarketError::Syntax {
            file: file.to_string(),
            line: e.position().map_or(0, |p| p.line() as usize),
            reason: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let id = rec.get(0).unwrap_or_default();
        if id.is_empty() {
            return Err(field_err(line, "curve_id", "is empty".into()));
        }
        let ccy = rec.get(1).unwrap_or_default();
        if !currency::is_known(ccy) {
            return Err(field_err(
                line,
                "currency",
                format!("{ccy:?} is not an ISO 4217 currency code"),
            ));
        }
        let pillar = Pillar::parse(rec.get(2).unwrap_or_default())
            .map_err(|r| field_err(line, "pillar", r))?;
        let t = pillar
            .time(as_of, &day_count)
            .map_err(|r| field_err(line, "pillar", r))?;
        if t <= 0.0 {
            return Err(field_err(
                line,
                "pillar",
                format!("{pillar:?} is not after the as-of date"),
            ));
        }
        let rate_text = rec.get(3).unwrap_or_default();
        let rate: f64 = rate_text
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite())
            .ok_or_else(|| {
                field_err(line, "zero_rate", format!("{rate_text:?} is not a number"))
            })?;
        if rate.abs() > 1.0 {
            return Err(field_err(
                line,
                "zero_rate",
                format!("{rate} is not a decimal rate (write 2 % as 0.02)"),
            ));
        }
        match order.iter().find(|(i, _, _)| i == id) {
            Some((_, c, _)) if c != ccy => {
                return Err(field_err(
                    line,
                    "currency",
                    format!("curve {id} was {c} on an earlier line, here {ccy}"),
                ))
            }
            Some(_) => {}
            None => order.push((id.to_string(), ccy.to_string(), line)),
        }
        let (ts, rs) = pillars.entry(id.to_string()).or_default();
        if let Some(&last) = ts.last() {
            if t <= last {
                return Err(field_err(
                    line,
                    "pillar",
                    format!(
                        "pillars of curve {id} must increase; this one is not after the previous"
                    ),
                ));
            }
        }
        ts.push(t);
        rs.push(rate);
    }
    if order.is_empty() {
        return Err(MarketError::Syntax {
            file: file.to_string(),
            line: 1,
            reason: "no curve rows".into(),
        });
    }
    let mut out = Vec::with_capacity(order.len());
    for (id, ccy, _) in order {
        let (ts, rs) = pillars.remove(&id).unwrap_or_default();
        let c = Curve::from_zero_rates(
            &id,
            &ccy,
            as_of.unwrap_or(UNDATED),
            day_count.clone(),
            method,
            ts,
            rs,
        )
        .map_err(|e| MarketError::Curve {
            file: file.to_string(),
            source: e,
        })?;
        out.push(c);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// TOML snapshot

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnapshot {
    as_of: Spanned<String>,
    #[serde(default)]
    curve: Vec<RawCurve>,
    #[serde(default)]
    spread: Vec<RawCurve>,
    #[serde(default)]
    index: Vec<RawIndex>,
    #[serde(default)]
    fx: Vec<RawFx>,
    #[serde(default)]
    fixing: Vec<RawFixing>,
    #[serde(default)]
    volatility: Vec<RawVolatility>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurve {
    id: Spanned<String>,
    currency: Spanned<String>,
    day_count: Option<Spanned<String>>,
    interpolation: Option<Spanned<String>>,
    compounding: Option<Spanned<String>>,
    #[serde(default)]
    discount: bool,
    discount_curve: Option<Spanned<String>>,
    /// `[pillar, rate]` pairs (for spreads: the spread).
    zero_rates: Option<Vec<Spanned<(String, f64)>>>,
    /// `[pillar, discount factor]` pairs.
    discount_factors: Option<Vec<Spanned<(String, f64)>>>,
    #[serde(default)]
    quote: Vec<RawQuote>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuote {
    instrument: Spanned<String>,
    tenor: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
    start: Option<Spanned<String>>,
    rate: Option<Spanned<f64>>,
    price: Option<Spanned<f64>>,
    day_count: Option<Spanned<String>>,
    fixed_period: Option<Spanned<String>>,
    fixed_day_count: Option<Spanned<String>>,
    float_period: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    name: Spanned<String>,
    currency: Spanned<String>,
    forecast_curve: Spanned<String>,
    tenor: Spanned<String>,
    day_count: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFx {
    pair: Spanned<String>,
    rate: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixing {
    index: Spanned<String>,
    date: Spanned<String>,
    rate: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVolatility {
    index: Spanned<String>,
    model: Option<Spanned<String>>,
    /// A volatility flat in expiry…
    vol: Option<Spanned<f64>>,
    /// … or `[expiry, volatility]` pairs.
    vols: Option<Vec<Spanned<(String, f64)>>>,
}

/// Line numbers from byte offsets.
struct Lines<'a> {
    text: &'a str,
    file: &'a str,
}

impl Lines<'_> {
    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }

    fn err<T>(&self, v: &Spanned<T>, field: &str, reason: impl Into<String>) -> MarketError {
        MarketError::Field {
            file: self.file.to_string(),
            line: self.line(v.span().start),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn date(&self, v: &Spanned<String>, field: &str) -> Result<Date, MarketError> {
        v.get_ref()
            .parse()
            .map_err(|e| self.err(v, field, format!("{:?}: {e}", v.get_ref())))
    }

    fn period(&self, v: &Spanned<String>, field: &str) -> Result<Period, MarketError> {
        v.get_ref()
            .to_ascii_uppercase()
            .parse::<Period>()
            .ok()
            .filter(|p| p.count > 0)
            .ok_or_else(|| {
                self.err(
                    v,
                    field,
                    format!("{:?} is not a non-zero tenor (e.g. 6M, 1Y)", v.get_ref()),
                )
            })
    }

    fn day_count(&self, v: Option<&Spanned<String>>, field: &str) -> Result<DayCount, MarketError> {
        match v {
            None => Ok(DayCount::Act365Fixed),
            Some(v) => DayCount::from_code(v.get_ref(), &Calendar::Target, None)
                .map_err(|e| self.err(v, field, e.to_string())),
        }
    }

    fn currency(&self, v: &Spanned<String>, field: &str) -> Result<String, MarketError> {
        if currency::is_known(v.get_ref()) {
            Ok(v.get_ref().clone())
        } else {
            Err(self.err(
                v,
                field,
                format!("{:?} is not an ISO 4217 currency code", v.get_ref()),
            ))
        }
    }
}

/// Reads a market snapshot from TOML (format in `docs/market-data.md`): curves from zero rates
/// or bootstrapped from quotes, spread curves, index definitions, FX rates and fixings.
pub fn read_snapshot_toml(text: &str, file: &str) -> Result<MarketSnapshot, MarketError> {
    let l = Lines { text, file };
    let raw: RawSnapshot = toml::from_str(text).map_err(|e| MarketError::Syntax {
        file: file.to_string(),
        line: e.span().map_or(0, |s| l.line(s.start)),
        reason: e.message().to_string(),
    })?;
    let as_of = l.date(&raw.as_of, "as_of")?;
    let mut snap = MarketSnapshot::new(as_of);
    let curve_err = |e| MarketError::Curve {
        file: file.to_string(),
        source: e,
    };
    // Curves in order, so a multi-curve quote set can discount on a curve defined above it.
    for (i, c) in raw.curve.iter().enumerate() {
        let curve = read_curve(&l, &snap, as_of, c, &format!("curve[{}]", i + 1))?;
        let (ccy, id) = (curve.currency().to_string(), curve.id().to_string());
        snap.insert_curve(curve).map_err(curve_err)?;
        if c.discount {
            snap.set_discount_curve(&ccy, &id)?;
        }
    }
    for (i, c) in raw.spread.iter().enumerate() {
        let curve = read_curve(&l, &snap, as_of, c, &format!("spread[{}]", i + 1))?;
        snap.insert_spread(curve).map_err(curve_err)?;
    }
    for ix in &raw.index {
        let def = IndexDefinition {
            name: ix.name.get_ref().clone(),
            currency: l.currency(&ix.currency, "index.currency")?,
            forecast_curve: ix.forecast_curve.get_ref().clone(),
            tenor: l.period(&ix.tenor, "index.tenor")?,
            day_count: l.day_count(Some(&ix.day_count), "index.day_count")?,
        };
        snap.insert_index(def)
            .map_err(|e| l.err(&ix.forecast_curve, "index.forecast_curve", e.to_string()))?;
    }
    for fx in &raw.fx {
        let pair = fx.pair.get_ref();
        let (b, q) = pair
            .split_once('/')
            .filter(|(b, q)| currency::is_known(b) && currency::is_known(q))
            .ok_or_else(|| {
                l.err(
                    &fx.pair,
                    "fx.pair",
                    format!("{pair:?} is not BASE/QUOTE with ISO codes, e.g. EUR/USD"),
                )
            })?;
        let rate = *fx.rate.get_ref();
        if !(rate.is_finite() && rate > 0.0) {
            return Err(l.err(
                &fx.rate,
                "fx.rate",
                format!("{rate} is not a positive number"),
            ));
        }
        snap.insert_fx(b, q, rate);
    }
    for f in &raw.fixing {
        let date = l.date(&f.date, "fixing.date")?;
        if date > as_of {
            return Err(l.err(
                &f.date,
                "fixing.date",
                format!("{date} is after the as-of date {as_of}"),
            ));
        }
        let rate = *f.rate.get_ref();
        if !rate.is_finite() || rate.abs() > 1.0 {
            return Err(l.err(
                &f.rate,
                "fixing.rate",
                format!("{rate} is not a decimal rate"),
            ));
        }
        snap.insert_fixing(f.index.get_ref(), date, rate);
    }
    for (i, v) in raw.volatility.iter().enumerate() {
        let vol = read_volatility(&l, &snap, as_of, v, &format!("volatility[{}]", i + 1))?;
        snap.insert_volatility(vol).map_err(|e| {
            l.err(
                &v.index,
                &format!("volatility[{}].index", i + 1),
                e.to_string(),
            )
        })?;
    }
    Ok(snap)
}

/// One `[[volatility]]` entry: an index the snapshot defines, a model, and a flat `vol` or a
/// term structure `vols` by expiry (tenors or dates, measured on ACT/365F from the as-of date).
fn read_volatility(
    l: &Lines<'_>,
    snap: &MarketSnapshot,
    as_of: Date,
    v: &RawVolatility,
    at: &str,
) -> Result<Volatility, MarketError> {
    let index = v.index.get_ref().as_str();
    if !snap.indices().any(|ix| ix.name == index) {
        return Err(l.err(
            &v.index,
            &format!("{at}.index"),
            format!("index {index:?} is not defined in the snapshot (add an [[index]] entry)"),
        ));
    }
    if snap.volatility(index).is_some() {
        return Err(l.err(
            &v.index,
            &format!("{at}.index"),
            format!("index {index:?} has a volatility already"),
        ));
    }
    let model = match &v.model {
        None => VolatilityModel::Normal,
        Some(m) => VolatilityModel::from_code(m.get_ref()).ok_or_else(|| {
            l.err(
                m,
                &format!("{at}.model"),
                format!(
                    "{:?} is not a supported model (normal, i.e. Bachelier, absolute volatility)",
                    m.get_ref()
                ),
            )
        })?,
    };
    let check = |x: f64| -> Result<(), String> {
        if !x.is_finite() || x < 0.0 {
            Err(format!("{x} is not a non-negative volatility"))
        } else if x > 1.0 {
            Err(format!(
                "{x} is not a normal volatility in decimals per year (write 90 bp as 0.0090)"
            ))
        } else {
            Ok(())
        }
    };
    let points = match (&v.vol, &v.vols) {
        (Some(x), None) => {
            check(*x.get_ref()).map_err(|e| l.err(x, &format!("{at}.vol"), e))?;
            vec![(0.0, *x.get_ref())]
        }
        (None, Some(rows)) if !rows.is_empty() => {
            let field = format!("{at}.vols");
            let mut points: Vec<(f64, f64)> = Vec::with_capacity(rows.len());
            for row in rows {
                let (p, x) = row.get_ref();
                let pillar = Pillar::parse(p).map_err(|e| l.err(row, &field, e))?;
                let t = pillar
                    .time(Some(as_of), &DayCount::Act365Fixed)
                    .map_err(|e| l.err(row, &field, e))?;
                if t <= 0.0 {
                    return Err(l.err(
                        row,
                        &field,
                        format!("expiry {p} is not after the as-of date"),
                    ));
                }
                if points.last().is_some_and(|(last, _)| t <= *last) {
                    return Err(l.err(
                        row,
                        &field,
                        format!("expiry {p} is not after the previous expiry"),
                    ));
                }
                check(*x).map_err(|e| l.err(row, &field, e))?;
                points.push((t, *x));
            }
            points
        }
        _ => {
            return Err(l.err(
                &v.index,
                &format!("{at}.vol"),
                "give exactly one of vol (flat) and vols (a non-empty list of [expiry, vol])",
            ))
        }
    };
    Volatility::term_structure(index, model, points).map_err(|e| l.err(&v.index, at, e))
}

fn read_curve(
    l: &Lines<'_>,
    snap: &MarketSnapshot,
    as_of: Date,
    c: &RawCurve,
    at: &str,
) -> Result<Curve, MarketError> {
    let id = c.id.get_ref().as_str();
    let ccy = l.currency(&c.currency, &format!("{at}.currency"))?;
    let day_count = l.day_count(c.day_count.as_ref(), &format!("{at}.day_count"))?;
    let method = match &c.interpolation {
        None => CurveInterpolation::default(),
        Some(v) => CurveInterpolation::from_code(v.get_ref()).ok_or_else(|| {
            l.err(
                v,
                &format!("{at}.interpolation"),
                format!(
                    "{:?} is not one of linear_zero, log_linear_discount, monotone_cubic, monotone_convex",
                    v.get_ref()
                ),
            )
        })?,
    };
    let compounding = match &c.compounding {
        None => Compounding::Continuous,
        Some(v) => Compounding::from_code(v.get_ref()).ok_or_else(|| {
            l.err(v, &format!("{at}.compounding"), format!("{:?} is not a compounding (continuous, simple, annual, semiannual, quarterly, monthly)", v.get_ref()))
        })?,
    };
    let curve_err = |e| MarketError::Curve {
        file: l.file.to_string(),
        source: e,
    };
    let given = usize::from(c.zero_rates.is_some())
        + usize::from(c.discount_factors.is_some())
        + usize::from(!c.quote.is_empty());
    if given != 1 {
        return Err(l.err(
            &c.id,
            &format!("{at}.zero_rates"),
            format!("curve {id} needs exactly one of zero_rates, discount_factors or quotes"),
        ));
    }
    let (rows, key, is_df) = match (&c.zero_rates, &c.discount_factors) {
        (Some(r), _) => (Some(r), "zero_rates", false),
        (_, Some(r)) => (Some(r), "discount_factors", true),
        _ => (None, "quote", false),
    };
    match rows {
        Some(rows) => {
            let mut times = Vec::with_capacity(rows.len());
            let mut zeros = Vec::with_capacity(rows.len());
            for row in rows {
                let (p, r) = row.get_ref();
                let field = format!("{at}.{key}");
                let pillar = Pillar::parse(p).map_err(|e| l.err(row, &field, e))?;
                let t = pillar
                    .time(Some(as_of), &day_count)
                    .map_err(|e| l.err(row, &field, e))?;
                if t <= 0.0 {
                    return Err(l.err(
                        row,
                        &field,
                        format!("pillar {p} is not after the as-of date"),
                    ));
                }
                if let Some(&last) = times.last() {
                    if t <= last {
                        return Err(l.err(
                            row,
                            &field,
                            format!("pillar {p} is not after the previous pillar"),
                        ));
                    }
                }
                let zero = if is_df {
                    if !(r.is_finite() && *r > 0.0 && *r < 10.0) {
                        return Err(l.err(row, &field, format!("{r} is not a discount factor")));
                    }
                    -r.ln() / t
                } else {
                    if !r.is_finite() || r.abs() > 1.0 {
                        return Err(l.err(row, &field, format!("{r} is not a decimal rate")));
                    }
                    compounding.to_continuous(*r, t)
                };
                times.push(t);
                zeros.push(zero);
            }
            Curve::from_zero_rates(id, &ccy, as_of, day_count, method, times, zeros)
                .map_err(curve_err)
        }
        None => {
            let discount = match &c.discount_curve {
                None => None,
                Some(d) => Some(snap.curve(d.get_ref()).map_err(|e| {
                    l.err(
                        d,
                        &format!("{at}.discount_curve"),
                        format!("{e} (define it above this curve)"),
                    )
                })?),
            };
            let mut quotes = Vec::with_capacity(c.quote.len());
            for (k, q) in c.quote.iter().enumerate() {
                quotes.push(read_quote(l, as_of, q, &format!("{at}.quote[{}]", k + 1))?);
            }
            bootstrap(id, &ccy, as_of, day_count, method, &quotes, discount).map_err(curve_err)
        }
    }
}

fn read_quote(l: &Lines<'_>, as_of: Date, q: &RawQuote, at: &str) -> Result<Quote, MarketError> {
    let kind = q.instrument.get_ref().as_str();
    let need = |v: &Option<Spanned<String>>, name: &str| -> Result<Spanned<String>, MarketError> {
        v.clone().ok_or_else(|| {
            l.err(
                &q.instrument,
                &format!("{at}.{name}"),
                format!("a {kind} quote needs {name}"),
            )
        })
    };
    let date_of = |v: &Spanned<String>, name: &str| -> Result<Date, MarketError> {
        Pillar::parse(v.get_ref())
            .map(|p| p.date(as_of))
            .map_err(|e| l.err(v, &format!("{at}.{name}"), e))
    };
    let end = match (&q.end, &q.tenor) {
        (Some(e), None) => date_of(e, "end")?,
        (None, Some(t)) => date_of(t, "tenor")?,
        _ => {
            return Err(l.err(
                &q.instrument,
                &format!("{at}.tenor"),
                "give exactly one of tenor and end",
            ))
        }
    };
    let rate = match (kind, &q.rate, &q.price) {
        ("future", None, Some(p)) => 1.0 - p.get_ref() / 100.0,
        (_, Some(r), None) => *r.get_ref(),
        _ => {
            return Err(l.err(
                &q.instrument,
                &format!("{at}.rate"),
                "give rate (or price, for a future)",
            ))
        }
    };
    if !rate.is_finite() || rate.abs() > 1.0 {
        return Err(l.err(
            &q.instrument,
            &format!("{at}.rate"),
            format!("{rate} is not a decimal rate"),
        ));
    }
    let label = match (&q.tenor, &q.end) {
        (Some(t), _) => format!("{kind} {}", t.get_ref()),
        (_, Some(e)) => format!("{kind} {}", e.get_ref()),
        _ => kind.to_string(),
    };
    let kind = match kind {
        "deposit" => QuoteKind::Deposit {
            day_count: l.day_count(q.day_count.as_ref(), &format!("{at}.day_count"))?,
        },
        "fra" | "future" => QuoteKind::Fra {
            start: date_of(&need(&q.start, "start")?, "start")?,
            day_count: l.day_count(q.day_count.as_ref(), &format!("{at}.day_count"))?,
        },
        "swap" | "ois" => QuoteKind::Swap {
            fixed_period: l.period(
                &need(&q.fixed_period, "fixed_period")?,
                &format!("{at}.fixed_period"),
            )?,
            fixed_day_count: l
                .day_count(q.fixed_day_count.as_ref(), &format!("{at}.fixed_day_count"))?,
            float_period: match &q.float_period {
                None => Period::new(1, PeriodUnit::Year),
                Some(v) => l.period(v, &format!("{at}.float_period"))?,
            },
        },
        other => {
            return Err(l.err(
                &q.instrument,
                &format!("{at}.instrument"),
                format!("{other:?} is not one of deposit, fra, future, swap, ois"),
            ))
        }
    };
    Ok(Quote {
        kind,
        end,
        rate,
        label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "curve_id,currency,pillar,zero_rate
EUR-ESTR,EUR,1M,0.0190
EUR-ESTR,EUR,1Y,0.0200
EUR-ESTR,EUR,10Y,0.0250
USD-SOFR,USD,6M,0.0410
USD-SOFR,USD,2031-01-15,0.0380
";

    #[test]
    fn reads_the_zero_csv() {
        let as_of = Date::ymd(2026, 1, 15);
        let curves =
            read_zero_curves_csv(CSV, "c.csv", Some(as_of), CurveInterpolation::LinearZero)
                .unwrap();
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].id(), "EUR-ESTR");
        assert_eq!(curves[0].pillars().len(), 3);
        assert!((curves[0].pillars()[0] - 31.0 / 365.0).abs() < 1e-15);
        assert!((curves[1].pillars()[1] - 1826.0 / 365.0).abs() < 1e-15);
        assert_eq!(curves[1].pillar_zero_rates(), &[0.041, 0.038]);
        // Without an as-of date, tenors count nominally and dates are refused.
        let e =
            read_zero_curves_csv(CSV, "c.csv", None, CurveInterpolation::LinearZero).unwrap_err();
        assert!(e.to_string().contains("c.csv, line 6, field pillar"), "{e}");
    }

    #[test]
    fn csv_errors_name_file_line_and_field() {
        let cases = [
            (
                "curve_id,currency,pillar,zero_rate\nX,EUE,1Y,0.02\n",
                "line 2, field currency",
            ),
            (
                "curve_id,currency,pillar,zero_rate\nX,EUR,1Y,two\n",
                "line 2, field zero_rate",
            ),
            (
                "curve_id,currency,pillar,zero_rate\nX,EUR,2Y,0.02\nX,EUR,1Y,0.02\n",
                "line 3, field pillar",
            ),
            (
                "curve_id,currency,pillar,zero_rate\nX,EUR,1Q2,0.02\n",
                "line 2, field pillar",
            ),
            (
                "curve_id,currency,pillar,zero_rate\nX,EUR,1Y,2.5\n",
                "line 2, field zero_rate",
            ),
            (
                "curve_id,currency,pillar,zero_rate\nX,EUR,1Y,0.02\nX,USD,2Y,0.02\n",
                "line 3, field currency",
            ),
            ("curve,ccy,pillar,rate\n", "line 1"),
            ("curve_id,currency,pillar,zero_rate\nX,EUR,1Y\n", "line 2"),
        ];
        for (text, want) in cases {
            let e = read_zero_curves_csv(
                text,
                "bad.csv",
                Some(Date::ymd(2026, 1, 15)),
                CurveInterpolation::LinearZero,
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("bad.csv") && e.contains(want), "{want}: {e}");
        }
    }

    const TOML: &str = r#"
as_of = "2025-12-31"

[[curve]]
id = "EUR-ESTR"
currency = "EUR"
discount = true
interpolation = "monotone_convex"
quote = [
  { instrument = "deposit", tenor = "1W", rate = 0.0192, day_count = "A360" },
  { instrument = "ois", tenor = "1Y", rate = 0.0195, fixed_period = "1Y", fixed_day_count = "A360" },
  { instrument = "ois", tenor = "5Y", rate = 0.0221, fixed_period = "1Y", fixed_day_count = "A360" },
  { instrument = "ois", tenor = "10Y", rate = 0.0248, fixed_period = "1Y", fixed_day_count = "A360" },
]

[[curve]]
id = "EUR-EURIBOR6M"
currency = "EUR"
discount_curve = "EUR-ESTR"
quote = [
  { instrument = "deposit", tenor = "6M", rate = 0.0210, day_count = "A360" },
  { instrument = "fra", start = "6M", tenor = "1Y", rate = 0.0215, day_count = "A360" },
  { instrument = "swap", tenor = "5Y", rate = 0.0240, fixed_period = "1Y", fixed_day_count = "30E360", float_period = "6M" },
]

[[curve]]
id = "USD-SOFR"
currency = "USD"
compounding = "annual"
zero_rates = [["1Y", 0.041], ["5Y", 0.038]]

[[spread]]
id = "EUR-FUNDING"
currency = "EUR"
zero_rates = [["1Y", 0.004], ["10Y", 0.009]]

[[index]]
name = "EURIBOR6M"
currency = "EUR"
forecast_curve = "EUR-EURIBOR6M"
tenor = "6M"
day_count = "A360"

[[fx]]
pair = "EUR/USD"
rate = 1.08

[[fixing]]
index = "EURIBOR6M"
date = "2025-12-29"
rate = 0.0209
"#;

    #[test]
    fn reads_the_toml_snapshot() {
        let m = read_snapshot_toml(TOML, "m.toml").unwrap();
        assert_eq!(m.as_of(), Date::ymd(2025, 12, 31));
        assert_eq!(m.discount_curve("EUR").unwrap().id(), "EUR-ESTR");
        assert_eq!(m.discount_curve("USD").unwrap().id(), "USD-SOFR");
        // Annual 4.1 % at one year, held continuously compounded.
        let usd = m.curve("USD-SOFR").unwrap();
        assert!((usd.discount(1.0) - 1.0 / 1.041).abs() < 1e-15);
        assert_eq!(m.fx("USD", "EUR").unwrap(), 1.0 / 1.08);
        assert_eq!(
            m.index_rate("EURIBOR6M", Date::ymd(2025, 12, 30)).unwrap(),
            0.0209
        );
        assert!(m.spread("EUR-FUNDING").is_ok());
        // The multi-curve swap reprices on the €STR discount curve.
        let f = m.curve("EUR-EURIBOR6M").unwrap();
        let q = Quote {
            kind: QuoteKind::Swap {
                fixed_period: "1Y".parse().unwrap(),
                fixed_day_count: DayCount::ThirtyE360,
                float_period: "6M".parse().unwrap(),
            },
            end: Date::ymd(2030, 12, 31),
            rate: 0.024,
            label: "check".into(),
        };
        assert!((q.implied_rate(f, Some(m.curve("EUR-ESTR").unwrap())) - 0.024).abs() < 1e-10);
    }

    #[test]
    fn toml_errors_name_file_line_and_field() {
        let bad = TOML.replace("rate = 1.08", "rate = -1.08");
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml, line 46, field fx.rate"), "{e}");
        let bad = TOML.replace(r#"currency = "USD""#, r#"currency = "USX""#);
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("line 28, field curve[3].currency"), "{e}");
        let bad = TOML.replace(
            r#"discount_curve = "EUR-ESTR""#,
            r#"discount_curve = "EUR-OIS""#,
        );
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("field curve[2].discount_curve") && e.contains("EUR-OIS"),
            "{e}"
        );
        let bad = TOML.replace(r#"["5Y", 0.038]"#, r#"["6M", 0.038]"#);
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("field curve[3].zero_rates") && e.contains("not after the previous"),
            "{e}"
        );
        let bad = TOML.replace("as_of = \"2025-12-31\"", "as_of = \"2025-13-31\"");
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("line 2, field as_of"), "{e}");
        let bad = TOML.replace("[[fx]]", "[[fxx]]");
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml, line"), "{e}");
        // Found by fuzzing: a zero period would never advance the swap schedule.
        let bad = TOML.replace(
            r#"fixed_period = "1Y", fixed_day_count = "30E360""#,
            r#"fixed_period = "0Y", fixed_day_count = "30E360""#,
        );
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("curve[2].quote[3].fixed_period") && e.contains("non-zero"),
            "{e}"
        );
        let bad = TOML.replace(r#"instrument = "fra""#, r#"instrument = "cap""#);
        let e = read_snapshot_toml(&bad, "m.toml").unwrap_err().to_string();
        assert!(e.contains("curve[2].quote[2].instrument"), "{e}");
    }
}

#[cfg(test)]
mod examples {
    use super::*;

    /// The example files documented in `docs/market-data.md` parse.
    #[test]
    fn example_files_parse() {
        let snap = read_snapshot_toml(
            include_str!("../../../examples/market/snapshot.toml"),
            "examples/market/snapshot.toml",
        )
        .unwrap();
        assert_eq!(snap.curves().count(), 3);
        let vol = snap.volatility("EURIBOR6M").unwrap();
        assert_eq!((vol.at(1.0), vol.at(10.0)), (0.0085, 0.0095));
        let curves = read_zero_curves_csv(
            include_str!("../../../examples/market/zero-curves.csv"),
            "examples/market/zero-curves.csv",
            Some(Date::ymd(2025, 12, 31)),
            CurveInterpolation::LinearZero,
        )
        .unwrap();
        assert_eq!(curves.len(), 4);
    }
}

#[cfg(test)]
mod discount_factors {
    use super::*;

    /// A curve given by discount factors reproduces them exactly at its pillars.
    #[test]
    fn discount_factor_input_round_trips() {
        let text = r#"
as_of = "2025-12-31"
[[curve]]
id = "EUR-DF"
currency = "EUR"
discount_factors = [["1Y", 0.98], ["2030-12-31", 0.9]]
"#;
        let m = read_snapshot_toml(text, "df.toml").unwrap();
        let c = m.curve("EUR-DF").unwrap();
        assert!((c.discount(1.0) - 0.98).abs() < 1e-15);
        assert!((c.discount_at(Date::ymd(2030, 12, 31)) - 0.9).abs() < 1e-15);
        let bad = text.replace("0.98", "-0.98");
        let e = read_snapshot_toml(&bad, "df.toml").unwrap_err().to_string();
        assert!(e.contains("line 6, field curve[1].discount_factors"), "{e}");
        let both = text.replace(
            "discount_factors",
            "zero_rates = [[\"1Y\", 0.01]]\ndiscount_factors",
        );
        assert!(read_snapshot_toml(&both, "df.toml").is_err());
    }
}

#[cfg(test)]
mod volatilities {
    use super::*;

    const BASE: &str = r#"
as_of = "2025-12-31"
[[curve]]
id = "EUR-EURIBOR3M"
currency = "EUR"
zero_rates = [["3M", 0.0204], ["10Y", 0.026]]
[[index]]
name = "EURIBOR3M"
currency = "EUR"
forecast_curve = "EUR-EURIBOR3M"
tenor = "3M"
day_count = "A360"
[[index]]
name = "EURSWAP5Y"
currency = "EUR"
forecast_curve = "EUR-EURIBOR3M"
tenor = "5Y"
day_count = "A365"
"#;

    /// A flat volatility and a term structure by tenor and date; expiries on ACT/365F.
    #[test]
    fn reads_flat_and_term_structures() {
        let text = format!(
            "{BASE}[[volatility]]\nindex = \"EURIBOR3M\"\nmodel = \"normal\"\nvol = 0.0090\n\
             [[volatility]]\nindex = \"EURSWAP5Y\"\nvols = [[\"1Y\", 0.0085], [\"2030-12-31\", 0.0095]]\n"
        );
        let m = read_snapshot_toml(&text, "v.toml").unwrap();
        let flat = m.volatility("EURIBOR3M").unwrap();
        assert_eq!(flat.model(), VolatilityModel::Normal);
        assert_eq!((flat.at(0.1), flat.at(20.0)), (0.009, 0.009));
        let ts = m.volatility("EURSWAP5Y").unwrap();
        assert_eq!(
            ts.points().collect::<Vec<_>>(),
            [(1.0, 0.0085), (1826.0 / 365.0, 0.0095)]
        );
        assert_eq!(ts.at(0.5), 0.0085);
        assert_eq!(ts.at(9.0), 0.0095);
        assert_eq!(m.volatilities().count(), 2);
        // Without any, a snapshot has none.
        assert!(read_snapshot_toml(BASE, "v.toml")
            .unwrap()
            .volatility("EURIBOR3M")
            .is_none());
    }

    /// Every error names the entry and the field.
    #[test]
    fn errors_name_the_entry_and_field() {
        let cases = [
            (
                "[[volatility]]\nindex = \"EURIBOR6M\"\nvol = 0.009\n",
                "field volatility[1].index",
                "EURIBOR6M",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nvol = -0.009\n",
                "field volatility[1].vol",
                "non-negative",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nvol = 90.0\n",
                "field volatility[1].vol",
                "0.0090",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nvols = [[\"1Q2\", 0.009]]\n",
                "field volatility[1].vols",
                "tenor",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nvols = [[\"2Y\", 0.009], [\"1Y\", 0.009]]\n",
                "field volatility[1].vols",
                "previous",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nvol = 0.009\nvols = [[\"1Y\", 0.009]]\n",
                "field volatility[1].vol",
                "exactly one",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nmodel = \"lognormal\"\nvol = 0.2\n",
                "field volatility[1].model",
                "lognormal",
            ),
            (
                "[[volatility]]\nindex = \"EURIBOR3M\"\nvol = 0.009\n\
                 [[volatility]]\nindex = \"EURIBOR3M\"\nvol = 0.008\n",
                "field volatility[2].index",
                "already",
            ),
        ];
        for (extra, field, reason) in cases {
            let text = format!("{BASE}{extra}");
            let e = read_snapshot_toml(&text, "v.toml").unwrap_err().to_string();
            assert!(
                e.contains("v.toml, line") && e.contains(field) && e.contains(reason),
                "{field}: {e}"
            );
        }
    }

    /// Scenario snapshots (curves mapped) keep the volatilities unchanged.
    #[test]
    fn derived_snapshots_keep_volatilities() {
        let text = format!("{BASE}[[volatility]]\nindex = \"EURIBOR3M\"\nvol = 0.0090\n");
        let m = read_snapshot_toml(&text, "v.toml").unwrap();
        let shocked = m
            .map_curves(|c| c.map_pillars(|_, r| r + 0.02))
            .unwrap()
            .map_fx(|_, _, r| r);
        assert_eq!(shocked.volatility("EURIBOR3M"), m.volatility("EURIBOR3M"));
    }
}
