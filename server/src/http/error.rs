//! The one way an [`AppError`] becomes an HTTP answer, for the routes outside the server
//! functions (those answer JSON through `FromServerFnError`). The status comes from the
//! error; the body is JSON, a small HTML page or a line of plain text, by what the request
//! asked for (`Accept`) or, when it did not say, by what the route serves: the device API
//! JSON, the form posts a page, files and feeds a line of text. Every route that refuses
//! answers through here, so a denial and a miss look alike wherever they happen.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haven_app::api::AppError;

/// What an error's body is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
    Text,
}

impl Format {
    /// What the request asked for; `default` (what the route serves) when it did not say.
    pub fn asked(headers: &HeaderMap, default: Format) -> Format {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        if accept.contains("application/json") {
            Format::Json
        } else if accept.contains("text/html") {
            Format::Html
        } else if accept.contains("text/plain") {
            Format::Text
        } else {
            default
        }
    }
}

/// The words a person reads for an error (a page or a line of text).
fn words(err: &AppError) -> String {
    match err {
        AppError::NotFound => "There is nothing here, or it is not yours to see.".to_owned(),
        AppError::Unauthenticated => "You are not signed in (any more). Please sign in and try again.".to_owned(),
        other => other.to_string(),
    }
}

/// Answers `err` as `format`, with the error's status.
pub fn answer(err: &AppError, format: Format) -> Response {
    answer_with(StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), err, format)
}

/// Answers `err` as `format` with another status (413 for a body over the upload limit,
/// told in the words of the field's own limit).
pub fn answer_with(status: StatusCode, err: &AppError, format: Format) -> Response {
    let mut res = match format {
        Format::Json => (status, axum::Json(serde_json::to_value(err).unwrap_or_default())).into_response(),
        Format::Html => page(status, &words(err)),
        Format::Text => {
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", words(err))).into_response()
        }
    };
    if status == StatusCode::UNAUTHORIZED && format == Format::Json {
        // The device API's clients authenticate with a bearer token.
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// A small page saying what went wrong, with a way back (for plain form posts). The page
/// links the stylesheet by its plain name; the router's `assets::plain_pages` writes it
/// again with the built site's name for it, which it finds in the `PlainPage` it carries.
fn page(status: StatusCode, text: &str) -> Response {
    let mut res = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], plain_page(text, "/pkg/haven.css"))
        .into_response();
    res.extensions_mut().insert(PlainPage(text.to_owned()));
    res
}

/// The words of a plain error page, for the layer that knows the stylesheet's name.
#[derive(Debug, Clone)]
pub struct PlainPage(pub String);

/// The plain error page around `text`.
pub fn plain_page(text: &str, stylesheet: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Haven</title>\
         <link rel=\"stylesheet\" href=\"{stylesheet}\"></head><body><main class=\"page\">\
         <section class=\"panel error\" role=\"alert\"><p>{escaped}</p><p><a href=\"javascript:history.back()\">Back</a></p>\
         </section></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_format_is_what_was_asked_or_else_what_the_route_serves() {
        assert_eq!(Format::asked(&HeaderMap::new(), Format::Text), Format::Text);
        assert_eq!(Format::asked(&accept("*/*"), Format::Json), Format::Json);
        assert_eq!(
            Format::asked(&accept("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"), Format::Text),
            Format::Html
        );
        assert_eq!(Format::asked(&accept("application/json"), Format::Html), Format::Json);
        assert_eq!(Format::asked(&accept("text/plain"), Format::Json), Format::Text);
    }

    #[tokio::test]
    async fn each_format_carries_the_status_and_the_same_words() {
        let body = |res: Response| async move {
            let bytes = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let missing = answer(&AppError::NotFound, Format::Text);
        assert_eq!(missing.status(), 404);
        assert_eq!(body(missing).await, "There is nothing here, or it is not yours to see.\n");
        let page = answer(&AppError::invalid("file", "choose a <file>"), Format::Html);
        assert_eq!(page.status(), 422);
        assert!(body(page).await.contains("file: choose a &lt;file&gt;"));
        let json = answer(&AppError::Unauthenticated, Format::Json);
        assert_eq!(json.status(), 401);
        assert_eq!(json.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body(json).await, r#"{"error":"unauthenticated"}"#);
        let text = answer(&AppError::Unauthenticated, Format::Text);
        assert!(!text.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
