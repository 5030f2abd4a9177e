import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { runCliAsync } from '../helpers/async-cli.js'

/**
 * An API server that accepts connections and never writes a byte (issue 17). Before the fix doctor
 * printed its report and then never exited: the sockets of the requests it gave up on kept the event
 * loop alive. Every command must now end with exit 3 within a bound of start-up plus a few
 * --request-timeouts.
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

  // The bound: start-up (~1.5 s here, more on a loaded machine) plus a few sequential 1 s timeouts.
  const BOUND_MS = 20_000
  for (const args of [['doctor'], ['rbac', '--check'], ['cleanup']]) {
    it(`${args.join(' ')} exits 3 within ${BOUND_MS / 1000} s with --request-timeout 1s`, async () => {
      const t0 = performance.now()
      const r = await runCliAsync([...args, '-c', config, '--kubeconfig', kubeconfig, '--request-timeout', '1s'], { timeoutMs: 40_000 })
      const ms = performance.now() - t0
      expect(r.code, r.stderr).toBe(3)
      expect(ms).toBeLessThan(BOUND_MS)
      expect(r.stderr + r.stdout).toMatch(/did not answer .* in time/)
    }, 45_000)
  }
})
