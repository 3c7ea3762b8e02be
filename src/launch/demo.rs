//! The demo: a provider's sandbox started in-process with seeded data and
//! live traffic, and a client connected to it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::Connection;
use crate::api::Provider;
use crate::api::dmchamp::{DmChampClient, DmChampOptions};
use crate::api::qpien::{QpienClient, QpienConfig};
use crate::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use crate::config::{Config, ProviderKind};
use crate::domain::{ContactId, ContactQuery, ContactUpdate};
use crate::sandbox::dmchamp::{
    DEMO_API_KEY, DmChampControl, DmChampSandbox, DmChampSandboxOptions,
};
use crate::sandbox::superwaba::{
    self as superwaba_sandbox, SuperWabaSandbox, SuperWabaSandboxOptions,
};
use crate::sandbox::{Sandbox, SandboxOptions};

/// The sandbox behind the demo; dropping it stops it.
pub enum DemoSandbox {
    Qpien(Sandbox),
    SuperWaba(SuperWabaSandbox),
    DmChamp(DmChampSandbox),
}

impl DemoSandbox {
    fn label(&self) -> &'static str {
        match self {
            DemoSandbox::Qpien(_) => "Qpien sandbox",
            DemoSandbox::SuperWaba(_) => "SuperWaba sandbox",
            DemoSandbox::DmChamp(_) => "DM Champ sandbox",
        }
    }
}

/// Contacts the DM Champ demo's inbox starts with: DM Champ has no
/// conversation list, so the demo looks these up as an agent would.
const DMCHAMP_DEMO_CONTACTS: usize = 12;

pub(super) async fn start_demo(
    config: Config,
    provider: ProviderKind,
    live: bool,
) -> Result<Connection, String> {
    let sandbox_error = |err: anyhow::Error| format!("cannot start the demo sandbox: {err}");
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let (provider, sandbox): (Arc<dyn Provider>, DemoSandbox) = match provider {
        ProviderKind::Qpien => {
            let options = SandboxOptions {
                live,
                ..SandboxOptions::default()
            };
            let client_id = options.client_id.clone();
            let secret = SecretString::from(options.client_secret.clone());
            let sandbox = Sandbox::start(local, options)
                .await
                .map_err(sandbox_error)?;
            let client = QpienClient::new(QpienConfig::new(sandbox.base_url(), client_id, secret))
                .map_err(|err| err.to_string())?;
            (Arc::new(client), DemoSandbox::Qpien(sandbox))
        }
        ProviderKind::Dmchamp => {
            let options = DmChampSandboxOptions {
                live,
                ..DmChampSandboxOptions::default()
            };
            let sandbox = DmChampSandbox::start(local, options)
                .await
                .map_err(sandbox_error)?;
            let mut options =
                DmChampOptions::new(sandbox.base_url(), SecretString::from(DEMO_API_KEY));
            options.requests_per_minute = DmChampSandboxOptions::default().rate_limit;
            let client = DmChampClient::new(options).map_err(|err| err.to_string())?;
            seed_dmchamp_book(&client, &sandbox.control()).await?;
            (Arc::new(client), DemoSandbox::DmChamp(sandbox))
        }
        ProviderKind::Superwaba => {
            let options = SuperWabaSandboxOptions {
                live,
                ..SuperWabaSandboxOptions::default()
            };
            let sandbox = SuperWabaSandbox::start(local, options)
                .await
                .map_err(sandbox_error)?;
            let client = SuperWabaClient::new(SuperWabaOptions {
                base_url: sandbox.base_url(),
                developer_base_url: sandbox.developer_base_url(),
                org_id: superwaba_sandbox::DEMO_ORG_ID.into(),
                supabase_url: sandbox.supabase_url(),
                supabase_anon_key: SecretString::from(superwaba_sandbox::DEMO_ANON_KEY),
                login: SuperWabaLogin::Password {
                    email: superwaba_sandbox::DEMO_EMAIL.into(),
                    password: SecretString::from(superwaba_sandbox::DEMO_PASSWORD),
                },
                api_key: Some(SecretString::from(superwaba_sandbox::DEMO_API_KEY)),
                // The demo's sign-in is new on every run.
                token_file: None,
                timeout: Duration::from_secs(15),
                requests_per_minute: SuperWabaSandboxOptions::default().rate_limit,
            })
            .map_err(|err| err.to_string())?;
            (Arc::new(client), DemoSandbox::SuperWaba(sandbox))
        }
    };
    Ok(Connection {
        provider,
        label: "demo".to_string(),
        provider_label: sandbox.label().to_string(),
        poll_interval: Duration::from_secs(2),
        config,
        demo_sandbox: Some(sandbox),
    })
}

/// Looks up the demo's first contacts by phone and names them, as an agent
/// working with them would have: the contact book is the DM Champ inbox.
async fn seed_dmchamp_book(client: &DmChampClient, control: &DmChampControl) -> Result<(), String> {
    let seed_error = |err: crate::api::ApiError| format!("cannot prepare the DM Champ demo: {err}");
    for seeded in control.sample_contacts(DMCHAMP_DEMO_CONTACTS, None) {
        let Some(phone) = seeded.phone.clone() else {
            continue;
        };
        let found = client
            .list_contacts(&ContactQuery {
                search: Some(phone),
                limit: 1,
                ..ContactQuery::default()
            })
            .await
            .map_err(seed_error)?;
        let Some(contact) = found.items.first() else {
            continue;
        };
        let names = ContactUpdate {
            first_name: Some(seeded.first_name.clone()),
            last_name: Some(Some(seeded.last_name.clone()).filter(|l| !l.is_empty())),
            ..ContactUpdate::default()
        };
        client
            .update_contact(&contact.id, &names)
            .await
            .map_err(seed_error)?;
        if let (Some(channel), Some(external)) = (&seeded.custom_channel, &seeded.external_id) {
            client.link_custom_channel(&ContactId::new(seeded.id.clone()), channel, external);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ConversationQuery;

    /// Each platform's demo starts, signs in and has an inbox to show.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_platform_has_a_demo_with_conversations() {
        for kind in [
            ProviderKind::Qpien,
            ProviderKind::Superwaba,
            ProviderKind::Dmchamp,
        ] {
            let connection = start_demo(Config::default(), kind, false).await.unwrap();
            assert_eq!(
                connection.provider_label,
                format!("{} sandbox", kind.label())
            );
            connection.provider.authenticate().await.unwrap();
            let page = connection
                .provider
                .list_conversations(&ConversationQuery {
                    limit: 50,
                    ..ConversationQuery::default()
                })
                .await
                .unwrap();
            assert!(
                page.items.len() >= 10,
                "{kind:?}: {} rows",
                page.items.len()
            );
            assert!(
                page.items
                    .iter()
                    .all(|c| !c.contact_name.trim().is_empty() || c.contact_id.is_some()),
                "{kind:?}: rows name their contact"
            );
        }
    }
}
