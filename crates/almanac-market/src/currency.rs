//! ISO 4217 currency codes: input files are checked against the active alphabetic codes, so a
//! typo (`EUE`) is reported instead of silently creating a new currency.

/// Active ISO 4217 alphabetic codes (list of 2024), plus the precious-metal and SDR codes
/// (XAU, XAG, XPT, XPD, XDR) that banks book as currencies.
const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG", "XAU",
    "XAG", "XPT", "XPD", "XDR",
];

/// True for a known currency code (upper case, three letters).
pub fn is_known(code: &str) -> bool {
    CODES.contains(&code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_and_unknown() {
        for c in ["EUR", "USD", "JPY", "CHF", "GBP", "XAU"] {
            assert!(super::is_known(c), "{c}");
        }
        for c in ["EUE", "eur", "EURO", ""] {
            assert!(!super::is_known(c), "{c}");
        }
        let mut sorted = super::CODES[..super::CODES.len() - 5].to_vec();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            super::CODES[..super::CODES.len() - 5],
            "keep the list sorted"
        );
    }
}
