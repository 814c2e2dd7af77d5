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
use crate::crypto::fields::{KeyStore, Keyring};
use crate::crypto::sealed;
use crate::db::Store;
use crate::db::entities::outbox;
use chrono::{DateTime, Duration, Utc};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait as _, DbErr, EntityTrait, QueryFilter, QueryOrder};
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
    /// The case (its id) or decision chain (its root's id) the message is about: it waits
    /// in the outbox sealed with that data key, so erasing the case erases it too.
    pub about: Option<Uuid>,
}

impl Mail {
    /// The same message, about a case or decision chain (see [`Mail::about`]).
    pub fn about(self, id: Uuid) -> Mail {
        Mail { about: Some(id), ..self }
    }
}

/// Puts a message in the outbox as part of `tx`, its body and attachments sealed.
pub async fn enqueue(
    keys: &std::sync::Arc<KeyStore>,
    tx: &sea_orm::DatabaseTransaction,
    now: DateTime<Utc>,
    mail: Mail,
) -> Result<(), DbErr> {
    let id = Uuid::new_v4();
    let key = match mail.about {
        Some(about) => Some(crate::crypto::data_keys::load(keys, tx, about).await?),
        None => None,
    };
    let seal = |column, text: &str| match &key {
        Some(key) => key.seal_in(column, id, text),
        None => keys.seal_in(column, id, text),
    };
    let attachments = if mail.attachments.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&mail.attachments).map_err(|e| DbErr::Custom(e.to_string()))?)
    };
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(id),
        kind: Set(mail.kind.to_owned()),
        to_address: Set(mail.to),
        subject: Set(mail.subject),
        body_enc: Set(seal(sealed::OUTBOX_BODY, &mail.text)),
        html_enc: Set(mail.html.as_deref().map(|h| seal(sealed::OUTBOX_HTML, h))),
        attachments_enc: Set(attachments.as_deref().map(|a| seal(sealed::OUTBOX_ATTACHMENTS, a))),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        last_error: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        about_id: Set(mail.about),
    })
    .exec(tx)
    .await?;
    crate::db::signals::signal(tx, crate::db::signals::MAIL).await
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
            None => {
                let dir = settings.data_dir.join("mail");
                // Files an older version wrote with default modes become unreachable too.
                #[cfg(unix)]
                if dir.is_dir() {
                    use std::os::unix::fs::PermissionsExt as _;
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                        .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
                }
                Transport::Directory(dir)
            }
        };
        Ok(Mailer { transport, from })
    }

    fn message(&self, row: &outbox::Model, opened: Opened) -> Result<Message, String> {
        let to: Mailbox = row.to_address.parse().map_err(|_| "the recipient address is not valid".to_owned())?;
        let builder = Message::builder().from(self.from.clone()).to(to).subject(row.subject.clone());
        let attachments: Vec<Attachment> = match &opened.attachments {
            Some(json) => serde_json::from_str(json).map_err(|_| "stored attachments are unreadable".to_owned())?,
            None => Vec::new(),
        };
        let body = match &opened.html {
            Some(html) => MultiPart::alternative_plain_html(opened.text.clone(), html.clone()),
            None => MultiPart::mixed().singlepart(SinglePart::plain(opened.text.clone())),
        };
        let message = if attachments.is_empty() && opened.html.is_none() {
            builder.header(ContentType::TEXT_PLAIN).body(opened.text.clone())
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

    async fn deliver(&self, row: &outbox::Model, opened: Opened) -> Result<(), Failure> {
        // A message that cannot be built never will be.
        let message = self.message(row, opened).map_err(Failure::Permanent)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                // A 5xx reply is the mail server's final word; anything else (no connection,
                // 4xx, a timeout) may pass.
                let text = scrub(&e.to_string());
                if e.is_permanent() { Failure::Permanent(text) } else { Failure::Temporary(text) }
            }),
            Transport::Directory(dir) => {
                // The files hold sign-in links and appeal tokens: only Haven's user may
                // list the folder or read them.
                let name = format!("{}-{}.eml", row.created_at.format("%Y%m%dT%H%M%S"), row.id.simple());
                let (dir, text) = (dir.clone(), message.formatted());
                tokio::task::spawn_blocking(move || write_private_mail(&dir, &name, &text))
                    .await
                    .map_err(|e| Failure::Temporary(e.to_string()))?
                    .map_err(|e| Failure::Temporary(e.to_string()))
            }
        }
    }
}

/// Writes one message as `dir/name`, mode 0600, in a folder of mode 0700.
fn write_private_mail(dir: &std::path::Path, name: &str, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        options.mode(0o600);
    }
    let mut file = options.open(dir.join(name))?;
    file.write_all(text)?;
    file.sync_all()
}

/// Why a delivery did not happen, and whether trying again may help.
#[derive(Debug)]
enum Failure {
    /// No connection, a 4xx reply, a timeout, a key not (yet) at hand: tried again later.
    Temporary(String),
    /// A 5xx reply, or a message that cannot be built: marked failed, never tried again.
    Permanent(String),
}

/// How long a claimed message is left to the worker that claimed it. A worker that dies
/// mid-send leaves its message to others (or to itself, restarted) after this.
const CLAIM_LEASE: Duration = Duration::minutes(2);

/// Sign-in links are worth sending only while they work (15 minutes): they are tried
/// again every half minute at most, and marked failed once expired.
const SIGNIN_KIND: &str = "signin_link";
const SIGNIN_RETRY_MAX: Duration = Duration::seconds(30);
const SIGNIN_LIFE: Duration = Duration::minutes(15);

/// A waiting message's body and attachments, opened for sending.
struct Opened {
    text: String,
    html: Option<String>,
    attachments: Option<String>,
}

impl Opened {
    async fn of(
        keys: &std::sync::Arc<KeyStore>,
        db: &impl sea_orm::ConnectionTrait,
        row: &outbox::Model,
    ) -> Result<Opened, Failure> {
        use crate::crypto::data_keys::{KeyError, open_any};
        let open = async |column, value: &str| -> Result<String, Failure> {
            // Rows queued before bodies were sealed hold clear text.
            if Keyring::key_of(value).is_none() && crate::crypto::data_keys::key_of(value).is_none() {
                return Ok(value.to_owned());
            }
            open_any(keys, db, column, row.id, value).await.map_err(|e| match e {
                // The case it was about was erased: it can never be sent.
                KeyError::Erased | KeyError::Missing => Failure::Permanent(format!("not sent: {e}")),
                e => Failure::Temporary(format!("the stored message could not be opened: {e}")),
            })
        };
        let html = match &row.html_enc {
            Some(h) => Some(open(sealed::OUTBOX_HTML, h).await?),
            None => None,
        };
        let attachments = match &row.attachments_enc {
            Some(a) => Some(open(sealed::OUTBOX_ATTACHMENTS, a).await?),
            None => None,
        };
        Ok(Opened { text: open(sealed::OUTBOX_BODY, &row.body_enc).await?, html, attachments })
    }
}

/// How much of a mail server's error is kept (in bytes, cut at a character boundary).
const ERROR_MAX_BYTES: usize = 480;

/// Mail servers quote addresses in their errors; keep the error, drop the addresses, and
/// keep at most [`ERROR_MAX_BYTES`], cut between characters (the words may be any
/// language's: cutting inside a character would panic).
fn scrub(error: &str) -> String {
    let words: Vec<&str> = error.split_whitespace().map(|w| if w.contains('@') { "<address>" } else { w }).collect();
    let mut text = words.join(" ");
    let mut cut = ERROR_MAX_BYTES.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

/// Wait before the next attempt: 5 s, 10 s, 20 s, … up to an hour. Mail is never dropped.
fn backoff(attempts: i32) -> Duration {
    let secs = 5i64.saturating_mul(1i64 << attempts.clamp(0, 20));
    Duration::seconds(secs.min(3600))
}

/// Runs the future `start` makes as a task, and when it panics logs that (never the panic's
/// message, which may quote the data at hand) and starts a fresh one a second later. A
/// future that returns ends the task.
pub fn supervise<F, Fut>(worker: &'static str, start: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    use futures::FutureExt as _;
    tokio::spawn(async move {
        loop {
            match std::panic::AssertUnwindSafe(start()).catch_unwind().await {
                Ok(()) => return,
                Err(_) => tracing::error!(worker, "background worker panicked (a bug); starting it again"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    })
}

/// Delivers due messages until the process ends.
pub struct OutboxWorker {
    pub store: Store,
    pub mailer: Arc<Mailer>,
    pub clock: SharedClock,
    pub wake: Arc<Notify>,
    pub keys: Arc<KeyStore>,
}

impl OutboxWorker {
    /// Runs the worker until the process ends, under [`supervise`]: a panic (a bug) is
    /// logged and the worker starts again, so mail (sign-in links too) keeps flowing.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let worker = Arc::new(self);
        supervise("mail", move || {
            let worker = worker.clone();
            async move { worker.run().await }
        })
    }

    async fn run(&self) {
        loop {
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox worker failed a round"),
            }
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), self.wake.notified()).await;
        }
    }

    /// Claims the next due message for two minutes, so no other worker sends it meanwhile.
    /// On PostgreSQL one statement picks it with `FOR UPDATE SKIP LOCKED`: workers of other
    /// instances skip the row this one is claiming instead of waiting for it. On SQLite
    /// (one writer at a time) the claim is the same check and update in one write.
    async fn claim_next(&self) -> Result<Option<outbox::Model>, DbErr> {
        let now = self.clock.now();
        let lease = now + CLAIM_LEASE;
        let tx = self.store.write().await?;
        let claimed = if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
            outbox::Entity::find()
                .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "UPDATE outbox SET next_attempt_at = $1 WHERE id = (\
                       SELECT id FROM outbox \
                       WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                       ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
                     RETURNING *",
                    [lease.into(), now.into()],
                ))
                .one(&*tx)
                .await?
        } else {
            let next = outbox::Entity::find()
                .filter(outbox::Column::SentAt.is_null())
                .filter(outbox::Column::FailedAt.is_null())
                .filter(outbox::Column::NextAttemptAt.lte(now))
                .order_by_asc(outbox::Column::NextAttemptAt)
                .one(&*tx)
                .await?;
            if let Some(row) = &next {
                outbox::Entity::update_many()
                    .col_expr(outbox::Column::NextAttemptAt, sea_orm::sea_query::Expr::value(lease))
                    .filter(outbox::Column::Id.eq(row.id))
                    .exec(&*tx)
                    .await?;
            }
            next
        };
        tx.commit().await?;
        Ok(claimed)
    }

    /// Sends what is due now (up to 20 messages); returns how many it handled.
    pub async fn run_once(&self) -> Result<usize, DbErr> {
        let mut handled = 0;
        while handled < 20 {
            let Some(row) = self.claim_next().await? else { break };
            handled += 1;
            let result = match Opened::of(&self.keys, &self.store.db, &row).await {
                Ok(opened) => self.mailer.deliver(&row, opened).await,
                Err(e) => Err(e),
            };
            let now = self.clock.now();
            let tx = self.store.write().await?;
            let mut update = outbox::ActiveModel { id: Set(row.id), ..Default::default() };
            match result {
                Ok(()) => {
                    update.sent_at = Set(Some(now));
                    update.body_enc = Set(String::new());
                    update.html_enc = Set(None);
                    update.attachments_enc = Set(None);
                    update.last_error = Set(None);
                    tracing::info!(kind = %row.kind, outbox_id = %row.id, "mail delivered");
                }
                Err(failure) => {
                    let attempts = row.attempts + 1;
                    update.attempts = Set(attempts);
                    let signin = row.kind == SIGNIN_KIND;
                    let (error, permanent) = match failure {
                        Failure::Permanent(e) => (e, true),
                        Failure::Temporary(e) if signin && now >= row.created_at + SIGNIN_LIFE => {
                            (format!("{e} (the sign-in link expired before it could be delivered)"), true)
                        }
                        Failure::Temporary(e) => (e, false),
                    };
                    if permanent {
                        // Nothing of it is kept but who, what kind and why.
                        update.failed_at = Set(Some(now));
                        update.body_enc = Set(String::new());
                        update.html_enc = Set(None);
                        update.attachments_enc = Set(None);
                        tracing::warn!(kind = %row.kind, outbox_id = %row.id, attempts, error = %error, "mail delivery failed for good");
                    } else {
                        let wait =
                            if signin { backoff(row.attempts).min(SIGNIN_RETRY_MAX) } else { backoff(row.attempts) };
                        update.next_attempt_at = Set(now + wait);
                        tracing::warn!(kind = %row.kind, outbox_id = %row.id, attempts, error = %error, "mail delivery failed; will retry");
                    }
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

    #[test]
    fn long_errors_are_cut_between_characters() {
        for pad in 0..4 {
            for wide in ["ü", "€", "𝄞"] {
                let error = format!("{}{}", "x".repeat(pad), wide.repeat(400));
                let kept = scrub(&error);
                assert!(kept.len() <= ERROR_MAX_BYTES && kept.len() > ERROR_MAX_BYTES - 4, "{pad} {wide}");
                assert!(error.starts_with(&kept));
            }
        }
        assert_eq!(scrub("short"), "short");
    }

    #[tokio::test]
    async fn a_supervised_worker_that_panics_is_started_again() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let done = std::sync::Mutex::new(Some(done));
        let task = supervise("test", move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let done = if n == 1 { done.lock().unwrap().take() } else { None };
            async move {
                if n == 0 {
                    panic!("a bug in the first run");
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), finished).await.expect("restarted").unwrap();
        task.await.expect("the supervisor itself ends normally once its worker returns");
        assert_eq!(starts.load(Ordering::SeqCst), 2);
    }
}
