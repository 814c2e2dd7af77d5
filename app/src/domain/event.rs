//! An event's details as an organizer enters them, and local-time rules.

use super::{DisplayName, DomainError, PlainText, Slug};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The event's own time zone (IANA name, e.g. `Europe/Berlin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimeZone(Tz);

impl EventTimeZone {
    pub fn parse(field: &str, raw: &str) -> Result<EventTimeZone, DomainError> {
        raw.trim()
            .parse::<Tz>()
            .map(EventTimeZone)
            .map_err(|_| DomainError::new(field, "must be a time zone name such as Europe/Berlin or America/New_York"))
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// A wall-clock time (`YYYY-MM-DDTHH:MM`, as an HTML datetime-local input sends it)
    /// in this zone. A time skipped by a clock change is refused; a repeated one means
    /// its first occurrence.
    pub fn local_to_utc(self, field: &str, raw: &str) -> Result<DateTime<Utc>, DomainError> {
        let s = raw.trim();
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .map_err(|_| DomainError::new(field, "must be a date and time like 2027-03-01T09:00"))?;
        self.0.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc)).ok_or_else(|| {
            DomainError::new(field, format!("does not exist in {} (the clocks change then)", self.name()))
        })
    }

    /// The UTC instant as wall-clock time in this zone, in the datetime-local format.
    pub fn utc_to_local_input(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.0).format("%Y-%m-%dT%H:%M").to_string()
    }
}

/// Everything an organizer sets about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDetails {
    pub name: DisplayName,
    pub slug: Slug,
    pub venue: String,
    pub time_zone: EventTimeZone,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Hours within which a new report must be acknowledged (1–168).
    pub ack_hours: u32,
}

/// The raw form fields for [`EventDetails::parse`].
#[derive(Debug, Clone, Default)]
pub struct EventForm<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub venue: &'a str,
    pub time_zone: &'a str,
    pub starts_at: &'a str,
    pub ends_at: &'a str,
    pub ack_hours: &'a str,
}

impl EventDetails {
    /// Checks every field and reports every problem.
    pub fn parse(form: &EventForm<'_>) -> Result<EventDetails, Vec<DomainError>> {
        let mut errors = Vec::new();
        let name = DisplayName::parse("name", form.name).map_err(|e| errors.push(e)).ok();
        let slug = Slug::parse("slug", form.slug).map_err(|e| errors.push(e)).ok();
        let venue = PlainText::parse("venue", form.venue, 1, 200).map_err(|e| errors.push(e)).ok();
        let tz = EventTimeZone::parse("time_zone", form.time_zone).map_err(|e| errors.push(e)).ok();
        let (starts_at, ends_at) = match tz {
            Some(tz) => (
                tz.local_to_utc("starts_at", form.starts_at).map_err(|e| errors.push(e)).ok(),
                tz.local_to_utc("ends_at", form.ends_at).map_err(|e| errors.push(e)).ok(),
            ),
            None => (None, None),
        };
        if let (Some(s), Some(e)) = (starts_at, ends_at)
            && e <= s
        {
            errors.push(DomainError::new("ends_at", "must be after the start"));
        }
        let ack_hours = match form.ack_hours.trim() {
            "" => Some(24),
            raw => match raw.parse::<u32>() {
                Ok(h) if (1..=168).contains(&h) => Some(h),
                _ => {
                    errors.push(DomainError::new("ack_hours", "must be a whole number of hours from 1 to 168"));
                    None
                }
            },
        };
        match (name, slug, venue, tz, starts_at, ends_at, ack_hours) {
            (Some(name), Some(slug), Some(venue), Some(time_zone), Some(starts_at), Some(ends_at), Some(ack_hours))
                if errors.is_empty() =>
            {
                Ok(EventDetails { name, slug, venue: venue.into_string(), time_zone, starts_at, ends_at, ack_hours })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(starts: &'a str, ends: &'a str) -> EventForm<'a> {
        EventForm {
            name: "RustConf",
            slug: "rustconf",
            venue: "Hall",
            time_zone: "Europe/Berlin",
            starts_at: starts,
            ends_at: ends,
            ack_hours: "",
        }
    }

    #[test]
    fn local_times_are_read_in_the_event_zone() {
        let e = EventDetails::parse(&form("2027-07-01T09:00", "2027-07-02T18:00")).unwrap();
        assert_eq!(e.starts_at.to_rfc3339(), "2027-07-01T07:00:00+00:00");
        assert_eq!(e.ack_hours, 24);
    }

    #[test]
    fn a_time_skipped_by_the_clock_change_is_refused() {
        let errs = EventDetails::parse(&form("2027-03-28T02:30", "2027-03-29T18:00")).unwrap_err();
        assert_eq!(errs[0].field, "starts_at");
        assert!(errs[0].message.contains("clocks change"));
    }

    #[test]
    fn an_event_must_end_after_it_starts() {
        let errs = EventDetails::parse(&form("2027-07-02T09:00", "2027-07-01T18:00")).unwrap_err();
        assert_eq!(errs[0].field, "ends_at");
    }

    #[test]
    fn unknown_zones_and_bad_hours_are_named() {
        let mut f = form("2027-07-01T09:00", "2027-07-02T18:00");
        f.time_zone = "Mars/Olympus";
        f.ack_hours = "0";
        let fields: Vec<String> = EventDetails::parse(&f).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["time_zone", "ack_hours"]);
    }
}
