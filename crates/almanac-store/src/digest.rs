//! SHA-256 digests in lower-case hex, and an unambiguous encoding of field sequences.

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Whether `text` is exactly `len` lower-case hex digits.
pub(crate) fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A SHA-256 over a sequence of fields, each written as its length (`u64`, little endian)
/// followed by its bytes, so that no two different sequences encode to the same bytes.
pub(crate) struct FieldHasher(Sha256);

impl FieldHasher {
    pub(crate) fn new() -> Self {
        FieldHasher(Sha256::new())
    }

    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        // usize → u64 never loses information on the platforms Rust supports.
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    pub(crate) fn number(&mut self, value: u64) -> &mut Self {
        self.field(&value.to_le_bytes())
    }

    pub(crate) fn finish_hex(self) -> String {
        to_hex(&self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_the_fips_180_example() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn field_boundaries_change_the_digest() {
        let mut a = FieldHasher::new();
        a.field(b"ab").field(b"c");
        let mut b = FieldHasher::new();
        b.field(b"a").field(b"bc");
        assert_ne!(a.finish_hex(), b.finish_hex());
    }

    #[test]
    fn lower_hex_check() {
        assert!(is_lower_hex("00ff", 4));
        assert!(!is_lower_hex("00FF", 4));
        assert!(!is_lower_hex("00f", 4));
        assert!(!is_lower_hex("00fg", 4));
    }
}
