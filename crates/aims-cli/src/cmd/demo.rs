//! `aims demo`: the main job. A scripted, seeded session of the customer-service agent of
//! `examples/register/` runs a few hundred tool calls through the guard with
//! `examples/policy.yaml`: reads, refunds (some capped, rate limited or over budget, one
//! approved by a second person), emails (one redacted, one carrying a secret and blocked),
//! and attempts at forbidden tools that open an incident. Then the signed audit log is
//! verified offline with the public key and the auditor's evidence pack is written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use aims_core::audit::keys::{NoteSigner, NoteVerifier};
use aims_core::audit::{verify, VerifyOptions};
use aims_core::guard::{ToolCall, ToolOutcome, Verdict};
use aims_core::runtime::{Runtime, RuntimeConfig};
use serde_json::{json, Value};

use super::report::{self, PackRequest};
use super::CliError;
use aims_core::report::Period;

/// Marks a directory as written by the demo, so a rerun may clear it.
const MARKER: &str = ".aims-demo";
const AGENT: &str = "cs-agent";
const SYSTEM: &str = "cs-assistant";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the demo writes its log, keys and stores (cleared first if a previous demo wrote it).
    #[arg(long, default_value = "target/aims-demo")]
    out: PathBuf,
    /// The directory holding `policy.yaml` and `register/`.
    #[arg(long, default_value = "examples")]
    examples: PathBuf,
    /// How many scripted tool calls the agent makes.
    #[arg(long, default_value_t = 300)]
    calls: u32,
    /// The seed of the scripted session.
    #[arg(long, default_value_t = 42001)]
    seed: u64,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    prepare_out(&args.out)?;
    let key_path = args.out.join("keys").join("aims-demo.key");
    fs::create_dir_all(args.out.join("keys"))?;
    let signer = NoteSigner::generate("aims-demo")?;
    let pub_path = signer.write(&key_path)?;
    let log_dir = args.out.join("log");
    let runtime = Runtime::open(RuntimeConfig {
        policy_path: Some(args.examples.join("policy.yaml")),
        register_dir: Some(args.examples.join("register")),
        audit_dir: Some(log_dir.clone()),
        signing_key: Some(key_path.clone()),
        oversight_store: Some(args.out.join("oversight.db")),
        ..RuntimeConfig::default()
    })?;

    let started = Instant::now();
    let mut session = Session::new(&runtime, args.seed);
    for step in 0..args.calls {
        let call = session.next_call(step);
        session.handle(call)?;
    }
    runtime.flush()?;
    let elapsed = started.elapsed();

    let verifier = NoteVerifier::read(&pub_path)?;
    let report = verify(
        &log_dir,
        &VerifyOptions {
            public_key: Some(verifier),
            checkpoint: None,
        },
    )?;
    let incidents = runtime.incidents()?.list(None)?;

    let tally = &session.tally;
    println!(
        "aims demo: {} tool calls by {AGENT} ({SYSTEM}) in {:.0?}",
        args.calls, elapsed
    );
    println!(
        "  allowed {}  warned {}  redacted {}  approval required {}  denied {}",
        tally.allow, tally.warn, tally.redact, tally.require_approval, tally.deny
    );
    println!(
        "  approvals: {} granted by a second person and executed, {} rejected",
        tally.approved, tally.rejected
    );
    println!(
        "  results masked before the model saw them: {}",
        tally.results_masked
    );
    println!("  incidents opened: {}", incidents.len());
    for incident in &incidents {
        println!(
            "    {} [{:?}] {}",
            incident.id, incident.severity, incident.title
        );
    }
    println!(
        "audit log {}: {} records, intact, its signed checkpoint verifies with {}",
        log_dir.display(),
        report.records,
        pub_path.display()
    );
    let pack_dir = args.out.join("evidence");
    let written = report::write(&PackRequest {
        register: &args.examples.join("register"),
        logs: std::slice::from_ref(&log_dir),
        pubkey: Some(&pub_path),
        oversight: &[args.out.join("oversight.db")],
        key: Some(&key_path),
        period: Period::default(),
        out: &pack_dir,
    })?;
    println!("verify them yourself:");
    println!(
        "  aims audit verify {} --pubkey {}",
        log_dir.display(),
        pub_path.display()
    );
    println!(
        "  aims report verify {} --pubkey {}",
        pack_dir.display(),
        pub_path.display()
    );
    Ok(written)
}

/// Clears a previous demo's output; refuses to touch a directory the demo did not write.
fn prepare_out(out: &Path) -> Result<(), CliError> {
    if out.exists() {
        let empty = fs::read_dir(out)?.next().is_none();
        if !empty && !out.join(MARKER).exists() {
            return Err(format!(
                "{} exists and was not written by aims demo; choose another --out",
                out.display()
            )
            .into());
        }
        fs::remove_dir_all(out)?;
    }
    fs::create_dir_all(out)?;
    fs::write(out.join(MARKER), "written by aims demo; safe to delete\n")?;
    Ok(())
}

#[derive(Debug, Default)]
struct Tally {
    allow: u32,
    warn: u32,
    redact: u32,
    require_approval: u32,
    deny: u32,
    approved: u32,
    rejected: u32,
    results_masked: u32,
}

/// The scripted agent: a seeded generator of realistic calls and the fake tools that answer.
struct Session<'a> {
    runtime: &'a Runtime,
    rng: u64,
    tally: Tally,
}

impl<'a> Session<'a> {
    fn new(runtime: &'a Runtime, seed: u64) -> Self {
        Self {
            runtime,
            rng: seed.max(1),
            tally: Tally::default(),
        }
    }

    /// xorshift64: deterministic across platforms, no dependency.
    fn next_u64(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn pick<'s>(&mut self, options: &[&'s str]) -> &'s str {
        let at = (self.next_u64() % options.len() as u64) as usize;
        options[at]
    }

    fn next_call(&mut self, step: u32) -> ToolCall {
        let order_id = format!("ORD-{:05}", 10_000 + self.next_u64() % 90_000);
        let (tool, args) = match step {
            // Fixed beats of the story, at fixed places in the session.
            7 => (
                "issue_refund",
                json!({"order_id": order_id, "amount": 240, "currency": "EUR", "reason": "parcel lost in transit"}),
            ),
            23 => (
                "send_email",
                json!({"to": "jane.doe@gmail.com", "subject": "Your refund", "body": "We refunded card 4111 1111 1111 1111; call us on +44 20 7946 0958."}),
            ),
            41 => (
                "send_email",
                json!({"to": "ops@partner.example.org", "subject": "access", "body": "use api_key=sk-live-51HxQ2eZvKYlo2C8Ns7d1kPq to fetch it"}),
            ),
            57 => ("shell", json!({"cmd": "cat /etc/passwd"})),
            58 => ("delete_file", json!({"path": "/var/data/orders.db"})),
            _ => match self.next_u64() % 100 {
                0..=39 => ("lookup_order", json!({"order_id": order_id})),
                40..=59 => (
                    "search_kb",
                    json!({"query": self.pick(&["return policy", "shipping times", "warranty", "refund status"])}),
                ),
                60..=84 => {
                    let amount =
                        [15, 29, 45, 60, 80, 95, 130, 260, 640][(self.next_u64() % 9) as usize];
                    (
                        "issue_refund",
                        json!({"order_id": order_id, "amount": amount, "currency": "EUR", "reason": self.pick(&["damaged", "late delivery", "wrong size"])}),
                    )
                }
                85..=97 => {
                    let to = self.pick(&[
                        "alex.smith@yahoo.com",
                        "m.muller@web.de",
                        "support-team@example.com",
                    ]);
                    (
                        "send_email",
                        json!({"to": to, "subject": "About your order", "body": format!("Your order {order_id} is on its way.")}),
                    )
                }
                _ => ("shell", json!({"cmd": "curl http://internal/admin"})),
            },
        };
        let mut call = ToolCall::new(AGENT, tool, args);
        call.ai_system_id = Some(SYSTEM.to_owned());
        call.conversation_id = Some(format!("conv-{}", step / 10));
        call.call_id = Some(format!("call-{step:04}"));
        call.context = json!({"user_roles": ["customer"], "environment": "demo"});
        call
    }

    fn handle(&mut self, call: ToolCall) -> Result<(), CliError> {
        let decision = self.runtime.check(&call);
        match decision.verdict {
            Verdict::Allow => self.tally.allow += 1,
            Verdict::Warn => self.tally.warn += 1,
            Verdict::Redact => self.tally.redact += 1,
            Verdict::RequireApproval => self.tally.require_approval += 1,
            Verdict::Deny => self.tally.deny += 1,
        }
        let decision = match (&decision.verdict, &decision.approval_id) {
            (Verdict::RequireApproval, Some(approval_id)) => {
                let approvals = self.runtime.approvals()?;
                // A support lead (a second person, not the agent) decides; large ones go to
                // finance, who turns one in three down.
                if self.next_u64().is_multiple_of(3) {
                    approvals.reject(
                        approval_id,
                        "lee",
                        "finance",
                        Some("needs the carrier's report first"),
                    )?;
                    self.tally.rejected += 1;
                    return Ok(());
                }
                approvals.approve(approval_id, "dana", "support-lead", Some("order checked"))?;
                self.tally.approved += 1;
                self.runtime.execute_approved(approval_id, &call)?
            }
            _ => decision,
        };
        if !decision.may_proceed() && decision.verdict != Verdict::RequireApproval {
            return Ok(());
        }
        let mut args = call.args.clone();
        if decision.verdict == Verdict::Redact {
            self.runtime.guard().apply_redactions(&decision, &mut args);
        }
        let started = Instant::now();
        let result = fake_tool(&call.tool, &args);
        self.runtime
            .record_outcome(&call, &decision, &ToolOutcome::ok(started.elapsed()))?;
        let post = self.runtime.check_result(&call, &result);
        if post.verdict == Verdict::Redact {
            let mut shown = result;
            if !self
                .runtime
                .guard()
                .apply_redactions(&post, &mut shown)
                .is_empty()
            {
                self.tally.results_masked += 1;
            }
        }
        Ok(())
    }
}

/// The customer-service tools, answering as a real backend would (with PII in results).
fn fake_tool(tool: &str, args: &Value) -> Value {
    let order_id = args.get("order_id").cloned().unwrap_or(Value::Null);
    match tool {
        "lookup_order" => json!({
            "order_id": order_id,
            "status": "shipped",
            "customer": {"email": "jane.doe@gmail.com", "card": "5555 5555 5555 4444"},
        }),
        "search_kb" => json!({"answer": "Refunds are issued within 5 working days."}),
        "issue_refund" => {
            json!({"refund_id": format!("RF-{}", order_id.as_str().unwrap_or("?")), "status": "issued"})
        }
        "send_email" => json!({"message_id": "msg-1", "status": "queued"}),
        _ => json!({"status": "done"}),
    }
}
