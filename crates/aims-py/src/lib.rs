//! `aims._native`: the Rust core of the `aims` Python package. Every decision, mask, hash and
//! log entry is made by `aims-core`; this crate converts types, maps errors onto the
//! Python exceptions and releases the GIL while the core works. The Python layer
//! (`python/aims/`) adds the `@guard.tool` decorator and the public classes.

mod audit;
mod call;
mod convert;
mod decision;
mod errors;
mod oversight;
mod register;
mod runtime;
mod scanner;
mod testing;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<runtime::Runtime>()?;
    module.add_class::<decision::Decision>()?;
    module.add_class::<call::GuardedCall>()?;
    module.add_class::<scanner::Scanner>()?;
    module.add_class::<audit::AuditLog>()?;
    module.add_class::<testing::PolicyTester>()?;
    module.add_class::<oversight::Approvals>()?;
    module.add_class::<oversight::Incidents>()?;
    module.add_function(wrap_pyfunction!(register::load_register, module)?)?;
    module.add_function(wrap_pyfunction!(register::validate_register, module)?)?;
    module.add_function(wrap_pyfunction!(register::json_schema, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
