// The official JavaScript automerge-repo client (Repo + its WebSocket network adapter, as an
// app would use them) against a running fieldcase-server. Run by
// tests/tests/it/interop.rs, which prepares the cases, starts the server on 127.0.0.1 and
// checks the outcome on the server and on a phone afterwards.
//
// Environment: FIELDCASE_URL (http://127.0.0.1:PORT), FIELDCASE_USER, FIELDCASE_PASSWORD,
// CASE_ID (a case the user may see; its intake/reason is a text), FORBIDDEN_ID (another
// team's case), UNKNOWN_ID (a case that does not exist), EDIT (text to insert).
//
// Prints one JSON object on its last line of output; exits non-zero if a step fails.

import * as A from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { decode } from "cbor-x"
import { randomBytes } from "node:crypto"
import WebSocket from "ws"

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`missing environment variable ${name}`)
  return v
}
const base = env("FIELDCASE_URL")
const wsBase = base.replace(/^http/, "ws")
const caseId = env("CASE_ID")
const edit = env("EDIT")
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function within(ms, what, promise) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function rest(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: {
      // As an app of this fieldcase version: the case schema revision it writes.
      "fieldcase-schema": env("FIELDCASE_SCHEMA"),
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, json: await res.json().catch(() => null) }
}

// Logs in as a new device whose Automerge actor is `actor` (hex), as the phones do.
async function login(actor) {
  const r = await rest("POST", "/v1/login", null, {
    username: env("FIELDCASE_USER"),
    password: env("FIELDCASE_PASSWORD"),
    device_name: "automerge-repo (JavaScript)",
    actor_id: actor,
  })
  if (r.status !== 200) throw new Error(`login answered ${r.status}`)
  // The adapter cannot report a refused upgrade (Node throws), so check the token first,
  // as docs/sync-protocol.md advises.
  const me = await rest("GET", "/v1/me", r.json.token)
  if (me.status !== 200) throw new Error(`/v1/me answered ${me.status}`)
  return r.json.token
}

// The stock adapter, noting the `error` frames it receives (it only logs them).
class ObservedAdapter extends WebSocketClientAdapter {
  errors = []
  receiveMessage(bytes) {
    try {
      const m = decode(new Uint8Array(bytes))
      if (m && m.type === "error") this.errors.push(m.message)
    } catch {
      // the adapter itself reports undecodable frames
    }
    super.receiveMessage(bytes)
  }
}

function connect(token) {
  const adapter = new ObservedAdapter(
    `${wsBase}/v1/sync?token=${token}&schema=${env("FIELDCASE_SCHEMA")}`,
  )
  const repo = new Repo({ network: [adapter] })
  return { repo, adapter }
}

// Shutting the repo down disconnects its adapters.
async function close({ repo }) {
  await repo.shutdown()
}

// The error of a find that fails, with the document id taken out of it.
async function findError(repo, id) {
  try {
    await within(15000, `find ${id}`, repo.find(`automerge:${id}`))
    return null
  } catch (e) {
    return String(e.message).replaceAll(id, "<id>")
  }
}

async function serverText(token) {
  const r = await rest("GET", `/v1/cases/${caseId}`, token)
  return JSON.stringify(r.json)
}

const out = {}

// A fresh actor of this client, registered at login.
const actor = randomBytes(16).toString("hex")
const token = await login(actor)

// 1. An upgrade with a wrong token is refused before any frame.
out.wrong_token_status = await new Promise((resolve) => {
  const ws = new WebSocket(
    `${wsBase}/v1/sync?token=${"0".repeat(64)}&schema=${env("FIELDCASE_SCHEMA")}`,
  )
  ws.on("unexpected-response", (_req, res) => {
    resolve(res.statusCode)
    ws.terminate()
  })
  ws.on("open", () => {
    resolve(101)
    ws.close()
  })
  ws.on("error", () => {})
})

// 2. Fetch a case the user may see, and read it.
const conn = connect(token)
const handle = await within(15000, "find the case", conn.repo.find(`automerge:${caseId}`))
const doc = handle.doc()
out.read = {
  id: doc.id,
  name: doc.client?.name ?? null,
  reason: doc.intake?.reason ?? null,
  heads: A.getHeads(doc),
}

// 3. Edit it under the registered actor; wait until the server holds the edit.
handle.update((d) => A.clone(d, { actor }))
handle.change((d) => {
  A.splice(d, ["intake", "reason"], 0, 0, edit)
})
out.edited_heads = A.getHeads(handle.doc())
await within(
  15000,
  "the server holds the edit",
  (async () => {
    while (!(await serverText(token)).includes(edit)) await sleep(100)
  })(),
)
out.edit_reached_server = true

// 4. A case of another team and a case that does not exist fail alike.
out.forbidden_error = await findError(conn.repo, env("FORBIDDEN_ID"))
out.unknown_error = await findError(conn.repo, env("UNKNOWN_ID"))
out.frames_refusing = conn.adapter.errors.length
await close(conn)

// 5. Changes under an actor the server never registered (same user, same token) are
// refused with an error frame, and the server keeps nothing of them.
const forger = connect(token)
const forged = await within(15000, "find the case again", forger.repo.find(`automerge:${caseId}`))
forged.update((d) => A.clone(d, { actor: randomBytes(16).toString("hex") }))
forged.change((d) => {
  A.splice(d, ["intake", "reason"], 0, 0, "FORGED ")
})
await within(
  15000,
  "an error frame for the forged change",
  (async () => {
    while (forger.adapter.errors.length === 0) await sleep(50)
  })(),
)
out.forged_errors = forger.adapter.errors
out.forged_on_server = (await serverText(token)).includes("FORGED")
await close(forger)

console.log(JSON.stringify(out))
process.exit(0)
