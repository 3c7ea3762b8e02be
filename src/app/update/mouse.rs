//! The mouse: a click selects a row or a tab, the wheel scrolls the pane
//! under the pointer.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use crate::app::command::Command;
use crate::app::keymap::Action;
use crate::app::state::{AppState, Focus};
use crate::app::view::{self, layout};

/// Rows one wheel notch moves.
const WHEEL_STEP: usize = 3;

pub fn on_mouse(state: &mut AppState, mouse: MouseEvent, fresh_id: String) -> Vec<Command> {
    // Boxes on top keep the keyboard; the panes under them stay put.
    if state.overlay().is_some() {
        return Vec::new();
    }
    let at = Position::new(mouse.column, mouse.row);
    let panes = view::current_layout(state);
    let header = view::list_header_rows(state);
    let in_list = panes.list.contains(at);
    let in_thread = panes.thread.contains(at);
    match mouse.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let action = if mouse.kind == MouseEventKind::ScrollUp {
                Action::Up
            } else {
                Action::Down
            };
            state.dirty = true;
            if in_list {
                for _ in 0..WHEEL_STEP {
                    super::move_selection(state, action);
                }
            } else if in_thread {
                let mut commands = Vec::new();
                for _ in 0..WHEEL_STEP {
                    commands.extend(super::scroll_thread(state, action));
                }
                return commands;
            }
            Vec::new()
        }
        MouseEventKind::Down(MouseButton::Left) => {
            state.dirty = true;
            if in_list {
                let tabs = Rect {
                    height: 1,
                    ..layout::inner(panes.list)
                };
                if tabs.contains(at) {
                    if let Some(tab) = view::tab_at(state, at.x - tabs.x) {
                        let action = match tab {
                            crate::store::views::Tab::Mine => Action::ViewMine,
                            crate::store::views::Tab::Unassigned => Action::ViewUnassigned,
                            crate::store::views::Tab::All => Action::ViewAll,
                        };
                        return super::on_action(state, action, fresh_id);
                    }
                    return Vec::new();
                }
                let rows = layout::list_rows(&panes, header);
                if rows.contains(at) {
                    let index =
                        state.list_offset + usize::from((at.y - rows.y) / layout::LIST_ROW_HEIGHT);
                    if let Some(id) = state.rows().get(index).cloned() {
                        let already = state.selected.as_ref() == Some(&id);
                        state.selected = Some(id);
                        state.selected_hint = index;
                        state.selection_chosen = true;
                        state.focus = Focus::List;
                        // A second click on the selected row opens it.
                        if already {
                            return super::on_action(state, Action::Open, fresh_id);
                        }
                    }
                }
            } else if in_thread && state.open.is_some() {
                state.focus = Focus::Thread;
            } else if panes.composer.contains(at) && state.open.is_some() {
                super::begin_compose(state);
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}
