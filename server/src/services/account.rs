//! A person's own view: who is signed in, their page, and staff invitations.

use super::auth::{EMAIL_PROVIDER, link_identity, person_by_address, person_for_email};
use super::authz::{Grant, Grants};
use super::events::format_span;
use super::{Services, audit};
use crate::crypto::{hash_token, looks_like_token};
use crate::db::entities::{event, identity, invitation, organization, person, registration, staff_role};
use haven_app::api::AccountApi;
use haven_app::api::{
    Actor, AppError, InvitationView, MyData, MyPage, MyRegistration, MyRole, ProviderLink, SessionInfo, SetCookie,
    SigninOptions,
};
use haven_app::domain::{DisplayName, EmailAddress, Role};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

impl Services {
    /// A live invitation by its link token; anything else is simply not found. An
    /// invitation its sender could not send today (they lost the role that let them, or
    /// it predates the rule that only administrators grant the safety team) is not live.
    async fn live_invitation(&self, token: &str) -> Result<invitation::Model, AppError> {
        if !looks_like_token(token) {
            return Err(AppError::NotFound);
        }
        let inv = invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(hash_token(token)))
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)?;
        if inv.accepted_at.is_some() || inv.expires_at <= self.clock.now() {
            return Err(AppError::NotFound);
        }
        let db = &self.store.db;
        let at = match inv.event_id {
            Some(id) => Some(event::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?),
            None => None,
        };
        let role = Role::parse("role", &inv.role).map_err(|_| AppError::NotFound)?;
        let sender = Grants::load(db, Some(inv.invited_by)).await?;
        if !sender.refusals_to_grant(inv.organization_id, at.as_ref(), role).is_empty() {
            return Err(AppError::NotFound);
        }
        Ok(inv)
    }

    /// An invitation names one address: signed in, only the person holding it (as their
    /// main address or a confirmed further one) may see or take it. Signed out, the link
    /// stands for its addressee (accepting signs them in). The refusal does not say which
    /// address it was sent to.
    async fn check_addressee(&self, actor: &Actor, inv: &invitation::Model) -> Result<(), AppError> {
        let Some(me) = actor.person_id() else {
            return Ok(());
        };
        let holder = person_by_address(&self.store.db, &inv.email_normalized).await?;
        if holder.is_some_and(|p| p.id == me) {
            return Ok(());
        }
        Err(AppError::Conflict(
            "this invitation was sent to another address: sign out, then open the link again to accept it \
             as the person it was sent to"
                .into(),
        ))
    }
}

#[async_trait::async_trait]
impl AccountApi for Services {
    async fn session_info(&self, actor: &Actor) -> Result<SessionInfo, AppError> {
        let Some(id) = actor.person_id() else {
            return Ok(SessionInfo::default());
        };
        let p = person::Entity::find_by_id(id).one(&self.store.db).await?;
        let session = actor.signed_in_session()?;
        let grants = Grants::of_session(&self.store.db, session).await?;
        let second_factor_needed = !grants.held_back.is_empty();
        let grants = grants.usable;
        Ok(SessionInfo {
            signed_in: p.is_some(),
            name: p.map(|p| p.display_name),
            manages: grants.any_management(),
            responds: grants.holds(Role::Responder),
            escorts: grants.holds(Role::Escort),
            staff: grants.is_staff(),
            second_factor_needed,
        })
    }

    async fn signin_options(&self) -> Result<SigninOptions, AppError> {
        let without_second_factor = organization::Entity::find()
            .filter(organization::Column::SecondFactorRequired.eq(false))
            .all(&self.store.db)
            .await?
            .into_iter()
            .map(|o| o.name)
            .collect();
        Ok(SigninOptions {
            providers: self
                .oidc
                .all()
                .iter()
                .map(|p| ProviderLink { id: p.id.clone(), name: p.name.clone() })
                .collect(),
            without_second_factor,
        })
    }

    async fn my_page(&self, actor: &Actor) -> Result<MyPage, AppError> {
        let p = self.signed_in_person(actor).await?;
        let db = &self.store.db;
        let regs = registration::Entity::find()
            .filter(registration::Column::PersonId.eq(p.id))
            .find_also_related(event::Entity)
            .all(db)
            .await?;
        let mut registrations: Vec<(chrono::DateTime<chrono::Utc>, MyRegistration)> = regs
            .into_iter()
            .filter_map(|(r, e)| {
                let e = e?;
                Some((
                    e.starts_at,
                    MyRegistration {
                        event_slug: e.slug.clone(),
                        event_name: e.name.clone(),
                        when: format_span(e.starts_at, e.ends_at, &e.time_zone),
                        ticket_ref: r.ticket_ref,
                        role: r.role,
                    },
                ))
            })
            .collect();
        registrations.sort_by_key(|(start, _)| *start);
        let roles = role_list(db, Grants::load(db, Some(p.id)).await?.all()).await?;
        Ok(MyPage {
            addresses: super::auth::further_addresses(db, &p).await?,
            cases: self.cases().my_cases(p.id).await?,
            name: p.display_name,
            email: p.email,
            registrations: registrations.into_iter().map(|(_, r)| r).collect(),
            roles,
        })
    }

    async fn my_data(&self, actor: &Actor) -> Result<MyData, AppError> {
        use haven_app::api::{AppealsApi, CaseView, CaseViewApi, DoorApi};
        let page = self.my_page(actor).await?;
        let me = self.signed_in_person(actor).await?;
        let db = &self.store.db;
        let mut cases_filed = Vec::new();
        for c in &page.cases {
            let reference = haven_app::domain::CaseReference::parse("reference", &c.reference)?;
            // The caller filed it, so it opens as its reporter sees it, whatever else they are.
            if let CaseView::Reporter(v) = self.case_view(actor, &reference).await? {
                cases_filed.push(*v);
            }
        }
        let mut sign_in_providers: Vec<String> = identity::Entity::find()
            .filter(identity::Column::PersonId.eq(me.id))
            .filter(identity::Column::Provider.ne(EMAIL_PROVIDER))
            .all(db)
            .await?
            .into_iter()
            .map(|i| i.provider)
            .collect();
        sign_in_providers.sort();
        sign_in_providers.dedup();
        Ok(MyData {
            exported_at: self.clock.now().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            name: page.name,
            email: page.email,
            phone: me.phone,
            addresses: page.addresses,
            sign_in_providers,
            second_factor_set_up: super::second_factor::in_force(db, me.id).await?,
            registrations: page.registrations,
            badges: self.my_badges(actor).await?,
            roles: page.roles,
            decisions: self.my_decisions(actor).await?,
            cases_filed,
        })
    }

    async fn invitation(&self, actor: &Actor, token: &str) -> Result<InvitationView, AppError> {
        let inv = self.live_invitation(token.trim()).await?;
        self.check_addressee(actor, &inv).await?;
        let db = &self.store.db;
        let org = organization::Entity::find_by_id(inv.organization_id).one(db).await?.ok_or(AppError::NotFound)?;
        let scope = match inv.event_id {
            Some(eid) => event::Entity::find_by_id(eid).one(db).await?.map(|e| e.name),
            None => Some(org.name.clone()),
        }
        .ok_or(AppError::NotFound)?;
        Ok(InvitationView {
            role: Role::parse("role", &inv.role).map_err(|_| AppError::Internal)?,
            scope,
            organization: org.name,
            email: inv.email,
        })
    }

    async fn accept_invitation(&self, actor: &Actor, token: &str) -> Result<Option<SetCookie>, AppError> {
        let inv = self.live_invitation(token.trim()).await?;
        self.check_addressee(actor, &inv).await?;
        let tx = self.begin().await?;
        let now = tx.now;
        let taken = invitation::Entity::update_many()
            .col_expr(invitation::Column::AcceptedAt, sea_orm::sea_query::Expr::value(now))
            .filter(invitation::Column::Id.eq(inv.id))
            .filter(invitation::Column::AcceptedAt.is_null())
            .exec(&*tx)
            .await?
            .rows_affected;
        if taken != 1 {
            return Err(AppError::NotFound);
        }
        // The addressee accepts: signed in already, or signed in by the invitation now.
        let (person_id, cookie) = match actor.person_id() {
            Some(id) => (id, None),
            None => {
                let email = EmailAddress::parse("email", &inv.email).map_err(|_| AppError::Internal)?;
                let name = DisplayName::parse("name", email.as_str().split('@').next().unwrap_or("Staff"))
                    .unwrap_or_else(|_| DisplayName::parse("name", "Staff").expect("valid"));
                let (p, _) = person_for_email(&tx, now, None, &name, &email).await?;
                link_identity(&tx, now, p.id, EMAIL_PROVIDER, &email.normalized()).await?;
                let cookie = self.start_session(&tx, p.id, None, now, None).await?;
                (p.id, Some(cookie))
            }
        };
        invitation::Entity::update(invitation::ActiveModel {
            id: Set(inv.id),
            accepted_by: Set(Some(person_id)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        let already = staff_role::Entity::find()
            .filter(staff_role::Column::PersonId.eq(person_id))
            .filter(staff_role::Column::OrganizationId.eq(inv.organization_id))
            .filter(match inv.event_id {
                Some(e) => staff_role::Column::EventId.eq(e),
                None => staff_role::Column::EventId.is_null(),
            })
            .filter(staff_role::Column::Role.eq(&inv.role))
            .filter(staff_role::Column::RevokedAt.is_null())
            .one(&*tx)
            .await?;
        let mut entries = vec![audit::Entry::new(Some(person_id), "invitation.accepted", "invitation", inv.id)];
        if already.is_none() {
            let role_id = Uuid::new_v4();
            staff_role::Entity::insert(staff_role::ActiveModel {
                id: Set(role_id),
                person_id: Set(person_id),
                organization_id: Set(inv.organization_id),
                event_id: Set(inv.event_id),
                role: Set(inv.role.clone()),
                granted_by: Set(Some(inv.invited_by)),
                created_at: Set(now),
                revoked_at: Set(None),
            })
            .exec(&*tx)
            .await?;
            entries.push(
                audit::Entry::new(Some(person_id), "role.granted", "staff_role", role_id)
                    .with("role", inv.role.clone())
                    .with("person", person_id.to_string()),
            );
        }
        tx.audit(entries).await?;
        tx.commit().await?;
        Ok(cookie)
    }
}

/// Roles as a person's own pages list them: the role and the event's or organization's name.
pub(crate) async fn role_list(db: &impl ConnectionTrait, grants: &[Grant]) -> Result<Vec<MyRole>, DbErr> {
    let mut roles = Vec::new();
    for g in grants {
        let (scope, event_slug) = match g.event_id {
            Some(eid) => match event::Entity::find_by_id(eid).one(db).await? {
                Some(e) => (e.name, Some(e.slug)),
                None => continue,
            },
            None => match organization::Entity::find_by_id(g.organization_id).one(db).await? {
                Some(o) => (o.name, None),
                None => continue,
            },
        };
        roles.push(MyRole { role: g.role, scope, event_slug });
    }
    Ok(roles)
}
