// Added time per `guard.wrap` call on the allow path (issue 9), against the bare function.
//
// Side by side in one process, the median over SAMPLES samples of the mean time of CALLS calls:
// - the bare function;
// - the function under `guard.wrap` with the 10-rule policy of the Python benchmark
//   (bench/python/policy.yaml), the audit log in memory;
// - the same with a durable audit log in `none` durability (records buffered, fsynced on flush).
// Samples of the bare and the wrapped functions alternate, so drift hits both alike. Wall time
// and the process's CPU time are both reported: on a shared, loaded machine the wall time is
// inflated by waiting for a core, the CPU time is not (the in-memory path runs on this thread
// alone).
//
// Build the package in release mode first, then run:
//     (cd crates/aims-node && npx napi build --platform --release --js native.js --dts typings/generated/index.d.ts)
//     node bench/node/wrap.mjs [CALLS] [SAMPLES]
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Guard } from '../../crates/aims-node/index.mjs'

// Samples stay small: without a durable log the in-memory sink keeps every record (~3.5 KB per call).
const CALLS = Number(process.argv[2] ?? 2000)
const SAMPLES = Number(process.argv[3] ?? 31)
const POLICY = fileURLToPath(new URL('../python/policy.yaml', import.meta.url))
const ORDER = 'A-1234'

function lookup_order(order_id) {
  return { order_id, status: 'shipped' }
}

/** Mean wall and CPU nanoseconds per call over CALLS calls. */
function meanNs(fn) {
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) fn(ORDER)
  const wall = Number(process.hrtime.bigint() - started) / CALLS
  const used = process.cpuUsage(cpu)
  return { wall, cpu: ((used.user + used.system) * 1000) / CALLS }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function compare(label, wrapped) {
  if (wrapped(ORDER).status !== 'shipped') throw new Error(`${label}: the allow path did not run the tool`)
  for (let i = 0; i < 3; i++) {
    meanNs(lookup_order)
    meanNs(wrapped)
  }
  const bare = []
  const guarded = []
  for (let i = 0; i < SAMPLES; i++) {
    bare.push(meanNs(lookup_order))
    guarded.push(meanNs(wrapped))
  }
  for (const clock of ['wall', 'cpu']) {
    const b = median(bare.map((sample) => sample[clock]))
    const g = median(guarded.map((sample) => sample[clock]))
    const us = (ns) => (ns / 1000).toFixed(3)
    console.log(`${label.padEnd(30)} ${clock.padEnd(4)} bare ${us(b)} us  wrapped ${us(g)} us  added ${us(g - b)} us  (x${(g / Math.max(b, 1)).toFixed(0)})`)
  }
}

console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0].model}); ${SAMPLES} samples x ${CALLS} calls; medians`)
const memory = new Guard({ policyPath: POLICY })
compare('audit log in memory', memory.wrap(lookup_order, { agent: 'cs-agent' }))

const dir = mkdtempSync(join(tmpdir(), 'aims-bench-'))
try {
  const durable = new Guard({ policyPath: POLICY, auditDir: join(dir, 'audit'), durability: 'none' })
  compare('durable log, durability none', durable.wrap(lookup_order, { agent: 'cs-agent' }))
  durable.flush()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
