//! Reproducible pseudo-random numbers: SplitMix64 for seeding, xoshiro256\*\* as the
//! generator, and standard normal variates by inversion.
//!
//! # Algorithms
//!
//! * [`SplitMix64`] follows Steele, Lea & Flood, *Fast splittable pseudorandom number
//!   generators* (OOPSLA 2014), in the 64-bit form Vigna recommends for seeding: a Weyl
//!   sequence with increment `0x9e3779b97f4a7c15` passed through a bijective avalanche mix.
//!   Every 64-bit seed is acceptable.
//! * [`Rng`] is xoshiro256\*\* from Blackman & Vigna, *Scrambled linear pseudorandom number
//!   generators* (ACM TOMS 2021): 256 bits of state, period 2²⁵⁶ − 1, the `**` scrambler
//!   (`rotl(s1 · 5, 7) · 9`). Its state is filled from SplitMix64, which can never produce the
//!   forbidden all-zero state (four consecutive SplitMix64 outputs are distinct).
//! * [`inverse_normal_cdf`] is Wichura's algorithm AS241 (`PPND16`, Applied Statistics 37,
//!   1988), a piecewise rational approximation with relative accuracy of about 1e-16 over the
//!   whole open interval; no refinement step is needed at that accuracy.
//!
//! # Reproducibility and streams
//!
//! Nothing here reads a clock or a global: the same seed always yields the same numbers on
//! every platform (the arithmetic is integer, plus IEEE-754 `f64` operations in the inverse
//! normal, which Rust does not contract or reorder). For parallel Monte Carlo use
//! [`Rng::for_stream`]: path `i` takes stream `i`, so its numbers do not depend on which thread
//! runs it or in which order.
//!
//! # Uniforms and antithetic variates
//!
//! [`Rng::next_f64`] returns `(k + ½)·2⁻⁵²` for a 52-bit integer `k`: never 0 or 1, every
//! value exactly representable, and the set of values is symmetric (`u` and `1 − u` are both
//! possible and `1 − u` is computed exactly). Because AS241 is evaluated symmetrically, the
//! inverse CDF of such a `u` is exactly the negation of that of `1 − u`, so antithetic pairs
//! built from `z` and `−z` are exact.

/// Increment of the SplitMix64 Weyl sequence (the odd integer nearest 2⁶⁴/φ).
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function: a bijective avalanche mix of a 64-bit word.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64: a tiny 64-bit generator used to expand one seed word into generator state.
///
/// Statistically adequate on its own for seeding and hashing, but [`Rng`] is the generator to
/// use for simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates the generator from any 64-bit seed.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Returns the next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }
}

/// The xoshiro256\*\* generator (Blackman & Vigna).
///
/// Cheap to create, 32 bytes of state, not cryptographically secure. See the
/// [module documentation](self) for seeding and streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// Creates a generator whose state is the first four outputs of [`SplitMix64`] started at
    /// `seed` (the seeding procedure recommended by the xoshiro authors).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        Self {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
        }
    }

    /// Creates the generator for stream `stream` of the experiment identified by `seed`.
    ///
    /// The pair is hashed through SplitMix64: the seed is mixed once, XOR-ed with the mixed
    /// stream index, and the result seeds a SplitMix64 whose first four outputs form the state.
    /// For a fixed seed, distinct stream indices give distinct SplitMix64 seeds (the mix is a
    /// bijection), hence unrelated sequences. The stream for `(seed, i)` is a pure function of
    /// the two numbers, which is what makes parallel simulation reproducible.
    #[must_use]
    pub fn for_stream(seed: u64, stream: u64) -> Self {
        let seed_key = mix64(seed.wrapping_add(GOLDEN_GAMMA));
        // Different pre-mix offsets for the two words keep `(s, t)` and `(t, s)` apart.
        let stream_key = mix64(stream ^ 0x6a09_e667_f3bc_c909);
        Self::new(seed_key ^ stream_key)
    }

    /// Creates a generator from a raw state, or `None` for the all-zero state (which the
    /// generator can never leave).
    #[must_use]
    pub fn from_state(state: [u64; 4]) -> Option<Self> {
        (state != [0; 4]).then_some(Self { s: state })
    }

    /// The raw state, e.g. to checkpoint a simulation.
    #[must_use]
    pub const fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Returns the next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Returns a uniform variate in the open interval (0, 1).
    ///
    /// The value is `(k + ½)·2⁻⁵²` where `k` is the top 52 bits of [`Rng::next_u64`]; the
    /// smallest value is 2⁻⁵³ and the largest 1 − 2⁻⁵³.
    pub fn next_f64(&mut self) -> f64 {
        /// 2⁻⁵², exact.
        const SCALE: f64 = 1.0 / (1u64 << 52) as f64;
        // `k < 2^52`, so `k + 0.5` needs at most 53 significant bits: exact.
        let k = (self.next_u64() >> 12) as f64;
        (k + 0.5) * SCALE
    }

    /// Returns a standard normal variate, `Φ⁻¹(U)` with `U` from [`Rng::next_f64`]; exactly
    /// one uniform is consumed per call.
    pub fn standard_normal(&mut self) -> f64 {
        inverse_normal_cdf(self.next_f64())
    }
}

/// Coefficients of AS241's central region, `|p − ½| ≤ 0.425`, numerator (ascending powers).
#[allow(clippy::excessive_precision)] // the digits as published
const CENTRAL_NUM: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
/// Denominator of the central region (ascending powers).
#[allow(clippy::excessive_precision)] // the digits as published
const CENTRAL_DEN: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
/// Intermediate tail, `√(−ln min(p, 1−p)) ≤ 5`, numerator (ascending powers of `r − 1.6`).
#[allow(clippy::excessive_precision)] // the digits as published
const INTERMEDIATE_NUM: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
/// Denominator of the intermediate tail.
#[allow(clippy::excessive_precision)] // the digits as published
const INTERMEDIATE_DEN: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
/// Far tail, `√(−ln min(p, 1−p)) > 5`, numerator (ascending powers of `r − 5`).
#[allow(clippy::excessive_precision)] // the digits as published
const FAR_NUM: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
/// Denominator of the far tail.
#[allow(clippy::excessive_precision)] // the digits as published
const FAR_DEN: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// Evaluates a polynomial with ascending coefficients by Horner's rule.
fn horner(coefficients: &[f64; 8], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

/// The standard normal quantile function Φ⁻¹(p), by Wichura's AS241 (`PPND16`).
///
/// Relative accuracy is about 1e-16. Returns −∞ at `p = 0`, +∞ at `p = 1` and NaN outside
/// `[0, 1]` or for NaN input. The evaluation is antisymmetric: whenever `1 − p` is exactly
/// representable, `inverse_normal_cdf(1.0 - p) == -inverse_normal_cdf(p)` bit for bit.
#[must_use]
pub fn inverse_normal_cdf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * horner(&CENTRAL_NUM, r) / horner(&CENTRAL_DEN, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        horner(&INTERMEDIATE_NUM, r) / horner(&INTERMEDIATE_DEN, r)
    } else {
        let r = r - 5.0;
        horner(&FAR_NUM, r) / horner(&FAR_DEN, r)
    };
    if q < 0.0 {
        -x
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference Φ(x) = ½·erfc(−x/√2), independent of AS241: erfc from the Maclaurin series of
    /// erf for |y| < 1.5 and from Laplace's continued fraction (Lentz's method) beyond.
    fn normal_cdf(x: f64) -> f64 {
        0.5 * erfc(-x / std::f64::consts::SQRT_2)
    }

    fn erfc(y: f64) -> f64 {
        if y < 0.0 {
            return 2.0 - erfc(-y);
        }
        if y < 1.5 {
            // erf(y) = 2/√π Σ (−1)^n y^(2n+1) / (n! (2n+1))
            let mut sum = 0.0;
            let mut term = y;
            let mut n = 0.0;
            loop {
                let add = term / (2.0 * n + 1.0);
                sum += add;
                if add.abs() <= 1e-17 * sum.abs() {
                    break;
                }
                n += 1.0;
                term *= -y * y / n;
            }
            1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum
        } else {
            // Lentz continued fraction: erfc(y) = e^{−y²}/√π · 1/(y + ½/(y + 1/(y + 3/2/(y + …))))
            let mut f = y;
            let mut c = y;
            let mut d = 0.0;
            for k in 1..200 {
                let a = f64::from(k) * 0.5;
                d = y + a * d;
                d = 1.0 / d;
                c = y + a / c;
                let delta = c * d;
                f *= delta;
                if (delta - 1.0).abs() < 1e-16 {
                    break;
                }
            }
            (-y * y).exp() / std::f64::consts::PI.sqrt() / f
        }
    }

    #[test]
    fn splitmix64_seed_zero_reference_outputs() {
        let mut sm = SplitMix64::new(0);
        assert_eq!(sm.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(sm.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(sm.next_u64(), 0x06c4_5d18_8009_454f);
        assert_eq!(sm.next_u64(), 0xf88b_b8a8_724c_81ec);
        assert_eq!(sm.next_u64(), 0x1b39_896a_51a8_749b);
    }

    #[test]
    fn xoshiro_reference_outputs_from_raw_state() {
        // Computed independently with a direct Python transcription of the algorithm.
        let mut rng = Rng::from_state([1, 2, 3, 4]).unwrap();
        let expected = [
            11_520,
            0,
            1_509_978_240,
            1_215_971_899_390_074_240,
            1_216_172_134_540_287_360,
            607_988_272_756_665_600,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn xoshiro_reference_outputs_seeded_by_splitmix() {
        let mut rng = Rng::new(0);
        assert_eq!(
            rng.state(),
            [
                0xe220_a839_7b1d_cdaf,
                0x6e78_9e6a_a1b9_65f4,
                0x06c4_5d18_8009_454f,
                0xf88b_b8a8_724c_81ec
            ]
        );
        for e in [
            0x99ec_5f36_cb75_f2b4,
            0xbf6e_1f78_4956_452a,
            0x1a5f_849d_4933_e6e0,
            0x6aa5_94f1_262d_2d2c,
        ] {
            assert_eq!(rng.next_u64(), e);
        }
        let mut rng = Rng::new(42);
        for e in [
            0x1578_0b2e_0c2e_c716,
            0x6104_d986_6d11_3a7e,
            0xae17_5332_39e4_99a1,
            0xecb8_ad47_03b3_60a1,
        ] {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn all_zero_state_is_rejected() {
        assert!(Rng::from_state([0; 4]).is_none());
    }

    #[test]
    fn next_f64_is_strictly_inside_unit_interval() {
        // Extreme raw outputs map to the extreme grid points, never to 0 or 1.
        let lo = ((0_u64 >> 12) as f64 + 0.5) / (1u64 << 52) as f64;
        let hi = ((u64::MAX >> 12) as f64 + 0.5) / (1u64 << 52) as f64;
        assert!(lo > 0.0 && hi < 1.0);
        assert_eq!(hi, 1.0 - lo);
        let mut rng = Rng::new(7);
        let mut sum = 0.0;
        let n = 100_000;
        for _ in 0..n {
            let u = rng.next_f64();
            assert!(u > 0.0 && u < 1.0);
            sum += u;
        }
        let mean = sum / f64::from(n);
        // sd of the mean = sqrt(1/12 / n) ≈ 9.1e-4
        assert!((mean - 0.5).abs() < 4.0 * (1.0 / 12.0 / f64::from(n)).sqrt());
    }

    #[test]
    fn extreme_uniforms_map_to_finite_symmetric_normals() {
        let lo = 0.5 / (1u64 << 52) as f64;
        let z_lo = inverse_normal_cdf(lo);
        let z_hi = inverse_normal_cdf(1.0 - lo);
        assert!(z_lo.is_finite() && z_hi.is_finite());
        assert_eq!(z_lo, -z_hi);
        assert!(z_hi > 8.0 && z_hi < 8.3, "{z_hi}");
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the hash sums as published
    fn coefficients_match_wichura_hash_sums() {
        // AS241 publishes, per region, the sum of the decimal significands of its coefficients
        // (denominator's leading 1 excluded) as a transcription check.
        let significand = |c: f64| c / 10f64.powi(c.log10().floor() as i32);
        let hash = |num: &[f64; 8], den: &[f64; 8]| -> f64 {
            num.iter().chain(&den[1..]).map(|&c| significand(c)).sum()
        };
        let central = hash(&CENTRAL_NUM, &CENTRAL_DEN);
        let intermediate = hash(&INTERMEDIATE_NUM, &INTERMEDIATE_DEN);
        let far = hash(&FAR_NUM, &FAR_DEN);
        assert!(
            (central - 55.883_192_880_614_901_443_9).abs() < 1e-12,
            "{central}"
        );
        assert!(
            (intermediate - 49.332_065_033_016_102_890_36).abs() < 1e-12,
            "{intermediate}"
        );
        assert!((far - 47.525_833_175_492_896_716_29).abs() < 1e-12, "{far}");
    }

    #[test]
    fn inverse_cdf_reference_values() {
        assert!((inverse_normal_cdf(0.975) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((inverse_normal_cdf(0.025) + 1.959_963_984_540_054).abs() < 1e-9);
        assert_eq!(inverse_normal_cdf(0.5), 0.0);
        assert!((inverse_normal_cdf(0.999) - 3.090_232_306_167_813_5).abs() < 1e-12);
        assert!((inverse_normal_cdf(1e-10) + 6.361_340_902_404_056).abs() < 1e-10);
        assert_eq!(inverse_normal_cdf(0.0), f64::NEG_INFINITY);
        assert_eq!(inverse_normal_cdf(1.0), f64::INFINITY);
        assert!(inverse_normal_cdf(-0.1).is_nan());
        assert!(inverse_normal_cdf(1.1).is_nan());
        assert!(inverse_normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn inverse_cdf_round_trips_through_the_cdf() {
        // All three regions (central, intermediate tail, far tail below e^-25 ≈ 1.4e-11), lower
        // half only: the upper half follows from the exact antisymmetry tested below.
        for &p in &[
            1e-300, 1e-100, 1e-20, 1e-12, 1e-11, 1e-6, 0.001, 0.01, 0.0749, 0.075, 0.1, 0.2, 0.3,
            0.45, 0.5,
        ] {
            let x = inverse_normal_cdf(p);
            let back = normal_cdf(x);
            let rel = ((back - p) / p).abs();
            // A relative error ε in x moves Φ by about x²·ε relative, and the reference erfc
            // itself loses about x²·1e-16 to the rounding of e^{-x²/2}.
            assert!(
                rel < 1e-14 * (1.0 + x * x),
                "p = {p}, x = {x}, back = {back}, rel = {rel}"
            );
        }
    }

    #[test]
    fn inverse_cdf_is_exactly_antisymmetric() {
        let mut rng = Rng::new(2024);
        for _ in 0..10_000 {
            let u = rng.next_f64();
            assert_eq!(inverse_normal_cdf(u), -inverse_normal_cdf(1.0 - u));
        }
        for &p in &[0.5, 0.25, 0.0625, 1.0 / 1024.0, 2f64.powi(-40)] {
            assert_eq!(inverse_normal_cdf(p), -inverse_normal_cdf(1.0 - p));
        }
    }

    #[test]
    fn inverse_cdf_is_monotone_across_region_boundaries() {
        let mut prev = f64::NEG_INFINITY;
        let mut p = 1e-15;
        while p < 1.0 - 1e-15 {
            let x = inverse_normal_cdf(p);
            assert!(x > prev, "p = {p}");
            prev = x;
            p += 1e-3 * p.min(1.0 - p).max(1e-6);
        }
    }

    #[test]
    fn normal_sample_moments() {
        let mut rng = Rng::new(12_345);
        let n = 100_000_u32;
        let (mut s1, mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            let z = rng.standard_normal();
            s1 += z;
            s2 += z * z;
            s3 += z * z * z;
            s4 += z * z * z * z;
        }
        let n = f64::from(n);
        let mean = s1 / n;
        let var = s2 / n - mean * mean;
        // Standard errors: mean 1/√n, variance √(2/n), skewness √(6/n), kurtosis √(24/n).
        assert!(mean.abs() < 4.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 4.0 * (2.0 / n).sqrt(), "var {var}");
        assert!((s3 / n).abs() < 4.0 * (15.0 / n).sqrt(), "third moment");
        assert!(
            (s4 / n - 3.0).abs() < 4.0 * (96.0 / n).sqrt(),
            "fourth moment"
        );
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rng::for_stream(1, 0);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let a2: Vec<u64> = {
            let mut r = Rng::for_stream(1, 0);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, a2);
        let mut firsts = std::collections::HashSet::new();
        for seed in 0..50_u64 {
            for stream in 0..200_u64 {
                assert!(firsts.insert(Rng::for_stream(seed, stream).next_u64()));
            }
        }
        assert_ne!(Rng::for_stream(1, 2).state(), Rng::for_stream(2, 1).state());
        assert_ne!(Rng::for_stream(3, 0).state(), Rng::new(3).state());
    }

    #[test]
    fn neighbouring_streams_are_uncorrelated() {
        let n = 20_000;
        let mut a = Rng::for_stream(99, 0);
        let mut b = Rng::for_stream(99, 1);
        let mut sxy = 0.0;
        for _ in 0..n {
            sxy += a.standard_normal() * b.standard_normal();
        }
        let corr = sxy / f64::from(n);
        assert!(corr.abs() < 4.0 / f64::from(n).sqrt(), "corr {corr}");
    }
}
