//! Layered settings: an optional TOML file, then `HAVEN_*` environment variables (which
//! win). Every setting is parsed and checked at start; a bad one stops the process with
//! one line naming it and what is wrong. Secrets are wrapped in [`Secret`] so they are
//! never printed or logged.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A value that must never be shown: `Debug` and `Display` print a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

/// A setting that could not be accepted: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

impl ConfigError {
    fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
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

#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// The address people use to reach Haven; links in e-mail start with it.
    pub public_url: String,
    pub data_dir: PathBuf,
    /// Where the built site (wasm, JS, CSS) lives.
    pub site_root: PathBuf,
    pub database: DatabaseSettings,
    pub migrate_on_start: bool,
    pub log_format: LogFormat,
    pub log_filter: String,
}

/// Where a raw value came from, so errors can point at it.
#[derive(Debug, Clone)]
enum Source {
    File,
    Env,
}

#[derive(Debug, Clone)]
struct Raw {
    value: String,
    source: Source,
}

/// Keys this version understands, with whether they are secret (for `check-config`).
const KNOWN: &[(&str, bool)] = &[
    ("addr", false),
    ("public_url", false),
    ("data_dir", false),
    ("site_root", false),
    ("database_url", true),
    ("database_max_connections", false),
    ("database_connect_timeout_secs", false),
    ("migrate_on_start", false),
    ("log_format", false),
    ("log", false),
];

struct RawSettings {
    values: BTreeMap<String, Raw>,
}

impl RawSettings {
    fn name(key: &str) -> String {
        format!("HAVEN_{}", key.to_uppercase())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|r| r.value.as_str())
    }

    /// The setting's name as the person wrote it, for error messages.
    fn label(&self, key: &str) -> String {
        match self.values.get(key).map(|r| &r.source) {
            Some(Source::File) => format!("{key} (config file)"),
            _ => Self::name(key),
        }
    }

    fn err(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.label(key), problem)
    }

    fn parse_or<T: std::str::FromStr>(
        &self,
        key: &str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| self.err(key, format!("expected {what}, got {v:?}"))),
        }
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(self.err(key, format!("expected true or false, got {v:?}"))),
        }
    }
}

impl Settings {
    /// Loads the settings from an optional TOML file and the given environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut values = BTreeMap::new();
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new("HAVEN_CONFIG", format!("cannot read {shown}: {e}"))
            })?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                ConfigError::new(
                    "HAVEN_CONFIG",
                    format!("{shown} is not valid TOML: {}", e.message()),
                )
            })?;
            flatten("", &table, &mut values)?;
        }
        for (name, value) in env {
            if let Some(key) = name.strip_prefix("HAVEN_") {
                let key = key.to_ascii_lowercase();
                if KNOWN.iter().any(|(k, _)| *k == key) {
                    values.insert(
                        key,
                        Raw {
                            value,
                            source: Source::Env,
                        },
                    );
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
        let addr: SocketAddr = raw.parse_or(
            "addr",
            SocketAddr::from(([127, 0, 0, 1], 3000)),
            "an address like 127.0.0.1:3000",
        )?;
        let data_dir = PathBuf::from(raw.get("data_dir").unwrap_or("./data"));
        if data_dir.as_os_str().is_empty() {
            return Err(raw.err("data_dir", "must not be empty"));
        }
        let site_root = PathBuf::from(raw.get("site_root").unwrap_or("target/site"));
        let public_url = match raw.get("public_url") {
            None => format!("http://{addr}"),
            Some(url) => {
                let url = url.trim().trim_end_matches('/');
                if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                    return Err(raw.err("public_url", "expected an http:// or https:// URL"));
                }
                url.to_owned()
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
        Ok(Settings {
            addr,
            public_url,
            data_dir,
            site_root,
            database,
            migrate_on_start: raw.bool_or("migrate_on_start", true)?,
            log_format,
            log_filter,
        })
    }

    /// Every setting with its effective value, secrets masked: what `check-config` prints.
    pub fn describe(&self) -> Vec<(String, String)> {
        let db_target = match &self.database.kind {
            DatabaseKind::Sqlite { path } => format!("sqlite {}", path.display()),
            DatabaseKind::Postgres { target } => format!("postgres {target}"),
        };
        let mut rows = vec![
            ("HAVEN_ADDR", self.addr.to_string()),
            ("HAVEN_PUBLIC_URL", self.public_url.clone()),
            ("HAVEN_DATA_DIR", self.data_dir.display().to_string()),
            ("HAVEN_SITE_ROOT", self.site_root.display().to_string()),
            (
                "HAVEN_DATABASE_URL",
                format!("{} ({db_target})", self.database.url),
            ),
            (
                "HAVEN_DATABASE_MAX_CONNECTIONS",
                self.database.max_connections.to_string(),
            ),
            (
                "HAVEN_DATABASE_CONNECT_TIMEOUT_SECS",
                self.database.connect_timeout.as_secs().to_string(),
            ),
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
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<Vec<_>>();
        rows.sort();
        rows
    }
}

fn parse_database(raw: &RawSettings, data_dir: &Path) -> Result<DatabaseSettings, ConfigError> {
    let max_connections: u32 = raw.parse_or(
        "database_max_connections",
        10,
        "a whole number from 1 to 1000",
    )?;
    if !(1..=1000).contains(&max_connections) {
        return Err(raw.err(
            "database_max_connections",
            "expected a whole number from 1 to 1000",
        ));
    }
    let timeout: u64 = raw.parse_or("database_connect_timeout_secs", 5, "a number of seconds")?;
    if !(1..=300).contains(&timeout) {
        return Err(raw.err("database_connect_timeout_secs", "expected 1 to 300 seconds"));
    }
    let (url, kind) = match raw.get("database_url").map(str::trim) {
        None | Some("") => {
            let path = data_dir.join("haven.db");
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                DatabaseKind::Sqlite { path },
            )
        }
        Some(url) => (
            url.to_owned(),
            database_kind(url).map_err(|p| raw.err("database_url", p))?,
        ),
    };
    Ok(DatabaseSettings {
        url: Secret::new(url),
        kind,
        max_connections,
        connect_timeout: Duration::from_secs(timeout),
    })
}

/// Tells SQLite from PostgreSQL and checks the URL's shape. Problems never quote the URL,
/// which may carry a password.
fn database_kind(url: &str) -> Result<DatabaseKind, String> {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err("a sqlite: URL needs a file path, e.g. sqlite://data/haven.db".into());
        }
        return Ok(DatabaseKind::Sqlite {
            path: PathBuf::from(path),
        });
    }
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or("expected a URL starting with sqlite:// or postgres://")?;
    let authority_and_path = rest.split('?').next().unwrap_or_default();
    let (authority, database) = authority_and_path
        .split_once('/')
        .unwrap_or((authority_and_path, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return Err(
            "a postgres:// URL needs a host, e.g. postgres://user@127.0.0.1:5432/haven".into(),
        );
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
    Ok(DatabaseKind::Postgres {
        target: format!("{host_port}/{database}"),
    })
}

/// Turns nested TOML tables into flat keys (`[smtp] url` becomes `smtp_url`) and refuses
/// keys this version does not know, so a typo is caught at start, not ignored.
fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, Raw>,
) -> Result<(), ConfigError> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}_{key}")
        };
        let text = match value {
            toml::Value::Table(inner) => {
                flatten(&full, inner, out)?;
                continue;
            }
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            _ => {
                return Err(ConfigError::new(
                    format!("{full} (config file)"),
                    "unsupported value type",
                ));
            }
        };
        if !KNOWN.iter().any(|(k, _)| *k == full) {
            return Err(ConfigError::new(
                format!("{full} (config file)"),
                "unknown setting",
            ));
        }
        out.insert(
            full,
            Raw {
                value: text,
                source: Source::File,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_to_an_embedded_sqlite_file_under_data() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            s.database.kind,
            DatabaseKind::Sqlite {
                path: PathBuf::from("./data/haven.db")
            }
        );
        assert!(s.migrate_on_start);
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_its_password_is_never_shown() {
        let s = Settings::load(
            None,
            env(&[("HAVEN_DATABASE_URL", "postgres://u:hunter2@db:5432/haven")]),
        )
        .unwrap();
        assert_eq!(
            s.database.kind,
            DatabaseKind::Postgres {
                target: "db:5432/haven".into()
            }
        );
        let shown = format!("{:?} {:?}", s, s.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("haven-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("haven.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:4000\"\nlog_format = \"json\"\n").unwrap();
        let s = Settings::load(Some(&file), env(&[("HAVEN_ADDR", "127.0.0.1:5000")])).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:5000");
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn malformed_settings_name_the_setting_and_the_problem() {
        let cases = [
            (
                "HAVEN_DATABASE_URL",
                "mysql://x/y",
                "sqlite:// or postgres://",
            ),
            ("HAVEN_DATABASE_URL", "postgres://u:pw@h:99999/db", "port"),
            ("HAVEN_DATABASE_URL", "postgres://h:5432", "database name"),
            ("HAVEN_ADDR", "localhost", "address"),
            ("HAVEN_LOG_FORMAT", "xml", "text or json"),
            ("HAVEN_MIGRATE_ON_START", "maybe", "true or false"),
            ("HAVEN_DATABASE_MAX_CONNECTIONS", "0", "1 to 1000"),
        ];
        for (key, value, expected) in cases {
            let err = Settings::load(None, env(&[(key, value)])).unwrap_err();
            assert_eq!(err.setting, key);
            assert!(err.problem.contains(expected), "{key}={value}: {err}");
            assert!(!err.to_string().contains("pw@"), "{err}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = std::env::temp_dir().join(format!("haven-config-unknown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("haven.toml");
        std::fs::write(&file, "adress = \"127.0.0.1:4000\"\n").unwrap();
        let err = Settings::load(Some(&file), env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting adress (config file): unknown setting"
        );
    }
}
