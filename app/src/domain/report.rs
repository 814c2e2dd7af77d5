//! The transparency report's periods and how it hides small numbers.
//!
//! Periods are calendar quarters (UTC) that have ended: one length, never overlapping, and
//! never growing, so two reports cannot be subtracted to reveal a count they each hide.
//! Within a table, a count from 1 to 4 (and 0, so a blank cannot be told from a small
//! number) reads "fewer than 5"; when a part of a total is hidden, the total is hidden too,
//! so that no hidden count, nor a sum of hidden counts, follows from the counts shown.

use super::DomainError;
use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A calendar quarter, e.g. `2027-Q2` (April to June).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    number: u32,
}

impl Quarter {
    pub fn parse(field: &str, raw: &str) -> Result<Quarter, DomainError> {
        let bad = || DomainError::new(field, "must be a calendar quarter like 2027-Q2");
        let raw = raw.trim().to_ascii_uppercase();
        let (year, number) = raw.split_once("-Q").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let number: u32 = number.parse().map_err(|_| bad())?;
        if !(2000..=9999).contains(&year) || !(1..=4).contains(&number) {
            return Err(bad());
        }
        Ok(Quarter { year, number })
    }

    /// The quarter a day falls in.
    pub fn of(day: NaiveDate) -> Quarter {
        Quarter { year: day.year(), number: day.month0() / 3 + 1 }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).expect("a quarter starts on a real day")
    }

    /// The first day of the next quarter (the period ends before it).
    pub fn end(self) -> NaiveDate {
        self.next().first_day()
    }

    pub fn last_day(self) -> NaiveDate {
        self.end().pred_opt().expect("a quarter ends on a real day")
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter { year: self.year + 1, number: 1 }
        } else {
            Quarter { number: self.number + 1, ..self }
        }
    }

    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter { year: self.year - 1, number: 4 }
        } else {
            Quarter { number: self.number - 1, ..self }
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

/// How one count of the report reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Count(u64),
    /// Hidden because it is below five (zero included).
    FewerThan5,
    /// Hidden because showing it would reveal a count hidden beside it.
    NotShown,
}

impl Shown {
    fn of(n: u64) -> Shown {
        if n < 5 { Shown::FewerThan5 } else { Shown::Count(n) }
    }

    pub fn text(self) -> String {
        match self {
            Shown::Count(n) => n.to_string(),
            Shown::FewerThan5 => "fewer than 5".to_owned(),
            Shown::NotShown => "not shown (it would reveal a small number)".to_owned(),
        }
    }
}

/// A count on its own (no total relates it to others).
pub fn single(n: u64) -> Shown {
    Shown::of(n)
}

/// A total and the parts it is the sum of. Small counts are hidden; whenever any part is
/// hidden, so is the total (else the total minus the parts shown gives the hidden ones'
/// sum, and with one hidden part, that part).
pub fn group(total: u64, parts: &[u64]) -> (Shown, Vec<Shown>) {
    let parts: Vec<Shown> = parts.iter().map(|n| Shown::of(*n)).collect();
    let total = match Shown::of(total) {
        Shown::Count(_) if parts.iter().any(|p| !matches!(p, Shown::Count(_))) => Shown::NotShown,
        shown => shown,
    };
    (total, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_parse_and_tile_the_year() {
        let q = Quarter::parse("quarter", " 2027-q2 ").unwrap();
        assert_eq!(q.to_string(), "2027-Q2");
        assert_eq!(q.first_day(), NaiveDate::from_ymd_opt(2027, 4, 1).unwrap());
        assert_eq!(q.last_day(), NaiveDate::from_ymd_opt(2027, 6, 30).unwrap());
        assert_eq!(Quarter::parse("q", "2027-Q4").unwrap().next().to_string(), "2028-Q1");
        assert_eq!(Quarter::parse("q", "2027-Q1").unwrap().previous().to_string(), "2026-Q4");
        assert_eq!(Quarter::of(NaiveDate::from_ymd_opt(2027, 9, 30).unwrap()).to_string(), "2027-Q3");
        for bad in ["2027-04", "2027-Q0", "2027-Q5", "Q2-2027", "", "2027-04-01..2027-04-30", "99999-Q1"] {
            assert!(Quarter::parse("quarter", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hidden_part_hides_its_total_so_nothing_hidden_can_be_computed() {
        // all = 7, resolved = 5: closed + still open = 2 must not follow.
        let (total, parts) = group(7, &[5, 1, 1]);
        assert_eq!(total, Shown::NotShown);
        assert_eq!(parts, [Shown::Count(5), Shown::FewerThan5, Shown::FewerThan5]);
        // One small part alone would be total minus the rest.
        let (total, parts) = group(12, &[6, 6, 0]);
        assert_eq!(total, Shown::NotShown);
        assert_eq!(parts[2], Shown::FewerThan5);
        // Nothing small: everything shows.
        assert_eq!(group(15, &[5, 10]), (Shown::Count(15), vec![Shown::Count(5), Shown::Count(10)]));
        // A small total hides itself (and so are all its parts).
        assert_eq!(group(3, &[3, 0]).0, Shown::FewerThan5);
        assert_eq!(single(4).text(), "fewer than 5");
        assert_eq!(single(5).text(), "5");
    }
}
