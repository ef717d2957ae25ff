//! A QR code drawn as SVG from the `qrcode` crate's modules: one path of unit squares,
//! so it scales crisply and needs no image or inline style (the CSP forbids both).

use leptos::prelude::*;
use qrcode::{Color, EcLevel, QrCode};

/// The quiet zone around the code, in modules, as the QR standard asks.
const QUIET: usize = 4;

/// `text` as a QR code, with `label` for screen readers; an error callout when the text
/// is too long for any QR code (never the case for an `otpauth://` address).
#[component]
pub fn QrCodeImage(#[prop(into)] text: String, #[prop(into)] label: String) -> impl IntoView {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => {
            let width = code.width();
            let path = module_path(&code.to_colors(), width);
            let size = width + 2 * QUIET;
            view! {
                <svg
                    class="qr"
                    role="img"
                    aria-label=label
                    viewBox=format!("0 0 {size} {size}")
                    shape-rendering="crispEdges"
                    data-testid="qr-code"
                >
                    <rect class="qr-bg" width=size height=size />
                    <path class="qr-fg" d=path />
                </svg>
            }
            .into_any()
        }
        Err(error) => view! {
            <p class="field-error" role="alert">
                {format!("This code can't be drawn ({error}); type the key below instead.")}
            </p>
        }
        .into_any(),
    }
}

/// One `M x y h1 v1 h-1 z` square per dark module, offset by the quiet zone.
fn module_path(colors: &[Color], width: usize) -> String {
    let mut path = String::with_capacity(colors.len() * 8);
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (index % width + QUIET, index / width + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    path
}
