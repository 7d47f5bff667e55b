// Register validation: the example register passes; a broken one yields located findings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { validateRegister, AimsError } from '../index.mjs'
import { tempDir } from './fixtures.mjs'

const exampleRegister = fileURLToPath(new URL('../../../examples/register', import.meta.url))

test('the example register has no error', () => {
  const errors = validateRegister(exampleRegister).filter((f) => f.severity === 'error')
  assert.deepEqual(errors, [])
})

test('a file that does not parse is a finding with file, line and column', () => {
  const dir = tempDir()
  cpSync(exampleRegister, dir, { recursive: true })
  writeFileSync(join(dir, 'systems.yaml'), 'systems:\n  - id: x\n    bogus_field: [\n')
  const findings = validateRegister(dir)
  const broken = findings.find((f) => f.file?.endsWith('systems.yaml'))
  assert.ok(broken, JSON.stringify(findings))
  assert.equal(broken.severity, 'error')
  assert.ok(broken.line >= 1 && broken.column >= 1)
})

test('an unreadable directory throws AimsError', () => {
  assert.throws(() => validateRegister('/nonexistent/register'), AimsError)
})
