//! The contact editor and its confirmations.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::AppState;
use crate::app::contact_form::ContactForm;
use crate::app::state::DeleteContact;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, form: &ContactForm) {
    let _ = (frame, area, state, form);
}

pub fn render_confirm_discard(frame: &mut Frame, area: Rect, state: &AppState) {
    let _ = (frame, area, state);
}

pub fn render_confirm_delete(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    delete: &DeleteContact,
) {
    let _ = (frame, area, state, delete);
}
