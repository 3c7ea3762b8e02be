//! Drawing: reads state and paints; never blocks, never does IO.

pub mod composer;
pub mod conversation_list;
pub mod help;
pub mod layout;
pub mod search;
pub mod status_bar;
pub mod theme;
pub mod thread;

use ratatui::Frame;

use crate::app::AppState;
use crate::app::state::Overlay;

pub fn draw(frame: &mut Frame, state: &AppState) {
    let area = frame.area();
    let layout = layout::compute(area.width, area.height, thread::composer_lines(state));
    conversation_list::render(frame, layout.list, state);
    thread::render(frame, layout.thread, state);
    composer::render(frame, layout.composer, state);
    status_bar::render(frame, layout.status, state);
    match &state.overlay {
        Some(Overlay::Help) => help::render_help(frame, area, state),
        Some(Overlay::ConfirmQuit) => help::render_confirm_quit(frame, area, state),
        Some(Overlay::Search(search)) => search::render(frame, area, state, search),
        None => {}
    }
}

/// Every time-based label currently on screen, joined: when this changes on
/// a tick the screen needs a redraw, otherwise it does not.
pub fn time_labels(state: &AppState) -> String {
    let mut labels = status_bar::sync_text(state);
    for label in conversation_list::visible_time_labels(state) {
        labels.push('|');
        labels.push_str(&label);
    }
    if let Some(id) = &state.open {
        for item in state.outbox.for_conversation(id) {
            if let crate::store::outbox::OutboxState::WaitingRetry { retry_at, .. } = &item.state {
                labels.push_str(&format!("|{}", (*retry_at - state.now).num_seconds()));
            }
        }
    }
    labels
}
