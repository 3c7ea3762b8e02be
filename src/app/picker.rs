//! A list to choose from with a filter typed on top: agents, statuses,
//! priorities, tags, filters and the command palette all use it.

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config as MatcherConfig, Matcher, Utf32Str};
use unicode_segmentation::UnicodeSegmentation;

/// What the choice is for; `update` acts on it when the agent picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerPurpose {
    /// Every action by name; `key` is the action's config name.
    Palette,
    Assign,
    /// Who "Mine" is, asked once when the config does not say; then
    /// assigns the selection to them if that is what was asked.
    ChooseMe {
        then_assign: bool,
    },
    Status,
    Priority,
    /// Several at once: `checked` items are the conversation's tags.
    Tags,
    /// Several at once: the view's filters.
    Filters,
    /// A value for one of the contact editor's choice fields.
    ContactChoice(crate::contact_fields::ContactField),
    /// Several at once: the contact editor's tags.
    ContactTags,
    /// The template picker's lists (they live inside it).
    Templates,
    CannedReplies,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickerItem {
    /// Shown and matched.
    pub label: String,
    /// Shown dimmed beside the label (a key, an e-mail); also matched.
    pub detail: String,
    /// What the choice means to `update` (an id, a status name).
    pub key: String,
    pub checked: bool,
    /// Checked when the picker opened: Enter applies only what changed.
    pub was_checked: bool,
    /// Shown greyed: choosing it only explains why (`detail` says).
    pub unavailable: bool,
}

impl PickerItem {
    pub fn new(label: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            detail: String::new(),
            key: key.into(),
            checked: false,
            was_checked: false,
            unavailable: false,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Greyed, with `reason` as the detail.
    pub fn unavailable(mut self, reason: impl Into<String>) -> Self {
        self.detail = reason.into();
        self.unavailable = true;
        self
    }

    pub fn checked(mut self, checked: bool) -> Self {
        self.checked = checked;
        self.was_checked = checked;
        self
    }
}

/// Positions the query matched, counted in grapheme clusters (as nucleo
/// counts them) of the item's label and of its detail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Highlight {
    pub label: Vec<usize>,
    pub detail: Vec<usize>,
}

impl Highlight {
    /// `indices` are sorted positions in `"{label} {detail}"`. Only the
    /// label is measured: details can be long (a template's body), and
    /// every position past the label's space is in the detail.
    fn split(indices: &[u32], item: &PickerItem) -> Self {
        let mut highlight = Highlight::default();
        if indices.is_empty() {
            return highlight;
        }
        let label_len = item.label.graphemes(true).count();
        for &index in indices {
            let index = index as usize;
            if index < label_len {
                highlight.label.push(index);
            } else if index > label_len {
                highlight.detail.push(index - label_len - 1);
            }
        }
        highlight
    }
}

/// Matches whose matched positions are worked out (for highlighting).
const HIGHLIGHTED: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub purpose: PickerPurpose,
    pub title: String,
    pub items: Vec<PickerItem>,
    pub query: String,
    /// Indexes into `items` that match `query`, best first.
    pub matches: Vec<usize>,
    /// What the query matched in the first of `matches` (the best ones),
    /// for highlighting.
    pub highlights: Vec<Highlight>,
    /// Index into `matches`.
    pub selected: usize,
    /// Space toggles items and Enter applies them all.
    pub multi: bool,
    /// Enter on a query that matches nothing offers it as a new value.
    pub free_entry: bool,
}

impl Picker {
    pub fn new(purpose: PickerPurpose, title: impl Into<String>, items: Vec<PickerItem>) -> Self {
        let multi = matches!(
            purpose,
            PickerPurpose::Tags | PickerPurpose::Filters | PickerPurpose::ContactTags
        );
        // A language tag with a region (en-GB) is typed rather than listed.
        let free_entry = matches!(
            purpose,
            PickerPurpose::Tags
                | PickerPurpose::ContactChoice(crate::contact_fields::ContactField::Language)
        );
        let mut picker = Self {
            purpose,
            title: title.into(),
            matches: Vec::new(),
            highlights: Vec::new(),
            items,
            query: String::new(),
            selected: 0,
            multi,
            free_entry,
        };
        picker.refilter(None);
        picker
    }

    pub fn set_query(&mut self, query: String) {
        // Typing on narrows: what did not match the shorter query cannot
        // match the longer one, so only the earlier matches are scored.
        let narrowing = !self.query.trim().is_empty() && query.starts_with(self.query.as_str());
        let candidates = narrowing.then(|| {
            let mut earlier = std::mem::take(&mut self.matches);
            earlier.sort_unstable();
            earlier
        });
        self.query = query;
        self.refilter(candidates);
    }

    /// Fuzzy matching (nucleo) of the query against label and detail:
    /// case matters only when the query has a capital, accents never do.
    /// Best score first; equal scores keep the items' order. The palette
    /// also matches the action's config name (`next_best`).
    fn refilter(&mut self, candidates: Option<Vec<usize>>) {
        self.selected = 0;
        self.matches.clear();
        self.highlights.clear();
        // Typed text is literal (no fzf operators): a new tag name may
        // start with `!` or `^`.
        let pattern = Pattern::new(
            self.query.trim(),
            CaseMatching::Smart,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        if pattern.atoms.is_empty() {
            self.matches = (0..self.items.len()).collect();
            self.highlights = vec![Highlight::default(); self.items.len()];
            return;
        }
        let mut matcher = Matcher::new(MatcherConfig::DEFAULT);
        let mut chars = Vec::new();
        let mut scored = Vec::new();
        let candidates = candidates.unwrap_or_else(|| (0..self.items.len()).collect());
        for index in candidates {
            let item = &self.items[index];
            let shown = format!("{} {}", item.label, item.detail);
            let score = if self.purpose == PickerPurpose::Palette {
                // Scored with the name too; highlighted where it shows.
                let named = format!("{shown} {}", item.key);
                pattern.score(Utf32Str::new(&named, &mut chars), &mut matcher)
            } else {
                pattern.score(Utf32Str::new(&shown, &mut chars), &mut matcher)
            };
            if let Some(score) = score {
                scored.push((score, index));
            }
        }
        // Stable: ties keep the items' order.
        scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        self.matches = scored.into_iter().map(|(_, index)| index).collect();
        // Where the query matched costs more than whether it did: worked
        // out only for the best matches, the ones a screen can show.
        let mut indices = Vec::new();
        for &index in self.matches.iter().take(HIGHLIGHTED) {
            let item = &self.items[index];
            let shown = format!("{} {}", item.label, item.detail);
            indices.clear();
            if pattern
                .indices(
                    Utf32Str::new(&shown, &mut chars),
                    &mut matcher,
                    &mut indices,
                )
                .is_none()
            {
                indices.clear();
            }
            indices.sort_unstable();
            indices.dedup();
            self.highlights.push(Highlight::split(&indices, item));
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.matches.is_empty() {
            return;
        }
        let last = self.matches.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// What the query matched in the `position`-th match.
    pub fn highlight(&self, position: usize) -> Option<&Highlight> {
        self.highlights.get(position)
    }

    pub fn current(&self) -> Option<&PickerItem> {
        self.matches
            .get(self.selected)
            .and_then(|&index| self.items.get(index))
    }

    pub fn toggle_current(&mut self) {
        if let Some(&index) = self.matches.get(self.selected)
            && let Some(item) = self.items.get_mut(index)
        {
            item.checked = !item.checked;
        }
    }

    pub fn checked(&self) -> impl Iterator<Item = &PickerItem> {
        self.items.iter().filter(|item| item.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picker(purpose: PickerPurpose, items: &[(&str, &str, &str)]) -> Picker {
        let items = items
            .iter()
            .map(|(label, detail, key)| PickerItem::new(*label, *key).detail(*detail))
            .collect();
        Picker::new(purpose, "test", items)
    }

    fn labels(picker: &Picker) -> Vec<&str> {
        picker
            .matches
            .iter()
            .map(|&i| picker.items[i].label.as_str())
            .collect()
    }

    #[test]
    fn empty_query_keeps_every_item_in_order() {
        let mut p = picker(
            PickerPurpose::Status,
            &[("open", "", "open"), ("pending", "", "pending")],
        );
        assert_eq!(labels(&p), ["open", "pending"]);
        p.set_query("   ".into());
        assert_eq!(labels(&p), ["open", "pending"]);
        assert_eq!(p.highlights.len(), 2);
    }

    #[test]
    fn best_match_first_and_non_matches_dropped() {
        let mut p = picker(
            PickerPurpose::Palette,
            &[
                (
                    "search every synced message and contact",
                    "Ctrl-F",
                    "search",
                ),
                ("reopen", "", "reopen"),
                ("resolve", "x", "resolve"),
                ("go back (drafts are kept)", "Esc", "back"),
                ("star / unstar", "*", "star"),
            ],
        );
        p.set_query("res".into());
        let found = labels(&p);
        assert_eq!(found[0], "resolve", "{found:?}");
        assert!(!found.contains(&"star / unstar"), "{found:?}");
        assert!(!found.contains(&"reopen"), "{found:?}");
        assert_eq!(p.selected, 0);
        assert_eq!(p.current().unwrap().key, "resolve");
        assert_eq!(p.highlight(0).unwrap().label, [0, 1, 2]);
    }

    #[test]
    fn equal_scores_keep_the_items_order() {
        let mut p = picker(
            PickerPurpose::Tags,
            &[("vip b", "", "2"), ("vip a", "", "1"), ("vip c", "", "3")],
        );
        p.set_query("vip".into());
        assert_eq!(labels(&p), ["vip b", "vip a", "vip c"]);
    }

    #[test]
    fn smart_case_and_accents() {
        let mut p = picker(
            PickerPurpose::Assign,
            &[
                ("Şule Çelik", "sule@example.com", "a1"),
                ("Ada Agent", "ada@example.com", "a2"),
                ("Deniz Yılmaz", "", "a3"),
            ],
        );
        p.set_query("yilmaz".into());
        assert_eq!(labels(&p), ["Deniz Yılmaz"]);
        p.set_query("cel".into());
        assert_eq!(labels(&p), ["Şule Çelik"]);
        assert_eq!(p.highlight(0).unwrap().label, [5, 6, 7]);
        p.set_query("ADA".into());
        assert!(labels(&p).is_empty(), "a capital asks for case");
        p.set_query("Ada".into());
        assert_eq!(labels(&p), ["Ada Agent"]);
    }

    #[test]
    fn detail_matches_and_is_highlighted_apart_from_the_label() {
        let mut p = picker(
            PickerPurpose::Assign,
            &[
                ("Ada Agent", "ada@example.com", "a1"),
                ("Bo", "bo@test", "a2"),
            ],
        );
        p.set_query("example".into());
        assert_eq!(labels(&p), ["Ada Agent"]);
        let highlight = p.highlight(0).unwrap();
        assert!(highlight.label.is_empty());
        assert_eq!(highlight.detail, (4..11).collect::<Vec<_>>());
    }

    #[test]
    fn words_match_separately_and_the_palette_matches_action_names() {
        let mut p = picker(
            PickerPurpose::Palette,
            &[
                ("next conversation that most needs you", "n", "next_best"),
                ("next unread conversation", "N", "next_unread"),
            ],
        );
        p.set_query("unread next".into());
        assert_eq!(labels(&p), ["next unread conversation"]);
        p.set_query("next_best".into());
        assert_eq!(p.current().unwrap().key, "next_best");
        // Outside the palette the key is an id, not something to match.
        let mut tags = picker(PickerPurpose::Tags, &[("VIP", "", "tag-77")]);
        tags.set_query("77".into());
        assert!(tags.matches.is_empty());
    }

    #[test]
    fn typed_operators_are_literal() {
        let mut p = picker(
            PickerPurpose::Tags,
            &[("!urgent", "", "t1"), ("billing", "", "t2")],
        );
        p.set_query("!urg".into());
        assert_eq!(labels(&p), ["!urgent"]);
        p.set_query("^zzz".into());
        assert!(p.matches.is_empty());
    }

    #[test]
    fn selection_resets_and_moves_within_matches() {
        let mut p = picker(
            PickerPurpose::Status,
            &[("open", "", "o"), ("pending", "", "p"), ("closed", "", "c")],
        );
        p.move_by(5);
        assert_eq!(p.selected, 2);
        p.set_query("en".into());
        assert_eq!(p.selected, 0);
        assert_eq!(labels(&p).len(), 2);
        p.move_by(-3);
        assert_eq!(p.selected, 0);
    }

    #[test]
    fn typing_on_narrows_to_the_same_matches_as_a_fresh_search() {
        let items: Vec<(String, String, String)> = (0..300)
            .map(|n| {
                (
                    format!("order_{n}"),
                    format!("body {} ship {n}", n % 7),
                    n.to_string(),
                )
            })
            .collect();
        let refs: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        let mut typed = picker(PickerPurpose::Status, &refs);
        let mut query = String::new();
        for c in "order sh 3".chars() {
            query.push(c);
            typed.set_query(query.clone());
            let mut fresh = picker(PickerPurpose::Status, &refs);
            fresh.set_query(query.clone());
            assert_eq!(typed.matches, fresh.matches, "after {query:?}");
            assert_eq!(typed.highlights, fresh.highlights);
        }
        // Deleting widens again.
        typed.set_query("order".into());
        assert_eq!(typed.matches.len(), 300);
    }
}
