//! Compact relative times for lists and status lines. `now` is passed in so
//! callers stay pure and tests stay deterministic.

use chrono::{DateTime, FixedOffset, Local, Offset, Utc};

/// The local UTC offset, read once at start-up so formatting stays pure.
pub fn local_offset() -> FixedOffset {
    Local::now().offset().fix()
}

/// `now`, `12m`, `3h`, `2d`, then a date. Minute resolution at best, so
/// a list on screen changes at most once a minute while nothing happens.
pub fn relative(now: DateTime<Utc>, then: DateTime<Utc>, offset: FixedOffset) -> String {
    let secs = (now - then).num_seconds();
    if secs < 60 {
        "now".to_string()
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else if secs < 86_400 {
        format!("{}h", secs / 3600)
    } else if secs < 7 * 86_400 {
        format!("{}d", secs / 86_400)
    } else {
        then.with_timezone(&offset).format("%d %b").to_string()
    }
}

/// How long someone has waited: `<1m`, `12m`, `3h`, `2d`.
pub fn waited(now: DateTime<Utc>, since: DateTime<Utc>) -> String {
    let secs = (now - since).num_seconds().max(0);
    if secs < 60 {
        "<1m".to_string()
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else if secs < 86_400 {
        format!("{}h", secs / 3600)
    } else {
        format!("{}d", secs / 86_400)
    }
}

/// Time of day for message headers; the date too when not today.
pub fn clock(now: DateTime<Utc>, then: DateTime<Utc>, offset: FixedOffset) -> String {
    let local = then.with_timezone(&offset);
    if local.date_naive() == now.with_timezone(&offset).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%d %b %H:%M").to_string()
    }
}

/// "just now" / "25 s ago" style, for the sync status. Under ten seconds it
/// does not count, so regular polling causes no redraws.
pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    if secs < 10 {
        "just now".to_string()
    } else if secs < 60 {
        format!("{secs} s ago")
    } else if secs < 3600 {
        format!("{} min ago", secs / 60)
    } else {
        format!("{} h ago", secs / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn relative_buckets() {
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
        let utc = FixedOffset::east_opt(0).unwrap();
        let ago = |s: i64| relative(now, now - chrono::Duration::seconds(s), utc);
        assert_eq!(ago(3), "now");
        assert_eq!(ago(45), "now");
        assert_eq!(ago(125), "2m");
        assert_eq!(ago(3 * 3600 + 5), "3h");
        assert_eq!(ago(2 * 86_400), "2d");
        assert_eq!(
            super::ago(now, now - chrono::Duration::seconds(3)),
            "just now"
        );
        assert_eq!(
            super::ago(now, now - chrono::Duration::seconds(25)),
            "25 s ago"
        );
    }
}
