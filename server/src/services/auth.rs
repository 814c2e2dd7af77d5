//! Sessions, sign-in links, and the one person behind several sign-in identities.

use super::{Services, audit, ratelimit};
use crate::crypto::{hash_token, looks_like_token, random_token};
use crate::db::entities::{email_confirmation, identity, login_link, person, session, signin_request};
use crate::mail::templates;
use chrono::{DateTime, Duration, Utc};
use haven_app::api::SigninApi;
use haven_app::api::{Actor, ActorSession, AppError, SecondFactorProof, SetCookie};
use haven_app::domain::{DisplayName, EmailAddress};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "haven_session";
/// Identities made by e-mail links use this provider name; the subject is the normalized
/// address.
pub const EMAIL_PROVIDER: &str = "email";
pub const LINK_LIFETIME: Duration = Duration::minutes(15);
/// How long a link confirming a further address works.
const CONFIRM_LIFETIME: Duration = Duration::hours(1);

impl Services {
    fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn session_cookie(&self, token: &str) -> SetCookie {
        let secure = if self.secure_cookies() { "; Secure" } else { "" };
        SetCookie(format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.settings.session_max.as_secs()
        ))
    }

    pub fn clear_session_cookie(&self) -> SetCookie {
        let secure = if self.secure_cookies() { "; Secure" } else { "" };
        SetCookie(format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"))
    }

    /// The session a cookie token stands for, if it is live. Refreshes its idle timer at
    /// most once a minute.
    pub async fn resolve_session(&self, token: &str) -> Result<Option<ActorSession>, DbErr> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        let now = self.clock.now();
        let Some(s) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(hash_token(token)))
            .one(&self.store.db)
            .await?
        else {
            return Ok(None);
        };
        let idle = Duration::from_std(self.settings.session_idle).unwrap_or(Duration::hours(8));
        if s.revoked_at.is_some() || s.expires_at <= now || s.last_seen_at + idle <= now {
            return Ok(None);
        }
        if now - s.last_seen_at > Duration::minutes(1) {
            let tx = self.begin().await?;
            session::Entity::update(session::ActiveModel {
                id: Set(s.id),
                last_seen_at: Set(now),
                ..Default::default()
            })
            .exec(&*tx)
            .await?;
            tx.commit().await?;
        }
        Ok(Some(ActorSession {
            person_id: s.person_id,
            session_id: s.id,
            second_factor: s.second_factor.as_deref().and_then(SecondFactorProof::parse),
        }))
    }

    /// Starts a new session for `person` (ending the caller's current one: sessions are
    /// rotated at every sign-in) and returns its cookie. `proof` is a second factor the
    /// sign-in itself passed (a provider's multi-factor claim), if any.
    pub async fn start_session(
        &self,
        tx: &crate::services::work::Work<'_>,
        person: Uuid,
        replacing: Option<&ActorSession>,
        now: DateTime<Utc>,
        proof: Option<SecondFactorProof>,
    ) -> Result<SetCookie, DbErr> {
        if let Some(old) = replacing {
            revoke_where(tx, session::Column::Id.eq(old.session_id), now).await?;
        }
        let token = random_token();
        let max = Duration::from_std(self.settings.session_max).unwrap_or(Duration::days(7));
        session::Entity::insert(session::ActiveModel {
            id: Set(Uuid::new_v4()),
            token_hash: Set(hash_token(&token)),
            person_id: Set(person),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + max),
            revoked_at: Set(None),
            second_factor: Set(proof.map(|p| p.as_str().to_owned())),
        })
        .exec(&**tx)
        .await?;
        Ok(self.session_cookie(&token))
    }

    /// Turns pending sign-in requests into links for the addresses Haven knows. Unknown
    /// addresses get nothing. Returns how many requests it handled.
    pub async fn dispatch_signin_requests(&self) -> Result<usize, DbErr> {
        let pending = signin_request::Entity::find()
            .filter(signin_request::Column::ProcessedAt.is_null())
            .order_by_asc(signin_request::Column::CreatedAt)
            .limit(50)
            .all(&self.store.db)
            .await?;
        let count = pending.len();
        for request in pending {
            let tx = self.begin().await?;
            let now = tx.now;
            // Claimed by deleting it: once handled, no typed address is kept.
            let done = signin_request::Entity::delete_many()
                .filter(signin_request::Column::Id.eq(request.id))
                .filter(signin_request::Column::ProcessedAt.is_null())
                .exec(&*tx)
                .await?
                .rows_affected;
            if done == 1
                && request.created_at + LINK_LIFETIME > now
                && let Some(p) = person_by_address(&*tx, &request.email_normalized).await?
            {
                let token = create_login_link_to(&tx, p.id, now, &request.return_to).await?;
                let link = format!("{}/auth/link/{token}", self.public_url);
                tx.mail(templates::signin_link(&request.email, &link)).await?;
            }
            tx.commit().await?;
        }
        Ok(count)
    }
}

/// Makes a one-time sign-in link token for a person, valid for 15 minutes; after signing
/// in it leads to `/me`.
pub async fn create_login_link(
    tx: &crate::services::work::Work<'_>,
    person: Uuid,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    create_login_link_to(tx, person, now, "/me").await
}

/// A sign-in link that leads to `return_to` (a path on this site) after signing in.
pub async fn create_login_link_to(
    tx: &crate::services::work::Work<'_>,
    person: Uuid,
    now: DateTime<Utc>,
    return_to: &str,
) -> Result<String, DbErr> {
    let token = random_token();
    login_link::Entity::insert(login_link::ActiveModel {
        id: Set(Uuid::new_v4()),
        token_hash: Set(hash_token(&token)),
        person_id: Set(person),
        created_at: Set(now),
        expires_at: Set(now + LINK_LIFETIME),
        used_at: Set(None),
        return_to: Set(return_to.to_owned()),
    })
    .exec(&**tx)
    .await?;
    Ok(token)
}

async fn revoke_where(
    tx: &crate::services::work::Work<'_>,
    which: sea_orm::sea_query::SimpleExpr,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(which)
        .filter(session::Column::RevokedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(())
}

/// Links a sign-in identity to a person (idempotent). Audited when new.
pub async fn link_identity(
    tx: &crate::services::work::Work<'_>,
    now: DateTime<Utc>,
    person_id: Uuid,
    provider: &str,
    subject: &str,
) -> Result<(), DbErr> {
    let existing = identity::Entity::find()
        .filter(identity::Column::Provider.eq(provider))
        .filter(identity::Column::Subject.eq(subject))
        .one(&**tx)
        .await?;
    if existing.is_none() {
        let id = Uuid::new_v4();
        identity::Entity::insert(identity::ActiveModel {
            id: Set(id),
            person_id: Set(person_id),
            provider: Set(provider.to_owned()),
            subject: Set(subject.to_owned()),
            created_at: Set(now),
        })
        .exec(&**tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(Some(person_id), "identity.linked", "person", person_id).with("identity", id.to_string()),
        ])
        .await?;
    }
    Ok(())
}

/// The person with this address (by normalized form), created if there is none.
/// Returns the person and whether it was created.
pub async fn person_for_email(
    tx: &crate::services::work::Work<'_>,
    now: DateTime<Utc>,
    actor: Option<Uuid>,
    name: &DisplayName,
    email: &EmailAddress,
) -> Result<(person::Model, bool), DbErr> {
    if let Some(p) = person_by_address(&**tx, &email.normalized()).await? {
        return Ok((p, false));
    }
    let p = person::Model {
        id: Uuid::new_v4(),
        display_name: name.as_str().to_owned(),
        email: Some(email.as_str().to_owned()),
        email_normalized: Some(email.normalized()),
        created_at: now,
        phone: None,
    };
    person::Entity::insert(person::ActiveModel::from(p.clone())).exec(&**tx).await?;
    tx.audit(vec![audit::Entry::new(actor, "person.created", "person", p.id)]).await?;
    Ok((p, true))
}

/// The person a (normalized) address belongs to: their main address, or a further one
/// they confirmed.
pub async fn person_by_address(db: &impl ConnectionTrait, normalized: &str) -> Result<Option<person::Model>, DbErr> {
    if let Some(p) = person::Entity::find().filter(person::Column::EmailNormalized.eq(normalized)).one(db).await? {
        return Ok(Some(p));
    }
    let Some(i) = identity::Entity::find()
        .filter(identity::Column::Provider.eq(EMAIL_PROVIDER))
        .filter(identity::Column::Subject.eq(normalized))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    person::Entity::find_by_id(i.person_id).one(db).await
}

/// A person's further sign-in addresses (normalized), besides the main one.
pub async fn further_addresses(db: &impl ConnectionTrait, p: &person::Model) -> Result<Vec<String>, DbErr> {
    let mut out: Vec<String> = identity::Entity::find()
        .filter(identity::Column::PersonId.eq(p.id))
        .filter(identity::Column::Provider.eq(EMAIL_PROVIDER))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.subject)
        .filter(|s| p.email_normalized.as_deref() != Some(s.as_str()))
        .collect();
    out.sort();
    Ok(out)
}

#[async_trait::async_trait]
impl SigninApi for Services {
    async fn request_signin_link(
        &self,
        actor: &Actor,
        email: String,
        return_to: Option<String>,
    ) -> Result<(), AppError> {
        let email = EmailAddress::parse("email", &email)?;
        let tx = self.begin().await?;
        let now = tx.now;
        ratelimit::hit(&tx, ratelimit::SIGNIN_PER_CLIENT, &actor.client, now).await??;
        ratelimit::hit(&tx, ratelimit::SIGNIN_PER_ADDRESS, &email.normalized(), now).await??;
        // Only record the request: whether the address is known is decided later, by the
        // dispatcher, so this answer takes the same path and time for every address.
        signin_request::Entity::insert(signin_request::ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(email.as_str().to_owned()),
            email_normalized: Set(email.normalized()),
            created_at: Set(now),
            processed_at: Set(None),
            return_to: Set(super::return_to::safe_return_to(&self.public_url, return_to.as_deref())),
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        self.signin_wake.notify_one();
        Ok(())
    }

    async fn redeem_signin_link(&self, actor: &Actor, token: String) -> Result<(SetCookie, String), AppError> {
        let unusable =
            || AppError::invalid("token", "this sign-in link has expired or was already used; ask for a new one");
        if !looks_like_token(token.trim()) {
            return Err(unusable());
        }
        let tx = self.begin().await?;
        let now = tx.now;
        let link = login_link::Entity::find()
            .filter(login_link::Column::TokenHash.eq(hash_token(token.trim())))
            .one(&*tx)
            .await?
            .ok_or_else(unusable)?;
        if link.used_at.is_some() || link.expires_at <= now {
            return Err(unusable());
        }
        let used = login_link::Entity::update_many()
            .col_expr(login_link::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(login_link::Column::Id.eq(link.id))
            .filter(login_link::Column::UsedAt.is_null())
            .exec(&*tx)
            .await?
            .rows_affected;
        if used != 1 {
            return Err(unusable());
        }
        let p = person::Entity::find_by_id(link.person_id).one(&*tx).await?.ok_or(AppError::Internal)?;
        if let Some(normalized) = &p.email_normalized {
            link_identity(&tx, now, p.id, EMAIL_PROVIDER, normalized).await?;
        }
        let cookie = self.start_session(&tx, p.id, actor.session.as_ref(), now, None).await?;
        tx.commit().await?;
        // Checked again: a link made before this check existed may hold anything.
        let next = super::return_to::safe_return_to(&self.public_url, Some(&link.return_to));
        Ok((cookie, super::second_factor::after_signin(&self.store.db, p.id, None, next).await?))
    }

    async fn sign_out(&self, actor: &Actor, everywhere: bool) -> Result<SetCookie, AppError> {
        if let Some(s) = &actor.session {
            let tx = self.begin().await?;
            let now = tx.now;
            let which = if everywhere {
                session::Column::PersonId.eq(s.person_id)
            } else {
                session::Column::Id.eq(s.session_id)
            };
            revoke_where(&tx, which, now).await?;
            tx.commit().await?;
        }
        Ok(self.clear_session_cookie())
    }

    async fn add_email(&self, actor: &Actor, email: String) -> Result<(), AppError> {
        let me = self.signed_in_person(actor).await?;
        let email = EmailAddress::parse("email", &email)?;
        let tx = self.begin().await?;
        let now = tx.now;
        if person_by_address(&*tx, &email.normalized()).await?.is_some_and(|p| p.id == me.id) {
            return Err(AppError::invalid("email", "this address is already one of yours"));
        }
        ratelimit::hit(&tx, ratelimit::ADDRESSES_PER_PERSON, &me.id.to_string(), now).await??;
        ratelimit::hit(&tx, ratelimit::SIGNIN_PER_ADDRESS, &email.normalized(), now).await??;
        let token = random_token();
        let id = Uuid::new_v4();
        email_confirmation::Entity::insert(email_confirmation::ActiveModel {
            id: Set(id),
            token_hash: Set(hash_token(&token)),
            person_id: Set(me.id),
            email: Set(email.as_str().to_owned()),
            email_normalized: Set(email.normalized()),
            created_at: Set(now),
            expires_at: Set(now + CONFIRM_LIFETIME),
            used_at: Set(None),
        })
        .exec(&*tx)
        .await?;
        let link = format!("{}/me/addresses/{token}", self.public_url);
        tx.mail(templates::confirm_address(email.as_str(), &me.display_name, &link)).await?;
        tx.audit(vec![audit::Entry::new(Some(me.id), "identity.confirmation_sent", "person", me.id)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn confirm_email(&self, token: String) -> Result<String, AppError> {
        let unusable = || {
            AppError::invalid("token", "this confirmation link has expired or was already used; add the address again")
        };
        if !looks_like_token(token.trim()) {
            return Err(unusable());
        }
        let tx = self.begin().await?;
        let now = tx.now;
        let c = email_confirmation::Entity::find()
            .filter(email_confirmation::Column::TokenHash.eq(hash_token(token.trim())))
            .one(&*tx)
            .await?
            .filter(|c| c.used_at.is_none() && c.expires_at > now)
            .ok_or_else(unusable)?;
        let used = email_confirmation::Entity::update_many()
            .col_expr(email_confirmation::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(email_confirmation::Column::Id.eq(c.id))
            .filter(email_confirmation::Column::UsedAt.is_null())
            .exec(&*tx)
            .await?
            .rows_affected;
        if used != 1 {
            return Err(unusable());
        }
        match person_by_address(&*tx, &c.email_normalized).await? {
            Some(p) if p.id != c.person_id => {
                return Err(AppError::invalid(
                    "token",
                    "this address already belongs to another Haven account, so it was not added; \
                     the organizers can help if both are yours",
                ));
            }
            Some(_) => {}
            None => link_identity(&tx, now, c.person_id, EMAIL_PROVIDER, &c.email_normalized).await?,
        }
        tx.commit().await?;
        Ok(c.email)
    }

    async fn remove_email(&self, actor: &Actor, email: String) -> Result<(), AppError> {
        let me = self.signed_in_person(actor).await?;
        let email = EmailAddress::parse("email", &email)?;
        if me.email_normalized.as_deref() == Some(email.normalized().as_str()) {
            return Err(AppError::invalid("email", "your main address cannot be removed"));
        }
        let tx = self.begin().await?;
        let gone = identity::Entity::delete_many()
            .filter(identity::Column::PersonId.eq(me.id))
            .filter(identity::Column::Provider.eq(EMAIL_PROVIDER))
            .filter(identity::Column::Subject.eq(email.normalized()))
            .exec(&*tx)
            .await?
            .rows_affected;
        if gone == 0 {
            return Err(AppError::invalid("email", "this is not one of your addresses"));
        }
        tx.audit(vec![audit::Entry::new(Some(me.id), "identity.removed", "person", me.id)]).await?;
        tx.commit().await.map_err(AppError::from)
    }
}
