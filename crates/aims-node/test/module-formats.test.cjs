// The package loads from CommonJS (require) and from ES modules (import) as the same objects.
const { test } = require('node:test')
const assert = require('node:assert/strict')

test('require and import give the same classes', async () => {
  const cjs = require('..')
  const esm = await import('aims')
  assert.equal(esm.Guard, cjs.Guard)
  assert.equal(esm.PolicyError, cjs.PolicyError)
  assert.equal(esm.default, cjs)
  assert.equal(typeof cjs.Guard.prototype.wrap, 'function')
  for (const name of ['Guard', 'Scanner', 'AuditLog', 'PolicyTester', 'validateRegister', 'jsonSchema', 'schemaNames', 'AimsError', 'PolicyError', 'AuditError', 'DeniedError', 'ApprovalRequiredError']) {
    assert.ok(esm[name], `ESM export ${name}`)
    assert.ok(cjs[name], `CJS export ${name}`)
  }
})
