//! Asking the human at the MCP client to decide an approval request, by elicitation, when the
//! client declared it supports form elicitation.

use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::{Peer, RoleServer};
use serde_json::json;

use crate::guarded::Refusal;

/// What the human at the client answered.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// The client cannot be asked (no form elicitation), or the question did not arrive.
    NotAsked,
    /// Accept means "approve"; decline means "reject"; cancel leaves the request open.
    Decided(ElicitationAction),
}

pub(crate) async fn ask_client(
    client: &Peer<RoleServer>,
    tool: &str,
    refusal: &Refusal,
    approval_id: &str,
) -> Answer {
    let supports_form = client
        .peer_info()
        .and_then(|info| info.capabilities.elicitation.clone())
        .is_some();
    if !supports_form {
        return Answer::NotAsked;
    }
    let schema = json!({
        "type": "object",
        "properties": {
            "approve": {"type": "boolean", "title": "Approve this call", "default": false}
        },
        "required": ["approve"]
    });
    let Ok(requested_schema) = serde_json::from_value::<ElicitationSchema>(schema) else {
        return Answer::NotAsked;
    };
    let message = format!(
        "The agent wants to call `{tool}`, which needs a human approval ({}). Approval id \
         {approval_id}. Approve it?",
        refusal.reason
    );
    let params = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema,
    };
    match client.create_elicitation(params).await {
        Ok(result) => match result.action {
            ElicitationAction::Accept => {
                let approved = result
                    .content
                    .as_ref()
                    .and_then(|content| content.get("approve"))
                    .and_then(serde_json::Value::as_bool)
                    == Some(true);
                Answer::Decided(if approved {
                    ElicitationAction::Accept
                } else {
                    ElicitationAction::Decline
                })
            }
            ElicitationAction::Decline => Answer::Decided(ElicitationAction::Decline),
            // Cancelled (dismissed): the request stays open for a decision elsewhere.
            _ => Answer::NotAsked,
        },
        Err(_) => Answer::NotAsked,
    }
}
