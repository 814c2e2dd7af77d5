//! Registrations: listing, adding one, and importing many from CSV.
//!
//! An import checks every row before it writes anything and either applies all of them
//! or reports every bad row by line number and changes nothing. Rows already registered
//! (same ticket reference, or same person by normalized e-mail) are left as they are, so
//! importing the same file twice changes nothing.

mod csv;

use csv::line_error;
pub use csv::{ImportRow, parse_csv};
use haven_app::domain::Slug;

use super::{Services, audit};
use crate::db::entities::{event, identity, person, registration};
use chrono::{DateTime, Utc};
use haven_app::api::RegistrationsApi;
use haven_app::api::{Actor, AppError, ImportReport, RegistrationPage, RegistrationRow};
use haven_app::domain::{DomainError, NewRegistration};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

const PAGE_SIZE: u64 = 50;
/// More rows than this belong in the CLI (`haven import registrations`).
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// Where an import is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Checking,
    Writing,
}

pub type Progress<'a> = &'a (dyn Fn(Phase, u64, u64) + Sync);

/// Applies parsed rows to an event inside `tx`: every row is checked against the existing
/// registrations first; on any conflict nothing is written and the conflicts are returned.
pub async fn apply(
    tx: &crate::services::work::Work<'_>,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    e: &event::Model,
    rows: Vec<ImportRow>,
    progress: Progress<'_>,
) -> Result<Result<(ImportReport, Vec<Uuid>), Vec<DomainError>>, DbErr> {
    let total = rows.len() as u64;
    // What is already registered: by ticket reference and by normalized e-mail.
    let existing = registration::Entity::find()
        .filter(registration::Column::EventId.eq(e.id))
        .find_also_related(person::Entity)
        .all(&**tx)
        .await?;
    let mut by_ticket: HashMap<String, Option<String>> = HashMap::new();
    let mut by_email: HashMap<String, Option<String>> = HashMap::new();
    // A registrant's further sign-in addresses stand for them as well.
    let mut further: HashMap<Uuid, Vec<String>> = HashMap::new();
    let registered: Vec<Uuid> = existing.iter().map(|(r, _)| r.person_id).collect();
    for chunk in registered.chunks(500) {
        for i in identity::Entity::find()
            .filter(identity::Column::Provider.eq(super::auth::EMAIL_PROVIDER))
            .filter(identity::Column::PersonId.is_in(chunk.to_vec()))
            .all(&**tx)
            .await?
        {
            further.entry(i.person_id).or_default().push(i.subject);
        }
    }
    for (r, p) in existing {
        let email = p.and_then(|p| p.email_normalized);
        if let Some(t) = &r.ticket_ref {
            by_ticket.insert(t.clone(), email.clone());
        }
        for em in email.into_iter().chain(further.remove(&r.person_id).unwrap_or_default()) {
            by_email.insert(em, r.ticket_ref.clone());
        }
    }
    let mut errors = Vec::new();
    let mut to_create = Vec::new();
    let mut unchanged = 0u32;
    for (i, row) in rows.into_iter().enumerate() {
        if i % 1000 == 0 {
            progress(Phase::Checking, i as u64, total);
        }
        let email = row.registration.email.normalized();
        let ticket = row.registration.ticket_ref.as_ref().map(|t| t.as_str().to_owned());
        match (&ticket, ticket.as_ref().and_then(|t| by_ticket.get(t))) {
            (Some(_), Some(holder)) if holder.as_deref() == Some(email.as_str()) => unchanged += 1,
            (Some(_), Some(_)) => {
                errors.push(line_error(row.line, "ticket_ref", "belongs to another registration of this event"));
            }
            _ => match by_email.get(&email) {
                Some(Some(existing_ticket)) if ticket.as_ref().is_some_and(|t| t != existing_ticket) => {
                    errors.push(line_error(row.line, "email", "is already registered with another ticket reference"));
                }
                Some(_) => unchanged += 1,
                None => to_create.push(row),
            },
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }

    // People: reuse whoever has the address; create the rest.
    let emails: Vec<String> = to_create.iter().map(|r| r.registration.email.normalized()).collect();
    let mut people: HashMap<String, Uuid> = HashMap::new();
    for chunk in emails.chunks(500) {
        for p in person::Entity::find().filter(person::Column::EmailNormalized.is_in(chunk.to_vec())).all(&**tx).await?
        {
            if let Some(em) = p.email_normalized {
                people.insert(em, p.id);
            }
        }
        for i in identity::Entity::find()
            .filter(identity::Column::Provider.eq(super::auth::EMAIL_PROVIDER))
            .filter(identity::Column::Subject.is_in(chunk.to_vec()))
            .all(&**tx)
            .await?
        {
            people.entry(i.subject).or_insert(i.person_id);
        }
    }
    // Two rows may name one person by two of their addresses: one registration.
    let mut registering: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    let mut new_people = Vec::new();
    let mut new_regs = Vec::new();
    let mut entries = Vec::new();
    for row in &to_create {
        let r = &row.registration;
        let email = r.email.normalized();
        let person_id = *people.entry(email.clone()).or_insert_with(|| {
            let id = Uuid::new_v4();
            new_people.push(person::ActiveModel {
                id: Set(id),
                display_name: Set(r.name.as_str().to_owned()),
                email: Set(Some(r.email.as_str().to_owned())),
                email_normalized: Set(Some(email.clone())),
                created_at: Set(now),
                phone: Set(r.phone.as_ref().map(|p| p.as_str().to_owned())),
            });
            entries.push(audit::Entry::new(actor, "person.created", "person", id));
            id
        });
        if !registering.insert(person_id) {
            unchanged += 1;
            continue;
        }
        let id = Uuid::new_v4();
        new_regs.push(registration::ActiveModel {
            id: Set(id),
            event_id: Set(e.id),
            person_id: Set(person_id),
            ticket_ref: Set(r.ticket_ref.as_ref().map(|t| t.as_str().to_owned())),
            role: Set(r.role.clone()),
            status: Set("active".to_owned()),
            created_at: Set(now),
            refund_forfeited_at: Set(None),
            forfeited_by: Set(None),
        });
        entries.push(
            audit::Entry::new(actor, "registration.created", "registration", id)
                .with("event", e.id.to_string())
                .with("person", person_id.to_string()),
        );
    }
    let created = new_regs.len() as u64;
    let created_ids: Vec<Uuid> = new_regs.iter().filter_map(|r| r.id.clone().take()).collect();
    for chunk in new_people.chunks(500) {
        person::Entity::insert_many(chunk.to_vec()).exec(&**tx).await?;
    }
    for (i, chunk) in new_regs.chunks(500).enumerate() {
        progress(Phase::Writing, (i * 500) as u64, created);
        registration::Entity::insert_many(chunk.to_vec()).exec(&**tx).await?;
    }
    tx.audit(entries).await?;
    progress(Phase::Writing, created, created);
    Ok(Ok((ImportReport { created: created as u32, unchanged }, created_ids)))
}

/// New registrations of an event with their people, read once for what follows them. A
/// large import reads the event's registrations in one query and keeps the new ones:
/// hundreds of `id IN (…)` slices cost seconds on PostgreSQL.
pub(crate) async fn new_registrations(
    db: &sea_orm::DatabaseConnection,
    e: &event::Model,
    created: &[Uuid],
) -> Result<Vec<(registration::Model, Option<person::Model>)>, DbErr> {
    const SLICE: usize = 500;
    if created.len() <= SLICE {
        return registration::Entity::find()
            .filter(registration::Column::Id.is_in(created.to_vec()))
            .find_also_related(person::Entity)
            .all(db)
            .await;
    }
    let wanted: std::collections::HashSet<Uuid> = created.iter().copied().collect();
    let all = registration::Entity::find()
        .filter(registration::Column::EventId.eq(e.id))
        .find_also_related(person::Entity)
        .all(db)
        .await?;
    Ok(all.into_iter().filter(|(r, _)| wanted.contains(&r.id)).collect())
}

impl Services {
    /// What follows new registrations: badges; the safety team hears of any that match a
    /// person named in an open case, and of any that may be a banned person (ban evasion).
    /// A failure here is logged; the registrations stand.
    async fn after_registrations(&self, e: &event::Model, created: &[Uuid]) {
        if let Err(err) = self.badges().issue_missing_badges(e).await {
            tracing::error!(error = %err, "issuing badges for new registrations failed");
        }
        let new = match new_registrations(&self.store.db, e, created).await {
            Ok(new) => new,
            Err(e) => {
                tracing::error!(error = %e, "reading new registrations failed");
                return;
            }
        };
        if let Err(e) = self.cases().notice_matching_registrations(&new).await {
            tracing::error!(error = %e, "matching new registrations against cases failed");
        }
        if let Err(e) = self.enforcement().flag_evasion(&new).await {
            tracing::error!(error = %e, "comparing new registrations with banned people failed");
        }
    }

    /// Imports CSV text into an event (see the module documentation).
    pub async fn import_csv(
        &self,
        actor: Option<Uuid>,
        e: &event::Model,
        csv: &str,
        progress: Progress<'_>,
    ) -> Result<ImportReport, AppError> {
        let rows = parse_csv(csv).map_err(AppError::Invalid)?;
        let tx = self.begin().await?;
        let now = tx.now;
        let (report, created) = apply(&tx, now, actor, e, rows, progress).await?.map_err(AppError::Invalid)?;
        tx.commit().await?;
        self.after_registrations(e, &created).await;
        Ok(report)
    }
}

#[async_trait::async_trait]
impl RegistrationsApi for Services {
    async fn registrations(
        &self,
        actor: &Actor,
        slug: &Slug,
        query: &str,
        page: u32,
    ) -> Result<RegistrationPage, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let query = query.trim().chars().take(100).collect::<String>();
        let mut find = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .find_also_related(person::Entity);
        if !query.is_empty() {
            let escaped = query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            find = find.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col((person::Entity, person::Column::DisplayName))))
                            .like(LikeExpr::new(pattern.clone()).escape('\\')),
                    )
                    .add(
                        Expr::col((person::Entity, person::Column::EmailNormalized))
                            .like(LikeExpr::new(pattern).escape('\\')),
                    )
                    .add(
                        Expr::col((registration::Entity, registration::Column::TicketRef))
                            .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
                    ),
            );
        }
        let paginator = find
            .order_by_asc(person::Column::DisplayName)
            .order_by_asc(registration::Column::Id)
            .paginate(&self.store.db, PAGE_SIZE);
        let total = paginator.num_items().await?;
        let pages = std::cmp::max(total.div_ceil(PAGE_SIZE), 1) as u32;
        let page = page.clamp(1, pages);
        let rows = paginator
            .fetch_page(u64::from(page - 1))
            .await?
            .into_iter()
            .map(|(r, p)| RegistrationRow {
                id: r.id,
                name: p.as_ref().map(|p| p.display_name.clone()).unwrap_or_default(),
                email: p.and_then(|p| p.email).unwrap_or_default(),
                ticket_ref: r.ticket_ref,
                role: r.role,
            })
            .collect();
        Ok(RegistrationPage { event_name: e.name, query, page, pages, total, rows })
    }

    async fn add_registration(&self, actor: &Actor, slug: &Slug, fields: [&str; 4]) -> Result<(), AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let [name, email, ticket_ref, role] = fields;
        let registration = NewRegistration::parse(name, email, ticket_ref, role).map_err(AppError::Invalid)?;
        let tx = self.begin().await?;
        let now = tx.now;
        let report = apply(&tx, now, actor.person_id(), &e, vec![ImportRow { line: 1, registration }], &|_, _, _| {})
            .await?
            .map_err(|errs| {
                AppError::Invalid(
                    errs.into_iter()
                        .map(|e| DomainError::new(e.field.trim_start_matches("line 1 "), e.message))
                        .collect(),
                )
            })?;
        let (report, created) = report;
        if report.created == 0 {
            return Err(AppError::invalid("email", "is already registered for this event"));
        }
        tx.commit().await?;
        self.after_registrations(&e, &created).await;
        Ok(())
    }

    async fn import_registrations(&self, actor: &Actor, slug: &Slug, csv: &str) -> Result<ImportReport, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        self.import_csv(actor.person_id(), &e, csv, &|_, _, _| {}).await
    }
}
