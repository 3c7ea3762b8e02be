//! The contacts directory.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::AppState;
use crate::app::directory::Directory;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, directory: &Directory) {
    let _ = (frame, area, state, directory);
}
