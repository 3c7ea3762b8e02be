//! Custom GraphQL scalars of the Qpien schema.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `Date` scalar. The docs only name the type, so both ISO-8601 strings
/// and epoch milliseconds (as a number or a numeric string) are accepted.
/// Sent as ISO-8601 with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WireDate(pub DateTime<Utc>);

impl From<DateTime<Utc>> for WireDate {
    fn from(value: DateTime<Utc>) -> Self {
        WireDate(value)
    }
}

impl WireDate {
    /// Parses the string forms: RFC 3339 / ISO-8601, or digits meaning epoch-ms.
    pub fn parse(s: &str) -> Option<WireDate> {
        let s = s.trim();
        let digits = s.strip_prefix('-').unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse::<i64>().ok().and_then(from_millis);
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(WireDate(dt.with_timezone(&Utc)));
        }
        // ISO-8601 without an offset (seen from some Node backends): read as UTC.
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
                return Some(WireDate(Utc.from_utc_datetime(&naive)));
            }
        }
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|naive| WireDate(Utc.from_utc_datetime(&naive)))
    }
}

fn from_millis(ms: i64) -> Option<WireDate> {
    Utc.timestamp_millis_opt(ms).single().map(WireDate)
}

impl Serialize for WireDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl<'de> Deserialize<'de> for WireDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DateVisitor)
    }
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = WireDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ISO-8601 date string or epoch milliseconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<WireDate, E> {
        WireDate::parse(v).ok_or_else(|| {
            let shown: String = v.chars().take(40).collect();
            E::custom(format!(
                "invalid date {:?}",
                crate::text::sanitize_line(&shown)
            ))
        })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireDate, E> {
        from_millis(v).ok_or_else(|| E::custom(format!("epoch-ms out of range: {v}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireDate, E> {
        i64::try_from(v)
            .ok()
            .and_then(from_millis)
            .ok_or_else(|| E::custom(format!("epoch-ms out of range: {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<WireDate, E> {
        if v.is_finite() && v.abs() < 1e16 {
            self.visit_i64(v.trunc() as i64)
        } else {
            Err(E::custom("epoch-ms out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de(json: &str) -> Result<WireDate, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn iso_strings() {
        let d = de(r#""2025-10-02T09:14:59.123Z""#).unwrap();
        assert_eq!(d.0.timestamp_millis(), 1_759_396_499_123);
        let d = de(r#""2025-10-02T11:14:59+02:00""#).unwrap();
        assert_eq!(d.0.timestamp(), 1_759_396_499);
        let d = de(r#""2025-10-02T09:14:59""#).unwrap();
        assert_eq!(d.0.timestamp(), 1_759_396_499);
    }

    #[test]
    fn epoch_millis_number_and_string() {
        assert_eq!(
            de("1759396499123").unwrap().0.timestamp_millis(),
            1_759_396_499_123
        );
        assert_eq!(
            de("1759396499123.0").unwrap().0.timestamp_millis(),
            1_759_396_499_123
        );
        assert_eq!(
            de(r#""1759396499123""#).unwrap().0.timestamp_millis(),
            1_759_396_499_123
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(de(r#""yesterday""#).is_err());
        assert!(de(r#""""#).is_err());
        assert!(de("true").is_err());
        assert!(de("{}").is_err());
        assert!(de("1e300").is_err());
        assert!(de(r#""99999999999999999999999""#).is_err());
    }

    #[test]
    fn serializes_iso_with_millis() {
        let d = de("1759396499000").unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#""2025-10-02T09:14:59.000Z""#
        );
    }
}
