// Scenario server: a bare uWebSockets.js hello world, the ceiling for any gateway built on
// the same front end. Run by bench/run.ts in its own process:
//   node dist/bench/e2e/servers/hello-uws.js      → "hello-uws listening on http://127.0.0.1:PORT"

import uWS from 'uWebSockets.js'

const HOST = process.env.HOST ?? '127.0.0.1'
const PORT = Number(process.env.PORT ?? 0)
const BODY = 'Hello World!'

let listenSocket: uWS.us_listen_socket | null = null

uWS.App()
  .any('/*', (res) => {
    res.end(BODY)
  })
  .listen(HOST, PORT, (socket) => {
    if (socket === false) {
      console.error(`hello-uws: cannot listen on ${HOST}:${PORT}`)
      process.exit(1)
    }
    listenSocket = socket
    console.log(`hello-uws listening on http://${HOST}:${uWS.us_socket_local_port(socket as unknown as uWS.us_socket)}`)
  })

function shutdown (): void {
  if (listenSocket !== null) uWS.us_listen_socket_close(listenSocket)
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
