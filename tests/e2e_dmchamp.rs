//! End-to-end on DM Champ: the real binary in a pseudo-terminal looks a
//! contact up by phone (DM Champ has no conversation list), edits it, and
//! sends it a WhatsApp template; the sandbox holds both.

mod common;

use common::pty::{LONG, Tty, scratch_home, wait};
use termdesk::sandbox::dmchamp::{DEMO_API_KEY, DmChampSandbox, DmChampSandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const CTRL_E: &str = "\x05";
const CTRL_S: &str = "\x13";
const CTRL_T: &str = "\x14";
const CTRL_U: &str = "\x15";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looks_up_edits_and_sends_a_template_to_a_dmchamp_contact() {
    let sandbox =
        DmChampSandbox::start(([127, 0, 0, 1], 0).into(), DmChampSandboxOptions::default())
            .await
            .unwrap();
    let control = sandbox.control();
    let seeded = control
        .sample_contacts(40, Some("whatsapp"))
        .into_iter()
        .find(|c| c.phone.is_some())
        .expect("a WhatsApp contact with a phone");
    let phone = seeded.phone.clone().unwrap();
    let home = scratch_home();
    let config = home.join("termdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nname = \"dm\"\nprovider = \"dmchamp\"\nbase_url = \"{}\"\n\
             api_key_env = \"TERMDESK_E2E_KEY\"\npoll_interval_secs = 1\n",
            sandbox.base_url()
        ),
    )
    .unwrap();
    let config_arg = config.to_string_lossy().to_string();
    let script_control = control.clone();
    let contact_id = seeded.id.clone();
    tokio::task::spawn_blocking(move || {
        let control = script_control;
        let mut tty = Tty::spawn(
            BINARY.as_ref(),
            &["--config", &config_arg],
            &home,
            &[("TERMDESK_E2E_KEY", DEMO_API_KEY)],
            160,
            45,
        );
        tty.wait_for("the inbox", LONG, |s| s.contains("DM Champ"));
        tty.send("C");
        tty.wait_for("the contacts directory", LONG, |s| s.contains("Contacts"));
        tty.send(&phone);
        tty.send("\r");
        tty.wait_for("the contact found by phone", LONG, |s| {
            s.contains("1 of 1 contact") && s.contains(&format!("Phone      {phone}"))
        });
        tty.send(CTRL_E);
        tty.wait_for("the editor", LONG, |s| s.contains("Edit contact"));
        tty.send(CTRL_U);
        tty.send("Deniz");
        tty.send(CTRL_S);
        wait("the new name on the server", || {
            control
                .contact(&contact_id)
                .is_some_and(|c| c.first_name == "Deniz")
        });
        tty.wait_for("the directory again", LONG, |s| s.contains("Deniz"));
        tty.send(CTRL_T);
        tty.wait_for("the template picker", LONG, |s| {
            s.contains("appointment_reminder")
        });
        tty.send("appointment");
        tty.send("\r");
        tty.wait_for("the send form", LONG, |s| s.contains("Ctrl-S"));
        tty.send(CTRL_S);
        wait("the template sent to the contact", || {
            control
                .template_sends()
                .iter()
                .any(|s| s.contact_id == contact_id && s.template_id == "tpl_4410")
        });
        // Quit once every answer is in: nothing left to ask about.
        let cache = home.join("data/termdesk/cache/dm.sqlite");
        wait("the outbox and the contact log to empty", || {
            termdesk::store::db::Db::open_read_only(&cache).is_ok_and(|db| {
                db.load_outbox().is_ok_and(|outbox| outbox.is_empty())
                    && db
                        .load_mutations(termdesk::store::contact_edits::KIND)
                        .is_ok_and(|log| log.is_empty())
            })
        });
        tty.send("\x1b");
        tty.send("q");
        assert!(tty.wait_exit(LONG).success());
        assert_eq!(
            control
                .template_sends()
                .iter()
                .filter(|s| s.contact_id == contact_id)
                .count(),
            1,
            "sent once"
        );
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
}
