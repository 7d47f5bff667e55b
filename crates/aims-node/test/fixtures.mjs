// Policies and helpers shared by the test files.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REFUND_POLICY = `
name: refunds
default: deny
rules:
  - id: refund-cap
    match:
      tool: issue_refund
      args:
        /amount: {gt: 500}
    effect: deny
    reason: refunds above 500 need a human-issued refund
    controls: [A.9.2]
  - id: refund-approval
    match:
      tool: issue_refund
      args:
        /amount: {gt: 100}
    effect: require_approval
    checkpoint: refund-approval
  - id: refund-allow
    match: {tool: issue_refund}
    effect: allow
  - id: reads
    match: {tool: [lookup_order, search_kb, get_weather]}
    effect: allow
  - id: email-redact
    match:
      tool: send_email
      args:
        /to: {not: {matches: '(?i)@example\\.com$'}}
    effect: redact
    redact:
      entities: [CREDIT_CARD]
  - id: email-allow
    match: {tool: send_email}
    effect: allow
  - id: result-redact
    phase: post
    match: {tool: lookup_order}
    effect: redact
    redact:
      entities: [CREDIT_CARD]
  - id: result-secret-deny
    phase: post
    match:
      tool: search_kb
      result:
        /secret: {exists: true}
    effect: deny
    reason: knowledge-base results never carry secrets
`

export const CARD = '4111 1111 1111 1111'

// Each test file runs in its own process: the directories it made go when it exits.
const made = []
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

export function tempDir(prefix = 'aims-node-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
