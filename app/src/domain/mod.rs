//! Pure domain rules and types. Values are parsed at the edge into these types, whose
//! private fields guarantee they hold only valid values. Nothing here does I/O.

pub mod badge;
pub mod case;
pub mod decision;
pub mod email;
pub mod error;
pub mod event;
pub mod matching;
pub mod plan;
pub mod registration;
pub mod report;
pub mod role;
pub mod slug;
pub mod text;

pub use case::{
    CaseKind, CaseReference, CaseStatus, ConcernForm, ContactChannel, NewConcern, PersonDescription, Relation,
    SafetyWishes, Witnesses,
};
pub use decision::{AppealOutcome, DecisionInput, DecisionKind, Terms};
pub use email::EmailAddress;
pub use error::DomainError;
pub use event::{EventDetails, EventForm, EventTimeZone};
pub use plan::{CalendarEntry, EscortDetails, PrecautionKind, Window};
pub use registration::{NewRegistration, PhoneNumber, TicketRef};
pub use role::{Invitee, Role, RoleScope};
pub use slug::Slug;
pub use text::{DisplayName, PlainText};

/// The settings of the property tests beside the parsers: `cases` in the normal test run,
/// or as many as `PROPTEST_CASES` says (`scripts/fuzz.sh`). A failure is reported with
/// its input, shrunk, and kept as a regular test; nothing is written to the source tree.
#[cfg(test)]
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    proptest::test_runner::Config { cases, failure_persistence: None, ..Default::default() }
}

/// Text as people (and hostile clients) type it into a field whose limit is `max`
/// characters: anything at all; ordinary words with blanks, line breaks and the odd
/// control character; and text a character or two either side of the limit.
#[cfg(test)]
pub(crate) fn typed_text(max: usize) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let near_limit = (max.saturating_sub(2)..=max + 2, prop_oneof![Just('a'), Just('é'), Just('😀')])
        .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect::<String>());
    prop_oneof![
        2 => any::<String>(),
        3 => "[ \t\r\n]{0,2}[A-Za-z0-9 ÄéЖ@+._'-]{0,40}(\r\n|\n|\t|\u{7}|\u{0}|\u{202e}|)[A-Za-z ]{0,10}[ \t\r\n]{0,2}",
        1 => near_limit,
        1 => Just(String::new()),
    ]
}
