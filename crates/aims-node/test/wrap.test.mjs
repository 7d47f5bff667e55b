// guard.wrap: calling conventions (sync/async, named/positional arguments), enforcement
// (deny, approval, redaction, result rules) and a Vercel AI SDK-shaped tool.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Guard, DeniedError, ApprovalRequiredError, AimsError } from '../index.mjs'
import { REFUND_POLICY, CARD } from './fixtures.mjs'

const agent = 'cs-agent'
const newGuard = () => new Guard({ policyText: REFUND_POLICY })

test('a sync function stays sync and keeps its name and length', () => {
  const guard = newGuard()
  function issue_refund(order_id, amount, currency, reason) {
    return { order_id, amount, currency, reason }
  }
  const wrapped = guard.wrap(issue_refund, { agent })
  const result = wrapped('A1', 20, 'EUR', 'late')
  assert.deepEqual(result, { order_id: 'A1', amount: 20, currency: 'EUR', reason: 'late' })
  assert.equal(wrapped.name, 'issue_refund')
  assert.equal(wrapped.length, 4)
})

test('an async function returns a Promise', async () => {
  const guard = newGuard()
  const wrapped = guard.wrap(async (order_id, amount) => ({ order_id, amount }), { tool: 'issue_refund', agent })
  const pending = wrapped('A1', 20)
  assert.ok(pending instanceof Promise)
  assert.deepEqual(await pending, { order_id: 'A1', amount: 20 })
  await assert.rejects(wrapped('A1', 900), DeniedError)
})

test('positional arguments map to parameter names: the policy sees the amount', () => {
  const guard = newGuard()
  let ran = 0
  const refund = guard.wrap(function issue_refund(order_id, amount = 0) {
    ran++
    return amount
  }, { agent })
  assert.throws(
    () => refund('A1', 900),
    (err) => err instanceof DeniedError && err.decision.verdict === 'deny' && err.decision.ruleIds.includes('refund-cap'),
  )
  assert.throws(
    () => refund('A1', 150),
    (err) => err instanceof ApprovalRequiredError && err.decision.checkpoint === 'refund-approval' && err.requestId === null,
  )
  assert.equal(ran, 0, 'the tool never ran on deny or approval')
  assert.equal(refund('A1', 10), 10)
  assert.equal(ran, 1)
})

test('a named-argument object maps to args as it is (destructured or single object)', () => {
  const guard = newGuard()
  const destructured = guard.wrap(({ order_id, amount }) => `${order_id}:${amount}`, { tool: 'issue_refund', agent })
  assert.equal(destructured({ order_id: 'A1', amount: 5 }), 'A1:5')
  assert.throws(() => destructured({ order_id: 'A1', amount: 501 }), DeniedError)
  const single = guard.wrap((input) => input.amount, { tool: 'issue_refund', agent })
  assert.throws(() => single({ amount: 501 }), DeniedError)
  const forced = guard.wrap((input, extra) => [input.amount, extra], { tool: 'issue_refund', agent, args: 'named' })
  assert.throws(() => forced({ amount: 501 }, 'x'), DeniedError)
  assert.deepEqual(forced({ amount: 1 }, 'x'), [1, 'x'])
})

test('params names positional arguments when the source cannot be read', () => {
  const guard = newGuard()
  const bound = function (order_id, amount) {
    return amount
  }.bind(null)
  const wrapped = guard.wrap(bound, { tool: 'issue_refund', agent, params: ['order_id', 'amount'] })
  assert.throws(() => wrapped('A1', 900), DeniedError)
  assert.equal(wrapped('A1', 9), 9)
})

test('redact passes masked arguments to the function; the caller\'s values are untouched', () => {
  const guard = newGuard()
  const seen = []
  const send = guard.wrap(function send_email(to, subject, body) {
    seen.push(body)
    return 'sent'
  }, { agent })
  const body = `card ${CARD}`
  assert.equal(send('someone@elsewhere.org', 'hi', body), 'sent')
  assert.equal(seen[0], 'card <CREDIT_CARD>')
  assert.equal(send('colleague@example.com', 'hi', body), 'sent')
  assert.equal(seen[1], body, 'internal mail matches no redact rule')
})

test('results pass the result rules: redacted or withheld', async () => {
  const guard = newGuard()
  const lookup = guard.wrap(async function lookup_order(order_id) {
    return { order_id, card: CARD }
  }, { agent })
  assert.deepEqual(await lookup('A1'), { order_id: 'A1', card: '<CREDIT_CARD>' })
  let ran = false
  const search = guard.wrap(function search_kb(query) {
    ran = true
    return { secret: 'hunter2' }
  }, { agent })
  assert.throws(() => search('x'), (err) => err instanceof DeniedError && err.decision.phase === 'post')
  assert.ok(ran, 'the tool ran; its result is withheld')
})

test('a sync function returning a promise has its settled result checked', async () => {
  const guard = newGuard()
  const lookup = guard.wrap((order_id) => Promise.resolve({ card: CARD }), { tool: 'lookup_order', agent })
  assert.deepEqual(await lookup('A1'), { card: '<CREDIT_CARD>' })
})

test('functions that return nothing are guarded too (sync, async, redacted arguments)', async () => {
  const guard = newGuard()
  const sent = []
  const notify = guard.wrap(function send_email(to, body) {
    sent.push(body)
  }, { agent })
  assert.equal(notify('jane@customer.example.org', `card ${CARD}`), undefined, 'redacted arguments, no result')
  assert.equal(notify('ops@example.com', 'hello'), undefined, 'allowed, no result')
  assert.deepEqual(sent, ['card <CREDIT_CARD>', 'hello'])
  const lookup = guard.wrap(async function lookup_order(order_id) {}, { agent })
  assert.equal(await lookup('A1'), undefined)
  const counted = guard.metrics().decisions.filter((row) => row.phase === 'pre')
  assert.equal(counted.reduce((sum, row) => sum + row.count, 0), 3)
})

test('this is passed through to methods', () => {
  const guard = newGuard()
  const service = {
    prefix: 'order-',
    lookup_order: guard.wrap(function lookup_order(id) {
      return this.prefix + id
    }, { agent }),
  }
  assert.equal(service.lookup_order('7'), 'order-7')
})

test('errors thrown by the tool propagate unchanged', async () => {
  const guard = newGuard()
  const failing = guard.wrap(async function lookup_order(id) {
    throw new RangeError(`no order ${id}`)
  }, { agent })
  await assert.rejects(failing('9'), RangeError)
})

test('wrap validates its options', () => {
  const guard = newGuard()
  assert.throws(() => guard.wrap(() => 1, { tool: 'lookup_order' }), AimsError)
  assert.throws(() => guard.wrap(() => 1, { agent }), /options.tool/)
  assert.throws(() => guard.wrap('nope', { agent }), AimsError)
  assert.throws(() => guard.wrap(function lookup_order() {}, { agent, args: 'kwargs' }), AimsError)
})

test('a Vercel AI SDK-shaped tool is guarded by wrapping its execute', async () => {
  const guard = newGuard()
  // The shape of `tool({ description, parameters, execute })`: execute(args, options).
  const weather = {
    description: 'Get the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    execute: async ({ city }, { toolCallId }) => ({ city, toolCallId, temperature: 21 }),
  }
  const refund = {
    description: 'Refund an order',
    parameters: { type: 'object', properties: { order_id: { type: 'string' }, amount: { type: 'number' } } },
    execute: async (input, options) => ({ refunded: input.amount, id: options.toolCallId }),
  }
  const guarded = {
    get_weather: { ...weather, execute: guard.wrap(weather.execute, { tool: 'get_weather', agent }) },
    issue_refund: { ...refund, execute: guard.wrap(refund.execute, { tool: 'issue_refund', agent, args: 'named' }) },
  }
  assert.equal(guarded.get_weather.description, weather.description)
  assert.deepEqual(guarded.get_weather.parameters, weather.parameters)
  const options = { toolCallId: 'call-1', messages: [] }
  assert.deepEqual(await guarded.get_weather.execute({ city: 'Oslo' }, options), { city: 'Oslo', toolCallId: 'call-1', temperature: 21 })
  assert.deepEqual(await guarded.issue_refund.execute({ order_id: 'A1', amount: 30 }, options), { refunded: 30, id: 'call-1' })
  await assert.rejects(guarded.issue_refund.execute({ order_id: 'A1', amount: 700 }, options), DeniedError)
})

test('1,000 concurrent promises through one guard decide independently', async () => {
  const guard = newGuard()
  const refund = guard.wrap(async function issue_refund(order_id, amount) {
    await new Promise((resolve) => setImmediate(resolve))
    return amount
  }, { agent })
  const settled = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => refund(`A${i}`, i % 2 === 0 ? 10 : 900)))
  const fulfilled = settled.filter((s) => s.status === 'fulfilled')
  assert.equal(fulfilled.length, 500)
  assert.ok(fulfilled.every((s) => s.value === 10))
  assert.ok(settled.filter((s) => s.status === 'rejected').every((s) => s.reason instanceof DeniedError))
  const counts = Object.fromEntries(guard.metrics().decisions.map((d) => [`${d.phase}:${d.verdict}`, d.count]))
  assert.equal(counts['pre:allow'], 500)
  assert.equal(counts['pre:deny'], 500)
})

test('a synchronous loop of wrapped calls holds no memory per call', () => {
  // Calls stay native between the decision and the outcome; a loop that never yields to the
  // event loop (so no finalizer runs) must still free each one when it finishes.
  const guard = newGuard()
  const wrapped = guard.wrap((city) => ({ city }), { tool: 'get_weather', agent })
  for (let i = 0; i < 5_000; i++) wrapped('A1')
  const before = process.memoryUsage.rss()
  for (let i = 0; i < 30_000; i++) wrapped('A1')
  const grownMb = (process.memoryUsage.rss() - before) / 1e6
  // Holding each call until a finalizer ran grew ~1.8 KB per call: 54 MB here.
  assert.ok(grownMb < 20, `RSS grew ${grownMb.toFixed(1)} MB over 30,000 calls`)
})

test('an entered call finishes once', () => {
  const guard = newGuard()
  const handle = guard.__enter(guard.__tool({ tool: 'get_weather', agentId: agent }), { city: 'A1' })
  assert.equal(typeof handle, 'number')
  assert.equal(guard.__finish(handle, { city: 'A1' }), null)
  assert.throws(() => guard.__finish(handle, null), AimsError)
  assert.throws(() => guard.__fail(handle, 'late'), AimsError)
})
