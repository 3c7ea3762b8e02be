//! Where each pane goes. Pure, so `update` can use the same numbers as
//! `draw` for scrolling decisions.

use ratatui::layout::Rect;

pub use crate::app::state::ProfilePlacement;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLayout {
    pub list: Rect,
    pub thread: Rect,
    pub composer: Rect,
    /// Empty while the profile is hidden.
    pub profile: Rect,
    pub status: Rect,
}

/// Width of the profile as a third column.
pub const PROFILE_WIDTH: u16 = 46;
/// Terminals this wide show the profile beside the thread unless `c`
/// hid it.
pub const PROFILE_BESIDE_MIN_WIDTH: u16 = 160;

/// Each conversation takes two rows in the list.
pub const LIST_ROW_HEIGHT: u16 = 2;

pub fn compute(
    width: u16,
    height: u16,
    composer_lines: usize,
    profile: ProfilePlacement,
) -> AppLayout {
    let status_height = u16::from(height > 0);
    let main_height = height.saturating_sub(status_height);
    let list_width = if width >= 140 {
        48
    } else if width >= 100 {
        40
    } else {
        (width * 36 / 100).max(24).min(width)
    };
    let right_x = list_width;
    let mut right_width = width.saturating_sub(list_width);
    let profile_rect = match profile {
        ProfilePlacement::Hidden => Rect::default(),
        ProfilePlacement::Beside => {
            let profile_width = PROFILE_WIDTH.min(right_width / 2);
            right_width -= profile_width;
            Rect::new(right_x + right_width, 0, profile_width, main_height)
        }
        ProfilePlacement::Instead => {
            let rect = Rect::new(right_x, 0, right_width, main_height);
            right_width = 0;
            rect
        }
    };
    let wanted = u16::try_from(composer_lines.clamp(1, 8)).unwrap_or(8) + 2;
    let composer_height = wanted.min(main_height / 2).max(3.min(main_height));
    let thread_height = main_height.saturating_sub(composer_height);
    AppLayout {
        list: Rect::new(0, 0, list_width, main_height),
        thread: Rect::new(right_x, 0, right_width, thread_height),
        composer: Rect::new(right_x, thread_height, right_width, composer_height),
        profile: profile_rect,
        status: Rect::new(0, main_height, width, status_height),
    }
}

/// Inside of a bordered pane.
pub fn inner(rect: Rect) -> Rect {
    Rect::new(
        rect.x.saturating_add(1),
        rect.y.saturating_add(1),
        rect.width.saturating_sub(2),
        rect.height.saturating_sub(2),
    )
}

/// Where the list's rows go: inside its border, below `header_rows`
/// lines (the tabs, and the filter while one is typed or set).
pub fn list_rows(layout: &AppLayout, header_rows: u16) -> Rect {
    rows_below_header(layout.list, header_rows)
}

/// The rows' part of a list pane drawn at `pane` (the drawing and the
/// mouse both go through here).
pub fn rows_below_header(pane: Rect, header_rows: u16) -> Rect {
    let inside = inner(pane);
    let header = header_rows.min(inside.height);
    Rect::new(
        inside.x,
        inside.y + header,
        inside.width,
        inside.height - header,
    )
}

/// How many conversations fit in the list.
pub fn list_capacity(layout: &AppLayout, header_rows: u16) -> usize {
    usize::from((list_rows(layout, header_rows).height / LIST_ROW_HEIGHT).max(1))
}

/// A `width` x `height` box in the middle of `area`, shrunk to fit it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_tile_the_screen_at_80x24_and_tiny_sizes() {
        for (w, h) in [(80, 24), (200, 50), (20, 5), (0, 0), (1, 1)] {
            let layout = compute(w, h, 1, ProfilePlacement::Hidden);
            assert!(layout.list.width + layout.thread.width <= w.max(layout.list.width));
            assert_eq!(
                layout.thread.height + layout.composer.height + layout.status.height,
                h
            );
            assert_eq!(layout.list.height + layout.status.height, h);
        }
        let layout = compute(80, 24, 1, ProfilePlacement::Hidden);
        assert_eq!(layout.status.y, 23);
        assert!(layout.thread.width >= 40);
        let wide = compute(200, 50, 1, ProfilePlacement::Beside);
        assert_eq!(wide.profile.width, PROFILE_WIDTH);
        assert_eq!(wide.thread.right(), wide.profile.x);
        assert_eq!(wide.profile.right(), 200);
        let narrow = compute(80, 24, 1, ProfilePlacement::Instead);
        assert_eq!(narrow.thread.width, 0);
        assert_eq!(narrow.profile.x, narrow.list.right());
        assert_eq!(narrow.profile.height, 23);
    }
}
