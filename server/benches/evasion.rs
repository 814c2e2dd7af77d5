//! Benchmark (prints figures; asserts nothing): importing 50,000 registrations into an
//! event of an organization with 1,000 banned people, through the same path as
//! `haven import registrations` (check, write, badges, case matching, ban-evasion check),
//! then the ban-evasion check alone over the same registrations.
//!
//!   cargo bench -p haven-server --bench evasion   (BANS=1000 REGISTRATIONS=50000)

use chrono::Utc;
use haven_server::clock::SystemClock;
use haven_server::config::Settings;
use haven_server::db::entities::{decision, event, identity, person, registration};
use haven_server::services::registrations::Phase;
use haven_server::startup;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Made-up names from syllables: many share a first or last name, as real crowds do.
struct Names(u64);

impl Names {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn word(&mut self) -> String {
        const SYLLABLES: [&str; 24] = [
            "ka", "lo", "mi", "ra", "ten", "so", "vel", "an", "dor", "ib", "ne", "ul", "ha", "zo", "pri", "el", "mar",
            "ti", "gu", "sa", "ber", "o", "lin", "fa",
        ];
        let n = 2 + self.next() % 2;
        let mut w: String = (0..n).map(|_| SYLLABLES[(self.next() % 24) as usize]).collect();
        w[..1].make_ascii_uppercase();
        w
    }

    fn name(&mut self) -> String {
        format!("{} {}", self.word(), self.word())
    }
}

fn main() {
    let bans: usize = std::env::var("BANS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let count: usize = std::env::var("REGISTRATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let dir = std::env::temp_dir().join(format!("haven-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = vec![
        ("HAVEN_DATABASE_URL".to_owned(), format!("sqlite://{}/haven.db", dir.display())),
        ("HAVEN_DATA_DIR".to_owned(), dir.display().to_string()),
        ("HAVEN_LOG".to_owned(), "error".to_owned()),
    ];
    let settings = Settings::load(None, env).expect("settings");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let db = startup::open_database(&settings, true).await.unwrap();
        let url = settings.public_url_for(settings.addr);
        let services = startup::services(settings, db, Arc::new(SystemClock), url).await.unwrap();
        haven_server::demo::seed(&services, false).await.unwrap();
        let e = event::Entity::find()
            .filter(event::Column::Slug.eq("havenconf"))
            .one(&services.store.db)
            .await
            .unwrap()
            .unwrap();

        // 1,000 banned people (each also signed in once under another address), set up
        // directly: only the import is measured.
        let mut names = Names(7);
        let now = Utc::now();
        let admin = person::Entity::find()
            .filter(person::Column::EmailNormalized.eq("admin@example.org"))
            .one(&services.store.db)
            .await
            .unwrap()
            .unwrap();
        let tx = services.store.write().await.unwrap();
        for i in 0..bans {
            let id = Uuid::new_v4();
            person::Entity::insert(person::ActiveModel {
                id: Set(id),
                display_name: Set(names.name()),
                email: Set(Some(format!("banned{i}@example.com"))),
                email_normalized: Set(Some(format!("banned{i}@example.com"))),
                created_at: Set(now),
                phone: Set(Some(format!("+4930{:07}", i))),
            })
            .exec(&*tx)
            .await
            .unwrap();
            identity::Entity::insert(identity::ActiveModel {
                id: Set(Uuid::new_v4()),
                person_id: Set(id),
                provider: Set("email".into()),
                subject: Set(format!("other.banned{i}@gmail.com")),
                created_at: Set(now),
            })
            .exec(&*tx)
            .await
            .unwrap();
            let d = Uuid::new_v4();
            decision::Entity::insert(decision::ActiveModel {
                id: Set(d),
                root_id: Set(d),
                organization_id: Set(e.organization_id),
                event_id: Set(e.id),
                person_id: Set(id),
                kind: Set("permanent_ban".into()),
                starts_at: Set(Some(now)),
                ends_at: Set(None),
                role: Set(None),
                role_event_id: Set(None),
                details_enc: Set(None),
                reasons_enc: Set(services.keys.seal_str(&format!("decisions.reasons_enc:{d}"), "bench")),
                proposal_id: Set(None),
                decided_by: Set(admin.id),
                decided_at: Set(now),
                supersedes_id: Set(None),
                appeal_id: Set(None),
                appeal_until: Set(None),
                appeal_token_hash: Set(None),
            })
            .exec(&*tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        // 50,000 registrations: made-up names; one in a hundred reuses a banned person's
        // other address (dots and a +tag added) and one in a hundred their phone number.
        let mut csv = String::from("name,email,phone\n");
        // Each look-alike names a different banned person: the import refuses a file that
        // lists one mailbox twice.
        for i in 0..count {
            let email = if i % 100 == 7 {
                format!("other.ban.ned{}+conf@gmail.com", (i / 100) % bans)
            } else {
                format!("person{i}@example.net")
            };
            let phone = if i % 100 == 42 { format!("030 {:07}", (i / 100) % bans) } else { String::new() };
            csv.push_str(&format!("{},{email},{phone}\n", names.name()));
        }
        let progress = |_: Phase, _: u64, _: u64| {};
        let start = Instant::now();
        let report = services.import_csv(None, &e, &csv, &progress).await.unwrap();
        let import = start.elapsed();
        let created = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .find_also_related(haven_server::db::entities::person::Entity)
            .all(&services.store.db)
            .await
            .unwrap();
        let flags = haven_server::db::entities::evasion_flag::Entity::find().count(&services.store.db).await.unwrap();
        let start = Instant::now();
        services.enforcement().flag_evasion(&created).await.unwrap();
        let check = start.elapsed();
        println!(
            "machine: {} cores; SQLite; {bans} banned people",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
        println!(
            "import of {} registrations (check, write, badges, case matching, ban-evasion check): {:.2} s",
            report.created,
            import.as_secs_f64()
        );
        println!("  of which flagged as possible ban evasion: {flags}");
        println!("ban-evasion check alone over {} registrations: {:.2} s", created.len(), check.as_secs_f64());
        let target = if import.as_secs_f64() < 10.0 { "met" } else { "MISSED" };
        println!("target (whole import under 10 s): {target}");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
