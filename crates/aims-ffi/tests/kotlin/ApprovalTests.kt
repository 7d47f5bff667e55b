// Approvals through the bindings, on the runtime's oversight store: `check` opens a request
// for a `RequireApproval` decision, the core refuses some votes (self-approval, the same
// approver twice, a role that may not vote, a closed window), an approval clears only the
// exact call and only once, `wait` blocks until a vote or its timeout, and the listener the
// app implements hears every step in order without being able to change any decision.
package aims.test

import aims.AimsException
import aims.ApprovalListener
import aims.ApprovalNotice
import aims.ApprovalStatus
import aims.ApprovalStep
import aims.Guard
import aims.GuardConfig
import aims.ListenerException
import aims.ToolCall
import aims.Verdict
import aims.Vote
import java.io.File
import java.nio.file.Files
import java.time.Duration
import java.util.Collections
import kotlin.concurrent.thread

// Refunds above 100 need two distinct approvers (two-person rule); e-mails need one, within
// a one-second window so expiry can be seen; `shell` names a checkpoint nobody configured.
private const val POLICY = """
default: deny
rules:
  - id: refund-approval
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refund-approval
  - id: refund-allow
    match: {tool: issue_refund}
    effect: allow
  - id: email-approval
    match: {tool: send_email}
    effect: require_approval
    checkpoint: quick-approval
  - id: shell-approval
    match: {tool: shell}
    effect: require_approval
    checkpoint: nowhere
checkpoints:
  - id: refund-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [refund-approval]}
    approver_roles: [support-lead, finance]
    required_approvals: 2
    timeout_seconds: 1800
    on_timeout: deny
  - id: quick-approval
    ai_system_id: cs-assistant
    trigger: {policy_rules: [email-approval]}
    approver_roles: [support-lead]
    required_approvals: 1
    timeout_seconds: 1
    on_timeout: deny
"""

/** Remembers every notice as "step:status:request id". */
private class Recorder : ApprovalListener {
    val heard: MutableList<String> = Collections.synchronizedList(mutableListOf())
    override fun onApprovalEvent(notice: ApprovalNotice) {
        heard.add("${notice.step}:${notice.request.status}:${notice.request.id}")
    }
}

/** Throws on every notice, alternating an undeclared exception and the declared one. */
private class Thrower : ApprovalListener {
    var calls = 0
    override fun onApprovalEvent(notice: ApprovalNotice) {
        calls++
        if (calls % 2 == 1) throw IllegalStateException("listener broke on ${notice.step}")
        throw ListenerException.Failed("listener refused ${notice.step}")
    }
}

private fun refund(amount: Int, agent: String = "cs-agent") = ToolCall(
    agentId = agent, tool = "issue_refund", aiSystemId = "cs-assistant",
    argsJson = """{"order_id": "A7", "amount": $amount, "currency": "EUR", "reason": "damaged"}""",
    contextJson = """{"user_id": "sam"}""",
)

private val email = ToolCall(
    agentId = "cs-agent", tool = "send_email", aiSystemId = "cs-assistant",
    argsJson = """{"to": "jane@example.com", "subject": "refund", "body": "done"}""",
)

private fun config(dir: File) = GuardConfig(
    policyText = POLICY,
    auditDir = File(dir, "audit").path,
    approvalStorePath = File(dir, "approvals.db").path,
)

fun runApprovalTests(harness: Harness) {
    val scratch = Files.createTempDirectory("aims-approvals").toFile()
    try {
        votingTests(harness, File(scratch, "voting"))
        waitTests(harness, File(scratch, "wait"))
        listenerOrderTest(harness, File(scratch, "order"))
        throwingListenerTest(harness, File(scratch, "throwing"))
        withoutStoreTests(harness)
    } finally {
        scratch.deleteRecursively()
    }
}

private fun votingTests(harness: Harness, dir: File) {
    Guard(config(dir)).use { guard ->
        val approvals = guard.approvals() ?: throw Failed("a guard with an approval store has approvals")
        val call = refund(200)
        val decision = guard.check(call)
        val id = decision.approvalId ?: ""
        harness.test("approvals: require_approval opens a pending request bound to the call") {
            expectEqual(Verdict.REQUIRE_APPROVAL, decision.verdict, "verdict")
            expect(!decision.mayProceed) { "a call waiting for approval may not proceed" }
            expect(id.startsWith("apr_")) { "approval id '$id'" }
            val request = approvals.status(id)
            expectEqual(ApprovalStatus.PENDING, request.status, "status")
            expectEqual("refund-approval", request.checkpoint, "checkpoint")
            expectEqual(decision.decisionId, request.decisionId, "decision id")
            expectEqual(2u, request.requiredApprovals, "required approvals")
            expectEqual(listOf("cs-agent", "sam"), request.requestedBy, "requested by")
            expectEqual(listOf("support-lead", "finance"), request.approverRoles, "approver roles")
            expectEqual(1800uL, request.timeoutSeconds, "timeout")
            expectEqual(Duration.ofSeconds(1800), Duration.between(request.requestedAt, request.expiresAt), "window")
            expect(Regex("[0-9a-f]{64}").matches(request.callHash)) { "call hash ${request.callHash}" }
            expectEqual(listOf(id), approvals.pending().map { it.id }, "pending")
        }
        harness.test("approvals: the agent and the user who triggered the call cannot approve it") {
            val agent = expectThrows<AimsException.SelfApproval>("agent") { approvals.approve(id, "cs-agent", "support-lead") }
            expectEqual(id, agent.id, "id")
            expectThrows<AimsException.SelfApproval>("user") { approvals.approve(id, "sam", "finance") }
            val role = expectThrows<AimsException.RoleNotAllowed>("role") { approvals.approve(id, "lee", "intern") }
            expectEqual("intern", role.role, "role")
            expectEqual(listOf("support-lead", "finance"), role.allowed, "allowed")
            expectEqual(0u, approvals.status(id).approvals, "no vote counted")
        }
        harness.test("approvals: two-person rule: one approval is not enough, nor the same person twice") {
            val first = approvals.approve(id, "lee", "support-lead", "checked with jane@example.com")
            expectEqual(ApprovalStatus.PENDING, first.status, "after one approval")
            expectEqual(1u, first.approvals, "approvals")
            expectThrows<AimsException.AlreadyVoted>("same approver") { approvals.approve(id, "lee", "finance") }
            val early = expectThrows<AimsException.NotApproved>("execute before approval") { guard.executeApproved(id, call) }
            expectEqual(ApprovalStatus.PENDING, early.status, "status in the error")
            val second = approvals.approve(id, "fin", "finance")
            expectEqual(ApprovalStatus.APPROVED, second.status, "after two approvals")
            expectEqual(listOf("lee" to Vote.APPROVE, "fin" to Vote.APPROVE), second.votes.map { it.approver to it.vote }, "votes")
            expectEqual("checked with <EMAIL_ADDRESS>", second.votes[0].note, "the note, masked before it was stored")
            expect(second.resolvedAt != null) { "resolved at" }
        }
        harness.test("approvals: execute_approved runs only the exact approved call, once") {
            val changed = expectThrows<AimsException.CallChanged>("changed amount") { guard.executeApproved(id, refund(201)) }
            expectEqual(id, changed.id, "id")
            expectThrows<AimsException.CallChanged>("another agent") { guard.executeApproved(id, refund(200, agent = "other-agent")) }
            expectEqual(ApprovalStatus.APPROVED, approvals.status(id).status, "a refused call leaves it approved")
            val cleared = guard.executeApproved(id, call)
            expectEqual(Verdict.ALLOW, cleared.verdict, "the approved call may proceed")
            expectEqual(id, cleared.approvalId, "the approval it consumed")
            val executed = approvals.status(id)
            expectEqual(ApprovalStatus.EXECUTED, executed.status, "status")
            expect(executed.executedAt != null) { "executed at" }
            val again = expectThrows<AimsException.NotApproved>("second run") { guard.executeApproved(id, call) }
            expectEqual(ApprovalStatus.EXECUTED, again.status, "status in the error")
            expectEqual(emptyList<String>(), approvals.pending().map { it.id }, "pending")
        }
        harness.test("approvals: one rejection resolves a request; later votes and unknown ids are refused") {
            val other = guard.check(refund(300)).approvalId ?: throw Failed("no request")
            val rejected = approvals.reject(other, "lee", "support-lead")
            expectEqual(ApprovalStatus.REJECTED, rejected.status, "status")
            expectEqual(listOf(Vote.REJECT), rejected.votes.map { it.vote }, "votes")
            val late = expectThrows<AimsException.NotPending>("vote after rejection") { approvals.approve(other, "fin", "finance") }
            expectEqual(ApprovalStatus.REJECTED, late.status, "status in the error")
            expectThrows<AimsException.NotApproved>("execute a rejected call") { guard.executeApproved(other, refund(300)) }
            val unknown = expectThrows<AimsException.UnknownRequest>("unknown") { approvals.status("apr_nope") }
            expectEqual("apr_nope", unknown.id, "id")
        }
        harness.test("approvals: a checkpoint nobody configured fails the check closed") {
            val decision = guard.check(ToolCall(agentId = "cs-agent", tool = "shell", argsJson = "{}"))
            expectEqual(Verdict.DENY, decision.verdict, "verdict")
            expectEqual(null, decision.approvalId, "approval id")
            expect(decision.reasons.any { it.code == "oversight_failed" }) { "reasons ${decision.reasons}" }
        }
        harness.test("approvals: every step is in the audit log, notes masked") {
            guard.flush()
            guard.auditLog()!!.use { log ->
                val records = (0uL until log.size()).map { log.proveInclusion(it).record }
                val steps = records.filter { it.contains("\"request_id\":\"$id\"") }
                expectEqual(6, steps.size, "records of the first request (requested, 2 approved, 2 refused, executed)")
                expect(steps.none { it.contains("jane@example.com") }) { "the note's e-mail address reached the log" }
            }
        }
    }
}

private fun waitTests(harness: Harness, dir: File) {
    Guard(config(dir)).use { guard ->
        val approvals = guard.approvals() ?: throw Failed("no approvals")
        harness.test("approvals: wait returns the pending request when its timeout passes") {
            val id = guard.check(refund(150)).approvalId ?: throw Failed("no request")
            val started = System.nanoTime()
            val waited = approvals.wait(id, Duration.ofMillis(60))
            val elapsed = Duration.ofNanos(System.nanoTime() - started)
            expectEqual(ApprovalStatus.PENDING, waited.status, "status")
            expect(elapsed >= Duration.ofMillis(60)) { "returned after $elapsed" }
        }
        harness.test("approvals: wait wakes when another thread casts the deciding vote") {
            val id = guard.check(refund(160)).approvalId ?: throw Failed("no request")
            approvals.approve(id, "lee", "support-lead")
            val voter = thread { Thread.sleep(100); approvals.approve(id, "fin", "finance") }
            val waited = approvals.wait(id, Duration.ofSeconds(30))
            voter.join()
            expectEqual(ApprovalStatus.APPROVED, waited.status, "status")
        }
        harness.test("approvals: a window that closes expires the request; late votes are refused") {
            val id = guard.check(email).approvalId ?: throw Failed("no request")
            val waited = approvals.wait(id, Duration.ofSeconds(30))
            expectEqual(ApprovalStatus.EXPIRED, waited.status, "status")
            expectEqual(waited.expiresAt, waited.resolvedAt, "resolved when the window closed")
            expectThrows<AimsException.Expired>("late vote") { approvals.approve(id, "lee", "support-lead") }
            expectThrows<AimsException.NotApproved>("execute") { guard.executeApproved(id, email) }
        }
    }
}

private fun listenerOrderTest(harness: Harness, dir: File) {
    val recorder = Recorder()
    Guard(config(dir), recorder).use { guard ->
        val approvals = guard.approvals() ?: throw Failed("no approvals")
        harness.test("approvals: the listener receives the notices in order") {
            val call = refund(250)
            val id = guard.check(call).approvalId ?: throw Failed("no request")
            approvals.approve(id, "lee", "support-lead")
            approvals.approve(id, "fin", "finance")
            expectThrows<AimsException.CallChanged>("changed") { guard.executeApproved(id, refund(251)) }
            guard.executeApproved(id, call)
            val mail = guard.check(email).approvalId ?: throw Failed("no request")
            approvals.wait(mail, Duration.ofSeconds(30))
            expectEqual(
                listOf(
                    "${ApprovalStep.REQUESTED}:${ApprovalStatus.PENDING}:$id",
                    "${ApprovalStep.APPROVED}:${ApprovalStatus.PENDING}:$id",
                    "${ApprovalStep.APPROVED}:${ApprovalStatus.APPROVED}:$id",
                    "${ApprovalStep.EXECUTION_REFUSED}:${ApprovalStatus.APPROVED}:$id",
                    "${ApprovalStep.EXECUTED}:${ApprovalStatus.EXECUTED}:$id",
                    "${ApprovalStep.REQUESTED}:${ApprovalStatus.PENDING}:$mail",
                    "${ApprovalStep.EXPIRED}:${ApprovalStatus.EXPIRED}:$mail",
                ),
                recorder.heard.toList(), "notices")
            expectEqual(0uL, guard.listenerFailures(), "listener failures")
        }
    }
}

private fun throwingListenerTest(harness: Harness, dir: File) {
    val thrower = Thrower()
    Guard(config(File(dir, "plain"))).use { plain ->
        Guard(config(File(dir, "listened")), thrower).use { guard ->
            harness.test("approvals: a throwing listener changes no decision and no request") {
                val call = refund(220)
                val expected = plain.check(call)
                val decision = guard.check(call)
                expectEqual(expected.verdict, decision.verdict, "verdict")
                expectEqual(expected.ruleIds, decision.ruleIds, "rules")
                expectEqual(expected.reasons, decision.reasons, "reasons")
                expectEqual(expected.checkpoint, decision.checkpoint, "checkpoint")
                val id = decision.approvalId ?: throw Failed("the request must be opened despite the listener")
                val approvals = guard.approvals()!!
                expectEqual(ApprovalStatus.PENDING, approvals.approve(id, "lee", "support-lead").status, "first vote")
                expectEqual(ApprovalStatus.APPROVED, approvals.approve(id, "fin", "finance").status, "second vote")
                expectThrows<AimsException.CallChanged>("changed call still refused") { guard.executeApproved(id, refund(221)) }
                expectEqual(Verdict.ALLOW, guard.executeApproved(id, call).verdict, "cleared")
                expectEqual(ApprovalStatus.EXECUTED, approvals.status(id).status, "status")
                expectEqual(5, thrower.calls, "the listener is still told every step")
                expectEqual(5uL, guard.listenerFailures(), "listener failures counted")
            }
        }
    }
}

private fun withoutStoreTests(harness: Harness) {
    harness.test("approvals: without an approval store there is no request and no approvals") {
        Guard(GuardConfig(policyText = POLICY), Recorder()).use { guard ->
            val decision = guard.check(refund(200))
            expectEqual(Verdict.REQUIRE_APPROVAL, decision.verdict, "verdict")
            expectEqual(null, decision.approvalId, "approval id")
            expectEqual(null, guard.approvals(), "approvals")
            expectThrows<AimsException.Config>("execute") { guard.executeApproved("apr_x", refund(200)) }
        }
    }
}
