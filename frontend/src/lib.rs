//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Some pages are loaded only where used (`ui::lazy_pages!`): hydrating waits for the
    // current page's code.
    leptos::mount::hydrate_lazy(haven_app::App);
}
