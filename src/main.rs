use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use chrono::Utc;
use termdesk::app::AppState;
use termdesk::app::{runtime, startup};
use termdesk::cli;
use termdesk::launch::{self, LaunchOptions};
use termdesk::tui;

/// A keyboard-driven terminal inbox for customer-messaging platforms.
#[derive(Debug, Parser)]
#[command(name = "termdesk", version, about)]
struct Args {
    /// Config file (default: the platform config dir's termdesk/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Account to use (an [[accounts]] name in the config).
    #[arg(long, global = true, value_name = "NAME")]
    account: Option<String>,
    /// Run the built-in demo even when a config file exists.
    #[arg(long, global = true)]
    demo: bool,
    /// Platform the demo (with --demo) or `termdesk sandbox` plays:
    /// qpien, superwaba or dmchamp.
    #[arg(long, global = true, value_name = "PLATFORM", value_parser = parse_provider)]
    provider: Option<termdesk::config::ProviderKind>,
    /// Delete the account's local cache first and sync everything again.
    #[arg(long, global = true)]
    reset_cache: bool,
    /// Log detail: error, warn, info, debug or trace (logs go to a file).
    #[arg(long, global = true, value_name = "LEVEL", default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a local sandbox of a provider's API with seeded data (Qpien's
    /// GraphQL API unless --provider says otherwise).
    #[command(after_help = SANDBOX_FAULTS_HELP)]
    Sandbox {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 7800)]
        port: u16,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Simulate live traffic: new customer messages, delivery progress.
        #[arg(long)]
        live: bool,
        /// Listen on all interfaces instead of 127.0.0.1.
        #[arg(long)]
        public: bool,
        /// Conversations to generate.
        #[arg(long, default_value_t = 320, value_name = "N", value_parser = parse_count)]
        conversations: usize,
        /// Contacts to generate (with --messages: exact counts instead of the demo mix).
        #[arg(long, value_name = "N", value_parser = parse_count)]
        contacts: Option<usize>,
        /// Messages in total, newest conversations getting the longest threads.
        #[arg(long, value_name = "N", value_parser = parse_count)]
        messages: Option<usize>,
        /// Store a new copy for every createMessage, even with a repeated frontMsgId.
        #[arg(long)]
        no_dedup: bool,
        /// Share of writes (0.0–1.0) stored and then answered HTTP 500.
        #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
        lose_answers: f64,
        /// Requests allowed per 60-second window.
        #[arg(long, value_name = "N", default_value_t = 100)]
        rate_limit: u32,
        /// Wait this many milliseconds before handling each API request.
        #[arg(long, value_name = "N")]
        latency_ms: Option<u64>,
        /// Share of API requests (0.0–1.0) answered 503 before anything is
        /// done; which ones is decided by the seed.
        #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
        error_rate: f64,
    },
    /// Conversations of the account.
    Conversations {
        #[command(subcommand)]
        command: ConversationsCommand,
    },
    /// Contacts of the account: list, show, update, create, delete, import
    /// and export.
    Contacts {
        // Boxed: its flags make it far larger than the other commands.
        #[command(subcommand)]
        command: Box<ContactsCommand>,
    },
    /// WhatsApp templates of the account.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Send an approved WhatsApp template into a conversation. Values:
    /// `--var 1=Ayşe` fills body placeholder {{1}} (or a named one:
    /// `--var order_id=A-1`), `--var header=…` a text header's placeholder,
    /// `--var button.0=…` URL button 0, `--header-url` a media header.
    SendTemplate {
        conversation_id: String,
        /// Template name (or id).
        template: String,
        /// Language of the template, e.g. tr or en (needed when the name
        /// exists in several).
        #[arg(long, value_name = "LANG")]
        lang: Option<String>,
        /// A placeholder's value, KEY=VALUE; repeat for each.
        #[arg(long = "var", value_name = "KEY=VALUE", allow_hyphen_values = true)]
        vars: Vec<String>,
        /// Public http(s) address of the image, video or document of a
        /// media header.
        #[arg(long, value_name = "URL")]
        header_url: Option<String>,
        /// Print the sent message as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the newest messages of a conversation, oldest first.
    Messages {
        conversation_id: String,
        #[arg(long, default_value_t = 30)]
        limit: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Search every message and contact name in the account's local cache
    /// (works offline). Any language; accents optional.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Send a text reply into a conversation.
    Send {
        conversation_id: String,
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Assign a conversation to an agent (e-mail, id or unique name), to
    /// `me` (the account's `agent` key) or to `none`.
    Assign {
        conversation_id: String,
        #[arg(value_name = "AGENT|me|none")]
        agent: String,
        /// Print the updated conversation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a conversation's status: open, pending, resolved or closed.
    Status {
        conversation_id: String,
        status: String,
        /// Print the updated conversation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Star a conversation (or unstar it with --off).
    Star {
        conversation_id: String,
        #[arg(long)]
        off: bool,
        /// Print the updated conversation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add and remove tags: `+vip` adds, `-spam` removes (names or ids).
    Tag {
        conversation_id: String,
        #[arg(value_name = "+TAG|-TAG", required = true, allow_hyphen_values = true)]
        changes: Vec<String>,
        /// Print the updated conversation as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConversationsCommand {
    /// List conversations, most recently updated first.
    List {
        #[arg(long, default_value_t = 25)]
        limit: u32,
        /// Only these statuses (open, pending, resolved, closed).
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
        /// Mine (assigned to the account's `agent`), unassigned, or all.
        #[arg(long, value_enum, default_value_t = cli::View::All)]
        view: cli::View,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TemplatesCommand {
    /// List the templates: name, language, category, review status, the
    /// variables each needs and the first line of its body.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ContactsCommand {
    /// List contacts (one page from the server): id, name, phone, e-mail.
    List {
        /// Only contacts whose name, phone, e-mail or username contains this.
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        #[arg(long, default_value_t = 25)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show every field of a contact.
    Show {
        contact_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change fields of a contact; an empty value ("") clears an optional
    /// field. Prints what changed.
    Update {
        contact_id: String,
        #[arg(long, value_name = "NAME")]
        first_name: Option<String>,
        /// Phone number; without + it is read in --country, else in the
        /// account's country ("" clears it).
        #[arg(long, value_name = "NUMBER")]
        phone: Option<String>,
        #[command(flatten)]
        fields: cli::contacts::ContactFlags,
        /// Print the updated contact as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a contact. A phone another contact has is refused, naming it.
    Create {
        #[arg(long, value_name = "NAME")]
        first_name: String,
        /// Phone number; without + it is read in --country, else in the
        /// account's country.
        #[arg(long, value_name = "NUMBER")]
        phone: String,
        #[command(flatten)]
        fields: cli::contacts::ContactFlags,
        /// Print the new contact as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a contact. Its conversations stay, shown as "Unknown contact".
    Delete {
        contact_id: String,
        /// Do not ask (needed when not run at a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Create or update contacts from a CSV file, matched by phone.
    ///
    /// The header row names the columns: first_name, last_name, phone,
    /// email, country, language, gender, tags (separated by ; or |). Empty
    /// cells change nothing. Every row's result goes to FILE.report.csv
    /// beside the file; an interrupted import resumes when run again.
    Import {
        /// The CSV file (UTF-8; `,` `;` or tab between cells).
        file: PathBuf,
        /// Check the file and say what would be created, updated or
        /// skipped, writing nothing to the server.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print every contact of the account as CSV on stdout.
    ///
    /// The columns are the ones `contacts import` reads, so an export
    /// imports back unchanged.
    Export,
}

/// Sandbox sizes: large enough for any sync test, small enough to fit in memory.
fn parse_provider(s: &str) -> Result<termdesk::config::ProviderKind, String> {
    use termdesk::config::ProviderKind;
    match s.trim().to_ascii_lowercase().as_str() {
        "qpien" => Ok(ProviderKind::Qpien),
        "superwaba" => Ok(ProviderKind::Superwaba),
        "dmchamp" => Ok(ProviderKind::Dmchamp),
        _ => Err(format!(
            "`{s}` is not a platform: qpien, superwaba or dmchamp"
        )),
    }
}

fn parse_count(s: &str) -> Result<usize, String> {
    const MAX: usize = 10_000_000;
    match s.trim().parse::<usize>() {
        Ok(n) if n <= MAX => Ok(n),
        _ => Err(format!("`{s}` is not a count between 0 and {MAX}")),
    }
}

const SANDBOX_FAULTS_HELP: &str = "\
Other faults are switched while it runs: POST a JSON object to
/__sandbox/faults (GET /__sandbox/stats shows them and stats.faults_served
counts what fired). Keys:
  delay_ms N             latency before handling (null = none)
  fail_next N            the next N requests answer 503
  error_rate R           share of requests answered 503 before anything is done
  lose_answers R         share of writes stored, then answered 500
  storm_next N           the next N requests answer 429 (Retry-After,
  storm_retry_after_s S    X-RateLimit-*; S defaults to 2)
  expire_tokens true     issued access tokens expire (DM Champ: no tokens)
  revoke_tokens true     issued tokens are refused (DM Champ: no tokens)
  reject_credentials B   sign-in refused while true (client credentials,
                           password grant, API key)
  malformed_json_next N  the next N answers are 200 with a body that is not JSON
  truncate_next N        the next N answers stop halfway through the body
  hang_next N            the next N answers stop after the first half, never end
  partial_errors_next N  Qpien: the next N answers lose one root field to an error
  wrong_type_every N     every N-th list row has a field of the wrong type
  offline B              connections cut (the control routes keep working)
  rate_limit N, rate_window_ms N   the regular limiter
  reset true             clear the faults (not rate limit, offline, dedup)";

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("`{s}` is not a rate between 0.0 and 1.0")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = match termdesk::logging::init(&args.log_level) {
        Ok(guard) => Some(guard),
        Err(err) => {
            eprintln!("termdesk: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("termdesk: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(args));
    tracing::debug!("shutting down");
    // Work still running on blocking threads (a cache read) must not keep a
    // quitting termdesk alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    tracing::debug!("shut down");
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("termdesk: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let options = LaunchOptions {
        config_path: args.config.clone(),
        account: args.account.clone(),
        demo: args.demo,
        demo_provider: args.provider,
        live: false,
    };
    match args.command {
        Some(Command::Sandbox {
            port,
            seed,
            live,
            public,
            conversations,
            contacts,
            messages,
            no_dedup,
            lose_answers,
            rate_limit,
            latency_ms,
            error_rate,
        }) => {
            let faults = cli::sandboxes::StartFaults {
                latency: latency_ms.map(std::time::Duration::from_millis),
                error_rate,
            };
            let host = if public { [0, 0, 0, 0] } else { [127, 0, 0, 1] };
            match args.provider {
                Some(termdesk::config::ProviderKind::Dmchamp) => {
                    let options = termdesk::sandbox::dmchamp::DmChampSandboxOptions {
                        seed,
                        live,
                        contacts: contacts.unwrap_or(conversations),
                        lose_answer_rate: lose_answers,
                        rate_limit,
                        ..Default::default()
                    };
                    return cli::sandboxes::run_dmchamp(host, port, options, faults).await;
                }
                Some(termdesk::config::ProviderKind::Superwaba) => {
                    let options = termdesk::sandbox::superwaba::SuperWabaSandboxOptions {
                        seed,
                        live,
                        conversations,
                        contacts: contacts.unwrap_or(conversations),
                        lose_answer_rate: lose_answers,
                        rate_limit,
                        ..Default::default()
                    };
                    return cli::sandboxes::run_superwaba(host, port, options, faults).await;
                }
                Some(termdesk::config::ProviderKind::Qpien) | None => {}
            }
            let options = termdesk::sandbox::SandboxOptions {
                seed,
                live,
                conversations,
                contacts: contacts.unwrap_or(0),
                messages: messages.unwrap_or(0),
                dedup_front_msg_id: !no_dedup,
                lose_answer_rate: lose_answers,
                rate_limit,
                ..termdesk::sandbox::SandboxOptions::default()
            };
            cli::run_sandbox(host, port, options, faults).await
        }
        Some(Command::Conversations {
            command:
                ConversationsCommand::List {
                    limit,
                    status,
                    view,
                    json,
                },
        }) => {
            let statuses = cli::parse_statuses(&status)?;
            let plan = plan_for_cli(&options)?;
            let me = match view {
                cli::View::Mine => {
                    Some(cli::require_me(plan.agent(), &plan.label, "`--view mine`")?)
                }
                _ => None,
            };
            let connection = connect_for_cli(plan).await?;
            cli::list_conversations(
                connection.provider.as_ref(),
                limit,
                statuses,
                view,
                me.as_deref(),
                json,
            )
            .await
        }
        Some(Command::Assign {
            conversation_id,
            agent,
            json,
        }) => {
            let id = cli::conversation_id(&conversation_id)?;
            let assignee = cli::parse_assignee(&agent)?;
            let plan = plan_for_cli(&options)?;
            let me = match assignee {
                cli::Assignee::Me => Some(cli::require_me(plan.agent(), &plan.label, "`me`")?),
                _ => None,
            };
            let connection = connect_for_cli(plan).await?;
            cli::assign(
                connection.provider.as_ref(),
                &id,
                &assignee,
                me.as_deref(),
                json,
            )
            .await
        }
        Some(Command::Status {
            conversation_id,
            status,
            json,
        }) => {
            let id = cli::conversation_id(&conversation_id)?;
            let status = cli::parse_status(&status)?;
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::set_status(connection.provider.as_ref(), &id, status, json).await
        }
        Some(Command::Star {
            conversation_id,
            off,
            json,
        }) => {
            let id = cli::conversation_id(&conversation_id)?;
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::star(connection.provider.as_ref(), &id, !off, json).await
        }
        Some(Command::Tag {
            conversation_id,
            changes,
            json,
        }) => {
            let id = cli::conversation_id(&conversation_id)?;
            let (changes, json_after) = cli::split_tag_args(&changes)?;
            let json = json || json_after;
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::tag(connection.provider.as_ref(), &id, &changes, json).await
        }
        Some(Command::Contacts { command }) => run_contacts(*command, &options).await,
        Some(Command::Templates {
            command: TemplatesCommand::List { json },
        }) => {
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::templates::list(connection.provider.as_ref(), json).await
        }
        Some(Command::SendTemplate {
            conversation_id,
            template,
            lang,
            vars,
            header_url,
            json,
        }) => {
            // Checked before connecting: a malformed value costs no request.
            let request = cli::templates::parse_send(
                &conversation_id,
                &template,
                lang.as_deref(),
                &vars,
                header_url.as_deref(),
                json,
            )?;
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::templates::send(connection.provider.as_ref(), &request).await
        }
        Some(Command::Messages {
            conversation_id,
            limit,
            json,
        }) => {
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::show_messages(connection.provider.as_ref(), &conversation_id, limit, json).await
        }
        Some(Command::Search { query, limit, json }) => {
            let plan = plan_for_cli(&options)?;
            if plan.is_demo {
                return Err(
                    "the demo keeps no cache between runs: search inside termdesk with Ctrl-F, \
                     or configure an account"
                        .into(),
                );
            }
            let place = plan.cache_place()?;
            cli::search(&place.path(), &query, limit, json)
        }
        Some(Command::Send {
            conversation_id,
            text,
            json,
        }) => {
            let connection = connect_for_cli(plan_for_cli(&options)?).await?;
            cli::send(connection.provider.as_ref(), &conversation_id, &text, json).await
        }
        None => {
            run_tui(
                LaunchOptions {
                    live: true,
                    ..options
                },
                args.reset_cache,
            )
            .await
        }
    }
}

/// Every value is checked before connecting: a refused command makes no
/// request.
async fn run_contacts(command: ContactsCommand, options: &LaunchOptions) -> Result<(), String> {
    use cli::contacts;
    let plan = launch::plan(options)?;
    let country = plan.country();
    match command {
        ContactsCommand::List {
            search,
            limit,
            json,
        } => {
            let connection = connect_for_cli(plan).await?;
            contacts::list(connection.provider.as_ref(), search.as_deref(), limit, json).await
        }
        ContactsCommand::Show { contact_id, json } => {
            let id = contacts::contact_id(&contact_id)?;
            let connection = connect_for_cli(plan).await?;
            contacts::show(connection.provider.as_ref(), &id, json).await
        }
        ContactsCommand::Update {
            contact_id,
            first_name,
            phone,
            fields,
            json,
        } => {
            let id = contacts::contact_id(&contact_id)?;
            let changes = contacts::update_changes(
                first_name.as_deref(),
                phone.as_deref(),
                &fields,
                country.as_deref(),
            )?;
            let connection = connect_for_cli(plan).await?;
            contacts::update(connection.provider.as_ref(), &id, &changes, json).await
        }
        ContactsCommand::Create {
            first_name,
            phone,
            fields,
            json,
        } => {
            let fields = contacts::new_contact(&first_name, &phone, &fields, country.as_deref())?;
            let connection = connect_for_cli(plan).await?;
            contacts::create(connection.provider.as_ref(), &fields, json).await
        }
        ContactsCommand::Delete { contact_id, yes } => {
            let id = contacts::contact_id(&contact_id)?;
            contacts::check_delete_confirmation(yes)?;
            let connection = connect_for_cli(plan).await?;
            contacts::delete(connection.provider.as_ref(), &id, yes).await
        }
        ContactsCommand::Import { file, dry_run } => {
            let csv = cli::contacts_csv::load(&file)?;
            let connection = connect_for_cli(plan).await?;
            let provider = connection.provider.as_ref();
            cli::contacts_csv::import(provider, &file, &csv, country.as_deref(), dry_run).await
        }
        ContactsCommand::Export => {
            let connection = connect_for_cli(plan).await?;
            cli::contacts_csv::export(connection.provider.as_ref()).await
        }
    }
}

async fn run_tui(options: LaunchOptions, reset_cache: bool) -> Result<(), String> {
    let plan = launch::plan_inbox(&options)?;
    // A mistake in `[keys]` stops the start, before the terminal changes.
    let keymap = termdesk::app::keymap::Keymap::from_config(
        plan.config.composer.send_key,
        &plan.config.keys,
    )
    .map_err(|err| {
        let file = options
            .config_path
            .clone()
            .or_else(termdesk::config::Config::default_path)
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| "config".into());
        format!("config file {file}: {err}")
    })?;
    let cache_place = plan.cache_place()?;
    let cache_path = cache_place.path();
    if reset_cache && termdesk::store::cache::reset(&cache_path)? {
        eprintln!("termdesk: removed the cache {}", cache_path.display());
    }
    let shutdown = runtime::shutdown_signal();
    tui::set_mouse(plan.config.ui.mouse);
    tui::set_desktop_notifications(plan.config.ui.desktop_notifications);
    let (mut terminal, guard) =
        tui::enter().map_err(|err| format!("cannot start the terminal UI: {err}"))?;
    let size = terminal.size().map_err(|err| err.to_string())?;
    let mut state = AppState::new(
        plan.label.clone(),
        plan.provider_label.clone(),
        plan.is_demo,
        plan.config.composer.send_key,
        Utc::now(),
        (size.width, size.height),
    );
    state.keymap = keymap;
    state.triage = plan.config.triage.clone();
    state.bell = plan.config.ui.bell;
    state.me_hint = plan.agent();
    state.account_country = plan.country();
    let (canned, canned_error) = plan.canned_replies();
    if let Some(error) = &canned_error {
        state.notify(
            termdesk::app::state::NoticeLevel::Warning,
            format!("Canned replies not loaded: {error}"),
        );
    }
    state.canned = canned;
    state.canned_error = canned_error;
    for warning in &plan.warnings {
        state.notify(
            termdesk::app::state::NoticeLevel::Warning,
            format!("Warning: {warning}"),
        );
    }
    let storage = startup::open_cache(&cache_path, &mut state);
    // Paint before connecting: the cached inbox shows at once, even offline.
    runtime::draw_if_dirty(&mut terminal, &mut state).map_err(|err| err.to_string())?;
    // Debug builds only: lets the end-to-end tests prove a panic leaves the
    // terminal usable.
    #[cfg(debug_assertions)]
    if std::env::var_os("TERMDESK_TEST_PANIC").is_some() {
        panic!("deliberate panic requested by TERMDESK_TEST_PANIC");
    }
    let (accounts, demo_sandbox) = launch::connect_inbox(plan).await?;
    let result = runtime::run_accounts(
        &mut terminal,
        &mut runtime::CrosstermHost,
        &mut state,
        accounts,
        storage,
        shutdown,
    )
    .await;
    drop(demo_sandbox);
    drop(guard);
    tracing::debug!("terminal restored");
    drop(cache_place);
    result.map_err(|err| format!("terminal error: {err}"))
}

/// The launch plan for a command-line command, its warnings on stderr.
fn plan_for_cli(options: &LaunchOptions) -> Result<launch::LaunchPlan, String> {
    let plan = launch::plan(options)?;
    for warning in &plan.warnings {
        eprintln!("termdesk: warning: {warning}");
    }
    Ok(plan)
}

async fn connect_for_cli(plan: launch::LaunchPlan) -> Result<launch::Connection, String> {
    let connection = launch::connect_plan(plan).await?;
    if connection.is_demo() {
        eprintln!("termdesk: no config file; using the demo sandbox (see `termdesk --help`).");
    }
    connection
        .provider
        .authenticate()
        .await
        .map_err(|err| err.to_string())?;
    Ok(connection)
}
