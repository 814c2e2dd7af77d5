//! The rule of involvement: a person a case concerns (its reporter, the person it names,
//! someone who declared a conflict, someone covered by a decision resting on it or named
//! in a related case) sees it only as their own part entitles them, whatever staff roles
//! they also hold; deciding needs someone uninvolved.

use haven_tests::{MailSink, Options, TestServer, backends, call_fn};
use reqwest::multipart::Form;
use serde_json::Value;
use std::time::Duration;

const ADA: &str = "ada.lovelace@example.org";
const KEN: &str = "ken.okafor@example.org";
const RESPONDER: &str = "responder@example.org";
const RESPONDER2: &str = "responder2@example.org";
const ORGANIZER: &str = "organizer@example.org";
const ADMIN: &str = "admin@example.org";
const ESCORT: &str = "escort@example.org";
const DOOR: &str = "door@example.org";

/// Files a concern as `who` about the named person; returns its reference.
async fn file(server: &TestServer, who: &str, name: &str, email: &str, narrative: &str) -> String {
    let client = server.client_as(who).await;
    let form = Form::new()
        .text("person_name", name.to_owned())
        .text("person_email", email.to_owned())
        .text("narrative", narrative.to_owned());
    let res = client.post(server.url("/events/havenconf/concern")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303, "the concern is filed");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    location.strip_prefix("/cases/").unwrap().split('?').next().unwrap().to_owned()
}

/// Rae links `who` to the case as the person it names.
async fn link(server: &TestServer, reference: &str, who: &str) {
    let rae = server.client_as(RESPONDER).await;
    let person = server.person_id(who).await.to_string();
    let (status, body) = call_fn(&rae, server, "confirm_match", &[("reference", reference), ("person", &person)]).await;
    assert_eq!(status, 200, "{who} is linked: {body}");
}

/// Rae proposes a decision about `who`; returns the proposal's id.
async fn propose(server: &TestServer, reference: &str, who: &str, kind: &str, reasons: &str) -> String {
    use haven_server::db::entities::{case, decision_proposal};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let rae = server.client_as(RESPONDER).await;
    let person = server.person_id(who).await.to_string();
    let (status, body) = call_fn(
        &rae,
        server,
        "propose_decision",
        &[("reference", reference), ("input[person]", &person), ("input[kind]", kind), ("input[reasons]", reasons)],
    )
    .await;
    assert_eq!(status, 200, "the proposal is made: {body}");
    let c = case::Entity::find().filter(case::Column::Reference.eq(reference)).one(&server.db).await.unwrap().unwrap();
    decision_proposal::Entity::find()
        .filter(decision_proposal::Column::CaseId.eq(c.id))
        .order_by_desc(decision_proposal::Column::ProposedAt)
        .one(&server.db)
        .await
        .unwrap()
        .expect("the proposal is stored")
        .id
        .to_string()
}

async fn record(server: &TestServer, who: &str, proposal: &str, kind: &str) -> (u16, Value) {
    let client = server.client_as(who).await;
    call_fn(
        &client,
        server,
        "record_decision",
        &[("proposal", proposal), ("input[kind]", kind), ("input[reasons]", "As proposed.")],
    )
    .await
}

/// The answer to `name` for something that does not exist, as `who` gets it.
async fn not_found(server: &TestServer, who: &str, name: &str, field: &str) -> (u16, Value) {
    let client = server.client_as(who).await;
    let missing = uuid::Uuid::new_v4().to_string();
    call_fn(&client, server, name, &[(field, &missing), ("input[kind]", "lifted"), ("input[reasons]", "x")]).await
}

async fn decisions_about(server: &TestServer, who: &str) -> Vec<haven_server::db::entities::decision::Model> {
    use haven_server::db::entities::decision;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    decision::Entity::find()
        .filter(decision::Column::PersonId.eq(server.person_id(who).await))
        .order_by_asc(decision::Column::DecidedAt)
        .all(&server.db)
        .await
        .unwrap()
}

/// A second administrator of the demo organization, who took part in nothing.
async fn second_admin(server: &TestServer) -> &'static str {
    const SECOND: &str = "second.admin@example.org";
    server.grant_organization_role(SECOND, haven_app::domain::Role::Admin).await;
    SECOND
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organizer_named_in_a_concern_sees_and_decides_nothing_of_it_and_an_uninvolved_admin_does() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = file(&server, ADA, "Olu Organizer", ORGANIZER, "Olu cornered me by the zanzibar stand.").await;
        link(&server, &reference, ORGANIZER).await;
        let proposal = propose(&server, &reference, ORGANIZER, "warning", "Quokkaish conduct at the stand.").await;
        let markers = [reference.as_str(), "zanzibar", "Quokkaish", "Ada Lovelace"];
        let olu = server.client_as(ORGANIZER).await;
        let hidden = |what: &str, text: &str| {
            for m in markers {
                assert!(!text.contains(m), "{backend}: {what} shows {m:?} to the organizer it names");
            }
        };

        // Nothing of it on the organizer's pages or in their server functions.
        let (status, home) = call_fn(&olu, &server, "decide_home", &[]).await;
        assert_eq!(status, 200, "{backend}: Olu still decides other things: {home}");
        hidden("decide_home", &home.to_string());
        let page = olu.get(server.url("/manage/decisions")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        hidden("/manage/decisions", &page.text().await.unwrap());
        for name in ["respond_home", "notifications", "my_page", "manage_home"] {
            let (status, body) = call_fn(&olu, &server, name, &[]).await;
            assert!(status < 400 || status == 404, "{backend}: {name}: {status}");
            hidden(name, &body.to_string());
        }
        assert_eq!(call_fn(&olu, &server, "case", &[("reference", &reference)]).await.0, 404);

        // Recording or declining it is answered as for a proposal that does not exist.
        let missing = not_found(&server, ORGANIZER, "record_decision", "proposal").await;
        assert_eq!(missing.0, 404);
        assert_eq!(record(&server, ORGANIZER, &proposal, "warning").await, missing, "{backend}");
        let missing = not_found(&server, ORGANIZER, "decline_proposal", "proposal").await;
        assert_eq!(call_fn(&olu, &server, "decline_proposal", &[("proposal", &proposal)]).await, missing);
        assert!(decisions_about(&server, ORGANIZER).await.is_empty(), "{backend}: nothing was recorded");

        // An uninvolved administrator sees it (not the narrative) and records it.
        let avery = server.client_as(ADMIN).await;
        let (_, home) = call_fn(&avery, &server, "decide_home", &[]).await;
        let waiting = home["proposals"].as_array().unwrap();
        let found = waiting.iter().find(|p| p["id"] == proposal.as_str()).expect("the admin sees the proposal");
        assert_eq!(found["case"], reference.as_str());
        assert!(!home.to_string().contains("zanzibar"), "deciders never see the narrative");
        let (status, body) = record(&server, ADMIN, &proposal, "warning").await;
        assert_eq!(status, 200, "{backend}: {body}");
        let recorded = decisions_about(&server, ORGANIZER).await;
        assert_eq!(recorded.len(), 1, "{backend}");

        // The organizer cannot correct it away, nor read its reasons among recent decisions;
        // they see it as the person it is about.
        let missing = not_found(&server, ORGANIZER, "correct_decision", "decision").await;
        let id = recorded[0].id.to_string();
        let (status, body) = call_fn(
            &olu,
            &server,
            "correct_decision",
            &[("decision", &id), ("input[kind]", "lifted"), ("input[reasons]", "Not me.")],
        )
        .await;
        assert_eq!((status, body), missing, "{backend}");
        assert_eq!(decisions_about(&server, ORGANIZER).await.len(), 1, "{backend}: still one record");
        let (_, home) = call_fn(&olu, &server, "decide_home", &[]).await;
        hidden("decide_home after the decision", &home.to_string());
        assert!(!home.to_string().contains("As proposed."), "{backend}: the reasons stay hidden: {home}");
        let (_, mine) = call_fn(&olu, &server, "my_decisions", &[]).await;
        assert_eq!(mine.as_array().unwrap().len(), 1, "{backend}: Olu sees the decision about them: {mine}");
        hidden("my_decisions", &mine.to_string());

        // Mail to the organizer names neither the case nor its words.
        server.outbox_drained().await;
        let mails = sink.to(ORGANIZER).await;
        assert!(mails.iter().any(|m| m.subject.contains("A decision about you")), "{backend}: told in writing");
        for m in &mails {
            hidden(&format!("mail {:?}", m.subject), &m.text);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expelled_organizer_cannot_lift_their_own_expulsion() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file(&server, ADA, "Olu Organizer", ORGANIZER, "He grabbed my arm.").await;
        link(&server, &reference, ORGANIZER).await;
        let proposal = propose(&server, &reference, ORGANIZER, "expulsion", "Grabbing.").await;
        let (status, body) = record(&server, ADMIN, &proposal, "expulsion").await;
        assert_eq!(status, 200, "{backend}: {body}");
        let expulsion = decisions_about(&server, ORGANIZER).await;
        assert_eq!(expulsion.len(), 1);
        let olu = server.client_as(ORGANIZER).await;
        let id = expulsion[0].id.to_string();
        let (status, _) = call_fn(
            &olu,
            &server,
            "correct_decision",
            &[("decision", &id), ("input[kind]", "lifted"), ("input[reasons]", "Mistake.")],
        )
        .await;
        assert_eq!(status, 404, "{backend}");
        let after = decisions_about(&server, ORGANIZER).await;
        assert_eq!(after.len(), 1, "{backend}: no correction was recorded");
        assert_eq!(after[0].kind, "expulsion");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proposal_nobody_uninvolved_can_decide_says_so_on_the_case_until_an_administrator_is_added() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        // The administrator reports the organizer: the demo's only two deciders are involved.
        let reference = file(&server, ADMIN, "Olu Organizer", ORGANIZER, "Shouting at volunteers.").await;
        link(&server, &reference, ORGANIZER).await;
        let proposal = propose(&server, &reference, ORGANIZER, "warning", "Shouting.").await;
        let rae = server.client_as(RESPONDER).await;
        let waiting =
            |view: &Value| view["proposals"].as_array().unwrap().iter().find(|p| p["id"] == proposal.as_str()).cloned();
        let (status, view) = call_fn(&rae, &server, "case_decisions", &[("reference", &reference)]).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(waiting(&view).unwrap()["no_decider"], true, "{backend}: {view}");
        let page = rae.get(server.url(&format!("/cases/{reference}"))).send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains("No one uninvolved can decide this: an administrator must be added."),
            "{backend}: the case page says so"
        );
        // Neither of them may record it.
        assert_eq!(record(&server, ADMIN, &proposal, "warning").await.0, 404, "{backend}: the reporter");
        assert_eq!(record(&server, ORGANIZER, &proposal, "warning").await.0, 404, "{backend}: the person named");

        let second = second_admin(&server).await;
        let (_, view) = call_fn(&rae, &server, "case_decisions", &[("reference", &reference)]).await;
        assert_eq!(waiting(&view).unwrap()["no_decider"], false, "{backend}: {view}");
        let (status, body) = record(&server, second, &proposal, "warning").await;
        assert_eq!(status, 200, "{backend}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_about_an_administrator_needs_another_administrator() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file(&server, ADA, "Avery Admin", ADMIN, "Made a rude remark.").await;
        link(&server, &reference, ADMIN).await;
        let proposal = propose(&server, &reference, ADMIN, "warning", "Rude remark.").await;
        // The organizer is uninvolved but is no administrator: the proposal is not theirs.
        let olu = server.client_as(ORGANIZER).await;
        let (_, home) = call_fn(&olu, &server, "decide_home", &[]).await;
        assert!(!home.to_string().contains(&proposal), "{backend}: {home}");
        assert_eq!(record(&server, ORGANIZER, &proposal, "warning").await.0, 404, "{backend}");
        assert_eq!(record(&server, ADMIN, &proposal, "warning").await.0, 404, "{backend}: not about oneself");
        assert!(decisions_about(&server, ADMIN).await.is_empty());
        let second = second_admin(&server).await;
        let (status, body) = record(&server, second, &proposal, "warning").await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(decisions_about(&server, ADMIN).await.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_never_sees_or_settles_a_ban_evasion_flag_about_themselves() {
    use haven_server::db::entities::{decision, evasion_flag, registration};
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        // Rae registers, and is flagged as possibly the banned Donald Moreau.
        let rae_id = server.person_id(RESPONDER).await;
        let ken_reg = registration::Entity::find()
            .filter(registration::Column::PersonId.eq(server.person_id(KEN).await))
            .one(&server.db)
            .await
            .unwrap()
            .unwrap();
        let reg = uuid::Uuid::new_v4();
        registration::Entity::insert(registration::ActiveModel {
            id: Set(reg),
            event_id: Set(ken_reg.event_id),
            person_id: Set(rae_id),
            ticket_ref: Set(None),
            role: Set(None),
            status: Set("active".into()),
            created_at: Set(ken_reg.created_at),
            refund_forfeited_at: Set(None),
            forfeited_by: Set(None),
        })
        .exec(&server.db)
        .await
        .unwrap();
        let donald = server.person_id("donald.moreau@example.org").await;
        let ban = decision::Entity::find()
            .filter(decision::Column::PersonId.eq(donald))
            .one(&server.db)
            .await
            .unwrap()
            .expect("the demo bans Donald");
        let flag = uuid::Uuid::new_v4();
        evasion_flag::Entity::insert(evasion_flag::ActiveModel {
            id: Set(flag),
            organization_id: Set(ban.organization_id),
            registration_id: Set(reg),
            person_id: Set(rae_id),
            banned_person_id: Set(donald),
            decision_id: Set(ban.id),
            reasons: Set("similar name".into()),
            status: Set("open".into()),
            created_at: Set(ken_reg.created_at),
            resolved_by: Set(None),
            resolved_at: Set(None),
        })
        .exec(&server.db)
        .await
        .unwrap();
        let flag = flag.to_string();

        let rae = server.client_as(RESPONDER).await;
        let (status, flags) = call_fn(&rae, &server, "evasion_flags", &[]).await;
        assert_eq!(status, 200);
        assert!(!flags.to_string().contains(&flag), "{backend}: Rae does not see the flag about her: {flags}");
        let missing = call_fn(
            &rae,
            &server,
            "resolve_flag",
            &[("flag", &uuid::Uuid::new_v4().to_string()), ("action", "dismiss")],
        )
        .await;
        let (status, body) = call_fn(&rae, &server, "resolve_flag", &[("flag", &flag), ("action", "dismiss")]).await;
        assert_eq!((status, body), missing, "{backend}");
        let stored = evasion_flag::Entity::find_by_id(uuid::Uuid::parse_str(&flag).unwrap()).one(&server.db).await;
        assert_eq!(stored.unwrap().unwrap().status, "open", "{backend}: the flag still waits");

        // Another responder sees and settles it.
        let sam = server.client_as(RESPONDER2).await;
        let (_, flags) = call_fn(&sam, &server, "evasion_flags", &[]).await;
        assert!(flags.to_string().contains(&flag), "{backend}: {flags}");
        let (status, body) = call_fn(&sam, &server, "resolve_flag", &[("flag", &flag), ("action", "dismiss")]).await;
        assert_eq!(status, 200, "{backend}: {body}");
    }
}

async fn plan_of(server: &TestServer, reference: &str) -> Value {
    let rae = server.client_as(RESPONDER).await;
    let (status, view) = call_fn(&rae, server, "case", &[("reference", reference)]).await;
    assert_eq!(status, 200, "{view}");
    view["plan"].clone()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

async fn first_day(server: &TestServer) -> String {
    let org = server.client_as(ORGANIZER).await;
    let (_, settings) = call_fn(&org, server, "event_settings", &[("slug", "havenconf")]).await;
    settings["starts_at"].as_str().unwrap()[..10].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn pickers_offer_nobody_involved_and_whoever_becomes_involved_leaves_the_plan() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        // An earlier case names Eli (the escort); a later one names Ken, and Sam declared a
        // conflict on it.
        let earlier = file(&server, ADA, "Eli Escort", ESCORT, "He was late twice.").await;
        link(&server, &earlier, ESCORT).await;
        let reference = file(&server, ADA, "Ken Okafor", KEN, "He followed me again.").await;
        link(&server, &reference, KEN).await;
        let sam = server.client_as(RESPONDER2).await;
        assert_eq!(call_fn(&sam, &server, "declare_conflict", &[("reference", &reference)]).await.0, 200);
        let rae = server.client_as(RESPONDER).await;
        assert_eq!(call_fn(&rae, &server, "assign_owner", &[("reference", &reference)]).await.0, 200);

        // The case about Eli offers no Eli; the case Sam is recused from offers no Sam.
        let plan = plan_of(&server, &earlier).await;
        assert!(!names(&plan["escorts"]).contains(&"Eli Escort".to_owned()), "{backend}: {plan}");
        assert!(!names(&plan["staff"]).contains(&"Eli Escort".to_owned()), "{backend}: {plan}");
        let plan = plan_of(&server, &reference).await;
        assert!(names(&plan["escorts"]).contains(&"Eli Escort".to_owned()), "{backend}: {plan}");
        assert!(!names(&plan["staff"]).contains(&"Sam Responder".to_owned()), "{backend}: {plan}");
        assert!(!names(&plan["staff"]).contains(&"Ken Okafor".to_owned()), "{backend}: {plan}");
        let sam_id = server.person_id(RESPONDER2).await.to_string();
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_arrival_alert",
            &[("reference", &reference), ("recipients[0]", &sam_id), ("instruction", "Stay close")],
        )
        .await;
        assert_eq!(status, 422, "{backend}: a recused responder is not offered: {body}");
        let day = first_day(&server).await;
        let eli_id = server.person_id(ESCORT).await.to_string();
        let escort = |r: String| {
            vec![
                ("reference".to_owned(), r),
                ("input[escorts][0]".to_owned(), eli_id.clone()),
                ("input[start_1]".to_owned(), format!("{day}T22:00")),
                ("input[end_1]".to_owned(), format!("{day}T22:30")),
                ("input[meeting_point]".to_owned(), "Main entrance".to_owned()),
            ]
        };
        let form = escort(earlier.clone());
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, body) = call_fn(&rae, &server, "add_escort", &form).await;
        assert_eq!(status, 422, "{backend}: Eli cannot escort on the case about him: {body}");
        assert_eq!(plan_of(&server, &earlier).await["precautions"], serde_json::json!([]), "{backend}");

        // Eli escorts on the case about Ken, and is told of Ken's arrival.
        let form = escort(reference.clone());
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, body) = call_fn(&rae, &server, "add_escort", &form).await;
        assert_eq!(status, 200, "{backend}: {body}");
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_arrival_alert",
            &[("reference", &reference), ("recipients[0]", &eli_id), ("instruction", "Stay close")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let eli = server.client_as(ESCORT).await;
        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        let count = mine["assignments"].as_array().unwrap().len();
        assert!(count >= 2, "{backend}: the demo's and this one: {mine}");

        // Relating this case to the earlier one makes Eli a party to it: he leaves its plan,
        // and its owner is told.
        let (status, body) = call_fn(
            &rae,
            &server,
            "relate_case",
            &[("reference", &reference), ("earlier", &earlier), ("relation", "retaliation_against_reporter")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let (_, mine) = call_fn(&eli, &server, "my_assignments", &[]).await;
        assert_eq!(mine["assignments"].as_array().unwrap().len(), count - 1, "{backend}: {mine}");
        let plan = plan_of(&server, &reference).await;
        let precautions = plan["precautions"].as_array().unwrap();
        assert!(precautions.iter().all(|p| p["escorts"] == serde_json::json!([])), "{backend}: {plan}");
        assert!(precautions.iter().all(|p| p["recipients"] == serde_json::json!([])), "{backend}: {plan}");
        assert!(!names(&plan["escorts"]).contains(&"Eli Escort".to_owned()), "{backend}: {plan}");
        assert_eq!(call_fn(&eli, &server, "case", &[("reference", &reference)]).await.0, 404);
        let mail = sink
            .wait_for(Duration::from_secs(10), |m| {
                m.to[0] == RESPONDER && m.subject.contains("taken off a case") && m.text.contains(&reference)
            })
            .await;
        assert!(!mail.text.contains("Eli"), "{backend}: the mail does not say who: {}", mail.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_named_in_a_related_case_is_recused_from_this_one() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let earlier = file(&server, ADA, "Sam Responder", RESPONDER2, "He dismissed my report.").await;
        link(&server, &earlier, RESPONDER2).await;
        let reference = file(&server, ADA, "Ken Okafor", KEN, "He followed me again.").await;
        let sam = server.client_as(RESPONDER2).await;
        assert_eq!(call_fn(&sam, &server, "case", &[("reference", &reference)]).await.0, 200, "{backend}");
        let rae = server.client_as(RESPONDER).await;
        let (status, body) = call_fn(
            &rae,
            &server,
            "relate_case",
            &[("reference", &reference), ("earlier", &earlier), ("relation", "false_information")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(call_fn(&sam, &server, "case", &[("reference", &reference)]).await.0, 404, "{backend}");
        let (_, queue) = call_fn(&sam, &server, "case_queue", &[("slug", "havenconf")]).await;
        assert!(!queue.to_string().contains(&reference), "{backend}: {queue}");
        let (_, home) = call_fn(&sam, &server, "respond_home", &[]).await;
        assert!(!home.to_string().contains(&reference), "{backend}: {home}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reporter_who_is_a_responder_sees_their_case_only_as_its_reporter() {
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file(&server, RESPONDER, "Ken Okafor", KEN, "He stared at me all day.").await;
        let rae = server.client_as(RESPONDER).await;
        let (status, view) = call_fn(&rae, &server, "case", &[("reference", &reference)]).await;
        assert_eq!(status, 200);
        assert_eq!(view["view"], "reporter", "{backend}: {view}");
        let (status, _) = call_fn(&rae, &server, "add_note", &[("reference", &reference), ("body", "Mine.")]).await;
        assert_eq!(status, 404, "{backend}: no team work on one's own report");
        let (_, queue) = call_fn(&rae, &server, "case_queue", &[("slug", "havenconf")]).await;
        assert!(!queue.to_string().contains(&reference), "{backend}: {queue}");
        let sam = server.client_as(RESPONDER2).await;
        let (_, view) = call_fn(&sam, &server, "case", &[("reference", &reference)]).await;
        assert_eq!(view["view"], "team", "{backend}: {view}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arrival_alert_names_no_case_except_to_its_team() {
    for backend in backends() {
        let sink = MailSink::start().await;
        let server = TestServer::start_with(&backend, Options::default().mail(&sink)).await;
        server.seed_demo().await;
        let reference = file(&server, ADA, "Ken Okafor", KEN, "He followed me again.").await;
        link(&server, &reference, KEN).await;
        let rae = server.client_as(RESPONDER).await;
        let (door_id, rae_id) =
            (server.person_id(DOOR).await.to_string(), server.person_id(RESPONDER).await.to_string());
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_arrival_alert",
            &[
                ("reference", &reference),
                ("recipients[0]", &door_id),
                ("recipients[1]", &rae_id),
                ("instruction", "Walk with him to the hall"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let device = server.device_token("havenconf").await;
        let ken_badge = server.badge_token("havenconf", KEN).await;
        let answer = server.scan(&device, &ken_badge).await;
        assert_eq!(answer["result"], "alert", "{backend}: {answer}");

        let door_mail = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == DOOR && m.text.contains("Walk with him to the hall"))
            .await;
        assert!(
            !door_mail.text.contains(&reference) && !door_mail.text.contains("/cases/"),
            "{backend}: {}",
            door_mail.text
        );
        let rae_mail = sink
            .wait_for(Duration::from_secs(10), |m| m.to[0] == RESPONDER && m.text.contains("Walk with him to the hall"))
            .await;
        assert!(rae_mail.text.contains(&format!("/cases/{reference}")), "{backend}: {}", rae_mail.text);
        let dana = server.client_as(DOOR).await;
        let (_, bell) = call_fn(&dana, &server, "notifications", &[]).await;
        assert!(bell.to_string().contains("Walk with him to the hall"), "{backend}: {bell}");
        assert!(!bell.to_string().contains("/cases/"), "{backend}: {bell}");
        let (_, bell) = call_fn(&rae, &server, "notifications", &[]).await;
        assert!(bell.to_string().contains(&format!("/cases/{reference}")), "{backend}: {bell}");
        // Ken is never told about himself.
        let ken = server.client_as(KEN).await;
        let (_, bell) = call_fn(&ken, &server, "notifications", &[]).await;
        assert!(!bell.to_string().contains("Arrival"), "{backend}: {bell}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_the_person_a_case_names_brings_its_door_instruction_to_the_door_at_once() {
    const ALAN: &str = "alan.okafor@example.org";
    for backend in backends() {
        let server = TestServer::start(&backend).await;
        server.seed_demo().await;
        let reference = file(&server, ADA, "Alan Okafor", ALAN, "He keeps photographing me.").await;
        let rae = server.client_as(RESPONDER).await;
        let (status, body) = call_fn(
            &rae,
            &server,
            "add_door_instruction",
            &[("reference", &reference), ("instruction", "Send him to desk 3")],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let device = server.device_token("havenconf").await;
        let badge = server.badge_token("havenconf", ALAN).await;
        // The door knows nothing of him yet: the case names him only in words.
        let before = server.scan(&device, &badge).await;
        assert_eq!(before["result"], "admit", "{backend}: {before}");
        link(&server, &reference, ALAN).await;
        let after = server.scan(&device, &badge).await;
        assert_eq!(after["result"], "alert", "{backend}: {after}");
        assert_eq!(after["instruction"], "Send him to desk 3", "{backend}: {after}");
    }
}
