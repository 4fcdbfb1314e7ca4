// The peer of bench/run.sh: a plain automerge-repo 2.x sync server, as the Automerge
// project's own sync server builds one (Repo + WebSocket server adapter + NodeFS storage),
// bound to 127.0.0.1. Usage: node server.mjs PORT STORAGE_DIR
import { Repo } from "@automerge/automerge-repo"
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"

const [port, dir] = process.argv.slice(2)
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(port), maxPayload: 64 << 20 })
const repo = new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: "storage-server-bench",
  // Serve what is asked for; do not announce documents to every peer.
  sharePolicy: async () => false,
})
wss.on("listening", () => console.log(`listening on 127.0.0.1:${port}`))
// Repo.flush() throws on a handle that is not ready (a document asked for and never
// found), so only the ready ones are written before exit.
const stop = async () => {
  const ready = Object.values(repo.handles).filter(h => h.isReady()).map(h => h.documentId)
  await repo.flush(ready)
  await repo.shutdown()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
