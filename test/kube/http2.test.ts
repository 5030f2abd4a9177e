/**
 * gkr's HTTP/2 origin (src/kube/http2.ts) against Node's own servers: HTTP/2 multiplexes every request
 * on one connection, an HTTP/1.1-only server is recognised once and handed back to the keep-alive
 * agent, a stream the server resets reads as a dropped connection (which the retry policy knows), and
 * a stream without an answer is cancelled at its time limit without closing the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2'
import { createServer as createHttpsServer, Agent as HttpsAgent, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { makeCerts, type Certs } from '../../src/sim/tls.js'
import { Http2Origin, Http2Pool } from '../../src/kube/http2.js'

let certs: Certs
let h2: Http2SecureServer
let h1: HttpsServer
let h2Url: URL
let h1Url: URL
let h2Connections = 0
let h1Connections = 0

beforeAll(async () => {
  certs = await makeCerts()
  h2 = createSecureServer({ key: certs.keyPem, cert: certs.certPem })
  h2.on('secureConnection', () => h2Connections++)
  h2.on('stream', (stream: ServerHttp2Stream, headers) => {
    const path = String(headers[':path'])
    // A stream closed with an error code errors on the server's side too.
    stream.on('error', () => undefined)
    if (path === '/reset') return stream.close(2)
    if (path === '/hang') return
    const groups = headers['impersonate-group']
    stream.respond({ ':status': path === '/missing' ? 404 : 200, 'content-type': 'application/json' })
    stream.end(JSON.stringify({ path, method: headers[':method'], groups: groups ?? null, auth: headers.authorization ?? null }))
  })
  h1 = createHttpsServer({ key: certs.keyPem, cert: certs.certPem }, (_req, res) => res.end('{}'))
  h1.on('secureConnection', () => h1Connections++)
  await Promise.all([new Promise<void>((r) => h2.listen(0, '127.0.0.1', r)), new Promise<void>((r) => h1.listen(0, '127.0.0.1', r))])
  h2Url = new URL(`https://127.0.0.1:${(h2.address() as AddressInfo).port}`)
  h1Url = new URL(`https://127.0.0.1:${(h1.address() as AddressInfo).port}`)
})

afterAll(async () => {
  await Promise.all([new Promise((r) => h2.close(r)), new Promise((r) => h1.close(r))])
})

describe('Http2Origin', () => {
  it('sends every request of one origin as a stream on one connection, repeated headers as separate lines', async () => {
    const opened: number[] = []
    const origin = new Http2Origin(h2Url, { ca: certs.caPem }, { onConnection: () => opened.push(1) })
    const before = h2Connections
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => origin.request({ method: 'GET', url: new URL(`/r/${i}`, h2Url), headers: [['Authorization', 'Bearer t'], ['Impersonate-Group', 'a'], ['Impersonate-Group', 'b'], ['Connection', 'keep-alive']] })),
      )
      expect(answers.map((a) => a?.status)).toEqual(Array(20).fill(200))
      const first = JSON.parse(answers[0]!.body.toString('utf8')) as { path: string; groups: unknown; auth: string }
      expect(first).toMatchObject({ path: '/r/0', auth: 'Bearer t' })
      // HTTP/2 joins a repeated request header with ", " on the server side (RFC 9113 8.2.3 allows either).
      expect(String(first.groups)).toBe('a, b')
      expect(opened).toHaveLength(1)
      expect(h2Connections - before).toBe(1)
      const post = await origin.request({ method: 'POST', url: new URL('/p', h2Url), headers: [['Content-Type', 'application/json']], body: '{"x":1}' })
      expect(JSON.parse(post!.body.toString('utf8'))).toMatchObject({ method: 'POST' })
      expect((await origin.request({ method: 'GET', url: new URL('/missing', h2Url), headers: [] }))?.status).toBe(404)
      expect(h2Connections - before).toBe(1)
    } finally {
      origin.destroy()
    }
  })

  it('hands an HTTP/1.1-only server back to the caller, and does not ask it again', async () => {
    const opened: number[] = []
    const origin = new Http2Origin(h1Url, { ca: certs.caPem }, { onConnection: () => opened.push(1) })
    try {
      expect(await origin.request({ method: 'GET', url: new URL('/a', h1Url), headers: [] })).toBeUndefined()
      expect(await origin.request({ method: 'GET', url: new URL('/b', h1Url), headers: [] })).toBeUndefined()
      expect(opened).toHaveLength(1)
    } finally {
      origin.destroy()
    }
  })

  it('a stream the server resets is a dropped connection (ECONNRESET), and the connection serves the next request', async () => {
    const origin = new Http2Origin(h2Url, { ca: certs.caPem })
    try {
      await expect(origin.request({ method: 'GET', url: new URL('/reset', h2Url), headers: [] })).rejects.toMatchObject({ code: 'ECONNRESET' })
      expect((await origin.request({ method: 'GET', url: new URL('/ok', h2Url), headers: [] }))?.status).toBe(200)
    } finally {
      origin.destroy()
    }
  })

  it('cancels a stream that gets no answer within its time limit, and keeps the connection', async () => {
    const origin = new Http2Origin(h2Url, { ca: certs.caPem })
    const before = h2Connections
    try {
      await expect(origin.request({ method: 'GET', url: new URL('/hang', h2Url), headers: [], timeoutMs: 50 })).rejects.toMatchObject({ code: 'ECONNRESET' })
      expect((await origin.request({ method: 'GET', url: new URL('/ok', h2Url), headers: [] }))?.status).toBe(200)
      expect(h2Connections - before).toBe(1)
    } finally {
      origin.destroy()
    }
  })

  it('a TLS failure is the handshake\'s own error (not a fallback), so certificate problems stay diagnosable', async () => {
    const origin = new Http2Origin(h2Url, {})
    try {
      await expect(origin.request({ method: 'GET', url: new URL('/x', h2Url), headers: [] })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
    } finally {
      origin.destroy()
    }
  })
})

describe('Http2Pool', () => {
  it('one origin per keep-alive agent (TLS identity); none for plain http or a non-https agent', () => {
    const pool = new Http2Pool()
    const a = new HttpsAgent({ ca: certs.caPem })
    const b = new HttpsAgent({ ca: certs.caPem, cert: certs.certPem, key: certs.keyPem })
    try {
      const oa = pool.for(new URL('/x', h2Url), a)
      expect(oa).toBeInstanceOf(Http2Origin)
      expect(pool.for(new URL('/y', h2Url), a)).toBe(oa)
      expect(pool.for(new URL('/x', h2Url), b)).not.toBe(oa)
      expect(pool.for(new URL('http://127.0.0.1:1/x'), a)).toBeUndefined()
      expect(pool.for(new URL('/x', h2Url), {})).toBeUndefined()
      expect(pool.for(new URL('/x', h2Url), undefined)).toBeUndefined()
    } finally {
      a.destroy()
      b.destroy()
    }
  })
})
