// The JVM test program of the Kotlin bindings: `MainKt <tests/vectors> <examples/policy.yaml>`.
// Prints one line per failure and a closing "N passed, N failed"; exits 1 on any failure.
package aims.test

import java.io.File
import kotlin.system.exitProcess

fun main(args: Array<String>) {
    if (args.size != 2) {
        System.err.println("usage: MainKt VECTORS_DIR POLICY_FILE")
        exitProcess(2)
    }
    val harness = Harness()
    runVectors(harness, File(args[0]))
    runApiTests(harness, File(args[1]))
    runApprovalTests(harness)
    runIncidentTests(harness)
    exitProcess(if (harness.report()) 0 else 1)
}
