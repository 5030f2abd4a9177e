import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import Doctor from '../../src/commands/doctor.js'
import Cleanup from '../../src/commands/cleanup.js'
import SimStart from '../../src/commands/sim/start.js'
import { runCommand } from '../helpers/run-command.js'

/** Issue 17: a user's mistake is exit 2 with a message that says what to fix, never "internal error … report it" (70). */
const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-mistakes-'))
const config = path.join(dir, 'config.toml')
writeFileSync(config, '[[runners]]\nname = "r"\nurl = "https://127.0.0.1:1"\ntoken = "glrt-x"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "default"\n')
const kubeconfig = (server: string, extra = ''): string => {
  const f = path.join(dir, `kc-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(f, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"${extra}}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`)
  return f
}

function expectUsage(r: { code: number; stderr: string }, text: RegExp): void {
  expect(r.code, r.stderr).toBe(2)
  expect(r.stderr).toMatch(text)
  expect(r.stderr).not.toMatch(/internal error|report it|\n\s+at /)
}

describe('command-line mistakes', () => {
  it('a flag without its value', async () => {
    expectUsage(await runCommand(Doctor, ['--offline', '-c']), /Flag --config expects a value/)
  })
  it('an out-of-range port and a negative latency name the flag', async () => {
    expectUsage(await runCommand(SimStart, ['--port', '99999']), /--port: Expected an integer less than or equal to 65535/)
    expectUsage(await runCommand(SimStart, ['--latency', '-5']), /--latency: Expected an integer greater than or equal to 0/)
  })
  it('--request-timeout must be a duration between 1ms and 1h', async () => {
    for (const v of ['0', '-5', 'abc', '99999h', '']) expectUsage(await runCommand(Doctor, ['--offline', '-c', config, `--request-timeout=${v}`]), /--request-timeout: /)
  })
  it('--context without any kubeconfig is an error, not a silent offline run', async () => {
    const r = await runCommand(Doctor, ['-c', config, '--context', 'prod'], { env: { KUBECONFIG: undefined, HOME: path.join(dir, 'no-home') } })
    expectUsage(r, /--context: context "prod" needs a kubeconfig, and there is none/)
  })
})

describe('an unwritable report path', () => {
  for (const flag of ['--junit', '--sarif']) {
    it(`${flag}: the report is printed, then exit 2 naming the path`, async () => {
      const r = await runCommand(Doctor, ['--offline', '-c', config, flag, path.join(dir, 'missing-dir', 'report.xml')])
      expect(r.stdout).toContain('Summary:')
      expectUsage(r, new RegExp(`${flag}: cannot write the ${flag.slice(2)} report to .*missing-dir/report.xml \\(ENOENT\\)`))
    })
  }
})

describe('a server that is not Kubernetes', () => {
  let server: http.Server
  let url: string
  beforeAll(async () => {
    server = http.createServer((_q, r) => {
      r.writeHead(404, { 'Content-Type': 'text/html' })
      r.end('<html><body><h1>404 Not Found</h1></body></html>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('an HTML 404 page: doctor and cleanup say it is not a Kubernetes API server', async () => {
    const kc = kubeconfig(url, ', insecure-skip-tls-verify: true')
    expectUsage(await runCommand(Doctor, ['-c', config, '--kubeconfig', kc, '--request-timeout', '2s']), /with an HTML page: it is not a Kubernetes API server/)
    expectUsage(await runCommand(Cleanup, ['-c', config, '--kubeconfig', kc, '--request-timeout', '2s']), /with an HTML page: it is not a Kubernetes API server/)
  })
  it('a plain http:// server without insecure-skip-tls-verify is refused with the reason', async () => {
    expectUsage(await runCommand(Doctor, ['-c', config, '--kubeconfig', kubeconfig(url), '--request-timeout', '2s']), /is plain http:\/\/, which the Kubernetes client only accepts with insecure-skip-tls-verify: true/)
  })
})
