//! `termdesk templates list` and `termdesk send-template`: WhatsApp
//! templates from a script. Values are given as `--var KEY=VALUE`: a body
//! placeholder by its key (`1`, `order_id`), `header` for a TEXT header's
//! placeholder, `button.N` for URL button N; `--header-url` for a media
//! header. Every value is checked before any message is sent, and every
//! missing one is named at once.

use super::{pad, print_json};
use crate::api::{ApiError, Provider};
use crate::domain::{Channel, ConversationId, OutgoingTemplate, Recipient, Template};
use crate::template_text::{self, Slot};
use crate::text;

/// What a `--var` fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarKey {
    /// The placeholder of a TEXT header.
    Header,
    /// The placeholder at the end of URL button N.
    Button(u32),
    /// A body placeholder, by its key as written: `1` or `order_id`.
    Body(String),
}

impl VarKey {
    fn label(&self) -> String {
        match self {
            VarKey::Header => "header".into(),
            VarKey::Button(index) => format!("button.{index}"),
            VarKey::Body(key) => key.clone(),
        }
    }
}

/// `send-template`'s arguments, checked before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub conversation_id: ConversationId,
    /// A template name or id.
    pub template: String,
    pub language: Option<String>,
    pub vars: Vec<(VarKey, String)>,
    pub header_url: Option<String>,
    pub json: bool,
}

fn shown(value: &str) -> String {
    text::truncate(&text::sanitize_line(value), 60).into_owned()
}

/// One `--var KEY=VALUE`.
pub fn parse_var(raw: &str) -> Result<(VarKey, String), String> {
    let Some((key, value)) = raw.split_once('=') else {
        return Err(format!(
            "--var \"{}\": write it as KEY=VALUE, e.g. --var 1=Ayşe",
            shown(raw)
        ));
    };
    let key = key.trim();
    // `{{1}}=…` as the template writes it is fine too.
    let key = key
        .strip_prefix("{{")
        .and_then(|k| k.strip_suffix("}}"))
        .unwrap_or(key)
        .trim();
    if key.is_empty() {
        return Err(format!(
            "--var \"{}\": the key before = is empty (use 1, a placeholder name, header or button.N)",
            shown(raw)
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!(
            "--var {key}: control characters are not allowed in the value"
        ));
    }
    let var = if key.eq_ignore_ascii_case("header") {
        VarKey::Header
    } else if let Some(index) = key.strip_prefix("button.") {
        VarKey::Button(index.trim().parse().map_err(|_| {
            format!(
                "--var \"{}\": button.N needs the button's number, e.g. button.0",
                shown(raw)
            )
        })?)
    } else {
        VarKey::Body(key.to_string())
    };
    Ok((var, value.trim().to_string()))
}

/// `send-template`'s arguments as typed.
pub fn parse_send(
    conversation: &str,
    template: &str,
    language: Option<&str>,
    vars: &[String],
    header_url: Option<&str>,
    json: bool,
) -> Result<SendRequest, String> {
    let conversation_id = super::conversation_id(conversation)?;
    let template = template.trim();
    if template.is_empty() {
        return Err("name the template to send (see `termdesk templates list`)".into());
    }
    let language = language.map(str::trim).filter(|l| !l.is_empty());
    let mut parsed: Vec<(VarKey, String)> = Vec::with_capacity(vars.len());
    for raw in vars {
        let (key, value) = parse_var(raw)?;
        if parsed.iter().any(|(k, _)| *k == key) {
            return Err(format!("--var {} is given twice", key.label()));
        }
        parsed.push((key, value));
    }
    let header_url = match header_url.map(str::trim) {
        None => None,
        Some(url) => {
            template_text::check_media_url(url)
                .map_err(|why| format!("--header-url \"{}\": {why}", shown(url)))?;
            Some(url.to_string())
        }
    };
    Ok(SendRequest {
        conversation_id,
        template: template.to_string(),
        language: language.map(str::to_string),
        vars: parsed,
        header_url,
        json,
    })
}

/// How `--var` names a slot.
fn slot_flag(slot: &Slot) -> String {
    match slot {
        Slot::HeaderText(_) => "header".into(),
        Slot::HeaderMedia => "header-url".into(),
        Slot::Body(key) => format!("{{{{{key}}}}}"),
        Slot::Button { index, .. } => format!("button.{index}"),
    }
}

/// What `templates list` shows a template needs, e.g. `header {{1}} button.0`.
pub fn needs(template: &Template) -> String {
    template_text::slots(template)
        .iter()
        .map(slot_flag)
        .collect::<Vec<_>>()
        .join(" ")
}

fn label(template: &Template) -> String {
    format!(
        "{} ({})",
        text::sanitize_line(&template.name),
        text::sanitize_line(&template.language)
    )
}

/// Why `template` cannot be sent, or `None`.
fn why_not(template: &Template) -> Option<String> {
    let why = template.status.why_not_sendable()?;
    Some(match &template.rejected_reason {
        Some(reason) => format!("{why}: {}", text::sanitize_line(reason)),
        None => why,
    })
}

async fn templates(provider: &dyn Provider) -> Result<Vec<Template>, String> {
    let mut all = provider
        .list_templates()
        .await
        .map_err(|err| format!("cannot list the templates: {err}"))?;
    all.sort_by(|a, b| a.name.cmp(&b.name).then(a.language.cmp(&b.language)));
    Ok(all)
}

/// `termdesk templates list`.
pub async fn list(provider: &dyn Provider, json: bool) -> Result<(), String> {
    let all = templates(provider).await?;
    if json {
        return print_json(&all);
    }
    let variables: Vec<String> = all.iter().map(|t| text::sanitize_line(&needs(t))).collect();
    // Wide enough for every template's variables: they are typed from here.
    let width = variables
        .iter()
        .map(|v| text::width(v))
        .max()
        .unwrap_or(0)
        .max("VARIABLES".len());
    println!(
        "{:<24}  {:<5}  {:<14}  {:<9}  {}  BODY",
        "NAME",
        "LANG",
        "CATEGORY",
        "STATUS",
        pad("VARIABLES", width)
    );
    for (t, variables) in all.iter().zip(&variables) {
        let first_line = t.body.lines().next().unwrap_or("");
        println!(
            "{}  {}  {}  {}  {}  {}",
            pad(&text::sanitize_line(&t.name), 24),
            pad(&text::sanitize_line(&t.language), 5),
            pad(
                &text::sanitize_line(&t.category.clone().unwrap_or_default().to_lowercase()),
                14
            ),
            pad(t.status.label(), 9),
            pad(variables, width),
            text::truncate(&text::sanitize_line(first_line), 60)
        );
    }
    println!("({} templates)", all.len());
    let blocked: Vec<&Template> = all.iter().filter(|t| why_not(t).is_some()).collect();
    if !blocked.is_empty() {
        println!();
        println!("Cannot be sent:");
        for t in blocked {
            println!("  {}: {}", label(t), why_not(t).unwrap_or_default());
        }
    }
    Ok(())
}

/// The template `request` names: by id, else by name in its one language
/// or the `--lang` one.
fn pick<'a>(all: &'a [Template], request: &SendRequest) -> Result<&'a Template, String> {
    if let Some(t) = all.iter().find(|t| t.id.as_str() == request.template) {
        return Ok(t);
    }
    let named: Vec<&Template> = all
        .iter()
        .filter(|t| t.name.eq_ignore_ascii_case(&request.template))
        .collect();
    if named.is_empty() {
        let mut names: Vec<String> = all.iter().map(|t| text::sanitize_line(&t.name)).collect();
        names.dedup();
        return Err(format!(
            "no template `{}`; the account has: {} (see `termdesk templates list`)",
            shown(&request.template),
            names.join(", ")
        ));
    }
    let languages = || {
        named
            .iter()
            .map(|t| text::sanitize_line(&t.language))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &request.language {
        Some(lang) => named
            .iter()
            .find(|t| t.language.eq_ignore_ascii_case(lang))
            .copied()
            .ok_or_else(|| {
                format!(
                    "template `{}` has no `{}` version (languages: {})",
                    shown(&request.template),
                    shown(lang),
                    languages()
                )
            }),
        None if named.len() > 1 => Err(format!(
            "template `{}` exists in several languages ({}): choose one with --lang",
            shown(&request.template),
            languages()
        )),
        None => Ok(named[0]),
    }
}

/// One value per slot of `template`, from the request; refuses values the
/// template has no place for and names every missing one.
pub fn fill(template: &Template, request: &SendRequest) -> Result<Vec<String>, String> {
    let slots = template_text::slots(template);
    let mut filled = vec![String::new(); slots.len()];
    let needed = || {
        let all = needs(template);
        if all.is_empty() {
            "it takes no values".to_string()
        } else {
            format!("it takes {all}")
        }
    };
    for (key, value) in &request.vars {
        let at = slots.iter().position(|slot| match (key, slot) {
            (VarKey::Header, Slot::HeaderText(_)) => true,
            (VarKey::Button(n), Slot::Button { index, .. }) => n == index,
            (VarKey::Body(k), Slot::Body(b)) => k == b,
            _ => false,
        });
        match at {
            Some(i) => filled[i] = value.clone(),
            None if *key == VarKey::Header && template.has_media_header() => {
                return Err(format!(
                    "{} has a {} header: give its address with --header-url",
                    label(template),
                    template
                        .header_format
                        .as_deref()
                        .unwrap_or("media")
                        .to_lowercase()
                ));
            }
            None => {
                return Err(format!(
                    "--var {}: {} has no such variable ({})",
                    key.label(),
                    label(template),
                    needed()
                ));
            }
        }
    }
    if let Some(url) = &request.header_url {
        match slots.iter().position(|s| *s == Slot::HeaderMedia) {
            Some(i) => filled[i] = url.clone(),
            None => {
                return Err(format!(
                    "--header-url: {} has no media header ({})",
                    label(template),
                    needed()
                ));
            }
        }
    }
    let missing: Vec<&Slot> = slots
        .iter()
        .zip(&filled)
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(s, _)| s)
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|s| slot_flag(s)).collect();
        let how: Vec<String> = missing
            .iter()
            .map(|s| match s {
                Slot::HeaderText(_) => "--var header=…".to_string(),
                Slot::HeaderMedia => "--header-url URL".to_string(),
                Slot::Body(key) => format!("--var {key}=…"),
                Slot::Button { index, .. } => format!("--var button.{index}=…"),
            })
            .collect();
        return Err(format!(
            "missing values for {}: {} (give {})",
            label(template),
            names.join(", "),
            how.join(" ")
        ));
    }
    Ok(filled)
}

/// `termdesk send-template`: looks the template up, checks every value,
/// then sends once with a fresh client id.
pub async fn send(provider: &dyn Provider, request: &SendRequest) -> Result<(), String> {
    let all = templates(provider).await?;
    let template = pick(&all, request)?;
    if let Some(why) = why_not(template) {
        return Err(format!(
            "{} cannot be sent: it is {} ({why})",
            label(template),
            template.status.label()
        ));
    }
    let filled = fill(template, request)?;
    let id = &request.conversation_id;
    let conversation = provider
        .get_conversation(id)
        .await
        .map_err(|err| match err {
            ApiError::NotFound(_) => format!(
                "no conversation {} (see `termdesk conversations list`)",
                text::sanitize_line(id.as_str())
            ),
            err => format!(
                "cannot read conversation {}: {err}",
                text::sanitize_line(id.as_str())
            ),
        })?;
    if conversation.channel != Channel::WhatsApp {
        return Err(format!(
            "conversation {} is on {}: templates go out on WhatsApp only",
            text::sanitize_line(id.as_str()),
            conversation.channel.label()
        ));
    }
    let channel_id = template
        .channel_id
        .clone()
        .or_else(|| conversation.reply_channel_id.clone())
        .ok_or_else(|| {
            format!(
                "no WhatsApp number to send {} from: neither the template nor the conversation names one",
                label(template)
            )
        })?;
    let slots = template_text::slots(template);
    let outgoing = OutgoingTemplate {
        client_id: uuid::Uuid::new_v4().to_string(),
        recipient: Recipient::Conversation(id.clone()),
        channel_id: Some(channel_id),
        template_id: template.id.clone(),
        template_name: template.name.clone(),
        language: template.language.clone(),
        values: template_text::values(template, &slots, &filled),
    };
    let message = provider
        .send_template(&outgoing)
        .await
        .map_err(|err| format!("cannot send {}: {err}", label(template)))?;
    if request.json {
        return print_json(&message);
    }
    println!(
        "Sent {} to {}: message {} ({:?})",
        label(template),
        text::sanitize_line(message.conversation_id.as_str()),
        text::sanitize_line(message.id.as_str()),
        message.ack
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TemplateButton, TemplateId, TemplateStatus};

    fn template(name: &str, language: &str, status: TemplateStatus) -> Template {
        Template {
            id: TemplateId::new(format!("{name}-{language}")),
            name: name.into(),
            language: language.into(),
            category: Some("UTILITY".into()),
            status,
            channel_id: None,
            header: Some("Order {{1}}".into()),
            header_format: Some("TEXT".into()),
            body: "Hi {{1}}, order {{order_id}}".into(),
            footer: None,
            buttons: vec![TemplateButton {
                kind: "URL".into(),
                text: "Track".into(),
                url: Some("https://x/{{1}}".into()),
            }],
            rejected_reason: None,
        }
    }

    fn request(template: &str, language: Option<&str>, vars: &[&str]) -> SendRequest {
        let vars: Vec<String> = vars.iter().map(|v| v.to_string()).collect();
        parse_send("c1", template, language, &vars, None, false).expect("valid")
    }

    #[test]
    fn vars_name_body_header_and_buttons() {
        assert_eq!(
            parse_var("1=Ayşe").unwrap(),
            (VarKey::Body("1".into()), "Ayşe".into())
        );
        assert_eq!(
            parse_var("{{order_id}}=A=1").unwrap(),
            (VarKey::Body("order_id".into()), "A=1".into())
        );
        assert_eq!(parse_var("header=X").unwrap().0, VarKey::Header);
        assert_eq!(parse_var("button.2=X").unwrap().0, VarKey::Button(2));
        assert!(parse_var("Ayşe").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_var("=x").is_err());
        assert!(parse_var("button.x=1").is_err());
        let twice = parse_send("c1", "t", None, &["1=a".into(), "1=b".into()], None, false);
        assert!(twice.unwrap_err().contains("given twice"));
        let url = parse_send("c1", "t", None, &[], Some("cdn/x.jpg"), false);
        assert!(url.unwrap_err().contains("--header-url"));
    }

    #[test]
    fn languages_are_chosen_or_asked_for() {
        let all = vec![
            template("order_shipped", "en", TemplateStatus::Approved),
            template("order_shipped", "tr", TemplateStatus::Approved),
            template("welcome", "tr", TemplateStatus::Approved),
        ];
        let err = pick(&all, &request("order_shipped", None, &[])).unwrap_err();
        assert!(err.contains("en, tr") && err.contains("--lang"), "{err}");
        assert_eq!(
            pick(&all, &request("order_shipped", Some("TR"), &[]))
                .unwrap()
                .language,
            "tr"
        );
        assert!(
            pick(&all, &request("order_shipped", Some("de"), &[]))
                .unwrap_err()
                .contains("no `de` version")
        );
        assert_eq!(
            pick(&all, &request("welcome", None, &[])).unwrap().name,
            "welcome"
        );
        assert_eq!(
            pick(&all, &request("order_shipped-en", None, &[]))
                .unwrap()
                .language,
            "en",
            "by id"
        );
        assert!(
            pick(&all, &request("nope", None, &[]))
                .unwrap_err()
                .contains("no template")
        );
    }

    #[test]
    fn every_missing_value_is_named() {
        let t = template("order_shipped", "en", TemplateStatus::Approved);
        assert_eq!(needs(&t), "header {{1}} {{order_id}} button.0");
        let err = fill(&t, &request("order_shipped", None, &["1=Ayşe"])).unwrap_err();
        assert!(
            err.contains("header, {{order_id}}, button.0")
                && err.contains("--var header=… --var order_id=… --var button.0=…"),
            "{err}"
        );
        let err = fill(&t, &request("order_shipped", None, &["3=x"])).unwrap_err();
        assert!(err.contains("no such variable"), "{err}");
        let filled = fill(
            &t,
            &request(
                "order_shipped",
                None,
                &["header=A-1", "1=Ayşe", "order_id=A-1", "button.0=A-1"],
            ),
        )
        .unwrap();
        assert_eq!(filled, ["A-1", "Ayşe", "A-1", "A-1"]);
    }

    #[test]
    fn media_headers_take_a_url() {
        let mut t = template("sale", "en", TemplateStatus::Approved);
        t.header = None;
        t.header_format = Some("IMAGE".into());
        t.buttons.clear();
        let err = fill(&t, &request("sale", None, &["header=x"])).unwrap_err();
        assert!(err.contains("--header-url"), "{err}");
        let err = fill(&t, &request("sale", None, &["1=a", "order_id=b"])).unwrap_err();
        assert!(err.contains("header-url"), "{err}");
        let mut with_url = request("sale", None, &["1=a", "order_id=b"]);
        with_url.header_url = Some("https://cdn.example/x.jpg".into());
        assert_eq!(fill(&t, &with_url).unwrap()[0], "https://cdn.example/x.jpg");
    }
}
