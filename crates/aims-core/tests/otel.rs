//! OpenTelemetry export against a collector inside the test: a small OTLP/HTTP receiver that
//! decodes what arrives with the official OTLP protobuf messages (`opentelemetry-proto`).

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aims_core::audit::{AuditEvent, MemorySink};
use aims_core::guard::{Guard, ToolCall, Verdict};
use aims_core::otel::{OtelError, OtelOptions, OtelSink};
use aims_core::policy::{Format, Policy};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

const POLICY: &str = r#"
default: allow
rules:
  - id: deny-shell
    match: {tool: shell}
    effect: deny
"#;

/// One POST the receiver took: its path and body.
struct Request {
    path: String,
    body: Vec<u8>,
}

/// Accepts OTLP/HTTP posts on a loopback port and answers 200 with an empty export response.
fn start_receiver() -> (String, Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sender = sender.clone();
            std::thread::spawn(move || serve(stream, &sender));
        }
    });
    (endpoint, receiver)
}

fn serve(stream: TcpStream, sender: &Sender<Request>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        writer
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
            )
            .unwrap();
        if sender.send(Request { path, body }).is_err() {
            return;
        }
    }
}

fn string_attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(text) => Some(text.clone()),
            _ => None,
        }
    })
}

fn int_attribute(attributes: &[KeyValue], key: &str) -> Option<i64> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::IntValue(n) => Some(*n),
            _ => None,
        }
    })
}

fn array_attribute(attributes: &[KeyValue], key: &str) -> Option<Vec<String>> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::ArrayValue(array) => Some(
                array
                    .values
                    .iter()
                    .filter_map(|value| match value.value.as_ref()? {
                        AnyValue::StringValue(text) => Some(text.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    })
}

fn guard_with_export(endpoint: &str) -> (Guard, Arc<MemorySink>, Arc<OtelSink>) {
    let log = Arc::new(MemorySink::new());
    let mut options = OtelOptions::new(endpoint);
    options.service_name = "refund-agent".into();
    let otel = Arc::new(OtelSink::new(log.clone(), &options).unwrap());
    let policy = Policy::from_text(POLICY, Format::Yaml, "p.yaml").unwrap();
    let guard = Guard::builder(policy).sink(otel.clone()).build();
    (guard, log, otel)
}

/// Everything the receiver took within `wait`, split into spans and metric requests.
fn collect(
    receiver: &Receiver<Request>,
    wait: Duration,
) -> (Vec<Span>, Vec<ExportMetricsServiceRequest>) {
    let mut spans = Vec::new();
    let mut metrics = Vec::new();
    let deadline = Instant::now() + wait;
    while let Ok(request) =
        receiver.recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        match request.path.as_str() {
            "/v1/traces" => {
                let export = ExportTraceServiceRequest::decode(request.body.as_slice()).unwrap();
                for resource in export.resource_spans {
                    let service = resource
                        .resource
                        .as_ref()
                        .and_then(|r| string_attribute(&r.attributes, "service.name"));
                    assert!(matches!(service.as_deref(), Some("refund-agent" | "aims")));
                    for scope in resource.scope_spans {
                        spans.extend(scope.spans);
                    }
                }
            }
            "/v1/metrics" => {
                metrics.push(ExportMetricsServiceRequest::decode(request.body.as_slice()).unwrap())
            }
            other => panic!("unexpected OTLP path {other}"),
        }
    }
    (spans, metrics)
}

#[test]
fn every_decision_becomes_an_execute_tool_span_that_points_at_its_log_record() {
    let (endpoint, receiver) = start_receiver();
    let (guard, log, otel) = guard_with_export(&endpoint);

    let mut refund = ToolCall::new("refund-agent", "issue_refund", json!({"amount": 10}));
    refund.call_id = Some("call-1".into());
    refund.conversation_id = Some("conv-9".into());
    let allowed = guard.check(&refund);
    let denied = guard.check(&ToolCall::new(
        "refund-agent",
        "shell",
        json!({"cmd": "ls"}),
    ));
    assert_eq!(allowed.verdict, Verdict::Allow);
    assert_eq!(denied.verdict, Verdict::Deny);
    otel.flush().unwrap();

    let (spans, metrics) = collect(&receiver, Duration::from_millis(500));
    assert_eq!(spans.len(), 2, "one span per decision");
    let by_name: HashMap<&str, &Span> = spans.iter().map(|s| (s.name.as_str(), s)).collect();
    let events = log.events();
    for (name, decision, rules) in [
        ("execute_tool issue_refund", &allowed, vec![]),
        ("execute_tool shell", &denied, vec!["deny-shell".to_owned()]),
    ] {
        let span = by_name[name];
        assert_eq!(span.kind, SpanKind::Internal as i32);
        let attrs = &span.attributes;
        assert_eq!(
            string_attribute(attrs, "gen_ai.operation.name").as_deref(),
            Some("execute_tool")
        );
        assert_eq!(
            string_attribute(attrs, "gen_ai.agent.id").as_deref(),
            Some("refund-agent")
        );
        assert_eq!(
            string_attribute(attrs, "aims.verdict").as_deref(),
            Some(decision.verdict.as_str())
        );
        assert_eq!(
            string_attribute(attrs, "aims.policy.version").as_deref(),
            Some(guard.policy_version().as_str())
        );
        assert_eq!(array_attribute(attrs, "aims.rule_ids"), Some(rules));
        // The span names the log record it came from: the SIEM row can be proved against it.
        let index = int_attribute(attrs, "aims.log.index").unwrap();
        assert_eq!(Some(index as u64), decision.audit_index);
        let AuditEvent::Decision(recorded) = &events[index as usize] else {
            panic!("record {index} is not a decision");
        };
        assert_eq!(
            string_attribute(attrs, "aims.decision.id").as_deref(),
            Some(recorded.decision_id.as_str())
        );
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
    }
    let refund_attrs = &by_name["execute_tool issue_refund"].attributes;
    assert_eq!(
        string_attribute(refund_attrs, "gen_ai.tool.name").as_deref(),
        Some("issue_refund")
    );
    assert_eq!(
        string_attribute(refund_attrs, "gen_ai.tool.call.id").as_deref(),
        Some("call-1")
    );
    assert_eq!(
        string_attribute(refund_attrs, "gen_ai.conversation.id").as_deref(),
        Some("conv-9")
    );
    // Argument values are never exported.
    let exported = format!("{spans:?}");
    assert!(!exported.contains("\"cmd\"") && !exported.contains("ls\""));

    // Clause 9.1 metrics: decisions by verdict, and the evaluation time of each.
    let mut decisions: HashMap<String, i64> = HashMap::new();
    let mut evaluated = 0;
    for metric in metrics
        .iter()
        .flat_map(|m| &m.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
    {
        match (metric.name.as_str(), metric.data.as_ref()) {
            ("aims.guard.decisions", Some(Data::Sum(sum))) => {
                assert!(sum.is_monotonic);
                for point in &sum.data_points {
                    let verdict = string_attribute(&point.attributes, "aims.verdict").unwrap();
                    let value = match point.value {
                        Some(
                            opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(
                                n,
                            ),
                        ) => n,
                        other => panic!("unexpected value {other:?}"),
                    };
                    *decisions.entry(verdict).or_default() += value;
                }
            }
            ("aims.guard.evaluation.duration", Some(Data::Histogram(histogram))) => {
                assert_eq!(metric.unit, "s");
                evaluated += histogram.data_points.iter().map(|p| p.count).sum::<u64>();
            }
            _ => {}
        }
    }
    assert_eq!(decisions.get("allow"), Some(&1));
    assert_eq!(decisions.get("deny"), Some(&1));
    assert_eq!(evaluated, 2);
}

/// A collector that accepts connections and never answers: export must not slow a call down
/// or change a decision, and a full queue drops spans rather than waiting.
#[test]
fn a_collector_that_hangs_neither_blocks_calls_nor_changes_decisions() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut streams = Vec::new();
        for stream in listener.incoming().flatten().take(8) {
            streams.push(stream);
        }
        streams
    });
    let log = Arc::new(MemorySink::new());
    let mut options = OtelOptions::new(&endpoint);
    options.max_queue = 4;
    options.export_timeout = Duration::from_secs(30);
    let otel = Arc::new(OtelSink::new(log.clone(), &options).unwrap());
    let policy = Policy::from_text(POLICY, Format::Yaml, "p.yaml").unwrap();
    let guard = Guard::builder(policy).sink(otel.clone()).build();

    let started = Instant::now();
    for n in 0..500 {
        let tool = if n % 2 == 0 { "shell" } else { "issue_refund" };
        let decision = guard.check(&ToolCall::new("a", tool, json!({})));
        let expected = if n % 2 == 0 {
            Verdict::Deny
        } else {
            Verdict::Allow
        };
        assert_eq!(decision.verdict, expected);
        assert_eq!(decision.audit_index, Some(n));
    }
    // An export on the call path would wait out the 30 s timeout at least once.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "calls waited for the collector: {:?}",
        started.elapsed()
    );
    assert_eq!(log.events().len(), 500, "the log took every decision");
    drop(held);
    // Dropping the exporter would flush into the hanging collector for the 30 s timeout.
    std::mem::forget((guard, otel));
}

#[test]
fn an_endpoint_that_is_not_an_http_url_is_refused_at_start() {
    let log = Arc::new(MemorySink::new());
    let err = OtelSink::new(log, &OtelOptions::new("127.0.0.1:4318")).unwrap_err();
    assert!(matches!(err, OtelError::Endpoint(_)), "{err}");
    assert!(err.to_string().contains("http://127.0.0.1:4318"));
}

#[test]
fn a_runtime_configured_with_an_otlp_endpoint_exports_its_decisions() {
    let (endpoint, receiver) = start_receiver();
    let config = json!({"policy_text": POLICY, "otlp_endpoint": endpoint}).to_string();
    let runtime = aims_core::runtime::Runtime::from_json(&config).unwrap();
    let decision = runtime.check(&ToolCall::new("a", "shell", json!({})));
    assert_eq!(decision.verdict, Verdict::Deny);
    // Dropping the runtime shuts the exporter down, which exports what is queued.
    drop(runtime);
    let (spans, _) = collect(&receiver, Duration::from_millis(500));
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "execute_tool shell");
    assert_eq!(
        int_attribute(&spans[0].attributes, "aims.log.index").map(|i| i as u64),
        decision.audit_index
    );
}
