//! Steering the sandbox's data the way a stranger could: whatever a
//! customer types as their name, whatever tag text an integration writes.

use super::world::{self, Tag};
use super::{SandboxControl, lock};

impl SandboxControl {
    /// Renames the conversation's contact as if the customer had set that
    /// name; the conversation counts as updated now. False when the
    /// conversation is unknown.
    pub fn set_contact_name(&self, conversation_id: &str, first: &str, last: Option<&str>) -> bool {
        let mut world = lock(&self.shared.world);
        let Some(&ci) = world.conv_idx.get(conversation_id) else {
            return false;
        };
        let contact_id = world.conversations[ci].joined_person.clone();
        let Some(&pi) = world.contact_idx.get(&contact_id) else {
            return false;
        };
        let now = world::now_ms();
        let contact = &mut world.contacts[pi];
        contact.first_name = first.to_string();
        contact.last_name = last.map(str::to_string);
        contact.updated_at = now;
        let conversation = &mut world.conversations[ci];
        conversation.updated_at = conversation.updated_at.max(now);
        true
    }

    /// Adds a tag named `name` to the conversation (and the account's tag
    /// list); the conversation counts as updated now. Returns the tag's id,
    /// `None` when the conversation is unknown.
    pub fn add_conversation_tag(&self, conversation_id: &str, name: &str) -> Option<String> {
        let mut world = lock(&self.shared.world);
        let &ci = world.conv_idx.get(conversation_id)?;
        let id = format!("{:024x}", world.tags.len() + 0xabc0_0000);
        let tag = Tag {
            id: id.clone(),
            name: name.to_string(),
            color: "#777777".into(),
        };
        world.tags.push(tag.clone());
        let now = world::now_ms();
        let conversation = &mut world.conversations[ci];
        conversation.tags.push(tag);
        conversation.updated_at = conversation.updated_at.max(now);
        Some(id)
    }
}
