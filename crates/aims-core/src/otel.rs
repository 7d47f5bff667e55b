//! OpenTelemetry export (feature `otel`): an [`AuditSink`] wrapper that turns each recorded
//! event into telemetry after the wrapped sink (the signed log) has taken it.
//!
//! - Every decision becomes an `execute_tool {gen_ai.tool.name}` span (kind INTERNAL, GenAI
//!   semantic conventions) carrying `aims.verdict`, `aims.rule_ids`, `aims.policy.version` and
//!   `aims.log.index`, so a row in a SIEM can be proved against the log with an inclusion proof.
//! - The clause 9.1 metrics: decisions by phase, verdict, agent and tool; evaluation time;
//!   tool outcomes; approval steps; incidents; appends the log refused.
//!
//! Export runs on the SDK's own threads through a bounded queue: a full queue drops telemetry,
//! an unreachable collector costs a failed export on that thread. Neither reaches the caller,
//! so export can never change a decision or block a call. Argument values are never exported.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_otlp::{MetricExporter, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracer};
use opentelemetry_sdk::Resource;

use crate::audit::{AuditEvent, AuditSink, DecisionEvent, OutcomeStatus, SinkError};
use crate::guard::Phase;

/// Where and how to export.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelOptions {
    /// The collector's OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318`; spans go to
    /// `/v1/traces` and metrics to `/v1/metrics` under it.
    pub endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Spans waiting for export at most; beyond it new spans are dropped.
    pub max_queue: usize,
    /// How often metrics are exported.
    pub metric_interval: Duration,
    /// How long one export may take before it is abandoned.
    pub export_timeout: Duration,
}

impl OtelOptions {
    /// Defaults for a collector at `endpoint`: service `aims`, 2048 queued spans, metrics every
    /// 60 s, 5 s export timeout.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            service_name: "aims".to_owned(),
            max_queue: 2048,
            metric_interval: Duration::from_secs(60),
            export_timeout: Duration::from_secs(5),
        }
    }
}

/// Why export could not be set up (at start, never per call).
#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    /// The endpoint is not an `http://` or `https://` URL.
    #[error(
        "otlp_endpoint {0:?}: expected an http:// or https:// URL such as http://127.0.0.1:4318"
    )]
    Endpoint(String),
    /// The exporter could not be built.
    #[error("OpenTelemetry exporter: {0}")]
    Exporter(String),
}

/// Records to `inner`, then exports what was recorded. See the module documentation.
pub struct OtelSink {
    inner: Arc<dyn AuditSink>,
    traces: SdkTracerProvider,
    metrics: SdkMeterProvider,
    tracer: SdkTracer,
    instruments: Instruments,
}

struct Instruments {
    decisions: Counter<u64>,
    evaluation: Histogram<f64>,
    outcomes: Counter<u64>,
    approval_steps: Counter<u64>,
    incidents: Counter<u64>,
    audit_failures: Counter<u64>,
}

impl fmt::Debug for OtelSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelSink").finish_non_exhaustive()
    }
}

impl OtelSink {
    /// Wraps `inner`, exporting to the collector `options` name.
    pub fn new(inner: Arc<dyn AuditSink>, options: &OtelOptions) -> Result<Self, OtelError> {
        let base = options.endpoint.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(OtelError::Endpoint(options.endpoint.clone()));
        }
        let exporter_error =
            |err: opentelemetry_otlp::ExporterBuildError| OtelError::Exporter(err.to_string());
        let resource = Resource::builder()
            .with_service_name(options.service_name.clone())
            .build();
        let spans = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/traces"))
            .with_timeout(options.export_timeout)
            .build()
            .map_err(exporter_error)?;
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(options.max_queue.max(1))
            .build();
        let traces = SdkTracerProvider::builder()
            .with_span_processor(
                BatchSpanProcessor::builder(spans)
                    .with_batch_config(batch)
                    .build(),
            )
            .with_resource(resource.clone())
            .build();
        let metric_exporter = MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/metrics"))
            .with_timeout(options.export_timeout)
            .build()
            .map_err(exporter_error)?;
        let metrics = SdkMeterProvider::builder()
            .with_reader(
                PeriodicReader::builder(metric_exporter)
                    .with_interval(options.metric_interval)
                    .build(),
            )
            .with_resource(resource)
            .build();
        let meter = metrics.meter("aims");
        let instruments = Instruments {
            decisions: meter
                .u64_counter("aims.guard.decisions")
                .with_description("Guard decisions by phase, verdict, agent and tool.")
                .build(),
            evaluation: meter
                .f64_histogram("aims.guard.evaluation.duration")
                .with_unit("s")
                .with_description("Time the guard took to decide.")
                .with_boundaries(vec![1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
                .build(),
            outcomes: meter
                .u64_counter("aims.tool.outcomes")
                .with_description("How calls the guard let through ended, by status.")
                .build(),
            approval_steps: meter
                .u64_counter("aims.approval.steps")
                .with_description("Human approval steps by step.")
                .build(),
            incidents: meter
                .u64_counter("aims.incidents")
                .with_description("Incident steps by step and severity.")
                .build(),
            audit_failures: meter
                .u64_counter("aims.audit.failures")
                .with_description("Records the audit log refused (the guard denied).")
                .build(),
        };
        Ok(Self {
            inner,
            tracer: traces.tracer("aims"),
            traces,
            metrics,
            instruments,
        })
    }

    /// Exports whatever is queued now (spans and metrics), waiting for the collector at most
    /// the export timeout. Failures are reported but change nothing.
    pub fn flush(&self) -> Result<(), OtelError> {
        let spans = self.traces.force_flush();
        let metrics = self.metrics.force_flush();
        spans
            .map_err(|err| OtelError::Exporter(err.to_string()))
            .and(metrics.map_err(|err| OtelError::Exporter(err.to_string())))
    }

    /// What `event` will export, built before the wrapped sink takes the event.
    fn prepare(event: &AuditEvent) -> Pending {
        match event {
            AuditEvent::Decision(decision) => Pending::Decision(DecisionTelemetry::of(decision)),
            AuditEvent::Outcome(outcome) => Pending::Count(
                Count::Outcome,
                vec![
                    KeyValue::new(
                        "aims.status",
                        match outcome.status {
                            OutcomeStatus::Ok => "ok",
                            OutcomeStatus::Error => "error",
                        },
                    ),
                    KeyValue::new("gen_ai.agent.id", outcome.agent_id.clone()),
                    KeyValue::new("gen_ai.tool.name", outcome.tool.clone()),
                ],
            ),
            AuditEvent::Approval(approval) => Pending::Count(
                Count::ApprovalStep,
                vec![KeyValue::new("aims.step", approval.step.clone())],
            ),
            AuditEvent::Incident(incident) => Pending::Count(
                Count::Incident,
                vec![
                    KeyValue::new("aims.step", incident.step.clone()),
                    KeyValue::new("aims.severity", incident.severity.clone()),
                ],
            ),
            _ => Pending::Nothing,
        }
    }

    fn export_decision(&self, decision: DecisionTelemetry, index: Option<u64>) {
        let DecisionTelemetry {
            name,
            mut attributes,
            phase,
            verdict,
            agent_id,
            tool,
            eval_us,
        } = decision;
        // The guard turns a decision it cannot record into a deny.
        let verdict = if index.is_some() { verdict } else { "deny" };
        attributes.push(KeyValue::new("aims.verdict", verdict));
        match index.map(i64::try_from) {
            Some(Ok(index)) => attributes.push(KeyValue::new("aims.log.index", index)),
            Some(Err(_)) => {}
            None => attributes.push(KeyValue::new("error.type", "audit_failed")),
        }
        let end = SystemTime::now();
        let start = end
            .checked_sub(Duration::from_micros(eval_us))
            .unwrap_or(end);
        let mut span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_start_time(start)
            .with_attributes(attributes)
            .start(&self.tracer);
        span.end_with_timestamp(end);

        let labels = [
            KeyValue::new("aims.phase", phase),
            KeyValue::new("aims.verdict", verdict),
            KeyValue::new("gen_ai.agent.id", agent_id),
            KeyValue::new("gen_ai.tool.name", tool),
        ];
        self.instruments.decisions.add(1, &labels);
        self.instruments
            .evaluation
            .record(eval_us as f64 / 1e6, &[]);
    }
}

/// Telemetry an event yields, prepared before the event moves into the wrapped sink.
enum Pending {
    Decision(DecisionTelemetry),
    Count(Count, Vec<KeyValue>),
    Nothing,
}

#[derive(Clone, Copy)]
enum Count {
    Outcome,
    ApprovalStep,
    Incident,
}

/// A decision's span name and attributes, less what the append decides (verdict, index).
struct DecisionTelemetry {
    name: String,
    attributes: Vec<KeyValue>,
    phase: &'static str,
    verdict: &'static str,
    agent_id: String,
    tool: String,
    eval_us: u64,
}

impl DecisionTelemetry {
    fn of(event: &DecisionEvent) -> Self {
        let phase = match event.phase {
            Phase::Pre => "pre",
            Phase::Post => "post",
        };
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", "execute_tool"),
            KeyValue::new("gen_ai.tool.name", event.tool.clone()),
            KeyValue::new("gen_ai.agent.id", event.agent_id.clone()),
            KeyValue::new("aims.decision.id", event.decision_id.clone()),
            KeyValue::new("aims.phase", phase),
            KeyValue::new("aims.enforced", event.enforced),
            KeyValue::new("aims.rule_ids", strings(&event.rule_ids)),
            KeyValue::new(
                "aims.reason_codes",
                strings(event.reasons.iter().map(|reason| &reason.code)),
            ),
            KeyValue::new("aims.policy.version", event.policy_version.clone()),
        ];
        if let Some(call_id) = &event.call_id {
            attributes.push(KeyValue::new("gen_ai.tool.call.id", call_id.clone()));
        }
        if let Some(conversation) = &event.conversation_id {
            attributes.push(KeyValue::new(
                "gen_ai.conversation.id",
                conversation.clone(),
            ));
        }
        Self {
            name: format!("execute_tool {}", event.tool),
            attributes,
            phase,
            verdict: event.verdict.as_str(),
            agent_id: event.agent_id.clone(),
            tool: event.tool.clone(),
            eval_us: event.eval_us,
        }
    }
}

fn strings<'a>(values: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(Array::String(
        values
            .into_iter()
            .map(|value| StringValue::from(value.clone()))
            .collect(),
    ))
}

impl AuditSink for OtelSink {
    fn append(&self, event: AuditEvent) -> Result<u64, SinkError> {
        let pending = Self::prepare(&event);
        let appended = self.inner.append(event);
        if appended.is_err() {
            self.instruments.audit_failures.add(1, &[]);
        }
        match pending {
            Pending::Decision(decision) => {
                self.export_decision(decision, appended.as_ref().ok().copied());
            }
            Pending::Count(count, labels) if appended.is_ok() => {
                let counter = match count {
                    Count::Outcome => &self.instruments.outcomes,
                    Count::ApprovalStep => &self.instruments.approval_steps,
                    Count::Incident => &self.instruments.incidents,
                };
                counter.add(1, &labels);
            }
            Pending::Count(..) | Pending::Nothing => {}
        }
        appended
    }

    fn keyed_hash(&self, raw: &serde_json::Value) -> String {
        self.inner.keyed_hash(raw)
    }
}

impl Drop for OtelSink {
    fn drop(&mut self) {
        // Shutting down exports what is queued; a collector that is down only costs the
        // export timeout here, at the end, never on a call.
        let _ = self.traces.shutdown();
        let _ = self.metrics.shutdown();
    }
}
