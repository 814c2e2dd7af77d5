//! Badges: one live badge per registration, signed tokens, QR images (SVG for pages and
//! print, PNG for e-mail), replacement, and sending them to their holders.

use crate::db::entities::{badge, event, person, registration};
use crate::mail::{Attachment, Mail};
use crate::services::{Services, audit};
use ed25519_dalek::Signer as _;
use haven_app::api::AppError;
use haven_app::domain::badge::{BadgeClaims, Denial, DenyReason};
use qrcode::{EcLevel, QrCode};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;
use uuid::Uuid;

impl Services {
    /// The signed token of a badge (Ed25519 signatures are deterministic: the same badge
    /// always has the same token).
    pub async fn badge_token(&self, b: &badge::Model, organization: Uuid) -> Result<String, AppError> {
        let key = self.verifying_key(b.key_id as u32).await?.ok_or(AppError::Internal)?;
        let (current, signing) = self.signing_key(organization).await?;
        let signing = if current == key.id {
            signing
        } else {
            // Issued under an older key that is still in use: sign with that one.
            self.signing_key_by_id(b.key_id).await?
        };
        let claims = BadgeClaims { event: b.event_id, badge: b.id, issued_at: b.issued_at.timestamp(), key_id: key.id };
        Ok(claims.token(&signing.sign(&claims.payload()).to_bytes()))
    }

    async fn signing_key_by_id(&self, id: i64) -> Result<ed25519_dalek::SigningKey, AppError> {
        let row = crate::db::entities::badge_key::Entity::find_by_id(id)
            .one(&self.store.db)
            .await?
            .ok_or(AppError::Internal)?;
        let secret = self
            .keys
            .open(&format!("badge_keys.private_enc:{id}"), &row.private_enc)
            .map_err(|_| AppError::Internal)?;
        Ok(ed25519_dalek::SigningKey::from_bytes(&secret.try_into().map_err(|_| AppError::Internal)?))
    }

    /// The live badge of a registration.
    pub async fn live_badge(&self, registration: Uuid) -> Result<Option<badge::Model>, AppError> {
        badge::Entity::find()
            .filter(badge::Column::RegistrationId.eq(registration))
            .filter(badge::Column::RevokedAt.is_null())
            .one(&self.store.db)
            .await
            .map_err(AppError::from)
    }

    /// Revokes a registration's badge (lost, name changed) and issues a new one at once;
    /// door devices learn the old one is revoked at their next sync.
    pub async fn replace_badge_of(
        &self,
        actor: Option<Uuid>,
        e: &event::Model,
        registration: Uuid,
    ) -> Result<(), AppError> {
        let (key_id, _) = self.signing_key(e.organization_id).await?;
        let tx = self.begin().await?;
        let now = tx.now;
        let r = registration::Entity::find_by_id(registration)
            .filter(registration::Column::EventId.eq(e.id))
            .one(&*tx)
            .await?
            .ok_or(AppError::NotFound)?;
        let old = badge::Entity::find()
            .filter(badge::Column::RegistrationId.eq(r.id))
            .filter(badge::Column::RevokedAt.is_null())
            .all(&*tx)
            .await?;
        for b in &old {
            badge::Entity::update(badge::ActiveModel {
                id: Set(b.id),
                revoked_at: Set(Some(now)),
                revoked_reason: Set(Some("replaced".into())),
                ..Default::default()
            })
            .exec(&*tx)
            .await?;
            tx.door_change(e.id, b.id, Some(Denial::always(DenyReason::Revoked))).await?;
        }
        let id = Uuid::new_v4();
        badge::Entity::insert(new_badge(id, r.id, e.id, key_id, now)).exec(&*tx).await?;
        tx.audit(vec![audit::Entry::new(actor, "badge.replaced", "registration", r.id).with("badge", id.to_string())])
            .await?;
        if self.enforcement().enforcement_denials(&*tx, e, Some(&[r.person_id])).await?.contains_key(&r.person_id) {
            self.enforcement().refresh_door(&tx, e.organization_id, &[r.person_id], now).await?;
        }
        tx.door_changed();
        tx.commit().await?;
        Ok(())
    }

    /// E-mails every live badge of the event not mailed yet (a PNG of its QR code).
    pub async fn send_badges(&self, e: &event::Model) -> Result<usize, AppError> {
        let unsent = badge::Entity::find()
            .filter(badge::Column::EventId.eq(e.id))
            .filter(badge::Column::RevokedAt.is_null())
            .filter(badge::Column::MailedAt.is_null())
            .find_also_related(registration::Entity)
            .all(&self.store.db)
            .await?;
        let mut sent = 0;
        for chunk in unsent.chunks(200) {
            let now = self.clock.now();
            let mut mails = Vec::new();
            for (b, r) in chunk {
                let Some(r) = r else { continue };
                let Some(p) = person::Entity::find_by_id(r.person_id).one(&self.store.db).await? else {
                    continue;
                };
                let Some(email) = p.email.clone() else { continue };
                let token = self.badge_token(b, e.organization_id).await?;
                mails.push((b.id, badge_mail(&email, &e.name, &p.display_name, &token, &self.public_url)?));
            }
            let tx = self.begin().await?;
            for (badge_id, mail) in mails {
                tx.mail(mail).await?;
                badge::Entity::update(badge::ActiveModel {
                    id: Set(badge_id),
                    mailed_at: Set(Some(now)),
                    ..Default::default()
                })
                .exec(&*tx)
                .await?;
                sent += 1;
            }
            tx.commit().await?;
        }
        Ok(sent)
    }
}

fn badge_mail(to: &str, event: &str, name: &str, token: &str, public_url: &str) -> Result<Mail, AppError> {
    Ok(Mail {
        about: None,
        kind: "badge",
        to: to.to_owned(),
        subject: format!("Your badge for {event}"),
        text: format!(
            "Hello {name},\n\nyour badge for {event} is attached. Show it at the door (on your phone or printed).\n\n\
             You can also find it on your page: {public_url}/me\n\n--\nHaven"
        ),
        html: None,
        attachments: vec![Attachment {
            name: "badge.png".into(),
            content_type: "image/png".into(),
            data: qr_png(token, 8)?,
        }],
    })
}

fn code(token: &str) -> Result<QrCode, AppError> {
    QrCode::with_error_correction_level(token.as_bytes(), EcLevel::M).map_err(|_| AppError::Internal)
}

/// The QR code's modules, row by row (`true` is dark), and its width in modules.
pub fn qr_modules(token: &str) -> Result<(usize, Vec<bool>), AppError> {
    let code = code(token)?;
    Ok((code.width(), code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect()))
}

/// The QR code as SVG: one path, no styles (safe under the strict CSP), 4-module margin.
pub fn qr_svg(token: &str) -> Result<String, AppError> {
    let code = code(token)?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 8;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % width + 4, i / width + 4);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The QR code as a grayscale PNG, `scale` pixels per module, 4-module margin.
pub fn qr_png(token: &str, scale: usize) -> Result<Vec<u8>, AppError> {
    let code = code(token)?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 8) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % width + 4, i / width + 4);
            for dy in 0..scale {
                let row = (my * scale + dy) * side;
                pixels[row + mx * scale..row + mx * scale + scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|_| AppError::Internal)?;
        writer.write_image_data(&pixels).map_err(|_| AppError::Internal)?;
    }
    Ok(out)
}

impl super::Badges<'_> {
    /// Gives every registration of the event that has no live badge a new one. Returns how
    /// many were issued.
    pub async fn issue_missing_badges(&self, e: &event::Model) -> Result<usize, AppError> {
        let (key_id, _) = self.0.signing_key(e.organization_id).await?;
        let db = &self.0.store.db;
        let with_badge: HashSet<Uuid> = badge::Entity::find()
            .filter(badge::Column::EventId.eq(e.id))
            .filter(badge::Column::RevokedAt.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|b| b.registration_id)
            .collect();
        let missing: Vec<(Uuid, Uuid)> = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.id, r.person_id))
            .filter(|(id, _)| !with_badge.contains(id))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let tx = self.0.begin().await?;
        let now = tx.now;
        let rows: Vec<badge::ActiveModel> =
            missing.iter().map(|(r, _)| new_badge(Uuid::new_v4(), *r, e.id, key_id, now)).collect();
        for chunk in rows.chunks(500) {
            badge::Entity::insert_many(chunk.to_vec()).exec(&*tx).await?;
        }
        // A new badge of someone already refused here: offline doors must refuse it too.
        let denied = self.0.enforcement().enforcement_denials(&*tx, e, None).await?;
        let refused: Vec<Uuid> = missing.iter().map(|(_, p)| *p).filter(|p| denied.contains_key(p)).collect();
        self.0.enforcement().refresh_door(&tx, e.organization_id, &refused, now).await?;
        // Other instances (and a server beside an operator's import) learn the new badges.
        tx.door_note(e.id).await?;
        tx.audit(vec![audit::Entry::new(None, "badges.issued", "event", e.id).with("count", missing.len())]).await?;
        tx.door_changed();
        tx.commit().await?;
        Ok(missing.len())
    }
}

/// A live badge for a registration, signed with the key `key_id`.
fn new_badge(
    id: Uuid,
    registration: Uuid,
    event: Uuid,
    key_id: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> badge::ActiveModel {
    badge::ActiveModel {
        id: Set(id),
        registration_id: Set(registration),
        event_id: Set(event),
        key_id: Set(i64::from(key_id)),
        issued_at: Set(now),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        mailed_at: Set(None),
    }
}
