//! The application core: state, events, the pure `update`, commands and
//! the runtime loop that ties them to the terminal and the network.

pub mod command;
pub mod contact_form;
pub mod directory;
pub mod event;
pub mod executor;
pub mod keymap;
pub mod picker;
pub mod retry_timers;
pub mod runtime;
pub mod save_contact;
pub mod startup;
pub mod state;
pub mod template_picker;
pub mod update;
pub mod view;

pub use command::Command;
pub use event::{Env, Event, SyncEvent};
pub use state::AppState;
pub use update::update;
