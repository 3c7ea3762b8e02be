//! The template picker: tabs, the filtered list, the preview and the
//! variables form.
//!
//! Template and canned text come from the network and the config file:
//! every piece is sanitized before it is drawn, and every line is cut to
//! the width it has.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_segmentation::UnicodeSegmentation;

use crate::app::AppState;
use crate::app::template_picker::{Fill, FillKind, PickerTab, SendTarget, TemplatePicker};
use crate::canned::{self, CannedReply};
use crate::domain::{Agent, Contact, Template, TemplateStatus};
use crate::template_text::{self, Segment, Slot};
use crate::text;
use crate::theme;
use crate::ui::help::{centered, framed};

/// The box never gets wider or taller than this; more only spreads it thin.
const MAX_WIDTH: u16 = 160;
const MAX_HEIGHT: u16 = 44;
/// From this inner width the preview sits beside the list, else below it.
const SIDE_BY_SIDE: usize = 90;
/// The chat bubble's widest, borders included.
const BUBBLE_WIDTH: usize = 64;
/// Suggestions shown under the focused field.
const SUGGESTIONS_SHOWN: usize = 3;
/// Lines the form's error may take.
const ERROR_LINES: usize = 2;
/// Cells at most for the language and category columns of the list.
const LANGUAGE_WIDTH: usize = 6;
const CATEGORY_WIDTH: usize = 14;

pub const CANNED_FILE_HINT: &str =
    "canned_replies.toml beside the config; an example ships in assets/canned_replies.example.toml";

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, picker: &TemplatePicker) {
    if area.is_empty() {
        return;
    }
    let width = if area.width > 4 {
        (area.width - 4).min(MAX_WIDTH)
    } else {
        area.width
    };
    let height = if area.height > 4 {
        (area.height - 2).min(MAX_HEIGHT)
    } else {
        area.height
    };
    let rect = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(tabs_title(picker));
    let inner = framed(frame, rect, block);
    if inner.is_empty() {
        return;
    }
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);

    let mut top = Vec::new();
    if let Some(note) = &picker.window_note {
        let mut lines = text::wrap_words(&text::sanitize_line(note), w);
        if lines.len() > 2 {
            let rest = lines.split_off(1).join(" ");
            lines.push(text::truncate(&rest, w).into_owned());
        }
        top.extend(lines.into_iter().map(|l| Line::styled(l, theme::warning())));
    }
    top.push(match &picker.fill {
        None => filter_line(picker, w),
        Some(fill) => fill_title_line(fill, w),
    });
    // A rule under the filter where lines are not scarce.
    if h >= 24 {
        top.push(Line::styled("─".repeat(w), theme::border()));
    }
    let hints = hint_lines(picker, w);
    let top_n = top.len().min(h);
    let hint_n = hints.len().min(h.saturating_sub(top_n + 1));
    let body_h = h - top_n - hint_n;
    top.truncate(top_n);
    frame.render_widget(
        Paragraph::new(top),
        Rect::new(inner.x, inner.y, inner.width, top_n as u16),
    );
    let hints: Vec<Line> = hints.into_iter().take(hint_n).collect();
    frame.render_widget(
        Paragraph::new(hints),
        Rect::new(
            inner.x,
            inner.y + (top_n + body_h) as u16,
            inner.width,
            hint_n as u16,
        ),
    );
    let body = Rect::new(inner.x, inner.y + top_n as u16, inner.width, body_h as u16);
    if body.is_empty() {
        return;
    }
    if picker.fill.is_none() && picker.tab == PickerTab::Canned && picker.canned.is_empty() {
        let lines = no_canned_lines(picker, w);
        frame.render_widget(Paragraph::new(lines), body);
        return;
    }
    let people = people(state, picker);
    render_body(frame, body, picker, people);
}

/// The conversation's contact (when its card is loaded) and the agent,
/// for canned replies' variables.
#[derive(Clone, Copy)]
struct People<'a> {
    contact: Option<&'a Contact>,
    agent: Option<&'a Agent>,
}

fn people<'a>(state: &'a AppState, picker: &TemplatePicker) -> People<'a> {
    let contact_id = match &picker.target {
        SendTarget::Conversation(id) => state
            .store
            .get(id)
            .and_then(|entry| entry.conversation.contact_id.clone()),
        SendTarget::Contact(id) => Some(id.clone()),
    };
    People {
        contact: contact_id.and_then(|id| state.contact_cards.get(&id)),
        agent: state.me.as_ref().and_then(|id| state.store.agent(id)),
    }
}

/// ` Templates (3) │ Canned replies (5) `, the current tab highlighted.
fn tabs_title(picker: &TemplatePicker) -> Line<'static> {
    let tab = |label: String, current: bool| {
        Span::styled(
            format!(" {label} "),
            if current {
                theme::active_tab()
            } else {
                theme::title()
            },
        )
    };
    Line::from(vec![
        Span::raw(" "),
        tab(
            format!("Templates ({})", picker.templates.len()),
            picker.tab == PickerTab::Templates,
        ),
        Span::styled("│", theme::border()),
        tab(
            format!("Canned replies ({})", picker.canned.len()),
            picker.tab == PickerTab::Canned,
        ),
        Span::raw(" "),
    ])
}

/// `left` then `right` at the far end; the left side gives way.
fn spread(left: Vec<Span<'static>>, right: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let right_width: usize = right.iter().map(|s| text::width(&s.content)).sum();
    let (right, right_width) = if right_width + 8 <= width {
        (right, right_width)
    } else {
        (Vec::new(), 0)
    };
    let mut spans = fit(left, width.saturating_sub(right_width));
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    spans.push(Span::raw(
        " ".repeat(width.saturating_sub(used + right_width)),
    ));
    spans.extend(right);
    Line::from(spans)
}

/// The spans cut to `width` cells, the last one ending in `…` when cut.
fn fit(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = text::width(&span.content);
        if used + w <= width {
            used += w;
            out.push(span);
            continue;
        }
        let cut = text::truncate(&span.content, width - used).into_owned();
        if !cut.is_empty() {
            out.push(Span::styled(cut, span.style));
        }
        break;
    }
    out
}

/// `› query▏` and, for templates, the language and category filters.
fn filter_line(picker: &TemplatePicker, width: usize) -> Line<'static> {
    let mut right = Vec::new();
    if picker.tab == PickerTab::Templates {
        let filter = |name: &str, value: &Option<String>| {
            let (shown, style) = match value {
                Some(v) => (
                    text::truncate(&text::sanitize_line(v), CATEGORY_WIDTH).into_owned(),
                    theme::filter_bar().add_modifier(Modifier::BOLD),
                ),
                None => ("all".to_string(), Style::default()),
            };
            vec![
                Span::styled(format!("{name}: "), theme::dim()),
                Span::styled(shown, style),
            ]
        };
        right.extend(filter("lang", &picker.language));
        right.push(Span::styled(" · ", theme::dim()));
        right.extend(filter("category", &picker.category));
    }
    let right_width: usize = right.iter().map(|s| text::width(&s.content)).sum();
    let query = &picker.list.query;
    // Spaces typed to start the next word stay visible.
    let trailing = query.len() - query.trim_end_matches(' ').len();
    let shown = format!("{}{}", text::sanitize_line(query), " ".repeat(trailing));
    let room = width.saturating_sub(right_width + 2 + 1 + 2);
    spread(
        vec![
            Span::styled("› ", theme::title()),
            Span::raw(text::truncate_start(&shown, room)),
            Span::styled("▏", theme::dim()),
        ],
        right,
        width,
    )
}

/// What is being filled, and how many values are still missing.
fn fill_title_line(fill: &Fill, width: usize) -> Line<'static> {
    let left = match &fill.kind {
        FillKind::Template(t) => {
            let mut spans = vec![
                Span::styled("Template ", theme::dim()),
                Span::styled(text::sanitize_line(&t.name), theme::title()),
                Span::styled(
                    format!(" · {}", text::sanitize_line(&t.language)),
                    theme::dim(),
                ),
            ];
            if let Some(category) = &t.category {
                spans.push(Span::styled(
                    format!(" · {}", text::sanitize_line(category)),
                    theme::dim(),
                ));
            }
            spans
        }
        FillKind::Canned(reply) => vec![
            Span::styled("Canned reply ", theme::dim()),
            Span::styled(text::sanitize_line(&reply.name), theme::title()),
        ],
    };
    let missing = (0..fill.slots.len())
        .filter(|&i| fill.value(i).trim().is_empty())
        .count();
    let right = match (fill.slots.len(), missing) {
        (0, _) => Vec::new(),
        (_, 0) => vec![Span::styled("every value filled", theme::ok())],
        (_, 1) => vec![Span::styled("1 value missing", theme::warning())],
        (_, n) => vec![Span::styled(
            format!("{n} values missing"),
            theme::warning(),
        )],
    };
    spread(left, right, width)
}

/// The keys for what is on screen, wrapped at the separators.
fn hint_lines(picker: &TemplatePicker, width: usize) -> Vec<Line<'static>> {
    let normal = Style::default();
    let mut parts: Vec<(&str, Style)> = Vec::new();
    match &picker.fill {
        None => {
            parts.push(("type to filter", normal));
            parts.push(("↑/↓ move", normal));
            parts.push(("Tab canned/templates", normal));
            if picker.tab == PickerTab::Templates {
                parts.push(("Ctrl-L language", normal));
                parts.push(("Ctrl-G category", normal));
            }
            parts.push(("Enter choose", normal));
            parts.push(("Esc close", normal));
        }
        Some(fill) => {
            parts.push(("Tab/Shift-Tab field", normal));
            if fill.suggestions.iter().any(|list| !list.is_empty()) {
                parts.push(("↑/↓ suggestion", normal));
            }
            match fill.kind {
                FillKind::Template(_) => {
                    if fill.first_missing().is_some() {
                        parts.push(("Ctrl-S send (fill every value first)", theme::dim()));
                    } else {
                        parts.push(("Ctrl-S send", normal));
                    }
                }
                FillKind::Canned(_) => parts.push(("Enter insert into the reply", normal)),
            }
            parts.push(("Esc back", normal));
        }
    }
    let separator = " · ";
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for (part, style) in parts {
        let w = text::width(part);
        let line = lines.last_mut().expect("one line at least");
        if line.is_empty() {
            line.push(Span::styled(part, style));
            used = w;
        } else if used + text::width(separator) + w <= width {
            line.push(Span::styled(separator, theme::dim()));
            line.push(Span::styled(part, style));
            used += text::width(separator) + w;
        } else {
            lines.push(vec![Span::styled(part, style)]);
            used = w;
        }
    }
    // Two lines at most; the first keys matter most.
    lines.truncate(2);
    lines
        .into_iter()
        .map(|spans| Line::from(fit(spans, width)))
        .collect()
}

/// The Canned tab without replies: where they come from, and why they
/// could not be read.
fn no_canned_lines(picker: &TemplatePicker, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::raw("No canned replies yet."), Line::raw("")];
    let hint = format!("Write them in {CANNED_FILE_HINT}.");
    lines.extend(
        text::wrap_words(&hint, width)
            .into_iter()
            .map(|l| Line::styled(l, theme::dim())),
    );
    if let Some(error) = &picker.canned_error {
        lines.push(Line::raw(""));
        lines.extend(
            text::wrap_words(
                &format!("Could not read them: {}", text::sanitize_line(error)),
                width,
            )
            .into_iter()
            .map(|l| Line::styled(l, theme::error())),
        );
    }
    lines
        .into_iter()
        .map(|line| {
            let style = line.style;
            Line::from(fit(line.spans, width)).style(style)
        })
        .collect()
}

/// A row of the list or the form, and where the focused field's editor
/// goes on it (offset, width).
struct Row {
    line: Line<'static>,
    editor: Option<(u16, u16)>,
}

impl Row {
    fn plain(line: Line<'static>) -> Self {
        Row { line, editor: None }
    }
}

/// The list or the form: rows that scroll to keep `keep` in view, and
/// lines that stay at the bottom.
struct Pane {
    rows: Vec<Row>,
    /// First and last row that must be visible.
    keep: (usize, usize),
    footer: Vec<Line<'static>>,
}

impl Pane {
    fn height(&self) -> usize {
        self.rows.len() + self.footer.len()
    }

    fn draw(self, frame: &mut Frame, rect: Rect, fill: Option<&Fill>) {
        if rect.is_empty() {
            return;
        }
        let height = usize::from(rect.height);
        let footer_n = self.footer.len().min(height.saturating_sub(1));
        let rows_h = height - footer_n;
        let (first, last) = self.keep;
        let offset = (last + 1)
            .saturating_sub(rows_h)
            .min(first)
            .min(self.rows.len().saturating_sub(rows_h));
        for (y, row) in self.rows.iter().skip(offset).take(rows_h).enumerate() {
            let line_rect = Rect::new(rect.x, rect.y + y as u16, rect.width, 1);
            frame.render_widget(Paragraph::new(row.line.clone()), line_rect);
            if let (Some((x, w)), Some(fill)) = (row.editor, fill) {
                let x = x.min(rect.width);
                let w = w.min(rect.width - x);
                let editor = Rect::new(rect.x + x, line_rect.y, w, 1);
                if let Some(area) = fill.fields.get(fill.focused)
                    && !editor.is_empty()
                {
                    crate::ui::contact_form::draw_editor(frame, editor, area);
                }
            }
        }
        // Just right of the rows: on the border, or in the gap before the
        // preview.
        let x = rect.right();
        if offset > 0 && rows_h > 0 {
            scroll_mark(frame, x, rect.y, "▲");
        }
        if offset + rows_h < self.rows.len() && rows_h > 0 {
            scroll_mark(frame, x, rect.y + rows_h as u16 - 1, "▼");
        }
        if footer_n > 0 {
            // Right under the rows.
            let shown = self.rows.len().saturating_sub(offset).min(rows_h);
            let lines: Vec<Line> = self.footer.into_iter().take(footer_n).collect();
            frame.render_widget(
                Paragraph::new(lines),
                Rect::new(rect.x, rect.y + shown as u16, rect.width, footer_n as u16),
            );
        }
    }
}

fn scroll_mark(frame: &mut Frame, x: u16, y: u16, mark: &'static str) {
    let rect = Rect::new(x, y, 1, 1).intersection(frame.area());
    if !rect.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled(mark, theme::dim())), rect);
    }
}

/// The list (or the form) and the preview, side by side on wide boxes,
/// one above the other on narrow ones.
fn render_body(frame: &mut Frame, body: Rect, picker: &TemplatePicker, people: People) {
    let w = usize::from(body.width);
    let h = usize::from(body.height);
    let side = w >= SIDE_BY_SIDE;
    let (left_w, preview_w) = if side {
        let left = (w * 45 / 100).max(36);
        (left, w - left - 3)
    } else {
        (w, w)
    };
    let pane = match &picker.fill {
        None => list_pane(picker, left_w),
        Some(fill) => form_pane(fill, left_w),
    };
    let preview = preview_lines(picker, people, preview_w);
    if side {
        let left = Rect::new(body.x, body.y, left_w as u16, body.height);
        pane.draw(frame, left, picker.fill.as_ref());
        let rule: Vec<Line> = (0..h).map(|_| Line::styled("│", theme::border())).collect();
        frame.render_widget(
            Paragraph::new(rule),
            Rect::new(body.x + left_w as u16 + 1, body.y, 1, body.height),
        );
        let mut lines = vec![Line::styled("Preview", theme::dim())];
        lines.extend(preview);
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(
                body.x + left_w as u16 + 3,
                body.y,
                preview_w as u16,
                body.height,
            ),
        );
        return;
    }
    // Stacked: the list keeps at least half when the preview is long.
    let wanted = pane.height().max(1);
    let pane_h = if wanted + 1 + preview.len() <= h {
        wanted
    } else {
        wanted.min((h / 2).max(h.saturating_sub(1 + preview.len())))
    }
    .min(h);
    pane.draw(
        frame,
        Rect::new(body.x, body.y, body.width, pane_h as u16),
        picker.fill.as_ref(),
    );
    let rest = h - pane_h;
    if rest < 2 {
        return;
    }
    let label = " Preview ";
    let rule = Line::from(vec![
        Span::styled("──", theme::border()),
        Span::styled(label, theme::dim()),
        Span::styled(
            "─".repeat(w.saturating_sub(2 + text::width(label))),
            theme::border(),
        ),
    ]);
    let mut lines = vec![Line::from(fit(rule.spans, w))];
    lines.extend(preview);
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(body.x, body.y + pane_h as u16, body.width, rest as u16),
    );
}

fn status_style(status: &TemplateStatus) -> Style {
    match status {
        TemplateStatus::Approved => theme::ok(),
        TemplateStatus::Pending | TemplateStatus::Paused => theme::warning(),
        _ => theme::error(),
    }
}

/// `s` cut and padded to exactly `w` cells.
fn cell(s: &str, w: usize) -> String {
    let cut = text::truncate(s, w).into_owned();
    let pad = w.saturating_sub(text::width(&cut));
    format!("{cut}{}", " ".repeat(pad))
}

/// The label with the query's matches marked; `marks` are skipped where
/// sanitizing changed the text.
fn highlighted(
    spans: &mut Vec<Span<'static>>,
    raw: &str,
    room: usize,
    marks: &[usize],
    style: Style,
) -> usize {
    let clean = text::sanitize_line(raw);
    let marks = if clean == raw { marks } else { &[] };
    let shown = text::truncate(&clean, room);
    // Truncation ends the text in `…`, which matched nothing.
    let eligible = match shown {
        std::borrow::Cow::Owned(_) => shown.graphemes(true).count().saturating_sub(1),
        std::borrow::Cow::Borrowed(_) => usize::MAX,
    };
    crate::ui::picker::marked(spans, &shown, marks, eligible, style);
    text::width(&shown)
}

fn list_pane(picker: &TemplatePicker, width: usize) -> Pane {
    let list = &picker.list;
    let mut rows = Vec::new();
    if list.matches.is_empty() {
        let message = if !list.query.trim().is_empty() {
            let query = text::truncate(&text::sanitize_line(list.query.trim()), 30).into_owned();
            format!("Nothing matches “{query}”.")
        } else if picker.tab == PickerTab::Templates && picker.templates.is_empty() {
            "No WhatsApp templates yet: they arrive as the account syncs.".to_string()
        } else {
            "None in this language and category: Ctrl-L / Ctrl-G change them.".to_string()
        };
        for line in text::wrap_words(&message, width) {
            rows.push(Row::plain(Line::styled(line, theme::dim())));
        }
        return Pane {
            rows,
            keep: (0, 0),
            footer: Vec::new(),
        };
    }
    // Column widths from what the tab holds, so rows line up.
    let languages = picker
        .templates
        .iter()
        .map(|t| text::width(&text::sanitize_line(&t.language)))
        .max()
        .unwrap_or(0)
        .min(LANGUAGE_WIDTH);
    let categories = picker
        .templates
        .iter()
        .filter_map(|t| t.category.as_deref())
        .map(|c| text::width(&text::sanitize_line(c)))
        .max()
        .unwrap_or(0)
        .min(CATEGORY_WIDTH);
    let statuses = picker
        .templates
        .iter()
        .map(|t| text::width(&text::sanitize_line(t.status.label())))
        .max()
        .unwrap_or(0)
        .min(10);
    for (position, &index) in list.matches.iter().enumerate() {
        let item = &list.items[index];
        let selected = position == list.selected;
        let marker = if selected { "▶ " } else { "  " };
        let highlight = list.highlight(position);
        let label_marks = highlight.map_or(&[][..], |h| &h.label[..]);
        let detail_marks = highlight.map_or(&[][..], |h| &h.detail[..]);
        let mut spans = vec![Span::styled(marker, theme::title())];
        let room = width.saturating_sub(2);
        let template = match picker.tab {
            PickerTab::Templates => item
                .key
                .parse::<usize>()
                .ok()
                .and_then(|i| picker.templates.get(i)),
            PickerTab::Canned => None,
        };
        if let Some(template) = template {
            let approved = template.status == TemplateStatus::Approved;
            let base = if approved {
                Style::default()
            } else {
                theme::dim()
            };
            // Columns go when the row gets narrow: category, then language.
            let mut columns = vec![(
                cell(&text::sanitize_line(template.status.label()), statuses),
                status_style(&template.status),
            )];
            if room >= 34 {
                columns.insert(
                    0,
                    (
                        cell(
                            &text::sanitize_line(template.category.as_deref().unwrap_or("")),
                            categories,
                        ),
                        theme::dim(),
                    ),
                );
            }
            if room >= 24 {
                columns.insert(
                    0,
                    (
                        cell(&text::sanitize_line(&template.language), languages),
                        base,
                    ),
                );
            }
            let columns_w: usize = columns.iter().map(|(c, _)| 2 + text::width(c)).sum();
            let name_room = room.saturating_sub(columns_w);
            let used = highlighted(&mut spans, &item.label, name_room, label_marks, base);
            spans.push(Span::raw(" ".repeat(name_room.saturating_sub(used))));
            for (column, style) in columns {
                spans.push(Span::raw("  "));
                spans.push(Span::styled(column, style));
            }
        } else {
            // A canned reply: its name, then its tags and text.
            let label_room = if room > 24 { room * 2 / 5 } else { room };
            let used = highlighted(
                &mut spans,
                &item.label,
                label_room,
                label_marks,
                Style::default(),
            );
            let detail_room = room.saturating_sub(used + 2);
            if detail_room >= 4 {
                spans.push(Span::raw("  "));
                highlighted(
                    &mut spans,
                    &item.detail,
                    detail_room,
                    detail_marks,
                    theme::dim(),
                );
            }
        }
        let mut line = Line::from(fit(spans, width));
        if selected {
            line = line.style(theme::selected_row());
        }
        rows.push(Row::plain(line));
    }
    Pane {
        rows,
        keep: (list.selected, list.selected),
        footer: Vec::new(),
    }
}

/// One row per value: its label, the value (the focused one in its
/// editor), a mark on empty ones; the focused field's suggestions under
/// it; the error at the bottom.
fn form_pane(fill: &Fill, width: usize) -> Pane {
    let labels: Vec<String> = (0..fill.slots.len())
        .map(|i| text::sanitize_line(&fill.label(i)))
        .collect();
    let longest = labels.iter().map(|l| text::width(l)).max().unwrap_or(0);
    let label_w = (longest + 4).min(width / 2).min(32);
    let room = width.saturating_sub(label_w);
    let mut rows = Vec::new();
    let mut keep = (0, 0);
    for (i, label) in labels.iter().enumerate() {
        let focused = i == fill.focused;
        let marker = if focused { "▶ " } else { "  " };
        let label =
            text::truncate(&format!("{marker}{label}"), label_w.saturating_sub(1)).into_owned();
        let label_style = if focused {
            theme::title()
        } else {
            Style::default()
        };
        let mut spans = vec![Span::styled(cell(&label, label_w), label_style)];
        let value = fill.value(i);
        let empty = value.trim().is_empty();
        let mut editor = None;
        if focused {
            keep.0 = rows.len();
            if empty {
                // The cursor, then the mark.
                spans.push(Span::raw(" "));
                if room >= 10 {
                    spans.push(Span::styled("  empty", theme::warning()));
                }
                editor = Some((label_w as u16, 1));
            } else {
                editor = Some((label_w as u16, room as u16));
            }
        } else if empty {
            spans.push(Span::styled(
                text::truncate("— empty", room).into_owned(),
                theme::warning(),
            ));
        } else {
            spans.push(Span::raw(
                text::truncate(&text::sanitize_line(&value), room).into_owned(),
            ));
        }
        let mut line = Line::from(fit(spans, width));
        if focused {
            line = line.style(theme::selected_row());
        }
        rows.push(Row { line, editor });
        if focused {
            let suggestions = fill.suggestions.get(i).map_or(&[][..], |s| &s[..]);
            for (n, suggestion) in suggestions.iter().take(SUGGESTIONS_SHOWN).enumerate() {
                let hint = if n == 0 { "  ↑/↓ suggestion" } else { "" };
                let spans = vec![
                    Span::styled(cell(hint, label_w), theme::dim()),
                    Span::styled(
                        format!("{}: ", text::sanitize_line(&suggestion.source)),
                        theme::dim(),
                    ),
                    Span::raw(text::sanitize_line(&suggestion.value)),
                ];
                rows.push(Row::plain(Line::from(fit(spans, width))));
            }
            keep.1 = rows.len() - 1;
        }
    }
    let mut footer = Vec::new();
    if fill.slots.is_empty() {
        let message = match fill.kind {
            FillKind::Template(_) => "No values to fill: Ctrl-S sends it as it is.",
            FillKind::Canned(_) => "Nothing to fill: Enter puts it in the reply.",
        };
        rows.push(Row::plain(Line::styled(
            text::truncate(message, width).into_owned(),
            theme::dim(),
        )));
    }
    if let Some(error) = &fill.error {
        let mut lines = text::wrap_words(&text::sanitize_line(error), width);
        if lines.len() > ERROR_LINES {
            let rest = lines.split_off(ERROR_LINES - 1).join(" ");
            lines.push(text::truncate(&rest, width).into_owned());
        }
        footer.extend(lines.into_iter().map(|l| Line::styled(l, theme::error())));
    }
    Pane { rows, keep, footer }
}

/// What the highlighted item (or the one being filled) looks like.
fn preview_lines(picker: &TemplatePicker, people: People, width: usize) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    match &picker.fill {
        Some(fill) => match &fill.kind {
            FillKind::Template(template) => template_preview(template, Some(fill), width),
            FillKind::Canned(reply) => {
                let answers: Vec<(String, String)> = fill
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, slot)| match slot {
                        Slot::Body(key) => Some((key.clone(), fill.value(i))),
                        _ => None,
                    })
                    .collect();
                canned_preview(reply, people, &answers, width)
            }
        },
        None => match picker.tab {
            PickerTab::Templates => picker
                .current_template()
                .map(|t| template_preview(t, None, width))
                .unwrap_or_default(),
            PickerTab::Canned => picker
                .current_canned()
                .map(|r| canned_preview(r, people, &[], width))
                .unwrap_or_default(),
        },
    }
}

type Piece = (String, Style);

/// Text with its placeholders: values in the filled style, missing ones
/// as written in the missing style.
fn placeholder_pieces(
    raw: &str,
    base: Style,
    value: impl Fn(&str) -> Option<String>,
) -> Vec<Piece> {
    template_text::segments(raw)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => (text::sanitize(t), base),
            Segment::Placeholder(key) => match value(key) {
                Some(v) => (text::sanitize_line(&v), base.patch(theme::filled_value())),
                None => (
                    format!("{{{{{}}}}}", text::sanitize_line(key)),
                    base.patch(theme::missing_value()),
                ),
            },
        })
        .collect()
}

/// A template as the customer will see it: header, body and footer in a
/// chat bubble, the buttons under a rule; why it cannot be sent above.
fn template_preview(template: &Template, fill: Option<&Fill>, width: usize) -> Vec<Line<'static>> {
    let value = |slot: Slot| fill.and_then(|f| f.value_of(&slot));
    let mut lines = Vec::new();
    if let Some(why) = template.status.why_not_sendable() {
        let style = status_style(&template.status);
        for line in text::wrap_words(
            &format!("Cannot be sent: {}", text::sanitize_line(&why)),
            width,
        ) {
            lines.push(Line::styled(line, style));
        }
        if let Some(reason) = template
            .rejected_reason
            .as_deref()
            .map(text::sanitize_line)
            .filter(|r| !r.is_empty())
        {
            for line in text::wrap_words(&format!("Review said: {reason}"), width) {
                lines.push(Line::styled(line, theme::dim()));
            }
        }
        lines.push(Line::raw(""));
    }
    let bubble_w = width.min(BUBBLE_WIDTH);
    let inner = bubble_w.saturating_sub(4).max(1);
    let mut content: Vec<Line<'static>> = Vec::new();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    if template.has_media_header() {
        let kind = template
            .header_format
            .as_deref()
            .unwrap_or("media")
            .to_lowercase();
        let mut pieces = vec![(format!("[{}] ", text::sanitize_line(&kind)), theme::media())];
        match value(Slot::HeaderMedia) {
            Some(url) => pieces.push((text::sanitize_line(&url), theme::filled_value())),
            None => pieces.push(("URL".to_string(), theme::missing_value())),
        }
        content.extend(wrap_pieces(&pieces, inner));
    } else if template.header_format.as_deref() == Some("LOCATION") {
        content.push(Line::styled("[location]", theme::media()));
    } else if let Some(header) = &template.header {
        let pieces =
            placeholder_pieces(header, bold, |key| value(Slot::HeaderText(key.to_string())));
        content.extend(wrap_pieces(&pieces, inner));
    }
    let pieces = placeholder_pieces(&template.body, Style::default(), |key| {
        value(Slot::Body(key.to_string()))
    });
    content.extend(wrap_pieces(&pieces, inner));
    if let Some(footer) = &template.footer {
        let pieces = vec![(text::sanitize(footer), theme::dim())];
        content.extend(wrap_pieces(&pieces, inner));
    }
    let mut buttons = Vec::new();
    for (index, button) in template.buttons.iter().enumerate() {
        let mark = if button.url.is_some() { "↗ " } else { "" };
        let label = format!("{mark}{}", text::sanitize_line(&button.text));
        buttons.push(centre(
            vec![Span::styled(
                text::truncate(&label, inner).into_owned(),
                theme::read_ack(),
            )],
            inner,
        ));
        if let Some(url) = &button.url
            && !template_text::keys(url).is_empty()
        {
            let pieces = placeholder_pieces(url, theme::dim(), |key| {
                value(Slot::Button {
                    index: index as u32,
                    key: key.to_string(),
                })
            });
            let spans: Vec<Span> = pieces
                .into_iter()
                .map(|(t, s)| Span::styled(text::sanitize_line(&t), s))
                .collect();
            buttons.push(centre(fit(spans, inner), inner));
        }
    }
    lines.extend(bubble(content, buttons, bubble_w));
    lines
}

/// `spans` in the middle of `width` cells.
fn centre(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    let left = width.saturating_sub(used) / 2;
    let mut out = vec![Span::raw(" ".repeat(left))];
    out.extend(spans);
    Line::from(out)
}

/// Lines in a rounded box `width` cells wide; `below` under a rule.
fn bubble(
    content: Vec<Line<'static>>,
    below: Vec<Line<'static>>,
    width: usize,
) -> Vec<Line<'static>> {
    if width < 5 {
        return content.into_iter().chain(below).collect();
    }
    let inner = width - 4;
    let edge = |left: &str, right: &str| {
        Line::styled(
            format!("{left}{}{right}", "─".repeat(width - 2)),
            theme::border(),
        )
    };
    let framed = |line: Line<'static>| {
        let spans = fit(line.spans, inner);
        let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
        let mut out = vec![Span::styled("│ ", theme::border())];
        out.extend(spans);
        out.push(Span::raw(" ".repeat(inner.saturating_sub(used))));
        out.push(Span::styled(" │", theme::border()));
        Line::from(out)
    };
    let mut lines = vec![edge("╭", "╮")];
    lines.extend(content.into_iter().map(framed));
    if !below.is_empty() {
        lines.push(edge("├", "┤"));
        lines.extend(below.into_iter().map(framed));
    }
    lines.push(edge("╰", "╯"));
    lines
}

/// A canned reply with the contact's and agent's values and the answers
/// in place (as `canned::render` fills it), the blanks left marked.
fn canned_preview(
    reply: &CannedReply,
    people: People,
    answers: &[(String, String)],
    width: usize,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut title = vec![Span::styled(
        text::sanitize_line(&reply.name),
        theme::title(),
    )];
    if !reply.tags.is_empty() {
        let tags: Vec<String> = reply
            .tags
            .iter()
            .map(|t| format!("#{}", text::sanitize_line(t)))
            .collect();
        title.push(Span::styled(format!("  {}", tags.join(" ")), theme::tag()));
    }
    lines.push(Line::from(fit(title, width)));
    lines.push(Line::raw(""));
    let pieces = placeholder_pieces(&reply.text, Style::default(), |key| {
        answers
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .or_else(|| canned::variable(key, people.contact, people.agent))
    });
    lines.extend(wrap_pieces(&pieces, width));
    lines.push(Line::raw(""));
    for line in text::wrap_words(
        "Goes into the reply box for a last edit; nothing is sent yet.",
        width,
    ) {
        lines.push(Line::styled(line, theme::dim()));
    }
    lines
}

/// Styled text wrapped at spaces to `width` cells (a word wider than
/// that is broken); line breaks are kept, runs of spaces become one.
fn wrap_pieces(pieces: &[Piece], width: usize) -> Vec<Line<'static>> {
    let mut wrap = Wrapper {
        width: width.max(1),
        ..Wrapper::default()
    };
    for (piece, style) in pieces {
        for g in piece.graphemes(true) {
            if g == "\n" {
                wrap.end_word();
                wrap.end_line();
            } else if g.chars().all(char::is_whitespace) {
                wrap.end_word();
                wrap.space.get_or_insert(*style);
            } else {
                wrap.word.push((g.to_string(), *style));
                wrap.word_w += text::width(g);
            }
        }
    }
    wrap.end_word();
    if !wrap.line.is_empty() || wrap.lines.is_empty() {
        wrap.end_line();
    }
    wrap.lines
        .into_iter()
        .map(|graphemes| {
            let mut spans: Vec<Span<'static>> = Vec::new();
            for (g, style) in graphemes {
                match spans.last_mut() {
                    Some(last) if last.style == style => last.content.to_mut().push_str(&g),
                    _ => spans.push(Span::styled(g, style)),
                }
            }
            Line::from(spans)
        })
        .collect()
}

/// Grapheme clusters with their styles, gathered into words and lines.
#[derive(Default)]
struct Wrapper {
    width: usize,
    lines: Vec<Vec<Piece>>,
    line: Vec<Piece>,
    line_w: usize,
    word: Vec<Piece>,
    word_w: usize,
    /// The style of the space before the next word, if one was seen.
    space: Option<Style>,
}

impl Wrapper {
    fn end_line(&mut self) {
        self.lines.push(std::mem::take(&mut self.line));
        self.line_w = 0;
        self.space = None;
    }

    fn end_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let gap = usize::from(!self.line.is_empty());
        if self.line_w + gap + self.word_w <= self.width {
            if gap == 1 {
                self.line
                    .push((" ".to_string(), self.space.unwrap_or_default()));
            }
            self.line.append(&mut self.word);
            self.line_w += gap + self.word_w;
        } else {
            if !self.line.is_empty() {
                self.end_line();
            }
            for (g, style) in std::mem::take(&mut self.word) {
                let w = text::width(&g);
                if self.line_w + w > self.width && self.line_w > 0 {
                    self.end_line();
                }
                self.line.push((g, style));
                self.line_w += w;
            }
        }
        self.word_w = 0;
        self.space = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn styled_text_wraps_at_spaces_and_keeps_line_breaks() {
        let pieces = vec![
            ("Hi ".to_string(), Style::default()),
            ("Deniz Yılmaz".to_string(), theme::filled_value()),
            (", your order\nships today.".to_string(), Style::default()),
        ];
        assert_eq!(
            text_of(&wrap_pieces(&pieces, 12)),
            ["Hi Deniz", "Yılmaz, your", "order", "ships today."]
        );
        let lines = wrap_pieces(&pieces, 80);
        assert_eq!(lines[0].spans[1].style, theme::filled_value());
        assert_eq!(lines[0].spans[1].content, "Deniz Yılmaz");
        assert_eq!(
            text_of(&wrap_pieces(&[("abcdefgh".into(), Style::default())], 3)),
            ["abc", "def", "gh"]
        );
        assert_eq!(text_of(&wrap_pieces(&[], 3)), [""]);
    }

    #[test]
    fn control_characters_never_reach_the_preview() {
        let pieces = placeholder_pieces("a\u{1b}[2Jb {{1}}", Style::default(), |_| {
            Some("x\u{7}y".into())
        });
        let joined: String = pieces.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(joined, "ab xy");
    }
}
