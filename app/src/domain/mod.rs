//! Pure domain rules and types. Values are parsed at the edge into these types, whose
//! private fields guarantee they hold only valid values. Nothing here does I/O.

pub mod email;
pub mod error;
pub mod slug;
pub mod text;

pub use email::EmailAddress;
pub use error::DomainError;
pub use slug::Slug;
pub use text::{DisplayName, PlainText};
