//! `almanac`: the command-line program of the Almanac balance-sheet engine.
//!
//! It parses arguments, reads files, calls the calculation crates and maps outcomes to exit
//! codes; no calculation lives here.

mod cashflows;
mod conformance;
mod diff;
mod input;
mod irrbb;
mod liquidity;

/// With `ALMANAC_TIMINGS` set, prints how long a phase took to standard error (for
/// benchmarks; off by default).
pub(crate) fn timing(phase: &str, since: std::time::Instant) {
    if std::env::var_os("ALMANAC_TIMINGS").is_some() {
        eprintln!("timing: {phase}: {:.3} s", since.elapsed().as_secs_f64());
    }
}
mod irrbb_report;
mod sample_bank;
mod scenarios;
mod store_cmds;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Almanac: asset & liability management and treasury on one engine.
#[derive(Parser)]
#[command(name = "almanac", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// ACTUS standard tools.
    Actus {
        #[command(subcommand)]
        command: ActusCommand,
    },
    /// Contract cash flows: every event of every contract, one row each.
    Cashflows(CashflowsArgs),
    /// Interest-rate scenarios on a currency's curve: the six standardised IRRBB shocks, or a
    /// user scenario set (`--file`).
    Scenarios(ScenariosArgs),
    /// Imports a tape into the store as a balance-sheet snapshot (rows with problems are
    /// reported and kept as rejects; `--strict` imports nothing when any row fails).
    Import {
        /// The tape: CSV, Parquet (`.parquet`) or Excel (`.xlsx`, `.xls`, `.ods`).
        tape: PathBuf,
        /// Mapping file (TOML); without it the tape's header must name the model's fields.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// As-of date of the snapshot (default: 2025-12-31, the sample bank's date).
        #[arg(long)]
        as_of: Option<String>,
        /// Reject the whole import on any problem.
        #[arg(long)]
        strict: bool,
        /// Write the validation report: CSV, or JSON / Excel when the name ends in .json / .xlsx.
        #[arg(long)]
        report: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Balance-sheet snapshots in the store.
    Snapshots {
        #[command(subcommand)]
        command: SnapshotsCommand,
    },
    /// Versioned assumption sets.
    Assumptions {
        #[command(subcommand)]
        command: AssumptionsCommand,
    },
    /// Versioned scenario sets (the same commands as assumptions; files as in docs/scenarios.md).
    ScenarioSets {
        #[command(subcommand)]
        command: AssumptionsCommand,
    },
    /// Runs a job on a stored snapshot and records it.
    Run {
        #[command(subcommand)]
        command: RunCommand,
    },
    /// Recorded runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// The append-only audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Interest-rate risk from files: EVE and ΔEVE under the six standardised scenarios.
    Irrbb(irrbb::IrrbbArgs),
    /// Liquidity from files: LCR, NSFR, contractual maturity ladder and survival horizon.
    Liquidity(liquidity::LiquidityArgs),
    /// Writes a synthetic mid-sized bank: tape (CSV), mapping, market snapshot, assumptions.
    SampleBank {
        /// Approximate number of contracts.
        #[arg(long, default_value_t = 10_000)]
        contracts: usize,
        /// Seed: the same seed writes the same bank.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Print the written paths as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ActusCommand {
    /// Runs the official ACTUS test suite and reports conformance per contract type.
    Conformance {
        /// Folder of `actus-tests-*.json` files (its `upstream-after-v1.0/` folder is included).
        #[arg(long, default_value = "../shared/actus-tests")]
        tests: PathBuf,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

/// Options every store command takes.
#[derive(clap::Args)]
struct Common {
    /// The store file.
    #[arg(long, default_value = "almanac.db")]
    db: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum SnapshotsCommand {
    /// Lists the snapshots.
    List(Common),
    /// Writes the ACTUS terms of a snapshot's contracts as a JSON array.
    Export {
        /// Snapshot id, or `latest`.
        snapshot: String,
        /// Output file (JSON).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AssumptionsCommand {
    /// Stores a version of an assumption set (TOML; its `name` key names the set).
    Put {
        /// The file.
        file: PathBuf,
        /// The version it replaces.
        #[arg(long)]
        parent: Option<String>,
        /// Who made the change.
        #[arg(long, default_value = "almanac")]
        author: String,
        /// Why.
        #[arg(long, default_value = "initial version")]
        reason: String,
        #[command(flatten)]
        common: Common,
    },
    /// Lists the versions.
    List(Common),
    /// Shows one version with its history.
    Show {
        /// Document id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// What changed from A to B.
    Diff {
        /// Earlier version.
        a: String,
        /// Later version.
        b: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
// Parsed once per process: the size of the IRRBB variant does not matter.
#[allow(clippy::large_enum_variant)]
enum RunCommand {
    /// Cash flows of every contract of a snapshot; results stored with a manifest.
    Cashflows {
        /// Snapshot id, or `latest`.
        #[arg(long)]
        snapshot: String,
        /// Market snapshot (TOML) for floating resets; stored with the run.
        #[arg(long)]
        market: Option<PathBuf>,
        /// Horizon in years from the as-of date (open-ended contracts run to it).
        #[arg(long, default_value_t = 30)]
        horizon_years: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Interest-rate risk of a snapshot (EVE, gap, NII, sensitivities, behaviour): the report
    /// is written and stored with a manifest naming the snapshot, market and assumptions.
    Irrbb {
        /// Snapshot id, or `latest`.
        #[arg(long)]
        snapshot: String,
        /// Market snapshot (TOML); stored with the run.
        #[arg(long)]
        market: PathBuf,
        #[command(flatten)]
        options: irrbb::IrrbbOptions,
        /// Write the report as JSON to this file.
        #[arg(long = "out", default_value = "irrbb.json")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Liquidity of a snapshot (LCR, NSFR, maturity ladder, survival horizon) from its
    /// classified positions: the report is written and stored with a manifest.
    Liquidity {
        /// Snapshot id, or `latest`.
        #[arg(long)]
        snapshot: String,
        /// Market snapshot (TOML); stored with the run.
        #[arg(long)]
        market: PathBuf,
        #[command(flatten)]
        options: liquidity::LiquidityOptions,
        /// Write the report as JSON to this file.
        #[arg(long = "out", default_value = "liquidity.json")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum RunsCommand {
    /// Lists the runs.
    List(Common),
    /// Shows a run's manifest.
    Show {
        /// Run id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Recomputes a run and checks the results are bit-identical.
    Replay {
        /// Run id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks the hash chain and every object against it.
    Verify(Common),
}

/// Output format of `almanac cashflows`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of event objects.
    Json,
}

#[derive(clap::Args)]
struct CashflowsArgs {
    /// Contracts: JSON (an array of ACTUS term objects, or an ACTUS test-suite file) or CSV
    /// whose header names ACTUS terms (camelCase).
    #[arg(long)]
    contracts: PathBuf,
    /// Market data for floating contracts, in the suite's `dataObserved` shape:
    /// `{"CODE": {"data": [{"timestamp": "...", "value": "..."}]}}`.
    #[arg(long)]
    market: Option<PathBuf>,
    /// Analysis date: only events after it are written; contracts without a statusDate take it.
    #[arg(long)]
    as_of: Option<String>,
    /// Horizon: no events after this date.
    #[arg(long)]
    to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ScenariosArgs {
    /// Market data: a TOML snapshot or a zero-curve CSV (`curve_id,currency,pillar,zero_rate`).
    #[arg(long)]
    market: PathBuf,
    /// Currency whose discount curve is shown.
    #[arg(long)]
    currency: String,
    /// Shock-size table: bcbs2016 (= EU RTS 2024/856) or bcbs2024.
    #[arg(long, default_value = "bcbs2016")]
    calibration: String,
    /// Post-shock floor: none, zero or eu.
    #[arg(long, default_value = "none")]
    floor: String,
    /// Where shocks apply: at the curve's pillars (then re-interpolated) or at any time.
    #[arg(long, default_value = "pillars")]
    mode: String,
    /// Times in years, comma-separated (default: the 19 SRP31 bucket midpoints).
    #[arg(long)]
    at: Option<String>,
    /// A user scenario set (TOML) instead of the six standardised scenarios.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Derive the currency's shock sizes from a daily rate history (CSV: `date` then the
    /// tenors 3M,6M,1Y,2Y,5Y,7Y,10Y,15Y,20Y as decimals, oldest first; SRP98 method) instead of
    /// the calibration's table.
    #[arg(long)]
    history: Option<PathBuf>,
    /// As-of date for a CSV market whose pillars are dates (tenors then count from it).
    #[arg(long)]
    as_of: Option<String>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Hull–White one-factor paths instead: `MEAN_REVERSION,VOLATILITY` (decimals per year),
    /// fitted to the currency's discount curve; written with `--paths-out`.
    #[arg(long)]
    hull_white: Option<String>,
    /// Number of Hull–White paths.
    #[arg(long, default_value_t = 1000)]
    paths: usize,
    /// Seed of the Hull–White paths (same seed, same paths, on any number of threads).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Horizon of the Hull–White paths in years (monthly grid).
    #[arg(long, default_value_t = 30.0)]
    years: f64,
    /// Antithetic Hull–White paths (path 2j+1 mirrors path 2j).
    #[arg(long)]
    antithetic: bool,
    /// File for the Hull–White paths, rows `path,t,short_rate,discount_factor`: Parquet when
    /// the name ends in `.parquet`, else CSV.
    #[arg(long)]
    paths_out: Option<PathBuf>,
}

fn documents(
    kind: almanac_store::DocumentKind,
    command: AssumptionsCommand,
) -> anyhow::Result<bool> {
    match command {
        AssumptionsCommand::Put {
            file,
            parent,
            author,
            reason,
            common,
        } => store_cmds::assumptions_put(
            kind,
            &file,
            parent.as_deref(),
            &author,
            &reason,
            &common.db,
            common.json,
        ),
        AssumptionsCommand::List(c) => store_cmds::assumptions_list(kind, &c.db, c.json),
        AssumptionsCommand::Show { id, common } => {
            store_cmds::assumptions_show(&id, &common.db, common.json)
        }
        AssumptionsCommand::Diff { a, b, common } => {
            store_cmds::assumptions_diff(&a, &b, &common.db, common.json)
        }
    }
}

fn sample_bank_command(
    contracts: usize,
    seed: u64,
    out: &std::path::Path,
    json: bool,
) -> anyhow::Result<bool> {
    let w = sample_bank::write(contracts, seed, out)?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "tape": w.tape.display().to_string(),
                "mapping": w.mapping.display().to_string(),
                "market": w.market.display().to_string(),
                "assumptions": w.assumptions.display().to_string(),
            })
        );
    } else {
        println!(
            "sample bank (seed {seed}) as of {}: {}, {}, {}, {}",
            sample_bank::AS_OF,
            w.tape.display(),
            w.mapping.display(),
            w.market.display(),
            w.assumptions.display()
        );
    }
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Actus {
            command: ActusCommand::Conformance { tests, json },
        } => conformance::run(&tests, json.as_deref()),
        Command::Cashflows(args) => cashflows::run(&args),
        Command::Scenarios(args) => scenarios::run(&args),
        Command::Irrbb(args) => irrbb::run(&args),
        Command::Liquidity(args) => liquidity::run(&args),
        Command::Import {
            tape,
            mapping,
            as_of,
            strict,
            report,
            common,
        } => store_cmds::import(
            &tape,
            mapping.as_deref(),
            as_of.as_deref(),
            strict,
            &common.db,
            common.json,
            report.as_deref(),
        ),
        Command::Snapshots {
            command: SnapshotsCommand::List(c),
        } => store_cmds::snapshots(&c.db, c.json),
        Command::Snapshots {
            command:
                SnapshotsCommand::Export {
                    snapshot,
                    out,
                    common,
                },
        } => store_cmds::snapshots_export(&snapshot, &out, &common.db),
        Command::Run {
            command:
                RunCommand::Irrbb {
                    snapshot,
                    market,
                    options,
                    out,
                    common,
                },
        } => store_cmds::run_irrbb(&snapshot, &market, &options, &out, &common.db, common.json),
        Command::Run {
            command:
                RunCommand::Liquidity {
                    snapshot,
                    market,
                    options,
                    out,
                    common,
                },
        } => store_cmds::run_liquidity(&snapshot, &market, &options, &out, &common.db, common.json),
        Command::Assumptions { command } => {
            documents(almanac_store::DocumentKind::Assumptions, command)
        }
        Command::ScenarioSets { command } => {
            documents(almanac_store::DocumentKind::ScenarioSet, command)
        }
        Command::Run {
            command:
                RunCommand::Cashflows {
                    snapshot,
                    market,
                    horizon_years,
                    common,
                },
        } => store_cmds::run_cashflows(
            &snapshot,
            market.as_deref(),
            horizon_years,
            &common.db,
            common.json,
        ),
        Command::Runs { command } => match command {
            RunsCommand::List(c) => store_cmds::runs_list(&c.db, c.json),
            RunsCommand::Show { id, common } => store_cmds::runs_show(&id, &common.db, common.json),
            RunsCommand::Replay { id, common } => {
                store_cmds::runs_replay(&id, &common.db, common.json)
            }
        },
        Command::Audit {
            command: AuditCommand::Verify(c),
        } => store_cmds::audit_verify(&c.db, c.json),
        Command::SampleBank {
            contracts,
            seed,
            out,
            json,
        } => sample_bank_command(contracts, seed, &out, json),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
