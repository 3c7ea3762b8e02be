//! The help overlay's geometry: the keymap's sections wrapped into one or
//! two columns, and how far they scroll. `update` clamps the scroll with it
//! and `ui` draws it, so both agree at every terminal size.

use ratatui::layout::Rect;

use crate::app::AppState;
use crate::app::keymap::{Action, Keymap};
use crate::app::view::layout::centered;
use crate::text;

/// Wider than this, lines get too long to read.
pub const MAX_WIDTH: u16 = 110;
/// Two columns only when each is at least this wide.
const MIN_COLUMN_WIDTH: usize = 34;
pub const COLUMN_GAP: u16 = 2;

pub const REMAP_TITLE: &str = "Changing keys";
pub const REMAP_NOTE: &str = "Every key can be changed in the config file: tables [keys.global], [keys.list], [keys.thread] and [keys.composer] of \"key\" = \"action\"; \"none\" unbinds a key.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    Blank,
    Title(&'static str),
    /// `keys` is padded to the section's key column (blank on the lines
    /// a description wraps onto). `unavailable` rows are actions the
    /// provider does not offer: greyed, the reason after the description.
    Row {
        keys: String,
        text: String,
        unavailable: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLayout {
    /// The overlay with its border.
    pub rect: Rect,
    pub column_width: u16,
    /// One or two columns of lines, scrolled together.
    pub columns: Vec<Vec<HelpLine>>,
    /// Lines visible inside the border.
    pub visible: usize,
}

impl HelpLayout {
    pub fn total(&self) -> usize {
        self.columns.iter().map(Vec::len).max().unwrap_or(0)
    }

    pub fn max_scroll(&self) -> usize {
        self.total().saturating_sub(self.visible)
    }

    /// Lines PageUp / PageDown move: a screenful, keeping one line.
    pub fn page(&self) -> usize {
        self.visible.saturating_sub(1).max(1)
    }
}

/// The help with every action offered.
pub fn layout(keymap: &Keymap, area: Rect) -> HelpLayout {
    layout_with(keymap, area, |_| None)
}

/// The help as the agent sees it: the provider's missing actions greyed.
pub fn for_state(state: &AppState, area: Rect) -> HelpLayout {
    layout_with(&state.keymap, area, |action| state.unavailable(action))
}

/// `unavailable` says why an action cannot be done, if it cannot.
pub fn layout_with(
    keymap: &Keymap,
    area: Rect,
    unavailable: impl Fn(Action) -> Option<String>,
) -> HelpLayout {
    let mut sections: Vec<(&'static str, Vec<Row>)> = keymap
        .help_actions()
        .into_iter()
        .map(|(title, rows)| {
            let rows = rows
                .into_iter()
                .map(|(keys, action)| match unavailable(action) {
                    Some(reason) => Row {
                        keys,
                        text: format!("{} — {reason}", action.description()),
                        unavailable: true,
                    },
                    None => Row {
                        keys,
                        text: action.description().to_string(),
                        unavailable: false,
                    },
                })
                .collect();
            (title, rows)
        })
        .collect();
    sections.push((
        REMAP_TITLE,
        vec![Row {
            keys: String::new(),
            text: REMAP_NOTE.to_string(),
            unavailable: false,
        }],
    ));
    let width = area.width.min(MAX_WIDTH);
    let inner = usize::from(width.saturating_sub(2));
    let gap = usize::from(COLUMN_GAP);
    let two = inner >= 2 * MIN_COLUMN_WIDTH + gap;
    let column_width = if two { (inner - gap) / 2 } else { inner };
    let blocks: Vec<Vec<HelpLine>> = sections
        .iter()
        .map(|(title, rows)| section_lines(title, rows, column_width))
        .collect();
    let columns = if two {
        let on_right = balanced_split(&blocks);
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for (block, on_right) in blocks.into_iter().zip(on_right) {
            if on_right {
                right.push(block);
            } else {
                left.push(block);
            }
        }
        vec![stack(&left), stack(&right)]
    } else {
        vec![stack(&blocks)]
    };
    let total = columns.iter().map(Vec::len).max().unwrap_or(0);
    let height = u16::try_from(total + 2).unwrap_or(u16::MAX);
    let rect = centered(area, width, height);
    HelpLayout {
        rect,
        column_width: u16::try_from(column_width).unwrap_or(u16::MAX),
        columns,
        visible: usize::from(rect.height.saturating_sub(2)),
    }
}

/// Which sections go to the right column, so that the taller column is as
/// short as it can be; each column keeps the sections' order, and the
/// first section stays on the left.
fn balanced_split(blocks: &[Vec<HelpLine>]) -> Vec<bool> {
    // Every choice is tried: sections are few (seven today). Past 16, the
    // later ones stay on the left.
    let count = blocks.len().min(16);
    let on_right = |mask: u32, index: usize| index < count && mask & (1 << index) != 0;
    let height = |mask: u32, right: bool| {
        let chosen: Vec<usize> = (0..blocks.len())
            .filter(|&index| on_right(mask, index) == right)
            .map(|index| blocks[index].len())
            .collect();
        chosen.iter().sum::<usize>() + chosen.len().saturating_sub(1)
    };
    let best = (0..1u32 << count)
        .step_by(2)
        .min_by_key(|&mask| height(mask, false).max(height(mask, true)))
        .unwrap_or(0);
    (0..blocks.len())
        .map(|index| on_right(best, index))
        .collect()
}

fn stack(blocks: &[Vec<HelpLine>]) -> Vec<HelpLine> {
    let mut lines = Vec::new();
    for block in blocks {
        if !lines.is_empty() {
            lines.push(HelpLine::Blank);
        }
        lines.extend(block.iter().cloned());
    }
    lines
}

/// One action of a section, before wrapping.
struct Row {
    keys: String,
    text: String,
    unavailable: bool,
}

/// A title, then each row's keys with its description wrapped beside them
/// (under them when the keys are too wide for the key column).
fn section_lines(title: &'static str, rows: &[Row], width: usize) -> Vec<HelpLine> {
    // Keys too wide for a third of the column go on a line of their own
    // rather than pushing every description right.
    let key_width = rows
        .iter()
        .map(|row| text::width(&row.keys))
        .filter(|&w| w <= width / 3)
        .max()
        .unwrap_or(0);
    let indent = if key_width == 0 { 1 } else { key_width + 3 };
    let text_width = width.saturating_sub(indent).max(1);
    let blank = " ".repeat(indent);
    let mut lines = vec![HelpLine::Title(title)];
    for Row {
        keys,
        text: description,
        unavailable,
    } in rows
    {
        let unavailable = *unavailable;
        let mut wrapped = text::wrap_words(description, text_width).into_iter();
        let keys_width = text::width(keys);
        if keys_width > key_width {
            lines.push(HelpLine::Row {
                keys: format!(" {}", text::truncate(keys, width.saturating_sub(1))),
                text: String::new(),
                unavailable,
            });
        } else {
            let pad = " ".repeat(indent - 1 - keys_width);
            lines.push(HelpLine::Row {
                keys: format!(" {keys}{pad}"),
                text: wrapped.next().unwrap_or_default(),
                unavailable,
            });
        }
        lines.extend(wrapped.map(|text| HelpLine::Row {
            keys: blank.clone(),
            text,
            unavailable,
        }));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::ACTIONS;
    use crate::config::SendKey;

    fn all_text(layout: &HelpLayout) -> String {
        let mut out = String::new();
        for column in &layout.columns {
            for line in column {
                match line {
                    HelpLine::Blank => {}
                    HelpLine::Title(title) => out.push_str(title),
                    HelpLine::Row { keys, text, .. } => {
                        out.push_str(keys);
                        out.push_str(text);
                    }
                }
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn wraps_at_spaces_only() {
        assert_eq!(
            text::wrap_words("filter the list as you type (Esc clears)", 30),
            ["filter the list as you type", "(Esc clears)"]
        );
        assert_eq!(text::wrap_words("abcdefgh ij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(text::wrap_words("", 10), [""]);
    }

    #[test]
    fn two_columns_at_80_scroll_and_fit_at_200x50() {
        let map = Keymap::new(SendKey::Enter);
        let small = layout(&map, Rect::new(0, 0, 80, 24));
        assert_eq!(small.columns.len(), 2);
        assert_eq!(small.rect, Rect::new(0, 0, 80, 24));
        assert_eq!(small.visible, 22);
        assert!(small.max_scroll() > 0);
        let large = layout(&map, Rect::new(0, 0, 200, 50));
        assert_eq!(large.columns.len(), 2);
        assert_eq!(large.max_scroll(), 0);
        let narrow = layout(&map, Rect::new(0, 0, 60, 20));
        assert_eq!(narrow.columns.len(), 1);
    }

    #[test]
    fn lines_fit_their_column_and_every_action_is_there() {
        let map = Keymap::new(SendKey::Enter);
        for (w, h) in [(3, 3), (0, 0)] {
            layout(&map, Rect::new(0, 0, w, h));
        }
        for (w, h) in [(80, 24), (200, 50), (50, 10)] {
            let help = layout(&map, Rect::new(0, 0, w, h));
            for line in help.columns.iter().flatten() {
                if let HelpLine::Row { keys, text, .. } = line {
                    assert!(
                        text::width(keys) + text::width(text) <= usize::from(help.column_width),
                        "{w}x{h}: {keys}{text}"
                    );
                }
            }
        }
        let text = all_text(&layout(&map, Rect::new(0, 0, 200, 50))).replace('\n', " ");
        let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (action, _) in ACTIONS {
            let description: String = action
                .description()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(squeezed.contains(&description), "{action:?} missing");
        }
        assert!(squeezed.contains("[keys.list]"));
    }
}
