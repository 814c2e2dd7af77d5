//! Registrations: listing, adding one, and importing many from CSV.
//!
//! An import checks every row before it writes anything and either applies all of them
//! or reports every bad row by line number and changes nothing. Rows already registered
//! (same ticket reference, or same person by normalized e-mail) are left as they are, so
//! importing the same file twice changes nothing.

use super::{Services, audit, internal};
use crate::db::WriteTx;
use crate::db::entities::{event, identity, person, registration};
use chrono::{DateTime, Utc};
use haven_app::api::{Actor, AppError, ImportReport, RegistrationPage, RegistrationRow};
use haven_app::domain::{DomainError, NewRegistration, PhoneNumber};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

const PAGE_SIZE: u64 = 50;
/// More rows than this belong in the CLI (`haven import registrations`).
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// A parsed row and the line it came from (the header is line 1).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub registration: NewRegistration,
}

/// Where an import is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Checking,
    Writing,
}

pub type Progress<'a> = &'a (dyn Fn(Phase, u64, u64) + Sync);

fn line_error(line: u64, field: &str, message: impl Into<String>) -> DomainError {
    DomainError::new(format!("line {line} {field}"), message)
}

/// Reads CSV with a header naming at least `name` and `email` (optionally `ticket_ref`
/// and `role`, in any order; other columns are ignored). Every problem is reported.
pub fn parse_csv(text: &str) -> Result<Vec<ImportRow>, Vec<DomainError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Spreadsheets end lines with CRLF (some with a lone CR). The CSV reader counts only
    // LF, and starts a record's line before the LF of its CRLF, so every line number would
    // be one too early (the first row "line 1", the header's). Line ends become LF first:
    // no value the import accepts holds a CR (names, addresses, tickets and phones refuse
    // line breaks, and a role reads a CR as a line break either way).
    let text: std::borrow::Cow<str> =
        if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n").into() } else { text.into() };
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|e| vec![line_error(1, "header", format!("is not readable CSV: {e}"))])?.clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.to_ascii_lowercase().as_str()));
    let name_col = find(&["name", "full name", "display name"]);
    let email_col = find(&["email", "e-mail", "email address"]);
    let ticket_col = find(&["ticket_ref", "ticket", "ticket reference"]);
    let role_col = find(&["role"]);
    let phone_col = find(&["phone", "phone number", "telephone"]);
    let (Some(name_col), Some(email_col)) = (name_col, email_col) else {
        return Err(vec![line_error(
            1,
            "header",
            "must name the columns name and email (and optionally ticket_ref and role)",
        )]);
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // The line a record starts on (quoted fields may span lines).
        let line = match &record {
            Ok(r) => r.position().map(|p| p.line()),
            Err(e) => e.position().map(|p| p.line()),
        }
        .unwrap_or(i as u64 + 2);
        if rows.len() + errors.len() >= MAX_IMPORT_ROWS {
            errors.push(line_error(line, "file", format!("has more than {MAX_IMPORT_ROWS} rows; use the haven CLI")));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("has {len} fields where the header has {expected_len}")
                    }
                    _ => "is not readable CSV".to_owned(),
                };
                errors.push(line_error(line, "row", message));
                continue;
            }
        };
        let get = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
        let phone = PhoneNumber::parse_optional("phone", get(phone_col));
        match (NewRegistration::parse(get(Some(name_col)), get(Some(email_col)), get(ticket_col), get(role_col)), phone)
        {
            (Ok(mut registration), Ok(phone)) => {
                registration.phone = phone;
                rows.push(ImportRow { line, registration })
            }
            (parsed, phone) => {
                let errs = parsed.err().unwrap_or_default().into_iter().chain(phone.err());
                errors.extend(errs.map(|e| line_error(line, &e.field, e.message)))
            }
        }
    }
    // The same person or ticket twice in one file is a mistake worth showing.
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_ticket: HashMap<String, u64> = HashMap::new();
    for row in &rows {
        if let Some(first) = seen_email.insert(row.registration.email.normalized(), row.line) {
            errors.push(line_error(row.line, "email", format!("is the same person as line {first}")));
        }
        if let Some(t) = &row.registration.ticket_ref
            && let Some(first) = seen_ticket.insert(t.as_str().to_owned(), row.line)
        {
            errors.push(line_error(row.line, "ticket_ref", format!("is also on line {first}")));
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(line_error(2, "file", "has no rows under the header"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.sort_by_key(|e| e.field.split(' ').nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0));
        Err(errors)
    }
}

/// Applies parsed rows to an event inside `tx`: every row is checked against the existing
/// registrations first; on any conflict nothing is written and the conflicts are returned.
pub async fn apply(
    tx: &WriteTx,
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
    audit::append(tx, now, entries).await?;
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
        if let Err(err) = self.issue_missing_badges(e).await {
            tracing::error!(error = %err, "issuing badges for new registrations failed");
        }
        let new = match new_registrations(&self.store.db, e, created).await {
            Ok(new) => new,
            Err(e) => {
                tracing::error!(error = %e, "reading new registrations failed");
                return;
            }
        };
        if let Err(e) = self.notice_matching_registrations(&new).await {
            tracing::error!(error = %e, "matching new registrations against cases failed");
        }
        if let Err(e) = self.flag_evasion(&new).await {
            tracing::error!(error = %e, "comparing new registrations with banned people failed");
        }
    }

    pub(super) async fn registrations(
        &self,
        actor: &Actor,
        slug: &str,
        query: &str,
        page: u32,
    ) -> Result<RegistrationPage, AppError> {
        let (e, _) = self.managed_event(actor, slug).await?;
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
        let total = paginator.num_items().await.map_err(internal)?;
        let pages = std::cmp::max(total.div_ceil(PAGE_SIZE), 1) as u32;
        let page = page.clamp(1, pages);
        let rows = paginator
            .fetch_page(u64::from(page - 1))
            .await
            .map_err(internal)?
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

    pub(super) async fn add_registration(&self, actor: &Actor, slug: &str, fields: [&str; 4]) -> Result<(), AppError> {
        let (e, _) = self.managed_event(actor, slug).await?;
        let [name, email, ticket_ref, role] = fields;
        let registration = NewRegistration::parse(name, email, ticket_ref, role).map_err(AppError::Invalid)?;
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        let report = apply(&tx, now, actor.person_id(), &e, vec![ImportRow { line: 1, registration }], &|_, _, _| {})
            .await
            .map_err(internal)?
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
        tx.commit().await.map_err(internal)?;
        self.after_registrations(&e, &created).await;
        Ok(())
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
        let now = self.clock.now();
        let tx = self.store.write().await.map_err(internal)?;
        let (report, created) =
            apply(&tx, now, actor, e, rows, progress).await.map_err(internal)?.map_err(AppError::Invalid)?;
        tx.commit().await.map_err(internal)?;
        self.after_registrations(e, &created).await;
        Ok(report)
    }

    pub(super) async fn import_registrations(
        &self,
        actor: &Actor,
        slug: &str,
        csv: &str,
    ) -> Result<ImportReport, AppError> {
        let (e, _) = self.managed_event(actor, slug).await?;
        self.import_csv(actor.person_id(), &e, csv, &|_, _, _| {}).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_row_is_reported_by_line_number() {
        let csv =
            "name,email,ticket_ref\nAda,ada@example.org,T1\n,nope,T2\nBob,bob@example.org,T1\nAda L,ADA@example.org,\n";
        let errs = parse_csv(csv).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["line 3 name", "line 3 email", "line 4 ticket_ref", "line 5 email"]);
        assert!(errs[3].message.contains("line 2"));
    }

    /// Found by the CSV property: with CRLF line ends (as spreadsheets write them) every
    /// problem was reported one line early, the first row's as the header's.
    #[test]
    fn crlf_and_cr_line_ends_name_the_right_lines() {
        for end in ["\r\n", "\r"] {
            let csv = ["name,email", "Ada,ada@example.org", ",nope", "\"Bob\",bob@example.org", ""].join(end);
            let errs = parse_csv(&csv).unwrap_err();
            let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["line 3 name", "line 3 email"], "{end:?}");
            let rows = parse_csv(&csv.replace(",nope", "Cy,cy@example.org")).unwrap();
            assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4], "{end:?}");
        }
    }

    #[test]
    fn columns_may_come_in_any_order_and_extra_columns_are_ignored() {
        let rows = parse_csv("\u{feff}Email,Company,Name\nada@example.org,ACME,Ada\n").unwrap();
        assert_eq!(rows[0].registration.name.as_str(), "Ada");
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn a_header_without_name_or_email_is_refused() {
        let errs = parse_csv("who,where\nAda,Berlin\n").unwrap_err();
        assert_eq!(errs[0].field, "line 1 header");
        assert!(parse_csv("name,email\n").is_err(), "an empty file imports nothing");
    }

    #[test]
    fn rows_with_the_wrong_number_of_fields_are_named() {
        let errs = parse_csv("name,email\nAda,ada@example.org,extra\n").unwrap_err();
        assert_eq!(errs[0].field, "line 2 row");
    }
}

/// Properties of the CSV import's parser, over arbitrary text and over files written the
/// way spreadsheets write them (`scripts/fuzz.sh` runs them longer).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn config(cases: u32) -> proptest::test_runner::Config {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
        proptest::test_runner::Config { cases, failure_persistence: None, ..Default::default() }
    }

    /// The fields an error may name after its line number.
    const FIELDS: [&str; 8] = ["header", "row", "file", "name", "email", "ticket_ref", "role", "phone"];

    /// Text shaped like CSV: separators, quotes, line breaks of both kinds, a BOM.
    fn csv_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "(\u{feff})?(name|email|Name|E-mail|ticket_ref|role|phone|x)(,(name|email|ticket|role|phone|x| ))*\
             (\r?\n([A-Za-z0-9@. +\"-]|,|\"\"|\r\n|\n){0,40}){0,6}\n?",
        ]
    }

    /// One field as typed into a spreadsheet cell.
    fn cell(valid: &'static str) -> impl Strategy<Value = String> {
        prop_oneof![
            3 => valid,
            1 => any::<String>(),
            1 => "[ ]?[A-Za-z0-9é@.+-]{0,12}(,|\"|\r\n|\n|\t|\u{0}|)[A-Za-z@.]{0,6}[ ]?",
            1 => Just(String::new()),
        ]
    }

    fn header_name(aliases: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        proptest::option::weighted(
            0.9,
            (proptest::sample::select(aliases), any::<bool>(), "[ ]{0,1}").prop_map(|(a, upper, pad)| {
                let a = if upper { a.to_ascii_uppercase() } else { a.to_owned() };
                format!("{pad}{a}{pad}")
            }),
        )
    }

    /// A file: its header (name, email, ticket, role, phone columns, each maybe missing,
    /// and other columns) and its rows, by those five columns.
    #[derive(Debug, Clone)]
    struct File {
        columns: Vec<(Option<usize>, String)>,
        rows: Vec<[String; 5]>,
        extra: Vec<String>,
        bom: bool,
        crlf: bool,
    }

    fn file() -> impl Strategy<Value = File> {
        let header = (
            header_name(&["name", "full name", "Display Name"]),
            header_name(&["email", "e-mail", "Email Address"]),
            header_name(&["ticket_ref", "ticket", "ticket reference"]),
            header_name(&["role"]),
            header_name(&["phone", "phone number", "telephone"]),
            proptest::collection::vec("[A-Za-z ]{0,8}", 0..3),
        );
        let row = (
            cell("[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?"),
            cell("[a-e]{1,2}(\\+x)?@(example\\.org|EXAMPLE\\.org|gmail\\.com)"),
            cell("(T[0-9]{1,2})?"),
            cell("(speaker|volunteer|)"),
            cell("(\\+49 30 [0-9]{3,8}|)"),
        )
            .prop_map(|(a, b, c, d, e)| [a, b, c, d, e]);
        (header, proptest::collection::vec(row, 0..8), any::<u64>(), any::<bool>(), any::<bool>()).prop_map(
            |((n, e, t, r, p, others), rows, order, bom, crlf)| {
                let mut columns: Vec<(Option<usize>, String)> =
                    [n, e, t, r, p].into_iter().enumerate().filter_map(|(i, h)| h.map(|h| (Some(i), h))).collect();
                // Other columns never carry a name the import reads.
                let known = |h: &str| {
                    let h = h.trim().to_ascii_lowercase();
                    ["name", "full name", "display name", "email", "e-mail", "email address"].contains(&h.as_str())
                        || ["ticket_ref", "ticket", "ticket reference", "role", "phone", "phone number", "telephone"]
                            .contains(&h.as_str())
                };
                columns.extend(others.into_iter().filter(|h| !known(h)).map(|h| (None, h)));
                // Any order of the columns.
                let mut order = order;
                for i in (1..columns.len()).rev() {
                    columns.swap(i, (order % (i as u64 + 1)) as usize);
                    order /= i as u64 + 1;
                }
                File { columns, rows, extra: vec!["ACME".into(), "".into()], bom, crlf }
            },
        )
    }

    impl File {
        /// The file's text, and the line each row starts on.
        fn write(&self) -> (String, Vec<u64>) {
            let terminator = if self.crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
            let mut out = csv::WriterBuilder::new().terminator(terminator).from_writer(Vec::new());
            out.write_record(self.columns.iter().map(|(_, h)| h.as_str())).unwrap();
            let mut lines = Vec::new();
            for row in &self.rows {
                let record: Vec<&str> = self
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (c, _))| match c {
                        Some(c) => row[*c].as_str(),
                        None => self.extra[i % self.extra.len()].as_str(),
                    })
                    .collect();
                out.flush().unwrap();
                lines.push(1 + out.get_ref().iter().filter(|b| **b == b'\n').count() as u64);
                out.write_record(&record).unwrap();
            }
            let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
            (if self.bom { format!("\u{feff}{text}") } else { text }, lines)
        }

        /// Which of the five columns the import reads: the first header that names it.
        fn reads(&self, column: usize) -> bool {
            self.columns.iter().any(|(c, _)| *c == Some(column))
        }
    }

    fn check_errors(text: &str, errors: &[DomainError]) -> Result<(), TestCaseError> {
        prop_assert!(!errors.is_empty());
        let lines = text.split('\n').count() as u64 + 1;
        for e in errors {
            let mut words = e.field.splitn(3, ' ');
            prop_assert_eq!(words.next(), Some("line"), "{}", e);
            let line: u64 = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            prop_assert!((1..=lines).contains(&line), "{} of {} lines", e, lines);
            prop_assert!(FIELDS.contains(&words.next().unwrap_or("")), "{}", e);
            prop_assert!(!e.message.is_empty());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(2048))]

        /// Any text is imported or refused with every problem named by line and field;
        /// nothing panics.
        #[test]
        fn any_text_is_imported_or_refused_by_line_and_field(text in csv_like()) {
            match parse_csv(&text) {
                Ok(rows) => {
                    prop_assert!(!rows.is_empty());
                    prop_assert!(rows.windows(2).all(|w| w[0].line < w[1].line) && rows[0].line >= 2);
                }
                Err(errors) => check_errors(&text, &errors)?,
            }
        }

        /// A file as a spreadsheet writes it imports exactly its rows when every row is a
        /// valid registration and no person or ticket appears twice; otherwise it is
        /// refused, naming each bad row's line and nothing else.
        #[test]
        fn a_written_file_imports_its_rows_or_names_each_bad_line(f in file()) {
            let (text, lines) = f.write();
            let result = parse_csv(&text);
            if !f.reads(0) || !f.reads(1) {
                let errors = result.unwrap_err();
                prop_assert_eq!(errors.len(), 1);
                prop_assert_eq!(errors[0].field.as_str(), "line 1 header");
                return Ok(());
            }
            let get = |row: &[String; 5], c: usize| if f.reads(c) { row[c].clone() } else { String::new() };
            // Each row on its own, as the import must judge it.
            let mut bad_lines = std::collections::BTreeSet::new();
            let mut expected = Vec::new();
            let (mut emails, mut tickets) = (HashMap::new(), HashMap::new());
            for (row, line) in f.rows.iter().zip(&lines) {
                let parsed = NewRegistration::parse(&get(row, 0), &get(row, 1), &get(row, 2), &get(row, 3));
                let phone = PhoneNumber::parse_optional("phone", &get(row, 4));
                match (parsed, phone) {
                    (Ok(mut r), Ok(phone)) => {
                        r.phone = phone;
                        if emails.insert(r.email.normalized(), *line).is_some() {
                            bad_lines.insert(*line);
                        }
                        if let Some(t) = &r.ticket_ref && tickets.insert(t.as_str().to_owned(), *line).is_some() {
                            bad_lines.insert(*line);
                        }
                        expected.push((*line, r));
                    }
                    _ => {
                        bad_lines.insert(*line);
                    }
                }
            }
            match result {
                Ok(rows) => {
                    prop_assert!(bad_lines.is_empty() && !f.rows.is_empty(), "accepted: {:?}", text);
                    let got: Vec<(u64, NewRegistration)> = rows.into_iter().map(|r| (r.line, r.registration)).collect();
                    prop_assert_eq!(got, expected);
                }
                Err(errors) => {
                    check_errors(&text, &errors)?;
                    if f.rows.is_empty() {
                        prop_assert_eq!(errors[0].field.as_str(), "line 2 file");
                    } else {
                        let named: std::collections::BTreeSet<u64> = errors
                            .iter()
                            .filter_map(|e| e.field.split(' ').nth(1).and_then(|n| n.parse().ok()))
                            .collect();
                        prop_assert_eq!(named, bad_lines, "{:?} {:?}", text, errors);
                    }
                }
            }
        }
    }
}
