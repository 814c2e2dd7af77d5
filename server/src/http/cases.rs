//! Case routes that take files or must work as plain HTML forms: filing a concern (no
//! JavaScript needed: a refused form comes back filled in, with what to fix), adding an
//! attachment, and downloading one.

use super::AppState;
use super::error::{Format, answer, answer_with};
use crate::services::cases::{
    ATTACHMENT_MAX_BYTES, ATTACHMENT_TOO_LARGE, Filed, PHOTO_MAX_BYTES, PHOTO_TOO_LARGE, Upload,
};
use axum::Extension;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::{Actor, AppError};
use haven_app::domain::{CaseReference, ConcernForm, Slug};
use uuid::Uuid;

fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// How much of an upload route's body is read at most (its file, the form's text fields
/// and the multipart framing). A file over its own limit but under this is read to the
/// end and then refused naming its field and limit: browsers show an answer reliably only
/// once they have sent the whole body. A body longer than this is refused as soon as its
/// length shows (or when the reading reaches it), with the same words.
pub const UPLOAD_BODY_MAX: usize = 25 * 1024 * 1024;

/// An upload's file: the form field it comes in, its limit and what a larger one is told.
struct FileRule {
    field: &'static str,
    max: usize,
    too_large: &'static str,
}

impl FileRule {
    fn too_large(&self) -> AppError {
        AppError::invalid(self.field, self.too_large)
    }
}

const PHOTO: FileRule = FileRule { field: "photo", max: PHOTO_MAX_BYTES, too_large: PHOTO_TOO_LARGE };
const EVIDENCE: FileRule = FileRule { field: "file", max: ATTACHMENT_MAX_BYTES, too_large: ATTACHMENT_TOO_LARGE };

/// An error as a small HTML page (these routes are posted to by plain forms).
fn error_page(err: &AppError) -> Response {
    answer(err, Format::Html)
}

/// A path segment that is not even text (percent-encoded bytes that are not UTF-8) names
/// nothing: it is answered as any unknown name is, not with the router's plain text.
fn segment<T: Default>(path: Result<Path<T>, PathRejection>) -> T {
    path.map(|Path(p)| p).unwrap_or_default()
}

/// Why an upload's form was not read.
enum Unread {
    /// The body is longer than [`UPLOAD_BODY_MAX`]: the file is too large.
    TooLarge,
    /// Not a multipart form, or a body that broke off.
    Malformed,
}

impl Unread {
    fn page(&self, rule: &FileRule) -> Response {
        match self {
            Unread::TooLarge => answer_with(StatusCode::PAYLOAD_TOO_LARGE, &rule.too_large(), Format::Html),
            Unread::Malformed => {
                error_page(&AppError::invalid("form", "the form could not be read; please send it again"))
            }
        }
    }
}

/// Reads every part of a multipart form: text fields, and a file up to its rule's limit.
/// A file over the limit is kept as its first `max + 1` bytes (the rest is read and
/// dropped), so the size check in the services names the problem.
async fn read_form(req: Request, rule: &FileRule) -> Result<(Vec<(String, String)>, Option<Upload>), Unread> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > UPLOAD_BODY_MAX as u64) {
        return Err(Unread::TooLarge);
    }
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|_| Unread::Malformed)?;
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { Unread::TooLarge } else { Unread::Malformed }
    };
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let mut data = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    if data.len() <= rule.max {
                        data.extend_from_slice(&chunk[..chunk.len().min(rule.max + 1 - data.len())]);
                    }
                }
                // An empty file input sends a part with no bytes: no file was chosen.
                if !data.is_empty() {
                    file = Some(Upload { file_name, data });
                }
            }
            None => {
                let text = field.text().await.map_err(failed)?;
                fields.push((name, text));
            }
        }
    }
    Ok((fields, file))
}

fn concern_form(fields: &[(String, String)]) -> ConcernForm {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let on = |k: &str| fields.iter().any(|(n, v)| n == k && !v.is_empty() && v != "false");
    ConcernForm {
        kind: get("kind"),
        person_name: get("person_name"),
        person_email: get("person_email"),
        person_handle: get("person_handle"),
        person_description: get("person_description"),
        narrative: get("narrative"),
        wish_escort: on("wish_escort"),
        escort_times: get("escort_times"),
        wish_told_on_arrival: on("wish_told_on_arrival"),
        wish_keep_distance: on("wish_keep_distance"),
        wish_staff_aware: on("wish_staff_aware"),
        shield_identity: on("shield_identity"),
        wish_other: get("wish_other"),
        contact_channel: get("contact_channel"),
        contact_detail: get("contact_detail"),
        witnesses: get("witnesses"),
        witness_details: get("witness_details"),
    }
}

/// `POST /events/{slug}/concern`: files the concern and shows the case, or returns to
/// the form with what was typed and what to fix.
pub async fn file_concern(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    slug: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let slug = segment(slug);
    let form_page = format!("/events/{slug}/concern");
    if actor.person_id().is_none() {
        return error_page(&AppError::Unauthenticated);
    }
    let Ok(event) = Slug::parse("slug", &slug) else {
        return error_page(&AppError::NotFound);
    };
    let (fields, photo) = match read_form(req, &PHOTO).await {
        Ok(parts) => parts,
        Err(e) => return e.page(&PHOTO),
    };
    match state.services.file_concern(&actor, &event, concern_form(&fields), photo).await {
        Ok(Filed::Case(reference)) => see_other(&format!("/cases/{reference}?filed=1")),
        Ok(Filed::Refused { draft, .. }) => see_other(&format!("{form_page}?draft={draft}")),
        Err(e) => error_page(&e),
    }
}

/// `POST /cases/{reference}/attachments`: the team adds a file. Who is asking is checked
/// before the body is read.
pub async fn add_attachment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    reference: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    // Who asks comes first: someone not signed in learns nothing about the name.
    if let Err(e) = actor.signed_in() {
        return error_page(&e);
    }
    let Ok(reference) = CaseReference::parse("reference", &segment(reference)) else {
        return error_page(&AppError::NotFound);
    };
    if let Err(e) = state.services.may_attach(&actor, &reference).await {
        return error_page(&e);
    }
    let (_, file) = match read_form(req, &EVIDENCE).await {
        Ok(parts) => parts,
        Err(e) => return e.page(&EVIDENCE),
    };
    let Some(file) = file else {
        return error_page(&AppError::invalid("file", "choose a file to attach"));
    };
    match state.services.add_attachment(&actor, &reference, file).await {
        Ok(()) => see_other(&format!("/cases/{reference}#attachments")),
        Err(e) => error_page(&e),
    }
}

/// `GET /cases/{reference}/attachments/{id}`: always a download, never shown inline.
pub async fn attachment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let (reference, id) = segment(path);
    if let Err(e) = actor.signed_in() {
        return error_page(&e);
    }
    let (Ok(reference), Ok(id)) = (CaseReference::parse("reference", &reference), Uuid::parse_str(&id)) else {
        return error_page(&AppError::NotFound);
    };
    match state.services.attachment(&actor, &reference, id).await {
        Ok(file) => {
            let ascii: String = file
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' })
                .collect();
            let disposition = format!("attachment; filename=\"{ascii}\"");
            let mut res = Response::new(Body::from(file.data));
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&file.content_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => error_page(&e),
    }
}
