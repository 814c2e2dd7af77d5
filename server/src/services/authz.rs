//! Who holds which staff role where. Every check in the services goes through [`Grants`].

use crate::db::entities::{event, staff_role};
use haven_app::domain::Role;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
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
pub struct Grants(pub Vec<Grant>);

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
    pub fn has(&self, role: Role, e: &event::Model) -> bool {
        self.0.iter().any(|g| {
            g.role == role
                && g.organization_id == e.organization_id
                && (g.event_id.is_none() || g.event_id == Some(e.id))
        })
    }

    pub fn is_admin(&self, organization: Uuid) -> bool {
        self.0.iter().any(|g| g.role == Role::Admin && g.organization_id == organization)
    }

    /// Organizes this event: an organizer of it or of its organization, or an admin.
    pub fn manages(&self, e: &event::Model) -> bool {
        self.is_admin(e.organization_id) || self.has(Role::Organizer, e)
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
}
