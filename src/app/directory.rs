//! The contacts directory: every contact the cache holds, narrowed by a
//! fuzzy filter as the agent types, with the provider's search for the
//! contacts the cache lacks.

use chrono::{DateTime, Utc};

use crate::domain::ContactId;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub query: String,
    /// Contacts matching `query`, best first.
    pub matches: Vec<ContactId>,
    /// Index into `matches`.
    pub selected: usize,
    /// First row shown.
    pub offset: usize,
    /// When the query last changed, to ask the server once typing pauses.
    pub query_changed_at: Option<DateTime<Utc>>,
    /// The query the server was last asked about.
    pub server_searched: Option<String>,
    /// A server search is on its way.
    pub searching: bool,
    /// Why the last server search failed.
    pub error: Option<String>,
}

impl Directory {
    pub fn selected_contact(&self) -> Option<&ContactId> {
        self.matches.get(self.selected)
    }
}
