//! Many customer messages at one moment, for testing how clients page
//! through a thread whose messages share a timestamp.

use chrono::{DateTime, SubsecRound, Utc};

use super::control::SuperWabaControl;
use crate::sandbox::lock;

impl SuperWabaControl {
    /// Adds `count` customer messages to the conversation, all sent at
    /// `at` (to the millisecond), with texts `"{label} 0"`, `"{label} 1"`, ….
    /// The thread stays ordered by time, the new ones in the order added
    /// among themselves. Returns their ids in that order.
    pub fn add_messages_at(
        &self,
        conversation: &str,
        count: usize,
        at: DateTime<Utc>,
        label: &str,
    ) -> Vec<String> {
        let at = at.trunc_subsecs(3);
        let mut world = lock(&self.shared.world);
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let Some(id) = world.add_inbound(conversation, &format!("{label} {n}")) else {
                return ids;
            };
            ids.push(id);
        }
        if let Some(messages) = world.messages.get_mut(conversation) {
            for message in messages.iter_mut() {
                if ids.contains(&message.id) {
                    message.timestamp = at;
                }
            }
            messages.sort_by_key(|m| m.timestamp);
        }
        ids
    }
}
