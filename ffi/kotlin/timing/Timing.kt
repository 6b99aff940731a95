// Times 1 KiB sealToUser + receive through the Kotlin bindings (alice seals to bob, bob opens):
// the same loop as ffi/examples/seal_open_native.rs, ffi/python/timing.py and
// capi/timing/seal_open.c. Prints the ratio to the native figure passed as args[0] (microseconds
// per round trip); args[1] is the iteration count. Run by ffi/kotlin/run_tests.sh (without
// --no-timing), release profile on both sides. A measurement, not a test: it fails only if a
// message does not open, and asserts nothing about speed.

import kotlin.system.exitProcess
import uniffi.letterseal_ffi.Account
import uniffi.letterseal_ffi.Event

fun main(args: Array<String>) {
    val native = args[0].toDouble()
    val iterations = args[1].toInt()
    val now = 1_800_000_000uL
    val alice = Account.createPrimary(now, "alice".toByteArray(), 1u)
    val bob = Account.createPrimary(now, "bob".toByteArray(), 1u)
    for (upload in bob.uploads(now)) alice.receive(now, upload)
    for (upload in alice.uploads(now)) bob.receive(now, upload)
    val plaintext = ByteArray(1024) { 0x5a }
    val to = "bob".toByteArray()
    fun roundTrip() {
        for (out in alice.sealToUser(now, to, 0u, plaintext)) {
            val event = bob.receive(now, out.envelope)
            if (event !is Event.Message || event.plaintext.size != 1024) {
                println("unexpected event $event")
                exitProcess(1)
            }
        }
    }
    // Warm-up: the first message starts the session; the JIT compiles the generated code.
    repeat(10 + iterations / 2) { roundTrip() }
    val start = System.nanoTime()
    repeat(iterations) { roundTrip() }
    val kotlin = (System.nanoTime() - start) / 1e3 / iterations
    println("1 KiB seal_to_user+receive, $iterations iterations, release profile:")
    println("  native Rust: %.1f us   Kotlin/JVM bindings: %.1f us   ratio %.2f".format(native, kotlin, kotlin / native))
    // Where the time goes: a call that moves only scalars, and one that returns 32 bytes (a
    // RustBuffer: JNA by-value structures, an alloc and a free call).
    fun perCall(body: () -> Unit): Double {
        repeat(iterations) { body() }
        val t0 = System.nanoTime()
        repeat(10 * iterations) { body() }
        return (System.nanoTime() - t0) / 1e3 / (10 * iterations)
    }
    val scalar = perCall { alice.generation() }
    val bytesOut = perCall { alice.identityKey() }
    println("  per call: generation() %.2f us (scalars only)   identityKey() %.2f us (32 bytes out)".format(scalar, bytesOut))
}
