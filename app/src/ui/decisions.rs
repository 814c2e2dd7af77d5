//! Enforcement on pages: the decisions panel of a case (the team proposes), the deciders'
//! page (record, decline, correct; decide appeals), outcomes for organizers, the person's
//! own decisions with their appeal, the appeal page reached by link, ban-evasion flags,
//! and the transparency report.

use super::components::{FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{
    self, AppealByLink, AppealDecision, AppealView, CorrectDecision, DecideAppeal, DecisionView, DeclineProposal,
    MyDecision, PersonRef, ProposeDecision, RecordDecision, ResolveFlag,
};
use crate::domain::{DecisionInput, DecisionKind, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

const DECISION_FIELDS: &[&str] = &[
    "person",
    "kind",
    "starts",
    "ends",
    "role",
    "role_scope",
    "authority",
    "authority_at",
    "authority_reference",
    "measure",
    "reasons",
    "cases",
];

/// The fields of a decision (`input[...]`), filled from `defaults`.
#[component]
fn DecisionFields(
    defaults: DecisionInput,
    /// Whom it may be about (a case's linked people); `None` keeps the person fixed.
    people: Option<Vec<PersonRef>>,
    result: Signal<Option<Result<(), crate::api::AppError>>>,
    /// Makes element ids unique on pages with several forms.
    prefix: String,
    #[prop(optional)] allow_lifted: bool,
    time_zone: String,
) -> impl IntoView {
    let id = move |name: &str| format!("{prefix}-{name}");
    let kinds: Vec<DecisionKind> =
        DecisionKind::ALL.into_iter().filter(|k| allow_lifted || *k != DecisionKind::Lifted).collect();
    let d = defaults;
    view! {
        {match people {
            Some(people) => view! {
                <label for=id("person")>"About"</label>
                <select id=id("person") name="input[person]">
                    {people.into_iter().map(|p| {
                        let selected = p.id.to_string() == d.person;
                        view! { <option value=p.id.to_string() selected=selected>{p.name}{p.email.map(|e| format!(" <{e}>"))}</option> }
                    }).collect_view()}
                </select>
                <FieldError result field="person"/>
            }.into_any(),
            None => view! { <input type="hidden" name="input[person]" value=d.person.clone()/> }.into_any(),
        }}
        <label for=id("kind")>"Decision"</label>
        <select id=id("kind") name="input[kind]">
            {kinds.into_iter().map(|k| view! {
                <option value=k.as_str() selected=d.kind == k.as_str()>{k.label()}</option>
            }).collect_view()}
        </select>
        <FieldError result field="kind"/>
        <fieldset>
            <legend>{format!("Period — bans only ({time_zone})")}</legend>
            <label for=id("starts")>"From (empty: now)"</label>
            <input id=id("starts") type="datetime-local" name="input[starts]" value=d.starts.clone()/>
            <FieldError result field="starts"/>
            <label for=id("ends")>"Until (temporary bans)"</label>
            <input id=id("ends") type="datetime-local" name="input[ends]" value=d.ends.clone()/>
            <FieldError result field="ends"/>
        </fieldset>
        <fieldset>
            <legend>"Removal from a role"</legend>
            <label for=id("role")>"Role"</label>
            <select id=id("role") name="input[role]">
                <option value="">"—"</option>
                {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=d.role == r.as_str()>{r.as_str()}</option> }).collect_view()}
            </select>
            <FieldError result field="role"/>
            <label for=id("role-scope")>"Where"</label>
            <select id=id("role-scope") name="input[role_scope]">
                <option value="event" selected=d.role_scope != "organization">"At this event"</option>
                <option value="organization" selected=d.role_scope == "organization">"In the whole organization"</option>
            </select>
        </fieldset>
        <fieldset>
            <legend>"Report to the authorities"</legend>
            <label for=id("authority")>"Who was told"</label>
            <input id=id("authority") name="input[authority]" maxlength="200" value=d.authority.clone()/>
            <FieldError result field="authority"/>
            <label for=id("authority-at")>"When"</label>
            <input id=id("authority-at") type="datetime-local" name="input[authority_at]" value=d.authority_at.clone()/>
            <FieldError result field="authority_at"/>
            <label for=id("authority-reference")>"Their reference (optional)"</label>
            <input id=id("authority-reference") name="input[authority_reference]" maxlength="200" value=d.authority_reference.clone()/>
        </fieldset>
        <label for=id("measure")>"Another measure: what it is"</label>
        <input id=id("measure") name="input[measure]" maxlength="1000" value=d.measure.clone()/>
        <FieldError result field="measure"/>
        <label for=id("reasons")>"Reasons (kept sealed; never sent to the person)"</label>
        <textarea id=id("reasons") name="input[reasons]" rows="3" maxlength="5000">{d.reasons.clone()}</textarea>
        <FieldError result field="reasons"/>
    }
}

/// The decisions panel on a case page (its team).
#[component]
pub fn CaseDecisionsPanel(reference: String) -> impl IntoView {
    let propose = ServerAction::<ProposeDecision>::new();
    let data = Resource::new(
        {
            let reference = reference.clone();
            move || (reference.clone(), propose.version().get())
        },
        |(r, _)| api::case_decisions(r),
    );
    let result = Signal::derive(move || propose.value().get());
    view! {
        <section class="panel" id="decisions">
            <h2>"Decisions"</h2>
            <Loaded resource=data let:d>
                {d.decisions.is_empty().then(|| view! { <p class="muted">"No decision yet."</p> })}
                <ul class="decisions">
                    {d.decisions.into_iter().map(|v| view! { <li><Decision v/></li> }).collect_view()}
                </ul>
                {(!d.proposals.is_empty()).then(|| view! {
                    <h3>"Proposals"</h3>
                    <ul class="proposals">
                        {d.proposals.into_iter().map(|p| view! {
                            <li>{p.summary} " about " {p.person} " · proposed by " {p.proposed_by} ", " {p.proposed} " · " <span class="badge">{p.status}</span>
                                {p.no_decider.then(|| view! { <p class="error no-decider">"No one uninvolved can decide this: an administrator must be added."</p> })}
                            </li>
                        }).collect_view()}
                    </ul>
                })}
                {if d.people.is_empty() {
                    view! { <p class="muted">"Link the person this case is about (under Possible matches) to propose a decision."</p> }.into_any()
                } else {
                    let reference = reference.clone();
                    view! {
                        <details>
                            <summary>"Propose a decision"</summary>
                            <ActionForm action=propose>
                                <input type="hidden" name="reference" value=reference/>
                                <DecisionFields defaults=DecisionInput::default() people=Some(d.people) result prefix="propose".into() time_zone=d.time_zone/>
                                <label for="propose-cases">"Also rests on (references of other cases naming this person, optional)"</label>
                                <input id="propose-cases" name="input[cases]" maxlength="200" placeholder="HVN-…"/>
                                <FieldError result field="cases"/>
                                <button type="submit">"Propose to the deciders"</button>
                            </ActionForm>
                            <FormStatus result success="Proposed: a decider will record it." fields=DECISION_FIELDS/>
                        </details>
                    }.into_any()
                }}
            </Loaded>
        </section>
    }
}

/// One decision record as staff read it.
#[component]
fn Decision(v: DecisionView) -> impl IntoView {
    view! {
        <div class="decision" class:superseded=v.superseded>
            <p><strong>{v.summary}</strong> " — " {v.person}
                {v.superseded.then(|| view! { " " <span class="badge">"superseded"</span> })}
                {v.from_appeal.then(|| view! { " " <span class="badge">"appeal decision (final)"</span> })}
            </p>
            <p class="muted">"Decided by " {v.decided_by} ", " {v.decided} " · " {v.event_name}
                {(!v.cases.is_empty()).then(|| format!(" · case {}", v.cases.join(", ")))}</p>
            <p class="body">{v.reasons}</p>
            {v.appeal.map(|a| view! { <Appeal a/> })}
        </div>
    }
}

#[component]
fn Appeal(a: AppealView) -> impl IntoView {
    view! {
        <div class="appeal">
            <p><strong>"Appeal"</strong> " filed " {a.filed} " · " {a.outcome.unwrap_or_else(|| "waiting for a decision".into())}</p>
            <p class="body">{a.text}</p>
        </div>
    }
}

/// The deciders' page: proposals to record or decline, appeals to decide, recent decisions.
#[component]
pub fn DecidePage() -> impl IntoView {
    let record = ServerAction::<RecordDecision>::new();
    let decline = ServerAction::<DeclineProposal>::new();
    let correct = ServerAction::<CorrectDecision>::new();
    let decide = ServerAction::<DecideAppeal>::new();
    let home = Resource::new(
        move || record.version().get() + decline.version().get() + correct.version().get() + decide.version().get(),
        |_| api::decide_home(),
    );
    let record_result = Signal::derive(move || record.value().get());
    let decline_result = Signal::derive(move || decline.value().get());
    let correct_result = Signal::derive(move || correct.value().get());
    let decide_result = Signal::derive(move || decide.value().get());
    view! {
        <Title text="Decisions"/>
        <h1>"Decisions"</h1>
        <FormStatus result=record_result success="Decision recorded; the person was told in writing." fields=DECISION_FIELDS/>
        <FormStatus result=decline_result success="Proposal declined."/>
        <FormStatus result=correct_result success="Correction recorded; the person was told." fields=DECISION_FIELDS/>
        <FormStatus result=decide_result success="Appeal decided; the person was told. This is final." fields=DECISION_FIELDS/>
        <Loaded resource=home let:h>
            <section class="panel">
                <h2>"Proposals waiting (" {h.proposals.len()} ")"</h2>
                {h.proposals.is_empty().then(|| view! { <p class="muted">"Nothing waits."</p> })}
                {h.proposals.into_iter().map(|p| {
                    let prefix = format!("p-{}", p.id.simple());
                    let (id, id2) = (p.id.to_string(), p.id.to_string());
                    view! {
                        <article class="proposal">
                            <h3>{p.summary.clone()} " — " {p.person.clone()}</h3>
                            <p class="muted">{p.event_name.clone()} " · case " {p.case.clone()} " · proposed by " {p.proposed_by.clone()} ", " {p.proposed.clone()}</p>
                            <ActionForm action=record>
                                <input type="hidden" name="proposal" value=id/>
                                <DecisionFields defaults=p.input.clone() people=None result=record_result prefix time_zone=p.time_zone.clone()/>
                                <button type="submit">"Record this decision"</button>
                            </ActionForm>
                            <ActionForm action=decline>
                                <input type="hidden" name="proposal" value=id2/>
                                <button type="submit" class="secondary">"Decline the proposal"</button>
                            </ActionForm>
                        </article>
                    }
                }).collect_view()}
            </section>
            <section class="panel">
                <h2>"Appeals waiting (" {h.appeals.len()} ")"</h2>
                {h.appeals.is_empty().then(|| view! { <p class="muted">"No appeal waits."</p> })}
                {h.appeals.into_iter().map(|a| {
                    let prefix = format!("a-{}", a.appeal.id.simple());
                    let appeal_id = a.appeal.id.to_string();
                    let tz = a.time_zone.clone();
                    let covered = a.covered.clone();
                    view! {
                        <article class="appeal-to-decide">
                            <Decision v=a.decision.clone()/>
                            {covered.clone().map(|name| view! {
                                <div class="appeal covered">
                                    <p><strong>"Appeal by " {name}</strong>
                                        ", whom a confirmed ban-evasion match brought under this decision, filed "
                                        {a.appeal.filed.clone()}</p>
                                    <p class="body">{a.appeal.text.clone()}</p>
                                </div>
                            })}
                            {match (a.not_you, covered) {
                                (Some(why), _) => view! { <p class="notice bad">{why}</p> }.into_any(),
                                (None, Some(_)) => view! {
                                    <ActionForm action=decide>
                                        <input type="hidden" name="appeal" value=appeal_id/>
                                        <fieldset>
                                            <legend>"Your decision on the appeal (final)"</legend>
                                            <label class="inline"><input type="radio" name="outcome" value="uphold" checked=true/> " It stays: the decision covers them"</label>
                                            <label class="inline"><input type="radio" name="outcome" value="lift"/> " Lift it for them: the decision no longer applies to them"</label>
                                        </fieldset>
                                        <label for=format!("{prefix}-reasons")>"Reasons (for the record; not sent)"</label>
                                        <textarea id=format!("{prefix}-reasons") name="input[reasons]" required maxlength="5000"></textarea>
                                        <FieldError result=decide_result field="reasons"/>
                                        <button type="submit">"Decide the appeal"</button>
                                    </ActionForm>
                                }.into_any(),
                                (None, None) => view! {
                                    <ActionForm action=decide>
                                        <input type="hidden" name="appeal" value=appeal_id/>
                                        <fieldset>
                                            <legend>"Your decision on the appeal (final)"</legend>
                                            <label class="inline"><input type="radio" name="outcome" value="uphold" checked=true/> " Uphold the decision"</label>
                                            <label class="inline"><input type="radio" name="outcome" value="modify"/> " Change it to the terms below"</label>
                                            <label class="inline"><input type="radio" name="outcome" value="lift"/> " Lift it"</label>
                                        </fieldset>
                                        <DecisionFields defaults=DecisionInput { kind: a.decision.kind.as_str().into(), ..Default::default() } people=None result=decide_result prefix time_zone=tz/>
                                        <button type="submit">"Decide the appeal"</button>
                                    </ActionForm>
                                }.into_any(),
                            }}
                        </article>
                    }
                }).collect_view()}
            </section>
            <section class="panel">
                <h2>"Recent decisions"</h2>
                {h.recent.into_iter().map(|v| {
                    let prefix = format!("c-{}", v.id.simple());
                    let id = v.id.to_string();
                    let correctable = !v.superseded && !v.from_appeal;
                    let kind = v.kind.as_str().to_owned();
                    view! {
                        <article>
                            <Decision v/>
                            {correctable.then(|| view! {
                                <details>
                                    <summary>"Correct this decision (a new record replaces it)"</summary>
                                    <ActionForm action=correct>
                                        <input type="hidden" name="decision" value=id/>
                                        <DecisionFields defaults=DecisionInput { kind, ..Default::default() } people=None result=correct_result prefix allow_lifted=true time_zone="the event's time zone".into()/>
                                        <button type="submit">"Record the correction"</button>
                                    </ActionForm>
                                </details>
                            })}
                        </article>
                    }
                }).collect_view()}
            </section>
            <HydrationMarker/>
        </Loaded>
    }
}

/// Who is expelled or banned, for an event's organizers (no case details).
#[component]
pub fn OutcomesPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, api::event_outcomes);
    view! {
        <Title text="Outcomes"/>
        <Loaded resource=data let:o>
            <h1>{o.event_name} " · outcomes"</h1>
            <p>"People the door refuses at this event: expelled from it, or banned by the organization."</p>
            <p><a rel="external" href=format!("/manage/events/{}/expulsions.csv", slug())>"Expulsions for the ticketing side (CSV: refund none)"</a></p>
            {if o.rows.is_empty() {
                view! { <p class="muted">"No one."</p> }.into_any()
            } else {
                view! {
                    <table class="table outcomes">
                        <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Measure"</th><th>"Decided"</th></tr></thead>
                        <tbody>
                            {o.rows.into_iter().map(|r| view! {
                                <tr><td>{r.name}</td><td>{r.email.unwrap_or_default()}</td><td>{r.measure}</td><td>{r.since}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <HydrationMarker/>
        </Loaded>
    }
}

/// One decision as the person it is about reads it, with the appeal form while allowed.
#[component]
fn MyDecisionView(d: MyDecision, appeal: Callback<(String, String)>, #[prop(optional)] by_link: bool) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let id = d.id.to_string();
    view! {
        <article class="my-decision" class:superseded=d.superseded>
            <h3>{d.summary}</h3>
            <p class="muted">{d.organization} " · " {d.event_name} " · decided " {d.decided}
                {d.superseded.then(|| view! { " · " <span class="badge">"replaced by a later decision"</span> })}
                {d.is_final.then(|| view! { " · " <span class="badge">"final: decided on appeal"</span> })}</p>
            {d.appeal.map(|a| view! { <Appeal a/> })}
            {d.appeal_until.clone().filter(|_| !d.is_final).map(|u| view! {
                <p>"You may appeal in writing until " <strong>{u}</strong> ". Someone who took no part in this decision will decide; that decision is final."</p>
            })}
            {d.can_appeal.then(|| view! {
                <form class="appeal-form" on:submit=move |ev| {
                    ev.prevent_default();
                    appeal.run((id.clone(), text.get_untracked()));
                }>
                    <label for=format!("appeal-{}", d.id.simple())>"Your appeal"</label>
                    <textarea id=format!("appeal-{}", d.id.simple()) rows="5" maxlength="10000" required
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <button type="submit">{if by_link { "Send my appeal" } else { "Appeal this decision" }}</button>
                </form>
            })}
        </article>
    }
}

/// "Decisions about you" on the person's own page.
#[component]
pub fn MyDecisions() -> impl IntoView {
    let appeal = ServerAction::<AppealDecision>::new();
    let data = Resource::new(move || appeal.version().get(), |_| api::my_decisions());
    let result = Signal::derive(move || appeal.value().get());
    let on_appeal = Callback::new(move |(decision, text): (String, String)| {
        appeal.dispatch(AppealDecision { decision, text });
    });
    view! {
        <Loaded resource=data quiet=true let:list>
            {(!list.is_empty()).then(|| view! {
                <section class="panel" id="decisions">
                    <h2>"Decisions about you"</h2>
                    <FormStatus result success="Your appeal was received. You will be told the decision in writing." fields=&[]/>
                    {list.into_iter().map(|d| view! { <MyDecisionView d appeal=on_appeal/> }).collect_view()}
                </section>
            })}
        </Loaded>
    }
}

/// The appeal page the notice links to (`/appeal/<token>`): no sign-in needed.
#[component]
pub fn AppealLinkPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let appeal = ServerAction::<AppealByLink>::new();
    let data = Resource::new(move || (token(), appeal.version().get()), |(t, _)| api::appeal_link(t));
    let result = Signal::derive(move || appeal.value().get());
    let on_appeal = Callback::new(move |(_, text): (String, String)| {
        appeal.dispatch(AppealByLink { token: token(), text });
    });
    view! {
        <Title text="Appeal a decision"/>
        <h1>"Appeal a decision"</h1>
        <FormStatus result success="Your appeal was received. You will be told the decision in writing." fields=&[]/>
        <Loaded resource=data let:v>
            <MyDecisionView d=v.decision appeal=on_appeal by_link=true/> <HydrationMarker/>
        </Loaded>
    }
}

/// Possible ban evasion, for responders.
#[component]
pub fn FlagsPage() -> impl IntoView {
    let resolve = ServerAction::<ResolveFlag>::new();
    let data = Resource::new(move || resolve.version().get(), |_| api::evasion_flags());
    let result = Signal::derive(move || resolve.value().get());
    view! {
        <Title text="Possible ban evasion"/>
        <h1>"Possible ban evasion"</h1>
        <p>"New registrations that may be a banned person under another name or address. Only the safety team sees this; nothing happens at the door until you confirm."</p>
        <FormStatus result success="Done." fields=&[]/>
        <Loaded resource=data let:flags>
            {flags.is_empty().then(|| view! { <p class="muted">"Nothing to look at."</p> })}
            {flags.into_iter().map(|f| {
                let (id, id2) = (f.id.to_string(), f.id.to_string());
                view! {
                    <article class="panel flag">
                        <h2>{f.registrant.name.clone()} " may be " {f.banned.name.clone()}</h2>
                        <p>{f.event_name} " · registered as " {f.registrant.email.unwrap_or_default()} " · flagged " {f.flagged}</p>
                        <p>"Banned: " {f.banned.email.unwrap_or_default()} " — " {f.ban}</p>
                        <p>"Why: " {f.why.join("; ")}</p>
                        <ActionForm action=resolve>
                            <input type="hidden" name="flag" value=id/>
                            <input type="hidden" name="action" value="confirm"/>
                            <button type="submit">"Same person: the ban covers them"</button>
                        </ActionForm>
                        <ActionForm action=resolve>
                            <input type="hidden" name="flag" value=id2/>
                            <input type="hidden" name="action" value="dismiss"/>
                            <button type="submit" class="secondary-ok">"Not the same person"</button>
                        </ActionForm>
                    </article>
                }
            }).collect_view()}
            <HydrationMarker/>
        </Loaded>
    }
}

/// The transparency report of an organization for a period.
#[component]
pub fn ReportPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (params.read().get("org").unwrap_or_default(), q.get("quarter"))
        },
        |(org, quarter)| api::transparency_report(org, quarter),
    );
    view! {
        <Title text="Transparency report"/>
        <Loaded resource=data let:r>
            {
                let period = format!(
                    "{}: {} to {} (UTC). Counts below five read \"fewer than 5\", and a count that would reveal one of them is not shown; no names. Only ended quarters are reported, so reports never overlap.",
                    r.quarter, r.from, r.to
                );
                let chosen = r.quarter.clone();
                view! {
                    <h1>{r.organization.clone()} " · transparency report"</h1>
                    <Form method="GET" action=format!("/manage/organizations/{}/report", params.read_untracked().get("org").unwrap_or_default())>
                        <label for="quarter">"Quarter"</label>
                        <select id="quarter" name="quarter">
                            {r.quarters.iter().map(|q| view! { <option value=q.clone() selected=*q == chosen>{q.clone()}</option> }).collect_view()}
                        </select>
                        <button type="submit">"Show"</button>
                    </Form>
                    <p class="muted">{period}</p>
                    {r.sections.into_iter().map(|s| view! {
                        <section class="panel">
                            <h2>{s.title}</h2>
                            <table class="table report">
                                <tbody>
                                    {s.rows.into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }).collect_view()}
                    <HydrationMarker/>
                }.into_any()
            }
        </Loaded>
    }
}
