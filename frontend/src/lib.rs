//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Code split out of the main wasm (`ui::lazy_pages!`, `#[lazy]` views) is fetched
    // before the page it draws is hydrated: views first, then (inside) the route.
    wasm_bindgen_futures::spawn_local(async {
        haven_app::before_hydrating().await;
        leptos::mount::hydrate_lazy(haven_app::App);
    });
}
