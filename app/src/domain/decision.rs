//! Enforcement decisions: what may be decided, the rules each kind's terms must satisfy,
//! the appeal deadline (30 calendar days in the event's time zone), and how small counts
//! are shown in public figures.

use super::{DomainError, EventTimeZone, PlainText, Role, RoleScope};
use chrono::{DateTime, Days, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// What was decided about a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Warning,
    TemporaryBan,
    PermanentBan,
    RoleRemoval,
    Expulsion,
    AuthorityReport,
    Other,
    /// No measure any more: an appeal lifted the decision, or a correction withdrew it.
    Lifted,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 8] = [
        DecisionKind::Warning,
        DecisionKind::TemporaryBan,
        DecisionKind::PermanentBan,
        DecisionKind::RoleRemoval,
        DecisionKind::Expulsion,
        DecisionKind::AuthorityReport,
        DecisionKind::Other,
        DecisionKind::Lifted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Warning => "warning",
            DecisionKind::TemporaryBan => "temporary_ban",
            DecisionKind::PermanentBan => "permanent_ban",
            DecisionKind::RoleRemoval => "role_removal",
            DecisionKind::Expulsion => "expulsion",
            DecisionKind::AuthorityReport => "authority_report",
            DecisionKind::Other => "other",
            DecisionKind::Lifted => "lifted",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<DecisionKind, DomainError> {
        DecisionKind::ALL.into_iter().find(|k| k.as_str() == raw.trim()).ok_or_else(|| {
            DomainError::new(
                field,
                "must be one of warning, temporary_ban, permanent_ban, role_removal, expulsion, authority_report, other",
            )
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::Warning => "Warning",
            DecisionKind::TemporaryBan => "Temporary ban",
            DecisionKind::PermanentBan => "Permanent ban",
            DecisionKind::RoleRemoval => "Removal from a role",
            DecisionKind::Expulsion => "Expulsion from the event without refund",
            DecisionKind::AuthorityReport => "Report to the authorities",
            DecisionKind::Other => "Another measure",
            DecisionKind::Lifted => "No measure (lifted)",
        }
    }

    pub fn is_ban(self) -> bool {
        matches!(self, DecisionKind::TemporaryBan | DecisionKind::PermanentBan)
    }

    /// Decisions that reach beyond one event need organization-wide authority.
    pub fn needs_organization(self, role_scope: RoleScope) -> bool {
        self.is_ban() || (self == DecisionKind::RoleRemoval && role_scope == RoleScope::Organization)
    }
}

/// The decision form as sent (`input[kind]`, …). Empty strings mean "not given".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DecisionInput {
    /// The person decided about (a person id linked to the case).
    pub person: String,
    pub kind: String,
    /// Bans: from when and (temporary) until when, wall-clock in the event's time zone.
    pub starts: String,
    pub ends: String,
    /// Role removal: which role, and `event` or `organization`.
    pub role: String,
    pub role_scope: String,
    /// Report to the authorities: who was told, when, and their reference.
    pub authority: String,
    pub authority_at: String,
    pub authority_reference: String,
    /// Another measure: what it is.
    pub measure: String,
    /// Why (kept sealed; never sent to the person).
    pub reasons: String,
    /// Further cases the decision rests on, besides the one it is proposed on: their
    /// references, separated by spaces or commas (responders only; deciders cannot see
    /// cases, so theirs is ignored).
    pub cases: String,
}

/// The references in a list of further cases, each once; at most ten.
pub fn parse_case_list(raw: &str) -> Result<Vec<super::CaseReference>, DomainError> {
    let mut out: Vec<super::CaseReference> = Vec::new();
    for part in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        let r = super::CaseReference::parse("cases", part)
            .map_err(|_| DomainError::new("cases", format!("{part} is not a case reference (like HVN-7KQ2-M9XD)")))?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.len() > 10 {
        return Err(DomainError::new("cases", "at most ten further cases"));
    }
    Ok(out)
}

/// A report made to the authorities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityReport {
    pub who: String,
    pub at: DateTime<Utc>,
    pub reference: Option<String>,
}

/// What the sealed `details` of a decision hold besides its columns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Details {
    pub authority: Option<AuthorityReport>,
    pub measure: Option<String>,
}

/// Checked terms of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub kind: DecisionKind,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub role: Option<(Role, RoleScope)>,
    pub details: Details,
    pub reasons: String,
}

/// How far back a ban may start (a form filled a few minutes ago is not "the past").
const GRACE: Duration = Duration::minutes(5);

impl Terms {
    /// Checks the form against the rules of its kind, reporting every problem. `lifted` is
    /// only allowed where the caller says so (appeals and corrections).
    pub fn parse(
        input: &DecisionInput,
        tz: EventTimeZone,
        now: DateTime<Utc>,
        allow_lifted: bool,
    ) -> Result<Terms, Vec<DomainError>> {
        let mut errors = Vec::new();
        let kind = match DecisionKind::parse("kind", &input.kind) {
            Ok(DecisionKind::Lifted) if !allow_lifted => {
                errors.push(DomainError::new("kind", "lifting is how an appeal or a correction ends a measure"));
                None
            }
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let reasons = PlainText::parse("reasons", &input.reasons, 1, 5000).map_err(|e| errors.push(e)).ok();
        let given = |s: &str| !s.trim().is_empty();
        let time = |field: &str, raw: &str, errors: &mut Vec<DomainError>| {
            if given(raw) { tz.local_to_utc(field, raw).map_err(|e| errors.push(e)).ok() } else { None }
        };
        let mut starts_at = None;
        let mut ends_at = None;
        let mut role = None;
        let mut details = Details::default();
        match kind {
            Some(k) if k.is_ban() => {
                starts_at =
                    time("starts", &input.starts, &mut errors).or(if given(&input.starts) { None } else { Some(now) });
                if starts_at.is_some_and(|s| s < now - GRACE) {
                    errors.push(DomainError::new("starts", "must not be in the past"));
                }
                if k == DecisionKind::TemporaryBan {
                    if given(&input.ends) {
                        ends_at = time("ends", &input.ends, &mut errors);
                        if let (Some(s), Some(e)) = (starts_at, ends_at)
                            && e <= s
                        {
                            errors.push(DomainError::new("ends", "must be after the start"));
                        }
                    } else {
                        errors.push(DomainError::new("ends", "is required for a temporary ban"));
                    }
                } else if given(&input.ends) {
                    errors.push(DomainError::new("ends", "a permanent ban has no end"));
                }
            }
            Some(_) => {
                for (field, raw) in [("starts", &input.starts), ("ends", &input.ends)] {
                    if given(raw) {
                        errors.push(DomainError::new(field, "only a ban has a period"));
                    }
                }
            }
            None => {}
        }
        if kind == Some(DecisionKind::RoleRemoval) {
            let r = if given(&input.role) {
                Role::parse("role", &input.role).map_err(|e| errors.push(e)).ok()
            } else {
                errors.push(DomainError::new("role", "is required: which role is removed"));
                None
            };
            let scope = RoleScope::parse("role_scope", &input.role_scope).map_err(|e| errors.push(e)).ok();
            role = r.zip(scope);
        }
        if kind == Some(DecisionKind::AuthorityReport) {
            let who = PlainText::parse("authority", &input.authority, 1, 200).map_err(|e| errors.push(e)).ok();
            let at = if given(&input.authority_at) {
                time("authority_at", &input.authority_at, &mut errors)
            } else {
                errors.push(DomainError::new("authority_at", "is required: when they were told"));
                None
            };
            if at.is_some_and(|a| a > now + GRACE) {
                errors.push(DomainError::new("authority_at", "must not be in the future"));
            }
            let reference = PlainText::parse_optional("authority_reference", &input.authority_reference, 200)
                .map_err(|e| errors.push(e))
                .ok()
                .flatten();
            if let (Some(who), Some(at)) = (who, at) {
                details.authority = Some(AuthorityReport {
                    who: who.into_string(),
                    at,
                    reference: reference.map(PlainText::into_string),
                });
            }
        }
        if kind == Some(DecisionKind::Other) {
            details.measure = PlainText::parse("measure", &input.measure, 1, 1000)
                .map_err(|e| errors.push(e))
                .ok()
                .map(PlainText::into_string);
        }
        match (kind, reasons, errors.is_empty()) {
            (Some(kind), Some(reasons), true) => {
                Ok(Terms { kind, starts_at, ends_at, role, details, reasons: reasons.into_string() })
            }
            _ => Err(errors),
        }
    }

    /// The period in words, in the event's time zone ("from … until …").
    pub fn period(&self, tz: EventTimeZone) -> Option<String> {
        period_text(self.kind, self.starts_at, self.ends_at, tz)
    }
}

/// "from Sat 12 Jun 2027, 14:05 until …" for bans; `None` for other kinds.
pub fn period_text(
    kind: DecisionKind,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    tz: EventTimeZone,
) -> Option<String> {
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz.tz()).format("%a %-d %b %Y, %H:%M").to_string();
    match kind {
        DecisionKind::TemporaryBan => Some(format!(
            "from {} until {} ({})",
            starts_at.map(fmt).unwrap_or_default(),
            ends_at.map(fmt).unwrap_or_default(),
            tz.name()
        )),
        DecisionKind::PermanentBan => {
            Some(format!("from {} ({}), with no end", starts_at.map(fmt).unwrap_or_default(), tz.name()))
        }
        _ => None,
    }
}

/// The last moment an appeal is accepted: the same wall-clock time 30 calendar days after
/// the notice, in the event's time zone (so a clock change in between moves it by an hour
/// in UTC, not in the person's calendar). A time the clocks skip that day moves forward.
pub fn appeal_deadline(noticed: DateTime<Utc>, tz: EventTimeZone) -> DateTime<Utc> {
    let local = noticed.with_timezone(&tz.tz()).naive_local();
    let day = local.date().checked_add_days(Days::new(30)).unwrap_or(local.date());
    let target = day.and_time(local.time());
    let mut probe = target;
    for _ in 0..4 {
        if let Some(t) = tz.tz().from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
        probe += Duration::minutes(30);
    }
    // Unreachable for real zones (no clock change skips two hours); 30 days of hours.
    noticed + Duration::days(30)
}

/// How an appeal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    Upheld,
    Modified,
    Lifted,
}

impl AppealOutcome {
    pub fn parse(field: &str, raw: &str) -> Result<AppealOutcome, DomainError> {
        match raw.trim() {
            "upheld" | "uphold" => Ok(AppealOutcome::Upheld),
            "modified" | "modify" => Ok(AppealOutcome::Modified),
            "lifted" | "lift" => Ok(AppealOutcome::Lifted),
            _ => Err(DomainError::new(field, "must be uphold, modify or lift")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "upheld",
            AppealOutcome::Modified => "modified",
            AppealOutcome::Lifted => "lifted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "The decision stands",
            AppealOutcome::Modified => "The decision was changed",
            AppealOutcome::Lifted => "The decision was lifted",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn further_cases_are_references_each_once_and_at_most_ten() {
        let list = super::parse_case_list(" HVN-7KQ2-M9XD, hvn-7kq2-m9xd  HVN-AAAA-BBBB ").unwrap();
        let refs: Vec<&str> = list.iter().map(|r| r.as_str()).collect();
        assert_eq!(refs, ["HVN-7KQ2-M9XD", "HVN-AAAA-BBBB"]);
        assert!(super::parse_case_list("").unwrap().is_empty());
        let bad = super::parse_case_list("HVN-7KQ2-M9XD, case 12").unwrap_err();
        assert_eq!((bad.field.as_str(), bad.message.contains("case is not a case reference")), ("cases", true));
        let many: Vec<String> = (0..11).map(|i| format!("HVN-AAAA-AA{:02}", i)).collect();
        assert!(super::parse_case_list(&many.join(" ")).is_err());
    }

    use super::*;

    fn berlin() -> EventTimeZone {
        EventTimeZone::parse("tz", "Europe/Berlin").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input(kind: &str) -> DecisionInput {
        DecisionInput { kind: kind.into(), reasons: "Repeated harassment.".into(), ..Default::default() }
    }

    #[test]
    fn the_deadline_keeps_the_wall_clock_across_a_clock_change() {
        // Noticed at 12:00 summer time; Berlin's clocks go back on 25 Oct 2026.
        let deadline = appeal_deadline(at("2026-10-10T10:00:00Z"), berlin());
        assert_eq!(deadline, at("2026-11-09T11:00:00Z"), "12:00 winter time, 30 days on");
        let utc = EventTimeZone::parse("tz", "UTC").unwrap();
        assert_eq!(appeal_deadline(at("2026-10-10T10:00:00Z"), utc), at("2026-11-09T10:00:00Z"));
    }

    #[test]
    fn a_deadline_falling_in_the_skipped_hour_moves_forward() {
        // 02:30 on 29 March 2026 does not exist in Berlin.
        let deadline = appeal_deadline(at("2026-02-27T01:30:00Z"), berlin());
        assert_eq!(deadline, at("2026-03-29T01:00:00Z"), "03:00 summer time");
    }

    #[test]
    fn a_temporary_ban_needs_an_end_after_its_start_and_not_in_the_past() {
        let now = at("2027-01-10T12:00:00Z");
        let mut i = input("temporary_ban");
        let errs = Terms::parse(&i, berlin(), now, false).unwrap_err();
        assert_eq!(errs[0].field, "ends");
        i.starts = "2027-03-01T10:00".into();
        i.ends = "2027-02-01T10:00".into();
        assert_eq!(Terms::parse(&i, berlin(), now, false).unwrap_err()[0].message, "must be after the start");
        i.starts = "2026-12-01T10:00".into();
        i.ends = "2027-12-01T10:00".into();
        assert_eq!(Terms::parse(&i, berlin(), now, false).unwrap_err()[0].message, "must not be in the past");
        i.starts = String::new();
        let t = Terms::parse(&i, berlin(), now, false).unwrap();
        assert_eq!(t.starts_at, Some(now), "no start means now");
        assert_eq!(t.ends_at, Some(at("2027-12-01T09:00:00Z")));
    }

    #[test]
    fn each_kind_asks_for_its_own_details_and_refuses_others() {
        let now = at("2027-01-10T12:00:00Z");
        let mut w = input("warning");
        w.ends = "2027-02-01T10:00".into();
        assert_eq!(Terms::parse(&w, berlin(), now, false).unwrap_err()[0].message, "only a ban has a period");
        let errs = Terms::parse(&input("role_removal"), berlin(), now, false).unwrap_err();
        assert_eq!(errs[0].field, "role");
        let errs = Terms::parse(&input("authority_report"), berlin(), now, false).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["authority", "authority_at"]);
        let errs = Terms::parse(&input("lifted"), berlin(), now, false).unwrap_err();
        assert_eq!(errs[0].field, "kind");
        let mut nothing = input("sanction");
        nothing.reasons = String::new();
        let fields: Vec<String> =
            Terms::parse(&nothing, berlin(), now, false).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["kind", "reasons"]);
    }
}
