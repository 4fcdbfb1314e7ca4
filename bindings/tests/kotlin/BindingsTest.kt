// The generated Kotlin, executed on the JVM as an Android app would call it: errors as
// their own exception classes, objects closed, one store from several threads, and the
// home-visit story against a real server. Exits non-zero on the first failure.

import fieldcase.demo.LocalServer
import fieldcase.demo.PASSWORD
import java.io.File
import kotlin.concurrent.thread
import uniffi.fieldcase_bindings.*

fun check(ok: Boolean, what: String) {
    if (!ok) throw AssertionError(what)
}

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
        LocalServer(root).use { server -> homeVisit(server, tmp) }
        println("kotlin bindings: all checks passed")
    } finally {
        tmp.deleteRecursively()
    }
}

fun boundary(tmp: File) {
    val path = File(tmp, "p.sqlite").path
    val store = CaseStore.open(path, ByteArray(32) { 3 })
    expect<FieldcaseException.WrongKey>("wrong key") { CaseStore.open(path, ByteArray(32) { 4 }) }
    val bad = expect<FieldcaseException.InvalidInput>("short key") {
        CaseStore.open(File(tmp, "q.sqlite").path, ByteArray(5))
    }
    check(bad.path == "key", "the error names the key")
    expect<FieldcaseException.NotSignedIn>("no user") {
        store.createCase(NewCase(team = "north", client = ClientInput(name = "Lan")))
    }
    expect<FieldcaseException.NotFound>("unknown case") { store.getCase("nope") }
    expect<FieldcaseException.Network>("no server") {
        store.login("http://127.0.0.1:9", "anna", "whatever password", "p")
    }
    File(tmp, "bad.sqlite").writeText("not a store ".repeat(400))
    expect<FieldcaseException.Corrupt>("not a store") {
        CaseStore.open(File(tmp, "bad.sqlite").path, ByteArray(32) { 3 })
    }
    store.close()
    // Closing frees the store: its file can be opened again, many times over.
    repeat(30) { i ->
        CaseStore.open(File(tmp, "s$i.sqlite").path, ByteArray(32) { (i + 1).toByte() }).use { it.deviceId() }
    }
}

fun homeVisit(server: LocalServer, tmp: File) {
    fun phone(user: String, n: Int): Pair<CaseStore, Session> {
        val s = CaseStore.open(File(tmp, "$user$n.sqlite").path, ByteArray(32) { n.toByte() })
        return s to s.login(server.url, user, PASSWORD, "$user's phone")
    }
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
