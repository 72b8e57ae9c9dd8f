//! The columns of `events`, each with its ClickHouse type and the bound the
//! edge holds its values to: the one description that says what a row may
//! hold. A row that passes [`Row::check`](crate::row::Row::check) inserts
//! (clickhouse/migrations creates the table; the test below reads the
//! migrations and compares every column's type).

/// A ClickHouse column type, as the migrations write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    LowCardinalityString,
    FixedString(usize),
    UInt8,
    UInt32,
    UInt64,
    Bool,
    DateTimeUtc,
    ArrayString,
    NullableDecimal { precision: u32, scale: u32 },
}

impl Type {
    /// The type as SQL: `LowCardinality(String)`, `Nullable(Decimal(18, 3))`.
    pub fn sql(self) -> String {
        match self {
            Type::String => "String".into(),
            Type::LowCardinalityString => "LowCardinality(String)".into(),
            Type::FixedString(n) => format!("FixedString({n})"),
            Type::UInt8 => "UInt8".into(),
            Type::UInt32 => "UInt32".into(),
            Type::UInt64 => "UInt64".into(),
            Type::Bool => "Bool".into(),
            Type::DateTimeUtc => "DateTime('UTC')".into(),
            Type::ArrayString => "Array(String)".into(),
            Type::NullableDecimal { precision, scale } => {
                format!("Nullable(Decimal({precision}, {scale}))")
            }
        }
    }
}

/// One column: its name (the row's JSON key), its type, and the largest
/// value the edge lets into it. ClickHouse's `String` has no bound of its
/// own; ours keep a hostile event from costing storage (Plausible's limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: Type,
    /// Strings: the most bytes (of each item, for arrays). Integers: the
    /// largest value. Arrays: see `max_items`.
    pub max: u64,
    /// Arrays: the most items.
    pub max_items: usize,
}

const fn column(name: &'static str, ty: Type, max: u64) -> Column {
    Column {
        name,
        ty,
        max,
        max_items: 0,
    }
}

/// A DNS name is at most 253 bytes.
pub const MAX_HOST_BYTES: u64 = 253;
/// URLs, paths, referrers and UTM values: Plausible's 2,000 bytes.
pub const MAX_URL_BYTES: u64 = 2000;
/// Names the edge derives itself (browser, device, source kind).
const MAX_LABEL_BYTES: u64 = 64;

pub const SITE_DOMAIN: Column = column("site_domain", Type::LowCardinalityString, MAX_HOST_BYTES);
pub const TIMESTAMP: Column = column("timestamp", Type::DateTimeUtc, 0);
/// Plausible allows 120 characters: 480 bytes of UTF-8 at most.
pub const NAME: Column = column("name", Type::LowCardinalityString, 480);
pub const VISITOR_ID: Column = column("visitor_id", Type::UInt64, u64::MAX);
pub const HOSTNAME: Column = column("hostname", Type::LowCardinalityString, MAX_HOST_BYTES);
pub const PATHNAME: Column = column("pathname", Type::String, MAX_URL_BYTES);
pub const REFERRER: Column = column("referrer", Type::String, MAX_URL_BYTES);
pub const REFERRER_SOURCE: Column =
    column("referrer_source", Type::LowCardinalityString, MAX_URL_BYTES);
pub const UTM_MEDIUM: Column = column("utm_medium", Type::String, MAX_URL_BYTES);
pub const UTM_SOURCE: Column = column("utm_source", Type::String, MAX_URL_BYTES);
pub const UTM_CAMPAIGN: Column = column("utm_campaign", Type::String, MAX_URL_BYTES);
pub const UTM_CONTENT: Column = column("utm_content", Type::String, MAX_URL_BYTES);
pub const UTM_TERM: Column = column("utm_term", Type::String, MAX_URL_BYTES);
pub const CLICK_ID_PARAM: Column = column(
    "click_id_param",
    Type::LowCardinalityString,
    MAX_LABEL_BYTES,
);
/// ISO 3166 alpha-2, or empty (ClickHouse pads it).
pub const COUNTRY_CODE: Column = column("country_code", Type::FixedString(2), 2);
pub const DEVICE: Column = column("device", Type::LowCardinalityString, MAX_LABEL_BYTES);
pub const BROWSER: Column = column("browser", Type::LowCardinalityString, MAX_LABEL_BYTES);
pub const BROWSER_VERSION: Column = column(
    "browser_version",
    Type::LowCardinalityString,
    MAX_LABEL_BYTES,
);
pub const OPERATING_SYSTEM: Column = column(
    "operating_system",
    Type::LowCardinalityString,
    MAX_LABEL_BYTES,
);
pub const OPERATING_SYSTEM_VERSION: Column = column(
    "operating_system_version",
    Type::LowCardinalityString,
    MAX_LABEL_BYTES,
);
/// Prop keys: Plausible's 300 bytes, 30 props.
pub const META_KEY: Column = Column {
    name: "meta.key",
    ty: Type::ArrayString,
    max: 300,
    max_items: 30,
};
/// Prop values: Plausible's 2,000 bytes.
pub const META_VALUE: Column = Column {
    name: "meta.value",
    ty: Type::ArrayString,
    max: 2000,
    max_items: 30,
};
pub const REVENUE_AMOUNT: Column = column(
    "revenue_amount",
    Type::NullableDecimal {
        precision: 18,
        scale: 3,
    },
    0,
);
/// ISO 4217, or empty when the event has no revenue.
pub const REVENUE_CURRENCY: Column = column("revenue_currency", Type::FixedString(3), 3);
/// Percent scrolled.
pub const SCROLL_DEPTH: Column = column("scroll_depth", Type::UInt8, 100);
/// Milliseconds engaged: under 30 days (Plausible's bound).
pub const ENGAGEMENT_TIME: Column =
    column("engagement_time", Type::UInt32, 30 * 24 * 3600 * 1000 - 1);
pub const INTERACTIVE: Column = column("interactive", Type::Bool, 1);
pub const TRACKER_VERSION: Column = column("tracker_version", Type::UInt32, u32::MAX as u64);
/// The event's own id, from its queue message: a redelivered event is
/// stored once whatever batch it comes in (0: stored before ids existed).
pub const EVENT_ID: Column = column("event_id", Type::UInt64, u64::MAX);
/// The channel of the event's attribution (`0007_channel`).
pub const CHANNEL: Column = column("channel", Type::LowCardinalityString, MAX_LABEL_BYTES);

/// Every column of `events`, in the row's order.
pub const EVENTS: [Column; 30] = [
    SITE_DOMAIN,
    TIMESTAMP,
    NAME,
    VISITOR_ID,
    HOSTNAME,
    PATHNAME,
    REFERRER,
    REFERRER_SOURCE,
    UTM_MEDIUM,
    UTM_SOURCE,
    UTM_CAMPAIGN,
    UTM_CONTENT,
    UTM_TERM,
    CLICK_ID_PARAM,
    COUNTRY_CODE,
    DEVICE,
    BROWSER,
    BROWSER_VERSION,
    OPERATING_SYSTEM,
    OPERATING_SYSTEM_VERSION,
    META_KEY,
    META_VALUE,
    REVENUE_AMOUNT,
    REVENUE_CURRENCY,
    SCROLL_DEPTH,
    ENGAGEMENT_TIME,
    INTERACTIVE,
    TRACKER_VERSION,
    EVENT_ID,
    CHANNEL,
];

/// Every column of `events`.
pub fn events() -> &'static [Column] {
    &EVENTS
}

/// `text` cut to at most `max_bytes`, on a character boundary.
pub fn cut(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Why a value does not fit its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: {reason}")]
pub struct Unfit {
    pub column: &'static str,
    pub reason: String,
}

impl Column {
    fn unfit(&self, reason: impl Into<String>) -> Unfit {
        Unfit {
            column: self.name,
            reason: reason.into(),
        }
    }

    /// A string for this column: at most `max` bytes (exactly the width, or
    /// empty, for a `FixedString`).
    pub fn check_text(&self, value: &str) -> Result<(), Unfit> {
        if value.len() as u64 > self.max {
            return Err(self.unfit(format!("longer than {} bytes", self.max)));
        }
        if let Type::FixedString(width) = self.ty {
            if !value.is_empty() && value.len() != width {
                return Err(self.unfit(format!("must be {width} bytes or empty")));
            }
        }
        Ok(())
    }

    /// An array of strings: at most `max_items`, each at most `max` bytes.
    pub fn check_texts(&self, values: &[String]) -> Result<(), Unfit> {
        if values.len() > self.max_items {
            return Err(self.unfit(format!("more than {} items", self.max_items)));
        }
        values.iter().try_for_each(|v| self.check_text(v))
    }

    /// An unsigned integer: at most `max`.
    pub fn check_number(&self, value: u64) -> Result<(), Unfit> {
        if value > self.max {
            return Err(self.unfit(format!("greater than {}", self.max)));
        }
        Ok(())
    }

    /// A decimal for a `Decimal(P, S)` column, as the row holds it: digits,
    /// an optional sign and point, at most S after the point and P − S before.
    pub fn check_decimal(&self, value: &str) -> Result<(), Unfit> {
        match fit_decimal(self, value) {
            Ok(fitted) if fitted == value => Ok(()),
            Ok(_) => Err(self.unfit("not in canonical form")),
            Err(reason) => Err(self.unfit(reason)),
        }
    }

    /// `YYYY-MM-DD hh:mm:ss` within `DateTime`'s range (1970–2105).
    pub fn check_date_time(&self, value: &str) -> Result<(), Unfit> {
        let b = value.as_bytes();
        let shaped = b.len() == 19
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b' ',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            });
        if !shaped || !("1970".."2106").contains(&&value[..4]) {
            return Err(self.unfit("not a date and time from 1970 to 2105"));
        }
        Ok(())
    }
}

/// A decimal amount as a `Decimal(P, S)` column stores it: the sign, the
/// whole part without leading zeros, and at most S fraction digits — more are
/// cut, as ClickHouse cuts them. `Err` names the bound a value breaks. Takes
/// `123`, `-4.5`, `0.30000000000000004`, and numbers in exponent form
/// (`1e5`, `2.5E-3`), as JSON numbers may be written.
pub fn fit_decimal(column: &Column, text: &str) -> Result<String, String> {
    let Type::NullableDecimal { precision, scale } = column.ty else {
        return Err("not a decimal column".into());
    };
    let whole_digits = (precision - scale) as usize;
    let too_big = || format!("must be less than 10^{whole_digits} in magnitude");
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => {
            let exponent: i64 = e.parse().map_err(|_| "is not a number".to_string())?;
            (m, exponent)
        }
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err("is not a number".into());
    }
    // all digits, and where the point falls among them
    let digits: String = format!("{whole}{fraction}");
    let point = (whole.len() as i64).saturating_add(exponent);
    if point > (digits.len() + whole_digits) as i64 {
        return Err(too_big());
    }
    let at = |i: i64| -> u8 {
        if i < 0 || i >= digits.len() as i64 {
            b'0'
        } else {
            digits.as_bytes()[i as usize]
        }
    };
    let whole_part: String = (0..point.max(0))
        .map(|i| at(i) as char)
        .collect::<String>()
        .trim_start_matches('0')
        .to_string();
    if whole_part.len() > whole_digits {
        return Err(too_big());
    }
    let fraction_part: String = (point..point.saturating_add(scale as i64))
        .map(|i| at(i) as char)
        .collect::<String>()
        .trim_end_matches('0')
        .to_string();
    let mut fitted = if whole_part.is_empty() {
        "0".to_string()
    } else {
        whole_part
    };
    if !fraction_part.is_empty() {
        fitted.push('.');
        fitted.push_str(&fraction_part);
    }
    if negative && fitted != "0" {
        fitted.insert(0, '-');
    }
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_the_type_its_migration_gives_it() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../clickhouse/migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("clickhouse/migrations")
            .map(|entry| entry.expect("a migration").path())
            .collect();
        files.sort();
        let sql: String = files
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("readable"))
            .collect();
        let create = sql
            .split("CREATE TABLE IF NOT EXISTS events\n")
            .nth(1)
            .and_then(|rest| rest.split("\n)\n").next())
            .expect("the events table's CREATE");
        let mut declared: Vec<(String, String)> = create
            .lines()
            .map(|line| line.trim().trim_end_matches(','))
            .filter(|line| !line.is_empty() && !line.starts_with("--") && *line != "(")
            .map(|line| {
                let (name, ty) = line.split_once(char::is_whitespace).expect("name type");
                let ty = ty.trim().split(" CODEC(").next().unwrap_or_default();
                (name.trim_matches('`').to_string(), ty.trim().to_string())
            })
            .collect();
        // columns a later migration adds
        for line in sql.lines() {
            if let Some(rest) = line
                .trim()
                .strip_prefix("ALTER TABLE events ADD COLUMN IF NOT EXISTS ")
            {
                let (name, ty) = rest.split_once(' ').expect("name type");
                let ty = ty.split(" DEFAULT").next().unwrap_or_default();
                declared.push((
                    name.to_string(),
                    ty.trim_end_matches(';').trim().to_string(),
                ));
            }
        }
        let described: Vec<(String, String)> = events()
            .iter()
            .map(|c| (c.name.to_string(), c.ty.sql()))
            .collect();
        assert_eq!(declared, described);
    }

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("aé", 2), "a", "é is two bytes");
        assert_eq!(cut("", 0), "");
    }

    #[test]
    fn decimals_fit_decimal_18_3_or_name_the_bound() {
        let fit = |text: &str| fit_decimal(&REVENUE_AMOUNT, text);
        assert_eq!(fit("10.5").as_deref(), Ok("10.5"));
        assert_eq!(fit("0010.500").as_deref(), Ok("10.5"));
        assert_eq!(fit("-4").as_deref(), Ok("-4"));
        assert_eq!(fit("-0.0001").as_deref(), Ok("0"));
        assert_eq!(fit("0.30000000000000004").as_deref(), Ok("0.3"));
        assert_eq!(fit("1e5").as_deref(), Ok("100000"));
        assert_eq!(fit("2.5E-3").as_deref(), Ok("0.002"));
        assert_eq!(fit(".5").as_deref(), Ok("0.5"));
        assert_eq!(
            fit("999999999999999.9999").as_deref(),
            Ok("999999999999999.999")
        );
        assert_eq!(
            fit("1000000000000000"),
            Err("must be less than 10^15 in magnitude".into())
        );
        assert_eq!(
            fit("1000000000000000000"),
            Err("must be less than 10^15 in magnitude".into())
        );
        assert!(fit("1e15").is_err());
        assert!(fit("1e999999999999").is_err());
        assert_eq!(fit("1e-999999").as_deref(), Ok("0"));
        for bad in [
            "", "-", ".", "1.2.3", "abc", "1e", "e5", "0x10", "1_000", " 1", "NaN", "inf",
        ] {
            assert!(fit(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn strings_numbers_and_times_are_held_to_their_column() {
        assert!(PATHNAME.check_text(&"a".repeat(2000)).is_ok());
        assert_eq!(
            PATHNAME
                .check_text(&"a".repeat(2001))
                .unwrap_err()
                .to_string(),
            "pathname: longer than 2000 bytes"
        );
        assert!(COUNTRY_CODE.check_text("").is_ok());
        assert!(COUNTRY_CODE.check_text("D").is_err());
        assert!(REVENUE_CURRENCY.check_text("EURO").is_err());
        assert!(SCROLL_DEPTH.check_number(100).is_ok());
        assert!(SCROLL_DEPTH.check_number(101).is_err());
        assert!(META_KEY.check_texts(&vec!["k".into(); 31]).is_err());
        assert!(TIMESTAMP.check_date_time("2026-11-29 23:59:59").is_ok());
        assert!(TIMESTAMP.check_date_time("2106-01-01 00:00:00").is_err());
        assert!(TIMESTAMP.check_date_time("2026-11-29T23:59:59").is_err());
        assert!(REVENUE_AMOUNT.check_decimal("10.5").is_ok());
        assert!(REVENUE_AMOUNT.check_decimal("10.50").is_err());
    }
}
