//! The hook protocols of the coding agents: how each names a tool call in its stdin JSON, and
//! how each wants allow, ask, deny, rewritten input, masked output and errors answered.

use serde_json::{json, Map, Value};

use super::{approval_text, Event, Reply, Ruling};
use aims_core::guard::ToolCall;

/// A coding agent whose hook protocol aims answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    /// Claude Code's PreToolUse and PostToolUse command hooks.
    ClaudeCode,
    /// Codex CLI's hooks (Claude-shaped, without `ask`; `allow` only with `updatedInput`).
    Codex,
    /// Gemini CLI's BeforeTool and AfterTool hooks.
    Gemini,
    /// Cursor's beforeShellExecution, beforeMCPExecution and preToolUse hooks.
    Cursor,
    /// GitHub Copilot CLI's preToolUse hooks.
    Copilot,
}

impl Agent {
    /// The agent id calls are recorded under unless one is configured.
    pub fn default_agent_id(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini-cli",
            Agent::Cursor => "cursor",
            Agent::Copilot => "copilot-cli",
        }
    }

    /// Reads the tool call (and, after the tool ran, its result) from the hook's stdin JSON.
    pub(crate) fn read_event(self, agent_id: &str, input: &Value) -> Result<Event, String> {
        let field = |names: &[&str]| names.iter().find_map(|name| input.get(*name));
        let text = |names: &[&str]| field(names).and_then(Value::as_str).map(str::to_owned);
        let (tool, args) = match self {
            Agent::Cursor => match (text(&["tool_name"]), text(&["command"])) {
                (Some(tool), _) => (tool, json_or_object(field(&["tool_input"]))?),
                (None, Some(command)) => ("Shell".to_owned(), json!({ "command": command })),
                (None, None) => return Err("the hook input names no tool or command".into()),
            },
            Agent::Copilot => (
                text(&["toolName", "tool_name"]).ok_or("the hook input names no toolName")?,
                json_or_object(field(&["toolArgs", "tool_input"]))?,
            ),
            _ => (
                text(&["tool_name"]).ok_or("the hook input names no tool_name")?,
                json_or_object(field(&["tool_input"]))?,
            ),
        };
        let event_name = text(&["hook_event_name"]).unwrap_or_default();
        let result = match (self, event_name.as_str()) {
            (Agent::ClaudeCode | Agent::Codex, "PostToolUse") | (Agent::Gemini, "AfterTool") => {
                Some(field(&["tool_response"]).cloned().unwrap_or(Value::Null))
            }
            (Agent::ClaudeCode | Agent::Codex, "PreToolUse")
            | (Agent::Gemini, "BeforeTool")
            | (Agent::Cursor | Agent::Copilot, _) => None,
            (_, other) => {
                return Err(format!(
                    "aims answers tool-call hooks only, not `{other}` events"
                ))
            }
        };
        let mut call = ToolCall::new(agent_id, tool, args);
        call.conversation_id = text(&["session_id", "sessionId", "conversation_id"]);
        call.call_id = text(&["tool_use_id", "generation_id"]);
        let mut context = Map::new();
        for name in ["cwd", "permission_mode", "hook_event_name"] {
            if let Some(value) = input.get(name) {
                context.insert(name.to_owned(), value.clone());
            }
        }
        call.context = Value::Object(context);
        Ok(Event { call, result })
    }

    /// The answer to a hook event the guard decided.
    pub(crate) fn reply(self, event: &Event, ruling: &Ruling) -> Reply {
        let after = event.result.is_some();
        match self {
            Agent::ClaudeCode | Agent::Codex => self.reply_claude_shaped(after, ruling),
            Agent::Gemini => reply_gemini(after, ruling),
            Agent::Cursor => reply_cursor(ruling),
            Agent::Copilot => reply_copilot(ruling),
        }
    }

    /// Blocks the call because the hook could not decide it.
    pub(crate) fn block_on_error(self, why: &str) -> Reply {
        let reason = format!("aims: blocked because the guard could not decide: {why}");
        match self {
            // Each of these blocks on exit code 2 with the reason on stderr (Codex only with
            // a non-empty stderr; Copilot on any non-zero code).
            Agent::ClaudeCode | Agent::Codex | Agent::Gemini | Agent::Copilot => Reply {
                stdout: String::new(),
                stderr: reason,
                exit_code: 2,
            },
            // Cursor reads the JSON answer; exit 2 also blocks where the JSON is not read.
            Agent::Cursor => Reply {
                stdout: json!({
                    "permission": "deny",
                    "user_message": reason,
                    "agent_message": reason,
                })
                .to_string(),
                stderr: reason,
                exit_code: 2,
            },
        }
    }

    fn reply_claude_shaped(self, after: bool, ruling: &Ruling) -> Reply {
        let answer = match ruling {
            // Silence leaves the agent's own permission rules and prompts in charge: the
            // policy allowing a call does not mean its user chose to skip them.
            Ruling::Allow => None,
            Ruling::AllowWith(args) => Some(pre_decision(
                "allow",
                "allowed by the aims policy with sensitive values masked",
                Some(args),
            )),
            Ruling::Ask(refusal) if self == Agent::Codex => {
                Some(pre_decision("deny", &approval_text(refusal), None))
            }
            Ruling::Ask(refusal) => Some(pre_decision("ask", &approval_text(refusal), None)),
            Ruling::Deny(reason) if after => Some(json!({
                "decision": "block",
                "reason": format!("aims withheld the result: {reason}"),
            })),
            Ruling::Deny(reason) => Some(pre_decision(
                "deny",
                &format!("aims denied this call: {reason}"),
                None,
            )),
            Ruling::Pass => None,
            Ruling::PassMasked(masked) => Some(json!({
                "hookSpecificOutput": {
                    "hookEventName": "PostToolUse",
                    "updatedToolOutput": masked,
                }
            })),
        };
        json_reply(answer)
    }
}

fn pre_decision(decision: &str, reason: &str, updated_input: Option<&Value>) -> Value {
    let mut output = json!({
        "hookEventName": "PreToolUse",
        "permissionDecision": decision,
        "permissionDecisionReason": reason,
    });
    if let (Some(args), Value::Object(fields)) = (updated_input, &mut output) {
        fields.insert("updatedInput".to_owned(), args.clone());
    }
    json!({ "hookSpecificOutput": output })
}

fn reply_gemini(after: bool, ruling: &Ruling) -> Reply {
    let answer = match ruling {
        Ruling::Allow | Ruling::Pass => json!({ "decision": "allow" }),
        Ruling::AllowWith(args) => json!({
            "decision": "allow",
            "reason": "allowed by the aims policy with sensitive values masked",
            "hookSpecificOutput": { "tool_input": args },
        }),
        // Gemini CLI has no "ask": the call waits for an approval elsewhere.
        Ruling::Ask(refusal) => json!({ "decision": "deny", "reason": approval_text(refusal) }),
        Ruling::Deny(reason) if after => json!({
            "decision": "deny",
            "reason": format!("aims withheld the result: {reason}"),
        }),
        Ruling::Deny(reason) => json!({
            "decision": "deny",
            "reason": format!("aims denied this call: {reason}"),
        }),
        // Its AfterTool answer cannot replace the output: the masked result cannot be
        // handed back, so the raw one is withheld.
        Ruling::PassMasked(_) => json!({
            "decision": "deny",
            "reason": "aims withheld the result: it holds values the policy masks",
        }),
    };
    json_reply(Some(answer))
}

fn reply_cursor(ruling: &Ruling) -> Reply {
    let (permission, message) = match ruling {
        Ruling::Allow | Ruling::Pass => ("allow", "allowed by the aims policy".to_owned()),
        Ruling::Ask(refusal) => ("ask", approval_text(refusal)),
        Ruling::Deny(reason) => ("deny", format!("aims denied this call: {reason}")),
        // Cursor's answer cannot rewrite the input, so a call whose arguments must be masked
        // cannot run with them masked.
        Ruling::AllowWith(_) | Ruling::PassMasked(_) => (
            "deny",
            "aims denied this call: its arguments hold values the policy masks, and Cursor \
             hooks cannot pass masked arguments"
                .to_owned(),
        ),
    };
    json_reply(Some(json!({
        "permission": permission,
        "user_message": message,
        "agent_message": message,
    })))
}

fn reply_copilot(ruling: &Ruling) -> Reply {
    let answer = match ruling {
        Ruling::Allow | Ruling::Pass => json!({ "permissionDecision": "allow" }),
        Ruling::AllowWith(args) => json!({
            "permissionDecision": "allow",
            "permissionDecisionReason": "allowed by the aims policy with sensitive values masked",
            "modifiedArgs": args,
        }),
        Ruling::Ask(refusal) => json!({
            "permissionDecision": "ask",
            "permissionDecisionReason": approval_text(refusal),
        }),
        Ruling::Deny(reason) => json!({
            "permissionDecision": "deny",
            "permissionDecisionReason": format!("aims denied this call: {reason}"),
        }),
        Ruling::PassMasked(_) => json!({
            "permissionDecision": "deny",
            "permissionDecisionReason": "aims: the result holds values the policy masks",
        }),
    };
    json_reply(Some(answer))
}

fn json_reply(answer: Option<Value>) -> Reply {
    Reply {
        stdout: answer.map(|answer| answer.to_string()).unwrap_or_default(),
        stderr: String::new(),
        exit_code: 0,
    }
}

/// Tool inputs are objects; some agents send them as a JSON string.
fn json_or_object(value: Option<&Value>) -> Result<Value, String> {
    match value {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::String(text)) => serde_json::from_str(text)
            .map_err(|err| format!("the tool input is a string that is not JSON ({err})")),
        Some(other) => Ok(other.clone()),
    }
}
