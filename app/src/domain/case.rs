//! Cases: what a reporter files, the states a case moves through, and its reference.

use super::{DomainError, EmailAddress, PlainText};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The public handle of a case, e.g. `HVN-7KQ2-M9XD`: random, so it says nothing about how
/// many cases exist. Letters and digits from Crockford's base 32 (no I, L, O, U).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseReference(String);

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl CaseReference {
    /// A reference from 40 random bits.
    pub fn from_random(bits: u64) -> CaseReference {
        let chars: String = (0..8).rev().map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char).collect();
        CaseReference(format!("HVN-{}-{}", &chars[..4], &chars[4..]))
    }

    /// Accepts any case and the confusable letters people type (I and L for 1, O for 0).
    pub fn parse(field: &str, raw: &str) -> Result<CaseReference, DomainError> {
        let invalid = || DomainError::new(field, "is not a case reference (it looks like HVN-7KQ2-M9XD)");
        let upper = raw.trim().to_ascii_uppercase();
        let body = upper.strip_prefix("HVN-").ok_or_else(invalid)?;
        let chars: String = body
            .chars()
            .filter(|c| *c != '-')
            .map(|c| match c {
                'I' | 'L' => '1',
                'O' => '0',
                other => other,
            })
            .collect();
        if chars.len() != 8 || !chars.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(invalid());
        }
        Ok(CaseReference(format!("HVN-{}-{}", &chars[..4], &chars[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseReference {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("reference", &value)
    }
}

impl From<CaseReference> for String {
    fn from(value: CaseReference) -> Self {
        value.0
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    New,
    Acknowledged,
    Investigating,
    PrecautionsPlanned,
    Resolved,
    Closed,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::New,
        CaseStatus::Acknowledged,
        CaseStatus::Investigating,
        CaseStatus::PrecautionsPlanned,
        CaseStatus::Resolved,
        CaseStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::Investigating => "investigating",
            CaseStatus::PrecautionsPlanned => "precautions_planned",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Closed => "closed",
        }
    }

    /// How the status reads to people (the reporter sees the same words).
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::New => "Received",
            CaseStatus::Acknowledged => "Acknowledged",
            CaseStatus::Investigating => "Being looked into",
            CaseStatus::PrecautionsPlanned => "Precautions planned",
            CaseStatus::Resolved => "Resolved",
            CaseStatus::Closed => "Closed",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<CaseStatus, DomainError> {
        let s = raw.trim().to_ascii_lowercase();
        CaseStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| DomainError::new(field, "is not a case status"))
    }

    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }

    /// Whether a case may go from `self` to `to`: forward through the open states (a later
    /// one implies the earlier), to resolved or closed from any open state, and back to
    /// investigating from resolved or closed (a reopening). Nothing returns to `new`.
    pub fn can_become(self, to: CaseStatus) -> bool {
        if self == to || to == CaseStatus::New {
            return false;
        }
        match (self.is_open(), to.is_open()) {
            (true, true) => to > self,
            (true, false) => true,
            (false, true) => to == CaseStatus::Investigating,
            (false, false) => false,
        }
    }
}

/// What a reporter is telling the team about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// Before the event: someone who may attend worries the reporter.
    Concern,
    /// Something that happened.
    Incident,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Concern => "concern",
            CaseKind::Incident => "incident",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<CaseKind, DomainError> {
        match raw.trim() {
            "" | "concern" => Ok(CaseKind::Concern),
            "incident" => Ok(CaseKind::Incident),
            _ => Err(DomainError::new(field, "must be concern or incident")),
        }
    }
}

/// How a case relates to an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    RetaliationAgainstReporter,
    RetaliationAgainstWitness,
    FalseInformation,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::RetaliationAgainstReporter => "retaliation_against_reporter",
            Relation::RetaliationAgainstWitness => "retaliation_against_witness",
            Relation::FalseInformation => "false_information",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Relation::RetaliationAgainstReporter => "possible retaliation against the reporter of",
            Relation::RetaliationAgainstWitness => "possible retaliation against a witness of",
            Relation::FalseInformation => "possible false information in",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Relation, DomainError> {
        [Relation::RetaliationAgainstReporter, Relation::RetaliationAgainstWitness, Relation::FalseInformation]
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| DomainError::new(field, "is not a kind of relation between cases"))
    }
}

/// The person a report is about: any subset of these, at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDescription {
    pub name: Option<String>,
    pub email: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
}

impl PersonDescription {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.handle.is_none() && self.description.is_none()
    }

    /// A short line naming the person, for lists (what the reporter wrote, shortened).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.name {
            parts.push(n.clone());
        }
        if let Some(h) = &self.handle {
            parts.push(format!("@{}", h.trim_start_matches('@')));
        }
        if let Some(e) = &self.email {
            parts.push(e.clone());
        }
        if parts.is_empty()
            && let Some(d) = &self.description
        {
            parts.push(d.chars().take(60).collect());
        }
        parts.join(" · ")
    }
}

/// What would make the reporter feel safe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyWishes {
    pub escort: bool,
    /// At which times an escort is wanted, in the reporter's words.
    pub escort_times: Option<String>,
    pub told_on_arrival: bool,
    pub keep_distance: bool,
    pub staff_aware: bool,
    pub other: Option<String>,
}

/// How the reporter wants to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// Through Haven (messages on the case, and an e-mail saying there is news).
    Haven,
    Email,
    Phone,
    InPerson,
}

impl ContactChannel {
    pub fn parse(field: &str, raw: &str) -> Result<ContactChannel, DomainError> {
        match raw.trim() {
            "" | "haven" => Ok(ContactChannel::Haven),
            "email" => Ok(ContactChannel::Email),
            "phone" => Ok(ContactChannel::Phone),
            "in_person" => Ok(ContactChannel::InPerson),
            _ => Err(DomainError::new(field, "is not a way to be contacted")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContactChannel::Haven => "Messages in Haven",
            ContactChannel::Email => "E-mail",
            ContactChannel::Phone => "Phone",
            ContactChannel::InPerson => "In person at the event",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Witnesses {
    Yes,
    No,
    Unsure,
}

impl Witnesses {
    pub fn parse(field: &str, raw: &str) -> Result<Witnesses, DomainError> {
        match raw.trim() {
            "yes" => Ok(Witnesses::Yes),
            "no" => Ok(Witnesses::No),
            "" | "unsure" => Ok(Witnesses::Unsure),
            _ => Err(DomainError::new(field, "must be yes, no or unsure")),
        }
    }
}

/// The raw fields of the concern form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConcernForm {
    pub kind: String,
    pub person_name: String,
    pub person_email: String,
    pub person_handle: String,
    pub person_description: String,
    pub narrative: String,
    pub wish_escort: bool,
    pub escort_times: String,
    pub wish_told_on_arrival: bool,
    pub wish_keep_distance: bool,
    pub wish_staff_aware: bool,
    pub wish_other: String,
    pub contact_channel: String,
    pub contact_detail: String,
    pub witnesses: String,
    pub witness_details: String,
    /// Only the case's owner may know who reported it.
    pub shield_identity: bool,
}

/// A concern that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConcern {
    pub kind: CaseKind,
    pub person: PersonDescription,
    pub narrative: String,
    pub wishes: SafetyWishes,
    pub contact_channel: ContactChannel,
    pub contact_detail: Option<String>,
    pub witnesses: Witnesses,
    pub witness_details: Option<String>,
    /// Only the case's owner may know who reported it; other responders see a code name.
    pub shielded: bool,
}

pub const NARRATIVE_MAX: usize = 10_000;

impl NewConcern {
    /// Checks every field and reports every problem in words that say what to fix.
    pub fn parse(f: &ConcernForm) -> Result<NewConcern, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut opt = |field: &str, raw: &str, max: usize| {
            PlainText::parse_optional(field, raw, max)
                .map_err(|e| errors.push(e))
                .ok()
                .flatten()
                .map(PlainText::into_string)
        };
        let name = opt("person_name", &f.person_name, 200);
        let handle = opt("person_handle", &f.person_handle, 100);
        let description = opt("person_description", &f.person_description, 2_000);
        let escort_times = opt("escort_times", &f.escort_times, 500);
        let wish_other = opt("wish_other", &f.wish_other, 1_000);
        let contact_detail = opt("contact_detail", &f.contact_detail, 300);
        let witness_details = opt("witness_details", &f.witness_details, 2_000);
        let email = if f.person_email.trim().is_empty() {
            None
        } else {
            EmailAddress::parse("person_email", &f.person_email).map_err(|e| errors.push(e)).ok().map(String::from)
        };
        let person = PersonDescription { name, email, handle, description };
        if person.is_empty() && !errors.iter().any(|e| e.field.starts_with("person_")) {
            errors.push(DomainError::new(
                "person_name",
                "tell us at least one thing about the person: a name, an e-mail address, a handle or a description",
            ));
        }
        let narrative = PlainText::parse("narrative", &f.narrative, 1, NARRATIVE_MAX)
            .map_err(|mut e| {
                if e.message == "is required" {
                    e.message = "please tell us what happened or what you fear".into();
                }
                errors.push(e)
            })
            .ok();
        let kind = CaseKind::parse("kind", &f.kind).map_err(|e| errors.push(e)).ok();
        let channel = ContactChannel::parse("contact_channel", &f.contact_channel).map_err(|e| errors.push(e)).ok();
        if matches!(channel, Some(ContactChannel::Phone)) && contact_detail.is_none() {
            errors.push(DomainError::new("contact_detail", "please give the number we should call"));
        }
        let witnesses = Witnesses::parse("witnesses", &f.witnesses).map_err(|e| errors.push(e)).ok();
        match (kind, narrative, channel, witnesses) {
            (Some(kind), Some(narrative), Some(contact_channel), Some(witnesses)) if errors.is_empty() => {
                Ok(NewConcern {
                    kind,
                    person,
                    narrative: narrative.into_string(),
                    wishes: SafetyWishes {
                        escort: f.wish_escort,
                        escort_times,
                        told_on_arrival: f.wish_told_on_arrival,
                        keep_distance: f.wish_keep_distance,
                        staff_aware: f.wish_staff_aware,
                        other: wish_other,
                    },
                    contact_channel,
                    contact_detail,
                    witnesses,
                    witness_details,
                    shielded: f.shield_identity,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_formatted_and_read_forgivingly() {
        let r = CaseReference::from_random(0xFF_FFFF_FFFF);
        assert_eq!(r.as_str(), "HVN-ZZZZ-ZZZZ");
        assert_eq!(CaseReference::from_random(0).as_str(), "HVN-0000-0000");
        assert_eq!(CaseReference::parse("r", " hvn-7kq2-m9xd ").unwrap().as_str(), "HVN-7KQ2-M9XD");
        assert_eq!(CaseReference::parse("r", "HVN-OIL0-0000").unwrap().as_str(), "HVN-0110-0000");
        for bad in ["", "HVN-", "7KQ2-M9XD", "HVN-7KQ2-M9X", "HVN-7KQ2-M9XDD", "HVN-7KQ2-M9XU", "HVN-../../etc"] {
            assert!(CaseReference::parse("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_move_forward_close_from_anywhere_and_reopen_to_investigating() {
        use CaseStatus::*;
        assert!(New.can_become(Acknowledged));
        assert!(New.can_become(Investigating), "a later state implies the earlier");
        assert!(Investigating.can_become(Closed));
        assert!(!Investigating.can_become(Acknowledged));
        assert!(!Acknowledged.can_become(New));
        assert!(Resolved.can_become(Investigating));
        assert!(!Resolved.can_become(PrecautionsPlanned));
        assert!(!Closed.can_become(Resolved));
        assert!(!Investigating.can_become(Investigating));
    }

    fn form() -> ConcernForm {
        ConcernForm { person_name: "Ken".into(), narrative: "He followed me.".into(), ..Default::default() }
    }

    #[test]
    fn a_concern_needs_something_about_the_person_and_a_narrative() {
        let errs = NewConcern::parse(&ConcernForm::default()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["person_name", "narrative"]);
        assert!(NewConcern::parse(&form()).is_ok());
        let only_handle = ConcernForm { person_handle: "@ken".into(), narrative: "x".into(), ..Default::default() };
        assert_eq!(NewConcern::parse(&only_handle).unwrap().person.handle.as_deref(), Some("@ken"));
    }

    #[test]
    fn every_field_is_bounded_and_checked() {
        let mut f = form();
        f.narrative = "x".repeat(NARRATIVE_MAX + 1);
        f.person_email = "not mail".into();
        f.contact_channel = "phone".into();
        f.witnesses = "maybe".into();
        let fields: Vec<String> = NewConcern::parse(&f).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["person_email", "narrative", "contact_detail", "witnesses"]);
    }
}

/// Properties of the concern form's parser (the plain HTML form posts these fields).
#[cfg(test)]
mod properties {
    use super::*;
    use crate::domain::{proptest_config, typed_text};
    use proptest::prelude::*;

    /// The form's field names: every problem must name one of them.
    pub const FIELDS: [&str; 12] = [
        "kind",
        "person_name",
        "person_email",
        "person_handle",
        "person_description",
        "narrative",
        "escort_times",
        "wish_other",
        "contact_channel",
        "contact_detail",
        "witnesses",
        "witness_details",
    ];

    fn choice(valid: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![proptest::sample::select(valid).prop_map(str::to_owned), typed_text(20)]
    }

    prop_compose! {
        fn form()(
            texts in (typed_text(200), typed_text(254), typed_text(100), typed_text(2_000), typed_text(NARRATIVE_MAX)),
            more in (typed_text(500), typed_text(1_000), typed_text(300), typed_text(2_000)),
            choices in (
                choice(&["concern", "incident", "", " incident "]),
                choice(&["haven", "email", "phone", "in_person", ""]),
                choice(&["yes", "no", "unsure", ""]),
            ),
            wishes in any::<[bool; 5]>(),
        ) -> ConcernForm {
            let (person_name, person_email, person_handle, person_description, narrative) = texts;
            let (escort_times, wish_other, contact_detail, witness_details) = more;
            let (kind, contact_channel, witnesses) = choices;
            ConcernForm {
                kind,
                person_name,
                person_email,
                person_handle,
                person_description,
                narrative,
                wish_escort: wishes[0],
                escort_times,
                wish_told_on_arrival: wishes[1],
                wish_keep_distance: wishes[2],
                wish_staff_aware: wishes[3],
                wish_other,
                contact_channel,
                contact_detail,
                witnesses,
                witness_details,
                shield_identity: wishes[4],
            }
        }
    }

    proptest! {
        #![proptest_config(proptest_config(1024))]

        /// A form is a concern that keeps every rule, or refused with each problem next to
        /// a field of the form.
        #[test]
        fn a_form_is_a_valid_concern_or_every_problem_names_its_field(f in form()) {
            match NewConcern::parse(&f) {
                Ok(c) => {
                    prop_assert!(!c.person.is_empty());
                    let n = c.narrative.chars().count();
                    prop_assert!((1..=NARRATIVE_MAX).contains(&n) && c.narrative == c.narrative.trim());
                    prop_assert!(!c.narrative.chars().any(|ch| ch.is_control() && ch != '\n' && ch != '\t'));
                    if c.contact_channel == ContactChannel::Phone {
                        prop_assert!(c.contact_detail.is_some());
                    }
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for e in &errors {
                        prop_assert!(FIELDS.contains(&e.field.as_str()), "{e}");
                        prop_assert!(!e.message.is_empty());
                    }
                }
            }
        }
    }
}
