//! Colours and styles in one place.

use ratatui::style::{Color, Modifier, Style};

pub fn focused_border() -> Style {
    Style::default().fg(Color::Cyan)
}

pub fn border() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn title() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn contact_name() -> Style {
    Style::default()
        .fg(Color::LightCyan)
        .add_modifier(Modifier::BOLD)
}

pub fn agent_name() -> Style {
    Style::default()
        .fg(Color::LightGreen)
        .add_modifier(Modifier::BOLD)
}

pub fn system_name() -> Style {
    Style::default().fg(Color::Magenta)
}

pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// Characters a picker's filter matched.
pub fn matched() -> Style {
    Style::default()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

pub fn selected_row() -> Style {
    Style::default()
        .bg(Color::Rgb(40, 60, 90))
        .add_modifier(Modifier::BOLD)
}

pub fn unread_badge() -> Style {
    Style::default()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

pub fn error() -> Style {
    Style::default().fg(Color::LightRed)
}

pub fn warning() -> Style {
    Style::default().fg(Color::Yellow)
}

pub fn ok() -> Style {
    Style::default().fg(Color::Green)
}

pub fn read_ack() -> Style {
    Style::default().fg(Color::LightBlue)
}

pub fn demo_badge() -> Style {
    Style::default()
        .fg(Color::Black)
        .bg(Color::Magenta)
        .add_modifier(Modifier::BOLD)
}

pub fn status_bar() -> Style {
    Style::default().bg(Color::Rgb(30, 30, 40))
}

pub fn media() -> Style {
    Style::default().fg(Color::LightMagenta)
}

pub fn quote() -> Style {
    Style::default()
        .fg(Color::Gray)
        .add_modifier(Modifier::ITALIC)
}

pub fn active_tab() -> Style {
    Style::default()
        .fg(Color::Black)
        .bg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

pub fn filter_bar() -> Style {
    Style::default().fg(Color::LightYellow)
}

/// The mark of a row chosen for a bulk action.
pub fn marked() -> Style {
    Style::default()
        .fg(Color::LightMagenta)
        .add_modifier(Modifier::BOLD)
}

/// A customer waiting, within the SLA.
pub fn waiting() -> Style {
    Style::default().fg(Color::Yellow)
}

/// A customer waiting longer than the SLA allows.
pub fn sla_breached() -> Style {
    Style::default()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD)
}

pub fn urgent() -> Style {
    Style::default()
        .fg(Color::LightRed)
        .add_modifier(Modifier::BOLD)
}

pub fn tag() -> Style {
    Style::default().fg(Color::LightBlue)
}

/// A template value or blank still to be filled.
pub fn missing_value() -> Style {
    Style::default()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// A value filled into a template or canned reply, in the preview.
pub fn filled_value() -> Style {
    Style::default()
        .fg(Color::LightCyan)
        .add_modifier(Modifier::UNDERLINED)
}

/// The marker of an account's rows: one colour per account, in order.
pub fn account(index: usize) -> Style {
    const COLORS: [Color; 6] = [
        Color::Cyan,
        Color::Magenta,
        Color::LightYellow,
        Color::LightGreen,
        Color::LightBlue,
        Color::LightRed,
    ];
    Style::default()
        .fg(COLORS[index % COLORS.len()])
        .add_modifier(Modifier::BOLD)
}
