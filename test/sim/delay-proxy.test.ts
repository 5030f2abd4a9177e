import { afterEach, describe, expect, it } from 'vitest'
import https from 'node:https'
import { start, type Sim } from '../../src/sim/index.js'

let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

function get(url: string, ca: string, agent: https.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(`${url}/version`, { ca, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    }).on('error', reject)
  })
}

describe('delay proxy in front of the simulator', () => {
  it('makes a new TLS connection cost three round trips and a reused one cost one, and counts connections', async () => {
    const RTT = 60
    sim = await start('healthy', { rttMs: RTT })
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const t0 = performance.now()
      expect(await get(sim.url, sim.caPem, agent)).toBeGreaterThan(0)
      const first = performance.now() - t0
      const t1 = performance.now()
      expect(await get(sim.url, sim.caPem, agent)).toBeGreaterThan(0)
      const second = performance.now() - t1
      // TCP handshake + TLS 1.3 handshake + the request: at least 3 RTT; a reused connection: at least 1.
      expect(first).toBeGreaterThanOrEqual(3 * RTT - 5)
      expect(second).toBeGreaterThanOrEqual(RTT - 5)
      expect(second).toBeLessThan(first)
      expect(sim.network()?.connections).toBe(1)
      expect(sim.network()!.bytesDown).toBeGreaterThan(0)
    } finally {
      agent.destroy()
    }
  })

  it('is absent unless asked for', async () => {
    sim = await start('healthy')
    expect(sim.network()).toBeUndefined()
  })
})
