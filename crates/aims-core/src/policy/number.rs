//! Exact comparison of numbers: JSON numbers, numeric strings and policy bounds compare as the
//! decimals they denote, at any size.
//!
//! A JSON integer is exact (`9007199254740993` is not `9007199254740992`); a double stands for
//! the shortest decimal that reads back as it (what JSON writers print, so `0.1` is 0.1); a
//! numeric string stands for its decimal text, however long. Comparing through `f64` would
//! round integers above 2^53 and decimals past 17 digits, letting a value slip past a bound.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Number;

/// Integers of at most this magnitude are doubles exactly, and print as themselves.
const EXACT_DOUBLE_INT: u64 = 1 << 53;

/// Exponents beyond this are not read: no amount or id needs them, and they keep arithmetic
/// on exponents far from overflow.
const MAX_EXPONENT: i64 = 1_000_000_000_000_000;

/// A finite decimal: `0.DIGITS × 10^exponent`, normalised (no leading or trailing zero digit;
/// zero has no digits and is never negative), so equal values have equal representations.
#[derive(Debug, Clone)]
pub struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
    /// The same value as a double, when the double stands for exactly this decimal: then
    /// comparisons with doubles and small integers need no decimal arithmetic.
    double: Option<f64>,
}

impl Decimal {
    /// Reads decimal text: an optional sign, digits with an optional fraction, and an optional
    /// exponent (`-12`, `+0.5`, `.5`, `5.`, `1e-7`). `None` for anything else (`NaN`, `inf`,
    /// spaces, hex).
    pub fn parse(text: &str) -> Option<Decimal> {
        let mut decimal = Decimal::parse_digits(text)?;
        decimal.double = decimal.as_exact_double();
        Some(decimal)
    }

    /// [`Decimal::parse`] without working out the double.
    fn parse_digits(text: &str) -> Option<Decimal> {
        let bytes = text.as_bytes();
        let mut at = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                at = 1;
                true
            }
            Some(b'+') => {
                at = 1;
                false
            }
            _ => false,
        };
        let int_start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let int_digits = &bytes[int_start..at];
        let mut frac_digits: &[u8] = &[];
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let frac_start = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            frac_digits = &bytes[frac_start..at];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        let mut exponent: i64 = 0;
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            let exp_negative = match bytes.get(at) {
                Some(b'-') => {
                    at += 1;
                    true
                }
                Some(b'+') => {
                    at += 1;
                    false
                }
                _ => false,
            };
            let exp_start = at;
            while let Some(digit) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
                exponent = exponent * 10 + i64::from(digit - b'0');
                if exponent > MAX_EXPONENT {
                    return None;
                }
                at += 1;
            }
            if at == exp_start {
                return None;
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if at != bytes.len() {
            return None;
        }
        let int_len = i64::try_from(int_digits.len()).ok()?;
        let digits = int_digits.iter().chain(frac_digits).map(|b| b - b'0');
        Some(Decimal::normalised(negative, digits, int_len + exponent))
    }

    /// `0.DIGITS × 10^point`, with leading and trailing zeros taken off.
    fn normalised(negative: bool, digits: impl Iterator<Item = u8>, point: i64) -> Decimal {
        let mut point = point;
        let mut kept = Vec::new();
        for digit in digits {
            if kept.is_empty() && digit == 0 {
                point -= 1;
            } else {
                kept.push(digit);
            }
        }
        while kept.last() == Some(&0) {
            kept.pop();
        }
        if kept.is_empty() {
            return Decimal::zero();
        }
        Decimal {
            negative,
            digits: kept,
            exponent: point,
            double: None,
        }
    }

    fn zero() -> Decimal {
        Decimal {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
            double: Some(0.0),
        }
    }

    /// The decimal a double stands for: the shortest text that reads back as it. `None` for
    /// NaN and infinities.
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        // `{:e}` prints the shortest round-tripping digits in scientific form.
        let mut decimal = Decimal::parse_digits(&format!("{value:e}"))?;
        decimal.double = Some(if value == 0.0 { 0.0 } else { value });
        Some(decimal)
    }

    /// An integer, exactly.
    pub fn from_i128(value: i128) -> Decimal {
        Decimal::parse(&value.to_string()).unwrap_or_else(Decimal::zero)
    }

    /// A JSON number: integers exactly, doubles as [`Decimal::from_f64`].
    pub fn from_number(number: &Number) -> Option<Decimal> {
        if let Some(int) = number.as_i64() {
            Some(Decimal::from_i128(i128::from(int)))
        } else if let Some(int) = number.as_u64() {
            Some(Decimal::from_i128(i128::from(int)))
        } else {
            Decimal::from_f64(number.as_f64()?)
        }
    }

    /// The double that stands for this decimal, when there is one.
    fn as_exact_double(&self) -> Option<f64> {
        // Doubles carry at most 17 significant digits; anything longer is not one.
        if self.digits.len() > 17 || self.exponent.abs() > 400 {
            return None;
        }
        let double: f64 = self.to_string().parse().ok()?;
        let back = Decimal::parse_digits(&format!("{double:e}"))?;
        (back.value_parts() == self.value_parts()).then_some(double)
    }

    fn value_parts(&self) -> (bool, &[u8], i64) {
        (self.negative, &self.digits, self.exponent)
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Orders two decimals by value.
    pub fn compare(&self, other: &Decimal) -> Ordering {
        if let (Some(a), Some(b)) = (self.double, other.double) {
            // Both stand for doubles, and the decimal a double stands for orders as the double.
            return a.partial_cmp(&b).unwrap_or(Ordering::Equal);
        }
        let sign = |d: &Decimal| match (d.is_zero(), d.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        let magnitude = self
            .exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Decimal) -> bool {
        self.value_parts() == other.value_parts()
    }
}

impl Eq for Decimal {}

/// Compares a JSON number with a decimal without building a decimal for the common cases
/// (doubles, integers up to 2^53).
pub fn compare_number(number: &Number, bound: &Decimal) -> Option<Ordering> {
    if let Some(double) = bound.double {
        let small = match (number.as_i64(), number.as_u64()) {
            (Some(int), _) if int.unsigned_abs() <= EXACT_DOUBLE_INT => Some(int as f64),
            (_, Some(int)) if int <= EXACT_DOUBLE_INT => Some(int as f64),
            (None, None) => number.as_f64(),
            _ => None,
        };
        if let Some(value) = small {
            return value.partial_cmp(&double);
        }
    }
    Decimal::from_number(number).map(|value| value.compare(bound))
}

/// Whether two JSON numbers are the same number (`1` and `1.0` are; `2^53` and `2^53 + 1` are
/// not).
pub fn numbers_equal(a: &Number, b: &Number) -> bool {
    match (a.as_i64(), a.as_u64(), b.as_i64(), b.as_u64()) {
        (Some(x), _, Some(y), _) => x == y,
        (_, Some(x), _, Some(y)) => x == y,
        _ => match Decimal::from_number(b) {
            Some(b) => compare_number(a, &b) == Some(Ordering::Equal),
            None => false,
        },
    }
}

impl fmt::Display for Decimal {
    /// Plain notation for moderate exponents, scientific otherwise (so a bound of `1e300`
    /// does not print 301 digits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let point = self.exponent;
        if !(-6..=21).contains(&point) {
            let (first, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            return write!(f, "{first}{dot}{rest}e{}", point - 1);
        }
        if point <= 0 {
            let zeros = "0".repeat(point.unsigned_abs() as usize);
            write!(f, "0.{zeros}{digits}")
        } else if point >= len {
            let zeros = "0".repeat((point - len) as usize);
            write!(f, "{digits}{zeros}")
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            write!(f, "{whole}.{fraction}")
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn integers_above_2_pow_53_stay_distinct() {
        let bound = Decimal::from_i128(9_007_199_254_740_992);
        let above = Number::from(9_007_199_254_740_993_u64);
        assert_eq!(compare_number(&above, &bound), Some(Ordering::Greater));
        assert!(!numbers_equal(
            &above,
            &Number::from(9_007_199_254_740_992_u64)
        ));
        assert!(numbers_equal(
            &Number::from(1),
            json!(1.0).as_number().unwrap()
        ));
        // 2^64 as a double is exactly 2^64, but stands for the decimal it prints as.
        let huge = dec("18446744073709551617");
        assert_eq!(
            huge.compare(&dec("18446744073709551616")),
            Ordering::Greater
        );
        assert_eq!(
            compare_number(&Number::from(u64::MAX), &huge),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn decimals_compare_past_double_precision() {
        assert_eq!(
            dec("100.0000000000000001").compare(&dec("100")),
            Ordering::Greater
        );
        assert_eq!(
            dec("-100.0000000000000001").compare(&dec("-100")),
            Ordering::Less
        );
        assert_eq!(
            dec("0.1").compare(&Decimal::from_f64(0.1).unwrap()),
            Ordering::Equal
        );
        assert_eq!(dec("1e2"), dec("100.000"));
        assert_eq!(dec("-0.0"), dec("0"));
        assert_eq!(dec("1e-400").compare(&dec("0")), Ordering::Greater);
        assert_eq!(dec("1e400").compare(&dec("9e399")), Ordering::Greater);
        let long = format!("1{}", "0".repeat(5000));
        assert_eq!(dec(&long).compare(&dec("1e5000")), Ordering::Equal);
        assert_eq!(dec(&long).compare(&dec("1e4999")), Ordering::Greater);
    }

    #[test]
    fn only_decimal_text_parses() {
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "NaN", "inf", " 1", "1 ", "0x10", "1_000",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad:?}");
        }
        for good in ["+5", ".5", "5.", "-0", "1E5", "1e-7", "007"] {
            assert!(Decimal::parse(good).is_some(), "{good:?}");
        }
        assert!(Decimal::parse("1e9999999999999999999").is_none());
        assert!(Decimal::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn display_is_short_and_exact() {
        for (text, shown) in [
            ("500", "500"),
            ("0.5", "0.5"),
            ("-12.25", "-12.25"),
            ("1e300", "1e300"),
            ("1.5e-9", "1.5e-9"),
            ("0.000001", "0.000001"),
            ("100.0000000000000001", "100.0000000000000001"),
        ] {
            assert_eq!(dec(text).to_string(), shown);
        }
    }

    proptest! {
        #[test]
        fn orders_integers_as_integers(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (Decimal::from_i128(a.into()), Decimal::from_i128(b.into()));
            prop_assert_eq!(x.compare(&y), a.cmp(&b));
            prop_assert_eq!(compare_number(&Number::from(a), &y), Some(a.cmp(&b)));
            prop_assert_eq!(Decimal::parse(&x.to_string()), Some(x));
        }

        #[test]
        fn orders_doubles_as_doubles(a in -1e30f64..1e30, b in -1e30f64..1e30) {
            let (x, y) = (Decimal::from_f64(a).unwrap(), Decimal::from_f64(b).unwrap());
            let (x_text, y_text) = (Decimal::parse(&x.to_string()).unwrap(), Decimal::parse(&y.to_string()).unwrap());
            prop_assert_eq!(x_text.compare(&y_text), a.partial_cmp(&b).unwrap());
            prop_assert_eq!(x.compare(&y), a.partial_cmp(&b).unwrap());
        }

        #[test]
        fn orders_wide_integers_exactly(a in any::<i128>(), b in any::<i128>()) {
            let (x, y) = (Decimal::from_i128(a), Decimal::from_i128(b));
            prop_assert_eq!(x.compare(&y), a.cmp(&b));
        }
    }
}
