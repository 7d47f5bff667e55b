// A small customer-service agent whose tools are guarded by aims through the Kotlin binding.
//
// The "model" is a script of the tool calls an LLM would make, so the example runs offline and
// deterministically. Every call goes through `guarded`: the guard decides, the tool runs only
// when allowed (with the arguments masked for `Redact`), and the outcome is recorded. A large
// refund waits for a human: the app's approval listener hands the request to a support lead
// (a second thread here, a push notification on a phone), the agent waits for the vote, and
// the approved call runs only after `executeApproved` matched it to what was approved.
// At the end the signed audit log is verified offline.
//
//   java -cp ... aims.example.AgentKt examples/policy.yaml examples/register [WORK_DIR]
package aims.example

import aims.AimsException
import aims.ApprovalListener
import aims.ApprovalNotice
import aims.ApprovalStatus
import aims.ApprovalStep
import aims.Decision
import aims.Guard
import aims.GuardConfig
import aims.Outcome
import aims.ToolCall
import aims.Verdict
import aims.verifyAuditLog
import java.io.File
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.Executors
import kotlin.system.exitProcess

/** The agent's tools: plain functions from JSON arguments to a JSON result. */
private val tools: Map<String, (String) -> String> = mapOf(
    "lookup_order" to { _ -> """{"status": "delivered", "total": 240.0, "card": "5500 0000 0000 0004"}""" },
    "search_kb" to { _ -> """{"answer": "Returns are accepted within 30 days.", "escalation_key": "sk-live0123456789abcdefghij"}""" },
    "issue_refund" to { args -> """{"refunded": $args}""" },
    "send_email" to { args -> """{"sent": $args}""" },
)

/** The app's side of oversight: every step is shown; a new request goes to a support lead. */
private class SupportDesk(private val approvals: () -> aims.Approvals) : ApprovalListener {
    private val lead = Executors.newSingleThreadExecutor()

    override fun onApprovalEvent(notice: ApprovalNotice) {
        println("  [oversight] ${notice.step.name.lowercase()}: ${notice.request.tool} (${notice.request.status.name.lowercase()})")
        if (notice.step == ApprovalStep.REQUESTED) {
            // Hand off quickly: the listener runs on the thread that took the step.
            lead.submit { approvals().approve(notice.request.id, "lee", "support-lead", "order checked") }
        }
    }

    fun close() = lead.shutdown()
}

private class Agent(private val guard: Guard) {
    /** Runs one tool call under the guard; returns what the model would see. */
    fun guarded(tool: String, args: String): String {
        val call = ToolCall(agentId = "cs-agent", tool = tool, argsJson = args, aiSystemId = "cs-assistant")
        val decision = guard.check(call)
        return when {
            decision.mayProceed -> run(call, decision)
            decision.verdict == Verdict.REQUIRE_APPROVAL -> afterApproval(call, decision)
            else -> "denied (${decision.ruleIds.joinToString()})"
        }
    }

    private fun afterApproval(call: ToolCall, decision: Decision): String {
        val id = decision.approvalId ?: return "approval required, but no approval store"
        val request = guard.approvals()!!.wait(id, Duration.ofSeconds(30))
        if (request.status != ApprovalStatus.APPROVED) return "not approved (${request.status.name.lowercase()})"
        return try {
            run(call, guard.executeApproved(id, call))
        } catch (refused: AimsException) {
            "refused at execution: ${refused.message}"
        }
    }

    private fun run(call: ToolCall, decision: Decision): String {
        val args = if (decision.verdict == Verdict.REDACT) guard.applyRedactions(decision, call.argsJson) else call.argsJson
        val started = System.nanoTime()
        val result = tools.getValue(call.tool)(args)
        guard.recordOutcome(call, decision, Outcome(ok = true, durationMs = ((System.nanoTime() - started) / 1_000_000).toULong()))
        val after = guard.checkResult(call, result)
        return if (after.verdict == Verdict.REDACT) guard.applyRedactions(after, result) else result
    }
}

fun main(args: Array<String>) {
    if (args.size !in 2..3) {
        System.err.println("usage: AgentKt POLICY_FILE REGISTER_DIR [WORK_DIR]")
        exitProcess(2)
    }
    val work = if (args.size == 3) File(args[2]) else Files.createTempDirectory("aims-agent").toFile()
    val auditDir = File(work, "audit")
    lateinit var guard: Guard
    val desk = SupportDesk { guard.approvals()!! }
    guard = Guard(
        GuardConfig(
            policyPath = args[0],
            registerDir = args[1],
            auditDir = auditDir.path,
            approvalStorePath = File(work, "approvals.db").path,
        ),
        desk,
    )
    guard.use {
        val agent = Agent(guard)
        val script = listOf(
            "lookup_order" to """{"order_id": "A-1002"}""",
            "search_kb" to """{"query": "return policy"}""",
            "issue_refund" to """{"order_id": "A-1001", "amount": 20, "currency": "EUR", "reason": "late delivery"}""",
            "issue_refund" to """{"order_id": "A-1002", "amount": 240, "currency": "EUR", "reason": "damaged"}""",
            "issue_refund" to """{"order_id": "A-1002", "amount": 900, "currency": "EUR", "reason": "goodwill"}""",
            "send_email" to """{"to": "jane@customer.example.org", "subject": "Refund", "body": "Refunded to card 4111 1111 1111 1111."}""",
            "send_email" to """{"to": "jane@customer.example.org", "subject": "Login", "body": "your password: hunter22"}""",
            "shell" to """{"cmd": "rm -rf /"}""",
        )
        for ((tool, callArgs) in script) println("$tool: ${agent.guarded(tool, callArgs)}")
        guard.flush()
    }
    desk.close()
    val report = verifyAuditLog(auditDir.path, null, null)
    println("audit log: ${report.records} records, verified, signed size ${report.signedSize}")
    if (args.size == 2) work.deleteRecursively()
}
