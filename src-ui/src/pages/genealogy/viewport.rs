//! Virtual scrolling for the list and the tree: only the rows in sight (and a few on
//! either side) are in the DOM; two spacers, sized through the CSSOM (the CSP forbids
//! `style` attributes), stand for the rest. Every row is [`ROW_HEIGHT`] pixels tall.

use std::ops::Range;

use leptos::html::Div;
use leptos::prelude::*;

/// A row's height in pixels: `.gen-row` in `styles.css` says the same.
pub const ROW_HEIGHT: i32 = 40;
/// Rows rendered beyond each edge of the visible area.
const OVERSCAN: usize = 6;

/// A scroll container's state: its element, its spacers and where it is scrolled.
#[derive(Clone, Copy)]
pub struct Viewport {
    pub node: NodeRef<Div>,
    pub top: NodeRef<Div>,
    pub bottom: NodeRef<Div>,
    /// `scrollTop` and `clientHeight`, in pixels.
    metrics: RwSignal<(i32, i32)>,
}

impl Viewport {
    /// A viewport whose spacers follow `total` rows; call from a component.
    pub fn new(total: Signal<usize>) -> Self {
        let viewport = Self {
            node: NodeRef::new(),
            top: NodeRef::new(),
            bottom: NodeRef::new(),
            metrics: RwSignal::new((0, 0)),
        };
        // Measure once mounted, and again whenever the window is resized.
        Effect::new(move || {
            if viewport.node.get().is_some() {
                viewport.measure();
            }
        });
        let resize = window_event_listener(leptos::ev::resize, move |_| viewport.measure());
        on_cleanup(move || resize.remove());
        Effect::new(move || {
            let range = viewport.range(total.get());
            let rest = total.get().saturating_sub(range.end);
            set_height(viewport.top, range.start);
            set_height(viewport.bottom, rest);
        });
        viewport
    }

    /// Reads the scroll position and height (the container's `on:scroll`).
    pub fn measure(&self) {
        if let Some(el) = self.node.get_untracked() {
            let now = (el.scroll_top(), el.client_height());
            if self.metrics.get_untracked() != now {
                self.metrics.set(now);
            }
        }
    }

    /// The rows to render out of `total`.
    pub fn range(&self, total: usize) -> Range<usize> {
        let (top, height) = self.metrics.get();
        let row = ROW_HEIGHT.max(1);
        let first = usize::try_from(top / row).unwrap_or(0);
        let shown = usize::try_from(height / row + 2).unwrap_or(0);
        let start = first.saturating_sub(OVERSCAN).min(total);
        let end = (first + shown + OVERSCAN).min(total);
        start..end
    }

    /// Rows one screen holds (for Page Up and Page Down).
    pub fn page(&self) -> usize {
        let (_, height) = self.metrics.get_untracked();
        usize::try_from(height / ROW_HEIGHT.max(1))
            .unwrap_or(1)
            .max(1)
    }

    /// Scrolls just enough to show row `index`.
    pub fn reveal(&self, index: usize) {
        let Some(el) = self.node.get_untracked() else {
            return;
        };
        let row_top = i32::try_from(index)
            .unwrap_or(i32::MAX / ROW_HEIGHT)
            .saturating_mul(ROW_HEIGHT);
        let (top, height) = (el.scroll_top(), el.client_height());
        if row_top < top {
            el.set_scroll_top(row_top);
        } else if row_top + ROW_HEIGHT > top + height {
            el.set_scroll_top(row_top + ROW_HEIGHT - height);
        }
        self.measure();
    }

    /// Back to the first row (a new sort, filter or root).
    pub fn scroll_to_top(&self) {
        if let Some(el) = self.node.get_untracked() {
            el.set_scroll_top(0);
        }
        self.measure();
    }
}

/// Sizes a spacer to stand for `rows` rows.
fn set_height(spacer: NodeRef<Div>, rows: usize) {
    if let Some(el) = spacer.get() {
        let px = rows.saturating_mul(ROW_HEIGHT.unsigned_abs() as usize);
        // A CSSOM write, which the CSP allows (unlike a `style` attribute); it cannot fail
        // for a plain `height` in pixels, and a failure would only leave the old height.
        let _ = leptos::web_sys::HtmlElement::style(&el).set_property("height", &format!("{px}px"));
    }
}

/// Where a key moves the active row to, out of `total` rows, or `None` if the key
/// doesn't move it.
pub fn moved(key: &str, active: usize, total: usize, page: usize) -> Option<usize> {
    if total == 0 {
        return None;
    }
    let last = total - 1;
    Some(match key {
        "ArrowDown" => (active + 1).min(last),
        "ArrowUp" => active.saturating_sub(1),
        "Home" => 0,
        "End" => last,
        "PageDown" => (active + page).min(last),
        "PageUp" => active.saturating_sub(page),
        _ => return None,
    })
}
