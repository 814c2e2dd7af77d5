//! Does a registration plausibly belong to the person a report describes? Pure functions
//! over names, addresses and handles; every match says why.

use super::{EmailAddress, PersonDescription};
use serde::{Deserialize, Serialize};

/// Why a person plausibly is the one described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum MatchReason {
    /// The same mailbox (after normalizing case, and dots and +tags where ignored).
    SameEmail,
    /// The same name, perhaps in another order or with other accents.
    SameName,
    /// A similar name (Jaro-Winkler similarity, 0–1).
    SimilarName { score: f64 },
    /// The handle is the person's e-mail name or their name written together.
    HandleMatches,
}

impl MatchReason {
    /// Strong reasons identify a person well enough to recuse them or tell the case owner.
    pub fn is_strong(&self) -> bool {
        !matches!(self, MatchReason::SimilarName { .. })
    }

    pub fn explain(&self) -> String {
        match self {
            MatchReason::SameEmail => "same e-mail address".into(),
            MatchReason::SameName => "same name".into(),
            MatchReason::SimilarName { score } => format!("similar name ({:.0}% alike)", score * 100.0),
            MatchReason::HandleMatches => "the handle matches their e-mail name or their name".into(),
        }
    }
}

/// Someone who might be the person described.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
}

const SIMILAR: f64 = 0.92;

/// Why `candidate` may be the person `described`; empty when nothing matches.
pub fn match_person(described: &PersonDescription, candidate: Candidate<'_>) -> Vec<MatchReason> {
    let mut reasons = Vec::new();
    let candidate_email = candidate.email.and_then(|e| EmailAddress::parse("e", e).ok());
    if let (Some(d), Some(c)) =
        (described.email.as_deref().and_then(|e| EmailAddress::parse("e", e).ok()), candidate_email.as_ref())
        && d.normalized() == c.normalized()
    {
        reasons.push(MatchReason::SameEmail);
    }
    if let Some(name) = described.name.as_deref() {
        let (a, b) = (normalize_name(name), normalize_name(candidate.name));
        if !a.is_empty() && !b.is_empty() {
            if a == b || sorted_tokens(&a) == sorted_tokens(&b) {
                reasons.push(MatchReason::SameName);
            } else {
                let score = jaro_winkler(&a, &b).max(jaro_winkler(&sorted_tokens(&a), &sorted_tokens(&b)));
                if score >= SIMILAR {
                    reasons.push(MatchReason::SimilarName { score });
                }
            }
        }
    }
    if let Some(handle) = described.handle.as_deref() {
        let h: String =
            normalize_name(handle.trim().trim_start_matches('@')).chars().filter(|c| c.is_alphanumeric()).collect();
        let together: String = normalize_name(candidate.name).chars().filter(|c| c.is_alphanumeric()).collect();
        let local: Option<String> = candidate_email
            .as_ref()
            .map(|e| e.normalized().split('@').next().unwrap_or("").chars().filter(|c| c.is_alphanumeric()).collect());
        if h.len() >= 3 && (h == together || local.as_deref() == Some(h.as_str())) {
            reasons.push(MatchReason::HandleMatches);
        }
    }
    reasons
}

/// Lowercase, accents folded to their base letters, punctuation dropped, single spaces.
pub fn normalize_name(s: &str) -> String {
    let folded: String = s
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ž' | 'ź' | 'ż' => 'z',
            'š' | 'ś' => 's',
            'ř' => 'r',
            'ł' => 'l',
            'ß' => 's',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sorted_tokens(s: &str) -> String {
    let mut t: Vec<&str> = s.split(' ').collect();
    t.sort_unstable();
    t.join(" ")
}

/// Jaro-Winkler similarity of two strings, 0 (nothing alike) to 1 (equal).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_matched = vec![false; a.len()];
    let mut b_matched = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_matched[j] && b[j] == *ca {
                a_matched[i] = true;
                b_matched[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let a_seq = a.iter().zip(&a_matched).filter(|(_, m)| **m).map(|(c, _)| c);
    let b_seq = b.iter().zip(&b_matched).filter(|(_, m)| **m).map(|(c, _)| c);
    let transpositions = a_seq.zip(b_seq).filter(|(x, y)| x != y).count() / 2;
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(name: Option<&str>, email: Option<&str>, handle: Option<&str>) -> PersonDescription {
        PersonDescription {
            name: name.map(Into::into),
            email: email.map(Into::into),
            handle: handle.map(Into::into),
            description: None,
        }
    }

    #[test]
    fn jaro_winkler_agrees_with_the_textbook_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 0.001);
        assert!((jaro_winkler("dixon", "dicksonx") - 0.8133).abs() < 0.001);
        assert_eq!(jaro_winkler("same", "same"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
    }

    #[test]
    fn the_same_mailbox_matches_whatever_its_spelling() {
        let d = described(None, Some("Ken.Okafor+conf@gmail.com"), None);
        let reasons = match_person(&d, Candidate { name: "K. O.", email: Some("kenokafor@googlemail.com") });
        assert_eq!(reasons, vec![MatchReason::SameEmail]);
    }

    #[test]
    fn names_match_in_any_order_with_accents_folded_or_when_close() {
        let d = described(Some("Okafor, Kén"), None, None);
        assert_eq!(match_person(&d, Candidate { name: "Ken Okafor", email: None }), vec![MatchReason::SameName]);
        let typo = described(Some("Ken Okafro"), None, None);
        assert!(matches!(
            match_person(&typo, Candidate { name: "Ken Okafor", email: None })[..],
            [MatchReason::SimilarName { score }] if score > 0.92
        ));
        let other = described(Some("Ada Moreau"), None, None);
        assert!(match_person(&other, Candidate { name: "Ken Okafor", email: None }).is_empty());
    }

    #[test]
    fn a_handle_matches_the_email_name_or_the_name_written_together() {
        let d = described(None, None, Some("@kenokafor"));
        assert_eq!(
            match_person(&d, Candidate { name: "Someone", email: Some("ken.okafor@gmail.com") }),
            vec![MatchReason::HandleMatches]
        );
        assert_eq!(match_person(&d, Candidate { name: "Ken Okafor", email: None }), vec![MatchReason::HandleMatches]);
        let short = described(None, None, Some("@ko"));
        assert!(match_person(&short, Candidate { name: "K O", email: None }).is_empty(), "too short to mean anything");
    }

    #[test]
    fn only_similar_names_are_weak() {
        assert!(MatchReason::SameEmail.is_strong());
        assert!(!MatchReason::SimilarName { score: 0.95 }.is_strong());
    }
}
