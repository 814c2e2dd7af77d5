//! Properties of the token parser over arbitrary and damaged input (`scripts/fuzz.sh`
//! runs them longer).

use super::*;
use crate::domain::proptest_config;
use ed25519_dalek::{Signer as _, SigningKey};
use proptest::prelude::*;
use std::collections::HashMap;

fn claims() -> impl Strategy<Value = BadgeClaims> {
    (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<i64>(), any::<u32>()).prop_map(|(e, b, issued_at, key_id)| {
        BadgeClaims { event: Uuid::from_bytes(e), badge: Uuid::from_bytes(b), issued_at, key_id }
    })
}

fn signed(claims: &BadgeClaims, seed: &[u8; 32]) -> (String, SigningKey) {
    let key = SigningKey::from_bytes(seed);
    (claims.token(&key.sign(&claims.payload()).to_bytes()), key)
}

/// A door list for the token's event that trusts `key` under the token's key id.
fn door_for(claims: &BadgeClaims, key: &SigningKey) -> (DoorList, HashMap<u32, VerifyingKey>) {
    let mut list = DoorList { event: claims.event, ..Default::default() };
    list.keys.insert(claims.key_id, URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()));
    let keys = decode_keys(&list);
    (list, keys)
}

/// What a scanner or a hostile client may send: any text, bytes read as UTF-8, text
/// shaped like a token, and exactly a token's length of its alphabet.
fn scanned_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..400).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "[ \t\r\n]{0,2}(HVN1\\.|hvn1\\.|HVN2\\.|HVN1|HVN1\\.HVN1\\.|)[A-Za-z0-9_+/=-]{0,220}[ \t\r\n]{0,2}",
        "HVN1\\.[A-Za-z0-9_-]{144}",
    ]
}

/// What can happen to a genuine token between the badge and the server.
#[derive(Debug, Clone)]
enum Damage {
    Replace(usize, char),
    Delete(usize),
    Insert(usize, char),
    Truncate(usize),
    Prefix(String),
    Append(String),
}

fn damage() -> impl Strategy<Value = Damage> {
    let ch = prop_oneof![
        proptest::char::range('A', 'Z'),
        proptest::char::range('a', 'z'),
        proptest::char::range('0', '9'),
        Just('-'),
        Just('_'),
        Just('+'),
        Just('/'),
        Just('='),
        Just('.'),
        Just(' '),
        Just('\n'),
        Just('\0'),
        any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Damage::Replace(i, c)),
        any::<usize>().prop_map(Damage::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Damage::Insert(i, c)),
        any::<usize>().prop_map(Damage::Truncate),
        "(HVN1\\.|hvn1\\.|HVN2\\.|\\.|x|)".prop_map(Damage::Prefix),
        "[A-Za-z0-9_=.-]{1,4}".prop_map(Damage::Append),
    ]
}

fn apply(token: &str, damage: &Damage) -> String {
    // Tokens are ASCII, so every index is a character boundary.
    let mut chars: Vec<char> = token.chars().collect();
    match damage {
        Damage::Replace(i, c) => {
            let i = i % chars.len();
            chars[i] = *c;
        }
        Damage::Delete(i) => {
            chars.remove(i % chars.len());
        }
        Damage::Insert(i, c) => chars.insert(i % (chars.len() + 1), *c),
        Damage::Truncate(n) => chars.truncate(n % chars.len()),
        Damage::Prefix(p) => return format!("{p}{}", &token[PREFIX.len()..]),
        Damage::Append(s) => return format!("{token}{s}"),
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(proptest_config(4096))]

    /// Any text is refused or read; what is read is exactly one token's text (one
    /// badge has one text, so its hash names one scan), and it never opens a door.
    #[test]
    fn any_text_is_refused_or_read_back_exactly(text in scanned_text(), seed in any::<[u8; 32]>()) {
        if let Some(token) = BadgeToken::parse(&text) {
            prop_assert_eq!(token.claims.token(&token.signature), text.trim());
            let (list, keys) = door_for(&token.claims, &SigningKey::from_bytes(&seed));
            let answer = offline_verdict(&text, &list, &keys, Utc::now());
            prop_assert_eq!(answer, ScanAnswer::deny(DenyReason::Invalid));
        }
    }

    /// Stored door lists and keys of any shape are read or refused, never misread.
    #[test]
    fn stored_lists_and_keys_of_any_shape_are_read_or_refused(
        groups in proptest::collection::vec("[A-Za-z0-9_=+/-]{0,70}", 0..4),
        keys in proptest::collection::hash_map(any::<u32>(), "[A-Za-z0-9_=-]{0,50}", 0..4),
    ) {
        let compact = CompactDoorList {
            denied: groups
                .iter()
                .map(|ids| DenialGroup { denial: Denial::always(DenyReason::Revoked), ids: ids.clone() })
                .collect(),
            ..Default::default()
        };
        if let Some(list) = compact.expand() {
            for g in &groups {
                prop_assert_eq!(URL_SAFE_NO_PAD.decode(g).map(|b| b.len() % 16), Ok(0));
            }
            prop_assert!(list.denied.len() <= groups.iter().map(|g| g.len() * 6 / 128).sum::<usize>());
        }
        let list = DoorList { keys, ..Default::default() };
        for (id, key) in decode_keys(&list) {
            prop_assert_eq!(&URL_SAFE_NO_PAD.encode(key.to_bytes()), &list.keys[&id]);
        }
    }
}

proptest! {
    #![proptest_config(proptest_config(1024))]

    /// A genuine token, with blanks around it as scanners add them, reads back to its
    /// claims and verifies with its key only.
    #[test]
    fn a_genuine_token_reads_back_and_verifies_only_with_its_key(
        claims in claims(),
        seed in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
        before in "[ \t\r\n]{0,3}",
        after in "[ \t\r\n]{0,3}",
    ) {
        let (text, key) = signed(&claims, &seed);
        let token = BadgeToken::parse(&format!("{before}{text}{after}"));
        prop_assert_eq!(token.as_ref().map(|t| t.claims), Some(claims));
        let token = token.unwrap();
        prop_assert!(token.verify(&key.verifying_key()));
        prop_assert_eq!(token.verify(&SigningKey::from_bytes(&other).verifying_key()), seed == other);
    }

    /// A token damaged in any one way (a character changed, lost or added, cut short,
    /// another prefix, something appended) never opens the door.
    #[test]
    fn a_damaged_token_never_opens_the_door(claims in claims(), seed in any::<[u8; 32]>(), damage in damage()) {
        let (text, key) = signed(&claims, &seed);
        let damaged = apply(&text, &damage);
        if damaged.trim() == text {
            // Blanks around a token are no damage (and no rejection: a long fuzz run
            // would count too many).
            return Ok(());
        }
        let (list, keys) = door_for(&claims, &key);
        prop_assert_eq!(offline_verdict(&text, &list, &keys, Utc::now()).result, ScanResult::Admit);
        prop_assert_eq!(offline_verdict(&damaged, &list, &keys, Utc::now()), ScanAnswer::deny(DenyReason::Invalid));
    }
}
