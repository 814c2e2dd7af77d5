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
pub use role::{Role, RoleScope};
pub use slug::Slug;
pub use text::{DisplayName, PlainText};
