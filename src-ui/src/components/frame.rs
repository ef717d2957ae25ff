//! The window's frame around every screen: the top bar (brand and session
//! status), an optional navigation sidebar, the scrolling main area and the
//! footer. Signed out there is nothing to navigate, so no sidebar.
//! The sidebar and the top bar's controls are views of their own, so they can
//! follow the session (appear on unlock, go on lock).

use canopy_core::ipc::AppInfo;
use leptos::prelude::*;

use super::brand::Brand;
use super::footer::Footer;
use crate::api::ApiError;

/// The frame. `session` is the status shown in the top bar ("Not signed in");
/// `sidebar`, when given, is rendered left of the main area (a `Sidebar`);
/// the children are the current screen; `info` feeds the footer.
#[component]
pub fn Frame(
    info: LocalResource<Result<AppInfo, ApiError>>,
    #[prop(into)] session: Signal<String>,
    #[prop(optional, into)] sidebar: Option<ViewFn>,
    /// Controls at the top bar's end, after the status (the lock button).
    #[prop(optional, into)]
    topbar_end: Option<ViewFn>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="shell">
            <header class="topbar">
                <Brand />
                <div class="topbar-end">
                    <span class="session-status" data-testid="session-status">
                        {move || session.get()}
                    </span>
                    {topbar_end.map(|end| end.run())}
                </div>
            </header>
            <div class="shell-body">
                {sidebar.map(|sidebar| sidebar.run())}
                <main class="content">
                    <div class="content-inner">{children()}</div>
                </main>
            </div>
            <Footer info=info />
        </div>
    }
}
