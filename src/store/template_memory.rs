//! What was sent with templates, kept across restarts: the values last
//! used with each template (offered again in its form) and the templates
//! behind recent messages (so a message the server later reports as
//! failed can be sent again with the same values).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::TemplateId;
use crate::store::outbox::OutboxTemplate;

pub const META_KEY: &str = "template_memory";
/// Recent template messages remembered by client id.
const SENT_KEPT: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateMemory {
    /// One value per form field, as last sent.
    #[serde(default)]
    pub last_values: HashMap<TemplateId, Vec<String>>,
    /// Oldest first.
    #[serde(default)]
    pub sent: Vec<(String, OutboxTemplate)>,
}

impl TemplateMemory {
    pub fn from_json(json: &str) -> TemplateMemory {
        serde_json::from_str(json).unwrap_or_else(|error| {
            tracing::warn!(%error, "remembered template values unreadable; starting afresh");
            TemplateMemory::default()
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn remember(&mut self, client_id: &str, template: &OutboxTemplate, fields: Vec<String>) {
        self.last_values
            .insert(template.template_id.clone(), fields);
        self.sent.retain(|(id, _)| id != client_id);
        self.sent.push((client_id.to_string(), template.clone()));
        if self.sent.len() > SENT_KEPT {
            let extra = self.sent.len() - SENT_KEPT;
            self.sent.drain(..extra);
        }
    }

    pub fn values_for(&self, id: &TemplateId) -> &[String] {
        self.last_values.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn sent_as(&self, client_id: &str) -> Option<&OutboxTemplate> {
        self.sent
            .iter()
            .rev()
            .find(|(id, _)| id == client_id)
            .map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TemplateValues;

    fn template(id: &str) -> OutboxTemplate {
        OutboxTemplate {
            template_id: TemplateId::from(id),
            template_name: id.into(),
            language: "en".into(),
            values: TemplateValues::default(),
            contact_id: None,
        }
    }

    #[test]
    fn remembers_values_and_recent_sends_within_bounds() {
        let mut memory = TemplateMemory::default();
        for i in 0..(SENT_KEPT + 5) {
            memory.remember(&format!("m{i}"), &template("t"), vec![format!("v{i}")]);
        }
        assert_eq!(memory.sent.len(), SENT_KEPT);
        assert!(memory.sent_as("m0").is_none());
        assert!(memory.sent_as(&format!("m{}", SENT_KEPT + 4)).is_some());
        assert_eq!(
            memory.values_for(&TemplateId::from("t")),
            [format!("v{}", SENT_KEPT + 4)]
        );
        let back = TemplateMemory::from_json(&memory.to_json());
        assert_eq!(back, memory);
        assert_eq!(TemplateMemory::from_json("{"), TemplateMemory::default());
    }
}
