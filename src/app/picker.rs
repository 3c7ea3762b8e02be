//! A list to choose from with a filter typed on top: agents, statuses,
//! priorities, tags, filters and the command palette all use it.

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
}

impl PickerItem {
    pub fn new(label: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            detail: String::new(),
            key: key.into(),
            checked: false,
            was_checked: false,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn checked(mut self, checked: bool) -> Self {
        self.checked = checked;
        self.was_checked = checked;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub purpose: PickerPurpose,
    pub title: String,
    pub items: Vec<PickerItem>,
    pub query: String,
    /// Indexes into `items` that match `query`, best first.
    pub matches: Vec<usize>,
    /// Index into `matches`.
    pub selected: usize,
    /// Space toggles items and Enter applies them all.
    pub multi: bool,
    /// Enter on a query that matches nothing offers it as a new value.
    pub free_entry: bool,
}

impl Picker {
    pub fn new(purpose: PickerPurpose, title: impl Into<String>, items: Vec<PickerItem>) -> Self {
        let multi = matches!(purpose, PickerPurpose::Tags | PickerPurpose::Filters);
        let free_entry = purpose == PickerPurpose::Tags;
        let mut picker = Self {
            purpose,
            title: title.into(),
            matches: (0..items.len()).collect(),
            items,
            query: String::new(),
            selected: 0,
            multi,
            free_entry,
        };
        picker.refilter();
        picker
    }

    pub fn set_query(&mut self, query: String) {
        self.query = query;
        self.refilter();
    }

    fn refilter(&mut self) {
        let query = crate::store::search_text::fold(self.query.trim());
        self.matches = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| {
                query.is_empty()
                    || crate::store::search_text::fold(&format!("{} {}", item.label, item.detail))
                        .contains(&query)
            })
            .map(|(index, _)| index)
            .collect();
        self.selected = 0;
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.matches.is_empty() {
            return;
        }
        let last = self.matches.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
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
