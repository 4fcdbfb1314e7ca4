// The worker's phone, played on the JVM through the generated Kotlin bindings exactly as
// an Android app calls them (from a background thread; here, main). Two phones, one case:
//
//   1. Anna logs in and downloads her caseload; at a first home visit she opens the case
//      (intake) and syncs back at the office; the supervisor assigns Bảo as well.
//   2. Both phones download the case, then go offline. Anna records a home visit, a risk
//      assessment and a plan goal; Bảo records his own visit; both correct the address.
//   3. Back at the office both sync. The demo prints what merged and the conflict.
//
// Run: bash mobile-demo/run.sh [SERVER_URL]
//   With no URL (nor FIELDCASE_SERVER_URL), it starts a fieldcase-server on 127.0.0.1. With
//   one, that server must have a team `north` with workers anna and bao and a supervisor
//   malee, whose password is FIELDCASE_DEMO_PASSWORD.
//
// Calls that wait (openStore, login, sync) are suspend functions: an app runs them in a
// coroutine scope (viewModelScope); here runBlocking. A sync observer prints the progress.

package fieldcase.demo

import java.io.File
import kotlinx.coroutines.runBlocking
import uniffi.fieldcase_bindings.*
import uniffi.fieldcase_core.*

/** Prints a phone's sync state as it changes (an app would update a progress bar). */
class ProgressPrinter(private val name: String) : SyncObserver {
    override fun onSyncState(state: SyncState) {
        when (state) {
            is SyncState.Running -> if (state.progress.total > 0UL) {
                val p = state.progress
                println("  $name syncing: ${p.done}/${p.total} cases (sent ${p.sent}, received ${p.received})")
            }
            is SyncState.Offline -> println("  $name is offline: ${state.reason}")
            is SyncState.Failed -> println("  $name sync failed (${state.kind}): ${state.reason}")
            is SyncState.Idle -> {}
        }
    }
}

fun main(args: Array<String>) {
    val root = File(args[0])
    val given = args.getOrNull(1) ?: System.getenv("FIELDCASE_SERVER_URL")
    if (given != null) {
        val password = System.getenv("FIELDCASE_DEMO_PASSWORD") ?: PASSWORD
        println("Using the server at $given")
        demo(given, password) { path, token, json -> post(given, path, token, json) }
    } else {
        LocalServer(root).use { server ->
            println("Started a local server at ${server.url}")
            demo(server.url, PASSWORD, server::post)
        }
    }
}

/** The server the phones talk to, and how the supervisor's console assigns a case. */
class Remote(val url: String, private val postJson: (String, String, String) -> String) {
    fun post(path: String, token: String, json: String) = postJson(path, token, json)
}

fun demo(url: String, password: String, postJson: (String, String, String) -> String) = runBlocking {
    val tmp = kotlin.io.path.createTempDirectory("fieldcase-phones").toFile()
    run {
        val server = Remote(url, postJson)
        @Suppress("LocalVariableName")
        val PASSWORD = password
        // On Android the key comes from the Keystore and the file from Context.getFilesDir().
        val anna = openStore(File(tmp, "anna.sqlite").path, ByteArray(32) { 1 })
        val bao = openStore(File(tmp, "bao.sqlite").path, ByteArray(32) { 2 })
        anna.addSyncObserver(ProgressPrinter("anna"))
        bao.addSyncObserver(ProgressPrinter("bao"))
        val annaSession = anna.login(server.url, "anna", PASSWORD, "Anna's phone")
        val baoSession = bao.login(server.url, "bao", PASSWORD, "Bảo's phone")
        println("Signed in: anna on device ${anna.deviceId()}, bao on device ${bao.deviceId()}")
        println("Caseload downloaded: ${anna.sync(server.url, annaSession.token).newCases} cases")

        // First home visit: the intake, on the phone.
        val case = anna.createCase(
            NewCase(
                team = "north",
                caseKind = CaseKind.ChildProtection,
                client = ClientInput(name = "Nguyễn Thị Lan", address = "12 Lê Lợi, Huế"),
                intake = IntakeInput(
                    reason = "Trẻ nghỉ học nhiều ngày; gia đình thiếu thu nhập.",
                    urgency = "urgent",
                    preliminaryFinding = Finding.InsufficientInformation,
                ),
            )
        )
        anna.sync(server.url, annaSession.token)
        val supervisor = openStore(File(tmp, "malee.sqlite").path, ByteArray(32) { 3 })
        val maleeSession = supervisor.login(server.url, "malee", PASSWORD, "office")
        server.post("/v1/cases/$case/assignment", maleeSession.token, """{"workers":["anna","bao"]}""")
        println("Case $case opened by anna, assigned to anna and bao by the supervisor")
        println("Bảo downloads: ${bao.sync(server.url, baoSession.token).newCases} new case")
        anna.sync(server.url, annaSession.token)

        // Offline: both record what they saw.
        anna.addVisit(case, VisitInput(date = "2026-11-22", kind = "home", note = "Gặp mẹ; bé Lan đi học lại 2 ngày."))
        anna.addAssessment(
            case,
            AssessmentInput(
                date = "2026-11-22",
                risk = RiskInput(
                    finding = Finding.InsufficientInformation,
                    nextStepDue = "2026-11-29",
                    emergency = false,
                    conclusion = "Chưa xác minh được với nhà trường",
                ),
            )
        )
        anna.changeStage(case, Stage.Assessment)
        anna.changeStage(case, Stage.Planning)
        val goal = anna.addProblem(
            case,
            ProblemInput(priority = 1, domain = "education", description = "Nghỉ học", goal = "Đi học 4 ngày mỗi tuần"),
        )
        anna.addActivity(case, goal, ActivityInput(description = "Gặp cô giáo chủ nhiệm"))
        anna.setField(case, "client/address", "\"12 Lê Lợi, Huế (nhà trọ)\"")
        bao.addVisit(case, VisitInput(date = "2026-11-22", kind = "phone", note = "Gọi cô giáo: Lan vắng 3 buổi."))
        bao.setField(case, "client/address", "\"21 Lê Lợi, Huế\"")
        println("Offline: anna recorded a visit, a risk assessment and a plan goal; bao a call")

        // Back at the office.
        for ((name, phone, token) in listOf(
            Triple("anna", anna, annaSession.token),
            Triple("bao", bao, baoSession.token),
            Triple("anna", anna, annaSession.token),
        )) {
            val r = phone.sync(server.url, token)
            println("$name synced: sent ${r.sent}, received ${r.received}, new conflicts ${r.newConflicts}, errors ${r.errors.size}")
        }
        val merged = anna.getCase(case)
        check(merged == bao.getCase(case)) { "the phones disagree" }
        println()
        println("Merged case of ${merged.client.name} (stage ${merged.stage}):")
        for (v in merged.visits) println("  visit ${v.date} ${v.kind}: ${v.note}")
        for (a in merged.assessments) println("  risk: ${a.risk.finding} -> ${a.risk.nextStep} by ${a.risk.nextStepDue} (${a.risk.conclusion})")
        for (i in anna.overdue("2026-12-02")) println("  overdue on 2026-12-02 (offline): ${i.kind} due ${i.`when`}")
        for (p in merged.plan.problems) println("  goal: ${p.goal}; activities: ${p.activities.map { it.description }}")
        for (c in anna.conflicts(case)) {
            println("  conflict at ${c.path} (for the supervisor):")
            for (v in c.values) println("    ${v.value} by ${v.by.userName} on ${v.by.at}${if (v.winner) " (shown)" else ""}")
        }
        listOf(anna, bao, supervisor).forEach { it.close() }
    }
    tmp.deleteRecursively()
}
