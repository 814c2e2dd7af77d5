//! Layered settings: an optional TOML file, then `HAVEN_*` environment variables (which
//! win). Every setting is parsed and checked at start; a bad one stops the process with
//! one line naming it and what is wrong. Secrets are wrapped in [`Secret`] so they are
//! never printed or logged.

mod network;
mod raw;

pub use crate::crypto::fields::EncryptionSettings;
pub use crate::secret::Secret;
pub use network::{Network, TrustedProxies};
use raw::{Raw, RawSettings, Source, flatten, known, oidc_key};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A setting that could not be accepted: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl ConfigError {
    fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { setting: setting.into(), problem: problem.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which database, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    /// An embedded SQLite file.
    Sqlite { path: PathBuf },
    /// A PostgreSQL server; `target` is `host:port/database`, safe to show.
    Postgres { target: String },
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// The full URL; may carry a password, so it stays secret.
    pub url: Secret<String>,
    pub kind: DatabaseKind,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

/// An OpenID Connect provider people may sign in with.
#[derive(Debug, Clone)]
pub struct OidcProviderSettings {
    /// The short id used in URLs (`/auth/oidc/<id>/start`).
    pub id: String,
    /// The name on the sign-in button.
    pub name: String,
    /// The issuer URL; its `/.well-known/openid-configuration` names the endpoints.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret<String>,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtps://…` or `smtp://…?tls=required`, with optional
    /// `user:password@`. Without it, mail is written as .eml files under `data_dir/mail`.
    pub smtp_url: Option<Secret<String>>,
    /// The From: address.
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// The address people use to reach Haven; links in e-mail start with it. When unset,
    /// `http://` and the bound address (see [`Settings::public_url_for`]).
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    /// Where the built site (wasm, JS, CSS) lives.
    pub site_root: PathBuf,
    pub database: DatabaseSettings,
    pub migrate_on_start: bool,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub mail: MailSettings,
    pub oidc: Vec<OidcProviderSettings>,
    /// A session ends after this long without a request…
    pub session_idle: Duration,
    /// …and after this long in any case.
    pub session_max: Duration,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    /// Whose `X-Forwarded-For` entries are believed (with `trust_proxy_headers`).
    pub trusted_proxies: TrustedProxies,
    pub encryption: EncryptionSettings,
    /// An escort assignment not acknowledged this long after it was made is escalated to
    /// the case owner…
    pub escort_ack_within: Duration,
    /// …or this long before its first window starts, whichever comes first.
    pub escort_ack_before_start: Duration,
    /// Wrapping keys replaced by an erasure run are kept this many days (so a recent
    /// database backup can still be restored), then destroyed.
    pub old_wrapping_key_days: u32,
    /// Where the audit chain's head is mailed once a day (the installation's operators).
    pub audit_checkpoint_to: Option<String>,
    /// `GET /metrics` on the main address answers only with `Authorization: Bearer <this>`
    /// (and, when set, on the metrics address too).
    pub metrics_token: Option<Secret<String>>,
    /// A separate address serving only `/metrics` (for a monitoring network).
    pub metrics_addr: Option<SocketAddr>,
}

impl Settings {
    /// Loads the settings from an optional TOML file and the given environment.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Settings, ConfigError> {
        let mut values = BTreeMap::new();
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::new("HAVEN_CONFIG", format!("cannot read {shown}: {e}")))?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                ConfigError::new("HAVEN_CONFIG", format!("{shown} is not valid TOML: {}", e.message()))
            })?;
            flatten("", &table, &mut values)?;
        }
        for (name, value) in env {
            if let Some(key) = name.strip_prefix("HAVEN_") {
                let key = key.to_ascii_lowercase();
                if known(&key) {
                    values.insert(key, Raw { value, source: Source::Env });
                }
            }
        }
        Self::from_raw(RawSettings { values })
    }

    /// Loads from `--config`/`HAVEN_CONFIG` and the process environment.
    pub fn from_process(config_file: Option<PathBuf>) -> Result<Settings, ConfigError> {
        let file = config_file.or_else(|| std::env::var_os("HAVEN_CONFIG").map(PathBuf::from));
        Self::load(file.as_deref(), std::env::vars())
    }

    fn from_raw(raw: RawSettings) -> Result<Settings, ConfigError> {
        let addr: SocketAddr =
            raw.parse_or("addr", SocketAddr::from(([127, 0, 0, 1], 3000)), "an address like 127.0.0.1:3000")?;
        let data_dir = PathBuf::from(raw.get("data_dir").unwrap_or("./data"));
        if data_dir.as_os_str().is_empty() {
            return Err(raw.err("data_dir", "must not be empty"));
        }
        let site_root = PathBuf::from(raw.get("site_root").unwrap_or("target/site"));
        let public_url = match raw.get("public_url") {
            None => None,
            Some(url) => {
                let url = url.trim().trim_end_matches('/');
                if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                    return Err(raw.err("public_url", "expected an http:// or https:// URL"));
                }
                Some(url.to_owned())
            }
        };
        let database = parse_database(&raw, &data_dir)?;
        let log_format = match raw.get("log_format").map(|v| v.trim().to_ascii_lowercase()) {
            None => LogFormat::Text,
            Some(v) if v == "text" => LogFormat::Text,
            Some(v) if v == "json" => LogFormat::Json,
            Some(v) => {
                return Err(raw.err("log_format", format!("expected text or json, got {v:?}")));
            }
        };
        let log_filter = raw.get("log").unwrap_or("info").to_owned();
        if tracing_subscriber::EnvFilter::try_new(&log_filter).is_err() {
            return Err(raw.err("log", format!("not a valid log filter: {log_filter:?}")));
        }
        let from = raw.get("mail_from").unwrap_or("Haven <haven@localhost>").trim().to_owned();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(raw.err("mail_from", "expected an address like Haven <safety@example.org>"));
        }
        let smtp_url = match raw.get("smtp_url").map(str::trim) {
            None | Some("") => None,
            Some(url) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(raw.err("smtp_url", "expected a URL starting with smtp:// or smtps://"));
                }
                Some(Secret::new(url.to_owned()))
            }
        };
        let idle: u64 = raw.parse_or("session_idle_minutes", 480, "a number of minutes")?;
        let max: u64 = raw.parse_or("session_max_hours", 168, "a number of hours")?;
        if !(5..=10_080).contains(&idle) {
            return Err(raw.err("session_idle_minutes", "expected 5 to 10080 minutes"));
        }
        if !(1..=2_160).contains(&max) {
            return Err(raw.err("session_max_hours", "expected 1 to 2160 hours"));
        }
        let ack_within: u64 = raw.parse_or("escort_ack_minutes", 120, "a number of minutes")?;
        let ack_before: u64 = raw.parse_or("escort_ack_before_start_minutes", 30, "a number of minutes")?;
        if !(5..=10_080).contains(&ack_within) {
            return Err(raw.err("escort_ack_minutes", "expected 5 to 10080 minutes"));
        }
        let old_wrapping_key_days: u32 = raw.parse_or("old_wrapping_key_days", 7, "a number of days")?;
        if old_wrapping_key_days > 365 {
            return Err(raw.err("old_wrapping_key_days", "expected 0 to 365 days"));
        }
        if ack_before > 1_440 {
            return Err(raw.err("escort_ack_before_start_minutes", "expected 0 to 1440 minutes"));
        }
        let encryption = match raw.get("encryption_keys").map(str::trim).filter(|v| !v.is_empty()) {
            Some(keys) => {
                crate::crypto::fields::Keyring::parse(&keys.replace(',', "\n").replace(':', " "))
                    .map_err(|e| raw.err("encryption_keys", format!("{e} (expected id:base64key,id:base64key)")))?;
                EncryptionSettings::Inline(Secret::new(keys.to_owned()))
            }
            None => EncryptionSettings::File(
                raw.get("encryption_key_file")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("keys").join("field.keys")),
            ),
        };
        let trust_proxy_headers = raw.bool_or("trust_proxy_headers", false)?;
        let trusted_proxies = match raw.get("trusted_proxies").map(str::trim) {
            None | Some("") => TrustedProxies::Count(1),
            Some(_) if !trust_proxy_headers => {
                return Err(raw.err("trusted_proxies", "has no effect unless HAVEN_TRUST_PROXY_HEADERS=true"));
            }
            Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => match v.parse::<usize>() {
                Ok(n @ 1..=10) => TrustedProxies::Count(n),
                _ => return Err(raw.err("trusted_proxies", "expected a number of proxies from 1 to 10")),
            },
            Some(v) => TrustedProxies::Networks(
                v.split(',')
                    .map(|n| {
                        Network::parse(n).ok_or_else(|| {
                            raw.err(
                                "trusted_proxies",
                                format!(
                                    "expected a count or networks like 10.0.0.0/8,192.168.1.5; {:?} is not one",
                                    n.trim()
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let metrics_token = match raw.get("metrics_token").map(str::trim) {
            None | Some("") => None,
            Some(token) => {
                if token.chars().count() < 16 || !token.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(raw.err("metrics_token", "expected at least 16 visible characters without spaces"));
                }
                Some(Secret::new(token.to_owned()))
            }
        };
        let metrics_addr =
            match raw.get("metrics_addr").map(str::trim) {
                None | Some("") => None,
                Some(a) => Some(a.parse::<SocketAddr>().map_err(|_| {
                    raw.err("metrics_addr", format!("expected an address like 127.0.0.1:9100, got {a:?}"))
                })?),
            };
        let audit_checkpoint_to = match raw.get("audit_checkpoint_to").map(str::trim) {
            None | Some("") => None,
            Some(to) => {
                if to.parse::<lettre::Address>().is_err() {
                    return Err(raw.err("audit_checkpoint_to", "expected one e-mail address, like ops@example.org"));
                }
                Some(to.to_owned())
            }
        };
        Ok(Settings {
            audit_checkpoint_to,
            metrics_token,
            metrics_addr,
            encryption,
            addr,
            public_url,
            data_dir,
            site_root,
            database,
            migrate_on_start: raw.bool_or("migrate_on_start", true)?,
            log_format,
            log_filter,
            mail: MailSettings { smtp_url, from },
            oidc: parse_oidc(&raw)?,
            session_idle: Duration::from_secs(idle * 60),
            session_max: Duration::from_secs(max * 3600),
            trust_proxy_headers,
            trusted_proxies,
            escort_ack_within: Duration::from_secs(ack_within * 60),
            escort_ack_before_start: Duration::from_secs(ack_before * 60),
            old_wrapping_key_days,
        })
    }

    /// The public URL, or `http://<bound address>` when none is set.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }

    /// Every setting with its effective value, secrets masked: what `check-config` prints.
    pub fn describe(&self) -> Vec<(String, String)> {
        let db_target = match &self.database.kind {
            DatabaseKind::Sqlite { path } => format!("sqlite {}", path.display()),
            DatabaseKind::Postgres { target } => format!("postgres {target}"),
        };
        let mut rows = vec![
            ("HAVEN_ADDR", self.addr.to_string()),
            ("HAVEN_PUBLIC_URL", self.public_url_for(self.addr)),
            ("HAVEN_DATA_DIR", self.data_dir.display().to_string()),
            ("HAVEN_SITE_ROOT", self.site_root.display().to_string()),
            ("HAVEN_DATABASE_URL", format!("{} ({db_target})", self.database.url)),
            ("HAVEN_DATABASE_MAX_CONNECTIONS", self.database.max_connections.to_string()),
            ("HAVEN_DATABASE_CONNECT_TIMEOUT_SECS", self.database.connect_timeout.as_secs().to_string()),
            ("HAVEN_MIGRATE_ON_START", self.migrate_on_start.to_string()),
            (
                "HAVEN_LOG_FORMAT",
                match self.log_format {
                    LogFormat::Text => "text",
                    LogFormat::Json => "json",
                }
                .to_owned(),
            ),
            ("HAVEN_LOG", self.log_filter.clone()),
            (
                "HAVEN_SMTP_URL",
                self.mail
                    .smtp_url
                    .as_ref()
                    .map_or("(none: mail is written to DATA_DIR/mail)".to_owned(), |s| s.to_string()),
            ),
            ("HAVEN_MAIL_FROM", self.mail.from.clone()),
            ("HAVEN_SESSION_IDLE_MINUTES", (self.session_idle.as_secs() / 60).to_string()),
            ("HAVEN_SESSION_MAX_HOURS", (self.session_max.as_secs() / 3600).to_string()),
            ("HAVEN_TRUST_PROXY_HEADERS", self.trust_proxy_headers.to_string()),
            ("HAVEN_TRUSTED_PROXIES", self.trusted_proxies.to_string()),
            ("HAVEN_ESCORT_ACK_MINUTES", (self.escort_ack_within.as_secs() / 60).to_string()),
            ("HAVEN_ESCORT_ACK_BEFORE_START_MINUTES", (self.escort_ack_before_start.as_secs() / 60).to_string()),
            ("HAVEN_OLD_WRAPPING_KEY_DAYS", self.old_wrapping_key_days.to_string()),
            ("HAVEN_METRICS_TOKEN", self.metrics_token.as_ref().map_or("(none)".to_owned(), |t| t.to_string())),
            ("HAVEN_METRICS_ADDR", self.metrics_addr.map_or("(none)".to_owned(), |a| a.to_string())),
            (
                "HAVEN_AUDIT_CHECKPOINT_TO",
                self.audit_checkpoint_to.clone().unwrap_or_else(|| "(none: the audit head is not mailed)".to_owned()),
            ),
            (
                "HAVEN_ENCRYPTION_KEYS",
                match &self.encryption {
                    EncryptionSettings::Inline(k) => k.to_string(),
                    EncryptionSettings::File(p) => format!("(none: keys in {})", p.display()),
                },
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<Vec<_>>();
        for p in &self.oidc {
            let prefix = format!("HAVEN_OIDC_{}", p.id.to_uppercase());
            rows.push((format!("{prefix}_NAME"), p.name.clone()));
            rows.push((format!("{prefix}_ISSUER"), p.issuer.clone()));
            rows.push((format!("{prefix}_CLIENT_ID"), p.client_id.clone()));
            rows.push((format!("{prefix}_CLIENT_SECRET"), p.client_secret.to_string()));
        }
        rows.sort();
        rows
    }
}

fn parse_database(raw: &RawSettings, data_dir: &Path) -> Result<DatabaseSettings, ConfigError> {
    let max_connections: u32 = raw.parse_or("database_max_connections", 10, "a whole number from 1 to 1000")?;
    if !(1..=1000).contains(&max_connections) {
        return Err(raw.err("database_max_connections", "expected a whole number from 1 to 1000"));
    }
    let timeout: u64 = raw.parse_or("database_connect_timeout_secs", 5, "a number of seconds")?;
    if !(1..=300).contains(&timeout) {
        return Err(raw.err("database_connect_timeout_secs", "expected 1 to 300 seconds"));
    }
    let (url, kind) = match raw.get("database_url").map(str::trim) {
        None | Some("") => {
            let path = data_dir.join("haven.db");
            (format!("sqlite://{}?mode=rwc", path.display()), DatabaseKind::Sqlite { path })
        }
        Some(url) => (url.to_owned(), database_kind(url).map_err(|p| raw.err("database_url", p))?),
    };
    Ok(DatabaseSettings { url: Secret::new(url), kind, max_connections, connect_timeout: Duration::from_secs(timeout) })
}

/// Collects every `oidc_<id>_*` group into a provider; each needs an issuer, a client id
/// and a secret.
fn parse_oidc(raw: &RawSettings) -> Result<Vec<OidcProviderSettings>, ConfigError> {
    let mut ids: Vec<&str> = raw.values.keys().filter_map(|k| oidc_key(k).map(|(id, _)| id)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let key = |field: &str| format!("oidc_{id}_{field}");
        let required = |field: &str| -> Result<String, ConfigError> {
            match raw.get(&key(field)).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(v.to_owned()),
                _ => Err(ConfigError::new(
                    RawSettings::name(&key(field)),
                    format!("is required for the OIDC provider {id:?}"),
                )),
            }
        };
        let issuer = required("issuer")?.trim_end_matches('/').to_owned();
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err(raw.err(&key("issuer"), "expected an https:// URL"));
        }
        out.push(OidcProviderSettings {
            id: id.to_owned(),
            name: raw.get(&key("name")).map(str::trim).filter(|n| !n.is_empty()).unwrap_or(id).to_owned(),
            issuer,
            client_id: required("client_id")?,
            client_secret: Secret::new(required("client_secret")?),
        });
    }
    Ok(out)
}

/// Tells SQLite from PostgreSQL and checks the URL's shape. Problems never quote the URL,
/// which may carry a password.
fn database_kind(url: &str) -> Result<DatabaseKind, String> {
    if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err("a sqlite: URL needs a file path, e.g. sqlite://data/haven.db".into());
        }
        return Ok(DatabaseKind::Sqlite { path: PathBuf::from(path) });
    }
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or("expected a URL starting with sqlite:// or postgres://")?;
    let authority_and_path = rest.split('?').next().unwrap_or_default();
    let (authority, database) = authority_and_path.split_once('/').unwrap_or((authority_and_path, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return Err("a postgres:// URL needs a host, e.g. postgres://user@127.0.0.1:5432/haven".into());
    }
    if let Some((_, port)) = host_port.rsplit_once(':')
        && !port.is_empty()
        && port.parse::<u16>().is_err()
    {
        return Err("the port of the postgres:// URL is not a number from 1 to 65535".into());
    }
    if database.is_empty() {
        return Err("a postgres:// URL needs a database name after the host, e.g. /haven".into());
    }
    Ok(DatabaseKind::Postgres { target: format!("{host_port}/{database}") })
}

#[cfg(test)]
mod tests;
