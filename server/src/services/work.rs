//! The unit of work: one use case's write transaction. It knows the things every write
//! does besides its own rows (append to the audit log, queue mail, queue an in-app
//! notification, tell the door something changed) and does them in the transaction; what
//! must happen only once the write is durable (waking the mail worker, the live streams and
//! this instance's door picture) it keeps until [`Work::commit`] and does then. Dropped
//! without a commit, the work rolls back and nobody is woken for nothing.

use super::{Services, audit};
use crate::crypto::data_keys::{self, DataKey, KeyError};
use crate::crypto::sealed;
use crate::db::WriteTx;
use crate::db::entities::{door_change, notification};
use crate::mail::Mail;
use chrono::{DateTime, Utc};
use haven_app::domain::badge::Denial;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait};
use std::ops::Deref;
use std::sync::Mutex;
use uuid::Uuid;

pub struct Work<'s> {
    tx: WriteTx,
    services: &'s Services,
    /// The moment of this write: its audit entries, mail and notifications carry it.
    pub now: DateTime<Utc>,
    after: Mutex<AfterCommit>,
}

/// What to wake once the write is durable.
#[derive(Default)]
struct AfterCommit {
    mail: bool,
    door: bool,
    live: Vec<Uuid>,
}

impl Services {
    /// Begins a use case's write (on SQLite this waits for the one writer's turn).
    pub async fn begin(&self) -> Result<Work<'_>, DbErr> {
        let tx = self.store.write().await?;
        Ok(Work { tx, services: self, now: self.clock.now(), after: Mutex::default() })
    }
}

impl Work<'_> {
    fn after(&self) -> std::sync::MutexGuard<'_, AfterCommit> {
        self.after.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends to the audit log, chained, at this write's moment.
    pub async fn audit(&self, entries: Vec<audit::Entry>) -> Result<(), DbErr> {
        audit::append(&self.tx, self.now, entries).await
    }

    /// Queues a message in the outbox, sealed; the mail worker is woken after the commit.
    pub async fn mail(&self, mail: Mail) -> Result<(), DbErr> {
        crate::mail::enqueue(&self.services.keys, &self.tx, self.now, mail).await?;
        self.after().mail = true;
        Ok(())
    }

    /// Makes the data key of a new case, decision chain or draft (`crypto::data_keys`).
    pub async fn new_data_key(&self, id: Uuid) -> Result<DataKey, DbErr> {
        data_keys::create(&self.services.keys, &*self.tx, id, self.now).await
    }

    /// The data key of a case, decision chain or draft, read in this write.
    pub async fn data_key(&self, id: Uuid) -> Result<DataKey, KeyError> {
        data_keys::load(&self.services.keys, &*self.tx, id).await
    }

    /// Queues an in-app notification for `person` (title and body sealed); their live
    /// stream is told after the commit.
    pub async fn notify(&self, person: Uuid, kind: &str, title: &str, body: &str, link: &str) -> Result<(), DbErr> {
        self.notify_about(None, person, kind, title, body, link).await
    }

    /// Like [`Work::notify`], for a notification about a case or a decision: sealed with
    /// its data key (`about`: the case's id, or the decision chain's root), so erasing it
    /// erases the notification's text too.
    pub async fn notify_about(
        &self,
        about: Option<Uuid>,
        person: Uuid,
        kind: &str,
        title: &str,
        body: &str,
        link: &str,
    ) -> Result<(), DbErr> {
        let id = Uuid::new_v4();
        let (title_enc, body_enc) = match about {
            Some(key) => {
                let key = self.data_key(key).await?;
                (key.seal_in(sealed::NOTIFICATION_TITLE, id, title), key.seal_in(sealed::NOTIFICATION_BODY, id, body))
            }
            None => {
                let keys = &self.services.keys;
                (keys.seal_in(sealed::NOTIFICATION_TITLE, id, title), keys.seal_in(sealed::NOTIFICATION_BODY, id, body))
            }
        };
        notification::Entity::insert(notification::ActiveModel {
            id: Set(id),
            person_id: Set(person),
            kind: Set(kind.to_owned()),
            title_enc: Set(title_enc),
            body_enc: Set(body_enc),
            link: Set(link.to_owned()),
            // The moment it is written, not the work's: a live stream that opened while
            // this work ran asks for what is newer than its own start.
            created_at: Set(self.services.clock.now()),
            read_at: Set(None),
        })
        .exec(&*self.tx)
        .await?;
        self.after().live.push(person);
        Ok(())
    }

    /// Tells the live streams that something they show changed (the door's arrivals
    /// board listens for `Uuid::nil()`), after the commit.
    pub fn tell_live(&self, person: Uuid) {
        self.after().live.push(person);
    }

    /// Notes for door devices (every instance, through the `door_change` log) that a badge
    /// is now denied (`Some`, perhaps for a period) or no longer (`None`); this instance
    /// forgets its picture after the commit.
    pub async fn door_change(&self, event: Uuid, badge: Uuid, denial: Option<Denial>) -> Result<(), DbErr> {
        door_change::Entity::insert(door_change::ActiveModel {
            event_id: Set(event),
            badge_id: Set(badge),
            reason: Set(denial.map(|d| d.reason.as_str().to_owned())),
            at: Set(self.now),
            starts_at: Set(denial.and_then(|d| d.from)),
            ends_at: Set(denial.and_then(|d| d.until)),
            ..Default::default()
        })
        .exec(&*self.tx)
        .await?;
        crate::db::signals::signal(&self.tx, crate::db::signals::DOOR).await?;
        self.door_changed();
        Ok(())
    }

    /// Notes that something door-relevant changed at an event (a door instruction or an
    /// arrival alert), so every instance reloads its picture.
    pub async fn door_note(&self, event: Uuid) -> Result<(), DbErr> {
        self.door_change(event, Uuid::nil(), None).await
    }

    /// This instance's door picture (devices, badge keys) is stale once this commits;
    /// other instances learn it from their own triggers.
    pub fn door_changed(&self) {
        self.after().door = true;
    }

    /// Makes the write durable, then wakes whoever it concerns.
    pub async fn commit(self) -> Result<(), DbErr> {
        let Work { tx, services, after, .. } = self;
        tx.commit().await?;
        let after = after.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if after.mail {
            services.mail_wake.notify_one();
        }
        if after.door {
            services.door_changed();
        }
        for person in after.live {
            let _ = services.live.send(person);
        }
        Ok(())
    }
}

impl Deref for Work<'_> {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}
