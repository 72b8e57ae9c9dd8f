//! The browser tracker: Plausible's event protocol from a few kilobytes of Wasm.
//!
//! Everything here is a pure state machine that builds and tests natively with
//! `cargo test`; the browser is reached only through [`tracker::Host`], which the
//! thin wasm-bindgen adapter in `bindings.rs` implements with the JS functions of
//! `js/adapter.js`. Data flows one way:
//!
//! ```text
//! JS event ─▶ bindings (export) ─▶ Tracker: ignore rules ─▶ exclusions ─▶ Payload ─▶ Host::send
//!                                          └─ links / tagged classes / engagement feed the same path
//! ```
//!
//! The crate is `no_std` and allocation-free in the browser build: std's
//! allocator and panic formatting alone would cost more than the whole size
//! budget. Text lives in fixed buffers ([`text::Text`], [`json::Writer`]); the
//! adapter writes each [`payload::Payload`] as JSON.
#![cfg_attr(feature = "browser", no_std)]

pub mod config;
pub mod engagement;
pub mod glob;
pub mod json;
pub mod links;
pub mod payload;
pub mod tagged;
pub mod text;
pub mod tracker;

#[cfg(feature = "browser")]
mod bindings;

/// The browser build allocates nothing, but wasm-bindgen links `alloc`, which
/// wants a global allocator: this one traps if anything ever asks.
#[cfg(feature = "browser")]
#[global_allocator]
static NO_ALLOCATOR: NoAllocator = NoAllocator;

#[cfg(feature = "browser")]
struct NoAllocator;

#[cfg(feature = "browser")]
// SAFETY: `alloc` never returns (it traps), so no pointer is ever handed out
// and `dealloc` is never called with one.
unsafe impl core::alloc::GlobalAlloc for NoAllocator {
    unsafe fn alloc(&self, _: core::alloc::Layout) -> *mut u8 {
        core::arch::wasm32::unreachable()
    }
    unsafe fn dealloc(&self, _: *mut u8, _: core::alloc::Layout) {}
}

/// A panic traps; the JS adapter catches the trap so the host page never sees
/// it. The code avoids panicking paths (no indexing, no unwrap), so this is a
/// last resort, not a control path.
#[cfg(feature = "browser")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// The unit tests run twice: natively (`cargo test`) and in headless Chromium
// (`wasm-bindgen-test-runner`), where the same code meets a real Wasm engine.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
