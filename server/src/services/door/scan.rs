//! Answering scans, and recording them durably in batches.

use super::{EventDoor, Withheld};
use crate::crypto::hash_token;
use crate::crypto::sealed;
use crate::db::Store;
use crate::db::entities::scan;
use crate::services::Services;
use chrono::{DateTime, Duration, Utc};
use haven_app::api::AppError;
use haven_app::api::ScanInput;
use haven_app::domain::badge::{Denial, DenyReason, ScanAnswer, ScanResult, ScanSubject};
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait};
use std::sync::Arc;
use tokio::sync::{OnceCell, mpsc, oneshot};
use uuid::Uuid;

/// Who is scanning, for which event.
#[derive(Debug, Clone, Copy)]
pub enum ScanSource {
    /// A door device with its own token, bound to one event.
    Device { device: Uuid, event: Uuid },
    /// Door staff signed in on the door page.
    Staff { person: Uuid, event: Uuid },
}

impl ScanSource {
    pub fn event(&self) -> Uuid {
        match self {
            ScanSource::Device { event, .. } | ScanSource::Staff { event, .. } => *event,
        }
    }

    /// The device or the person who scans.
    fn scanner(&self) -> Uuid {
        match self {
            ScanSource::Device { device, .. } => *device,
            ScanSource::Staff { person, .. } => *person,
        }
    }
}

/// How far ahead of the server's clock a device's `scanned_at` may be (clocks drift).
const FUTURE_ALLOWED: Duration = Duration::minutes(5);

/// A scan recorded longer than this after it happened is marked late for the organizers.
const LATE_AFTER: Duration = Duration::days(7);

/// When a scan happened, by the device's word, and when the server received it (and
/// judged it).
#[derive(Debug, Clone, Copy)]
struct ScanTimes {
    scanned: DateTime<Utc>,
    received: DateTime<Utc>,
}

impl ScanTimes {
    /// More than [`LATE_AFTER`] between the two: at the limit it is not late yet.
    fn late(&self) -> bool {
        self.received - self.scanned > LATE_AFTER
    }
}

/// Scans being answered, by client id, each with its (token hash, scanner, answer) once
/// known.
pub type InflightScans = std::sync::Mutex<std::collections::HashMap<Uuid, Arc<OnceCell<Recorded>>>>;

/// A scan as recorded: the token's hash, who scanned (device or person), the answer.
pub type Recorded = (String, Uuid, ScanAnswer);

type Pending = (scan::ActiveModel, oneshot::Sender<Result<bool, String>>);

/// Writes scans in batches: whatever arrives while a transaction commits goes into the
/// next one, so each scan is answered only after it is committed, and a busy door costs
/// a few commits a second, not one per scan.
#[derive(Clone)]
pub struct ScanWriter {
    tx: mpsc::Sender<Pending>,
}

impl ScanWriter {
    pub fn start(store: Store) -> ScanWriter {
        let (tx, mut rx) = mpsc::channel::<Pending>(8192);
        let run = async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < 512 {
                    match rx.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                let (rows, waiting): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                match write(&store, rows).await {
                    Ok(inserted) => {
                        for (done, fresh) in waiting.into_iter().zip(inserted) {
                            let _ = done.send(Ok(fresh));
                        }
                    }
                    Err(e) => {
                        let text = e.to_string();
                        for done in waiting {
                            let _ = done.send(Err(text.clone()));
                        }
                    }
                }
            }
        };
        // The writer runs on a thread of its own: on the shared runtime its next commit
        // waited behind the request tasks that keep both cores busy at a full door, and
        // every scan waits for that commit. It ends when the last sender is dropped.
        std::thread::Builder::new()
            .name("haven-scan-writer".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the scan writer")
                    .block_on(run)
            })
            .expect("a thread for the scan writer");
        ScanWriter { tx }
    }

    /// Records a scan; `Ok(false)` when a scan with the same id was already recorded.
    pub async fn record(&self, model: scan::ActiveModel) -> Result<bool, AppError> {
        let (done, answer) = oneshot::channel();
        self.tx.send((model, done)).await.map_err(|_| AppError::Internal)?;
        answer.await.map_err(|_| AppError::Internal)?.map_err(|e| {
            tracing::error!(error = %e, "recording scans failed");
            AppError::Internal
        })
    }
}

/// One transaction for the batch; rows whose id exists already are skipped (a scan sent
/// twice, perhaps to two instances) and reported as not inserted.
///
/// Nearly always no id is recorded yet, so the rows are first inserted without asking
/// which went in: the counts say whether all did. Only when one did not is the batch rolled
/// back and inserted again, this time returning the ids that went in.
async fn write(store: &Store, rows: Vec<scan::ActiveModel>) -> Result<Vec<bool>, DbErr> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{ConnectionTrait, QueryTrait};
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.clone().unwrap()).collect();
    // One statement per chunk (15 values a row stays far below SQLite's variable limit).
    let mut inserts = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(500).collect();
        let len = chunk.len() as u64;
        let insert = scan::Entity::insert_many(chunk)
            .on_conflict(OnConflict::column(scan::Column::Id).do_nothing().to_owned())
            .into_query();
        inserts.push((insert, len));
    }
    let tx = store.write().await?;
    let mut all_new = true;
    for (insert, len) in &inserts {
        if tx.execute(insert).await?.rows_affected() != *len {
            all_new = false;
            break;
        }
    }
    if all_new {
        tx.commit().await?;
        return Ok(vec![true; ids.len()]);
    }
    drop(tx);
    let tx = store.write().await?;
    let mut fresh = std::collections::HashSet::with_capacity(ids.len());
    for (mut insert, _) in inserts {
        insert.returning_col(scan::Column::Id);
        for row in tx.query_all(&insert).await? {
            fresh.insert(row.try_get::<Uuid>("", "id")?);
        }
    }
    tx.commit().await?;
    Ok(ids.iter().map(|id| fresh.contains(id)).collect())
}

/// A scan keeps the instruction it showed: each case's part sealed with that case's data
/// key (one line each), so erasing a case erases its part; an instruction that came from
/// no case ("staff are being told") under the wrapping key.
fn seal_instruction(
    instruction: &str,
    parts: &[(Uuid, &str)],
    scan: Uuid,
    door: &EventDoor,
    services: &Services,
) -> String {
    let sealed: Vec<String> = parts
        .iter()
        .filter_map(|(case, text)| door.case_keys.get(case).map(|k| k.seal_in(sealed::SCAN_INSTRUCTION, scan, text)))
        .collect();
    if sealed.is_empty() {
        services.keys.seal_in(sealed::SCAN_INSTRUCTION, scan, instruction)
    } else {
        sealed.join("\n")
    }
}

/// The instruction a scan showed, less the parts of cases erased (or closed) since.
fn open_instruction(stored: &str, scan: Uuid, door: &EventDoor, services: &Services) -> Option<String> {
    let texts: Vec<String> = stored
        .lines()
        .filter_map(|part| match crate::crypto::data_keys::key_of(part) {
            None => services.keys.open_in(sealed::SCAN_INSTRUCTION, scan, part).ok(),
            Some(case) => door.case_keys.get(&case)?.open_in(sealed::SCAN_INSTRUCTION, scan, part).ok(),
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join(super::INSTRUCTION_JOINER))
}

/// How a recorded scan reads back.
fn answer_of(row: &scan::Model, door: &EventDoor, services: &Services) -> ScanAnswer {
    let result = match row.result.as_str() {
        "admit" => ScanResult::Admit,
        "alert" => ScanResult::Alert,
        _ => ScanResult::Deny,
    };
    let name = row.badge_id.and_then(|b| door.badges.get(&b)).map(|b| b.name.to_string());
    ScanAnswer {
        result,
        reason: row.reason.as_deref().and_then(DenyReason::parse),
        name: if matches!(row.reason.as_deref(), Some("invalid" | "unknown" | "wrong_event")) { None } else { name },
        instruction: row.instruction_enc.as_deref().and_then(|s| open_instruction(s, row.id, door, services)),
        previous_scan_at: row.previous_scan_at,
    }
}

impl Services {
    /// Answers a scan and records it. The answer is decided by what holds now, whenever
    /// the scan happened (`scanned_at`, recorded as given: at most 5 minutes ahead, and
    /// marked late when more than 7 days old). The same `scan_id` again returns the first answer
    /// and records nothing; with a different badge, or from another device or person, it
    /// is refused (an answer is only ever returned to whoever it was decided for).
    pub async fn scan(&self, source: ScanSource, input: ScanInput) -> Result<ScanAnswer, AppError> {
        let gate: String = input.gate.trim().chars().filter(|c| !c.is_control()).take(50).collect();
        let gate = if gate.is_empty() { "main".to_owned() } else { gate };
        let now = self.clock.now();
        let scanned_at = input.scanned_at.unwrap_or(now);
        if scanned_at > now + FUTURE_ALLOWED {
            return Err(AppError::invalid("scanned_at", "is in the future; check the device's clock"));
        }
        let token_hash = hash_token(input.text.trim());
        let cell = {
            let mut inflight = self.door.inflight.lock().expect("inflight scans");
            inflight.entry(input.scan_id).or_insert_with(|| Arc::new(OnceCell::new())).clone()
        };
        let at = ScanTimes { scanned: scanned_at, received: now };
        let outcome = cell.get_or_try_init(|| self.first_scan(source, &input, &gate, at, &token_hash)).await.cloned();
        self.door.inflight.lock().expect("inflight scans").remove(&input.scan_id);
        let (recorded_hash, scanner, answer) = outcome?;
        if recorded_hash != token_hash || scanner != source.scanner() {
            // The id was used for another badge, or by another scanner: not that scan.
            return Ok(ScanAnswer::deny(DenyReason::Invalid));
        }
        Ok(answer)
    }

    async fn first_scan(
        &self,
        source: ScanSource,
        input: &ScanInput,
        gate: &str,
        at: ScanTimes,
        token_hash: &str,
    ) -> Result<Recorded, AppError> {
        let scanned_at = at.scanned;
        let door = self.event_door(source.event()).await?;
        let viewer = match source {
            ScanSource::Device { .. } => Withheld::nothing(),
            ScanSource::Staff { person, event } => self.withheld_from(person, event).await?,
        };
        let subject = ScanSubject::read(&input.text);
        // Decided as if new; if the id turns out to be recorded already (sent again after
        // an answer was lost), the recorded answer is returned instead. Decided by what holds
        // now, whenever the device says the scan happened: a back-dated scan must not slip
        // past a ban or an expulsion that holds today.
        let (answer, badge, person) = self.decide(&door, &subject, at.received, &viewer).await?;
        let instruction = answer.instruction.as_ref().map(|i| {
            let parts = match person {
                Some(person) => door.instruction_parts(person, &viewer),
                None => Vec::new(),
            };
            seal_instruction(i, &parts, input.scan_id, &door, self)
        });
        let (device, staff) = match source {
            ScanSource::Device { device, .. } => (Some(device), None),
            ScanSource::Staff { person, .. } => (None, Some(person)),
        };
        let inserted = self
            .door
            .writer
            .record(scan::ActiveModel {
                id: Set(input.scan_id),
                event_id: Set(source.event()),
                device_id: Set(device),
                staff_id: Set(staff),
                badge_id: Set(badge),
                token_hash: Set(token_hash.to_owned()),
                gate: Set(gate.to_owned()),
                scanned_at: Set(scanned_at),
                received_at: Set(at.received),
                result: Set(match answer.result {
                    ScanResult::Admit => "admit",
                    ScanResult::Alert => "alert",
                    ScanResult::Deny => "deny",
                }
                .to_owned()),
                reason: Set(answer.reason.map(|r| r.as_str().to_owned())),
                previous_scan_at: Set(answer.previous_scan_at),
                instruction_enc: Set(instruction),
                by_name: Set(subject.as_ref().is_ok_and(ScanSubject::is_check_in)),
                late: Set(at.late()),
            })
            .await?;
        if !inserted {
            let row = scan::Entity::find_by_id(input.scan_id).one(&self.store.db).await?.ok_or(AppError::Internal)?;
            let scanner = row.device_id.or(row.staff_id).unwrap_or_default();
            return Ok((row.token_hash.clone(), scanner, answer_of(&row, &door, self)));
        }
        if let Some(badge) = badge.filter(|_| answer.result != ScanResult::Deny) {
            let mut last = door.last_scan.lock().expect("last scans");
            if last.get(&badge).is_none_or(|p| *p < scanned_at) {
                last.insert(badge, scanned_at);
            }
        }
        let _ = self.live.send(Uuid::nil());
        let admitted = answer.result != ScanResult::Deny;
        if let Some(person) = person.filter(|p| admitted && door.alerted.contains_key(p)) {
            // Tell whoever must be told, without holding up the door (and whether or not
            // the one scanning may know it).
            let _ = self.door.arrivals.send(super::ArrivalAlert {
                event: door.event.clone(),
                person,
                gate: gate.to_owned(),
            });
        }
        Ok((token_hash.to_owned(), source.scanner(), answer))
    }

    /// The verdict for a scan at `at` (the time it is judged: when it was received), as
    /// `viewer` may see it; also the badge and person when the badge is genuine.
    async fn decide(
        &self,
        door: &EventDoor,
        subject: &Result<ScanSubject, DenyReason>,
        at: DateTime<Utc>,
        viewer: &Withheld,
    ) -> Result<(ScanAnswer, Option<Uuid>, Option<Uuid>), AppError> {
        let badge_id = match subject {
            Err(reason) => return Ok((ScanAnswer::deny(*reason), None, None)),
            // A name check-in by door staff: the registration's live badge.
            Ok(ScanSubject::CheckIn(registration)) => {
                let Some(b) = door.live_badge.get(registration).copied() else {
                    return Ok((ScanAnswer::deny(DenyReason::Unknown), None, None));
                };
                b
            }
            Ok(ScanSubject::Badge(token)) => {
                let key = self.verifying_key(token.claims.key_id).await?;
                let Some(key) = key.filter(|k| !k.retired && k.organization == door.event.organization_id) else {
                    return Ok((ScanAnswer::deny(DenyReason::Invalid), None, None));
                };
                let badge = token.claims.badge;
                let event = token.claims.event;
                if !self
                    .door
                    .signatures
                    .check(super::SignatureCheck { token: token.clone(), key: key.verifying })
                    .await?
                {
                    return Ok((ScanAnswer::deny(DenyReason::Invalid), None, None));
                }
                if event != door.event.id {
                    return Ok((ScanAnswer::deny(DenyReason::WrongEvent), None, None));
                }
                badge
            }
        };
        let Some(b) = door.badges.get(&badge_id) else {
            return Ok((ScanAnswer::deny(DenyReason::Unknown), None, None));
        };
        let named = |mut a: ScanAnswer| {
            a.name = Some(b.name.to_string());
            a
        };
        if b.revoked {
            return Ok((named(ScanAnswer::deny(DenyReason::Revoked)), Some(badge_id), Some(b.person)));
        }
        if let Some(d) = door.denied_people.get(&b.person).and_then(|d| Denial::pick(d, at)).filter(|d| d.applies(at)) {
            return Ok((named(ScanAnswer::deny(d.reason)), Some(badge_id), Some(b.person)));
        }
        // Someone scanning their own badge, or involved in the case, is not told.
        let instruction = door.instruction_for(b.person, viewer);
        let result = if instruction.is_some() || door.alert_visible_to(b.person, viewer) {
            ScanResult::Alert
        } else {
            ScanResult::Admit
        };
        let previous = door.last_scan.lock().expect("last scans").get(&badge_id).copied();
        let answer = ScanAnswer {
            result,
            reason: None,
            name: Some(b.name.to_string()),
            instruction: instruction
                .or_else(|| (result == ScanResult::Alert).then(|| "Admit; staff are being told.".to_owned())),
            previous_scan_at: previous,
        };
        Ok((answer, Some(badge_id), Some(b.person)))
    }
}
