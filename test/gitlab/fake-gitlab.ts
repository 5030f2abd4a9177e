/** A tiny GitLab stand-in on 127.0.0.1 (HTTPS with a throwaway certificate, or plain HTTP) for client and check tests. */
import { webcrypto } from 'node:crypto'
import { createServer as createHttps } from 'node:https'
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as x509 from '@peculiar/x509'

export interface Cert {
  cert: string
  key: string
}

export async function throwawayCert(): Promise<Cert> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=gitlab.test',
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }]),
    ],
  })
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`
  return { cert: cert.toString('pem'), key }
}

export interface FakeGitlab {
  url: string
  /** Every request seen: method, path, PRIVATE-TOKEN header, parsed JSON body. */
  seen: { method: string; path: string; privateToken?: string; body?: Record<string, unknown> }[]
  close(): Promise<void>
}

export interface FakeOptions {
  tls?: Cert
  /** Valid runner token for /runners/verify. */
  runnerToken?: string
  /** Valid access token for the trace endpoint. */
  accessToken?: string
  trace?: string
  /** Serve the API under this relative-URL prefix (e.g. `/gitlab`), as a self-managed install may. */
  prefix?: string
  /** Only this project (id or URL-encoded path) has job 42. */
  project?: string
  /** Answer the trace request with a 301 to this location. */
  redirectTo?: string
  /** Never answer POST /api/v4/jobs/request. */
  hangJobRequest?: boolean
}

export async function startFakeGitlab(opts: FakeOptions): Promise<FakeGitlab> {
  const seen: FakeGitlab['seen'] = []
  const pending: ServerResponse[] = []
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let raw = ''
    req.on('data', (c: Buffer) => (raw += c.toString()))
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined
      const path = req.url ?? '/'
      seen.push({ method: req.method ?? '', path, privateToken: req.headers['private-token'] as string | undefined, body })
      const json = (status: number, obj: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(obj))
      }
      if (req.method === 'GET' && path === '/api/v4/version') return json(401, { message: '401 Unauthorized' })
      if (req.method === 'POST' && path === '/api/v4/runners/verify') return body?.token === opts.runnerToken ? json(200, { id: 1 }) : json(403, { message: '403 Forbidden' })
      if (req.method === 'POST' && path === '/api/v4/jobs/request') {
        if (opts.hangJobRequest) return void pending.push(res)
        return json(403, { message: '403 Forbidden' })
      }
      const trace = /^(.*?)\/api\/v4\/projects\/([^/]+)\/jobs\/(\d+)\/trace$/.exec(path)
      if (req.method === 'GET' && trace && trace[1] === (opts.prefix ?? '')) {
        if (opts.redirectTo) {
          res.writeHead(301, { location: opts.redirectTo })
          return void res.end()
        }
        if (req.headers['private-token'] !== opts.accessToken) return json(401, { message: '401 Unauthorized' })
        if (trace[3] !== '42' || (opts.project !== undefined && trace[2] !== opts.project)) return json(404, { message: '404 Project Not Found' })
        res.writeHead(200, { 'content-type': 'text/plain' })
        const text = opts.trace ?? ''
        for (let i = 0; i < text.length; i += 1000) res.write(text.slice(i, i + 1000))
        return void res.end()
      }
      json(404, { message: '404 Not found' })
    })
  }
  const server: Server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const r of pending) r.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
