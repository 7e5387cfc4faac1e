//! `almanac scenarios`: the standardised IRRBB scenarios (or a user scenario set) on a
//! currency's discount curve, printed per scenario and time, optionally written as JSON.

use std::fmt::Write as _;
use std::path::Path;

use almanac_market::format::{read_snapshot_toml, read_zero_curves_csv};
use almanac_market::{CurveInterpolation, MarketSnapshot};
use almanac_scenario::irrbb::{self, Calibration, Floor, Scenario};
use almanac_scenario::set::read_set;
use almanac_scenario::standard::{self, ShockMode, StandardSpec};
use almanac_time::Date;
use anyhow::{bail, Context, Result};

use crate::ScenariosArgs;

/// Midpoints of the 19 SRP31.96 time buckets (years): the default `--at`.
pub(crate) const BUCKET_MIDPOINTS: [f64; 19] = [
    0.0028, 0.0417, 0.1667, 0.375, 0.625, 0.875, 1.25, 1.75, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5,
    9.5, 12.5, 17.5, 25.0,
];

/// Reads a market file: TOML snapshot, or zero-curve CSV (dated by `as_of` when given).
pub(crate) fn read_market(path: &Path, as_of: Option<Date>) -> Result<MarketSnapshot> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let curves = read_zero_curves_csv(&text, &name, as_of, CurveInterpolation::LinearZero)?;
        let date = curves
            .first()
            .map(almanac_market::Curve::as_of)
            .unwrap_or(almanac_market::format::UNDATED);
        let mut m = MarketSnapshot::new(date);
        for c in curves {
            m.insert_curve(c).with_context(|| name.clone())?;
        }
        Ok(m)
    } else {
        Ok(read_snapshot_toml(&text, &name)?)
    }
}

struct Row {
    t: f64,
    shift_bp: f64,
    zero_rate: f64,
}

pub(crate) fn run(args: &ScenariosArgs) -> Result<bool> {
    let as_of = args
        .as_of
        .as_deref()
        .map(str::parse::<Date>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
    let base = read_market(&args.market, as_of)?;
    let ccy = args.currency.to_ascii_uppercase();
    let curve = base
        .discount_curve(&ccy)
        .with_context(|| format!("{}: no curve for currency {ccy}", args.market.display()))?;
    let calibration: Calibration = args.calibration.parse()?;
    let floor: Floor = args.floor.parse()?;
    let mode = match args.mode.as_str() {
        "pillars" => ShockMode::Pillars,
        "continuous" => ShockMode::Continuous,
        other => bail!("--mode: {other:?} is not pillars or continuous"),
    };
    let times: Vec<f64> = match &args.at {
        None => BUCKET_MIDPOINTS.to_vec(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| anyhow::anyhow!("--at: {s:?} is not a time in years"))
            })
            .collect::<Result<_>>()?,
    };
    if let Some(hw) = &args.hull_white {
        return hull_white(args, hw, curve);
    }
    let mut results: Vec<(String, Vec<Row>)> = Vec::new();
    let (mut calibration, mut floor) = (calibration, floor);
    match &args.file {
        None => {
            let mut spec = StandardSpec {
                calibration,
                floor,
                mode,
                ..StandardSpec::default()
            };
            if let Some(h) = &args.history {
                let sizes = irrbb::derive_shock_sizes(&read_history(h)?)
                    .with_context(|| format!("{}: deriving shock sizes", h.display()))?;
                eprintln!(
                    "{ccy} shock sizes derived from {}: parallel {} bp, short {} bp, long {} bp",
                    h.display(),
                    sizes.parallel_bp,
                    sizes.short_bp,
                    sizes.long_bp
                );
                spec.sizes.insert(ccy.clone(), sizes);
            }
            let sizes = spec.sizes_for(&ccy)?;
            for s in Scenario::ALL {
                let shocked = standard::apply(&base, s, &spec)?;
                let c = shocked.curve(curve.id())?;
                let rows = times
                    .iter()
                    .map(|&t| Row {
                        t,
                        shift_bp: irrbb::shift_with_decay(s, &sizes, t, spec.decay) * 10_000.0,
                        zero_rate: c.zero(t),
                    })
                    .collect();
                results.push((s.name().to_string(), rows));
            }
        }
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let set = read_set(&text, &file.display().to_string())?;
            let dir = file.parent().unwrap_or(Path::new("."));
            let load = |name: &str| -> std::result::Result<MarketSnapshot, String> {
                read_market(&dir.join(name), as_of).map_err(|e| format!("{e:#}"))
            };
            eprintln!(
                "scenario set {} version {} (sha256 {})",
                set.name,
                set.version,
                set.hash()
            );
            (calibration, floor) = (set.calibration, set.floor);
            for def in &set.scenarios {
                let shocked = set.apply(def, &base, f64::INFINITY, &load)?;
                let c = shocked.curve(curve.id())?;
                let rows = times
                    .iter()
                    .map(|&t| Row {
                        t,
                        shift_bp: (c.zero(t) - curve.zero(t)) * 10_000.0,
                        zero_rate: c.zero(t),
                    })
                    .collect();
                results.push((def.name.clone(), rows));
            }
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "currency {ccy}, curve {}, calibration {}, floor {}, shocks at {}",
        curve.id(),
        calibration.code(),
        floor.code(),
        if mode == ShockMode::Pillars {
            "pillars"
        } else {
            "any time"
        }
    );
    let _ = write!(out, "{:>8} {:>10}", "t", "base");
    for (name, _) in &results {
        let _ = write!(out, " {:>24}", name);
    }
    out.push('\n');
    for (i, &t) in times.iter().enumerate() {
        let _ = write!(out, "{t:>8.4} {:>9.4}%", curve.zero(t) * 100.0);
        for (_, rows) in &results {
            let r = &rows[i];
            let _ = write!(
                out,
                " {:>+10.2}bp → {:>8.4}%",
                r.shift_bp,
                r.zero_rate * 100.0
            );
        }
        out.push('\n');
    }
    out.push_str(
        "shift: the scenario's change at t; rate: read from the shocked curve (in pillar mode \
         the shock is applied at the pillars and re-interpolated)\n",
    );
    print!("{out}");
    if let Some(json) = &args.json {
        let scenarios: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(name, rows)| {
                let rows = rows
                    .iter()
                    .map(|r| serde_json::json!({"t": r.t, "shift_bp": r.shift_bp, "zero_rate": r.zero_rate}))
                    .collect();
                (name.clone(), serde_json::Value::Array(rows))
            })
            .collect();
        let doc = serde_json::json!({
            "currency": ccy,
            "calibration": calibration.code(),
            "floor": floor.code(),
            "curve": curve.id(),
            "scenarios": scenarios,
        });
        std::fs::write(json, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", json.display()))?;
    }
    Ok(true)
}

/// Hull–White paths on the currency's discount curve, written as CSV or Parquet; prints how well the
/// Monte-Carlo mean discount factors reprice the curve.
fn hull_white(args: &ScenariosArgs, spec: &str, curve: &almanac_market::Curve) -> Result<bool> {
    use almanac_scenario::hull_white::{monthly_grid, simulate, HullWhiteParams, PathSpec};
    let parts: Vec<f64> = spec
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--hull-white: {spec:?} is not MEAN_REVERSION,VOLATILITY"))?;
    let [a, sigma] = parts[..] else {
        bail!("--hull-white: {spec:?} is not MEAN_REVERSION,VOLATILITY");
    };
    let params = HullWhiteParams::new(a, sigma)?;
    let path_spec = PathSpec {
        grid: monthly_grid(args.years),
        paths: args.paths,
        seed: args.seed,
        antithetic: args.antithetic,
    };
    let discount = |t: f64| curve.discount(t);
    let paths = simulate(&discount, &params, &path_spec)?;
    let mean = paths.mean_discounts();
    println!(
        "Hull-White a = {a}, sigma = {sigma}: {} paths x {} monthly steps on {} (seed {})",
        paths.path_count(),
        paths.grid().len(),
        curve.id(),
        args.seed
    );
    println!(
        "{:>8} {:>14} {:>14} {:>10} {:>12}",
        "t", "curve DF", "MC mean DF", "diff bp", "std err bp"
    );
    for (i, &t) in paths.grid().iter().enumerate() {
        if (t * 12.0).round() as i64 % 60 == 0 {
            let p = curve.discount(t);
            // Standard error from independent samples (antithetic pairs averaged first).
            let samples: Vec<f64> = if args.antithetic {
                (0..paths.path_count() / 2)
                    .map(|j| 0.5 * (paths.discounts(2 * j)[i] + paths.discounts(2 * j + 1)[i]))
                    .collect()
            } else {
                (0..paths.path_count())
                    .map(|j| paths.discounts(j)[i])
                    .collect()
            };
            let n = samples.len() as f64;
            let m = samples.iter().sum::<f64>() / n;
            let var = samples.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
            println!(
                "{t:>8.2} {p:>14.10} {:>14.10} {:>10.3} {:>12.3}",
                mean[i],
                (mean[i] - p) / p * 10_000.0,
                (var / n).sqrt() / p * 10_000.0
            );
        }
    }
    if let Some(out) = &args.paths_out {
        write_paths(&paths, out)?;
        eprintln!("paths written to {}", out.display());
    }
    Ok(true)
}

/// Reads a daily rate history: header `date,<tenor>,…`, one row per business day, oldest
/// first, rates as decimals. Errors name the file, line and column.
fn read_history(path: &Path) -> Result<irrbb::RateHistory> {
    let name = path.display().to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("reading {name}"))?;
    let header: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{name}, line 1"))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.first().map(String::as_str) != Some("date") || header.len() < 2 {
        bail!("{name}, line 1: the header must be `date` followed by tenor columns (3M,6M,1Y,…)");
    }
    let mut rows = Vec::new();
    let mut last: Option<Date> = None;
    for rec in rdr.records() {
        let rec = rec.with_context(|| name.clone())?;
        let line = rec.position().map_or(0, csv::Position::line);
        let date: Date = rec
            .get(0)
            .unwrap_or_default()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}, line {line}, field date: {e}"))?;
        if last.is_some_and(|l| date <= l) {
            bail!("{name}, line {line}, field date: {date} is not after the previous row");
        }
        last = Some(date);
        let mut row = Vec::with_capacity(header.len() - 1);
        for (col, cell) in header[1..].iter().zip(rec.iter().skip(1)) {
            let v: f64 = cell
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    anyhow::anyhow!("{name}, line {line}, field {col}: {cell:?} is not a number")
                })?;
            row.push(v);
        }
        rows.push(row);
    }
    Ok(irrbb::RateHistory::new(header[1..].to_vec(), rows))
}

/// Writes Hull–White paths as rows `path, t, short_rate, discount_factor`: Parquet (Snappy)
/// when the file name ends in `.parquet`, else CSV.
fn write_paths(paths: &almanac_scenario::hull_white::Paths, out: &Path) -> Result<()> {
    use std::io::Write as _;
    let f = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return write_paths_parquet(paths, f).with_context(|| format!("writing {}", out.display()));
    }
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "path,t,short_rate,discount_factor")?;
    let mut fbuf = ryu::Buffer::new();
    for p in 0..paths.path_count() {
        for ((t, r), d) in paths
            .grid()
            .iter()
            .zip(paths.short_rates(p))
            .zip(paths.discounts(p))
        {
            write!(w, "{p},{},", fbuf.format(*t))?;
            write!(w, "{},", fbuf.format(*r))?;
            writeln!(w, "{}", fbuf.format(*d))?;
        }
    }
    w.flush()?;
    Ok(())
}

fn write_paths_parquet(
    paths: &almanac_scenario::hull_white::Paths,
    f: std::fs::File,
) -> Result<()> {
    use parquet::basic::Compression;
    use parquet::data_type::{DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;
    let schema = Arc::new(parse_message_type(
        "message hull_white_paths { REQUIRED INT64 path; REQUIRED DOUBLE t; \
         REQUIRED DOUBLE short_rate; REQUIRED DOUBLE discount_factor; }",
    )?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(f, schema, props)?;
    // One row group per block of paths keeps memory bounded for large exports.
    const PATHS_PER_GROUP: usize = 1024;
    let steps = paths.grid().len();
    let mut start = 0;
    while start < paths.path_count() {
        let end = (start + PATHS_PER_GROUP).min(paths.path_count());
        let n = (end - start) * steps;
        let mut ids = Vec::with_capacity(n);
        let (mut ts, mut rs, mut ds) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for p in start..end {
            ids.extend(std::iter::repeat_n(p as i64, steps));
            ts.extend_from_slice(paths.grid());
            rs.extend_from_slice(paths.short_rates(p));
            ds.extend_from_slice(paths.discounts(p));
        }
        let mut group = writer.next_row_group()?;
        let mut col = group.next_column()?.context("parquet column path")?;
        col.typed::<Int64Type>().write_batch(&ids, None, None)?;
        col.close()?;
        for values in [&ts, &rs, &ds] {
            let mut col = group.next_column()?.context("parquet column")?;
            col.typed::<DoubleType>().write_batch(values, None, None)?;
            col.close()?;
        }
        group.close()?;
        start = end;
    }
    writer.close()?;
    Ok(())
}
