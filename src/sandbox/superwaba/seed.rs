//! The seeded world: everything random comes from one `ChaCha8Rng` seeded
//! with the sandbox's seed; times are offsets from now, so ids and texts
//! are the same for a seed while the demo always looks current. Names and
//! texts come from the shared corpora (`assets/sandbox/*.toml`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::world::{
    Contact, Conversation, Message, Template, User, World, hex, now_ms, prefixed_id, wamid,
};
use crate::sandbox::corpus::{self, Lang, Line};
use crate::sandbox::data::phone;

const CDN: &str = "https://cdn.sandbox.superwaba.test/media";
const TAGS: [&str; 5] = ["vip", "lead", "repeat", "wholesale", "newsletter"];

pub(crate) struct Volume {
    pub conversations: usize,
    pub contacts: usize,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if roll < *w {
            return *item;
        }
        roll -= w;
    }
    items[items.len() - 1].0
}

fn lang(rng: &mut ChaCha8Rng) -> &'static Lang {
    let [en, tr, ar, ja] = corpus::langs();
    weighted(rng, &[(en, 40), (tr, 25), (ar, 20), (ja, 15)])
}

pub(crate) fn generate(seed: u64, volume: Volume, user_id: &str, user_email: &str) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e9e_7a8a_0000_0001);
    let now = now_ms();
    let users = users(&mut rng, user_id, user_email);
    let mut phones = HashSet::new();
    let n_contacts = volume.contacts.max(volume.conversations);
    let mut contacts = Vec::with_capacity(n_contacts);
    let mut langs = Vec::with_capacity(n_contacts);
    for _ in 0..n_contacts {
        let l = lang(&mut rng);
        contacts.push(contact(&mut rng, l, now, &mut phones));
        langs.push(l);
    }
    let mut world = World {
        rng,
        users,
        contacts,
        conversations: Vec::new(),
        messages: HashMap::new(),
        templates: Vec::new(),
    };
    for (i, lang) in langs.into_iter().enumerate().take(volume.conversations) {
        conversation(&mut world, i, lang, now);
    }
    world.templates = templates(&mut world.rng);
    world
}

fn users(rng: &mut ChaCha8Rng, user_id: &str, user_email: &str) -> Vec<User> {
    let mut users = vec![User {
        id: user_id.to_string(),
        email: user_email.to_string(),
        name: "Demo Agent".into(),
    }];
    for l in corpus::langs().into_iter().take(3) {
        let first = pick(rng, &l.first_names).name.clone();
        let last = pick(rng, &l.last_names).clone();
        let handle = pick(rng, &l.handles).clone();
        users.push(User {
            id: prefixed_id(rng, "user"),
            email: format!("{handle}@team.superwaba.test"),
            name: format!("{first} {last}"),
        });
    }
    users
}

fn contact(
    rng: &mut ChaCha8Rng,
    l: &'static Lang,
    now: DateTime<Utc>,
    phones: &mut HashSet<String>,
) -> Contact {
    let first = pick(rng, &l.first_names).name.clone();
    let last = pick(rng, &l.last_names).clone();
    let mut name = format!("{first} {last}");
    if rng.random_bool(0.08) {
        name = format!("{name} {}", pick(rng, &corpus::common().name_emoji));
    }
    let country = pick(rng, &l.countries).clone();
    let mut number = phone(rng, &country).0;
    while !phones.insert(number.clone()) {
        number = phone(rng, &country).0;
    }
    let email = rng.random_bool(0.6).then(|| {
        format!(
            "{}{}@{}",
            pick(rng, &l.handles),
            rng.random_range(1..999),
            pick(rng, &corpus::common().email_domains)
        )
    });
    let tags = TAGS
        .iter()
        .filter(|_| rng.random_bool(0.15))
        .map(|t| t.to_string())
        .collect();
    let labels = if rng.random_bool(0.2) {
        vec![pick(rng, &["wholesale", "retail"]).to_string()]
    } else {
        Vec::new()
    };
    let mut params = Map::new();
    if rng.random_bool(0.3) {
        params.insert(
            "crm_id".into(),
            json!(format!("L-{}", rng.random_range(1000..9999))),
        );
    }
    let created_at = now - Duration::minutes(rng.random_range(60 * 24 * 10..60 * 24 * 120));
    Contact {
        id: prefixed_id(rng, "contact"),
        vendor_id: hex(rng, 24),
        name,
        phone: number,
        email,
        country_code: Some(country),
        tags,
        labels,
        params,
        source: weighted(rng, &[("organic", 6), ("campaign", 3), ("api", 1)]).to_string(),
        opted_in: rng.random_bool(0.8),
        is_blocked: rng.random_bool(0.03),
        created_at,
        updated_at: created_at + Duration::minutes(rng.random_range(0..60 * 24 * 5)),
    }
}

fn fill(text: &str, name: &str, order: &str, date: &str, amount: &str) -> String {
    text.replace("{name}", name)
        .replace("{order}", order)
        .replace("{date}", date)
        .replace("{amount}", amount)
}

/// One line of a thread before it gets its time.
struct Turn {
    inbound: bool,
    kind: &'static str,
    content: Value,
}

fn turns(rng: &mut ChaCha8Rng, l: &'static Lang, first_name: &str, len: usize) -> Vec<Turn> {
    let mut out = Vec::with_capacity(len + 2);
    let mut topic_i = rng.random_range(0..l.topics.len());
    while out.len() < len {
        let topic = &l.topics[topic_i % l.topics.len()];
        let order = format!("A-{}", rng.random_range(10_000..99_999));
        let date = (Utc::now() - Duration::days(rng.random_range(2..20)))
            .format("%d.%m.%Y")
            .to_string();
        let amount = format!(
            "{}.{:02}",
            rng.random_range(15..250),
            rng.random_range(0..100)
        );
        for line in &topic.lines {
            let (inbound, text) = match line {
                Line::Customer(t) => (true, t),
                Line::Agent(t) => (false, t),
            };
            let text = fill(text, first_name, &order, &date, &amount);
            if let Some(caption) = text.strip_prefix("[img]") {
                out.push(Turn {
                    inbound,
                    kind: "image",
                    content: json!({ "url": format!("{CDN}/{}.jpg", hex(rng, 16)),
                        "mimeType": "image/jpeg", "caption": caption }),
                });
            } else if let Some(rest) = text.strip_prefix("[pdf]") {
                out.push(Turn {
                    inbound,
                    kind: "text",
                    content: json!({ "text": rest }),
                });
                out.push(Turn {
                    inbound,
                    kind: "document",
                    content: json!({ "url": format!("{CDN}/{}.pdf", hex(rng, 16)),
                        "mimeType": "application/pdf", "filename": format!("invoice-{order}.pdf") }),
                });
            } else {
                out.push(Turn {
                    inbound,
                    kind: "text",
                    content: json!({ "text": text }),
                });
            }
            // Now and then a type the reference leaves undescribed.
            if inbound && rng.random_bool(0.04) {
                out.push(match rng.random_range(0..3) {
                    0 => Turn {
                        inbound,
                        kind: "sticker",
                        content: json!({ "url": format!("{CDN}/{}.webp", hex(rng, 16)), "mimeType": "image/webp" }),
                    },
                    1 => Turn {
                        inbound,
                        kind: "reaction",
                        content: json!({ "emoji": "👍" }),
                    },
                    _ => Turn {
                        inbound,
                        kind: "location",
                        content: json!({ "latitude": 25.2, "longitude": 55.27,
                            "name": "Dubai Mall", "address": "Financial Centre Rd, Dubai" }),
                    },
                });
            }
        }
        topic_i += 1 + rng.random_range(0..l.topics.len());
    }
    out.truncate(len.max(1));
    out
}

fn conversation(world: &mut World, i: usize, l: &'static Lang, now: DateTime<Utc>) {
    let rng = &mut world.rng;
    let contact = &world.contacts[i];
    let first_name = contact
        .name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let contact_id = contact.id.clone();
    let id = prefixed_id(rng, "conv");
    let status = weighted(
        rng,
        &[
            ("open", 45),
            ("closed", 30),
            ("ai_handling", 15),
            ("escalated", 10),
        ],
    );
    let assignee_id = match status {
        "ai_handling" => None,
        _ if rng.random_bool(0.55) => Some(pick(rng, &world.users).id.clone()),
        _ => None,
    };
    let len = rng.random_range(3..16);
    let turns = turns(rng, l, &first_name, len);
    // Newer conversations first in creation order; the first ones are
    // inside the 24-hour window.
    let last_at = now - Duration::minutes((i as i64) * 37 + rng.random_range(1..30));
    let mut times = Vec::with_capacity(turns.len());
    let mut t = last_at;
    for _ in 0..turns.len() {
        times.push(t);
        t -= Duration::seconds(rng.random_range(20..1800));
    }
    times.reverse();
    let messages: Vec<Message> = turns
        .into_iter()
        .zip(&times)
        .map(|(turn, &timestamp)| {
            let old = now - timestamp > Duration::hours(2);
            let status = if turn.inbound {
                "delivered"
            } else if old {
                "read"
            } else {
                weighted(
                    rng,
                    &[("sent", 2), ("delivered", 4), ("read", 4), ("failed", 1)],
                )
            };
            Message {
                id: format!("msg_{}", hex(rng, 12)),
                wa_message_id: wamid(rng),
                conversation_id: id.clone(),
                direction: if turn.inbound { "inbound" } else { "outbound" }.into(),
                kind: turn.kind.into(),
                content: turn.content,
                status: status.into(),
                timestamp,
                client_message_id: None,
            }
        })
        .collect();
    let created_at = times.first().copied().unwrap_or(last_at);
    world.conversations.push(Conversation {
        id: id.clone(),
        contact_id,
        status: status.into(),
        assignee_id,
        created_at,
        updated_at: last_at,
        lang: l.code,
    });
    world.messages.insert(id, messages);
}

fn templates(rng: &mut ChaCha8Rng) -> Vec<Template> {
    let mut t =
        |name: &str, language: &str, category: &str, status: &str, components: Value| Template {
            id: format!("{}", rng.random_range(1_000_000_000u64..9_999_999_999)),
            name: name.into(),
            language: language.into(),
            category: category.into(),
            status: status.into(),
            components,
        };
    vec![
        t(
            "order_update",
            "en",
            "UTILITY",
            "APPROVED",
            json!([
                { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}" },
                { "type": "BODY", "text": "Hi {{1}}, your order {{2}} is now {{3}}." },
                { "type": "FOOTER", "text": "SuperShop" },
                { "type": "BUTTONS", "buttons": [ { "type": "URL", "text": "Track", "url": "https://shop.example/o/{{1}}" } ] }
            ]),
        ),
        t(
            "order_update",
            "tr",
            "UTILITY",
            "APPROVED",
            json!([
                { "type": "HEADER", "format": "TEXT", "text": "Sipariş {{1}}" },
                { "type": "BODY", "text": "Merhaba {{1}}, {{2}} numaralı siparişiniz artık {{3}}." },
                { "type": "FOOTER", "text": "SuperShop" }
            ]),
        ),
        t(
            "welcome_back",
            "en",
            "MARKETING",
            "APPROVED",
            json!([
                { "type": "BODY", "text": "Welcome back, {{1}}! Reply to this message and we'll pick up where we left off." },
                { "type": "BUTTONS", "buttons": [ { "type": "QUICK_REPLY", "text": "Hi!" } ] }
            ]),
        ),
        t(
            "appointment_reminder",
            "ar",
            "UTILITY",
            "APPROVED",
            json!([
                { "type": "BODY", "text": "مرحباً {{1}}، نذكرك بموعدك يوم {{2}}." }
            ]),
        ),
        t(
            "shipping_delay",
            "ja",
            "UTILITY",
            "APPROVED",
            json!([
                { "type": "BODY", "text": "{{1}}様、ご注文の発送が遅れております。申し訳ございません。" }
            ]),
        ),
        t(
            "spring_sale",
            "en",
            "MARKETING",
            "PENDING",
            json!([
                { "type": "BODY", "text": "Spring sale: {{1}} off everything this week." }
            ]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(seed: u64) -> World {
        generate(
            seed,
            Volume {
                conversations: 30,
                contacts: 40,
            },
            "user_me",
            "me@example.org",
        )
    }

    #[test]
    fn same_seed_same_world_and_unique_phones() {
        let (a, b) = (world(9), world(9));
        let ids = |w: &World| {
            w.conversations
                .iter()
                .map(|c| (c.id.clone(), c.status.clone(), w.messages_of(&c.id).len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&world(10)));
        assert_eq!((a.contacts.len(), a.conversations.len()), (40, 30));
        let phones: HashSet<_> = a.contacts.iter().map(|c| &c.phone).collect();
        assert_eq!(phones.len(), 40);
        assert!(a.contacts.iter().all(|c| c.phone.starts_with('+')));
        assert!(
            a.conversations
                .iter()
                .all(|c| !a.messages_of(&c.id).is_empty())
        );
        assert_eq!(a.users[0].id, "user_me");
        assert!(a.templates.iter().any(|t| t.status != "APPROVED"));
    }
}
