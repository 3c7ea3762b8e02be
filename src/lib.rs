//! termdesk: a keyboard-driven terminal inbox for customer-messaging platforms.

pub mod api;
pub mod app;
pub mod bounded;
pub mod canned;
pub mod cli;
pub mod config;
pub mod contact_fields;
pub mod contacts_csv;
pub mod domain;
pub mod launch;
pub mod logging;
pub mod paths;
pub mod sandbox;
pub mod store;
pub mod sync;
pub mod template_text;
pub mod text;
pub mod theme;
pub mod timefmt;
pub mod tui;
pub mod ui;
pub mod whatsapp_window;
