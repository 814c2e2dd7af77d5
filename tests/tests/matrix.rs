//! The authorization matrix: every server function and HTTP route, called by every kind
//! of caller, against the running server. A cell is either allowed (the call succeeds, and
//! what came back carries nothing the rule of involvement hides from that caller) or denied
//! — and a denial must be indistinguishable from asking for something that does not exist
//! (same status, same body). Roles overlap: besides callers with one role, the person a
//! case names also holds each staff role, and a reporter is also a responder. Later
//! features add their rows to `ROWS`.

use chrono::{Duration, Utc};
use haven_app::api::{CalendarApi, CasesApi, PlansApi};
use haven_app::domain::Role;
use haven_server::db::entities::{event, invitation, organization, registration, staff_role};
use haven_server::services::{auth, staff};
use haven_tests::{Backend, MailSink, OidcProvider, Options, TestServer, backends};
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
    /// Registered for the event, and the person the case under test names.
    Named,
    /// Also named in the case under test, and an organizer of its event.
    NamedOrganizer,
    /// Also named in the case under test, and an administrator of its organization.
    NamedAdmin,
    /// Also named in the case under test, and a responder at its event.
    NamedResponder,
    /// Also named in the case under test, and an escort at its event.
    NamedEscort,
    /// Also named in the case under test, and door staff at its event.
    NamedDoor,
    /// A responder at the event who (for their calls) reported the case under test.
    ReporterResponder,
    /// Holds no role and no registration; the invitation under test is addressed to a
    /// further address of theirs.
    Invitee,
}

use Who::*;

const EVERYONE: &[Who] = &[
    Anonymous,
    Registrant,
    OtherRegistrant,
    Escort,
    Door,
    Responder,
    RecusedResponder,
    Organizer,
    OtherAdmin,
    Admin,
    Named,
    NamedOrganizer,
    NamedAdmin,
    NamedResponder,
    NamedEscort,
    NamedDoor,
    ReporterResponder,
    Invitee,
];
const SIGNED_IN: &[Who] = &[
    Registrant,
    OtherRegistrant,
    Escort,
    Door,
    Responder,
    RecusedResponder,
    Organizer,
    OtherAdmin,
    Admin,
    Named,
    NamedOrganizer,
    NamedAdmin,
    NamedResponder,
    NamedEscort,
    NamedDoor,
    ReporterResponder,
    Invitee,
];
/// Who may use an invitation: its addressee, or whoever holds the link while signed out
/// (accepting signs the addressee in).
const ADDRESSEE: &[Who] = &[Anonymous, Invitee];
/// The reporter of the case under test and the responder handling it.
const REPORTER_AND_TEAM: &[Who] = &[Registrant, Responder, ReporterResponder];
const REPORTERS: &[Who] = &[Registrant, ReporterResponder];
const TEAM: &[Who] = &[Responder];
const RESPONDERS: &[Who] = &[Responder, RecusedResponder, NamedResponder, ReporterResponder];
/// Everyone who may file at the event: its registrants and its staff.
const MAY_FILE: &[Who] = &[
    Registrant,
    Named,
    Escort,
    Door,
    Responder,
    RecusedResponder,
    Organizer,
    Admin,
    NamedOrganizer,
    NamedAdmin,
    NamedResponder,
    NamedEscort,
    NamedDoor,
    ReporterResponder,
];
const MANAGERS: &[Who] = &[Organizer, Admin, NamedOrganizer, NamedAdmin];
/// Managers who are not involved in the case (and so the decision) under test.
const DECIDERS: &[Who] = &[Organizer, Admin];
/// Who works the door: door staff, organizers and admins.
const DOOR_TEAM: &[Who] = &[Door, Organizer, Admin, NamedDoor, NamedOrganizer, NamedAdmin];
const ADMINS: &[Who] = &[Admin, NamedAdmin];
/// Whoever decides at some event (their own organization's, for the other admin).
const DECIDERS_ANYWHERE: &[Who] = &[Organizer, OtherAdmin, Admin, NamedOrganizer, NamedAdmin];
/// Who sees a registration's badge: its holder (Ada) and the event's managers.
const BADGE_VIEWERS: &[Who] = &[Registrant, Organizer, Admin, NamedOrganizer, NamedAdmin];

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
            Named => "ken.okafor@example.org",
            NamedOrganizer => "nia.organizer@example.org",
            NamedAdmin => "nat.admin@example.org",
            NamedResponder => "noor.responder@example.org",
            NamedEscort => "ned.escort@example.org",
            NamedDoor => "nell.door@example.org",
            ReporterResponder => "rhea.reporter@example.org",
            Invitee => "ivy@invited.example",
        })
    }

    /// The staff role the dual-role callers hold at the event (or organization-wide).
    fn second_role(self) -> Option<(&'static str, Role, bool)> {
        Some(match self {
            NamedOrganizer => ("Nia Organizer", Role::Organizer, false),
            NamedAdmin => ("Nat Admin", Role::Admin, true),
            NamedResponder => ("Noor Responder", Role::Responder, false),
            NamedEscort => ("Ned Escort", Role::Escort, false),
            NamedDoor => ("Nell Door", Role::Door, false),
            ReporterResponder => ("Rhea Reporter", Role::Responder, false),
            _ => return None,
        })
    }

    /// Linked to every case under test as a person it names.
    fn named(self) -> bool {
        matches!(self, Named | NamedOrganizer | NamedAdmin | NamedResponder | NamedEscort | NamedDoor)
    }

    /// What the rule of involvement hides from this caller, wherever it looks.
    fn hidden(self) -> &'static [Marker] {
        use Marker::*;
        match self {
            // The reporter and the team see the case; deciders its reference and reasons.
            Responder => &[],
            Registrant | ReporterResponder => &[Reasons, Instruction],
            Organizer | Admin => &[Narrative],
            // Door staff see door instructions; they, escorts and managers see registrants.
            Door => &[CaseRef, Narrative, Reasons],
            Escort => &[CaseRef, Narrative, Reasons, Instruction],
            NamedDoor | NamedOrganizer | NamedAdmin => &[CaseRef, Narrative, Reasons, Instruction],
            Anonymous | OtherRegistrant | OtherAdmin | Named | RecusedResponder | NamedResponder | NamedEscort
            | Invitee => &[CaseRef, Narrative, Reasons, Instruction, ReporterName],
        }
    }
}

/// Words the fixture plants, each standing for something the rule may hide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    /// The case's reference.
    CaseRef,
    /// A word of the case's narrative.
    Narrative,
    /// A word of the decision's reasons.
    Reasons,
    /// A word of the case's door instruction.
    Instruction,
    /// The reporter's name.
    ReporterName,
}

const NARRATIVE_WORD: &str = "Quetzalcoatl";
const REASONS_WORD: &str = "Xylophonic";
const INSTRUCTION_WORD: &str = "Obsidianwatch";

/// Whether a call names the real thing or something that does not exist.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Real,
    Missing,
}

enum Method {
    Get,
    Post,
    /// A multipart form (with a small text file as `file`).
    Multipart,
}

struct Row {
    name: &'static str,
    method: Method,
    /// Path with placeholders; form fields likewise. Placeholders: {slug}, {org}, {role_id},
    /// {invite}, {link}, {unique}, {case}, {earlier}, {attachment}, {named}.
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    allowed: &'static [Who],
    /// The caller may know the target exists (a public event, or an invitation whose link
    /// they hold), so a refusal may say more than "not found".
    public_target: bool,
}

type Form = &'static [(&'static str, &'static str)];

const fn get(path: &'static str, allowed: &'static [Who]) -> Row {
    Row { name: path, method: Method::Get, path, form: &[], allowed, public_target: false }
}

/// A page about a public thing (an event): a refusal may name it.
const fn get_public(path: &'static str, allowed: &'static [Who]) -> Row {
    Row { name: path, method: Method::Get, path, form: &[], allowed, public_target: true }
}

const fn call(name: &'static str, path: &'static str, form: Form, allowed: &'static [Who]) -> Row {
    Row { name, method: Method::Post, path, form, allowed, public_target: false }
}

/// A call with a link the caller holds (so knows exists): a refusal may say more.
const fn call_held(name: &'static str, path: &'static str, form: Form, allowed: &'static [Who]) -> Row {
    Row { name, method: Method::Post, path, form, allowed, public_target: true }
}

const fn upload(
    name: &'static str,
    path: &'static str,
    form: Form,
    allowed: &'static [Who],
    public_target: bool,
) -> Row {
    Row { name, method: Method::Multipart, path, form, allowed, public_target }
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
    // Only with the metrics bearer token (or on HAVEN_METRICS_ADDR), never with a session
    // cookie alone: see `http_basics`.
    get("/metrics", &[]),
    call("home", "/fn/home", &[], EVERYONE),
    call("event", "/fn/event", &[("slug", "{slug}")], EVERYONE),
    call("session_info", "/fn/session_info", &[], EVERYONE),
    call("signin_options", "/fn/signin_options", &[], EVERYONE),
    // Signing in and out: links are capabilities, open to whoever holds one. An invitation
    // is one only while signed out; signed in, only its addressee may use it, and anyone
    // else is told it was sent to another address.
    call("request_signin_link", "/fn/request_signin_link", &[("email", "{unique}@example.net")], EVERYONE),
    call("redeem_signin_link", "/fn/redeem_signin_link", &[("token", "{link}")], EVERYONE),
    get("/auth/link/{link}", EVERYONE),
    get("/auth/oidc/mock/start", EVERYONE),
    get("/auth/oidc/mock/callback?code=x&state=y", EVERYONE),
    call("sign_out", "/fn/sign_out", &[], EVERYONE),
    call_held("invitation", "/fn/invitation", &[("token", "{invite}")], ADDRESSEE),
    get_public("/invitations/{invite}", ADDRESSEE),
    call_held("accept_invitation", "/fn/accept_invitation", &[("token", "{invite}")], ADDRESSEE),
    // A person's own page.
    call("my_page", "/fn/my_page", &[], SIGNED_IN),
    get("/me", SIGNED_IN),
    // Their own data only: the allowed cells' hidden-word checks hold it to the rule.
    call("my_data", "/fn/my_data", &[], SIGNED_IN),
    get("/me/data.json", SIGNED_IN),
    call("add_email", "/fn/add_email", &[("email", "{unique}@also.example")], SIGNED_IN),
    call("remove_email", "/fn/remove_email", &[("email", "{further}")], SIGNED_IN),
    call("confirm_email", "/fn/confirm_email", &[("token", "{email_token}")], EVERYONE),
    get("/me/addresses/{email_token}", EVERYONE),
    // A person's own second factor. No code the matrix sends is right: checking them is
    // `second_factor`'s work; here every caller gets the same refusal.
    call("second_factor", "/fn/second_factor", &[], SIGNED_IN),
    get("/signin/second-factor", SIGNED_IN),
    call("begin_totp", "/fn/begin_totp", &[], SIGNED_IN),
    call("confirm_totp", "/fn/confirm_totp", &[("code", "abcdef")], &[]),
    call("verify_second_factor", "/fn/verify_second_factor", &[("code", "abcdef")], &[]),
    // An administrator removes a staff member's second factor, and sets the policy.
    call("reset_second_factor", "/fn/reset_second_factor", &[("role_id", "{role_id}")], ADMINS),
    call("set_organization_security", "/fn/set_organization_security", &[("organization", "{org}")], ADMINS),
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
    // Concerns and cases.
    call("concern_form", "/fn/concern_form", &[("slug", "{slug}")], SIGNED_IN),
    get_public("/events/{slug}/concern", SIGNED_IN),
    upload(
        "POST /events/{slug}/concern",
        "/events/{slug}/concern",
        &[("person_name", "Someone"), ("narrative", "Something happened.")],
        MAY_FILE,
        true,
    ),
    call("case", "/fn/case", &[("reference", "{case}")], REPORTER_AND_TEAM),
    get("/cases/{case}", REPORTER_AND_TEAM),
    call("send_message", "/fn/send_message", &[("reference", "{case}"), ("body", "Hello")], REPORTER_AND_TEAM),
    call("respond_home", "/fn/respond_home", &[], SIGNED_IN),
    get("/respond", SIGNED_IN),
    call("case_queue", "/fn/case_queue", &[("slug", "{slug}")], RESPONDERS),
    get("/respond/{slug}", RESPONDERS),
    call("change_status", "/fn/change_status", &[("reference", "{case}"), ("status", "resolved")], TEAM),
    call("assign_owner", "/fn/assign_owner", &[("reference", "{case}")], TEAM),
    call("add_note", "/fn/add_note", &[("reference", "{case}"), ("body", "A note")], TEAM),
    call("add_witness", "/fn/add_witness", &[("reference", "{case}"), ("name", "A Witness")], TEAM),
    call("confirm_match", "/fn/confirm_match", &[("reference", "{case}"), ("person", "{named}")], TEAM),
    call("declare_conflict", "/fn/declare_conflict", &[("reference", "{case}")], TEAM),
    call(
        "relate_case",
        "/fn/relate_case",
        &[("reference", "{case}"), ("earlier", "{earlier}"), ("relation", "retaliation_against_reporter")],
        TEAM,
    ),
    upload("POST /cases/{case}/attachments", "/cases/{case}/attachments", &[], TEAM, false),
    get("/cases/{case}/attachments/{attachment}", TEAM),
    // Safety plans.
    call("add_escort", "/fn/add_escort", ESCORT_FORM, TEAM),
    call(
        "add_arrival_alert",
        "/fn/add_arrival_alert",
        &[("reference", "{case}"), ("recipients[0]", "{staff}"), ("instruction", "Stay close")],
        TEAM,
    ),
    call(
        "add_door_instruction",
        "/fn/add_door_instruction",
        &[("reference", "{case}"), ("instruction", "Admit")],
        TEAM,
    ),
    call("add_arrangement", "/fn/add_arrangement", &[("reference", "{case}"), ("text", "A seat by the door")], TEAM),
    call(
        "remove_precaution",
        "/fn/remove_precaution",
        &[("reference", "{case}"), ("precaution", "{precaution}")],
        TEAM,
    ),
    call("respond_to_plan", "/fn/respond_to_plan", &[("reference", "{case}"), ("answer", "accepted")], REPORTERS),
    // Keeping: the reporter withdraws (erasing it), the team extends a resolved case's
    // keeping once, an administrator sets the organization's period.
    call("withdraw_case", "/fn/withdraw_case", &[("reference", "{case}")], REPORTERS),
    call(
        "extend_retention",
        "/fn/extend_retention",
        &[("reference", "{resolved}"), ("days", "30"), ("reason", "Still needed")],
        TEAM,
    ),
    call("set_retention", "/fn/set_retention", &[("organization", "{org}"), ("days", "365")], ADMINS),
    // A shielded reporter: the team may ask to know who it is, with a reason.
    call("reveal_reporter", "/fn/reveal_reporter", &[("reference", "{shielded}"), ("reason", "Need to call")], TEAM),
    call("my_assignments", "/fn/my_assignments", &[], SIGNED_IN),
    get("/escort", SIGNED_IN),
    call("acknowledge_assignment", "/fn/acknowledge_assignment", &[("assignment", "{assignment}")], &[Escort]),
    call("renew_calendar_feed", "/fn/renew_calendar_feed", &[], SIGNED_IN),
    call("revoke_calendar_feed", "/fn/revoke_calendar_feed", &[], SIGNED_IN),
    get("/calendar/{feed}", EVERYONE),
    call("notifications", "/fn/notifications", &[], SIGNED_IN),
    call("mark_notifications_read", "/fn/mark_notifications_read", &[], SIGNED_IN),
    get("/notifications", SIGNED_IN),
    get("/live/notifications", SIGNED_IN),
    // Badges and the door.
    call("my_badges", "/fn/my_badges", &[], SIGNED_IN),
    get("/badges/{registration}.svg", BADGE_VIEWERS),
    get("/badges/{registration}.png", BADGE_VIEWERS),
    call("door_view", "/fn/door_view", &[("slug", "{slug}")], DOOR_TEAM),
    get("/door/{slug}", DOOR_TEAM),
    // The door page's service worker: the same script for everyone, naming only asset files.
    get("/door-sw.js", EVERYONE),
    call(
        "door_scan",
        "/fn/door_scan",
        &[("slug", "{slug}"), ("token", "{token}"), ("scan_id", "{scan_id}"), ("gate", "Matrix")],
        DOOR_TEAM,
    ),
    call("door_search", "/fn/door_search", &[("slug", "{slug}"), ("query", "ada")], DOOR_TEAM),
    get("/api/v1/events/{slug}/door-sync", DOOR_TEAM),
    call(
        "POST /api/v1/scans (no device token)",
        "/api/v1/scans",
        &[("token", "{token}"), ("scan_id", "{scan_id}")],
        &[],
    ),
    get("/api/openapi.json", EVERYONE),
    call("arrivals", "/fn/arrivals", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}/arrivals", MANAGERS),
    call("badge_sheet", "/fn/badge_sheet", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}/badges", MANAGERS),
    call("replace_badge", "/fn/replace_badge", &[("slug", "{slug}"), ("registration", "{registration}")], MANAGERS),
    call("send_badges", "/fn/send_badges", &[("slug", "{slug}")], MANAGERS),
    call("devices", "/fn/devices", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}/devices", MANAGERS),
    call("add_device", "/fn/add_device", &[("slug", "{slug}"), ("name", "Matrix scanner")], MANAGERS),
    call("revoke_device", "/fn/revoke_device", &[("slug", "{slug}"), ("device", "{device}")], MANAGERS),
    // Enforcement and appeals. The decision under test is about Ken (Named), decided by a
    // decider outside this table, so the event's organizer and the admin took no part; the
    // managers also named in its case may not decide anything of it.
    call("case_decisions", "/fn/case_decisions", &[("reference", "{case}")], TEAM),
    call(
        "propose_decision",
        "/fn/propose_decision",
        &[("reference", "{case}"), ("input[person]", "{named}"), ("input[kind]", "warning"), ("input[reasons]", "M")],
        TEAM,
    ),
    call("decide_home", "/fn/decide_home", &[], DECIDERS_ANYWHERE),
    get("/manage/decisions", DECIDERS_ANYWHERE),
    call(
        "record_decision",
        "/fn/record_decision",
        &[("proposal", "{proposal}"), ("input[kind]", "warning"), ("input[reasons]", "M")],
        DECIDERS,
    ),
    call("decline_proposal", "/fn/decline_proposal", &[("proposal", "{proposal}")], DECIDERS),
    call(
        "correct_decision",
        "/fn/correct_decision",
        &[("decision", "{decision}"), ("input[kind]", "warning"), ("input[reasons]", "M")],
        DECIDERS,
    ),
    call("event_outcomes", "/fn/event_outcomes", &[("slug", "{slug}")], MANAGERS),
    get("/manage/events/{slug}/outcomes", MANAGERS),
    get("/manage/events/{slug}/expulsions.csv", MANAGERS),
    call("my_decisions", "/fn/my_decisions", &[], SIGNED_IN),
    call("appeal_decision", "/fn/appeal_decision", &[("decision", "{decision}"), ("text", "Matrix appeal")], &[Named]),
    // The link in the notice is a capability, like a sign-in link.
    call("appeal_link", "/fn/appeal_link", &[("token", "{appeal_token}")], EVERYONE),
    get("/appeal/{appeal_token}", EVERYONE),
    call("appeal_by_link", "/fn/appeal_by_link", &[("token", "{appeal_token}"), ("text", "Matrix appeal")], EVERYONE),
    call(
        "decide_appeal",
        "/fn/decide_appeal",
        &[("appeal", "{appeal}"), ("outcome", "uphold"), ("input[reasons]", "M")],
        DECIDERS,
    ),
    call("evasion_flags", "/fn/evasion_flags", &[], RESPONDERS),
    get("/ban-evasion", RESPONDERS),
    call("resolve_flag", "/fn/resolve_flag", &[("flag", "{flag}"), ("action", "dismiss")], RESPONDERS),
    call("transparency_report", "/fn/transparency_report", &[("organization", "{org}")], ADMINS),
    get("/manage/organizations/{org}/report", ADMINS),
];

const ESCORT_FORM: &[(&str, &str)] = &[
    ("reference", "{case}"),
    ("input[escorts][0]", "{escort}"),
    ("input[start_1]", "{window_start}"),
    ("input[end_1]", "{window_end}"),
    ("input[meeting_point]", "Main entrance"),
];

/// Fresh values for one call, so calls never depend on each other.
struct Values {
    slug: String,
    org: String,
    role_id: String,
    invite: String,
    link: String,
    unique: String,
    case: String,
    earlier: String,
    attachment: String,
    named: String,
    precaution: String,
    assignment: String,
    feed: String,
    staff: String,
    escort: String,
    window_start: String,
    window_end: String,
    registration: String,
    token: String,
    device: String,
    scan_id: String,
    proposal: String,
    decision: String,
    appeal: String,
    appeal_token: String,
    flag: String,
    further: String,
    email_token: String,
    /// The name of whoever reported the case under test.
    reporter: String,
    /// A fresh case, resolved (so its text is kept until a date); also `case`.
    resolved: String,
    /// A fresh case whose reporter is shielded; also `case`.
    shielded: String,
}

impl Values {
    fn fill(&self, text: &str) -> String {
        text.replace("{slug}", &self.slug)
            .replace("{org}", &self.org)
            .replace("{role_id}", &self.role_id)
            .replace("{invite}", &self.invite)
            .replace("{link}", &self.link)
            .replace("{unique}", &self.unique)
            .replace("{case}", &self.case)
            .replace("{earlier}", &self.earlier)
            .replace("{attachment}", &self.attachment)
            .replace("{named}", &self.named)
            .replace("{precaution}", &self.precaution)
            .replace("{assignment}", &self.assignment)
            .replace("{feed}", &self.feed)
            .replace("{staff}", &self.staff)
            .replace("{escort}", &self.escort)
            .replace("{window_start}", &self.window_start)
            .replace("{window_end}", &self.window_end)
            .replace("{registration}", &self.registration)
            .replace("{token}", &self.token)
            .replace("{device}", &self.device)
            .replace("{scan_id}", &self.scan_id)
            .replace("{proposal}", &self.proposal)
            .replace("{decision}", &self.decision)
            .replace("{appeal_token}", &self.appeal_token)
            .replace("{appeal}", &self.appeal)
            .replace("{flag}", &self.flag)
            .replace("{further}", &self.further)
            .replace("{email_token}", &self.email_token)
            .replace("{resolved}", &self.resolved)
            .replace("{shielded}", &self.shielded)
    }
}

async fn values(server: &TestServer, who: Who, target: Target, row: &Row) -> Values {
    let unique = Uuid::new_v4().simple().to_string()[..12].to_owned();
    if target == Target::Missing {
        return Values {
            slug: "no-such-event".into(),
            org: "no-such-org".into(),
            role_id: Uuid::new_v4().to_string(),
            invite: haven_server::crypto::random_token(),
            link: haven_server::crypto::random_token(),
            further: format!("{unique}@nobody.example"),
            unique,
            case: "HVN-0000-0000".into(),
            earlier: "HVN-0000-0001".into(),
            attachment: Uuid::new_v4().to_string(),
            named: Uuid::new_v4().to_string(),
            precaution: Uuid::new_v4().to_string(),
            assignment: Uuid::new_v4().to_string(),
            feed: format!("{}.ics", haven_server::crypto::random_token()),
            staff: Uuid::new_v4().to_string(),
            escort: Uuid::new_v4().to_string(),
            window_start: "2027-01-01T10:00".into(),
            window_end: "2027-01-01T11:00".into(),
            registration: Uuid::new_v4().to_string(),
            token: "HVN1.nothing".into(),
            device: Uuid::new_v4().to_string(),
            scan_id: Uuid::new_v4().to_string(),
            proposal: Uuid::new_v4().to_string(),
            decision: Uuid::new_v4().to_string(),
            appeal: Uuid::new_v4().to_string(),
            appeal_token: haven_server::crypto::random_token(),
            flag: Uuid::new_v4().to_string(),

            email_token: haven_server::crypto::random_token(),
            reporter: String::new(),
            resolved: "HVN-0000-0000".into(),
            shielded: "HVN-0000-0000".into(),
        };
    }
    // Make only what this row refers to: fixtures are not free.
    let wants = |p: &str| row.path.contains(p) || row.form.iter().any(|(_, v)| v.contains(p));
    let mut v = Values {
        slug: "havenconf".into(),
        org: "demo".into(),
        role_id: String::new(),
        invite: String::new(),
        link: String::new(),
        unique: unique.clone(),
        case: String::new(),
        earlier: String::new(),
        attachment: String::new(),
        named: server.person_id("ken.okafor@example.org").await.to_string(),
        precaution: String::new(),
        assignment: String::new(),
        feed: String::new(),
        staff: server.person_id("responder@example.org").await.to_string(),
        escort: server.person_id("escort@example.org").await.to_string(),
        window_start: String::new(),
        window_end: String::new(),
        registration: String::new(),
        token: String::new(),
        device: String::new(),
        scan_id: Uuid::new_v4().to_string(),
        proposal: String::new(),
        decision: String::new(),
        appeal: String::new(),
        appeal_token: String::new(),
        flag: String::new(),
        further: format!("{unique}@further.example"),
        email_token: String::new(),
        reporter: String::new(),
        resolved: String::new(),
        shielded: String::new(),
    };
    let s = &server.services;
    let now = s.clock.now();
    let e = event_id(server, "havenconf").await;
    let organization_id = demo_org(server).await;
    if wants("{role_id}") {
        // A door role held by a throwaway person, for revoking.
        let tx = s.begin().await.unwrap();
        let name = haven_app::domain::DisplayName::parse("n", "Throwaway").unwrap();
        let email = haven_app::domain::EmailAddress::parse("e", &format!("{unique}@throwaway.example")).unwrap();
        let (p, _) = auth::person_for_email(&tx, now, None, &name, &email).await.unwrap();
        tx.commit().await.unwrap();
        staff::grant(s, p.id, organization_id, Some(e), Role::Door).await.unwrap();
        v.role_id = role_of(server, p.id).await;
    }
    if wants("{link}") {
        let tx = s.begin().await.unwrap();
        v.link = auth::create_login_link(&tx, server.person_id("ada.lovelace@example.org").await, now).await.unwrap();
        tx.commit().await.unwrap();
    }
    if wants("{invite}") {
        // Accepting grants a role to the addressee: at a sandbox event, so no caller gains
        // rights over the event under test. The address is new; for the invitee it is a
        // further address of theirs.
        let sandbox = event_id(server, "sandbox").await;
        let invite = haven_server::crypto::random_token();
        let address = format!("{unique}@invited.example");
        if who == Invitee {
            let tx = s.begin().await.unwrap();
            let ivy = server.person_id("ivy@invited.example").await;
            auth::link_identity(&tx, now, ivy, auth::EMAIL_PROVIDER, &address).await.unwrap();
            tx.commit().await.unwrap();
        }
        invitation::Entity::insert(invitation::ActiveModel {
            id: Set(Uuid::new_v4()),
            token_hash: Set(haven_server::crypto::hash_token(&invite)),
            organization_id: Set(organization_id),
            event_id: Set(Some(sandbox)),
            role: Set("door".into()),
            email: Set(address.clone()),
            email_normalized: Set(address),
            // Its sender must be able to send it still: an administrator (the event's
            // organizer organizes only the event under test).
            invited_by: Set(server.person_id("admin@example.org").await),
            created_at: Set(now),
            expires_at: Set(now + Duration::days(7)),
            accepted_at: Set(None),
            accepted_by: Set(None),
        })
        .exec(&server.db)
        .await
        .unwrap();
        v.invite = invite;
    }
    if ["{case}", "{attachment}", "{precaution}", "{assignment}", "{feed}"].iter().any(|p| wants(p)) {
        let f = fresh_case(server, who).await;
        v.case = f.case;
        v.attachment = f.attachment;
        v.precaution = f.precaution;
        v.assignment = f.assignment;
        v.feed = f.feed;
        v.earlier = earlier_case(server).await;
    }
    if wants("{resolved}") {
        let f = fresh_case(server, who).await;
        let rae = actor_of(server.person_id("responder@example.org").await);
        let reference = haven_app::domain::CaseReference::parse("r", &f.case).unwrap();
        server.services.change_status(&rae, &reference, haven_app::domain::CaseStatus::Resolved).await.unwrap();
        v.case = f.case.clone();
        v.resolved = f.case;
    }
    if wants("{shielded}") {
        let f = fresh_case_shielded(server, who, true).await;
        v.case = f.case.clone();
        v.shielded = f.case;
    }
    if wants("{registration}") || wants("{token}") {
        use haven_server::db::entities::registration;
        use sea_orm::{ColumnTrait, QueryFilter};
        let ada = server.person_id("ada.lovelace@example.org").await;
        let r = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e))
            .filter(registration::Column::PersonId.eq(ada))
            .one(&server.db)
            .await
            .unwrap()
            .unwrap();
        v.registration = r.id.to_string();
        let b = s.live_badge(r.id).await.unwrap().unwrap();
        v.token = s.badge_token(&b, organization_id).await.unwrap();
    }
    if wants("{device}") {
        let ev = event::Entity::find_by_id(e).one(&server.db).await.unwrap().unwrap();
        v.device = s.add_device(None, &ev, "Matrix device").await.unwrap().0.to_string();
    }
    if ["{proposal}", "{decision}", "{appeal}", "{appeal_token}"].iter().any(|p| wants(p)) {
        let d = decision_fixture(server, who, wants("{proposal}") && !wants("{decision}")).await;
        v.case = d.case;
        v.proposal = d.proposal;
        v.decision = d.decision;
        v.appeal = d.appeal;
        v.appeal_token = d.appeal_token;
    }
    if wants("{flag}") {
        v.flag = flag_fixture(server, &unique).await;
    }
    if !v.case.is_empty() {
        v.reporter = if who == ReporterResponder { "Rhea Reporter" } else { "Ada Lovelace" }.into();
        CASES.lock().unwrap().entry(server.url("/")).or_default().push(v.case.clone());
    }
    if wants("{further}")
        && let Some(email) = who.email()
    {
        // A further address of the caller's own, to remove.
        let tx = s.begin().await.unwrap();
        auth::link_identity(&tx, now, server.person_id(email).await, auth::EMAIL_PROVIDER, &v.further).await.unwrap();
        tx.commit().await.unwrap();
    }
    if wants("{email_token}") {
        use haven_server::db::entities::email_confirmation;
        let token = haven_server::crypto::random_token();
        let address = format!("{unique}@confirm.example");
        email_confirmation::Entity::insert(email_confirmation::ActiveModel {
            id: Set(Uuid::new_v4()),
            token_hash: Set(haven_server::crypto::hash_token(&token)),
            person_id: Set(server.person_id("ada.lovelace@example.org").await),
            email: Set(address.clone()),
            email_normalized: Set(address),
            created_at: Set(now),
            expires_at: Set(now + Duration::hours(1)),
            used_at: Set(None),
        })
        .exec(&server.db)
        .await
        .unwrap();
        v.email_token = token;
    }
    if wants("{window_start}") {
        let ev = event::Entity::find_by_id(e).one(&server.db).await.unwrap().unwrap();
        let tz = haven_app::domain::EventTimeZone::parse("tz", &ev.time_zone).unwrap();
        let late = ev.ends_at - Duration::hours(2);
        v.window_start = tz.utc_to_local_input(late);
        v.window_end = tz.utc_to_local_input(late + Duration::minutes(30));
    }
    v
}

fn actor_of(person: Uuid) -> haven_app::api::Actor {
    haven_app::api::Actor {
        session: Some(haven_app::api::ActorSession {
            person_id: person,
            session_id: Uuid::nil(),
            // Fixtures act as staff who passed their second factor.
            second_factor: Some(haven_app::api::SecondFactorProof::Code),
        }),
        client: "matrix".into(),
    }
}

/// Every case reference a fixture made, for the checks of mail and notifications, by server
/// (the matrix runs on each database at once).
static CASES: std::sync::Mutex<std::collections::BTreeMap<String, Vec<String>>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// A new case for every call: Ada (or, for that caller, Rhea, a responder) reports Ken
/// Okafor (who is registered, so he is the named person); the callers who hold a staff
/// role and are named are linked to it too; responder2 declared a conflict; it carries one
/// attachment, an escort for the reporter and a door instruction.
async fn fresh_case(server: &TestServer, who: Who) -> Fixture {
    fresh_case_shielded(server, who, false).await
}

/// The same, its reporter shielded (`shield_identity`) or not.
async fn fresh_case_shielded(server: &TestServer, who: Who, shield_identity: bool) -> Fixture {
    use haven_server::services::cases::{Filed, Upload};
    let s = &server.services;
    let reporter = if who == ReporterResponder { ReporterResponder } else { Registrant };
    let reporter = actor_of(server.person_id(reporter.email().unwrap()).await);
    let form = haven_app::domain::ConcernForm {
        person_name: "Ken Okafor".into(),
        person_email: "ken.okafor@example.org".into(),
        narrative: format!("The matrix case, near the {NARRATIVE_WORD} stand."),
        shield_identity,
        ..Default::default()
    };
    let Ok(Filed::Case(reference)) = s.file_concern(&reporter, &havenconf(), form, None).await else {
        panic!("the matrix case is filed");
    };
    let sam = actor_of(server.person_id("responder2@example.org").await);
    s.declare_conflict(&sam, &reference).await.unwrap();
    let rae = actor_of(server.person_id("responder@example.org").await);
    s.add_attachment(&rae, &reference, Upload { file_name: "note.txt".into(), data: b"evidence".to_vec() })
        .await
        .unwrap();
    // Ken, the person it names, is linked (decisions are about linked people).
    let ken = server.person_id("ken.okafor@example.org").await.to_string();
    s.confirm_match(&rae, &reference, &ken).await.unwrap();
    // The staff who are named too (the description names Ken only, so linked directly).
    {
        use haven_server::db::entities::{case, case_person};
        use sea_orm::{ColumnTrait, QueryFilter};
        let c = case::Entity::find().filter(case::Column::Reference.eq(reference.as_str())).one(&server.db).await;
        let c = c.unwrap().unwrap();
        for named in EVERYONE.iter().filter(|w| w.named() && **w != Named) {
            case_person::Entity::insert(case_person::ActiveModel {
                id: Set(Uuid::new_v4()),
                case_id: Set(c.id),
                person_id: Set(server.person_id(named.email().unwrap()).await),
                role: Set("named".into()),
                confirmed_by: Set(Some(server.person_id("responder@example.org").await)),
                created_at: Set(c.created_at),
            })
            .exec(&server.db)
            .await
            .unwrap();
        }
    }
    let instruction = format!("Admit; {INSTRUCTION_WORD} at the gate");
    s.add_text_precaution(&rae, &reference, haven_app::domain::PrecautionKind::DoorInstruction, &instruction)
        .await
        .unwrap();
    // An escort assignment for Eli, in a minute of its own from the second day on (no
    // double booking, clear of the demo's escort), counted per server: the matrix runs run
    // at once, each on its own database.
    static SLOTS: std::sync::Mutex<std::collections::BTreeMap<String, i64>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let slot = {
        let mut slots = SLOTS.lock().unwrap();
        let next = slots.entry(server.url("/")).or_default();
        *next += 1;
        *next - 1
    };
    let e = event::Entity::find_by_id(event_id(server, "havenconf").await).one(&server.db).await.unwrap().unwrap();
    let tz = haven_app::domain::EventTimeZone::parse("tz", &e.time_zone).unwrap();
    let start = e.starts_at + Duration::hours(20) + Duration::minutes(slot);
    let escort = haven_app::api::EscortInput {
        escorts: vec![server.person_id("escort@example.org").await.to_string()],
        start_1: tz.utc_to_local_input(start),
        end_1: tz.utc_to_local_input(start + Duration::minutes(1)),
        meeting_point: "Gate".into(),
        ..Default::default()
    };
    s.add_escort(&rae, &reference, &escort).await.unwrap();
    use haven_server::db::entities::{case, case_attachment, escort_assignment, precaution};
    use sea_orm::{ColumnTrait, QueryFilter};
    let c = case::Entity::find()
        .filter(case::Column::Reference.eq(reference.as_str()))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let a = case_attachment::Entity::find()
        .filter(case_attachment::Column::CaseId.eq(c.id))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let p = precaution::Entity::find()
        .filter(precaution::Column::CaseId.eq(c.id))
        .filter(precaution::Column::Kind.eq("escort"))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let assignment = escort_assignment::Entity::find()
        .filter(escort_assignment::Column::PrecautionId.eq(p.id))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let eli = actor_of(server.person_id("escort@example.org").await);
    let feed = s.renew_calendar_feed(&eli).await.unwrap();
    Fixture {
        case: reference.to_string(),
        attachment: a.id.to_string(),
        precaution: p.id.to_string(),
        assignment: assignment.id.to_string(),
        feed: feed.rsplit('/').next().unwrap().to_owned(),
    }
}

struct Fixture {
    case: String,
    attachment: String,
    precaution: String,
    assignment: String,
    feed: String,
}

struct DecisionFixture {
    case: String,
    proposal: String,
    decision: String,
    appeal: String,
    appeal_token: String,
}

/// A fresh case with a proposal (a warning for Ken) and, unless `only_proposal`, that
/// proposal recorded by a decider who is not in the table, and Ken's appeal of it (with
/// a known link token).
async fn decision_fixture(server: &TestServer, who: Who, only_proposal: bool) -> DecisionFixture {
    use haven_app::api::{AppealsApi, DecisionsApi, ProposalsApi};
    use haven_server::db::entities::{appeal, decision, decision_proposal};
    use sea_orm::{ColumnTrait, QueryFilter};
    let s = &*server.services;
    let f = fresh_case(server, who).await;
    let ken = server.person_id("ken.okafor@example.org").await;
    let rae = actor_of(server.person_id("responder@example.org").await);
    let input = |kind: &str| haven_app::domain::DecisionInput {
        person: ken.to_string(),
        kind: kind.into(),
        reasons: format!("{REASONS_WORD} conduct"),
        ..Default::default()
    };
    s.propose_decision(&rae, &case_reference(&f.case), input("warning")).await.unwrap();
    let c = haven_server::db::entities::case::Entity::find()
        .filter(haven_server::db::entities::case::Column::Reference.eq(&f.case))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let proposal = decision_proposal::Entity::find()
        .filter(decision_proposal::Column::CaseId.eq(c.id))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let mut out = DecisionFixture {
        case: f.case,
        proposal: proposal.clone(),
        decision: String::new(),
        appeal: String::new(),
        appeal_token: String::new(),
    };
    if only_proposal {
        return out;
    }
    // A decider of its own: an organizer of the event who appears nowhere else.
    let now = s.clock.now();
    let tx = s.begin().await.unwrap();
    let name = haven_app::domain::DisplayName::parse("n", "Dee Decider").unwrap();
    let email =
        haven_app::domain::EmailAddress::parse("e", &format!("{}@decider.example", Uuid::new_v4().simple())).unwrap();
    let (dee, _) = auth::person_for_email(&tx, now, None, &name, &email).await.unwrap();
    tx.commit().await.unwrap();
    let e = event_id(server, "havenconf").await;
    staff::grant(s, dee.id, demo_org(server).await, Some(e), Role::Organizer).await.unwrap();
    s.record_decision(&actor_of(dee.id), proposal.parse().unwrap(), input("warning")).await.unwrap();
    let d =
        decision::Entity::find().filter(decision::Column::DecidedBy.eq(dee.id)).one(&server.db).await.unwrap().unwrap();
    out.decision = d.id.to_string();
    // The notice's link token is mailed, not stored: give the record one we know.
    let token = haven_server::crypto::random_token();
    decision::Entity::update(decision::ActiveModel {
        id: Set(d.id),
        appeal_token_hash: Set(Some(haven_server::crypto::hash_token(&token))),
        ..Default::default()
    })
    .exec(&server.db)
    .await
    .unwrap();
    out.appeal_token = token;
    // Ken's appeal of a twin decision (so appealing the first stays possible).
    let twin = fresh_case(server, who).await;
    s.propose_decision(&rae, &case_reference(&twin.case), input("warning")).await.unwrap();
    let twin_case = haven_server::db::entities::case::Entity::find()
        .filter(haven_server::db::entities::case::Column::Reference.eq(&twin.case))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let twin_proposal = decision_proposal::Entity::find()
        .filter(decision_proposal::Column::CaseId.eq(twin_case.id))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    s.record_decision(&actor_of(dee.id), twin_proposal.id, input("warning")).await.unwrap();
    let twin_decision = decision::Entity::find()
        .filter(decision::Column::ProposalId.eq(twin_proposal.id))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    s.appeal_decision(&actor_of(ken), twin_decision.id, "Matrix appeal").await.unwrap();
    out.appeal = appeal::Entity::find()
        .filter(appeal::Column::DecisionId.eq(twin_decision.id))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    out
}

/// An open ban-evasion flag: a new registrant named like Donald Moreau (banned in the demo).
async fn flag_fixture(server: &TestServer, unique: &str) -> String {
    use haven_app::api::RegistrationsApi;
    use haven_server::db::entities::evasion_flag;
    use sea_orm::{ColumnTrait, QueryFilter};
    let admin = actor_of(server.person_id("admin@example.org").await);
    let csv = format!("name,email\nDonald Moreau,{unique}@flag.example\n");
    server.services.import_registrations(&admin, &havenconf(), &csv).await.unwrap();
    let person = server.person_id(&format!("{unique}@flag.example")).await;
    evasion_flag::Entity::find()
        .filter(evasion_flag::Column::PersonId.eq(person))
        .one(&server.db)
        .await
        .unwrap()
        .expect("the registrant is flagged")
        .id
        .to_string()
}

/// The demo's first case (Ada's concern about Ken): earlier than any fresh case.
async fn earlier_case(server: &TestServer) -> String {
    use haven_server::db::entities::case;
    use sea_orm::QueryOrder;
    case::Entity::find().order_by_asc(case::Column::CreatedAt).one(&server.db).await.unwrap().unwrap().reference
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

/// Another organization with its own event, registrant and administrator; a sandbox event
/// in the demo organization for invitations to point at, and Ivy, who gets invitations.
async fn other_organization(server: &TestServer) {
    let now = Utc::now();
    event::Entity::insert(event::ActiveModel {
        id: Set(Uuid::new_v4()),
        organization_id: Set(demo_org(server).await),
        slug: Set("sandbox".into()),
        name: Set("Sandbox".into()),
        venue: Set("Nowhere".into()),
        time_zone: Set("UTC".into()),
        starts_at: Set(now + Duration::days(40)),
        ends_at: Set(now + Duration::days(41)),
        ack_hours: Set(24),
        created_at: Set(now),
    })
    .exec(&server.db)
    .await
    .unwrap();
    let org = Uuid::new_v4();
    organization::Entity::insert(organization::ActiveModel {
        id: Set(org),
        slug: Set("other".into()),
        name: Set("Other Org".into()),
        created_at: Set(now),
        second_factor_required: Set(false),
        accept_provider_mfa: Set(false),
        retention_days: Set(365),
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
    let tx = server.services.begin().await.unwrap();
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
    let (n, e) = person("Ivy Invitee", "ivy@invited.example");
    auth::person_for_email(&tx, now, None, &n, &e).await.unwrap();
    tx.commit().await.unwrap();
    registration::Entity::insert(registration::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(ev),
        person_id: Set(olga.id),
        ticket_ref: Set(None),
        role: Set(None),
        status: Set("active".into()),
        created_at: Set(now),
        refund_forfeited_at: Set(None),
        forfeited_by: Set(None),
    })
    .exec(&server.db)
    .await
    .unwrap();
    staff::grant(&server.services, oscar.id, org, None, Role::Admin).await.unwrap();
}

/// The callers who hold two roles: each a person of their own with their staff role (the
/// reporter-responder also registered, like any reporter).
async fn dual_roles(server: &TestServer) {
    let s = &server.services;
    let now = s.clock.now();
    let e = event_id(server, "havenconf").await;
    let organization = demo_org(server).await;
    for who in EVERYONE {
        let Some((name, role, organization_wide)) = who.second_role() else { continue };
        let tx = s.begin().await.unwrap();
        let display = haven_app::domain::DisplayName::parse("n", name).unwrap();
        let email = haven_app::domain::EmailAddress::parse("e", who.email().unwrap()).unwrap();
        let (p, _) = auth::person_for_email(&tx, now, None, &display, &email).await.unwrap();
        tx.commit().await.unwrap();
        staff::grant(s, p.id, organization, (!organization_wide).then_some(e), role).await.unwrap();
        if *who == ReporterResponder {
            registration::Entity::insert(registration::ActiveModel {
                id: Set(Uuid::new_v4()),
                event_id: Set(e),
                person_id: Set(p.id),
                ticket_ref: Set(None),
                role: Set(None),
                status: Set("active".into()),
                created_at: Set(now),
                refund_forfeited_at: Set(None),
                forfeited_by: Set(None),
            })
            .exec(&server.db)
            .await
            .unwrap();
        }
    }
}

/// Waits until every mail the run queued is delivered (thousands: more than the harness's
/// usual wait), failing with what still waits.
async fn drain(server: &TestServer) {
    use haven_server::db::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut waiting = Vec::new();
    for _ in 0..600 {
        waiting = outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::FailedAt.is_null())
            .all(&server.db)
            .await
            .unwrap();
        if waiting.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let kinds: Vec<(String, i32, Option<String>)> =
        waiting.iter().take(10).map(|m| (m.kind.clone(), m.attempts, m.last_error.clone())).collect();
    panic!("{} mails still wait after 150 s: {kinds:?}", waiting.len());
}

/// The planted words standing for what `who` may not learn, for the case of one call.
fn hidden_words(who: Who, case: &str, reporter: &str) -> Vec<(Marker, String)> {
    who.hidden()
        .iter()
        .filter_map(|m| {
            let word = match m {
                Marker::CaseRef => case.to_owned(),
                Marker::Narrative => NARRATIVE_WORD.to_owned(),
                Marker::Reasons => REASONS_WORD.to_owned(),
                Marker::Instruction => INSTRUCTION_WORD.to_owned(),
                Marker::ReporterName => reporter.to_owned(),
            };
            (!word.is_empty()).then_some((*m, word))
        })
        .collect()
}

/// Status and body with per-response noise (CSP nonces) removed, and the values used.
async fn answer(server: &TestServer, who: Who, row: &Row, target: Target) -> (u16, String, Values) {
    let v = values(server, who, target, row).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", server.base_url.parse().unwrap());
    if let Some(email) = who.email() {
        headers.insert("cookie", server.session_cookie(email).await.parse().unwrap());
    }
    // A call that never answers fails the test naming its row, instead of hanging it.
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let url = server.url(&v.fill(row.path));
    let res = match row.method {
        Method::Get => client.get(url).send().await.unwrap_or_else(|e| panic!("{} as {who:?}: {e:?}", row.name)),
        Method::Post => {
            let form: Vec<(String, String)> = row.form.iter().map(|(k, val)| (k.to_string(), v.fill(val))).collect();
            client.post(url).form(&form).send().await.unwrap_or_else(|e| panic!("{} as {who:?}: {e:?}", row.name))
        }
        Method::Multipart => {
            let form = row
                .form
                .iter()
                .fold(reqwest::multipart::Form::new(), |f, (k, val)| f.text(k.to_string(), v.fill(val)))
                .part("file", reqwest::multipart::Part::bytes(b"matrix file".to_vec()).file_name("matrix.txt"));
            client.post(url).multipart(form).send().await.unwrap_or_else(|e| panic!("{} as {who:?}: {e:?}", row.name))
        }
    };
    let status = res.status().as_u16();
    // A live stream never ends: its status and type say enough (streams are read at the end).
    if res.headers().get("content-type").is_some_and(|t| t == "text/event-stream") {
        return (status, "event stream".into(), v);
    }
    let body = res.text().await.unwrap_or_else(|e| panic!("{} as {who:?}: {e:?}", row.name));
    (status, normalize(&body), v)
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
    without_split_preloads(&out)
}

/// Drops the hints that tell a browser to fetch a lazily loaded page's parts of the wasm
/// early (`<link rel="preload" href="/pkg/chunk_….wasm">` and the split loader). Leptos
/// adds them after rendering when the page's lazy code ran in time, which is not every
/// time (a first render often has none), so they differ between two answers that are
/// otherwise the same. They name only public files, and a lazy route's code runs for
/// every caller of that route, found or not, so they say nothing about the thing asked
/// for.
fn without_split_preloads(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("<link ") {
        let end = rest[start..].find('>').map_or(rest.len(), |e| start + e + 1);
        let tag = &rest[start..end];
        out.push_str(&rest[..start]);
        if !["/pkg/chunk_", "/pkg/split___", "/pkg/__wasm_split"].iter().any(|p| tag.contains(&format!("href=\"{p}"))) {
            out.push_str(tag);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

// One test per database, so the two (the longest tests of the suite) run side by side.
/// Calls every row as every caller and lists what is wrong: a cell `expected` to be
/// allowed must succeed and show nothing the rule of involvement hides from the caller (as
/// `reads_as` them); any other must be refused exactly as something missing is.
async fn check_rows(
    server: &TestServer,
    expected: impl Fn(&Row, Who) -> bool,
    reads_as: impl Fn(Who) -> Who,
) -> Vec<String> {
    let mut problems = Vec::new();
    for row in ROWS {
        for &who in EVERYONE {
            let allowed = expected(row, who);
            let (status, body, v) = answer(server, who, row, Target::Real).await;
            if allowed {
                if status >= 400 {
                    problems.push(format!("{:<40} {who:?}: should be allowed, got {status}", row.name));
                }
                // What came back carries nothing the rule hides from this caller (or, for a
                // capability such as a calendar feed's address, from the one it was made for).
                let reader = if row.path.starts_with("/calendar/") { Escort } else { reads_as(who) };
                for (marker, word) in hidden_words(reader, &v.case, &v.reporter) {
                    if body.contains(&word) {
                        problems.push(format!("{:<40} {who:?}: the answer shows {marker:?} ({word})", row.name));
                    }
                }
                // And the reporter and the team do see the case they may open.
                if matches!(row.name, "case" | "/cases/{case}") && !body.contains(NARRATIVE_WORD) {
                    problems.push(format!("{:<40} {who:?}: the narrative is missing", row.name));
                }
                continue;
            }
            let (missing_status, missing_body, _) = answer(server, who, row, Target::Missing).await;
            if status < 400 {
                problems.push(format!("{:<40} {who:?}: should be denied, got {status}", row.name));
            } else if body.contains("@invited.example") {
                problems.push(format!("{:<40} {who:?}: the refusal names the invitation's address", row.name));
            } else if !row.public_target && (status, &body) != (missing_status, &missing_body) {
                problems.push(format!(
                    "{:<40} {who:?}: denial ({status}) differs from not-found ({missing_status})",
                    row.name
                ));
            }
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_and_server_function_allows_exactly_its_roles_on_sqlite() {
    every_route_and_server_function_allows_exactly_its_roles(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_and_server_function_allows_exactly_its_roles_on_postgres() {
    if let Some(backend) = postgres() {
        every_route_and_server_function_allows_exactly_its_roles(backend).await;
    }
}

/// The PostgreSQL backend, if one is configured (CI always has one).
fn postgres() -> Option<Backend> {
    let found = backends().into_iter().find(|b| matches!(b, Backend::Postgres(_)));
    if found.is_none() {
        eprintln!("no PostgreSQL configured (HAVEN_TEST_POSTGRES_URL): the matrix ran on SQLite only");
    }
    found
}

/// A server with the demo, another organization and the callers who hold two roles; the
/// provider and the mail sink it talks to live as long as the caller keeps them.
async fn matrix_server(backend: &Backend) -> (TestServer, OidcProvider, MailSink) {
    let provider = OidcProvider::start().await;
    let sink = MailSink::start().await;
    let options = Options::default().oidc(&provider, "mock", "Mock SSO").mail(&sink);
    let server = TestServer::start_with(backend, options).await;
    server.seed_demo().await;
    other_organization(&server).await;
    dual_roles(&server).await;
    (server, provider, sink)
}

async fn every_route_and_server_function_allows_exactly_its_roles(backend: Backend) {
    {
        let (server, _provider, sink) = matrix_server(&backend).await;
        // Every signed-in caller's live notification stream, open for the whole run.
        let mut streams = Vec::new();
        for &who in SIGNED_IN {
            let client = server.client_as(who.email().unwrap()).await;
            let res = client.get(server.url("/live/notifications")).send().await.unwrap();
            assert_eq!(res.status(), 200, "{who:?}'s live stream");
            streams.push((who, res));
        }

        let mut problems = check_rows(&server, |row, who| row.allowed.contains(&who), |who| who).await;
        // Nothing hidden reached anyone by mail, on the bell or down their live stream.
        drain(&server).await;
        let cases = CASES.lock().unwrap().remove(&server.url("/")).unwrap_or_default();
        assert!(cases.len() > 20, "the fixtures made cases: {}", cases.len());
        for (who, mut stream) in streams {
            let mut seen = String::new();
            while let Ok(Ok(Some(chunk))) =
                tokio::time::timeout(std::time::Duration::from_millis(1500), stream.chunk()).await
            {
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
            let client = server.client_as(who.email().unwrap()).await;
            let (status, bell) = haven_tests::call_fn(&client, &server, "notifications", &[]).await;
            assert_eq!(status, 200);
            let mail: String =
                sink.to(who.email().unwrap()).await.iter().map(|m| format!("{}\n{}\n", m.subject, m.text)).collect();
            for (place, text) in [("live stream", &seen), ("notifications", &bell.to_string()), ("mail", &mail)] {
                for (marker, word) in hidden_words(who, "", "Ada Lovelace") {
                    if text.contains(&word) {
                        problems.push(format!("{who:?}: their {place} shows {marker:?} ({word})"));
                    }
                }
                if who.hidden().contains(&Marker::CaseRef) {
                    for case in cases.iter().filter(|c| text.contains(c.as_str())) {
                        problems.push(format!("{who:?}: their {place} shows the case reference {case}"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{backend}: {} cell(s) wrong:\n{}", problems.len(), problems.join("\n"));
    }
}

/// A caller whose sign-in passed only the first factor, where the organization requires a
/// second: the roles that need one (responder, organizer, administrator) are held back, so
/// each such caller may do only what callers of the same standing without those roles may.
fn first_factor_proxies(who: Who) -> &'static [Who] {
    match who {
        // Holding nothing else here: a signed-in stranger, as these two are.
        Responder | RecusedResponder | Organizer | OtherAdmin | Admin | NamedOrganizer | NamedAdmin
        | NamedResponder => &[OtherRegistrant, Invitee],
        // Still registered, and the reporter of their case.
        ReporterResponder => &[Registrant],
        // Escorts and door staff need no second factor; the others hold no staff role.
        _ => &[],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_factor_sign_in_has_no_staff_access_where_a_second_is_required_on_sqlite() {
    a_first_factor_sign_in_has_no_staff_access_where_a_second_is_required(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_factor_sign_in_has_no_staff_access_where_a_second_is_required_on_postgres() {
    if let Some(backend) = postgres() {
        a_first_factor_sign_in_has_no_staff_access_where_a_second_is_required(backend).await;
    }
}

async fn a_first_factor_sign_in_has_no_staff_access_where_a_second_is_required(backend: Backend) {
    let (server, _provider, _sink) = matrix_server(&backend).await;
    let required = haven_app::api::OrganizationSecurity { second_factor_required: true, accept_provider_mfa: false };
    for slug in ["demo", "other"] {
        use sea_orm::{ColumnTrait, QueryFilter};
        let org = organization::Entity::find()
            .filter(organization::Column::Slug.eq(slug))
            .one(&server.db)
            .await
            .unwrap()
            .unwrap();
        server.services.set_security(None, org.id, required).await.unwrap();
    }
    let problems = check_rows(
        &server,
        |row, who| row.allowed.contains(&who) && first_factor_proxies(who).iter().all(|p| row.allowed.contains(p)),
        |who| first_factor_proxies(who).first().copied().unwrap_or(who),
    )
    .await;
    assert!(problems.is_empty(), "{backend}: {} cell(s) wrong:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn the_matrix_names_every_server_function() {
    // Every `#[server]` endpoint of the app must have a row.
    let source = std::fs::read_dir(haven_tests::workspace_root().join("app/src/api"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect::<String>();
    for endpoint in source.split("endpoint = \"").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(
            ROWS.iter().any(|r| r.path == format!("/fn/{endpoint}")),
            "the server function {endpoint} has no row in the authorization matrix"
        );
    }
}

/// Whether `pattern` (an axum `{name}`/`{*rest}` or Leptos `:name` route) serves `path`.
fn serves(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap();
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), _) if w.starts_with("{*") => return true,
            (Some(w), Some(h)) => {
                let param = w.starts_with(':') || (w.starts_with('{') && w.ends_with('}'));
                // A route's parameter takes any non-empty segment ("{registration}.svg" too).
                let fits = if param { !h.is_empty() } else { w == h };
                if !fits {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[test]
fn the_matrix_names_every_route_and_page() {
    let root = haven_tests::workspace_root();
    let mut routes: Vec<(bool, String)> = Vec::new();
    // The server's own routes, with whether they answer GET.
    let http = std::fs::read_to_string(root.join("server/src/http/mod.rs")).unwrap();
    for rest in http.split(".route(\"").skip(1) {
        let (path, after) = rest.split_once('"').unwrap();
        if path != "/fn/{*name}" {
            routes.push((after.trim_start_matches(", ").starts_with("get("), path.to_owned()));
        }
    }
    // The app's pages (all GET).
    let ui = std::fs::read_to_string(root.join("app/src/ui/mod.rs")).unwrap();
    for rest in ui.split("path!(\"").skip(1) {
        routes.push((true, rest.split('"').next().unwrap().to_owned()));
    }
    assert!(routes.len() > 30, "{routes:?}");
    for (is_get, pattern) in &routes {
        assert!(
            ROWS.iter().any(|r| matches!(r.method, Method::Get) == *is_get && serves(pattern, r.path)),
            "the route {} {pattern} has no row in the authorization matrix",
            if *is_get { "GET" } else { "POST" }
        );
    }
}

fn havenconf() -> haven_app::domain::Slug {
    haven_app::domain::Slug::parse("slug", "havenconf").unwrap()
}

fn case_reference(text: &str) -> haven_app::domain::CaseReference {
    haven_app::domain::CaseReference::parse("reference", text).unwrap()
}
