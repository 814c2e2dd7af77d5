//! The operator's commands behind `haven import`, `haven org`, `haven staff` and
//! `haven audit`. They go through the same services as the web pages.

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::db::entities::{event, organization};
use crate::services::registrations::Phase;
use crate::services::{Services, audit, auth, staff};
use crate::startup;
use anyhow::{Context, bail};
use haven_app::api::AppError;
use haven_app::domain::{DisplayName, EmailAddress, Role, Slug};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

async fn open(settings: Settings) -> anyhow::Result<Arc<Services>> {
    let db = startup::open_database(&settings, true).await?;
    let public_url = settings.public_url_for(settings.addr);
    Ok(startup::services(settings, db, Arc::new(SystemClock), public_url).await?)
}

/// Explains an API error on stderr, one problem per line.
fn explain(err: AppError) -> anyhow::Error {
    match err {
        AppError::Invalid(problems) => {
            for p in &problems {
                eprintln!("  {p}");
            }
            anyhow::anyhow!("{} problem(s) found above; nothing was changed", problems.len())
        }
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn import_registrations(settings: Settings, slug: &str, file: &Path) -> anyhow::Result<()> {
    let services = open(settings).await?;
    let e = event::Entity::find()
        .filter(event::Column::Slug.eq(slug))
        .one(&services.store.db)
        .await?
        .with_context(|| format!("no event with the slug {slug:?}"))?;
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8(text).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() },
    );
    bar.set_style(ProgressStyle::with_template("{msg:10} [{bar:40}] {pos}/{len}").expect("a valid template"));
    let progress = |phase: Phase, done: u64, total: u64| {
        bar.set_message(match phase {
            Phase::Checking => "checking",
            Phase::Writing => "writing",
        });
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = services.import_csv(None, &e, &text, &progress).await.map_err(explain)?;
    bar.finish_and_clear();
    println!("imported {} registration(s); {} already registered", report.created, report.unchanged);
    Ok(())
}

pub async fn create_org(settings: Settings, slug: &str, name: &str) -> anyhow::Result<()> {
    let slug = Slug::parse("--slug", slug)?;
    let name = DisplayName::parse("--name", name)?;
    let services = open(settings).await?;
    let now = services.clock.now();
    let tx = services.begin().await?;
    if organization::Entity::find().filter(organization::Column::Slug.eq(slug.as_str())).one(&*tx).await?.is_some() {
        bail!("an organization with the slug {slug} already exists");
    }
    let id = Uuid::new_v4();
    organization::Entity::insert(organization::ActiveModel {
        id: Set(id),
        slug: Set(slug.as_str().to_owned()),
        name: Set(name.as_str().to_owned()),
        created_at: Set(now),
        second_factor_required: Set(true),
        accept_provider_mfa: Set(false),
        retention_days: Set(365),
    })
    .exec(&*tx)
    .await?;
    audit::append(&tx, now, vec![audit::Entry::new(None, "organization.created", "organization", id)]).await?;
    tx.commit().await?;
    println!("created the organization {slug}");
    Ok(())
}

pub async fn grant(
    settings: Settings,
    org: &str,
    event_slug: Option<&str>,
    email: &str,
    name: Option<&str>,
    role: &str,
) -> anyhow::Result<()> {
    let email = EmailAddress::parse("--email", email)?;
    let role = Role::parse("--role", role)?;
    let services = open(settings).await?;
    let db = &services.store.db;
    let o = organization::Entity::find()
        .filter(organization::Column::Slug.eq(org))
        .one(db)
        .await?
        .with_context(|| format!("no organization with the slug {org:?}"))?;
    let event_id = match event_slug {
        None => None,
        Some(_) if role == Role::Admin => {
            bail!("admin is an organization-wide role; leave out --event")
        }
        Some(slug) => Some(
            event::Entity::find()
                .filter(event::Column::Slug.eq(slug))
                .filter(event::Column::OrganizationId.eq(o.id))
                .one(db)
                .await?
                .with_context(|| format!("no event {slug:?} in the organization {org:?}"))?
                .id,
        ),
    };
    let name = DisplayName::parse("--name", name.unwrap_or(email.as_str().split('@').next().unwrap_or("Staff")))?;
    let now = services.clock.now();
    let tx = services.begin().await?;
    let (p, _) = auth::person_for_email(&tx, now, None, &name, &email).await?;
    tx.commit().await?;
    let granted = staff::grant(&services, p.id, o.id, event_id, role).await?;
    println!("{}", if granted { "role granted" } else { "that role was already held; nothing changed" });
    Ok(())
}

pub async fn verify_audit(settings: Settings, expect: &[audit::Checkpoint]) -> anyhow::Result<()> {
    let db = startup::open_database(&settings, false).await?;
    match audit::verify_against(&db, expect).await? {
        (audit::Verification::Intact { records }, head) => {
            println!("the audit log is intact: {records} record(s), every link verified");
            for c in expect {
                println!("it holds the checkpoint {c}");
            }
            println!("head: {head}");
            Ok(())
        }
        (audit::Verification::Broken { seq, problem }, _) => {
            bail!("the audit log is broken at record {seq}: {problem}")
        }
    }
}

/// One message the mail servers refused for good, as the operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMail {
    pub failed_at: chrono::DateTime<chrono::Utc>,
    pub kind: String,
    /// The person the recipient's address belongs to, if anyone.
    pub person: Option<uuid::Uuid>,
}

/// Mail marked failed, oldest first.
pub async fn failed_mail(db: &sea_orm::DatabaseConnection) -> anyhow::Result<Vec<FailedMail>> {
    use crate::db::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let rows = outbox::Entity::find()
        .filter(outbox::Column::FailedAt.is_not_null())
        .order_by_asc(outbox::Column::FailedAt)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let person = match EmailAddress::parse("to", &row.to_address) {
            Ok(a) => auth::person_by_address(db, &a.normalized()).await?.map(|p| p.id),
            Err(_) => None,
        };
        out.push(FailedMail { failed_at: row.failed_at.unwrap_or(row.created_at), kind: row.kind, person });
    }
    Ok(out)
}

pub async fn print_failed_mail(settings: Settings) -> anyhow::Result<()> {
    let db = startup::open_database(&settings, false).await?;
    let failed = failed_mail(&db).await?;
    for m in &failed {
        let who = m.person.map_or_else(|| "no known person".to_owned(), |p| format!("person {p}"));
        println!("{}  {}  {who}", m.failed_at.format("%Y-%m-%dT%H:%M:%SZ"), m.kind);
    }
    eprintln!("{} message(s) failed for good", failed.len());
    Ok(())
}

pub async fn signin_link(settings: Settings, email: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse("--email", email)?;
    let services = open(settings).await?;
    let person = auth::person_by_address(&services.store.db, &email.normalized())
        .await?
        .with_context(|| format!("no one with the address {email} is known to Haven"))?;
    let tx = services.begin().await?;
    let token = auth::create_login_link(&tx, person.id, services.clock.now()).await?;
    tx.commit().await?;
    println!("{}/auth/link/{token}", services.public_url);
    Ok(())
}

/// `haven keys rotate`: see [`crate::cli::KeysCommand::Rotate`].
pub async fn rotate_keys(settings: Settings) -> anyhow::Result<()> {
    use crate::config::EncryptionSettings;
    use crate::crypto::fields::{read_source, replace_key_file};

    let db = startup::open_database(&settings, true).await?;
    let mut ring = read_source(&settings.encryption).map_err(|e| anyhow::anyhow!(e))?;
    if let EncryptionSettings::File(path) = &settings.encryption {
        // The file gains the new key before any value uses it, so every value stays
        // readable even if this command stops half-way.
        ring.add_fresh_key(chrono::Utc::now());
        replace_key_file(path, &ring).map_err(|e| anyhow::anyhow!(e))?;
    }
    let changed = crate::crypto::rewrap::reseal_all(&db, &ring).await?;
    let keys: Vec<&str> = ring.ids().collect();
    println!(
        "re-encrypted {changed} value(s) under the key {} (data keys re-wrapped, case text left as it is); keys configured: {}",
        ring.current_id(),
        keys.join(", ")
    );
    Ok(())
}

/// `haven keys retire-field-key`: see [`crate::cli::KeysCommand::RetireFieldKey`].
pub async fn retire_field_key(settings: Settings, id: &str) -> anyhow::Result<()> {
    use crate::config::EncryptionSettings;
    use crate::crypto::fields::{RELOAD_EVERY, read_source, replace_key_file};

    let mut ring = read_source(&settings.encryption).map_err(|e| anyhow::anyhow!(e))?;
    let configured = ring.ids().collect::<Vec<_>>().join(", ");
    if !ring.ids().any(|k| k == id) {
        anyhow::bail!("no field key {id:?} is configured; keys: {configured}");
    }
    if ring.current_id() == id {
        anyhow::bail!("{id} is the key that seals new values: run `haven keys rotate` first, then retire it");
    }
    if let EncryptionSettings::File(path) = &settings.encryption {
        // A running server looks at the key file every RELOAD_EVERY: until it has, it may
        // still seal new values with the key that was current before.
        let age = std::fs::metadata(path)?.modified()?.elapsed().unwrap_or_default();
        let settle = RELOAD_EVERY * 2;
        if age < settle {
            anyhow::bail!(
                "the key file changed {} s ago; running servers may still seal with {id}: try again in {} s",
                age.as_secs(),
                (settle - age).as_secs() + 1
            );
        }
    }
    let db = startup::open_database(&settings, true).await?;
    let users = crate::crypto::rewrap::sealed_with(&db, id).await?;
    if !users.is_empty() {
        let total: i64 = users.iter().map(|(_, n)| n).sum();
        let where_: Vec<String> = users.iter().map(|(place, n)| format!("{n} in {place}")).collect();
        anyhow::bail!(
            "{total} value(s) are still sealed with {id} ({}): run `haven keys rotate` to re-seal them, then retire it",
            where_.join(", ")
        );
    }
    match &settings.encryption {
        EncryptionSettings::File(path) => {
            ring.remove(id);
            replace_key_file(path, &ring).map_err(|e| anyhow::anyhow!(e))?;
            let left: Vec<&str> = ring.ids().collect();
            println!("retired field key {id}: no value used it; keys configured: {}", left.join(", "));
        }
        EncryptionSettings::Inline(_) => {
            println!("no value is sealed with {id}: remove it from HAVEN_ENCRYPTION_KEYS and restart");
        }
    }
    Ok(())
}

async fn event_named(services: &Services, slug: &str) -> anyhow::Result<event::Model> {
    event::Entity::find()
        .filter(event::Column::Slug.eq(slug))
        .one(&services.store.db)
        .await?
        .with_context(|| format!("no event with the slug {slug:?}"))
}

async fn organization_named(services: &Services, slug: &str) -> anyhow::Result<organization::Model> {
    organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(&services.store.db)
        .await?
        .with_context(|| format!("no organization with the slug {slug:?}"))
}

pub async fn generate_badge_key(settings: Settings, org: &str) -> anyhow::Result<()> {
    let services = open(settings).await?;
    let o = organization_named(&services, org).await?;
    let id = services.generate_badge_key(o.id).await.map_err(explain)?;
    println!("generated badge key {id} for {org}; new badges are signed with it");
    Ok(())
}

pub async fn retire_badge_key(settings: Settings, org: &str, key: u32) -> anyhow::Result<()> {
    let services = open(settings).await?;
    let o = organization_named(&services, org).await?;
    services.retire_badge_key(o.id, key).await.map_err(|e| match e {
        AppError::NotFound => anyhow::anyhow!("the organization {org} has no badge key {key}"),
        other => explain(other),
    })?;
    println!("retired badge key {key}; badges it signed are refused until replaced");
    Ok(())
}

pub async fn badge_token(settings: Settings, slug: &str, email: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse("--email", email)?;
    let services = open(settings).await?;
    let e = event_named(&services, slug).await?;
    services.badges().issue_missing_badges(&e).await.map_err(explain)?;
    let person = auth::person_by_address(&services.store.db, &email.normalized())
        .await?
        .with_context(|| format!("no one with the address {email} is registered for {slug}"))?;
    let r = crate::db::entities::registration::Entity::find()
        .filter(crate::db::entities::registration::Column::EventId.eq(e.id))
        .filter(crate::db::entities::registration::Column::PersonId.eq(person.id))
        .one(&services.store.db)
        .await?
        .with_context(|| format!("no one with the address {email} is registered for {slug}"))?;
    let b = services.live_badge(r.id).await.map_err(explain)?.context("the registration has no live badge")?;
    println!("{}", services.badge_token(&b, e.organization_id).await.map_err(explain)?);
    Ok(())
}

pub async fn badge_tokens(settings: Settings, slug: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let services = open(settings).await?;
    let e = event_named(&services, slug).await?;
    services.badges().issue_missing_badges(&e).await.map_err(explain)?;
    let badges = crate::db::entities::badge::Entity::find()
        .filter(crate::db::entities::badge::Column::EventId.eq(e.id))
        .filter(crate::db::entities::badge::Column::RevokedAt.is_null())
        .all(&services.store.db)
        .await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for b in badges {
        writeln!(out, "{}", services.badge_token(&b, e.organization_id).await.map_err(explain)?)?;
    }
    Ok(())
}

pub async fn add_device(settings: Settings, slug: &str, name: &str) -> anyhow::Result<()> {
    let services = open(settings).await?;
    let e = event_named(&services, slug).await?;
    let (_, token) = services.add_device(None, &e, name).await.map_err(explain)?;
    eprintln!("added the door device {name:?} for {slug}; its token (shown only now):");
    println!("{token}");
    Ok(())
}

/// `haven org security`: see [`crate::cli::OrgCommand::Security`].
pub async fn organization_security(
    settings: Settings,
    org: &str,
    required: Option<bool>,
    accept_provider_mfa: Option<bool>,
) -> anyhow::Result<()> {
    let services = open(settings).await?;
    let o = organization_named(&services, org).await?;
    let policy = haven_app::api::OrganizationSecurity {
        second_factor_required: required.unwrap_or(o.second_factor_required),
        accept_provider_mfa: accept_provider_mfa.unwrap_or(o.accept_provider_mfa),
    };
    if required.is_some() || accept_provider_mfa.is_some() {
        services.set_security(None, o.id, policy).await.map_err(explain)?;
    }
    println!(
        "{org}: second factor {}; a sign-in provider's multi-factor claim {}",
        if policy.second_factor_required { "required" } else { "not required" },
        if policy.accept_provider_mfa { "counts" } else { "does not count" },
    );
    Ok(())
}

/// `haven org retention`: see [`crate::cli::OrgCommand::Retention`].
pub async fn organization_retention(settings: Settings, org: &str, days: Option<u32>) -> anyhow::Result<()> {
    let services = open(settings).await?;
    let o = organization_named(&services, org).await?;
    if let Some(days) = days {
        services.set_retention_days(None, o.id, days).await.map_err(explain)?;
    }
    println!("{org}: a resolved or closed case's text is kept {} days", days.unwrap_or(o.retention_days.max(0) as u32));
    Ok(())
}

/// `haven staff reset-second-factor`: see [`crate::cli::StaffCommand::ResetSecondFactor`].
pub async fn reset_second_factor(settings: Settings, email: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse("--email", email)?;
    let services = open(settings).await?;
    let p = crate::services::auth::person_by_address(&services.store.db, &email.normalized())
        .await?
        .with_context(|| format!("nobody signs in with {email}"))?;
    if services.remove_second_factor(None, p.id).await.map_err(explain)? {
        println!("removed the second factor of {email}; they were told by mail");
    } else {
        println!("{email} had no second factor");
    }
    Ok(())
}
