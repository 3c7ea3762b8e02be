//! The contact profile pane.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::AppState;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let _ = (frame, area, state);
}

/// One contact's profile in `area`: the pane beside the thread and the
/// directory's right half both draw through here. `focused` highlights
/// the selected conversation row (`state.profile_selected`).
pub fn render_contact(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    contact_id: &crate::domain::ContactId,
    focused: bool,
) {
    let _ = (frame, area, state, contact_id, focused);
}
