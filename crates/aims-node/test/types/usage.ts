// Compiled with `tsc --strict --noEmit` by typings.test.mjs: the committed typings must
// describe the API as the tests and examples use it.
import {
  AimsError,
  ApprovalRequest,
  ApprovalRequiredError,
  AuditLog,
  Decision,
  DeniedError,
  Guard,
  Incident,
  PolicyError,
  PolicyTester,
  Scanner,
  Verdict,
  jsonSchema,
  schemaNames,
  validateRegister,
} from 'aims'

const guard = new Guard({ policyText: 'default: allow\nrules: []\n', auditDir: '/tmp/audit', durability: 'batched', shadow: false })
const durable: boolean = guard.waitsForDisk && guard.auditDir !== null
const decision: Decision = guard.check({ agentId: 'cs-agent', tool: 'lookup_order', args: { order_id: 'A1' } })
const verdict: Verdict = decision.verdict
const mayRun: boolean = decision.mayProceed && verdict !== 'deny'
const later: Promise<Decision> = guard.checkAsync({ agentId: 'cs-agent', tool: 'lookup_order' })

function issueRefund(orderId: string, amount: number): { refunded: number } {
  return { refunded: amount }
}
const refund = guard.wrap(issueRefund, { agent: 'cs-agent', tool: 'issue_refund' })
const refunded: number = refund('A1', 20).refunded
const approvedRefund: number = refund.withApproval('apr-1')('A1', 200).refunded
const waiting: Promise<{ refunded: number }> = guard.wrap(issueRefund, { agent: 'cs-agent', tool: 'issue_refund', wait: 60_000 })('A1', 200)

const overseen = new Guard({ policyText: 'default: allow\nrules: []\n', oversightStore: '/tmp/oversight.db' })
const requestId: string | null = overseen.check({ agentId: 'cs-agent', tool: 'issue_refund' }).approvalId ?? null
const pendingIds: string[] = overseen.approvals.pending().map((request: ApprovalRequest) => request.id)
const approved: ApprovalStatus = overseen.approvals.approve('apr-1', 'alice', 'lead', 'checked').status
const settled: Promise<ApprovalRequest> = overseen.approvals.wait('apr-1', 60_000)
const cleared: Decision = overseen.approvals.execute('apr-1', { agentId: 'cs-agent', tool: 'issue_refund', args: {} })
const open: Incident[] = overseen.incidents.list('open')
const investigating: string = overseen.incidents.update('INC-1', 'lena', { status: 'investigating', note: 'on it' }).status

const lookup = guard.wrap(async (args: { id: string }) => args.id, { agent: 'cs-agent', tool: 'lookup_order', args: 'named' })
const id: Promise<string> = lookup({ id: 'A1' })

try {
  new Guard({ policyText: 'rules: [' })
} catch (err) {
  if (err instanceof PolicyError) {
    const where: string = `${err.file}:${err.line ?? 0}:${err.column ?? 0}`
  } else if (err instanceof DeniedError) {
    const denied: Decision = err.decision
  } else if (err instanceof ApprovalRequiredError) {
    const request: string | null = err.requestId
    const status: ApprovalStatus = err.status
  } else if (err instanceof AimsError) {
    const message: string = err.message
  }
}

const findings = new Scanner({ entities: ['EMAIL_ADDRESS'] }).scan('a@b.org')
const first: string | undefined = findings[0]?.entity
const masked: string = new Scanner().mask('a@b.org', { operator: 'tag' })
const report = AuditLog.verify('/tmp/log', { publicKey: '/tmp/key.pub' })
const records: number = report.records
const problems: number = validateRegister('examples/register').length
const schema: unknown = jsonSchema(schemaNames()[0] ?? 'register')
const tester = new PolicyTester('default: deny', { format: 'yaml', start: '2026-01-01T00:00:00Z' })
tester.setTime('2026-01-01T00:01:00Z')
const tested: Verdict = tester.check({ agentId: 'a', tool: 't' }).verdict

type ApprovalStatus = ApprovalRequest['status']

export { mayRun, durable, later, refunded, approvedRefund, waiting, requestId, pendingIds, approved, settled, cleared, open, investigating, id, first, masked, records, problems, schema, tested }
