//! Middleware every request passes.

use crate::config::{Settings, TrustedProxies};
use crate::services::Services;
use crate::services::auth::SESSION_COOKIE;
use crate::telemetry::Metrics;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use haven_app::api::Actor;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The per-response nonce that lets Leptos' inline hydration script run under the CSP.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request a fresh id (a client's own id is replaced: it could carry
/// anything), logs one line when it is answered, and counts it by route pattern.
pub async fn observe(State(metrics): State<Arc<Metrics>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let id_header = HeaderValue::from_str(&id).expect("hex is a valid header value");
    req.headers_mut().insert(X_REQUEST_ID.clone(), id_header.clone());
    let method = method_label(req.method());
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("request", request_id = %id, method, route = %route);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    metrics.record(method, &route, status, elapsed);
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request answered");
        }
    });
    res.headers_mut().insert(X_REQUEST_ID.clone(), id_header);
    res
}

/// The method as a metrics label and log field: the standard ones by name, any other
/// (a client may invent methods without end) as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Content Security Policy and the other protective headers, on every response.
///
/// Scripts: only our own files, the one inline hydration script carrying this response's
/// nonce, and WebAssembly compilation (`'wasm-unsafe-eval'`, which permits compiling wasm
/// and nothing else). No `'unsafe-eval'`, no `'unsafe-inline'`.
///
/// When the public URL is https, `Strict-Transport-Security` tells browsers to use only
/// https for a year (without `includeSubDomains`: other sites may share the domain).
pub async fn security_headers(State(services): State<Arc<Services>>, mut req: Request, next: Next) -> Response {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).expect("ascii policy"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Same-origin requests keep their referrer (no-JS forms return to the page they came
    // from); nothing leaves for other sites, so case URLs never leak.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    if services.public_url.starts_with("https://") {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    // Pages can hold personal data: never keep them in shared caches.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The value of one cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client's address: the socket's peer, or with trusted proxy headers the address
/// the trusted proxies say they were reached from (see [`forwarded_client`]).
fn client_ip(req: &Request, settings: &Settings) -> Option<IpAddr> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    if !settings.trust_proxy_headers {
        return peer;
    }
    // A proxy may append its own header line instead of extending the last one.
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded_client(&entries, peer, &settings.trusted_proxies).or(peer)
}

/// The client's address in `X-Forwarded-For` entries (left to right, as they arrived):
/// never an entry the client could have written itself. Each proxy appends the address it
/// was reached from, so only the entries added by trusted proxies, on the right, count.
/// `None` when the entries say nothing usable (then the peer is taken).
pub fn forwarded_client(entries: &[&str], peer: Option<IpAddr>, trusted: &TrustedProxies) -> Option<IpAddr> {
    let ip = |entry: &str| {
        entry
            .parse::<IpAddr>()
            .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
            .ok()
            .map(|ip| ip.to_canonical())
    };
    match trusted {
        TrustedProxies::Count(n) => ip(entries.get(entries.len().saturating_sub(*n))?),
        TrustedProxies::Networks(networks) => {
            let is_proxy = |a: IpAddr| networks.iter().any(|n| n.contains(a));
            // Headers from anyone but a trusted proxy are the client's own words.
            if !peer.is_some_and(is_proxy) {
                return None;
            }
            let mut farthest = None;
            for entry in entries.iter().rev() {
                let a = ip(entry)?;
                if !is_proxy(a) {
                    return Some(a);
                }
                farthest = Some(a);
            }
            farthest
        }
    }
}

/// Resolves who is asking from the session cookie, and an opaque key for where from.
pub async fn resolve_actor(State(services): State<Arc<Services>>, mut req: Request, next: Next) -> Response {
    let mut actor = Actor {
        session: None,
        client: client_ip(&req, &services.settings).map(|ip| services.client_key(ip)).unwrap_or_default(),
    };
    if let Some(token) = cookie(req.headers(), SESSION_COOKIE) {
        match services.resolve_session(token).await {
            Ok(session) => actor.session = session,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "please try again shortly\n").into_response();
            }
        }
    }
    req.extensions_mut().insert(actor);
    next.run(req).await
}

/// Refuses state-changing requests that a browser sent from another site.
///
/// Browsers label every request with `Sec-Fetch-Site` and every POST with `Origin`; a
/// request from this site's own pages passes, one from elsewhere is refused. Requests that
/// carry neither header come from non-browser clients and pass only without a session
/// cookie (door devices use bearer tokens). Session cookies are also `SameSite=Lax`.
pub async fn csrf(State(services): State<Arc<Services>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let allowed = if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        matches!(site, "same-origin" | "none")
    } else if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        origin == services.public_url || origin == format!("http://{host}") || origin == format!("https://{host}")
    } else {
        cookie(headers, SESSION_COOKIE).is_none()
    };
    if allowed { next.run(req).await } else { (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response() }
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;
    use crate::config::{Network, TrustedProxies};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_entries_added_by_trusted_proxies_name_the_client() {
        let one = TrustedProxies::Count(1);
        let forged = ["6.6.6.6", "203.0.113.7"];
        assert_eq!(forwarded_client(&forged, Some(ip("10.0.0.1")), &one), Some(ip("203.0.113.7")));
        let two = TrustedProxies::Count(2);
        assert_eq!(forwarded_client(&["6.6.6.6", "203.0.113.7", "10.0.0.2"], None, &two), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_client(&["203.0.113.7"], None, &two), Some(ip("203.0.113.7")), "fewer hops than proxies");
        assert_eq!(forwarded_client(&[], None, &one), None);
        assert_eq!(forwarded_client(&["6.6.6.6", "garbage"], None, &one), None, "the proxy's entry is unreadable");
        assert_eq!(forwarded_client(&["[2001:db8::1]:443"], None, &one), Some(ip("2001:db8::1")));

        let nets = TrustedProxies::Networks(vec![Network::parse("10.0.0.0/8").unwrap()]);
        let chain = ["6.6.6.6", "203.0.113.7", "10.0.0.2"];
        assert_eq!(forwarded_client(&chain, Some(ip("10.0.0.1")), &nets), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_client(&chain, Some(ip("::ffff:10.0.0.1")), &nets), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_client(&chain, Some(ip("192.0.2.1")), &nets), None, "not from a trusted proxy");
        assert_eq!(forwarded_client(&["10.0.0.3"], Some(ip("10.0.0.1")), &nets), Some(ip("10.0.0.3")));
        assert_eq!(forwarded_client(&["garbage", "10.0.0.3"], Some(ip("10.0.0.1")), &nets), None);
    }
}
