// The generated Kotlin, executed on the JVM as an Android app would call it: errors as
// their own exception classes, objects closed, one store from several threads, calls that
// wait as `suspend` functions (coroutines: runBlocking here, a ViewModel scope in an app),
// a sync cancelled mid-way, observers collecting progress and changed cases, the
// home-visit story against a real server, and the client's area chosen from the agency's
// areas a sync brought. Exits non-zero on the first failure.

import fieldcase.demo.LocalServer
import fieldcase.demo.PASSWORD
import java.io.File
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import uniffi.fieldcase_bindings.*
import uniffi.fieldcase_core.*

fun check(ok: Boolean, what: String) {
    if (!ok) throw AssertionError(what)
}

/** The store at `path`, opened as an app does: `openStore` is a suspend function. */
fun open(path: String, key: ByteArray): CaseStore = runBlocking { openStore(path, key) }

inline fun <reified E : Throwable> expect(what: String, block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing was thrown")
}

fun main(args: Array<String>) {
    val root = File(args[0])
    val tmp = kotlin.io.path.createTempDirectory("fieldcase-kt").toFile()
    try {
        boundary(tmp)
        LocalServer(root).use { server ->
            homeVisit(server, tmp)
            observersAndCancellation(server, tmp)
            areas(server, tmp)
        }
        println("kotlin bindings: all checks passed")
    } finally {
        tmp.deleteRecursively()
    }
}

fun boundary(tmp: File) {
    val path = File(tmp, "p.sqlite").path
    val store = open(path, ByteArray(32) { 3 })
    expect<FieldcaseException.WrongKey>("wrong key") { open(path, ByteArray(32) { 4 }) }
    val bad = expect<FieldcaseException.InvalidInput>("short key") {
        open(File(tmp, "q.sqlite").path, ByteArray(5))
    }
    check(bad.path == "key", "the error names the key")
    expect<FieldcaseException.NotSignedIn>("no user") {
        store.createCase(NewCase(team = "north", client = ClientInput(name = "Lan")))
    }
    expect<FieldcaseException.NotFound>("unknown case") { store.getCase("nope") }
    expect<FieldcaseException.Network>("no server") {
        runBlocking { store.login("http://127.0.0.1:9", "anna", "whatever password", "p") }
    }
    File(tmp, "bad.sqlite").writeText("not a store ".repeat(400))
    expect<FieldcaseException.Corrupt>("not a store") {
        open(File(tmp, "bad.sqlite").path, ByteArray(32) { 3 })
    }
    store.close()
    // Closing frees the store: its file can be opened again, many times over.
    repeat(30) { i ->
        open(File(tmp, "s$i.sqlite").path, ByteArray(32) { (i + 1).toByte() }).use { it.deviceId() }
    }
}

fun phone(server: LocalServer, tmp: File, user: String, n: Int): Pair<CaseStore, Session> = runBlocking {
    val s = openStore(File(tmp, "$user$n.sqlite").path, ByteArray(32) { n.toByte() })
    s to s.login(server.url, user, PASSWORD, "$user's phone")
}

fun homeVisit(server: LocalServer, tmp: File) = runBlocking {
    fun phone(user: String, n: Int) = phone(server, tmp, user, n)
    val (anna, annaSession) = phone("anna", 11)
    val case = anna.createCase(
        NewCase(
            team = "north",
            client = ClientInput(name = "Олександр Коваленко"),
            intake = IntakeInput(reason = "Дитина не відвідує школу", urgency = "urgent"),
        )
    )
    // A narrative field edited by code points, as the app's text box reports them.
    val visit = anna.addVisit(case, VisitInput(kind = "home", note = "Відвідування вдома"))
    anna.editText(case, "visits/$visit/note", "Відвідування ".codePointCount(0, 13).toULong(), 0UL, "сім'ї ")
    check(anna.getCase(case).visits[0].note == "Відвідування сім'ї вдома", "edit_text")
    // Kotlin counts UTF-16 units, as a text box's selection does: after an emoji (two
    // units), editTextUtf16 takes the String's own index.
    anna.editTextUtf16(case, "visits/$visit/note", 0UL, 0UL, "\uD83C\uDFE0 ")
    val shown = anna.getCase(case).visits[0].note
    anna.editTextUtf16(case, "visits/$visit/note", shown.indexOf("вдома").toULong(), 5UL, "удома")
    check(anna.getCase(case).visits[0].note == "\uD83C\uDFE0 Відвідування сім'ї удома", "edit_text_utf16")
    check(anna.sync(server.url, annaSession.token).errors.isEmpty(), "first sync")

    val (_, maleeSession) = phone("malee", 12)
    server.post("/v1/cases/$case/assignment", maleeSession.token, """{"workers":["anna","bao"]}""")
    val (bao, baoSession) = phone("bao", 13)
    check(bao.sync(server.url, baoSession.token).newCases == 1UL, "bao receives the case")
    // A suspend call leaves its caller's thread free: two syncs at once from one coroutine.
    val both = listOf(async { anna.sync(server.url, annaSession.token) }, async { bao.sync(server.url, baoSession.token) })
    check(both.all { it.await().errors.isEmpty() }, "two syncs at once")

    // From two threads at once on one store.
    val workers = (1..4).map { t ->
        thread { repeat(5) { k -> bao.addVisit(case, VisitInput(kind = "home", note = "Bảo $t/$k")) } }
    }
    workers.forEach { it.join() }
    anna.setField(case, "client/address", "\"вул. Шевченка, 5\"")
    bao.setField(case, "client/address", "\"вул. Шевченка, 7\"")
    for ((s, session) in listOf(anna to annaSession, bao to baoSession, anna to annaSession)) {
        check(s.sync(server.url, session.token).errors.isEmpty(), "sync")
    }
    val a = anna.getCase(case)
    check(a == bao.getCase(case), "both phones hold the same case")
    check(a.visits.size == 21, "every visit: ${a.visits.size}")
    val conflict = anna.conflicts(case).single()
    check(conflict.path == "client/address", "the conflict is the address")
    check(
        conflict.values.map { it.by.userId }.toSet() == setOf(annaSession.userId, baoSession.userId),
        "both authors"
    )
    anna.close()
    bao.close()
}

/** Records what a store's observers hear. */
class Recorder(private val holdFirstProgress: Long = 0) : SyncObserver, CaseObserver {
    val states = CopyOnWriteArrayList<SyncState>()
    val changes = CopyOnWriteArrayList<Pair<ChangeOrigin, List<String>>>()
    val running = CountDownLatch(1)

    override fun onSyncState(state: SyncState) {
        states.add(state)
        if (state is SyncState.Running && state.progress.total > 0UL && running.count > 0) {
            running.countDown()
            // Observers run on the sync's own thread: holding here keeps the sync under
            // way while the test cancels it.
            Thread.sleep(holdFirstProgress)
        }
    }

    override fun onCasesChanged(caseIds: List<String>, origin: ChangeOrigin) {
        changes.add(origin to caseIds.sorted())
    }
}

fun observersAndCancellation(server: LocalServer, tmp: File) = runBlocking {
    val (anna, annaSession) = phone(server, tmp, "anna", 21)
    val seen = Recorder(holdFirstProgress = 500)
    anna.addSyncObserver(seen)
    anna.addCaseObserver(seen)
    val cases = (1..30).map { i ->
        anna.createCase(NewCase(team = "north", client = ClientInput(name = "Trẻ $i")))
    }
    check(seen.changes.map { it.second } == cases.map { listOf(it) }, "each new case is told")
    check(seen.changes.all { it.first == ChangeOrigin.LOCAL }, "as a local change")

    // Cancelled while it runs: the coroutine ends with CancellationException, the sync
    // stops promptly (Idle), and no case is lost.
    val job = async { anna.sync(server.url, annaSession.token) }
    // Waiting suspends (runBlocking has one thread: blocking it would stop the sync's
    // coroutine from starting).
    var started = 0
    while (seen.running.count > 0) {
        check(started++ < 2000, "the sync started")
        delay(10)
    }
    job.cancel()
    try {
        job.await()
        throw AssertionError("the sync was not cancelled")
    } catch (e: CancellationException) {
        // expected
    }
    var waited = 0
    while (seen.states.last() !is SyncState.Idle) {
        check(waited++ < 1000, "the cancelled sync did not stop")
        delay(10)
    }
    val progress = seen.states.filterIsInstance<SyncState.Running>().map { it.progress }
    check(progress.last().done < 30UL, "cancelled before every case was through: ${progress.last()}")
    check(anna.listCases(CaseFilter(sort = SortBy.LAST_CHANGE)).size == 30, "nothing lost here")

    // The next sync completes; every case reaches another phone of the same worker.
    seen.states.clear()
    val report = anna.sync(server.url, annaSession.token)
    check(report.errors.isEmpty(), "the next sync completes: ${report.errors}")
    val done = seen.states.filterIsInstance<SyncState.Running>().map { it.progress }
    check(done.last().total == done.last().done && done.last().total > 0UL, "progress to the end: $done")
    check(seen.states.last() is SyncState.Idle, "idle after")
    val (other, otherSession) = phone(server, tmp, "anna", 22)
    val theirs = Recorder()
    other.addCaseObserver(theirs)
    val received = other.sync(server.url, otherSession.token)
    // (anna also holds the case of the home-visit story)
    check(received.newCases == 31UL && received.changed.containsAll(cases), "every case arrives: ${received.newCases}")
    val told = theirs.changes.single()
    check(told.first == ChangeOrigin.SYNC && told.second == received.changed.sorted(), "changed cases told once, by sync")

    // Offline is its own state; a refused token fails with its kind.
    try {
        anna.sync("http://127.0.0.1:9", annaSession.token)
        throw AssertionError("no server there")
    } catch (e: FieldcaseException.Network) {
        check(seen.states.last() is SyncState.Offline, "offline: ${seen.states.last()}")
    }
    try {
        anna.sync(server.url, "not-a-token")
        throw AssertionError("a bad token")
    } catch (e: FieldcaseException.Unauthorized) {
        val last = seen.states.last()
        check(last is SyncState.Failed && last.kind == ErrorKind.UNAUTHORIZED, "failed: $last")
    }
    check(anna.refusedCases().isEmpty(), "nothing refused")

    // A code from a newer app reads as itself.
    val fixture = File(server.root, "core/tests/fixtures/forward_compat/newer_codes.automerge")
    val imported = other.importCase(fixture.readBytes())
    val file = other.getCase(imported)
    check(file.stage == Stage.Unknown("verification"), "unknown stage kept: ${file.stage}")
    check(file.intake.preliminaryRisk == RiskLevel.Unknown("imminent_danger"), "unknown risk kept")
    // toString is the stored code (Rust's Display), known or not.
    check("${file.stage}/${RiskLevel.Concern}" == "verification/concern", "shown as its code: ${file.stage}")
    anna.close()
    other.close()
}

/** The client's area (schema revision 5): the agency's areas reach the phone at sync, the
 * area is set from them only (a code the phone does not hold is InvalidInput, before
 * anything is written), the server keeps it, and a renamed area reaches the phone. */
fun areas(server: LocalServer, tmp: File) = runBlocking {
    server.admin("area", "put", "00004", "Xã Phú Mỹ")
    server.admin("area", "put", "00001", "Xã Tân Phú")
    val (anna, session) = phone(server, tmp, "anna", 31)
    check(anna.areas().isEmpty(), "no areas before a sync")
    expect<FieldcaseException.InvalidInput>("an area the phone does not hold") {
        anna.createCase(NewCase(team = "north", client = ClientInput(name = "Lan", area = "00004")))
    }
    check(anna.sync(server.url, session.token).errors.isEmpty(), "the sync that brings the areas")
    check(
        anna.areas().map { it.code to it.name } == listOf("00001" to "Xã Tân Phú", "00004" to "Xã Phú Mỹ"),
        "the areas by code: ${anna.areas()}",
    )
    val case = anna.createCase(NewCase(team = "north", client = ClientInput(name = "Nguyễn Thị Lan", area = "00004")))
    check(anna.getCase(case).client.area == "00004", "the area set")
    expect<FieldcaseException.InvalidInput>("a code not in the list") {
        anna.updateClient(case, ClientInput(area = "99999"))
    }
    check(anna.getCase(case).client.area == "00004", "nothing written by the refused code")
    check(anna.sync(server.url, session.token).errors.isEmpty(), "the case stored")
    server.admin("area", "put", "00001", "Thị trấn Tân Phú")
    check(anna.sync(server.url, session.token).errors.isEmpty(), "the sync after the rename")
    check(anna.areas().first { it.code == "00001" }.name == "Thị trấn Tân Phú", "the new name")
    check(anna.getCase(case).client.area == "00004", "the case keeps its code")
    anna.close()
}
