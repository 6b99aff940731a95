// The Kotlin bindings of letterseal's account façade, end to end through a Relay: the same
// scenarios as ffi/python/tests/test_account.py, plus what is particular to the JVM (nulls from
// Java callers, unsigned integer types, closed objects).
//
// Run with ffi/kotlin/run_tests.sh (it builds the library with the `test-hooks` feature, generates
// the bindings and compiles this file with them). No JUnit: `main` runs every test in `TESTS`,
// prints each result, counts failures and exits 1 if any test failed. Assertions are kotlin.test's
// (they throw AssertionError).

import java.lang.reflect.InvocationTargetException
import kotlin.random.Random
import kotlin.system.exitProcess
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.test.fail
import uniffi.letterseal_ffi.Account
import uniffi.letterseal_ffi.Address
import uniffi.letterseal_ffi.Event
import uniffi.letterseal_ffi.LettersealException
import uniffi.letterseal_ffi.Outgoing
import uniffi.letterseal_ffi.Relay
import uniffi.letterseal_ffi.checkVectorFile
import uniffi.letterseal_ffi.generateStorageKey
import uniffi.letterseal_ffi.testHookPanic

const val NOW: ULong = 1_800_000_000uL
val TEXT: UShort = 0u

fun b(s: String): ByteArray = s.toByteArray(Charsets.UTF_8)

fun str(bytes: ByteArray): String = bytes.toString(Charsets.UTF_8)

/** A device as (user, number), comparable by value (ByteArray is compared by identity). */
data class Dev(val user: String, val device: UInt)

fun Address.dev(): Dev = Dev(str(user), device)

/** Devices of several users and the relay between them, as an app and its server. */
class World {
    val relay = Relay()
    val devices = mutableMapOf<Dev, Account>()

    fun add(user: String, device: UInt, primary: Boolean = true): Account {
        val account =
            if (primary) Account.createPrimary(NOW, b(user), device)
            else Account.createSecondary(NOW, b(user), device)
        devices[Dev(user, device)] = account
        return account
    }

    operator fun get(user: String, device: UInt): Account =
        devices[Dev(user, device)] ?: fail("no device $user/$device")

    /** Uploads envelopes from a device, delivers the fan-out, returns (to, event) pairs. */
    fun send(user: String, device: UInt, envelopes: List<ByteArray>): List<Pair<Dev, Event>> =
        envelopes.flatMap { envelope ->
            relay.upload(NOW, Address(b(user), device), envelope).map { out ->
                out.to.dev() to this[out.to.dev().user, out.to.device].receive(NOW, out.envelope)
            }
        }

    fun publish(user: String, device: UInt) {
        send(user, device, this[user, device].uploads(NOW))
    }

    fun fetchEveryone() {
        val users = devices.keys.map { it.user }.toSet()
        for (account in devices.values) {
            for (user in users) {
                for (envelope in relay.fetchUser(b(user))) account.receive(NOW, envelope)
            }
        }
    }
}

/** alice/1 and bob/1, published and known to each other. */
fun world(): World {
    val w = World()
    w.add("alice", 1u)
    w.add("bob", 1u)
    w.publish("alice", 1u)
    w.publish("bob", 1u)
    w.fetchEveryone()
    return w
}

fun envelopes(outgoing: List<Outgoing>): List<ByteArray> = outgoing.map { it.envelope }

fun <T> only(items: List<T>): T {
    assertEquals(1, items.size, "expected exactly one item: $items")
    return items[0]
}

/**
 * The category (exception class) and kind of an error. The `when` has no `else`: if the Rust
 * error gained a variant, this file would stop compiling until the variant is named here.
 */
fun categoryAndKind(e: LettersealException): Pair<String, String> =
    when (e) {
        is LettersealException.Account -> "Account" to e.kind
        is LettersealException.Receive -> "Receive" to e.kind
        is LettersealException.Relay -> "Relay" to e.kind
        is LettersealException.State -> "State" to e.kind
        is LettersealException.InvalidInput -> "InvalidInput" to e.kind
        is LettersealException.Panic -> "Panic" to "Panic"
    }

/** The core error's text (`message` in Python and Swift; `reason` in Kotlin, see ffi/uniffi.toml). */
fun reasonOf(e: LettersealException): String =
    when (e) {
        is LettersealException.Account -> e.reason
        is LettersealException.Receive -> e.reason
        is LettersealException.Relay -> e.reason
        is LettersealException.State -> e.reason
        is LettersealException.InvalidInput -> e.reason
        is LettersealException.Panic -> e.reason
    }

/** Runs `block`, which must throw a LettersealException of `category` and `kind`. */
fun refused(category: String, kind: String, block: () -> Unit): LettersealException {
    try {
        block()
    } catch (e: LettersealException) {
        assertEquals(category to kind, categoryAndKind(e), "wrong error: $e")
        assertTrue(reasonOf(e).isNotEmpty(), "an error without a reason: $e")
        // UniFFI's summary (Throwable.message) holds the kind and the reason.
        assertEquals(true, e.message?.contains(reasonOf(e)), e.message)
        return e
    } catch (e: Throwable) {
        fail("expected LettersealException.$category($kind), got $e")
    }
    fail("expected LettersealException.$category($kind), nothing was thrown")
}

fun message(event: Event): Event.Message = assertIs<Event.Message>(event)

// --- The scenarios of the Python suite --------------------------------------------------------

fun oneToOneWithAReply() {
    val w = world()
    val (alice, bob) = w["alice", 1u] to w["bob", 1u]
    val out = alice.sealToUser(NOW, b("bob"), TEXT, b("Dinner at eight?"))
    assertEquals(listOf(Dev("bob", 1u)), out.map { it.to.dev() })
    val (to, event) = only(w.send("alice", 1u, envelopes(out)))
    assertEquals(Dev("bob", 1u), to)
    val m = message(event)
    assertEquals(Dev("alice", 1u), m.sender.dev())
    assertEquals("bob", str(m.toUser))
    assertEquals(TEXT, m.contentType)
    assertEquals("Dinner at eight?", str(m.plaintext))

    val appDefined: UShort = 0x8001u
    val reply = bob.sealToUser(NOW, b("alice"), appDefined, b("Yes, see you there."))
    val (to2, event2) = only(w.send("bob", 1u, envelopes(reply)))
    assertEquals(Dev("alice", 1u), to2)
    val m2 = message(event2)
    assertEquals(Dev("bob", 1u), m2.sender.dev())
    assertEquals(appDefined, m2.contentType)
    assertEquals("Yes, see you there.", str(m2.plaintext))

    // A replayed envelope is refused and releases nothing.
    refused("Receive", "Open") { bob.receive(NOW, out[0].envelope) }

    // Both sides compute the same safety number; none for a user whose list is not held.
    val digits = assertNotNull(alice.safetyNumberDigits(b("bob")))
    assertTrue(digits.isNotEmpty() && digits.all { it.isDigit() }, digits)
    assertEquals(digits, bob.safetyNumberDigits(b("alice")))
    assertNull(alice.safetyNumberDigits(b("carol")))
}

fun groupChatWithAReply() {
    val w = world()
    val (alice, bob) = w["alice", 1u] to w["bob", 1u]
    val upload = alice.createGroup(NOW, b("book club"), listOf(b("bob")))
    val events = w.send("alice", 1u, listOf(upload)).toMap()
    assertEquals(setOf(Dev("alice", 1u), Dev("bob", 1u)), events.keys)
    val mine = assertIs<Event.GroupChanged>(events[Dev("alice", 1u)])
    val theirs = assertIs<Event.GroupChanged>(events[Dev("bob", 1u)])
    assertTrue(mine.committed)
    assertFalse(theirs.committed)
    assertEquals("book club", str(theirs.group))
    assertEquals(mine.change.epoch, theirs.change.epoch)
    assertEquals(Dev("alice", 1u), theirs.change.distributor.dev())
    assertEquals(listOf("book club"), bob.groups().map(::str))
    assertEquals(listOf("alice", "bob"), bob.groupUsers(b("book club")).map(::str).sorted())

    val sealed = bob.sealToGroup(NOW, b("book club"), TEXT, b("I finished chapter one."))
    val (to, event) = only(w.send("bob", 1u, listOf(sealed)))
    assertEquals(Dev("alice", 1u), to)
    val g = assertIs<Event.GroupMessage>(event)
    assertEquals("book club", str(g.group))
    assertEquals(Dev("bob", 1u), g.sender.dev())
    assertEquals("I finished chapter one.", str(g.plaintext))

    val reply = alice.sealToGroup(NOW, b("book club"), TEXT, b("Me too."))
    val (to2, event2) = only(w.send("alice", 1u, listOf(reply)))
    assertEquals(Dev("bob", 1u), to2)
    assertEquals("Me too.", str(assertIs<Event.GroupMessage>(event2).plaintext))

    refused("Account", "UnknownGroup") { alice.sealToGroup(NOW, b("no such group"), TEXT, b("x")) }
}

fun aSecondDeviceGetsBothSides() {
    val w = world()
    val alice = w["alice", 1u]
    val laptop = w.add("alice", 2u, primary = false)
    assertFalse(laptop.isPrimary())
    assertTrue(alice.isPrimary())
    assertEquals(32, laptop.identityKey().size)
    w.send("alice", 1u, listOf(alice.addDevice(2u, laptop.identityKey())))
    w.publish("alice", 2u)
    w.fetchEveryone()

    // bob's message reaches both of alice's devices.
    val out = w["bob", 1u].sealToUser(NOW, b("alice"), TEXT, b("to both"))
    val delivered = w.send("bob", 1u, envelopes(out)).toMap()
    assertEquals(setOf(Dev("alice", 1u), Dev("alice", 2u)), delivered.keys)
    for (event in delivered.values) assertEquals("to both", str(message(event).plaintext))

    // alice's message from her phone: bob gets it, her laptop gets the copy (to_user = bob).
    val sent = alice.sealToUser(NOW, b("bob"), TEXT, b("from the phone"))
    val copies = w.send("alice", 1u, envelopes(sent)).toMap()
    assertEquals(setOf(Dev("bob", 1u), Dev("alice", 2u)), copies.keys)
    val copy = message(copies.getValue(Dev("alice", 2u)))
    assertEquals("bob", str(copy.toUser))
    assertEquals("from the phone", str(copy.plaintext))

    val removed = alice.removeDevice(2u)
    assertTrue(removed.groupsToUpdate.isEmpty())
    w.send("alice", 1u, listOf(removed.envelope))
    refused("Account", "CannotRemoveSelf") { alice.removeDevice(1u) }
    refused("Account", "NotPrimary") { laptop.addDevice(3u, alice.identityKey()) }
}

fun saveAndRestore() {
    val w = world()
    val alice = w["alice", 1u]
    val key = generateStorageKey()
    assertEquals(32, key.size)
    assertFalse(key.contentEquals(generateStorageKey()))
    val first = alice.export(key)
    val second = alice.export(key)
    assertEquals(1uL to 2uL, first.generation to second.generation)
    assertEquals(2uL, alice.generation())

    val restored = Account.importSealed(key, second.blob, second.generation)
    assertEquals(2uL, restored.generation())
    assertEquals(Dev("alice", 1u), restored.address().dev())
    assertContentEquals(alice.identityKey(), restored.identityKey())
    assertContentEquals(alice.userKeyRecoverySecret(), restored.userKeyRecoverySecret())
    w.devices[Dev("alice", 1u)] = restored
    val out = restored.sealToUser(NOW, b("bob"), TEXT, b("restored and still here"))
    val (_, event) = only(w.send("alice", 1u, envelopes(out)))
    assertEquals("restored and still here", str(message(event).plaintext))

    refused("State", "RolledBack") { Account.importSealed(key, first.blob, second.generation) }
    refused("State", "WrongKey") { Account.importSealed(generateStorageKey(), second.blob, 0uL) }
    val tampered = second.blob.copyOf()
    tampered[tampered.size - 1] = (tampered[tampered.size - 1].toInt() xor 1).toByte()
    refused("State", "Tampered") { Account.importSealed(key, tampered, 0uL) }
    refused("State", "Truncated") { Account.importSealed(key, ByteArray(0), 0uL) }
    for (badKey in listOf(ByteArray(0), key.copyOf(31), key + byteArrayOf(0))) {
        refused("InvalidInput", "WrongKeyLength") { Account.importSealed(badKey, second.blob, 0uL) }
        refused("InvalidInput", "WrongKeyLength") { alice.export(badKey) }
    }
    // The refused exports changed nothing: the generation is still the last successful one.
    assertEquals(2uL, alice.generation())
}

fun recoverySecretRestoresALostPrimary() {
    val w = world()
    val alice = w["alice", 1u]
    val secret = assertNotNull(alice.userKeyRecoverySecret())
    assertEquals(32, secret.size)
    val laptop = w.add("alice", 2u, primary = false)
    assertNull(laptop.userKeyRecoverySecret())
    w.send("alice", 1u, listOf(alice.addDevice(2u, laptop.identityKey())))
    w.fetchEveryone()
    refused("InvalidInput", "WrongKeyLength") { laptop.restorePrimary(secret.copyOf(16)) }
    val bobSecret = assertNotNull(w["bob", 1u].userKeyRecoverySecret())
    refused("Account", "WrongUserKey") { laptop.restorePrimary(bobSecret) }
    assertFalse(laptop.isPrimary())
    laptop.restorePrimary(secret)
    assertTrue(laptop.isPrimary())
    // The restored primary can list a new device: it holds the user key.
    val tablet = w.add("alice", 3u, primary = false)
    w.send("alice", 2u, listOf(laptop.addDevice(3u, tablet.identityKey())))
}

fun relayRefusesAForgedDeviceList() {
    val w = world()
    val (alice, bob) = w["alice", 1u] to w["bob", 1u]
    val bobList = bob.uploads(NOW)[0]
    // bob's list uploaded by alice: not her user's list.
    refused("Relay", "DeviceList") { w.relay.upload(NOW, Address(b("alice"), 1u), bobList) }
    // A new "bob" primary signs a list under another user key: refused.
    val impostor = Account.createPrimary(NOW, b("bob"), 7u)
    refused("Relay", "DeviceList") {
        w.relay.upload(NOW, Address(b("bob"), 7u), impostor.uploads(NOW)[0])
    }
    // A list with a flipped signature byte: refused.
    val forged = bobList.copyOf()
    forged[forged.size - 1] = (forged[forged.size - 1].toInt() xor 0x40).toByte()
    refused("Relay", "DeviceList") { w.relay.upload(NOW, Address(b("bob"), 1u), forged) }
    // Nothing changed: alice still gets bob's real list, which she already holds.
    assertEquals(Event.Duplicate, alice.receive(NOW, w.relay.fetchUser(b("bob"))[0]))
}

fun relayRefusesABundleFromAnUnlistedDevice() {
    val w = world()
    val tablet = w.add("bob", 2u, primary = false)
    val bundle = tablet.uploads(NOW)
    assertEquals(1, bundle.size, "a secondary uploads only its bundle")
    refused("Relay", "UploaderNotListed") { w.relay.upload(NOW, Address(b("bob"), 2u), bundle[0]) }
    // alice's bundle claimed by bob: signed for another owner.
    val aliceBundle = w["alice", 1u].uploads(NOW).last()
    refused("Relay", "Registration") { w.relay.upload(NOW, Address(b("bob"), 1u), aliceBundle) }
    // One-time keys from an unlisted device: refused too.
    refused("Relay", "UploaderNotListed") {
        w.relay.upload(NOW, Address(b("bob"), 2u), tablet.oneTimeKeys(NOW, 1u)[0])
    }
}

fun relayChecksDistributionsAndSenders() {
    val w = world()
    val alice = w["alice", 1u]
    val upload = alice.createGroup(NOW, b("club"), listOf(b("bob")))
    // A distribution uploaded by a device that did not make it.
    val e = refused("Relay", "Group") { w.relay.upload(NOW, Address(b("bob"), 1u), upload) }
    assertTrue("not the distributor" in reasonOf(e), reasonOf(e))
    // A damaged distribution.
    val damaged = upload.copyOf()
    damaged[damaged.size / 2] = (damaged[damaged.size / 2].toInt() xor 1).toByte()
    refused("Relay", "Group") { w.relay.upload(NOW, Address(b("alice"), 1u), damaged) }
    // A 1:1 message uploaded under another sender.
    val message = alice.sealToUser(NOW, b("bob"), TEXT, b("hi"))[0].envelope
    refused("Relay", "SenderMismatch") { w.relay.upload(NOW, Address(b("bob"), 1u), message) }
    // A group message for a group the relay does not hold.
    w.send("alice", 1u, listOf(upload))
    val sealed = alice.sealToGroup(NOW, b("club"), TEXT, b("x"))
    refused("Relay", "UnknownGroup") { w.relay.upload(NOW, Address(b("carol"), 1u), sealed) }
}

fun garbageEnvelopesRaiseAndChangeNothing() {
    val w = world()
    val (alice, bob) = w["alice", 1u] to w["bob", 1u]
    val real = alice.sealToUser(NOW, b("bob"), TEXT, b("real"))[0].envelope
    val rng = Random(1)
    val garbage = mutableListOf<ByteArray>()
    for (n in 0 until real.size) garbage += real.copyOf(n) // every truncation
    repeat(200) { garbage += rng.nextBytes(rng.nextInt(1, 600)) }
    garbage += java.security.SecureRandom().let { r -> ByteArray(64).also(r::nextBytes) }
    garbage += ByteArray(100_000) { 1 }
    garbage += ByteArray(10 * 1024 * 1024) // 10 MiB of zeros
    garbage += real.copyOf(1) + Random.nextBytes(10 * 1024 * 1024) // a valid first byte, 10 MiB
    val generation = bob.generation()
    val groups = bob.groups().size
    for (junk in garbage) {
        try {
            bob.receive(NOW, junk)
            fail("${junk.size} bytes of garbage were accepted")
        } catch (e: LettersealException.Receive) {
            assertTrue(e.kind.isNotEmpty())
        }
    }
    assertEquals(generation, bob.generation())
    assertEquals(groups, bob.groups().size)
    // The real envelope still opens: the refusals consumed nothing; the session goes on.
    assertEquals("real", str(message(bob.receive(NOW, real)).plaintext))
    val next = alice.sealToUser(NOW, b("bob"), TEXT, b("next"))[0].envelope
    assertEquals("next", str(message(bob.receive(NOW, next)).plaintext))
    // The same garbage at the relay: a typed Relay error, nothing stored or delivered.
    val held = w.relay.fetchUser(b("alice")).map { it.toList() }
    for (junk in listOf(ByteArray(0), real.copyOf(5), ByteArray(10 * 1024 * 1024))) {
        try {
            w.relay.upload(NOW, Address(b("alice"), 1u), junk)
            fail("the relay accepted ${junk.size} bytes of garbage")
        } catch (e: LettersealException.Relay) {
            assertTrue(e.kind.isNotEmpty())
        }
    }
    assertEquals(held, w.relay.fetchUser(b("alice")).map { it.toList() })
}

fun badArgumentsRaiseTypedErrors() {
    val w = world()
    val alice = w["alice", 1u]
    for (user in listOf(ByteArray(0), ByteArray(256) { 'x'.code.toByte() })) {
        refused("InvalidInput", "InvalidUserId") { Account.createPrimary(NOW, user, 1u) }
        refused("InvalidInput", "InvalidUserId") { Account.createSecondary(NOW, user, 1u) }
        refused("InvalidInput", "InvalidUserId") { alice.sealToUser(NOW, user, TEXT, b("x")) }
        refused("InvalidInput", "InvalidUserId") { alice.safetyNumberDigits(user) }
        refused("InvalidInput", "InvalidUserId") { alice.forgetUser(user) }
        refused("InvalidInput", "InvalidUserId") { alice.createGroup(NOW, b("g"), listOf(user)) }
        refused("InvalidInput", "InvalidUserId") { w.relay.fetchUser(user) }
    }
    // 255 bytes is the longest user id.
    Account.createPrimary(NOW, ByteArray(255) { 'x'.code.toByte() }, 1u).close()
    refused("InvalidInput", "InvalidGroupId") { alice.createGroup(NOW, ByteArray(0), listOf(b("bob"))) }
    refused("InvalidInput", "InvalidGroupId") { alice.groupUsers(ByteArray(256)) }
    refused("InvalidInput", "InvalidGroupId") { alice.abortGroup(ByteArray(0)) }
    refused("InvalidInput", "WrongKeyLength") { alice.addDevice(2u, ByteArray(31)) }
    refused("InvalidInput", "InvalidIdentityKey") {
        alice.addDevice(2u, byteArrayOf(2) + ByteArray(31))
    }
    refused("InvalidInput", "TooManyOneTimeKeys") { alice.oneTimeKeys(NOW, 101u) }
    assertEquals(100, alice.oneTimeKeys(NOW, 100u).size)
    refused("Account", "DeviceListNeeded") { alice.sealToUser(NOW, b("carol"), TEXT, b("x")) }
    refused("Account", "UnknownGroup") { alice.commitGroup(NOW, b("none")) }
    refused("InvalidInput", "InvalidUserId") {
        w.relay.upload(NOW, Address(ByteArray(0), 1u), b("x"))
    }
}

// --- What is particular to Kotlin and the JVM ---------------------------------------------------

fun everyErrorVariantIsANamedExceptionClass() {
    // The generated sealed class has exactly one subclass per Rust variant (plus UniFFI's
    // companion `ErrorHandler`).
    val nested =
        LettersealException::class.java.declaredClasses
            .filter { LettersealException::class.java.isAssignableFrom(it) }
            .map { it.simpleName }
            .toSet()
    assertEquals(setOf("Account", "Receive", "Relay", "State", "InvalidInput", "Panic"), nested)
    // Each is reachable from Kotlin, with its kind; every one is a kotlin.Exception.
    val w = world()
    val alice = w["alice", 1u]
    val errors =
        listOf(
            refused("Account", "UnknownGroup") { alice.sealToGroup(NOW, b("none"), TEXT, b("x")) },
            refused("Receive", "Envelope") { alice.receive(NOW, ByteArray(0)) },
            refused("Relay", "SenderMismatch") {
                w.relay.upload(
                    NOW,
                    Address(b("bob"), 1u),
                    alice.sealToUser(NOW, b("bob"), TEXT, b("x"))[0].envelope,
                )
            },
            refused("State", "Truncated") {
                Account.importSealed(generateStorageKey(), ByteArray(3), 0uL)
            },
            refused("InvalidInput", "InvalidUserId") { w.relay.fetchUser(ByteArray(0)) },
            refused("Panic", "Panic") { testHookPanic("a test panic") },
        )
    assertEquals(6, errors.map { it::class }.toSet().size)
    for (e in errors) assertIs<Exception>(e)
}

fun aRustPanicIsATypedExceptionNotACrash() {
    val e = assertIs<LettersealException.Panic>(refused("Panic", "Panic") { testHookPanic("boom 1") })
    assertEquals("boom 1", e.reason)
    // The process and the library go on working after a caught panic.
    refused("Panic", "Panic") { testHookPanic("boom 2") }
    val w = world()
    val out = w["alice", 1u].sealToUser(NOW, b("bob"), TEXT, b("still alive"))
    assertEquals("still alive", str(message(only(w.send("alice", 1u, envelopes(out))).second).plaintext))
}

/** Calls the first public method of `target` whose JVM name starts with `name`, unwrapping. */
fun callFromJava(target: Any, name: String, vararg args: Any?): Any? {
    val method =
        target.javaClass.methods.firstOrNull { it.name == name || it.name.startsWith("$name-") }
            ?: fail("no method $name on ${target.javaClass}")
    try {
        return method.invoke(target, *args)
    } catch (e: InvocationTargetException) {
        throw e.targetException
    }
}

fun nullsFromJavaAreRefusedBeforeRust() {
    // Kotlin's types do not allow null for any argument of this API: `alice.receive(NOW, null)`
    // does not compile. A Java caller can still pass null; the generated Kotlin checks each
    // parameter on entry and throws NullPointerException before Rust is called. (JVM methods
    // taking unsigned types have mangled names, e.g. `receive-<hash>`; a ULong is a Java long.)
    val w = world()
    val alice = w["alice", 1u]
    val calls: List<Pair<String, () -> Any?>> =
        listOf(
            "receive(now, null)" to { callFromJava(alice, "receive", NOW.toLong(), null) },
            "forgetUser(null)" to { callFromJava(alice, "forgetUser", null) },
            "restorePrimary(null)" to { callFromJava(alice, "restorePrimary", null) },
            "export(null)" to { callFromJava(alice, "export", null) },
            "sealToUser(now, null, ...)" to
                { callFromJava(alice, "sealToUser", NOW.toLong(), null, 0.toShort(), b("x")) },
            "sealToUser(now, user, type, null)" to
                { callFromJava(alice, "sealToUser", NOW.toLong(), b("bob"), 0.toShort(), null) },
            "createGroup(now, g, null)" to { callFromJava(alice, "createGroup", NOW.toLong(), b("g"), null) },
            "relay.upload(now, null, envelope)" to
                { callFromJava(w.relay, "upload", NOW.toLong(), null, b("x")) },
        )
    for ((what, call) in calls) {
        try {
            call()
            fail("$what was accepted")
        } catch (e: NullPointerException) {
            // expected
        }
    }
    // A null inside a list (a Java List<byte[]> holding null) fails while lowering the list:
    // a Kotlin NullPointerException, not a Rust call.
    @Suppress("UNCHECKED_CAST")
    val members = listOf<ByteArray?>(b("bob"), null) as List<ByteArray>
    try {
        alice.createGroup(NOW, b("g"), members)
        fail("a null member was accepted")
    } catch (e: NullPointerException) {
        // expected
    }
    // Nothing changed on the account.
    assertTrue(alice.groups().isEmpty())
    val out = alice.sealToUser(NOW, b("bob"), TEXT, b("after the nulls"))
    assertEquals("after the nulls", str(message(only(w.send("alice", 1u, envelopes(out))).second).plaintext))
    // Nullable results are Kotlin nullable types.
    val secondary = Account.createSecondary(NOW, b("alice"), 9u)
    val none: ByteArray? = secondary.userKeyRecoverySecret()
    assertNull(none)
    val noNumber: String? = alice.safetyNumberDigits(b("nobody"))
    assertNull(noNumber)
}

fun unsignedNumbersAtTheirLimits() {
    // u16/u32/u64 are Kotlin UShort/UInt/ULong: a negative literal does not compile, and a
    // conversion such as (-1).toUInt() wraps to UInt.MAX_VALUE before the call, so the limits
    // below are the only out-of-range values a Kotlin caller can produce. Each is handled:
    // a typed error or a well-defined success, never a panic.
    val w = world()
    val alice = w["alice", 1u]
    assertEquals(UInt.MAX_VALUE, (-1).toUInt())
    refused("InvalidInput", "TooManyOneTimeKeys") { alice.oneTimeKeys(NOW, UInt.MAX_VALUE) }
    // The largest device number is an ordinary device number.
    val big = Account.createPrimary(NOW, b("dave"), UInt.MAX_VALUE)
    assertEquals(UInt.MAX_VALUE, big.address().device)
    // The largest content type is application-defined and arrives unchanged.
    val out = alice.sealToUser(NOW, b("bob"), UShort.MAX_VALUE, b("max type"))
    val m = message(only(w.send("alice", 1u, envelopes(out))).second)
    assertEquals(UShort.MAX_VALUE, m.contentType)
    // A rollback floor of ULong.MAX_VALUE refuses every blob.
    val key = generateStorageKey()
    val blob = alice.export(key).blob
    refused("State", "RolledBack") { Account.importSealed(key, blob, ULong.MAX_VALUE) }
    // `now` = 0 and ULong.MAX_VALUE: a device made at either time, and receiving at either time.
    for (now in listOf(0uL, ULong.MAX_VALUE)) {
        val account = Account.createPrimary(now, b("erin"), 1u)
        try {
            account.uploads(now)
        } catch (e: LettersealException) {
            assertTrue(e !is LettersealException.Panic, "uploads at $now panicked: $e")
        }
        val later = alice.sealToUser(NOW, b("bob"), TEXT, b("at $now"))[0].envelope
        try {
            w["bob", 1u].receive(now, later)
        } catch (e: LettersealException) {
            assertIs<LettersealException.Receive>(e, "receive at $now: $e")
        }
    }
}

fun aClosedObjectRefusesCalls() {
    val account = Account.createPrimary(NOW, b("frank"), 1u)
    account.close()
    try {
        account.identityKey()
        fail("a closed account answered")
    } catch (e: IllegalStateException) {
        // expected: UniFFI's handle is gone; Rust is not called
    }
    account.close() // closing twice is harmless
    Relay().use { relay -> assertTrue(relay.fetchUser(b("nobody")).isEmpty()) }
}

fun oneAccountSharedBetweenThreads() {
    // The Rust object is behind a Mutex: calls from several threads run one at a time.
    val w = world()
    val (alice, bob) = w["alice", 1u] to w["bob", 1u]
    val sealed = java.util.Collections.synchronizedList(mutableListOf<ByteArray>())
    val threads =
        (0 until 4).map { t ->
            Thread {
                repeat(10) { i -> sealed += alice.sealToUser(NOW, b("bob"), TEXT, b("t$t-$i"))[0].envelope }
            }
        }
    threads.forEach(Thread::start)
    threads.forEach(Thread::join)
    assertEquals(40, sealed.size)
    val texts = sealed.map { str(message(bob.receive(NOW, it)).plaintext) }.toSet()
    assertEquals((0 until 4).flatMap { t -> (0 until 10).map { "t$t-$it" } }.toSet(), texts)
}

fun fetchedKeysArriveAsTypedEvents() {
    val w = World()
    val alice = w.add("alice", 1u)
    val bob = w.add("bob", 1u)
    w.publish("bob", 1u)
    w.send("bob", 1u, bob.oneTimeKeys(NOW, 2u))
    val events = w.relay.fetchUser(b("bob")).map { alice.receive(NOW, it) }
    assertEquals(3, events.size)
    val listed = assertIs<Event.DeviceListUpdated>(events[0])
    assertEquals("bob", str(listed.user))
    assertEquals(1uL, listed.version)
    assertEquals(listOf(1u), listed.added)
    assertTrue(listed.removed.isEmpty())
    assertEquals(Dev("bob", 1u), assertIs<Event.BundleLearned>(events[1]).device.dev())
    assertEquals(Dev("bob", 1u), assertIs<Event.OneTimeKeyLearned>(events[2]).device.dev())
    // The list and the bundle again: nothing changes.
    val again = w.relay.fetchUser(b("bob"))
    assertEquals(Event.Duplicate, alice.receive(NOW, again[0]))
    assertEquals(Event.Duplicate, alice.receive(NOW, again[1]))
}

/** The auditor's vector run (feature `auditor`): every vector file of the repository passes. */
fun everyVectorFilePasses() {
    val files = java.io.File("test-vectors").walk().filter { it.isFile && it.name.endsWith(".json") }.toList()
    assertTrue(files.size > 50, "vector files: ${files.size}")
    for (file in files) {
        val report = checkVectorFile(file.readText())
        assertTrue(report.failed.isEmpty(), "${file.path}: ${report.failed.take(3)}")
        assertTrue(report.passed > 0uL, "${file.path}: nothing passed")
    }
    refused("InvalidInput", "VectorParse") { checkVectorFile("not json") }
}

val TESTS: List<Pair<String, () -> Unit>> =
    listOf(
        "one to one with a reply" to ::oneToOneWithAReply,
        "group chat with a reply" to ::groupChatWithAReply,
        "a second device gets both sides" to ::aSecondDeviceGetsBothSides,
        "save and restore (rollback, wrong key, tampered refused)" to ::saveAndRestore,
        "the recovery secret restores a lost primary" to ::recoverySecretRestoresALostPrimary,
        "the relay refuses a forged device list" to ::relayRefusesAForgedDeviceList,
        "the relay refuses a bundle from an unlisted device" to ::relayRefusesABundleFromAnUnlistedDevice,
        "the relay checks distributions and senders" to ::relayChecksDistributionsAndSenders,
        "garbage envelopes raise and change nothing" to ::garbageEnvelopesRaiseAndChangeNothing,
        "bad arguments raise typed errors" to ::badArgumentsRaiseTypedErrors,
        "every error variant is a named exception class" to ::everyErrorVariantIsANamedExceptionClass,
        "a Rust panic is a typed exception, not a crash" to ::aRustPanicIsATypedExceptionNotACrash,
        "nulls from Java are refused before Rust" to ::nullsFromJavaAreRefusedBeforeRust,
        "unsigned numbers at their limits" to ::unsignedNumbersAtTheirLimits,
        "a closed object refuses calls" to ::aClosedObjectRefusesCalls,
        "one account shared between threads" to ::oneAccountSharedBetweenThreads,
        "fetched keys arrive as typed events" to ::fetchedKeysArriveAsTypedEvents,
        "every vector file passes the auditor's check" to ::everyVectorFilePasses,
    )

fun main() {
    var failed = 0
    for ((name, test) in TESTS) {
        try {
            test()
            println("ok    $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL  $name: $e")
            e.printStackTrace(System.out)
        }
    }
    println("${TESTS.size - failed} passed, $failed failed (of ${TESTS.size})")
    if (failed > 0) exitProcess(1)
}
