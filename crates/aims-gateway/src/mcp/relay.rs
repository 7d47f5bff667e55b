//! The gateway's side towards the downstream server: an MCP client that relays what the server
//! asks of the client (sampling, roots, elicitation) and what it tells it (progress, logs,
//! list changes) to the upstream client, unchanged but for the ids and tokens each hop owns.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

use rmcp::model::{
    ClientConfig, ClientResult, ErrorData, ProgressToken, ServerNotification, ServerRequest,
};
use rmcp::service::{NotificationContext, RequestContext, Service};
use rmcp::{Peer, RoleClient, RoleServer};

/// Progress tokens of forwarded requests: the token the gateway sent downstream, mapped to the
/// token the upstream client chose, so progress reaches the client under its own token.
///
/// A request is sent and its route added under one lock, and progress looks its route up under
/// the same lock, so progress that arrives before the send returns still finds its route.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProgressRoutes(Arc<Mutex<HashMap<ProgressToken, Route>>>);

/// Where progress for one forwarded request goes: its client's token, on its client's peer.
pub(crate) type Route = (ProgressToken, Peer<RoleServer>);

impl ProgressRoutes {
    pub(crate) async fn lock(&self) -> MutexGuard<'_, HashMap<ProgressToken, Route>> {
        self.0.lock().await
    }

    async fn route(&self, downstream: &ProgressToken) -> Option<Route> {
        self.0.lock().await.get(downstream).cloned()
    }
}

/// The upstream client as most recently seen: a stateless (2026-07-28) client reaches the
/// gateway through a new peer with each request.
#[derive(Debug, Clone)]
pub(crate) struct Upstream(Arc<std::sync::Mutex<Peer<RoleServer>>>);

impl Upstream {
    pub(crate) fn new(peer: Peer<RoleServer>) -> Self {
        Self(Arc::new(std::sync::Mutex::new(peer)))
    }

    pub(crate) fn set(&self, peer: &Peer<RoleServer>) {
        if let Ok(mut latest) = self.0.lock() {
            *latest = peer.clone();
        }
    }

    fn get(&self) -> Option<Peer<RoleServer>> {
        self.0.lock().ok().map(|peer| peer.clone())
    }
}

/// The downstream connection's client: identifies itself as the upstream client did.
#[derive(Debug)]
pub(crate) struct Relay {
    pub(crate) info: ClientConfig,
    pub(crate) upstream: Upstream,
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
        let upstream = self
            .upstream
            .get()
            .ok_or_else(|| ErrorData::internal_error("the MCP client is gone", None))?;
        upstream.send_request(request).await.map_err(|err| {
            ErrorData::internal_error(format!("the MCP client did not answer: {err}"), None)
        })
    }

    async fn handle_notification(
        &self,
        notification: ServerNotification,
        _context: NotificationContext<RoleClient>,
    ) -> Result<(), ErrorData> {
        let (upstream, notification) = match notification {
            ServerNotification::ProgressNotification(mut progress) => {
                // Progress for a token the client never chose has nobody to go to.
                let Some((token, peer)) =
                    self.progress.route(&progress.params.progress_token).await
                else {
                    return Ok(());
                };
                progress.params.progress_token = token;
                (
                    Some(peer),
                    ServerNotification::ProgressNotification(progress),
                )
            }
            other => (self.upstream.get(), other),
        };
        // A client that went away cannot be told; the session ends with it.
        if let Some(upstream) = upstream {
            let _ = upstream.send_notification(notification).await;
        }
        Ok(())
    }

    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }
}
