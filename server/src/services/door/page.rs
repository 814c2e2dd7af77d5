//! The door page, arrivals, devices, badge sheets: who may use them is decided here.

use super::{ScanInput, ScanSource, Withheld};
use crate::db::entities::{badge, door_device, event, person, registration, scan};
use crate::services::Services;
use crate::services::authz::Caller;
use crate::services::cases::local_time;
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use haven_app::api::DoorApi;
use haven_app::api::*;
use haven_app::domain::Slug;
use haven_app::domain::badge::{ScanAnswer, ScanResult};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Names of door people and devices, by id.
struct Scanners {
    people: HashMap<Uuid, String>,
    devices: HashMap<Uuid, String>,
}

impl Scanners {
    /// Who scanned (a door person's name or a device's), and whether it was a device.
    fn by(&self, staff: Option<Uuid>, device: Option<Uuid>) -> (String, bool) {
        match (staff, device) {
            (Some(p), _) => (self.people.get(&p).cloned().unwrap_or_default(), false),
            (None, Some(d)) => (self.devices.get(&d).cloned().unwrap_or_default(), true),
            (None, None) => (String::new(), false),
        }
    }
}

/// Who asks for a door's offline data.
pub enum SyncCaller<'a> {
    /// A door device, by its bearer token.
    Device(&'a str),
    /// A signed-in person (or nobody).
    Staff(&'a Actor),
}

impl Services {
    /// The event, if the caller works its door (door staff, organizers, admins).
    async fn door_event(&self, actor: &Actor, slug: &Slug) -> Result<(event::Model, Uuid), AppError> {
        let Caller { person, grants } = self.caller(actor).await?;
        match self.events().event_by_slug(slug).await? {
            Some(e) if grants.scans_at(&e) || grants.manages(&e) => Ok((e, person)),
            _ => Err(AppError::NotFound),
        }
    }

    /// Everything a door needs to decide offline (or what changed since `since`), for a
    /// device of that event, or for its door staff, organizers and admins signed in; a
    /// person never receives door instructions about themselves or of a case they are
    /// involved in ([`Withheld`]). `slug` is `None` for a name that cannot be a slug: it
    /// names nothing, which is said only to a device or a signed-in person (the others
    /// are told to authenticate, whatever they name).
    pub async fn door_sync_for(
        &self,
        caller: SyncCaller<'_>,
        slug: Option<&Slug>,
        since: Option<i32>,
    ) -> Result<super::DoorSync, AppError> {
        let (e, viewer) = match caller {
            SyncCaller::Device(token) => {
                let auth = self.device_for(token).await?.ok_or(AppError::Unauthenticated)?;
                let e = match slug {
                    Some(slug) => self.events().event_by_slug(slug).await?,
                    None => None,
                };
                (e.filter(|e| e.id == auth.event).ok_or(AppError::NotFound)?, Withheld::nothing())
            }
            SyncCaller::Staff(actor) => {
                actor.signed_in()?;
                let slug = slug.ok_or(AppError::NotFound)?;
                let (e, person) = self.door_event(actor, slug).await?;
                let viewer = self.withheld_from(person, e.id).await?;
                (e, viewer)
            }
        };
        self.door_sync(e.id, since, &viewer).await
    }

    /// The token of a registration's live badge, for its holder or the event's managers.
    pub async fn badge_token_for(&self, actor: &Actor, registration: &str) -> Result<String, AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let id = Uuid::parse_str(registration).map_err(|_| AppError::NotFound)?;
        let r = registration::Entity::find_by_id(id).one(&self.store.db).await?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(r.event_id).one(&self.store.db).await?.ok_or(AppError::NotFound)?;
        if r.person_id != me && !grants.manages(&e) {
            return Err(AppError::NotFound);
        }
        let b = self.live_badge(r.id).await?.ok_or(AppError::NotFound)?;
        self.badge_token(&b, e.organization_id).await
    }

    /// The names of these door people and of the event's devices, to say who scanned.
    async fn scanners(&self, e: &event::Model, mut staff: Vec<Uuid>) -> Result<Scanners, AppError> {
        let db = &self.store.db;
        staff.sort();
        staff.dedup();
        let mut people: HashMap<Uuid, String> = HashMap::new();
        for chunk in staff.chunks(1000) {
            for p in person::Entity::find().filter(person::Column::Id.is_in(chunk.to_vec())).all(db).await? {
                people.insert(p.id, p.display_name);
            }
        }
        let devices: HashMap<Uuid, String> = door_device::Entity::find()
            .filter(door_device::Column::EventId.eq(e.id))
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        Ok(Scanners { people, devices })
    }

    /// Check-ins by name at the event: how many each door person and device made (most
    /// first), and the latest 20 (who checked in whom, when, at which gate). Names and
    /// counts only: nothing of any case.
    async fn name_check_ins(
        &self,
        e: &event::Model,
        door: &super::EventDoor,
    ) -> Result<(Vec<NameCheckInCount>, Vec<NameCheckIn>), AppError> {
        let db = &self.store.db;
        let counts: Vec<(Option<Uuid>, Option<Uuid>, i64)> = scan::Entity::find()
            .select_only()
            .column(scan::Column::StaffId)
            .column(scan::Column::DeviceId)
            .expr(Func::count(Expr::col(scan::Column::Id)))
            .filter(scan::Column::EventId.eq(e.id))
            .filter(scan::Column::ByName.eq(true))
            .group_by(scan::Column::StaffId)
            .group_by(scan::Column::DeviceId)
            .into_tuple()
            .all(db)
            .await?;
        let latest = scan::Entity::find()
            .filter(scan::Column::EventId.eq(e.id))
            .filter(scan::Column::ByName.eq(true))
            .order_by_desc(scan::Column::ScannedAt)
            .limit(20)
            .all(db)
            .await?;
        let staff = counts.iter().filter_map(|c| c.0).chain(latest.iter().filter_map(|s| s.staff_id)).collect();
        let scanners = self.scanners(e, staff).await?;
        let by = |staff, device| scanners.by(staff, device);
        let mut by_name: Vec<NameCheckInCount> = counts
            .iter()
            .map(|(staff, device, count)| {
                let (by, device) = by(*staff, *device);
                NameCheckInCount { by, device, count: u32::try_from(*count).unwrap_or(u32::MAX) }
            })
            .collect();
        by_name.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.by.cmp(&b.by)));
        let latest_by_name = latest
            .into_iter()
            .map(|s| {
                let (by, device) = by(s.staff_id, s.device_id);
                NameCheckIn {
                    at: local_time(s.scanned_at, &e.time_zone),
                    by,
                    device,
                    name: s.badge_id.and_then(|b| door.badges.get(&b)).map(|b| b.name.to_string()),
                    gate: s.gate,
                }
            })
            .collect();
        Ok((by_name, latest_by_name))
    }
}

#[async_trait::async_trait]
impl DoorApi for Services {
    async fn my_badges(&self, actor: &Actor) -> Result<Vec<MyBadge>, AppError> {
        let me = self.signed_in_person(actor).await?;
        let rows = registration::Entity::find()
            .filter(registration::Column::PersonId.eq(me.id))
            .find_also_related(event::Entity)
            .all(&self.store.db)
            .await?;
        let mut out = Vec::new();
        for (r, e) in rows {
            let Some(e) = e else { continue };
            if self.live_badge(r.id).await?.is_some() {
                out.push(MyBadge {
                    registration: r.id,
                    event_slug: e.slug,
                    event_name: e.name,
                    name: me.display_name.clone(),
                });
            }
        }
        Ok(out)
    }

    async fn door_view(&self, actor: &Actor, slug: &Slug) -> Result<DoorView, AppError> {
        let (e, _) = self.door_event(actor, slug).await?;
        Ok(DoorView { event_id: e.id, event_slug: e.slug, event_name: e.name })
    }

    async fn door_scan(&self, actor: &Actor, slug: &Slug, input: ScanInput) -> Result<ScanAnswer, AppError> {
        let (e, person) = self.door_event(actor, slug).await?;
        self.scan(ScanSource::Staff { person, event: e.id }, input).await
    }

    async fn door_search(&self, actor: &Actor, slug: &Slug, query: &str) -> Result<Vec<DoorPerson>, AppError> {
        let (e, _) = self.door_event(actor, slug).await?;
        let q: String = query.trim().to_lowercase().chars().take(100).collect();
        if q.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let rows = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .find_also_related(person::Entity)
            .filter(
                Expr::expr(Func::lower(Expr::col((person::Entity, person::Column::DisplayName))))
                    .like(LikeExpr::new(pattern).escape('\\')),
            )
            .order_by_asc(person::Column::DisplayName)
            .limit(20)
            .all(&self.store.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(r, p)| {
                Some(DoorPerson { registration: r.id, name: p?.display_name, ticket_ref: r.ticket_ref })
            })
            .collect())
    }

    async fn arrivals(&self, actor: &Actor, slug: &Slug) -> Result<ArrivalsView, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let viewer = match actor.person_id() {
            Some(person) => self.withheld_from(person, e.id).await?,
            None => return Err(AppError::Unauthenticated),
        };
        let tz: Tz = e.time_zone.parse().unwrap_or(Tz::UTC);
        let db = &self.store.db;
        let times: Vec<(DateTime<Utc>, String)> = scan::Entity::find()
            .select_only()
            .column(scan::Column::ScannedAt)
            .column(scan::Column::Result)
            .filter(scan::Column::EventId.eq(e.id))
            .into_tuple()
            .all(db)
            .await?;
        let mut per_hour: BTreeMap<DateTime<Tz>, (u32, u32)> = BTreeMap::new();
        let mut admitted = 0;
        for (at, result) in times {
            let local = at.with_timezone(&tz);
            let hour =
                local.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(local);
            let entry = per_hour.entry(hour).or_default();
            if result == "deny" {
                entry.1 += 1;
            } else {
                entry.0 += 1;
                admitted += 1;
            }
        }
        let gates: Vec<String> = scan::Entity::find()
            .select_only()
            .column(scan::Column::Gate)
            .filter(scan::Column::EventId.eq(e.id))
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        let door = self.event_door(e.id).await?;
        // An alert about the viewer, or of a case they are involved in, reads as an admission.
        let shown = |s: &scan::Model| match s.result.as_str() {
            "admit" => ScanResult::Admit,
            "alert" => match s.badge_id.and_then(|b| door.badges.get(&b)).map(|b| b.person) {
                Some(p) if door.instruction_for(p, &viewer).is_none() && !door.alert_visible_to(p, &viewer) => {
                    ScanResult::Admit
                }
                _ => ScanResult::Alert,
            },
            _ => ScanResult::Deny,
        };
        let name_of = |s: &scan::Model| s.badge_id.and_then(|b| door.badges.get(&b)).map(|b| b.name.to_string());
        let mut gate_views = Vec::new();
        for gate in gates {
            let latest = scan::Entity::find()
                .filter(scan::Column::EventId.eq(e.id))
                .filter(scan::Column::Gate.eq(&gate))
                .order_by_desc(scan::Column::ScannedAt)
                .limit(5)
                .all(db)
                .await?;
            gate_views.push(GateView {
                gate,
                latest: latest
                    .into_iter()
                    .map(|s| GateScan {
                        at: local_time(s.scanned_at, &e.time_zone),
                        result: shown(&s),
                        name: name_of(&s),
                        late: s.late,
                    })
                    .collect(),
            });
        }
        gate_views.sort_by(|a, b| a.gate.cmp(&b.gate));
        let (by_name, latest_by_name) = self.name_check_ins(&e, &door).await?;
        let late_count = scan::Entity::find()
            .filter(scan::Column::EventId.eq(e.id))
            .filter(scan::Column::Late.eq(true))
            .count(db)
            .await?;
        let late_scans = scan::Entity::find()
            .filter(scan::Column::EventId.eq(e.id))
            .filter(scan::Column::Late.eq(true))
            .order_by_desc(scan::Column::ReceivedAt)
            .order_by_desc(scan::Column::ScannedAt)
            .limit(20)
            .all(db)
            .await?;
        let scanners = self.scanners(&e, late_scans.iter().filter_map(|s| s.staff_id).collect()).await?;
        let late = late_scans
            .iter()
            .map(|s| {
                let (by, device) = scanners.by(s.staff_id, s.device_id);
                LateScan {
                    at: local_time(s.scanned_at, &e.time_zone),
                    received: local_time(s.received_at, &e.time_zone),
                    gate: s.gate.clone(),
                    by,
                    device,
                    result: shown(s),
                    name: name_of(s),
                }
            })
            .collect();
        Ok(ArrivalsView {
            event_name: e.name.clone(),
            admitted,
            per_hour: per_hour
                .into_iter()
                .map(|(h, (a, d))| HourCount { hour: h.format("%a %H:00").to_string(), admitted: a, denied: d })
                .collect(),
            gates: gate_views,
            by_name,
            latest_by_name,
            late_count: u32::try_from(late_count).unwrap_or(u32::MAX),
            late,
        })
    }

    async fn badge_sheet(&self, actor: &Actor, slug: &Slug, selection: &str) -> Result<BadgeSheet, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        let wanted: Vec<Uuid> = selection.split(',').filter_map(|s| Uuid::parse_str(s.trim()).ok()).collect();
        let mut find = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .find_also_related(person::Entity)
            .order_by_asc(person::Column::DisplayName);
        if !wanted.is_empty() {
            find = find.filter(registration::Column::Id.is_in(wanted));
        }
        let rows = find.limit(2000).all(&self.store.db).await?;
        let live: std::collections::HashSet<Uuid> = badge::Entity::find()
            .filter(badge::Column::EventId.eq(e.id))
            .filter(badge::Column::RevokedAt.is_null())
            .all(&self.store.db)
            .await?
            .into_iter()
            .map(|b| b.registration_id)
            .collect();
        Ok(BadgeSheet {
            event_name: e.name,
            badges: rows
                .into_iter()
                .filter(|(r, _)| live.contains(&r.id))
                .filter_map(|(r, p)| Some(BadgeCard { registration: r.id, name: p?.display_name, role: r.role }))
                .collect(),
        })
    }

    async fn replace_badge(&self, actor: &Actor, slug: &Slug, id: Uuid) -> Result<(), AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        self.replace_badge_of(actor.person_id(), &e, id).await
    }

    async fn send_event_badges(&self, actor: &Actor, slug: &Slug) -> Result<u32, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        self.badges().issue_missing_badges(&e).await?;
        Ok(self.send_badges(&e).await? as u32)
    }

    async fn device_list(&self, actor: &Actor, slug: &Slug) -> Result<Vec<DeviceView>, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        Ok(self
            .devices(&e)
            .await?
            .into_iter()
            .map(|d| DeviceView {
                id: d.id,
                name: d.name,
                added: local_time(d.created_at, &e.time_zone),
                revoked: d.revoked_at.is_some(),
            })
            .collect())
    }

    async fn add_event_device(&self, actor: &Actor, slug: &Slug, name: &str) -> Result<String, AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        Ok(self.add_device(actor.person_id(), &e, name).await?.1)
    }

    async fn revoke_event_device(&self, actor: &Actor, slug: &Slug, id: Uuid) -> Result<(), AppError> {
        let (e, _) = self.events().managed_event(actor, slug).await?;
        self.revoke_device(actor.person_id(), &e, id).await
    }
}
