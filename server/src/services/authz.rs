//! Who holds which staff role where. Every check in the services goes through [`Grants`]
//! (what one person holds, asked by named checks) or [`holders_at`] (who holds roles at an
//! event); nothing else reads `staff_roles` to decide who may act, nor writes the
//! "organization-wide or this event" condition itself.

use super::Services;
use crate::db::entities::{event, organization, person, second_factor, staff_role};
use haven_app::api::{Actor, ActorSession, AppError, SecondFactorProof};
use haven_app::domain::{DomainError, Role};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

/// One role held, for an event or (event `None`) a whole organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: Uuid,
    pub role: Role,
    pub organization_id: Uuid,
    pub event_id: Option<Uuid>,
}

/// The live (not revoked) roles of one person; empty for anonymous callers.
#[derive(Debug, Clone, Default)]
pub struct Grants(Vec<Grant>);

impl Grants {
    pub async fn load(db: &impl ConnectionTrait, person: Option<Uuid>) -> Result<Grants, DbErr> {
        let Some(person) = person else {
            return Ok(Grants::default());
        };
        let rows = staff_role::Entity::find()
            .filter(staff_role::Column::PersonId.eq(person))
            .filter(staff_role::Column::RevokedAt.is_null())
            .all(db)
            .await?;
        Ok(Grants(
            rows.into_iter()
                .filter_map(|r| {
                    Some(Grant {
                        id: r.id,
                        role: Role::parse("role", &r.role).ok()?,
                        organization_id: r.organization_id,
                        event_id: r.event_id,
                    })
                })
                .collect(),
        ))
    }

    /// Holds `role` for this event, directly or organization-wide.
    fn has(&self, role: Role, e: &event::Model) -> bool {
        self.0.iter().any(|g| g.role == role && applies_at(g, e))
    }

    /// On the safety team of this event.
    pub fn responds_for(&self, e: &event::Model) -> bool {
        self.has(Role::Responder, e)
    }

    /// An escort at this event.
    pub fn escorts_at(&self, e: &event::Model) -> bool {
        self.has(Role::Escort, e)
    }

    /// Door staff at this event.
    pub fn scans_at(&self, e: &event::Model) -> bool {
        self.has(Role::Door, e)
    }

    /// An organizer of this event or of its organization (not counting admins).
    pub fn organizes(&self, e: &event::Model) -> bool {
        self.has(Role::Organizer, e)
    }

    /// Holds any role at this event.
    pub fn staffs(&self, e: &event::Model) -> bool {
        self.0.iter().any(|g| applies_at(g, e))
    }

    pub fn is_admin(&self, organization: Uuid) -> bool {
        self.0.iter().any(|g| g.role == Role::Admin && g.organization_id == organization)
    }

    /// Organizes this event: an organizer of it or of its organization, or an admin.
    pub fn manages(&self, e: &event::Model) -> bool {
        self.is_admin(e.organization_id) || self.organizes(e)
    }

    /// May create events in the organization: an organization-wide organizer or an admin.
    pub fn manages_organization(&self, organization: Uuid) -> bool {
        self.0.iter().any(|g| {
            g.organization_id == organization && g.event_id.is_none() && matches!(g.role, Role::Admin | Role::Organizer)
        })
    }

    pub fn any_management(&self) -> bool {
        self.0.iter().any(|g| matches!(g.role, Role::Admin | Role::Organizer))
    }

    /// Holds `role` somewhere (at any event or organization).
    pub fn holds(&self, role: Role) -> bool {
        self.0.iter().any(|g| g.role == role)
    }

    /// Holds any role anywhere.
    pub fn is_staff(&self) -> bool {
        !self.0.is_empty()
    }

    /// The organizations where `role` is held (any role when `None`), each once.
    pub fn organizations(&self, role: Option<Role>) -> Vec<Uuid> {
        let mut out: Vec<Uuid> =
            self.0.iter().filter(|g| role.is_none_or(|r| g.role == r)).map(|g| g.organization_id).collect();
        out.sort();
        out.dedup();
        out
    }

    /// Why this person may not grant `role` at `event` (or, `None`, across the
    /// whole organization); empty when they may. The one rule for sending an invitation and
    /// for honouring it: organizers grant roles for their event; organization-wide roles, the
    /// safety team and administrators are granted by an administrator of the organization.
    pub fn refusals_to_grant(&self, organization: Uuid, event: Option<&event::Model>, role: Role) -> Vec<DomainError> {
        if event.is_some_and(|e| e.organization_id != organization) {
            return vec![DomainError::new("scope", "the event belongs to another organization")];
        }
        if self.is_admin(organization) {
            return Vec::new();
        }
        let mut refusals = Vec::new();
        match event {
            None => refusals.push(DomainError::new("scope", "only an administrator may grant organization-wide roles")),
            Some(e) if !self.manages(e) => {
                refusals.push(DomainError::new("scope", "only the event's organizers may grant roles for it"))
            }
            Some(_) => {}
        }
        if role.granted_by_admins_only() {
            refusals.push(DomainError::new(
                "role",
                format!("only an administrator of the organization may grant the role {}", role.label()),
            ));
        }
        refusals
    }

    /// Every role held, to list them (a person's own page).
    pub fn all(&self) -> &[Grant] {
        &self.0
    }

    /// What a session may use of its person's roles. A role that needs a second factor
    /// (responder, organizer, administrator) is held back, until the session has passed
    /// one, in each organization that requires it, and everywhere once the person has set
    /// one up. A sign-in provider's multi-factor claim counts where the organization
    /// accepts it.
    pub async fn of_session(db: &impl ConnectionTrait, session: &ActorSession) -> Result<SessionGrants, DbErr> {
        let held = Grants::load(db, Some(session.person_id)).await?;
        let guarded: Vec<Uuid> =
            held.0.iter().filter(|g| g.role.needs_second_factor()).map(|g| g.organization_id).collect();
        if guarded.is_empty() || session.second_factor == Some(SecondFactorProof::Code) {
            return Ok(SessionGrants { usable: held, held_back: Vec::new() });
        }
        let set_up = second_factor::Entity::find()
            .filter(second_factor::Column::PersonId.eq(session.person_id))
            .filter(second_factor::Column::ConfirmedAt.is_not_null())
            .one(db)
            .await?
            .is_some();
        let policies = organization::Entity::find().filter(organization::Column::Id.is_in(guarded)).all(db).await?;
        Ok(held.for_session(&policies, set_up, session.second_factor))
    }

    /// The rule of [`Grants::of_session`], given each organization's policy.
    fn for_session(
        self,
        policies: &[organization::Model],
        set_up: bool,
        proof: Option<SecondFactorProof>,
    ) -> SessionGrants {
        let passed = |o: &organization::Model| match proof {
            Some(SecondFactorProof::Code) => true,
            Some(SecondFactorProof::Provider) => o.accept_provider_mfa,
            None => false,
        };
        let needs = |g: &Grant| {
            g.role.needs_second_factor()
                && policies
                    .iter()
                    .find(|o| o.id == g.organization_id)
                    .is_none_or(|o| (o.second_factor_required || set_up) && !passed(o))
        };
        let (held_back, usable): (Vec<Grant>, Vec<Grant>) = self.0.into_iter().partition(needs);
        SessionGrants { usable: Grants(usable), held_back }
    }
}

/// A session's roles: those it may use, and those held back until it passes a second
/// factor.
#[derive(Debug, Clone, Default)]
pub struct SessionGrants {
    pub usable: Grants,
    pub held_back: Vec<Grant>,
}

/// A role held organization-wide applies at each of its events.
fn applies_at(g: &Grant, e: &event::Model) -> bool {
    g.organization_id == e.organization_id && g.event_id.is_none_or(|id| id == e.id)
}

/// The live roles that apply at this event (held for it, or for its whole organization),
/// of the given kinds (every kind when `roles` is empty): the one query for "who holds
/// these roles here".
pub fn holders_at(e: &event::Model, roles: &[Role]) -> Select<staff_role::Entity> {
    let mut query = staff_role::Entity::find()
        .filter(staff_role::Column::OrganizationId.eq(e.organization_id))
        .filter(Condition::any().add(staff_role::Column::EventId.is_null()).add(staff_role::Column::EventId.eq(e.id)))
        .filter(staff_role::Column::RevokedAt.is_null());
    if !roles.is_empty() {
        query = query.filter(staff_role::Column::Role.is_in(roles.iter().map(|r| r.as_str())));
    }
    query
}

/// The signed-in person making a request, and what they hold: loaded once per use case.
pub struct Caller {
    pub person: Uuid,
    pub grants: Grants,
}

impl Services {
    /// The signed-in caller with their grants; `Unauthenticated` for anyone else.
    /// Roles held back for want of a second factor are not among the grants.
    pub(crate) async fn caller(&self, actor: &Actor) -> Result<Caller, AppError> {
        let session = actor.signed_in_session()?;
        let grants = Grants::of_session(&self.store.db, session).await?.usable;
        Ok(Caller { person: session.person_id, grants })
    }

    /// The signed-in person's record, or `Unauthenticated`.
    pub(crate) async fn signed_in_person(&self, actor: &Actor) -> Result<person::Model, AppError> {
        let id = actor.signed_in()?;
        person::Entity::find_by_id(id).one(&self.store.db).await?.ok_or(AppError::Unauthenticated)
    }

    /// The organization `slug` names, when the caller administers it (who they are, and
    /// it); for anyone else it does not exist.
    pub(crate) async fn administered(
        &self,
        actor: &Actor,
        slug: &haven_app::domain::Slug,
    ) -> Result<(Uuid, crate::db::entities::organization::Model), AppError> {
        use crate::db::entities::organization;
        use sea_orm::{ColumnTrait, QueryFilter};
        let Caller { person, grants } = self.caller(actor).await?;
        let org = organization::Entity::find()
            .filter(organization::Column::Slug.eq(slug.as_str()))
            .one(&self.store.db)
            .await?
            .filter(|o| grants.is_admin(o.id))
            .ok_or(AppError::NotFound)?;
        Ok((person, org))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(organization: Uuid) -> event::Model {
        let now = chrono::Utc::now();
        event::Model {
            id: Uuid::new_v4(),
            organization_id: organization,
            slug: "e".into(),
            name: "E".into(),
            venue: "V".into(),
            time_zone: "UTC".into(),
            starts_at: now,
            ends_at: now,
            ack_hours: 24,
            created_at: now,
        }
    }

    fn grant(role: Role, organization: Uuid, event: Option<Uuid>) -> Grant {
        Grant { id: Uuid::new_v4(), role, organization_id: organization, event_id: event }
    }

    #[test]
    fn a_role_applies_at_its_event_and_at_every_event_when_held_for_the_organization() {
        let (org, other_org) = (Uuid::new_v4(), Uuid::new_v4());
        let (here, elsewhere, abroad) = (event(org), event(org), event(other_org));
        // Responder for one event only, escort for the whole organization.
        let g = Grants(vec![grant(Role::Responder, org, Some(here.id)), grant(Role::Escort, org, None)]);
        assert!(g.responds_for(&here));
        assert!(!g.responds_for(&elsewhere), "an event's role does not reach its sibling");
        assert!(g.escorts_at(&here) && g.escorts_at(&elsewhere), "an organization's role reaches each event");
        assert!(!g.escorts_at(&abroad) && !g.staffs(&abroad), "nor another organization's");
        assert!(g.staffs(&elsewhere));
        assert!(!g.scans_at(&here) && !g.organizes(&here) && !g.manages(&here));
        assert!(g.holds(Role::Responder) && g.holds(Role::Escort) && !g.holds(Role::Door));
        assert_eq!(g.organizations(None), vec![org]);
        assert_eq!(g.organizations(Some(Role::Door)), Vec::<Uuid>::new());
    }

    #[test]
    fn managing_is_organizing_or_administering_and_an_event_organizer_cannot_create_events() {
        let org = Uuid::new_v4();
        let e = event(org);
        let event_organizer = Grants(vec![grant(Role::Organizer, org, Some(e.id))]);
        assert!(event_organizer.manages(&e) && event_organizer.organizes(&e));
        assert!(!event_organizer.manages_organization(org));
        let admin = Grants(vec![grant(Role::Admin, org, None)]);
        assert!(admin.manages(&e) && admin.is_admin(org) && admin.manages_organization(org));
        assert!(!admin.organizes(&e), "an admin manages without being an organizer");
        assert!(!admin.responds_for(&e), "administering is not being on the safety team");
        let nobody = Grants::default();
        assert!(!nobody.is_staff() && !nobody.staffs(&e) && !nobody.any_management());
    }

    #[test]
    fn organizers_grant_roles_at_their_event_and_only_administrators_the_rest() {
        let (org, other_org) = (Uuid::new_v4(), Uuid::new_v4());
        let (e, abroad) = (event(org), event(other_org));
        let organizer = Grants(vec![grant(Role::Organizer, org, Some(e.id))]);
        assert!(organizer.refusals_to_grant(org, Some(&e), Role::Escort).is_empty());
        let fields = |r: Vec<DomainError>| r.into_iter().map(|d| d.field).collect::<Vec<_>>();
        assert_eq!(fields(organizer.refusals_to_grant(org, Some(&e), Role::Responder)), ["role"]);
        assert_eq!(fields(organizer.refusals_to_grant(org, None, Role::Escort)), ["scope"]);
        assert_eq!(fields(organizer.refusals_to_grant(org, Some(&abroad), Role::Escort)), ["scope"]);
        let admin = Grants(vec![grant(Role::Admin, org, None)]);
        assert!(admin.refusals_to_grant(org, None, Role::Responder).is_empty());
        assert!(admin.refusals_to_grant(org, Some(&e), Role::Admin).is_empty());
        assert_eq!(fields(admin.refusals_to_grant(org, Some(&abroad), Role::Escort)), ["scope"]);
    }

    fn policy(id: Uuid, required: bool, accept_provider_mfa: bool) -> organization::Model {
        organization::Model {
            id,
            slug: "o".into(),
            name: "O".into(),
            created_at: chrono::Utc::now(),
            second_factor_required: required,
            accept_provider_mfa,
            retention_days: 365,
        }
    }

    #[test]
    fn roles_that_read_reports_wait_for_a_second_factor_where_it_is_required_or_set_up() {
        let (strict, relaxed, trusting) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let policies = [policy(strict, true, false), policy(relaxed, false, false), policy(trusting, true, true)];
        let held = || {
            Grants(vec![
                grant(Role::Responder, strict, None),
                grant(Role::Escort, strict, None),
                grant(Role::Organizer, relaxed, None),
                grant(Role::Admin, trusting, None),
            ])
        };
        let roles = |g: &[Grant]| g.iter().map(|g| (g.role, g.organization_id)).collect::<Vec<_>>();

        let first_only = held().for_session(&policies, false, None);
        assert_eq!(
            roles(first_only.usable.all()),
            [(Role::Escort, strict), (Role::Organizer, relaxed)],
            "escorts need no second factor; an organization that does not require one is not held back"
        );
        assert_eq!(roles(&first_only.held_back), [(Role::Responder, strict), (Role::Admin, trusting)]);

        let set_up = held().for_session(&policies, true, None);
        assert_eq!(roles(set_up.usable.all()), [(Role::Escort, strict)], "once set up, it guards every role");

        let provider = held().for_session(&policies, false, Some(SecondFactorProof::Provider));
        assert_eq!(
            roles(&provider.held_back),
            [(Role::Responder, strict)],
            "a provider's claim counts only where the organization accepts it"
        );

        let code = held().for_session(&policies, true, Some(SecondFactorProof::Code));
        assert!(code.held_back.is_empty() && code.usable.all().len() == 4);
    }
}
