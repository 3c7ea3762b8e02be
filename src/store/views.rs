//! Views are queries over the store: a tab (Mine, Unassigned, All),
//! filters that combine, a sort, and the filter typed with `/`.
//!
//! [`ViewEngine`] answers them on every key for 50,000 conversations: it
//! keeps what each row needs (its facets and the text the filter matches)
//! and redoes only the rows the store reports changed; it keeps the rows of
//! the tab under its filters and sort until one of those changes; and a
//! typed filter that extends the previous one only re-matches its hits.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Matcher, Utf32Str, chars};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Priority, SenderKind, TagId,
};
use crate::store::{ChangeCursor, Changes, ConversationEntry, Store};

/// Metadata key of the saved view.
pub const META_KEY: &str = "view";
/// Metadata key of the agent chosen as "me" when the config names none.
pub const ME_KEY: &str = "me.agent";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tab {
    Mine,
    Unassigned,
    #[default]
    All,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Mine, Tab::Unassigned, Tab::All];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Mine => "Mine",
            Tab::Unassigned => "Unassigned",
            Tab::All => "All",
        }
    }

    /// For a narrow list.
    pub fn short_label(self) -> &'static str {
        match self {
            Tab::Mine => "Mine",
            Tab::Unassigned => "Unasg.",
            Tab::All => "All",
        }
    }

    /// For a very narrow list.
    pub fn initial(self) -> &'static str {
        match self {
            Tab::Mine => "M",
            Tab::Unassigned => "U",
            Tab::All => "A",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortOrder {
    #[default]
    LatestActivity,
    LongestWaiting,
    Priority,
}

impl SortOrder {
    pub const ALL: [SortOrder; 3] = [
        SortOrder::LatestActivity,
        SortOrder::LongestWaiting,
        SortOrder::Priority,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortOrder::LatestActivity => "latest activity",
            SortOrder::LongestWaiting => "longest waiting",
            SortOrder::Priority => "priority",
        }
    }

    pub fn next(self) -> SortOrder {
        let index = SortOrder::ALL.iter().position(|s| *s == self).unwrap_or(0);
        SortOrder::ALL[(index + 1) % SortOrder::ALL.len()]
    }
}

/// Filters combine: a row must pass every one that is set. Within one
/// list (statuses, channels…) any value passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub statuses: Vec<ConversationStatus>,
    pub channels: Vec<Channel>,
    pub tags: Vec<TagId>,
    pub priorities: Vec<Priority>,
    pub starred: bool,
    pub unread: bool,
    /// Only this account's rows, when several accounts share the inbox.
    pub account: Option<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    pub fn matches(&self, entry: &ConversationEntry) -> bool {
        let c = &entry.conversation;
        (self.statuses.is_empty() || self.statuses.contains(&c.status))
            && (self.channels.is_empty() || self.channels.contains(&c.channel))
            && (self.tags.is_empty() || c.tags.iter().any(|t| self.tags.contains(&t.id)))
            && (self.priorities.is_empty()
                || c.priority
                    .as_ref()
                    .is_some_and(|p| self.priorities.contains(p)))
            && (!self.starred || c.starred)
            && (!self.unread || entry.unread > 0)
            && self.account.as_deref().is_none_or(|account| {
                crate::api::accounts::account_of(c.id.as_str()) == Some(account)
            })
    }
}

/// What the list shows; saved, so it survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSpec {
    pub tab: Tab,
    pub filters: Filters,
    pub sort: SortOrder,
}

/// Rows in each tab under the current filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TabCounts {
    pub mine: usize,
    pub unassigned: usize,
    pub all: usize,
}

impl TabCounts {
    pub fn get(&self, tab: Tab) -> usize {
        match tab {
            Tab::Mine => self.mine,
            Tab::Unassigned => self.unassigned,
            Tab::All => self.all,
        }
    }
}

/// The rows on screen, in order, and the tab counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub rows: Rows,
    pub counts: TabCounts,
}

/// Ids by slot, in chunks: a list on screen shares them, and adding rows
/// copies at most one chunk instead of every id. Each id keeps a hash, so
/// that finding a row compares numbers rather than strings.
#[derive(Debug, Clone, Default)]
struct IdTable {
    chunks: Vec<Arc<Vec<(u64, ConversationId)>>>,
}

const ID_CHUNK: usize = 1024;

fn id_hash(id: &ConversationId) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(id)
}

impl IdTable {
    fn entry(&self, slot: u32) -> &(u64, ConversationId) {
        let slot = slot as usize;
        &self.chunks[slot / ID_CHUNK][slot % ID_CHUNK]
    }

    fn get(&self, slot: u32) -> &ConversationId {
        &self.entry(slot).1
    }

    fn try_get(&self, slot: u32) -> Option<&ConversationId> {
        let slot = slot as usize;
        self.chunks
            .get(slot / ID_CHUNK)
            .and_then(|chunk| chunk.get(slot % ID_CHUNK))
            .map(|(_, id)| id)
    }

    fn push(&mut self, id: ConversationId) {
        let entry = (id_hash(&id), id);
        match self.chunks.last_mut() {
            Some(last) if last.len() < ID_CHUNK => Arc::make_mut(last).push(entry),
            _ => {
                let mut chunk = Vec::with_capacity(ID_CHUNK);
                chunk.push(entry);
                self.chunks.push(Arc::new(chunk));
            }
        }
    }
}

/// The rows of a list, in order. Shared with the [`ViewEngine`] rather
/// than copied: a tab switch over 50,000 rows would otherwise copy 50,000
/// ids.
#[derive(Clone, Default)]
pub struct Rows {
    ids: IdTable,
    slots: Arc<[u32]>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&ConversationId> {
        self.slots.get(index).map(|&slot| self.ids.get(slot))
    }

    pub fn first(&self) -> Option<&ConversationId> {
        self.get(0)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ConversationId> + DoubleEndedIterator {
        self.slots.iter().map(|&slot| self.ids.get(slot))
    }

    pub fn contains(&self, id: &ConversationId) -> bool {
        self.position(id).is_some()
    }

    /// These rows with those of `keep` that `previous` showed put back at
    /// their old places: rows the agent just acted on stay until they move
    /// on, even when the action took them out of the view.
    pub fn keeping(&self, previous: &Rows, keep: &[ConversationId]) -> Rows {
        let mut slots: Option<Vec<u32>> = None;
        for id in keep {
            if self.contains(id) {
                continue;
            }
            let Some(index) = previous.position(id) else {
                continue;
            };
            let slot = previous.slots[index];
            // Slots only ever grow, so an old slot names the same row here.
            if self.ids.try_get(slot) != Some(id) {
                continue;
            }
            let slots = slots.get_or_insert_with(|| self.slots.to_vec());
            slots.insert(index.min(slots.len()), slot);
        }
        match slots {
            Some(slots) => Rows {
                ids: self.ids.clone(),
                slots: slots.into(),
            },
            None => self.clone(),
        }
    }

    pub fn position(&self, id: &ConversationId) -> Option<usize> {
        let hash = id_hash(id);
        self.slots.iter().position(|&slot| {
            let (row_hash, row) = self.ids.entry(slot);
            *row_hash == hash && row == id
        })
    }
}

impl std::ops::Index<usize> for Rows {
    type Output = ConversationId;

    fn index(&self, index: usize) -> &ConversationId {
        self.ids.get(self.slots[index])
    }
}

impl PartialEq for Rows {
    fn eq(&self, other: &Rows) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Rows {}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

pub fn in_tab(tab: Tab, conversation: &Conversation, me: Option<&AgentId>) -> bool {
    match tab {
        Tab::All => true,
        Tab::Unassigned => conversation.assignee.is_none(),
        Tab::Mine => me.is_some() && conversation.assignee.as_ref() == me,
    }
}

/// Since when the customer has waited: their message is the newest one,
/// so nobody has answered it yet.
pub fn waiting_since(conversation: &Conversation) -> Option<DateTime<Utc>> {
    let last = conversation.last_message.as_ref()?;
    let done = matches!(
        conversation.status,
        ConversationStatus::Resolved | ConversationStatus::Closed
    );
    (last.sender == SenderKind::Contact && !done).then_some(last.created_at)
}

fn priority_rank(priority: Option<&Priority>) -> u8 {
    match priority {
        Some(Priority::Urgent) => 0,
        Some(Priority::High) => 1,
        Some(Priority::Medium) => 2,
        Some(Priority::Low) => 3,
        Some(Priority::Unknown(_)) | None => 4,
    }
}

/// Characters of the last message the filter looks at: a preview's worth,
/// which bounds the work per key and the memory kept per row.
const MESSAGE_CHARS: usize = 300;

/// Maps over the engine's rows: seeded (ids come from a server), and
/// faster than the standard hasher for 50,000 of them.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Values seen in a field, numbered, so that rows carry small numbers.
#[derive(Debug, Clone)]
struct Interner<T> {
    numbers: FastMap<T, u32>,
    values: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            numbers: FastMap::default(),
            values: Vec::new(),
        }
    }
}

impl<T: std::hash::Hash + Eq + Clone> Interner<T> {
    fn number(&mut self, value: &T) -> u32 {
        if let Some(&n) = self.numbers.get(value) {
            return n;
        }
        let n = self.values.len() as u32;
        self.numbers.insert(value.clone(), n);
        self.values.push(value.clone());
        n
    }

    /// Which numbers a filter's list admits (an empty list admits all).
    fn admitted(&self, wanted: &[T]) -> Option<Vec<bool>> {
        (!wanted.is_empty()).then(|| self.values.iter().map(|v| wanted.contains(v)).collect())
    }
}

const STARRED: u8 = 1;
const UNREAD: u8 = 2;
/// `Facets::assignee` of a row nobody has.
const NOBODY: u32 = 0;

/// What tabs and filters look at, a few bytes per row so that a pass over
/// 50,000 rows stays in the CPU's cache.
#[derive(Debug, Clone, Copy)]
struct Facets {
    status: u32,
    channel: u32,
    /// Interned priority + 1; 0 for none.
    priority: u32,
    /// Interned agent + 1; [`NOBODY`] for none.
    assignee: u32,
    flags: u8,
}

/// The text the typed filter is matched against: contact name, phone and
/// e-mail (matched fuzzily), then the start of the last message (matched
/// word by word), one after the other, kept in [`Texts`].
#[derive(Debug, Clone, Copy)]
struct Haystack {
    /// In lower case without accents: how nucleo compares characters for
    /// a word in plain lower case (most words typed). Matched as is, it
    /// spares the matcher folding every character on every key, and text
    /// in Latin script becomes ASCII, which is searched fastest.
    folded: Span,
    /// As written, when folding changed anything: for words with capitals
    /// or accents. Folding keeps every character's place.
    written: Option<Span>,
    /// Where each field ends, in characters.
    ends: [u32; 4],
}

/// Fields of a [`Haystack`].
const MESSAGE: usize = 3;

/// Where a haystack's characters start in [`Texts`].
#[derive(Debug, Clone, Copy)]
enum Span {
    Ascii(u32),
    Wide(u32),
}

/// The characters of every haystack side by side, in the order the rows
/// were made (the list's order at the last rebuild): going through the
/// rows then reads memory in one stream instead of a fetch per row.
#[derive(Debug, Clone, Default)]
struct Texts {
    ascii: Vec<u8>,
    wide: Vec<char>,
    /// Characters of replaced rows, reclaimed by [`ViewEngine::compact`].
    unused: usize,
}

impl Texts {
    fn push(&mut self, chars: &[char]) -> Span {
        if chars.iter().all(char::is_ascii) {
            let start = self.ascii.len() as u32;
            self.ascii.extend(chars.iter().map(|&c| c as u8));
            Span::Ascii(start)
        } else {
            let start = self.wide.len() as u32;
            self.wide.extend_from_slice(chars);
            Span::Wide(start)
        }
    }

    fn get(&self, span: Span, range: std::ops::Range<u32>) -> Utf32Str<'_> {
        let (start, end) = (range.start as usize, range.end as usize);
        match span {
            Span::Ascii(at) => Utf32Str::Ascii(&self.ascii[at as usize + start..at as usize + end]),
            Span::Wide(at) => Utf32Str::Unicode(&self.wide[at as usize + start..at as usize + end]),
        }
    }

    fn len(&self) -> usize {
        self.ascii.len() + self.wide.len()
    }

    /// Copies `len` characters at `span` of `other`.
    fn copy(&mut self, other: &Texts, span: Span, len: u32) -> Span {
        match other.get(span, 0..len) {
            Utf32Str::Ascii(bytes) => {
                let start = self.ascii.len() as u32;
                self.ascii.extend_from_slice(bytes);
                Span::Ascii(start)
            }
            Utf32Str::Unicode(chars) => {
                let start = self.wide.len() as u32;
                self.wide.extend_from_slice(chars);
                Span::Wide(start)
            }
        }
    }
}

/// Characters as nucleo holds text: ASCII as is, other text by the first
/// character of each grapheme (as `Utf32String::from` does).
fn push_chars(text: &str, out: &mut Vec<char>) {
    if text.is_ascii() {
        out.extend(text.bytes().map(char::from));
    } else {
        out.extend(chars::graphemes(text));
    }
}

/// Buffers reused from row to row while haystacks are built.
#[derive(Debug, Clone, Default)]
struct Scratch {
    written: Vec<char>,
    folded: Vec<char>,
}

impl Haystack {
    /// The haystack, its characters added to `texts`, and the characters
    /// present in each field (see [`fold`]).
    fn new(
        store: &Store,
        c: &Conversation,
        scratch: &mut Scratch,
        texts: &mut Texts,
    ) -> (Haystack, [u64; 4]) {
        let details = c
            .contact_id
            .as_ref()
            .and_then(|id| store.contact_details(id));
        let message = c.last_message.as_ref().map_or("", |m| {
            let end = m
                .text
                .char_indices()
                .nth(MESSAGE_CHARS)
                .map_or(m.text.len(), |(end, _)| end);
            &m.text[..end]
        });
        let fields = [
            c.contact_name.as_str(),
            details.and_then(|d| d.phone.as_deref()).unwrap_or(""),
            details.and_then(|d| d.email.as_deref()).unwrap_or(""),
            message,
        ];
        let Scratch { written, folded } = scratch;
        written.clear();
        folded.clear();
        let mut ends = [0; 4];
        let mut masks = [0; 4];
        for (n, field) in fields.into_iter().enumerate() {
            let start = written.len();
            push_chars(field, written);
            if n == MESSAGE {
                // nucleo-matcher 0.3.1 never finds a word at the very end
                // of a non-ASCII text; a trailing space keeps it findable.
                written.push(' ');
            }
            for &c in &written[start..] {
                let (plain, bits) = fold(c);
                folded.push(plain);
                masks[n] |= bits;
            }
            ends[n] = written.len() as u32;
        }
        let haystack = Haystack {
            folded: texts.push(folded),
            written: (folded != written).then(|| texts.push(written)),
            ends,
        };
        (haystack, masks)
    }

    /// Field `n`, folded for a plain word, else as written.
    fn field<'a>(&self, texts: &'a Texts, n: usize, plain: bool) -> Utf32Str<'a> {
        let start = if n == 0 { 0 } else { self.ends[n - 1] };
        let span = match self.written {
            Some(written) if !plain => written,
            _ => self.folded,
        };
        texts.get(span, start..self.ends[n])
    }

    /// Characters it holds in [`Texts`].
    fn size(&self) -> usize {
        self.ends[MESSAGE] as usize * (1 + usize::from(self.written.is_some()))
    }
}

/// A bit standing for `c`. Letters share one with their other case; other
/// characters share bits by their code. Only used to rule out matches:
/// a field lacking a bit the word needs cannot match it.
fn char_bit(c: char) -> u64 {
    let n = match c {
        'a'..='z' => c as u32 - 'a' as u32,
        'A'..='Z' => c as u32 - 'A' as u32,
        '0'..='9' => 26 + c as u32 - '0' as u32,
        _ => 36 + c as u32 % 28,
    };
    1 << n
}

/// A character in lower case without its accent, as nucleo compares it
/// for a plain word, and the bits of every form the matcher may compare
/// it in, whatever case and accent rules a word brings: as written,
/// folded, without its accent, both.
fn fold(c: char) -> (char, u64) {
    if c.is_ascii() {
        // nucleo's tables leave ASCII alone but for the case.
        let lower = c.to_ascii_lowercase();
        return (lower, char_bit(c) | char_bit(lower));
    }
    let plain = chars::normalize(c);
    let folded = chars::to_lower_case(plain);
    let bits = char_bit(c) | char_bit(chars::to_lower_case(c)) | char_bit(plain) | char_bit(folded);
    (folded, bits)
}

/// One word of the typed filter.
struct Word {
    /// The word as nucleo reads it (its needle); its kind is unused.
    atom: Atom,
    /// The needle in ASCII, searched for in ASCII messages.
    ascii: Option<memchr::memmem::Finder<'static>>,
    /// The needle's characters, compared with text in other scripts.
    chars: Vec<char>,
    /// The bits its characters need (see [`char_bit`]).
    needs: u64,
    /// One lower-case ASCII letter or digit: a field matches exactly when
    /// it has the character's bit, so the masks alone decide.
    single: bool,
    /// nucleo's smart case and smart normalization for this word.
    ignore_case: bool,
    normalize: bool,
}

impl Word {
    fn new(atom: Atom) -> Word {
        let needle = atom.needle_text();
        let mut chars_of = needle.chars();
        let single = matches!(
            (chars_of.next(), chars_of.next()),
            (Some('a'..='z' | '0'..='9'), None)
        );
        let ascii = match needle {
            Utf32Str::Ascii(bytes) => Some(memchr::memmem::Finder::new(bytes).into_owned()),
            Utf32Str::Unicode(_) => None,
        };
        Word {
            ascii,
            chars: needle.chars().collect(),
            needs: needle.chars().fold(0, |m, c| m | char_bit(c)),
            single,
            ignore_case: !needle.chars().any(chars::is_upper_case),
            normalize: needle.chars().all(|c| chars::normalize(c) == c),
            atom,
        }
    }
}

/// The filter typed with `/`, one word at a time (split at spaces): every
/// word must match the contact's name, phone or e-mail fuzzily (its letters
/// in order, gaps allowed: `5551234` finds `+90 555 123 4567`) or appear in
/// the last message. A short word matches almost any long message fuzzily,
/// so there it must appear as typed. A word in lower case ignores case, one
/// with a capital respects it; plain letters also match accented ones
/// (`ayse` finds `Ayşe`) unless the word has accents itself.
///
/// Every rule only gets stricter as a word grows or words are added, so the
/// hits of a longer query are among the hits of its beginning.
struct Query {
    words: Vec<Word>,
}

impl Query {
    fn new(query: &str) -> Query {
        let pattern = Pattern::new(
            query,
            CaseMatching::Smart,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        Query {
            words: pattern.atoms.into_iter().map(Word::new).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether the row matches; how well does not matter (the list keeps
    /// its sort). So nucleo's greedy matcher is enough: it finds a match
    /// whenever the optimal one would, without its scoring matrix. And
    /// characters compared exactly need no matcher at all: in order (fuzzy)
    /// or in a row (substring) is all nucleo would check.
    fn matches(
        &self,
        texts: &Texts,
        row: &Haystack,
        masks: &[u64; 4],
        matcher: &mut Matcher,
    ) -> bool {
        self.words.iter().all(|word| {
            let can = |field: usize| masks[field] & word.needs == word.needs;
            if word.single {
                return (0..4).any(can);
            }
            // A plain word compares folded characters: the folded text
            // needs no folding on the way.
            let plain = word.ignore_case && word.normalize;
            matcher.config.ignore_case = word.ignore_case && !plain;
            matcher.config.normalize = word.normalize && !plain;
            let needle = word.atom.needle_text();
            let matches = |field: usize, matcher: &mut Matcher| {
                if !can(field) {
                    return false;
                }
                let fuzzy = field != MESSAGE;
                let text = row.field(texts, field, plain);
                // Characters compared as they are: folded text for a plain
                // word; ASCII, which has no accents, for a word with capitals.
                let exact = plain || (!word.ignore_case && matches!(text, Utf32Str::Ascii(_)));
                if !exact {
                    return if fuzzy {
                        matcher.fuzzy_match_greedy(text, needle).is_some()
                    } else {
                        matcher.substring_match(text, needle).is_some()
                    };
                }
                match (text, needle, &word.ascii) {
                    (Utf32Str::Ascii(text), Utf32Str::Ascii(bytes), Some(finder)) => {
                        if fuzzy {
                            in_order(text, bytes)
                        } else {
                            finder.find(text).is_some()
                        }
                    }
                    (Utf32Str::Unicode(text), _, _) => {
                        if fuzzy {
                            in_order(text, &word.chars)
                        } else {
                            text.windows(word.chars.len()).any(|w| w == word.chars)
                        }
                    }
                    // Other characters never equal ASCII ones.
                    _ => false,
                }
            };
            (0..4).any(|field| matches(field, matcher))
        })
    }
}

/// Whether `needle` appears in `text` in order, gaps allowed.
fn in_order<T: PartialEq>(text: &[T], needle: &[T]) -> bool {
    if needle.is_empty() {
        return true;
    }
    let mut found = 0;
    for c in text {
        if *c == needle[found] {
            found += 1;
            if found == needle.len() {
                return true;
            }
        }
    }
    false
}

/// `query` only narrows what `previous` matched. A trailing backslash may
/// escape the space typed next (nucleo's syntax), which joins two words.
fn extends(previous: &str, query: &str) -> bool {
    query.starts_with(previous) && !previous.ends_with('\\')
}

/// What the rows of a view depend on besides the typed filter.
#[derive(Debug, Clone, PartialEq)]
struct BaseKey {
    generation: u64,
    spec: ViewSpec,
    me: Option<AgentId>,
}

/// The tab's rows under the filters, in the chosen order, and the counts.
#[derive(Debug, Clone)]
struct Base {
    key: BaseKey,
    slots: Arc<[u32]>,
    counts: TabCounts,
}

/// The rows the last typed filter matched, to narrow on the next key.
#[derive(Debug, Clone)]
struct Narrowed {
    key: BaseKey,
    query: String,
    slots: Arc<[u32]>,
}

/// A view's filters in terms of the engine's numbers.
struct Admits<'a> {
    statuses: Option<Vec<bool>>,
    channels: Option<Vec<bool>>,
    /// By priority number + 1 (0: none).
    priorities: Option<Vec<bool>>,
    tags: &'a [TagId],
    starred: bool,
    unread: bool,
}

impl Admits<'_> {
    fn admits(&self, facets: &Facets, tags: &[TagId]) -> bool {
        let allowed = |list: &Option<Vec<bool>>, n: u32| {
            list.as_ref()
                .is_none_or(|list| list.get(n as usize).copied().unwrap_or(false))
        };
        allowed(&self.statuses, facets.status)
            && allowed(&self.channels, facets.channel)
            && allowed(&self.priorities, facets.priority)
            && (!self.starred || facets.flags & STARRED != 0)
            && (!self.unread || facets.flags & UNREAD != 0)
            && (self.tags.is_empty() || tags.iter().any(|t| self.tags.contains(t)))
    }
}

/// The list's view over the store, kept between calls (see the module's
/// comment). It follows one store at a time: given another one, or one
/// whose change log it fell behind, it rebuilds.
///
/// With a typed filter, the matching rows keep the chosen sort rather than
/// being ranked by match quality: the list does not jump about while the
/// agent types, and "longest waiting" keeps meaning what it says.
#[derive(Debug, Clone, Default)]
pub struct ViewEngine {
    /// Where the store's change log stood at the last sync; `None` before
    /// the first build.
    cursor: Option<ChangeCursor>,
    /// Per slot (a row's place in these, for as long as the engine lives).
    ids: IdTable,
    facets: Vec<Facets>,
    tags: Vec<Box<[TagId]>>,
    waiting: Vec<Option<DateTime<Utc>>>,
    haystacks: Vec<Haystack>,
    texts: Texts,
    /// Per field of each haystack, the characters present (apart, so that
    /// ruling rows out reads little memory).
    masks: Vec<[u64; 4]>,
    slots: FastMap<ConversationId, u32>,
    statuses: Interner<ConversationStatus>,
    channels: Interner<Channel>,
    priorities: Interner<Priority>,
    assignees: Interner<AgentId>,
    /// Slots in the store's order (latest activity).
    order: Vec<u32>,
    /// `order` by longest waiting and by priority, made on first use.
    by_waiting: Option<Vec<u32>>,
    by_priority: Option<Vec<u32>>,
    /// Bumped whenever a row or the order changes.
    generation: u64,
    base: Option<Base>,
    narrowed: Option<Narrowed>,
    tag_names: HashMap<TagId, String>,
    matcher: Matcher,
    scratch: Scratch,
}

impl ViewEngine {
    /// The list for `spec` and `query`, with the tab counts (which ignore
    /// the query).
    pub fn compute(
        &mut self,
        store: &Store,
        spec: &ViewSpec,
        query: &str,
        me: Option<&AgentId>,
    ) -> ListView {
        self.sync(store);
        let key = BaseKey {
            generation: self.generation,
            spec: spec.clone(),
            me: me.cloned(),
        };
        if self.base.as_ref().is_none_or(|base| base.key != key) {
            self.base = Some(self.base_for(key.clone()));
        }
        let Some(base) = &self.base else {
            return ListView::default();
        };
        let pattern = Query::new(query);
        let slots = if pattern.is_empty() {
            self.narrowed = None;
            base.slots.clone()
        } else {
            let previous = self
                .narrowed
                .take()
                .filter(|n| n.key == key && extends(&n.query, query));
            let texts = (&self.texts, &self.haystacks[..], &self.masks[..]);
            let matcher = &mut self.matcher;
            let slots = match previous {
                Some(previous) if previous.query == query => previous.slots,
                Some(previous) => matching(texts, matcher, &pattern, &previous.slots),
                None => matching(texts, matcher, &pattern, &base.slots),
            };
            self.narrowed = Some(Narrowed {
                key,
                query: query.to_string(),
                slots: slots.clone(),
            });
            slots
        };
        ListView {
            rows: Rows {
                ids: self.ids.clone(),
                slots,
            },
            counts: base.counts,
        }
    }

    /// The name of a tag seen on a conversation, for the list's title.
    pub fn tag_name(&self, id: &TagId) -> Option<&str> {
        self.tag_names.get(id).map(String::as_str)
    }

    /// Brings the rows in step with the store: only those it reports changed.
    fn sync(&mut self, store: &Store) {
        let changes = match &self.cursor {
            Some(cursor) => store.changes_since(cursor),
            None => Changes::Everything,
        };
        match changes {
            Changes::Everything => self.rebuild(store),
            Changes::Rows { ids, reordered } => {
                if ids.is_empty() && !reordered {
                    return;
                }
                for id in ids {
                    self.update_row(store, id);
                }
                if reordered {
                    self.reorder(store);
                }
                self.compact();
                self.changed();
            }
        }
        self.cursor = Some(store.change_cursor());
    }

    fn rebuild(&mut self, store: &Store) {
        let matcher = std::mem::take(&mut self.matcher);
        *self = ViewEngine {
            generation: self.generation,
            matcher,
            ..ViewEngine::default()
        };
        for id in store.order() {
            self.update_row(store, id);
        }
        self.reorder(store);
        self.changed();
    }

    fn update_row(&mut self, store: &Store, id: &ConversationId) {
        let Some(entry) = store.get(id) else {
            return;
        };
        let c = &entry.conversation;
        for tag in &c.tags {
            if self.tag_names.get(&tag.id) != Some(&tag.name) {
                self.tag_names.insert(tag.id.clone(), tag.name.clone());
            }
        }
        let facets = Facets {
            status: self.statuses.number(&c.status),
            channel: self.channels.number(&c.channel),
            priority: c
                .priority
                .as_ref()
                .map_or(0, |p| self.priorities.number(p) + 1),
            assignee: c
                .assignee
                .as_ref()
                .map_or(NOBODY, |a| self.assignees.number(a) + 1),
            flags: if c.starred { STARRED } else { 0 } | if entry.unread > 0 { UNREAD } else { 0 },
        };
        let tags = c.tags.iter().map(|t| t.id.clone()).collect();
        let (haystack, masks) = Haystack::new(store, c, &mut self.scratch, &mut self.texts);
        let waiting = waiting_since(c);
        match self.slots.get(id) {
            Some(&slot) => {
                let slot = slot as usize;
                self.facets[slot] = facets;
                self.tags[slot] = tags;
                self.waiting[slot] = waiting;
                self.texts.unused += self.haystacks[slot].size();
                self.haystacks[slot] = haystack;
                self.masks[slot] = masks;
            }
            None => {
                self.slots.insert(id.clone(), self.facets.len() as u32);
                self.ids.push(id.clone());
                self.facets.push(facets);
                self.tags.push(tags);
                self.waiting.push(waiting);
                self.haystacks.push(haystack);
                self.masks.push(masks);
            }
        }
    }

    fn reorder(&mut self, store: &Store) {
        let mut order = Vec::with_capacity(store.len());
        for id in store.order() {
            if !self.slots.contains_key(id) {
                // Not reported as changed: a store from before the log.
                self.update_row(store, id);
            }
            if let Some(&slot) = self.slots.get(id) {
                order.push(slot);
            }
        }
        self.order = order;
    }

    /// Drops the characters of replaced rows once they are half of all,
    /// keeping the rows' order.
    fn compact(&mut self) {
        if self.texts.unused * 2 < self.texts.len() {
            return;
        }
        let mut texts = Texts::default();
        for haystack in &mut self.haystacks {
            let len = haystack.ends[MESSAGE];
            haystack.folded = texts.copy(&self.texts, haystack.folded, len);
            haystack.written = haystack
                .written
                .map(|span| texts.copy(&self.texts, span, len));
        }
        self.texts = texts;
    }

    fn changed(&mut self) {
        self.generation += 1;
        self.by_waiting = None;
        self.by_priority = None;
    }

    /// The store's order re-sorted for `sort`; stable, so ties keep the
    /// latest activity first.
    fn sorted(&mut self, sort: SortOrder) -> &[u32] {
        let order = &self.order;
        match sort {
            SortOrder::LatestActivity => order,
            SortOrder::LongestWaiting => {
                let waiting = &self.waiting;
                self.by_waiting.get_or_insert_with(|| {
                    let mut slots = order.clone();
                    slots.sort_by_key(|&slot| {
                        let since = waiting[slot as usize];
                        (since.is_none(), since)
                    });
                    slots
                })
            }
            SortOrder::Priority => {
                let ranks: Vec<u8> = std::iter::once(priority_rank(None))
                    .chain(
                        self.priorities
                            .values
                            .iter()
                            .map(|p| priority_rank(Some(p))),
                    )
                    .collect();
                let facets = &self.facets;
                self.by_priority.get_or_insert_with(|| {
                    let mut slots = order.clone();
                    slots.sort_by_key(|&slot| ranks[facets[slot as usize].priority as usize]);
                    slots
                })
            }
        }
    }

    fn base_for(&mut self, key: BaseKey) -> Base {
        let filters = &key.spec.filters;
        let admits = Admits {
            statuses: self.statuses.admitted(&filters.statuses),
            channels: self.channels.admitted(&filters.channels),
            priorities: self
                .priorities
                .admitted(&filters.priorities)
                .map(|admitted| std::iter::once(false).chain(admitted).collect()),
            tags: &filters.tags,
            starred: filters.starred,
            unread: filters.unread,
        };
        // An agent no row is assigned to matches no row.
        let me = key
            .me
            .as_ref()
            .map(|me| self.assignees.numbers.get(me).map_or(u32::MAX, |n| n + 1));
        let tab = key.spec.tab;
        self.sorted(key.spec.sort);
        let sorted = match key.spec.sort {
            SortOrder::LatestActivity => &self.order,
            SortOrder::LongestWaiting => self.by_waiting.as_ref().unwrap_or(&self.order),
            SortOrder::Priority => self.by_priority.as_ref().unwrap_or(&self.order),
        };
        let mut counts = TabCounts::default();
        let mut slots = Vec::new();
        let account = filters.account.as_deref();
        for &slot in sorted {
            let facets = &self.facets[slot as usize];
            if !admits.admits(facets, &self.tags[slot as usize]) {
                continue;
            }
            if let Some(account) = account
                && crate::api::accounts::account_of(self.ids.get(slot).as_str()) != Some(account)
            {
                continue;
            }
            let unassigned = facets.assignee == NOBODY;
            let mine = me == Some(facets.assignee);
            counts.all += 1;
            counts.unassigned += usize::from(unassigned);
            counts.mine += usize::from(mine);
            let shown = match tab {
                Tab::All => true,
                Tab::Unassigned => unassigned,
                Tab::Mine => mine,
            };
            if shown {
                slots.push(slot);
            }
        }
        Base {
            key,
            slots: slots.into(),
            counts,
        }
    }
}

fn matching(
    (texts, haystacks, masks): (&Texts, &[Haystack], &[[u64; 4]]),
    matcher: &mut Matcher,
    query: &Query,
    candidates: &[u32],
) -> Arc<[u32]> {
    candidates
        .iter()
        .copied()
        .filter(|&slot| {
            let slot = slot as usize;
            query.matches(texts, &haystacks[slot], &masks[slot], matcher)
        })
        .collect()
}

/// The list for `spec` and `query`, computed from scratch (the app keeps a
/// [`ViewEngine`] instead).
pub fn compute(store: &Store, spec: &ViewSpec, query: &str, me: Option<&AgentId>) -> ListView {
    ViewEngine::default().compute(store, spec, query, me)
}

/// WhatsApp lets a business answer freely for 24 hours after the
/// customer's last message.
pub const WHATSAPP_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// The conversation that most needs the agent now, other than `skip`:
/// mine with a customer waiting (longest first), then WhatsApp windows
/// closing soonest, then unassigned with a customer waiting (longest first).
pub fn next_best(
    store: &Store,
    me: Option<&AgentId>,
    now: DateTime<Utc>,
    skip: Option<&ConversationId>,
) -> Option<ConversationId> {
    // (group, sort key, id): the smallest wins.
    let mut best: Option<(u8, DateTime<Utc>, &ConversationId)> = None;
    for entry in store.entries() {
        let c = &entry.conversation;
        let Some(since) = waiting_since(c) else {
            continue;
        };
        let id = &c.id;
        if Some(id) == skip {
            continue;
        }
        let mine = me.is_some() && c.assignee.as_ref() == me;
        let unassigned = c.assignee.is_none();
        let window_closes = since + WHATSAPP_WINDOW;
        let candidate = if mine {
            (0, since)
        } else if c.channel == Channel::WhatsApp && window_closes > now && unassigned {
            (1, window_closes)
        } else if unassigned {
            (2, since)
        } else {
            continue;
        };
        if best.is_none_or(|(group, key, best_id)| {
            (candidate.0, candidate.1, id) < (group, key, best_id)
        }) {
            best = Some((candidate.0, candidate.1, id));
        }
    }
    best.map(|(_, _, id)| id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Contact, Tag};
    use crate::store::fixtures::{conversation, t};

    fn contact(id: &str, name: &str, phone: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            email: email.map(Into::into),
            phone: phone.map(Into::into),
            ..Contact::named(id, name)
        }
    }

    fn me() -> AgentId {
        AgentId::new("me")
    }

    fn tag(id: &str) -> Tag {
        Tag {
            id: TagId::new(id),
            name: format!("tag {id}"),
            color: None,
        }
    }

    /// a: mine, open, WhatsApp, waiting since 10, urgent, starred, tag vip
    /// b: unassigned, pending, Instagram, waiting since 20, high
    /// c: someone else's, open, Email, answered at 30, tag vip
    /// d: unassigned, resolved, WhatsApp, customer wrote last at 40, low
    /// e: mine, open, WhatsApp, answered at 50, read
    fn store() -> Store {
        let mut a = conversation("a", 10, true);
        a.assignee = Some(me());
        a.priority = Some(Priority::Urgent);
        a.starred = true;
        a.tags = vec![tag("vip")];
        let mut b = conversation("b", 20, true);
        b.last_message.as_mut().unwrap().text = "Kargom nerede? Sipariş A-1042".into();
        b.status = ConversationStatus::Pending;
        b.channel = Channel::Instagram;
        b.priority = Some(Priority::High);
        let mut c = conversation("c", 30, false);
        c.assignee = Some(AgentId::new("other"));
        c.channel = Channel::Email;
        c.tags = vec![tag("vip")];
        let mut d = conversation("d", 40, true);
        d.status = ConversationStatus::Resolved;
        d.priority = Some(Priority::Low);
        let mut e = conversation("e", 50, false);
        e.assignee = Some(me());
        let mut store = Store::default();
        store.upsert_conversations(vec![a, b, c, d, e], None);
        store.upsert_contacts(
            vec![
                contact("c-a", "Deniz Yılmaz", Some("+90 555 123 4567"), None),
                contact("c-b", "Ayşe Kaya", None, Some("ayse.kaya@example.com")),
                contact("c-c", "Liam Chen", Some("+1 415 555 0100"), None),
            ],
            Vec::new(),
        );
        store
    }

    fn ids(view: &ListView) -> Vec<&str> {
        view.rows.iter().map(|id| id.as_str()).collect()
    }

    fn spec(tab: Tab, filters: Filters, sort: SortOrder) -> ViewSpec {
        ViewSpec { tab, filters, sort }
    }

    fn all(filters: Filters) -> ViewSpec {
        spec(Tab::All, filters, SortOrder::LatestActivity)
    }

    fn find(store: &Store, query: &str) -> Vec<String> {
        compute(store, &ViewSpec::default(), query, None)
            .rows
            .iter()
            .map(|id| id.to_string())
            .collect()
    }

    #[test]
    fn tabs_split_the_list_and_count_each() {
        let store = store();
        let mine = compute(
            &store,
            &spec(Tab::Mine, Filters::default(), SortOrder::LatestActivity),
            "",
            Some(&me()),
        );
        assert_eq!(ids(&mine), ["e", "a"]);
        assert_eq!(
            mine.counts,
            TabCounts {
                mine: 2,
                unassigned: 2,
                all: 5
            }
        );
        let unassigned = compute(
            &store,
            &spec(
                Tab::Unassigned,
                Filters::default(),
                SortOrder::LatestActivity,
            ),
            "",
            Some(&me()),
        );
        assert_eq!(ids(&unassigned), ["d", "b"]);
        assert_eq!(
            ids(&compute(&store, &ViewSpec::default(), "", None)),
            ["e", "d", "c", "b", "a"]
        );
        // Without knowing who "me" is, Mine is empty.
        let nobody = compute(
            &store,
            &spec(Tab::Mine, Filters::default(), SortOrder::LatestActivity),
            "",
            None,
        );
        assert!(nobody.rows.is_empty());
        assert_eq!(nobody.counts.mine, 0);
    }

    #[test]
    fn each_filter_keeps_only_what_it_names() {
        let store = store();
        let cases: Vec<(Filters, Vec<&str>)> = vec![
            (
                Filters {
                    statuses: vec![ConversationStatus::Pending, ConversationStatus::Resolved],
                    ..Filters::default()
                },
                vec!["d", "b"],
            ),
            (
                Filters {
                    channels: vec![Channel::Email],
                    ..Filters::default()
                },
                vec!["c"],
            ),
            (
                Filters {
                    tags: vec![TagId::new("vip")],
                    ..Filters::default()
                },
                vec!["c", "a"],
            ),
            (
                Filters {
                    priorities: vec![Priority::Urgent, Priority::Low],
                    ..Filters::default()
                },
                vec!["d", "a"],
            ),
            (
                Filters {
                    starred: true,
                    ..Filters::default()
                },
                vec!["a"],
            ),
            (
                Filters {
                    unread: true,
                    ..Filters::default()
                },
                vec!["d", "b", "a"],
            ),
        ];
        for (filters, expected) in cases {
            let view = compute(&store, &all(filters.clone()), "", Some(&me()));
            assert_eq!(ids(&view), expected, "{filters:?}");
            assert_eq!(view.counts.all, expected.len(), "counts follow the filters");
        }
    }

    #[test]
    fn filters_combine_and_counts_follow_them() {
        let store = store();
        let filters = Filters {
            statuses: vec![ConversationStatus::Open],
            channels: vec![Channel::WhatsApp, Channel::Email],
            tags: vec![TagId::new("vip")],
            ..Filters::default()
        };
        let view = compute(&store, &all(filters.clone()), "", Some(&me()));
        assert_eq!(ids(&view), ["c", "a"]);
        assert_eq!(
            view.counts,
            TabCounts {
                mine: 1,
                unassigned: 0,
                all: 2
            }
        );
        let starred_too = Filters {
            starred: true,
            ..filters
        };
        assert_eq!(
            ids(&compute(&store, &all(starred_too), "", Some(&me()))),
            ["a"]
        );
    }

    /// The plain definition of a view, without the typed filter.
    fn reference(store: &Store, spec: &ViewSpec, me: Option<&AgentId>) -> Vec<String> {
        let mut rows: Vec<&ConversationEntry> = store
            .order()
            .iter()
            .filter_map(|id| store.get(id))
            .filter(|e| spec.filters.matches(e) && in_tab(spec.tab, &e.conversation, me))
            .collect();
        match spec.sort {
            SortOrder::LatestActivity => {}
            SortOrder::LongestWaiting => {
                rows.sort_by_key(|e| {
                    let since = waiting_since(&e.conversation);
                    (since.is_none(), since)
                });
            }
            SortOrder::Priority => {
                rows.sort_by_key(|e| priority_rank(e.conversation.priority.as_ref()))
            }
        }
        rows.iter().map(|e| e.conversation.id.to_string()).collect()
    }

    #[test]
    fn every_combination_agrees_with_the_plain_definition() {
        let mut store = store();
        // Values no row has, and a status of the provider's own.
        store.apply_local(&ConversationId::new("c"), |c| {
            c.status = ConversationStatus::Unknown("snoozed".into());
            c.priority = Some(Priority::Unknown("p0".into()));
        });
        let statuses = [
            vec![],
            vec![ConversationStatus::Open],
            vec![
                ConversationStatus::Unknown("snoozed".into()),
                ConversationStatus::Closed,
            ],
        ];
        let channels = [vec![], vec![Channel::WhatsApp], vec![Channel::Sms]];
        let priorities = [
            vec![],
            vec![Priority::Urgent, Priority::Unknown("p0".into())],
        ];
        let tags = [vec![], vec![TagId::new("vip")], vec![TagId::new("nope")]];
        let mut engine = ViewEngine::default();
        let nobody = AgentId::new("nobody");
        for me in [None, Some(me()), Some(nobody)] {
            for statuses in &statuses {
                for channels in &channels {
                    for priorities in &priorities {
                        for tags in &tags {
                            for flags in 0..4 {
                                let filters = Filters {
                                    statuses: statuses.clone(),
                                    channels: channels.clone(),
                                    tags: tags.clone(),
                                    priorities: priorities.clone(),
                                    starred: flags & 1 != 0,
                                    unread: flags & 2 != 0,
                                    account: None,
                                };
                                for tab in Tab::ALL {
                                    for sort in SortOrder::ALL {
                                        let view = spec(tab, filters.clone(), sort);
                                        let got = engine.compute(&store, &view, "", me.as_ref());
                                        let count = |tab| {
                                            let view = ViewSpec {
                                                tab,
                                                ..view.clone()
                                            };
                                            reference(&store, &view, me.as_ref()).len()
                                        };
                                        assert_eq!(got.counts.mine, count(Tab::Mine));
                                        assert_eq!(got.counts.unassigned, count(Tab::Unassigned));
                                        assert_eq!(got.counts.all, count(Tab::All));
                                        let got: Vec<String> =
                                            got.rows.iter().map(|id| id.to_string()).collect();
                                        assert_eq!(
                                            got,
                                            reference(&store, &view, me.as_ref()),
                                            "{view:?} {me:?}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn sorts_keep_latest_activity_for_ties() {
        let store = store();
        let sorted = |sort| {
            ids(&compute(
                &store,
                &spec(Tab::All, Filters::default(), sort),
                "",
                None,
            ))
            .join("")
        };
        assert_eq!(sorted(SortOrder::LatestActivity), "edcba");
        // Customers waiting longest first (d is resolved: not waiting),
        // then the rest by latest activity.
        assert_eq!(sorted(SortOrder::LongestWaiting), "abedc");
        assert_eq!(sorted(SortOrder::Priority), "abdec");
    }

    #[test]
    fn the_typed_filter_matches_name_phone_email_and_last_message() {
        let store = store();
        // Fuzzy names, case and accents ignored for plain lower case.
        assert_eq!(find(&store, "dnz"), ["a"]);
        assert_eq!(find(&store, "ayse"), ["b"]);
        assert_eq!(find(&store, "yilmaz"), ["a"]);
        // A capital makes the word case-sensitive.
        assert_eq!(find(&store, "Liam"), ["c"]);
        assert!(find(&store, "LIAM").is_empty());
        // Phones with or without their spaces, e-mail addresses.
        assert_eq!(find(&store, "5551234567"), ["a"]);
        assert_eq!(find(&store, "+1 415"), ["c"]);
        assert_eq!(find(&store, "kaya@example"), ["b"]);
        // Words of the last message, each anywhere in it, accents ignored.
        assert_eq!(find(&store, "nerede kargo"), ["b"]);
        assert_eq!(find(&store, "siparis a-1042"), ["b"]);
        // Words must all match, each in any field.
        assert_eq!(find(&store, "deniz 555"), ["a"]);
        assert!(find(&store, "deniz kaya").is_empty());
        // The message is not matched fuzzily: "kgm" is not "Kargom".
        assert!(find(&store, "kgm").is_empty());
    }

    #[test]
    fn skipping_by_characters_never_hides_a_match() {
        let texts = [
            "Ayşe Yılmaz",
            "İSTANBUL İade",
            "Straße Müller",
            "ÇAĞRI çağrı",
            "佐藤 花子 注文はどこですか",
            "مرحباً، هل أنتم هنا؟",
            "Ünal 📦 +90 (555) 123-45-67",
            "e\u{301}cole Ecole ÉCOLE",
            "ǅemal ǆ ǈ",
            "\u{212a}elvin ſtraße Ýusuf ÿ",
            "customer31337@example.com +90 537 626 67 14",
            "Customer Support exaMple",
        ];
        let queries = [
            "ayse.kaya",
            "Ayse",
            "kaya@",
            "626 67",
            "537",
            "sato",
            "佐藤 537",
            "花子 ayse",
            "ayse",
            "Ayşe",
            "AYŞE",
            "yılmaz",
            "yilmaz",
            "istanbul",
            "İstanbul",
            "iade",
            "strasse",
            "straße",
            "muller",
            "müller",
            "MÜLLER",
            "cagri",
            "ÇAĞRI",
            "çağ",
            "花子",
            "注文",
            "هل",
            "unal",
            "📦",
            "5551234567",
            "(555)",
            "ecole",
            "école",
            "ÉCOLE",
            "dzemal",
            "ǆ",
            "ǅ",
            "y",
            "Y",
            "k",
            "s",
            "i",
            "ı",
            "e",
            "5",
            "9",
            "z",
            "kelvin",
            "ystr",
            "yusuf",
            "90",
            "9053",
            "c31337",
            "exa com",
            "9 0",
            "custom 537",
            "CUSTOMER",
            "Customer",
            "Elvin",
            "cus31337",
            "com ",
            "@",
            "+90 537",
            "x",
            "exaMple",
        ];
        let mut matcher = Matcher::default();
        let mut found = 0;
        let mut store = Store::default();
        store.upsert_conversations(vec![conversation("x", 1, true)], None);
        store.upsert_contacts(
            vec![contact(
                "c-x",
                "Kim",
                Some("+90 537 626 67 14"),
                Some("ayse.kaya@example.com"),
            )],
            Vec::new(),
        );
        for text in texts {
            let mut row = conversation("x", 1, true);
            row.contact_name = text.into();
            row.last_message.as_mut().unwrap().text = text.into();
            let mut texts = Texts::default();
            let (haystack, masks) =
                Haystack::new(&store, &row, &mut Scratch::default(), &mut texts);
            let written = |field: usize| haystack.field(&texts, field, false);
            for query in queries {
                let pattern = Query::new(query);
                // nucleo's own scoring, word by word, without any shortcut.
                let atoms = |kind| {
                    Pattern::new(query, CaseMatching::Smart, Normalization::Smart, kind).atoms
                };
                let unskipped = atoms(AtomKind::Fuzzy)
                    .iter()
                    .zip(&atoms(AtomKind::Substring))
                    .all(|(fuzzy, substring)| {
                        (0..MESSAGE)
                            .any(|field| fuzzy.score(written(field), &mut matcher).is_some())
                            || substring.score(written(MESSAGE), &mut matcher).is_some()
                    });
                assert_eq!(
                    pattern.matches(&texts, &haystack, &masks, &mut matcher),
                    unskipped,
                    "{query:?} in {text:?}"
                );
                found += usize::from(unskipped);
            }
        }
        assert!(found > 40, "only {found} matches: the cases test little");
    }

    #[test]
    fn counts_ignore_the_typed_filter_and_rows_keep_the_sort() {
        let store = store();
        let view = compute(
            &store,
            &spec(Tab::All, Filters::default(), SortOrder::LongestWaiting),
            "last",
            None,
        );
        assert_eq!(ids(&view), ["a", "e", "d", "c"]);
        let view = compute(&store, &ViewSpec::default(), "deniz", None);
        assert_eq!(view.counts.all, 5);
    }

    #[test]
    fn narrowing_as_the_agent_types_matches_a_fresh_compute() {
        let mut store = store();
        let mut more = Vec::new();
        for i in 0..200 {
            let mut row = conversation(&format!("n{i}"), 100 + i, i % 3 == 0);
            row.last_message.as_mut().unwrap().text = match i % 4 {
                0 => "Kargom nerede? Sipariş A-1042".into(),
                1 => "Can I change my booking for Saturday?".into(),
                2 => "İade etmek istiyorum".into(),
                _ => "Thanks a lot!".into(),
            };
            row.contact_name =
                ["Deniz Kaya", "Dana Smith", "Ayşe Demir", "Denis Ng"][i as usize % 4].into();
            if i % 5 == 0 {
                row.assignee = Some(me());
            }
            more.push(row);
        }
        store.upsert_conversations(more, None);
        let specs = [
            ViewSpec::default(),
            spec(
                Tab::Unassigned,
                Filters::default(),
                SortOrder::LongestWaiting,
            ),
            spec(
                Tab::Mine,
                Filters {
                    unread: true,
                    ..Filters::default()
                },
                SortOrder::Priority,
            ),
        ];
        let mut engine = ViewEngine::default();
        for view in &specs {
            for typed in [
                "deniz kaya",
                "Dana",
                "iade et",
                "a-1042",
                "sipariş",
                "de\\ k",
                "555 123",
            ] {
                let mut query = String::new();
                for c in typed.chars() {
                    query.push(c);
                    assert_eq!(
                        engine.compute(&store, view, &query, Some(&me())),
                        compute(&store, view, &query, Some(&me())),
                        "{view:?} {query:?}"
                    );
                }
                // Backspace widens again.
                while query.pop().is_some() {
                    assert_eq!(
                        engine.compute(&store, view, &query, Some(&me())),
                        compute(&store, view, &query, Some(&me())),
                        "{view:?} {query:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_engine_follows_the_store_row_by_row() {
        let mut store = store();
        let mut engine = ViewEngine::default();
        let view = ViewSpec::default();
        assert!(engine.compute(&store, &view, "7946", None).rows.is_empty());
        // A phone learnt later is found at once.
        store.upsert_contacts(
            vec![contact("c-e", "Emre", Some("+44 20 7946 0100"), None)],
            Vec::new(),
        );
        assert_eq!(ids(&engine.compute(&store, &view, "7946", None)), ["e"]);
        assert_eq!(
            ids(&engine.compute(&store, &view, "0100", None)),
            ["e", "c"]
        );
        // A row changed in place leaves the tab and the counts follow.
        store.apply_local(&ConversationId::new("e"), |c| c.assignee = None);
        let mine = spec(Tab::Mine, Filters::default(), SortOrder::LatestActivity);
        let view_now = engine.compute(&store, &mine, "", Some(&me()));
        assert_eq!(ids(&view_now), ["a"]);
        assert_eq!(
            view_now.counts,
            compute(&store, &mine, "", Some(&me())).counts
        );
        // A newer message moves a row up and changes its waiting time.
        store.upsert_conversations(vec![conversation("a", 99, false)], None);
        let waiting = spec(Tab::All, Filters::default(), SortOrder::LongestWaiting);
        assert_eq!(
            engine.compute(&store, &waiting, "", None),
            compute(&store, &waiting, "", None)
        );
        assert_eq!(ids(&engine.compute(&store, &view, "", None))[0], "a");
        // Reading a row clears it from the unread filter.
        store.mark_read(&ConversationId::new("b"));
        let unread = all(Filters {
            unread: true,
            ..Filters::default()
        });
        assert_eq!(ids(&engine.compute(&store, &unread, "", None)), ["a", "d"]);
        // Rows rewritten again and again: their old text is reclaimed and
        // what is left still matches.
        for round in 0..4 {
            for id in ["a", "b", "c", "d", "e"] {
                store.apply_local(&ConversationId::new(id), |c| {
                    c.last_message.as_mut().unwrap().text = format!("round {round} for {id}");
                });
            }
            for query in ["round", &format!("round {round} for c"), "deniz", "kaya@"] {
                assert_eq!(
                    engine.compute(&store, &view, query, None),
                    compute(&store, &view, query, None),
                    "{query}"
                );
            }
        }
        assert!(engine.texts.unused * 2 < engine.texts.len());
        // Another store (a restart from the cache) is rebuilt from scratch.
        let other = Store::default();
        assert!(engine.compute(&other, &view, "", None).rows.is_empty());
        assert_eq!(
            engine.compute(&store, &view, "", None),
            compute(&store, &view, "", None)
        );
        assert_eq!(engine.tag_name(&TagId::new("vip")), Some("tag vip"));
    }

    #[test]
    fn next_best_is_mine_waiting_then_closing_windows_then_unassigned_waiting() {
        let now = t(3600);
        let mut mine_old = conversation("mine-old", 100, true);
        mine_old.assignee = Some(me());
        let mut mine_new = conversation("mine-new", 900, true);
        mine_new.assignee = Some(me());
        let mut mine_resolved = conversation("mine-resolved", 50, true);
        mine_resolved.assignee = Some(me());
        mine_resolved.status = ConversationStatus::Resolved;
        // Unassigned WhatsApp: the window of the oldest closes first.
        let wa_old = conversation("wa-old", 200, true);
        let wa_new = conversation("wa-new", 300, true);
        let mut mail = conversation("mail", 10, true);
        mail.channel = Channel::Email;
        let mut answered = conversation("answered", 5, false);
        answered.channel = Channel::Email;
        let mut others = conversation("others", 1, true);
        others.assignee = Some(AgentId::new("other"));
        let mut store = Store::default();
        store.upsert_conversations(
            vec![
                mine_old,
                mine_new,
                mine_resolved,
                wa_old,
                wa_new,
                mail,
                answered,
                others,
            ],
            None,
        );
        let mut order = Vec::new();
        let mut skip: Option<ConversationId> = None;
        let mut done = std::collections::HashSet::new();
        while let Some(id) = next_best(&store, Some(&me()), now, skip.as_ref()) {
            if !done.insert(id.clone()) {
                break;
            }
            order.push(id.to_string());
            // Answering takes it out of the running.
            store.apply_local(&id, |c| {
                if let Some(last) = &mut c.last_message {
                    last.sender = SenderKind::Agent;
                }
            });
            skip = Some(id);
        }
        assert_eq!(order, ["mine-old", "mine-new", "wa-old", "wa-new", "mail"]);
    }

    #[test]
    fn next_best_skips_the_open_one_and_closed_whatsapp_windows() {
        let now = t(0) + WHATSAPP_WINDOW + chrono::Duration::seconds(150);
        // Its window closed 50 s ago: an unassigned waiting row like others.
        let expired = conversation("expired", 100, true);
        let mut open = conversation("open", 200, true);
        open.channel = Channel::Email;
        let live = conversation("live", 300, true);
        let mut store = Store::default();
        store.upsert_conversations(vec![expired, open, live], None);
        let first = next_best(&store, Some(&me()), now, None);
        assert_eq!(first.as_ref().map(|i| i.as_str()), Some("live"));
        let skip = ConversationId::new("live");
        assert_eq!(
            next_best(&store, Some(&me()), now, Some(&skip)).map(|i| i.to_string()),
            Some("expired".to_string())
        );
    }
}
