//! The browser tracker: Plausible's event protocol from a few kilobytes of Wasm.
//!
//! Everything here is a pure state machine that builds and tests natively with
//! `cargo test`; the browser is reached only through [`tracker::Host`], which the
//! thin wasm-bindgen adapter in `bindings.rs` implements with the JS functions of
//! `js/adapter.js`. Data flows one way:
//!
//! ```text
//! JS event ─▶ bindings (export) ─▶ Tracker: ignore rules ─▶ exclusions ─▶ payload ─▶ Host::send
//!                                          └─ links / tagged classes / engagement feed the same path
//! ```
//!
//! The crate is `no_std` in the browser build: std's allocator and panic
//! formatting alone would cost more than the whole size budget.
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]

extern crate alloc;

pub mod config;
pub mod engagement;
pub mod glob;
pub mod json;
pub mod links;
pub mod payload;
pub mod tagged;
pub mod text;
pub mod tracker;
pub mod url;

#[cfg(all(target_arch = "wasm32", not(test)))]
mod bindings;

#[cfg(all(target_arch = "wasm32", not(test)))]
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without the atomics feature has exactly one
// thread, which is the condition AssumeSingleThreaded asks for.
static ALLOCATOR: TrapOnOom<lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator>> =
    TrapOnOom(unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) });

/// An allocator that never returns null: it traps when memory cannot grow.
/// Once the optimizer sees that, alloc's default out-of-memory handler — which
/// formats the failed size with `core::fmt`, ~2 KB — is dead code.
#[cfg(all(target_arch = "wasm32", not(test)))]
struct TrapOnOom<A>(A);

#[cfg(all(target_arch = "wasm32", not(test)))]
// SAFETY: every method forwards to the inner allocator; a null result traps
// instead of being returned, which GlobalAlloc allows (it may abort).
unsafe impl<A: core::alloc::GlobalAlloc> core::alloc::GlobalAlloc for TrapOnOom<A> {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        non_null(self.0.alloc(layout))
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        self.0.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new_size: usize) -> *mut u8 {
        non_null(self.0.realloc(ptr, layout, new_size))
    }
}

#[cfg(all(target_arch = "wasm32", not(test)))]
fn non_null(ptr: *mut u8) -> *mut u8 {
    if ptr.is_null() {
        core::arch::wasm32::unreachable()
    }
    ptr
}

/// A panic traps; the JS adapter catches the trap so the host page never sees
/// it. The code avoids panicking paths (no indexing, no unwrap), so this is a
/// last resort, not a control path.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// The unit tests run twice: natively (`cargo test`) and in headless Chromium
// (`wasm-bindgen-test-runner`), where the same code meets a real Wasm engine.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
