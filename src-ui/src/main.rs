//! Entry point of the Canopy UI (wasm32): installs the panic hook and mounts the app.
//! Everything visible lives in `app.rs`, `pages/` and `components/`.

mod api;
mod app;
mod components;
mod format;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
