//! The auditor's page: one self-contained HTML file (no scripts, no network, inline SVG
//! charts, print styles). Every figure carries a `data-metric` attribute so tests and tools
//! can read it back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::evidence::EvidencePack;

const VERDICTS: [(&str, &str); 5] = [
    ("allow", "#2e7d32"),
    ("warn", "#f9a825"),
    ("redact", "#0277bd"),
    ("require_approval", "#6a1b9a"),
    ("deny", "#c62828"),
];

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1a1a1a;padding:0 1em}\
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}\
.banner{padding:1em;border-radius:6px;margin:1em 0;font-size:1.15em}.banner.ok{background:#e8f5e9;border:2px solid #2e7d32}\
.banner.bad{background:#ffebee;border:3px solid #c62828}.kpis{display:flex;flex-wrap:wrap;gap:1em}\
.kpi{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:9em}.kpi b{display:block;font-size:1.6em}\
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:12px}small{color:#555}td{overflow-wrap:break-word}td.ids{overflow-wrap:anywhere}\
@media print{@page{size:A4;margin:14mm}body{margin:0;max-width:none;padding:0;font-size:9.5pt}\
h2{break-after:avoid}tr,svg,.kpi,.banner,pre{break-inside:avoid}thead{display:table-header-group}\
.banner,.kpi,th,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;overflow:visible}svg{max-width:100%;height:auto}}";

/// Renders the page.
pub fn render(pack: &EvidencePack) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let intact = pack.logs.iter().all(|log| log.intact) && !pack.logs.is_empty();
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>AIMS evidence pack</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\
         <h1>AI management system evidence pack</h1><p><small>ISO/IEC 42001:2023 · generated {} · period {} to {}</small></p>",
        esc(&pack.generated_at),
        esc(pack.period_from.as_deref().unwrap_or("start")),
        esc(pack.period_to.as_deref().unwrap_or("end")),
    );
    verification_banner(&mut page, pack, intact);
    kpis(&mut page, pack);
    scope(&mut page, pack);
    soa(&mut page, pack);
    risks(&mut page, pack);
    impacts(&mut page, pack);
    incidents(&mut page, pack);
    metrics(&mut page, pack);
    logs(&mut page, pack);
    gaps(&mut page, pack);
    page.push_str("</body></html>\n");
    page
}

fn verification_banner(page: &mut String, pack: &EvidencePack, intact: bool) {
    if intact {
        let _ = write!(
            page,
            "<div class=\"banner ok\" id=\"verification\" data-metric=\"logs_intact\" data-value=\"true\">\
             Audit log verification: <b>intact</b>. {} log(s), {} record(s), consistent with their signed checkpoints.</div>",
            pack.logs.len(),
            pack.logs.iter().map(|log| log.records).sum::<u64>(),
        );
    } else {
        let _ = write!(
            page,
            "<div class=\"banner bad\" id=\"verification\" data-metric=\"logs_intact\" data-value=\"false\">\
             <b>WARNING: audit log verification FAILED.</b> The runtime evidence below cannot be relied on."
        );
        for log in pack.logs.iter().filter(|log| !log.intact) {
            let _ = write!(
                page,
                "<br>{}: {}",
                esc(&log.dir),
                esc(log.problem.as_deref().unwrap_or(if pack.logs.is_empty() {
                    "no log given"
                } else {
                    "unknown problem"
                }))
            );
        }
        if pack.logs.is_empty() {
            page.push_str("<br>No audit log was given.");
        }
        page.push_str("</div>");
    }
}

fn kpi(page: &mut String, metric: &str, label: &str, value: impl std::fmt::Display) {
    let _ = write!(
        page,
        "<div class=\"kpi\"><b data-metric=\"{metric}\">{value}</b>{label}</div>"
    );
}

fn kpis(page: &mut String, pack: &EvidencePack) {
    let m = &pack.metrics;
    let count = |verdict: &str| m.by_verdict.get(verdict).copied().unwrap_or(0);
    page.push_str("<div class=\"kpis\">");
    kpi(page, "records", "audit records", m.records);
    kpi(page, "decisions", "tool-call decisions", m.decisions);
    kpi(page, "denied", "denied", count("deny"));
    kpi(
        page,
        "approvals_required",
        "sent for approval",
        count("require_approval"),
    );
    kpi(page, "redacted", "redacted", count("redact"));
    kpi(page, "incidents", "incidents", pack.incidents.len());
    kpi(page, "gaps", "gaps", pack.gaps.len());
    page.push_str("</div>");
}

fn scope(page: &mut String, pack: &EvidencePack) {
    page.push_str("<h2 id=\"scope\">Scope and AI system inventory (clause 4.3, A.4, A.9.4)</h2><table><thead><tr><th>System</th><th>Intended purpose</th><th>Role</th><th>EU AI Act class</th><th>Phase</th><th>Agents</th><th>Tools</th></tr></thead>");
    for system in &pack.systems {
        let _ = write!(
            page,
            "<tr><td><b>{}</b><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&system.name),
            esc(&system.id),
            esc(&system.intended_purpose),
            esc(&system.org_role),
            esc(&system.eu_risk_class),
            esc(&system.lifecycle_phase),
            esc(&system.agent_ids.join(", ")),
            esc(&system.tools.join(", ")),
        );
    }
    page.push_str("</table>");
}

fn soa(page: &mut String, pack: &EvidencePack) {
    let applicable = pack.soa.iter().filter(|row| row.applicable).count();
    let _ = write!(
        page,
        "<h2 id=\"soa\">Statement of Applicability (6.1.3)</h2><p><span data-metric=\"soa_applicable\">{applicable}</span> of {} Annex A controls applicable.</p>\
         <table id=\"soa-table\"><thead><tr><th>Control</th><th>Applicable</th><th>Status</th><th>Implemented by</th><th>Runtime records</th><th>Evidence</th><th>Justification</th></tr></thead>",
        pack.soa.len()
    );
    for row in &pack.soa {
        let _ = write!(
            page,
            "<tr data-control=\"{}\"><td><b>{}</b> {}</td><td>{}</td><td>{}</td><td class=\"ids\">{}</td><td data-metric=\"control_records\" data-control=\"{}\">{}</td><td class=\"ids\">{}</td><td>{}</td></tr>",
            esc(&row.control_id),
            esc(&row.control_id),
            esc(&row.title),
            if row.applicable { "yes" } else { "no" },
            esc(&row.status),
            esc(&row.implemented_by.join(", ")),
            esc(&row.control_id),
            row.runtime_records,
            esc(&row.evidence_ids.join(", ")),
            esc(&row.justification),
        );
    }
    page.push_str("</table>");
}

fn risks(page: &mut String, pack: &EvidencePack) {
    page.push_str("<h2 id=\"risks\">Risk register (6.1.2, 8.2) and heat map</h2>");
    // Heat map: inherent likelihood (x) by impact (y), counts per cell.
    let size = pack
        .risks
        .iter()
        .map(|risk| risk.likelihood.max(risk.impact))
        .max()
        .unwrap_or(5)
        .max(5) as usize;
    let cell = 44;
    let mut counts = vec![vec![0u32; size]; size];
    for risk in &pack.risks {
        let (l, i) = (risk.likelihood as usize, risk.impact as usize);
        if (1..=size).contains(&l) && (1..=size).contains(&i) {
            counts[i - 1][l - 1] += 1;
        }
    }
    let width = 40 + cell * size;
    let _ = write!(
        page,
        "<svg role=\"img\" aria-label=\"risk heat map\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">",
        40 + cell * size,
        40 + cell * size
    );
    for (impact_index, row) in counts.iter().enumerate() {
        for (likelihood_index, count) in row.iter().enumerate() {
            let score = (impact_index + 1) * (likelihood_index + 1);
            let shade = match score * 25 / (size * size) {
                0..=3 => "#c8e6c9",
                4..=8 => "#fff59d",
                9..=15 => "#ffcc80",
                _ => "#ef9a9a",
            };
            let x = 40 + likelihood_index * cell;
            let y = (size - 1 - impact_index) * cell;
            let _ = write!(
                page,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"{shade}\" stroke=\"#fff\"/>"
            );
            if *count > 0 {
                let _ = write!(
                    page,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\" data-metric=\"heat_cell\" data-likelihood=\"{}\" data-impact=\"{}\">{count}</text>",
                    x + cell / 2,
                    y + cell / 2 + 5,
                    likelihood_index + 1,
                    impact_index + 1
                );
            }
        }
    }
    let _ = write!(
        page,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">likelihood →</text><text x=\"12\" y=\"{}\" font-size=\"12\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">impact →</text></svg>",
        40 + cell * size / 2,
        cell * size + 25,
        cell * size / 2,
        cell * size / 2
    );
    page.push_str("<table><thead><tr><th>Risk</th><th>Category</th><th>Inherent (L×I)</th><th>Level</th><th>Residual</th><th>Treatment</th><th>Status</th><th>Controls</th></tr></thead>");
    for risk in &pack.risks {
        let _ = write!(
            page,
            "<tr><td><b>{}</b> {}</td><td>{}</td><td>{}×{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&risk.id),
            esc(&risk.title),
            esc(&risk.category),
            risk.likelihood,
            risk.impact,
            esc(&risk.inherent_level),
            esc(risk.residual_level.as_deref().unwrap_or("-")),
            esc(&risk.treatment),
            esc(&risk.status),
            esc(&risk.control_ids.join(", ")),
        );
    }
    page.push_str("</table>");
}

fn impacts(page: &mut String, pack: &EvidencePack) {
    page.push_str("<h2 id=\"impact\">AI system impact assessments (6.1.4, A.5)</h2><table><thead><tr><th>Assessment</th><th>System</th><th>Severity</th><th>Affected groups</th><th>Next review</th></tr></thead>");
    for row in &pack.impact_assessments {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.id),
            esc(&row.ai_system_id),
            esc(&row.severity),
            esc(&row.affected_groups.join(", ")),
            esc(&row.next_review),
        );
    }
    page.push_str("</table>");
}

fn incidents(page: &mut String, pack: &EvidencePack) {
    page.push_str("<h2 id=\"incidents\">Incidents and corrective actions (10.2, A.8.4, EU AI Act Art. 73)</h2><table><thead><tr><th>Incident</th><th>Severity</th><th>Status</th><th>Serious</th><th>Art. 73 deadline</th><th>Reported</th><th>Corrective actions</th><th>Source</th></tr></thead>");
    for row in &pack.incidents {
        let _ = write!(
            page,
            "<tr data-metric=\"incident\"><td><b>{}</b> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.id),
            esc(&row.title),
            esc(&row.severity),
            esc(&row.status),
            if row.serious { "yes" } else { "no" },
            esc(row.reporting_deadline.as_deref().unwrap_or("-")),
            esc(row.reported_at.as_deref().unwrap_or("-")),
            esc(&row.corrective_action_ids.join(", ")),
            esc(&row.source),
        );
    }
    page.push_str("</table>");
}

fn metrics(page: &mut String, pack: &EvidencePack) {
    let m = &pack.metrics;
    page.push_str("<h2 id=\"metrics\">Monitoring and measurement (9.1)</h2><h3>Decisions by verdict over time</h3>");
    day_chart(page, &m.by_day);
    page.push_str("<p>");
    for (verdict, colour) in VERDICTS {
        let _ = write!(
            page,
            "<span style=\"color:{colour}\">■</span> {verdict}: <b data-metric=\"verdict\" data-verdict=\"{verdict}\">{}</b> &nbsp; ",
            m.by_verdict.get(verdict).copied().unwrap_or(0)
        );
    }
    page.push_str("</p><h3>Top blocking rules</h3>");
    let top: Vec<(String, u64)> = m
        .top_blocking_rules
        .iter()
        .map(|rule| (rule.rule_id.clone(), rule.count))
        .collect();
    bar_chart(page, "blocking_rule", &top, "#c62828");
    page.push_str(
        "<h3>Human oversight (A.9, Art. 14)</h3><table><thead><tr><th>Step</th><th>Count</th></tr></thead>",
    );
    for (step, count) in &m.approval_steps {
        let _ = write!(
            page,
            "<tr><td>{}</td><td data-metric=\"approval_step\" data-step=\"{}\">{count}</td></tr>",
            esc(step),
            esc(step)
        );
    }
    let seconds = |value: Option<f64>| value.map_or("-".to_owned(), |s| format!("{s:.1} s"));
    let _ = write!(
        page,
        "</table><p>Approval latency: median <b data-metric=\"approval_latency_median\">{}</b>, p95 <b data-metric=\"approval_latency_p95\">{}</b>.</p>",
        seconds(m.approval_latency_median_s),
        seconds(m.approval_latency_p95_s)
    );
    page.push_str("<h3>Redactions by entity type</h3>");
    let redactions: Vec<(String, u64)> = m
        .redactions_by_entity
        .iter()
        .map(|(entity, count)| (entity.clone(), *count))
        .collect();
    bar_chart(page, "redaction", &redactions, "#0277bd");
    let _ = write!(
        page,
        "<p>Anomaly alerts: <b data-metric=\"anomaly_alerts\">{}</b>. Incident records: <b data-metric=\"incident_records\">{}</b>. Tool outcomes: <b data-metric=\"outcomes_ok\">{}</b> ok, <b data-metric=\"outcomes_error\">{}</b> failed.</p>",
        m.anomaly_alerts, m.incident_records, m.outcomes_ok, m.outcomes_error
    );
}

/// Stacked columns, one per day, coloured by verdict.
fn day_chart(page: &mut String, by_day: &BTreeMap<String, BTreeMap<String, u64>>) {
    if by_day.is_empty() {
        page.push_str("<p>No decisions in the period.</p>");
        return;
    }
    let max = by_day
        .values()
        .map(|verdicts| verdicts.values().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let column = (600 / by_day.len()).clamp(8, 60);
    let width = 60 + column * by_day.len();
    let height: usize = 200;
    let _ = write!(
        page,
        "<svg role=\"img\" aria-label=\"decisions per day\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">",
        height + 40,
        height + 40
    );
    for (index, (day, verdicts)) in by_day.iter().enumerate() {
        let x = 50 + index * column;
        let mut top = height;
        for (verdict, colour) in VERDICTS {
            let count = verdicts.get(verdict).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let bar = ((count * height as u64) / max) as usize;
            top = top.saturating_sub(bar);
            let _ = write!(
                page,
                "<rect x=\"{x}\" y=\"{top}\" width=\"{}\" height=\"{bar}\" fill=\"{colour}\"><title>{day} {verdict}: {count}</title></rect>",
                column.saturating_sub(2)
            );
        }
        let _ = write!(
            page,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + column / 2,
            height + 14,
            esc(day.get(5..).unwrap_or(day))
        );
    }
    let _ = write!(
        page,
        "<text x=\"4\" y=\"12\" font-size=\"10\">{max}</text><line x1=\"48\" y1=\"0\" x2=\"48\" y2=\"{height}\" stroke=\"#999\"/></svg>"
    );
}

/// Horizontal bars with their values.
fn bar_chart(page: &mut String, metric: &str, rows: &[(String, u64)], colour: &str) {
    if rows.is_empty() {
        page.push_str("<p>None in the period.</p>");
        return;
    }
    let max = rows
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(1)
        .max(1);
    let height = 22 * rows.len() + 4;
    let _ = write!(
        page,
        "<svg role=\"img\" aria-label=\"{metric}\" width=\"640\" height=\"{height}\" viewBox=\"0 0 640 {height}\">"
    );
    for (index, (name, count)) in rows.iter().enumerate() {
        let y = index * 22;
        let bar = (count * 360 / max) as usize;
        let _ = write!(
            page,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"200\" y=\"{}\" width=\"{bar}\" height=\"16\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" data-metric=\"{metric}\" data-name=\"{}\">{count}</text>",
            y + 14,
            esc(name),
            y + 2,
            206 + bar,
            y + 14,
            esc(name)
        );
    }
    page.push_str("</svg>");
}

fn logs(page: &mut String, pack: &EvidencePack) {
    page.push_str("<h2 id=\"logs\">Audit log verification (A.6.2.8, EU AI Act Art. 12)</h2>");
    for log in &pack.logs {
        let _ = write!(
            page,
            "<p><b>{}</b>: <span class=\"{}\">{}</span>, {} records{}.</p>",
            esc(&log.dir),
            if log.intact { "ok" } else { "bad" },
            if log.intact { "intact" } else { "NOT INTACT" },
            log.records,
            if log.key_from_log {
                " (checked with the key stored beside the log: proves integrity only against outsiders)"
            } else {
                " (checked with the auditor's public key)"
            }
        );
        if let Some(problem) = &log.problem {
            let _ = write!(page, "<p class=\"bad\">{}</p>", esc(problem));
        }
        if let Some(note) = &log.checkpoint {
            let _ = write!(
                page,
                "<p>Signed checkpoint it was checked against:</p><pre>{}</pre>",
                esc(note)
            );
        }
    }
}

fn gaps(page: &mut String, pack: &EvidencePack) {
    let _ = write!(
        page,
        "<h2 id=\"gaps\">Gaps</h2><p><b data-metric=\"gap_count\">{}</b> gap(s).</p><table id=\"gaps-table\"><thead><tr><th>Severity</th><th>Code</th><th>Subject</th><th>What</th></tr></thead>",
        pack.gaps.len()
    );
    for gap in &pack.gaps {
        let _ = write!(
            page,
            "<tr data-gap=\"{}\"><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&gap.code),
            if gap.severity == "error" { "bad" } else { "" },
            esc(&gap.severity),
            esc(&gap.code),
            esc(&gap.subject),
            esc(&gap.message),
        );
    }
    page.push_str("</table>");
}

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
