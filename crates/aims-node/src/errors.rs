//! Core errors thrown as instances of the package's JavaScript error classes.
//!
//! The classes (`AimsError`, `PolicyError`, `AuditError`, ...) are defined in JavaScript so
//! that they are real `Error` subclasses. At load, the JS layer hands this module one factory,
//! `(kind, message, details) => new Class(message, details)`, kept per Node environment
//! (worker threads each have their own). Native code builds every error through it, so
//! `err instanceof PolicyError` holds however deep in the core the error arose. Without a
//! factory (the native module loaded on its own) errors are plain `Error`s whose `code` is
//! the kind.

use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, JsObjectValue, Object, Unknown};
use napi::{Env, Error, JsValue, Status};
use serde_json::{json, Value};

/// The error kinds, named as the JS classes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad configuration or arguments.
    Aims,
    /// A policy that cannot be read or is invalid (with file, line and column).
    Policy,
    /// The audit log cannot be opened, written or verified.
    Audit,
}

impl Kind {
    fn class_name(self) -> &'static str {
        match self {
            Kind::Aims => "AimsError",
            Kind::Policy => "PolicyError",
            Kind::Audit => "AuditError",
        }
    }
}

type FactoryArgs = FnArgs<(String, String, Value)>;
type Factory = FunctionRef<FactoryArgs, Unknown<'static>>;

/// The per-environment factory, kept as Node-API instance data.
struct ErrorFactory(Factory);

fn set_factory(env: &Env, factory: Factory) -> napi::Result<()> {
    env.set_instance_data(ErrorFactory(factory), (), |_| {})
}

/// A JS error of `kind` with `message` and extra properties `details` (a JSON object),
/// ready to be returned as `Err` (napi-rs throws the very object, or rejects with it).
pub fn error(env: &Env, kind: Kind, message: String, details: Value) -> Error {
    match build(env, kind, &message, details) {
        Ok(error) => error,
        Err(_) => Error::new(Status::GenericFailure, message),
    }
}

fn build(env: &Env, kind: Kind, message: &str, details: Value) -> napi::Result<Error> {
    let Some(factory) = env.get_instance_data::<ErrorFactory>()? else {
        let mut plain: Object = env.create_error(Error::from_reason(message))?;
        plain.set_named_property("code", kind.class_name())?;
        plain.set_named_property("name", kind.class_name())?;
        if let Value::Object(fields) = details {
            for (key, value) in fields {
                plain.set_named_property(&key, value)?;
            }
        }
        return Ok(Error::from(plain.to_unknown()));
    };
    let made = factory
        .0
        .borrow_back(env)?
        .call((kind.class_name().to_owned(), message.to_owned(), details).into())?;
    Ok(Error::from(made))
}

/// An `AimsError` for bad arguments or configuration.
pub fn invalid(env: &Env, message: impl Into<String>) -> Error {
    error(env, Kind::Aims, message.into(), json!({}))
}

/// A `PolicyError` with the file, line and column the core located.
pub fn policy(env: &Env, err: &aims_core::policy::PolicyError) -> Error {
    use aims_core::policy::PolicyError;
    let details = match err {
        PolicyError::Invalid {
            file, line, column, ..
        } => json!({ "file": file.display().to_string(), "line": line, "column": column }),
        PolicyError::Io { file, .. } => json!({ "file": file.display().to_string() }),
    };
    error(env, Kind::Policy, err.to_string(), details)
}

/// An `AuditError`; integrity failures carry the first bad record index when one is known.
pub fn audit(env: &Env, err: &aims_core::audit::AuditError) -> Error {
    use aims_core::audit::AuditError;
    let details = match err {
        AuditError::Integrity(integrity) => json!({
            "integrity": true,
            "index": integrity.index,
            "reason": integrity.reason,
        }),
        _ => json!({ "integrity": false }),
    };
    error(env, Kind::Audit, err.to_string(), details)
}

/// Called once by the JS layer at load: `factory(kind, message, details)` returns the error
/// instance to throw. Not part of the public API.
#[napi_derive::napi(js_name = "__setErrorFactory", skip_typescript)]
pub fn set_error_factory(
    env: Env,
    factory: Function<FactoryArgs, Unknown<'static>>,
) -> napi::Result<()> {
    set_factory(&env, factory.create_ref()?)
}

/// The error a runtime could not be assembled or could not record with, as its JS class.
pub fn runtime(env: &Env, err: aims_core::runtime::RuntimeError) -> Error {
    use aims_core::audit::AuditError;
    use aims_core::runtime::RuntimeError;
    match err {
        RuntimeError::Config(message) => invalid(env, message),
        RuntimeError::Policy(err) => policy(env, &err),
        RuntimeError::Audit(err) => audit(env, &err),
        RuntimeError::Key(err) => audit(env, &AuditError::Key(err)),
        RuntimeError::Sink(err) => error(
            env,
            Kind::Audit,
            err.to_string(),
            json!({ "integrity": false }),
        ),
        // No oversight store, a refused approval step, a store or incident failure: as in the
        // Python package, these are `AimsError`s whose message says what was refused.
        other => invalid(env, other.to_string()),
    }
}
