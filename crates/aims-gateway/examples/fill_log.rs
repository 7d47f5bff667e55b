//! Benchmark fixture: appends N decisions to the audit log in DIR through the runtime, as a
//! long-running gateway would have. `cargo run --release --example fill_log -- POLICY DIR N`.

use std::path::PathBuf;

use aims_core::guard::ToolCall;
use aims_core::runtime::{DurabilityMode, Runtime, RuntimeConfig};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: fill_log POLICY DIR N";
    let policy = PathBuf::from(args.next().ok_or(usage)?);
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let count: u64 = args.next().ok_or(usage)?.parse()?;
    let runtime = Runtime::open(RuntimeConfig {
        policy_path: Some(policy),
        audit_dir: Some(dir),
        durability: DurabilityMode::None,
        ..RuntimeConfig::default()
    })?;
    for i in 0..count {
        let call = ToolCall::new("claude-code", "Bash", json!({"command": format!("ls {i}")}));
        runtime.check(&call);
    }
    runtime.flush()?;
    Ok(())
}
