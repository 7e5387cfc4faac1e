//! Classifying balance-sheet positions for the LCR, the NSFR and the maturity ladder, from
//! their contractual cash flows on the base market (ACTUS, floating rates from the market's
//! forwards) and the data model's attributes (counterparty type, deposit, HQLA level, asset
//! class, encumbrance, collateral, risk weight, facility).
//!
//! Rules (Basel factor categories; `docs/liquidity.md` lists them with their sources):
//! * cash: Level 1 (coins or central-bank reserves), RSF 0 %;
//! * securities with an HQLA level: their market value (PV on the base discount curve) of the
//!   unencumbered part is HQLA; for the NSFR their carrying value by level, the encumbered part
//!   by how long it stays encumbered;
//! * other assets: contractual inflows due within 30 days by counterparty type (reverse repos by
//!   collateral level); for the NSFR their principal by residual maturity (< 6 months, 6 months
//!   to 1 year, ≥ 1 year) by counterparty type and risk weight;
//! * deposits: retail stable (insured and an established relationship or a transactional
//!   account) or less stable on the whole balance, whatever the term, unless a term deposit
//!   beyond 30 days cannot be withdrawn early (`deposit.no_early_withdrawal`, LCR40.16);
//!   operational; non-operational non-financial; financial;
//! * other funding: what falls due within 30 days (the whole balance when repayable on demand),
//!   secured by collateral level, else by counterparty type; for the NSFR by residual maturity;
//! * derivatives: net contractual flows within 30 days; in the NSFR their fair value by netting
//!   set (counterparty);
//! * facilities granted: the undrawn amount, by counterparty type and kind; RSF 5 %;
//! * equity: ASF 100 %; other non-interest items: RSF 100 % or ASF 0 %.
//!
//! A position that lacks an attribute its treatment needs gets the most conservative factor
//! and a note naming it, the attribute and the treatment applied — never dropped silently.

use std::collections::HashMap;

use almanac_actus::{ContractTerms, ContractType};
use almanac_balance_sheet::{
    Attributes, CounterpartyType, FacilityKind, HqlaLevel, Instrument, NonInterestItem, Position,
    Side as BsSide,
};
use almanac_market::MarketSnapshot;
use almanac_time::{Date, DateTime};

use super::factors::FactorTable;
use super::lcr::{HqlaStock, Section};
use super::nsfr::Side;
use crate::irrbb::assumptions::Treatment;
use crate::irrbb::flows::{self, Flows, Kind};
use crate::irrbb::Behaviour;

/// The scenario a classification is for, as the behaviour models see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenarioRef<'a> {
    /// Name (`base` for the base scenario): the assumption set's switches and core shares
    /// by scenario name.
    pub name: &'a str,
    /// The standardised IRRBB scenario it is, if one (its prepayment and redemption
    /// multipliers).
    pub standard: Option<almanac_scenario::irrbb::Scenario>,
    /// A scenario set's prepayment multiplier.
    pub prepayment_multiplier: Option<f64>,
    /// A scenario set's early-redemption multiplier.
    pub early_redemption_multiplier: Option<f64>,
}

impl ScenarioRef<'_> {
    /// The base scenario.
    pub const BASE: ScenarioRef<'static> = ScenarioRef {
        name: "base",
        standard: None,
        prepayment_multiplier: None,
        early_redemption_multiplier: None,
    };
}

/// What classifying needs besides the position.
#[derive(Clone)]
pub struct Context<'a> {
    /// The as-of date (flows are counted after it).
    pub as_of: Date,
    /// The base market: floating-rate projections and the discount curves of HQLA values.
    pub market: &'a MarketSnapshot,
    /// HQLA level of every position by contract id (for the collateral a contract names).
    pub levels: HashMap<String, HqlaLevel>,
    /// The factor table (HQLA factors of the counterbalancing capacity's flows).
    pub table: &'a FactorTable,
    /// The assumption set's behaviour, for the behavioural view.
    pub behaviour: Option<&'a Behaviour>,
    /// The scenario whose behaviour rates apply (the base unless a stress says otherwise).
    pub scenario: ScenarioRef<'a>,
}

impl<'a> Context<'a> {
    /// A context for `positions`.
    pub fn new(
        as_of: Date,
        market: &'a MarketSnapshot,
        positions: &[Position],
        table: &'a FactorTable,
    ) -> Self {
        let mut ctx = Context::without_levels(as_of, market, table);
        ctx.levels = positions
            .iter()
            .filter_map(|p| p.attributes.hqla_level.map(|l| (p.id().to_string(), l)))
            .collect();
        ctx
    }

    /// A context that knows no position's HQLA level: for positions that do not name their
    /// collateral by id ([`needs_levels`]).
    pub fn without_levels(as_of: Date, market: &'a MarketSnapshot, table: &'a FactorTable) -> Self {
        Context {
            as_of,
            market,
            levels: HashMap::new(),
            table,
            behaviour: None,
            scenario: ScenarioRef::BASE,
        }
    }
}

/// Whether classifying `p` needs the HQLA levels of other positions: it names its collateral
/// by id without giving the collateral's level.
pub fn needs_levels(p: &Position) -> bool {
    p.attributes.collateral_hqla_level.is_none() && !p.attributes.collateral.is_empty()
}

/// One position, classified.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classified {
    /// LCR amounts: section, category, amount (units, positive).
    pub lcr: Vec<(Section, &'static str, f64)>,
    /// NSFR amounts: side, category, amount (units, positive).
    pub nsfr: Vec<(Side, &'static str, f64)>,
    /// Contractual flows for the ladder: date and amount (bank's side: positive received).
    pub flows: Vec<(Date, f64)>,
    /// A balance repayable on demand (bank's side), shown apart in the ladder.
    pub open_maturity: f64,
    /// Changes of the counterbalancing capacity by date, HQLA category and market value
    /// before haircuts: an HQLA security's repayments leave it (the cash comes in as a flow),
    /// its encumbered part joins it when released.
    pub capacity_flows: Vec<(Date, &'static str, f64)>,
    /// Counterbalancing capacity at the as-of date besides the LCR's HQLA lines: category
    /// and value ([`CB_ELIGIBLE`], [`CB_ELIGIBLE_GROSS`], [`FACILITY_RECEIVED`]).
    pub capacity_stock: Vec<(&'static str, f64)>,
    /// The defaults applied for missing attributes, and what is not covered yet.
    pub notes: Vec<&'static str>,
    /// The behavioural view's flows and balance repayable on demand, when behaviour applies
    /// to the position (else they are the contractual ones).
    pub behavioural: Option<(Vec<(Date, f64)>, f64)>,
    /// What a liquidity stress acts on.
    pub role: Role,
    /// Collateral a downgrade of up to three notches calls (units, positive).
    pub downgrade_collateral: f64,
    /// The contractual flows as the behaviour models take them (days after the as-of date),
    /// and the signed balance at the as-of date: a stress's behaviour is recomputed from them.
    pub raw: Flows,
    /// See `raw`.
    pub signed_balance: f64,
    /// A derivative's netting set and fair value (bank's side, base market), for the NSFR.
    pub derivative: Option<(String, f64)>,
    /// Weighted maturity outflows (positive) and inflows (negative), units, by calendar day 1
    /// to 30 after the as-of date, for the US maturity-mismatch add-on (only when the table
    /// asks for it).
    pub maturity: Vec<(u8, f64)>,
    /// What unwinding the position's secured transactions maturing within 30 days would do to
    /// the HQLA stock, by level after haircuts (LCR30.34): encumbered collateral released,
    /// cash repaid on secured funding, cash received on secured lending.
    pub unwind: HqlaStock,
}

/// What a liquidity stress acts on in a position.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Role {
    /// Nothing: cash, HQLA securities (whose value a stress changes), derivatives, non-interest
    /// items.
    #[default]
    None,
    /// Funding by LCR outflow category, as shares of the balance (a retail deposit may be
    /// part stable, part less stable).
    Funding {
        /// First category and its share.
        first: (&'static str, f64),
        /// Second category and its share, if any.
        second: Option<(&'static str, f64)>,
        /// Whether it can be withdrawn before maturity: repayable on demand, or retail.
        withdrawable: bool,
        /// Balance at the as-of date (positive).
        balance: f64,
    },
    /// An asset whose inflows have an LCR inflow category.
    Asset {
        /// The category.
        category: &'static str,
    },
    /// A committed facility granted, by LCR outflow category, with its undrawn amount.
    Facility {
        /// The category.
        category: &'static str,
        /// Undrawn amount (positive).
        undrawn: f64,
    },
}

impl Role {
    /// Whether a scenario's market can change the position's flows or value: floating rates,
    /// what the capacity holds at market value (`valued`: securities, eligible credit claims),
    /// derivatives.
    pub fn market_sensitive(t: &ContractTerms, valued: bool) -> bool {
        valued
            || is_derivative(t.contract_type)
            || t.cycle_of_rate_reset.is_some()
            || t.market_object_code_of_rate_reset.is_some()
            || t.array_cycle_of_rate_reset.is_some()
    }
}

/// Counterbalancing capacity of central-bank eligible assets that are not HQLA, after the
/// central bank's haircut.
pub const CB_ELIGIBLE: &str = "cb_eligible";
/// The same before the haircut (factor 0 in the capacity: what a stress's added haircut
/// applies to).
pub const CB_ELIGIBLE_GROSS: &str = "cb_eligible_gross";
/// Counterbalancing capacity of committed facilities received, undrawn.
pub const FACILITY_RECEIVED: &str = "facility_received";

const SIX_MONTHS: u32 = 183;
const ONE_YEAR: u32 = 365;
const THIRTY_DAYS: u32 = 30;

/// Classifies one position.
///
/// # Errors
/// A contract the ACTUS engine cannot evaluate on the base market, or a currency without a
/// discount curve; said in words.
pub fn classify(p: &Position, ctx: &Context<'_>) -> Result<Classified, String> {
    let mut c = Classified::default();
    match &p.instrument {
        Instrument::NonInterest(n) => non_interest(p, n, &mut c),
        Instrument::Contract(t) => contract(p, t, ctx, &mut c)?,
    }
    if p.currency().is_empty() {
        note(
            &mut c,
            p,
            "position without a currency: counted in the reporting currency",
        );
    }
    if let Some(x) = p.attributes.downgrade_collateral.filter(|x| *x > 0.0) {
        c.lcr.push((Section::Outflow, "downgrade_triggers", x));
        c.downgrade_collateral = x;
    }
    Ok(c)
}

/// The behavioural flows and balance repayable on demand of a classified contract in another
/// scenario (the context's), from its contractual flows: `None` when no rule applies.
pub fn behavioural_in(
    p: &Position,
    c: &Classified,
    ctx: &Context<'_>,
) -> Option<(Vec<(Date, f64)>, f64)> {
    match (&p.instrument, ctx.behaviour) {
        (Instrument::Contract(t), Some(b)) => {
            behavioural(t, b, &c.raw, c.signed_balance, ctx.as_of, &ctx.scenario)
        }
        _ => None,
    }
}

fn note(c: &mut Classified, _p: &Position, what: &'static str) {
    c.notes.push(what);
}

fn non_interest(p: &Position, n: &NonInterestItem, c: &mut Classified) {
    let a = &p.attributes;
    match n.side {
        BsSide::Equity => c.nsfr.push((Side::Asf, "capital", n.amount)),
        BsSide::Liability => c.nsfr.push((Side::Asf, "other", n.amount)),
        BsSide::Asset => c.nsfr.push((Side::Rsf, "other", n.amount)),
        BsSide::OffBalance => match a.facility {
            Some(f) if f.received => {
                if f.committed {
                    c.capacity_stock.push((FACILITY_RECEIVED, n.amount.abs()));
                } else {
                    note(
                        c,
                        p,
                        "uncommitted facility received: not counted in the counterbalancing \
                         capacity",
                    );
                }
            }
            Some(f) if f.committed => {
                let cat = match (a.counterparty_type, f.kind) {
                    (Some(CounterpartyType::Retail | CounterpartyType::Sme), _) => {
                        "facility_credit_retail"
                    }
                    (
                        Some(
                            CounterpartyType::NonFinancialCorporate
                            | CounterpartyType::SovereignCentralBankPse,
                        ),
                        FacilityKind::Credit,
                    ) => "facility_credit_non_financial",
                    (
                        Some(
                            CounterpartyType::NonFinancialCorporate
                            | CounterpartyType::SovereignCentralBankPse,
                        ),
                        FacilityKind::Liquidity,
                    ) => "facility_liquidity_non_financial",
                    (Some(CounterpartyType::CreditInstitution), _) => "facility_bank",
                    (Some(CounterpartyType::OtherFinancial), FacilityKind::Credit) => {
                        "facility_credit_other_financial"
                    }
                    (Some(CounterpartyType::OtherFinancial), FacilityKind::Liquidity) => {
                        "facility_liquidity_other_financial"
                    }
                    (None, _) => {
                        note(
                            c,
                            p,
                            "facility without a counterparty type: drawn at 100 % \
                             (facility_other)",
                        );
                        "facility_other"
                    }
                };
                c.lcr.push((Section::Outflow, cat, n.amount));
                c.nsfr.push((Side::Rsf, "facilities_undrawn", n.amount));
                c.role = Role::Facility {
                    category: cat,
                    undrawn: n.amount.abs(),
                };
            }
            Some(_) => note(
                c,
                p,
                "uncommitted facility: other contingent funding (national discretion), \
                 not counted",
            ),
            None => note(
                c,
                p,
                "off-balance item that is not a facility: not counted in the LCR or NSFR",
            ),
        },
    }
}

/// The contract's contractual flows on the base market.
fn contract_flows(t: &ContractTerms, ctx: &Context<'_>) -> Result<Flows, String> {
    let mut f = Flows::default();
    let ccy = |_: &str| Some(0u16);
    let as_of = DateTime::midnight(ctx.as_of);
    let mut sink = flows::Reducer::new(t, as_of, &ccy, 0.0, &mut f);
    crate::irrbb::run::evaluate_on_into(t, ctx.market, &mut sink)?;
    sink.finish()?;
    Ok(f)
}

fn is_derivative(t: Option<ContractType>) -> bool {
    use ContractType::*;
    matches!(
        t,
        Some(Swppv | Swaps | Fxout | Capfl | Optns | Futur | Ceg | Cec | Bcs)
    )
}

fn contract(
    p: &Position,
    t: &ContractTerms,
    ctx: &Context<'_>,
    c: &mut Classified,
) -> Result<(), String> {
    let a = &p.attributes;
    let sign = t
        .contract_role
        .map_or(1.0, almanac_actus::ContractRole::sign);
    if t.contract_type == Some(ContractType::Csh) {
        let amount = sign * t.notional_principal.unwrap_or(0.0);
        let cat = if a.asset_class.as_deref() == Some("central_bank_reserves") {
            "l1_central_bank_reserves"
        } else {
            "l1_cash"
        };
        c.lcr.push((Section::Hqla, cat, amount.max(0.0)));
        c.nsfr
            .push((Side::Rsf, "cash_and_reserves", amount.max(0.0)));
        return Ok(());
    }
    let on_demand = matches!(t.contract_type, Some(ContractType::Ump | ContractType::Clm))
        && t.maturity_date.is_none();
    // A balance repayable on demand has no scheduled flows (ACTUS needs a horizon for it):
    // its balance is its state at the as-of date, as the IRRBB engine takes it.
    let (f, on_demand_balance) = if on_demand {
        let mut events = Vec::new();
        let as_of = DateTime::midnight(ctx.as_of);
        let b = crate::irrbb::run::on_demand_balance(t, ctx.market, as_of, &mut events)?;
        (Flows::default(), b.abs())
    } else {
        (contract_flows(t, ctx)?, 0.0)
    };
    for x in &f.flows {
        c.flows.push((ctx.as_of.add_days(x.day as i32), x.amount));
    }
    // The balance: a deposit's repayable on demand, else the outstanding at the as-of date.
    let balance = if on_demand {
        on_demand_balance
    } else {
        f.notional_at_as_of.abs()
    };
    if on_demand {
        c.open_maturity += if sign > 0.0 { balance } else { -balance };
    }
    if let Some(b) = ctx.behaviour {
        c.behavioural = behavioural(t, b, &f, sign * balance, ctx.as_of, &ctx.scenario);
    }
    if is_derivative(t.contract_type) {
        let net: f64 = f
            .flows
            .iter()
            .filter(|x| x.day <= THIRTY_DAYS)
            .map(|x| x.amount)
            .sum();
        if net < 0.0 {
            c.lcr.push((Section::Outflow, "derivatives_net", -net));
        } else if net > 0.0 {
            c.lcr.push((Section::Inflow, "derivatives_net", net));
        }
        // The NSFR nets fair values by netting set: the counterparty's, else the contract's.
        let value = market_value(t, &f, ctx)?;
        let set = match &a.counterparty_id {
            Some(id) => format!("counterparty {id}"),
            None => {
                note(
                    c,
                    p,
                    "derivative without a counterparty_id: its own netting set in the NSFR",
                );
                format!("contract {}", p.id())
            }
        };
        c.derivative = Some((set, value));
        c.raw = f;
        c.signed_balance = sign * balance;
        return Ok(());
    }
    // Principal still due by residual-maturity bucket: < 6 months, 6 months – 1 year,
    // ≥ 1 year (a balance with no repayment scheduled counts as ≥ 1 year, or < 6 months when
    // repayable on demand).
    let mut principal = [0.0f64; 3];
    let mut scheduled = 0.0;
    for x in f.flows.iter().filter(|x| x.kind == Kind::Repayment) {
        let k = if x.day < SIX_MONTHS {
            0
        } else if x.day < ONE_YEAR {
            1
        } else {
            2
        };
        principal[k] += x.amount.abs();
        scheduled += x.amount.abs();
    }
    let unscheduled = (balance - scheduled).max(0.0);
    principal[if on_demand { 0 } else { 2 }] += unscheduled;
    // Due within 30 days in the contract's direction (principal and interest).
    let due_30: f64 = f
        .flows
        .iter()
        .filter(|x| x.day <= THIRTY_DAYS && x.amount * sign > 0.0)
        .map(|x| x.amount.abs())
        .sum();
    let collateral = a.collateral_hqla_level.or_else(|| {
        a.collateral
            .iter()
            .find_map(|id| ctx.levels.get(id.as_str()).copied())
    });
    if sign > 0.0 {
        asset(p, t, a, ctx, &f, balance, principal, due_30, collateral, c)?;
    } else {
        let repaid_30 = f
            .flows
            .iter()
            .any(|x| x.kind == Kind::Repayment && x.day <= THIRTY_DAYS);
        let term = if on_demand {
            Term::OnDemand
        } else if repaid_30 {
            Term::Within30
        } else {
            Term::Beyond30
        };
        liability(p, a, balance, term, principal, due_30, collateral, c);
    }
    if ctx.table.caps.maturity_mismatch_addon && !on_demand {
        maturity_profile(c, &f, ctx.table);
    }
    c.raw = f;
    c.signed_balance = sign * balance;
    Ok(())
}

/// The counterbalancing capacity's changes from a security or credit claim worth `value` on a
/// `balance` of which `free` is unencumbered: each repayment takes its share of the free
/// part's value out of the stock (the cash is a ladder inflow); a release of the encumbered
/// part adds that part's value when it comes. Recorded under each `(category, multiplier)`.
#[allow(clippy::too_many_arguments)]
fn capacity_flows(
    c: &mut Classified,
    f: &Flows,
    ctx: &Context<'_>,
    a: &Attributes,
    value: f64,
    balance: f64,
    free: f64,
    encumbered: f64,
    categories: &[(&'static str, f64)],
) {
    if balance <= 0.0 {
        return;
    }
    let per_unit = value.max(0.0) / balance;
    let mut push = |date: Date, amount: f64| {
        for &(cat, m) in categories {
            c.capacity_flows.push((date, cat, amount * m));
        }
    };
    for x in f.flows.iter().filter(|x| x.kind == Kind::Repayment) {
        push(
            ctx.as_of.add_days(x.day as i32),
            -x.amount.abs() * per_unit * free,
        );
    }
    if let Some(until) = a.encumbrance.as_ref().and_then(|e| e.until) {
        if until > ctx.as_of && encumbered > 0.0 {
            let after = |x: &&crate::irrbb::flows::Flow| {
                x.kind == Kind::Repayment && ctx.as_of.add_days(x.day as i32) > until
            };
            // What is still outstanding at the release, pro rata encumbered.
            let left: f64 = f.flows.iter().filter(after).map(|x| x.amount.abs()).sum();
            push(until, left * per_unit * (1.0 - free));
            for x in f.flows.iter().filter(after) {
                push(
                    ctx.as_of.add_days(x.day as i32),
                    -x.amount.abs() * per_unit * (1.0 - free),
                );
            }
        }
    }
}

/// The encumbered amount of a `balance` (at most the balance) and the unencumbered share.
fn encumbrance(a: &Attributes, balance: f64) -> (f64, f64) {
    let encumbered = a
        .encumbrance
        .as_ref()
        .map_or(0.0, |e| e.amount.abs().min(balance));
    let free = if balance > 0.0 {
        (balance - encumbered) / balance
    } else {
        1.0
    };
    (encumbered, free)
}

/// The market value of a contract's future flows on the base discount curve of `t`'s currency.
fn market_value(t: &ContractTerms, f: &Flows, ctx: &Context<'_>) -> Result<f64, String> {
    let ccy = t.currency.as_deref().unwrap_or("");
    let curve = ctx
        .market
        .discount_curve(ccy)
        .map_err(|_| format!("no discount curve for currency {ccy:?}"))?;
    Ok(f.flows
        .iter()
        .map(|x| x.amount * curve.discount_at(ctx.as_of.add_days(x.day as i32)))
        .sum())
}

#[allow(clippy::too_many_arguments)]
fn asset(
    p: &Position,
    t: &ContractTerms,
    a: &Attributes,
    ctx: &Context<'_>,
    f: &Flows,
    balance: f64,
    principal: [f64; 3],
    due_30: f64,
    collateral: Option<HqlaLevel>,
    c: &mut Classified,
) -> Result<(), String> {
    let class = a.asset_class.as_deref();
    if let Some(level @ (HqlaLevel::L1 | HqlaLevel::L2a | HqlaLevel::L2b)) = a.hqla_level {
        let (encumbered, free) = encumbrance(a, balance);
        // Market value: the PV of the future flows on the base discount curve.
        let value = market_value(t, f, ctx)?;
        let (hqla, rsf) = match (level, class) {
            (HqlaLevel::L1, Some("covered_bond")) => ("l1_ehqcb", "l1_ehqcb_unencumbered"),
            (HqlaLevel::L1, _) => ("l1_securities", "l1_unencumbered"),
            (HqlaLevel::L2a, _) => ("l2a", "l2a_unencumbered"),
            (_, Some("rmbs")) => ("l2b_rmbs", "l2b_unencumbered"),
            (_, Some("equity")) => ("l2b_equity", "l2b_unencumbered"),
            (_, Some("sovereign")) => ("l2b_sovereign", "l2b_unencumbered"),
            (_, Some("covered_bond")) => ("l2b_hq_covered_bond", "l2b_unencumbered"),
            (_, Some("abs_residential")) => ("l2b_abs_residential", "l2b_unencumbered"),
            (_, Some("abs_other")) => ("l2b_abs_other", "l2b_unencumbered"),
            _ => ("l2b_corporate", "l2b_unencumbered"),
        };
        c.lcr.push((Section::Hqla, hqla, (value * free).max(0.0)));
        c.nsfr.push((Side::Rsf, rsf, balance - encumbered));
        capacity_flows(
            c,
            f,
            ctx,
            a,
            value,
            balance,
            free,
            encumbered,
            &[(hqla, 1.0)],
        );
        if encumbered > 0.0 {
            // NSF30.20: encumbered ≥ 1 year 100 %; 6 months – 1 year at least 50 %; less than
            // 6 months as unencumbered. Without an end date: ≥ 1 year.
            let days = a
                .encumbrance
                .as_ref()
                .and_then(|e| e.until)
                .map(|u| ctx.as_of.days_until(u));
            let cat = match days {
                Some(d) if d < SIX_MONTHS as i32 => rsf,
                Some(d) if d < ONE_YEAR as i32 => "encumbered_6m_to_1y",
                _ => "other",
            };
            c.nsfr.push((Side::Rsf, cat, encumbered));
        }
        return Ok(());
    }
    // Eligible at the central bank without being HQLA: capacity at market value less the
    // central bank's haircut (tracked gross too, so a stress can add to the haircut).
    if a.central_bank_eligible {
        match a.central_bank_haircut {
            Some(h) => {
                let value = market_value(t, f, ctx)?;
                let (encumbered, free) = encumbrance(a, balance);
                let free_value = (value * free).max(0.0);
                c.capacity_stock.push((CB_ELIGIBLE, free_value * (1.0 - h)));
                c.capacity_stock.push((CB_ELIGIBLE_GROSS, free_value));
                capacity_flows(
                    c,
                    f,
                    ctx,
                    a,
                    value,
                    balance,
                    free,
                    encumbered,
                    &[(CB_ELIGIBLE, 1.0 - h), (CB_ELIGIBLE_GROSS, 1.0)],
                );
            }
            None => note(
                c,
                p,
                "central-bank eligible without central_bank_haircut: not counted in the \
                 counterbalancing capacity",
            ),
        }
    }
    // Secured lending maturing within 30 days, unwound (LCR30.34): its cash comes back into
    // Level 1 and its collateral leaves the stock.
    if let Some(level) = collateral {
        unwind(c, level, due_30, -1.0);
    }
    // Inflows due within 30 days.
    let cp = a.counterparty_type;
    let on_demand = c.open_maturity > 0.0;
    let financial = matches!(
        cp,
        Some(CounterpartyType::CreditInstitution | CounterpartyType::OtherFinancial)
    );
    let operational = financial && a.deposit.is_some_and(|d| d.operational);
    // Operational deposits placed at other institutions (Basel and US 0 %, EU symmetric or
    // 5 %) and loans without a contractual maturity (Basel and US none, EU 20 %) have their
    // own categories, on the whole balance.
    let own = if operational {
        Some("operational_placed")
    } else if on_demand {
        Some("open_maturity_loans")
    } else {
        None
    };
    let due_30 = if own.is_some() && on_demand {
        balance
    } else {
        due_30
    };
    let inflow = own.or(match collateral {
        Some(HqlaLevel::L1) => Some("reverse_repo_l1"),
        Some(HqlaLevel::L2a) => Some("reverse_repo_l2a"),
        Some(HqlaLevel::L2b) => Some("reverse_repo_l2b_other"),
        Some(HqlaLevel::None) => Some("reverse_repo_other"),
        None => match (class, cp) {
            (Some(_), _) if a.hqla_level == Some(HqlaLevel::None) => Some("securities_maturing"),
            (_, Some(CounterpartyType::Retail | CounterpartyType::Sme)) => Some("retail"),
            (
                _,
                Some(
                    CounterpartyType::NonFinancialCorporate
                    | CounterpartyType::SovereignCentralBankPse,
                ),
            ) => Some("non_financial_wholesale"),
            (_, Some(CounterpartyType::CreditInstitution | CounterpartyType::OtherFinancial)) => {
                Some("financial")
            }
            (_, None) => None,
        },
    });
    if let Some(cat) = inflow {
        c.role = Role::Asset { category: cat };
    }
    match inflow {
        Some(cat) if due_30 > 0.0 => c.lcr.push((Section::Inflow, cat, due_30)),
        Some(_) => {}
        None if due_30 > 0.0 => note(
            c,
            p,
            "asset without a counterparty type: its 30-day inflows are not counted",
        ),
        None => {}
    }
    // NSFR by residual maturity.
    let [short, mid, long] = principal;
    if operational {
        c.nsfr.push((Side::Rsf, "operational_placed", short + mid));
        c.nsfr.push((Side::Rsf, "other", long));
    } else if financial {
        let short_cat = if collateral == Some(HqlaLevel::L1) {
            "financial_loans_l1_secured_under_6m"
        } else {
            "financial_loans_under_6m"
        };
        c.nsfr.push((Side::Rsf, short_cat, short));
        c.nsfr.push((Side::Rsf, "financial_loans_6m_to_1y", mid));
        c.nsfr.push((Side::Rsf, "other", long));
    } else {
        if cp.is_none() {
            note(
                c,
                p,
                "asset without a counterparty type: RSF 50 % under a year, 100 % beyond",
            );
        }
        c.nsfr.push((Side::Rsf, "non_hqla_under_1y", short + mid));
        let long_cat = match (cp, a.risk_weight) {
            (None, _) => "other",
            (_, Some(rw)) if rw <= 0.35 && class == Some("residential_mortgage") => {
                "mortgages_1y_low_rw"
            }
            (_, Some(rw)) if rw <= 0.35 => "loans_1y_low_rw",
            (_, Some(_)) => "loans_1y_high_rw",
            (_, None) => {
                if long > 0.0 {
                    note(
                        c,
                        p,
                        "loan of a year or more without a risk weight: RSF 85 % \
                         (loans_1y_high_rw)",
                    );
                }
                "loans_1y_high_rw"
            }
        };
        c.nsfr.push((Side::Rsf, long_cat, long));
    }
    Ok(())
}

/// The outflow categories of the US maturity-mismatch add-on (12 CFR 249.30(b): unsecured
/// wholesale, secured funding, other contractual outflows) and its inflow categories
/// (249.33(c)–(f): retail, unsecured wholesale, securities, secured lending).
fn in_addon(category: &str, outflow: bool) -> bool {
    if outflow {
        matches!(
            category,
            "non_operational_non_financial"
                | "non_operational_non_financial_insured"
                | "unsecured_financial"
                | "other_contractual"
        ) || category.starts_with("secured_")
    } else {
        matches!(
            category,
            "retail" | "non_financial_wholesale" | "financial" | "securities_maturing"
        ) || category.starts_with("reverse_repo_")
    }
}

/// A term position's weighted maturity flows within 30 days for the add-on: funding's
/// repayments at its categories' run-off rates, assets' receipts at their inflow rate.
fn maturity_profile(c: &mut Classified, f: &Flows, table: &FactorTable) {
    let rate = match c.role {
        Role::Funding { first, second, .. } => std::iter::once(first)
            .chain(second)
            .filter(|(cat, _)| in_addon(cat, true))
            .map(|(cat, share)| share * table.outflow.get(cat).map_or(0.0, |x| x.factor))
            .sum::<f64>(),
        Role::Asset { category } if in_addon(category, false) => {
            -table.inflow.get(category).map_or(0.0, |x| x.factor)
        }
        _ => 0.0,
    };
    if rate == 0.0 {
        return;
    }
    for x in f.flows.iter().filter(|x| x.day <= THIRTY_DAYS) {
        // Outflows of funding (paid), inflows of assets (received).
        let amount = if rate > 0.0 { -x.amount } else { x.amount };
        if amount > 0.0 {
            c.maturity.push((x.day.max(1) as u8, amount * rate));
        }
    }
}

/// When funding can fall due.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    /// Repayable on demand.
    OnDemand,
    /// Principal repaid within 30 days.
    Within30,
    /// No principal repaid within 30 days.
    Beyond30,
}

#[allow(clippy::too_many_arguments)]
fn liability(
    p: &Position,
    a: &Attributes,
    balance: f64,
    term: Term,
    principal: [f64; 3],
    due_30: f64,
    collateral: Option<HqlaLevel>,
    c: &mut Classified,
) {
    let on_demand = term == Term::OnDemand;
    let cp = a.counterparty_type;
    let [short, mid, long] = principal;
    let under_1y = short + mid;
    // Funding falling due within 30 days: the whole balance when repayable on demand.
    let falling_due = if on_demand { balance } else { due_30 };
    let deposit = a.deposit;
    let retail = matches!(cp, Some(CounterpartyType::Retail | CounterpartyType::Sme));
    let funding = |first: (&'static str, f64), second: Option<(&'static str, f64)>| Role::Funding {
        first,
        second,
        withdrawable: on_demand || retail,
        balance,
    };
    if let Some(level) = collateral.filter(|_| !retail) {
        let cat = match level {
            HqlaLevel::L1 => "secured_l1",
            HqlaLevel::L2a => "secured_l2a",
            HqlaLevel::L2b => "secured_l2b_other",
            HqlaLevel::None => "secured_other",
        };
        c.lcr.push((Section::Outflow, cat, falling_due));
        c.role = funding((cat, 1.0), None);
        // Unwound (LCR30.34): the cash repaid within 30 days leaves Level 1, the collateral
        // comes back.
        unwind(c, level, due_30, 1.0);
    } else if retail {
        let d = deposit.unwrap_or_default();
        let established = d.stable_relationship || d.transactional;
        let stable = match (d.insured, d.insured_amount, established) {
            (true, Some(x), true) => x.abs().min(balance),
            (true, None, true) => balance,
            _ => 0.0,
        };
        if deposit.is_none() {
            note(
                c,
                p,
                "retail funding without deposit attributes: less stable",
            );
        }
        // LCR40.16: a term deposit beyond 30 days that cannot be withdrawn early does not run
        // off (its own category: 0 % in Basel, the retail rate in the US table); it is repaid
        // at maturity in stresses.
        let locked = d.no_early_withdrawal && term == Term::Beyond30;
        if locked {
            c.lcr
                .push((Section::Outflow, "retail_term_beyond_30d", balance));
        } else if stable > 0.0 {
            c.lcr.push((Section::Outflow, "retail_stable", stable));
        }
        if balance > stable && !locked {
            c.lcr
                .push((Section::Outflow, "retail_less_stable", balance - stable));
        }
        // NSFR: the parts under a year as stable or less stable, shared pro rata.
        let share = if balance > 0.0 { stable / balance } else { 0.0 };
        c.role = if locked {
            Role::Funding {
                first: ("retail_term_beyond_30d", 1.0),
                second: None,
                withdrawable: false,
                balance,
            }
        } else if share >= 1.0 {
            funding(("retail_stable", 1.0), None)
        } else if share > 0.0 {
            funding(
                ("retail_stable", share),
                Some(("retail_less_stable", 1.0 - share)),
            )
        } else {
            funding(("retail_less_stable", 1.0), None)
        };
        c.nsfr.push((Side::Asf, "retail_stable", under_1y * share));
        c.nsfr
            .push((Side::Asf, "retail_less_stable", under_1y * (1.0 - share)));
        c.nsfr.push((Side::Asf, "funding_1y_plus", long));
        return;
    } else if deposit.is_some_and(|d| d.operational) {
        let insured = deposit.filter(|d| d.insured).map_or(0.0, |d| {
            d.insured_amount.map_or(balance, |x| x.abs().min(balance))
        });
        if insured > 0.0 {
            c.lcr
                .push((Section::Outflow, "operational_insured", insured));
        }
        c.lcr
            .push((Section::Outflow, "operational", balance - insured));
        let share = if balance > 0.0 {
            insured / balance
        } else {
            0.0
        };
        c.role = if share > 0.0 {
            funding(
                ("operational_insured", share),
                Some(("operational", 1.0 - share)),
            )
        } else {
            funding(("operational", 1.0), None)
        };
        c.nsfr.push((Side::Asf, "operational", under_1y));
        c.nsfr.push((Side::Asf, "funding_1y_plus", long));
        return;
    } else {
        let cat = match cp {
            Some(
                CounterpartyType::NonFinancialCorporate | CounterpartyType::SovereignCentralBankPse,
            ) => {
                if deposit.is_some_and(|d| d.insured && d.insured_amount.is_none()) {
                    "non_operational_non_financial_insured"
                } else {
                    "non_operational_non_financial"
                }
            }
            Some(CounterpartyType::CreditInstitution | CounterpartyType::OtherFinancial) => {
                "unsecured_financial"
            }
            Some(CounterpartyType::Retail | CounterpartyType::Sme) => unreachable!("retail above"),
            None => {
                note(
                    c,
                    p,
                    "funding without a counterparty type: run off at 100 % \
                     (unsecured_financial), ASF 0 % under a year",
                );
                "unsecured_financial"
            }
        };
        c.lcr.push((Section::Outflow, cat, falling_due));
        c.role = funding((cat, 1.0), None);
    }
    match cp {
        Some(
            CounterpartyType::NonFinancialCorporate | CounterpartyType::SovereignCentralBankPse,
        ) => {
            c.nsfr.push((Side::Asf, "non_financial_under_1y", under_1y));
        }
        Some(CounterpartyType::CreditInstitution | CounterpartyType::OtherFinancial) => {
            c.nsfr.push((Side::Asf, "financial_under_6m", short));
            c.nsfr.push((Side::Asf, "funding_6m_to_1y", mid));
        }
        _ => c.nsfr.push((Side::Asf, "other", under_1y)),
    }
    c.nsfr.push((Side::Asf, "funding_1y_plus", long));
}

/// The unwind of a secured transaction maturing within 30 days (LCR30.34): `cash` (due within
/// 30 days) leaves Level 1 and collateral of `level` worth the same after haircut comes back
/// (`direction` 1: secured funding), or the reverse (−1: secured lending).
fn unwind(c: &mut Classified, level: HqlaLevel, cash: f64, direction: f64) {
    use super::factors::Level;
    if cash <= 0.0 {
        return;
    }
    c.unwind.add(Level::L1, -direction * cash);
    let back = match level {
        HqlaLevel::L1 => Some(Level::L1),
        HqlaLevel::L2a => Some(Level::L2a),
        HqlaLevel::L2b => Some(Level::L2b),
        HqlaLevel::None => None,
    };
    if let Some(l) = back {
        c.unwind.add(l, direction * cash);
    }
}

/// The behavioural flows of a contract (base-scenario rates of the assumption set, as the IRRBB
/// engine's behavioural view): prepayment, early redemption, or a non-maturity deposit's core
/// slotted by its profile and the rest overnight; `None` when no rule applies. `balance` is the
/// signed balance at the as-of date.
fn behavioural(
    t: &ContractTerms,
    b: &Behaviour,
    f: &Flows,
    balance: f64,
    as_of: Date,
    s: &ScenarioRef<'_>,
) -> Option<(Vec<(Date, f64)>, f64)> {
    let mut out = Flows::default();
    match b.treatment(t) {
        Treatment::Contractual => return None,
        Treatment::Prepay(k) => {
            let conv = b.prepayment.values().nth(k).map(|r| r.convention)?;
            let cpr = b.cpr_in(k, s.name, s.standard, s.prepayment_multiplier);
            flows::prepay(f, cpr, conv, &mut out);
        }
        Treatment::Redeem(k) => {
            let tdrr = b.tdrr_in(k, s.name, s.standard, s.early_redemption_multiplier);
            flows::redeem_early(f, tdrr, &mut out);
        }
        Treatment::Nmd(k) => {
            let rule = b.nmd.values().nth(k)?;
            let mut slots: Vec<(u32, f64)> = rule
                .profile
                .iter()
                .map(|(y, w)| ((y * 365.0).round() as u32, *w))
                .collect();
            slots.sort_by_key(|s| s.0);
            flows::nmd(
                balance,
                0,
                t.nominal_interest_rate.unwrap_or(0.0),
                0.0,
                b.core_share_in(k, s.name),
                &slots,
                &mut out,
            );
        }
    }
    let dated = out
        .flows
        .iter()
        .map(|x| (as_of.add_days(x.day as i32), x.amount))
        .collect();
    Some((dated, 0.0))
}
