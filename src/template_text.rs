//! Placeholders in template text: `{{1}}`, `{{2}}`… (positional) and
//! `{{order_id}}` (named), as WhatsApp writes them. Parsing never fails:
//! braces that do not form a placeholder are text, shown as written.

use crate::domain::{Template, TemplateValues};

/// A piece of template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    /// The key as written between the braces, trimmed: `1` or `order_id`.
    Placeholder(&'a str),
}

/// Splits `text` into literal text and placeholders. A placeholder is `{{`,
/// optional spaces, a key (digits, or a letter or `_` followed by letters,
/// digits and `_`), optional spaces, `}}`. Anything else stays text.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut at = 0;
    while let Some(offset) = text[at..].find("{{") {
        let open = at + offset;
        let inner_start = open + 2;
        match text[inner_start..].find("}}") {
            Some(len) => {
                let inner = &text[inner_start..inner_start + len];
                let key = inner.trim();
                if is_key(key) {
                    if open > literal_start {
                        out.push(Segment::Text(&text[literal_start..open]));
                    }
                    out.push(Segment::Placeholder(key));
                    at = inner_start + len + 2;
                    literal_start = at;
                } else {
                    // `{{{1}}}`: the placeholder may start one brace later.
                    at = open + 1;
                }
            }
            None => break,
        }
    }
    if literal_start < text.len() {
        out.push(Segment::Text(&text[literal_start..]));
    }
    out
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => key.chars().all(|c| c.is_ascii_digit()),
        Some(c) if c.is_alphabetic() || c == '_' => {
            chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        }
        _ => false,
    }
}

/// Distinct placeholder keys in order of first appearance.
pub fn keys(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for segment in segments(text) {
        if let Segment::Placeholder(key) = segment
            && !keys.iter().any(|k| k == key)
        {
            keys.push(key.to_string());
        }
    }
    keys
}

/// `text` with every placeholder replaced by `value(key)`; keys without a
/// value stay as written.
pub fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    for segment in segments(text) {
        match segment {
            Segment::Text(t) => out.push_str(t),
            Segment::Placeholder(key) => match value(key) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str("{{");
                    out.push_str(key);
                    out.push_str("}}");
                }
            },
        }
    }
    out
}

/// Where a template needs a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// The placeholder of a TEXT header.
    HeaderText(String),
    /// The URL of an IMAGE, VIDEO or DOCUMENT header.
    HeaderMedia,
    Body(String),
    /// The placeholder at the end of URL button `index`.
    Button {
        index: u32,
        key: String,
    },
}

impl Slot {
    /// What the form calls the field.
    pub fn label(&self, template: &Template) -> String {
        match self {
            Slot::HeaderText(key) => format!("Header {{{{{key}}}}}"),
            Slot::HeaderMedia => format!(
                "Header {} URL",
                template
                    .header_format
                    .as_deref()
                    .unwrap_or("media")
                    .to_lowercase()
            ),
            Slot::Body(key) => format!("{{{{{key}}}}}"),
            Slot::Button { index, .. } => {
                let text = template
                    .buttons
                    .get(*index as usize)
                    .map(|b| b.text.as_str())
                    .unwrap_or("button");
                format!("Button “{text}” URL")
            }
        }
    }
}

/// Every value `template` needs, in the order the form asks for them:
/// header, body, buttons.
pub fn slots(template: &Template) -> Vec<Slot> {
    let mut slots = Vec::new();
    if template.has_media_header() {
        slots.push(Slot::HeaderMedia);
    } else if let Some(header) = &template.header {
        slots.extend(keys(header).into_iter().map(Slot::HeaderText));
    }
    slots.extend(keys(&template.body).into_iter().map(Slot::Body));
    for (index, button) in template.buttons.iter().enumerate() {
        if let Some(url) = &button.url {
            for key in keys(url) {
                slots.push(Slot::Button {
                    index: index as u32,
                    key,
                });
            }
        }
    }
    slots
}

/// The values for the provider, from one value per slot of `template`
/// (empty = missing).
pub fn values(template: &Template, slots: &[Slot], filled: &[String]) -> TemplateValues {
    let mut values = TemplateValues {
        header_media_format: template
            .has_media_header()
            .then(|| template.header_format.clone())
            .flatten(),
        ..TemplateValues::default()
    };
    for (slot, value) in slots.iter().zip(filled) {
        let value = value.trim().to_string();
        match slot {
            Slot::HeaderText(_) => values.header_text = Some(value),
            Slot::HeaderMedia => values.header_media_url = Some(value),
            Slot::Body(key) => values.body.push(crate::domain::TemplateParam {
                key: key.clone(),
                value,
            }),
            Slot::Button { index, .. } => values.buttons.push((*index, value)),
        }
    }
    values
}

/// One value per slot from values sent before (the inverse of [`values`]);
/// slots the values do not cover are empty.
pub fn fields_from_values(slots: &[Slot], values: &TemplateValues) -> Vec<String> {
    slots
        .iter()
        .map(|slot| match slot {
            Slot::HeaderText(_) => values.header_text.clone(),
            Slot::HeaderMedia => values.header_media_url.clone(),
            Slot::Body(key) => values
                .body
                .iter()
                .find(|p| &p.key == key)
                .map(|p| p.value.clone()),
            Slot::Button { index, .. } => values
                .buttons
                .iter()
                .find(|(i, _)| i == index)
                .map(|(_, v)| v.clone()),
        })
        .map(Option::unwrap_or_default)
        .collect()
}

/// The first slot without a value, if any: sending waits for it.
pub fn first_missing(slots: &[Slot], filled: &[String]) -> Option<usize> {
    (0..slots.len()).find(|&i| filled.get(i).is_none_or(|v| v.trim().is_empty()))
}

/// A media header URL must be an absolute http(s) URL the provider can fetch.
pub fn check_media_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https://")?;
    if rest.is_empty() || rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
        return Err("is not a complete web address".into());
    }
    Ok(())
}

/// The message as the customer reads it: header, body and footer with the
/// values in place, buttons listed below.
pub fn rendered(template: &Template, values: &TemplateValues) -> String {
    let body_value = |key: &str| {
        values
            .body
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.clone())
    };
    let mut parts = Vec::new();
    if template.has_media_header() {
        if let Some(url) = &values.header_media_url {
            parts.push(format!(
                "[{}] {url}",
                template
                    .header_format
                    .as_deref()
                    .unwrap_or("media")
                    .to_lowercase()
            ));
        }
    } else if let Some(header) = &template.header {
        parts.push(fill(header, |_| values.header_text.clone()));
    }
    parts.push(fill(&template.body, body_value));
    if let Some(footer) = &template.footer {
        parts.push(footer.clone());
    }
    let buttons: Vec<String> = template
        .buttons
        .iter()
        .map(|b| format!("[{}]", b.text))
        .collect();
    if !buttons.is_empty() {
        parts.push(buttons.join(" "));
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TemplateButton, TemplateId, TemplateStatus};

    fn template(header: Option<&str>, body: &str, url: Option<&str>) -> Template {
        Template {
            id: TemplateId::from("t1"),
            name: "order_shipped".into(),
            language: "en".into(),
            category: Some("UTILITY".into()),
            status: TemplateStatus::Approved,
            channel_id: None,
            header: header.map(str::to_string),
            header_format: header.map(|_| "TEXT".to_string()),
            body: body.into(),
            footer: Some("Reply STOP to opt out".into()),
            buttons: url
                .map(|u| TemplateButton {
                    kind: "URL".into(),
                    text: "Track".into(),
                    url: Some(u.into()),
                })
                .into_iter()
                .collect(),
            rejected_reason: None,
        }
    }

    #[test]
    fn positional_named_repeated_and_adjacent_placeholders() {
        assert_eq!(
            segments("Hi {{1}}, order {{ order_id }}{{2}}!"),
            vec![
                Segment::Text("Hi "),
                Segment::Placeholder("1"),
                Segment::Text(", order "),
                Segment::Placeholder("order_id"),
                Segment::Placeholder("2"),
                Segment::Text("!"),
            ]
        );
        assert_eq!(keys("{{1}} and {{2}} and {{1}} again"), ["1", "2"]);
        assert_eq!(keys("{{2}}{{1}}"), ["2", "1"], "order of appearance");
    }

    #[test]
    fn unbalanced_and_malformed_braces_are_text() {
        assert_eq!(keys("{{1}"), Vec::<String>::new());
        assert_eq!(keys("{1}} {{}} {{ }} {{a b}} {{-1}}"), Vec::<String>::new());
        assert_eq!(keys("{{{1}}}"), ["1"], "the innermost pair counts");
        assert_eq!(segments("Price: {{1}"), vec![Segment::Text("Price: {{1}")]);
        assert_eq!(fill("{{1} and {{2}}", |_| Some("x".into())), "{{1} and x");
        assert_eq!(keys("trailing {{"), Vec::<String>::new());
        assert_eq!(keys("ünïcode {{ad_soyad}} {{名前}}"), ["ad_soyad", "名前"]);
    }

    #[test]
    fn missing_values_stay_visible_as_placeholders() {
        assert_eq!(
            fill("Hi {{1}}, {{2}}", |k| (k == "1").then(|| "Ayşe".into())),
            "Hi Ayşe, {{2}}"
        );
    }

    #[test]
    fn slots_cover_header_body_and_url_buttons_in_form_order() {
        let t = template(
            Some("Order {{1}}"),
            "Hi {{1}}, your order {{2}} ships {{1}}",
            Some("https://shop.example/t/{{1}}"),
        );
        assert_eq!(
            slots(&t),
            vec![
                Slot::HeaderText("1".into()),
                Slot::Body("1".into()),
                Slot::Body("2".into()),
                Slot::Button {
                    index: 0,
                    key: "1".into()
                },
            ]
        );
        let mut media = template(None, "See attached", None);
        media.header_format = Some("IMAGE".into());
        assert_eq!(slots(&media), vec![Slot::HeaderMedia]);
    }

    #[test]
    fn sending_waits_for_every_value() {
        let t = template(None, "{{1}} {{2}}", None);
        let s = slots(&t);
        assert_eq!(first_missing(&s, &["a".into(), " ".into()]), Some(1));
        assert_eq!(first_missing(&s, &["a".into()]), Some(1));
        assert_eq!(first_missing(&s, &["a".into(), "b".into()]), None);
    }

    #[test]
    fn rendered_text_is_what_the_customer_reads() {
        let t = template(
            Some("Order {{1}}"),
            "Hi {{1}}, order {{2}}.",
            Some("https://x/{{1}}"),
        );
        let s = slots(&t);
        let v = values(
            &t,
            &s,
            &["A-1".into(), "Deniz".into(), "A-1".into(), "A-1".into()],
        );
        assert_eq!(v.header_text.as_deref(), Some("A-1"));
        assert_eq!(fields_from_values(&s, &v), ["A-1", "Deniz", "A-1", "A-1"]);
        assert_eq!(v.buttons, vec![(0, "A-1".to_string())]);
        assert_eq!(
            rendered(&t, &v),
            "Order A-1\nHi Deniz, order A-1.\nReply STOP to opt out\n[Track]"
        );
    }

    #[test]
    fn media_urls_are_checked() {
        assert!(check_media_url("https://cdn.example/x.jpg").is_ok());
        assert!(check_media_url("http://cdn.example/x.jpg").is_ok());
        assert!(check_media_url("cdn.example/x.jpg").is_err());
        assert!(check_media_url("https://").is_err());
        assert!(check_media_url("https://a b").is_err());
    }
}
