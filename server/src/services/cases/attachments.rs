//! Files on a case: evidence uploaded by the team (and the photo a reporter may add),
//! sealed at rest, served only to whoever may see the case, every opening logged.

use super::Services;
use crate::crypto::sealed;
use crate::db::entities::case_attachment;
use crate::services::audit;
use haven_app::api::{Actor, AppError};
use haven_app::domain::CaseReference;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub const ATTACHMENT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// What a file over [`ATTACHMENT_MAX_BYTES`] is told (the field is `file`).
pub const ATTACHMENT_TOO_LARGE: &str = "a file may be at most 10 MB";

/// The type of an evidence file, read from its bytes: images, PDF, or plain UTF-8 text.
pub fn evidence_type(data: &[u8]) -> Option<&'static str> {
    if let Some(image) = super::filing::image_type(data) {
        return Some(image);
    }
    if data.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    let text = std::str::from_utf8(data).ok()?;
    (!text.is_empty() && !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
        .then_some("text/plain; charset=utf-8")
}

/// A decrypted file ready to send.
pub struct Download {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Services {
    /// May `actor` add files to this case? Asked before an upload's body is read, so
    /// nobody else can make the server read (or store) anything; `NotFound` otherwise.
    pub async fn may_attach(&self, actor: &Actor, reference: &CaseReference) -> Result<(), AppError> {
        self.cases().team_case(actor, reference).await.map(|_| ())
    }

    pub async fn add_attachment(
        &self,
        actor: &Actor,
        reference: &CaseReference,
        upload: super::Upload,
    ) -> Result<(), AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        if upload.data.len() > ATTACHMENT_MAX_BYTES {
            return Err(AppError::invalid("file", ATTACHMENT_TOO_LARGE));
        }
        let content_type = evidence_type(&upload.data).ok_or_else(|| {
            AppError::invalid("file", "attach an image (JPEG, PNG, WebP, GIF), a PDF or a plain text file")
        })?;
        let name: String = upload.file_name.chars().filter(|c| !c.is_control()).take(200).collect();
        let name = if name.trim().is_empty() { "attachment".to_owned() } else { name };
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let tx = self.begin().await?;
        let key = tx.data_key(v.case.id).await?;
        case_attachment::Entity::insert(case_attachment::ActiveModel {
            id: Set(id),
            case_id: Set(v.case.id),
            uploaded_by: Set(v.person.id),
            kind: Set("evidence".into()),
            content_type: Set(content_type.to_owned()),
            size_bytes: Set(upload.data.len() as i64),
            name_enc: Set(key.seal_in(sealed::ATTACHMENT_NAME, id, &name)),
            data_enc: Set(key.seal_bytes_in(sealed::ATTACHMENT_DATA, id, &upload.data)),
            created_at: Set(now),
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![audit::Entry::new(Some(v.person.id), "case.attachment", "case", v.case.id)]).await?;
        tx.commit().await.map_err(AppError::from)
    }

    pub async fn attachment(&self, actor: &Actor, reference: &CaseReference, id: Uuid) -> Result<Download, AppError> {
        let v = self.cases().team_case(actor, reference).await?;
        let a = case_attachment::Entity::find_by_id(id)
            .filter(case_attachment::Column::CaseId.eq(v.case.id))
            .one(&self.store.db)
            .await?
            .ok_or(AppError::NotFound)?;
        let key = self.data_key(&self.store.db, v.case.id).await?;
        let data = key.open_bytes_in(sealed::ATTACHMENT_DATA, a.id, &a.data_enc).map_err(|_| AppError::Internal)?;
        let name = key.open_in(sealed::ATTACHMENT_NAME, a.id, &a.name_enc)?;
        self.log_read(v.case.id, v.person.id, "attachment").await?;
        Ok(Download { name, content_type: a.content_type, data })
    }
}

#[cfg(test)]
mod tests {
    use super::evidence_type;

    #[test]
    fn evidence_is_typed_by_content() {
        assert_eq!(evidence_type(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(evidence_type(b"plain words\nand lines"), Some("text/plain; charset=utf-8"));
        assert_eq!(evidence_type(b"\x7fELF\x02\x01"), None, "binaries are refused");
        assert_eq!(evidence_type(b"MZ\x90\x00"), None);
        assert_eq!(evidence_type(b""), None);
    }
}
