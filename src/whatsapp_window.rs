//! WhatsApp's customer-service window: free-form replies are allowed for
//! 24 hours after the customer's last message; outside it only approved
//! templates may be sent. Other channels have no such rule.

use chrono::{DateTime, Duration, Utc};

use crate::domain::Channel;

pub const WINDOW_HOURS: i64 = 24;

/// What termdesk knows of the customer's last message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastInbound {
    At(DateTime<Utc>),
    /// The whole thread is known and the customer never wrote.
    Never,
    /// Not enough of the thread is known to say.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyWindow {
    /// Not WhatsApp: free text is always allowed.
    Unrestricted,
    Open {
        closes_at: DateTime<Utc>,
    },
    /// Only templates. `since` is when it closed; `None` when the customer
    /// never wrote.
    Closed {
        since: Option<DateTime<Utc>>,
    },
    /// WhatsApp, but the last customer message is not known yet: free text
    /// is allowed and the server has the last word.
    Unknown,
}

pub fn reply_window(channel: &Channel, last: LastInbound, now: DateTime<Utc>) -> ReplyWindow {
    if *channel != Channel::WhatsApp {
        return ReplyWindow::Unrestricted;
    }
    match last {
        LastInbound::At(at) => {
            let closes_at = at + Duration::hours(WINDOW_HOURS);
            if now < closes_at {
                ReplyWindow::Open { closes_at }
            } else {
                ReplyWindow::Closed {
                    since: Some(closes_at),
                }
            }
        }
        LastInbound::Never => ReplyWindow::Closed { since: None },
        LastInbound::Unknown => ReplyWindow::Unknown,
    }
}

impl ReplyWindow {
    pub fn allows_free_text(&self) -> bool {
        !matches!(self, ReplyWindow::Closed { .. })
    }

    /// Time left, while open.
    pub fn remaining(&self, now: DateTime<Utc>) -> Option<Duration> {
        match self {
            ReplyWindow::Open { closes_at } => Some(*closes_at - now),
            _ => None,
        }
    }

    /// A short label for list rows: `23h`, `5h12m`, `42m`, `closed`;
    /// nothing where no rule applies or nothing is known.
    pub fn badge(&self, now: DateTime<Utc>) -> Option<String> {
        match self {
            ReplyWindow::Open { .. } => self.remaining(now).map(countdown),
            ReplyWindow::Closed { .. } => Some("closed".into()),
            ReplyWindow::Unrestricted | ReplyWindow::Unknown => None,
        }
    }

    /// One sentence for above the composer.
    pub fn explanation(&self, now: DateTime<Utc>) -> Option<String> {
        match self {
            ReplyWindow::Open { .. } => self.remaining(now).map(|left| {
                format!(
                    "WhatsApp reply window: {} left for free text",
                    countdown(left)
                )
            }),
            ReplyWindow::Closed { since: Some(_) } => Some(
                "More than 24 h since the customer last wrote: WhatsApp allows only an approved template."
                    .into(),
            ),
            ReplyWindow::Closed { since: None } => Some(
                "The customer has not written yet: WhatsApp allows only an approved template."
                    .into(),
            ),
            ReplyWindow::Unrestricted | ReplyWindow::Unknown => None,
        }
    }
}

/// `23h`, `5h12m`, `42m`, `<1m`: hours and minutes, rounded down.
pub fn countdown(left: Duration) -> String {
    let minutes = left.num_minutes();
    if minutes < 1 {
        return "<1m".into();
    }
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, s).unwrap()
    }

    #[test]
    fn just_inside_and_just_outside_the_window() {
        let wrote = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let inside = reply_window(&Channel::WhatsApp, LastInbound::At(wrote), at(11, 59, 59));
        assert!(inside.allows_free_text());
        assert_eq!(inside.badge(at(11, 59, 59)).as_deref(), Some("<1m"));
        let edge = reply_window(&Channel::WhatsApp, LastInbound::At(wrote), at(12, 0, 0));
        assert_eq!(
            edge,
            ReplyWindow::Closed {
                since: Some(at(12, 0, 0))
            }
        );
        assert!(!edge.allows_free_text());
        let fresh = reply_window(&Channel::WhatsApp, LastInbound::At(wrote), wrote);
        assert_eq!(fresh.badge(wrote).as_deref(), Some("24h"));
    }

    #[test]
    fn a_customer_who_never_wrote_gets_templates_only() {
        let w = reply_window(&Channel::WhatsApp, LastInbound::Never, at(9, 0, 0));
        assert_eq!(w, ReplyWindow::Closed { since: None });
        assert!(w.explanation(at(9, 0, 0)).unwrap().contains("not written"));
    }

    #[test]
    fn other_channels_and_unknown_threads_are_not_restricted() {
        let never = LastInbound::Never;
        for channel in [Channel::Instagram, Channel::Email, Channel::LiveChat] {
            let w = reply_window(&channel, never, at(9, 0, 0));
            assert_eq!(w, ReplyWindow::Unrestricted);
            assert_eq!(w.badge(at(9, 0, 0)), None);
        }
        let unknown = reply_window(&Channel::WhatsApp, LastInbound::Unknown, at(9, 0, 0));
        assert!(unknown.allows_free_text());
        assert_eq!(unknown.badge(at(9, 0, 0)), None);
    }

    #[test]
    fn countdowns_round_down() {
        assert_eq!(countdown(Duration::seconds(59)), "<1m");
        assert_eq!(countdown(Duration::minutes(42)), "42m");
        assert_eq!(countdown(Duration::minutes(5 * 60 + 12)), "5h12m");
        assert_eq!(countdown(Duration::minutes(23 * 60 + 59)), "23h59m");
        assert_eq!(countdown(Duration::hours(3)), "3h");
    }
}
