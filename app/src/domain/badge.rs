//! Badge tokens and the door's verdict.
//!
//! A token is `HVN1.` followed by base64url (no padding) of a 44-byte payload — event id
//! (16 bytes), badge id (16), issue time (seconds since 1970, 8, big-endian), key id (4,
//! big-endian) — and a 64-byte Ed25519 signature over that payload. This module parses
//! and verifies tokens; it compiles to wasm so a door device can check badges itself
//! when the network is down.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

pub const PREFIX: &str = "HVN1.";
const PAYLOAD_LEN: usize = 44;
const TOKEN_LEN: usize = PAYLOAD_LEN + 64;
/// Longer input is not a token; it is not even decoded.
const MAX_TEXT: usize = 200;

/// What a badge says about itself (signed, so it can be trusted once verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadgeClaims {
    pub event: Uuid,
    pub badge: Uuid,
    pub issued_at: i64,
    pub key_id: u32,
}

impl BadgeClaims {
    pub fn payload(&self) -> [u8; PAYLOAD_LEN] {
        let mut out = [0u8; PAYLOAD_LEN];
        out[..16].copy_from_slice(self.event.as_bytes());
        out[16..32].copy_from_slice(self.badge.as_bytes());
        out[32..40].copy_from_slice(&self.issued_at.to_be_bytes());
        out[40..44].copy_from_slice(&self.key_id.to_be_bytes());
        out
    }

    /// The token text for these claims and a signature over [`BadgeClaims::payload`].
    pub fn token(&self, signature: &[u8; 64]) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_LEN);
        bytes.extend_from_slice(&self.payload());
        bytes.extend_from_slice(signature);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// A token read from a QR code or a scanner, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeToken {
    pub claims: BadgeClaims,
    signature: [u8; 64],
}

impl BadgeToken {
    /// Reads a token; anything else (wrong prefix, length, alphabet) is `None`.
    pub fn parse(text: &str) -> Option<BadgeToken> {
        let text = text.trim();
        if text.len() > MAX_TEXT {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() != TOKEN_LEN {
            return None;
        }
        let uuid = |b: &[u8]| Uuid::from_slice(b).ok();
        let claims = BadgeClaims {
            event: uuid(&bytes[..16])?,
            badge: uuid(&bytes[16..32])?,
            issued_at: i64::from_be_bytes(bytes[32..40].try_into().ok()?),
            key_id: u32::from_be_bytes(bytes[40..44].try_into().ok()?),
        };
        Some(BadgeToken { claims, signature: bytes[PAYLOAD_LEN..].try_into().ok()? })
    }

    /// The signature over the claims.
    pub fn signature(&self) -> Signature {
        Signature::from_bytes(&self.signature)
    }

    /// Whether the signature was made by the holder of `key` over these claims.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        key.verify(&self.claims.payload(), &self.signature()).is_ok()
    }
}

/// What the door does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanResult {
    Admit,
    /// Admit, and follow the instruction (the system tells whoever must be told).
    Alert,
    Deny,
}

/// Why the door says no. It never says why a person is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    Expelled,
    Banned,
    Revoked,
    Invalid,
    WrongEvent,
    Unknown,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::Expelled => "expelled",
            DenyReason::Banned => "banned",
            DenyReason::Revoked => "revoked",
            DenyReason::Invalid => "invalid",
            DenyReason::WrongEvent => "wrong_event",
            DenyReason::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<DenyReason> {
        [
            DenyReason::Expelled,
            DenyReason::Banned,
            DenyReason::Revoked,
            DenyReason::Invalid,
            DenyReason::WrongEvent,
            DenyReason::Unknown,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The words door staff read.
    pub fn label(self) -> &'static str {
        match self {
            DenyReason::Expelled => "Expelled from this event: do not admit",
            DenyReason::Banned => "Banned: do not admit",
            DenyReason::Revoked => "This badge was revoked or replaced",
            DenyReason::Invalid => "Not a valid badge",
            DenyReason::WrongEvent => "This badge is for another event",
            DenyReason::Unknown => "Unknown badge",
        }
    }
}

/// The answer to one scan: what the door does, and the least it needs to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanAnswer {
    pub result: ScanResult,
    pub reason: Option<DenyReason>,
    /// The holder's name, when the badge is genuine.
    pub name: Option<String>,
    pub instruction: Option<String>,
    pub previous_scan_at: Option<DateTime<Utc>>,
}

impl ScanAnswer {
    pub fn deny(reason: DenyReason) -> ScanAnswer {
        ScanAnswer {
            result: ScanResult::Deny,
            reason: Some(reason),
            name: None,
            instruction: None,
            previous_scan_at: None,
        }
    }
}

/// Why a badge is refused, and when (a ban may start or end later; `None` is open-ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    pub reason: DenyReason,
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

impl Denial {
    pub fn always(reason: DenyReason) -> Denial {
        Denial { reason, from: None, until: None }
    }

    pub fn applies(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| f <= at) && self.until.is_none_or(|u| at < u)
    }

    /// Of several denials, the one a door should hold: one in force at `at` (an
    /// expulsion before a ban), else the next to begin, else none.
    pub fn pick(denials: &[Denial], at: DateTime<Utc>) -> Option<Denial> {
        let rank = |d: &Denial| match d.reason {
            DenyReason::Revoked => 0,
            DenyReason::Expelled => 1,
            _ => 2,
        };
        let mut active: Vec<&Denial> = denials.iter().filter(|d| d.applies(at)).collect();
        active.sort_by_key(|d| (rank(d), std::cmp::Reverse(d.until.map(|u| u.timestamp()).unwrap_or(i64::MAX))));
        if let Some(d) = active.first() {
            return Some(**d);
        }
        denials.iter().filter(|d| d.from.is_some_and(|f| f > at)).min_by_key(|d| d.from).copied()
    }
}

/// What a door device keeps to decide on its own: the organization's public keys, the
/// badges denied at this event, why and when, and door instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorList {
    pub event: Uuid,
    /// Key id → 32-byte public key, base64url.
    pub keys: HashMap<u32, String>,
    pub denied: HashMap<Uuid, Denial>,
    pub instructions: HashMap<Uuid, String>,
}

/// The offline verdict: signature, event, and the synced lists. Names and earlier scans
/// are not known offline.
pub fn offline_verdict(
    text: &str,
    list: &DoorList,
    keys: &HashMap<u32, VerifyingKey>,
    now: DateTime<Utc>,
) -> ScanAnswer {
    let Some(token) = BadgeToken::parse(text) else {
        return ScanAnswer::deny(DenyReason::Invalid);
    };
    let Some(key) = keys.get(&token.claims.key_id) else {
        return ScanAnswer::deny(DenyReason::Invalid);
    };
    if !token.verify(key) {
        return ScanAnswer::deny(DenyReason::Invalid);
    }
    if token.claims.event != list.event {
        return ScanAnswer::deny(DenyReason::WrongEvent);
    }
    if let Some(d) = list.denied.get(&token.claims.badge).filter(|d| d.applies(now)) {
        return ScanAnswer::deny(d.reason);
    }
    match list.instructions.get(&token.claims.badge) {
        Some(i) => ScanAnswer {
            result: ScanResult::Alert,
            reason: None,
            name: None,
            instruction: Some(i.clone()),
            previous_scan_at: None,
        },
        None => ScanAnswer {
            result: ScanResult::Admit,
            reason: None,
            name: None,
            instruction: None,
            previous_scan_at: None,
        },
    }
}

/// A door list as a browser keeps it: denied badges grouped by denial, each group's ids
/// packed into one base64url string (22 characters per badge instead of about 90 in
/// plain JSON), so 100,000 denials fit in a browser's ~5 MB of local storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactDoorList {
    pub event: Uuid,
    pub keys: HashMap<u32, String>,
    pub denied: Vec<DenialGroup>,
    pub instructions: HashMap<Uuid, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialGroup {
    pub denial: Denial,
    /// The badge ids' bytes, one after another, base64url without padding.
    pub ids: String,
}

impl From<&DoorList> for CompactDoorList {
    fn from(list: &DoorList) -> CompactDoorList {
        let mut groups: Vec<(Denial, Vec<u8>)> = Vec::new();
        for (id, d) in &list.denied {
            match groups.iter_mut().find(|(g, _)| g == d) {
                Some((_, bytes)) => bytes.extend_from_slice(id.as_bytes()),
                None => groups.push((*d, id.as_bytes().to_vec())),
            }
        }
        CompactDoorList {
            event: list.event,
            keys: list.keys.clone(),
            denied: groups
                .into_iter()
                .map(|(denial, bytes)| DenialGroup { denial, ids: URL_SAFE_NO_PAD.encode(bytes) })
                .collect(),
            instructions: list.instructions.clone(),
        }
    }
}

impl CompactDoorList {
    /// The list again; `None` if what was stored is damaged.
    pub fn expand(&self) -> Option<DoorList> {
        let mut denied = HashMap::new();
        for g in &self.denied {
            let bytes = URL_SAFE_NO_PAD.decode(&g.ids).ok()?;
            if bytes.len() % 16 != 0 {
                return None;
            }
            for chunk in bytes.chunks(16) {
                denied.insert(Uuid::from_slice(chunk).ok()?, g.denial);
            }
        }
        Some(DoorList { event: self.event, keys: self.keys.clone(), denied, instructions: self.instructions.clone() })
    }
}

/// Decodes the list's keys once (not per scan).
pub fn decode_keys(list: &DoorList) -> HashMap<u32, VerifyingKey> {
    list.keys
        .iter()
        .filter_map(|(id, b64)| {
            let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(b64).ok()?.try_into().ok()?;
            Some((*id, VerifyingKey::from_bytes(&bytes).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_compact_list_of_100_000_denials_round_trips_and_fits_a_browsers_storage() {
        let mut list = DoorList { event: Uuid::new_v4(), ..Default::default() };
        list.keys.insert(1, "A".repeat(43));
        let later = Denial { reason: DenyReason::Banned, from: Some(Utc::now()), until: None };
        for i in 0..100_000 {
            let d = if i % 10 == 0 { later } else { Denial::always(DenyReason::Revoked) };
            list.denied.insert(Uuid::new_v4(), d);
        }
        list.instructions.insert(Uuid::new_v4(), "Call the safety lead".into());

        let text = serde_json::to_string(&CompactDoorList::from(&list)).unwrap();
        // Chromium refuses a local-storage value of 5 Mi characters (measured); plain JSON
        // of this list is about 9 M.
        assert!(text.len() < 2_500_000, "{} characters", text.len());
        assert!(serde_json::to_string(&list).unwrap().len() > 5 * 1024 * 1024, "the plain form would not fit");
        let back: CompactDoorList = serde_json::from_str(&text).unwrap();
        assert_eq!(back.expand().as_ref(), Some(&list));
    }

    #[test]
    fn a_damaged_compact_list_is_refused_not_misread() {
        let mut list = DoorList::default();
        list.denied.insert(Uuid::new_v4(), Denial::always(DenyReason::Revoked));
        let mut compact = CompactDoorList::from(&list);
        compact.denied[0].ids.pop();
        assert_eq!(compact.expand(), None);
        compact.denied[0].ids = "not base64!".into();
        assert_eq!(compact.expand(), None);
    }

    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn token(event: Uuid, badge: Uuid, key_id: u32, k: &SigningKey) -> String {
        let claims = BadgeClaims { event, badge, issued_at: 1_800_000_000, key_id };
        claims.token(&k.sign(&claims.payload()).to_bytes())
    }

    fn list(event: Uuid, k: &SigningKey) -> (DoorList, HashMap<u32, VerifyingKey>) {
        let mut l = DoorList { event, ..Default::default() };
        l.keys.insert(1, URL_SAFE_NO_PAD.encode(k.verifying_key().to_bytes()));
        let keys = decode_keys(&l);
        (l, keys)
    }

    #[test]
    fn a_token_round_trips_and_verifies_only_with_its_key() {
        let (event, badge) = (Uuid::new_v4(), Uuid::new_v4());
        let text = token(event, badge, 1, &key());
        assert!(text.starts_with("HVN1.") && text.len() == 5 + 144, "{}", text.len());
        let t = BadgeToken::parse(&text).unwrap();
        assert_eq!(t.claims.badge, badge);
        assert!(t.verify(&key().verifying_key()));
        assert!(!t.verify(&SigningKey::from_bytes(&[8u8; 32]).verifying_key()));
    }

    #[test]
    fn garbage_of_every_shape_is_not_a_token() {
        let good = token(Uuid::new_v4(), Uuid::new_v4(), 1, &key());
        for bad in [
            "".to_owned(),
            "HVN1.".to_owned(),
            "HVN2.".to_owned() + &good[5..],
            good[..good.len() - 1].to_owned(),
            good.clone() + "A",
            good.replace('A', "*"),
            "x".repeat(10_000),
        ] {
            assert!(
                BadgeToken::parse(&bad).is_none() || !BadgeToken::parse(&bad).unwrap().verify(&key().verifying_key())
            );
        }
    }

    #[test]
    fn the_offline_verdict_follows_signature_event_and_lists() {
        let now = Utc::now();
        let (event, badge) = (Uuid::new_v4(), Uuid::new_v4());
        let k = key();
        let (mut l, keys) = list(event, &k);
        assert_eq!(offline_verdict(&token(event, badge, 1, &k), &l, &keys, now).result, ScanResult::Admit);
        assert_eq!(
            offline_verdict(&token(Uuid::new_v4(), badge, 1, &k), &l, &keys, now).reason,
            Some(DenyReason::WrongEvent)
        );
        assert_eq!(
            offline_verdict(&token(event, badge, 2, &k), &l, &keys, now).reason,
            Some(DenyReason::Invalid),
            "unknown key"
        );
        let forged = token(event, badge, 1, &SigningKey::from_bytes(&[9u8; 32]));
        assert_eq!(offline_verdict(&forged, &l, &keys, now).reason, Some(DenyReason::Invalid));
        // A flipped bit in the signature.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token(event, badge, 1, &k)[5..]).unwrap();
        bytes[60] ^= 1;
        let flipped = format!("HVN1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(offline_verdict(&flipped, &l, &keys, now).reason, Some(DenyReason::Invalid));
        l.instructions.insert(badge, "Call the lead".into());
        let a = offline_verdict(&token(event, badge, 1, &k), &l, &keys, now);
        assert_eq!((a.result, a.instruction.as_deref()), (ScanResult::Alert, Some("Call the lead")));
        l.denied.insert(badge, Denial::always(DenyReason::Banned));
        assert_eq!(offline_verdict(&token(event, badge, 1, &k), &l, &keys, now).reason, Some(DenyReason::Banned));
        // A ban that starts tomorrow does not refuse today; one that ended no longer does.
        let day = chrono::Duration::days(1);
        l.denied.insert(badge, Denial { reason: DenyReason::Banned, from: Some(now + day), until: None });
        assert_eq!(offline_verdict(&token(event, badge, 1, &k), &l, &keys, now).result, ScanResult::Alert);
        l.denied.insert(badge, Denial { reason: DenyReason::Banned, from: None, until: Some(now - day) });
        assert_eq!(offline_verdict(&token(event, badge, 1, &k), &l, &keys, now).result, ScanResult::Alert);
    }

    #[test]
    fn the_door_holds_the_denial_in_force_or_the_next_one() {
        let now = Utc::now();
        let day = chrono::Duration::days(1);
        let banned_later = Denial { reason: DenyReason::Banned, from: Some(now + day), until: None };
        let expelled = Denial::always(DenyReason::Expelled);
        let banned_now = Denial { reason: DenyReason::Banned, from: Some(now - day), until: Some(now + day) };
        assert_eq!(Denial::pick(&[banned_now, expelled], now), Some(expelled));
        assert_eq!(Denial::pick(&[banned_later, banned_now], now), Some(banned_now));
        assert_eq!(Denial::pick(&[banned_later], now), Some(banned_later));
        assert_eq!(Denial::pick(&[], now), None);
    }
}

/// The door-sync answer as it travels (`GET /api/v1/events/{slug}/door-sync`), for door
/// devices written in Rust (the door page's wasm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorSyncWire {
    pub event: Uuid,
    pub cursor: i32,
    pub full: bool,
    pub keys: Vec<WireKey>,
    pub denied: Vec<WireDenied>,
    pub instructions: Vec<WireInstruction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireKey {
    pub id: u32,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireDenied {
    pub badge: Uuid,
    pub reason: Option<DenyReason>,
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireInstruction {
    pub badge: Uuid,
    pub instruction: String,
}

impl DoorList {
    /// Applies a sync: a full one replaces the denied list, an incremental one changes it.
    pub fn apply(&mut self, sync: DoorSyncWire) {
        self.event = sync.event;
        self.keys = sync.keys.into_iter().map(|k| (k.id, k.public_key)).collect();
        if sync.full {
            self.denied.clear();
        }
        for d in sync.denied {
            match d.reason {
                Some(reason) => {
                    self.denied.insert(d.badge, Denial { reason, from: d.from, until: d.until });
                }
                None => {
                    self.denied.remove(&d.badge);
                }
            }
        }
        self.instructions = sync.instructions.into_iter().map(|i| (i.badge, i.instruction)).collect();
    }
}

/// Properties of the token parser over arbitrary and damaged input (`scripts/fuzz.sh`
/// runs them longer).
#[cfg(test)]
mod properties {
    use super::*;
    use crate::domain::proptest_config;
    use ed25519_dalek::{Signer as _, SigningKey};
    use proptest::prelude::*;

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
}
