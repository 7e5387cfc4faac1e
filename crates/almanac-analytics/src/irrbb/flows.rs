//! A contract's future cash flows reduced to what interest-rate risk needs, and the behavioural
//! transforms on them (prepayment, early redemption, non-maturity deposit slotting).
//!
//! Conventions: a flow's `day` counts calendar days after the valuation (as-of) date, so its
//! time in years is `day / 365` (ACT/365F, as the repricing buckets) and its discount factor is
//! looked up by date. Amounts are payoffs from the bank's side (ACTUS: positive = the bank
//! receives), in the currency of the flow. `notional_after` is the contract's outstanding
//! principal after all events of that day, signed by role (positive for an asset).
//!
//! Commercial margins (SRP31.100): when a run strips them from EVE, an interest flow carries
//! in `margin` the part of its amount that is the margin — `spread × interest scaling
//! multiplier × accrual base` on an ACTUS interest payment, `outstanding × spread × days / 365`
//! on a non-maturity deposit's behavioural interest. EVE values `amount − margin`
//! ([`Flow::eve_amount`]); NII and the repricing gap read `amount` (margins included). Without
//! stripping `margin` is 0 and EVE is unchanged bit for bit.

use almanac_actus::{
    ContractEvent, ContractTerms, ContractType, EventHead, EventSink, EventType, States,
};
use almanac_time::DateTime;

/// What a flow is, for behaviour and repricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Interest, fees and other flows that do not change the principal.
    Interest,
    /// Repayment of principal (scheduled redemption, maturity, prepayment): a repricing flow.
    Repayment,
    /// Other principal exchanges that change the outstanding (initial exchange, drawing,
    /// increase): not a repricing flow.
    Exchange,
}

/// One future flow of a contract.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    /// Days after the as-of date (≥ 0; 0 only for cash, worth its balance today).
    pub day: u32,
    /// Index of the flow's currency in the run's currency list.
    pub ccy: u16,
    /// Kind of flow.
    pub kind: Kind,
    /// Amount, bank's side (positive received).
    pub amount: f64,
    /// The commercial margin within `amount` (same sign convention) when margins are
    /// stripped, else 0.
    pub margin: f64,
    /// Outstanding principal after this day's events, signed by role.
    pub notional_after: f64,
}

impl Flow {
    /// The amount EVE values: `amount` without its commercial margin.
    #[inline]
    pub fn eve_amount(&self) -> f64 {
        self.amount - self.margin
    }

    /// Whether the flow is only there for its margin (the contract pays no interest on the
    /// day, stripping makes it pay some): NII and the gap ignore it.
    #[inline]
    pub fn margin_only(&self) -> bool {
        self.amount == 0.0 && self.margin != 0.0
    }
}

/// Whether the engine strips a commercial margin from a contract type's interest: the types
/// whose events carry the interest accrual base (PAM, LAM, ANN, NAM) and non-maturity
/// deposits (UMP), whose behavioural interest the engine computes itself.
pub fn strips_margins(t: Option<ContractType>) -> bool {
    matches!(
        t,
        Some(ContractType::Pam | ContractType::Lam | ContractType::Ann | ContractType::Nam)
            | Some(ContractType::Ump)
    )
}

/// The flows of one contract on one market, with its repricing information.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flows {
    /// Flows in date order.
    pub flows: Vec<Flow>,
    /// First rate reset after the as-of date: `(day, principal outstanding before it)`.
    /// A floating-rate contract's whole principal reprices then (SRP31.101).
    pub first_reset: Option<(u32, f64)>,
    /// Outstanding principal at the as-of date, signed by role.
    pub notional_at_as_of: f64,
    /// Interest accrued at the as-of date and not yet paid, signed by role (part of the first
    /// interest payment after it).
    pub accrued_at_as_of: f64,
}

impl Flows {
    /// Empties the flows, keeping their storage.
    pub fn clear(&mut self) {
        self.flows.clear();
        self.first_reset = None;
        self.notional_at_as_of = 0.0;
        self.accrued_at_as_of = 0.0;
    }

    /// Notional repricing flows `(day, amount)` (assets positive): repayments up to the first
    /// rate reset, then the principal outstanding at that reset; nothing after it.
    pub fn repricing(&self, mut f: impl FnMut(u32, u16, f64)) {
        let limit = self.first_reset.map_or(u32::MAX, |r| r.0);
        for x in &self.flows {
            if x.day >= limit {
                break;
            }
            if x.kind == Kind::Repayment && x.amount != 0.0 {
                f(x.day, x.ccy, x.amount);
            }
        }
        if let Some((day, n)) = self.first_reset {
            if n != 0.0 {
                let ccy = self.flows.first().map_or(0, |x| x.ccy);
                f(day, ccy, n);
            }
        }
    }
}

/// The kind of an ACTUS event's payoff.
pub fn kind_of(e: EventType) -> Kind {
    use EventType::*;
    match e {
        Pr | Md | Pp => Kind::Repayment,
        Ied | Pd | Pi => Kind::Exchange,
        _ => Kind::Interest,
    }
}

/// Reduces a contract's events to its flows after `as_of` (payoffs that are not zero), in
/// date order. `ccy_index` maps a currency code to its index, or `None` when the run has no
/// discount curve for it (an error naming the currency). Cash (`CSH`) has no future events:
/// it is one flow of its balance at day 0.
///
/// `spread` is the commercial margin to strip (decimal per year, 0: none): each interest
/// payment (`IP`) carries `spread × interest scaling multiplier × interest accrual base` as
/// its [`Flow::margin`], kept even when the payment itself is zero.
pub fn reduce(
    t: &ContractTerms,
    events: &[ContractEvent],
    as_of: DateTime,
    ccy_index: &impl Fn(&str) -> Option<u16>,
    spread: f64,
    out: &mut Flows,
) -> Result<(), String> {
    let mut r = Reducer::new(t, as_of, ccy_index, spread, out);
    r.begin();
    for e in events {
        r.event(e.head(), e.payoff, &e.states);
    }
    r.finish()
}

/// [`reduce`] one event at a time: an [`EventSink`] the ACTUS engine runs straight into
/// (`almanac_actus::evaluate_each_into`), so a contract's events need not be listed first.
/// The flows are in `out` after [`Reducer::finish`], which also reports a currency without
/// a discount curve.
pub struct Reducer<'a, F> {
    t: &'a ContractTerms,
    as_of: DateTime,
    ccy_index: &'a F,
    spread: f64,
    out: &'a mut Flows,
    /// Cash: one flow of its balance, whatever its events.
    cash: bool,
    sign: f64,
    notional: Option<f64>,
    before_first_future: Option<f64>,
    /// The last currency code looked up (its address and length) and its index.
    cached: Option<(*const u8, usize, u16)>,
    error: Option<String>,
}

impl<'a, F: Fn(&str) -> Option<u16>> Reducer<'a, F> {
    /// A reducer of contract `t`'s events into `out`; arguments as [`reduce`]'s.
    pub fn new(
        t: &'a ContractTerms,
        as_of: DateTime,
        ccy_index: &'a F,
        spread: f64,
        out: &'a mut Flows,
    ) -> Self {
        Reducer {
            t,
            as_of,
            ccy_index,
            spread,
            out,
            cash: t.contract_type == Some(almanac_actus::ContractType::Csh),
            sign: t
                .contract_role
                .map_or(1.0, almanac_actus::ContractRole::sign),
            notional: None,
            before_first_future: None,
            cached: None,
            error: None,
        }
    }

    fn lookup(&self, ccy: &str) -> Result<u16, String> {
        (self.ccy_index)(ccy).ok_or_else(|| format!("no discount curve for currency {ccy:?}"))
    }

    /// Ends the reduction: the outstanding at the as-of date, cash's one flow, or the error
    /// of a currency without a discount curve.
    pub fn finish(self) -> Result<(), String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.cash {
            let ccy = self.lookup(self.t.currency.as_deref().unwrap_or(""))?;
            let n = self.sign * self.t.notional_principal.unwrap_or(0.0);
            self.out.clear();
            self.out.notional_at_as_of = n;
            self.out.flows.push(Flow {
                day: 0,
                ccy,
                kind: Kind::Exchange,
                amount: n,
                margin: 0.0,
                notional_after: n,
            });
            return Ok(());
        }
        self.out.notional_at_as_of = self.before_first_future.or(self.notional).unwrap_or(0.0);
        Ok(())
    }
}

impl<F: Fn(&str) -> Option<u16>> EventSink for Reducer<'_, F> {
    fn begin(&mut self) {
        self.out.clear();
        self.notional = None;
        self.before_first_future = None;
        self.error = None;
        // Accrued interest at the as-of date: the state of the last event up to it, else the
        // terms' (unsigned, at the status date).
        self.out.accrued_at_as_of = self.sign * self.t.accrued_interest.unwrap_or(0.0);
    }

    fn reserve(&mut self, n: usize) {
        self.out.flows.reserve(n);
    }

    #[inline]
    fn event(&mut self, e: EventHead, payoff: f64, states: &States) {
        if self.cash || self.error.is_some() {
            return;
        }
        if e.event_time <= self.as_of {
            self.notional = Some(states.notional_principal);
            self.out.accrued_at_as_of = states.accrued_interest;
            return;
        }
        let day = u32::try_from(self.as_of.date().days_until(e.event_time.date())).unwrap_or(0);
        if self.before_first_future.is_none() {
            // The outstanding at the as-of date: the state left by the last past event, or
            // the first future event's state before its own principal change.
            let n = self.notional.unwrap_or_else(|| {
                let k = kind_of(e.event_type);
                states.notional_principal + if k == Kind::Interest { 0.0 } else { payoff }
            });
            self.before_first_future = Some(n);
        }
        if matches!(e.event_type, EventType::Rr | EventType::Rrf) && self.out.first_reset.is_none()
        {
            self.out.first_reset = Some((day, self.notional.unwrap_or(states.notional_principal)));
        }
        self.notional = Some(states.notional_principal);
        // ∂payoff/∂rate = interest scaling multiplier × accrual base (signed like the
        // notional), so taking `spread` off the rate takes this off the payment.
        let margin = if self.spread != 0.0 && e.event_type == EventType::Ip {
            self.spread * states.interest_scaling_multiplier * states.interest_accrual_base
        } else {
            0.0
        };
        if payoff == 0.0 && margin == 0.0 {
            // Still carry the state for the day's last flow.
            if let Some(last) = self.out.flows.last_mut() {
                if last.day == day {
                    last.notional_after = states.notional_principal;
                }
            }
            return;
        }
        // Nearly every event is in the contract's one currency: compare the term's address
        // before comparing strings.
        let code = e.currency(self.t).unwrap_or("");
        let ccy = match self.cached {
            Some((ptr, len, k)) if std::ptr::eq(ptr, code.as_ptr()) && len == code.len() => k,
            _ => match self.lookup(code) {
                Ok(k) => {
                    self.cached = Some((code.as_ptr(), code.len(), k));
                    k
                }
                Err(err) => {
                    self.error = Some(err);
                    return;
                }
            },
        };
        self.out.flows.push(Flow {
            day,
            ccy,
            kind: kind_of(e.event_type),
            amount: payoff,
            margin,
            notional_after: states.notional_principal,
        });
    }
}

/// How an annual rate becomes the fraction of a period of `dt` years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateConvention {
    /// `1 − (1 − rate)^dt`: the annual rate compounds (the market's CPR → SMM convention).
    #[default]
    Compound,
    /// `min(1, rate · dt)`: outstanding × rate × period length (EU RTS 2024/857 Annex point 2).
    Linear,
}

impl RateConvention {
    /// The fraction of the outstanding that leaves over `dt` years at annual `rate`.
    pub fn fraction(self, rate: f64, dt: f64) -> f64 {
        match self {
            RateConvention::Compound => 1.0 - (1.0 - rate).powf(dt),
            RateConvention::Linear => (rate * dt).min(1.0),
        }
    }
}

/// Prepayment at annual rate `cpr` (SRP31.121: scheduled flows adjusted for prepayment plus
/// the prepaid principal). Prepayment happens on the contract's payment dates: with `S` the
/// surviving fraction, a date's interest accrued on the survivors of the previous date
/// (`× S_prev`), its scheduled principal is paid by the survivors (`× S_now`), and
/// `B_before · (S_prev − S_now)` is prepaid. The remaining schedule is the contractual one
/// scaled by `S` (the borrower keeps the maturity, the instalment is recalculated), so the
/// principal repaid in total equals the principal outstanding, whatever the rate.
pub fn prepay(flows: &Flows, cpr: f64, convention: RateConvention, out: &mut Flows) {
    out.clear();
    out.first_reset = flows.first_reset;
    out.notional_at_as_of = flows.notional_at_as_of;
    out.accrued_at_as_of = flows.accrued_at_as_of;
    let f = &flows.flows;
    let (mut s_prev, mut prev_day) = (1.0_f64, 0_u32);
    // A schedule repeats a few period lengths (28 to 31 days a month): the fraction of each
    // length is computed once (the same value, bit for bit, without a `powf` per date).
    let mut cache = [(u32::MAX, 0.0_f64); 4];
    let mut fraction = |days: u32| -> f64 {
        if let Some(&(_, x)) = cache.iter().find(|(d, _)| *d == days) {
            return x;
        }
        let x = convention.fraction(cpr, f64::from(days) / 365.0);
        cache.rotate_right(1);
        cache[0] = (days, x);
        x
    };
    let mut i = 0;
    while i < f.len() {
        let day = f[i].day;
        let mut j = i;
        let mut principal = 0.0;
        let mut after = 0.0;
        while j < f.len() && f[j].day == day {
            if f[j].kind != Kind::Interest {
                principal += f[j].amount;
            }
            after = f[j].notional_after;
            j += 1;
        }
        let before = after + principal;
        let s_now = if before != 0.0 && cpr > 0.0 {
            s_prev * (1.0 - fraction(day - prev_day))
        } else {
            s_prev
        };
        for x in &f[i..j] {
            let scale = if x.kind == Kind::Interest {
                s_prev
            } else {
                s_now
            };
            out.flows.push(Flow {
                amount: x.amount * scale,
                margin: x.margin * scale,
                notional_after: x.notional_after * s_now,
                ..*x
            });
        }
        let prepaid = before * (s_prev - s_now);
        if prepaid != 0.0 {
            out.flows.push(Flow {
                day,
                ccy: f[i].ccy,
                kind: Kind::Repayment,
                amount: prepaid,
                margin: 0.0,
                notional_after: after * s_now,
            });
        }
        s_prev = s_now;
        prev_day = day;
        i = j;
    }
}

/// Early redemption (SRP31.124–125): the fraction `tdrr` of the outstanding is withdrawn
/// overnight (day 1); the rest keeps its contractual flows (scaled by `1 − tdrr`). The
/// penalty is taken to offset the interest accrued, so the withdrawn amount is principal.
pub fn redeem_early(flows: &Flows, tdrr: f64, out: &mut Flows) {
    out.clear();
    out.first_reset = flows.first_reset.map(|(d, n)| (d, n * (1.0 - tdrr)));
    out.notional_at_as_of = flows.notional_at_as_of;
    out.accrued_at_as_of = flows.accrued_at_as_of * (1.0 - tdrr);
    let n = flows.notional_at_as_of;
    if tdrr > 0.0 && n != 0.0 {
        out.flows.push(Flow {
            day: 1,
            ccy: flows.flows.first().map_or(0, |x| x.ccy),
            kind: Kind::Repayment,
            amount: n * tdrr,
            margin: 0.0,
            notional_after: n * (1.0 - tdrr),
        });
    }
    out.flows.extend(flows.flows.iter().map(|x| Flow {
        amount: x.amount * (1.0 - tdrr),
        margin: x.margin * (1.0 - tdrr),
        notional_after: x.notional_after * (1.0 - tdrr),
        ..*x
    }));
    out.flows.sort_by_key(|x| x.day);
}

/// A non-maturity deposit's flows: `balance` (signed, bank's side: a deposit is negative)
/// split into the non-core share repaid overnight (day 1) and the core slotted at
/// `slots = (day, weight)` (in increasing days, weights summing to 1). Interest at `rate`
/// (simple, ACT/365F) is paid on each slot day on the balance still outstanding since the
/// previous one, as the deposit would accrue it while it stays. `core_share = 0` is the
/// contractual view: the whole balance is repayable on demand. `spread` is the commercial
/// margin to strip (0: none): the interest at `spread` is each interest flow's
/// [`Flow::margin`], so EVE sees interest at `rate − spread`.
pub fn nmd(
    balance: f64,
    ccy: u16,
    rate: f64,
    spread: f64,
    core_share: f64,
    slots: &[(u32, f64)],
    out: &mut Flows,
) {
    out.clear();
    out.notional_at_as_of = balance;
    let core = balance * core_share;
    let mut left = balance;
    let mut prev = 0;
    let mut push = |day: u32, principal: f64| {
        let dt = f64::from(day.saturating_sub(prev));
        let interest = left * rate * dt / 365.0;
        let margin = if spread != 0.0 {
            left * spread * dt / 365.0
        } else {
            0.0
        };
        prev = prev.max(day);
        left -= principal;
        if interest != 0.0 || margin != 0.0 {
            out.flows.push(Flow {
                day,
                ccy,
                kind: Kind::Interest,
                amount: interest,
                margin,
                notional_after: left,
            });
        }
        out.flows.push(Flow {
            day,
            ccy,
            kind: Kind::Repayment,
            amount: principal,
            margin: 0.0,
            notional_after: left,
        });
    };
    push(1, balance - core);
    if core != 0.0 {
        for &(day, w) in slots {
            push(day.max(1), core * w);
        }
    }
    out.flows.sort_by_key(|x| x.day);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loan() -> Flows {
        // 1000 asset repaid 250 a year over four years with 5 % interest, as of day 0.
        let mut f = Flows {
            notional_at_as_of: 1000.0,
            ..Flows::default()
        };
        let mut n = 1000.0;
        for y in 1..=4u32 {
            let day = 365 * y;
            f.flows.push(Flow {
                day,
                ccy: 0,
                kind: Kind::Repayment,
                amount: 250.0,
                margin: 0.0,
                notional_after: n - 250.0,
            });
            f.flows.push(Flow {
                day,
                ccy: 0,
                kind: Kind::Interest,
                amount: n * 0.05,
                margin: n * 0.01,
                notional_after: n - 250.0,
            });
            n -= 250.0;
        }
        f
    }

    fn principal(f: &Flows) -> f64 {
        f.flows
            .iter()
            .filter(|x| x.kind != Kind::Interest)
            .map(|x| x.amount)
            .sum()
    }

    /// Prepayment conserves the principal, shortens the life and cuts the interest; at a zero
    /// rate it changes nothing.
    #[test]
    fn prepayment_conserves_principal() {
        let f = loan();
        let mut out = Flows::default();
        prepay(&f, 0.0, RateConvention::Compound, &mut out);
        assert_eq!(out.flows, f.flows);
        for conv in [RateConvention::Compound, RateConvention::Linear] {
            prepay(&f, 0.10, conv, &mut out);
            assert!((principal(&out) - 1000.0).abs() < 1e-9, "{conv:?}");
            let interest = |f: &Flows| -> f64 {
                f.flows
                    .iter()
                    .filter(|x| x.kind == Kind::Interest)
                    .map(|x| x.amount)
                    .sum()
            };
            assert!(interest(&out) < interest(&f));
            // Year 1: interest on the full 1000, 250 scheduled × 0.9 + 1000 × 0.1 prepaid.
            let y1: Vec<f64> = out
                .flows
                .iter()
                .filter(|x| x.day == 365)
                .map(|x| x.amount)
                .collect();
            assert!((y1[0] - 225.0).abs() < 1e-9 && (y1[1] - 50.0).abs() < 1e-9);
            assert!((y1[2] - 100.0).abs() < 1e-9, "{y1:?}");
        }
        // Everything prepaid in the first period at a rate of one.
        prepay(&f, 1.0, RateConvention::Compound, &mut out);
        let after: f64 = out
            .flows
            .iter()
            .filter(|x| x.day > 365)
            .map(|x| x.amount.abs())
            .sum();
        assert_eq!(after, 0.0);
    }

    /// Early redemption sends the fraction overnight and keeps the principal.
    #[test]
    fn early_redemption_goes_overnight() {
        let mut f = loan();
        for x in &mut f.flows {
            x.amount = -x.amount;
            x.notional_after = -x.notional_after;
        }
        f.notional_at_as_of = -1000.0;
        let mut out = Flows::default();
        redeem_early(&f, 0.06, &mut out);
        assert_eq!(out.flows[0].day, 1);
        assert!((out.flows[0].amount + 60.0).abs() < 1e-9);
        assert!((principal(&out) + 1000.0).abs() < 1e-9);
    }

    /// Spec §6.5: balance 1000, core 900 slotted 450 at 3.5 y and 450 at 6.5 y, non-core 100
    /// overnight; the contractual view repays everything overnight.
    #[test]
    fn nmd_slots() {
        let mut out = Flows::default();
        let slots = [(1278, 0.5), (2374, 0.5)];
        nmd(-1000.0, 0, 0.0, 0.0, 0.9, &slots, &mut out);
        let got: Vec<(u32, f64)> = out.flows.iter().map(|x| (x.day, x.amount)).collect();
        assert_eq!(got, vec![(1, -100.0), (1278, -450.0), (2374, -450.0)]);
        nmd(-1000.0, 0, 0.01, 0.0, 0.0, &slots, &mut out);
        assert_eq!(out.flows.len(), 2);
        assert_eq!((out.flows[1].day, out.flows[1].amount), (1, -1000.0));
        // Interest on what is still there: 1000 for a day, then 900 to 3.5 y, 450 to 6.5 y.
        nmd(-1000.0, 0, 0.01, 0.0, 0.9, &slots, &mut out);
        let interest: Vec<f64> = out
            .flows
            .iter()
            .filter(|x| x.kind == Kind::Interest)
            .map(|x| x.amount)
            .collect();
        let expect = [
            -1000.0 * 0.01 / 365.0,
            -900.0 * 0.01 * 1277.0 / 365.0,
            -450.0 * 0.01 * 1096.0 / 365.0,
        ];
        for (a, b) in interest.iter().zip(expect) {
            assert!((a - b).abs() < 1e-9, "{interest:?}");
        }
    }

    /// The behavioural transforms carry the margin with its flow: an interest flow keeps the
    /// share of its amount that is margin (here 1 % of 5 %), principal flows carry none.
    #[test]
    fn margins_follow_the_transforms() {
        let f = loan();
        let mut out = Flows::default();
        let check = |out: &Flows| {
            for x in &out.flows {
                match x.kind {
                    Kind::Interest => assert!((x.margin - x.amount / 5.0).abs() < 1e-12, "{x:?}"),
                    _ => assert_eq!(x.margin, 0.0),
                }
            }
        };
        prepay(&f, 0.10, RateConvention::Compound, &mut out);
        check(&out);
        // Year 2: interest on the 1000 − 225 − 100 = 675 left after year 1 at 5 %, 1 % margin.
        let y2 = out
            .flows
            .iter()
            .find(|x| x.day == 730 && x.kind == Kind::Interest)
            .unwrap();
        assert!((y2.margin - 750.0 * 0.01 * 0.9).abs() < 1e-9, "{y2:?}");
        assert!((y2.eve_amount() - 750.0 * 0.04 * 0.9).abs() < 1e-9);
        redeem_early(&f, 0.06, &mut out);
        check(&out);
    }

    /// An NMD at 0 % with a −2 % margin: no interest paid, 2 % in EVE (spec §6.5's slots),
    /// and nothing in `amount` for NII.
    #[test]
    fn nmd_margin_strips_from_its_rate() {
        let mut out = Flows::default();
        let slots = [(1278, 0.5), (2374, 0.5)];
        nmd(-1000.0, 0, 0.0, -0.02, 0.9, &slots, &mut out);
        let interest: Vec<&Flow> = out
            .flows
            .iter()
            .filter(|x| x.kind == Kind::Interest)
            .collect();
        let expect = [
            -1000.0 * 0.02 / 365.0,
            -900.0 * 0.02 * 1277.0 / 365.0,
            -450.0 * 0.02 * 1096.0 / 365.0,
        ];
        assert_eq!(interest.len(), 3);
        for (x, e) in interest.iter().zip(expect) {
            assert_eq!(x.amount, 0.0);
            assert!(x.margin_only());
            assert!((x.eve_amount() - e).abs() < 1e-12, "{x:?} vs {e}");
        }
        // At 1 % with a −1 % margin, EVE sees 2 %, NII 1 %.
        nmd(-1000.0, 0, 0.01, -0.01, 0.9, &slots, &mut out);
        let x = out
            .flows
            .iter()
            .find(|x| x.day == 1278 && x.kind == Kind::Interest)
            .unwrap();
        assert!((x.amount + 900.0 * 0.01 * 1277.0 / 365.0).abs() < 1e-12);
        assert!((x.eve_amount() + 900.0 * 0.02 * 1277.0 / 365.0).abs() < 1e-12);
    }
}
