//! The contact profile pane.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::AppState;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let _ = (frame, area, state);
}
