//! Live traffic: customers keep writing, agents' messages get delivered and
//! read, and now and then a new conversation starts.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::corpus::lang;
use super::data;
use super::world::{Message, Sender, World, new_id};
use super::{Shared, lock};

/// How often pending acknowledgements are applied.
const TICK: Duration = Duration::from_millis(250);

pub(crate) fn spawn(shared: Arc<Shared>) -> JoinHandle<()> {
    let interval = shared.options.live_interval.max(Duration::from_millis(50));
    let mut rng = ChaCha8Rng::seed_from_u64(shared.options.seed.wrapping_add(0x11fe));
    tokio::spawn(async move {
        let mut next_event = Instant::now() + jitter(&mut rng, interval);
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let mut world = lock(&shared.world);
            let now = super::world::now_ms();
            world.apply_due_acks(now);
            if Instant::now() >= next_event {
                event(&mut world, &mut rng, now);
                next_event = Instant::now() + jitter(&mut rng, interval);
            }
        }
    })
}

/// Interval ±30 %.
fn jitter(rng: &mut ChaCha8Rng, base: Duration) -> Duration {
    base.mul_f64(rng.random_range(0.7..1.3))
}

fn event(world: &mut World, rng: &mut ChaCha8Rng, now: chrono::DateTime<Utc>) {
    let roll = rng.random_range(0..100);
    if roll < 8 {
        data::live_new_conversation(world, now);
        return;
    }
    // Recent, still-active conversations are the ones customers write in.
    let mut active: Vec<usize> = (0..world.conversations.len())
        .filter(|&i| matches!(world.conversations[i].status.as_str(), "OPEN" | "PENDING"))
        .collect();
    active.sort_by(|&a, &b| {
        world.conversations[b]
            .updated_at
            .cmp(&world.conversations[a].updated_at)
    });
    active.truncate(60);
    if active.is_empty() {
        data::live_new_conversation(world, now);
        return;
    }
    let ci = active[rng.random_range(0..active.len())];
    let code = world.conv_meta.get(ci).map(|m| m.lang).unwrap_or("en");
    let l = lang(code);
    if roll < 80
        || world.conversations[ci]
            .channels
            .first()
            .is_some_and(|c| c.kind == "EMAIL")
    {
        let text = l.live_lines[rng.random_range(0..l.live_lines.len())].as_str();
        let id = world.conversations[ci].id.clone();
        world.add_incoming(&id, text, now);
    } else {
        agent_reply(world, ci, rng, now);
    }
}

/// A teammate answers in an assigned conversation; its ack then progresses.
fn agent_reply(world: &mut World, ci: usize, rng: &mut ChaCha8Rng, now: chrono::DateTime<Utc>) {
    let conv = &world.conversations[ci];
    let agent = conv
        .joined_c_person
        .as_ref()
        .and_then(|id| world.agents.iter().find(|a| &a.id == id))
        .or_else(|| world.agents.iter().find(|a| a.kind == "ADMIN"))
        .cloned();
    let Some(agent) = agent else { return };
    let code = world.conv_meta.get(ci).map(|m| m.lang).unwrap_or("en");
    let replies = &lang(code).live_replies;
    let text = replies[rng.random_range(0..replies.len())].as_str();
    let channel_type = conv
        .channels
        .first()
        .map(|c| c.kind.clone())
        .unwrap_or_default();
    let conv_id = conv.id.clone();
    let id = new_id(&mut world.rng);
    let msg = Message {
        id,
        sender: Sender {
            id: agent.id.clone(),
            name: agent.name(),
            avatar: agent.profile_photo.clone(),
            email: Some(agent.email.clone()),
            phone: None,
        },
        conversation: conv_id,
        message_type: "TEXT".into(),
        channel_type,
        sender_type: "AGENT".into(),
        content: Some(text.to_string()),
        content_html: None,
        subject: None,
        email_data: None,
        media: Vec::new(),
        channel_message_id: Some(format!("out.{}", new_id(&mut world.rng))),
        ack_status: Some("SENT".into()),
        created_at: now,
        auto_create: false,
        failed_reason: None,
        quoted_message: None,
        reactions: None,
        front_msg_id: None,
    };
    let id = world.push_message(ci, msg);
    world.schedule_acks(&id, now);
}
