//! termdesk: a keyboard-driven terminal inbox for customer-messaging platforms.

pub mod api;
pub mod config;
pub mod domain;
pub mod sandbox;
pub mod text;
