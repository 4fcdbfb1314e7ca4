// A real fieldcase-server on 127.0.0.1 for the demo and the Kotlin tests: a fresh SQLite
// file with a north team (workers anna and bao, supervisor malee), started from the
// workspace's debug build. Not Android code: on a phone the server is the agency's.

package fieldcase.demo

import java.io.File
import java.net.HttpURLConnection
import java.net.URI

const val PASSWORD = "a long demo password"

/** Cargo's target directory: `CARGO_TARGET_DIR` when set, else the workspace's `target`. */
fun targetDir(root: File): File = System.getenv("CARGO_TARGET_DIR")?.let { File(it) } ?: File(root, "target")

/** A JSON POST with a token to the server at `url`; the answer's text. */
fun post(url: String, path: String, token: String, json: String): String {
    val c = URI(url + path).toURL().openConnection() as HttpURLConnection
    c.requestMethod = "POST"
    c.doOutput = true
    c.setRequestProperty("authorization", "Bearer $token")
    c.setRequestProperty("content-type", "application/json")
    c.outputStream.use { it.write(json.toByteArray()) }
    check(c.responseCode == 200) { "POST $path answered ${c.responseCode}" }
    return c.inputStream.bufferedReader().readText()
}

class LocalServer(val root: File) : AutoCloseable {
    private val dir = kotlin.io.path.createTempDirectory("fieldcase-demo").toFile()
    private val db = File(dir, "server.sqlite").path
    private val exe = File(targetDir(root), "debug/fieldcase-server").path
    private val process: Process
    val url: String

    init {
        check(File(exe).exists()) { "build the server first: cargo build -p fieldcase-server" }
        admin("team", "add", "north")
        for ((user, role) in listOf("anna" to "worker", "bao" to "worker", "malee" to "supervisor")) {
            admin("user", "add", user, "--role", role, "--team", "north")
        }
        process = command("serve", "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        val reader = process.inputStream.bufferedReader()
        var found: String? = null
        while (found == null) {
            val line = reader.readLine() ?: error("the server did not start")
            if (line.startsWith("Listening on ")) found = line.split(" ")[2]
        }
        url = found
    }

    private fun command(vararg args: String): ProcessBuilder {
        val pb = ProcessBuilder(listOf(exe, "--db", db) + args)
        pb.environment()["FIELDCASE_PASSWORD"] = PASSWORD
        pb.environment()["FIELDCASE_PASSWORD_ITERATIONS"] = "1000"
        pb.environment()["RUST_LOG"] = "warn"
        return pb
    }

    /** An admin command on the server's database (`fieldcase-server --db … ARGS`). */
    fun admin(vararg args: String) {
        val p = command(*args).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        check(p.waitFor() == 0) { "fieldcase-server ${args.joinToString(" ")} failed" }
    }

    /** A JSON POST with a token; the answer's text. */
    fun post(path: String, token: String, json: String): String = post(url, path, token, json)

    override fun close() {
        process.destroy() // SIGTERM: the server stops gracefully
        process.waitFor()
        dir.deleteRecursively()
    }
}
