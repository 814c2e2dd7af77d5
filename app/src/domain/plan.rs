//! Safety plans: precautions a case's team arranges, escort time windows and their
//! clashes, and iCalendar entries for escorts.

use super::{DomainError, EventTimeZone, PlainText};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of precaution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrecautionKind {
    /// Escort staff accompany the reporter at given times.
    Escort,
    /// When a linked person's badge is scanned, listed staff are told at once.
    ArrivalAlert,
    /// What door staff see when a linked person arrives.
    DoorInstruction,
    /// Anything else agreed with the reporter, in words shared with them.
    Arrangement,
}

impl PrecautionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrecautionKind::Escort => "escort",
            PrecautionKind::ArrivalAlert => "arrival_alert",
            PrecautionKind::DoorInstruction => "door_instruction",
            PrecautionKind::Arrangement => "arrangement",
        }
    }

    pub fn parse(raw: &str) -> Option<PrecautionKind> {
        [
            PrecautionKind::Escort,
            PrecautionKind::ArrivalAlert,
            PrecautionKind::DoorInstruction,
            PrecautionKind::Arrangement,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// A time window, start before end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Window {
    pub fn overlaps(&self, other: &Window) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }
}

/// Parses wall-clock windows typed in the event's zone and checks each lies within the
/// event and ends after it starts. Blank pairs are skipped; at least one is needed.
pub fn parse_windows(
    tz: EventTimeZone,
    pairs: &[(&str, &str)],
    event: Window,
) -> Result<Vec<Window>, Vec<DomainError>> {
    let mut errors = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    for (i, (start, end)) in pairs.iter().enumerate() {
        if start.trim().is_empty() && end.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let s = tz.local_to_utc(&format!("window {n} start"), start).map_err(|e| errors.push(e)).ok();
        let e = tz.local_to_utc(&format!("window {n} end"), end).map_err(|e| errors.push(e)).ok();
        let (Some(s), Some(e)) = (s, e) else { continue };
        if e <= s {
            errors.push(DomainError::new(format!("window {n} end"), "must be after its start"));
            continue;
        }
        if s < event.starts_at || e > event.ends_at {
            errors.push(DomainError::new(format!("window {n}"), "must lie within the event's dates"));
            continue;
        }
        let w = Window { starts_at: s, ends_at: e };
        if windows.iter().any(|o| o.overlaps(&w)) {
            errors.push(DomainError::new(format!("window {n}"), "overlaps another window of this escort"));
            continue;
        }
        windows.push(w);
    }
    if windows.is_empty() && errors.is_empty() {
        errors.push(DomainError::new("window 1 start", "give at least one time window"));
    }
    if errors.is_empty() { Ok(windows) } else { Err(errors) }
}

/// What an escort is told: who, where, how to reach them, and notes. Never why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscortDetails {
    pub meeting_point: String,
    pub contact: String,
    pub notes: String,
}

impl EscortDetails {
    pub fn parse(meeting_point: &str, contact: &str, notes: &str) -> Result<EscortDetails, Vec<DomainError>> {
        let mut errors = Vec::new();
        let meeting_point = PlainText::parse("meeting_point", meeting_point, 1, 300).map_err(|e| errors.push(e)).ok();
        let contact = PlainText::parse_optional("contact", contact, 300).map_err(|e| errors.push(e)).ok();
        let notes = PlainText::parse_optional("notes", notes, 2000).map_err(|e| errors.push(e)).ok();
        match (meeting_point, contact, notes) {
            (Some(m), Some(c), Some(n)) if errors.is_empty() => Ok(EscortDetails {
                meeting_point: m.into_string(),
                contact: c.map(PlainText::into_string).unwrap_or_default(),
                notes: n.map(PlainText::into_string).unwrap_or_default(),
            }),
            _ => Err(errors),
        }
    }
}

/// One calendar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    pub uid: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
}

/// An iCalendar (RFC 5545) document with the given entries.
pub fn ics(name: &str, stamp: DateTime<Utc>, entries: &[CalendarEntry]) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Haven//Escort assignments//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        format!("X-WR-CALNAME:{}", escape(name)),
    ];
    let utc = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    for e in entries {
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:{}", escape(&e.uid)));
        lines.push(format!("DTSTAMP:{}", utc(stamp)));
        lines.push(format!("DTSTART:{}", utc(e.starts_at)));
        lines.push(format!("DTEND:{}", utc(e.ends_at)));
        lines.push(format!("SUMMARY:{}", escape(&e.summary)));
        lines.push(format!("LOCATION:{}", escape(&e.location)));
        lines.push(format!("DESCRIPTION:{}", escape(&e.description)));
        lines.push("END:VEVENT".into());
    }
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect::<Vec<_>>().join("\r\n") + "\r\n"
}

/// Text values escape backslash, semicolon, comma and newline (RFC 5545 §3.3.11).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace("\r\n", "\\n").replace('\n', "\\n")
}

/// Lines longer than 75 octets continue on the next line after a space, never inside a
/// character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> (EventTimeZone, Window) {
        let tz = EventTimeZone::parse("tz", "Europe/Berlin").unwrap();
        let w = Window {
            starts_at: tz.local_to_utc("s", "2027-06-01T09:00").unwrap(),
            ends_at: tz.local_to_utc("e", "2027-06-03T18:00").unwrap(),
        };
        (tz, w)
    }

    #[test]
    fn windows_must_lie_in_the_event_end_after_start_and_not_overlap() {
        let (tz, ev) = event();
        let ok = parse_windows(tz, &[("2027-06-01T17:00", "2027-06-01T18:00"), ("", "")], ev).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].starts_at.to_rfc3339(), "2027-06-01T15:00:00+00:00");
        let errs = parse_windows(
            tz,
            &[("2027-06-01T18:00", "2027-06-01T17:00"), ("2027-05-30T10:00", "2027-05-30T11:00"), ("nonsense", "x")],
            ev,
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["window 1 end", "window 2", "window 3 start", "window 3 end"]);
        let overlap = parse_windows(
            tz,
            &[("2027-06-01T10:00", "2027-06-01T12:00"), ("2027-06-01T11:00", "2027-06-01T13:00")],
            ev,
        )
        .unwrap_err();
        assert_eq!(overlap[0].field, "window 2");
        assert_eq!(parse_windows(tz, &[("", "")], ev).unwrap_err()[0].message, "give at least one time window");
    }

    #[test]
    fn ics_escapes_folds_and_uses_crlf() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let doc = ics(
            "Escorts",
            t("2027-06-01T00:00:00Z"),
            &[CalendarEntry {
                uid: "a@haven".into(),
                starts_at: t("2027-06-01T15:00:00Z"),
                ends_at: t("2027-06-01T16:00:00Z"),
                summary: "Escort; Ada, please".into(),
                location: "Hall A\nEntrance".into(),
                description: "é".repeat(60),
            }],
        );
        assert!(doc.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(doc.contains("SUMMARY:Escort\\; Ada\\, please\r\n"));
        assert!(doc.contains("LOCATION:Hall A\\nEntrance\r\n"));
        assert!(doc.contains("DTSTART:20270601T150000Z\r\n"));
        assert!(doc.lines().all(|l| l.len() <= 76), "folded at 75 octets");
        assert!(doc.ends_with("END:VCALENDAR\r\n"));
    }
}
