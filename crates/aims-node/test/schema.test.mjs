// JSON Schemas of the register types, the same documents as the committed schemas/.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { jsonSchema, schemaNames, AimsError } from '../index.mjs'

test('every schema name gives the committed schema', () => {
  const names = schemaNames()
  assert.ok(names.includes('register') && names.includes('incident'))
  for (const name of names) {
    const committed = JSON.parse(readFileSync(new URL(`../../../schemas/${name}.schema.json`, import.meta.url), 'utf8'))
    assert.deepEqual(jsonSchema(name), committed, name)
  }
})

test('an unknown schema name throws AimsError listing the names', () => {
  assert.throws(() => jsonSchema('nope'), (err) => err instanceof AimsError && /register/.test(err.message))
})
