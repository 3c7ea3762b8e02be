//! Many customer messages at one moment, for testing how clients page
//! through a thread whose messages share a timestamp.

use chrono::{DateTime, SubsecRound, Utc};

use super::{SandboxControl, lock};

impl SandboxControl {
    /// Adds `count` customer messages to the conversation, all created at
    /// `at` (to the millisecond), with texts `"{label} 0"`, `"{label} 1"`, ….
    /// The thread stays ordered by time, the new ones in the order added
    /// among themselves. Returns their ids in that order (none for an
    /// unknown conversation).
    pub fn add_messages_at(
        &self,
        conversation: &str,
        count: usize,
        at: DateTime<Utc>,
        label: &str,
    ) -> Vec<String> {
        let at = at.trunc_subsecs(3);
        let mut world = lock(&self.shared.world);
        let Some(&ci) = world.conv_idx.get(conversation) else {
            return Vec::new();
        };
        let status = world.conversations[ci].status.clone();
        let updated_at = world.conversations[ci].updated_at;
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let Some(id) = world.add_incoming(conversation, &format!("{label} {n}"), at) else {
                return ids;
            };
            ids.push(id);
        }
        // Appending bumped each one a millisecond past the last; put them
        // all at `at` and in time order with what was there.
        for message in world.messages[ci].iter_mut() {
            if ids.contains(&message.id) {
                message.created_at = at;
            }
        }
        world.messages[ci].sort_by_key(|m| m.created_at);
        let positions: Vec<(String, usize)> = world.messages[ci]
            .iter()
            .enumerate()
            .map(|(mi, m)| (m.id.clone(), mi))
            .collect();
        for (id, mi) in positions {
            world.msg_idx.insert(id, (ci, mi));
        }
        let newest = world.messages[ci]
            .last()
            .map(|m| (m.preview(), m.created_at));
        let conv = &mut world.conversations[ci];
        if let Some((preview, created_at)) = newest {
            conv.last_message = Some(preview);
            conv.updated_at = updated_at.max(created_at);
        }
        if at < updated_at {
            // Old history does not reopen a conversation.
            conv.status = status;
        }
        ids
    }
}
