// Runs the shared guard conformance vectors (tests/vectors, format in its README) through the
// Kotlin bindings, so Kotlin provably decides like Rust, Python and Node.
package aims.test

import aims.AimsException
import aims.Decision
import aims.Guard
import aims.GuardConfig
import aims.ManualClock
import aims.ToolCall
import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonNull
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import com.google.gson.JsonPrimitive
import java.io.File
import java.nio.file.Files
import java.time.Instant

private const val START = "2026-01-01T00:00:00Z"

fun runVectors(harness: Harness, dir: File) {
    val files = dir.listFiles { file -> file.name.endsWith(".json") }?.sortedBy { it.name }.orEmpty()
    harness.test("vectors: the directory holds vector files") {
        expect(files.isNotEmpty()) { "no *.json vector in $dir" }
    }
    val scratch = Files.createTempDirectory("aims-vectors").toFile()
    for (file in files) {
        val vector = JsonParser.parseString(file.readText()).asJsonObject
        val name = file.nameWithoutExtension
        when {
            vector.has("steps") -> runDecisionVector(harness, name, vector, scratch)
            vector.has("cases") -> runInvalidPolicies(harness, name, vector, scratch)
            else -> harness.test("vectors: $name") { throw Failed("neither steps nor cases") }
        }
    }
    scratch.deleteRecursively()
}

private fun runDecisionVector(harness: Harness, name: String, vector: JsonObject, scratch: File) {
    // The README: load the policy as a `.json` policy, one guard per file, a manual clock.
    val policy = File(scratch, "$name.json")
    policy.writeText(vector.get("policy").toString())
    val clock = ManualClock(Instant.parse(START))
    val guard = Guard.withManualClock(policy.path, clock)
    for (step in vector.getAsJsonArray("steps").map { it.asJsonObject }) {
        val stepName = step.get("name")?.asString ?: "?"
        harness.test("vector $name: $stepName") {
            step.get("at")?.let { clock.set(Instant.parse(it.asString)) }
            val call = toolCall(step.getAsJsonObject("call"))
            val decision = when (val result = step.get("result")) {
                null -> guard.check(call)
                else -> guard.checkResult(call, result.toString())
            }
            val problems = step.getAsJsonObject("expect").entrySet().mapNotNull { (field, expected) ->
                val got = observed(decision, field) ?: return@mapNotNull "unknown expectation `$field`"
                if (got == expected) null else "$field: expected $expected, got $got"
            }
            expect(problems.isEmpty()) { problems.joinToString("; ") }
        }
    }
}

/** The call exactly as the vector gives it: absent JSON members stay absent (null). */
private fun toolCall(call: JsonObject): ToolCall = ToolCall(
    agentId = call.get("agent_id").asString,
    tool = call.get("tool").asString,
    argsJson = (call.get("args") ?: JsonNull.INSTANCE).toString(),
    aiSystemId = call.get("ai_system_id")?.asString,
    conversationId = call.get("conversation_id")?.asString,
    callId = call.get("call_id")?.asString,
    contextJson = (call.get("context") ?: JsonNull.INSTANCE).toString(),
)

private fun strings(values: List<String>): JsonArray =
    JsonArray().apply { values.forEach { add(it) } }

/** The decision's value for one expectation field, or null for a field the format lacks. */
private fun observed(decision: Decision, field: String): JsonElement? = when (field) {
    "verdict" -> JsonPrimitive(decision.verdict.name.lowercase())
    "rule_ids" -> strings(decision.ruleIds)
    "reason_codes" -> strings(decision.reasons.map { it.code })
    "controls" -> strings(decision.controls)
    "checkpoint" -> decision.checkpoint?.let { JsonPrimitive(it) } ?: JsonNull.INSTANCE
    "may_proceed" -> JsonPrimitive(decision.mayProceed)
    "redactions" -> JsonArray().apply {
        decision.redactions.forEach { redaction ->
            add(JsonObject().apply {
                addProperty("rule_id", redaction.ruleId)
                add("pointers", strings(redaction.pointers))
                add("entities", strings(redaction.entities))
            })
        }
    }
    else -> null
}

private fun runInvalidPolicies(harness: Harness, name: String, vector: JsonObject, scratch: File) {
    for (case in vector.getAsJsonArray("cases").map { it.asJsonObject }) {
        harness.test("vector $name: ${case.get("name").asString}") {
            val policy = File(scratch, "policy.${case.get("format").asString}")
            policy.writeText(case.get("text").asString)
            val error = expectThrows<AimsException.Policy>("loading") {
                Guard(GuardConfig(policyPath = policy.path)).close()
            }
            val expected = case.getAsJsonObject("error")
            val text = "${File(error.file).name}:${error.line}:${error.column}: ${error.detail}"
            val prefix = "${policy.name}:${expected.get("line").asLong}:${expected.get("column").asLong}: "
            expect(text.startsWith(prefix)) { "expected an error starting with `$prefix`, got `$text`" }
            val contains = expected.get("contains").asString
            expect(text.contains(contains)) { "`$text` does not contain `$contains`" }
        }
    }
}
