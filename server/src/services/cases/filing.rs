//! Filing a concern or report, and keeping a refused form's text until it is corrected.

use super::Services;
use crate::crypto::sealed;
use crate::db::entities::{case, case_attachment, case_status_change, concern_draft, event, registration};
use crate::mail::templates;
use crate::services::audit;
use crate::services::authz::Caller;
use chrono::Duration;
use haven_app::api::FilingApi;
use haven_app::api::{Actor, AppError, ConcernFormView};
use haven_app::domain::Slug;
use haven_app::domain::{CaseReference, CaseStatus, ConcernForm, DomainError, NewConcern};
use rand::RngCore as _;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A file sent with a form.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub data: Vec<u8>,
}

pub const PHOTO_MAX_BYTES: usize = 5 * 1024 * 1024;
/// What a photo over [`PHOTO_MAX_BYTES`] is told (the field is `photo`).
pub const PHOTO_TOO_LARGE: &str = "a photo may be at most 5 MB";
const DRAFT_LIFETIME: Duration = Duration::hours(2);

/// The image type of a photo, read from its first bytes (never from its name).
pub fn image_type(data: &[u8]) -> Option<&'static str> {
    match data {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        _ => None,
    }
}

fn check_photo(photo: &Upload) -> Result<&'static str, String> {
    if photo.data.len() > PHOTO_MAX_BYTES {
        return Err(PHOTO_TOO_LARGE.to_owned());
    }
    image_type(&photo.data).ok_or_else(|| "the photo must be a JPEG, PNG, WebP or GIF image".to_owned())
}

/// What a refused submission leaves behind for the next attempt.
#[derive(Debug, Serialize, Deserialize)]
struct Draft {
    form: ConcernForm,
    photo_error: Option<String>,
}

/// The answer to a submission.
pub enum Filed {
    Case(CaseReference),
    /// Refused: the draft to show again (its id) and what to fix.
    Refused {
        draft: Uuid,
        errors: Vec<DomainError>,
    },
}

impl Services {
    /// May the caller file at this event: registered for it, or on its staff.
    async fn may_file(&self, caller: &Caller, e: &event::Model) -> Result<bool, AppError> {
        let registered = registration::Entity::find()
            .filter(registration::Column::EventId.eq(e.id))
            .filter(registration::Column::PersonId.eq(caller.person))
            .count(&self.store.db)
            .await?
            > 0;
        Ok(registered || caller.grants.staffs(e))
    }

    /// Files a concern. A refusal keeps what was typed (sealed, for two hours) so the form
    /// can show it again with what to fix.
    pub async fn file_concern(
        &self,
        actor: &Actor,
        slug: &Slug,
        form: ConcernForm,
        photo: Option<Upload>,
    ) -> Result<Filed, AppError> {
        let caller = self.caller(actor).await?;
        let person = caller.person;
        let e = self.events().event_by_slug(slug).await?.ok_or(AppError::NotFound)?;
        if !self.may_file(&caller, &e).await? {
            return Err(AppError::Conflict(
                "only people registered for this event can file a concern here; sign in with the address you registered with"
                    .into(),
            ));
        }
        let photo_check = photo.as_ref().map(check_photo);
        let parsed = NewConcern::parse(&form);
        let photo_error = match &photo_check {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        };
        let concern = match (parsed, &photo_error) {
            (Ok(c), None) => c,
            (parsed, _) => {
                let mut errors = parsed.err().unwrap_or_default();
                if let Some(p) = &photo_error {
                    errors.push(DomainError::new("photo", p.clone()));
                }
                let draft = self.save_draft(person, e.id, Draft { form, photo_error }).await?;
                return Ok(Filed::Refused { draft, errors });
            }
        };
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let mut bits = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut bits);
        let reference = CaseReference::from_random(u64::from_le_bytes(bits));
        let subject = serde_json::to_string(&concern.person).map_err(|_| AppError::Internal)?;
        let wishes = serde_json::to_string(&concern.wishes).map_err(|_| AppError::Internal)?;
        let contact = serde_json::to_string(&(concern.contact_channel, &concern.contact_detail))
            .map_err(|_| AppError::Internal)?;
        let tx = self.begin().await?;
        let key = tx.new_data_key(id).await?;
        case::Entity::insert(case::ActiveModel {
            id: Set(id),
            reference: Set(reference.as_str().to_owned()),
            event_id: Set(e.id),
            kind: Set(concern.kind.as_str().to_owned()),
            reporter_id: Set(person),
            status: Set(CaseStatus::New.as_str().to_owned()),
            owner_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ack_due_at: Set(now + Duration::hours(i64::from(e.ack_hours.max(1)))),
            acknowledged_at: Set(None),
            reminder_sent_at: Set(None),
            related_case_id: Set(None),
            relation: Set(None),
            witnesses: Set(format!("{:?}", concern.witnesses).to_lowercase()),
            subject_enc: Set(key.seal_in(sealed::CASE_SUBJECT, id, &subject)),
            narrative_enc: Set(key.seal_in(sealed::CASE_NARRATIVE, id, &concern.narrative)),
            wishes_enc: Set(key.seal_in(sealed::CASE_WISHES, id, &wishes)),
            contact_enc: Set(key.seal_in(sealed::CASE_CONTACT, id, &contact)),
            witness_details_enc: Set(concern
                .witness_details
                .as_ref()
                .map(|w| key.seal_in(sealed::CASE_WITNESS_DETAILS, id, w))),
            retain_until: Set(None),
            retention_warned_at: Set(None),
            retention_extended_at: Set(None),
            retention_reason_enc: Set(None),
            erased_at: Set(None),
            reporter_shielded: Set(concern.shielded),
            reporter_code: Set(concern.shielded.then(super::shield::code_name)),
        })
        .exec(&*tx)
        .await?;
        case_status_change::Entity::insert(case_status_change::ActiveModel {
            id: Set(Uuid::new_v4()),
            case_id: Set(id),
            from_status: Set(None),
            to_status: Set(CaseStatus::New.as_str().to_owned()),
            actor_id: Set(Some(person)),
            at: Set(now),
        })
        .exec(&*tx)
        .await?;
        if let (Some(photo), Some(Ok(content_type))) = (&photo, &photo_check) {
            let attachment = Uuid::new_v4();
            case_attachment::Entity::insert(case_attachment::ActiveModel {
                id: Set(attachment),
                case_id: Set(id),
                uploaded_by: Set(person),
                kind: Set("subject_photo".into()),
                content_type: Set((*content_type).to_owned()),
                size_bytes: Set(photo.data.len() as i64),
                name_enc: Set(key.seal_in(sealed::ATTACHMENT_NAME, attachment, &photo.file_name)),
                data_enc: Set(key.seal_bytes_in(sealed::ATTACHMENT_DATA, attachment, &photo.data)),
                created_at: Set(now),
            })
            .exec(&*tx)
            .await?;
        }
        tx.audit(vec![audit::Entry::new(Some(person), "case.filed", "case", id).with("event", e.id.to_string())])
            .await?;
        // Tell the reporter it arrived, and the (not recused) team that it exists.
        let link = format!("{}/cases/{}", self.public_url, reference);
        if let Some(email) =
            crate::db::entities::person::Entity::find_by_id(person).one(&*tx).await?.and_then(|p| p.email)
        {
            tx.mail(templates::case_received(&email, &e.name, reference.as_str(), &link)).await?;
        }
        let filed = case::Entity::find_by_id(id).one(&*tx).await?.ok_or(AppError::Internal)?;
        for member in self.cases().case_team(&*tx, &e, Some((&filed, &concern.person))).await? {
            if let Some(email) = member.email {
                let queue = format!("{}/respond/{}", self.public_url, e.slug);
                tx.mail(templates::team_new_case(&email, &e.name, &queue)).await?;
            }
        }
        tx.commit().await?;
        Ok(Filed::Case(reference))
    }

    async fn save_draft(&self, person: Uuid, event: Uuid, draft: Draft) -> Result<Uuid, AppError> {
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let json = serde_json::to_string(&draft).map_err(|_| AppError::Internal)?;
        let tx = self.begin().await?;
        // Old drafts go as new ones come, and their keys with them.
        forget_drafts(&self.keys, &*tx, now).await?;
        let key = tx.new_data_key(id).await?;
        concern_draft::Entity::insert(concern_draft::ActiveModel {
            id: Set(id),
            person_id: Set(person),
            event_id: Set(event),
            data_enc: Set(key.seal_in(sealed::DRAFT_DATA, id, &json)),
            created_at: Set(now),
            expires_at: Set(now + DRAFT_LIFETIME),
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// Deletes the drafts expired at `now`, and destroys their data keys: a copy of the
/// database taken while one lasted cannot open it once the wrapping key that sealed its
/// key is gone.
pub(crate) async fn forget_drafts(
    keys: &crate::crypto::fields::KeyStore,
    db: &impl sea_orm::ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::QuerySelect as _;
    let expired: Vec<Uuid> = concern_draft::Entity::find()
        .select_only()
        .column(concern_draft::Column::Id)
        .filter(concern_draft::Column::ExpiresAt.lte(now))
        .into_tuple()
        .all(db)
        .await?;
    for id in &expired {
        crate::crypto::data_keys::erase(keys, db, *id, now).await?;
    }
    let gone = concern_draft::Entity::delete_many().filter(concern_draft::Column::Id.is_in(expired)).exec(db).await?;
    Ok(gone.rows_affected)
}

#[async_trait::async_trait]
impl FilingApi for Services {
    async fn concern_form(&self, actor: &Actor, slug: &Slug, draft: Option<Uuid>) -> Result<ConcernFormView, AppError> {
        let caller = self.caller(actor).await?;
        let person = caller.person;
        let e = self.events().event_by_slug(slug).await?.ok_or(AppError::NotFound)?;
        let may_file = self.may_file(&caller, &e).await?;
        let mut view = ConcernFormView {
            event_slug: e.slug.clone(),
            event_name: e.name.clone(),
            may_file,
            form: ConcernForm::default(),
            errors: Vec::new(),
            photo_error: None,
        };
        // A draft is shown only to the person who typed it, while it lasts.
        if let Some(id) = draft
            && let Some(d) = concern_draft::Entity::find_by_id(id).one(&self.store.db).await?
            && d.person_id == person
            && d.event_id == e.id
            && d.expires_at > self.clock.now()
        {
            let json = self.data_key(&self.store.db, d.id).await?.open_in(sealed::DRAFT_DATA, d.id, &d.data_enc)?;
            let draft: Draft = serde_json::from_str(&json).map_err(|_| AppError::Internal)?;
            view.errors = NewConcern::parse(&draft.form).err().unwrap_or_default();
            view.form = draft.form;
            view.photo_error = draft.photo_error;
        }
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn images_are_recognized_by_their_bytes_not_their_names() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"GIF89a...."), Some("image/gif"));
        assert_eq!(image_type(b"%PDF-1.7"), None);
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None, "SVG can carry script: refused");
        assert_eq!(image_type(b""), None);
    }
}
