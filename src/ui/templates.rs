//! The template picker: tabs, the filtered list, the preview and the
//! variables form.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::AppState;
use crate::app::template_picker::TemplatePicker;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, picker: &TemplatePicker) {
    let _ = (frame, area, state, picker);
}
