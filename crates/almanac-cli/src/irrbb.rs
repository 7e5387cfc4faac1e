//! `almanac irrbb`: EVE and ΔEVE under the six standardised scenarios, straight from files.

use std::borrow::{Borrow, BorrowMut};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use almanac_actus::ContractTerms;
use almanac_analytics::irrbb::{
    aggregate, outlier_test, Aggregation, Behaviour, ContractInput, ContractTable, CurrencyEve,
    NiiProjection, Options, ScenarioMarket, Sensitivities, View,
};
use almanac_market::MarketSnapshot;
use almanac_scenario::irrbb::{Calibration, Floor};
use almanac_scenario::standard::StandardSpec;
use almanac_time::{Date, DateTime};
use anyhow::{bail, Context, Result};

/// Options of an IRRBB run shared by `almanac irrbb` and `almanac run irrbb`.
#[derive(clap::Args, Clone)]
pub(crate) struct IrrbbOptions {
    /// Shock-size table: bcbs2016 or bcbs2024.
    #[arg(long, default_value = "bcbs2016")]
    pub(crate) calibration: String,
    /// Post-shock floor: none, zero or eu.
    #[arg(long, default_value = "none")]
    pub(crate) floor: String,
    /// EVE method: cashflow (exact dates on each scenario curve) or standardised (net
    /// repricing flows in the 19 buckets, discounted at the bucket midpoints).
    #[arg(long, default_value = "cashflow")]
    pub(crate) method: String,
    /// Scenarios: bcbs (the six standardised shocks) or a scenario-set file (docs/scenarios.md:
    /// user, standard and historical scenarios with their behaviour overrides and ramps).
    #[arg(long, default_value = "bcbs")]
    pub(crate) scenarios: String,
    /// Behavioural assumption set (TOML: prepayment, early redemption, NMD, and the margin
    /// rules --strip-margins reads); adds the behavioural view, which then becomes the
    /// reported one.
    #[arg(long)]
    pub(crate) assumptions: Option<PathBuf>,
    /// Strip commercial margins from the EVE cash flows (SRP31.100), with the margin rules of
    /// --assumptions, so EVE discounts risk-free flows on the risk-free curve; NII and the
    /// repricing gap keep the margins.
    #[arg(long)]
    pub(crate) strip_margins: bool,
    /// Automatic interest-rate options (life caps and floors of floaters, CAPFL): kao values
    /// them with the index volatilities of the market (× 1.25 in the scenarios) and adds the
    /// KAO to ΔEVE, EVE holding the contracts without them (SRP31.127–128); intrinsic leaves
    /// the caps and floors in the projected rates of the flows, without an add-on.
    #[arg(long, default_value = "kao")]
    pub(crate) automatic_options: String,
    /// Tier 1 capital for the outlier tests (in the reporting currency).
    #[arg(long)]
    pub(crate) tier1: Option<f64>,
    /// User-defined repricing-gap buckets: their upper bounds as tenors, e.g.
    /// 1M,3M,6M,1Y,2Y,5Y,10Y (a last bucket holds what reprices later).
    #[arg(long, value_delimiter = ',')]
    pub(crate) gap_buckets: Vec<String>,
    /// Explain one contract: every flow on every scenario and view with its date, bucket,
    /// discount factor and PV (the drill-down of its EVE).
    #[arg(long)]
    pub(crate) explain: Option<String>,
    /// NII projection horizon in years (1 to 5), monthly.
    #[arg(long, default_value_t = 1)]
    pub(crate) nii_horizon_years: u32,
    /// Reporting currency shown at the top level, with its gap, NII and sensitivities (default:
    /// the currency with a discount curve holding the largest outstanding notional).
    #[arg(long)]
    pub(crate) currency: Option<String>,
    /// Add every contract's PV under base and each scenario.
    #[arg(long)]
    pub(crate) per_contract: bool,
    /// Skip the sensitivities (PV01, key-rate PV01, duration, convexity): a rerun of EVE, gap
    /// and NII only, without the ±1 bp and key-rate revaluations. The report's
    /// `sensitivities` is then null.
    #[arg(long)]
    pub(crate) no_sensitivities: bool,
    /// Write an Excel workbook (a sheet per report, native charts) to this file.
    #[arg(long)]
    pub(crate) xlsx: Option<PathBuf>,
    /// Write the reports as CSV files into this directory.
    #[arg(long)]
    pub(crate) csv: Option<PathBuf>,
}

/// Arguments of `almanac irrbb`.
#[derive(clap::Args)]
pub(crate) struct IrrbbArgs {
    /// Contracts: JSON (array of ACTUS term objects or a suite file) or ACTUS-term CSV.
    #[arg(long)]
    contracts: PathBuf,
    /// Market: TOML snapshot, or zero-curve CSV (then dated by --as-of).
    #[arg(long)]
    market: PathBuf,
    /// Valuation date: flows after it are valued; contracts without statusDate take it.
    #[arg(long)]
    as_of: String,
    #[command(flatten)]
    options: IrrbbOptions,
    /// Write the result as JSON to this file.
    #[arg(long)]
    json: PathBuf,
}

/// A finished IRRBB run: the JSON document (without the per-contract values) and those.
pub(crate) struct Report {
    pub(crate) doc: serde_json::Value,
    pub(crate) contracts: ContractTable,
    pub(crate) failed: usize,
}

impl IrrbbOptions {
    /// Checks the options before any work.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(t) = self.tier1 {
            if !(t.is_finite() && t > 0.0) {
                bail!("--tier1 must be a positive amount, got {t}");
            }
        }
        if !matches!(self.method.as_str(), "cashflow" | "standardised") {
            bail!(
                "--method {:?}: expected cashflow or standardised",
                self.method
            );
        }
        for b in &self.gap_buckets {
            if b.trim().parse::<almanac_time::Period>().is_err() {
                bail!("--gap-buckets: {b:?} is not a tenor (like 1M, 6M, 1Y, 10Y)");
            }
        }
        if !(1..=5).contains(&self.nii_horizon_years) {
            bail!(
                "--nii-horizon-years {}: expected 1 to 5",
                self.nii_horizon_years
            );
        }
        if self.strip_margins && self.assumptions.is_none() {
            bail!(
                "--strip-margins needs --assumptions with margin rules ([behaviour.margins.NAME] \
                 with spread and select, docs/irrbb.md)"
            );
        }
        if let Err(e) = self
            .automatic_options
            .parse::<almanac_analytics::irrbb::AutomaticOptions>()
        {
            bail!("--automatic-options {e}");
        }
        if self.scenarios != "bcbs" && !Path::new(&self.scenarios).is_file() {
            bail!(
                "--scenarios {:?}: expected bcbs or a scenario-set file",
                self.scenarios
            );
        }
        Ok(())
    }

    /// The behavioural assumption set, if any, with its text (for the run record).
    pub(crate) fn behaviour(&self) -> Result<Option<(Behaviour, String)>> {
        let Some(path) = &self.assumptions else {
            return Ok(None);
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let is_document = text
            .parse::<toml::Table>()
            .is_ok_and(|t| t.contains_key("behaviour"));
        let b = if is_document {
            Behaviour::from_assumptions_toml(&text)
        } else {
            Behaviour::from_toml(&text)
        }
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Some((b, text)))
    }

    /// Writes the report's files: JSON (streaming the per-contract values), and the Excel
    /// workbook and CSV files when asked for.
    pub(crate) fn write(&self, report: &Report, json: &Path) -> Result<()> {
        write_json(json, &report.doc, &report.contracts)?;
        self.write_extras(report)
    }

    /// Writes the Excel workbook and the CSV files when asked for.
    pub(crate) fn write_extras(&self, report: &Report) -> Result<()> {
        // Per-contract rows go to the writers as the engine's values, one row at a time.
        let rows = (self.per_contract && !report.contracts.is_empty())
            .then_some(crate::irrbb_report::ContractRows::Values(&report.contracts));
        if let Some(x) = &self.xlsx {
            crate::irrbb_report::write_xlsx(&report.doc, rows, x)?;
        }
        if let Some(d) = &self.csv {
            crate::irrbb_report::write_csv(&report.doc, rows, d)?;
        }
        Ok(())
    }
}

pub(crate) fn run(args: &IrrbbArgs) -> Result<bool> {
    let as_of: Date = args
        .as_of
        .parse()
        .map_err(|e| anyhow::anyhow!("--as-of {:?}: {e}", args.as_of))?;
    args.options.check()?;
    let behaviour = args.options.behaviour()?;
    let market = crate::scenarios::read_market(&args.market, Some(as_of))?;
    if market.as_of() != as_of {
        bail!(
            "{}: the market is as of {}, the valuation date is {as_of}",
            args.market.display(),
            market.as_of()
        );
    }
    let t0 = std::time::Instant::now();
    let (inputs, _) = crate::input::read_contracts(&args.contracts)?;
    crate::timing("read the contracts", t0);
    let mut contracts = Vec::with_capacity(inputs.len());
    let mut failed: Vec<(String, String)> = Vec::new();
    for c in inputs {
        match c.terms {
            Ok(t) => contracts.push(t),
            Err(e) => failed.push((c.origin, e)),
        }
    }
    let report = analyse(
        &mut contracts,
        failed,
        &market,
        as_of,
        &args.options,
        &Inputs {
            behaviour: behaviour.as_ref().map(|b| &b.0),
            ..Inputs::default()
        },
    )?;
    let t0 = std::time::Instant::now();
    args.options.write(&report, &args.json)?;
    crate::timing("write the report", t0);
    summarise(&report);
    // A million boxed terms take a while to free: the command ends now, and the system
    // takes the memory back at once.
    let ok = report.failed == 0;
    crate::store_cmds::free_at_exit((contracts, report));
    Ok(ok)
}

/// What a run takes besides contracts, market and options.
#[derive(Clone, Copy, Default)]
pub(crate) struct Inputs<'a> {
    /// The behavioural assumption set.
    pub(crate) behaviour: Option<&'a Behaviour>,
    /// Each contract's product (a stored position's), for the reports by product.
    pub(crate) products: Option<&'a [Option<String>]>,
    /// A scenario set to run instead of `--scenarios` (a stored run's).
    pub(crate) set: Option<&'a SetSource<'a>>,
}

/// Runs the analysis and builds the report document. Contracts without a status date take
/// the valuation date; `failed` are the input rows that did not parse.
pub(crate) fn analyse<C: BorrowMut<ContractTerms> + Sync>(
    contracts: &mut [C],
    failed: Vec<(String, String)>,
    market: &MarketSnapshot,
    as_of: Date,
    opts: &IrrbbOptions,
    inputs: &Inputs<'_>,
) -> Result<Report> {
    let products = inputs.products;
    // NII by product: the position's product where known, else contract type and role.
    // Labels borrow the products (a million of them): only the distinct names are owned.
    let labels: Vec<std::borrow::Cow<'_, str>> = contracts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            segment_label(
                t.borrow(),
                products.and_then(|p| p.get(i)).and_then(Option::as_deref),
            )
        })
        .collect();
    let distinct: std::collections::BTreeSet<&str> = labels.iter().map(|l| l.as_ref()).collect();
    let index: std::collections::HashMap<&str, u16> = distinct
        .iter()
        .enumerate()
        .map(|(k, l)| (*l, k.min(usize::from(u16::MAX)) as u16))
        .collect();
    let segments: Vec<u16> = labels.iter().map(|l| index[l.as_ref()]).collect();
    let segment_names: Vec<String> = distinct.iter().map(|l| l.to_string()).collect();
    drop(index);
    drop(labels);
    for t in contracts.iter_mut() {
        let t: &mut ContractTerms = t.borrow_mut();
        if t.status_date.is_none() {
            t.status_date = Some(DateTime::midnight(as_of));
        }
    }
    // The reporting currency (see `reporting_currency`), from the contracts.
    let mut book: BTreeMap<&str, f64> = market.currencies().map(|c| (c, 0.0)).collect();
    for t in contracts.iter() {
        let t: &ContractTerms = t.borrow();
        if let Some(x) = t.currency.as_deref().and_then(|c| book.get_mut(c)) {
            *x += t.notional_principal.unwrap_or(0.0).abs();
        }
    }
    let currency = reporting_currency(opts, &book);
    let contracts: &[C] = contracts;
    run_with(
        Portfolio::Whole {
            contracts,
            segments: &segments,
        },
        &segment_names,
        &currency,
        failed,
        market,
        as_of,
        opts,
        inputs,
    )
}

/// The reporting currency, known before the run so its sensitivities come out of it: asked
/// for, else the currency with a discount curve holding the largest outstanding notional
/// (`book`: the market's currencies with the contracts' notional, units of each as given),
/// else the market's first.
fn reporting_currency(opts: &IrrbbOptions, book: &BTreeMap<&str, f64>) -> String {
    match &opts.currency {
        Some(c) => c.to_ascii_uppercase(),
        None => book
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(c, _)| c.to_string())
            .unwrap_or_default(),
    }
}

/// The contracts of a run: held whole (with each one's segment index), or fed in batches from
/// a stored snapshot, each contract with its product (the segments are then the snapshot's
/// facts).
pub(crate) enum Portfolio<'p, C> {
    /// Every contract at once.
    Whole {
        /// The contracts, with status dates.
        contracts: &'p [C],
        /// Each contract's segment index.
        segments: &'p [u16],
    },
    /// Batches of contracts of any size, in order.
    Fed(&'p mut Batches<'p>),
}

/// A source of a stored snapshot's contracts: it hands every batch, in order, to the
/// callback.
pub(crate) type Batches<'p> = dyn FnMut(&mut dyn FnMut(Vec<Fed>) -> Result<()>) -> Result<()> + 'p;

/// A stored contract as a streamed run receives it. Its compact form is decoded by the
/// engine's worker that values it ([`ContractInput`]), not on the way in.
pub(crate) enum Fed {
    /// The position's compact form ([`almanac_balance_sheet::compact_parts`]): `range` of
    /// a batch of forms shared by the batch's contracts, checked as far as its kind and
    /// product; `terms` the part of it that is the terms' own form, read by the worker;
    /// `position` its 0-based ordinal in the snapshot (names it if its terms do not read);
    /// `as_of` its status date if it has none.
    Form {
        bytes: std::sync::Arc<Vec<u8>>,
        range: std::ops::Range<usize>,
        terms: std::ops::Range<usize>,
        position: usize,
        as_of: DateTime,
    },
    /// Terms already read (a position stored without a form), status date set, with its
    /// product.
    Terms {
        terms: Box<ContractTerms>,
        product: Option<String>,
    },
}

impl Fed {
    /// Its segment label ([`segment_label`]); `None` for a form whose terms do not read
    /// (needed only without a product: the terms are then read into `scratch`).
    fn segment_label<'a>(
        &'a self,
        scratch: &mut ContractTerms,
    ) -> Option<std::borrow::Cow<'a, str>> {
        match self {
            Fed::Terms { terms, product } => Some(segment_label(terms, product.as_deref())),
            Fed::Form {
                bytes,
                range,
                terms,
                ..
            } => {
                let (product, _) =
                    almanac_balance_sheet::compact_parts(&bytes[range.clone()]).ok()??;
                match product {
                    Some(p) => Some(std::borrow::Cow::Borrowed(p)),
                    None => {
                        scratch.read_compact_into(&bytes[terms.clone()]).ok()?;
                        Some(std::borrow::Cow::Owned(
                            segment_label(scratch, None).into_owned(),
                        ))
                    }
                }
            }
        }
    }
}

impl ContractInput for Fed {
    fn terms<'s>(&'s self, scratch: &'s mut ContractTerms) -> Result<&'s ContractTerms, String> {
        match self {
            Fed::Terms { terms, .. } => Ok(terms),
            Fed::Form {
                bytes,
                terms,
                as_of,
                ..
            } => {
                scratch
                    .read_compact_into(&bytes[terms.clone()])
                    .map_err(|e| {
                        crate::store_cmds::damaged_form(almanac_balance_sheet::PositionError(
                            e.to_string(),
                        ))
                    })?;
                if scratch.status_date.is_none() {
                    scratch.status_date = Some(*as_of);
                }
                Ok(scratch)
            }
        }
    }

    fn name(&self) -> String {
        match self {
            Fed::Form { position, .. } => format!("position {} of the snapshot", position + 1),
            Fed::Terms { terms, .. } => terms.id().to_string(),
        }
    }
}

/// [`analyse`] on a stored snapshot streamed in batches: `facts` are the snapshot's (its
/// segment labels and notional by currency). The report is the same, byte for byte, as on the
/// whole snapshot.
pub(crate) fn analyse_fed(
    batches: &mut Batches<'_>,
    facts: &crate::store_cmds::SnapshotFacts,
    failed: Vec<(String, String)>,
    market: &MarketSnapshot,
    as_of: Date,
    opts: &IrrbbOptions,
    inputs: &Inputs<'_>,
) -> Result<Report> {
    let segment_names: Vec<String> = facts.segments.iter().cloned().collect();
    let book: BTreeMap<&str, f64> = market
        .currencies()
        .map(|c| (c, facts.notional_by_currency.get(c).copied().unwrap_or(0.0)))
        .collect();
    let currency = reporting_currency(opts, &book);
    run_with::<Box<ContractTerms>>(
        Portfolio::Fed(batches),
        &segment_names,
        &currency,
        failed,
        market,
        as_of,
        opts,
        inputs,
    )
}

/// The engine's streamed pass over `batches`: contracts regrouped in the engine's batches,
/// status dates filled, segment indices from the snapshot's labels.
fn fed_analysis(
    batches: &mut Batches<'_>,
    segment_names: &[String],
    market: &MarketSnapshot,
    scenarios: Vec<ScenarioMarket>,
    as_of: DateTime,
    options: &Options<'_>,
) -> Result<almanac_analytics::irrbb::Analysis> {
    use almanac_analytics::irrbb::engine::{analyse_streamed, FEED_BATCH};
    use almanac_analytics::irrbb::EveError;
    let index: std::collections::HashMap<&str, u16> = segment_names
        .iter()
        .enumerate()
        .map(|(k, l)| (l.as_str(), k.min(usize::from(u16::MAX)) as u16))
        .collect();
    let mut pending: Vec<Fed> = Vec::with_capacity(FEED_BATCH);
    let mut segs: Vec<u16> = Vec::with_capacity(FEED_BATCH);
    let mut stopped: Option<EveError> = None;
    // Terms read only for the label of a contract without a product.
    let mut scratch = Box::<ContractTerms>::default();
    let a = analyse_streamed(market, scenarios, as_of, options, &mut |each| {
        let read = batches(&mut |fed| {
            for f in fed {
                // A form whose terms do not read is reported by the engine: any segment.
                let g = match f.segment_label(&mut scratch) {
                    None => 0,
                    Some(label) => match index.get(label.as_ref()) {
                        Some(&g) => g,
                        None => bail!(
                            "{}: segment {label:?} is not in the snapshot's facts",
                            f.name()
                        ),
                    },
                };
                pending.push(f);
                segs.push(g);
                if pending.len() == FEED_BATCH {
                    if let Err(e) = each(&pending, Some(&segs)) {
                        stopped = Some(e);
                        bail!("the analysis stopped");
                    }
                    pending.clear();
                    segs.clear();
                }
            }
            Ok(())
        });
        if let Some(e) = stopped.take() {
            return Err(e);
        }
        read.map_err(|e| EveError::Input(format!("{e:#}")))?;
        if !pending.is_empty() {
            each(&pending, Some(&segs))?;
        }
        Ok(())
    })?;
    Ok(a)
}

/// The run proper and its report, on either kind of portfolio.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn run_with<C: Borrow<ContractTerms> + Sync>(
    portfolio: Portfolio<'_, C>,
    segment_names: &[String],
    currency: &str,
    mut failed: Vec<(String, String)>,
    market: &MarketSnapshot,
    as_of: Date,
    opts: &IrrbbOptions,
    inputs: &Inputs<'_>,
) -> Result<Report> {
    let Inputs { behaviour, set, .. } = *inputs;
    let mut spec = StandardSpec {
        calibration: opts.calibration.parse::<Calibration>()?,
        floor: opts.floor.parse::<Floor>()?,
        ..StandardSpec::default()
    };
    // Commercial margins to strip from EVE: the assumption set's margin rules, which must
    // exist when asked for.
    let margins = match (opts.strip_margins, behaviour) {
        (false, _) => None,
        (true, Some(b)) if !b.margins.is_empty() => Some(&b.margins),
        (true, _) => bail!(
            "--strip-margins: the assumption set has no margin rules ([behaviour.margins.NAME] \
             with spread and select, docs/irrbb.md)"
        ),
    };
    let (scenarios, set_info) = scenario_markets(opts, set, market, as_of, &mut spec)?;
    let standardised = opts.method == "standardised";
    // User gap buckets: tenors to day offsets from the as-of date, increasing.
    let mut gap_bounds: Vec<u32> = Vec::new();
    for b in &opts.gap_buckets {
        let period: almanac_time::Period = b
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("--gap-buckets {b:?}: {e}"))?;
        let days = as_of.days_until(period.add_to(as_of, 1));
        let days = u32::try_from(days).unwrap_or(0);
        if gap_bounds.last().is_some_and(|l| *l >= days) || days == 0 {
            bail!("--gap-buckets: the bounds must be positive and increasing ({b} is not)");
        }
        gap_bounds.push(days);
    }
    let options = Options {
        explain: opts.explain.as_deref(),
        gap_bounds: &gap_bounds,
        per_contract: opts.per_contract,
        behaviour,
        sensitivity_currency: (!opts.no_sensitivities).then_some(currency),
        standardised,
        nii_months: 12 * opts.nii_horizon_years as usize,
        segments: match &portfolio {
            Portfolio::Whole { segments, .. } => Some(segments),
            Portfolio::Fed(_) => None,
        },
        segment_names,
        margins,
        automatic_options: opts
            .automatic_options
            .parse()
            .map_err(|e| anyhow::anyhow!("--automatic-options {e}"))?,
    };
    let t0 = std::time::Instant::now();
    let a = match portfolio {
        Portfolio::Whole { contracts, .. } => almanac_analytics::irrbb::analyse_scenarios(
            contracts,
            market,
            scenarios,
            DateTime::midnight(as_of),
            &options,
        )?,
        Portfolio::Fed(batches) => fed_analysis(
            batches,
            segment_names,
            market,
            scenarios,
            DateTime::midnight(as_of),
            &options,
        )?,
    };
    crate::timing("analyse (EVE, repricing, sensitivities)", t0);
    // Contracts whose stored form did not read, then those the engine could not value.
    failed.extend(a.unreadable.iter().cloned());
    failed.extend(a.failed.iter().cloned());
    let view = a.primary();
    let eve_of = |v: &View| -> BTreeMap<String, CurrencyEve> {
        if standardised {
            v.standardised.clone()
        } else {
            v.currencies.clone()
        }
    };
    let by_currency = eve_of(view);
    // None only when the reporting currency has no discount curve.
    let sensitivities = a
        .sensitivities
        .clone()
        .unwrap_or_else(|| empty_sensitivities(currency));
    let top = by_currency.get(currency);
    // Per scenario: aggregate change across currencies, by regime.
    let mut aggregates = serde_json::Map::new();
    let mut worst_bcbs: BTreeMap<String, f64> = BTreeMap::new();
    for n in a.scenario_names.iter().skip(1) {
        let n = n.as_str();
        let changes: BTreeMap<String, f64> = by_currency
            .iter()
            .map(|(c, e)| (c.clone(), e.scenarios.get(n).map_or(0.0, |v| v.delta)))
            .collect();
        let bcbs = aggregate(&changes, Aggregation::BcbsLossesOnly);
        let eu = aggregate(&changes, Aggregation::EuHalfGains);
        worst_bcbs.insert(n.to_string(), bcbs);
        aggregates.insert(
            n.to_string(),
            serde_json::json!({"bcbs_losses_only": bcbs, "eu_half_gains": eu}),
        );
    }
    let outlier = opts
        .tier1
        .and_then(|t| outlier_test(&worst_bcbs, t))
        .map(|o| serde_json::to_value(o).unwrap_or_default());
    let view_name = if a.behavioural.is_some() {
        "behavioural"
    } else {
        "contractual"
    };
    let mut views = serde_json::Map::new();
    views.insert(
        "contractual".into(),
        serde_json::to_value(eve_of(&a.contractual))?,
    );
    if let Some(b) = &a.behavioural {
        views.insert("behavioural".into(), serde_json::to_value(eve_of(b))?);
    }
    let mut doc = serde_json::json!({
        "as_of": as_of.to_string(),
        "currency": currency,
        "calibration": spec.calibration.code(),
        "floor": spec.floor.code(),
        "scenario_set": set_info,
        "warnings": a.warnings.iter().cloned().chain(
            opts.explain
                .as_ref()
                .filter(|_| a.explained.is_empty())
                .map(|id| format!("--explain {id}: no such contract was valued")),
        ).collect::<Vec<_>>(),
        "method": opts.method,
        "margins_stripped": margins.is_some(),
        "view": view_name,
        "eve": top.map(|e| serde_json::to_value(e).unwrap_or_default()),
        "by_currency": serde_json::to_value(&by_currency)?,
        "views": views,
        "aggregate_change": aggregates,
        "outlier_test": outlier,
        "failed": failed.iter().map(|(id, why)| serde_json::json!({"contract_id": id, "reason": why})).collect::<Vec<_>>(),
    });
    if standardised {
        doc["bucket_flows"] = serde_json::to_value(&view.bucket_flows)?;
        doc["eve_cashflow_method"] = serde_json::to_value(&view.currencies)?;
    }
    // Automatic options: how they were valued; with KAO, the option values and KAO per
    // currency and scenario (and per option with --per-contract).
    doc["automatic_options"] = match &a.automatic_options {
        Some(r) => serde_json::to_value(r)?,
        None => serde_json::json!({
            "method": opts.automatic_options.to_ascii_lowercase(),
            "contracts_with_options": 0,
        }),
    };
    // Repricing gap of the reporting currency in the 19 buckets; the earnings column uses the
    // currency's parallel shock.
    let shift = spec
        .sizes_for(currency)
        .map_or(0.02, |s| f64::from(s.parallel_bp) / 10_000.0);
    let flows = view
        .repricing
        .get(currency)
        .map(|d| d.as_years())
        .unwrap_or_default();
    let gap = almanac_analytics::irrbb::repricing_gap(flows.iter().copied(), shift);
    doc["gap"] = serde_json::json!({"currency": currency, "parallel_shift": shift, "buckets": gap});
    // By product, and in the user's buckets, of the primary view.
    let view_index = usize::from(a.behavioural.is_some());
    let g = &a.gap_by_segment;
    let rows = |amounts: &[f64], labels: &[String]| -> serde_json::Value {
        let mut cumulative = 0.0;
        amounts
            .iter()
            .zip(labels)
            .map(|(x, label)| {
                cumulative += x;
                serde_json::json!({"bucket": label, "rsa": x.max(0.0), "rsl": (-x).max(0.0),
                    "gap": x, "cumulative": cumulative})
            })
            .collect()
    };
    let bcbs_labels: Vec<String> = almanac_analytics::irrbb::BCBS_BUCKETS
        .iter()
        .map(|b| b.label.to_string())
        .collect();
    let user_labels: Vec<String> = opts
        .gap_buckets
        .iter()
        .map(|b| format!("≤ {}", b.trim()))
        .chain(std::iter::once(format!(
            "> {}",
            opts.gap_buckets.last().map_or("0D", |b| b.trim())
        )))
        .collect();
    let mut by_product = serde_json::Map::new();
    let mut user_by_product = serde_json::Map::new();
    let mut user_total = vec![0.0; gap_bounds.len() + 1];
    for (k, seg) in g.segments.iter().enumerate() {
        let b = g.buckets(view_index, k, currency, false);
        if b.iter().any(|x| *x != 0.0) {
            by_product.insert(seg.clone(), rows(&b, &bcbs_labels));
        }
        let u = g.buckets(view_index, k, currency, true);
        user_total.iter_mut().zip(&u).for_each(|(a, b)| *a += b);
        if !gap_bounds.is_empty() && u.iter().any(|x| *x != 0.0) {
            user_by_product.insert(seg.clone(), rows(&u, &user_labels));
        }
    }
    doc["gap"]["by_product"] = serde_json::Value::Object(by_product);
    doc["gap"]["note"] = serde_json::json!(
        "by product: net repricing per bucket (rsa = the net when positive, rsl when negative)"
    );
    if !gap_bounds.is_empty() {
        doc["gap"]["user_buckets"] = serde_json::json!({
            "bounds": opts.gap_buckets,
            "bounds_days": gap_bounds,
            "buckets": rows(&user_total, &user_labels),
            "by_product": user_by_product,
        });
    }
    // NII: the constant-balance-sheet projection, instantaneous and ramped, by scenario and
    // product; the one-year ΔNII of the parallel shocks feeds the EU outlier test.
    if let Some(p) = &a.nii {
        doc["nii"] = nii_report(p, &a.scenario_names, currency, opts.tier1);
    }
    // The first-order repricing measure (§1.9 formula), kept beside it for reference.
    let (up, down) = (
        almanac_analytics::irrbb::delta_nii(&flows, shift, 1.0),
        almanac_analytics::irrbb::delta_nii(&flows, -shift, 1.0),
    );
    doc["nii"]["repricing_approximation"] = serde_json::json!({
        "method": "Σ N·Δr·(1 − t) over repricing flows in the first year, parallel shocks",
        "parallel_up": up, "parallel_down": down,
    });
    if opts.explain.is_some() {
        doc["explain"] = serde_json::to_value(&a.explained)?;
    }
    doc["sensitivities"] = if opts.no_sensitivities {
        serde_json::Value::Null
    } else {
        serde_json::json!({
            "currency": sensitivities.currency,
            "value": sensitivities.value,
            "pv01": sensitivities.pv01,
            "key_rate_pv01": sensitivities.key_rate_pv01.iter().map(|(t, v)| serde_json::json!({"pillar_years": t, "pv01": v})).collect::<Vec<_>>(),
            "effective_duration": sensitivities.effective_duration,
            "effective_convexity": sensitivities.effective_convexity,
        })
    };
    Ok(Report {
        doc,
        failed: failed.len(),
        contracts: a.contracts,
    })
}

/// The scenarios of the run: the six standardised shocks of `spec`, or the scenario set of
/// `--scenarios FILE` applied to the market (its calibration and floor then replace
/// `spec`'s), with what the report says about the set.
fn scenario_markets(
    opts: &IrrbbOptions,
    source: Option<&SetSource<'_>>,
    market: &MarketSnapshot,
    as_of: Date,
    spec: &mut StandardSpec,
) -> Result<(Vec<ScenarioMarket>, serde_json::Value)> {
    use almanac_scenario::irrbb::Scenario;
    if let Some(src) = source {
        return set_markets(src, market, spec);
    }
    if opts.scenarios == "bcbs" {
        let mut out = Vec::new();
        for s in Scenario::ALL {
            out.push(ScenarioMarket::standard(
                s,
                almanac_scenario::standard::apply(market, s, spec)?,
            ));
        }
        return Ok((
            out,
            serde_json::json!({"name": "bcbs", "scenarios": "the six standardised shocks"}),
        ));
    }
    let file = Path::new(&opts.scenarios);
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let load = |name: &str| -> std::result::Result<MarketSnapshot, String> {
        crate::scenarios::read_market(&dir.join(name), Some(as_of)).map_err(|e| format!("{e:#}"))
    };
    set_markets(
        &SetSource {
            text,
            label: file.display().to_string(),
            load: &load,
        },
        market,
        spec,
    )
}

/// A contract's NII and gap segment: its position's product where known, else its contract
/// type and role (`ANN/RPA`).
pub(crate) fn segment_label<'a>(
    t: &ContractTerms,
    product: Option<&'a str>,
) -> std::borrow::Cow<'a, str> {
    match product {
        Some(p) => std::borrow::Cow::Borrowed(p),
        None => std::borrow::Cow::Owned(format!(
            "{}/{}",
            t.contract_type.map_or("?", |c| c.code()),
            t.contract_role.map_or("?", |r| r.code())
        )),
    }
}

/// A scenario set to run: its text, a label for messages and the report (the file, or the
/// stored document), and where its historical scenarios' snapshots come from.
pub(crate) struct SetSource<'a> {
    pub(crate) text: String,
    pub(crate) label: String,
    pub(crate) load: &'a dyn Fn(&str) -> std::result::Result<MarketSnapshot, String>,
}

/// The scenario markets of a set applied to `market`; the set's calibration and floor replace
/// `spec`'s.
fn set_markets(
    src: &SetSource<'_>,
    market: &MarketSnapshot,
    spec: &mut StandardSpec,
) -> Result<(Vec<ScenarioMarket>, serde_json::Value)> {
    use almanac_scenario::set::{read_set, Kind};
    let set = read_set(&src.text, &src.label)?;
    spec.calibration = set.calibration;
    spec.floor = set.floor;
    let mut out = Vec::new();
    for def in &set.scenarios {
        if def.name == "base" {
            bail!(
                "{}: a scenario may not be called base (the run's own)",
                src.label
            );
        }
        out.push(ScenarioMarket {
            name: def.name.clone(),
            standard: match &def.kind {
                Kind::Standard(s) => Some(*s),
                _ => None,
            },
            market: set.apply(def, market, f64::INFINITY, src.load)?,
            prepayment_multiplier: def.behaviour.prepayment_multiplier,
            early_redemption_multiplier: def.behaviour.early_redemption_multiplier,
            ramp_years: if def.ramp_months > 0 {
                f64::from(def.ramp_months) / 12.0
            } else {
                1.0
            },
        });
    }
    Ok((
        out,
        serde_json::json!({"name": set.name, "version": set.version, "sha256": set.hash(), "source": src.label}),
    ))
}

/// The NII section of the report for the reporting currency.
fn nii_report(
    p: &NiiProjection,
    names: &[String],
    currency: &str,
    tier1: Option<f64>,
) -> serde_json::Value {
    let by_year = |m: &[f64]| -> Vec<f64> { m.chunks(12).map(|c| c.iter().sum()).collect() };
    let section = |ramped: bool| -> serde_json::Value {
        let base = p.monthly(0, currency, None, ramped);
        let base_total: f64 = base.iter().sum();
        let base_years = by_year(&base);
        let mut out = serde_json::Map::new();
        for (k, name) in names.iter().enumerate() {
            let m = p.monthly(k, currency, None, ramped);
            let total: f64 = m.iter().sum();
            let years = by_year(&m);
            out.insert(
                name.clone(),
                serde_json::json!({
                    "nii": total,
                    "delta": total - base_total,
                    "by_year": years,
                    "delta_by_year": years.iter().zip(&base_years).map(|(a, b)| a - b).collect::<Vec<_>>(),
                    "monthly": m,
                }),
            );
        }
        serde_json::Value::Object(out)
    };
    let instantaneous = section(false);
    let first_year = |name: &str| -> f64 {
        instantaneous[name]["delta_by_year"][0]
            .as_f64()
            .unwrap_or(0.0)
    };
    let has = |n: &str| names.iter().any(|x| x == n);
    let (up, down) = (first_year("parallel_up"), first_year("parallel_down"));
    let parallel = has("parallel_up") && has("parallel_down");
    let mut by_product = serde_json::Map::new();
    for (g, seg) in p.segments.iter().enumerate() {
        let per: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(k, n)| {
                (
                    n.clone(),
                    serde_json::json!(p.monthly(k, currency, Some(g), false)),
                )
            })
            .collect();
        by_product.insert(seg.clone(), serde_json::Value::Object(per));
    }
    serde_json::json!({
        "currency": currency,
        "horizon_years": p.months / 12,
        "months": p.months,
        "method": "constant balance sheet: the existing book's interest accrual plus every repayment replaced by the same product (tenor, spread) at the scenario's rates (docs/irrbb.md)",
        "delta": if parallel { serde_json::json!({"parallel_up": up, "parallel_down": down}) } else { serde_json::Value::Null },
        "outlier_test": tier1.filter(|_| parallel).map(|t| almanac_analytics::irrbb::nii_outlier_test(up, down, t)),
        "scenarios": instantaneous,
        "ramped": section(true),
        "by_product": by_product,
    })
}

fn empty_sensitivities(ccy: &str) -> Sensitivities {
    Sensitivities {
        currency: ccy.to_string(),
        value: 0.0,
        pv01: 0.0,
        key_rate_pv01: Vec::new(),
        effective_duration: 0.0,
        effective_convexity: 0.0,
        failed: Vec::new(),
    }
}

/// The human summary on standard output.
pub(crate) fn summarise(report: &Report) {
    let doc = &report.doc;
    let currency = doc["currency"].as_str().unwrap_or("");
    if let Some(e) = doc["eve"].as_object() {
        println!(
            "EVE {currency} as of {} ({} view, {} method{}): base {:.2}",
            doc["as_of"].as_str().unwrap_or(""),
            doc["view"].as_str().unwrap_or(""),
            doc["method"].as_str().unwrap_or(""),
            if doc["margins_stripped"].as_bool() == Some(true) {
                ", commercial margins stripped"
            } else {
                ""
            },
            e["base"].as_f64().unwrap_or(0.0)
        );
        if let Some(sc) = e["scenarios"].as_object() {
            for (n, v) in sc {
                let kao = v["kao"].as_f64().unwrap_or(0.0);
                println!(
                    "  {n:<14} {:>18.2}  change {:>16.2}{}",
                    v["value"].as_f64().unwrap_or(0.0),
                    v["delta"].as_f64().unwrap_or(0.0),
                    if kao != 0.0 {
                        format!("  (incl. KAO {kao:.2})")
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    if let Some(o) = doc["outlier_test"].as_object() {
        println!(
            "outlier test: worst {} {:.2} = {:.2} % of Tier 1 → {}",
            o["worst_scenario"].as_str().unwrap_or(""),
            o["worst_change"].as_f64().unwrap_or(0.0),
            o["ratio"].as_f64().unwrap_or(0.0) * 100.0,
            if o["outlier"].as_bool().unwrap_or(false) {
                "OUTLIER"
            } else {
                "within 15 %"
            }
        );
    }
    if let Some(w) = doc["warnings"].as_array() {
        for x in w {
            eprintln!("  warning: {}", x.as_str().unwrap_or(""));
        }
    }
    if let Some(f) = doc["failed"].as_array() {
        for x in f.iter().take(20) {
            eprintln!(
                "  not valued: {}: {}",
                x["contract_id"].as_str().unwrap_or(""),
                x["reason"].as_str().unwrap_or("")
            );
        }
        if f.len() > 20 {
            eprintln!("  … and {} more (see the JSON)", f.len() - 20);
        }
    }
}

/// Writes the document with the per-contract values appended as `"contracts"`, streamed so
/// that a million contracts do not need a million JSON objects in memory.
fn write_json(path: &Path, doc: &serde_json::Value, contracts: &ContractTable) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    write_json_to(&mut w, doc, contracts).with_context(|| format!("writing {}", path.display()))
}

/// The report as JSON into `w`: the document, then `"contracts"` when there are any.
pub(crate) fn write_json_to(
    w: &mut (impl std::io::Write + Send),
    doc: &serde_json::Value,
    contracts: &ContractTable,
) -> Result<()> {
    let text = serde_json::to_string_pretty(doc)?;
    if contracts.is_empty() {
        w.write_all(text.as_bytes())?;
        w.flush()?;
        return Ok(());
    }
    // `text` ends with "\n}": re-open the object.
    let body = text.trim_end().strip_suffix('}').unwrap_or(&text);
    w.write_all(body.trim_end().as_bytes())?;
    w.write_all(b",\n  \"contracts\": [\n")?;
    // One line per contract, rendered on all cores in blocks, written in order a group of
    // blocks at a time (so only two groups are held in memory): a group is written while the
    // next one is rendered.
    use rayon::prelude::*;
    const BLOCK: usize = 8_192;
    let group = BLOCK * 4 * rayon::current_num_threads().max(1);
    let n = contracts.len();
    let render = |first: usize| -> Result<Vec<Vec<u8>>, serde_json::Error> {
        (first..(first + group).min(n))
            .step_by(BLOCK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|start| {
                let end = (start + BLOCK).min(n);
                let mut out = Vec::with_capacity((end - start) * 300);
                for k in start..end {
                    if k > 0 {
                        out.extend_from_slice(b",\n");
                    }
                    out.extend_from_slice(b"    ");
                    serde_json::to_writer(&mut out, &contracts.row(k))?;
                }
                Ok(out)
            })
            .collect()
    };
    let mut ready = render(0)?;
    for next in (group..n).step_by(group) {
        let (written, rendered) = rayon::join(
            || ready.iter().try_for_each(|b| w.write_all(b)),
            || render(next),
        );
        written?;
        ready = rendered?;
    }
    for b in &ready {
        w.write_all(b)?;
    }
    w.write_all(b"\n  ]\n}")?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use almanac_analytics::irrbb::ContractTable;

    /// Per-contract lines are rendered in parallel blocks: across block and group boundaries
    /// the report is still one valid JSON document with every contract once, in order, and
    /// the same bytes as rendering line by line.
    #[test]
    fn per_contract_lines_render_in_order_across_blocks() {
        let names: Arc<[String]> = vec!["base".to_string(), "parallel_up".to_string()].into();
        let n = 70_001;
        let mut contracts = ContractTable::new(names, false);
        for k in 0..n {
            contracts.push(&format!("C{k}"), &[k as f64 * 0.5, -(k as f64)], None);
        }
        let doc = serde_json::json!({"as_of": "2026-01-02"});
        let mut bytes = Vec::new();
        super::write_json_to(&mut bytes, &doc, &contracts).unwrap();
        // Line by line, as it was rendered before.
        let mut expected = serde_json::to_string_pretty(&doc).unwrap();
        expected.truncate(expected.trim_end().len() - 1);
        let mut expected = expected.trim_end().to_string();
        expected.push_str(",\n  \"contracts\": [\n");
        for (k, c) in contracts.iter().enumerate() {
            if k > 0 {
                expected.push_str(",\n");
            }
            expected.push_str("    ");
            expected.push_str(&serde_json::to_string(&c).unwrap());
        }
        expected.push_str("\n  ]\n}");
        assert!(
            bytes == expected.as_bytes(),
            "the parallel rendering differs"
        );
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let list = v["contracts"].as_array().unwrap();
        assert_eq!(list.len(), n);
        assert_eq!(list[40_000]["contract_id"], "C40000");
    }
}
