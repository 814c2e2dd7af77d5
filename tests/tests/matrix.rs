//! The authorization matrix: every server function and HTTP route, called by every kind
//! of caller, against the running server. A cell is either allowed (the call succeeds) or
//! denied — and a denial must be indistinguishable from asking for something that does
//! not exist (same status, same body). Later features add their rows to `ROWS`.

use chrono::{Duration, Utc};
use haven_app::domain::Role;
use haven_server::db::entities::{event, invitation, organization, registration, staff_role};
use haven_server::services::{auth, staff};
use haven_tests::{OidcProvider, Options, TestServer, backends};
use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// Registered for the event under test.
    Registrant,
    /// Registered only for an event of another organization.
    OtherRegistrant,
    Escort,
    Door,
    Responder,
    /// A responder who (once cases exist) is recused from the case under test.
    RecusedResponder,
    Organizer,
    /// Administrator of another organization.
    OtherAdmin,
    Admin,
}

use Who::*;

const EVERYONE: &[Who] =
    &[Anonymous, Registrant, OtherRegistrant, Escort, Door, Responder, RecusedResponder, Organizer, OtherAdmin, Admin];
const SIGNED_IN: &[Who] =
    &[Registrant, OtherRegistrant, Escort, Door, Responder, RecusedResponder, Organizer, OtherAdmin, Admin];
const MANAGERS: &[Who] = &[Organizer, Admin];
const ADMINS: &[Who] = &[Admin];

impl Who {
    fn email(self) -> Option<&'static str> {
        Some(match self {
            Anonymous => return None,
            Registrant => "ada.lovelace@example.org",
            OtherRegistrant => "olga@other.example",
            Escort => "escort@example.org",
            Door => "door@example.org",
            Responder => "responder@example.org",
            RecusedResponder => "responder2@example.org",
            Organizer => "organizer@example.org",
            OtherAdmin => "oscar@other.example",
            Admin => "admin@example.org",
        })
    }
}

/// Whether a call names the real thing or something that does not exist.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Real,
    Missing,
}

enum Method {
    Get,
    Post,
}

struct Row {
    name: &'static str,
    method: Method,
    /// Path with placeholders; form fields likewise. Placeholders: {slug}, {org}, {role_id},
    /// {invite}, {link}, {unique}.
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    allowed: &'static [Who],
}

const fn get(path: &'static str, allowed: &'static [Who]) -> Row {
    Row { name: path, method: Method::Get, path, form: &[], allowed }
}

const fn call(
    name: &'static str,
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    allowed: &'static [Who],
) -> Row {
    Row { name, method: Method::Post, path, form, allowed }
}

const EVENT_FORM: &[(&str, &str)] = &[
    ("slug", "{slug}"),
    ("input[name]", "HavenConf"),
    ("input[slug]", "{slug}"),
    ("input[venue]", "Congress Center, Hall A"),
    ("input[time_zone]", "Europe/Berlin"),
    ("input[starts_at]", "2027-06-01T09:00"),
    ("input[ends_at]", "2027-06-03T18:00"),
    ("input[ack_hours]", "24"),
];

const NEW_EVENT_FORM: &[(&str, &str)] = &[
    ("organization", "{org}"),
    ("input[name]", "Another event"),
    ("input[slug]", "ev-{unique}"),
    ("input[venue]", "Somewhere"),
    ("input[time_zone]", "Europe/Berlin"),
    ("input[starts_at]", "2027-06-01T09:00"),
    ("input[ends_at]", "2027-06-03T18:00"),
];

const ROWS: &[Row] = &[
    // Public pages and data.
    get("/", EVERYONE),
    get("/events/{slug}", EVERYONE),
    get("/signin", EVERYONE),
    get("/healthz", EVERYONE),
    get("/readyz", EVERYONE),
    get("/metrics", EVERYONE),
    call("home", "/fn/home", &[], EVERYONE),
    call("event", "/fn/event", &[("slug", "{slug}")], EVERYONE),
    call("session_info", "/fn/session_info", &[], EVERYONE),
    call("signin_options", "/fn/signin_options", &[], EVERYONE),
    // Signing in and out: links and invitations are capabilities, open to whoever holds one.
    call("request_signin_link", "/fn/request_signin_link", &[("email", "{unique}@example.net")], EVERYONE),
    call("redeem_signin_link", "/fn/redeem_signin_link", &[("token", "{link}")], EVERYONE),
    get("/auth/link/{link}", EVERYONE),
    get("/auth/oidc/mock/start", EVERYONE),
    get("/auth/oidc/mock/callback?code=x&state=y", EVERYONE),
    call("sign_out", "/fn/sign_out", &[], EVERYONE),
    call("invitation", "/fn/invitation", &[("token", "{invite}")], EVERYONE),
    get("/invitations/{invite}", EVERYONE),
    call("accept_invitation", "/fn/accept_invitation", &[("token", "{invite}")], EVERYONE),
    // A person's own page.
    call("my_page", "/fn/my_page", &[], SIGNED_IN),
    get("/me", SIGNED_IN),
    // Managing events.
    call("manage_home", "/fn/manage_home", &[], SIGNED_IN),
    get("/manage", SIGNED_IN),
    call("create_event", "/fn/create_event", NEW_EVENT_FORM, ADMINS),
    call("event_settings", "/fn/event_settings", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}", MANAGERS),
    call("update_event", "/fn/update_event", EVENT_FORM, MANAGERS),
    call("registrations", "/fn/registrations", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}/registrations", MANAGERS),
    call(
        "add_registration",
        "/fn/add_registration",
        &[("slug", "{slug}"), ("name", "New Person"), ("email", "{unique}@example.net")],
        MANAGERS,
    ),
    call(
        "import_registrations",
        "/fn/import_registrations",
        &[("slug", "{slug}"), ("csv", "name,email\nNew Person,{unique}@example.net\n")],
        MANAGERS,
    ),
    call("staff", "/fn/staff", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}/staff", MANAGERS),
    call(
        "invite_staff",
        "/fn/invite_staff",
        &[("slug", "{slug}"), ("email", "{unique}@example.net"), ("role", "door")],
        MANAGERS,
    ),
    call("revoke_role", "/fn/revoke_role", &[("slug", "{slug}"), ("role_id", "{role_id}")], MANAGERS),
];

/// Fresh values for one call, so calls never depend on each other.
struct Values {
    slug: String,
    org: String,
    role_id: String,
    invite: String,
    link: String,
    unique: String,
}

impl Values {
    fn fill(&self, text: &str) -> String {
        text.replace("{slug}", &self.slug)
            .replace("{org}", &self.org)
            .replace("{role_id}", &self.role_id)
            .replace("{invite}", &self.invite)
            .replace("{link}", &self.link)
            .replace("{unique}", &self.unique)
    }
}

async fn values(server: &TestServer, target: Target) -> Values {
    let unique = Uuid::new_v4().simple().to_string()[..12].to_owned();
    if target == Target::Missing {
        return Values {
            slug: "no-such-event".into(),
            org: "no-such-org".into(),
            role_id: Uuid::new_v4().to_string(),
            invite: haven_server::crypto::random_token(),
            link: haven_server::crypto::random_token(),
            unique,
        };
    }
    let s = &server.services;
    let now = s.clock.now();
    let e = event_id(server, "havenconf").await;
    let inviter = server.person_id("organizer@example.org").await;
    // A door role held by a throwaway person, for revoking.
    let tx = s.store.write().await.unwrap();
    let name = haven_app::domain::DisplayName::parse("n", "Throwaway").unwrap();
    let email = haven_app::domain::EmailAddress::parse("e", &format!("{unique}@throwaway.example")).unwrap();
    let (p, _) = auth::person_for_email(&tx, now, None, &name, &email).await.unwrap();
    let link = auth::create_login_link(&tx, server.person_id("ada.lovelace@example.org").await, now).await.unwrap();
    tx.commit().await.unwrap();
    let organization_id = demo_org(server).await;
    staff::grant(s, p.id, organization_id, Some(e), Role::Door).await.unwrap();
    let role_id = role_of(server, p.id).await;
    let invite = haven_server::crypto::random_token();
    invitation::Entity::insert(invitation::ActiveModel {
        id: Set(Uuid::new_v4()),
        token_hash: Set(haven_server::crypto::hash_token(&invite)),
        organization_id: Set(organization_id),
        event_id: Set(Some(e)),
        role: Set("door".into()),
        email: Set(format!("{unique}@invited.example")),
        email_normalized: Set(format!("{unique}@invited.example")),
        invited_by: Set(inviter),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(7)),
        accepted_at: Set(None),
        accepted_by: Set(None),
    })
    .exec(&server.db)
    .await
    .unwrap();
    Values { slug: "havenconf".into(), org: "demo".into(), role_id, invite, link, unique }
}

async fn event_id(server: &TestServer, slug: &str) -> Uuid {
    use sea_orm::{ColumnTrait, QueryFilter};
    event::Entity::find().filter(event::Column::Slug.eq(slug)).one(&server.db).await.unwrap().unwrap().id
}

async fn demo_org(server: &TestServer) -> Uuid {
    use sea_orm::{ColumnTrait, QueryFilter};
    organization::Entity::find()
        .filter(organization::Column::Slug.eq("demo"))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn role_of(server: &TestServer, person: Uuid) -> String {
    use sea_orm::{ColumnTrait, QueryFilter};
    staff_role::Entity::find()
        .filter(staff_role::Column::PersonId.eq(person))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

/// Another organization with its own event, registrant and administrator.
async fn other_organization(server: &TestServer) {
    let now = Utc::now();
    let org = Uuid::new_v4();
    organization::Entity::insert(organization::ActiveModel {
        id: Set(org),
        slug: Set("other".into()),
        name: Set("Other Org".into()),
        created_at: Set(now),
    })
    .exec(&server.db)
    .await
    .unwrap();
    let ev = Uuid::new_v4();
    event::Entity::insert(event::ActiveModel {
        id: Set(ev),
        organization_id: Set(org),
        slug: Set("meetup".into()),
        name: Set("Other Meetup".into()),
        venue: Set("Elsewhere".into()),
        time_zone: Set("UTC".into()),
        starts_at: Set(now + Duration::days(10)),
        ends_at: Set(now + Duration::days(11)),
        ack_hours: Set(24),
        created_at: Set(now),
    })
    .exec(&server.db)
    .await
    .unwrap();
    let tx = server.services.store.write().await.unwrap();
    let person = |n: &str, e: &str| {
        (
            haven_app::domain::DisplayName::parse("n", n).unwrap(),
            haven_app::domain::EmailAddress::parse("e", e).unwrap(),
        )
    };
    let (n, e) = person("Olga Other", "olga@other.example");
    let (olga, _) = auth::person_for_email(&tx, now, None, &n, &e).await.unwrap();
    let (n, e) = person("Oscar Other", "oscar@other.example");
    let (oscar, _) = auth::person_for_email(&tx, now, None, &n, &e).await.unwrap();
    tx.commit().await.unwrap();
    registration::Entity::insert(registration::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(ev),
        person_id: Set(olga.id),
        ticket_ref: Set(None),
        role: Set(None),
        status: Set("active".into()),
        created_at: Set(now),
    })
    .exec(&server.db)
    .await
    .unwrap();
    staff::grant(&server.services, oscar.id, org, None, Role::Admin).await.unwrap();
}

/// Status and body with per-response noise (CSP nonces) removed.
async fn answer(server: &TestServer, who: Who, row: &Row, target: Target) -> (u16, String) {
    let v = values(server, target).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", server.base_url.parse().unwrap());
    if let Some(email) = who.email() {
        headers.insert("cookie", server.session_cookie(email).await.parse().unwrap());
    }
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = server.url(&v.fill(row.path));
    let res = match row.method {
        Method::Get => client.get(url).send().await.unwrap(),
        Method::Post => {
            let form: Vec<(String, String)> = row.form.iter().map(|(k, val)| (k.to_string(), v.fill(val))).collect();
            client.post(url).form(&form).send().await.unwrap()
        }
    };
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (status, normalize(&body))
}

fn normalize(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    // Nonces are 32 hex characters after `nonce="`, `nonce-` or `crossorigin="`.
    while let Some(i) =
        ["nonce=\"", "nonce-", "crossorigin=\""].iter().filter_map(|m| rest.find(m).map(|i| i + m.len())).min()
    {
        out.push_str(&rest[..i]);
        rest = &rest[(i + 32).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_and_server_function_allows_exactly_its_roles() {
    for backend in backends() {
        let provider = OidcProvider::start().await;
        let options = Options::default().oidc(&provider, "mock", "Mock SSO");
        let server = TestServer::start_with(&backend, options).await;
        server.seed_demo().await;
        other_organization(&server).await;

        let mut problems = Vec::new();
        for row in ROWS {
            for &who in EVERYONE {
                let allowed = row.allowed.contains(&who);
                let (status, body) = answer(&server, who, row, Target::Real).await;
                if allowed {
                    if status >= 400 {
                        problems.push(format!("{:<40} {who:?}: should be allowed, got {status}", row.name));
                    }
                    continue;
                }
                let (missing_status, missing_body) = answer(&server, who, row, Target::Missing).await;
                if status < 400 {
                    problems.push(format!("{:<40} {who:?}: should be denied, got {status}", row.name));
                } else if (status, &body) != (missing_status, &missing_body) {
                    problems.push(format!(
                        "{:<40} {who:?}: denial ({status}) differs from not-found ({missing_status})",
                        row.name
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{backend}: {} cell(s) wrong:\n{}", problems.len(), problems.join("\n"));
    }
}

#[test]
fn the_matrix_names_every_server_function() {
    // Every `#[server]` endpoint of the app must have a row.
    let source = ["account.rs", "manage.rs", "public.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(haven_tests::workspace_root().join("app/src/api").join(f)).unwrap())
        .collect::<String>();
    for endpoint in source.split("endpoint = \"").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(
            ROWS.iter().any(|r| r.path == format!("/fn/{endpoint}")),
            "the server function {endpoint} has no row in the authorization matrix"
        );
    }
}
