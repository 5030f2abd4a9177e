/** Issue 16: the latency knob applies to exec/attach upgrades too, not only to REST requests. */
import https from 'node:https'
import { afterEach, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'

let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

/** Sends a WebSocket upgrade for an exec and resolves with the HTTP status of the answer. */
function upgrade(s: Sim): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${s.url}/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true`, { ca: s.caPem, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io' } })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve(res.statusCode ?? 101)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('latency on exec/attach', () => {
  it('an upgrade waits the configured latency before it is answered', async () => {
    const LATENCY = 250
    sim = await start('healthy', { latencyMs: LATENCY })
    const t0 = performance.now()
    const code = await upgrade(sim)
    expect(code).toBeGreaterThan(0)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(LATENCY - 5)
  })
})
