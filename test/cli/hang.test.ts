import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { runCliAsync } from '../helpers/async-cli.js'

/**
 * An API server that accepts connections and never writes a byte (issue 17). Before the fix doctor
 * printed its report and then never exited: the sockets of the requests it gave up on kept the event
 * loop alive. Every command must now end with exit 3 within its own start-up (measured alongside)
 * plus a few --request-timeouts.
 */
describe('an API server that accepts the connection but never answers', () => {
  let server: net.Server
  const sockets = new Set<net.Socket>()
  let dir: string
  let kubeconfig: string
  let config: string

  beforeAll(async () => {
    server = net.createServer((s) => {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-hang-'))
    kubeconfig = path.join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`)
    config = path.join(dir, 'config.toml')
    // GitLab at a closed loopback port: refused at once, so only the cluster can hang.
    writeFileSync(config, '[[runners]]\nname = "r"\nurl = "https://127.0.0.1:1"\ntoken = "glrt-x"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "default"\n')
  })

  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  // Each command against the silent server, and doctor against a closed loopback port (refused at once),
  // which measures start-up and exit under the machine's current load. A command that no longer hangs ends
  // within that plus a few sequential 1 s request timeouts; one that hangs is killed at 40 s. All four run
  // at once: they mostly wait, and the baseline sees the same load.
  const TIMEOUTS_S = 10
  const COMMANDS = [['doctor'], ['rbac', '--check'], ['cleanup']]
  const timed = async (args: string[], kc: string): Promise<{ code: number | null; out: string; ms: number }> => {
    const t0 = performance.now()
    const r = await runCliAsync([...args, '-c', config, '--kubeconfig', kc, '--request-timeout', '1s'], { timeoutMs: 40_000 })
    return { code: r.code, out: r.stderr + r.stdout, ms: performance.now() - t0 }
  }
  let hangs: Array<Awaited<ReturnType<typeof timed>>>
  let refused: Awaited<ReturnType<typeof timed>>
  beforeAll(async () => {
    const refusedKc = path.join(dir, 'refused-kubeconfig')
    writeFileSync(refusedKc, readFileSync(kubeconfig, 'utf8').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1'))
    ;[refused, ...hangs] = await Promise.all([timed(['doctor'], refusedKc), ...COMMANDS.map((args) => timed(args, kubeconfig))])
  }, 60_000)

  for (const [i, args] of COMMANDS.entries()) {
    it(`${args.join(' ')} exits 3 with --request-timeout 1s, within start-up plus ${TIMEOUTS_S} request timeouts`, () => {
      const hang = hangs[i]!
      expect(hang.code, hang.out).toBe(3)
      expect(hang.out).toMatch(/did not answer .* in time/)
      expect(refused.code, refused.out).toBe(3)
      process.stderr.write(`${args.join(' ')}: ${Math.round(hang.ms)} ms against the silent server; start-up and exit ${Math.round(refused.ms)} ms\n`)
      // It waited for the server at least once (a timeout, not a refusal, ended it) and then exited.
      expect(hang.ms).toBeGreaterThan(1000)
      expect(hang.ms).toBeLessThan(refused.ms + TIMEOUTS_S * 1000)
    })
  }
})
