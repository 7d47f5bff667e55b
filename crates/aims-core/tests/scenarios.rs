//! The guarded-call scenarios of `tests/scenarios/` (format in its README), run through the
//! Rust runtime's protocol: the reference every binding's runner is held to.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a broken fixture fails it loudly

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use aims_core::audit::{verify, VerifyOptions};
use aims_core::guard::{CallError, ToolCall};
use aims_core::policy::{Format, Policy};
use aims_core::runtime::{HostError, Runtime};
use serde_json::{json, Value};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/scenarios");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenario in {}", dir.display());
    files
}

struct Host {
    scratch: tempfile::TempDir,
    scenario: Value,
    runtime: Option<Runtime>,
    requests: HashMap<String, String>,
}

impl Host {
    fn new(scenario: Value) -> Self {
        let mut host = Host {
            scratch: tempfile::tempdir().unwrap(),
            scenario,
            runtime: None,
            requests: HashMap::new(),
        };
        host.runtime = Some(host.open());
        host
    }

    fn open(&self) -> Runtime {
        let dir = self.scratch.path();
        let mut config = json!({
            "policy_text": self.scenario["policy"].to_string(),
            "audit_dir": dir.join("log"),
            "durability": "none",
        });
        if self.scenario["oversight"] == json!(true) {
            config["oversight_store"] = json!(dir.join("oversight.db"));
        }
        if let Some(register) = self.scenario["register"].as_str() {
            config["register_dir"] = json!(repo_root().join(register));
        }
        Runtime::from_json(&config.to_string()).unwrap()
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().unwrap()
    }

    fn step(&mut self, step: &Value) {
        let name = step["name"].as_str().unwrap_or("?");
        let expect = &step["expect"];
        if let Some(call) = step.get("call") {
            self.call(name, serde_json::from_value(call.clone()).unwrap(), step);
        } else if let Some(vote) = step.get("vote") {
            let id = &self.requests[vote["request"].as_str().unwrap()];
            let approvals = self.runtime().approvals().unwrap();
            let (by, role) = (vote["by"].as_str().unwrap(), vote["role"].as_str().unwrap());
            let voted = if vote["approve"] == json!(false) {
                approvals.reject(id, by, role, None)
            } else {
                approvals.approve(id, by, role, None)
            };
            match voted {
                Ok(request) => {
                    check(name, expect, "status", &json!(request.status.as_str()));
                    check(name, expect, "error", &Value::Null);
                }
                Err(err) => check(name, expect, "error", &class(&HostError::from(&err))),
            }
        } else if let Some(policy) = step.get("reload") {
            let reloaded = Policy::from_text(&policy.to_string(), Format::Json, "<inline>")
                .map_err(|err| HostError::from(&err))
                .and_then(|policy| {
                    self.runtime()
                        .reload(policy)
                        .map_err(|err| HostError::from(&err))
                });
            let error = reloaded.err().map_or(Value::Null, |err| class(&err));
            check(name, expect, "error", &error);
        } else if step["restart"] == json!(true) {
            self.runtime().flush().unwrap();
            drop(self.runtime.take());
            self.runtime = Some(self.open());
        } else {
            panic!("{name}: unknown step {step}");
        }
    }

    fn call(&mut self, name: &str, call: ToolCall, step: &Value) {
        let expect = &step["expect"];
        let run = &step["run"];
        match self.runtime().admit(call) {
            Ok(guarded) => {
                check(name, expect, "admitted", &json!(true));
                check(name, expect, "verdict", &json!(guarded.decision().verdict));
                check(name, expect, "arguments", guarded.arguments());
                let decision = guarded.decision().clone();
                self.compare_request(name, expect, decision.approval_id.as_deref());
                if let Some(error) = run["error"].as_str() {
                    guarded.fail(error).unwrap();
                    return;
                }
                let result = run.get("result").cloned().unwrap_or(json!({}));
                match guarded.finish(result) {
                    Ok(result) => check(name, expect, "result", &result),
                    Err(err) => check(name, expect, "error", &class(&HostError::from(&err))),
                }
            }
            Err(err) => {
                let host = HostError::from(&err);
                check(name, expect, "admitted", &json!(false));
                check(name, expect, "error", &class(&host));
                let decision = err.decision().unwrap();
                check(name, expect, "verdict", &json!(decision.verdict));
                let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
                check(name, expect, "reason_codes", &json!(codes));
                if let CallError::ApprovalRequired { status, .. } = &err {
                    check(name, expect, "status", &json!(status));
                }
                let approval_id = decision.approval_id.clone();
                self.compare_request(name, expect, approval_id.as_deref());
                if let (Some(save), Some(id)) = (step["save_request"].as_str(), approval_id) {
                    self.requests.insert(save.to_owned(), id);
                }
            }
        }
    }

    fn compare_request(&self, name: &str, expect: &Value, approval_id: Option<&str>) {
        check(name, expect, "has_request", &json!(approval_id.is_some()));
        if let Some(saved) = expect["request"].as_str() {
            assert_eq!(
                approval_id,
                Some(self.requests[saved].as_str()),
                "{name}: request"
            );
        }
        if expect["new_request"] == json!(true) {
            let id = approval_id.unwrap_or_else(|| panic!("{name}: no request"));
            assert!(
                self.requests.values().all(|saved| saved != id),
                "{name}: the request {id} is not new"
            );
        }
    }

    fn finish(mut self) {
        let runtime = self.runtime.take().unwrap();
        runtime.flush().unwrap();
        drop(runtime);
        let report = verify(&self.scratch.path().join("log"), &VerifyOptions::default()).unwrap();
        assert!(report.records > 0);
    }
}

fn class(err: &HostError) -> Value {
    json!(err.class.name())
}

/// Compares `actual` with `expect[field]` when the scenario pins that field.
fn check(name: &str, expect: &Value, field: &str, actual: &Value) {
    if let Some(wanted) = expect.get(field) {
        assert_eq!(actual, wanted, "{name}: {field}");
    }
}

#[test]
fn every_scenario_runs_as_written() {
    for file in scenario_files() {
        let scenario: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        let mut host = Host::new(scenario.clone());
        for step in scenario["steps"].as_array().unwrap() {
            host.step(step);
        }
        host.finish();
    }
}
