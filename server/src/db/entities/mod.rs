//! sea-orm entities, one per table, mirroring `haven-migrations`. The migrations are the
//! schema's source of truth; `tests/tests/schema.rs` checks these entities against it.

pub mod event;
pub mod organization;
pub mod person;
pub mod registration;
