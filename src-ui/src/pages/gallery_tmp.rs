//! TEMPORARY: a look at every part of the kit, for screenshots only. Not kept.
use crate::components::badge::{Badge, Tone};
use crate::components::button::{Button, ButtonVariant};
use crate::components::callout::{Callout, CalloutTone};
use crate::components::card::Card;
use crate::components::modal::Modal;
use crate::components::progress::ProgressBar;
use crate::components::security_banner::SecurityBanner;
use crate::components::states::{EmptyState, ErrorState, LoadingState, Skeleton};
use crate::components::text_field::TextField;
use leptos::prelude::*;

#[component]
pub fn Gallery() -> impl IntoView {
    let name = RwSignal::new(String::from("ana@example"));
    let pw = RwSignal::new(String::new());
    let open = RwSignal::new(true);
    view! {
        <div class="welcome">
            <SecurityBanner title="This server's key does not match" actions=|| view!{ <Button variant=ButtonVariant::Secondary>"What to do"</Button> }>
                <p>"Canopy refused to connect because the server's key is not one of the fingerprints your company gave. Do not sign in; call your company."</p>
            </SecurityBanner>
            <Card title="Buttons and badges" subtitle="Every variant" header_end=|| view!{ <Badge tone=Tone::Warning>"Pending"</Badge> }>
                <div class="row">
                    <Button>"Sign in"</Button>
                    <Button variant=ButtonVariant::Secondary>"Cancel"</Button>
                    <Button variant=ButtonVariant::Danger>"Delete"</Button>
                    <Button loading=true>"Signing in…"</Button>
                    <Button disabled=true>"Disabled"</Button>
                </div>
                <p class="row">
                    <Badge>"Offline"</Badge>" "<Badge tone=Tone::Success>"Synced"</Badge>" "
                    <Badge tone=Tone::Info>"New"</Badge>" "<Badge tone=Tone::Warning>"Pending"</Badge>" "
                    <Badge tone=Tone::Danger>"Rejected"</Badge>
                </p>
            </Card>
            <Card title="Fields and progress">
                <div class="stack">
                    <TextField id="email" label="Email" value=name hint="The address your company has for you." error=Signal::derive(|| Some("This is not an email address.".to_string())) />
                    <TextField id="pw" label="Password" value=pw input_type="password" hint="At least 12 characters." />
                    <ProgressBar label="Rank progress: Gold" value=Some(1240.0) max=2000.0 value_text=Signal::derive(|| "1,240 of 2,000 PV".to_string()) />
                    <ProgressBar label="Downloading your team" value=Some(35.0) max=100.0 />
                </div>
            </Card>
            <Callout title="Info callout">"Something to read."</Callout>
            <Callout tone=CalloutTone::Danger title="Danger callout">"Something went wrong."</Callout>
            <Card title="States">
                <EmptyState title="No orders yet" text="Orders you take appear here, even when you are offline." />
                <LoadingState label="Loading your team…" />
                <Skeleton lines=3 />
                <ErrorState title="Could not load your team" message="The server did not answer." on_retry=|| () />
            </Card>
            <Modal open=open title="Discard this enrollment?" actions=|| view!{ <Button variant=ButtonVariant::Secondary>"Keep"</Button><Button variant=ButtonVariant::Danger>"Discard"</Button> }>
                <p>"The details you typed will be lost."</p>
            </Modal>
        </div>
    }
}
