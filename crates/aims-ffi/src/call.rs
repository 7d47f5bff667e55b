//! The tool call record: what an agent is about to call, as the guard sees it. Arguments and
//! context are JSON text (Kotlin and Swift have no common JSON value type).

use aims_core::guard;

use crate::error::AimsError;
use crate::json;

/// One tool call, described before it runs.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ToolCall {
    /// The agent making the call.
    pub agent_id: String,
    /// The tool being called.
    pub tool: String,
    /// The arguments, a JSON object as text.
    #[uniffi(default = "{}")]
    pub args_json: String,
    /// The inventoried AI system the agent belongs to.
    #[uniffi(default)]
    pub ai_system_id: Option<String>,
    /// The conversation or session.
    #[uniffi(default)]
    pub conversation_id: Option<String>,
    /// The caller's id for this call.
    #[uniffi(default)]
    pub call_id: Option<String>,
    /// Anything else the caller knows (user roles, environment, tenant), JSON text.
    #[uniffi(default = "{}")]
    pub context_json: String,
}

impl ToolCall {
    /// The core call; fails when the arguments or context are not JSON.
    pub(crate) fn to_core(&self) -> Result<guard::ToolCall, AimsError> {
        Ok(guard::ToolCall {
            agent_id: self.agent_id.clone(),
            tool: self.tool.clone(),
            args: json::parse("args_json", &self.args_json)?,
            ai_system_id: self.ai_system_id.clone(),
            conversation_id: self.conversation_id.clone(),
            call_id: self.call_id.clone(),
            context: json::parse("context_json", &self.context_json)?,
        })
    }
}
