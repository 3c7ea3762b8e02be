//! The DM Champ sandbox's data: contacts (with their lists, tags and
//! messages), the account's tags, lists and WhatsApp templates, seeded
//! deterministically from the shared corpora.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::sandbox::corpus::{self, Lang, Line};

/// The custom channel seeded contacts chat on, as `customChannel`.
pub(crate) const CUSTOM_CHANNEL: &str = "shop-01";

#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub id: String,
    /// `inbound` (the customer) or `outbound`.
    pub direction: &'static str,
    /// `user`, `assistant` (the bot) or `agent`.
    pub role: &'static str,
    pub content: String,
    pub message_type: String,
    pub channel: String,
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn wire(&self) -> Value {
        json!({
            "id": self.id,
            "direction": self.direction,
            "role": self.role,
            "content": self.content,
            "messageType": self.message_type,
            "channel": self.channel,
            "createdAt": self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub id: String,
    /// E.164; custom-channel contacts created by a send may have none.
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `whatsapp`, `sms`, `instagram` or `custom`.
    pub channel: String,
    pub custom_channel: Option<String>,
    pub external_id: Option<String>,
    pub is_bot_active: bool,
    pub do_not_disturb: bool,
    pub lists: BTreeSet<String>,
    /// Tag names, in the order they were applied.
    pub tags: Vec<String>,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone)]
pub(crate) struct List {
    pub name: String,
    /// The API key may add contacts to it (else 403).
    pub permitted: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub id: String,
    pub name: String,
    pub status: String,
    pub language: String,
    pub category: String,
    pub created_at: DateTime<Utc>,
}

impl Template {
    pub fn wire(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "language": self.language,
            "category": self.category,
            "createdAt": self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
    }
}

/// A template send the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSend {
    pub contact_id: String,
    pub template_id: String,
}

pub(crate) struct World {
    pub contacts: Vec<Contact>,
    pub index: HashMap<String, usize>,
    /// Account tags: name → description.
    pub tags: BTreeMap<String, String>,
    pub lists: BTreeMap<String, List>,
    pub templates: Vec<Template>,
    pub sends: Vec<TemplateSend>,
    /// The WhatsApp sender is set up; without it template sends answer 403.
    pub twilio_configured: bool,
    next_id: u64,
}

impl World {
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.index.get(id).map(|&i| &self.contacts[i])
    }

    pub fn contact_mut(&mut self, id: &str) -> Option<&mut Contact> {
        let i = *self.index.get(id)?;
        Some(&mut self.contacts[i])
    }

    pub fn by_phone(&self, phone: &str) -> Option<&Contact> {
        self.contacts
            .iter()
            .find(|c| c.phone.as_deref() == Some(phone))
    }

    pub fn by_email(&self, email: &str) -> Option<&Contact> {
        self.contacts
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(email) && c.email != "unknown@unknown.com")
    }

    pub fn by_custom(&self, channel: &str, external_id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| {
            c.custom_channel.as_deref() == Some(channel)
                && c.external_id.as_deref() == Some(external_id)
        })
    }

    pub fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:x}", 0x81f2 + self.next_id)
    }

    pub fn insert(&mut self, contact: Contact) -> String {
        let id = contact.id.clone();
        self.index.insert(id.clone(), self.contacts.len());
        self.contacts.push(contact);
        id
    }

    /// Appends a message to a contact; its id, or `None` for an unknown contact.
    pub fn push_message(
        &mut self,
        contact_id: &str,
        inbound: bool,
        content: &str,
        message_type: &str,
        at: DateTime<Utc>,
    ) -> Option<String> {
        let id = self.fresh_id("m_");
        let c = self.contact_mut(contact_id)?;
        let created_at = c
            .messages
            .last()
            .map_or(at, |m| at.max(m.created_at + Duration::milliseconds(1)));
        c.messages.push(Message {
            id: id.clone(),
            direction: if inbound { "inbound" } else { "outbound" },
            role: if inbound { "user" } else { "agent" },
            content: content.to_string(),
            message_type: message_type.to_string(),
            channel: c.channel.clone(),
            created_at,
        });
        Some(id)
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A valid mobile number in E.164 for the language's usual country.
fn phone(rng: &mut ChaCha8Rng, lang: &str) -> String {
    loop {
        let candidate = match lang {
            "tr" => format!("+90532{}", digits(rng, 7)),
            "ar" => format!("+96650{}", digits(rng, 7)),
            "ja" => format!("+8190{}", digits(rng, 8)),
            _ => format!("+316{}", digits(rng, 8)),
        };
        let valid = phonenumber::parse(None, &candidate)
            .map(|n| phonenumber::is_valid(&n))
            .unwrap_or(false);
        if valid {
            return candidate;
        }
    }
}

fn fill(text: &str, name: &str, rng: &mut ChaCha8Rng) -> String {
    let text = text
        .trim_start_matches("[img]")
        .trim_start_matches("[pdf]")
        .trim_start();
    text.replace("{name}", name)
        .replace("{order}", &format!("#{}", rng.random_range(10_000..99_999)))
        .replace("{date}", "2026-03-14")
        .replace(
            "{amount}",
            &format!("{}.{:02}", rng.random_range(5..400), 0),
        )
}

fn account_tags() -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    tags.insert("vip".to_string(), "Top customers".to_string());
    tags.insert("hot-lead".to_string(), "Asked for pricing".to_string());
    for lang in corpus::langs() {
        for topic in &lang.topics {
            if let Some(tag) = &topic.tag {
                tags.entry(tag.clone()).or_insert_with(String::new);
            }
        }
    }
    tags
}

fn lists() -> BTreeMap<String, List> {
    let list = |name: &str, permitted| List {
        name: name.to_string(),
        permitted,
    };
    BTreeMap::from([
        ("lst_spring".to_string(), list("Spring campaign", true)),
        ("lst_vip".to_string(), list("VIP", true)),
        ("lst_newsletter".to_string(), list("Newsletter", true)),
        ("lst_board".to_string(), list("Board members", false)),
    ])
}

fn templates(now: DateTime<Utc>) -> Vec<Template> {
    let t = |i: i64, name: &str, status: &str, language: &str, category: &str| Template {
        id: format!("tpl_{}", 4410 + i),
        name: name.to_string(),
        status: status.to_string(),
        language: language.to_string(),
        category: category.to_string(),
        created_at: now - Duration::days(120 - i),
    };
    vec![
        t(0, "appointment_reminder", "approved", "en_US", "UTILITY"),
        t(1, "spring_offer", "approved", "nl", "MARKETING"),
        t(2, "siparis_durumu", "approved", "tr", "UTILITY"),
        t(3, "order_update", "approved", "ar", "UTILITY"),
        t(4, "welcome_back", "pending", "ja", "MARKETING"),
        t(5, "flash_sale", "rejected", "en_US", "MARKETING"),
    ]
}

/// A thread of one topic and some filler, oldest first, ending `last`.
fn thread(
    rng: &mut ChaCha8Rng,
    lang: &Lang,
    name: &str,
    channel: &str,
    last: DateTime<Utc>,
    next_id: &mut u64,
) -> Vec<Message> {
    let topic = pick(rng, &lang.topics);
    let mut lines: Vec<(bool, String)> = topic
        .lines
        .iter()
        .map(|line| match line {
            Line::Customer(t) => (true, fill(t, name, rng)),
            Line::Agent(t) => (false, fill(t, name, rng)),
        })
        .collect();
    if rng.random_bool(0.5) {
        lines.push((true, pick(rng, &lang.customer_fillers).clone()));
    }
    let n = lines.len() as i64;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, (inbound, content))| {
            *next_id += 1;
            let back = (n - 1 - i as i64) * 90 + rng.random_range(0..60);
            Message {
                id: format!("m_{:x}", 0x1000 + *next_id),
                direction: if inbound { "inbound" } else { "outbound" },
                // Most answers in DM Champ come from the AI bot.
                role: if inbound {
                    "user"
                } else if rng.random_bool(0.7) {
                    "assistant"
                } else {
                    "agent"
                },
                content,
                message_type: "text".to_string(),
                channel: channel.to_string(),
                created_at: last - Duration::seconds(back),
            }
        })
        .collect()
}

pub(crate) fn generate(seed: u64, contacts: usize, now: DateTime<Utc>) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xd3c4_a3b0);
    let langs = corpus::langs();
    let domains = &corpus::common().email_domains;
    let tag_names: Vec<String> = account_tags().into_keys().collect();
    let list_ids: Vec<String> = lists()
        .into_iter()
        .filter(|(_, l)| l.permitted)
        .map(|(id, _)| id)
        .collect();
    let mut world = World {
        contacts: Vec::with_capacity(contacts),
        index: HashMap::new(),
        tags: account_tags(),
        lists: lists(),
        templates: templates(now),
        sends: Vec::new(),
        twilio_configured: true,
        next_id: 0,
    };
    let mut phones = BTreeSet::new();
    let mut message_ids = 0u64;
    for i in 0..contacts {
        let lang = langs[rng.random_range(0..langs.len())];
        let first = pick(&mut rng, &lang.first_names).name.clone();
        let last = pick(&mut rng, &lang.last_names).clone();
        let mut number = phone(&mut rng, lang.code);
        while !phones.insert(number.clone()) {
            number = phone(&mut rng, lang.code);
        }
        let channel = match rng.random_range(0..10) {
            0..=5 => "whatsapp",
            6 => "sms",
            7 => "instagram",
            _ => "custom",
        };
        let email = if rng.random_bool(0.75) {
            format!(
                "{}{}@{}",
                pick(&mut rng, &lang.handles),
                rng.random_range(1..999),
                pick(&mut rng, domains)
            )
        } else {
            "unknown@unknown.com".to_string()
        };
        let (custom_channel, external_id) = if channel == "custom" {
            (
                Some(CUSTOM_CHANNEL.to_string()),
                Some(format!("visitor-{}", 8000 + i)),
            )
        } else {
            (None, None)
        };
        let mut tags = Vec::new();
        for _ in 0..rng.random_range(0..3) {
            let tag = pick(&mut rng, &tag_names).clone();
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let mut member_of = BTreeSet::new();
        if rng.random_bool(0.3) {
            member_of.insert(pick(&mut rng, &list_ids).clone());
        }
        // Newest contacts first in creation order, spread over 30 days.
        let last_at = now - Duration::minutes(rng.random_range(5..60 * 24 * 30));
        let messages = thread(&mut rng, lang, &first, channel, last_at, &mut message_ids);
        let id = format!("c_{:x}", 0x81f2 + i);
        world.insert(Contact {
            id,
            phone: Some(number),
            first_name: first,
            last_name: last,
            email,
            channel: channel.to_string(),
            custom_channel,
            external_id,
            is_bot_active: rng.random_bool(0.8),
            do_not_disturb: rng.random_bool(0.05),
            lists: member_of,
            tags,
            messages,
        });
    }
    world.next_id = (contacts as u64).max(message_ids) + 0x10_000;
    world
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-20T12:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn fingerprint(w: &World) -> Vec<(String, Option<String>, String, usize)> {
        w.contacts
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.phone.clone(),
                    c.first_name.clone(),
                    c.messages.len(),
                )
            })
            .collect()
    }

    #[test]
    fn same_seed_same_world_and_other_seed_other_world() {
        let a = generate(7, 30, fixed_now());
        let b = generate(7, 30, fixed_now());
        let c = generate(8, 30, fixed_now());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn seeded_contacts_are_unique_valid_and_varied() {
        let w = generate(42, 200, fixed_now());
        assert_eq!(w.contacts.len(), 200);
        let phones: BTreeSet<_> = w.contacts.iter().filter_map(|c| c.phone.clone()).collect();
        assert_eq!(phones.len(), 200, "phones are unique");
        for p in &phones {
            let parsed = crate::contact_fields::parse_phone(p, &[]).expect("valid phone");
            assert_eq!(&parsed.e164, p);
        }
        for channel in ["whatsapp", "sms", "instagram", "custom"] {
            assert!(w.contacts.iter().any(|c| c.channel == channel), "{channel}");
        }
        assert!(w.contacts.iter().all(|c| !c.messages.is_empty()));
        assert!(w.contacts.iter().all(|c| {
            c.messages
                .windows(2)
                .all(|m| m[0].created_at <= m[1].created_at)
        }));
        assert!(w.contacts.iter().any(|c| c.email == "unknown@unknown.com"));
        assert!(w.contacts.iter().any(|c| !c.tags.is_empty()));
        for c in &w.contacts {
            assert_eq!(w.contact(&c.id).map(|x| &x.id), Some(&c.id));
        }
    }

    #[test]
    fn fresh_ids_never_clash_with_seeded_ones() {
        let mut w = generate(1, 50, fixed_now());
        let seeded: BTreeSet<String> = w.contacts.iter().map(|c| c.id.clone()).collect();
        for _ in 0..100 {
            assert!(!seeded.contains(&w.fresh_id("c_")));
        }
    }
}
