use super::*;
use secrecy::ExposeSecret;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/tmp/termdesk-test.toml"))
}

const QPIEN: &str = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n";

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn example_config_parses() {
    let text = include_str!("../../config.example.toml");
    let config = parse(text).expect("config.example.toml must stay valid");
    assert_eq!(config.accounts.len(), 3);
    assert_eq!(config.accounts[0].kind(), ProviderKind::Qpien);
    assert_eq!(config.accounts[1].kind(), ProviderKind::Superwaba);
    assert_eq!(config.accounts[2].kind(), ProviderKind::Dmchamp);
    assert_eq!(config.accounts[0].requests_per_minute, 100);
    assert_eq!(config.triage, TriageConfig::default());
    assert_eq!(config.ui, UiConfig::default());
}

#[test]
fn triage_and_ui_settings_default_and_unknown_keys_are_named() {
    let config = parse(QPIEN).unwrap();
    assert_eq!(config.triage.undo_grace_secs, 5);
    assert_eq!(config.triage.sla_minutes, 15);
    assert!(config.ui.mouse && config.ui.bell && !config.ui.desktop_notifications);
    assert_eq!(config.accounts[0].agent, None);
    let config = parse(&format!(
        "{QPIEN}agent = \"me@x.test\"\n[triage]\nundo_grace_secs = 0\n[ui]\nmouse = false\n"
    ))
    .unwrap();
    assert_eq!(config.accounts[0].agent.as_deref(), Some("me@x.test"));
    assert_eq!(config.triage.undo_grace_secs, 0);
    assert!(!config.ui.mouse);
    let err = error(&format!("{QPIEN}[triage]\nundo_grace = 3\n"));
    assert!(err.contains("undo_grace"), "{err}");
}

#[test]
fn requests_per_minute_defaults_and_must_be_positive() {
    let config = parse(QPIEN).unwrap();
    assert_eq!(
        config.accounts[0].requests_per_minute,
        DEFAULT_REQUESTS_PER_MINUTE
    );
    let config = parse(&format!("{QPIEN}requests_per_minute = 40\n")).unwrap();
    assert_eq!(config.accounts[0].requests_per_minute, 40);
    let err = error(&format!("{QPIEN}requests_per_minute = 0\n"));
    assert!(err.contains("accounts[0].requests_per_minute"), "{err}");
    assert!(err.contains("line 7"), "{err}");
}

#[test]
fn wrong_type_names_line_and_key() {
    let err = error(&format!("{QPIEN}poll_interval_secs = \"soon\"\n"));
    assert!(err.contains("line 7"), "{err}");
    assert!(err.contains("accounts[0].poll_interval_secs"), "{err}");
    assert!(err.contains("termdesk-test.toml"), "{err}");
}

#[test]
fn unknown_key_is_rejected_with_its_name() {
    let err = error(&format!("{QPIEN}client_secret_file = \"oops\"\n"));
    assert!(err.contains("client_secret_file"), "{err}");
    assert!(err.contains("line 7"), "{err}");
}

#[test]
fn syntax_error_names_line() {
    let err = error("default_account = \n");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn unknown_provider_is_rejected() {
    let err = error("[[accounts]]\nname = \"w\"\nprovider = \"slack\"\nbase_url = \"http://x\"\n");
    assert!(err.contains("accounts[0].provider"), "{err}");
}

#[test]
fn bad_url_and_duplicates_are_rejected_at_their_line() {
    let err = error(&QPIEN.replace("http://x", "ftp://x"));
    assert!(err.contains("accounts[0].base_url"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    let err = error(&format!("{QPIEN}\n{QPIEN}"));
    assert!(err.contains("unique"), "{err}");
    assert!(err.contains("accounts[1].name"), "{err}");
    assert!(err.contains("line 9"), "{err}");
}

#[test]
fn each_provider_has_its_own_required_keys() {
    // A key of another provider is named, with its line.
    let err = error(&format!("{QPIEN}org_id = \"o\"\n"));
    assert!(err.contains("accounts[0].org_id"), "{err}");
    assert!(err.contains("not a key of provider = \"qpien\""), "{err}");
    assert!(err.contains("line 7"), "{err}");
    let err =
        error("[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nclient_secret_env = \"S\"\n");
    assert!(err.contains("accounts[0].client_id"), "{err}");
    assert!(err.contains("required"), "{err}");
    let err = error("[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nclient_id = \"c\"\n");
    assert!(err.contains("client_secret_env"), "{err}");

    let superwaba = "[[accounts]]\nname = \"s\"\nprovider = \"superwaba\"\norg_id = \"o\"\nsupabase_url = \"https://p.supabase.co\"\nsupabase_anon_key_env = \"A\"\nemail = \"me@x.test\"\npassword_env = \"P\"\n";
    let config = parse(superwaba).unwrap();
    let ProviderSettings::SuperWaba(settings) = &config.accounts[0].provider else {
        panic!("not SuperWaba: {:?}", config.accounts[0].provider);
    };
    assert_eq!(settings.base_url, account::SUPERWABA_BASE_URL);
    assert_eq!(
        settings.developer_base_url,
        account::SUPERWABA_DEVELOPER_BASE_URL
    );
    assert!(
        matches!(&settings.login, SuperWabaLogin::Password { email, .. } if email == "me@x.test")
    );
    assert_eq!(settings.api_key, None);
    let err = error(&superwaba.replace("org_id = \"o\"\n", ""));
    assert!(err.contains("accounts[0].org_id"), "{err}");
    let err = error(&superwaba.replace("password_env = \"P\"\n", ""));
    assert!(err.contains("accounts[0].password_env"), "{err}");
    let refresh = superwaba.replace(
        "email = \"me@x.test\"\npassword_env = \"P\"\n",
        "refresh_token_cmd = \"pass sw\"\n",
    );
    let config = parse(&refresh).unwrap();
    let ProviderSettings::SuperWaba(settings) = &config.accounts[0].provider else {
        panic!()
    };
    assert!(matches!(settings.login, SuperWabaLogin::RefreshToken(_)));
    let err = error(&format!("{superwaba}client_id = \"c\"\n"));
    assert!(err.contains("accounts[0].client_id"), "{err}");
    assert!(err.contains("line 9"), "{err}");

    let dmchamp = "[[accounts]]\nname = \"d\"\nprovider = \"dmchamp\"\napi_key_env = \"K\"\n";
    let config = parse(dmchamp).unwrap();
    assert_eq!(
        config.accounts[0].provider,
        ProviderSettings::DmChamp(DmChampSettings {
            base_url: account::DMCHAMP_BASE_URL.into(),
            api_key: SecretSource {
                key: "api_key",
                value: None,
                env: Some("K".into()),
                cmd: None,
            },
        })
    );
    let err = error("[[accounts]]\nname = \"d\"\nprovider = \"dmchamp\"\n");
    assert!(err.contains("accounts[0].api_key_env"), "{err}");
    let err = error(&format!("{dmchamp}api_key_cmd = \"x\"\n"));
    assert!(
        err.contains("only one of api_key, api_key_env and api_key_cmd"),
        "{err}"
    );
}

#[test]
fn account_names_are_plain_words() {
    let err = error(&QPIEN.replace("name = \"w\"", "name = \"a:b\""));
    assert!(err.contains("accounts[0].name"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn selects_accounts_by_name_default_or_first() {
    let two = format!(
        "default_account = \"b\"\n{}\n{}",
        QPIEN.replace("\"w\"", "\"a\""),
        QPIEN.replace("\"w\"", "\"b\"")
    );
    let config = parse(&two).unwrap();
    assert_eq!(config.select_account(None).unwrap().name, "b");
    assert_eq!(config.select_account(Some("a")).unwrap().name, "a");
    assert!(
        config
            .select_account(Some("c"))
            .unwrap_err()
            .contains("a, b")
    );
    let err = error(&two.replace("default_account = \"b\"", "default_account = \"z\""));
    assert!(err.contains("default_account"), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn secret_from_command_and_missing_secret() {
    let mut source = SecretSource {
        key: "client_secret",
        value: None,
        env: None,
        cmd: Some("echo s3cret".into()),
    };
    assert_eq!(source.resolve("w").unwrap().expose_secret(), "s3cret");
    source.cmd = Some("exit 3".into());
    let err = source.resolve("w").unwrap_err();
    assert!(
        err.contains("exited") && err.contains("client_secret_cmd"),
        "{err}"
    );
    source.cmd = Some("true".into());
    assert!(source.resolve("w").unwrap_err().contains("printed nothing"));
    source.cmd = None;
    source.env = Some("TERMDESK_TEST_SURELY_UNSET_VAR".into());
    let err = source.resolve("w").unwrap_err();
    assert!(err.contains("TERMDESK_TEST_SURELY_UNSET_VAR"), "{err}");
    source.env = None;
    assert!(
        source
            .resolve("w")
            .unwrap_err()
            .contains("client_secret, client_secret_env or client_secret_cmd")
    );
}

#[test]
fn a_secret_written_in_the_file_is_used_and_never_shown() {
    let text = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nclient_id = \"id\"\nclient_secret = \"  inline-s3cret  \"\n";
    let config = parse(text).unwrap();
    assert!(config.holds_secret());
    let ProviderSettings::Qpien(q) = &config.accounts[0].provider else {
        panic!("a Qpien account");
    };
    assert_eq!(
        q.client_secret.resolve("w").unwrap().expose_secret(),
        "inline-s3cret"
    );
    assert!(!format!("{config:?}").contains("inline-s3cret"));
    let err = error(&format!("{text}client_secret_env = \"X\"\n"));
    assert!(err.contains("client_secret_env"), "{err}");
    assert!(err.contains("only one of client_secret"), "{err}");
    assert!(!err.contains("inline-s3cret"), "{err}");
    let empty = error(&text.replace("  inline-s3cret  ", " "));
    assert!(
        empty.contains("client_secret") && empty.contains("empty"),
        "{empty}"
    );
    let other = error(
        "[[accounts]]\nname = \"d\"\nprovider = \"dmchamp\"\nclient_secret = \"x\"\napi_key = \"k\"\n",
    );
    assert!(
        other.contains("client_secret") && other.contains("not a key"),
        "{other}"
    );
    let env_only =
        parse("[[accounts]]\nname = \"d\"\nprovider = \"dmchamp\"\napi_key_env = \"K\"\n").unwrap();
    assert!(!env_only.holds_secret());
}

#[cfg(unix)]
#[test]
fn a_config_holding_a_secret_readable_by_others_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "x").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warning = shared_file_warning(&path).unwrap();
    assert!(
        warning.contains("chmod 600") && warning.contains("644"),
        "{warning}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(shared_file_warning(&path).is_some());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(shared_file_warning(&path), None);
}
