// Human oversight through the guard's oversight store: requests opened by require_approval,
// the two-person rule, self-approval and changed calls refused, a wrapped function run with an
// approved request, waits that leave the event loop running, incidents.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { AimsError, ApprovalRequiredError, AuditLog, Guard } from '../index.mjs'
import { tempDir } from './fixtures.mjs'

const POLICY = `
default: deny
rules:
  - id: big-refund
    match: {tool: issue_refund, args: {/amount: {gt: 100}}}
    effect: require_approval
    checkpoint: refunds
  - id: refunds
    match: {tool: issue_refund}
    effect: allow
  - id: no-shell
    match: {tool: shell}
    effect: deny
    severity: critical
checkpoints:
  - id: refunds
    ai_system_id: cs-assistant
    trigger: {policy_rules: [big-refund]}
    approver_roles: [lead]
    required_approvals: 2
    timeout_seconds: 600
    on_timeout: deny
incidents:
  - id: critical-deny
    when: {deny_by_severity: {min_severity: critical}}
    severity: high
`

// A guard with an oversight store in a new directory; `extra(dir)` adds options.
function withStore(extra = () => ({})) {
  const dir = tempDir('aims-node-oversight-')
  const guard = new Guard({ policyText: POLICY, oversightStore: join(dir, 'oversight.db'), ...extra(dir) })
  return { guard, dir }
}

function refundTool(guard, options = {}) {
  const ran = []
  const issueRefund = (orderId, amount) => {
    ran.push(amount)
    return { refunded: amount }
  }
  return { ran, refund: guard.wrap(issueRefund, { agent: 'cs-agent', tool: 'issue_refund', ...options }) }
}

test('without an oversight store there are no approvals or incidents', () => {
  const guard = new Guard({ policyText: POLICY })
  assert.throws(() => guard.approvals, (err) => err instanceof AimsError && /oversight_store/.test(err.message))
  assert.throws(() => guard.incidents, AimsError)
  const decision = guard.check({ agentId: 'cs-agent', tool: 'issue_refund', args: { amount: 250 } })
  assert.equal(decision.verdict, 'require_approval')
  assert.equal(decision.approvalId, undefined)
})

test('two-person rule: the approved call runs once through withApproval; self-approval, a second vote and a changed call are refused', () => {
  const { guard, dir } = withStore((dir) => ({ auditDir: join(dir, 'log') }))
  const { ran, refund } = refundTool(guard)

  const raised = (() => {
    try {
      refund('A1', 250)
    } catch (err) {
      return err
    }
    return null
  })()
  assert.ok(raised instanceof ApprovalRequiredError, `expected ApprovalRequiredError, got ${raised}`)
  const id = raised.requestId
  assert.match(id, /^apr/)
  assert.equal(id, raised.decision.approvalId)
  assert.equal(raised.status, 'pending')
  assert.deepEqual(ran, [])
  assert.deepEqual(guard.approvals.pending().map((request) => request.id), [id])
  const opened = guard.approvals.status(id)
  assert.equal(opened.requiredApprovals, 2)
  assert.deepEqual(opened.requestedBy, ['cs-agent'])
  assert.equal(opened.tool, 'issue_refund')

  assert.throws(() => guard.approvals.approve(id, 'cs-agent', 'lead'), /triggered/, 'the agent approving its own call')
  assert.throws(() => guard.approvals.approve(id, 'mallory', 'intern'), /role/)
  const first = guard.approvals.approve(id, 'alice', 'lead', 'checked the order')
  assert.equal(first.status, 'pending', 'one approval of two')
  assert.deepEqual(first.votes.map((vote) => [vote.approver, vote.vote]), [['alice', 'approve']])
  assert.throws(() => guard.approvals.approve(id, 'alice', 'lead'), /already voted/, 'the same person twice')
  assert.throws(() => refund.withApproval(id)('A1', 250), /pending/, 'not yet approved')
  assert.deepEqual(ran, [])

  assert.equal(guard.approvals.approve(id, 'bob', 'lead').status, 'approved')
  assert.throws(() => refund.withApproval(id)('A1', 999), /differs from the one approved/, 'another amount')
  assert.throws(() => refund.withApproval(id)('A2', 250), /differs from the one approved/, 'another order')
  assert.deepEqual(ran, [])

  assert.deepEqual(refund.withApproval(id)('A1', 250), { refunded: 250 })
  assert.deepEqual(ran, [250])
  const executed = guard.approvals.status(id)
  assert.equal(executed.status, 'executed')
  assert.ok(executed.executedAt)
  assert.throws(() => refund.withApproval(id)('A1', 250), /executed/, 'an approval runs once')
  assert.deepEqual(ran, [250])

  guard.flush()
  const report = AuditLog.verify(join(dir, 'log'))
  assert.ok(report.records >= 8, `requests, votes, refusals and the run are recorded (${report.records})`)
})

test('an async wrapped function runs an approved call off the event loop with a durable log', async () => {
  const { guard } = withStore((dir) => ({ auditDir: join(dir, 'log'), durability: 'strict' }))
  const refund = guard.wrap(async (orderId, amount) => ({ refunded: amount }), { agent: 'cs-agent', tool: 'issue_refund' })
  const raised = await refund('A1', 300).catch((err) => err)
  assert.ok(raised instanceof ApprovalRequiredError)
  guard.approvals.approve(raised.requestId, 'alice', 'lead')
  guard.approvals.approve(raised.requestId, 'bob', 'lead')
  await assert.rejects(refund.withApproval(raised.requestId)('A1', 301), /differs/)
  assert.deepEqual(await refund.withApproval(raised.requestId)('A1', 300), { refunded: 300 })
})

test('a rejection resolves the request; wait returns it at once', async () => {
  const { guard } = withStore()
  const decision = guard.check({ agentId: 'cs-agent', tool: 'issue_refund', args: { amount: 300 } })
  assert.equal(decision.verdict, 'require_approval')
  assert.ok(decision.approvalId)
  assert.equal(guard.approvals.reject(decision.approvalId, 'lena', 'lead', 'no').status, 'rejected')
  assert.equal((await guard.approvals.wait(decision.approvalId, 10_000)).status, 'rejected')
  assert.throws(() => guard.approvals.approve(decision.approvalId, 'bob', 'lead'), /rejected/)
})

test('approvals.wait resolves on approval while timers keep running on the event loop', async () => {
  const { guard } = withStore()
  const decision = guard.check({ agentId: 'cs-agent', tool: 'issue_refund', args: { amount: 300 } })
  let ticks = 0
  const ticker = setInterval(() => ticks++, 5)
  try {
    const waited = guard.approvals.wait(decision.approvalId, 20_000)
    const before = ticks
    // Both votes come from this thread: were the event loop blocked by the wait, they could
    // not be cast and the wait would run to its timeout.
    await sleep(60)
    guard.approvals.approve(decision.approvalId, 'alice', 'lead')
    await sleep(30)
    guard.approvals.approve(decision.approvalId, 'bob', 'lead')
    const request = await waited
    assert.equal(request.status, 'approved')
    assert.equal(request.votes.length, 2)
    assert.ok(ticks - before >= 5, `the timer ticked ${ticks - before} times during the wait`)
  } finally {
    clearInterval(ticker)
  }
})

test('wrap with wait: the call waits for two approvals, then runs through execute', async () => {
  const { guard } = withStore()
  const { ran, refund } = refundTool(guard, { wait: 20_000 })
  let ticks = 0
  const ticker = setInterval(() => ticks++, 5)
  const approver = (async () => {
    while (guard.approvals.pending().length === 0) await sleep(5)
    const [request] = guard.approvals.pending()
    guard.approvals.approve(request.id, 'alice', 'lead')
    await sleep(20)
    guard.approvals.approve(request.id, 'bob', 'lead')
    return request.id
  })()
  try {
    const pending = refund('A1', 250)
    assert.ok(pending instanceof Promise, 'waiting makes a sync function return a Promise')
    assert.deepEqual(await pending, { refunded: 250 })
    const id = await approver
    assert.equal(guard.approvals.status(id).status, 'executed')
    assert.deepEqual(ran, [250])
    assert.ok(ticks >= 3, `the timer ticked ${ticks} times`)
  } finally {
    clearInterval(ticker)
  }
  assert.deepEqual(await refund('A1', 50), { refunded: 50 }, 'calls that need no approval run at once')
})

test('wrap with wait reports a wait that ends unapproved', async () => {
  const { guard } = withStore()
  const { ran, refund } = refundTool(guard, { wait: 100 })
  const err = await refund('A1', 250).catch((error) => error)
  assert.ok(err instanceof ApprovalRequiredError)
  assert.equal(err.status, 'pending')
  assert.ok(err.requestId)
  assert.deepEqual(ran, [])
  assert.throws(() => guard.wrap(() => 1, { agent: 'a', tool: 't', wait: -1 }), AimsError)
})

test('incidents: a critical deny opens one; list, get and update it through its lifecycle', () => {
  const { guard } = withStore()
  assert.equal(guard.check({ agentId: 'cs-agent', tool: 'shell', args: { cmd: 'ls' } }).mayProceed, false)
  const incidents = guard.incidents.list()
  assert.equal(incidents.length, 1)
  const [incident] = incidents
  assert.equal(incident.status, 'open')
  assert.equal(incident.severity, 'high')
  assert.ok(incident.timeline.length >= 1)
  assert.equal(guard.incidents.get(incident.id).id, incident.id)

  const updated = guard.incidents.update(incident.id, 'lena', { status: 'investigating', note: 'looking at it' })
  assert.equal(updated.status, 'investigating')
  assert.ok(updated.timeline.some((entry) => entry.by === 'lena'))
  assert.deepEqual(guard.incidents.list('investigating').map((found) => found.id), [incident.id])
  assert.deepEqual(guard.incidents.list('open'), [])
  assert.throws(() => guard.incidents.update(incident.id, 'lena', { status: 'no-such-status' }), AimsError)
  assert.throws(() => guard.incidents.get('INC-none'), AimsError)
})
