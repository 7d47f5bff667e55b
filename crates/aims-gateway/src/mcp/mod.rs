//! `aims mcp proxy`: an MCP server that fronts a downstream MCP server (a child process over
//! stdio, or a Streamable HTTP endpoint) and puts every `tools/call` through the guard.
//!
//! Built on the official Rust SDK (`rmcp`): protocol version negotiation, the stateless
//! 2026-07-28 lifecycle, bounded message sizes and the transports are the SDK's.

mod approval;
mod http;
mod proxy;
mod relay;

use std::sync::Arc;

use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::{RoleServer, ServiceExt};

pub use http::serve_http;
pub use proxy::Proxy;

use crate::guarded::Gate;

/// Where the downstream server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downstream {
    /// A command started as a child process, spoken to over stdio.
    Command(Vec<String>),
    /// A Streamable HTTP endpoint.
    Url(String),
}

/// The human at the client who may decide approval requests by elicitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    /// Who approves (recorded with the vote).
    pub id: String,
    /// The role the approver holds (checked against the checkpoint's approver roles).
    pub role: String,
}

/// How the gateway behaves.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The downstream server.
    pub downstream: Downstream,
    /// The agent id calls are decided for; else the client's `clientInfo.name`.
    pub agent: Option<String>,
    /// Hide from `tools/list` the tools the policy denies outright for the agent.
    pub hide_denied_tools: bool,
    /// Who decides approval requests at the client, when it supports elicitation.
    pub approver: Option<Approver>,
    /// The largest message read from the client, in bytes; longer lines are dropped.
    pub max_message_bytes: usize,
}

/// Why the gateway stopped with an error.
pub type GatewayError = Box<dyn std::error::Error + Send + Sync>;

/// Serves one client on standard input and output until it disconnects.
pub async fn serve_stdio(gate: Arc<Gate>, options: ProxyOptions) -> Result<(), GatewayError> {
    let limit = options.max_message_bytes;
    let proxy = Proxy::new(Arc::clone(&gate), Arc::new(options));
    let transport =
        AsyncRwTransport::<RoleServer, _, _>::new_server(tokio::io::stdin(), tokio::io::stdout())
            .with_max_line_length(limit);
    let running = proxy.serve(transport).await?;
    running.waiting().await?;
    gate.flush()?;
    Ok(())
}

/// Runs the gateway to completion on its own async runtime: one client on stdio, or MCP over
/// Streamable HTTP on `listen`.
pub fn run(
    gate: Arc<Gate>,
    options: ProxyOptions,
    listen: Option<std::net::SocketAddr>,
) -> Result<(), GatewayError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match listen {
        Some(address) => runtime.block_on(serve_http(gate, options, address)),
        None => runtime.block_on(serve_stdio(gate, options)),
    }
}
