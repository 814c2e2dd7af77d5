//! Ban evasion: new registrations compared with the organization's banned people. A likely
//! match is flagged to the event's responders with why it matched — never shown to the
//! registrant or the door, never a denial by itself. Responders confirm (the ban then
//! covers that person too) or dismiss (the pair is never flagged again).
//!
//! Matching: the same mailbox under any of either person's sign-in addresses (normalized:
//! case, and dots and `+tags` where the provider ignores them), the same phone number
//! (its last nine digits), or the same or a similar name (Jaro-Winkler ≥ 0.92 over
//! accent-folded names, in any order). Names are compared only within blocks that share
//! the first three letters of a name part, which keeps 50,000 registrations against 1,000
//! bans to a few hundred thousand comparisons.

use super::DOOR_KINDS;
use crate::db::entities::{decision, evasion_flag, event, identity, person, registration};
use crate::services::authz::Caller;
use crate::services::involvement::{Involvement, Purpose};
use crate::services::{Services, audit};
use haven_app::api::EvasionApi;
use haven_app::api::{Actor, AppError, EvasionFlagView, PersonRef};
use haven_app::domain::matching::{Candidate, MatchReason, match_person, normalize_name};
use haven_app::domain::{EmailAddress, PersonDescription, PhoneNumber, Role};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A banned person as the comparison needs them.
#[derive(Debug, Clone)]
pub struct BannedPerson {
    pub person: Uuid,
    /// The decision (head) that bans them.
    pub decision: Uuid,
    pub name: String,
    /// Normalized addresses: their e-mail and every e-mail sign-in identity.
    pub emails: Vec<String>,
    pub phone: Option<String>,
}

/// Someone newly registered.
#[derive(Debug, Clone)]
pub struct EvasionCandidate {
    pub person: Uuid,
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
}

/// The banned people of an organization, indexed for comparison.
pub struct BannedIndex {
    people: Vec<BannedPerson>,
    by_email: HashMap<String, Vec<usize>>,
    by_phone: HashMap<String, Vec<usize>>,
    by_block: HashMap<String, Vec<usize>>,
}

fn blocks(name: &str) -> Vec<String> {
    let mut out: Vec<String> = normalize_name(name)
        .split(' ')
        .filter(|t| t.chars().count() >= 2)
        .map(|t| t.chars().take(3).collect())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn phone_key(raw: Option<&str>) -> Option<String> {
    PhoneNumber::parse("phone", raw?).ok().map(|p| p.key())
}

impl BannedIndex {
    pub fn new(people: Vec<BannedPerson>) -> BannedIndex {
        let mut index =
            BannedIndex { people, by_email: HashMap::new(), by_phone: HashMap::new(), by_block: HashMap::new() };
        for (i, p) in index.people.iter().enumerate() {
            for e in &p.emails {
                index.by_email.entry(e.clone()).or_default().push(i);
            }
            if let Some(k) = phone_key(p.phone.as_deref()) {
                index.by_phone.entry(k).or_default().push(i);
            }
            for b in blocks(&p.name) {
                index.by_block.entry(b).or_default().push(i);
            }
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The banned people this candidate may be, each with why.
    pub fn matches(&self, c: &EvasionCandidate) -> Vec<(&BannedPerson, Vec<String>)> {
        let mut why: HashMap<usize, Vec<String>> = HashMap::new();
        for e in &c.emails {
            for i in self.by_email.get(e).into_iter().flatten() {
                why.entry(*i).or_default().push("same e-mail address".into());
            }
        }
        if let Some(k) = phone_key(c.phone.as_deref()) {
            for i in self.by_phone.get(&k).into_iter().flatten() {
                why.entry(*i).or_default().push("same phone number".into());
            }
        }
        let mut seen = HashSet::new();
        for b in blocks(&c.name) {
            for i in self.by_block.get(&b).into_iter().flatten() {
                if !seen.insert(*i) {
                    continue;
                }
                let described = PersonDescription { name: Some(self.people[*i].name.clone()), ..Default::default() };
                for reason in match_person(&described, Candidate { name: &c.name, email: None }) {
                    if matches!(reason, MatchReason::SameName | MatchReason::SimilarName { .. }) {
                        why.entry(*i).or_default().push(reason.explain());
                    }
                }
            }
        }
        let mut out: Vec<(&BannedPerson, Vec<String>)> = why
            .into_iter()
            .filter(|(i, _)| self.people[*i].person != c.person)
            .map(|(i, w)| (&self.people[i], w))
            .collect();
        out.sort_by_key(|(p, _)| p.person);
        out
    }
}

/// Normalized sign-in addresses of these people (their e-mail and e-mail identities).
async fn addresses(
    db: &impl ConnectionTrait,
    people: &[person::Model],
) -> Result<HashMap<Uuid, Vec<String>>, AppError> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for p in people {
        out.entry(p.id).or_default().extend(p.email_normalized.clone());
    }
    for chunk in people.chunks(500) {
        for i in identity::Entity::find()
            .filter(identity::Column::PersonId.is_in(chunk.iter().map(|p| p.id).collect::<Vec<_>>()))
            .filter(identity::Column::Provider.eq(crate::services::auth::EMAIL_PROVIDER))
            .all(db)
            .await?
        {
            if let Ok(a) = EmailAddress::parse("e", &i.subject) {
                out.entry(i.person_id).or_default().push(a.normalized());
            }
        }
    }
    for list in out.values_mut() {
        list.sort();
        list.dedup();
    }
    Ok(out)
}

async fn people_by_id(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<person::Model>, AppError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(person::Entity::find().filter(person::Column::Id.is_in(chunk.to_vec())).all(db).await?);
    }
    Ok(out)
}

impl Services {
    /// The organization's people under a ban that has not ended, indexed.
    pub async fn banned_index(&self, organization: Uuid) -> Result<BannedIndex, AppError> {
        let db = &self.store.db;
        let now = self.clock.now();
        let heads: Vec<decision::Model> = self
            .decision_heads(db, organization, Some(&DOOR_KINDS[..2]))
            .await?
            .into_iter()
            .filter(|d| d.ends_at.is_none_or(|e| e > now))
            .collect();
        let covered = self.covered_people(db, &heads).await?;
        let mut pairs: Vec<(Uuid, Uuid)> = Vec::new();
        for d in &heads {
            for p in covered.get(&d.root_id).into_iter().flatten() {
                pairs.push((*p, d.id));
            }
        }
        let ids: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
        let people = people_by_id(db, &ids).await?;
        let by_id: HashMap<Uuid, &person::Model> = people.iter().map(|p| (p.id, p)).collect();
        let emails = addresses(db, &people).await?;
        Ok(BannedIndex::new(
            pairs
                .into_iter()
                .filter_map(|(p, d)| {
                    let m = by_id.get(&p)?;
                    Some(BannedPerson {
                        person: p,
                        decision: d,
                        name: m.display_name.clone(),
                        emails: emails.get(&p).cloned().unwrap_or_default(),
                        phone: m.phone.clone(),
                    })
                })
                .collect(),
        ))
    }

    /// A flag is about the registrant it flags and the banned person, and rests on the
    /// ban: whoever is involved in any of these never sees or settles it.
    async fn involved_in_flag(
        &self,
        db: &impl ConnectionTrait,
        who: &Involvement,
        f: &evasion_flag::Model,
    ) -> Result<bool, AppError> {
        if who.person == f.person_id || who.person == f.banned_person_id {
            return Ok(true);
        }
        match decision::Entity::find_by_id(f.decision_id).one(db).await? {
            Some(d) => self.involved_in_decision(db, who, &d, Purpose::See).await,
            None => Ok(false),
        }
    }
}

#[async_trait::async_trait]
impl EvasionApi for Services {
    async fn evasion_flags(&self, actor: &Actor) -> Result<Vec<EvasionFlagView>, AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let orgs: Vec<Uuid> = grants.organizations(Some(Role::Responder));
        if orgs.is_empty() {
            return Err(AppError::NotFound);
        }
        let events: HashMap<Uuid, event::Model> = event::Entity::find()
            .filter(event::Column::OrganizationId.is_in(orgs))
            .all(db)
            .await?
            .into_iter()
            .filter(|e| grants.responds_for(e))
            .map(|e| (e.id, e))
            .collect();
        let flags = evasion_flag::Entity::find()
            .filter(evasion_flag::Column::Status.eq("open"))
            .order_by_asc(evasion_flag::Column::CreatedAt)
            .all(db)
            .await?;
        let mine = self.decider(db, me).await?;
        let mut out = Vec::new();
        for f in flags {
            let Some(r) = registration::Entity::find_by_id(f.registration_id).one(db).await? else {
                continue;
            };
            let Some(e) = events.get(&r.event_id) else { continue };
            if self.involved_in_flag(db, &mine, &f).await? {
                continue;
            }
            let people = people_by_id(db, &[f.person_id, f.banned_person_id]).await?;
            let find = |id: Uuid| {
                people.iter().find(|p| p.id == id).map(|p| PersonRef {
                    id: p.id,
                    name: p.display_name.clone(),
                    email: p.email.clone(),
                })
            };
            let (Some(registrant), Some(banned)) = (find(f.person_id), find(f.banned_person_id)) else { continue };
            let ban = match self.chain_head(db, f.decision_id).await? {
                Some(d) => self.decision_summary(&d, e).await,
                None => match decision::Entity::find_by_id(f.decision_id).one(db).await? {
                    Some(d) => self.decision_summary(&d, e).await,
                    None => String::new(),
                },
            };
            out.push(EvasionFlagView {
                id: f.id,
                event_name: e.name.clone(),
                registrant,
                banned,
                ban,
                why: f.reasons.split("; ").map(str::to_owned).collect(),
                flagged: crate::services::cases::local_time(f.created_at, &e.time_zone),
            });
        }
        Ok(out)
    }

    async fn resolve_flag(&self, actor: &Actor, flag: Uuid, action: &str) -> Result<(), AppError> {
        let Caller { person: me, grants } = self.caller(actor).await?;
        let db = &self.store.db;
        let f = evasion_flag::Entity::find_by_id(flag).one(db).await?.ok_or(AppError::NotFound)?;
        let r = registration::Entity::find_by_id(f.registration_id).one(db).await?.ok_or(AppError::NotFound)?;
        let e = event::Entity::find_by_id(r.event_id).one(db).await?.ok_or(AppError::NotFound)?;
        if !grants.responds_for(&e) || self.involved_in_flag(db, &self.decider(db, me).await?, &f).await? {
            return Err(AppError::NotFound);
        }
        let confirm = match action.trim() {
            "confirm" => true,
            "dismiss" => false,
            _ => return Err(AppError::invalid("action", "must be confirm or dismiss")),
        };
        let tx = self.begin().await?;
        let now = tx.now;
        let fresh = evasion_flag::Entity::find_by_id(f.id).one(&*tx).await?;
        if fresh.is_none_or(|x| x.status != "open") {
            return Err(AppError::invalid("flag", "was already confirmed or dismissed"));
        }
        let original = decision::Entity::find_by_id(f.decision_id).one(&*tx).await?.ok_or(AppError::Internal)?;
        if confirm {
            let head = self.chain_head(&*tx, original.root_id).await?.ok_or(AppError::Internal)?;
            self.cover(&tx, now, &head, f.person_id, f.id, me).await?;
        }
        evasion_flag::Entity::update(evasion_flag::ActiveModel {
            id: Set(f.id),
            status: Set(if confirm { "confirmed" } else { "dismissed" }.into()),
            resolved_by: Set(Some(me)),
            resolved_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(&*tx)
        .await?;
        tx.audit(vec![
            audit::Entry::new(
                Some(me),
                if confirm { "evasion.confirmed" } else { "evasion.dismissed" },
                "decision",
                original.id,
            )
            .with("flag", f.id.to_string()),
        ])
        .await?;
        if confirm {
            self.enforcement().refresh_door(&tx, original.organization_id, &[f.person_id], now).await?;
        }
        if confirm {
            tx.door_changed();
        }
        tx.commit().await?;
        Ok(())
    }
}

impl super::Enforcement<'_> {
    /// Compares new registrations with the banned people of their organizations and
    /// flags likely matches (each pair once per organization). Returns how many were flagged.
    pub async fn flag_evasion(&self, new: &[(registration::Model, Option<person::Model>)]) -> Result<usize, AppError> {
        if new.is_empty() {
            return Ok(0);
        }
        let db = &self.0.store.db;
        let regs: Vec<&registration::Model> = new.iter().map(|(r, _)| r).collect();
        let event_ids: HashSet<Uuid> = regs.iter().map(|r| r.event_id).collect();
        let events = event::Entity::find().filter(event::Column::Id.is_in(event_ids)).all(db).await?;
        let mut flagged = 0;
        let orgs: HashSet<Uuid> = events.iter().map(|e| e.organization_id).collect();
        for org in orgs {
            let index = self.0.banned_index(org).await?;
            if index.is_empty() {
                continue;
            }
            let org_events: HashMap<Uuid, &event::Model> =
                events.iter().filter(|e| e.organization_id == org).map(|e| (e.id, e)).collect();
            let org_regs: Vec<&registration::Model> =
                regs.iter().copied().filter(|r| org_events.contains_key(&r.event_id)).collect();
            let mut people: Vec<person::Model> = new
                .iter()
                .filter(|(r, _)| org_events.contains_key(&r.event_id))
                .filter_map(|(_, p)| p.clone())
                .collect();
            people.sort_by_key(|p| p.id);
            people.dedup_by_key(|p| p.id);
            let emails = addresses(db, &people).await?;
            let by_person: HashMap<Uuid, &person::Model> = people.iter().map(|p| (p.id, p)).collect();
            let banned: HashSet<Uuid> = index.people.iter().map(|b| b.person).collect();
            let now = self.0.clock.now();
            let mut rows = Vec::new();
            let mut per_event: HashMap<Uuid, usize> = HashMap::new();
            for r in org_regs {
                let Some(p) = by_person.get(&r.person_id) else { continue };
                if banned.contains(&p.id) {
                    continue; // Banned themselves: the ban already holds at the door.
                }
                let candidate = EvasionCandidate {
                    person: p.id,
                    name: p.display_name.clone(),
                    emails: emails.get(&p.id).cloned().unwrap_or_default(),
                    phone: p.phone.clone(),
                };
                for (b, why) in index.matches(&candidate) {
                    let reasons: String = why.join("; ").chars().take(200).collect();
                    rows.push((
                        r.event_id,
                        evasion_flag::ActiveModel {
                            id: Set(Uuid::new_v4()),
                            organization_id: Set(org),
                            registration_id: Set(r.id),
                            person_id: Set(p.id),
                            banned_person_id: Set(b.person),
                            decision_id: Set(b.decision),
                            reasons: Set(reasons),
                            status: Set("open".into()),
                            created_at: Set(now),
                            resolved_by: Set(None),
                            resolved_at: Set(None),
                        },
                    ));
                }
            }
            if rows.is_empty() {
                continue;
            }
            let tx = self.0.begin().await?;
            let mut in_org = 0;
            for (event_id, row) in rows {
                // A pair flagged before in this organization (perhaps dismissed) stays as it
                // was, and nobody is told of it again.
                let done = evasion_flag::Entity::insert(row)
                    .on_conflict(
                        OnConflict::columns([
                            evasion_flag::Column::OrganizationId,
                            evasion_flag::Column::PersonId,
                            evasion_flag::Column::BannedPersonId,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(&*tx)
                    .await?;
                if done > 0 {
                    in_org += 1;
                    *per_event.entry(event_id).or_default() += 1;
                }
            }
            flagged += in_org;
            if in_org == 0 {
                continue; // Nothing new: the transaction rolls back, unchanged.
            }
            tx.audit(vec![audit::Entry::new(None, "evasion.flagged", "organization", org).with("count", in_org)])
                .await?;
            for (event_id, n) in per_event {
                let e = org_events[&event_id];
                for responder in self.0.cases().case_team(&*tx, e, None).await? {
                    tx.notify(
                        responder.id,
                        "evasion",
                        "Possible ban evasion",
                        &format!("{n} new registration(s) at {} may belong to banned people.", e.name),
                        "/ban-evasion",
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(flagged)
    }
}
