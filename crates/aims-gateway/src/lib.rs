//! Gateways that put the aims guard in front of agents whose code you do not own: an MCP proxy
//! (`mcp`) and the hook protocols of coding agents (`hook`), over one guarded-call seam
//! (`guarded`).

pub mod guarded;
pub mod hook;
pub mod mcp;
