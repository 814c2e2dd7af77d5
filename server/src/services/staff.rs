//! Staff roles for an event: who holds what, invitations by e-mail, revocation.

use super::{Services, audit};
use crate::crypto::{hash_token, random_token};
use crate::db::entities::{invitation, person, staff_role};
use crate::mail::templates;
use chrono::Duration;
use haven_app::api::StaffApi;
use haven_app::api::{Actor, AppError, PendingInvitation, StaffMember, StaffView};
use haven_app::domain::Slug;
use haven_app::domain::{Invitee, Role, RoleScope};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

const INVITATION_LIFETIME: Duration = Duration::days(7);

/// Grants a role directly (the CLI's way to appoint the first administrator).
pub async fn grant(
    services: &Services,
    person: Uuid,
    organization: Uuid,
    event: Option<Uuid>,
    role: Role,
) -> Result<bool, sea_orm::DbErr> {
    let now = services.clock.now();
    let tx = services.begin().await?;
    let existing = staff_role::Entity::find()
        .filter(staff_role::Column::PersonId.eq(person))
        .filter(staff_role::Column::OrganizationId.eq(organization))
        .filter(match event {
            Some(e) => staff_role::Column::EventId.eq(e),
            None => staff_role::Column::EventId.is_null(),
        })
        .filter(staff_role::Column::Role.eq(role.as_str()))
        .filter(staff_role::Column::RevokedAt.is_null())
        .one(&*tx)
        .await?;
    if existing.is_some() {
        return Ok(false);
    }
    let id = Uuid::new_v4();
    staff_role::Entity::insert(staff_role::ActiveModel {
        id: Set(id),
        person_id: Set(person),
        organization_id: Set(organization),
        event_id: Set(event),
        role: Set(role.as_str().to_owned()),
        granted_by: Set(None),
        created_at: Set(now),
        revoked_at: Set(None),
    })
    .exec(&*tx)
    .await?;
    tx.audit(vec![
        audit::Entry::new(None, "role.granted", "staff_role", id)
            .with("role", role.as_str())
            .with("person", person.to_string()),
    ])
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[async_trait::async_trait]
impl StaffApi for Services {
    async fn staff(&self, actor: &Actor, slug: &Slug) -> Result<StaffView, AppError> {
        let (e, grants) = self.events().managed_event(actor, slug).await?;
        let db = &self.store.db;
        let roles = super::authz::holders_at(&e, &[]).order_by_asc(staff_role::Column::CreatedAt).all(db).await?;
        let mut members = Vec::new();
        for r in roles {
            let (Ok(role), Some(p)) =
                (Role::parse("role", &r.role), person::Entity::find_by_id(r.person_id).one(db).await?)
            else {
                continue;
            };
            members.push(StaffMember {
                role_id: r.id,
                name: p.display_name,
                email: p.email,
                role,
                scope: if r.event_id.is_some() { RoleScope::Event } else { RoleScope::Organization },
                second_factor: match grants.is_admin(e.organization_id) {
                    true => Some(super::second_factor::in_force(db, p.id).await?),
                    false => None,
                },
            });
        }
        let now = self.clock.now();
        let invitations = invitation::Entity::find()
            .filter(invitation::Column::OrganizationId.eq(e.organization_id))
            .filter(
                Condition::any().add(invitation::Column::EventId.is_null()).add(invitation::Column::EventId.eq(e.id)),
            )
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .order_by_asc(invitation::Column::CreatedAt)
            .all(db)
            .await?
            .into_iter()
            .filter_map(|i| {
                Some(PendingInvitation {
                    role: Role::parse("role", &i.role).ok()?,
                    scope: if i.event_id.is_some() { RoleScope::Event } else { RoleScope::Organization },
                    expires: i.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    email: i.email,
                })
            })
            .collect();
        Ok(StaffView {
            event_name: e.name,
            members,
            invitations,
            can_invite_organization: grants.is_admin(e.organization_id),
        })
    }

    async fn invite_staff(&self, actor: &Actor, slug: &Slug, invitee: &Invitee) -> Result<(), AppError> {
        let (e, grants) = self.events().managed_event(actor, slug).await?;
        let Invitee { email, role, scope } = invitee.clone();
        let at = (scope == RoleScope::Event).then_some(&e);
        let refusals = grants.refusals_to_grant(e.organization_id, at, role);
        if !refusals.is_empty() {
            return Err(AppError::Invalid(refusals));
        }
        if role == Role::Admin && scope != RoleScope::Organization {
            return Err(AppError::invalid("role", "administrator is an organization-wide role"));
        }
        let now = self.clock.now();
        let token = random_token();
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        invitation::Entity::insert(invitation::ActiveModel {
            id: Set(id),
            token_hash: Set(hash_token(&token)),
            organization_id: Set(e.organization_id),
            event_id: Set((scope == RoleScope::Event).then_some(e.id)),
            role: Set(role.as_str().to_owned()),
            email: Set(email.as_str().to_owned()),
            email_normalized: Set(email.normalized()),
            invited_by: Set(actor.signed_in()?),
            created_at: Set(now),
            expires_at: Set(now + INVITATION_LIFETIME),
            accepted_at: Set(None),
            accepted_by: Set(None),
        })
        .exec(&*tx)
        .await?;
        let link = format!("{}/invitations/{token}", self.public_url);
        let scope_name = match scope {
            RoleScope::Event => e.name.clone(),
            RoleScope::Organization => format!("all events of the organization running {}", e.name),
        };
        tx.mail(templates::staff_invitation(email.as_str(), role.label(), &scope_name, &link)).await?;
        tx.audit(vec![
            audit::Entry::new(actor.person_id(), "invitation.created", "invitation", id).with("role", role.as_str()),
        ])
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_role(&self, actor: &Actor, slug: &Slug, role_id: Uuid) -> Result<(), AppError> {
        let (e, grants) = self.events().managed_event(actor, slug).await?;
        let r = staff_role::Entity::find_by_id(role_id)
            .one(&self.store.db)
            .await?
            .filter(|r| r.revoked_at.is_none() && r.organization_id == e.organization_id)
            .ok_or(AppError::NotFound)?;
        match r.event_id {
            Some(ev) if ev == e.id => {}
            None if grants.is_admin(e.organization_id) => {}
            _ => return Err(AppError::NotFound),
        }
        // Who may not appoint the safety team may not remove it either (an organizer named
        // in a report could otherwise take its responders off the event).
        if let Ok(role) = Role::parse("role", &r.role)
            && role.granted_by_admins_only()
            && !grants.is_admin(e.organization_id)
        {
            return Err(AppError::invalid(
                "role",
                format!("only an administrator of the organization may remove the role {}", role.label()),
            ));
        }
        if Some(r.person_id) == actor.person_id() && r.role == Role::Admin.as_str() {
            return Err(AppError::Conflict("an administrator cannot remove their own administrator role".into()));
        }
        let tx = self.begin().await?;
        let now = tx.now;
        staff_role::Entity::update(staff_role::ActiveModel {
            id: Set(r.id),
            revoked_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(actor.person_id(), "role.revoked", "staff_role", r.id).with("role", r.role.clone()),
        ])
        .await?;
        self.plans().end_orphaned_assignments(&tx, r.person_id, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
