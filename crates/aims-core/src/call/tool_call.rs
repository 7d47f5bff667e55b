//! The tool call an agent is about to make, as the guard sees it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One tool call, described before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The agent making the call (OpenTelemetry `gen_ai.agent.id`).
    pub agent_id: String,
    /// The tool being called (OpenTelemetry `gen_ai.tool.name`).
    pub tool: String,
    /// The call's arguments as JSON.
    #[serde(default)]
    pub args: Value,
    /// The inventoried AI system the agent belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_system_id: Option<String>,
    /// The conversation or session (OpenTelemetry `gen_ai.conversation.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// The caller's id for this call (OpenTelemetry `gen_ai.tool.call.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Anything else the caller knows: user roles, environment, tenant.
    #[serde(default)]
    pub context: Value,
}

impl ToolCall {
    /// A call with empty context and no optional ids.
    pub fn new(agent_id: impl Into<String>, tool: impl Into<String>, args: Value) -> Self {
        Self {
            agent_id: agent_id.into(),
            tool: tool.into(),
            args,
            ai_system_id: None,
            conversation_id: None,
            call_id: None,
            context: Value::Object(Default::default()),
        }
    }
}
