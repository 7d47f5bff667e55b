//! The gateway's side towards the MCP client: an MCP server that forwards every request to the
//! downstream server, except that `tools/call` passes the guard first and `tools/list` hides
//! the tools the policy denies outright.

use std::sync::Arc;

use aims_core::guard::{ToolCall, Verdict};
#[allow(deprecated)]
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, ClientConfig,
    ClientNotification, ClientRequest, CompleteRequest, CompleteRequestParams, CompleteResult,
    ContentBlock, CustomNotification, CustomRequest, CustomResult, DiscoverResult,
    ElicitationAction, ErrorData, GetMeta, GetPromptRequest, GetPromptRequestParams,
    GetPromptResponse, Implementation, InitializeRequestParams, InitializeResult,
    ListPromptsRequest, ListPromptsResult, ListResourceTemplatesRequest,
    ListResourceTemplatesResult, ListResourcesRequest, ListResourcesResult, ListToolsRequest,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequest, ReadResourceRequestParams,
    ReadResourceResponse, RequestMetaObject, ResultType, ServerConfig, ServerResult,
    SetLevelRequest, SetLevelRequestParams, SubscribeRequest, SubscribeRequestParams,
    UnsubscribeRequest, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RequestContext, RunningService};
use rmcp::{Peer, RoleClient, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::approval::{ask_client, Answer};
use super::relay::{ProgressRoutes, Relay, Upstream};
use super::{Downstream, ProxyOptions};
use crate::guarded::{Admission, Gate, Refusal, Screened};

/// One client session of the gateway, with its own downstream connection.
#[derive(Debug)]
pub struct Proxy {
    gate: Arc<Gate>,
    options: Arc<ProxyOptions>,
    link: OnceCell<Link>,
}

#[derive(Debug)]
struct Link {
    service: RunningService<RoleClient, Relay>,
    progress: ProgressRoutes,
    upstream: Upstream,
}

impl Proxy {
    /// A session that connects to the downstream server when its client first asks.
    pub fn new(gate: Arc<Gate>, options: Arc<ProxyOptions>) -> Self {
        Self {
            gate,
            options,
            link: OnceCell::new(),
        }
    }

    /// The downstream connection, opened on first use as the upstream client's stand-in.
    async fn link(
        &self,
        info: impl FnOnce() -> ClientConfig,
        upstream: &Peer<RoleServer>,
    ) -> Result<&Link, ErrorData> {
        self.link
            .get_or_try_init(|| async {
                let progress = ProgressRoutes::default();
                let upstream = Upstream::new(upstream.clone());
                let relay = Relay {
                    info: info(),
                    upstream: upstream.clone(),
                    progress: progress.clone(),
                };
                let service = connect(relay, &self.options.downstream)
                    .await
                    .map_err(|err| {
                        ErrorData::internal_error(
                            format!("the downstream MCP server could not be started: {err}"),
                            None,
                        )
                    })?;
                Ok(Link {
                    service,
                    progress,
                    upstream,
                })
            })
            .await
    }

    /// The downstream connection for a request that did not come after `initialize` (a
    /// stateless client): the client is described by the request's metadata.
    async fn link_for(&self, context: &RequestContext<RoleServer>) -> Result<&Link, ErrorData> {
        let meta = context.meta.clone();
        self.link(
            || {
                let mut info = ClientConfig::new(
                    meta.client_capabilities().unwrap_or_default(),
                    meta.client_info()
                        .unwrap_or_else(|| Implementation::new("aims-mcp-gateway", "0")),
                );
                if let Some(version) = meta.protocol_version() {
                    info.protocol_version = version;
                }
                info
            },
            &context.peer,
        )
        .await
    }

    /// Sends a request downstream and waits for its answer, relaying the client's
    /// cancellation and progress token.
    async fn forward(
        &self,
        mut request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        let link = self.link_for(&context).await?;
        link.upstream.set(&context.peer);
        let upstream_token = context.meta.get_progress_token();
        let mut meta = context.meta.clone();
        strip_lifecycle_meta(&mut meta);
        *request.get_meta_mut() = meta;
        let peer = link.service.peer();
        let mut routes = match upstream_token {
            Some(_) => Some(link.progress.lock().await),
            None => None,
        };
        let handle = peer
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .map_err(downstream_gone)?;
        let downstream_token = handle.progress_token.clone();
        if let (Some(routes), Some(token)) = (&mut routes, upstream_token) {
            routes.insert(downstream_token.clone(), (token, context.peer.clone()));
        }
        drop(routes);
        let mut handle = handle;
        let answer = tokio::select! {
            answer = &mut handle.rx => match answer {
                Ok(answer) => answer.map_err(downstream_gone),
                Err(_) => Err(downstream_gone(rmcp::ServiceError::TransportClosed)),
            },
            () = context.ct.cancelled() => {
                let _ = handle.cancel(Some("cancelled by the client".to_owned())).await;
                Err(ErrorData::internal_error("cancelled by the client", None))
            }
        };
        link.progress.lock().await.remove(&downstream_token);
        answer.map(mark_complete)
    }

    fn agent(&self, context: &RequestContext<RoleServer>) -> String {
        if let Some(agent) = &self.options.agent {
            return agent.clone();
        }
        context
            .peer
            .peer_info()
            .map(|info| info.client_info.name.clone())
            .or_else(|| context.meta.client_info().map(|info| info.name))
            .unwrap_or_else(|| "mcp-client".to_owned())
    }

    /// Whether the policy denies `tool` for `agent` whatever its arguments.
    fn denied_outright(&self, agent: &str, tool: &str) -> bool {
        let call = ToolCall::new(agent, tool, Value::Object(Default::default()));
        let explanation = self.gate.runtime().guard().explain(&call, None);
        let pre = |rule: &&aims_core::policy::RuleTrace| rule.phase == aims_core::guard::Phase::Pre;
        let denies = explanation.rules.iter().filter(pre).any(|rule| {
            rule.effect == Verdict::Deny && rule.outcome == "matched" && rule.conditions.is_empty()
        });
        let nothing_applies = explanation
            .rules
            .iter()
            .filter(pre)
            .all(|rule| matches!(rule.outcome.as_str(), "tool_mismatch" | "agent_mismatch"));
        denies || (nothing_applies && explanation.default == Verdict::Deny)
    }

    async fn guarded_call(
        &self,
        params: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = Value::Object(params.arguments.clone().unwrap_or_default());
        let mut call = ToolCall::new(self.agent(&context), params.name.to_string(), args);
        call.call_id = Some(context.id.to_string());
        let admission = match self.gate.admit(call.clone()) {
            Admission::Refused(refusal) if refusal.verdict == Verdict::RequireApproval => {
                self.decide_at_client(refusal, call, &context).await?
            }
            admission => admission,
        };
        let admitted = match admission {
            Admission::Run(admitted) => admitted,
            Admission::Refused(refusal) => return Ok(refused(&refusal).into()),
        };
        let mut params = params;
        if let Value::Object(args) = &admitted.args {
            if params.arguments.is_some() || !args.is_empty() {
                params.arguments = Some(args.clone());
            }
        }
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        match self.forward(request, context).await {
            Ok(ServerResult::CallToolResult(result)) => {
                let tool_error = result.is_error == Some(true);
                let value = serde_json::to_value(&result).map_err(internal)?;
                match self.gate.finish(admitted, value, tool_error) {
                    Screened::Pass(value) => serde_json::from_value::<CallToolResult>(value)
                        .map(CallToolResponse::from)
                        .map_err(|_| {
                            ErrorData::internal_error(
                                "the masked result no longer reads as a tool result",
                                None,
                            )
                        }),
                    Screened::Withheld(refusal) => Ok(refused(&refusal).into()),
                }
            }
            Ok(other) => {
                // Input-required and task answers carry no result yet; the call's result
                // arrives in a later request, which the guard decides again.
                self.gate
                    .fail(admitted, "the server asked for more input before answering");
                Ok(match other {
                    ServerResult::InputRequiredResult(result) => {
                        CallToolResponse::InputRequired(result)
                    }
                    _ => {
                        return Err(ErrorData::internal_error(
                            "the downstream server answered tools/call with something else",
                            None,
                        ))
                    }
                })
            }
            Err(err) => {
                self.gate
                    .fail(admitted, "the downstream server did not answer");
                Err(err)
            }
        }
    }

    /// With an approver configured and a client that supports elicitation, asks the human at
    /// the client to decide the approval request now.
    async fn decide_at_client(
        &self,
        refusal: Refusal,
        call: ToolCall,
        context: &RequestContext<RoleServer>,
    ) -> Result<Admission, ErrorData> {
        let (Some(approver), Some(id)) = (&self.options.approver, refusal.approval_id.clone())
        else {
            return Ok(Admission::Refused(refusal));
        };
        match ask_client(&context.peer, &call.tool, &refusal, &id).await {
            Answer::NotAsked => Ok(Admission::Refused(refusal)),
            Answer::Decided(ElicitationAction::Accept) => {
                match self
                    .gate
                    .approve_and_admit(&id, &approver.id, &approver.role, call)
                {
                    Ok(admission) => Ok(admission),
                    Err(err) => Ok(Admission::Refused(Refusal {
                        verdict: Verdict::Deny,
                        reason: format!("the approval could not be recorded: {err}"),
                        ..refusal
                    })),
                }
            }
            Answer::Decided(_) => {
                let reason = match self.gate.reject(&id, &approver.id, &approver.role) {
                    Ok(()) => "declined at the client".to_owned(),
                    Err(err) => format!("declined at the client; the rejection failed: {err}"),
                };
                Ok(Admission::Refused(Refusal {
                    verdict: Verdict::Deny,
                    reason,
                    ..refusal
                }))
            }
        }
    }
}

impl ServerHandler for Proxy {
    fn get_info(&self) -> ServerConfig {
        match self.link.get().and_then(|link| link.service.peer_info()) {
            Some(info) => {
                let mut config = ServerConfig::new(info.capabilities.clone())
                    .with_protocol_version(info.protocol_version.clone());
                if let Some(server) = &info.server_info {
                    config = config.with_server_info(server.clone());
                }
                config.instructions = info.instructions.clone();
                config
            }
            None => ServerConfig::new(
                rmcp::model::ServerCapabilities::builder()
                    .enable_tools()
                    .build(),
            ),
        }
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        let mut info = request.clone();
        info.meta = None;
        self.link(|| info, &context.peer).await?;
        self.negotiate_initialize(&request)
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, ErrorData> {
        self.link_for(&context).await?;
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.get_info(),
        ))
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let agent = self.agent(&context);
        let request = ClientRequest::ListToolsRequest(match request {
            Some(params) => ListToolsRequest::with_param(params),
            None => ListToolsRequest::default(),
        });
        let ServerResult::ListToolsResult(mut result) = self.forward(request, context).await?
        else {
            return Err(unexpected());
        };
        if self.options.hide_denied_tools {
            result
                .tools
                .retain(|tool| !self.denied_outright(&agent, &tool.name));
        }
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.guarded_call(request, context).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let request = ClientRequest::CompleteRequest(CompleteRequest::new(request));
        match self.forward(request, context).await? {
            ServerResult::CompleteResult(result) => Ok(result),
            _ => Err(unexpected()),
        }
    }

    // Legacy methods still pass through for clients of older revisions.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let request = ClientRequest::SetLevelRequest(SetLevelRequest::new(request));
        self.forward(request, context).await.map(|_| ())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let request = ClientRequest::GetPromptRequest(GetPromptRequest::new(request));
        match self.forward(request, context).await? {
            ServerResult::GetPromptResult(result) => Ok(result.into()),
            ServerResult::InputRequiredResult(result) => {
                Ok(GetPromptResponse::InputRequired(result))
            }
            _ => Err(unexpected()),
        }
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let request = ClientRequest::ListPromptsRequest(match request {
            Some(params) => ListPromptsRequest::with_param(params),
            None => ListPromptsRequest::default(),
        });
        match self.forward(request, context).await? {
            ServerResult::ListPromptsResult(result) => Ok(result),
            _ => Err(unexpected()),
        }
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let request = ClientRequest::ListResourcesRequest(match request {
            Some(params) => ListResourcesRequest::with_param(params),
            None => ListResourcesRequest::default(),
        });
        match self.forward(request, context).await? {
            ServerResult::ListResourcesResult(result) => Ok(result),
            _ => Err(unexpected()),
        }
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let request = ClientRequest::ListResourceTemplatesRequest(match request {
            Some(params) => ListResourceTemplatesRequest::with_param(params),
            None => ListResourceTemplatesRequest::default(),
        });
        match self.forward(request, context).await? {
            ServerResult::ListResourceTemplatesResult(result) => Ok(result),
            _ => Err(unexpected()),
        }
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let request = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(request));
        match self.forward(request, context).await? {
            ServerResult::ReadResourceResult(result) => Ok(result.into()),
            ServerResult::InputRequiredResult(result) => {
                Ok(ReadResourceResponse::InputRequired(result))
            }
            _ => Err(unexpected()),
        }
    }

    // Legacy methods still pass through for clients of older revisions.
    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let request = ClientRequest::SubscribeRequest(SubscribeRequest::new(request));
        self.forward(request, context).await.map(|_| ())
    }

    // Legacy methods still pass through for clients of older revisions.
    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let request = ClientRequest::UnsubscribeRequest(UnsubscribeRequest::new(request));
        self.forward(request, context).await.map(|_| ())
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        match self
            .forward(ClientRequest::CustomRequest(request), context)
            .await?
        {
            ServerResult::CustomResult(result) => Ok(result),
            other => serde_json::to_value(other)
                .map(CustomResult)
                .map_err(internal),
        }
    }

    async fn on_roots_list_changed(&self, _context: NotificationContext<RoleServer>) {
        self.notify(ClientNotification::RootsListChangedNotification(
            Default::default(),
        ))
        .await;
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        _context: NotificationContext<RoleServer>,
    ) {
        self.notify(ClientNotification::CustomNotification(notification))
            .await;
    }
}

impl Proxy {
    async fn notify(&self, notification: ClientNotification) {
        if let Some(link) = self.link.get() {
            // A downstream server that is gone is reported on the next request.
            let _ = link.service.peer().send_notification(notification).await;
        }
    }
}

/// Starts the downstream connection.
async fn connect(
    relay: Relay,
    downstream: &Downstream,
) -> Result<RunningService<RoleClient, Relay>, Box<dyn std::error::Error + Send + Sync>> {
    match downstream {
        Downstream::Command(argv) => {
            let (program, args) = argv.split_first().ok_or("no downstream server command")?;
            let mut command = tokio::process::Command::new(program);
            command.args(args);
            let transport = rmcp::transport::TokioChildProcess::new(command)?;
            Ok(relay.serve(transport).await?)
        }
        Downstream::Url(url) => {
            let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.as_str());
            Ok(relay.serve(transport).await?)
        }
    }
}

/// Removes the keys that describe the upstream client's own lifecycle (2026-07-28 inline
/// metadata): the downstream connection negotiated its own.
fn strip_lifecycle_meta(meta: &mut RequestMetaObject) {
    meta.retain(|key, _| !key.starts_with("io.modelcontextprotocol/"));
}

/// The tool result a client gets for a call the guard refused: the reason, never the values.
fn refused(refusal: &Refusal) -> CallToolResult {
    let text = match (&refusal.verdict, &refusal.approval_id) {
        (Verdict::RequireApproval, Some(id)) => format!(
            "aims: this call waits for a human approval (approval id {id}): {}. Retry the same \
             call once it is approved; it then runs once.",
            refusal.reason
        ),
        (Verdict::RequireApproval, None) => format!(
            "aims: this call needs a human approval, and no approval store is configured: {}",
            refusal.reason
        ),
        _ => format!("aims denied this call: {}", refusal.reason),
    };
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// A legacy downstream server's results carry no `resultType`; clients of 2026-07-28 require
/// it (and rmcp strips it again for legacy clients).
fn mark_complete(mut result: ServerResult) -> ServerResult {
    let result_type = match &mut result {
        ServerResult::CompleteResult(r) => &mut r.result_type,
        ServerResult::GetPromptResult(r) => &mut r.result_type,
        ServerResult::ListPromptsResult(r) => &mut r.result_type,
        ServerResult::ListResourcesResult(r) => &mut r.result_type,
        ServerResult::ListResourceTemplatesResult(r) => &mut r.result_type,
        ServerResult::ReadResourceResult(r) => &mut r.result_type,
        ServerResult::ListToolsResult(r) => &mut r.result_type,
        ServerResult::CallToolResult(r) => &mut r.result_type,
        _ => return result,
    };
    result_type.get_or_insert(ResultType::COMPLETE);
    result
}

fn downstream_gone(err: rmcp::ServiceError) -> ErrorData {
    ErrorData::internal_error(
        format!("the downstream MCP server did not answer: {err}"),
        None,
    )
}

fn unexpected() -> ErrorData {
    ErrorData::internal_error(
        "the downstream server answered with another kind of result",
        None,
    )
}

fn internal(err: serde_json::Error) -> ErrorData {
    ErrorData::internal_error(err.to_string(), None)
}
