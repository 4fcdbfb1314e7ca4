// S1 with the reference client instead of ours (docs/benchmarks.md, samod): CONNS
// automerge-repo 2.x Repos, each over its own WebSocket, create DOCS small documents
// between them, one at a time per Repo, each waited for until the server has its heads
// (the "remote-heads" of the server's storage id). Prints how many were stored every 10 s
// and stops at DEADLINE seconds whatever is left.
// Usage: node push-client.mjs ws://127.0.0.1:PORT DOCS CONNS DEADLINE
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [url, docsArg, connsArg, deadlineArg] = process.argv.slice(2)
const docs = Number(docsArg ?? 200)
const conns = Number(connsArg ?? 32)
const until = Date.now() + 1000 * Number(deadlineArg ?? 120)
const start = Date.now()
let stored = 0
let before = 0
const ticker = setInterval(() => {
  const s = (Date.now() - start) / 1000
  console.error(`${stored} of ${docs} after ${s.toFixed(0)} s (${((stored - before) / 10).toFixed(1)}/s over the last 10 s)`)
  before = stored
}, 10000)

const sameHeads = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join()

// The server's storage id, once its peer message has come.
async function serverStorage(repo) {
  for (;;) {
    const ids = Object.values(repo.peerMetadataByPeerId).map(m => m?.storageId).filter(Boolean)
    if (ids.length > 0) return ids[0]
    await new Promise(r => setTimeout(r, 20))
  }
}

async function lane(i, n) {
  const repo = new Repo({ network: [new WebSocketClientAdapter(url)] })
  const storage = await serverStorage(repo)
  let done = 0
  for (let k = 0; k < n && Date.now() < until; k++) {
    const handle = repo.create({
      client: { name: `client ${i}-${k}` },
      intake: { date: "2026-11-20", reason: "Gia đình cần hỗ trợ" },
    })
    const heads = handle.heads()
    const there = await new Promise(resolve => {
      const timer = setTimeout(() => resolve(false), Math.max(0, until - Date.now()))
      const check = () => {
        const info = handle.getSyncInfo(storage)
        if (info && sameHeads(info.lastHeads, heads)) {
          handle.off("remote-heads", check)
          clearTimeout(timer)
          resolve(true)
        }
      }
      handle.on("remote-heads", check)
      check()
    })
    if (!there) break
    done++
    stored++
  }
  await repo.shutdown()
  return done
}

const per = Array.from({ length: conns }, (_, i) => Math.floor(docs / conns) + (i < docs % conns ? 1 : 0))
const done = (await Promise.all(per.map((n, i) => lane(i, n)))).reduce((a, b) => a + b, 0)
clearInterval(ticker)
const s = (Date.now() - start) / 1000
console.log(`${done} of ${docs} stored in ${s.toFixed(1)} s (${(done / s).toFixed(1)}/s), ${conns} connections`)
process.exit(0)
