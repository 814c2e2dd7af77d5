//! The second factor: confirming a sign-in with an authenticator app or a recovery code,
//! and setting an app up. Staff open it; registrants never load its code.

use super::components::{FieldError, FormStatus, HydrationMarker, Loaded};
use crate::api::{self, BeginTotp, ConfirmTotp, SecondFactorStatus, VerifySecondFactor};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let query = use_query_map();
    let return_to = Signal::derive(move || query.read().get("return_to").unwrap_or_else(|| "/me".to_owned()));
    let status = Resource::new(|| (), |_| api::second_factor());
    view! {
        <Title text="Second factor"/>
        <h1>"Second factor"</h1>
        <Loaded resource=status let:s>
            <Held s=s.clone()/>
            {if s.set_up && !s.passed {
                view! { <Verify return_to/> }.into_any()
            } else {
                view! { <SetUp s return_to/> }.into_any()
            }}
            <HydrationMarker/>
        </Loaded>
    }
}

/// The roles waiting for this sign-in to be confirmed.
#[component]
fn Held(s: SecondFactorStatus) -> impl IntoView {
    (!s.held_back.is_empty()).then(|| {
        view! {
            <p class="notice" id="held-back">
                "Your organization asks staff to confirm their sign-in with a second factor. Until you do, these roles wait: "
                {s.held_back.iter().map(|r| format!("{} · {}", r.role.label(), r.scope)).collect::<Vec<_>>().join("; ")}
            </p>
        }
    })
}

#[component]
fn Verify(return_to: Signal<String>) -> impl IntoView {
    let verify = ServerAction::<VerifySecondFactor>::new();
    let result = Signal::derive(move || verify.value().get());
    view! {
        <section class="panel">
            <h2>"Confirm it is you"</h2>
            <ActionForm action=verify>
                <input type="hidden" name="return_to" value=return_to/>
                <label for="code">"The 6-digit code from your authenticator app, or one of your recovery codes"</label>
                <input id="code" name="code" required autocomplete="one-time-code" inputmode="text" maxlength="20"/>
                <FieldError result field="code"/>
                <button type="submit">"Confirm"</button>
            </ActionForm>
            <FormStatus result success="" fields=&["code"]/>
            <p class="muted">"Lost your phone and your recovery codes? An administrator of your organization can remove your second factor."</p>
        </section>
    }
}

#[component]
fn SetUp(s: SecondFactorStatus, return_to: Signal<String>) -> impl IntoView {
    let begin = ServerAction::<BeginTotp>::new();
    let confirm = ServerAction::<ConfirmTotp>::new();
    let begun = Signal::derive(move || begin.value().get());
    let confirmed = Signal::derive(move || confirm.value().get().map(|r| r.map(|_| ())));
    let codes = move || confirm.value().get().and_then(Result::ok);
    let set_up = s.set_up;
    let intro = if set_up {
        "An authenticator app is set up and this sign-in is confirmed. You can replace the app (a new phone): the old one stops working once the new one is confirmed."
    } else {
        "Set up an authenticator app (any app that shows 6-digit codes: FreeOTP, Aegis, Google Authenticator, 1Password, …). Each sign-in then asks for its current code."
    };
    view! {
        <section class="panel" id="set-up">
            <h2>{if set_up { "Your authenticator app" } else { "Set up an authenticator app" }}</h2>
            <p>{intro}</p>
            {set_up.then(|| view! { <p>{format!("Recovery codes left: {}", s.recovery_codes_left)}</p> })}
            <Show when=move || codes().is_none()>
                <ActionForm action=begin>
                    <button type="submit" id="begin-totp">{if set_up { "Set up a new app" } else { "Set up" }}</button>
                </ActionForm>
                <FormStatus result=Signal::derive(move || begun.get().map(|r| r.map(|_| ()))) success=""/>
                {move || begun.get().and_then(Result::ok).map(|e| view! {
                    <div class="enrollment">
                        <p>"Scan this code with the app, or type the key below into it."</p>
                        <div class="qr" inner_html=e.qr_svg></div>
                        <p>"Key: " <code id="totp-secret">{e.secret}</code></p>
                        <ActionForm action=confirm>
                            <label for="confirm-code">"The code the app shows now"</label>
                            <input id="confirm-code" name="code" required autocomplete="one-time-code" inputmode="numeric" maxlength="10"/>
                            <FieldError result=confirmed field="code"/>
                            <button type="submit">"Confirm the app"</button>
                        </ActionForm>
                        <FormStatus result=confirmed success="" fields=&["code"]/>
                    </div>
                })}
            </Show>
            {move || codes().map(|codes| view! {
                <div class="notice ok" role="status">
                    <p>"The app is set up and this sign-in is confirmed. Keep these recovery codes somewhere safe: each works once, instead of a code from the app, if you lose your phone. They are not shown again."</p>
                    <ul class="recovery-codes">{codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
                    <p><a href=return_to.get() id="continue">"Continue"</a></p>
                </div>
            })}
        </section>
    }
}
