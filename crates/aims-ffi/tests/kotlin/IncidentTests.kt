// Incidents through the bindings: a critical deny opens an incident through the policy's
// trigger; the app moves it along its lifecycle (which the core checks), notes are masked, a
// serious incident gets its EU AI Act Art. 73 deadline, and refusals are typed exceptions.
package aims.test

import aims.AimsException
import aims.Guard
import aims.GuardConfig
import aims.IncidentStatus
import aims.IncidentUpdate
import aims.SeriousIncidentKind
import aims.Severity
import aims.ToolCall
import aims.Verdict
import java.io.File
import java.nio.file.Files
import java.time.Duration

private const val INCIDENT_POLICY = """
default: deny
rules:
  - id: deny-shell
    match: {tool: shell}
    effect: deny
    severity: critical
  - id: allow-lookup
    match: {tool: lookup_order}
    effect: allow
incidents:
  - id: critical-deny
    title: Agent attempted an action outside its intended use
    when: {deny_by_severity: {min_severity: critical}}
    severity: high
"""

fun runIncidentTests(harness: Harness) {
    val scratch = Files.createTempDirectory("aims-incidents").toFile()
    try {
        val config = GuardConfig(
            policyText = INCIDENT_POLICY,
            auditDir = File(scratch, "audit").path,
            approvalStorePath = File(scratch, "oversight.db").path,
        )
        Guard(config).use { guard ->
            val incidents = guard.incidents() ?: throw Failed("a guard with an oversight store has incidents")
            harness.test("incidents: a critical deny opens one through the policy's trigger") {
                expectEqual(emptyList<String>(), incidents.list().map { it.id }, "before")
                val shell = ToolCall(agentId = "cs-agent", tool = "shell", argsJson = """{"cmd": "ls"}""", aiSystemId = "cs-assistant")
                expectEqual(Verdict.DENY, guard.check(shell).verdict, "verdict")
                val opened = incidents.list()
                expectEqual(1, opened.size, "incidents")
                val incident = opened[0]
                expectEqual(IncidentStatus.OPEN, incident.status, "status")
                expectEqual(Severity.HIGH, incident.severity, "severity")
                expectEqual("Agent attempted an action outside its intended use", incident.title, "title")
                expectEqual(listOf("cs-assistant"), incident.aiSystemIds, "AI systems")
                expect(incident.auditIndices.isNotEmpty()) { "no audit record linked" }
                expectEqual(incident, incidents.get(incident.id), "get")
            }
            val id = incidents.list().firstOrNull()?.id ?: ""
            harness.test("incidents: an update moves it forward with a masked note") {
                val updated = incidents.update(id, "dana", IncidentUpdate(status = IncidentStatus.INVESTIGATING, note = "called jane@example.com"))
                expectEqual(IncidentStatus.INVESTIGATING, updated.status, "status")
                val last = updated.timeline.last()
                expectEqual("dana", last.by, "by")
                expect(!last.event.contains("jane@example.com")) { "the note's e-mail address was stored: ${last.event}" }
                expectEqual(emptyList<String>(), incidents.list(IncidentStatus.OPEN).map { it.id }, "open")
                expectEqual(listOf(id), incidents.list(IncidentStatus.INVESTIGATING).map { it.id }, "investigating")
            }
            harness.test("incidents: the lifecycle refuses closing a major incident without a root cause") {
                expectThrows<AimsException.IncidentRefused>("close") {
                    incidents.update(id, "dana", IncidentUpdate(status = IncidentStatus.CLOSED))
                }
                expectThrows<AimsException.IncidentRefused>("empty update") { incidents.update(id, "dana", IncidentUpdate()) }
                val unknown = expectThrows<AimsException.UnknownIncident>("unknown") { incidents.get("INC-nope") }
                expectEqual("INC-nope", unknown.id, "id")
                expectEqual(IncidentStatus.INVESTIGATING, incidents.get(id).status, "unchanged")
            }
            harness.test("incidents: a serious incident gets its Art. 73 reporting deadline") {
                val serious = incidents.update(id, "dana", IncidentUpdate(seriousKind = SeriousIncidentKind.DEATH))
                expect(serious.serious) { "not marked serious" }
                val aware = serious.awareAt ?: throw Failed("no awareness time")
                expectEqual(aware.plus(Duration.ofDays(10)), serious.reportingDeadline, "deadline")
            }
        }
        harness.test("incidents: a guard without an oversight store has none") {
            Guard(GuardConfig(policyText = INCIDENT_POLICY)).use { guard -> expectEqual(null, guard.incidents(), "incidents") }
        }
    } finally {
        scratch.deleteRecursively()
    }
}
