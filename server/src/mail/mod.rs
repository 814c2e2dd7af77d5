//! Mail: the durable outbox and the worker that delivers it.
//!
//! A service that needs to tell someone something enqueues a [`Mail`] in the same
//! transaction as the change it reports, so a committed change always has its mail
//! waiting. The worker delivers due messages over SMTP (or, without SMTP settings, writes
//! them as `.eml` files under `DATA_DIR/mail`), retries with growing delays while the mail
//! server is down, and blanks each body once it is delivered (sign-in links are secrets).
//! Several server instances may run workers: each message is claimed before sending.

pub mod templates;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::entities::outbox;
use crate::db::{Store, WriteTx};
use chrono::{DateTime, Duration, Utc};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// A file sent along (an ICS entry, a badge image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// What kind of message (for operators; never its content).
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// Puts a message in the outbox as part of `tx`.
pub async fn enqueue(tx: &WriteTx, now: DateTime<Utc>, mail: Mail) -> Result<(), DbErr> {
    let attachments = if mail.attachments.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&mail.attachments).map_err(|e| DbErr::Custom(e.to_string()))?)
    };
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(mail.kind.to_owned()),
        to_address: Set(mail.to),
        subject: Set(mail.subject),
        body_text: Set(mail.text),
        body_html: Set(mail.html),
        attachments: Set(attachments),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        last_error: Set(None),
        sent_at: Set(None),
    })
    .exec(&**tx)
    .await?;
    Ok(())
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
}

/// Delivers one message at a time.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Mailer, String> {
        let from: Mailbox = settings.mail.from.parse().map_err(|_| "HAVEN_MAIL_FROM is not an address".to_owned())?;
        let transport = match &settings.mail.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("HAVEN_SMTP_URL is not usable: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => Transport::Directory(settings.data_dir.join("mail")),
        };
        Ok(Mailer { transport, from })
    }

    fn message(&self, row: &outbox::Model) -> Result<Message, String> {
        let to: Mailbox = row.to_address.parse().map_err(|_| "the recipient address is not valid".to_owned())?;
        let builder = Message::builder().from(self.from.clone()).to(to).subject(row.subject.clone());
        let attachments: Vec<Attachment> = match &row.attachments {
            Some(json) => serde_json::from_str(json).map_err(|_| "stored attachments are unreadable".to_owned())?,
            None => Vec::new(),
        };
        let body = match &row.body_html {
            Some(html) => MultiPart::alternative_plain_html(row.body_text.clone(), html.clone()),
            None => MultiPart::mixed().singlepart(SinglePart::plain(row.body_text.clone())),
        };
        let message = if attachments.is_empty() && row.body_html.is_none() {
            builder.header(ContentType::TEXT_PLAIN).body(row.body_text.clone())
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for a in attachments {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|_| "an attachment has a bad content type".to_owned())?;
                mixed = mixed.singlepart(LettreAttachment::new(a.name).body(a.data, content_type));
            }
            builder.multipart(mixed)
        };
        message.map_err(|e| format!("the message could not be built: {e}"))
    }

    async fn deliver(&self, row: &outbox::Model) -> Result<(), String> {
        let message = self.message(row)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| scrub(&e.to_string())),
            Transport::Directory(dir) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| e.to_string())?;
                let name = format!("{}-{}.eml", row.created_at.format("%Y%m%dT%H%M%S"), row.id.simple());
                tokio::fs::write(dir.join(name), message.formatted()).await.map_err(|e| e.to_string())
            }
        }
    }
}

/// Mail servers quote addresses in their errors; keep the error, drop the addresses.
fn scrub(error: &str) -> String {
    let words: Vec<&str> = error.split_whitespace().map(|w| if w.contains('@') { "<address>" } else { w }).collect();
    let mut text = words.join(" ");
    text.truncate(480);
    text
}

/// Wait before the next attempt: 5 s, 10 s, 20 s, … up to an hour. Mail is never dropped.
fn backoff(attempts: i32) -> Duration {
    let secs = 5i64.saturating_mul(1i64 << attempts.clamp(0, 20));
    Duration::seconds(secs.min(3600))
}

/// Delivers due messages until the process ends.
pub struct OutboxWorker {
    pub store: Store,
    pub mailer: Arc<Mailer>,
    pub clock: SharedClock,
    pub wake: Arc<Notify>,
}

impl OutboxWorker {
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.run_once().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "outbox worker failed a round"),
                }
                let _ = tokio::time::timeout(std::time::Duration::from_millis(500), self.wake.notified()).await;
            }
        })
    }

    /// Sends what is due now; returns how many messages it handled.
    pub async fn run_once(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let due = outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .limit(20)
            .all(&self.store.db)
            .await?;
        let mut handled = 0;
        for row in due {
            // Claim it: only the instance whose update lands sends it.
            let lease = now + Duration::minutes(2);
            let tx = self.store.write().await?;
            let claimed = outbox::Entity::update_many()
                .col_expr(outbox::Column::NextAttemptAt, sea_orm::sea_query::Expr::value(lease))
                .filter(outbox::Column::Id.eq(row.id))
                .filter(outbox::Column::NextAttemptAt.eq(row.next_attempt_at))
                .filter(outbox::Column::SentAt.is_null())
                .exec(&*tx)
                .await?
                .rows_affected
                == 1;
            tx.commit().await?;
            if !claimed {
                continue;
            }
            handled += 1;
            let result = self.mailer.deliver(&row).await;
            let now = self.clock.now();
            let tx = self.store.write().await?;
            let mut update = outbox::ActiveModel { id: Set(row.id), ..Default::default() };
            match result {
                Ok(()) => {
                    update.sent_at = Set(Some(now));
                    update.body_text = Set(String::new());
                    update.body_html = Set(None);
                    update.attachments = Set(None);
                    update.last_error = Set(None);
                    tracing::info!(kind = %row.kind, outbox_id = %row.id, "mail delivered");
                }
                Err(error) => {
                    let attempts = row.attempts + 1;
                    update.attempts = Set(attempts);
                    update.next_attempt_at = Set(now + backoff(row.attempts));
                    tracing::warn!(kind = %row.kind, outbox_id = %row.id, attempts, error = %error, "mail delivery failed; will retry");
                    update.last_error = Set(Some(error));
                }
            }
            outbox::Entity::update(update).exec(&*tx).await?;
            tx.commit().await?;
        }
        Ok(handled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped_at_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(5));
        assert_eq!(backoff(3), Duration::seconds(40));
        assert_eq!(backoff(30), Duration::seconds(3600));
    }

    #[test]
    fn errors_lose_their_addresses() {
        assert_eq!(scrub("550 5.1.1 <ada@example.org>: no such user"), "550 5.1.1 <address> no such user");
    }
}
