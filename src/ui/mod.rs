//! Drawing: reads state and paints; never blocks, never does IO.

pub mod composer;
pub mod contact_form;
pub mod conversation_list;
pub mod directory;
pub mod help;
pub mod picker;
pub mod profile;
pub mod search;
pub mod status_bar;
pub mod templates;
pub mod thread;

use ratatui::Frame;

use crate::app::AppState;
use crate::app::state::Overlay;

/// A pane's frame: its border in the focus colour while it has the keys.
pub fn pane_block(focused: bool) -> ratatui::widgets::Block<'static> {
    ratatui::widgets::Block::default()
        .borders(ratatui::widgets::Borders::ALL)
        .border_style(if focused {
            crate::theme::focused_border()
        } else {
            crate::theme::border()
        })
}

pub fn draw(frame: &mut Frame, state: &AppState) {
    let area = frame.area();
    let layout = crate::app::view::layout::compute(
        area.width,
        area.height,
        crate::app::view::thread_lines::composer_lines(state),
        crate::app::view::profile_placement(state),
    );
    conversation_list::render(frame, layout.list, state);
    thread::render(frame, layout.thread, state);
    composer::render(frame, layout.composer, state);
    if !layout.profile.is_empty() {
        profile::render(frame, layout.profile, state);
    }
    status_bar::render(frame, layout.status, state);
    // Bottom to top, so the one that gets the keys is drawn last.
    for overlay in &state.overlays {
        match overlay {
            Overlay::Help { scroll } => help::render_help(frame, area, state, *scroll),
            Overlay::ConfirmQuit => help::render_confirm_quit(frame, area, state),
            Overlay::Search(search) => search::render(frame, area, state, search),
            // Drawn inside the list, as its filter bar.
            Overlay::Filter => {}
            Overlay::Picker(picker) => picker::render(frame, area, state, picker),
            Overlay::ContactForm(form) => contact_form::render(frame, area, state, form),
            Overlay::ConfirmDiscard => contact_form::render_confirm_discard(frame, area, state),
            Overlay::ConfirmDeleteContact(delete) => {
                contact_form::render_confirm_delete(frame, area, state, delete)
            }
            Overlay::Directory(directory) => directory::render(frame, area, state, directory),
            Overlay::Templates(picker) => templates::render(frame, area, state, picker),
        }
    }
}
