// A guard with a durable audit log: records every decision and outcome; the log verifies
// offline, proves inclusion, and reports tampering as AuditError with integrity set.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { Guard, AuditLog, AuditError, AimsError, DeniedError } from '../index.mjs'
import { REFUND_POLICY, tempDir } from './fixtures.mjs'

const agent = 'cs-agent'

test('decisions and outcomes land in the log, which verifies and proves inclusion', async () => {
  const auditDir = join(tempDir(), 'audit')
  const guard = new Guard({ policyText: REFUND_POLICY, auditDir, durability: 'strict' })
  assert.equal(guard.auditDir, auditDir)
  assert.equal(guard.waitsForDisk, true)
  const refund = guard.wrap(async function issue_refund(order_id, amount) {
    return amount
  }, { agent })
  assert.equal(await refund('A1', 10), 10)
  await assert.rejects(refund('A1', 900), DeniedError)
  guard.flush()
  const report = AuditLog.verify(auditDir)
  // The decision and the outcome of the allowed call, the decision on the denied one (and
  // the log's own checkpoint records).
  assert.ok(report.records >= 3, `${report.records} records`)
  assert.ok(report.signedSize >= report.records - 1, `signed ${report.signedSize} of ${report.records}`)
  assert.equal(report.keyFromLog, true)

  const proof = AuditLog.prove(auditDir, 1)
  AuditLog.verifyProof(proof, join(auditDir, 'signer.pub'))
  const forged = JSON.parse(JSON.stringify(proof).replace('issue_refund', 'issue_refunX'))
  assert.notDeepEqual(forged, proof)
  assert.throws(
    () => AuditLog.verifyProof(forged, join(auditDir, 'signer.pub')),
    (err) => err instanceof AuditError && err.integrity === true,
  )
})

test('a decision names its record (auditIndex), which proves inclusion', () => {
  const auditDir = join(tempDir(), 'audit')
  const guard = new Guard({ policyText: REFUND_POLICY, auditDir, durability: 'none' })
  const first = guard.check({ agentId: agent, tool: 'lookup_order', args: { order_id: 'A1' } })
  const second = guard.check({ agentId: agent, tool: 'shell', args: { cmd: 'ls' } })
  assert.equal(typeof first.auditIndex, 'number')
  assert.ok(second.auditIndex > first.auditIndex)
  guard.flush()
  const proof = AuditLog.prove(auditDir, second.auditIndex)
  AuditLog.verifyProof(proof, join(auditDir, 'signer.pub'))
  assert.equal(proof.index, second.auditIndex)
  const record = JSON.parse(proof.record)
  assert.equal(record.event['gen_ai.tool.name'], 'shell', 'the proven record is the decision on shell')
  assert.equal(record.event.decision_id, second.decisionId)
})

test('a tampered log fails verification with AuditError naming the integrity failure', () => {
  const auditDir = join(tempDir(), 'audit')
  const guard = new Guard({ policyText: REFUND_POLICY, auditDir, durability: 'none' })
  for (let i = 0; i < 5; i++) guard.check({ agentId: agent, tool: 'lookup_order', args: { order_id: `A${i}` } })
  guard.flush()
  const records = join(auditDir, 'records')
  const bytes = readFileSync(records)
  const at = bytes.indexOf(Buffer.from('A3'))
  assert.ok(at > 0)
  bytes[at + 1] = '4'.charCodeAt(0)
  writeFileSync(records, bytes)
  assert.throws(() => AuditLog.verify(auditDir), (err) => err instanceof AuditError && err.integrity === true && err instanceof AimsError)
})

test('1,000 concurrent promises through one guard with a batched log; the log verifies afterwards', async () => {
  const auditDir = join(tempDir(), 'audit')
  const guard = new Guard({ policyText: REFUND_POLICY, auditDir })
  const refund = guard.wrap(async function issue_refund(order_id, amount) {
    await new Promise((resolve) => setImmediate(resolve))
    return amount
  }, { agent })
  let ticks = 0
  const ticker = setInterval(() => ticks++, 1)
  const settled = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => refund(`A${i}`, i % 2 === 0 ? 10 : 900)))
  clearInterval(ticker)
  const fulfilled = settled.filter((s) => s.status === 'fulfilled')
  assert.equal(fulfilled.length, 500)
  assert.ok(fulfilled.every((s) => s.value === 10))
  assert.ok(settled.filter((s) => s.status === 'rejected').every((s) => s.reason instanceof DeniedError))
  assert.ok(ticks > 0, 'the event loop kept running while records waited for the disk')
  guard.flush()
  const report = AuditLog.verify(auditDir)
  // 1,000 decisions and the 500 allowed calls' outcomes (and checkpoint records).
  assert.ok(report.records >= 1500, `${report.records} records`)
  assert.ok(report.signedSize >= report.records - 1, `signed ${report.signedSize} of ${report.records}`)
})

test('bad log options throw before anything is recorded', () => {
  assert.throws(() => new Guard({ policyText: REFUND_POLICY, auditDir: tempDir(), durability: 'sometimes' }), AimsError)
  assert.throws(() => AuditLog.verify(tempDir()), AuditError)
})

test('a sync call records how long the tool ran, and its error when it throws', () => {
  const auditDir = join(tempDir(), 'audit')
  const guard = new Guard({ policyText: 'default: allow\nrules: []\n', auditDir, durability: 'none' })
  const busy = guard.wrap(function busy(ms) {
    // performance.now(), not Date.now(): whole milliseconds would end the wait up to 1 ms early.
    const end = performance.now() + ms
    while (performance.now() < end);
    if (ms > 20) throw new Error('too slow')
    return ms
  }, { agent })
  assert.equal(busy(20), 20)
  assert.throws(() => busy(25), /too slow/)
  guard.flush()
  const outcomes = []
  for (let index = 0; index < AuditLog.verify(auditDir).records; index++) {
    const { event } = JSON.parse(AuditLog.prove(auditDir, index).record)
    if (event.kind === 'outcome') outcomes.push(event)
  }
  assert.deepEqual(outcomes.map((o) => o.status), ['ok', 'error'])
  assert.ok(outcomes[0].duration_us >= 20_000, `${outcomes[0].duration_us} us`)
  assert.ok(outcomes[1].duration_us >= 25_000, `${outcomes[1].duration_us} us`)
  assert.match(outcomes[1].error, /too slow/)
})
