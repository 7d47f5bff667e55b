// A minimal test harness for the JVM test program: named checks, a failure list, and the
// closing "N passed, N failed" line that CI reads.
package aims.test

class Harness {
    private var passed = 0
    private val failures = mutableListOf<String>()

    /** Runs one named check; an exception or a failed expectation fails it. */
    fun test(name: String, body: () -> Unit) {
        try {
            body()
            passed++
        } catch (e: Throwable) {
            failures.add("$name: ${e::class.simpleName}: ${e.message}")
        }
    }

    fun report(): Boolean {
        for (failure in failures) println("FAIL $failure")
        println("${passed} passed, ${failures.size} failed")
        return failures.isEmpty()
    }
}

class Failed(message: String) : Exception(message)

fun expect(condition: Boolean, message: () -> String) {
    if (!condition) throw Failed(message())
}

fun <T> expectEqual(expected: T, actual: T, what: String) {
    if (expected != actual) throw Failed("$what: expected $expected, got $actual")
}

/** Runs `body`, which must throw an `E`; returns it. */
inline fun <reified E : Throwable> expectThrows(what: String, body: () -> Unit): E {
    try {
        body()
    } catch (e: Throwable) {
        if (e is E) return e
        throw Failed("$what: expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
    }
    throw Failed("$what: expected ${E::class.simpleName}, nothing was thrown")
}
