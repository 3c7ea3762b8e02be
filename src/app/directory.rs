//! The contacts directory: every contact the cache holds, narrowed by a
//! fuzzy filter as the agent types, with the provider's search for the
//! contacts the cache lacks.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config as MatcherConfig, Matcher, Utf32String};
use ratatui::layout::Rect;

use crate::domain::ContactId;
use crate::store::Store;

/// Terminals this wide show the selected contact's profile beside the
/// list; narrower ones show a one-line summary under it.
pub const PROFILE_MIN_WIDTH: u16 = 100;

/// Where each part of the directory goes. Pure, so that `update` scrolls
/// by the same numbers the renderer draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryLayout {
    /// The whole box, border included.
    pub frame: Rect,
    pub query: Rect,
    /// Counts, "searching the server…", the last error.
    pub status: Rect,
    /// One contact per line.
    pub list: Rect,
    /// The rule between the list and the summary or the profile.
    pub divider: Rect,
    /// A line about the selected contact (narrow terminals only).
    pub summary: Rect,
    /// The selected contact's profile (wide terminals only).
    pub profile: Rect,
}

pub fn layout(area: Rect) -> DirectoryLayout {
    if area.width < 3 || area.height < 3 {
        return DirectoryLayout {
            frame: area,
            query: Rect::default(),
            status: Rect::default(),
            list: Rect::default(),
            divider: Rect::default(),
            summary: Rect::default(),
            profile: Rect::default(),
        };
    }
    let inner = Rect::new(
        area.x.saturating_add(1),
        area.y.saturating_add(1),
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    let line = |y: u16| {
        if y < inner.bottom() {
            Rect::new(inner.x, y, inner.width, 1)
        } else {
            Rect::default()
        }
    };
    let query = line(inner.y);
    let status = line(inner.y + 1);
    let body_y = (inner.y + 2).min(inner.bottom());
    let body = Rect::new(inner.x, body_y, inner.width, inner.bottom() - body_y);
    if area.width >= PROFILE_MIN_WIDTH {
        let list_width = (body.width * 2 / 5).clamp(36, 64).min(body.width);
        let divider_x = body.x + list_width;
        let profile_x = (divider_x + 2).min(body.right());
        DirectoryLayout {
            frame: area,
            query,
            status,
            list: Rect::new(body.x, body.y, list_width, body.height),
            divider: Rect::new(
                divider_x,
                body.y,
                1.min(body.right() - divider_x),
                body.height,
            ),
            summary: Rect::default(),
            profile: Rect::new(profile_x, body.y, body.right() - profile_x, body.height),
        }
    } else {
        let list_height = body.height.saturating_sub(2);
        let below = |n: u16| {
            if body.height >= 2 {
                Rect::new(body.x, body.y + list_height + n, body.width, 1)
            } else {
                Rect::default()
            }
        };
        DirectoryLayout {
            frame: area,
            query,
            status,
            list: Rect::new(body.x, body.y, body.width, list_height),
            divider: below(0),
            summary: below(1),
            profile: Rect::default(),
        }
    }
}

/// Contacts the list shows at once on a `width` x `height` terminal.
pub fn list_height(width: u16, height: u16) -> usize {
    usize::from(layout(Rect::new(0, 0, width, height)).list.height)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub query: String,
    /// Contacts matching `query`, best first, as positions in the index
    /// (see [`Directory::contact_at`]): 50,000 ids cloned on every key
    /// would cost more than the matching.
    pub matches: Vec<u32>,
    /// Index into `matches`.
    pub selected: usize,
    /// First row shown.
    pub offset: usize,
    /// When the query last changed, to ask the server once typing pauses.
    pub query_changed_at: Option<DateTime<Utc>>,
    /// Queries the server was asked about since the directory opened.
    pub server_searched: Vec<String>,
    /// A server search for `query` is on its way.
    pub searching: bool,
    /// Why the last server search failed.
    pub error: Option<String>,
    /// Something opened over the directory (the editor, a question) and
    /// may have changed contacts: the index is rebuilt once it is on top
    /// again.
    pub covered: bool,
    /// The selection moved to a contact while no command could be
    /// returned (an answer arrived): it is read on the next tick.
    pub load_due: bool,
    index: Index,
}

impl Directory {
    /// Every contact of `store`, sorted by name.
    pub fn new(store: &Store) -> Directory {
        let mut directory = Directory {
            index: Index::build(store),
            ..Directory::default()
        };
        directory.rematch();
        directory
    }

    pub fn selected_contact(&self) -> Option<&ContactId> {
        self.contact_at(self.selected)
    }

    /// The contact at `position` among the matches.
    pub fn contact_at(&self, position: usize) -> Option<&ContactId> {
        let entry = *self.matches.get(position)?;
        self.index.entries.get(entry as usize).map(|e| &e.id)
    }

    /// Every contact the directory holds.
    pub fn total(&self) -> usize {
        self.index.entries.len()
    }

    /// A new query: the best match is selected.
    pub fn set_query(&mut self, store: &Store, query: String) {
        self.query = query;
        if self.index.stale(store) {
            self.index = Index::build(store);
        }
        self.rematch();
        self.selected = 0;
        self.offset = 0;
    }

    /// Follows the store when its contacts changed in number (synced,
    /// found, created, deleted); the selection stays on the same contact
    /// when it still matches.
    pub fn refresh(&mut self, store: &Store) {
        if self.index.stale(store) {
            self.rebuild(store);
        }
    }

    /// Reads every contact again (a contact renamed keeps the count), the
    /// selection staying on the same contact when it still matches.
    pub fn rebuild(&mut self, store: &Store) {
        let chosen = self.selected_contact().cloned();
        self.index = Index::build(store);
        self.rematch();
        let position = chosen.and_then(|id| {
            let entry = self.index.position(&id)?;
            self.matches.iter().position(|&m| m == entry)
        });
        self.selected = position.unwrap_or(0);
    }

    fn rematch(&mut self) {
        self.index.rematch(&self.query, &mut self.matches);
        if self.selected >= self.matches.len() {
            self.selected = self.matches.len().saturating_sub(1);
        }
    }

    /// Moves the selection by `delta` rows, within the matches.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.matches.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn select(&mut self, position: usize) {
        self.selected = position.min(self.matches.len().saturating_sub(1));
    }

    /// Scrolls so that the selection is among the `height` rows shown.
    pub fn ensure_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        // Rows that stopped matching leave no blank space at the bottom.
        let last_page = self.matches.len().saturating_sub(height);
        self.offset = self.offset.min(last_page);
    }

    /// Marks what the query matched in the rows drawn.
    pub fn highlighter(&self) -> Highlighter {
        Highlighter {
            query: Query::new(&self.query),
            matcher: Matcher::new(MatcherConfig::DEFAULT),
            found: Vec::new(),
        }
    }
}

/// The query ready to mark rows, made once per frame.
pub struct Highlighter {
    query: Query,
    matcher: Matcher,
    found: Vec<u32>,
}

impl Highlighter {
    /// Positions the query matched in what a row shows, for highlighting:
    /// grapheme clusters of the label, the phone and the e-mail (a phone
    /// matched by its digits is marked where those digits are).
    pub fn highlight(&mut self, label: &str, phone: &str, email: &str) -> Highlight {
        let Highlighter {
            query,
            matcher,
            found,
        } = self;
        let mut highlight = Highlight::default();
        if query.atoms.is_empty() {
            return highlight;
        }
        let fields = [label, phone, email].map(Utf32String::from);
        let digits = Utf32String::from(digits_of(phone).as_str());
        for (atom, digits_atom) in query.atoms.iter().zip(&query.digits) {
            for (field, out) in fields.iter().zip([
                &mut highlight.label,
                &mut highlight.phone,
                &mut highlight.email,
            ]) {
                found.clear();
                if atom.indices(field.slice(..), matcher, found).is_some() {
                    out.extend(found.iter().map(|&i| i as usize));
                }
            }
            if let Some(atom) = digits_atom {
                found.clear();
                if atom.indices(digits.slice(..), matcher, found).is_some() {
                    let places: Vec<usize> = fields[1]
                        .slice(..)
                        .chars()
                        .enumerate()
                        .filter(|(_, c)| c.is_ascii_digit())
                        .map(|(i, _)| i)
                        .collect();
                    highlight
                        .phone
                        .extend(found.iter().filter_map(|&i| places.get(i as usize)));
                }
            }
        }
        for marks in [
            &mut highlight.label,
            &mut highlight.phone,
            &mut highlight.email,
        ] {
            marks.sort_unstable();
            marks.dedup();
        }
        highlight
    }
}

/// Grapheme clusters the query matched in each field of a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Highlight {
    pub label: Vec<usize>,
    pub phone: Vec<usize>,
    pub email: Vec<usize>,
}

/// The query in nucleo's terms: typed text is literal (no fzf operators),
/// words are matched apart. A word of digits and phone punctuation is
/// also matched against the phone's digits alone, so that `532-123` finds
/// `+905321234567`.
struct Query {
    atoms: Vec<Atom>,
    /// Per word, its digits when it reads as (part of) a phone number.
    digits: Vec<Option<Atom>>,
    /// Per word, the bits a field must hold to match it.
    needs: Vec<u64>,
}

impl Query {
    fn new(query: &str) -> Query {
        let pattern = Pattern::new(
            query,
            CaseMatching::Smart,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        let digits = pattern
            .atoms
            .iter()
            .map(|atom| {
                let word: String = atom.needle_text().chars().collect();
                let phone_like = word.chars().any(|c| c.is_ascii_digit())
                    && word
                        .chars()
                        .all(|c| c.is_ascii_digit() || is_phone_punctuation(c));
                phone_like.then(|| {
                    Atom::new(
                        &digits_of(&word),
                        CaseMatching::Smart,
                        Normalization::Smart,
                        AtomKind::Fuzzy,
                        false,
                    )
                })
            })
            .collect();
        let needs = pattern
            .atoms
            .iter()
            .map(|atom| {
                atom.needle_text()
                    .chars()
                    .fold(0, |mask, c| mask | char_bit(c))
            })
            .collect();
        Query {
            atoms: pattern.atoms,
            digits,
            needs,
        }
    }
}

fn is_phone_punctuation(c: char) -> bool {
    "+-()./".contains(c)
}

fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Fields of an [`Entry`]'s haystack.
const LABEL: usize = 0;
const PHONE: usize = 1;
const EMAIL: usize = 2;
const DIGITS: usize = 3;

/// A contact as the filter reads it.
#[derive(Debug, Clone)]
struct Entry {
    id: ContactId,
    /// Label, phone, e-mail and the phone's digits, converted for nucleo
    /// once rather than on every key.
    fields: [Utf32String; 4],
    /// Per field, the characters it holds (see [`char_bit`]).
    masks: [u64; 4],
}

/// The store's contacts, sorted by name, ready for matching; and what the
/// last query matched, so that a longer query only looks at those.
#[derive(Debug, Clone, Default)]
struct Index {
    entries: Vec<Entry>,
    /// The store's contacts revision the entries were read at.
    revision: u64,
    /// The query of `hits`.
    last_query: Option<String>,
    /// Entries the last query matched, in the index's order.
    hits: Vec<u32>,
    /// Reused from key to key.
    scored: Vec<(u32, u32)>,
    matcher: Matcher,
}

/// A cache: two directories with the same contacts and matches are equal
/// whatever the index remembers of earlier queries.
impl PartialEq for Index {
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.id == b.id)
    }
}

impl Eq for Index {}

impl Index {
    fn build(store: &Store) -> Index {
        let mut sorted: Vec<(String, &ContactId, &str, &str, &str)> = store
            .contact_directory()
            .map(|(id, label, details)| {
                let phone = details.and_then(|d| d.phone.as_deref()).unwrap_or("");
                let email = details.and_then(|d| d.email.as_deref()).unwrap_or("");
                (label.to_lowercase(), id, label, phone, email)
            })
            .collect();
        sorted.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let entries = sorted
            .into_iter()
            .map(|(_, id, label, phone, email)| {
                let fields = [
                    Utf32String::from(label),
                    Utf32String::from(phone),
                    Utf32String::from(email),
                    Utf32String::from(digits_of(phone).as_str()),
                ];
                let masks = [0, 1, 2, 3].map(|n| {
                    fields[n]
                        .slice(..)
                        .chars()
                        .fold(0, |mask, c| mask | haystack_bits(c))
                });
                Entry {
                    id: id.clone(),
                    fields,
                    masks,
                }
            })
            .collect();
        Index {
            entries,
            revision: store.contacts_revision(),
            matcher: Matcher::new(MatcherConfig::DEFAULT),
            ..Index::default()
        }
    }

    /// The store's contacts changed (added, renamed, deleted) since the
    /// index was built.
    fn stale(&self, store: &Store) -> bool {
        store.contacts_revision() != self.revision
    }

    fn position(&self, id: &ContactId) -> Option<u32> {
        self.entries
            .iter()
            .position(|e| &e.id == id)
            .map(|p| p as u32)
    }

    /// Fills `matches` with the entries matching `query`, best first;
    /// equal scores keep the index's order (by name).
    fn rematch(&mut self, query: &str, matches: &mut Vec<u32>) {
        matches.clear();
        let parsed = Query::new(query);
        if parsed.atoms.is_empty() {
            matches.extend(0..self.entries.len() as u32);
            self.last_query = None;
            self.hits.clear();
            return;
        }
        // Every word only gets stricter as it grows or words are added, so
        // a longer query's hits are among its beginning's. A trailing
        // backslash may escape the space typed next, joining two words.
        // Phone punctuation alone (`+`, `(`) matches almost nothing, but
        // with a digit after it the word is matched as a phone number.
        let narrows = self.last_query.as_deref().is_some_and(|last| {
            query.starts_with(last)
                && !last.ends_with('\\')
                && !last
                    .split_whitespace()
                    .next_back()
                    .is_some_and(|word| word.chars().all(is_phone_punctuation))
        });
        let Index {
            entries,
            hits,
            scored,
            matcher,
            ..
        } = self;
        scored.clear();
        let mut score_entry = |position: u32| {
            if let Some(score) = score(&parsed, &entries[position as usize], matcher) {
                scored.push((score, position));
            }
        };
        if narrows {
            hits.iter().copied().for_each(&mut score_entry);
        } else {
            (0..entries.len() as u32).for_each(&mut score_entry);
        }
        hits.clear();
        hits.extend(scored.iter().map(|&(_, position)| position));
        scored.sort_unstable_by_key(|&(score, position)| (Reverse(score), position));
        matches.extend(scored.iter().map(|&(_, position)| position));
        self.last_query = Some(query.to_string());
    }
}

/// How well `entry` matches: every word must match one of its fields; its
/// best field counts. A match in the name edges out an equal one in the
/// phone or the e-mail.
fn score(query: &Query, entry: &Entry, matcher: &mut Matcher) -> Option<u32> {
    let mut total = 0u32;
    for ((atom, digits), &needs) in query.atoms.iter().zip(&query.digits).zip(&query.needs) {
        // Most fields lack a character the word needs: ruling them out
        // costs a comparison, matching them costs nucleo's prefilter.
        let can = |n: usize| entry.masks[n] & needs == needs;
        let field = |n: usize| entry.fields[n].slice(..);
        let mut best = None;
        if can(LABEL) {
            best = atom
                .score(field(LABEL), matcher)
                .map(|s| u32::from(s) * 2 + 1);
        }
        // Digits alone are matched against the phone's digits, which find
        // whatever the phone as written would.
        let digits_only =
            digits.is_some() && atom.needle_text().chars().all(|c| c.is_ascii_digit());
        for n in [PHONE, EMAIL] {
            if can(n)
                && !(n == PHONE && digits_only)
                && let Some(s) = atom.score(field(n), matcher)
            {
                best = best.max(Some(u32::from(s) * 2));
            }
        }
        if let Some(digits) = digits
            && !entry.fields[DIGITS].is_empty()
            && let Some(s) = digits.score(field(DIGITS), matcher)
        {
            best = best.max(Some(u32::from(s) * 2));
        }
        total += best?;
    }
    Some(total)
}

/// A bit standing for `c`. Letters share one with their other case; other
/// characters share bits by their code. Only used to rule out matches: a
/// field lacking a bit the word needs cannot match it.
fn char_bit(c: char) -> u64 {
    let n = match c {
        'a'..='z' => c as u32 - 'a' as u32,
        'A'..='Z' => c as u32 - 'A' as u32,
        '0'..='9' => 26 + c as u32 - '0' as u32,
        _ => 36 + c as u32 % 28,
    };
    1 << n
}

/// The bits of every form nucleo may compare a haystack character in,
/// whatever case and accent rules a word brings: as written, in lower
/// case, without its accent, both.
fn haystack_bits(c: char) -> u64 {
    if c.is_ascii() {
        return char_bit(c);
    }
    let plain = nucleo_matcher::chars::normalize(c);
    char_bit(c)
        | char_bit(nucleo_matcher::chars::to_lower_case(c))
        | char_bit(plain)
        | char_bit(nucleo_matcher::chars::to_lower_case(plain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Contact;

    fn store() -> Store {
        let names = [
            ("Ayşe", "Yılmaz", "+90 532 123 45 67", "ayse@example.com"),
            ("Mehmet", "Kaya", "(555) 010-2030", "mk@kaya.net"),
            ("محمد", "", "+966 50 123 4567", ""),
            ("王芳", "", "", "wang.fang@example.cn"),
            ("Ada", "Lovelace", "+44 20 7946 0958", "ada@example.org"),
            ("ada", "Byron", "", "byron@example.org"),
        ];
        let mut contacts = Vec::new();
        for n in 0..300 {
            let (first, last, phone, email) = names[n % names.len()];
            let mut contact = Contact::named(format!("c-{n}"), format!("{first}{}", n / 6));
            contact.last_name = (!last.is_empty()).then(|| last.to_string());
            contact.phone = (!phone.is_empty()).then(|| format!("{phone}{}", n % 10));
            contact.email = (!email.is_empty()).then(|| email.to_string());
            contacts.push(contact);
        }
        let mut store = Store::default();
        store.upsert_contacts(contacts, Vec::new());
        store
    }

    #[test]
    fn typing_on_matches_what_the_whole_query_matches() {
        let store = store();
        for query in [
            "ayse 12",
            "(532) 123",
            "+9",
            "Ada L",
            "ada\\ b",
            "wang.fang",
            "555-010",
            "ka 7",
        ] {
            let mut typed = Directory::new(&store);
            let mut so_far = String::new();
            for c in query.chars() {
                so_far.push(c);
                typed.set_query(&store, so_far.clone());
                let mut whole = Directory::new(&store);
                whole.set_query(&store, so_far.clone());
                assert_eq!(typed.matches, whole.matches, "{so_far:?}");
            }
        }
    }

    #[test]
    fn layout_keeps_the_list_inside_the_box() {
        for (width, height) in [(80, 24), (100, 30), (200, 50), (20, 5), (0, 0)] {
            let area = Rect::new(0, 0, width, height);
            let layout = layout(area);
            let parts = [
                layout.query,
                layout.status,
                layout.list,
                layout.divider,
                layout.summary,
                layout.profile,
            ];
            for rect in parts.into_iter().filter(|r| !r.is_empty()) {
                assert!(
                    area.contains(rect.as_position()),
                    "{width}x{height} {rect:?}"
                );
                assert!(rect.right() < area.right() && rect.bottom() < area.bottom());
            }
            assert_eq!(
                layout.profile.is_empty(),
                width < PROFILE_MIN_WIDTH || height < 4
            );
        }
        assert_eq!(list_height(80, 24), 18);
        assert_eq!(list_height(200, 50), 46);
    }
}
