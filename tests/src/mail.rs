//! A real SMTP receiver on a free port, inside the test process. The server under test
//! speaks SMTP to it; tests read what arrived.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Notify};

/// One message as received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The decoded text/plain part (or the whole body if not multipart).
    pub text: String,
    /// The decoded text/html part, if any.
    pub html: Option<String>,
    /// Names and content types of attachments.
    pub attachments: Vec<(String, String, Vec<u8>)>,
    pub raw: Vec<u8>,
}

#[derive(Clone)]
pub struct MailSink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    accepting: Arc<AtomicBool>,
    /// While set, every message is refused with this reply (code and text).
    refusal: Arc<std::sync::Mutex<Option<String>>>,
    /// While set, connections are closed at once, before any greeting (a server down).
    closing: Arc<AtomicBool>,
    /// While set, the server greets with this reply and hangs up (e.g. `421 …`).
    greeting: Arc<std::sync::Mutex<Option<String>>>,
    /// Recipients refused for good (`550`).
    rejected: Arc<std::sync::Mutex<Vec<String>>>,
    /// How long a message's data is held before it is accepted, in milliseconds.
    pace_ms: Arc<std::sync::atomic::AtomicU64>,
    /// Messages whose data arrived and which are being held before the answer.
    held: Arc<std::sync::atomic::AtomicUsize>,
}

impl MailSink {
    pub async fn start() -> MailSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let sink = MailSink {
            addr: listener.local_addr().expect("addr"),
            messages: Arc::default(),
            arrived: Arc::default(),
            accepting: Arc::new(AtomicBool::new(true)),
            refusal: Arc::default(),
            closing: Arc::default(),
            greeting: Arc::default(),
            rejected: Arc::default(),
            pace_ms: Arc::default(),
            held: Arc::default(),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if s.closing.load(Ordering::SeqCst) {
                    drop(stream);
                    continue;
                }
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream).await;
                });
            }
        });
        sink
    }

    /// `HAVEN_SMTP_URL` for a server that should deliver here.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// While false, every message is refused with a temporary failure (a mail server down).
    pub fn set_accepting(&self, on: bool) {
        self.accepting.store(on, Ordering::SeqCst);
    }

    /// While `Some`, every message is refused with this reply instead (e.g. `451 …`: a
    /// temporary failure with the mail server's own words, however long or non-ASCII).
    pub fn refuse_with(&self, reply: Option<&str>) {
        *self.refusal.lock().expect("refusal lock") = reply.map(str::to_owned);
    }

    /// While true, connections are closed before the greeting (the mail server is down).
    pub fn close_connections(&self, on: bool) {
        self.closing.store(on, Ordering::SeqCst);
    }

    /// While `Some`, the server greets with this reply (e.g. `421 4.3.2 …`) and hangs up.
    pub fn greet_with(&self, reply: Option<&str>) {
        *self.greeting.lock().expect("greeting lock") = reply.map(str::to_owned);
    }

    /// Refuses these recipients for good (`550 5.1.1`), case-insensitively.
    pub fn reject_recipients(&self, addresses: &[&str]) {
        *self.rejected.lock().expect("rejected lock") = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
    }

    /// Holds each message this long after its data before accepting it, as a slow mail
    /// server does. A client that goes away meanwhile (killed) has not handed it over: it
    /// is not kept, as a real server drops a transaction it never answered.
    pub fn pace(&self, each: Duration) {
        self.pace_ms.store(each.as_millis() as u64, Ordering::SeqCst);
    }

    /// Whether a message is being handed over right now (held, not yet accepted).
    pub fn holding(&self) -> bool {
        self.held.load(Ordering::SeqCst) > 0
    }

    pub async fn all(&self) -> Vec<Mail> {
        self.messages.lock().await.clone()
    }

    /// Messages to this address (compared case-insensitively).
    pub async fn to(&self, address: &str) -> Vec<Mail> {
        self.all().await.into_iter().filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address))).collect()
    }

    /// Waits (up to `timeout`) for a message matching `pred`.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&Mail) -> bool) -> Mail {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            if let Some(m) = self.all().await.into_iter().find(|m| pred(m)) {
                return m;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> =
                    self.all().await.iter().map(|m| format!("{:?} {:?}", m.to, m.subject)).collect();
                panic!("no matching e-mail arrived within {timeout:?}; received: {seen:?}");
            }
        }
    }

    /// Waits for the next message to `address`, after `already` earlier ones.
    pub async fn wait_for_to(&self, address: &str, timeout: Duration) -> Mail {
        let a = address.to_owned();
        self.wait_for(timeout, move |m| m.to.iter().any(|t| t.eq_ignore_ascii_case(&a))).await
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let greeting = self.greeting.lock().expect("greeting lock").clone();
        if let Some(reply) = greeting {
            write.write_all(format!("{reply}\r\n").as_bytes()).await?;
            return Ok(());
        }
        write.write_all(b"220 haven-test-smtp ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            // A server going down cuts the connections it had too (the client's pool).
            if self.closing.load(Ordering::SeqCst) {
                return Ok(());
            }
            let greeting = self.greeting.lock().expect("greeting lock").clone();
            if let Some(reply) = greeting {
                write.write_all(format!("{reply}\r\n").as_bytes()).await?;
                return Ok(());
            }
            let cmd = line.trim_end().to_owned();
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                write
                    .write_all(b"250-haven-test-smtp\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 20000000\r\n")
                    .await?;
            } else if upper.starts_with("HELO") {
                write.write_all(b"250 haven-test-smtp\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                let refusal = self.refusal.lock().expect("refusal lock").clone();
                if let Some(reply) = refusal {
                    write.write_all(format!("{reply}\r\n").as_bytes()).await?;
                    continue;
                }
                if !self.accepting.load(Ordering::SeqCst) {
                    write.write_all(b"451 4.3.0 temporarily unavailable\r\n").await?;
                    continue;
                }
                from = address_in(&cmd[10..]);
                to.clear();
                write.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                let rcpt = address_in(&cmd[8..]);
                if self.rejected.lock().expect("rejected lock").contains(&rcpt.to_ascii_lowercase()) {
                    write.write_all(b"550 5.1.1 mailbox unavailable\r\n").await?;
                    continue;
                }
                to.push(rcpt);
                write.write_all(b"250 OK\r\n").await?;
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut raw = Vec::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" || l == ".\n" {
                        break;
                    }
                    let l = l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l);
                    raw.extend_from_slice(l.as_bytes());
                }
                let pace = self.pace_ms.load(Ordering::SeqCst);
                if pace > 0 {
                    self.held.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(pace)).await;
                    self.held.fetch_sub(1, Ordering::SeqCst);
                    // A client waiting for our answer sends nothing: an end of stream now
                    // means it is gone.
                    if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), lines.fill_buf())
                        .await
                        .map(|b| b.map(|b| b.len()))
                    {
                        return Ok(());
                    }
                }
                let mail = parse(from.clone(), to.clone(), raw);
                self.messages.lock().await.push(mail);
                self.arrived.notify_waiters();
                write.write_all(b"250 OK queued\r\n").await?;
            } else if upper == "RSET" || upper == "NOOP" {
                write.write_all(b"250 OK\r\n").await?;
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"502 command not implemented\r\n").await?;
            }
        }
    }
}

fn address_in(arg: &str) -> String {
    let arg = arg.trim();
    let inner = arg.split('>').next().unwrap_or(arg);
    inner.trim_start_matches('<').trim().to_owned()
}

fn parse(from: String, to: Vec<String>, raw: Vec<u8>) -> Mail {
    let mut mail = Mail {
        from,
        to,
        subject: String::new(),
        text: String::new(),
        html: None,
        attachments: Vec::new(),
        raw: raw.clone(),
    };
    let Ok(parsed) = mailparse::parse_mail(&raw) else {
        mail.text = String::from_utf8_lossy(&raw).into_owned();
        return mail;
    };
    use mailparse::MailHeaderMap;
    mail.subject = parsed.headers.get_first_value("Subject").unwrap_or_default();
    collect_parts(&parsed, &mut mail);
    mail
}

fn collect_parts(part: &mailparse::ParsedMail<'_>, mail: &mut Mail) {
    if !part.subparts.is_empty() {
        for sub in &part.subparts {
            collect_parts(sub, mail);
        }
        return;
    }
    let disposition = part.get_content_disposition();
    let mime = part.ctype.mimetype.to_ascii_lowercase();
    if disposition.disposition == mailparse::DispositionType::Attachment || !mime.starts_with("text/") {
        let name = disposition
            .params
            .get("filename")
            .cloned()
            .or_else(|| part.ctype.params.get("name").cloned())
            .unwrap_or_default();
        mail.attachments.push((name, mime, part.get_body_raw().unwrap_or_default()));
    } else if mime == "text/html" {
        mail.html = part.get_body().ok();
    } else if mail.text.is_empty() {
        mail.text = part.get_body().unwrap_or_default();
    }
}
