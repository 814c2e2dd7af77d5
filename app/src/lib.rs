//! haven-app: everything the browser and the server share.
//!
//! - [`domain`]: pure rules and types (no I/O, no Leptos, no database); compiles to wasm.
//! - [`api`]: what travels over the wire, the `#[server]` functions (thin), and, behind
//!   `ssr`, the [`api::Backend`] port the server implements.
//! - [`ui`]: pages and components, rendered on the server and hydrated in the browser.
#![recursion_limit = "512"]

pub mod api;
pub mod domain;
pub mod ui;

#[cfg(feature = "hydrate")]
pub use ui::before_hydrating;
pub use ui::{App, shell};
