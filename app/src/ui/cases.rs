//! Concern filing, a case as its reporter and as the team sees it, the team's queue.

use super::components::{FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{
    self, AddNote, AddWitness, AssignOwner, CaseView, ChangeStatus, ConfirmMatch, DeclareConflict, RelateCase,
    ReporterCaseView, RequestSigninLink, SendMessage, TeamCaseView,
};
use crate::domain::{CaseKind, ConcernForm, ContactChannel, DomainError, Witnesses};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

fn kind_label(k: CaseKind) -> &'static str {
    match k {
        CaseKind::Concern => "Concern before the event",
        CaseKind::Incident => "Incident report",
    }
}

fn error_for(errors: &[DomainError], field: &str) -> Option<String> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.clone())
}

/// A field's error under it, from a server-side check of the whole form.
#[component]
fn Problem(errors: Vec<DomainError>, field: &'static str) -> impl IntoView {
    error_for(&errors, field).map(|m| view! { <p class="field-error" id=format!("{field}-error")>{m}</p> })
}

#[component]
pub fn ConcernPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let form = Resource::new(
        move || (params.read().get("slug").unwrap_or_default(), query.read().get("draft")),
        |(slug, draft)| api::concern_form(slug, draft),
    );
    view! {
        <Title text="Tell the safety team"/>
        <Loaded resource=form signed_out=|| view! { <SignInToFile/> } let:v>
            {if v.may_file {
                view! { <ConcernFormView view=v/> }.into_any()
            } else {
                view! {
                    <h1>"Tell the " {v.event_name} " safety team"</h1>
                    <p class="notice bad" role="alert">
                        "Only people registered for this event can file a concern here. "
                        "If you registered with another address, sign out and sign in with that one."
                    </p>
                }.into_any()
            }}
        </Loaded>
    }
}

/// Filing needs to know who is writing: a one-time link to the registered address brings
/// the person back to this form, signed in.
#[component]
fn SignInToFile() -> impl IntoView {
    let params = use_params_map();
    let request = ServerAction::<RequestSigninLink>::new();
    let result = Signal::derive(move || request.value().get());
    let here = move || format!("/events/{}/concern", params.read().get("slug").unwrap_or_default());
    view! {
        <h1>"Tell the safety team"</h1>
        <p>
            "To file a concern, confirm who you are: we send a one-time link to the address you "
            "registered with. It brings you back to this form."
        </p>
        <ActionForm action=request>
            <input type="hidden" name="return_to" value=here/>
            <label for="email">"Your registered e-mail address"</label>
            <input id="email" type="email" name="email" required autocomplete="email" maxlength="254"/>
            <FieldError result field="email"/>
            <button type="submit">"E-mail me a link"</button>
        </ActionForm>
        <p class="muted">"Already signed in elsewhere? " <a href="/signin">"Sign in"</a> " first."</p>
        <HydrationMarker/>
    }
}

#[component]
fn ConcernFormView(view: crate::api::ConcernFormView) -> impl IntoView {
    let f: ConcernForm = view.form.clone();
    let errors = view.errors.clone();
    let action = format!("/events/{}/concern", view.event_slug);
    let channel = if f.contact_channel.is_empty() { "haven".to_owned() } else { f.contact_channel.clone() };
    let witnesses = if f.witnesses.is_empty() { "unsure".to_owned() } else { f.witnesses.clone() };
    let is_incident = f.kind == "incident";
    let e = move |field: &'static str| view! { <Problem errors=errors.clone() field/> };
    view! {
        <h1>"Tell the " {view.event_name.clone()} " safety team"</h1>
        <p>
            "What you write here is read only by the event's safety team, and kept in strict "
            "confidence. The person you tell us about never learns of it from Haven."
        </p>
        {(!view.errors.is_empty() || view.photo_error.is_some()).then(|| view! {
            <div class="notice bad" role="alert" id="form-problems">
                <p>"Nothing was sent yet. Please check what is marked below; everything you typed is still here."</p>
                {view.photo_error.clone().map(|p| view! { <p>{format!("Photo: {p}. Please choose it again.")}</p> })}
            </div>
        })}
        <form class="concern" method="post" action=action enctype="multipart/form-data">
            <fieldset>
                <legend>"What is this about?"</legend>
                <label class="inline"><input type="radio" name="kind" value="concern" checked=!is_incident/>
                    " Someone who may attend worries me"</label>
                <label class="inline"><input type="radio" name="kind" value="incident" checked=is_incident/>
                    " Something happened at the event"</label>
            </fieldset>
            <fieldset>
                <legend>"Who is it? (anything you know)"</legend>
                <label for="person_name">"Name"</label>
                <input id="person_name" name="person_name" maxlength="200" value=f.person_name.clone()/>
                {e("person_name")}
                <label for="person_email">"E-mail address"</label>
                <input id="person_email" name="person_email" type="email" maxlength="254" value=f.person_email.clone()/>
                {e("person_email")}
                <label for="person_handle">"Online handle"</label>
                <input id="person_handle" name="person_handle" maxlength="100" value=f.person_handle.clone()/>
                {e("person_handle")}
                <label for="person_description">"Description (how to recognize them)"</label>
                <textarea id="person_description" name="person_description" maxlength="2000" rows="3">{f.person_description.clone()}</textarea>
                {e("person_description")}
                <label for="photo">"A photo (optional; JPEG, PNG, WebP or GIF, up to 5 MB)"</label>
                <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp,image/gif"/>
                {e("photo")}
            </fieldset>
            <fieldset>
                <legend>"What happened, or what do you fear?"</legend>
                <label for="narrative">"In your own words"</label>
                <textarea id="narrative" name="narrative" required maxlength="10000" rows="8">{f.narrative.clone()}</textarea>
                {e("narrative")}
            </fieldset>
            <fieldset>
                <legend>"What would make you feel safe?"</legend>
                <label class="inline"><input type="checkbox" name="wish_escort" value="on" checked=f.wish_escort/>
                    " An escort"</label>
                <label for="escort_times">"When would you like an escort?"</label>
                <input id="escort_times" name="escort_times" maxlength="500" value=f.escort_times.clone()/>
                {e("escort_times")}
                <label class="inline"><input type="checkbox" name="wish_told_on_arrival" value="on" checked=f.wish_told_on_arrival/>
                    " Being told if the person arrives"</label>
                <label class="inline"><input type="checkbox" name="wish_keep_distance" value="on" checked=f.wish_keep_distance/>
                    " Keeping a distance from them"</label>
                <label class="inline"><input type="checkbox" name="wish_staff_aware" value="on" checked=f.wish_staff_aware/>
                    " Staff being aware"</label>
                <label for="wish_other">"Something else"</label>
                <textarea id="wish_other" name="wish_other" maxlength="1000" rows="2">{f.wish_other.clone()}</textarea>
                {e("wish_other")}
            </fieldset>
            <fieldset>
                <legend>"How should we contact you?"</legend>
                {[("haven", ContactChannel::Haven), ("email", ContactChannel::Email), ("phone", ContactChannel::Phone), ("in_person", ContactChannel::InPerson)]
                    .into_iter()
                    .map(|(value, c)| view! {
                        <label class="inline"><input type="radio" name="contact_channel" value=value checked=channel == value/>
                            " " {c.label()}</label>
                    })
                    .collect_view()}
                <label for="contact_detail">"Phone number or other detail (only the team sees it)"</label>
                <input id="contact_detail" name="contact_detail" maxlength="300" value=f.contact_detail.clone()/>
                {e("contact_detail")}
                <label class="inline">
                    <input type="checkbox" name="shield_identity" value="on" checked=f.shield_identity/>
                    " Only the case's owner may know who I am (others on the team see a code name; anyone who asks to know must say why, and you will see who asked)"
                </label>
            </fieldset>
            <fieldset>
                <legend>"Did anyone else see it?"</legend>
                {[("yes", "Yes"), ("no", "No"), ("unsure", "Not sure")].into_iter().map(|(value, label)| view! {
                    <label class="inline"><input type="radio" name="witnesses" value=value checked=witnesses == value/>
                        " " {label}</label>
                }).collect_view()}
                <label for="witness_details">"Who, if you want to say"</label>
                <textarea id="witness_details" name="witness_details" maxlength="2000" rows="2">{f.witness_details.clone()}</textarea>
                {e("witness_details")}
            </fieldset>
            <button type="submit">"Send to the safety team"</button>
        </form>
        <HydrationMarker/>
    }
}

#[component]
pub fn CasePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let message = ServerAction::<SendMessage>::new();
    let team_action = RwSignal::new(0u32);
    let case = Resource::new(
        move || (params.read().get("reference").unwrap_or_default(), message.version().get(), team_action.get()),
        |(reference, _, _)| api::case(reference),
    );
    provide_context(TeamActions(team_action));
    let filed = move || query.read().get("filed").is_some();
    view! {
        <Title text="Case"/>
        {move || filed().then(|| view! {
            <p class="notice ok" role="status">
                "Thank you. Your report reached the safety team. Keep this page's reference to follow it."
            </p>
        })}
        <Loaded resource=case let:v>
            {match v {
                CaseView::Reporter(v) => view! { <ReporterCase v=*v message/> }.into_any(),
                CaseView::Team(v) => Suspend::new(team_case(*v, message)).into_any(),
                CaseView::Erased(v) => view! { <ErasedCase v=*v/> }.into_any(),
            }}
        </Loaded>
    }
}

/// What is left of a case whose text was erased.
#[component]
fn ErasedCase(v: crate::api::ErasedCaseView) -> impl IntoView {
    view! {
        <Title text=v.reference.clone()/>
        <p class="muted">{v.event_name.clone()} " · " {kind_label(v.kind)}</p>
        <h1>"Case " <span class="reference">{v.reference.clone()}</span></h1>
        <section class="panel erased">
            <p class="status">"Status: " <strong>{v.status.label()}</strong> " · filed " {v.filed.clone()}</p>
            <p>"Its text was erased on " {v.erased.clone()} ". Only its reference, dates and the decisions resting on it are kept."</p>
            {(!v.decisions.is_empty()).then(|| view! {
                <h2>"Decisions resting on it"</h2>
                <ul class="decisions">{v.decisions.iter().map(|d| view! { <li>{d.clone()}</li> }).collect_view()}</ul>
            })}
        </section>
        <HydrationMarker/>
    }
}

/// The reporter withdraws an open report: its text is erased at once.
#[component]
fn WithdrawCase(reference: String) -> impl IntoView {
    let withdraw = ServerAction::<crate::api::WithdrawCase>::new();
    let result = Signal::derive(move || withdraw.value().get());
    reload_on_success(result);
    view! {
        <section class="panel withdraw">
            <h2>"Withdraw this report"</h2>
            <p>"The team stops working on it and what you wrote is erased for good. A report a decision rests on stays."</p>
            <ActionForm action=withdraw>
                <input type="hidden" name="reference" value=reference/>
                <button type="submit" class="secondary">"Withdraw and erase my report"</button>
            </ActionForm>
            <FormStatus result success="Withdrawn: its text is erased."/>
        </section>
    }
}

/// A responder asks to know who reported a shielded case, saying why.
#[component]
fn RevealForm(reference: String) -> impl IntoView {
    let reveal = ServerAction::<crate::api::RevealReporter>::new();
    let result = Signal::derive(move || reveal.value().get());
    reload_on_success(result);
    view! {
        <ActionForm action=reveal>
            <input type="hidden" name="reference" value=reference/>
            <label for="reveal-reason">"Ask to know who reported this (the reporter sees who asked and why)"</label>
            <textarea id="reveal-reason" name="reason" required maxlength="2000" rows="2"></textarea>
            <FieldError result field="reason"/>
            <button type="submit" class="secondary">"Ask to know"</button>
        </ActionForm>
        <FormStatus result success="You now know who reported it." fields=&["reason"]/>
    }
}

/// How long a resolved or closed case's text is kept, and the one extension.
#[component]
fn RetentionPanel(reference: String, retention: crate::api::RetentionView) -> impl IntoView {
    let extend = ServerAction::<crate::api::ExtendRetention>::new();
    let result = Signal::derive(move || extend.value().get());
    reload_on_success(result);
    view! {
        <section class="panel retention">
            <h2>"Keeping"</h2>
            <p>"Its text is kept until " <strong>{retention.until.clone()}</strong> ", then erased."</p>
            {if retention.extended {
                view! { <p class="muted">"Its keeping was extended once; it cannot be extended again."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=extend>
                        <input type="hidden" name="reference" value=reference/>
                        <label for="extend-days">{format!("Keep it longer by (days, up to {})", retention.max_days)}</label>
                        <input id="extend-days" name="days" type="number" min="1" max=retention.max_days.to_string() required/>
                        <FieldError result field="days"/>
                        <label for="extend-reason">"Why (logged)"</label>
                        <textarea id="extend-reason" name="reason" required maxlength="2000" rows="2"></textarea>
                        <FieldError result field="reason"/>
                        <button type="submit">"Extend once"</button>
                    </ActionForm>
                    <FormStatus result success="Extended." fields=&["days", "reason"]/>
                }.into_any()
            }}
        </section>
    }
}

/// Reloads the case once the action whose result this is succeeds.
fn reload_on_success(result: Signal<Option<Result<(), crate::api::AppError>>>) {
    let TeamActions(bump) = expect_context::<TeamActions>();
    Effect::new(move |_| {
        if matches!(result.get(), Some(Ok(()))) {
            bump.update(|n| *n += 1);
        }
    });
}

/// Bumped after each team action so the case reloads.
#[derive(Clone, Copy)]
struct TeamActions(RwSignal<u32>);

#[component]
fn Messages(messages: Vec<crate::api::MessageView>) -> impl IntoView {
    view! {
        <ol class="messages">
            {messages.into_iter().map(|m| view! {
                <li class=if m.from_team { "from-team" } else { "from-reporter" }>
                    <p class="meta">{m.author} " · " {m.at}</p>
                    <p class="body">{m.body}</p>
                </li>
            }).collect_view()}
        </ol>
    }
}

#[component]
fn MessageForm(reference: String, message: ServerAction<SendMessage>, label: &'static str) -> impl IntoView {
    let result = Signal::derive(move || message.value().get());
    view! {
        <ActionForm action=message>
            <input type="hidden" name="reference" value=reference/>
            <label for="message-body">{label}</label>
            <textarea id="message-body" name="body" required maxlength="5000" rows="3"></textarea>
            <FieldError result field="body"/>
            <button type="submit">"Send"</button>
        </ActionForm>
        <FormStatus result success="Sent." fields=&["body"]/>
    }
}

#[component]
fn ReporterCase(v: ReporterCaseView, message: ServerAction<SendMessage>) -> impl IntoView {
    let TeamActions(bump) = expect_context::<TeamActions>();
    let wishes = wish_list(&v.wishes);
    view! {
        <Title text=v.reference.clone()/>
        <p class="muted">{v.event_name.clone()} " · " {kind_label(v.kind)}</p>
        <h1>"Your report " <span class="reference">{v.reference.clone()}</span></h1>
        <p class="status">"Status: " <strong>{v.status.label()}</strong> " · filed " {v.filed.clone()}</p>
        <section class="panel">
            <h2>"Messages with the safety team"</h2>
            <Messages messages=v.messages.clone()/>
            <MessageForm reference=v.reference.clone() message label="Write to the team"/>
        </section>
        <super::plans::ReporterPlan
            reference=v.reference.clone()
            arrangements=v.arrangements.clone()
            response=v.plan_response.clone()
            on_change=Callback::new(move |_| bump.update(|n| *n += 1))
        />
        <section class="panel">
            <h2>"What you told us"</h2>
            <p class="muted">"About: " {v.person.summary()}</p>
            <p class="narrative">{v.narrative.clone()}</p>
            {(!wishes.is_empty()).then(|| view! { <p>"You asked for: " {wishes.join(", ")}</p> })}
            <p>"Contact: " {v.contact_channel.label()}</p>
            {v.kept_until.clone().map(|until| view! { <p class="muted">"What you wrote is kept until " {until} ", then erased."</p> })}
        </section>
        {v.shielded.then(|| view! {
            <section class="panel reveals">
                <h2>"Who knows who you are"</h2>
                <p>"You asked that only the case's owner know. Anyone else on the team who asks must say why:"</p>
                {if v.reveals.is_empty() {
                    view! { <p>"No one yet."</p> }.into_any()
                } else {
                    view! { <ul>{v.reveals.clone().into_iter().map(|r| view! { <li>{r.by} " · " {r.at} " · " {r.reason}</li> }).collect_view()}</ul> }.into_any()
                }}
            </section>
        })}
        {v.may_withdraw.then(|| view! { <WithdrawCase reference=v.reference.clone()/> })}
        <section class="panel readers">
            <h2>"Who on the team has read this"</h2>
            {if v.readers.is_empty() {
                view! { <p>"No one yet."</p> }.into_any()
            } else {
                view! { <ul>{v.readers.clone().into_iter().map(|r| view! { <li>{r.name} " · " {r.at}</li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <HydrationMarker/>
    }
}

fn wish_list(w: &crate::domain::SafetyWishes) -> Vec<String> {
    let mut out = Vec::new();
    if w.escort {
        out.push(match &w.escort_times {
            Some(t) => format!("an escort ({t})"),
            None => "an escort".to_owned(),
        });
    }
    if w.told_on_arrival {
        out.push("being told if the person arrives".into());
    }
    if w.keep_distance {
        out.push("keeping a distance".into());
    }
    if w.staff_aware {
        out.push("staff being aware".into());
    }
    if let Some(o) = &w.other {
        out.push(o.clone());
    }
    out
}

/// The team's view of a case, loaded in the browser only where it is shown: a reporter's
/// phone never downloads it. Hydrating a page that shows it waits for its code first
/// ([`super::before_hydrating`]), found by the `data-split` mark on its heading.
#[lazy]
pub(super) fn team_case(v: TeamCaseView, message: ServerAction<SendMessage>) -> AnyView {
    view! { <TeamCase v message/> }.into_any()
}

#[component]
fn TeamCase(v: TeamCaseView, message: ServerAction<SendMessage>) -> impl IntoView {
    let TeamActions(bump) = expect_context::<TeamActions>();
    let status = ServerAction::<ChangeStatus>::new();
    let owner = ServerAction::<AssignOwner>::new();
    let note = ServerAction::<AddNote>::new();
    let witness = ServerAction::<AddWitness>::new();
    let confirm = ServerAction::<ConfirmMatch>::new();
    let relate = ServerAction::<RelateCase>::new();
    let conflict = ServerAction::<DeclareConflict>::new();
    Effect::new(move |_| {
        let total = status.version().get()
            + owner.version().get()
            + note.version().get()
            + witness.version().get()
            + confirm.version().get()
            + relate.version().get();
        if total > 0 {
            bump.update(|n| *n += 1);
        }
    });
    let status_result = Signal::derive(move || status.value().get());
    let note_result = Signal::derive(move || note.value().get());
    let witness_result = Signal::derive(move || witness.value().get());
    let relate_result = Signal::derive(move || relate.value().get());
    let confirm_result = Signal::derive(move || confirm.value().get());
    let r = v.reference.clone();
    let r0 = r.clone();
    let r1 = r.clone();
    let r2 = r.clone();
    let r3 = r.clone();
    let r4 = r.clone();
    let r5 = r.clone();
    let wishes = wish_list(&v.wishes);
    let attach_action = format!("/cases/{}/attachments", v.reference);
    view! {
        <Title text=v.reference.clone()/>
        <p class="muted"><a href=format!("/respond/{}", v.event_slug)>{v.event_name.clone()} " queue"</a> " · " {kind_label(v.kind)}</p>
        <h1 data-split="team-case">"Case " <span class="reference">{v.reference.clone()}</span></h1>
        <p class="status">
            "Status: " <strong>{v.status.label()}</strong> " · filed " {v.filed.clone()}
            " · acknowledge by " {v.acknowledge_by.clone()}
            {v.overdue.then(|| view! { " " <span class="badge bad">"overdue"</span> })}
        </p>
        <section class="panel actions">
            <ActionForm action=status>
                <input type="hidden" name="reference" value=r0/>
                <label for="status">"Move to"</label>
                <select id="status" name="status">
                    {v.next_statuses.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
                <button type="submit">"Change status"</button>
            </ActionForm>
            <FormStatus result=status_result success="Status changed."/>
            <ActionForm action=owner>
                <input type="hidden" name="reference" value=r1/>
                <label for="owner">"Owner: " {v.owner.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| "nobody yet".into())}</label>
                <select id="owner" name="person">
                    {v.responders.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                </select>
                <button type="submit">"Assign"</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h2>"The report"</h2>
            <p><strong>"Reporter: "</strong>{v.reporter.name.clone()} " · " {v.reporter.email.clone().unwrap_or_default()}
                {v.shield.as_ref().map(|s| view! { " " <span class="badge">{if s.known { "shielded: you know who this is" } else { "shielded" }}</span> })}</p>
            {v.shield.clone().filter(|s| !s.known).map(|_| view! { <RevealForm reference=v.reference.clone()/> })}
            <p><strong>"Contact: "</strong>{v.contact_channel.label()} {v.contact_detail.clone().map(|d| format!(" · {d}"))}</p>
            <p><strong>"About: "</strong>{v.person.summary()}</p>
            {v.person.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            <p class="narrative">{v.narrative.clone()}</p>
            {(!wishes.is_empty()).then(|| view! { <p><strong>"Asks for: "</strong>{wishes.join(", ")}</p> })}
            <p><strong>"Witnesses: "</strong>{match v.witnesses { Witnesses::Yes => "yes", Witnesses::No => "no", Witnesses::Unsure => "not sure" }}
                {v.witness_details.clone().map(|w| format!(" · {w}"))}</p>
        </section>
        <super::plans::TeamPlan
            reference=v.reference.clone()
            plan=v.plan.clone()
            on_change=Callback::new(move |_| bump.update(|n| *n += 1))
        />
        <super::decisions::CaseDecisionsPanel reference=v.reference.clone()/>
        {v.retention.clone().map(|retention| view! { <RetentionPanel reference=v.reference.clone() retention/> })}
        <section class="panel">
            <h2>"Messages with the reporter"</h2>
            <Messages messages=v.messages.clone()/>
            <MessageForm reference=r.clone() message label="Write to the reporter"/>
        </section>
        <section class="panel">
            <h2>"Private notes"</h2>
            <ul class="notes">{v.notes.iter().map(|n| view! { <li><p class="meta">{n.author.clone()} " · " {n.at.clone()}</p><p>{n.body.clone()}</p></li> }).collect_view()}</ul>
            <ActionForm action=note>
                <input type="hidden" name="reference" value=r2/>
                <label for="note-body">"Add a note (the reporter never sees notes)"</label>
                <textarea id="note-body" name="body" required maxlength="5000" rows="3"></textarea>
                <FieldError result=note_result field="body"/>
                <button type="submit">"Add note"</button>
            </ActionForm>
        </section>
        <section class="panel people">
            <h2>"The person named"</h2>
            {(!v.linked.is_empty()).then(|| view! {
                <p>"Confirmed: " {v.linked.iter().map(|p| format!("{} ({})", p.name, p.email.clone().unwrap_or_default())).collect::<Vec<_>>().join("; ")}</p>
            })}
            {if v.candidates.is_empty() {
                view! { <p class="muted">"No registration matches the description."</p> }.into_any()
            } else {
                view! {
                    <table class="table candidates">
                        <thead><tr><th>"Registered"</th><th>"Why"</th><th></th></tr></thead>
                        <tbody>
                            {v.candidates.clone().into_iter().map(|c| {
                                let r = r.clone();
                                view! {
                                    <tr>
                                        <td>{c.name.clone()}<br/><span class="muted">{c.email.clone().unwrap_or_default()} " · " {c.events.join(", ")}</span></td>
                                        <td>{c.reasons.join("; ")}</td>
                                        <td>
                                            <ActionForm action=confirm>
                                                <input type="hidden" name="reference" value=r/>
                                                <input type="hidden" name="person" value=c.person_id.to_string()/>
                                                <button type="submit" class="secondary-ok">"This is them"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <FormStatus result=confirm_result success="Linked."/>
            {(!v.same_person.is_empty()).then(|| view! {
                <h3>"Other cases naming this person"</h3>
                <ul>{v.same_person.iter().map(|c| view! { <li><a href=format!("/cases/{}", c.reference)>{c.reference.clone()}</a> " · " {c.status.label()}</li> }).collect_view()}</ul>
            })}
        </section>
        <section class="panel">
            <h2>"Related cases"</h2>
            <ul class="related">{v.related.iter().map(|c| view! { <li class="flag">{c.relation.clone()} " (" <a href=format!("/cases/{}", c.reference)>{c.reference.clone()}</a> ")"</li> }).collect_view()}</ul>
            <ActionForm action=relate>
                <input type="hidden" name="reference" value=r3/>
                <label for="earlier">"This case is linked to an earlier case"</label>
                <input id="earlier" name="earlier" placeholder="HVN-…" maxlength="20"/>
                <FieldError result=relate_result field="earlier"/>
                <select name="relation" aria-label="How">
                    <option value="retaliation_against_reporter">"as retaliation against its reporter"</option>
                    <option value="retaliation_against_witness">"as retaliation against a witness"</option>
                    <option value="false_information">"as false information in it"</option>
                </select>
                <button type="submit">"Link"</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h2>"Witnesses"</h2>
            <ul>{v.witness_entries.iter().map(|w| view! { <li><strong>{w.name.clone()}</strong> " · " {w.contact.clone()} <p>{w.statement.clone()}</p></li> }).collect_view()}</ul>
            <ActionForm action=witness>
                <input type="hidden" name="reference" value=r4/>
                <label for="w-name">"Name"</label>
                <input id="w-name" name="name" required maxlength="200"/>
                <FieldError result=witness_result field="name"/>
                <label for="w-contact">"How to reach them"</label>
                <input id="w-contact" name="contact" maxlength="300"/>
                <label for="w-statement">"What they saw"</label>
                <textarea id="w-statement" name="statement" maxlength="5000" rows="2"></textarea>
                <button type="submit">"Add witness"</button>
            </ActionForm>
        </section>
        <section class="panel" id="attachments">
            <h2>"Attachments"</h2>
            <ul>{v.attachments.iter().map(|a| view! {
                <li><a rel="external" href=format!("/cases/{}/attachments/{}", v.reference, a.id)>{a.name.clone()}</a>
                    " · " {format!("{} KB", a.size.div_ceil(1024))} " · " {a.at.clone()}</li>
            }).collect_view()}</ul>
            <form method="post" action=attach_action enctype="multipart/form-data">
                <label for="file">"Add a file (image, PDF or text, up to 10 MB)"</label>
                <input id="file" type="file" name="file" required/>
                <button type="submit">"Upload"</button>
            </form>
        </section>
        <section class="panel">
            <h2>"History"</h2>
            <ol>{v.history.iter().map(|h| view! { <li>{h.at.clone()} " · " {h.to.label()} " · " {h.by.clone()}</li> }).collect_view()}</ol>
            <h3>"Read by"</h3>
            <ul class="reads">{v.reads.iter().map(|x| view! { <li>{x.name.clone()} " · " {x.at.clone()} " · " {x.what.clone()}</li> }).collect_view()}</ul>
        </section>
        <section class="panel">
            <h2>"Conflict of interest"</h2>
            <p>"If you know the people involved, step away: the case will no longer exist for you."</p>
            <ActionForm action=conflict>
                <input type="hidden" name="reference" value=r5/>
                <button type="submit" class="secondary">"I have a conflict of interest"</button>
            </ActionForm>
        </section>
        <HydrationMarker/>
    }
}

#[component]
pub fn RespondHomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| api::respond_home());
    view! {
        <Title text="Safety team"/>
        <h1>"Safety team"</h1>
        <Loaded resource=home let:h>
            {if h.events.is_empty() {
                view! { <p>"You are not on any event's safety team."</p> }.into_any()
            } else {
                view! {
                    <p><a href="/ban-evasion">"Possible ban evasion"</a></p>
                    <ul class="event-list">
                        {h.events.into_iter().map(|e| view! {
                            <li class="card">
                                <h3><a href=format!("/respond/{}", e.slug)>{e.name}</a></h3>
                                <p>{e.open_cases} " open · " {e.overdue} " overdue"</p>
                            </li>
                        }).collect_view()}
                    </ul>
                    <HydrationMarker/>
                }.into_any()
            }}
        </Loaded>
    }
}

#[component]
pub fn QueuePage() -> impl IntoView {
    let params = use_params_map();
    let search = use_query_map();
    let queue = Resource::new(
        move || (params.read().get("slug").unwrap_or_default(), search.read().get("q")),
        |(slug, q)| api::case_queue(slug, q),
    );
    view! {
        <Loaded resource=queue let:q>
            {
                let none = if q.query.is_empty() { "No cases." } else { "No case matches." };
                view! {
                    <Title text=format!("{} · cases", q.event_name)/>
                    <h1>{q.event_name.clone()} " · cases"</h1>
                    <Form method="GET" action=format!("/respond/{}", q.event_slug)>
                        <label for="q">"Search by reference, person or owner"</label>
                        <input id="q" type="search" name="q" value=q.query maxlength="100"/>
                        <button type="submit">"Search"</button>
                    </Form>
                    {if q.rows.is_empty() {
                        view! { <p>{none}</p> }.into_any()
                    } else {
                        view! {
                            <table class="table queue">
                                <thead><tr><th>"Case"</th><th>"About"</th><th>"Status"</th><th>"Acknowledge by"</th><th>"Owner"</th></tr></thead>
                                <tbody>
                                    {q.rows.into_iter().map(|row| view! {
                                        <tr class:overdue=row.overdue>
                                            <td><a href=format!("/cases/{}", row.reference)>{row.reference.clone()}</a>
                                                <br/><span class="muted">{kind_label(row.kind)} " · " {row.filed}</span></td>
                                            <td>{row.person}
                                                {(row.same_person > 0).then(|| view! { <br/><span class="badge">{format!("{} other case(s) name them", row.same_person)}</span> })}
                                                {row.flag.map(|f| view! { <br/><span class="badge bad">{f}</span> })}</td>
                                            <td>{row.status.label()}</td>
                                            <td>{row.acknowledge_by}{row.overdue.then(|| view! { " " <span class="badge bad">"overdue"</span> })}</td>
                                            <td>{row.owner.unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <HydrationMarker/>
                }.into_any()
            }
        </Loaded>
    }
}
