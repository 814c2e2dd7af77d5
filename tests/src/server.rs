//! Starting the real server for a test, on a fresh database that is removed afterwards.

use haven_server::clock::{ManualClock, SharedClock, SystemClock};
use haven_server::config::Settings;
use haven_server::services::Services;
use haven_server::startup;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

/// The database kinds a test runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// The admin URL of a PostgreSQL server; each test makes its own database there.
    Postgres(String),
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        })
    }
}

/// SQLite always; PostgreSQL too when `HAVEN_TEST_POSTGRES_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("HAVEN_TEST_POSTGRES_URL")
        && !url.trim().is_empty()
    {
        out.push(Backend::Postgres(url));
    }
    out
}

/// The workspace's top folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// The built `haven` binary (built by the test command before the tests run).
pub fn haven_bin() -> PathBuf {
    if let Ok(p) = std::env::var("HAVEN_BIN") {
        return PathBuf::from(p);
    }
    let target =
        std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace_root().join("target"));
    let bin = target.join("debug").join("haven");
    assert!(bin.exists(), "{} is missing: build it first (cargo build -p haven-server)", bin.display());
    bin
}

/// A fresh, empty database for one test, and a private data directory (key files, mail)
/// beside it. Both are removed when the test ends.
pub struct TestDatabase {
    pub url: String,
    pub dir: PathBuf,
    postgres: Option<(String, String)>,
    /// Another server's: not removed by this one.
    borrowed: bool,
}

impl TestDatabase {
    pub async fn create(backend: &Backend) -> TestDatabase {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("haven-test-{tag}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match backend {
            Backend::Sqlite => TestDatabase {
                url: format!("sqlite://{}?mode=rwc", dir.join("haven.db").display()),
                dir,
                postgres: None,
                borrowed: false,
            },
            Backend::Postgres(admin_url) => {
                let name = format!("haven_t_{tag}");
                let admin = Database::connect(admin_url.as_str()).await.expect("connect to HAVEN_TEST_POSTGRES_URL");
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
                admin.close().await.ok();
                let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    dir,
                    postgres: Some((admin_url.clone(), name)),
                    borrowed: false,
                }
            }
        }
    }

    fn borrowed(url: &str, dir: &Path) -> TestDatabase {
        TestDatabase { url: url.to_owned(), dir: dir.to_path_buf(), postgres: None, borrowed: true }
    }

    /// The directory holding a SQLite database (None for PostgreSQL).
    pub fn sqlite_dir(&self) -> Option<&Path> {
        self.postgres.is_none().then_some(self.dir.as_path())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.borrowed {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs inside the test's runtime; a thread with its own runtime may block.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        let _ =
                            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

/// Options for [`TestServer::start_with`].
#[derive(Default)]
pub struct Options {
    /// Use this clock instead of the system clock.
    pub clock: Option<ManualClock>,
    /// Extra settings as HAVEN_* environment pairs.
    pub env: Vec<(String, String)>,
    /// Deliver mail to this receiver.
    pub mail: Option<crate::MailSink>,
    /// Share another server's database (and data directory) instead of a fresh one.
    pub share: Option<(String, PathBuf)>,
}

impl Options {
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn mail(mut self, sink: &crate::MailSink) -> Self {
        self.mail = Some(sink.clone());
        self
    }

    /// Trust this OIDC provider under the given id and button name.
    pub fn oidc(mut self, provider: &crate::OidcProvider, id: &str, name: &str) -> Self {
        self.env.extend(provider.settings(id, name));
        self
    }

    /// Run on the same database and data directory as `other` (a second instance).
    pub fn share(mut self, other: &TestServer) -> Self {
        self.share = Some((other.database.url.clone(), other.database.dir.clone()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// The real server, running in this process on a free port.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The metrics listener's address, when `HAVEN_METRICS_ADDR` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub base_url: String,
    pub backend: Backend,
    pub db: DatabaseConnection,
    pub services: Arc<Services>,
    pub clock: Option<ManualClock>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    // Declared last: dropped after the server has stopped.
    pub database: TestDatabase,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> TestServer {
        Self::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: &Backend, options: Options) -> TestServer {
        let database = match &options.share {
            Some((url, dir)) => TestDatabase::borrowed(url, dir),
            None => TestDatabase::create(backend).await,
        };
        let site_root = workspace_root().join("target").join("site");
        let mut env = vec![
            ("HAVEN_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
            ("HAVEN_DATABASE_URL".to_owned(), database.url.clone()),
            ("HAVEN_SITE_ROOT".to_owned(), site_root.display().to_string()),
            ("HAVEN_DATA_DIR".to_owned(), database.dir.display().to_string()),
            ("HAVEN_DATABASE_MAX_CONNECTIONS".to_owned(), "5".to_owned()),
        ];
        if let Some(sink) = &options.mail {
            env.push(("HAVEN_SMTP_URL".to_owned(), sink.url()));
        }
        env.extend(options.env);
        let settings = Settings::load(None, env).expect("test settings are valid");
        // HAVEN_TEST_LOG=1 shows the server's log while debugging a test.
        if std::env::var_os("HAVEN_TEST_LOG").is_some() {
            haven_server::telemetry::init_logging(&settings);
        }
        let clock: SharedClock = match &options.clock {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(SystemClock),
        };
        let server = startup::build(settings, clock).await.expect("the server starts");
        let addr = server.addr();
        let metrics_addr = server.metrics_addr();
        let db = server.db().clone();
        let services = server.services();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = server
                .run_until(async {
                    let _ = rx.await;
                })
                .await;
        });
        // Ready as a load balancer would see it: today's doors are loaded (quick on a new
        // database, but tests must not race it).
        for _ in 0..200 {
            if services.door.warm.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        TestServer {
            addr,
            metrics_addr,
            base_url: format!("http://{addr}"),
            backend: backend.clone(),
            db,
            services,
            clock: options.clock,
            shutdown: Some(tx),
            task: Some(task),
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A client that keeps cookies, like a browser, and does not follow redirects. It sends
    /// this site as its `Origin`, as a browser does on its own pages' form posts.
    pub fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", self.base_url.parse().unwrap());
        reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    }

    /// Seeds the demo data into this server's database.
    pub async fn seed_demo(&self) {
        haven_server::demo::seed(&self.services, false).await.expect("demo seeds");
    }

    /// Waits (up to 30 s) until every queued e-mail has been delivered.
    pub async fn outbox_drained(&self) {
        use haven_server::db::entities::outbox;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        for _ in 0..300 {
            let waiting = outbox::Entity::find()
                .filter(outbox::Column::SentAt.is_null())
                .filter(outbox::Column::FailedAt.is_null())
                .count(&self.db)
                .await
                .unwrap();
            if waiting == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the outbox did not drain within 30 s");
    }

    /// The id of the person with this address.
    pub async fn person_id(&self, email: &str) -> uuid::Uuid {
        use haven_server::db::entities::person;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let normalized = haven_app::domain::EmailAddress::parse("email", email).unwrap().normalized();
        person::Entity::find()
            .filter(person::Column::EmailNormalized.eq(normalized))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no person with the address {email}"))
            .id
    }

    /// A fresh session for the person with this address, as a `Cookie` header value.
    /// (Signing in itself is tested on its own; most tests just need to be someone.)
    pub async fn session_cookie(&self, email: &str) -> String {
        let person = self.person_id(email).await;
        let tx = self.services.begin().await.unwrap();
        let set_cookie = self.services.start_session(&tx, person, None, self.services.clock.now(), None).await.unwrap();
        tx.commit().await.unwrap();
        set_cookie.0.split(';').next().unwrap().to_owned()
    }

    /// A client signed in as the person with this address.
    pub async fn client_as(&self, email: &str) -> reqwest::Client {
        let cookie = self.session_cookie(email).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
        headers.insert("origin", self.base_url.parse().unwrap());
        reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// The current badge token of this person's registration for the event `slug`.
    pub async fn badge_token(&self, slug: &str, email: &str) -> String {
        use haven_server::db::entities::{event, registration};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let e = event::Entity::find().filter(event::Column::Slug.eq(slug)).one(&self.db).await.unwrap().unwrap();
        let person = self.person_id(email).await;
        let r = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .filter(registration::Column::PersonId.eq(person))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{email} is not registered for {slug}"));
        let b = self.services.live_badge(r.id).await.unwrap().expect("a live badge");
        self.services.badge_token(&b, e.organization_id).await.unwrap()
    }

    /// A new door device for the event `slug`; its bearer token.
    pub async fn device_token(&self, slug: &str) -> String {
        use haven_server::db::entities::event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let e = event::Entity::find().filter(event::Column::Slug.eq(slug)).one(&self.db).await.unwrap().unwrap();
        self.services.add_device(None, &e, "test scanner").await.unwrap().1
    }

    /// Gives the person with this address (created if new) a role across the demo
    /// organization, as an administrator would.
    pub async fn grant_organization_role(&self, email: &str, role: haven_app::domain::Role) {
        use haven_server::db::entities::event;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let tx = self.services.begin().await.unwrap();
        let name = haven_app::domain::DisplayName::parse("name", email.split('@').next().unwrap()).unwrap();
        let address = haven_app::domain::EmailAddress::parse("email", email).unwrap();
        let now = self.services.clock.now();
        let (p, _) = haven_server::services::auth::person_for_email(&tx, now, None, &name, &address).await.unwrap();
        tx.commit().await.unwrap();
        let e = event::Entity::find().filter(event::Column::Slug.eq("havenconf")).one(&self.db).await.unwrap();
        let organization = e.expect("the demo is seeded").organization_id;
        haven_server::services::staff::grant(&self.services, p.id, organization, None, role).await.unwrap();
    }

    /// Scans a token as a door device at gate North; the answer (status 200 asserted).
    pub async fn scan(&self, device: &str, token: &str) -> serde_json::Value {
        let body = serde_json::json!({"token": token, "scan_id": uuid::Uuid::new_v4(), "gate": "North"});
        let res = reqwest::Client::new().post(self.url("/api/v1/scans")).bearer_auth(device).json(&body).send().await;
        let res = res.expect("scan request");
        assert_eq!(res.status().as_u16(), 200, "a scan is always answered");
        res.json().await.expect("a JSON answer")
    }

    /// Stops serving (the database stays until the server is dropped).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Calls a server function the way a page does: a form-encoded POST to `/fn/<name>`.
/// Returns the status and the body parsed as JSON (`Null` when empty or not JSON).
pub async fn call_fn(
    client: &reqwest::Client,
    server: &TestServer,
    name: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let res = client.post(server.url(&format!("/fn/{name}"))).form(form).send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Plays someone who owns the database: drops the triggers that refuse changing or
/// removing audit records (and removing scans and decisions), as such a person could.
pub async fn drop_append_only_guards(db: &DatabaseConnection) {
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    for (trigger, table) in [
        ("audit_log_no_update", "audit_log"),
        ("audit_log_no_delete", "audit_log"),
        ("scans_no_delete", "scans"),
        ("decisions_no_delete", "decisions"),
    ] {
        let sql =
            if postgres { format!("DROP TRIGGER {trigger} ON {table}") } else { format!("DROP TRIGGER {trigger}") };
        db.execute_unprepared(&sql).await.expect("drop a guard");
    }
}
