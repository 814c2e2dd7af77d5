//! Organizers' and admins' work on events.

use super::authz::Grants;
use super::events::format_span;
use super::{Services, audit};
use crate::db::entities::{event, organization, registration};
use crate::services::authz::Caller;
use haven_app::api::ManageApi;
use haven_app::api::{
    Actor, AppError, EventInput, EventSettings, ManageHome, ManagedEvent, ManagedOrganization, OrganizationSecurity,
};
use haven_app::domain::{EventDetails, EventForm, EventTimeZone, Slug};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

fn form(input: &EventInput) -> EventForm<'_> {
    EventForm {
        name: &input.name,
        slug: &input.slug,
        venue: &input.venue,
        time_zone: &input.time_zone,
        starts_at: &input.starts_at,
        ends_at: &input.ends_at,
        ack_hours: &input.ack_hours,
    }
}

/// Events as the other areas (and management's own use cases) reach them:
/// `services.events()`.
pub struct Events<'s>(&'s Services);

impl Services {
    pub(crate) fn events(&self) -> Events<'_> {
        Events(self)
    }
}

impl Events<'_> {
    /// The caller's grants, then the event — in that order, so an event the caller may not
    /// manage and one that does not exist cost the same and answer the same.
    pub(crate) async fn managed_event(&self, actor: &Actor, slug: &Slug) -> Result<(event::Model, Grants), AppError> {
        let Caller { grants, .. } = self.0.caller(actor).await?;
        let e = self.event_by_slug(slug).await?;
        match e {
            Some(e) if grants.manages(&e) => Ok((e, grants)),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn event_by_slug(&self, slug: &Slug) -> Result<Option<event::Model>, AppError> {
        event::Entity::find()
            .filter(event::Column::Slug.eq(slug.as_str()))
            .one(&self.0.store.db)
            .await
            .map_err(AppError::from)
    }
}

#[async_trait::async_trait]
impl ManageApi for Services {
    async fn manage_home(&self, actor: &Actor) -> Result<ManageHome, AppError> {
        let Caller { grants, .. } = self.caller(actor).await?;
        let db = &self.store.db;
        let org_ids = grants.organizations(None);
        let orgs = organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids.clone()))
            .order_by_asc(organization::Column::Name)
            .all(db)
            .await?;
        let events = event::Entity::find()
            .filter(event::Column::OrganizationId.is_in(org_ids))
            .order_by_desc(event::Column::StartsAt)
            .all(db)
            .await?;
        let mut managed = Vec::new();
        for e in events.into_iter().filter(|e| grants.manages(e)) {
            let registrations =
                registration::Entity::find().filter(registration::Column::EventId.eq(e.id)).count(db).await?;
            let organization =
                orgs.iter().find(|o| o.id == e.organization_id).map(|o| o.name.clone()).unwrap_or_default();
            managed.push(ManagedEvent {
                when: format_span(e.starts_at, e.ends_at, &e.time_zone),
                slug: e.slug,
                name: e.name,
                organization,
                registrations,
            });
        }
        Ok(ManageHome {
            events: managed,
            organizations: orgs
                .into_iter()
                .filter(|o| grants.manages_organization(o.id))
                .map(|o| ManagedOrganization {
                    security: grants.is_admin(o.id).then_some(OrganizationSecurity {
                        second_factor_required: o.second_factor_required,
                        accept_provider_mfa: o.accept_provider_mfa,
                    }),
                    retention_days: grants.is_admin(o.id).then_some(o.retention_days.max(0) as u32),
                    slug: o.slug,
                    name: o.name,
                })
                .collect(),
        })
    }

    async fn create_event(&self, actor: &Actor, org_slug: &Slug, input: &EventInput) -> Result<String, AppError> {
        let Caller { person, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let org = organization::Entity::find()
            .filter(organization::Column::Slug.eq(org_slug.as_str()))
            .one(db)
            .await?
            .filter(|o| grants.manages_organization(o.id))
            .ok_or(AppError::NotFound)?;
        let details = EventDetails::parse(&form(input)).map_err(AppError::Invalid)?;
        let tx = self.begin().await?;
        let now = tx.now;
        if event::Entity::find().filter(event::Column::Slug.eq(details.slug.as_str())).one(&*tx).await?.is_some() {
            return Err(AppError::invalid("slug", "is already used by another event"));
        }
        let id = Uuid::new_v4();
        event::Entity::insert(event::ActiveModel {
            id: Set(id),
            organization_id: Set(org.id),
            created_at: Set(now),
            ..details_columns(&details)
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(Some(person), "event.created", "event", id)]).await?;
        tx.commit().await?;
        Ok(details.slug.as_str().to_owned())
    }

    async fn event_settings(&self, actor: &Actor, slug: &Slug) -> Result<EventSettings, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let tz = EventTimeZone::parse("time_zone", &e.time_zone).map_err(|_| AppError::Internal)?;
        let organization = organization::Entity::find_by_id(e.organization_id)
            .one(&self.store.db)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        Ok(EventSettings {
            organization,
            starts_at: tz.utc_to_local_input(e.starts_at),
            ends_at: tz.utc_to_local_input(e.ends_at),
            slug: e.slug,
            name: e.name,
            venue: e.venue,
            time_zone: e.time_zone,
            ack_hours: u32::try_from(e.ack_hours).unwrap_or(24),
        })
    }

    async fn update_event(&self, actor: &Actor, slug: &Slug, input: &EventInput) -> Result<String, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let details = EventDetails::parse(&form(input)).map_err(AppError::Invalid)?;
        let tx = self.begin().await?;
        if details.slug.as_str() != e.slug
            && event::Entity::find().filter(event::Column::Slug.eq(details.slug.as_str())).one(&*tx).await?.is_some()
        {
            return Err(AppError::invalid("slug", "is already used by another event"));
        }
        event::Entity::update(event::ActiveModel { id: Set(e.id), ..details_columns(&details) }).exec(&*tx).await?;
        tx.audit(vec![audit::Entry::new(actor.person_id(), "event.updated", "event", e.id)]).await?;
        tx.commit().await?;
        Ok(details.slug.as_str().to_owned())
    }
}

/// The columns an event's details set, when it is created or edited.
fn details_columns(details: &EventDetails) -> event::ActiveModel {
    event::ActiveModel {
        slug: Set(details.slug.as_str().to_owned()),
        name: Set(details.name.as_str().to_owned()),
        venue: Set(details.venue.clone()),
        time_zone: Set(details.time_zone.name().to_owned()),
        starts_at: Set(details.starts_at),
        ends_at: Set(details.ends_at),
        ack_hours: Set(details.ack_hours as i32),
        ..Default::default()
    }
}
