//! The gateway's side towards the downstream server: an MCP client that relays what the server
//! asks of the client (sampling, roots, elicitation) and what it tells it (progress, logs,
//! list changes) to the upstream client, unchanged but for the ids and tokens each hop owns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientConfig, ClientResult, ErrorData, ProgressToken, ServerNotification, ServerRequest,
};
use rmcp::service::{NotificationContext, RequestContext, Service};
use rmcp::{Peer, RoleClient, RoleServer};

/// Progress tokens of forwarded requests: the token the gateway sent downstream, mapped to the
/// token the upstream client chose, so progress reaches the client under its own token.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProgressRoutes(Arc<Mutex<HashMap<ProgressToken, ProgressToken>>>);

impl ProgressRoutes {
    pub(crate) fn insert(&self, downstream: ProgressToken, upstream: ProgressToken) {
        if let Ok(mut routes) = self.0.lock() {
            routes.insert(downstream, upstream);
        }
    }

    pub(crate) fn remove(&self, downstream: &ProgressToken) {
        if let Ok(mut routes) = self.0.lock() {
            routes.remove(downstream);
        }
    }

    fn upstream(&self, downstream: &ProgressToken) -> Option<ProgressToken> {
        self.0.lock().ok()?.get(downstream).cloned()
    }
}

/// The downstream connection's client: identifies itself as the upstream client did.
#[derive(Debug)]
pub(crate) struct Relay {
    pub(crate) info: ClientConfig,
    pub(crate) upstream: Peer<RoleServer>,
    pub(crate) progress: ProgressRoutes,
}

impl Service<RoleClient> for Relay {
    async fn handle_request(
        &self,
        mut request: ServerRequest,
        context: RequestContext<RoleClient>,
    ) -> Result<ClientResult, ErrorData> {
        use rmcp::model::GetMeta;
        *request.get_meta_mut() = context.meta;
        self.upstream.send_request(request).await.map_err(|err| {
            ErrorData::internal_error(format!("the MCP client did not answer: {err}"), None)
        })
    }

    async fn handle_notification(
        &self,
        notification: ServerNotification,
        _context: NotificationContext<RoleClient>,
    ) -> Result<(), ErrorData> {
        let notification = match notification {
            ServerNotification::ProgressNotification(mut progress) => {
                // Progress for a token the client never chose has nobody to go to.
                let Some(token) = self.progress.upstream(&progress.params.progress_token) else {
                    return Ok(());
                };
                progress.params.progress_token = token;
                ServerNotification::ProgressNotification(progress)
            }
            other => other,
        };
        // A client that went away cannot be told; the session ends with it.
        let _ = self.upstream.send_notification(notification).await;
        Ok(())
    }

    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }
}
