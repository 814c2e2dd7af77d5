//! What a door device keeps to decide on its own, the offline verdict, the compact form a
//! browser stores, and the door-sync answer as it travels.

use super::{BadgeToken, Denial, DenyReason, ScanAnswer, ScanResult};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

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
