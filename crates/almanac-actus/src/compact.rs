//! A compact binary form of [`ContractTerms`]: what a store keeps beside a position's JSON so
//! that a run over a million stored contracts reads them without parsing text.
//!
//! The form is a cache of the JSON, never the record: the JSON stays the source of truth. A
//! reader checks first that forms were written by a build like its own ([`FORMAT`] and
//! [`ContractTerms::COMPACT_LAYOUT`]; Almanac records them with each snapshot) and reads the
//! JSON otherwise; a form that then gives a [`CompactError`] is damaged, an error for that
//! contract.
//!
//! Layout, all integers little endian:
//!
//! * a header: the format version ([`FORMAT`], one byte) and the layout fingerprint
//!   ([`ContractTerms::COMPACT_LAYOUT`], four bytes: a hash of every term's name and type in
//!   declaration order, so a form written by a build with other terms is refused, not misread);
//! * then each term that is set, in declaration order: its index in the declaration (one
//!   byte) and its value: `f64` as its 8 bytes (bit exact); text as a LEB128 length and UTF-8;
//!   a date-time as its day since 1970-01-01 (`i32`) and second of the day (`u32`); a period
//!   as its count (`u32`) and unit (one byte); a cycle as its period and stub (one byte); a
//!   code by its ACTUS code as text; a flag as one byte; a list as a LEB128 count and items.
//!
//! Only plain terms have a compact form: terms with a `contractStructure` or with terms
//! Almanac does not interpret ([`ContractTerms::extra`]) are read from their JSON.
//!
//! Reading checks every value as parsing would (dates within 0001–9999, cycle counts 1–9999,
//! known codes) and never panics on any bytes: a bad form is an error, never a wrong contract.

use almanac_time::{
    BusinessDayConvention, Cycle, Date, DateTime, EndOfMonthConvention, Period, PeriodUnit, Stub,
};

use crate::terms::{ContractTerms, COMPACT_READERS};

/// The format version written as the first byte.
pub const FORMAT: u8 = 1;

/// Why bytes are not a compact form of terms this build reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("compact contract terms: {0}")]
pub struct CompactError(pub String);

pub(crate) fn bad(why: impl Into<String>) -> CompactError {
    CompactError(why.into())
}

/// A cursor over the bytes of a form.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CompactError> {
        if self.bytes.len() < n {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CompactError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, CompactError> {
        Ok(self.array::<1>()?[0])
    }

    /// A LEB128 length, at most the bytes left (every item takes at least one byte).
    fn len(&mut self) -> Result<usize, CompactError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(value)
                    .ok()
                    .filter(|n| *n <= self.bytes.len())
                    .ok_or_else(|| bad("a length beyond the end"));
            }
        }
        Err(bad("a length of more than 64 bits"))
    }

    pub(crate) fn text(&mut self) -> Result<&'a str, CompactError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| bad("text that is not UTF-8"))
    }
}

fn write_len(n: usize, out: &mut Vec<u8>) {
    let mut n = n as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

pub(crate) fn write_text(s: &str, out: &mut Vec<u8>) {
    write_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// A term value's compact encoding.
pub(crate) trait Compact: Sized {
    fn write(&self, out: &mut Vec<u8>);
    fn read(r: &mut Reader<'_>) -> Result<Self, CompactError>;
}

impl Compact for f64 {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read(r: &mut Reader<'_>) -> Result<f64, CompactError> {
        let x = f64::from_le_bytes(r.array()?);
        // Parsing accepts finite numbers only.
        if x.is_finite() {
            Ok(x)
        } else {
            Err(bad("a number that is not finite"))
        }
    }
}

impl Compact for String {
    fn write(&self, out: &mut Vec<u8>) {
        write_text(self, out);
    }
    fn read(r: &mut Reader<'_>) -> Result<String, CompactError> {
        Ok(r.text()?.to_owned())
    }
}

impl Compact for bool {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn read(r: &mut Reader<'_>) -> Result<bool, CompactError> {
        match r.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("a flag that is neither 0 nor 1")),
        }
    }
}

impl Compact for DateTime {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.date().days_since_epoch().to_le_bytes());
        out.extend_from_slice(&self.second_of_day().to_le_bytes());
    }
    fn read(r: &mut Reader<'_>) -> Result<DateTime, CompactError> {
        let days = i32::from_le_bytes(r.array()?);
        let second = u32::from_le_bytes(r.array()?);
        let date = Date::from_days_since_epoch(days);
        if !(Date::MIN..=Date::MAX).contains(&date) {
            return Err(bad("a date outside 0001-01-01 to 9999-12-31"));
        }
        DateTime::new(date, second).map_err(|e| bad(e.to_string()))
    }
}

/// The largest count of a period or cycle that parsing accepts.
const MAX_COUNT: u32 = 9999;

impl Compact for Period {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.count.to_le_bytes());
        out.push(match self.unit {
            PeriodUnit::Day => 0,
            PeriodUnit::Week => 1,
            PeriodUnit::Month => 2,
            PeriodUnit::Quarter => 3,
            PeriodUnit::HalfYear => 4,
            PeriodUnit::Year => 5,
        });
    }
    fn read(r: &mut Reader<'_>) -> Result<Period, CompactError> {
        let count = u32::from_le_bytes(r.array()?);
        if count > MAX_COUNT {
            return Err(bad("a period count above 9999"));
        }
        let unit = match r.byte()? {
            0 => PeriodUnit::Day,
            1 => PeriodUnit::Week,
            2 => PeriodUnit::Month,
            3 => PeriodUnit::Quarter,
            4 => PeriodUnit::HalfYear,
            5 => PeriodUnit::Year,
            _ => return Err(bad("an unknown period unit")),
        };
        Ok(Period::new(count, unit))
    }
}

impl Compact for Cycle {
    fn write(&self, out: &mut Vec<u8>) {
        self.period.write(out);
        out.push(match self.stub {
            Stub::Long => 0,
            Stub::Short => 1,
        });
    }
    fn read(r: &mut Reader<'_>) -> Result<Cycle, CompactError> {
        let period = Period::read(r)?;
        if period.count == 0 {
            return Err(bad("a cycle with a count of 0"));
        }
        let stub = match r.byte()? {
            0 => Stub::Long,
            1 => Stub::Short,
            _ => return Err(bad("an unknown stub")),
        };
        Ok(Cycle::new(period, stub))
    }
}

impl Compact for BusinessDayConvention {
    fn write(&self, out: &mut Vec<u8>) {
        write_text(self.code(), out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, CompactError> {
        BusinessDayConvention::from_code(r.text()?).map_err(|e| bad(e.to_string()))
    }
}

impl Compact for EndOfMonthConvention {
    fn write(&self, out: &mut Vec<u8>) {
        write_text(self.code(), out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, CompactError> {
        EndOfMonthConvention::from_code(r.text()?).map_err(|e| bad(e.to_string()))
    }
}

impl<T: Compact> Compact for Vec<T> {
    fn write(&self, out: &mut Vec<u8>) {
        write_len(self.len(), out);
        for x in self {
            x.write(out);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Vec<T>, CompactError> {
        // Each item takes at least one byte, so the count is bounded by what is left.
        let n = r.len()?;
        (0..n).map(|_| T::read(r)).collect()
    }
}

/// The compact form of the ACTUS code enums: their code.
macro_rules! compact_by_code {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::compact::Compact for $t {
            fn write(&self, out: &mut Vec<u8>) {
                $crate::compact::write_text(self.code(), out);
            }
            fn read(
                r: &mut $crate::compact::Reader<'_>,
            ) -> Result<Self, $crate::compact::CompactError> {
                let code = r.text()?;
                <$t>::from_code(code)
                    .ok_or_else(|| $crate::compact::bad(format!("an unknown code {code:?}")))
            }
        }
    )*};
}
pub(crate) use compact_by_code;

/// FNV-1a (32 bits) of `bytes`, at compile time: the layout fingerprint.
pub(crate) const fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

impl ContractTerms {
    /// Appends the compact form of these terms to `out` and returns `true`, or leaves `out`
    /// as it was and returns `false` for terms that have no compact form (a
    /// `contractStructure`, or terms Almanac does not interpret). See the module
    /// documentation for the layout.
    pub fn write_compact(&self, out: &mut Vec<u8>) -> bool {
        if !self.contract_structure.is_empty() || !self.extra.is_empty() {
            return false;
        }
        out.push(FORMAT);
        out.extend_from_slice(&Self::COMPACT_LAYOUT.to_le_bytes());
        self.write_compact_terms(out);
        true
    }

    /// Reads terms from their compact form ([`ContractTerms::write_compact`]), built in place
    /// on the heap (about 1.5 KB, costly to move).
    pub fn read_compact(bytes: &[u8]) -> Result<Box<ContractTerms>, CompactError> {
        let mut t = Box::<ContractTerms>::default();
        t.read_compact_into(bytes)?;
        Ok(t)
    }

    /// [`ContractTerms::read_compact`] into terms already at hand, which are replaced whole
    /// (every term not in the form is reset to absent): a worker decodes contract after
    /// contract into the same terms, hot in its cache, instead of a fresh 1.5 KB box each.
    /// After an error the terms are partly read: read them again before using them.
    pub fn read_compact_into(&mut self, bytes: &[u8]) -> Result<(), CompactError> {
        let mut r = Reader { bytes };
        let format = r.byte()?;
        if format != FORMAT {
            return Err(bad(format!("format {format}, this build reads {FORMAT}")));
        }
        let layout = u32::from_le_bytes(r.array()?);
        if layout != Self::COMPACT_LAYOUT {
            return Err(bad(
                "written by a build with other terms (layout fingerprint differs)",
            ));
        }
        *self = ContractTerms::default();
        let t = self;
        let mut previous: Option<u8> = None;
        while !r.bytes.is_empty() {
            let index = r.byte()?;
            // Strictly increasing: each term at most once, as written.
            if previous.is_some_and(|p| index <= p) {
                return Err(bad("terms out of order or repeated"));
            }
            previous = Some(index);
            let read = COMPACT_READERS
                .get(usize::from(index))
                .ok_or_else(|| bad(format!("an unknown term index {index}")))?;
            read(t, &mut r)?;
        }
        Ok(())
    }
}

/// Reads the value of one term into the terms.
pub(crate) type ReadTerm = fn(&mut ContractTerms, &mut Reader<'_>) -> Result<(), CompactError>;

// A term's index is one byte, and the writer counts one past the last term.
const _: () = assert!(
    COMPACT_READERS.len() < 256,
    "more terms than a one-byte index holds"
);
