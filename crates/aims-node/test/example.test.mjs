// The example agent in examples/node runs, makes the expected decisions and leaves a log
// that verifies.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { AuditLog } from '../index.mjs'
import { tempDir } from './fixtures.mjs'

const example = fileURLToPath(new URL('../../../examples/node/agent.mjs', import.meta.url))

test('the example agent runs and its audit log verifies', () => {
  const auditDir = join(tempDir(), 'audit')
  const output = execFileSync(process.execPath, [example, auditDir], { encoding: 'utf8' })
  const lines = Object.fromEntries(output.trim().split('\n').map((line) => line.split(/: (.*)/s).slice(0, 2)))
  assert.match(lines.lookup, /"card":"\*\*\*\*|<CREDIT_CARD>/)
  assert.ok(!lines.lookup.includes('4111 1111 1111 1111'), 'the card number is masked in the result')
  assert.match(lines['small refund'], /^ok: /)
  assert.equal(lines['large refund'], 'approval required at refund-approval')
  assert.match(lines['large refund, approved'], /^ok: "refunded 240\.00 EUR on A-1002/)
  assert.match(lines['huge refund'], /^denied \(.*refund-cap/)
  assert.match(lines['leaky email'], /^denied \(.*email-secrets-deny/)
  assert.equal(lines['shell (checked by hand)'], 'ok: "deny"')
  assert.match(lines['audit log'], /verified/)
  const report = AuditLog.verify(auditDir)
  assert.ok(report.records >= 9, `${report.records} records`)
  assert.ok(report.signedSize >= report.records - 1, `signed ${report.signedSize} of ${report.records}`)
})
