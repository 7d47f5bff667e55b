// The bindings' other APIs against the real library: the guard over a durable log, errors
// with their fields, the audit log's proofs and verification, the offline-first export and
// the collector's checks, and the PII scanner.
package aims.test

import aims.AimsException
import aims.Durability
import aims.Guard
import aims.GuardConfig
import aims.MaskOperator
import aims.Outcome
import aims.Scanner
import aims.ToolCall
import aims.Verdict
import aims.verifyAuditLog
import aims.verifyConsistencyProof
import aims.verifyExport
import aims.verifyInclusionProof
import com.google.gson.JsonParser
import java.io.File
import java.nio.file.Files
import java.time.Duration
import java.time.Instant

private fun call(tool: String, args: String) =
    ToolCall(agentId = "cs-agent", tool = tool, argsJson = args, aiSystemId = "cs-assistant")

fun runApiTests(harness: Harness, policyFile: File) {
    val scratch = Files.createTempDirectory("aims-api").toFile()
    try {
        guardTests(harness, policyFile, scratch)
        auditTests(harness, policyFile, File(scratch, "audit"))
        exportTests(harness, policyFile, File(scratch, "export"))
        scannerTests(harness)
    } finally {
        scratch.deleteRecursively()
    }
}

private fun guardTests(harness: Harness, policyFile: File, scratch: File) {
    val dir = File(scratch, "guard-log")
    val config = GuardConfig(policyPath = policyFile.path, auditDir = dir.path, durability = Durability.STRICT)
    Guard(config).use { guard ->
        harness.test("guard: the example policy decides allow, deny, approval and redact") {
            expectEqual(Verdict.ALLOW, guard.check(call("lookup_order", """{"order_id": "A1"}""")).verdict, "lookup_order")
            val refund = guard.check(call("issue_refund", """{"order_id": "A1", "amount": 900, "currency": "EUR", "reason": "x"}"""))
            expectEqual(Verdict.DENY, refund.verdict, "refund of 900")
            expectEqual(listOf("refund-cap"), refund.ruleIds.filter { it == "refund-cap" }, "rule ids")
            expect(!refund.mayProceed) { "a denied call may not proceed" }
            val approval = guard.check(call("issue_refund", """{"order_id": "A1", "amount": 200, "currency": "EUR", "reason": "x"}"""))
            expectEqual(Verdict.REQUIRE_APPROVAL, approval.verdict, "refund of 200")
            expectEqual("refund-approval", approval.checkpoint, "checkpoint")
            expectEqual(Verdict.DENY, guard.check(call("shell", "{}")).verdict, "shell")
        }
        harness.test("guard: decisions carry the policy version, controls and the time") {
            val before = Instant.now().minusSeconds(5)
            val decision = guard.check(call("search_kb", """{"query": "returns"}"""))
            expect(Regex("[0-9a-f]{64}").matches(guard.policyVersion())) { "policy version ${guard.policyVersion()}" }
            expectEqual(guard.policyVersion(), decision.policyVersion, "policy version")
            expect(decision.controls.contains("A.9.4")) { "controls ${decision.controls}" }
            expect(decision.evaluatedAt.isAfter(before) && decision.evaluatedAt.isBefore(Instant.now().plusSeconds(5))) {
                "evaluated at ${decision.evaluatedAt}"
            }
        }
        harness.test("guard: redact masks the arguments the decision names") {
            val args = """{"to": "jane@customer.org", "subject": "card", "body": "card 4111 1111 1111 1111"}"""
            val decision = guard.check(call("send_email", args))
            expectEqual(Verdict.REDACT, decision.verdict, "verdict")
            val masked = JsonParser.parseString(guard.applyRedactions(decision, args)).asJsonObject
            expect(!masked.get("body").asString.contains("4111 1111 1111 1111")) { "body not masked: $masked" }
            expectEqual("jane@customer.org", masked.get("to").asString, "untouched member")
        }
        harness.test("guard: a result with a card number is redacted before the model sees it") {
            val lookup = call("lookup_order", """{"order_id": "A1"}""")
            val result = """{"card": "4111111111111111", "status": "shipped"}"""
            val decision = guard.checkResult(lookup, result)
            expectEqual(Verdict.REDACT, decision.verdict, "verdict")
            val masked = guard.applyRedactions(decision, result)
            expect(!masked.contains("4111111111111111") && masked.contains("shipped")) { masked }
        }
        harness.test("guard: outcomes are recorded in the log") {
            val lookup = call("lookup_order", """{"order_id": "A2"}""")
            val decision = guard.check(lookup)
            // Each handle keeps the log open: close it (`use`) so the log can be reopened.
            guard.auditLog()!!.use { log ->
                val before = log.size()
                val index = guard.recordOutcome(lookup, decision, Outcome(ok = false, error = "timeout for jane@example.com", durationMs = 12uL))
                expectEqual(before, index, "index of the outcome record")
                val record = log.proveInclusion(index).record
                expect(record.contains("\"outcome\"") && !record.contains("jane@example.com")) { "outcome record unmasked: $record" }
            }
        }
        harness.test("guard: a second writer on the same log is refused") {
            val err = expectThrows<AimsException.Audit>("second guard") { Guard(config).close() }
            expect(err.detail.contains("locked")) { err.detail }
        }
        harness.test("guard: malformed JSON arguments name the argument, line and column") {
            val err = expectThrows<AimsException.Json>("bad args") { guard.check(call("search_kb", "{\"query\": ")) }
            expectEqual("args_json", err.what, "argument")
            expectEqual(1uL, err.line, "line")
        }
    }
    harness.test("guard: the log outlives the guard and a new guard appends to it") {
        val first = Guard(config).use { guard -> guard.auditLog()!!.use { it.size() } }
        expect(first > 0uL) { "nothing was recorded" }
        Guard(config).use { guard ->
            guard.check(call("search_kb", """{"query": "after reopening"}"""))
            guard.auditLog()!!.use { log -> expectEqual(first + 1uL, log.size(), "records after one more check") }
        }
        val report = verifyAuditLog(dir.path, null, null)
        expect(report.records >= first + 1uL && report.keyFromLog) { "verify: $report" }
    }
    harness.test("errors: policy text errors keep line and column") {
        val err = expectThrows<AimsException.Policy>("bad policy") {
            Guard(GuardConfig(policyText = "default: deny\nrules:\n  - id: r\n    effect: maybe\n")).close()
        }
        expectEqual("<inline>", err.file, "file")
        expectEqual(4uL, err.line, "line")
        expect(err.column > 0uL) { "column ${err.column}" }
        expect(err.detail.contains("maybe") || err.detail.contains("variant")) { err.detail }
    }
    harness.test("errors: a policy is required, and only one") {
        expectThrows<AimsException.Config>("no policy") { Guard(GuardConfig()).close() }
        expectThrows<AimsException.Config>("two policies") {
            Guard(GuardConfig(policyText = "rules: []", policyPath = policyFile.path)).close()
        }
        val err = expectThrows<AimsException.Io>("missing file") {
            Guard(GuardConfig(policyPath = File(scratch, "absent.yaml").path)).close()
        }
        expect(err.path.endsWith("absent.yaml")) { err.path }
    }
    harness.test("guard: without an audit directory records stay in memory") {
        Guard(GuardConfig(policyText = "default: allow\nrules: []\n")).use { guard ->
            expectEqual(Verdict.ALLOW, guard.check(call("anything", "{}")).verdict, "verdict")
            expect(guard.auditLog() == null) { "an in-memory guard has no log" }
        }
    }
}

private fun auditTests(harness: Harness, policyFile: File, dir: File) {
    Guard(GuardConfig(policyPath = policyFile.path, auditDir = dir.path)).use { guard ->
        repeat(5) { guard.check(call("search_kb", """{"query": "q$it"}""")) }
        val log = guard.auditLog()!!
        val key = log.publicKey()
        harness.test("audit: an inclusion proof verifies with the public key alone") {
            // Records 0 to 4 are the five decisions above.
            val proof = log.proveInclusion(2uL)
            expectEqual(2uL, proof.index, "index")
            verifyInclusionProof(proof.json, key)
            val forged = proof.json.replace("q2", "q9")
            expect(forged != proof.json) { "the proof does not hold the record" }
            expectThrows<AimsException.Integrity>("forged record") { verifyInclusionProof(forged, key) }
        }
        harness.test("audit: a consistency proof verifies, and not with another key") {
            val proof = log.proveConsistency(1uL)
            expectEqual(1uL, proof.oldSize, "old size")
            verifyConsistencyProof(proof.json, key)
            val otherKey = Guard(GuardConfig(policyPath = policyFile.path, auditDir = File(dir.parentFile, "other").path)).use {
                it.auditLog()!!.use { other -> other.publicKey() }
            }
            expectThrows<AimsException.Integrity>("other key") { verifyConsistencyProof(proof.json, otherKey) }
        }
        harness.test("audit: an index beyond the log is an error, not a proof") {
            expectThrows<AimsException.Audit>("out of range") { log.proveInclusion(1_000_000uL) }
        }
        harness.test("audit: the directory verifies offline against the public key and a kept checkpoint") {
            val kept = log.exportCheckpoint()
            log.flush()
            val report = verifyAuditLog(dir.path, key, kept.note)
            expectEqual(log.size(), report.records, "records")
            expectEqual(kept.size, report.externalSize, "kept checkpoint size")
            expect(!report.keyFromLog) { "the given key was used" }
        }
        harness.test("audit: a changed record is found and named") {
            log.flush()
            val copy = File(dir.parentFile, "tampered")
            dir.copyRecursively(copy)
            val records = File(copy, "records")
            val bytes = records.readBytes()
            val at = String(bytes, Charsets.ISO_8859_1).indexOf("q3")
            expect(at > 0) { "record text not found" }
            bytes[at + 1] = '7'.code.toByte()
            records.writeBytes(bytes)
            val err = expectThrows<AimsException.Integrity>("tampered") { verifyAuditLog(copy.path, key, null) }
            expect(err.index != null) { "no index named: ${err.reason}" }
        }
        log.close()
    }
}

private fun exportTests(harness: Harness, policyFile: File, dir: File) {
    Guard(GuardConfig(policyPath = policyFile.path, auditDir = dir.path)).use { guard ->
        val log = guard.auditLog()!!
        val key = log.publicKey()
        repeat(3) { guard.check(call("lookup_order", """{"order_id": "B$it"}""")) }
        // Offline: the device commits to its log with a small signed note.
        val committed = log.exportCheckpoint()
        repeat(4) { guard.check(call("lookup_order", """{"order_id": "C$it"}""")) }
        harness.test("export: the first upload verifies from the start") {
            val everything = log.exportSince(null)
            expectEqual(0uL, everything.fromSize, "from")
            val report = verifyExport(everything.json, key, null)
            expectEqual(everything.toSize, report.toSize, "to")
        }
        harness.test("export: increments chain from checkpoint to checkpoint") {
            val first = log.exportSince(committed.note)
            expectEqual(committed.size, first.fromSize, "from")
            val accepted = verifyExport(first.json, key, committed.note)
            expectEqual(first.checkpoint, accepted.checkpoint, "checkpoint")
            guard.check(call("search_kb", """{"query": "late"}"""))
            val second = log.exportSince(accepted.checkpoint)
            val next = verifyExport(second.json, key, accepted.checkpoint)
            expectEqual(accepted.toSize, next.fromSize, "the second export continues the first")
            expect(next.toSize > next.fromSize) { "nothing exported" }
        }
        harness.test("export: the collector refuses an altered, shortened or unanchored upload") {
            val upload = log.exportSince(committed.note)
            val altered = upload.json.replace("C2", "C9")
            expect(altered != upload.json) { "the export does not hold the record" }
            expectThrows<AimsException.Integrity>("altered") { verifyExport(altered, key, committed.note) }
            val doc = JsonParser.parseString(upload.json).asJsonObject
            val records = doc.getAsJsonArray("records")
            records.remove(records.size() - 1)
            expectThrows<AimsException.Integrity>("shortened") { verifyExport(doc.toString(), key, committed.note) }
            expectThrows<AimsException.Integrity>("no checkpoint to continue") { verifyExport(upload.json, key, null) }
        }
        harness.test("export: a checkpoint of another log is refused on the device") {
            val other = Guard(GuardConfig(policyPath = policyFile.path, auditDir = File(dir.parentFile, "export-other").path)).use {
                it.auditLog()!!.use { log -> log.exportCheckpoint() }
            }
            expectThrows<AimsException.Integrity>("foreign checkpoint") { log.exportSince(other.note) }
        }
        log.close()
    }
}

private fun scannerTests(harness: Harness) {
    Scanner().use { scanner ->
        harness.test("scanner: offsets are UTF-16 units, as Kotlin strings count") {
            val text = "😀 mail jane.doe@example.com now"
            val findings = scanner.scan(text)
            expectEqual(listOf("EMAIL_ADDRESS"), findings.map { it.entity }, "entities")
            val found = findings[0]
            expectEqual("jane.doe@example.com", text.substring(found.start.toInt(), found.end.toInt()), "span")
        }
        harness.test("scanner: masks with tags, keep-last-4 and a keyed hash") {
            val text = "card 4111 1111 1111 1111, mail jane@example.com"
            expectEqual("card <CREDIT_CARD>, mail <EMAIL_ADDRESS>", scanner.mask(text), "tags")
            val last4 = scanner.mask(text, MaskOperator.KeepLast4, listOf("CREDIT_CARD"))
            expectEqual("card **** **** **** 1111, mail jane@example.com", last4, "keep last 4, cards only")
            val key = ByteArray(32) { it.toByte() }
            val hashed = scanner.mask("jane@example.com", MaskOperator.Hash(key), null)
            expectEqual(hashed, scanner.mask("jane@example.com", MaskOperator.Hash(key), null), "stable token")
            expect(hashed.startsWith("<EMAIL_ADDRESS:") && !hashed.contains("jane")) { hashed }
        }
        harness.test("scanner: JSON findings name their pointer; masking keeps the structure") {
            val json = """{"customer": {"email": "jane@example.com"}, "n": 1}"""
            val findings = scanner.scanJson(json)
            expectEqual(listOf("/customer/email"), findings.map { it.pointer }, "pointers")
            val masked = JsonParser.parseString(scanner.maskJson(json, null, null)).asJsonObject
            expectEqual("<EMAIL_ADDRESS>", masked.getAsJsonObject("customer").get("email").asString, "masked")
            expectEqual(1, masked.get("n").asInt, "untouched")
        }
        harness.test("scanner: bad entity names and masks are errors") {
            val err = expectThrows<AimsException.Pii>("unknown entity") { Scanner(listOf("EMAIL"), listOf()).close() }
            expect(err.detail.contains("EMAIL")) { err.detail }
            expectThrows<AimsException.Pii>("two-character mask") { scanner.mask("x", MaskOperator.Mask("**"), null) }
        }
    }
    harness.test("scanner: a restricted scanner and a deny list") {
        Scanner(listOf("CREDIT_CARD"), listOf("Project Falcon")).use { scanner ->
            val found = scanner.scan("jane@example.com about project falcon").map { it.entity }
            expectEqual(listOf("DENY_LIST"), found, "entities")
        }
    }
}
