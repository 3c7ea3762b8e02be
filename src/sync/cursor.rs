//! Where the sync stands, saved in the store so a restart resumes instead of
//! downloading everything again. Pure data and pure arithmetic: the worker
//! decides what to fetch from it, the store persists it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::PageCursor;

/// Key of the cursors in the store's metadata.
pub const META_KEY: &str = "sync.cursors";

/// How far back an incremental query reaches behind the newest change seen:
/// clocks of the server's writers disagree a little, and a change stamped
/// slightly in the past must not fall between two polls. Duplicates merge.
pub const OVERLAP: chrono::Duration = chrono::Duration::seconds(120);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SavedCursors")]
pub struct SyncCursors {
    /// Changes to conversations are fetched from here on (inclusive).
    pub conversations: Option<ChainCursor>,
    /// The whole-list backfill (newest first).
    pub backfill: Backfill,
    /// The contact directory, oldest change first; resumable mid-way.
    pub contacts: Option<ChainCursor>,
    /// The directory has been read to its end at least once.
    pub contacts_complete: bool,
    /// Conversations the server reported in total at the last backfill page.
    pub total_conversations: Option<u64>,
    pub total_contacts: Option<u64>,
}

/// Where the backfill of the whole conversation list stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backfill {
    /// Starts behind the newest page, once the live loop has read it.
    Pending,
    /// The next pages start here.
    At(PageCursor),
    /// The whole list has been seen.
    Done,
}

/// Nothing synced yet: the first page comes from the live loop, the
/// backfill starts behind it.
impl Default for SyncCursors {
    fn default() -> Self {
        SyncCursors {
            conversations: None,
            backfill: Backfill::Pending,
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
        self.backfill == Backfill::Done
    }
}

/// The saved form, also as earlier versions wrote it: page numbers
/// (`backfill_page`, `ChainCursor::page`) that only Qpien could read. Those
/// cannot become another provider's cursors, so a position within a list
/// restarts at that list's first page (rows merge; nothing is skipped).
#[derive(Deserialize)]
struct SavedCursors {
    #[serde(default)]
    conversations: Option<ChainCursor>,
    #[serde(default)]
    backfill: Option<Backfill>,
    /// Earlier versions: the next backfill page, `null` once done.
    #[serde(default, deserialize_with = "present")]
    backfill_page: Option<Option<u32>>,
    #[serde(default)]
    contacts: Option<ChainCursor>,
    #[serde(default)]
    contacts_complete: bool,
    #[serde(default)]
    total_conversations: Option<u64>,
    #[serde(default)]
    total_contacts: Option<u64>,
}

/// Tells a `null` apart from a missing field.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

impl From<SavedCursors> for SyncCursors {
    fn from(saved: SavedCursors) -> Self {
        let backfill = match (saved.backfill, saved.backfill_page) {
            (Some(backfill), _) => backfill,
            (None, Some(None)) => Backfill::Done,
            (None, _) => Backfill::Pending,
        };
        SyncCursors {
            conversations: saved.conversations,
            backfill,
            contacts: saved.contacts,
            contacts_complete: saved.contacts_complete,
            total_conversations: saved.total_conversations,
            total_contacts: saved.total_contacts,
        }
    }
}

/// A resumable position in a list sorted by change time, oldest first:
/// "changed at or after `since`, from page `next`". Paging by time alone
/// loops forever when a whole page shares one timestamp (a bulk import); the
/// page cursor steps over such a run, and resets whenever the time moves on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCursor {
    pub since: DateTime<Utc>,
    /// `None` is the first page of "changed at or after `since`". Earlier
    /// versions saved a page number instead; it is ignored.
    #[serde(default)]
    pub next: Option<PageCursor>,
}

impl ChainCursor {
    pub fn at(since: DateTime<Utc>) -> Self {
        ChainCursor { since, next: None }
    }

    /// The cursor after reading pages from this one, given the newest
    /// change time on the last page (`None` when it was empty) and where
    /// the page after it starts.
    pub fn advance(
        &self,
        last_on_last_page: Option<DateTime<Utc>>,
        next: Option<PageCursor>,
    ) -> ChainCursor {
        match last_on_last_page {
            Some(last) if last > self.since => ChainCursor::at(last),
            Some(_) => ChainCursor {
                since: self.since,
                next,
            },
            None => self.clone(),
        }
    }

    /// The cursor once a read reached the end of the list: back to the
    /// first page, a little behind the newest change so stamps that land
    /// late are read again rather than missed (never further back than it
    /// already was).
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

    fn cursor(s: &str) -> Option<PageCursor> {
        Some(PageCursor::new(s))
    }

    #[test]
    fn a_cursor_moves_to_the_newest_time_and_restarts_at_the_first_page() {
        let c = ChainCursor::at(t(0));
        assert_eq!(c.advance(Some(t(50)), cursor("4")), ChainCursor::at(t(50)));
    }

    #[test]
    fn a_page_that_shares_one_timestamp_steps_the_page_instead_of_looping() {
        let c = ChainCursor::at(t(10));
        let next = c.advance(Some(t(10)), cursor("2"));
        assert_eq!(
            next,
            ChainCursor {
                since: t(10),
                next: cursor("2")
            }
        );
        assert_eq!(next.advance(Some(t(10)), cursor("4")).next, cursor("4"));
        assert_eq!(
            next.advance(Some(t(11)), cursor("3")),
            ChainCursor::at(t(11))
        );
    }

    #[test]
    fn an_empty_page_leaves_the_cursor_where_it_was() {
        let c = ChainCursor {
            since: t(10),
            next: cursor("x"),
        };
        assert_eq!(c.advance(None, None), c);
    }

    #[test]
    fn catching_up_keeps_an_overlap_but_never_moves_backwards() {
        let c = ChainCursor {
            since: t(10),
            next: cursor("3"),
        };
        assert_eq!(
            c.caught_up(Some(t(1000))),
            ChainCursor::at(t(1000) - OVERLAP)
        );
        assert_eq!(c.caught_up(Some(t(20))), ChainCursor::at(t(10)));
        assert_eq!(c.caught_up(None), ChainCursor::at(t(10)));
    }

    #[test]
    fn cursors_survive_a_round_trip_through_json() {
        let mut cursors = SyncCursors::fresh();
        cursors.conversations = Some(ChainCursor {
            since: t(5),
            next: cursor("opaque/token=="),
        });
        cursors.backfill = Backfill::At(PageCursor::new("7"));
        let json = serde_json::to_string(&cursors).unwrap();
        assert_eq!(serde_json::from_str::<SyncCursors>(&json).unwrap(), cursors);
        for backfill in [Backfill::Pending, Backfill::Done] {
            cursors.backfill = backfill;
            let json = serde_json::to_string(&cursors).unwrap();
            assert_eq!(serde_json::from_str::<SyncCursors>(&json).unwrap(), cursors);
        }
    }

    #[test]
    fn cursors_saved_with_page_numbers_still_load() {
        let since = "2023-11-14T22:13:25Z";
        let old = |backfill: &str| {
            format!(
                r#"{{"conversations":{{"since":"{since}","page":3}},"backfill_page":{backfill},
                "contacts":{{"since":"{since}","page":1}},"contacts_complete":true,
                "total_conversations":90,"total_contacts":null}}"#
            )
        };
        let loaded: SyncCursors = serde_json::from_str(&old("null")).unwrap();
        let since: DateTime<Utc> = since.parse().unwrap();
        assert_eq!(
            loaded,
            SyncCursors {
                conversations: Some(ChainCursor::at(since)),
                backfill: Backfill::Done,
                contacts: Some(ChainCursor::at(since)),
                contacts_complete: true,
                total_conversations: Some(90),
                total_contacts: None,
            }
        );
        // A backfill half-way starts over behind the newest page.
        let loaded: SyncCursors = serde_json::from_str(&old("12")).unwrap();
        assert_eq!(loaded.backfill, Backfill::Pending);
        // Whatever else a damaged value holds is an error the store turns
        // into a fresh start, never a panic.
        assert!(serde_json::from_str::<SyncCursors>(r#"{"backfill":"sideways"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<SyncCursors>("{}").unwrap(),
            SyncCursors::fresh()
        );
    }
}
