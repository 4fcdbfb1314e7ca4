// Cost of one FFI call from Kotlin on the JVM: getCase of a case with 20 visits, through
// the generated bindings and the release library. Run with bash bindings/bench/run.sh.

import kotlinx.coroutines.runBlocking
import uniffi.fieldcase_bindings.openStore

fun median(xs: List<Double>) = xs.sorted()[xs.size / 2]

fun main(args: Array<String>) {
    val store = runBlocking { openStore(args[0], ByteArray(32) { 1 }) }
    val case = args[1]
    check(store.getCase(case).visits.size == 20)
    repeat(2000) { store.getCase(case) } // JIT warm-up
    val rounds = (1..15).map {
        val n = 1000
        val t = System.nanoTime()
        repeat(n) { store.getCase(case) }
        (System.nanoTime() - t) / 1e3 / n
    }
    val cheap = (1..15).map {
        val n = 20000
        val t = System.nanoTime()
        repeat(n) { store.deviceId() }
        (System.nanoTime() - t) / 1e3 / n
    }
    println("kotlin: get_case (20 visits) median %.1f us; device_id (no work, FFI only) median %.2f us"
        .format(median(rounds), median(cheap)))
    store.close()
}
