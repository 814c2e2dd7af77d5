//! Signing in with OpenID Connect providers: authorization code flow with PKCE, a `state`
//! bound to the browser by a short-lived cookie, and the person's claims from the
//! provider's userinfo endpoint (fetched over the back channel with the access token).
//! The ID token that comes with the access token is read for one thing only, its `amr`
//! (did the provider check several factors?), which counts where an organization accepts
//! it; it comes straight from the token endpoint over the back channel, where OpenID
//! Connect lets TLS stand for its signature, and its issuer, audience and subject must
//! match. No nonce is asked for: nothing else of it is used. The discovery document must
//! name the configured issuer, and every answer from a provider is read up to
//! [`PROVIDER_ANSWER_MAX`] bytes, no further.

use super::auth::{EMAIL_PROVIDER, link_identity, person_for_email};
use super::return_to::safe_return_to;
use super::{Services, audit};
use crate::config::OidcProviderSettings;
use crate::crypto::{hash_token, looks_like_token, random_token};
use crate::db::entities::{identity, oidc_flow, person};
use chrono::Duration;
use haven_app::api::{Actor, AppError, SecondFactorProof, SetCookie};
use haven_app::domain::{DisplayName, EmailAddress};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

pub const FLOW_COOKIE: &str = "haven_oidc";
const FLOW_LIFETIME: Duration = Duration::minutes(10);
/// The most a provider may send in one answer (discovery, token, userinfo): real ones are
/// a few kilobytes.
pub const PROVIDER_ANSWER_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    email_verified: bool,
    name: Option<String>,
    preferred_username: Option<String>,
}

/// Some providers send `"true"` as a string.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => s == "true",
        _ => false,
    })
}

/// The configured providers, with their discovery documents cached for an hour.
pub struct Providers {
    list: Vec<OidcProviderSettings>,
    cache: Mutex<HashMap<String, (Discovery, Instant)>>,
    http: reqwest::Client,
}

impl Providers {
    pub fn new(list: Vec<OidcProviderSettings>) -> Providers {
        let http = reqwest::Client::builder()
            // Never follow redirects from a provider's back channel (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("an HTTP client with default TLS builds");
        Providers { list, cache: Mutex::default(), http }
    }

    pub fn all(&self) -> &[OidcProviderSettings] {
        &self.list
    }

    fn get(&self, id: &str) -> Option<&OidcProviderSettings> {
        self.list.iter().find(|p| p.id == id)
    }

    async fn discovery(&self, p: &OidcProviderSettings) -> Result<Discovery, AppError> {
        if let Some((d, at)) = self.cache.lock().expect("discovery cache").get(&p.id)
            && at.elapsed() < std::time::Duration::from_secs(3600)
        {
            return Ok(d.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", p.issuer.trim_end_matches('/'));
        let d: Discovery = get_json(self.http.get(&url)).await.map_err(|e| {
            tracing::error!(provider = %p.id, error = %e, "OIDC discovery failed");
            AppError::Conflict("the sign-in provider is not answering; please try again later".into())
        })?;
        // A document naming another issuer is not this provider's (a mix-up or a forgery).
        if d.issuer.trim_end_matches('/') != p.issuer.trim_end_matches('/') {
            tracing::error!(provider = %p.id, "OIDC discovery names another issuer than the configured one");
            return Err(AppError::Conflict("the sign-in provider is misconfigured".into()));
        }
        self.cache.lock().expect("discovery cache").insert(p.id.clone(), (d.clone(), Instant::now()));
        Ok(d)
    }
}

/// An error of a provider's back channel, as text (never shown to people).
#[derive(Debug)]
struct ProviderError(String);

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProviderError {}

/// A provider's answer body, refused past [`PROVIDER_ANSWER_MAX`] bytes.
async fn read_bounded(mut res: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_large = || format!("the answer is larger than {PROVIDER_ANSWER_MAX} bytes");
    if res.content_length().is_some_and(|n| n > PROVIDER_ANSWER_MAX as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > PROVIDER_ANSWER_MAX {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn get_json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, String> {
    let res = request.send().await.map_err(|e| e.to_string())?.error_for_status().map_err(|e| e.to_string())?;
    serde_json::from_slice(&read_bounded(res).await?).map_err(|e| e.to_string())
}

/// The token exchange's HTTP, with the answer bounded like the others.
async fn exchange_bounded(
    http: reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, ProviderError> {
    let request: reqwest::Request = request.try_into().map_err(|e: reqwest::Error| ProviderError(e.to_string()))?;
    let res = http.execute(request).await.map_err(|e| ProviderError(e.to_string()))?;
    let mut answer = http::Response::builder().status(res.status());
    for (name, value) in res.headers() {
        answer = answer.header(name, value);
    }
    let body = read_bounded(res).await.map_err(ProviderError)?;
    answer.body(body).map_err(|e| ProviderError(e.to_string()))
}

/// The token endpoint's answer, with the ID token kept.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
struct IdTokenField {
    #[serde(default)]
    id_token: Option<String>,
}

impl oauth2::ExtraTokenFields for IdTokenField {}

type TokenAnswer = oauth2::StandardTokenResponse<IdTokenField, oauth2::basic::BasicTokenType>;

/// What Haven reads of an ID token.
#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    aud: serde_json::Value,
    sub: String,
    #[serde(default)]
    amr: Vec<String>,
}

/// Whether the ID token (from the token endpoint) says the provider checked several
/// factors for this subject: `amr` holds `mfa` (RFC 8176). Anything unreadable or not
/// matching says no.
fn provider_checked_factors(id_token: Option<&str>, issuer: &str, client_id: &str, subject: &str) -> bool {
    use base64::Engine as _;
    let Some(payload) = id_token.and_then(|t| t.split('.').nth(1)) else {
        return false;
    };
    let Ok(json) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<IdClaims>(&json) else {
        return false;
    };
    let audience = match &claims.aud {
        serde_json::Value::String(a) => a == client_id,
        serde_json::Value::Array(all) => all.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    claims.iss.trim_end_matches('/') == issuer.trim_end_matches('/')
        && audience
        && claims.sub == subject
        && claims.amr.iter().any(|m| m == "mfa")
}

/// An OAuth2 client with its authorization and token endpoints set.
type ConfiguredClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    TokenAnswer,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(p: &OidcProviderSettings, d: &Discovery, redirect: String) -> Result<ConfiguredClient, AppError> {
    let bad = |what: &str| {
        tracing::error!(provider = %p.id, what, "OIDC provider published an unusable URL");
        AppError::Conflict("the sign-in provider is misconfigured".into())
    };
    Ok(oauth2::Client::new(ClientId::new(p.client_id.clone()))
        .set_client_secret(ClientSecret::new(p.client_secret.expose().clone()))
        .set_auth_uri(AuthUrl::new(d.authorization_endpoint.clone()).map_err(|_| bad("authorization_endpoint"))?)
        .set_token_uri(TokenUrl::new(d.token_endpoint.clone()).map_err(|_| bad("token_endpoint"))?)
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(|_| bad("redirect"))?))
}

impl Services {
    fn redirect_uri(&self, provider: &str) -> String {
        format!("{}/auth/oidc/{provider}/callback", self.public_url)
    }

    fn flow_cookie(&self, value: &str, max_age: i64) -> SetCookie {
        let secure = if self.public_url.starts_with("https://") { "; Secure" } else { "" };
        SetCookie(format!("{FLOW_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
    }

    /// Begins a sign-in: returns where to send the browser and the cookie that binds the
    /// flow to it.
    pub async fn oidc_start(&self, provider: &str, return_to: Option<&str>) -> Result<(String, SetCookie), AppError> {
        let p = self.oidc.get(provider).ok_or(AppError::NotFound)?;
        let d = self.oidc.discovery(p).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token();
        let state_for_url = state.clone();
        let (url, _) = client(p, &d, self.redirect_uri(provider))?
            .authorize_url(move || CsrfToken::new(state_for_url))
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let tx = self.begin().await?;
        let now = tx.now;
        oidc_flow::Entity::insert(oidc_flow::ActiveModel {
            id: Set(Uuid::new_v4()),
            state_hash: Set(hash_token(&state)),
            provider: Set(provider.to_owned()),
            pkce_verifier: Set(verifier.secret().clone()),
            // No ID token is read, so there is no nonce to check (the column stays empty).
            nonce: Set(String::new()),
            return_to: Set(safe_return_to(&self.public_url, return_to)),
            created_at: Set(now),
            expires_at: Set(now + FLOW_LIFETIME),
            used_at: Set(None),
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        Ok((url.to_string(), self.flow_cookie(&state, FLOW_LIFETIME.num_seconds())))
    }

    /// Finishes a sign-in: checks the state against the browser's cookie, exchanges the
    /// code, reads the claims, finds or creates the person and starts a session. Returns
    /// the session cookie, the cookie clearing the flow, and where to go.
    pub async fn oidc_finish(
        &self,
        actor: &Actor,
        provider: &str,
        code: &str,
        state: &str,
        cookie_state: Option<&str>,
    ) -> Result<(SetCookie, SetCookie, String), AppError> {
        let refused = || AppError::invalid("state", "this sign-in attempt is not valid any more; please start again");
        let p = self.oidc.get(provider).ok_or(AppError::NotFound)?;
        if !looks_like_token(state) || cookie_state != Some(state) || code.is_empty() || code.len() > 2048 {
            return Err(refused());
        }
        let now = self.clock.now();
        // Use the flow up before anything else, so a replayed callback finds it spent.
        let tx = self.begin().await?;
        let flow = oidc_flow::Entity::find()
            .filter(oidc_flow::Column::StateHash.eq(hash_token(state)))
            .one(&*tx)
            .await?
            .ok_or_else(refused)?;
        if flow.used_at.is_some() || flow.expires_at <= now || flow.provider != provider {
            return Err(refused());
        }
        // Spent: nothing of it is kept (its verifier is in hand for the exchange below).
        let gone =
            oidc_flow::Entity::delete_many().filter(oidc_flow::Column::Id.eq(flow.id)).exec(&*tx).await?.rows_affected;
        if gone != 1 {
            return Err(refused());
        }
        tx.commit().await?;

        let d = self.oidc.discovery(p).await?;
        let provider_failed = |what: &'static str| {
            move |e: String| {
                tracing::warn!(provider = %p.id, what, error = %e, "OIDC sign-in failed at the provider");
                AppError::Conflict("the sign-in provider refused the sign-in; please start again".into())
            }
        };
        let http = self.oidc.http.clone();
        let exchange = move |request| exchange_bounded(http.clone(), request);
        let token = client(p, &d, self.redirect_uri(provider))?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&exchange)
            .await
            .map_err(|e| e.to_string())
            .map_err(provider_failed("token"))?;
        let info: UserInfo =
            get_json(self.oidc.http.get(&d.userinfo_endpoint).bearer_auth(token.access_token().secret()))
                .await
                .map_err(provider_failed("userinfo"))?;
        if info.sub.is_empty() || info.sub.len() > 255 {
            return Err(provider_failed("subject")("empty or overlong subject".into()));
        }

        let proof =
            provider_checked_factors(token.extra_fields().id_token.as_deref(), &d.issuer, &p.client_id, &info.sub)
                .then_some(SecondFactorProof::Provider);

        let tx = self.begin().await?;
        let now = tx.now;
        let person_id = self.person_for_claims(&tx, now, &p.issuer, &info).await?;
        let cookie = self.start_session(&tx, person_id, actor.session.as_ref(), now, proof).await?;
        tx.commit().await?;
        // Checked again: a flow begun before this check existed may hold anything.
        let next = safe_return_to(&self.public_url, Some(&flow.return_to));
        let next = super::second_factor::after_signin(&self.store.db, person_id, proof, next).await?;
        Ok((cookie, self.flow_cookie("", 0), next))
    }

    /// The person a provider's claims belong to: by the linked identity; else by a
    /// verified e-mail address; else a new person.
    async fn person_for_claims(
        &self,
        tx: &crate::services::work::Work<'_>,
        now: chrono::DateTime<chrono::Utc>,
        issuer: &str,
        info: &UserInfo,
    ) -> Result<Uuid, sea_orm::DbErr> {
        if let Some(existing) = identity::Entity::find()
            .filter(identity::Column::Provider.eq(issuer))
            .filter(identity::Column::Subject.eq(&info.sub))
            .one(&**tx)
            .await?
        {
            return Ok(existing.person_id);
        }
        let email =
            info.email.as_deref().filter(|_| info.email_verified).and_then(|e| EmailAddress::parse("email", e).ok());
        let raw_name = info.name.as_deref().or(info.preferred_username.as_deref()).unwrap_or("");
        let person_id = match &email {
            Some(email) => {
                let name = DisplayName::parse("name", raw_name)
                    .or_else(|_| DisplayName::parse("name", email.as_str().split('@').next().unwrap_or("")))
                    .unwrap_or_else(|_| DisplayName::parse("name", "Haven user").expect("a valid name"));
                let (p, _) = person_for_email(tx, now, None, &name, email).await?;
                link_identity(tx, now, p.id, EMAIL_PROVIDER, &email.normalized()).await?;
                p.id
            }
            None => {
                let name = DisplayName::parse("name", raw_name)
                    .unwrap_or_else(|_| DisplayName::parse("name", "Haven user").expect("a valid name"));
                let p = person::Model {
                    id: Uuid::new_v4(),
                    display_name: name.as_str().to_owned(),
                    email: None,
                    email_normalized: None,
                    created_at: now,
                    phone: None,
                };
                person::Entity::insert(person::ActiveModel::from(p.clone())).exec(&**tx).await?;
                tx.audit(vec![audit::Entry::new(None, "person.created", "person", p.id)]).await?;
                p.id
            }
        };
        link_identity(tx, now, person_id, issuer, &info.sub).await?;
        Ok(person_id)
    }
}

#[cfg(test)]
mod tests {
    use super::provider_checked_factors;
    use base64::Engine as _;

    fn id_token(claims: serde_json::Value) -> String {
        let part = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.signature", part(&serde_json::json!({"alg": "RS256"})), part(&claims))
    }

    #[test]
    fn only_a_matching_id_token_that_names_mfa_counts_as_a_second_factor() {
        let token = |amr: serde_json::Value, aud: serde_json::Value, sub: &str| {
            id_token(serde_json::json!({"iss": "https://id.example/", "aud": aud, "sub": sub, "amr": amr}))
        };
        let yes = token(serde_json::json!(["pwd", "mfa"]), serde_json::json!("haven"), "s1");
        assert!(provider_checked_factors(Some(&yes), "https://id.example", "haven", "s1"));
        let listed = token(serde_json::json!(["mfa"]), serde_json::json!(["other", "haven"]), "s1");
        assert!(provider_checked_factors(Some(&listed), "https://id.example", "haven", "s1"));
        let password = token(serde_json::json!(["pwd"]), serde_json::json!("haven"), "s1");
        assert!(!provider_checked_factors(Some(&password), "https://id.example", "haven", "s1"));
        assert!(!provider_checked_factors(Some(&yes), "https://other.example", "haven", "s1"), "another issuer");
        assert!(!provider_checked_factors(Some(&yes), "https://id.example", "someone-else", "s1"), "another client");
        assert!(!provider_checked_factors(Some(&yes), "https://id.example", "haven", "s2"), "another subject");
        assert!(!provider_checked_factors(Some("not a token"), "https://id.example", "haven", "s1"));
        assert!(!provider_checked_factors(None, "https://id.example", "haven", "s1"));
    }
}
