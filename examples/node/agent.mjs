// A small customer-service agent whose tools are guarded by aims.
//
// The "model" is a script of the tool calls an LLM would make for a few customer messages, so
// the example runs offline and deterministically. Each tool is a plain function passed through
// `guard.wrap`; the policy is examples/policy.yaml with the register's oversight checkpoints
// (examples/register); every decision and outcome lands in a signed audit log, verified at the
// end. A refund that needs a human approval is approved by a support lead and then runs.
//
//     node examples/node/agent.mjs [AUDIT_DIR]
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// In an application: `from 'aims'`; the example runs from the repository's package.
import { AuditLog, ApprovalRequiredError, DeniedError, Guard } from '../../crates/aims-node/index.mjs'

const POLICY = fileURLToPath(new URL('../policy.yaml', import.meta.url))
const REGISTER = fileURLToPath(new URL('../register', import.meta.url))

const ORDERS = {
  'A-1001': { status: 'shipped', total: 59.9, card: '4111 1111 1111 1111' },
  'A-1002': { status: 'delivered', total: 240.0, card: '5500 0000 0000 0004' },
}

/** The agent's tools, each guarded. */
function buildTools(guard) {
  const agent = 'cs-agent'
  return {
    lookup_order: guard.wrap(function lookup_order(order_id) {
      return { order_id, ...ORDERS[order_id] }
    }, { agent }),
    search_kb: guard.wrap(async function search_kb(query) {
      await new Promise((resolve) => setImmediate(resolve))
      return `Returns are accepted within 30 days (${query}). Escalations: ops key sk-live0123456789abcdefghij`
    }, { agent }),
    issue_refund: guard.wrap(function issue_refund(order_id, amount, currency = 'EUR', reason = '') {
      return `refunded ${amount.toFixed(2)} ${currency} on ${order_id} (${reason})`
    }, { agent }),
    // Vercel AI SDK style: one object of named arguments.
    send_email: guard.wrap(async ({ to, subject, body }) => `sent to ${to}: ${subject}: ${body}`, {
      tool: 'send_email',
      agent,
    }),
  }
}

/** Runs one tool call and prints how it went; returns the approval request a call waits for. */
async function step(label, run) {
  try {
    console.log(`${label}: ok: ${JSON.stringify(await run())}`)
  } catch (err) {
    if (err instanceof ApprovalRequiredError) {
      console.log(`${label}: approval required at ${err.decision.checkpoint}`)
      return err.requestId
    } else if (err instanceof DeniedError) console.log(`${label}: denied (${err.decision.ruleIds.join(', ') || 'default'})`)
    else throw err
  }
}

export async function run(auditDir) {
  // The oversight store keeps approval requests and incidents; the checkpoints come from the
  // register.
  const oversightStore = join(dirname(auditDir), 'oversight.db')
  const guard = new Guard({ policyPath: POLICY, auditDir, oversightStore, registerDir: REGISTER })
  const tools = buildTools(guard)
  await step('lookup', () => tools.lookup_order('A-1001'))
  await step('kb', () => tools.search_kb('return policy'))
  await step('small refund', () => tools.issue_refund('A-1001', 20, 'EUR', 'late delivery'))
  const large = ['A-1002', 240, 'EUR', 'damaged']
  const requestId = await step('large refund', () => tools.issue_refund(...large))
  // A support lead (never the agent itself) approves; the very same call then runs, once.
  guard.approvals.approve(requestId, 'lena', 'support-lead', 'damage confirmed on the photos')
  await step('large refund, approved', () => tools.issue_refund.withApproval(requestId)(...large))
  await step('huge refund', () => tools.issue_refund('A-1002', 900, 'EUR', 'goodwill'))
  await step('email', () =>
    tools.send_email({ to: 'jane@customer.example.org', subject: 'Your refund', body: 'Refunded to card 4111 1111 1111 1111.' }),
  )
  await step('leaky email', () =>
    tools.send_email({ to: 'jane@customer.example.org', subject: 'Login', body: 'your password: hunter22' }),
  )
  await step('shell (checked by hand)', () => guard.check({ agentId: 'cs-agent', tool: 'shell', args: { cmd: 'rm -rf /' } }).verdict)
  guard.flush()
  const report = AuditLog.verify(auditDir)
  console.log(`audit log: ${report.records} records, verified, signed size ${report.signedSize}`)
  return report
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run(process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'aims-agent-')), 'audit'))
}
