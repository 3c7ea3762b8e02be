//! Where the sync stands, saved in the store so a restart resumes instead of
//! downloading everything again. Pure data and pure arithmetic: the worker
//! decides what to fetch from it, the store persists it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Key of the cursors in the store's metadata.
pub const META_KEY: &str = "sync.cursors";

/// Key of one account's cursors when several accounts share the inbox.
pub fn account_key(account: &str) -> String {
    format!("{META_KEY}.{account}")
}

/// The account a key made by [`account_key`] belongs to.
pub fn account_of_key(key: &str) -> Option<&str> {
    key.strip_prefix(META_KEY)?
        .strip_prefix('.')
        .filter(|a| !a.is_empty())
}

/// How far back an incremental query reaches behind the newest change seen:
/// clocks of the server's writers disagree a little, and a change stamped
/// slightly in the past must not fall between two polls. Duplicates merge.
pub const OVERLAP: chrono::Duration = chrono::Duration::seconds(120);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursors {
    /// Changes to conversations are fetched from here on (inclusive).
    pub conversations: Option<ChainCursor>,
    /// Next page of the whole-list backfill (newest first); `None` once the
    /// whole list has been seen.
    pub backfill_page: Option<u32>,
    /// The contact directory, oldest change first; resumable mid-way.
    pub contacts: Option<ChainCursor>,
    /// The directory has been read to its end at least once.
    pub contacts_complete: bool,
    /// Conversations the server reported in total at the last backfill page.
    pub total_conversations: Option<u64>,
    pub total_contacts: Option<u64>,
}

/// Nothing synced yet: the first page comes from the live loop, the
/// backfill starts at the second.
impl Default for SyncCursors {
    fn default() -> Self {
        SyncCursors {
            conversations: None,
            backfill_page: Some(2),
            contacts: None,
            contacts_complete: false,
            total_conversations: None,
            total_contacts: None,
        }
    }
}

impl SyncCursors {
    pub fn fresh() -> Self {
        SyncCursors::default()
    }

    pub fn backfill_done(&self) -> bool {
        self.backfill_page.is_none()
    }
}

/// A resumable position in a list sorted by change time, oldest first:
/// "changed at or after `since`, page `page`". Paging by time alone loops
/// forever when a whole page shares one timestamp (a bulk import); the page
/// number steps over such a run, and resets whenever the time moves on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCursor {
    pub since: DateTime<Utc>,
    pub page: u32,
}

impl ChainCursor {
    pub fn at(since: DateTime<Utc>) -> Self {
        ChainCursor { since, page: 1 }
    }

    /// The cursor after reading `pages` pages from this one, given the
    /// newest change time on the last page (`None` when it was empty).
    pub fn advance(&self, pages: u32, last_on_last_page: Option<DateTime<Utc>>) -> ChainCursor {
        match last_on_last_page {
            Some(last) if last > self.since => ChainCursor::at(last),
            Some(_) => ChainCursor {
                since: self.since,
                page: self.page + pages,
            },
            None => self.clone(),
        }
    }

    /// The cursor once a read reached the end of the list: back to page one,
    /// a little behind the newest change so stamps that land late are read
    /// again rather than missed (never further back than it already was).
    pub fn caught_up(&self, newest_seen: Option<DateTime<Utc>>) -> ChainCursor {
        let since = newest_seen.map_or(self.since, |newest| (newest - OVERLAP).max(self.since));
        ChainCursor::at(since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_cursor_moves_to_the_newest_time_and_restarts_at_page_one() {
        let c = ChainCursor::at(t(0));
        assert_eq!(c.advance(3, Some(t(50))), ChainCursor::at(t(50)));
    }

    #[test]
    fn a_page_that_shares_one_timestamp_steps_the_page_instead_of_looping() {
        let c = ChainCursor::at(t(10));
        let next = c.advance(1, Some(t(10)));
        assert_eq!(
            next,
            ChainCursor {
                since: t(10),
                page: 2
            }
        );
        assert_eq!(next.advance(2, Some(t(10))).page, 4);
        assert_eq!(next.advance(1, Some(t(11))), ChainCursor::at(t(11)));
    }

    #[test]
    fn an_empty_page_leaves_the_cursor_where_it_was() {
        let c = ChainCursor::at(t(10));
        assert_eq!(c.advance(1, None), c);
    }

    #[test]
    fn catching_up_keeps_an_overlap_but_never_moves_backwards() {
        let c = ChainCursor {
            since: t(10),
            page: 3,
        };
        assert_eq!(
            c.caught_up(Some(t(1000))),
            ChainCursor::at(t(1000) - OVERLAP)
        );
        assert_eq!(c.caught_up(Some(t(20))), ChainCursor::at(t(10)));
        assert_eq!(c.caught_up(None), ChainCursor::at(t(10)));
    }

    #[test]
    fn each_account_has_a_key_of_its_own() {
        assert_eq!(account_key("work"), "sync.cursors.work");
        assert_eq!(account_of_key("sync.cursors.work"), Some("work"));
        assert_eq!(account_of_key(META_KEY), None);
        assert_eq!(account_of_key("sync.cursors."), None);
    }

    #[test]
    fn cursors_survive_a_round_trip_through_json() {
        let mut cursors = SyncCursors::fresh();
        cursors.conversations = Some(ChainCursor::at(t(5)));
        let json = serde_json::to_string(&cursors).unwrap();
        assert_eq!(serde_json::from_str::<SyncCursors>(&json).unwrap(), cursors);
    }
}
