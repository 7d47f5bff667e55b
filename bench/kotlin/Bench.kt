// Added time per guarded tool call through the Kotlin binding (issue 10), on the JVM.
//
// Measures, side by side in one process, the median time per call of:
// - the bare tool function (JSON text in, JSON text out);
// - one crossing of the binding that does no work (`guard.policyVersion()`): the JNA and
//   uniffi floor every call pays;
// - `guard.check` alone, audit records in memory;
// - the whole guarded call as an app makes it (check, run the tool, recordOutcome,
//   checkResult), records in memory, and with a durable log at `Durability.NONE` (buffered:
//   the record encoding, leaf hashes and Merkle tree without waiting for an fsync).
// The allow path is `lookup_order` under the 10-rule policy of the Python benchmark
// (bench/python/policy.yaml), so the figures compare with issue 8's.
//
// Each figure is the median over SAMPLES samples of the mean time of CALLS calls, in wall time
// and in this thread's CPU time (which a busy machine does not inflate).
//
//   bench/kotlin/run.sh [CALLS] [SAMPLES]
package aims.bench

import aims.Durability
import aims.Guard
import aims.GuardConfig
import aims.Outcome
import aims.ToolCall
import java.io.File
import java.lang.management.ManagementFactory
import java.nio.file.Files

private val threads = ManagementFactory.getThreadMXBean()

/** Keeps results alive so the JIT cannot drop the work measured. */
private var sink = 0L

private fun lookupOrder(argsJson: String): String =
    """{"order_id": "A-1234", "status": "shipped", "request": ${argsJson.length}}"""

private const val ARGS = """{"order_id": "A-1234"}"""

private fun guardedCall(guard: Guard): String {
    val call = ToolCall(agentId = "cs-agent", tool = "lookup_order", argsJson = ARGS, aiSystemId = "cs-assistant")
    val decision = guard.check(call)
    check(decision.mayProceed) { "the allow path was not allowed: ${decision.verdict}" }
    val started = System.nanoTime()
    val result = lookupOrder(call.argsJson)
    guard.recordOutcome(call, decision, Outcome(ok = true, durationMs = ((System.nanoTime() - started) / 1_000_000).toULong()))
    guard.checkResult(call, result)
    return result
}

private class Figure(val wallNs: Double, val cpuNs: Double)

/** Medians over `samples` of the mean nanoseconds per call, wall and thread CPU. */
private fun measure(calls: Int, samples: Int, body: () -> Any): Figure {
    repeat(calls.coerceAtLeast(2000)) { sink += body().hashCode() } // warm up the JIT
    val walls = DoubleArray(samples)
    val cpus = DoubleArray(samples)
    for (sample in 0 until samples) {
        val cpu0 = threads.currentThreadCpuTime
        val wall0 = System.nanoTime()
        repeat(calls) { sink += body().hashCode() }
        walls[sample] = (System.nanoTime() - wall0).toDouble() / calls
        cpus[sample] = (threads.currentThreadCpuTime - cpu0).toDouble() / calls
    }
    walls.sort()
    cpus.sort()
    return Figure(walls[samples / 2], cpus[samples / 2])
}

private fun us(ns: Double) = "%,.2f us".format(ns / 1000)

fun main(args: Array<String>) {
    val policy = args.getOrNull(0) ?: "bench/python/policy.yaml"
    val calls = args.getOrNull(1)?.toInt() ?: 2000
    val samples = args.getOrNull(2)?.toInt() ?: 31
    val scratch = Files.createTempDirectory("aims-bench").toFile()
    try {
        val rows = mutableListOf<Pair<String, Figure>>()
        rows += "bare function" to measure(calls, samples) { lookupOrder(ARGS) }
        Guard(GuardConfig(policyPath = policy)).use { guard ->
            rows += "one binding crossing, no work (`policyVersion()`)" to measure(calls, samples) { guard.policyVersion() }
            val call = ToolCall(agentId = "cs-agent", tool = "lookup_order", argsJson = ARGS, aiSystemId = "cs-assistant")
            rows += "`check` alone, records in memory" to measure(calls, samples) { guard.check(call) }
            rows += "guarded call, records in memory" to measure(calls, samples) { guardedCall(guard) }
        }
        val durable = GuardConfig(policyPath = policy, auditDir = File(scratch, "audit").path, durability = Durability.NONE)
        Guard(durable).use { guard ->
            rows += "guarded call, durable log, `Durability.NONE`" to measure(calls, samples) { guardedCall(guard) }
        }
        val bare = rows.first().second
        val os = ManagementFactory.getOperatingSystemMXBean()
        println("calls per sample $calls, samples $samples; ${os.availableProcessors} CPUs ${System.getProperty("os.arch")}, " +
            "load average %.1f; JVM ${System.getProperty("java.vm.name")} ${System.getProperty("java.version")}".format(os.systemLoadAverage))
        println("| configuration | wall per call | added (wall) | CPU per call | added (CPU) |")
        println("|---|---:|---:|---:|---:|")
        for ((name, figure) in rows) {
            val added = figure !== bare
            println("| $name | ${us(figure.wallNs)} | ${if (added) us(figure.wallNs - bare.wallNs) else ""} " +
                "| ${us(figure.cpuNs)} | ${if (added) us(figure.cpuNs - bare.cpuNs) else ""} |")
        }
        System.err.println("(sink ${sink and 1})")
    } finally {
        scratch.deleteRecursively()
    }
}
