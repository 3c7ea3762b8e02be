//! The template picker: WhatsApp templates and canned replies in two tabs,
//! a fuzzy filter, language and category filters, a preview, and the form
//! that fills a template's variables (or a canned reply's blanks).

use ratatui_textarea::TextArea;

use crate::app::picker::{Picker, PickerItem, PickerPurpose};
use crate::canned::{self, CannedReply};
use crate::domain::{Agent, Contact, ContactId, ConversationId, Template, TemplateStatus};
use crate::template_text::{self, Slot};

/// Who a template goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendTarget {
    Conversation(ConversationId),
    /// A contact with no WhatsApp conversation yet: sending starts one.
    Contact(ContactId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerTab {
    Templates,
    Canned,
}

/// A suggested value for a field, with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// `first name`, `last used`…
    pub source: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FillKind {
    Template(Box<Template>),
    Canned(CannedReply),
}

/// The variables form.
#[derive(Debug, Clone)]
pub struct Fill {
    pub kind: FillKind,
    /// One per field. Canned blanks are `Slot::Body(key)`.
    pub slots: Vec<Slot>,
    pub fields: Vec<TextArea<'static>>,
    pub focused: usize,
    /// Per field, best first.
    pub suggestions: Vec<Vec<Suggestion>>,
    /// Why sending is held back (a missing value, a bad URL), shown under
    /// the form.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TemplatePicker {
    pub target: SendTarget,
    pub tab: PickerTab,
    /// The current tab's items, filtered as typed. Template items' keys are
    /// indexes into `templates`, canned ones into `canned`.
    pub list: Picker,
    pub templates: Vec<Template>,
    pub canned: Vec<CannedReply>,
    /// Why the canned replies could not be read, shown in their tab.
    pub canned_error: Option<String>,
    /// `None` = every language; cycled with a key.
    pub language: Option<String>,
    pub category: Option<String>,
    pub languages: Vec<String>,
    pub categories: Vec<String>,
    /// Free text is blocked (WhatsApp window closed): said at the top.
    pub window_note: Option<String>,
    /// The chosen item's form; `None` while choosing.
    pub fill: Option<Fill>,
}

impl TemplatePicker {
    /// Approved templates first, then by name; canned replies as written.
    pub fn new(
        target: SendTarget,
        mut templates: Vec<Template>,
        canned: Vec<CannedReply>,
        canned_error: Option<String>,
    ) -> Self {
        templates.sort_by(|a, b| {
            (a.status != TemplateStatus::Approved, &a.name, &a.language).cmp(&(
                b.status != TemplateStatus::Approved,
                &b.name,
                &b.language,
            ))
        });
        let mut languages: Vec<String> = templates.iter().map(|t| t.language.clone()).collect();
        languages.sort();
        languages.dedup();
        let mut categories: Vec<String> = templates
            .iter()
            .filter_map(|t| t.category.clone())
            .collect();
        categories.sort();
        categories.dedup();
        let mut picker = Self {
            target,
            tab: PickerTab::Templates,
            list: Picker::new(PickerPurpose::Templates, "Templates", Vec::new()),
            templates,
            canned,
            canned_error,
            language: None,
            category: None,
            languages,
            categories,
            window_note: None,
            fill: None,
        };
        picker.rebuild();
        picker
    }

    /// Rebuilds the list for the tab and filters, keeping the typed query.
    pub fn rebuild(&mut self) {
        let query = self.list.query.clone();
        let items = match self.tab {
            PickerTab::Templates => self
                .templates
                .iter()
                .enumerate()
                .filter(|(_, t)| self.language.as_ref().is_none_or(|l| &t.language == l))
                .filter(|(_, t)| {
                    self.category
                        .as_ref()
                        .is_none_or(|c| t.category.as_ref() == Some(c))
                })
                .map(|(i, t)| {
                    let body: String = t.body.split_whitespace().collect::<Vec<_>>().join(" ");
                    PickerItem::new(t.name.clone(), i.to_string()).detail(format!(
                        "{} · {} · {}",
                        t.language,
                        t.status.label(),
                        body
                    ))
                })
                .collect(),
            PickerTab::Canned => self
                .canned
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let text: String = r.text.split_whitespace().collect::<Vec<_>>().join(" ");
                    let tags = if r.tags.is_empty() {
                        String::new()
                    } else {
                        format!("{} · ", r.tags.join(" "))
                    };
                    PickerItem::new(r.name.clone(), i.to_string()).detail(format!("{tags}{text}"))
                })
                .collect(),
        };
        let (purpose, title) = match self.tab {
            PickerTab::Templates => (PickerPurpose::Templates, "Templates"),
            PickerTab::Canned => (PickerPurpose::CannedReplies, "Canned replies"),
        };
        self.list = Picker::new(purpose, title, items);
        self.list.set_query(query);
    }

    pub fn switch_tab(&mut self) {
        self.tab = match self.tab {
            PickerTab::Templates => PickerTab::Canned,
            PickerTab::Canned => PickerTab::Templates,
        };
        self.list.query.clear();
        self.rebuild();
    }

    /// Next language filter: every language, then each one in turn.
    pub fn cycle_language(&mut self) {
        self.language = cycle(&self.languages, self.language.take());
        self.rebuild();
    }

    pub fn cycle_category(&mut self) {
        self.category = cycle(&self.categories, self.category.take());
        self.rebuild();
    }

    /// The highlighted template (Templates tab).
    pub fn current_template(&self) -> Option<&Template> {
        if self.tab != PickerTab::Templates {
            return None;
        }
        let index: usize = self.list.current()?.key.parse().ok()?;
        self.templates.get(index)
    }

    pub fn current_canned(&self) -> Option<&CannedReply> {
        if self.tab != PickerTab::Canned {
            return None;
        }
        let index: usize = self.list.current()?.key.parse().ok()?;
        self.canned.get(index)
    }
}

impl PartialEq for TemplatePicker {
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target
            && self.tab == other.tab
            && self.list == other.list
            && self.language == other.language
            && self.category == other.category
            && self.window_note == other.window_note
            && self.fill == other.fill
    }
}

impl PartialEq for Fill {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.slots == other.slots
            && self.focused == other.focused
            && self.error == other.error
            && self.values() == other.values()
    }
}

fn cycle(options: &[String], current: Option<String>) -> Option<String> {
    match current {
        None => options.first().cloned(),
        Some(current) => {
            let at = options.iter().position(|o| *o == current)?;
            options.get(at + 1).cloned()
        }
    }
}

fn single_line(text: &str) -> TextArea<'static> {
    let mut area = TextArea::new(vec![text.to_string()]);
    area.set_cursor_line_style(ratatui::style::Style::default());
    area.move_cursor(ratatui_textarea::CursorMove::End);
    area
}

impl Fill {
    /// The form for `template`. Each field starts with the value last used
    /// with this template, else empty; suggestions come from the contact
    /// and from those last values.
    pub fn for_template(template: Template, contact: Option<&Contact>, last: &[String]) -> Self {
        let slots = template_text::slots(&template);
        let fields = (0..slots.len())
            .map(|i| single_line(last.get(i).map(String::as_str).unwrap_or("")))
            .collect();
        let suggestions = slots
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let mut list = Vec::new();
                if !matches!(slot, Slot::HeaderMedia) {
                    list.extend(contact_suggestions(contact));
                }
                if let Some(value) = last.get(i).filter(|v| !v.trim().is_empty()) {
                    list.push(Suggestion {
                        source: "last used".into(),
                        value: value.clone(),
                    });
                }
                list
            })
            .collect();
        Self {
            kind: FillKind::Template(Box::new(template)),
            slots,
            fields,
            focused: 0,
            suggestions,
            error: None,
        }
    }

    /// The blanks of a canned reply (contact variables are filled already;
    /// ones the contact lacks are asked).
    pub fn for_canned(
        reply: CannedReply,
        contact: Option<&Contact>,
        agent: Option<&Agent>,
    ) -> Self {
        let questions = canned::questions(&reply.text, contact, agent);
        let slots: Vec<Slot> = questions.into_iter().map(Slot::Body).collect();
        let fields = slots.iter().map(|_| single_line("")).collect();
        let suggestions = slots.iter().map(|_| Vec::new()).collect();
        Self {
            kind: FillKind::Canned(reply),
            slots,
            fields,
            focused: 0,
            suggestions,
            error: None,
        }
    }

    pub fn values(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.lines().join(" ")).collect()
    }

    pub fn value(&self, index: usize) -> String {
        self.fields
            .get(index)
            .map(|f| f.lines().join(" "))
            .unwrap_or_default()
    }

    /// What field `index` is called.
    pub fn label(&self, index: usize) -> String {
        match (&self.kind, self.slots.get(index)) {
            (FillKind::Template(t), Some(slot)) => slot.label(t),
            (FillKind::Canned(_), Some(Slot::Body(key))) => canned::question_label(key),
            _ => String::new(),
        }
    }

    /// The field of the first missing value, if any.
    pub fn first_missing(&self) -> Option<usize> {
        template_text::first_missing(&self.slots, &self.values())
    }

    /// The value for a placeholder as the preview shows it: `None` while
    /// missing.
    pub fn value_of(&self, wanted: &Slot) -> Option<String> {
        let i = self.slots.iter().position(|s| s == wanted)?;
        Some(self.value(i)).filter(|v| !v.trim().is_empty())
    }

    pub fn move_focus(&mut self, delta: isize) {
        if self.fields.is_empty() {
            return;
        }
        let n = self.fields.len() as isize;
        self.focused = (self.focused as isize + delta).rem_euclid(n) as usize;
    }

    /// Puts suggestion `n` (0-based) of the focused field in place.
    pub fn accept_suggestion(&mut self, n: usize) -> bool {
        let Some(value) = self
            .suggestions
            .get(self.focused)
            .and_then(|list| list.get(n))
            .map(|s| s.value.clone())
        else {
            return false;
        };
        if let Some(field) = self.fields.get_mut(self.focused) {
            *field = single_line(&value);
        }
        self.error = None;
        true
    }
}

fn contact_suggestions(contact: Option<&Contact>) -> Vec<Suggestion> {
    let Some(contact) = contact else {
        return Vec::new();
    };
    let mut list = Vec::new();
    let mut push = |source: &str, value: Option<&str>| {
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty())
            && !list.iter().any(|s: &Suggestion| s.value == value)
        {
            list.push(Suggestion {
                source: source.into(),
                value: value.to_string(),
            });
        }
    };
    push("first name", Some(&contact.first_name));
    push("full name", Some(&contact.display_name()));
    push("phone", contact.phone.as_deref());
    push("e-mail", contact.email.as_deref());
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TemplateButton, TemplateId};

    fn template(name: &str, language: &str, category: &str, status: TemplateStatus) -> Template {
        Template {
            id: TemplateId::new(format!("{name}-{language}")),
            name: name.into(),
            language: language.into(),
            category: Some(category.into()),
            status,
            channel_id: None,
            header: None,
            header_format: None,
            body: format!("Hi {{{{1}}}}, about {name}"),
            footer: None,
            buttons: vec![TemplateButton {
                kind: "QUICK_REPLY".into(),
                text: "OK".into(),
                url: None,
            }],
            rejected_reason: None,
        }
    }

    fn picker() -> TemplatePicker {
        TemplatePicker::new(
            SendTarget::Conversation(ConversationId::from("c")),
            vec![
                template("winback", "en", "MARKETING", TemplateStatus::Pending),
                template("order_shipped", "tr", "UTILITY", TemplateStatus::Approved),
                template("order_shipped", "en", "UTILITY", TemplateStatus::Approved),
            ],
            vec![CannedReply {
                name: "Greeting".into(),
                text: "Hi {{contact.first_name}}".into(),
                tags: vec![],
            }],
            None,
        )
    }

    #[test]
    fn approved_first_then_filters_narrow_the_list() {
        let mut p = picker();
        let names: Vec<_> = p.list.items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(names, ["order_shipped", "order_shipped", "winback"]);
        p.cycle_language();
        assert_eq!(p.language.as_deref(), Some("en"));
        assert_eq!(p.list.items.len(), 2);
        p.cycle_category();
        assert_eq!(p.category.as_deref(), Some("MARKETING"));
        assert_eq!(p.list.items.len(), 1);
        p.cycle_category();
        p.cycle_category();
        assert_eq!(p.category, None, "after the last comes every category");
        p.list.set_query("about win".into());
        assert_eq!(p.current_template().unwrap().name, "winback");
        p.switch_tab();
        assert_eq!(p.current_canned().unwrap().name, "Greeting");
        assert!(p.current_template().is_none());
    }

    #[test]
    fn the_form_offers_contact_fields_and_the_last_values() {
        let mut contact = Contact::named("k", "Deniz");
        contact.phone = Some("+905321234567".into());
        let t = template("order_shipped", "en", "UTILITY", TemplateStatus::Approved);
        let mut fill = Fill::for_template(t, Some(&contact), &["Ayşe".into()]);
        assert_eq!(fill.values(), ["Ayşe"]);
        let sources: Vec<_> = fill.suggestions[0]
            .iter()
            .map(|s| s.source.as_str())
            .collect();
        assert_eq!(sources, ["first name", "phone", "last used"]);
        assert!(fill.accept_suggestion(0));
        assert_eq!(fill.values(), ["Deniz"]);
        assert_eq!(fill.first_missing(), None);
        fill.fields[0] = single_line("  ");
        assert_eq!(fill.first_missing(), Some(0));
        assert_eq!(fill.label(0), "{{1}}");
    }
}
