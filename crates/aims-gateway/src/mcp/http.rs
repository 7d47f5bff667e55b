//! The Streamable HTTP front of the gateway: rmcp's Streamable HTTP server on a TCP listener,
//! one gateway session (with its own downstream connection) per MCP session.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::{GatewayError, Proxy, ProxyOptions};
use crate::guarded::Gate;

/// Serves MCP over Streamable HTTP on `listen` (every path is the MCP endpoint) until Ctrl-C.
pub async fn serve_http(
    gate: Arc<Gate>,
    options: ProxyOptions,
    listen: SocketAddr,
) -> Result<(), GatewayError> {
    let options = Arc::new(options);
    let sessions = {
        let gate = Arc::clone(&gate);
        move || Ok(Proxy::new(Arc::clone(&gate), Arc::clone(&options)))
    };
    let service = StreamableHttpService::new(
        sessions,
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!(
        "aims mcp proxy: serving MCP on http://{}/mcp",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => break,
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            // A connection that fails ends alone; the client sees it closed.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    gate.flush()?;
    Ok(())
}
