// The shared conformance vectors (tests/vectors, format in its README) decide identically from
// Node: each file's steps run on one PolicyTester, in order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { PolicyTester, PolicyError } from '../index.mjs'

const vectorsDir = fileURLToPath(new URL('../../../tests/vectors', import.meta.url))
const files = readdirSync(vectorsDir).filter((name) => name.endsWith('.json')).sort()

/** The vectors' snake_case call as the binding's camelCase ToolCall. */
function toolCall(call) {
  const names = { agent_id: 'agentId', tool: 'tool', args: 'args', ai_system_id: 'aiSystemId', conversation_id: 'conversationId', call_id: 'callId', context: 'context' }
  return Object.fromEntries(
    Object.entries(call).map(([key, value]) => {
      assert.ok(key in names, `unknown call field ${key}`)
      return [names[key], value]
    }),
  )
}

/** The decision's fields under the vectors' names. */
const observed = {
  verdict: (d) => d.verdict,
  rule_ids: (d) => d.ruleIds,
  reason_codes: (d) => d.reasons.map((reason) => reason.code),
  controls: (d) => d.controls,
  checkpoint: (d) => d.checkpoint ?? null,
  redactions: (d) => d.redactions.map((r) => ({ rule_id: r.ruleId, pointers: r.pointers, entities: r.entities })),
  may_proceed: (d) => d.mayProceed,
}

test('there are vector files to run', () => {
  assert.ok(files.length > 0, `no *.json in ${vectorsDir}`)
})

for (const file of files) {
  const vector = JSON.parse(readFileSync(join(vectorsDir, file), 'utf8'))
  if (vector.steps) {
    test(`vectors ${file}`, () => {
      const tester = new PolicyTester(JSON.stringify(vector.policy), { format: 'json', name: 'policy.json' })
      for (const step of vector.steps) {
        if (step.at) tester.setTime(step.at)
        const call = toolCall(step.call)
        const decision = 'result' in step ? tester.checkResult(call, step.result) : tester.check(call)
        for (const [key, expected] of Object.entries(step.expect)) {
          assert.ok(key in observed, `${file}: step ${step.name}: unknown expect key ${key}`)
          assert.deepEqual(observed[key](decision), expected, `${file}: step ${step.name}: ${key}`)
        }
      }
    })
  } else {
    test(`vectors ${file} (invalid policies)`, () => {
      assert.ok(vector.cases?.length > 0, `${file} has neither steps nor cases`)
      for (const item of vector.cases) {
        const name = `policy.${item.format}`
        assert.throws(
          () => new PolicyTester(item.text, { format: item.format, name }),
          (err) => {
            assert.ok(err instanceof PolicyError, `${item.name}: ${err}`)
            assert.equal(err.file, name)
            assert.equal(err.line, item.error.line, `${item.name}: line`)
            assert.equal(err.column, item.error.column, `${item.name}: column`)
            assert.ok(err.message.startsWith(`${name}:${item.error.line}:${item.error.column}: `), err.message)
            assert.ok(err.message.includes(item.error.contains), `${item.name}: ${err.message}`)
            return true
          },
        )
      }
    })
  }
}
