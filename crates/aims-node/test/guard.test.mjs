// The Guard class: decisions, results, redactions, explain, reload, metrics, shadow mode and
// policy errors with their location.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { Guard, PolicyError, AimsError } from '../index.mjs'
import { REFUND_POLICY, CARD, tempDir } from './fixtures.mjs'

const call = (tool, args) => ({ agentId: 'cs-agent', tool, args })

test('check decides allow, require_approval and deny with rule ids, reasons and controls', () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  const allowed = guard.check(call('issue_refund', { amount: 50 }))
  assert.equal(allowed.verdict, 'allow')
  assert.equal(allowed.mayProceed, true)
  assert.deepEqual(allowed.ruleIds, ['refund-allow'])
  assert.equal(allowed.phase, 'pre')
  assert.equal(allowed.policyVersion, guard.policyVersion)
  assert.match(allowed.evaluatedAt, /^\d{4}-\d\d-\d\dT/)

  const approval = guard.check(call('issue_refund', { amount: 150 }))
  assert.equal(approval.verdict, 'require_approval')
  assert.equal(approval.checkpoint, 'refund-approval')
  assert.equal(approval.mayProceed, false)

  const denied = guard.check(call('issue_refund', { amount: 900 }))
  assert.equal(denied.verdict, 'deny')
  assert.deepEqual(denied.controls, ['A.9.2'])
  assert.ok(denied.reasons.some((reason) => reason.ruleId === 'refund-cap'))

  const unknown = guard.check(call('shell', { cmd: 'rm -rf /' }))
  assert.equal(unknown.verdict, 'deny')
  assert.equal(unknown.reasons[0].code, 'default')
  assert.notEqual(allowed.decisionId, denied.decisionId)
})

test('checkAsync decides on the thread pool with the same result', async () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  const decision = await guard.checkAsync(call('issue_refund', { amount: 900 }))
  assert.equal(decision.verdict, 'deny')
  assert.deepEqual(decision.ruleIds, guard.check(call('issue_refund', { amount: 900 })).ruleIds)
})

test('checkResult applies result rules; applyRedactions masks what a redact decision names', () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  const order = { id: 'A1', card: CARD }
  const post = guard.checkResult(call('lookup_order', { order_id: 'A1' }), order)
  assert.equal(post.phase, 'post')
  assert.equal(post.verdict, 'redact')
  const redacted = guard.applyRedactions(post, order)
  assert.equal(redacted.value.card, '<CREDIT_CARD>')
  assert.equal(redacted.value.id, 'A1')
  assert.ok(redacted.masked.length > 0)
  assert.equal(order.card, CARD, 'the caller\'s object is not changed')

  const secret = guard.checkResult(call('search_kb', { q: 'x' }), { secret: 'k' })
  assert.equal(secret.verdict, 'deny')
  assert.equal(guard.checkResult(call('search_kb', { q: 'x' }), { text: 'ok' }).verdict, 'allow')
})

test('applyRedactions refuses a decision whose time is not RFC 3339', () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  const decision = guard.check(call('send_email', { to: 'a@b.org', body: CARD }))
  assert.throws(() => guard.applyRedactions({ ...decision, evaluatedAt: 'yesterday' }, {}), AimsError)
})

test('explain traces every rule without counting or recording', () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  const explanation = guard.explain(call('issue_refund', { amount: 150 }))
  assert.equal(explanation.verdict, 'require_approval')
  const matched = explanation.rules.filter((rule) => rule.matched).map((rule) => rule.id)
  assert.deepEqual(matched, ['refund-approval', 'refund-allow'])
  assert.equal(guard.metrics().decisions.length, 0, 'explain is not a decision')
})

test('metrics and prometheus count decisions by verdict', () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  guard.check(call('issue_refund', { amount: 50 }))
  guard.check(call('issue_refund', { amount: 900 }))
  const counts = Object.fromEntries(guard.metrics().decisions.map((d) => [d.verdict, d.count]))
  assert.equal(counts.allow, 1)
  assert.equal(counts.deny, 1)
  assert.match(guard.prometheus(), /aims_guard_decisions_total\{[^}]*verdict="deny"[^}]*\} 1/)
})

test('shadow mode records the verdict but lets the call proceed', () => {
  const guard = new Guard({ policyText: REFUND_POLICY, shadow: true })
  const decision = guard.check(call('issue_refund', { amount: 900 }))
  assert.equal(decision.verdict, 'deny')
  assert.equal(decision.shadow, true)
  assert.equal(decision.mayProceed, true)
})

test('reload swaps the policy; an invalid one throws PolicyError and the old one stays', () => {
  const guard = new Guard({ policyText: REFUND_POLICY })
  const before = guard.policyVersion
  assert.throws(() => guard.reload({ policyText: 'default: allow\nrules: [\n' }), PolicyError)
  assert.equal(guard.policyVersion, before)
  guard.reload({ policyText: 'default: allow\nrules: []\n' })
  assert.notEqual(guard.policyVersion, before)
  assert.equal(guard.check(call('shell', {})).verdict, 'allow')
})

test('a policy file loads by path; errors name the file, line and column', () => {
  const dir = tempDir()
  const good = join(dir, 'policy.yaml')
  writeFileSync(good, REFUND_POLICY)
  assert.equal(new Guard({ policyPath: good }).check(call('issue_refund', { amount: 1 })).verdict, 'allow')

  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'default: deny\nrules:\n  - id: r1\n    match: {tool: x}\n    effect: explode\n')
  assert.throws(
    () => new Guard({ policyPath: bad }),
    (err) => {
      assert.ok(err instanceof PolicyError)
      assert.ok(err instanceof AimsError)
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'PolicyError')
      assert.equal(err.file, bad)
      assert.equal(err.line, 5)
      assert.equal(err.column, 13)
      assert.match(err.message, /bad\.yaml:5:13: .*explode/)
      return true
    },
  )
})

test('bad policy text throws PolicyError with line and column in <inline>', () => {
  const text = 'default: deny\nrules:\n  - id: ok\n    match: {tool: a}\n    effect: allow\n    bogus: 1\n'
  assert.throws(
    () => new Guard({ policyText: text }),
    (err) => err instanceof PolicyError && err.file === '<inline>' && err.line === 6 && err.column === 5,
  )
  assert.throws(
    () => new Guard({ policyText: 'default: [unclosed\n' }),
    (err) => err instanceof PolicyError && err.line >= 1 && err.column >= 1,
  )
})

test('options must name exactly one policy source', () => {
  assert.throws(() => new Guard({}), (err) => err instanceof AimsError && /policy is required/.test(err.message))
  assert.throws(
    () => new Guard({ policyText: REFUND_POLICY, policyPath: '/nope.yaml' }),
    (err) => err instanceof AimsError && !(err instanceof PolicyError),
  )
  assert.throws(() => new Guard({ policyPath: '/nonexistent/policy.yaml' }), (err) => err instanceof PolicyError && err.file === '/nonexistent/policy.yaml')
})
