//! Badge tokens and the door's verdict.
//!
//! A token is `HVN1.` followed by base64url (no padding) of a 44-byte payload — event id
//! (16 bytes), badge id (16), issue time (seconds since 1970, 8, big-endian), key id (4,
//! big-endian) — and a 64-byte Ed25519 signature over that payload. This module parses
//! and verifies tokens; it compiles to wasm so a door device can check badges itself
//! when the network is down.

mod door_list;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use door_list::*;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
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

/// What a scan names. On the wire (the device API, the door page) it is text: a badge's
/// token as its QR code holds it, or `registration:<id>` when door staff check someone in
/// by name; inside Haven it is read once, here, into this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanSubject {
    /// A badge's token, not yet verified.
    Badge(BadgeToken),
    /// A registration checked in by name (its live badge is the one admitted or denied).
    CheckIn(Uuid),
}

/// How a name check-in is written on the wire.
const CHECK_IN_PREFIX: &str = "registration:";

impl ScanSubject {
    /// Reads scanned text; what names nothing is refused with the reason the door shows
    /// (`Invalid` for text that is no badge, `Unknown` for a check-in of no registration).
    pub fn read(text: &str) -> Result<ScanSubject, DenyReason> {
        let text = text.trim();
        match text.strip_prefix(CHECK_IN_PREFIX) {
            Some(id) => Uuid::parse_str(id).map(ScanSubject::CheckIn).map_err(|_| DenyReason::Unknown),
            None => BadgeToken::parse(text).map(ScanSubject::Badge).ok_or(DenyReason::Invalid),
        }
    }

    /// The wire text of a name check-in.
    pub fn check_in_text(registration: Uuid) -> String {
        format!("{CHECK_IN_PREFIX}{registration}")
    }

    pub fn is_check_in(&self) -> bool {
        matches!(self, ScanSubject::CheckIn(_))
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
