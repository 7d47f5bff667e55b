// Scanner: detection with JS string offsets, masking operators, JSON walking, bad options.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Scanner, AimsError } from '../index.mjs'
import { CARD } from './fixtures.mjs'

test('scan finds validated entities; offsets index the JS string', () => {
  const scanner = new Scanner()
  const text = `Grüße 😀 mail jane.doe@example.org, card ${CARD}`
  const findings = scanner.scan(text)
  const byEntity = Object.fromEntries(findings.map((f) => [f.entity, f]))
  assert.equal(text.slice(byEntity.EMAIL_ADDRESS.start, byEntity.EMAIL_ADDRESS.end), 'jane.doe@example.org')
  assert.equal(text.slice(byEntity.CREDIT_CARD.start, byEntity.CREDIT_CARD.end), CARD)
  assert.equal(byEntity.CREDIT_CARD.validated, true)
  assert.deepEqual(scanner.scan(`card 4111 1111 1111 1112`).filter((f) => f.entity === 'CREDIT_CARD'), [], 'Luhn fails')
})

test('mask replaces findings with the chosen operator', () => {
  const scanner = new Scanner()
  const text = `card ${CARD}`
  assert.equal(scanner.mask(text), 'card <CREDIT_CARD>')
  assert.equal(scanner.mask(text, { operator: 'keep_last4' }), 'card **** **** **** 1111')
  assert.equal(scanner.mask(text, { operator: 'remove' }), 'card ')
  const hashed = scanner.mask(text, { operator: 'hash', hashKey: 'k'.repeat(16) })
  assert.match(hashed, /^card <CREDIT_CARD:[0-9a-f]{16}>$/)
  assert.equal(hashed, scanner.mask(text, { operator: 'hash', hashKey: 'k'.repeat(16) }), 'stable per key')
  assert.equal(scanner.mask(`mail a@b.org ${CARD}`, { entities: ['EMAIL_ADDRESS'] }), `mail <EMAIL_ADDRESS> ${CARD}`)
})

test('scanJson and maskJson walk values and keys', () => {
  const scanner = new Scanner({ entities: ['EMAIL_ADDRESS', 'CREDIT_CARD'] })
  const value = { customer: { 'jane@example.org': { card: CARD } }, note: 'none' }
  const pointers = scanner.scanJson(value).map((f) => `${f.pointer}${f.inKey ? ' (key)' : ''} ${f.entity}`)
  assert.deepEqual(pointers.sort(), ['/customer/jane@example.org (key) EMAIL_ADDRESS', '/customer/jane@example.org/card CREDIT_CARD'].sort())
  const masked = scanner.maskJson(value)
  assert.equal(masked.findings.length, 2)
  assert.deepEqual(masked.value, { customer: { '<EMAIL_ADDRESS>': { card: '<CREDIT_CARD>' } }, note: 'none' })
})

test('a deny list reports DENY_LIST; entities lists every name', () => {
  const scanner = new Scanner({ denyList: ['Project Falcon'] })
  assert.deepEqual(scanner.scan('about project falcon today').map((f) => f.entity), ['DENY_LIST'])
  const names = Scanner.entities()
  assert.ok(names.includes('IBAN_CODE') && names.includes('DENY_LIST'))
})

test('bad options throw AimsError', () => {
  assert.throws(() => new Scanner({ entities: ['NOT_AN_ENTITY'] }), (err) => err instanceof AimsError && /NOT_AN_ENTITY/.test(err.message))
  assert.throws(() => new Scanner({ denyList: ['  '] }), AimsError)
  const scanner = new Scanner()
  assert.throws(() => scanner.mask('x', { operator: 'blur' }), AimsError)
  assert.throws(() => scanner.mask('x', { operator: 'hash' }), AimsError)
})
