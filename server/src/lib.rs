//! haven-server: the `haven` binary and everything that touches the world.
//!
//! - [`config`]: layered settings, checked at start, secrets wrapped.
//! - [`db`]: connection, entities.
//! - [`services`]: use cases, the one place that decides who may do what.
//! - [`http`]: axum routes, middleware, Leptos integration, health and metrics.
//! - [`startup`]: building and running the server (tests use it in-process).
//! - [`cli`]: the `haven` subcommands; [`demo`]: the demo data.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod secret;
pub mod services;
pub mod startup;
pub mod telemetry;
