//! abitest_maturin_cffi: the native half of maturin's cffi bindings.
//!
//! A plain C-ABI shared library: maturin runs cbindgen over this crate to get a C header and
//! hands it to cffi, which writes an ABI-mode (`ffi.dlopen`) module. Nothing here is compiled
//! against Python: no headers, no libpython, no pyo3-build-config. So the four "compile-time
//! facts" are honestly zero: there is no PY_VERSION_HEX, Py_LIMITED_API, Py_TARGET_ABI3T or
//! Py_GIL_DISABLED this code was built with. They become `#define`s in the generated header
//! and integer constants of the cffi `lib`.
use std::os::raw::c_int;

/// No Python headers were seen: 0.
pub const ABITEST_PY_VERSION_HEX: c_int = 0;
/// Not compiled for any limited API: 0.
pub const ABITEST_PY_LIMITED_API: c_int = 0;
/// Not compiled for abi3t: 0.
pub const ABITEST_PY_TARGET_ABI3T: c_int = 0;
/// Not compiled for a free-threaded build: 0.
pub const ABITEST_PY_GIL_DISABLED: c_int = 0;

/// a + b on C ints; `*ok` = 0 when the sum does not fit in a C int (nothing overflows in Rust).
///
/// # Safety
/// `ok` must point to a writable C int (the Python wrapper passes `ffi.new("int *")`).
#[no_mangle]
pub unsafe extern "C" fn abitest_add(a: c_int, b: c_int, ok: *mut c_int) -> c_int {
    match a.checked_add(b) {
        Some(sum) => {
            *ok = 1;
            sum
        }
        None => {
            *ok = 0;
            0
        }
    }
}
