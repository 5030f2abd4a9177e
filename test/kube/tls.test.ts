/**
 * A trusted API server certificate that cannot be used is said as what it is (issue 17): expired (and
 * when), not yet valid (from when), or issued for other names — not "untrusted CA". The simulator's TLS
 * helper issues such certificates.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeCerts, type CertOptions } from '../../src/sim/tls.js'
import { resolveCluster } from '../../src/kube/connect.js'
import { k8s } from '../../src/kube/client.js'
import { GkrError } from '../../src/util/errors.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
})

/** An HTTPS server with the given certificate (signed by its own CA, which the kubeconfig trusts). */
async function serve(opts: CertOptions): Promise<string> {
  const certs = await makeCerts(opts)
  const server = createServer({ key: certs.keyPem, cert: certs.certPem }, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end('{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[]}')
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-tls-'))
  const file = path.join(dir, 'kubeconfig')
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: ${Buffer.from(certs.caPem).toString('base64')}}}]`,
    'users: [{name: u, user: {token: t}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]',
  ].join('\n'))
  return file
}

async function failure(kubeconfig: string, how: 'typed' | 'raw' = 'typed'): Promise<GkrError> {
  const target = (await resolveCluster({ kubeconfig, env: {}, timeoutMs: 5000 }))!
  const api = target.kc.makeApiClient(k8s().CoreV1Api)
  const p = how === 'typed' ? target.call('list namespaces', () => api.listNamespace()) : target.getJson('/api/v1/namespaces')
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(GkrError)
  return err as GkrError
}

const DAY = 864e5

describe('TLS certificate problems', () => {
  it('an expired certificate: says it expired, on which date and how long ago (typed calls and raw GETs)', async () => {
    const expiredAt = new Date(Math.floor((Date.now() - 3 * DAY) / 1000) * 1000)
    const kubeconfig = await serve({ notBefore: new Date(expiredAt.getTime() - 30 * DAY), notAfter: expiredAt })
    for (const how of ['typed', 'raw'] as const) {
      const err = await failure(kubeconfig, how)
      expect(err.code).toBe('kube-cert_has_expired')
      expect(err.exit).toBe(3)
      expect(err.message).toBe(`TLS to the Kubernetes API server failed (CERT_HAS_EXPIRED): its certificate expired on ${expiredAt.toISOString().replace('.000Z', 'Z')} (3 days ago; valid from ${new Date(expiredAt.getTime() - 30 * DAY).toISOString().replace('.000Z', 'Z')})`)
      expect(err.message).not.toContain('not trusted')
      expect(err.suggestions[0]).toContain('kubeadm certs renew apiserver')
    }
  })

  it('a certificate not valid yet: says from when, and that a clock is wrong', async () => {
    const from = new Date(Math.floor((Date.now() + 2 * DAY) / 1000) * 1000)
    const err = await failure(await serve({ notBefore: from, notAfter: new Date(from.getTime() + 30 * DAY) }))
    expect(err.code).toBe('kube-cert_not_yet_valid')
    expect(err.message).toMatch(new RegExp(`^TLS to the Kubernetes API server failed \\(CERT_NOT_YET_VALID\\): its certificate is valid only from ${from.toISOString().replace('.000Z', 'Z')} \\(in 2 days; this machine's clock says \\S+\\)$`))
    expect(err.suggestions[0]).toContain('clock')
  })

  it('a certificate for other names: says which names it holds and which address gkr used', async () => {
    const err = await failure(await serve({ ips: ['10.0.0.1'], dns: ['api.example.com'] }))
    expect(err.code).toBe('kube-err_tls_cert_altname_invalid')
    expect(err.message).toBe('TLS to the Kubernetes API server failed (ERR_TLS_CERT_ALTNAME_INVALID): its certificate is for IP 10.0.0.1, api.example.com, not for 127.0.0.1')
    expect(err.suggestions[0]).toContain('tls-server-name')
  })
})
