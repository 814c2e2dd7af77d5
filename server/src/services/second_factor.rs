//! The second factor for staff: a TOTP authenticator app (RFC 6238: SHA-1, six digits,
//! 30-second steps, one step of clock drift either way), one-time recovery codes, an
//! administrator's reset, and each organization's policy. Which roles wait for it is
//! decided in one place, [`super::authz::Grants::of_session`]; this module only sets up
//! factors and marks sessions that passed one.

use super::authz::Caller;
use super::{Services, audit, ratelimit};
use crate::crypto::{hash_token, sealed};
use crate::db::entities::{organization, person, recovery_code, second_factor, session, staff_role};
use crate::mail::templates;
use haven_app::api::{
    Actor, ActorSession, AppError, OrganizationSecurity, SecondFactorProof, SecondFactorStatus, SecurityApi,
    TotpEnrollment,
};
use haven_app::domain::Slug;
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

/// How many recovery codes a person gets; each works once.
pub const RECOVERY_CODES: usize = 10;

/// Whether the person has a second factor in force.
pub async fn in_force(db: &impl ConnectionTrait, person: Uuid) -> Result<bool, DbErr> {
    Ok(factor_of(db, person).await?.is_some_and(|f| f.secret_enc.is_some()))
}

async fn factor_of(db: &impl ConnectionTrait, person: Uuid) -> Result<Option<second_factor::Model>, DbErr> {
    second_factor::Entity::find().filter(second_factor::Column::PersonId.eq(person)).one(db).await
}

/// The authenticator for a secret; `account` is what the app shows beside the codes.
fn authenticator(secret: &[u8], account: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .with_issuer(Some("Haven"))
        .with_account_name(account)
        .build()
        .map_err(|_| AppError::Internal)
}

/// A code as typed: spaces and dashes are only for reading.
fn compact(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_ascii_lowercase()
}

/// A recovery code: 12 letters and digits that cannot be misread, in three groups.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn wrong_code() -> AppError {
    AppError::invalid("code", "that code is not right; check that your phone's clock is correct and try again")
}

/// Where a new session goes first: to confirm the sign-in with a second factor while any
/// of the person's roles wait for one, then on to `next` (a path on this site).
pub async fn after_signin(
    db: &impl ConnectionTrait,
    person: Uuid,
    proof: Option<SecondFactorProof>,
    next: String,
) -> Result<String, DbErr> {
    let session = ActorSession { person_id: person, session_id: Uuid::nil(), second_factor: proof };
    if super::authz::Grants::of_session(db, &session).await?.held_back.is_empty() {
        return Ok(next);
    }
    let encoded: String = next
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Ok(format!("{SECOND_FACTOR_PAGE}?return_to={encoded}"))
}

/// The page that confirms a sign-in with a second factor, or sets one up.
pub const SECOND_FACTOR_PAGE: &str = "/signin/second-factor";

impl Services {
    /// Counts one attempt at a code, committed before the code is checked, so a wrong
    /// code still counts.
    async fn count_attempt(&self, person: Uuid) -> Result<(), AppError> {
        let tx = self.begin().await?;
        let now = tx.now;
        ratelimit::hit(&tx, ratelimit::SECOND_FACTOR_PER_PERSON, &person.to_string(), now).await??;
        tx.commit().await.map_err(AppError::from)
    }

    /// Marks the caller's session as having passed a second factor.
    async fn mark_passed(
        &self,
        tx: &super::work::Work<'_>,
        session: &ActorSession,
        proof: SecondFactorProof,
    ) -> Result<(), DbErr> {
        session::Entity::update_many()
            .col_expr(session::Column::SecondFactor, Expr::value(proof.as_str()))
            .filter(session::Column::Id.eq(session.session_id))
            .exec(&**tx)
            .await?;
        Ok(())
    }

    /// Where the person confirms and manages their second factor.
    fn factor_page(&self) -> String {
        format!("{}/me#second-factor", self.public_url)
    }

    /// Recovery codes the person has not used.
    async fn codes_left(&self, db: &impl ConnectionTrait, person: Uuid) -> Result<u64, DbErr> {
        recovery_code::Entity::find()
            .filter(recovery_code::Column::PersonId.eq(person))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(db)
            .await
    }

    /// Accepts a recovery code once. Returns whether it was one of the person's unused codes.
    async fn use_recovery_code(&self, tx: &super::work::Work<'_>, person: Uuid, code: &str) -> Result<bool, DbErr> {
        let used = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(tx.now))
            .filter(recovery_code::Column::PersonId.eq(person))
            .filter(recovery_code::Column::CodeHash.eq(hash_token(code)))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(&**tx)
            .await?
            .rows_affected;
        Ok(used == 1)
    }

    /// Accepts an authenticator code from the secret in force, each time step at most
    /// once. Returns whether it was accepted.
    async fn use_totp_code(
        &self,
        tx: &super::work::Work<'_>,
        factor: &second_factor::Model,
        sealed_secret: &str,
        code: &str,
    ) -> Result<bool, AppError> {
        let secret = self.keys.open_bytes_in(sealed::SECOND_FACTOR_SECRET, factor.id, sealed_secret)?;
        let Some(step) = authenticator(&secret, "")?.check(code, tx.now.timestamp().max(0) as u64) else {
            return Ok(false);
        };
        let step = step as i64;
        // Claimed by a conditional update: two requests with one code cannot both pass.
        let claimed = second_factor::Entity::update_many()
            .col_expr(second_factor::Column::LastStep, Expr::value(step))
            .filter(second_factor::Column::Id.eq(factor.id))
            .filter(
                Condition::any()
                    .add(second_factor::Column::LastStep.is_null())
                    .add(second_factor::Column::LastStep.lt(step)),
            )
            .exec(&**tx)
            .await?
            .rows_affected;
        Ok(claimed == 1)
    }
}

#[async_trait::async_trait]
impl SecurityApi for Services {
    async fn second_factor(&self, actor: &Actor) -> Result<SecondFactorStatus, AppError> {
        let session = actor.signed_in_session()?;
        let db = &self.store.db;
        let grants = super::authz::Grants::of_session(db, session).await?;
        Ok(SecondFactorStatus {
            set_up: in_force(db, session.person_id).await?,
            passed: session.second_factor.is_some(),
            held_back: super::account::role_list(db, &grants.held_back).await?,
            recovery_codes_left: self.codes_left(db, session.person_id).await? as u32,
        })
    }

    async fn begin_totp(&self, actor: &Actor) -> Result<TotpEnrollment, AppError> {
        let session = actor.signed_in_session()?;
        let me = self.signed_in_person(actor).await?;
        if in_force(&self.store.db, me.id).await? && session.second_factor != Some(SecondFactorProof::Code) {
            return Err(AppError::Conflict(
                "confirm this sign-in with your current second factor first, then set up the new one".into(),
            ));
        }
        let mut secret = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        // What the app shows beside the codes; a colon would end the label early.
        let account = me.email.clone().unwrap_or_else(|| me.display_name.clone()).replace(':', " ");
        let totp = authenticator(&secret, &account)?;
        let uri = totp.to_url().map_err(|_| AppError::Internal)?;
        let tx = self.begin().await?;
        let factor = match factor_of(&*tx, me.id).await? {
            Some(f) => f,
            None => {
                let f = second_factor::Model {
                    id: Uuid::new_v4(),
                    person_id: me.id,
                    secret_enc: None,
                    pending_enc: None,
                    created_at: tx.now,
                    confirmed_at: None,
                    last_step: None,
                };
                second_factor::Entity::insert(second_factor::ActiveModel::from(f.clone())).exec(&*tx).await?;
                f
            }
        };
        second_factor::Entity::update(second_factor::ActiveModel {
            id: Set(factor.id),
            pending_enc: Set(Some(self.keys.seal_bytes_in(sealed::SECOND_FACTOR_PENDING, factor.id, &secret))),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        Ok(TotpEnrollment {
            secret: Secret::new(secret.to_vec().into_boxed_slice()).to_base32(),
            qr_svg: super::door::qr_svg(&uri)?,
            uri,
        })
    }

    async fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<Vec<String>, AppError> {
        let session = actor.signed_in_session()?;
        let me = self.signed_in_person(actor).await?;
        self.count_attempt(me.id).await?;
        let code = compact(code);
        let tx = self.begin().await?;
        let now = tx.now;
        let not_begun = || AppError::invalid("code", "start setting up the app first");
        let factor = factor_of(&*tx, me.id).await?.ok_or_else(not_begun)?;
        let pending = factor.pending_enc.as_deref().ok_or_else(not_begun)?;
        let secret = self.keys.open_bytes_in(sealed::SECOND_FACTOR_PENDING, factor.id, pending)?;
        let step = authenticator(&secret, "")?.check(&code, now.timestamp().max(0) as u64).ok_or_else(wrong_code)?;
        second_factor::Entity::update(second_factor::ActiveModel {
            id: Set(factor.id),
            secret_enc: Set(Some(self.keys.seal_bytes_in(sealed::SECOND_FACTOR_SECRET, factor.id, &secret))),
            pending_enc: Set(None),
            confirmed_at: Set(Some(now)),
            last_step: Set(Some(step as i64)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        recovery_code::Entity::delete_many().filter(recovery_code::Column::PersonId.eq(me.id)).exec(&*tx).await?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        for code in &codes {
            recovery_code::Entity::insert(recovery_code::ActiveModel {
                id: Set(Uuid::new_v4()),
                person_id: Set(me.id),
                code_hash: Set(hash_token(&compact(code))),
                created_at: Set(now),
                used_at: Set(None),
            })
            .exec(&*tx)
            .await?;
        }
        self.mark_passed(&tx, session, SecondFactorProof::Code).await?;
        tx.audit(vec![audit::Entry::new(Some(me.id), "second_factor.set_up", "person", me.id)]).await?;
        if let Some(email) = &me.email {
            tx.mail(templates::second_factor_set_up(email, &self.factor_page())).await?;
        }
        tx.commit().await?;
        Ok(codes)
    }

    async fn verify_second_factor(
        &self,
        actor: &Actor,
        code: &str,
        return_to: Option<&str>,
    ) -> Result<String, AppError> {
        let session = actor.signed_in_session()?;
        let me = self.signed_in_person(actor).await?;
        self.count_attempt(me.id).await?;
        let code = compact(code);
        let tx = self.begin().await?;
        let factor = factor_of(&*tx, me.id).await?;
        let Some((factor, sealed_secret)) = factor.as_ref().and_then(|f| Some((f, f.secret_enc.as_deref()?))) else {
            return Err(AppError::invalid("code", "no second factor is set up yet; set one up from your page"));
        };
        let by_app = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        if by_app {
            if !self.use_totp_code(&tx, factor, sealed_secret, &code).await? {
                return Err(wrong_code());
            }
        } else {
            if !self.use_recovery_code(&tx, me.id, &code).await? {
                return Err(wrong_code());
            }
            let left = self.codes_left(&*tx, me.id).await?;
            tx.audit(vec![audit::Entry::new(Some(me.id), "second_factor.recovery_code_used", "person", me.id)]).await?;
            if let Some(email) = &me.email {
                tx.mail(templates::recovery_code_used(email, left, &self.factor_page())).await?;
            }
        }
        self.mark_passed(&tx, session, SecondFactorProof::Code).await?;
        tx.commit().await?;
        Ok(super::return_to::safe_return_to(&self.public_url, return_to))
    }

    async fn reset_second_factor(&self, actor: &Actor, role_id: Uuid) -> Result<(), AppError> {
        let Caller { person: by, grants } = self.caller(actor).await?;
        let role = staff_role::Entity::find_by_id(role_id)
            .one(&self.store.db)
            .await?
            .filter(|r| r.revoked_at.is_none() && grants.is_admin(r.organization_id))
            .ok_or(AppError::NotFound)?;
        self.remove_second_factor(Some(by), role.person_id).await?;
        Ok(())
    }

    async fn set_organization_security(
        &self,
        actor: &Actor,
        organization: &Slug,
        policy: OrganizationSecurity,
    ) -> Result<(), AppError> {
        let (person, org) = self.administered(actor, organization).await?;
        self.set_security(Some(person), org.id, policy).await
    }
}

impl Services {
    /// Removes a person's second factor and recovery codes (`by` an administrator, or the
    /// operator's command line when `None`); the person, and the administrator, are told
    /// by mail. Returns whether there was one.
    pub async fn remove_second_factor(&self, by: Option<Uuid>, person: Uuid) -> Result<bool, AppError> {
        let tx = self.begin().await?;
        let removed =
            second_factor::Entity::delete_many().filter(second_factor::Column::PersonId.eq(person)).exec(&*tx).await?;
        if removed.rows_affected == 0 {
            // Nothing was in place: nothing to tell anyone.
            return Ok(false);
        }
        recovery_code::Entity::delete_many().filter(recovery_code::Column::PersonId.eq(person)).exec(&*tx).await?;
        // Sessions that passed the old factor pass it no more.
        session::Entity::update_many()
            .col_expr(session::Column::SecondFactor, Expr::value(Option::<String>::None))
            .filter(session::Column::PersonId.eq(person))
            .exec(&*tx)
            .await?;
        tx.audit(vec![audit::Entry::new(by, "second_factor.reset", "person", person)]).await?;
        let ids: Vec<Uuid> = std::iter::once(person).chain(by).collect();
        let people = person::Entity::find().filter(person::Column::Id.is_in(ids)).all(&*tx).await?;
        let name = |id: Option<Uuid>| match id {
            Some(id) => people.iter().find(|p| p.id == id).map(|p| p.display_name.clone()).unwrap_or_default(),
            None => "The server's operator".to_owned(),
        };
        let mut told = Vec::new();
        for p in &people {
            if let Some(email) = p.email.as_deref().filter(|e| !told.contains(e)) {
                told.push(email);
                let mail = templates::second_factor_reset(email, &name(Some(person)), &name(by), &self.factor_page());
                tx.mail(mail).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Sets what an organization asks of its staff's sign-in (`by` an administrator, or
    /// the operator's command line when `None`).
    pub async fn set_security(
        &self,
        by: Option<Uuid>,
        organization: Uuid,
        policy: OrganizationSecurity,
    ) -> Result<(), AppError> {
        let tx = self.begin().await?;
        organization::Entity::update(organization::ActiveModel {
            id: Set(organization),
            second_factor_required: Set(policy.second_factor_required),
            accept_provider_mfa: Set(policy.accept_provider_mfa),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(by, "organization.security_changed", "organization", organization)
                .with("second_factor_required", policy.second_factor_required.to_string())
                .with("accept_provider_mfa", policy.accept_provider_mfa.to_string()),
        ])
        .await?;
        tx.commit().await.map_err(AppError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_twelve_readable_characters_and_typing_slack_is_forgiven() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 14, "{code}");
        assert_eq!(code.matches('-').count(), 2);
        assert!(code.chars().all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"01ilo".contains(c))));
        assert_ne!(new_recovery_code(), code);
        assert_eq!(compact(&format!(" {} ", code.to_uppercase().replace('-', " "))), compact(&code));
        assert_eq!(compact("123 456"), "123456");
    }

    #[test]
    fn the_authenticator_accepts_the_code_of_this_step_and_its_neighbours_only() {
        let totp = authenticator(b"12345678901234567890", "ada@example.org").unwrap();
        let now = 1_700_000_000u64;
        assert_eq!(totp.check(&totp.generate(now).to_string(), now), Some(now / 30));
        assert!(totp.check(&totp.generate(now - 30).to_string(), now).is_some(), "one step of drift");
        assert!(totp.check(&totp.generate(now - 60).to_string(), now).is_none(), "two steps is too old");
        // RFC 6238's SHA-1 test vector at T = 59 s (the last six of 94287082).
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert!(totp.to_url().unwrap().starts_with("otpauth://totp/Haven:ada%40example.org?"));
    }
}
