//! Live traffic for the demo: customers keep writing in recent
//! conversations, now and then one the AI handed over comes back.

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::task::JoinHandle;

use super::Shared;
use crate::sandbox::corpus::lang;
use crate::sandbox::lock;

pub(crate) fn spawn(shared: Arc<Shared>) -> JoinHandle<()> {
    let interval = shared.options.live_interval.max(Duration::from_millis(50));
    let mut rng = ChaCha8Rng::seed_from_u64(shared.options.seed.wrapping_add(0x0011_fe5a));
    tokio::spawn(async move {
        loop {
            // Interval ±30 %.
            tokio::time::sleep(interval.mul_f64(rng.random_range(0.7..1.3))).await;
            let mut world = lock(&shared.world);
            let mut recent: Vec<usize> = (0..world.conversations.len())
                .filter(|&i| world.conversations[i].status != "closed")
                .collect();
            recent.sort_by(|&a, &b| {
                world.conversations[b]
                    .updated_at
                    .cmp(&world.conversations[a].updated_at)
            });
            recent.truncate(25);
            if recent.is_empty() {
                continue;
            }
            let i = recent[rng.random_range(0..recent.len())];
            let lines = &lang(world.conversations[i].lang).live_lines;
            let text = lines[rng.random_range(0..lines.len())].clone();
            let id = world.conversations[i].id.clone();
            if world.conversations[i].status == "ai_handling" && rng.random_bool(0.3) {
                world.conversations[i].status = "escalated".into();
            }
            world.add_inbound(&id, &text);
        }
    })
}
