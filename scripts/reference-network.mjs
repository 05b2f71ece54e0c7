// Runs Bluesky's reference network (@atproto/dev-env: PLC, PDS, AppView) on 127.0.0.1
// for chatbot's conformance suite. Started by scripts/reference-network, which copies
// this file next to the installed packages and sets DB_POSTGRES_URL, REDIS_HOST and
// TMPDIR; see docs/conformance.md.
import fs from 'node:fs'
import net from 'node:net'

const HOST = '127.0.0.1'

// dev-env's servers call listen(port) and so listen on every interface: keep them
// (and the helpers it starts on random ports) on the loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const first = args[0]
  if (args.length === 0 || typeof first === 'function') {
    args.unshift(0, HOST)
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, HOST)
  } else if (first && typeof first === 'object' && first.path === undefined && !first.host) {
    args[0] = { ...first, host: HOST }
  }
  return listen.apply(this, args)
}

const port = (name, fallback) => Number(process.env[name] || fallback)
const ports = {
  plc: port('PLC_PORT', 2582),
  pds: port('PDS_PORT', 2583),
  bsky: port('BSKY_PORT', 2584),
}

const { TestNetwork } = await import('@atproto/dev-env')
const network = await TestNetwork.create({
  dbPostgresSchema: 'chatbot',
  plc: { port: ports.plc },
  // inviteRequired: false is dev-env's default; said here because the suite relies on it.
  pds: { port: ports.pds, hostname: 'localhost', inviteRequired: false },
  bsky: { port: ports.bsky, dbPostgresSchema: 'appview' },
})

const ready = {
  pds: `http://${HOST}:${network.pds.port}`,
  appview: `http://${HOST}:${network.bsky.port}`,
  plc: `http://${HOST}:${network.plc.port}`,
  pid: process.pid,
}
if (process.env.READY_FILE) fs.writeFileSync(process.env.READY_FILE, JSON.stringify(ready) + '\n')
console.log(JSON.stringify(ready))

let closing = false
const stop = async (signal) => {
  if (closing) return
  closing = true
  console.log(`${signal}: closing the network`)
  const timer = setTimeout(() => process.exit(1), 15_000)
  try {
    await network.close()
  } finally {
    clearTimeout(timer)
    process.exit(0)
  }
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
