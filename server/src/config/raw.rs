//! Raw settings as read from the TOML file and the environment, before they are parsed:
//! the keys this version knows, where each value came from, and helpers naming a bad one.

use super::ConfigError;
use std::collections::BTreeMap;

/// Where a raw value came from, so errors can point at it.
#[derive(Debug, Clone)]
pub(super) enum Source {
    File,
    Env,
}

#[derive(Debug, Clone)]
pub(super) struct Raw {
    pub(super) value: String,
    pub(super) source: Source,
}

/// Keys this version understands, with whether they are secret (for `check-config`).
pub(super) const KNOWN: &[(&str, bool)] = &[
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
    ("smtp_url", true),
    ("mail_from", false),
    ("session_idle_minutes", false),
    ("session_max_hours", false),
    ("escort_ack_minutes", false),
    ("escort_ack_before_start_minutes", false),
    ("old_wrapping_key_days", false),
    ("trust_proxy_headers", false),
    ("trusted_proxies", false),
    ("encryption_key_file", false),
    ("encryption_keys", true),
    ("metrics_token", true),
    ("metrics_addr", false),
    ("audit_checkpoint_to", false),
];

/// Per-provider keys: `oidc_<id>_<field>` (`HAVEN_OIDC_CORP_ISSUER`, `[oidc.corp] issuer`).
pub(super) const OIDC_FIELDS: &[(&str, bool)] =
    &[("name", false), ("issuer", false), ("client_id", false), ("client_secret", true)];

/// Whether `key` is a setting this version understands.
pub(super) fn known(key: &str) -> bool {
    KNOWN.iter().any(|(k, _)| *k == key) || oidc_key(key).is_some()
}

/// Splits `oidc_<id>_<field>` into id and field.
pub(super) fn oidc_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("oidc_")?;
    OIDC_FIELDS.iter().find_map(|(field, _)| {
        let id = rest.strip_suffix(field)?.strip_suffix('_')?;
        (!id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())).then_some((id, *field))
    })
}

pub(super) struct RawSettings {
    pub(super) values: BTreeMap<String, Raw>,
}

impl RawSettings {
    pub(super) fn name(key: &str) -> String {
        format!("HAVEN_{}", key.to_uppercase())
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|r| r.value.as_str())
    }

    /// The setting's name as the person wrote it, for error messages.
    pub(super) fn label(&self, key: &str) -> String {
        match self.values.get(key).map(|r| &r.source) {
            Some(Source::File) => format!("{key} (config file)"),
            _ => Self::name(key),
        }
    }

    pub(super) fn err(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.label(key), problem)
    }

    pub(super) fn parse_or<T: std::str::FromStr>(&self, key: &str, default: T, what: &str) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| self.err(key, format!("expected {what}, got {v:?}"))),
        }
    }

    pub(super) fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(self.err(key, format!("expected true or false, got {v:?}"))),
        }
    }
}

/// Turns nested TOML tables into flat keys (`[smtp] url` becomes `smtp_url`) and refuses
/// keys this version does not know, so a typo is caught at start, not ignored.
pub(super) fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, Raw>) -> Result<(), ConfigError> {
    for (key, value) in table {
        let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}_{key}") };
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
                return Err(ConfigError::new(format!("{full} (config file)"), "unsupported value type"));
            }
        };
        if !known(&full) {
            return Err(ConfigError::new(format!("{full} (config file)"), "unknown setting"));
        }
        out.insert(full, Raw { value: text, source: Source::File });
    }
    Ok(())
}
