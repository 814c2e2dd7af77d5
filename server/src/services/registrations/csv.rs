//! Reading a registrations CSV: every row checked, every problem reported by line.

use super::MAX_IMPORT_ROWS;
use haven_app::domain::{DomainError, NewRegistration, PhoneNumber};
use std::collections::HashMap;

/// A parsed row and the line it came from (the header is line 1).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub registration: NewRegistration,
}

pub(super) fn line_error(line: u64, field: &str, message: impl Into<String>) -> DomainError {
    DomainError::new(format!("line {line} {field}"), message)
}

/// Reads CSV with a header naming at least `name` and `email` (optionally `ticket_ref`
/// and `role`, in any order; other columns are ignored). Every problem is reported.
pub fn parse_csv(text: &str) -> Result<Vec<ImportRow>, Vec<DomainError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Spreadsheets end lines with CRLF (some with a lone CR). The CSV reader counts only
    // LF, and starts a record's line before the LF of its CRLF, so every line number would
    // be one too early (the first row "line 1", the header's). Line ends become LF first:
    // no value the import accepts holds a CR (names, addresses, tickets and phones refuse
    // line breaks, and a role reads a CR as a line break either way).
    let text: std::borrow::Cow<str> =
        if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n").into() } else { text.into() };
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|e| vec![line_error(1, "header", format!("is not readable CSV: {e}"))])?.clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.to_ascii_lowercase().as_str()));
    let name_col = find(&["name", "full name", "display name"]);
    let email_col = find(&["email", "e-mail", "email address"]);
    let ticket_col = find(&["ticket_ref", "ticket", "ticket reference"]);
    let role_col = find(&["role"]);
    let phone_col = find(&["phone", "phone number", "telephone"]);
    let (Some(name_col), Some(email_col)) = (name_col, email_col) else {
        return Err(vec![line_error(
            1,
            "header",
            "must name the columns name and email (and optionally ticket_ref and role)",
        )]);
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // The line a record starts on (quoted fields may span lines).
        let line = match &record {
            Ok(r) => r.position().map(|p| p.line()),
            Err(e) => e.position().map(|p| p.line()),
        }
        .unwrap_or(i as u64 + 2);
        if rows.len() + errors.len() >= MAX_IMPORT_ROWS {
            errors.push(line_error(line, "file", format!("has more than {MAX_IMPORT_ROWS} rows; use the haven CLI")));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("has {len} fields where the header has {expected_len}")
                    }
                    _ => "is not readable CSV".to_owned(),
                };
                errors.push(line_error(line, "row", message));
                continue;
            }
        };
        let get = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
        let phone = PhoneNumber::parse_optional("phone", get(phone_col));
        match (NewRegistration::parse(get(Some(name_col)), get(Some(email_col)), get(ticket_col), get(role_col)), phone)
        {
            (Ok(mut registration), Ok(phone)) => {
                registration.phone = phone;
                rows.push(ImportRow { line, registration })
            }
            (parsed, phone) => {
                let errs = parsed.err().unwrap_or_default().into_iter().chain(phone.err());
                errors.extend(errs.map(|e| line_error(line, &e.field, e.message)))
            }
        }
    }
    // The same person or ticket twice in one file is a mistake worth showing.
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_ticket: HashMap<String, u64> = HashMap::new();
    for row in &rows {
        if let Some(first) = seen_email.insert(row.registration.email.normalized(), row.line) {
            errors.push(line_error(row.line, "email", format!("is the same person as line {first}")));
        }
        if let Some(t) = &row.registration.ticket_ref
            && let Some(first) = seen_ticket.insert(t.as_str().to_owned(), row.line)
        {
            errors.push(line_error(row.line, "ticket_ref", format!("is also on line {first}")));
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(line_error(2, "file", "has no rows under the header"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.sort_by_key(|e| e.field.split(' ').nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0));
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_row_is_reported_by_line_number() {
        let csv =
            "name,email,ticket_ref\nAda,ada@example.org,T1\n,nope,T2\nBob,bob@example.org,T1\nAda L,ADA@example.org,\n";
        let errs = parse_csv(csv).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["line 3 name", "line 3 email", "line 4 ticket_ref", "line 5 email"]);
        assert!(errs[3].message.contains("line 2"));
    }

    /// Found by the CSV property: with CRLF line ends (as spreadsheets write them) every
    /// problem was reported one line early, the first row's as the header's.
    #[test]
    fn crlf_and_cr_line_ends_name_the_right_lines() {
        for end in ["\r\n", "\r"] {
            let csv = ["name,email", "Ada,ada@example.org", ",nope", "\"Bob\",bob@example.org", ""].join(end);
            let errs = parse_csv(&csv).unwrap_err();
            let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["line 3 name", "line 3 email"], "{end:?}");
            let rows = parse_csv(&csv.replace(",nope", "Cy,cy@example.org")).unwrap();
            assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4], "{end:?}");
        }
    }

    #[test]
    fn columns_may_come_in_any_order_and_extra_columns_are_ignored() {
        let rows = parse_csv("\u{feff}Email,Company,Name\nada@example.org,ACME,Ada\n").unwrap();
        assert_eq!(rows[0].registration.name.as_str(), "Ada");
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn a_header_without_name_or_email_is_refused() {
        let errs = parse_csv("who,where\nAda,Berlin\n").unwrap_err();
        assert_eq!(errs[0].field, "line 1 header");
        assert!(parse_csv("name,email\n").is_err(), "an empty file imports nothing");
    }

    #[test]
    fn rows_with_the_wrong_number_of_fields_are_named() {
        let errs = parse_csv("name,email\nAda,ada@example.org,extra\n").unwrap_err();
        assert_eq!(errs[0].field, "line 2 row");
    }
}

/// Properties of the CSV import's parser, over arbitrary text and over files written the
/// way spreadsheets write them (`scripts/fuzz.sh` runs them longer).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn config(cases: u32) -> proptest::test_runner::Config {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
        proptest::test_runner::Config { cases, failure_persistence: None, ..Default::default() }
    }

    /// The fields an error may name after its line number.
    const FIELDS: [&str; 8] = ["header", "row", "file", "name", "email", "ticket_ref", "role", "phone"];

    /// Text shaped like CSV: separators, quotes, line breaks of both kinds, a BOM.
    fn csv_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "(\u{feff})?(name|email|Name|E-mail|ticket_ref|role|phone|x)(,(name|email|ticket|role|phone|x| ))*\
             (\r?\n([A-Za-z0-9@. +\"-]|,|\"\"|\r\n|\n){0,40}){0,6}\n?",
        ]
    }

    /// One field as typed into a spreadsheet cell.
    fn cell(valid: &'static str) -> impl Strategy<Value = String> {
        prop_oneof![
            3 => valid,
            1 => any::<String>(),
            1 => "[ ]?[A-Za-z0-9é@.+-]{0,12}(,|\"|\r\n|\n|\t|\u{0}|)[A-Za-z@.]{0,6}[ ]?",
            1 => Just(String::new()),
        ]
    }

    fn header_name(aliases: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        proptest::option::weighted(
            0.9,
            (proptest::sample::select(aliases), any::<bool>(), "[ ]{0,1}").prop_map(|(a, upper, pad)| {
                let a = if upper { a.to_ascii_uppercase() } else { a.to_owned() };
                format!("{pad}{a}{pad}")
            }),
        )
    }

    /// A file: its header (name, email, ticket, role, phone columns, each maybe missing,
    /// and other columns) and its rows, by those five columns.
    #[derive(Debug, Clone)]
    struct File {
        columns: Vec<(Option<usize>, String)>,
        rows: Vec<[String; 5]>,
        extra: Vec<String>,
        bom: bool,
        crlf: bool,
    }

    fn file() -> impl Strategy<Value = File> {
        let header = (
            header_name(&["name", "full name", "Display Name"]),
            header_name(&["email", "e-mail", "Email Address"]),
            header_name(&["ticket_ref", "ticket", "ticket reference"]),
            header_name(&["role"]),
            header_name(&["phone", "phone number", "telephone"]),
            proptest::collection::vec("[A-Za-z ]{0,8}", 0..3),
        );
        let row = (
            cell("[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?"),
            cell("[a-e]{1,2}(\\+x)?@(example\\.org|EXAMPLE\\.org|gmail\\.com)"),
            cell("(T[0-9]{1,2})?"),
            cell("(speaker|volunteer|)"),
            cell("(\\+49 30 [0-9]{3,8}|)"),
        )
            .prop_map(|(a, b, c, d, e)| [a, b, c, d, e]);
        (header, proptest::collection::vec(row, 0..8), any::<u64>(), any::<bool>(), any::<bool>()).prop_map(
            |((n, e, t, r, p, others), rows, order, bom, crlf)| {
                let mut columns: Vec<(Option<usize>, String)> =
                    [n, e, t, r, p].into_iter().enumerate().filter_map(|(i, h)| h.map(|h| (Some(i), h))).collect();
                // Other columns never carry a name the import reads.
                let known = |h: &str| {
                    let h = h.trim().to_ascii_lowercase();
                    ["name", "full name", "display name", "email", "e-mail", "email address"].contains(&h.as_str())
                        || ["ticket_ref", "ticket", "ticket reference", "role", "phone", "phone number", "telephone"]
                            .contains(&h.as_str())
                };
                columns.extend(others.into_iter().filter(|h| !known(h)).map(|h| (None, h)));
                // Any order of the columns.
                let mut order = order;
                for i in (1..columns.len()).rev() {
                    columns.swap(i, (order % (i as u64 + 1)) as usize);
                    order /= i as u64 + 1;
                }
                File { columns, rows, extra: vec!["ACME".into(), "".into()], bom, crlf }
            },
        )
    }

    impl File {
        /// The file's text, and the line each row starts on.
        fn write(&self) -> (String, Vec<u64>) {
            let terminator = if self.crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
            let mut out = csv::WriterBuilder::new().terminator(terminator).from_writer(Vec::new());
            out.write_record(self.columns.iter().map(|(_, h)| h.as_str())).unwrap();
            let mut lines = Vec::new();
            for row in &self.rows {
                let record: Vec<&str> = self
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (c, _))| match c {
                        Some(c) => row[*c].as_str(),
                        None => self.extra[i % self.extra.len()].as_str(),
                    })
                    .collect();
                out.flush().unwrap();
                lines.push(1 + out.get_ref().iter().filter(|b| **b == b'\n').count() as u64);
                out.write_record(&record).unwrap();
            }
            let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
            (if self.bom { format!("\u{feff}{text}") } else { text }, lines)
        }

        /// Which of the five columns the import reads: the first header that names it.
        fn reads(&self, column: usize) -> bool {
            self.columns.iter().any(|(c, _)| *c == Some(column))
        }
    }

    fn check_errors(text: &str, errors: &[DomainError]) -> Result<(), TestCaseError> {
        prop_assert!(!errors.is_empty());
        let lines = text.split('\n').count() as u64 + 1;
        for e in errors {
            let mut words = e.field.splitn(3, ' ');
            prop_assert_eq!(words.next(), Some("line"), "{}", e);
            let line: u64 = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            prop_assert!((1..=lines).contains(&line), "{} of {} lines", e, lines);
            prop_assert!(FIELDS.contains(&words.next().unwrap_or("")), "{}", e);
            prop_assert!(!e.message.is_empty());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(2048))]

        /// Any text is imported or refused with every problem named by line and field;
        /// nothing panics.
        #[test]
        fn any_text_is_imported_or_refused_by_line_and_field(text in csv_like()) {
            match parse_csv(&text) {
                Ok(rows) => {
                    prop_assert!(!rows.is_empty());
                    prop_assert!(rows.windows(2).all(|w| w[0].line < w[1].line) && rows[0].line >= 2);
                }
                Err(errors) => check_errors(&text, &errors)?,
            }
        }

        /// A file as a spreadsheet writes it imports exactly its rows when every row is a
        /// valid registration and no person or ticket appears twice; otherwise it is
        /// refused, naming each bad row's line and nothing else.
        #[test]
        fn a_written_file_imports_its_rows_or_names_each_bad_line(f in file()) {
            let (text, lines) = f.write();
            let result = parse_csv(&text);
            if !f.reads(0) || !f.reads(1) {
                let errors = result.unwrap_err();
                prop_assert_eq!(errors.len(), 1);
                prop_assert_eq!(errors[0].field.as_str(), "line 1 header");
                return Ok(());
            }
            let get = |row: &[String; 5], c: usize| if f.reads(c) { row[c].clone() } else { String::new() };
            // Each row on its own, as the import must judge it.
            let mut bad_lines = std::collections::BTreeSet::new();
            let mut expected = Vec::new();
            let (mut emails, mut tickets) = (HashMap::new(), HashMap::new());
            for (row, line) in f.rows.iter().zip(&lines) {
                let parsed = NewRegistration::parse(&get(row, 0), &get(row, 1), &get(row, 2), &get(row, 3));
                let phone = PhoneNumber::parse_optional("phone", &get(row, 4));
                match (parsed, phone) {
                    (Ok(mut r), Ok(phone)) => {
                        r.phone = phone;
                        if emails.insert(r.email.normalized(), *line).is_some() {
                            bad_lines.insert(*line);
                        }
                        if let Some(t) = &r.ticket_ref && tickets.insert(t.as_str().to_owned(), *line).is_some() {
                            bad_lines.insert(*line);
                        }
                        expected.push((*line, r));
                    }
                    _ => {
                        bad_lines.insert(*line);
                    }
                }
            }
            match result {
                Ok(rows) => {
                    prop_assert!(bad_lines.is_empty() && !f.rows.is_empty(), "accepted: {:?}", text);
                    let got: Vec<(u64, NewRegistration)> = rows.into_iter().map(|r| (r.line, r.registration)).collect();
                    prop_assert_eq!(got, expected);
                }
                Err(errors) => {
                    check_errors(&text, &errors)?;
                    if f.rows.is_empty() {
                        prop_assert_eq!(errors[0].field.as_str(), "line 2 file");
                    } else {
                        let named: std::collections::BTreeSet<u64> = errors
                            .iter()
                            .filter_map(|e| e.field.split(' ').nth(1).and_then(|n| n.parse().ok()))
                            .collect();
                        prop_assert_eq!(named, bad_lines, "{:?} {:?}", text, errors);
                    }
                }
            }
        }
    }
}
