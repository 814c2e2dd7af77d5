//! The settings' checks.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn defaults_to_an_embedded_sqlite_file_under_data() {
    let s = Settings::load(None, env(&[])).unwrap();
    assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(s.database.kind, DatabaseKind::Sqlite { path: PathBuf::from("./data/haven.db") });
    assert!(s.migrate_on_start);
}

#[test]
fn a_postgres_url_selects_postgres_and_its_password_is_never_shown() {
    let s = Settings::load(None, env(&[("HAVEN_DATABASE_URL", "postgres://u:hunter2@db:5432/haven")])).unwrap();
    assert_eq!(s.database.kind, DatabaseKind::Postgres { target: "db:5432/haven".into() });
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
        ("HAVEN_DATABASE_URL", "mysql://x/y", "sqlite:// or postgres://"),
        ("HAVEN_DATABASE_URL", "postgres://u:pw@h:99999/db", "port"),
        ("HAVEN_DATABASE_URL", "postgres://h:5432", "database name"),
        ("HAVEN_ADDR", "localhost", "address"),
        ("HAVEN_LOG_FORMAT", "xml", "text or json"),
        ("HAVEN_MIGRATE_ON_START", "maybe", "true or false"),
        ("HAVEN_DATABASE_MAX_CONNECTIONS", "0", "1 to 1000"),
        ("HAVEN_METRICS_TOKEN", "short", "at least 16"),
        ("HAVEN_METRICS_TOKEN", "has a space in the middle", "without spaces"),
        ("HAVEN_METRICS_ADDR", "9100", "address"),
        ("HAVEN_TRUSTED_PROXIES", "2", "HAVEN_TRUST_PROXY_HEADERS=true"),
        ("HAVEN_AUDIT_CHECKPOINT_TO", "ops at example.org", "one e-mail address"),
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
fn oidc_providers_come_from_grouped_keys_and_need_their_secret() {
    let s = Settings::load(
        None,
        env(&[
            ("HAVEN_OIDC_CORP_ISSUER", "https://sso.example.org/"),
            ("HAVEN_OIDC_CORP_CLIENT_ID", "haven"),
            ("HAVEN_OIDC_CORP_CLIENT_SECRET", "topsecret"),
            ("HAVEN_OIDC_CORP_NAME", "Example SSO"),
        ]),
    )
    .unwrap();
    assert_eq!(s.oidc.len(), 1);
    assert_eq!(s.oidc[0].issuer, "https://sso.example.org");
    assert_eq!(s.oidc[0].name, "Example SSO");
    assert!(!format!("{:?}", s.describe()).contains("topsecret"));

    let err = Settings::load(
        None,
        env(&[("HAVEN_OIDC_CORP_ISSUER", "https://sso.example.org"), ("HAVEN_OIDC_CORP_CLIENT_ID", "haven")]),
    )
    .unwrap_err();
    assert_eq!(err.setting, "HAVEN_OIDC_CORP_CLIENT_SECRET");
}

#[test]
fn trusted_proxies_are_a_count_or_networks() {
    let with =
        |v: &str| Settings::load(None, env(&[("HAVEN_TRUST_PROXY_HEADERS", "true"), ("HAVEN_TRUSTED_PROXIES", v)]));
    assert_eq!(Settings::load(None, env(&[])).unwrap().trusted_proxies, TrustedProxies::Count(1));
    assert_eq!(with("2").unwrap().trusted_proxies, TrustedProxies::Count(2));
    for bad in ["0", "11", "10.0.0.0/33", "10.0.0/8", "proxy.example", "10.0.0.0/8,"] {
        let err = with(bad).unwrap_err();
        assert_eq!(err.setting, "HAVEN_TRUSTED_PROXIES", "{bad}");
    }
    let TrustedProxies::Networks(nets) = with("10.0.0.0/8, 192.168.1.5,fd00::/8").unwrap().trusted_proxies else {
        panic!("networks expected");
    };
    let inside = |ip: &str| nets.iter().any(|n| n.contains(ip.parse().unwrap()));
    assert!(inside("10.200.3.4") && inside("192.168.1.5") && inside("fd12::1") && inside("::ffff:10.0.0.1"));
    assert!(!inside("11.0.0.1") && !inside("192.168.1.6") && !inside("fe80::1"));
    let everything = Network::parse("0.0.0.0/0").unwrap();
    assert!(everything.contains("203.0.113.9".parse().unwrap()));
}

#[test]
fn the_metrics_token_is_a_secret() {
    let s = Settings::load(
        None,
        env(&[("HAVEN_METRICS_TOKEN", "prometheus-scrapes-here"), ("HAVEN_METRICS_ADDR", "127.0.0.1:9100")]),
    )
    .unwrap();
    assert_eq!(s.metrics_token.as_ref().map(|t| t.expose().as_str()), Some("prometheus-scrapes-here"));
    assert_eq!(s.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    let shown = format!("{:?} {:?}", s, s.describe());
    assert!(!shown.contains("prometheus-scrapes-here"), "{shown}");
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    let dir = std::env::temp_dir().join(format!("haven-config-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("haven.toml");
    std::fs::write(&file, "adress = \"127.0.0.1:4000\"\n").unwrap();
    let err = Settings::load(Some(&file), env(&[])).unwrap_err();
    assert_eq!(err.to_string(), "setting adress (config file): unknown setting");
}
