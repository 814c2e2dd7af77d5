//! Field encryption: case narratives, messages, notes, reporter contact details and
//! attachments are sealed with XChaCha20-Poly1305 under a key that lives outside the
//! database (a key file or the configuration). Each sealed value names its key, so keys
//! can be rotated (`haven keys rotate`) while old values stay readable.
//!
//! Sealed text looks like `v1:<key id>:<base64url of 24-byte nonce and ciphertext>`. The
//! associated data binds a value to its place (`table.column:row id`), so a ciphertext
//! copied into another row or column does not open.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use std::collections::BTreeMap;
use std::path::Path;

/// Where the field-encryption keys come from.
#[derive(Debug, Clone)]
pub enum EncryptionSettings {
    /// A key file (created with one key if missing); `haven keys rotate` adds keys to it.
    File(std::path::PathBuf),
    /// Keys given inline as `id:base64,id:base64` (the last seals); rotation is then the
    /// operator's: add a key here, then run `haven keys rotate`.
    Inline(crate::secret::Secret<String>),
}

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the value is not sealed text")]
    Malformed,
    #[error("the key {0:?} that sealed this value is not configured")]
    UnknownKey(String),
    #[error("the value does not open with its key (altered, or moved from elsewhere)")]
    Forged,
}

/// The field-encryption keys: every configured key opens, the current one seals.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<String, [u8; 32]>,
    current: String,
    /// When each key began sealing and stopped, where the file says (`created=`,
    /// `retired=`): erasure re-wraps after the current key's start, and destroys keys
    /// retired long enough ago.
    created: BTreeMap<String, DateTime<Utc>>,
    retired: BTreeMap<String, DateTime<Utc>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring {{ current: {:?}, keys: {} }}", self.current, self.keys.len())
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Keyring {
    /// Reads `id base64key [created=<time>] [retired=<time>]` lines (`#` comments
    /// allowed); the last key is the current one.
    pub fn parse(text: &str) -> Result<Keyring, String> {
        let mut ring = Keyring {
            keys: BTreeMap::new(),
            current: String::new(),
            created: BTreeMap::new(),
            retired: BTreeMap::new(),
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, rest) = line
                .split_once(|c: char| c.is_whitespace() || c == '=')
                .ok_or_else(|| format!("line {}: expected `<key id> <base64 key>`", n + 1))?;
            let id = id.trim();
            if !valid_id(id) {
                return Err(format!("line {}: a key id is 1-32 letters, digits, - or _", n + 1));
            }
            let mut parts = rest.split_whitespace();
            let key = parts.next().unwrap_or_default();
            let bytes = URL_SAFE_NO_PAD
                .decode(key.trim_end_matches('='))
                .or_else(|_| base64::engine::general_purpose::STANDARD.decode(key))
                .map_err(|_| format!("line {}: the key is not base64", n + 1))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| format!("line {}: a key must be 32 bytes (44 base64 characters)", n + 1))?;
            for part in parts {
                let (name, value) = part.split_once('=').unwrap_or((part, ""));
                let at = DateTime::parse_from_rfc3339(value)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| format!("line {}: {name}= expects a time like 2026-12-08T10:00:00Z", n + 1));
                match name {
                    "created" => ring.created.insert(id.to_owned(), at?),
                    "retired" => ring.retired.insert(id.to_owned(), at?),
                    _ => return Err(format!("line {}: unknown attribute {name:?} (created=, retired=)", n + 1)),
                };
            }
            ring.keys.insert(id.to_owned(), key);
            ring.current = id.to_owned();
        }
        if ring.keys.is_empty() {
            return Err("no key is given".into());
        }
        // The key that seals is not retired, whatever the file says.
        let current = ring.current.clone();
        ring.retired.remove(&current);
        Ok(ring)
    }

    /// Loads the key file, creating it with one fresh key (readable by its owner only)
    /// when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Keyring, String> {
        if !path.exists() {
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let mut ring = Keyring {
                keys: BTreeMap::new(),
                current: String::new(),
                created: BTreeMap::new(),
                retired: BTreeMap::new(),
            };
            ring.add_fresh_key(Utc::now());
            write_private(path, &ring.to_file_text())?;
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Keyring::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn current_id(&self) -> &str {
        &self.current
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    fn cipher(&self, id: &str) -> Option<XChaCha20Poly1305> {
        self.keys.get(id).map(|k| XChaCha20Poly1305::new(k.into()))
    }

    /// Seals bytes under the current key, bound to `place`.
    pub fn seal(&self, place: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = self.cipher(&self.current).expect("the current key is in the ring");
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: place.as_bytes() })
            .expect("encryption of in-memory data does not fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("v1:{}:{}", self.current, URL_SAFE_NO_PAD.encode(blob))
    }

    pub fn seal_str(&self, place: &str, plaintext: &str) -> String {
        self.seal(place, plaintext.as_bytes())
    }

    /// Opens a value sealed for `place` by any configured key.
    pub fn open(&self, place: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let rest = sealed.strip_prefix("v1:").ok_or(SealError::Malformed)?;
        let (id, data) = rest.split_once(':').ok_or(SealError::Malformed)?;
        let blob = URL_SAFE_NO_PAD.decode(data).map_err(|_| SealError::Malformed)?;
        if blob.len() < 24 + 16 {
            return Err(SealError::Malformed);
        }
        let cipher = self.cipher(id).ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        cipher
            .decrypt(XNonce::from_slice(&blob[..24]), Payload { msg: &blob[24..], aad: place.as_bytes() })
            .map_err(|_| SealError::Forged)
    }

    pub fn open_str(&self, place: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(place, sealed)?).map_err(|_| SealError::Forged)
    }

    /// The key id a sealed value names.
    pub fn key_of(sealed: &str) -> Option<&str> {
        sealed.strip_prefix("v1:")?.split_once(':').map(|(id, _)| id)
    }

    /// Removes a key that is not the current one; false when there is no such key.
    pub fn remove(&mut self, id: &str) -> bool {
        if id == self.current || self.keys.remove(id).is_none() {
            return false;
        }
        self.created.remove(id);
        self.retired.remove(id);
        true
    }

    /// Adds a fresh key that becomes the current one from `now` (the one before is retired
    /// then); returns its id.
    pub fn add_fresh_key(&mut self, now: DateTime<Utc>) -> String {
        let id = new_key_id(now);
        if !self.current.is_empty() {
            self.retired.insert(self.current.clone(), now);
        }
        self.keys.insert(id.clone(), random_key());
        self.created.insert(id.clone(), now);
        self.current = id.clone();
        id
    }

    /// Since when the current key seals, where the file says.
    pub fn current_since(&self) -> Option<DateTime<Utc>> {
        self.created.get(&self.current).copied()
    }

    /// The keys that stopped sealing at or before `before`. A key without a date (added
    /// by hand) is the operator's to retire (`haven keys retire-field-key`).
    pub fn retired_before(&self, before: DateTime<Utc>) -> Vec<String> {
        self.keys
            .keys()
            .filter(|id| **id != self.current && self.retired.get(*id).is_some_and(|at| *at <= before))
            .cloned()
            .collect()
    }

    /// The key file's text for this ring (current key last).
    pub fn to_file_text(&self) -> String {
        let mut out = String::from(
            "# Haven wrapping keys: `<id> <base64 key> [created=<time>] [retired=<time>]`; the last one seals.\n",
        );
        let others = self.keys.keys().filter(|id| **id != self.current);
        for id in others.chain(std::iter::once(&self.current)) {
            out.push_str(&format!("{id} {}", URL_SAFE_NO_PAD.encode(self.keys[id])));
            if let Some(at) = self.created.get(id) {
                out.push_str(&format!(" created={}", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            if let Some(at) = self.retired.get(id) {
                out.push_str(&format!(" retired={}", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            }
            out.push('\n');
        }
        out
    }
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// Key ids are dated so an operator can tell old from new: `k20261125-3fa2`.
fn new_key_id(now: DateTime<Utc>) -> String {
    let mut tag = [0u8; 2];
    rand::rngs::OsRng.fill_bytes(&mut tag);
    format!("k{}-{}", now.format("%Y%m%d"), crate::crypto::hex(&tag))
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Replaces a key file with this ring, readable by its owner only: written beside it and
/// renamed over it, so a reader never sees half a file.
pub fn replace_key_file(path: &Path, ring: &Keyring) -> Result<(), String> {
    let temporary = path.with_extension("keys.new");
    write_private(&temporary, &ring.to_file_text())?;
    std::fs::rename(&temporary, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

/// Where a sealed value lives (`table.column:id`): the associated data that binds it
/// there, so a value copied to another row or column does not open.
pub fn place(table: &str, column: &str, id: impl std::fmt::Display) -> String {
    format!("{table}.{column}:{id}")
}

/// The keyring a server uses, and where it came from. A key file is looked at again at
/// most every [`RELOAD_EVERY`] when a value is sealed or opened, and re-read when it has
/// changed (`haven keys rotate` in another process), so a running server seals with the
/// newest key within seconds. A value naming a key the ring does not hold makes it read
/// the file at once.
pub struct KeyStore {
    ring: std::sync::RwLock<Keyring>,
    source: EncryptionSettings,
    seen: std::sync::Mutex<(std::time::Instant, Option<FileStamp>)>,
    /// Data keys unwrapped lately (see `crypto::data_keys`), with when.
    unwrapped: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, (std::time::Instant, [u8; 32])>>,
}

/// How often a running server checks its key file for changes.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// What tells a changed key file from the one read: replaced (rotation writes a new file
/// and renames it over the old), rewritten or resized.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    modified: Option<std::time::SystemTime>,
    len: u64,
}

fn stamp(source: &EncryptionSettings) -> Option<FileStamp> {
    let EncryptionSettings::File(path) = source else { return None };
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(FileStamp { inode, modified: meta.modified().ok(), len: meta.len() })
}

impl KeyStore {
    pub fn load(source: &EncryptionSettings) -> Result<KeyStore, String> {
        let ring = read_source(source)?;
        let seen = std::sync::Mutex::new((std::time::Instant::now(), stamp(source)));
        Ok(KeyStore {
            ring: std::sync::RwLock::new(ring),
            source: source.clone(),
            seen,
            unwrapped: std::sync::Mutex::default(),
        })
    }

    /// Where the keys come from.
    pub fn source(&self) -> &EncryptionSettings {
        &self.source
    }

    /// Reads the key file again now (after this process changed it).
    pub fn reload(&self) {
        self.refresh(true);
    }

    fn unwrapped(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<uuid::Uuid, (std::time::Instant, [u8; 32])>> {
        self.unwrapped.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps an unwrapped data key for a while.
    pub(crate) fn remember(&self, id: uuid::Uuid, key: [u8; 32]) {
        let mut cache = self.unwrapped();
        cache.retain(|_, (at, _)| at.elapsed() < super::data_keys::CACHE_FOR);
        cache.insert(id, (std::time::Instant::now(), key));
    }

    /// A data key unwrapped lately.
    pub(crate) fn remembered(&self, id: uuid::Uuid) -> Option<[u8; 32]> {
        let cache = self.unwrapped();
        cache.get(&id).filter(|(at, _)| at.elapsed() < super::data_keys::CACHE_FOR).map(|(_, key)| *key)
    }

    /// Forgets a data key (it was erased).
    pub(crate) fn forget(&self, id: uuid::Uuid) {
        self.unwrapped().remove(&id);
    }

    /// Re-reads the key file when it changed since it was last read; `force` skips the
    /// wait between looks. A file that cannot be read or parsed (half-written by an
    /// editor) leaves the ring as it was.
    fn refresh(&self, force: bool) {
        // One request looks at a time; the others go on with the ring they have.
        let mut seen = match self.seen.try_lock() {
            Ok(seen) => seen,
            Err(_) if force => self.seen.lock().expect("keyring stamp lock"),
            Err(_) => return,
        };
        if !force && seen.0.elapsed() < RELOAD_EVERY {
            return;
        }
        seen.0 = std::time::Instant::now();
        let now = stamp(&self.source);
        if now.is_none() || (now == seen.1 && !force) {
            return;
        }
        if let Ok(fresh) = read_source(&self.source) {
            if fresh.current_id() != self.ring.read().expect("keyring lock").current_id() {
                tracing::info!(
                    key = fresh.current_id(),
                    "the key file changed: new values are sealed with its newest key"
                );
            }
            *self.ring.write().expect("keyring lock") = fresh;
            seen.1 = now;
        }
    }

    pub fn ring(&self) -> Keyring {
        self.refresh(false);
        self.ring.read().expect("keyring lock").clone()
    }

    pub fn seal(&self, place: &str, plaintext: &[u8]) -> String {
        self.refresh(false);
        self.ring.read().expect("keyring lock").seal(place, plaintext)
    }

    pub fn seal_str(&self, place: &str, plaintext: &str) -> String {
        self.seal(place, plaintext.as_bytes())
    }

    pub fn open(&self, place: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        self.refresh(false);
        let first = self.ring.read().expect("keyring lock").open(place, sealed);
        match first {
            Err(SealError::UnknownKey(_)) => {
                self.refresh(true);
                self.ring.read().expect("keyring lock").open(place, sealed)
            }
            other => other,
        }
    }

    pub fn open_str(&self, place: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(place, sealed)?).map_err(|_| SealError::Forged)
    }
}

/// Refuses a key file that anyone but its owner may read or write: whoever reads it can
/// open every sealed value in a copy of the database.
pub fn check_private(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is open to group or others (mode {mode:o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(())
}

/// Reads the keys from where the settings say they are.
pub fn read_source(source: &EncryptionSettings) -> Result<Keyring, String> {
    match source {
        EncryptionSettings::File(path) => Keyring::load_or_create(path),
        EncryptionSettings::Inline(keys) => Keyring::parse(&keys.expose().replace(',', "\n").replace(':', " "))
            .map_err(|e| format!("HAVEN_ENCRYPTION_KEYS: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::parse(&format!(
            "old {}\nnew {}\n",
            URL_SAFE_NO_PAD.encode([1u8; 32]),
            URL_SAFE_NO_PAD.encode([2u8; 32])
        ))
        .unwrap()
    }

    #[test]
    fn sealed_text_opens_only_in_its_place_and_hides_the_plaintext() {
        let r = ring();
        let sealed = r.seal_str("cases.narrative_enc:1", "He followed me to my hotel.");
        assert!(sealed.starts_with("v1:new:"));
        assert!(!sealed.contains("followed"));
        assert_eq!(r.open_str("cases.narrative_enc:1", &sealed).unwrap(), "He followed me to my hotel.");
        assert_eq!(r.open_str("cases.narrative_enc:2", &sealed), Err(SealError::Forged), "moved to another row");
        // Change one character in the middle of the ciphertext (the end may be padding bits).
        let mut tampered: Vec<char> = sealed.chars().collect();
        let mid = tampered.len() - 20;
        tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        assert_eq!(r.open_str("cases.narrative_enc:1", &tampered), Err(SealError::Forged));
        assert_ne!(r.seal_str("p", "same"), r.seal_str("p", "same"), "a fresh nonce every time");
    }

    #[test]
    fn old_keys_still_open_and_unknown_keys_are_named() {
        let r = ring();
        let only_old = Keyring::parse(&format!("old {}\n", URL_SAFE_NO_PAD.encode([1u8; 32]))).unwrap();
        let sealed_old = only_old.seal_str("p", "x");
        assert_eq!(r.open_str("p", &sealed_old).unwrap(), "x");
        assert_eq!(only_old.open_str("p", &r.seal_str("p", "x")), Err(SealError::UnknownKey("new".into())));
        assert_eq!(r.open_str("p", "plain text"), Err(SealError::Malformed));
    }

    #[test]
    fn key_files_are_checked_and_round_trip() {
        assert!(Keyring::parse("").is_err());
        assert!(Keyring::parse("k1 c2hvcnQ").unwrap_err().contains("32 bytes"));
        assert!(Keyring::parse("bad id! AAAA").is_err());
        let mut r = ring();
        let now = DateTime::parse_from_rfc3339("2026-12-08T10:00:00Z").unwrap().with_timezone(&Utc);
        let id = r.add_fresh_key(now);
        let again = Keyring::parse(&r.to_file_text()).unwrap();
        assert_eq!(again.current_id(), id);
        assert_eq!(again.ids().count(), 3);
        assert_eq!(again.current_since(), Some(now));
        // `new` was retired now; `old` carries no date: it is the operator's to retire.
        assert_eq!(again.retired_before(now - chrono::Duration::seconds(1)), Vec::<String>::new());
        assert_eq!(again.retired_before(now), vec!["new".to_owned()]);
        assert!(Keyring::parse("k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA retired=yesterday").is_err());
    }
}
