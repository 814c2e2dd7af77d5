//! Tokens, verdicts and the compact list.

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
use std::collections::HashMap;

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
        assert!(BadgeToken::parse(&bad).is_none() || !BadgeToken::parse(&bad).unwrap().verify(&key().verifying_key()));
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

#[test]
fn scanned_text_is_read_once_into_a_badge_or_a_check_in_or_refused_with_its_reason() {
    let (event, badge, registration) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let text = token(event, badge, 1, &key());
    match ScanSubject::read(&format!("  {text}\n")) {
        Ok(ScanSubject::Badge(t)) => assert_eq!(t.claims.badge, badge),
        other => panic!("a badge's token reads as that badge: {other:?}"),
    }
    let check_in = ScanSubject::check_in_text(registration);
    assert_eq!(check_in, format!("registration:{registration}"), "the wire form devices send today");
    assert_eq!(ScanSubject::read(&check_in), Ok(ScanSubject::CheckIn(registration)));
    assert!(ScanSubject::read(&check_in).unwrap().is_check_in());
    assert_eq!(ScanSubject::read("registration:ada"), Err(DenyReason::Unknown));
    assert_eq!(ScanSubject::read("hello"), Err(DenyReason::Invalid));
    assert_eq!(ScanSubject::read(&text.replace("HVN1.", "HVN2.")), Err(DenyReason::Invalid));
}
