//! The built site's assets under `/pkg`: the wasm, its JavaScript and the stylesheet.
//!
//! cargo-leptos names them after their content (`hash-files`, e.g. `haven.Xy3….wasm`) and
//! writes the names to `pkg/hash.txt`; a release build with `--precompress` also writes a
//! brotli (`.br`) and a gzip (`.gz`) copy of each. Haven serves the copy the browser
//! accepts (tower-http's `ServeDir`, by `Accept-Encoding`), and a file named after its
//! content for a year without asking again: a new release has new names. Anything else
//! under `/pkg` is served `no-cache`; pages are `no-store` (see `middleware`).

use super::error::{PlainPage, plain_page};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// What a file named after its content is sent with.
const FOR_A_YEAR: &str = "public, max-age=31536000, immutable";

/// The names of the site's assets, read once at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assets {
    /// `pkg/hash.txt`, when the site was built with hashed names.
    pub hash_file: Option<PathBuf>,
    /// The stylesheet's path, e.g. `/pkg/haven.Xy3….css`.
    stylesheet: String,
    /// The paths of the JavaScript, the wasm and the stylesheet every page loads.
    files: Vec<String>,
}

impl Assets {
    /// Reads `pkg/hash.txt` of the site (lines `js: <hash>`, `wasm: <hash>`, `css: <hash>`).
    /// Without it (a site built without hashes, or not built), the plain names.
    pub fn load(site_root: &Path) -> Assets {
        let hash_file = site_root.join("pkg").join("hash.txt");
        let text = std::fs::read_to_string(&hash_file).ok();
        let hash_of = |ext: &str| {
            let lines = text.iter().flat_map(|t| t.lines()).filter_map(|line| line.split_once(':'));
            lines.filter(|(e, _)| e.trim() == ext).map(|(_, hash)| hash.trim().to_owned()).next()
        };
        let path = |ext: &str| match hash_of(ext) {
            Some(hash) => format!("/pkg/haven.{hash}.{ext}"),
            None => format!("/pkg/haven.{ext}"),
        };
        Assets {
            stylesheet: path("css"),
            files: ["js", "wasm", "css"].into_iter().map(path).collect(),
            hash_file: text.map(|_| std::path::absolute(&hash_file).unwrap_or(hash_file)),
        }
    }

    /// The stylesheet's path, for pages Haven writes without Leptos.
    pub fn stylesheet(&self) -> &str {
        &self.stylesheet
    }

    /// Whether `/pkg/<name>` is named after its content, as cargo-leptos names what it
    /// hashes (`haven.<hash>.wasm`, and with `--split` each `chunk_<n>.<hash>.wasm`, the
    /// `__wasm_split.<hash>.js` loader and its manifest): a stem, 22 characters of
    /// base64url (an MD5), and an extension. Nothing so named exists without hashing.
    pub fn is_hashed(&self, name: &str) -> bool {
        let mut parts = name.rsplitn(3, '.');
        let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        self.hash_file.is_some()
            && !stem.is_empty()
            && hash.len() == 22
            && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

/// `/door-sw.js`: the door page's service worker (`door-sw.js`, read it first), told
/// which release is running and which files it is made of.
pub async fn door_worker(axum::extract::State(state): axum::extract::State<super::AppState>) -> Response {
    let assets = &state.assets;
    let release = assets.files.iter().map(|f| f.rsplit('/').next().unwrap_or_default()).collect::<Vec<_>>().join("+");
    let head = format!(
        "const RELEASE = {};\nconst ASSETS = {};\n",
        serde_json::Value::from(release),
        serde_json::Value::from(assets.files.clone())
    );
    let mut res = Response::new(Body::from(head + include_str!("door-sw.js")));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `/pkg`: the precompressed copy the browser accepts, or the file itself.
pub fn service(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip()
}

/// Sets how long a browser keeps what `/pkg` sent: a year for a file named after its
/// content, otherwise it asks again each time.
pub async fn cache_control(assets: axum::extract::State<Arc<Assets>>, req: Request, next: Next) -> Response {
    let name = req.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
    let mut res = next.run(req).await;
    let value = if res.status().is_success() && assets.is_hashed(&name) { FOR_A_YEAR } else { "no-cache" };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

/// Writes Haven's plain error pages (`error::PlainPage`) with the stylesheet's built name.
pub async fn plain_pages(assets: axum::extract::State<Arc<Assets>>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Some(PlainPage(text)) = res.extensions_mut().remove::<PlainPage>() {
        res.headers_mut().remove(header::CONTENT_LENGTH);
        *res.body_mut() = Body::from(plain_page(&text, assets.stylesheet()));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_come_from_the_hash_file_and_plain_names_without_one() {
        let dir = std::env::temp_dir().join(format!("haven-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        assert_eq!(Assets::load(&dir).stylesheet(), "/pkg/haven.css");
        assert_eq!(Assets::load(&dir).files, ["/pkg/haven.js", "/pkg/haven.wasm", "/pkg/haven.css"]);
        assert!(!Assets::load(&dir).is_hashed("haven.css"));

        assert!(!Assets::load(&dir).is_hashed("haven.C0oMeiMplb2C995q3rW4Ag.css"), "no hashing, no hashed names");

        std::fs::write(dir.join("pkg/hash.txt"), "js: 23q9kU2jC5Ijt6hOZSGE5A\ncss: C0oMeiMplb2C995q3rW4Ag\n").unwrap();
        let assets = Assets::load(&dir);
        assert_eq!(assets.stylesheet(), "/pkg/haven.C0oMeiMplb2C995q3rW4Ag.css");
        for name in [
            "haven.23q9kU2jC5Ijt6hOZSGE5A.js",
            "chunk_23.kbAIASUF_HfAMqy_jCnOng.wasm",
            "__wasm_split.kenESgoJrsadjkkQF8ZkeQ.js",
        ] {
            assert!(assets.is_hashed(name), "{name}");
        }
        for name in [
            "haven.js",
            "haven.wasm",
            "hash.txt",
            "haven.short.wasm",
            ".23q9kU2jC5Ijt6hOZSGE5A.js",
            "haven.23q9kU2jC5Ijt6hOZSGE5!.js",
        ] {
            assert!(!assets.is_hashed(name), "{name}");
        }
        assert!(assets.hash_file.as_ref().is_some_and(|p| p.is_absolute()));
        let names =
            ["/pkg/haven.23q9kU2jC5Ijt6hOZSGE5A.js", "/pkg/haven.wasm", "/pkg/haven.C0oMeiMplb2C995q3rW4Ag.css"];
        assert_eq!(assets.files, names, "a kind the hash file leaves out keeps its plain name");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
