//! Tests of the automatic options: the Bachelier formula by hand, the strip against the ACTUS
//! engine's capped flows, the KAO's sign and volatility, and the run's errors and warnings.

use super::*;
use crate::irrbb::engine::{analyse, Options};
use almanac_market::{Curve, CurveInterpolation, IndexDefinition, VolatilityModel};
use almanac_scenario::irrbb::Scenario;
use almanac_scenario::standard::{apply as shock, StandardSpec};
use almanac_time::{Date, DayCount};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// The normal distribution at known points.
#[test]
fn normal_cdf_known_values() {
    for (d, p) in [
        (0.0, 0.5),
        (1.0, 0.841_344_746_068_542_9),
        (-1.96, 0.024_997_895_148_220_435),
        (3.0, 0.998_650_101_968_369_9),
        (-5.0, 2.866_515_718_791_939e-7),
        (-8.0, 6.220_960_574_271_785e-16),
    ] {
        assert!(
            close(normal_cdf(d), p, 1e-13),
            "{d}: {} vs {p}",
            normal_cdf(d)
        );
    }
    // Its slope is the density.
    let (d, h) = (-1.5 * std::f64::consts::SQRT_2, 1e-7);
    let slope = (normal_cdf(d + h) - normal_cdf(d - h)) / (2.0 * h);
    assert!(
        close(slope, normal_pdf(d), 1e-7),
        "{slope} vs {}",
        normal_pdf(d)
    );
}

/// Bachelier by hand: at the money `σ√τ/√(2π)`; in the money with `N(1)` and `n(1)`; put-call
/// parity `caplet − floorlet = F − K`; intrinsic without volatility; the all-in conversion.
#[test]
fn bachelier_by_hand() {
    let (sigma, tau) = (0.009_f64, 2.0_f64);
    let sd = sigma * tau.sqrt();
    let atm = sd / (2.0 * std::f64::consts::PI).sqrt();
    assert!(close(
        bachelier(OptionKind::Cap, 0.02, 0.02, sd),
        atm,
        1e-15
    ));
    assert!(close(
        bachelier(OptionKind::Floor, 0.02, 0.02, sd),
        atm,
        1e-15
    ));
    // F − K = sd: d = 1, (F−K)·N(1) + sd·n(1) = sd·(0.8413447460685429 + 0.24197072451914337).
    let f = 0.02 + sd;
    let by_hand = sd * (0.841_344_746_068_542_9 + 0.241_970_724_519_143_37);
    assert!(close(
        bachelier(OptionKind::Cap, f, 0.02, sd),
        by_hand,
        1e-14
    ));
    for (f, k) in [(0.021, 0.03), (-0.004, 0.0), (0.05, 0.01), (0.02, 0.02)] {
        let parity = bachelier(OptionKind::Cap, f, k, sd) - bachelier(OptionKind::Floor, f, k, sd);
        assert!((parity - (f - k)).abs() < 1e-17, "{f} {k}");
        assert_eq!(bachelier(OptionKind::Cap, f, k, 0.0), (f - k).max(0.0));
    }
    // A cap at 4.5 % on 0.8 · index + 1 %: 0.8 caplets at (4.5 % − 1 %)/0.8; with m < 0 the
    // cap is a floor on the index.
    let x = all_in_option(OptionKind::Cap, 0.045, 0.8, 0.01, 0.04, sd);
    assert!(close(
        x,
        0.8 * bachelier(OptionKind::Cap, 0.04, (0.045 - 0.01) / 0.8, sd),
        1e-15
    ));
    let y = all_in_option(OptionKind::Cap, 0.01, -0.5, 0.03, 0.02, sd);
    assert!(close(
        y,
        0.5 * bachelier(OptionKind::Floor, 0.02, 0.04, sd),
        1e-15
    ));
    assert_eq!(
        all_in_option(OptionKind::Floor, 0.02, 0.0, 0.01, 0.5, sd),
        0.01
    );
}

/// A market with a discount curve `EUR-ESTR`, a steeper forecast curve `EUR-FWD`, indices
/// `IDX` (6M, A360) and `IDX1Y` (1Y, A365) on it, and a normal volatility `vol` for both.
fn market(vol: f64) -> MarketSnapshot {
    let mut m = crate::irrbb::testkit::eur_market(
        "EUR-ESTR",
        CurveInterpolation::LinearZero,
        &[0.5, 1.0, 3.0, 5.0, 10.0],
        &[0.018, 0.019, 0.021, 0.023, 0.026],
    );
    let as_of = crate::irrbb::testkit::AS_OF;
    m.insert_curve(
        Curve::from_zero_rates(
            "EUR-FWD",
            "EUR",
            as_of,
            DayCount::Act365Fixed,
            CurveInterpolation::LinearZero,
            vec![0.5, 1.0, 3.0, 5.0, 10.0],
            vec![0.016, 0.02, 0.026, 0.031, 0.036],
        )
        .unwrap(),
    )
    .unwrap();
    for (name, tenor, dc) in [
        ("IDX", "6M", DayCount::Act360),
        ("IDX1Y", "1Y", DayCount::Act365Fixed),
    ] {
        m.insert_index(IndexDefinition {
            name: name.into(),
            currency: "EUR".into(),
            forecast_curve: "EUR-FWD".into(),
            tenor: tenor.parse().unwrap(),
            day_count: dc,
        })
        .unwrap();
        m.insert_volatility(Volatility::flat(name, VolatilityModel::Normal, vol).unwrap())
            .unwrap();
    }
    m
}

fn as_of() -> DateTime {
    DateTime::midnight(crate::irrbb::testkit::AS_OF)
}

/// A running floater on `IDX` with the given type, role and extra terms (caps, floors).
fn floater(id: &str, kind: &str, role: &str, reset: &str, extra: &str) -> ContractTerms {
    let amort = if kind == "LAM" {
        r#","cycleAnchorDateOfPrincipalRedemption":"2026-07-15","cycleOfPrincipalRedemption":"P1YL1","nextPrincipalRedemptionPayment":100000"#
    } else {
        ""
    };
    serde_json::from_str(&format!(
        r#"{{"contractType":"{kind}","contractID":"{id}","contractRole":"{role}","currency":"EUR",
        "statusDate":"2025-12-31","initialExchangeDate":"2025-07-15","maturityDate":"2033-07-15",
        "notionalPrincipal":1000000,"nominalInterestRate":0.03,"dayCountConvention":"A360",
        "cycleAnchorDateOfInterestPayment":"2026-01-15","cycleOfInterestPayment":"P6ML1",
        "cycleAnchorDateOfRateReset":"2026-01-15","cycleOfRateReset":"{reset}",
        "marketObjectCodeOfRateReset":"IDX","rateSpread":0.01{amort}{extra}}}"#
    ))
    .unwrap()
}

fn run(book: &[ContractTerms], m: &MarketSnapshot, mode: AutomaticOptions) -> Analysis {
    let opts = Options {
        per_contract: true,
        automatic_options: mode,
        ..Options::default()
    };
    analyse(book, m, &StandardSpec::default(), as_of(), &opts).unwrap()
}

fn pv(a: &Analysis, id: &str, scenario: &str) -> f64 {
    a.contracts
        .iter()
        .find(|c| c.contract_id == id)
        .and_then(|c| c.get(scenario))
        .unwrap()
}

/// Holder's values of one contract's options by side, in one scenario.
fn option_values(a: &Analysis, id: &str, scenario: &str) -> (f64, f64) {
    let r = a.automatic_options.as_ref().unwrap();
    let mut sold = 0.0;
    let mut bought = 0.0;
    for o in r.contracts.iter().filter(|o| o.contract_id == id) {
        match o.side {
            Side::Sold => sold += o.value[scenario],
            Side::Bought => bought += o.value[scenario],
        }
    }
    (sold, bought)
}

/// With a vanishing volatility the options are worth their intrinsic value, so the host less
/// the options sold plus the options bought is the contract with its caps and floors applied
/// by the ACTUS engine: strike conversion, accrual-base annuity and reset projection agree,
/// on the base and shocked markets, for bullets and amortisers, a reset cycle shorter than
/// the payment cycle, multipliers, both roles, collars and a CAPFL.
#[test]
fn a_vanishing_volatility_gives_the_engines_capped_value() {
    let m = market(1e-10);
    let capfl: ContractTerms = serde_json::from_str(&format!(
        r#"{{"contractType":"CAPFL","contractID":"capfl","contractRole":"RPA","currency":"EUR",
        "statusDate":"2025-12-31","lifeCap":0.04,"lifeFloor":0.025,
        "contractStructure":[{{"object":{},"referenceType":"CNT","referenceRole":"UDL"}}]}}"#,
        serde_json::to_string(&floater("udl", "PAM", "RPA", "P6ML1", "")).unwrap()
    ))
    .unwrap();
    let book = vec![
        floater("cap", "PAM", "RPA", "P6ML1", r#","lifeCap":0.045"#),
        floater("floor-liab", "PAM", "RPL", "P6ML1", r#","lifeFloor":0.035"#),
        floater(
            "collar-3m",
            "PAM",
            "RPA",
            "P3ML1",
            r#","lifeCap":0.046,"lifeFloor":0.032,"rateMultiplier":0.9"#,
        ),
        floater("lam-cap", "LAM", "RPA", "P6ML1", r#","lifeCap":0.042"#),
        floater("cap-liab", "PAM", "RPL", "P6ML1", r#","lifeCap":0.04"#),
        capfl,
    ];
    let kao = run(&book, &m, AutomaticOptions::Kao);
    let intrinsic = run(&book, &m, AutomaticOptions::Intrinsic);
    assert!(
        kao.failed.is_empty() && intrinsic.failed.is_empty(),
        "{:?}",
        kao.failed
    );
    let mut bind = 0;
    for t in &book {
        let id = t.id();
        for s in ["base", "parallel_up", "parallel_down", "steepener"] {
            let (sold, bought) = option_values(&kao, id, s);
            let host = pv(&kao, id, s);
            let engine = pv(&intrinsic, id, s);
            assert!(
                close(host - sold + bought, engine, 1e-8),
                "{id} {s}: host {host} − sold {sold} + bought {bought} vs {engine}"
            );
            if sold + bought > 1.0 {
                bind += 1;
            }
        }
    }
    // The options are in the money somewhere (the check is not vacuous).
    assert!(bind >= 10, "{bind}");
    // The CAPFL is all option: no host value.
    assert_eq!(pv(&kao, "capfl", "base"), 0.0);
    let sides: Vec<(&str, OptionKind, Side)> = kao
        .automatic_options
        .as_ref()
        .unwrap()
        .contracts
        .iter()
        .map(|o| (o.contract_id.as_str(), o.option, o.side))
        .collect();
    for expected in [
        ("cap", OptionKind::Cap, Side::Sold),
        ("floor-liab", OptionKind::Floor, Side::Sold),
        ("collar-3m", OptionKind::Floor, Side::Bought),
        ("cap-liab", OptionKind::Cap, Side::Bought),
        ("capfl", OptionKind::Cap, Side::Bought),
        ("capfl", OptionKind::Floor, Side::Bought),
    ] {
        assert!(sides.contains(&expected), "{expected:?} in {sides:?}");
    }
    // EVE by currency: the hosts, so the contracts at intrinsic plus the options' net value.
    let eur = |a: &Analysis| a.contractual.currencies["EUR"].clone();
    let net: f64 = book
        .iter()
        .map(|t| {
            let (s, b) = option_values(&kao, t.id(), "base");
            b - s
        })
        .sum();
    assert!(close(eur(&kao).base + net, eur(&intrinsic).base, 1e-9));
}

/// A floating-rate bullet asset on IDX1Y, reset and paid yearly from the end of 2026 to 2030
/// (A365), with the limit terms `limit` (e.g. `"lifeCap":0.03`).
fn yearly_frn(notional: f64, limit: &str) -> ContractTerms {
    serde_json::from_str(&format!(
        r#"{{"contractType":"PAM","contractID":"frn","contractRole":"RPA","currency":"EUR",
        "statusDate":"2025-12-31","initialExchangeDate":"2025-12-31","maturityDate":"2030-12-31",
        "notionalPrincipal":{notional},"nominalInterestRate":0.02,"dayCountConvention":"A365",
        "cycleAnchorDateOfInterestPayment":"2026-12-31","cycleOfInterestPayment":"P1YL1",
        "cycleAnchorDateOfRateReset":"2026-12-31","cycleOfRateReset":"P1YL1",
        "marketObjectCodeOfRateReset":"IDX1Y",{limit}}}"#
    ))
    .unwrap()
}

/// The holder's value of [`yearly_frn`]'s cap or floor at `strike`, computed directly from
/// the curves: resets at the end of 2026…2029, each paying a year later on A365, Bachelier at
/// volatility `vol`.
fn yearly_strip(
    market: &MarketSnapshot,
    kind: OptionKind,
    strike: f64,
    vol: f64,
    notional: f64,
) -> f64 {
    let fwd = market.curve("EUR-FWD").unwrap();
    let disc = market.discount_curve("EUR").unwrap();
    (2026..2030)
        .map(|y| {
            let (r0, r1) = (Date::ymd(y, 12, 31), Date::ymd(y + 1, 12, 31));
            let yf = f64::from(r0.days_until(r1)) / 365.0;
            let f = (fwd.discount_at(r0) / fwd.discount_at(r1) - 1.0) / yf;
            let tau = f64::from(crate::irrbb::testkit::AS_OF.days_until(r0)) / 365.0;
            bachelier(kind, f, strike, vol * tau.sqrt()) * notional * yf * disc.discount_at(r1)
        })
        .sum()
}

/// An asset with a life cap has sold it: when rates rise the cap gains value, a loss, so KAO
/// is positive and the change in EVE is the host's change less KAO. The scenario value is at
/// 1.25 × the volatility, checked against the strip computed directly from the curves.
#[test]
fn kao_of_a_sold_cap_under_parallel_up() {
    let sigma = 0.009;
    let m = market(sigma);
    let cap = 0.03;
    let notional = 1_000_000.0;
    let book = vec![yearly_frn(notional, &format!(r#""lifeCap":{cap}"#))];
    let a = run(&book, &m, AutomaticOptions::Kao);
    let r = a.automatic_options.as_ref().unwrap();
    let direct = |market: &MarketSnapshot, scale: f64| {
        yearly_strip(market, OptionKind::Cap, cap, sigma * scale, notional)
    };
    let up = shock(&m, Scenario::ParallelUp, &StandardSpec::default()).unwrap();
    let o = &r.contracts[0];
    assert_eq!((o.option, o.side), (OptionKind::Cap, Side::Sold));
    assert!(close(o.value["base"], direct(&m, 1.0), 1e-12), "{o:?}");
    assert!(
        close(o.value["parallel_up"], direct(&up, 1.25), 1e-12),
        "{o:?}"
    );
    // Not the same as without the 1.25.
    assert!(!close(o.value["parallel_up"], direct(&up, 1.0), 1e-6));
    let kao = r.by_currency["EUR"]["parallel_up"];
    assert!(kao.kao > 0.0, "{kao:?}");
    assert!(close(
        kao.kao,
        o.value["parallel_up"] - o.value["base"],
        1e-12
    ));
    let eur = &a.contractual.currencies["EUR"];
    let sv = eur.scenarios["parallel_up"];
    assert_eq!(sv.kao, kao.kao);
    assert_eq!(sv.delta, sv.value - eur.base - sv.kao);
    // Parallel down: the sold cap loses value, a gain (negative KAO).
    assert!(r.by_currency["EUR"]["parallel_down"].kao < 0.0);
    assert_eq!(r.by_currency["EUR"]["base"].kao, 0.0);
}

/// `m` with an index IDX3M that has no volatility, and a floored contract (`loan-7`) on it.
fn floor_without_volatility(mut m: MarketSnapshot) -> (MarketSnapshot, ContractTerms) {
    m.insert_index(IndexDefinition {
        name: "IDX3M".into(),
        currency: "EUR".into(),
        forecast_curve: "EUR-FWD".into(),
        tenor: "3M".parse().unwrap(),
        day_count: DayCount::Act360,
    })
    .unwrap();
    let mut t = floater("loan-7", "PAM", "RPA", "P6ML1", r#","lifeFloor":0.01"#);
    t.market_object_code_of_rate_reset = Some("IDX3M".into());
    (m, t)
}

/// A capped contract whose index has no volatility stops the run with a message naming the
/// contract, the index and both ways out; at intrinsic it runs, with a warning.
#[test]
fn a_missing_volatility_is_an_error_naming_contract_and_index() {
    let (m, t) = floor_without_volatility(market(0.009));
    let opts = Options::default();
    let e = analyse(
        std::slice::from_ref(&t),
        &m,
        &StandardSpec::default(),
        as_of(),
        &opts,
    )
    .unwrap_err()
    .to_string();
    for part in [
        "loan-7",
        "IDX3M",
        "[[volatility]]",
        "--automatic-options intrinsic",
    ] {
        assert!(e.contains(part), "{part}: {e}");
    }
    let a = run(&[t], &m, AutomaticOptions::Intrinsic);
    assert!(
        a.warnings.iter().any(|w| w.contains("intrinsic value")),
        "{:?}",
        a.warnings
    );
    assert_eq!(
        a.contractual.currencies["EUR"].scenarios["parallel_up"].kao,
        0.0
    );
}

/// A book without caps or floors: no KAO, no report, the same analysis in both modes.
#[test]
fn a_book_without_options_is_unchanged() {
    let m = market(0.009);
    let book = vec![
        floater("frn", "PAM", "RPA", "P6ML1", ""),
        floater("lam", "LAM", "RPL", "P6ML1", ""),
    ];
    let kao = run(&book, &m, AutomaticOptions::Kao);
    let intrinsic = run(&book, &m, AutomaticOptions::Intrinsic);
    assert_eq!(kao, intrinsic);
    assert!(kao.automatic_options.is_none() && kao.warnings.is_empty());
    for sv in kao.contractual.currencies["EUR"].scenarios.values() {
        assert_eq!(sv.kao, 0.0);
    }
}

/// Period caps are path-dependent: such a contract stays at intrinsic value in its host, is
/// named in the warnings, and adds no KAO.
#[test]
fn period_caps_stay_at_intrinsic_with_a_warning() {
    let m = market(0.009);
    let book = vec![floater(
        "pc-1",
        "PAM",
        "RPA",
        "P6ML1",
        r#","lifeCap":0.045,"periodCap":0.005"#,
    )];
    let kao = run(&book, &m, AutomaticOptions::Kao);
    let intrinsic = run(&book, &m, AutomaticOptions::Intrinsic);
    assert!(
        kao.warnings
            .iter()
            .any(|w| w.contains("pc-1") && w.contains("path-dependent")),
        "{:?}",
        kao.warnings
    );
    assert_eq!(
        kao.contractual.currencies["EUR"],
        intrinsic.contractual.currencies["EUR"]
    );
}

/// The parsing of the option mode.
#[test]
fn mode_codes() {
    assert_eq!("KAO".parse::<AutomaticOptions>(), Ok(AutomaticOptions::Kao));
    assert_eq!(
        "intrinsic".parse::<AutomaticOptions>(),
        Ok(AutomaticOptions::Intrinsic)
    );
    assert!("black".parse::<AutomaticOptions>().is_err());
    assert_eq!(AutomaticOptions::default(), AutomaticOptions::Kao);
}

/// The drill-down of a capped contract valued as KAO still adds up: its flows (the capped
/// contract's, plus one line taking the caps' effect out) sum to the value reported for it, on
/// every scenario, and that line is the host minus the contract at intrinsic value.
#[test]
fn an_explained_option_holder_adds_up() {
    let m = market(0.009);
    // A cap low enough to bind on some resets.
    let book = vec![floater("c", "PAM", "RPA", "P6ML1", r#","lifeCap":0.025"#)];
    let explain = |mode: AutomaticOptions| -> Analysis {
        let opts = Options {
            per_contract: true,
            automatic_options: mode,
            explain: Some("c"),
            ..Options::default()
        };
        analyse(&book, &m, &StandardSpec::default(), as_of(), &opts).unwrap()
    };
    let (kao, intrinsic) = (
        explain(AutomaticOptions::Kao),
        explain(AutomaticOptions::Intrinsic),
    );
    assert_eq!(kao.explained.len(), kao.scenario_names.len());
    let mut binding = 0;
    for e in &kao.explained {
        let sum: f64 = e.flows.iter().map(|f| f.pv).sum();
        let reported = pv(&kao, "c", &e.scenario);
        assert!(
            close(sum, reported, 1e-12),
            "{}: {sum} vs {reported}",
            e.scenario
        );
        assert!(close(e.pv, reported, 1e-12));
        let line = e.flows.last().unwrap();
        assert_eq!(line.kind, "automatic_options_removed");
        let at_intrinsic = pv(&intrinsic, "c", &e.scenario);
        assert!((line.pv - (reported - at_intrinsic)).abs() <= 1e-9 * reported.abs());
        if line.pv.abs() > 1.0 {
            binding += 1;
        }
    }
    assert!(binding > 0, "the cap never binds: the test checks nothing");
}

/// A floor that binds on no market: the engine hands over the contract's own periods and the
/// option pass evaluates nothing more; the values are still the strips computed from the
/// curves directly, on the base (σ) and on shocked markets (1.25 σ), and EVE is unchanged.
#[test]
fn an_unbound_floor_is_valued_from_the_engines_periods() {
    let sigma = 0.009;
    let m = market(sigma);
    let floor = -0.02;
    let notional = 1_000_000.0;
    let book = vec![yearly_frn(notional, &format!(r#""lifeFloor":{floor}"#))];
    let a = run(&book, &m, AutomaticOptions::Kao);
    let intrinsic = run(&book, &m, AutomaticOptions::Intrinsic);
    let r = a.automatic_options.as_ref().unwrap();
    let direct = |market: &MarketSnapshot, scale: f64| {
        yearly_strip(market, OptionKind::Floor, floor, sigma * scale, notional)
    };
    let o = &r.contracts[0];
    assert_eq!((o.option, o.side), (OptionKind::Floor, Side::Bought));
    assert!(
        o.value["base"] > 1.0,
        "a floor worth nothing checks nothing: {o:?}"
    );
    assert!(close(o.value["base"], direct(&m, 1.0), 1e-12), "{o:?}");
    for s in [
        Scenario::ParallelUp,
        Scenario::ParallelDown,
        Scenario::Steepener,
    ] {
        let shocked = shock(&m, s, &StandardSpec::default()).unwrap();
        let name = s.name();
        assert!(
            close(o.value[name], direct(&shocked, 1.25), 1e-12),
            "{name}: {o:?}"
        );
        // The floor never binds: EVE holds the contract itself, as at intrinsic value.
        assert_eq!(pv(&a, "frn", name), pv(&intrinsic, "frn", name));
    }
}

/// Under KAO EVE holds a capped contract's host, and so do the sensitivities: they equal those
/// of the same contract without its cap, at intrinsic value; with the cap left in (intrinsic)
/// they differ, as the cap binds.
#[test]
fn sensitivities_of_an_option_holder_are_its_hosts() {
    let m = market(0.009);
    let capped = floater("c", "PAM", "RPA", "P6ML1", r#","lifeCap":0.025"#);
    let mut host = capped.clone();
    host.life_cap = None;
    let sens = |book: &[ContractTerms], mode: AutomaticOptions| {
        let opts = Options {
            automatic_options: mode,
            sensitivity_currency: Some("EUR"),
            ..Options::default()
        };
        analyse(book, &m, &StandardSpec::default(), as_of(), &opts)
            .unwrap()
            .sensitivities
            .unwrap()
    };
    let kao = sens(std::slice::from_ref(&capped), AutomaticOptions::Kao);
    let of_host = sens(std::slice::from_ref(&host), AutomaticOptions::Intrinsic);
    let at_intrinsic = sens(std::slice::from_ref(&capped), AutomaticOptions::Intrinsic);
    assert_eq!(kao.value, of_host.value);
    assert_eq!(kao.pv01, of_host.pv01);
    assert_eq!(kao.key_rate_pv01, of_host.key_rate_pv01);
    assert_eq!(kao.effective_duration, of_host.effective_duration);
    assert!(
        (kao.value - at_intrinsic.value).abs() > 1.0,
        "the cap does not bind: {kao:?}"
    );
}

/// A portfolio streamed in batches gives the report of the whole, to the last bit: the
/// options found batch by batch (their terms copied), the warnings gathered as they come.
#[test]
fn a_streamed_portfolio_gives_the_whole_report() {
    use crate::irrbb::engine::{analyse_streamed, ScenarioMarket, FEED_BATCH};
    let m = market(0.009);
    let mut book = vec![
        floater("CAPPED", "PAM", "RPA", "P6ML1", r#","lifeCap":0.03"#),
        floater("FLOORED", "LAM", "RPL", "P6ML1", r#","lifeFloor":0.02"#),
        floater("PLAIN", "PAM", "RPA", "P6ML1", ""),
        yearly_frn(500_000.0, r#""lifeCap":0.035"#),
    ];
    let mut no_schedule = floater("NO-SCHEDULE", "PAM", "RPA", "P6ML1", "");
    no_schedule.cycle_of_interest_payment = None;
    no_schedule.cycle_anchor_date_of_interest_payment = None;
    book.push(no_schedule);
    let opts = Options {
        per_contract: true,
        automatic_options: AutomaticOptions::Kao,
        ..Options::default()
    };
    let whole = analyse(&book, &m, &StandardSpec::default(), as_of(), &opts).unwrap();
    let scenarios: Vec<ScenarioMarket> = Scenario::ALL
        .iter()
        .map(|s| ScenarioMarket::standard(*s, shock(&m, *s, &StandardSpec::default()).unwrap()))
        .collect();
    let streamed = analyse_streamed(&m, scenarios, as_of(), &opts, &mut |each| {
        // Owned batches that are dropped after the call, as a store's are.
        for batch in book.chunks(FEED_BATCH) {
            let owned: Vec<ContractTerms> = batch.to_vec();
            each(&owned, None)?;
        }
        Ok(())
    })
    .unwrap();
    assert!(whole.automatic_options.is_some());
    assert!(whole.warnings.iter().any(|w| w.contains("NO-SCHEDULE")));
    assert_eq!(format!("{whole:?}"), format!("{streamed:?}"));
    // A feed that hands a short batch before the last would move the chunks: refused.
    let scenarios: Vec<ScenarioMarket> = Scenario::ALL
        .iter()
        .map(|s| ScenarioMarket::standard(*s, shock(&m, *s, &StandardSpec::default()).unwrap()))
        .collect();
    let err = analyse_streamed(&m, scenarios, as_of(), &opts, &mut |each| {
        for one in book.chunks(1) {
            each(one, None)?;
        }
        Ok(())
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("only the last batch may be short"),
        "{err}"
    );
}

/// A contract fed as its compact form, decoded by the worker that values it (as a stored
/// run feeds them).
struct Encoded(Vec<u8>);

impl crate::irrbb::ContractInput for Encoded {
    fn terms<'s>(&'s self, scratch: &'s mut ContractTerms) -> Result<&'s ContractTerms, String> {
        scratch
            .read_compact_into(&self.0)
            .map_err(|e| e.to_string())?;
        Ok(scratch)
    }

    fn name(&self) -> String {
        "an encoded contract".to_string()
    }
}

/// Contracts fed as forms decoded on the workers give the report of the terms themselves, to
/// the last bit (options and warnings found there); a form that does not read is listed as
/// unreadable, never valued and never dropped silently; a holder without a volatility stops
/// the run as it does on the whole portfolio.
#[test]
fn contracts_decoded_on_the_workers_give_the_same_report() {
    use crate::irrbb::engine::{analyse_streamed, ScenarioMarket};
    let m = market(0.009);
    let mut book = vec![
        floater("CAPPED", "PAM", "RPA", "P6ML1", r#","lifeCap":0.03"#),
        floater("PLAIN", "PAM", "RPA", "P6ML1", ""),
        floater("FLOORED", "LAM", "RPL", "P6ML1", r#","lifeFloor":0.02"#),
        yearly_frn(500_000.0, r#""lifeCap":0.035"#),
    ];
    let mut no_schedule = floater("NO-SCHEDULE", "PAM", "RPA", "P6ML1", "");
    no_schedule.cycle_of_interest_payment = None;
    no_schedule.cycle_anchor_date_of_interest_payment = None;
    book.push(no_schedule);
    let encode = |t: &ContractTerms| {
        let mut form = Vec::new();
        assert!(t.write_compact(&mut form), "{} has a form", t.id());
        Encoded(form)
    };
    let opts = Options {
        per_contract: true,
        automatic_options: AutomaticOptions::Kao,
        ..Options::default()
    };
    let scenarios = |m: &MarketSnapshot| -> Vec<ScenarioMarket> {
        Scenario::ALL
            .iter()
            .map(|s| ScenarioMarket::standard(*s, shock(m, *s, &StandardSpec::default()).unwrap()))
            .collect()
    };
    let whole = analyse(&book, &m, &StandardSpec::default(), as_of(), &opts).unwrap();
    let mut fed: Vec<Encoded> = book.iter().map(encode).collect();
    let decoded = analyse_streamed(&m, scenarios(&m), as_of(), &opts, &mut |each| {
        each(&fed, None)
    })
    .unwrap();
    assert!(whole.automatic_options.is_some());
    assert!(whole.warnings.iter().any(|w| w.contains("NO-SCHEDULE")));
    assert!(decoded.unreadable.is_empty());
    assert_eq!(format!("{whole:?}"), format!("{decoded:?}"));

    // The second form cut short: listed, the others valued as without it.
    let cut = fed[1].0.len() / 2;
    fed[1].0.truncate(cut);
    let damaged = analyse_streamed(&m, scenarios(&m), as_of(), &opts, &mut |each| {
        each(&fed, None)
    })
    .unwrap();
    assert_eq!(damaged.unreadable.len(), 1);
    assert_eq!(damaged.unreadable[0].0, "an encoded contract");
    assert!(
        damaged.unreadable[0].1.contains("truncated"),
        "{:?}",
        damaged.unreadable
    );
    let mut without = book.clone();
    without.remove(1);
    let without = analyse(&without, &m, &StandardSpec::default(), as_of(), &opts).unwrap();
    assert_eq!(damaged.contracts, without.contracts);
    assert_eq!(damaged.contractual, without.contractual);
    assert_eq!(damaged.automatic_options, without.automatic_options);

    // A floor on an index with no volatility, found on a worker: the run stops, naming it.
    let (m, t) = floor_without_volatility(m);
    let fed = [encode(&book[0]), encode(&t)];
    let e = analyse_streamed(&m, scenarios(&m), as_of(), &opts, &mut |each| {
        each(&fed, None)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("loan-7") && e.contains("IDX3M"), "{e}");
}

/// The reset periods folded from a holder's events as they are produced are those of the
/// event list, bit for bit, and a limit reached at a reset leaves none (the host's events are
/// then not the contract's own).
#[test]
fn periods_folded_as_produced_are_the_listed_ones() {
    let m = market(0.009);
    let at = as_of();
    let curve = m.discount_curve("EUR").unwrap();
    let df = |d: Date| curve.discount_at(d);
    let events = |t: &ContractTerms| {
        let mut out = Vec::new();
        crate::irrbb::run::evaluate_on_into(t, &m, &mut out).unwrap();
        out
    };
    let floored = yearly_frn(1_000_000.0, r#""lifeFloor":-0.02"#);
    let listed = events(&floored);
    let expected = periods(&listed, "IDX1Y", &m, at, None, &mut |d| df(d)).unwrap();
    assert_eq!(
        expected.len(),
        4,
        "resets at the end of 2026…2029: {expected:?}"
    );
    assert!(expected.iter().all(|p| p.annuity > 0.0), "{expected:?}");
    assert_eq!(
        unbound_periods(&floored, &listed, &m, at, df),
        Some(expected)
    );
    // A cap below every forward binds at the first reset.
    let capped = yearly_frn(1_000_000.0, r#""lifeCap":0.001"#);
    assert_eq!(unbound_periods(&capped, &events(&capped), &m, at, df), None);
    // No discount table for the currency: no periods.
    let mut sink = UnboundPeriods::new(&floored, &m, at, None::<fn(Date) -> f64>);
    sink.begin();
    for e in &listed {
        sink.event(e.head(), e.payoff, &e.states);
    }
    assert_eq!(sink.finish(), None);
}
