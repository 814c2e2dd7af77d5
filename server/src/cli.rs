//! The `haven` command line. Every failure ends in one line on stderr naming what is
//! wrong and a non-zero exit code, never a panic or a backtrace.

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::startup;
use clap::{Parser, Subcommand};
use haven_migrations::{Migrator, MigratorTrait};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(name = "haven", version, about = "Haven keeps people safe at events run under a code of conduct.")]
pub struct Cli {
    /// A TOML settings file; HAVEN_* environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application (pages, server functions, REST API) on HAVEN_ADDR.
    Serve {
        /// Do not apply pending migrations at start (then /readyz answers 503 until they are).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations (or show or roll them back).
    Migrate {
        /// Only list applied and pending migrations.
        #[arg(long, conflicts_with = "down")]
        status: bool,
        /// Roll back this many of the latest migrations instead.
        #[arg(long, value_name = "N")]
        down: Option<u32>,
    },
    /// Seed a demo organization, an upcoming event and its registrants (idempotent).
    Demo {
        /// Seed only when the database holds no organization yet.
        #[arg(long)]
        if_empty: bool,
        /// Then print a badge token for each answer the door gives in the demo (paste one
        /// into the door page's scanner box and press Enter).
        #[arg(long)]
        door_tokens: bool,
    },
    /// Load and check the settings, then print them with secrets masked.
    CheckConfig,
    /// Import data from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Grant staff roles directly (for appointing the first administrator).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Check the hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Mail that could not be delivered.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Manage encryption keys (field encryption) and badge signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Badge tokens.
    #[command(subcommand)]
    Badge(BadgeCommand),
    /// Door devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Print a one-time sign-in link (15 minutes) for the person with this address, for
    /// an operator on the server's own machine.
    SigninLink {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import registrations from a CSV file with a header naming name and email (and
    /// optionally ticket_ref and role). Every row is checked first: either all are applied
    /// or every bad row is listed and nothing changes. Re-importing changes nothing.
    Registrations {
        /// The event's slug.
        #[arg(long)]
        event: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization. Its responders, organizers and administrators need a second
    /// factor to use their roles (see `haven org security`).
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// Show or change what the organization asks of its staff's sign-in.
    Security {
        /// The organization's slug.
        #[arg(long)]
        org: String,
        /// Whether responders, organizers and administrators need a second factor.
        #[arg(long)]
        second_factor_required: Option<bool>,
        /// Whether a sign-in provider's own multi-factor claim (`amr` with `mfa`) counts as
        /// one.
        #[arg(long)]
        accept_provider_mfa: Option<bool>,
    },
    /// Show or change how many days a resolved or closed case's text is kept before the
    /// daily erasure run erases it (30 to 3650; 365 for a new organization).
    Retention {
        /// The organization's slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Remove the second factor of the person with this address (they lost their phone and
    /// their recovery codes, and no administrator can sign in to do it); they are told by
    /// mail and set up a new one at their next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
    /// Grant a role to the person with this e-mail address (created if unknown).
    Grant {
        /// The organization's slug.
        #[arg(long)]
        org: String,
        /// Limit the role to one event of the organization (admin is organization-wide).
        #[arg(long)]
        event: Option<String>,
        #[arg(long)]
        email: String,
        /// The person's name, if they are new to Haven.
        #[arg(long)]
        name: Option<String>,
        /// responder, escort, door, organizer or admin.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BadgeCommand {
    /// Print the current token of a registration's badge.
    Token {
        #[arg(long)]
        event: String,
        #[arg(long)]
        email: String,
    },
    /// Print the current tokens of every badge of an event, one per line (for printing
    /// pipelines and load tests).
    Tokens {
        #[arg(long)]
        event: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Add a door device for an event and print its token (shown only this once).
    Add {
        #[arg(long)]
        event: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every sealed value under the newest field-encryption key. With a key file
    /// (the default), a new key is added to it first; with HAVEN_ENCRYPTION_KEYS, add the new
    /// key there (last) before running this. Old keys can be removed afterwards.
    Rotate,
    /// Remove an old field-encryption key from the key file, once no sealed value uses it
    /// (run `keys rotate` first; refused before, saying how many values still do). Not the
    /// current key, and not within seconds of the file changing, while running servers
    /// may still be sealing with it.
    RetireFieldKey {
        /// The key's id, as `keys rotate` prints it (e.g. k20261204-3fa2).
        id: String,
    },
    /// Make a new badge signing key for an organization; badges issued from now use it.
    /// Badges signed by older keys keep working until those keys are retired.
    Generate {
        #[arg(long)]
        org: String,
    },
    /// Retire a badge signing key: badges it signed answer `invalid` at the door.
    Retire {
        #[arg(long)]
        org: String,
        #[arg(long)]
        key: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// List mail refused for good (or sign-in links that expired undelivered): when, what
    /// kind, and the recipient's person id; never an address or content.
    Failed,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain of every audit record and print its head (`head: SEQ:HASH`);
    /// exit 1 if any link is broken. Keep the head somewhere else: only a head kept
    /// outside the database shows the chain was cut back or rewritten.
    Verify {
        /// Also fail unless the chain still holds this record (a head printed or mailed
        /// earlier); may be given more than once.
        #[arg(long, value_name = "SEQ:HASH", value_parser = parse_checkpoint)]
        expect: Vec<crate::services::audit::Checkpoint>,
    },
}

fn parse_checkpoint(text: &str) -> Result<crate::services::audit::Checkpoint, String> {
    text.parse()
}

/// Parses the arguments, runs the command, and turns any failure into one line.
pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|_| {
        eprintln!("haven: internal error (this is a bug); the operation did not complete");
    }));
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let text = err.to_string();
            eprintln!("haven: {}", text.lines().next().unwrap_or("failed"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_process(cli.config)?;
    if let crate::cli::Command::CheckConfig = cli.command {
        for (key, value) in settings.describe() {
            println!("{key}={value}");
        }
        return Ok(());
    }
    crate::telemetry::init_logging(&settings);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { no_migrate } => serve(settings, no_migrate).await,
            Command::Migrate { status, down } => migrate(settings, status, down).await,
            Command::Demo { if_empty, door_tokens } => {
                let db = startup::open_database(&settings, true).await?;
                let public_url = settings.public_url_for(settings.addr);
                let shown = settings.clone();
                let services = startup::services(settings, db, Arc::new(SystemClock), public_url).await?;
                let report = crate::demo::seed(&services, if_empty).await?;
                println!("{report}");
                if !report.skipped {
                    println!("{}", crate::demo::how_to_sign_in(&shown));
                }
                if door_tokens {
                    println!("\nDoor page: sign in as door@example.org and open /door/{}", crate::demo::EVENT_SLUG);
                    for (answer, holder, token) in crate::demo::door_examples(&services).await? {
                        println!("  {answer:<14} {holder:<30} {token}");
                    }
                }
                Ok(())
            }
            Command::Keys(KeysCommand::Rotate) => crate::admin::rotate_keys(settings).await,
            Command::Keys(KeysCommand::RetireFieldKey { id }) => crate::admin::retire_field_key(settings, &id).await,
            Command::Keys(KeysCommand::Generate { org }) => crate::admin::generate_badge_key(settings, &org).await,
            Command::Keys(KeysCommand::Retire { org, key }) => {
                crate::admin::retire_badge_key(settings, &org, key).await
            }
            Command::Badge(BadgeCommand::Token { event, email }) => {
                crate::admin::badge_token(settings, &event, &email).await
            }
            Command::Badge(BadgeCommand::Tokens { event }) => crate::admin::badge_tokens(settings, &event).await,
            Command::Device(DeviceCommand::Add { event, name }) => {
                crate::admin::add_device(settings, &event, &name).await
            }
            Command::SigninLink { email } => crate::admin::signin_link(settings, &email).await,
            Command::CheckConfig => unreachable!("handled above"),
            Command::Import(ImportCommand::Registrations { event, file }) => {
                crate::admin::import_registrations(settings, &event, &file).await
            }
            Command::Org(OrgCommand::Create { slug, name }) => crate::admin::create_org(settings, &slug, &name).await,
            Command::Org(OrgCommand::Security { org, second_factor_required, accept_provider_mfa }) => {
                crate::admin::organization_security(settings, &org, second_factor_required, accept_provider_mfa).await
            }
            Command::Org(OrgCommand::Retention { org, days }) => {
                crate::admin::organization_retention(settings, &org, days).await
            }
            Command::Staff(StaffCommand::ResetSecondFactor { email }) => {
                crate::admin::reset_second_factor(settings, &email).await
            }
            Command::Staff(StaffCommand::Grant { org, event, email, name, role }) => {
                crate::admin::grant(settings, &org, event.as_deref(), &email, name.as_deref(), &role).await
            }
            Command::Audit(AuditCommand::Verify { expect }) => crate::admin::verify_audit(settings, &expect).await,
            Command::Mail(MailCommand::Failed) => crate::admin::print_failed_mail(settings).await,
        }
    })
}

async fn serve(mut settings: Settings, no_migrate: bool) -> anyhow::Result<()> {
    if no_migrate {
        settings.migrate_on_start = false;
    }
    let server = startup::build(settings, Arc::new(SystemClock)).await?;
    let addr = server.addr();
    tracing::info!(%addr, "haven is listening");
    eprintln!("haven: serving on http://{addr}");
    server.run_until(shutdown_signal()).await?;
    tracing::info!("haven stopped");
    Ok(())
}

async fn migrate(settings: Settings, status: bool, down: Option<u32>) -> anyhow::Result<()> {
    let db = startup::open_database(&settings, false).await?;
    if status {
        for m in Migrator::get_applied_migrations(&db).await? {
            println!("applied  {}", m.name());
        }
        for m in Migrator::get_pending_migrations(&db).await? {
            println!("pending  {}", m.name());
        }
        return Ok(());
    }
    match down {
        Some(n) => {
            Migrator::down(&db, Some(n)).await?;
            println!("rolled back {n} migration(s)");
        }
        None => {
            let pending = Migrator::get_pending_migrations(&db).await?.len();
            Migrator::up(&db, None).await?;
            println!("applied {pending} migration(s); the schema is current");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
