//! The bindings generator, built from the workspace so it matches the uniffi version the
//! library uses: `uniffi-bindgen generate --library target/debug/libaims_ffi.so -l kotlin`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
