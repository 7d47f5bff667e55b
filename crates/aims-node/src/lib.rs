//! aims-node: the Node.js binding of aims (npm package `aims`).
//!
//! Thin by design: every decision, mask, hash and log record is made by `aims-core`; this
//! crate converts JavaScript values to and from the core types and maps core errors to the
//! package's JavaScript error classes. The calling conventions that JavaScript does better
//! (`guard.wrap`, the error classes themselves) live in the package's small JS layer
//! (`index.js`), which loads this native module.
//!
//! - [`errors`]: core errors as instances of the JS error classes.
//! - [`call`]: tool calls and decisions as plain JS objects.
//! - [`guard`]: the `Guard` class.
//! - [`audit`]: `AuditLog`: offline verification and proofs.
//! - [`oversight`]: `Approvals` and `Incidents` (`guard.approvals`, `guard.incidents`).
//! - [`scanner`]: `Scanner`: PII and secret detection and masking.
//! - [`register`]: register loading and validation.
//! - [`schema`]: the register types' JSON Schemas.
//! - [`testing`]: `PolicyTester`, a guard on a manual clock (conformance vectors, policy tests).

pub mod audit;
pub mod call;
pub mod errors;
pub mod guard;
pub mod oversight;
pub mod register;
pub mod scanner;
pub mod schema;
pub mod testing;
