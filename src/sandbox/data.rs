//! Deterministic, realistic seed data. Everything random comes from one
//! `ChaCha8Rng` seeded with `seed`; timestamps are offsets from `now`, so the
//! ids and texts are identical for a seed while the demo always looks current.
//! Names and message texts come from the corpora in [`super::corpus`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::corpus::{self, Lang, Line};
use super::world::{
    Agent, ChannelOut, Contact, ContactPlatform, ConvMeta, Conversation, EmailData, FailedReason,
    MediaItem, Message, Platform, Quoted, Sender, Tag, Template, World, html_escape, new_id,
    reason_24h,
};

pub(crate) const CDN: &str = "https://cdn.sandbox.qpien.test";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    C,
    A,
}
use Who::{A, C};

/// How a language's amounts look in a script.
fn currency(code: &str, n: u32) -> String {
    match code {
        "tr" => format!("{},{:02} TL", n / 10, n % 100),
        "ar" => format!("{} ر.س", n / 10),
        "ja" => format!("¥{}", n * 3),
        _ => format!("£{}.{:02}", n / 100, n % 100),
    }
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

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A plausible E.164 number for the country, and its calling code.
pub(crate) fn phone(rng: &mut ChaCha8Rng, country: &str) -> (String, &'static str) {
    match country {
        "TR" => (
            format!("+905{}{}", pick(rng, &["3", "4", "5"]), digits(rng, 8)),
            "90",
        ),
        "GB" => (format!("+447700900{}", digits(rng, 3)), "44"),
        "US" => (format!("+1202555{}", digits(rng, 4)), "1"),
        "SA" => (format!("+9665{}", digits(rng, 8)), "966"),
        "AE" => (format!("+97150{}", digits(rng, 7)), "971"),
        "EG" => (format!("+2010{}", digits(rng, 8)), "20"),
        _ => (format!("+8190{}", digits(rng, 8)), "81"),
    }
}

fn ascii_handle(rng: &mut ChaCha8Rng, lang: &Lang) -> String {
    let stem = pick(rng, &lang.handles);
    format!("{stem}{}", rng.random_range(10..9999))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ch {
    WaTr,
    WaGlobal,
    Instagram,
    Facebook,
    LiveChat,
    Email,
}

impl Ch {
    fn platform_index(self) -> usize {
        self as usize
    }
    fn channel_type(self) -> &'static str {
        match self {
            Ch::WaTr | Ch::WaGlobal => "WHATSAPP",
            Ch::Instagram => "INSTAGRAM",
            Ch::Facebook => "FACEBOOK",
            Ch::LiveChat => "LIVECHAT",
            Ch::Email => "EMAIL",
        }
    }
}

struct Gen {
    rng: ChaCha8Rng,
    now: DateTime<Utc>,
    customer: String,
}

impl Gen {
    fn id(&mut self) -> String {
        new_id(&mut self.rng)
    }
    fn ago(&mut self, min_secs: i64, max_secs: i64) -> DateTime<Utc> {
        let s = self.rng.random_range(min_secs..=max_secs.max(min_secs));
        let ms = self.rng.random_range(0..1000);
        self.now - Duration::seconds(s) - Duration::milliseconds(ms)
    }
}

fn tags(g: &mut Gen) -> Vec<Tag> {
    [
        ("VIP", "#E6B800"),
        ("refund", "#D9534F"),
        ("delivery", "#5BC0DE"),
        ("billing", "#8E44AD"),
        ("bug", "#C0392B"),
        ("wholesale", "#27AE60"),
        ("feedback", "#F39C12"),
        ("callback", "#34495E"),
    ]
    .iter()
    .map(|(name, color)| Tag {
        id: g.id(),
        name: name.to_string(),
        color: color.to_string(),
    })
    .collect()
}

fn platforms(g: &mut Gen) -> Vec<Platform> {
    // name, channel type, external id, sender e-mail, phone, handle
    type Def<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let defs: [Def; 6] = [
        (
            "Acme Destek (TR)",
            "WHATSAPP",
            "105562201337",
            None,
            Some("+908503330000"),
            None,
        ),
        (
            "Acme Support (Global)",
            "WHATSAPP",
            "105562209999",
            None,
            Some("+447700900123"),
            None,
        ),
        (
            "@acme.store",
            "INSTAGRAM",
            "17841400000000001",
            None,
            None,
            Some("acme.store"),
        ),
        (
            "Acme Store",
            "FACEBOOK",
            "100200300400500",
            None,
            None,
            Some("acmestore"),
        ),
        ("Website chat", "LIVECHAT", "lc_8f2a1c", None, None, None),
        (
            "Support inbox",
            "EMAIL",
            "mail_support",
            Some("support@acme-store.test"),
            None,
            None,
        ),
    ];
    defs.iter()
        .map(|(name, kind, ext, email, phone, user)| {
            let created_at = g.ago(200 * 86_400, 400 * 86_400);
            Platform {
                id: g.id(),
                name: name.to_string(),
                status: "ACTIVE".into(),
                channel_id: ext.to_string(),
                channel_type: kind.to_string(),
                sender_email_address: email.map(str::to_string),
                phone_number: phone.map(str::to_string),
                username: user.map(str::to_string),
                created_at,
            }
        })
        .collect()
}

fn agents(g: &mut Gen) -> Vec<Agent> {
    let defs = [
        (
            "OWNER",
            "ACTIVE",
            "Murat",
            "Erdem",
            "murat@acme-store.test",
            "tr",
        ),
        (
            "ADMIN",
            "ACTIVE",
            "Sarah",
            "Collins",
            "sarah@acme-store.test",
            "en",
        ),
        (
            "PERSON",
            "ACTIVE",
            "Layla",
            "Haddad",
            "layla@acme-store.test",
            "ar",
        ),
        (
            "PERSON",
            "ACTIVE",
            "Kenji",
            "Watanabe",
            "kenji@acme-store.test",
            "ja",
        ),
        (
            "JR_AGENT",
            "ACTIVE",
            "Zeynep",
            "Kurt",
            "zeynep@acme-store.test",
            "tr",
        ),
        (
            "JR_AGENT",
            "INACTIVE",
            "Tom",
            "Becker",
            "tom@acme-store.test",
            "en",
        ),
        (
            "ROBOT",
            "ACTIVE",
            "Acme",
            "Bot",
            "bot@acme-store.test",
            "en",
        ),
    ];
    defs.iter()
        .map(|(kind, status, first, last, email, lang)| {
            let id = g.id();
            Agent {
                profile_photo: (*kind != "ROBOT").then(|| format!("{CDN}/avatars/{id}.jpg")),
                id,
                customer: g.customer.clone(),
                kind: kind.to_string(),
                status: status.to_string(),
                first_name: first.to_string(),
                last_name: last.to_string(),
                email: email.to_string(),
                phone: None,
                language: Some(lang.to_string()),
            }
        })
        .collect()
}

fn templates(g: &mut Gen, wa_tr: &str, wa_global: &str) -> Vec<Template> {
    type Def = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        serde_json::Value,
    );
    let body = |text: &str, ex: &[&str]| json!({"type": "BODY", "text": text, "example": {"bodyText": [ex]}});
    let header = |text: &str, ex: &str| json!({"type": "HEADER", "format": "TEXT", "text": text, "example": {"headerText": [ex]}});
    let footer = |text: &str| json!({"type": "FOOTER", "text": text});
    let defs: Vec<Def> = vec![
        (
            "order_shipped",
            "en",
            "UTILITY",
            "APPROVED",
            json!([
                header("Order {{1}}", "A-1042"),
                body("Hi {{1}}, your order {{2}} left our warehouse today. Expected delivery: {{3}}.", &["Deniz", "A-1042", "Friday"]),
                footer("Reply STOP to opt out"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}", "example": ["A-1042"]},
                    {"type": "QUICK_REPLY", "text": "Talk to us"}]}
            ]),
        ),
        (
            "order_shipped",
            "tr",
            "UTILITY",
            "APPROVED",
            json!([
                header("Sipariş {{1}}", "A-1042"),
                body("Merhaba {{1}}, {{2}} numaralı siparişiniz bugün depomuzdan çıktı. Tahmini teslimat: {{3}}.", &["Deniz", "A-1042", "Cuma"]),
                footer("Çıkmak için DUR yazın"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Kargo takibi", "url": "https://shop.example/t/{{1}}", "example": ["A-1042"]},
                    {"type": "QUICK_REPLY", "text": "Temsilciye bağlan"}]}
            ]),
        ),
        (
            "order_shipped",
            "ar",
            "UTILITY",
            "APPROVED",
            json!([
                header("الطلب {{1}}", "A-1042"),
                body("مرحباً {{1}}، تم شحن طلبك {{2}} اليوم.", &["محمد", "A-1042"]),
                footer("أرسل STOP لإلغاء الاشتراك"),
            ]),
        ),
        (
            "appointment_reminder",
            "en",
            "UTILITY",
            "APPROVED",
            json!([
                body("Hi {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. Reply 1 to confirm or 2 to reschedule.", &["Emma", "12 May", "15:00"]),
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Confirm"},
                    {"type": "QUICK_REPLY", "text": "Reschedule"}]}
            ]),
        ),
        (
            "appointment_reminder",
            "tr",
            "UTILITY",
            "APPROVED",
            json!([
                body(
                    "Merhaba {{1}}, {{2}} tarihinde saat {{3}} randevunuzu hatırlatırız.",
                    &["Ayşe", "12 Mayıs", "15:00"]
                ),
                footer("Acme Store"),
            ]),
        ),
        (
            "payment_due",
            "en",
            "UTILITY",
            "APPROVED",
            json!([
                header("Payment reminder", ""),
                body("Hi {{1}}, invoice {{2}} of {{3}} is due on {{4}}.", &["Oliver", "INV-2209", "£120.00", "30 June"]),
                footer("Ignore this message if you have already paid"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Pay now", "url": "https://pay.example/i/{{1}}", "example": ["INV-2209"]}]}
            ]),
        ),
        (
            "payment_due",
            "tr",
            "UTILITY",
            "APPROVED",
            json!([
                body("Merhaba {{1}}, {{2}} numaralı {{3}} tutarındaki faturanızın son ödeme tarihi {{4}}.", &["Mehmet", "INV-2209", "1.250 TL", "30 Haziran"]),
                {"type": "BUTTONS", "buttons": [
                    {"type": "PHONE_NUMBER", "text": "Bizi arayın", "phoneNumber": "+908503330000"}]}
            ]),
        ),
        (
            "delivery_delay",
            "en",
            "UTILITY",
            "APPROVED",
            json!([
                body(
                    "Hi {{1}}, we're sorry — order {{2}} is delayed by the courier. New estimate: {{3}}.",
                    &["Liam", "A-2231", "Monday"]
                ),
                footer("Acme Store Support"),
            ]),
        ),
        (
            "login_code",
            "en",
            "AUTHENTICATION",
            "APPROVED",
            json!([
                body("{{1}} is your verification code. For your security, do not share this code.", &["482913"]),
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "text": "Copy code"}]}
            ]),
        ),
        (
            "feedback_request",
            "en",
            "MARKETING",
            "APPROVED",
            json!([
                body("Hi {{1}}, how did we do? Rate your last conversation with us from 1 to 5 ⭐", &["Sophie"]),
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "5 ⭐"},
                    {"type": "QUICK_REPLY", "text": "3 ⭐"},
                    {"type": "QUICK_REPLY", "text": "1 ⭐"}]}
            ]),
        ),
        (
            "welcome_offer",
            "tr",
            "MARKETING",
            "PENDING",
            json!([
                {"type": "HEADER", "format": "IMAGE", "example": {"headerHandle": [format!("{CDN}/media/welcome-offer.jpg")]}},
                body("Hoş geldin {{1}}! İlk siparişine özel %{{2}} indirim kodun: {{3}}", &["Elif", "15", "HOSGELDIN15"]),
                {"type": "BUTTONS", "buttons": [
                    {"type": "COPY_CODE", "text": "Kodu kopyala", "example": ["HOSGELDIN15"]}]}
            ]),
        ),
        (
            "back_in_stock",
            "ar",
            "MARKETING",
            "REJECTED",
            json!([body(
                "خبر رائع يا {{1}}! المنتج {{2}} متوفر الآن 🎉 اطلبه قبل نفاد الكمية!!!",
                &["نورة", "حقيبة جلدية"]
            ),]),
        ),
    ];
    defs.into_iter()
        .enumerate()
        .map(|(i, (name, language, category, status, components))| {
            let created_at = g.ago(20 * 86_400, 300 * 86_400);
            Template {
                id: g.id(),
                name: name.into(),
                language: language.into(),
                category: category.into(),
                status: status.into(),
                components,
                channel_id: if language == "tr" { wa_tr } else { wa_global }.to_string(),
                waba_id: "102938475610293".into(),
                meta_template_id: format!("{}", 880_000_000_000_000u64 + i as u64 * 7919),
                rejected_reason: (status == "REJECTED").then(|| {
                    "PROMOTIONAL: the template contains excessive punctuation".to_string()
                }),
                quality_score: if status == "APPROVED" {
                    "GREEN"
                } else {
                    "UNKNOWN"
                }
                .into(),
                updated_at: created_at + Duration::hours(6),
                created_at,
            }
        })
        .collect()
}

/// More templates for the demo: named placeholders, media headers, the
/// same name in several languages, and every review outcome. Drawn from
/// their own stream so the rest of the seeded world stays as it was.
fn more_templates(g: &mut Gen, wa_tr: &str, wa_global: &str, first_index: usize) -> Vec<Template> {
    struct Def {
        name: &'static str,
        language: &'static str,
        category: &'static str,
        status: &'static str,
        rejected_reason: Option<&'static str>,
        components: serde_json::Value,
    }
    let body = |text: &str, ex: &[&str]| json!({"type": "BODY", "text": text, "example": {"bodyText": [ex]}});
    let media_header = |format: &str, file: &str| json!({"type": "HEADER", "format": format, "example": {"headerHandle": [format!("{CDN}/media/{file}")]}});
    let footer = |text: &str| json!({"type": "FOOTER", "text": text});
    let approved = |name, language, category, components| Def {
        name,
        language,
        category,
        status: "APPROVED",
        rejected_reason: None,
        components,
    };
    let defs = vec![
        approved(
            "order_confirmation",
            "en",
            "UTILITY",
            json!([
                body("Hi {{first_name}}, thanks for your order {{order_id}}! We'll message you again when it ships.", &["Ayşe", "A-1042"]),
                footer("Acme Store"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "View order", "url": "https://shop.example/o/{{1}}", "example": ["A-1042"]}]}
            ]),
        ),
        approved(
            "order_confirmation",
            "tr",
            "UTILITY",
            json!([
                body("Merhaba {{first_name}}, {{order_id}} numaralı siparişinizi aldık. Kargoya verildiğinde size yeniden yazacağız.", &["Ayşe", "A-1042"]),
                footer("Acme Store"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Siparişi gör", "url": "https://shop.example/o/{{1}}", "example": ["A-1042"]}]}
            ]),
        ),
        approved(
            "summer_sale",
            "en",
            "MARKETING",
            json!([
                media_header("IMAGE", "summer-sale.jpg"),
                body("Hi {{1}}, our summer sale is on: up to {{2}}% off everything until Sunday ☀️", &["Emma", "40"]),
                footer("Reply STOP to opt out"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Shop the sale", "url": "https://shop.example/sale"},
                    {"type": "QUICK_REPLY", "text": "Not interested"}]}
            ]),
        ),
        approved(
            "summer_sale",
            "tr",
            "MARKETING",
            json!([
                media_header("IMAGE", "yaz-indirimi.jpg"),
                body("Merhaba {{1}}, yaz indirimi başladı: pazara kadar tüm ürünlerde %{{2}}'ye varan indirim ☀️", &["Elif", "40"]),
                footer("Çıkmak için DUR yazın"),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Alışverişe başla", "url": "https://shop.example/sale"},
                    {"type": "QUICK_REPLY", "text": "İlgilenmiyorum"}]}
            ]),
        ),
        approved(
            "invoice_ready",
            "en",
            "UTILITY",
            json!([
                media_header("DOCUMENT", "invoice-INV-2209.pdf"),
                body(
                    "Hi {{1}}, your invoice {{2}} is attached. Total: {{3}}.",
                    &["Oliver", "INV-2209", "£120.00"]
                ),
                footer("Acme Store Billing"),
            ]),
        ),
        approved(
            "login_code",
            "tr",
            "AUTHENTICATION",
            json!([
                body("{{1}} doğrulama kodunuzdur. Güvenliğiniz için bu kodu kimseyle paylaşmayın.", &["482913"]),
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "text": "Kodu kopyala"}]}
            ]),
        ),
        Def {
            name: "cart_reminder",
            language: "en",
            category: "MARKETING",
            status: "PAUSED",
            rejected_reason: None,
            components: json!([
                body("Hi {{1}}, you left {{2}} in your cart. Complete your order today and get free delivery!", &["Liam", "Leather bag"]),
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Go to cart", "url": "https://shop.example/cart/{{1}}", "example": ["c-7781"]}]}
            ]),
        },
        Def {
            name: "refund_processed",
            language: "en",
            category: "UTILITY",
            status: "REJECTED",
            rejected_reason: Some(
                "INVALID_FORMAT: variables cannot be at the start or end of the template body",
            ),
            components: json!([body(
                "Your refund of {{1}} was sent to {{2}}",
                &["£35.00", "your card"]
            )]),
        },
        Def {
            name: "loyalty_points",
            language: "tr",
            category: "MARKETING",
            status: "DISABLED",
            rejected_reason: None,
            components: json!([body(
                "Merhaba {{1}}, {{2}} puanınız var! Puanlarınızı bir sonraki siparişinizde kullanabilirsiniz.",
                &["Mehmet", "1.250"]
            )]),
        },
    ];
    defs.into_iter()
        .enumerate()
        .map(|(i, def)| {
            let created_at = g.ago(5 * 86_400, 200 * 86_400);
            let index = (first_index + i) as u64;
            Template {
                id: g.id(),
                name: def.name.into(),
                language: def.language.into(),
                category: def.category.into(),
                status: def.status.into(),
                components: def.components,
                channel_id: if def.language == "tr" {
                    wa_tr
                } else {
                    wa_global
                }
                .to_string(),
                waba_id: "102938475610293".into(),
                meta_template_id: format!("{}", 880_000_000_000_000u64 + index * 7919),
                rejected_reason: def.rejected_reason.map(str::to_string),
                quality_score: match def.status {
                    "APPROVED" => "GREEN",
                    "PAUSED" => "RED",
                    _ => "UNKNOWN",
                }
                .into(),
                updated_at: created_at + Duration::hours(6),
                created_at,
            }
        })
        .collect()
}

/// Builds a new contact of `lang` seen on `ch`.
fn new_contact(
    g: &mut Gen,
    lang: &'static Lang,
    ch: Ch,
    platform: &Platform,
    created_at: DateTime<Utc>,
) -> Contact {
    let first = pick(&mut g.rng, &lang.first_names);
    let (first, gender) = (first.name.as_str(), first.gender.as_str());
    let last = pick(&mut g.rng, &lang.last_names).as_str();
    let country = pick(&mut g.rng, &lang.countries).as_str();
    let id = g.id();
    let has_phone = matches!(ch, Ch::WaTr | Ch::WaGlobal) || g.rng.random_bool(0.4);
    let (phone, code) = if has_phone {
        let (p, c) = phone(&mut g.rng, country);
        (Some(p), Some(c.to_string()))
    } else {
        (None, None)
    };
    let handle = ascii_handle(&mut g.rng, lang);
    let email = (ch == Ch::Email || g.rng.random_bool(0.3)).then(|| {
        let domain = pick(&mut g.rng, &corpus::common().email_domains);
        format!("{handle}@{domain}")
    });
    let username = matches!(ch, Ch::Instagram | Ch::Facebook).then(|| handle.clone());
    let external_id = match ch {
        Ch::WaTr | Ch::WaGlobal => phone
            .clone()
            .unwrap_or_default()
            .trim_start_matches('+')
            .to_string(),
        Ch::Email => email.clone().unwrap_or_default(),
        Ch::LiveChat => format!("visitor_{}", digits(&mut g.rng, 10)),
        _ => digits(&mut g.rng, 16),
    };
    Contact {
        avatar: if g.rng.random_bool(0.6) {
            format!("{CDN}/avatars/{id}.jpg")
        } else {
            String::new()
        },
        id,
        customer: g.customer.clone(),
        first_name: first.to_string(),
        last_name: Some(last.to_string()),
        username,
        email,
        phone,
        phone_country_code: code,
        country: Some(country.to_string()),
        gender: g.rng.random_bool(0.7).then(|| gender.to_string()),
        tags: Vec::new(),
        created_at,
        updated_at: created_at,
        phone_usage_permission: g.rng.random_bool(0.7),
        email_usage_permission: g.rng.random_bool(0.5),
        language: Some(lang.code.to_string()),
        platforms: vec![ContactPlatform {
            channel_type: ch.channel_type().into(),
            platform_id: platform.id.clone(),
            external_id,
            username: matches!(ch, Ch::Instagram | Ch::Facebook).then_some(handle),
        }],
        owner: None,
    }
}

/// One line of a thread before it becomes a message.
struct Turn {
    who: Who,
    text: String,
    /// Some topic episodes begin here (for e-mail subjects).
    subject: Option<String>,
}

fn fill(text: &str, name: &str, order: &str, date: &str, amount: &str) -> String {
    text.replace("{name}", name)
        .replace("{order}", order)
        .replace("{date}", date)
        .replace("{amount}", amount)
}

/// Dialogue for a thread of `len` turns: topic episodes separated by small talk.
fn script(
    g: &mut Gen,
    lang: &'static Lang,
    first_topic: usize,
    len: usize,
    name: &str,
) -> Vec<Turn> {
    let mut turns = Vec::with_capacity(len);
    let mut topic_i = first_topic;
    while turns.len() < len {
        let topic = &lang.topics[topic_i % lang.topics.len()];
        let order = format!("A-{}", g.rng.random_range(10_000..99_999));
        let date = (g.now - Duration::days(g.rng.random_range(2..20)))
            .format("%d.%m.%Y")
            .to_string();
        let amount = currency(lang.code, g.rng.random_range(1_500..25_000));
        let subject = fill(&topic.subject, name, &order, &date, &amount);
        for (k, line) in topic.lines.iter().enumerate() {
            let (who, line) = match line {
                Line::Customer(text) => (C, text),
                Line::Agent(text) => (A, text),
            };
            turns.push(Turn {
                who,
                text: fill(line, name, &order, &date, &amount),
                subject: (k == 0).then(|| subject.clone()),
            });
            // Occasional chatter inside an episode.
            if g.rng.random_bool(0.12) {
                let (who, pool) = if g.rng.random_bool(0.6) {
                    (C, &lang.customer_fillers)
                } else {
                    (A, &lang.agent_fillers)
                };
                turns.push(Turn {
                    who,
                    text: pick(&mut g.rng, pool).to_string(),
                    subject: None,
                });
            }
        }
        topic_i += 1 + g.rng.random_range(0..lang.topics.len());
    }
    turns.truncate(len);
    turns
}

/// Gaps (seconds) before each message; long threads span weeks.
fn gaps(g: &mut Gen, turns: &[Turn], long: bool) -> Vec<i64> {
    turns
        .iter()
        .map(|t| {
            if t.subject.is_some() && long {
                g.rng.random_range(8 * 3600..4 * 86_400)
            } else if g.rng.random_bool(0.08) {
                g.rng.random_range(3600..8 * 3600)
            } else {
                g.rng.random_range(20..900)
            }
        })
        .collect()
}

fn agent_ack(g: &mut Gen, ch: Ch, at: DateTime<Utc>) -> &'static str {
    let old = g.now - at > Duration::hours(2);
    match (ch, old) {
        (Ch::Email, _) => weighted(&mut g.rng, &[("SENT", 1), ("DELIVERED", 4)]),
        (_, true) => weighted(&mut g.rng, &[("READ", 85), ("DELIVERED", 15)]),
        (_, false) => weighted(&mut g.rng, &[("SENT", 20), ("DELIVERED", 40), ("READ", 40)]),
    }
}

fn random_failure(ch: Ch) -> FailedReason {
    match ch {
        Ch::WaTr | Ch::WaGlobal => FailedReason {
            code: "131026".into(),
            message: "Message undeliverable".into(),
            details: Some("The recipient's phone could not be reached.".into()),
        },
        Ch::Instagram | Ch::Facebook => FailedReason {
            code: "10".into(),
            message: "This message is sent outside of allowed window".into(),
            details: None,
        },
        Ch::Email => FailedReason {
            code: "550".into(),
            message: "Mailbox unavailable".into(),
            details: Some("5.1.1 The email account that you tried to reach does not exist.".into()),
        },
        Ch::LiveChat => FailedReason {
            code: "VISITOR_OFFLINE".into(),
            message: "The visitor left the chat".into(),
            details: None,
        },
    }
}

/// How much to generate. Zero contacts and zero messages select the
/// hand-written demo mix (long threads, ages at random); any other value
/// generates exactly that many records with ages spread over months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Volume {
    pub conversations: usize,
    pub contacts: usize,
    pub messages: usize,
}

impl Volume {
    #[cfg(test)]
    pub(crate) fn demo(conversations: usize) -> Self {
        Self {
            conversations,
            contacts: 0,
            messages: 0,
        }
    }
}

/// Generates the whole world for `seed`.
pub(crate) fn generate(seed: u64, volume: Volume, now: DateTime<Utc>) -> World {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        now: chrono::SubsecRound::trunc_subsecs(now, 3),
        customer: String::new(),
    };
    g.customer = g.id();
    let tags = tags(&mut g);
    let platforms = platforms(&mut g);
    let agents = agents(&mut g);
    let mut templates = templates(&mut g, &platforms[0].id, &platforms[1].id);
    let mut own = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7e3a_71a7_e5ee_d5a1),
        now: g.now,
        customer: g.customer.clone(),
    };
    let first_index = templates.len();
    templates.extend(more_templates(
        &mut own,
        &platforms[0].id,
        &platforms[1].id,
        first_index,
    ));

    let mut world = World {
        customer: g.customer.clone(),
        tags,
        platforms,
        agents,
        contacts: Vec::new(),
        contact_idx: HashMap::new(),
        conversations: Vec::new(),
        conv_meta: Vec::new(),
        conv_idx: HashMap::new(),
        messages: Vec::new(),
        msg_idx: HashMap::new(),
        front_ids: HashMap::new(),
        templates,
        rng: ChaCha8Rng::seed_from_u64(0),
        live: false,
        pending_acks: Vec::new(),
    };

    if volume.contacts == 0 && volume.messages == 0 {
        demo_conversations(&mut g, &mut world, volume.conversations);
    } else {
        sized_conversations(&mut g, &mut world, volume);
    }
    // Live traffic continues the seeded stream, so replays stay reproducible.
    world.rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    world
}

/// The hand-written demo mix: three very long threads near the top, ages
/// drawn at random, about one new contact per conversation.
fn demo_conversations(g: &mut Gen, world: &mut World, n_convs: usize) {
    // A few very long threads near the top of the inbox.
    let long_threads: [(usize, Ch, &'static Lang, usize); 3] = [
        (2, Ch::WaTr, corpus::lang("tr"), 640),
        (9, Ch::WaGlobal, corpus::lang("en"), 530),
        (17, Ch::Instagram, corpus::lang("ja"), 760),
    ];
    for i in 0..n_convs {
        let long = long_threads.iter().find(|(idx, ..)| *idx == i);
        let (ch, lang) = match long {
            Some((_, ch, lang, _)) => (*ch, *lang),
            None => {
                let ch = random_channel(g);
                (ch, lang_for(g, ch))
            }
        };
        let len = match long {
            Some((.., len)) => *len,
            None => match weighted(&mut g.rng, &[(0u8, 50), (1, 35), (2, 15)]) {
                0 => g.rng.random_range(3..=8),
                1 => g.rng.random_range(9..=20),
                _ => g.rng.random_range(21..=40),
            },
        };
        // How long ago the thread was last active.
        let age_secs = if long.is_some() {
            g.rng.random_range(60..2 * 3600)
        } else {
            match weighted(&mut g.rng, &[(0u8, 40), (1, 30), (2, 20), (3, 10)]) {
                0 => g.rng.random_range(30..6 * 3600),
                1 => g.rng.random_range(6 * 3600..48 * 3600),
                2 => g.rng.random_range(2 * 86_400..14 * 86_400),
                _ => g.rng.random_range(14 * 86_400..90 * 86_400),
            }
        };
        build_conversation(g, world, i, ch, lang, len, age_secs, long.is_some(), None);
    }
}

fn random_channel(g: &mut Gen) -> Ch {
    weighted(
        &mut g.rng,
        &[
            (Ch::WaTr, 25),
            (Ch::WaGlobal, 20),
            (Ch::Instagram, 15),
            (Ch::Facebook, 12),
            (Ch::LiveChat, 13),
            (Ch::Email, 15),
        ],
    )
}

fn lang_for(g: &mut Gen, ch: Ch) -> &'static Lang {
    let [en, tr, ar, ja] = corpus::langs();
    match ch {
        Ch::WaTr => weighted(&mut g.rng, &[(tr, 9), (en, 1)]),
        Ch::Email => weighted(&mut g.rng, &[(en, 6), (tr, 4)]),
        _ => weighted(&mut g.rng, &[(en, 35), (tr, 20), (ar, 22), (ja, 23)]),
    }
}

/// How far back the last activity of a sized account reaches.
const SIZED_SPAN_SECS: i64 = 240 * 86_400;

/// Splits `total` messages over `n` threads, newest (index 0) longest, every
/// thread at least one message while there are enough to go round. Integer
/// arithmetic keeps the split identical on every platform.
pub(crate) fn thread_lengths(n: usize, total: usize) -> Vec<usize> {
    if total < n {
        return (0..n).map(|i| usize::from(i < total)).collect();
    }
    let extra = (total - n) as u128;
    let c = (n / 20).max(1) as u128;
    let weights: Vec<u128> = (0..n).map(|i| (1u128 << 40) / (i as u128 + c)).collect();
    let sum: u128 = weights.iter().sum::<u128>().max(1);
    let mut lens: Vec<usize> = weights
        .iter()
        .map(|w| 1 + usize::try_from(extra * w / sum).unwrap_or(0))
        .collect();
    // Each floor lost less than one message, so fewer than `n` are left over.
    let mut left = total.saturating_sub(lens.iter().sum::<usize>());
    for l in lens.iter_mut() {
        if left == 0 {
            break;
        }
        *l += 1;
        left -= 1;
    }
    lens
}

/// What a sized conversation will be made of, decided before any contact is
/// built so contacts can be generated in index order.
struct Plan {
    ch: Ch,
    lang: &'static Lang,
    contact: usize,
    age_secs: i64,
}

/// Exactly `volume` records: conversation `i` is the `i`-th most recent, its
/// contact is contact `i` (or, for about one in ten, an earlier one writing
/// again), and contacts past the last conversation have none.
fn sized_conversations(g: &mut Gen, world: &mut World, volume: Volume) {
    let n = volume.conversations;
    let n_contacts = if volume.contacts == 0 {
        n + n / 10
    } else {
        volume.contacts
    }
    .max(1);
    let total = if volume.messages == 0 {
        n * 11
    } else {
        volume.messages
    };
    let lens = thread_lengths(n, total);
    let step = (SIZED_SPAN_SECS / i64::try_from(n.max(1)).unwrap_or(i64::MAX)).max(1);
    let mut contact_plan: Vec<Option<(Ch, &'static Lang, i64)>> = vec![None; n_contacts];
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let base = i64::try_from(i).unwrap_or(i64::MAX).saturating_mul(step);
        let age_secs = 30 + base + g.rng.random_range(0..step);
        let ch = random_channel(g);
        let again = i >= n_contacts || (i > 20 && g.rng.random_bool(0.1));
        let (contact, lang) = if again {
            let j = g.rng.random_range(0..i.min(n_contacts));
            let lang = match contact_plan[j] {
                Some((_, lang, _)) => lang,
                None => {
                    let lang = lang_for(g, ch);
                    contact_plan[j] = Some((ch, lang, age_secs));
                    lang
                }
            };
            (j, lang)
        } else {
            let lang = lang_for(g, ch);
            contact_plan[i] = Some((ch, lang, age_secs));
            (i, lang)
        };
        plans.push(Plan {
            ch,
            lang,
            contact,
            age_secs,
        });
    }
    world.contacts.reserve(n_contacts);
    world.contact_idx.reserve(n_contacts);
    for plan in &contact_plan {
        let (ch, lang, age_secs) = match plan {
            Some(p) => *p,
            None => {
                let ch = random_channel(g);
                let lang = lang_for(g, ch);
                (ch, lang, g.rng.random_range(0..SIZED_SPAN_SECS))
            }
        };
        let created_at = g.now
            - Duration::seconds(age_secs)
            - Duration::days(g.rng.random_range(1..400))
            - Duration::milliseconds(g.rng.random_range(0..1000));
        let mut c = new_contact(
            g,
            lang,
            ch,
            &world.platforms[ch.platform_index()],
            created_at,
        );
        if plan.is_none() {
            // Edited since, without ever writing in.
            c.updated_at =
                (g.now - Duration::seconds(g.rng.random_range(0..=age_secs))).max(created_at);
        }
        if g.rng.random_bool(0.04) {
            c.first_name = format!(
                "{} {}",
                c.first_name,
                pick(&mut g.rng, &corpus::common().name_emoji)
            );
        }
        world.contact_idx.insert(c.id.clone(), world.contacts.len());
        world.contacts.push(c);
    }
    world.conversations.reserve(n);
    world.messages.reserve(n);
    // Capped: past this the index grows as messages are made, so a mistaken
    // huge count is not reserved all at once.
    world.msg_idx.reserve(total.min(1 << 24));
    for (i, (plan, len)) in plans.into_iter().zip(lens).enumerate() {
        build_conversation(
            g,
            world,
            i,
            plan.ch,
            plan.lang,
            len,
            plan.age_secs,
            false,
            Some(plan.contact),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn build_conversation(
    g: &mut Gen,
    world: &mut World,
    index: usize,
    ch: Ch,
    lang: &'static Lang,
    len: usize,
    age_secs: i64,
    long: bool,
    given_contact: Option<usize>,
) {
    // A sized account decides its contacts up front and counts messages exactly.
    let exact = given_contact.is_some();
    let platform = world.platforms[ch.platform_index()].clone();
    let conv_id = g.id();
    let last_at =
        g.now - Duration::seconds(age_secs) - Duration::milliseconds(g.rng.random_range(0..1000));

    // Reuse an earlier contact of the same language now and then (a customer
    // writing on a second channel).
    let reuse = given_contact.or_else(|| {
        (index > 20 && g.rng.random_bool(0.1))
            .then(|| {
                let candidates: Vec<usize> = world
                    .contacts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.language.as_deref() == Some(lang.code))
                    .map(|(i, _)| i)
                    .collect();
                (!candidates.is_empty()).then(|| *pick(&mut g.rng, &candidates))
            })
            .flatten()
    });

    let topic = g.rng.random_range(0..lang.topics.len());
    let mut turns;
    let contact_i = match reuse {
        Some(ci) => ci,
        None => {
            let since = last_at - Duration::days(g.rng.random_range(1..400));
            let c = new_contact(g, lang, ch, &platform, since);
            world.contact_idx.insert(c.id.clone(), world.contacts.len());
            world.contacts.push(c);
            world.contacts.len() - 1
        }
    };
    // Hostile strings so the client's sanitizer is exercised.
    if index == 6 {
        let c = &mut world.contacts[contact_i];
        c.first_name = "Alex".into();
        c.last_name = Some("Morgan\u{202E}nimdA\u{202C}".into());
    }
    if reuse.is_some() {
        let c = &mut world.contacts[contact_i];
        if !c.platforms.iter().any(|p| p.platform_id == platform.id) {
            c.platforms.push(ContactPlatform {
                channel_type: ch.channel_type().into(),
                platform_id: platform.id.clone(),
                external_id: c
                    .email
                    .clone()
                    .or_else(|| c.phone.clone())
                    .unwrap_or_default(),
                username: c.username.clone(),
            });
        }
    }
    let contact = world.contacts[contact_i].clone();
    let name = contact.first_name.clone();
    turns = script(g, lang, topic, len, &name);
    if ch == Ch::LiveChat && !turns.is_empty() {
        turns.insert(
            1.min(turns.len()),
            Turn {
                who: A,
                text: format!("\u{0}BOT{}", lang.bot_greeting),
                subject: None,
            },
        );
        turns.truncate(len.max(3));
    }
    if index == 4 {
        turns.push(Turn {
            who: C,
            text: "Order status says \u{1b}[31mFAILED\u{1b}[0m \u{1b}]0;owned\u{7} — what does that mean?".into(),
            subject: None,
        });
    }
    let is_wa = matches!(ch, Ch::WaTr | Ch::WaGlobal);
    // Some WhatsApp threads end with an agent follow-up sent after the 24 h
    // window closed, which WhatsApp rejected.
    let closed_window_failure = is_wa && age_secs > 26 * 3600 && g.rng.random_bool(0.35);
    if closed_window_failure {
        turns.push(Turn {
            who: A,
            text: pick(&mut g.rng, &lang.agent_fillers).clone(),
            subject: None,
        });
    }

    if exact && turns.len() > len {
        // Trim from just after the opening line, keeping the episode's subject
        // and the deliberate endings (hostile text, late failed follow-up).
        let excess = turns.len() - len;
        let from = usize::from(len >= 2);
        turns.drain(from..from + excess);
    }

    let gaps = gaps(g, &turns, long);
    let mut times = vec![last_at; turns.len()];
    for k in (0..turns.len().saturating_sub(1)).rev() {
        let mut gap = gaps[k + 1];
        if closed_window_failure && k + 2 == turns.len() {
            gap = g.rng.random_range(25 * 3600..40 * 3600);
        }
        times[k] = times[k + 1]
            - Duration::seconds(gap)
            - Duration::milliseconds(g.rng.random_range(0..1000));
    }

    // Assignment, preferring an active human agent who speaks the language.
    let humans: Vec<usize> = world
        .agents
        .iter()
        .enumerate()
        .filter(|(_, a)| a.status == "ACTIVE" && a.kind != "ROBOT")
        .map(|(i, _)| i)
        .collect();
    let assigned = g.rng.random_bool(0.4).then(|| {
        let speakers: Vec<usize> = humans
            .iter()
            .copied()
            .filter(|&i| world.agents[i].language.as_deref() == Some(lang.code))
            .collect();
        if !speakers.is_empty() && g.rng.random_bool(0.8) {
            *pick(&mut g.rng, &speakers)
        } else {
            *pick(&mut g.rng, &humans)
        }
    });
    let bot = world
        .agents
        .iter()
        .position(|a| a.kind == "ROBOT")
        .unwrap_or(0);
    let fallback_agent = world
        .agents
        .iter()
        .position(|a| a.language.as_deref() == Some(lang.code) && a.kind != "ROBOT")
        .unwrap_or(1.min(world.agents.len() - 1));

    let channel_out = ChannelOut {
        id: platform.id.clone(),
        name: platform.name.clone(),
        kind: platform.channel_type.clone(),
        channel_id: platform.channel_id.clone(),
    };
    let ci = world.conversations.len();
    world.conv_idx.insert(conv_id.clone(), ci);
    world.conv_meta.push(ConvMeta { lang: lang.code });
    world.messages.push(Vec::new());

    let mut subject = String::new();
    let n = turns.len();
    let mut last_contact_msg: Option<Quoted> = None;
    let mut msgs = Vec::with_capacity(n);
    for (k, turn) in turns.into_iter().enumerate() {
        let at = times[k];
        if let Some(s) = &turn.subject {
            subject = s.clone();
        }
        let (is_bot, text) = match turn.text.strip_prefix("\u{0}BOT") {
            Some(t) => (true, t.to_string()),
            None => (false, turn.text),
        };
        let (text, attach) = if let Some(t) = text.strip_prefix("[img]") {
            (t.to_string(), Some("IMAGE"))
        } else if let Some(t) = text.strip_prefix("[pdf]") {
            (t.to_string(), Some("DOCUMENT"))
        } else {
            (text, None)
        };
        let msg_id = g.id();
        let agent_i = if is_bot {
            bot
        } else {
            assigned.unwrap_or(fallback_agent)
        };
        let (sender, sender_type) = match turn.who {
            C => (
                Sender {
                    id: contact.id.clone(),
                    name: contact.name(),
                    avatar: Some(contact.avatar.clone()),
                    email: contact.email.clone(),
                    phone: contact.phone.clone(),
                },
                "CONTACT",
            ),
            A => {
                let a = &world.agents[agent_i];
                (
                    Sender {
                        id: a.id.clone(),
                        name: a.name(),
                        avatar: a.profile_photo.clone(),
                        email: Some(a.email.clone()),
                        phone: None,
                    },
                    if is_bot { "BOT" } else { "AGENT" },
                )
            }
        };
        // Voice notes and stray photos from customers on chat channels.
        let mut media = Vec::new();
        let mut message_type = if ch == Ch::Email { "EMAIL" } else { "TEXT" };
        let mut content = Some(text.clone());
        let voice = turn.who == C && ch != Ch::Email && g.rng.random_bool(0.04);
        if voice {
            let secs = g.rng.random_range(3..90);
            let mid = g.id();
            media.push(MediaItem {
                url: format!("{CDN}/media/{mid}.ogg"),
                id: mid,
                kind: "AUDIO".into(),
                mime_type: Some("audio/ogg; codecs=opus".into()),
                file_name: Some(format!("voice-note-{secs}s.ogg")),
                size: Some(secs as u64 * 2_000),
                caption: None,
                thumbnail_url: None,
            });
            message_type = "AUDIO";
            content = None;
        } else if let Some(kind) = attach {
            let mid = g.id();
            let (ext, mime, file, mtype) = if kind == "IMAGE" {
                (
                    "jpg",
                    "image/jpeg",
                    format!("IMG_{}.jpg", digits(&mut g.rng, 4)),
                    "IMAGE",
                )
            } else {
                (
                    "pdf",
                    "application/pdf",
                    format!("invoice-{}.pdf", digits(&mut g.rng, 5)),
                    "FILE",
                )
            };
            media.push(MediaItem {
                url: format!("{CDN}/media/{mid}.{ext}"),
                thumbnail_url: (kind == "IMAGE").then(|| format!("{CDN}/media/{mid}_thumb.jpg")),
                id: mid,
                kind: kind.into(),
                mime_type: Some(mime.into()),
                file_name: Some(file),
                size: Some(g.rng.random_range(40_000..2_400_000)),
                caption: (kind == "IMAGE").then(|| text.clone()),
            });
            if ch != Ch::Email {
                message_type = mtype;
            }
        }
        let email = ch == Ch::Email;
        let contact_email = contact.email.clone().unwrap_or_default();
        let support = platform.sender_email_address.clone().unwrap_or_default();
        let (content_html, email_data, msg_subject) = if email {
            let html = match turn.who {
                C => format!(
                    "<div dir=\"auto\">{}</div><div><br></div><div>Sent from my phone</div>",
                    html_escape(&text)
                ),
                A => format!(
                    "<p>{}</p><p>Best regards,<br>{}<br><b>Acme Store Support</b></p><blockquote>…</blockquote>",
                    html_escape(&text),
                    html_escape(&sender.name)
                ),
            };
            let (from, to) = match turn.who {
                C => (contact_email.clone(), support.clone()),
                A => (support.clone(), contact_email.clone()),
            };
            let first_of_episode = k == 0;
            (
                Some(html),
                Some(EmailData {
                    from,
                    to: vec![to],
                    cc: Vec::new(),
                    bcc: Vec::new(),
                    reply_to: None,
                    message_id: format!("<{msg_id}@mail.acme-store.test>"),
                    in_reply_to: None,
                }),
                Some(if first_of_episode {
                    subject.clone()
                } else {
                    format!("Re: {subject}")
                }),
            )
        } else {
            (None, None, None)
        };
        let ack = match turn.who {
            C => None,
            A if is_bot => Some("READ"),
            A => Some(agent_ack(g, ch, at)),
        };
        let (ack, failed) = if turn.who == A && !is_bot && closed_window_failure && k + 1 == n {
            (Some("FAILED"), Some(reason_24h()))
        } else if turn.who == A && !is_bot && g.rng.random_bool(0.015) {
            (Some("FAILED"), Some(random_failure(ch)))
        } else {
            (ack, None)
        };
        let quoted = (turn.who == A && g.rng.random_bool(0.07))
            .then(|| last_contact_msg.clone())
            .flatten();
        let channel_message_id = Some(match ch {
            Ch::WaTr | Ch::WaGlobal => format!("wamid.HBgM{}", digits(&mut g.rng, 20)),
            Ch::Instagram | Ch::Facebook => format!("m_{}", digits(&mut g.rng, 18)),
            Ch::Email => format!("<{msg_id}@mail.acme-store.test>"),
            Ch::LiveChat => format!("lc_{msg_id}"),
        });
        let reactions = (turn.who == A && g.rng.random_bool(0.03)).then(|| "LIKE".to_string());
        let msg = Message {
            id: msg_id.clone(),
            sender,
            conversation: conv_id.clone(),
            message_type: message_type.into(),
            channel_type: ch.channel_type().into(),
            sender_type: sender_type.into(),
            content,
            content_html,
            subject: msg_subject,
            email_data,
            media,
            channel_message_id: channel_message_id.clone(),
            ack_status: ack.map(str::to_string),
            created_at: at,
            auto_create: is_bot,
            failed_reason: failed,
            quoted_message: quoted,
            reactions,
            front_msg_id: None,
        };
        if turn.who == C {
            last_contact_msg = Some(Quoted {
                id: msg.id.clone(),
                content: msg.content.clone(),
                message_type: msg.message_type.clone(),
                sender_type: "CONTACT".into(),
                channel_message_id,
            });
        }
        msgs.push(msg);
    }

    let age_h = age_secs / 3600;
    let status = match age_h {
        0..6 => weighted(
            &mut g.rng,
            &[("OPEN", 65), ("PENDING", 30), ("RESOLVED", 5)],
        ),
        6..48 => weighted(
            &mut g.rng,
            &[
                ("OPEN", 40),
                ("PENDING", 35),
                ("RESOLVED", 20),
                ("CLOSED", 5),
            ],
        ),
        _ => weighted(
            &mut g.rng,
            &[
                ("OPEN", 22),
                ("PENDING", 20),
                ("RESOLVED", 38),
                ("CLOSED", 20),
            ],
        ),
    };
    let priority = weighted(
        &mut g.rng,
        &[
            (None, 45),
            (Some("LOW"), 15),
            (Some("MEDIUM"), 20),
            (Some("HIGH"), 13),
            (Some("URGENT"), 7),
        ],
    );
    let kind = match ch {
        Ch::Instagram | Ch::Facebook if g.rng.random_bool(0.08) => "COMMENT",
        Ch::WaTr | Ch::WaGlobal if g.rng.random_bool(0.03) => "GROUP",
        _ => "DIRECT",
    };
    let mut conv_tags = Vec::new();
    if let Some(t) = &lang.topics[topic].tag
        && let Some(tag) = world.tags.iter().find(|x| x.name == *t)
    {
        conv_tags.push(tag.clone());
    }
    if g.rng.random_bool(0.08)
        && let Some(vip) = world.tags.iter().find(|x| x.name == "VIP")
    {
        conv_tags.push(vip.clone());
    }
    let created_at = msgs.first().map(|m| m.created_at).unwrap_or(last_at);
    let conv = Conversation {
        id: conv_id,
        customer: g.customer.clone(),
        joined_person: contact.id.clone(),
        joined_c_person: assigned.map(|i| world.agents[i].id.clone()),
        is_starred: g.rng.random_bool(0.1),
        status: status.into(),
        is_group_or_channel: kind == "GROUP",
        last_message: None,
        last_received_message_channel: channel_out.id.clone(),
        tags: conv_tags,
        channels: vec![channel_out],
        kind: kind.into(),
        priority: priority.map(str::to_string),
        created_at,
        updated_at: created_at,
    };
    world.conversations.push(conv);
    for m in msgs {
        world.push_message(ci, m);
    }
    let c = &mut world.contacts[contact_i];
    c.updated_at = c.updated_at.max(world.conversations[ci].updated_at);
    if g.rng.random_bool(0.15) {
        let t = world.tags[g.rng.random_range(0..world.tags.len())].clone();
        if !c.tags.iter().any(|x| x.id == t.id) {
            c.tags.push(t);
        }
    }
}

/// Creates a fresh conversation for live traffic; returns its id.
pub(crate) fn live_new_conversation(world: &mut World, now: DateTime<Utc>) -> Option<String> {
    let seed: u64 = world.rng.random();
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        now: chrono::SubsecRound::trunc_subsecs(now, 3),
        customer: world.customer.clone(),
    };
    let ch = weighted(
        &mut g.rng,
        &[
            (Ch::WaTr, 3),
            (Ch::WaGlobal, 3),
            (Ch::Instagram, 2),
            (Ch::Facebook, 1),
            (Ch::LiveChat, 2),
        ],
    );
    let lang = match ch {
        Ch::WaTr => corpus::lang("tr"),
        _ => *pick(&mut g.rng, &corpus::langs()),
    };
    let platform = world.platforms.get(ch.platform_index())?.clone();
    let contact = new_contact(&mut g, lang, ch, &platform, now);
    let conv_id = g.id();
    let ci = world.conversations.len();
    world
        .contact_idx
        .insert(contact.id.clone(), world.contacts.len());
    world.conversations.push(Conversation::direct(
        conv_id.clone(),
        world.customer.clone(),
        contact.id.clone(),
        &platform,
        now,
    ));
    world.contacts.push(contact);
    world.conv_idx.insert(conv_id.clone(), ci);
    world.conv_meta.push(ConvMeta { lang: lang.code });
    world.messages.push(Vec::new());
    let text = pick(&mut g.rng, &lang.live_lines).as_str();
    world.add_incoming(&conv_id, text, now);
    Some(conv_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-10-02T09:15:00Z")
            .map(|d| d.with_timezone(&Utc))
            .expect("valid time")
    }

    fn snapshot(w: &World) -> String {
        let mut s = String::new();
        for (c, msgs) in w.conversations.iter().zip(&w.messages) {
            s.push_str(&serde_json::to_string(c).unwrap_or_default());
            for m in msgs {
                s.push_str(&serde_json::to_string(m).unwrap_or_default());
            }
        }
        for c in &w.contacts {
            s.push_str(&serde_json::to_string(c).unwrap_or_default());
        }
        for t in &w.templates {
            s.push_str(&serde_json::to_string(t).unwrap_or_default());
        }
        s
    }

    #[test]
    fn same_seed_same_world() {
        let a = generate(42, Volume::demo(320), fixed_now());
        let b = generate(42, Volume::demo(320), fixed_now());
        assert_eq!(snapshot(&a), snapshot(&b));
        let c = generate(43, Volume::demo(320), fixed_now());
        assert_ne!(snapshot(&a), snapshot(&c));
        // Ids do not depend on the clock.
        let d = generate(42, Volume::demo(320), fixed_now() + Duration::days(3));
        let ids = |w: &World| {
            w.conversation_ids_by_update()
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(ids(&a), ids(&d));
    }

    #[test]
    fn volume_and_variety() {
        let w = generate(42, Volume::demo(320), fixed_now());
        assert!(w.conversations.len() >= 300);
        assert!(w.messages.iter().any(|m| m.len() >= 500), "a 500+ thread");
        let short = w
            .messages
            .iter()
            .filter(|m| (3..=40).contains(&m.len()))
            .count();
        assert!(short > 250, "most threads are 3–40 messages, got {short}");
        for code in ["en", "tr", "ar", "ja"] {
            assert!(
                w.conv_meta.iter().filter(|m| m.lang == code).count() >= 10,
                "language {code}"
            );
        }
        let all: Vec<&Message> = w.messages.iter().flatten().collect();
        let has = |f: &dyn Fn(&Message) -> bool| all.iter().any(|m| f(m));
        assert!(has(&|m| m
            .media
            .iter()
            .any(|x| x.kind == "IMAGE" && x.url.starts_with(CDN))));
        assert!(has(&|m| m.media.iter().any(|x| x.kind == "DOCUMENT")));
        assert!(has(&|m| m.media.iter().any(|x| x.kind == "AUDIO")));
        assert!(has(&|m| m.quoted_message.is_some()));
        assert!(has(&|m| m.subject.is_some() && m.content_html.is_some()));
        assert!(has(&|m| m
            .failed_reason
            .as_ref()
            .is_some_and(|f| f.code == "131047")));
        assert!(has(&|m| m.ack_status.as_deref() == Some("READ")));
        assert!(has(&|m| m.ack_status.as_deref() == Some("DELIVERED")));
        assert!(has(&|m| m
            .content
            .as_deref()
            .is_some_and(|c| c.contains('\u{1b}'))));
        assert!(has(&|m| m.content.as_deref().is_some_and(|c| c
            .chars()
            .any(|ch| ('\u{3040}'..='\u{30ff}').contains(&ch)))));
        assert!(has(&|m| m.content.as_deref().is_some_and(|c| c
            .chars()
            .any(|ch| ('\u{0600}'..='\u{06ff}').contains(&ch)))));
        assert!(has(&|m| m
            .content
            .as_deref()
            .is_some_and(|c| c.contains('ş') || c.contains('ı'))));
        assert!(w.contacts.iter().any(|c| c.name().contains('\u{202E}')));
        for kind in ["WHATSAPP", "INSTAGRAM", "FACEBOOK", "LIVECHAT", "EMAIL"] {
            assert!(
                w.conversations.iter().any(|c| c.channels[0].kind == kind),
                "{kind}"
            );
        }
        let statuses = |s: &str| w.conversations.iter().filter(|c| c.status == s).count();
        assert!(statuses("OPEN") + statuses("PENDING") > statuses("RESOLVED") + statuses("CLOSED"));
        assert!(statuses("CLOSED") > 0 && statuses("RESOLVED") > 0);
        assert!(w.conversations.iter().any(|c| c.is_starred));
        let unassigned = w
            .conversations
            .iter()
            .filter(|c| c.joined_c_person.is_none())
            .count();
        assert!(unassigned > w.conversations.len() / 2);
        assert_eq!(w.templates.len(), 21);
        for status in ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"] {
            assert!(w.templates.iter().any(|t| t.status == status), "{status}");
        }
        assert!(
            w.templates
                .iter()
                .filter(|t| t.status == "REJECTED")
                .all(|t| t.rejected_reason.is_some())
        );
        assert!(w.agents.iter().any(|a| a.kind == "ROBOT"));
        assert!(w.agents.iter().any(|a| a.status == "INACTIVE"));
        // WhatsApp threads whose customer went quiet more than a day ago.
        let stale_wa = (0..w.conversations.len())
            .filter(|&i| {
                w.conversations[i].channels[0].kind == "WHATSAPP"
                    && !w.whatsapp_window_open(i, fixed_now())
            })
            .count();
        assert!(stale_wa >= 5, "stale WhatsApp threads: {stale_wa}");
        let ids_ok = |id: &str| id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit());
        assert!(w.conversations.iter().all(|c| ids_ok(&c.id)));
        assert!(all.iter().all(|m| ids_ok(&m.id)));
        for msgs in &w.messages {
            assert!(msgs.windows(2).all(|p| p[0].created_at < p[1].created_at));
            assert!(msgs.iter().all(|m| m.created_at <= fixed_now()));
        }
        for p in w.contacts.iter().filter_map(|c| c.phone.as_deref()) {
            assert!(
                p.starts_with('+') && p[1..].chars().all(|c| c.is_ascii_digit()) && p.len() <= 16,
                "{p}"
            );
        }
    }

    #[test]
    fn thread_lengths_add_up_newest_longest() {
        for (n, total) in [(9000, 100_000), (7, 100), (10, 10), (1, 5), (0, 3)] {
            let lens = thread_lengths(n, total);
            assert_eq!(lens.len(), n);
            if n > 0 {
                assert_eq!(lens.iter().sum::<usize>(), total, "{n} {total}");
                assert!(lens.iter().all(|&l| l >= 1));
                assert!(lens.windows(2).all(|w| w[0] >= w[1]), "{lens:?}");
            }
        }
        assert_eq!(thread_lengths(5, 3), vec![1, 1, 1, 0, 0]);
        let big = thread_lengths(9000, 100_000);
        assert!(big[0] >= 40 && big[8999] <= 5, "{} {}", big[0], big[8999]);
    }

    #[test]
    fn sized_world_has_exact_counts_and_looks_real() {
        let volume = Volume {
            conversations: 900,
            contacts: 990,
            messages: 10_000,
        };
        let w = generate(7, volume, fixed_now());
        assert_eq!(w.conversations.len(), 900);
        assert_eq!(w.contacts.len(), 990);
        assert_eq!(w.messages.iter().map(Vec::len).sum::<usize>(), 10_000);
        assert_eq!(w.contact_idx.len(), 990, "contact ids are unique");
        assert_eq!(w.msg_idx.len(), 10_000, "message ids are unique");
        assert!(
            w.conversations
                .iter()
                .all(|c| w.contact(&c.joined_person).is_some())
        );
        let used: std::collections::HashSet<&str> = w
            .conversations
            .iter()
            .map(|c| c.joined_person.as_str())
            .collect();
        assert!(used.len() < 990, "some contacts have no conversation");
        assert!(used.len() < 900, "some contacts write again");
        // Creation order is recency order, threads get shorter with age.
        assert!(
            w.conversations
                .windows(2)
                .all(|p| p[0].updated_at > p[1].updated_at)
        );
        assert!(w.messages[0].len() > w.messages[899].len());
        let span = w.conversations[0].updated_at - w.conversations[899].updated_at;
        assert!(span > Duration::days(150), "updatedAt spread over months");
        for status in ["OPEN", "PENDING", "RESOLVED", "CLOSED"] {
            assert!(
                w.conversations
                    .iter()
                    .filter(|c| c.status == status)
                    .count()
                    >= 20,
                "{status}"
            );
        }
        let names: Vec<String> = w.contacts.iter().map(Contact::name).collect();
        let any = |f: &dyn Fn(char) -> bool| names.iter().any(|n| n.chars().any(f));
        assert!(any(&|c| c == 'ş'
            || c == 'ı'
            || c == 'ü'
            || c == 'ç'
            || c == 'ğ'
            || c == 'ö'));
        assert!(any(&|c| ('\u{0600}'..='\u{06ff}').contains(&c)));
        assert!(any(&|c| ('\u{3040}'..='\u{9fff}').contains(&c)));
        assert!(any(&|c| c >= '\u{1f300}'));
        assert!(w.contacts.iter().any(|c| c.name().contains('\u{202E}')));
        assert!(w.contacts.iter().all(|c| c.updated_at >= c.created_at));
        for msgs in &w.messages {
            assert!(msgs.windows(2).all(|p| p[0].created_at < p[1].created_at));
            assert!(msgs.iter().all(|m| m.created_at <= fixed_now()));
        }
        for (c, msgs) in w.conversations.iter().zip(&w.messages) {
            assert_eq!(
                c.last_message.as_ref().map(|m| &m.id),
                msgs.last().map(|m| &m.id)
            );
        }
        let again = generate(7, volume, fixed_now());
        assert_eq!(snapshot(&w), snapshot(&again));
    }

    #[test]
    fn sized_world_with_fewer_messages_than_conversations() {
        let w = generate(
            1,
            Volume {
                conversations: 30,
                contacts: 10,
                messages: 12,
            },
            fixed_now(),
        );
        assert_eq!(w.messages.iter().map(Vec::len).sum::<usize>(), 12);
        assert_eq!(w.contacts.len(), 10);
        assert!(
            w.conversations
                .iter()
                .all(|c| w.contact(&c.joined_person).is_some())
        );
        assert!(w.messages[29].is_empty() && w.conversations[29].last_message.is_none());
    }
}
