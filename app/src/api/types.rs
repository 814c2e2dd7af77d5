//! Data sent over the wire between the server and the pages.

use serde::{Deserialize, Serialize};

/// An event as listed publicly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub slug: String,
    pub name: String,
    pub organization: String,
    /// Start and end in the event's own time zone, already formatted for people.
    pub when: String,
    pub venue: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub events: Vec<EventSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub event: EventSummary,
    pub time_zone: String,
    /// Hours within which the safety team acknowledges a report.
    pub ack_hours: u32,
}
