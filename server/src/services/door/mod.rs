//! Badges and the door. A scan is answered from an in-memory picture of the event
//! (badges, names, who is denied, door instructions), loaded once and thrown away when
//! anything door-relevant changes — on this instance at once, on others within half a
//! second (they watch `door_changes`). Scans are recorded durably in batches.

mod badges;
mod devices;
mod keys;
mod page;
mod scan;
mod signatures;

pub use badges::{qr_modules, qr_png, qr_svg};
pub use devices::DeviceAuth;
pub use haven_app::api::ScanInput;
pub use keys::KeyCache;
pub use page::SyncCaller;
pub use scan::{InflightScans, ScanSource, ScanWriter};
pub use signatures::{SignatureCheck, SignatureChecker, check_all};

use super::Services;
use crate::crypto::sealed;
use crate::db::entities::{badge, case, case_person, door_change, event, person, precaution, registration};
use chrono::{DateTime, Utc};
use haven_app::api::AppError;
use haven_app::domain::badge::{Denial, DenyReason};
use haven_app::domain::{CaseStatus, PrecautionKind};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use uuid::Uuid;

/// Between the instructions of several cases about one person.
pub const INSTRUCTION_JOINER: &str = " · ";

/// One badge, as the door needs it.
#[derive(Debug, Clone)]
pub struct BadgeState {
    pub registration: Uuid,
    pub person: Uuid,
    pub name: Arc<str>,
    pub revoked: bool,
}

/// What the door knows about one event.
pub struct EventDoor {
    pub event: event::Model,
    pub badges: HashMap<Uuid, BadgeState>,
    /// Registration → its live badge.
    pub live_badge: HashMap<Uuid, Uuid>,
    /// Person → why and when they are refused here (expelled, banned).
    pub denied_people: HashMap<Uuid, Vec<Denial>>,
    /// Person → what door staff are told, case by case (case id, text).
    pub instructions: HashMap<Uuid, Vec<(Uuid, String)>>,
    /// The data keys of the cases with door instructions: a scan's copy of an instruction
    /// is sealed with its case's key, so erasing the case erases it too.
    pub case_keys: HashMap<Uuid, crate::crypto::data_keys::DataKey>,
    /// Person → the cases that ask for someone to be told of their arrival.
    pub alerted: HashMap<Uuid, Vec<Uuid>>,
    /// Badge → last time it was let in.
    pub last_scan: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl EventDoor {
    /// The door instruction about `person` that `viewer` may read: the texts of the open
    /// cases naming them, less those of cases the viewer is involved in; nothing at all
    /// when the viewer is that person.
    pub fn instruction_for(&self, person: Uuid, viewer: &Withheld) -> Option<String> {
        let texts: Vec<&str> = self.instruction_parts(person, viewer).into_iter().map(|(_, text)| text).collect();
        (!texts.is_empty()).then(|| texts.join(INSTRUCTION_JOINER))
    }

    /// The case-by-case parts of [`EventDoor::instruction_for`].
    pub fn instruction_parts(&self, person: Uuid, viewer: &Withheld) -> Vec<(Uuid, &str)> {
        if viewer.is(person) {
            return Vec::new();
        }
        self.instructions
            .get(&person)
            .into_iter()
            .flatten()
            .filter(|(case, _)| !viewer.cases.contains(case))
            .map(|(case, text)| (*case, text.as_str()))
            .collect()
    }

    /// Whether `viewer` may learn that someone is told of `person`'s arrival (the same
    /// rule as [`EventDoor::instruction_for`]). Whoever scans, the alert itself is sent.
    pub fn alert_visible_to(&self, person: Uuid, viewer: &Withheld) -> bool {
        !viewer.is(person)
            && self.alerted.get(&person).is_some_and(|cases| cases.iter().any(|c| !viewer.cases.contains(c)))
    }
}

/// What the door keeps from whoever asks: nothing from a device; from a person signed
/// in, everything about themselves (their own badges scan as a plain admit) and the door
/// instructions and alerts of every case they are involved in
/// ([`Services::cases_concerning`]).
#[derive(Debug, Clone, Default)]
pub struct Withheld {
    person: Option<Uuid>,
    cases: HashSet<Uuid>,
}

impl Withheld {
    /// A door device: nothing is withheld.
    pub fn nothing() -> Withheld {
        Withheld::default()
    }

    fn is(&self, person: Uuid) -> bool {
        self.person == Some(person)
    }
}

/// The events' pictures, and the newest door change they reflect.
#[derive(Default)]
pub struct DoorCache {
    events: RwLock<HashMap<Uuid, Arc<EventDoor>>>,
    /// Serializes loading, so a burst of first scans loads an event once.
    loading: tokio::sync::Mutex<()>,
    pub seen_change: std::sync::atomic::AtomicI32,
    /// Live door devices by token hash (revoking one is a door change, so it is dropped
    /// here at once on this instance and within half a second on others).
    devices: RwLock<HashMap<String, DeviceAuth>>,
    /// Counts door changes; a load that started before a change is not kept.
    generation: std::sync::atomic::AtomicU64,
}

impl DoorCache {
    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What the door keeps while the server runs: the events' pictures, the badge keys, the
/// scans being answered, the writer that batches their rows, the signature checker, and
/// the queue of arrival alerts (a scan answers at once; `jobs::arrival_alerts` tells
/// whoever must be told). One per process, shared by `Arc`.
pub struct DoorRuntime {
    pub cache: DoorCache,
    /// Badge signing and verifying keys, opened once.
    pub keys: RwLock<KeyCache>,
    /// Scans being answered, by their client id (a repeat waits for the first).
    pub inflight: InflightScans,
    pub writer: ScanWriter,
    /// Checks badge signatures, in batches when many scans come at once.
    pub signatures: SignatureChecker,
    /// Set once the door pictures of today's events are loaded (`/readyz` waits for it).
    pub warm: std::sync::atomic::AtomicBool,
    pub arrivals: tokio::sync::mpsc::UnboundedSender<ArrivalAlert>,
    arrival_queue: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<ArrivalAlert>>>,
}

/// An admitted person whose arrival someone must be told of.
pub struct ArrivalAlert {
    pub event: event::Model,
    pub person: Uuid,
    pub gate: String,
}

impl DoorRuntime {
    pub fn start(store: crate::db::Store) -> Arc<Self> {
        let (arrivals, queue) = tokio::sync::mpsc::unbounded_channel();
        Arc::new(Self {
            cache: DoorCache::default(),
            keys: RwLock::default(),
            inflight: InflightScans::default(),
            writer: ScanWriter::start(store),
            signatures: SignatureChecker::start(),
            warm: std::sync::atomic::AtomicBool::new(false),
            arrivals,
            arrival_queue: Mutex::new(Some(queue)),
        })
    }

    /// The arrival alerts the scans queue; taken once, by the worker that sends them.
    pub fn take_arrival_queue(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<ArrivalAlert>> {
        self.arrival_queue.lock().expect("arrival queue").take()
    }
}

/// What a door device receives when it syncs.
#[derive(Debug, Clone)]
pub struct DoorSync {
    pub event: Uuid,
    pub cursor: i32,
    pub full: bool,
    pub keys: HashMap<u32, String>,
    /// Badges denied (why and when) or, in an incremental sync, cleared (`None`).
    pub denied: Vec<(Uuid, Option<Denial>)>,
    pub instructions: HashMap<Uuid, String>,
}

impl Services {
    /// Forgets every event's picture on this instance (the next scan reloads it).
    pub fn door_changed(&self) {
        // First the count, then the clearing: a load racing with this change either sees
        // the new count and keeps nothing, or is cleared here.
        self.door.cache.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.door.cache.events.write().expect("door cache").clear();
        self.door.cache.devices.write().expect("device cache").clear();
        // Badge keys too: one may have been generated or retired elsewhere.
        *self.door.keys.write().expect("key cache") = KeyCache::default();
    }

    /// Forgets the pictures when another instance recorded a door change. Called by the
    /// background jobs when told of a change (PostgreSQL) and every `poll_every`.
    pub async fn watch_door_changes(&self) -> Result<(), sea_orm::DbErr> {
        let newest: Option<i32> = door_change::Entity::find()
            .select_only()
            .expr(Func::max(Expr::col(door_change::Column::Seq)))
            .into_tuple::<Option<i32>>()
            .one(&self.store.db)
            .await?
            .flatten();
        let newest = newest.unwrap_or(0);
        let seen = self.door.cache.seen_change.swap(newest, std::sync::atomic::Ordering::SeqCst);
        if newest != seen {
            self.door_changed();
        }
        Ok(())
    }

    /// Whether the door picture of this event is loaded (and so a scan waits for nothing).
    pub fn door_is_loaded(&self, event_id: Uuid) -> bool {
        self.door.cache.events.read().expect("door cache").contains_key(&event_id)
    }

    /// Loads the door pictures of the events whose doors are open now or within a day, so
    /// the first scans after a start or a restart wait for no loading. `/readyz` answers
    /// 200 only after this (`Services.door.warm`).
    pub async fn warm_doors(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let soon = event::Entity::find()
            .filter(event::Column::StartsAt.lt(now + chrono::Duration::days(1)))
            .filter(event::Column::EndsAt.gt(now - chrono::Duration::days(1)))
            .all(&self.store.db)
            .await?;
        // Take note of the changes made so far, so the first look for others' changes does
        // not throw away what is loaded now.
        self.watch_door_changes().await?;
        for e in &soon {
            self.event_door(e.id).await?;
        }
        self.door.warm.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(soon.len())
    }

    /// The event's door picture, loaded on first need.
    pub async fn event_door(&self, event_id: Uuid) -> Result<Arc<EventDoor>, AppError> {
        if let Some(d) = self.door.cache.events.read().expect("door cache").get(&event_id) {
            return Ok(d.clone());
        }
        let _loading = self.door.cache.loading.lock().await;
        if let Some(d) = self.door.cache.events.read().expect("door cache").get(&event_id) {
            return Ok(d.clone());
        }
        let generation = self.door.cache.generation();
        let door = Arc::new(self.load_door(event_id).await?);
        let mut events = self.door.cache.events.write().expect("door cache");
        if self.door.cache.generation() == generation {
            events.insert(event_id, door.clone());
        }
        Ok(door)
    }

    async fn load_door(&self, event_id: Uuid) -> Result<EventDoor, AppError> {
        let db = &self.store.db;
        let e = event::Entity::find_by_id(event_id).one(db).await?.ok_or(AppError::NotFound)?;
        let rows: Vec<(Uuid, Uuid, Option<DateTime<Utc>>)> = badge::Entity::find()
            .select_only()
            .column(badge::Column::Id)
            .column(badge::Column::RegistrationId)
            .column(badge::Column::RevokedAt)
            .filter(badge::Column::EventId.eq(event_id))
            .into_tuple()
            .all(db)
            .await?;
        let regs: HashMap<Uuid, Uuid> = registration::Entity::find()
            .select_only()
            .column(registration::Column::Id)
            .column(registration::Column::PersonId)
            .filter(registration::Column::EventId.eq(event_id))
            .into_tuple::<(Uuid, Uuid)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut names: HashMap<Uuid, Arc<str>> = HashMap::with_capacity(regs.len());
        let people: Vec<Uuid> = regs.values().copied().collect();
        for chunk in people.chunks(5000) {
            for (id, name) in person::Entity::find()
                .select_only()
                .column(person::Column::Id)
                .column(person::Column::DisplayName)
                .filter(person::Column::Id.is_in(chunk.to_vec()))
                .into_tuple::<(Uuid, String)>()
                .all(db)
                .await?
            {
                names.insert(id, name.into());
            }
        }
        let mut badges = HashMap::with_capacity(rows.len());
        let mut live_badge = HashMap::with_capacity(rows.len());
        for (id, registration, revoked_at) in rows {
            let Some(person) = regs.get(&registration).copied() else { continue };
            if revoked_at.is_none() {
                live_badge.insert(registration, id);
            }
            badges.insert(
                id,
                BadgeState {
                    registration,
                    person,
                    name: names.get(&person).cloned().unwrap_or_else(|| Arc::from("")),
                    revoked: revoked_at.is_some(),
                },
            );
        }
        let (instructions, alerted, case_keys) = self.door_precautions(&e).await?;
        let denied_people = self.denied_people(&e).await?;
        let last_scan = self.last_scans(event_id).await?;
        Ok(EventDoor {
            event: e,
            badges,
            live_badge,
            denied_people,
            instructions,
            case_keys,
            alerted,
            last_scan: Mutex::new(last_scan),
        })
    }

    /// Door instructions and arrival alerts of the event's open cases, by named person and
    /// case.
    #[allow(clippy::type_complexity)]
    async fn door_precautions(
        &self,
        e: &event::Model,
    ) -> Result<
        (
            HashMap<Uuid, Vec<(Uuid, String)>>,
            HashMap<Uuid, Vec<Uuid>>,
            HashMap<Uuid, crate::crypto::data_keys::DataKey>,
        ),
        AppError,
    > {
        let db = &self.store.db;
        let cases: Vec<Uuid> = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::EventId.eq(e.id))
            .filter(case::Column::Status.is_not_in([CaseStatus::Resolved.as_str(), CaseStatus::Closed.as_str()]))
            .into_tuple()
            .all(db)
            .await?;
        let named = case_person::Entity::find()
            .filter(case_person::Column::CaseId.is_in(cases.clone()))
            .filter(case_person::Column::Role.eq("named"))
            .all(db)
            .await?;
        let precautions = precaution::Entity::find()
            .filter(precaution::Column::CaseId.is_in(cases))
            .filter(precaution::Column::RemovedAt.is_null())
            .filter(
                precaution::Column::Kind
                    .is_in([PrecautionKind::DoorInstruction.as_str(), PrecautionKind::ArrivalAlert.as_str()]),
            )
            .all(db)
            .await?;
        let mut instructions: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        let mut alerted: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut keys = HashMap::new();
        for p in precautions {
            for n in named.iter().filter(|n| n.case_id == p.case_id) {
                if p.kind == PrecautionKind::ArrivalAlert.as_str() {
                    alerted.entry(n.person_id).or_default().push(p.case_id);
                    continue;
                }
                let key = match keys.entry(p.case_id) {
                    std::collections::hash_map::Entry::Occupied(k) => k.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => slot.insert(self.data_key(db, p.case_id).await?),
                };
                let text: serde_json::Value =
                    serde_json::from_str(&key.open_in(sealed::PRECAUTION_DETAILS, p.id, &p.details_enc)?)
                        .unwrap_or_default();
                let text = text["text"].as_str().unwrap_or_default().to_owned();
                instructions.entry(n.person_id).or_default().push((p.case_id, text));
            }
        }
        Ok((instructions, alerted, keys))
    }

    /// The last admitted scan of each badge of the event.
    async fn last_scans(&self, event_id: Uuid) -> Result<HashMap<Uuid, DateTime<Utc>>, AppError> {
        use crate::db::entities::scan;
        let rows: Vec<(Option<Uuid>, Option<DateTime<Utc>>)> = scan::Entity::find()
            .select_only()
            .column(scan::Column::BadgeId)
            .expr(Func::max(Expr::col(scan::Column::ScannedAt)))
            .filter(scan::Column::EventId.eq(event_id))
            .filter(scan::Column::Result.ne("deny"))
            .group_by(scan::Column::BadgeId)
            .into_tuple()
            .all(&self.store.db)
            .await?;
        Ok(rows.into_iter().filter_map(|(b, t)| Some((b?, t?))).collect())
    }

    /// The open cases of an event that `person` is involved in (the rule of involvement:
    /// `services::involvement`). The door keeps their instructions and alerts from them.
    pub(crate) async fn cases_concerning(&self, person: Uuid, event: Uuid) -> Result<HashSet<Uuid>, AppError> {
        let db = &self.store.db;
        let Some(involvement) = self.involvement_of(db, person).await? else { return Ok(HashSet::new()) };
        let mut out = HashSet::new();
        for c in case::Entity::find()
            .filter(case::Column::EventId.eq(event))
            .filter(case::Column::Status.is_not_in([CaseStatus::Resolved.as_str(), CaseStatus::Closed.as_str()]))
            .all(db)
            .await?
        {
            if involvement.in_case(&c, &self.cases().subject(&c).await?) {
                out.insert(c.id);
            }
        }
        Ok(out)
    }

    /// What the door keeps from `person` at this event (see [`Withheld`]).
    pub(crate) async fn withheld_from(&self, person: Uuid, event: Uuid) -> Result<Withheld, AppError> {
        Ok(Withheld { person: Some(person), cases: self.cases_concerning(person, event).await? })
    }

    /// What a door needs to decide on its own: everything (`since` absent), or what
    /// changed after the cursor it holds; door instructions only as far as `viewer` may
    /// read them. Callers decide who may have it ([`Services::door_sync_for`]).
    pub(crate) async fn door_sync(
        &self,
        event_id: Uuid,
        since: Option<i32>,
        viewer: &Withheld,
    ) -> Result<DoorSync, AppError> {
        let door = self.event_door(event_id).await?;
        let cursor: i32 = door_change::Entity::find()
            .select_only()
            .expr(Func::max(Expr::col(door_change::Column::Seq)))
            .into_tuple::<Option<i32>>()
            .one(&self.store.db)
            .await?
            .flatten()
            .unwrap_or(0);
        let instructions: HashMap<Uuid, String> = door
            .badges
            .iter()
            .filter(|(_, b)| !b.revoked)
            .filter_map(|(id, b)| door.instruction_for(b.person, viewer).map(|i| (*id, i)))
            .collect();
        let keys = self.public_keys(door.event.organization_id).await?;
        let denied = match since {
            Some(since) if since <= cursor && since >= 0 => {
                let changes = door_change::Entity::find()
                    .filter(door_change::Column::EventId.eq(event_id))
                    .filter(door_change::Column::Seq.gt(since))
                    .all(&self.store.db)
                    .await?;
                let mut latest: HashMap<Uuid, Option<Denial>> = HashMap::new();
                for c in changes.into_iter().filter(|c| !c.badge_id.is_nil()) {
                    let denial = c.reason.as_deref().and_then(DenyReason::parse).map(|reason| Denial {
                        reason,
                        from: c.starts_at,
                        until: c.ends_at,
                    });
                    latest.insert(c.badge_id, denial);
                }
                return Ok(DoorSync {
                    event: event_id,
                    cursor,
                    full: false,
                    keys,
                    denied: latest.into_iter().collect(),
                    instructions,
                });
            }
            _ => {
                let now = self.clock.now();
                door.badges
                    .iter()
                    .filter_map(|(id, b)| {
                        if b.revoked {
                            Some((*id, Some(Denial::always(DenyReason::Revoked))))
                        } else {
                            let denials = door.denied_people.get(&b.person)?;
                            Denial::pick(denials, now).map(|d| (*id, Some(d)))
                        }
                    })
                    .collect()
            }
        };
        Ok(DoorSync { event: event_id, cursor, full: true, keys, denied, instructions })
    }

    /// People denied at this event (expelled, or banned by the organization), from the
    /// decisions in force.
    pub(crate) async fn denied_people(&self, e: &event::Model) -> Result<HashMap<Uuid, Vec<Denial>>, AppError> {
        self.enforcement().enforcement_denials(&self.store.db, e, None).await
    }
}

/// Badges as the other areas (and the CLI) reach them: `services.badges()`.
pub struct Badges<'s>(&'s Services);

impl Services {
    pub fn badges(&self) -> Badges<'_> {
        Badges(self)
    }
}
