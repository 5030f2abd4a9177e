/**
 * HTTP/2 to the Kubernetes API server. kube-apiserver speaks HTTP/2 to every client that offers it in
 * the TLS handshake (ALPN), as kubectl does; client-node 1.x speaks only HTTP/1.1, so a wave of 40
 * parallel reads opened 40 connections, each paying its TCP and TLS handshakes and the CPU of a full
 * handshake. Here every request of one TLS identity shares one connection: one handshake, then each
 * request is a stream on it. A server that does not choose h2 in the handshake (an HTTP/1.1-only proxy
 * in front of the API server) is remembered, and its requests go through the keep-alive agent they came
 * with, as before. No Kubernetes client import here.
 */
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls'
import { Agent as HttpsAgent } from 'node:https'
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2'
import { trackAgent, type AgentObserver, type Destroyable } from './agents.js'

export interface Http2Answer {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export interface Http2Request {
  method: string
  url: URL
  /** Header pairs; a name may repeat (one Impersonate-Group line per group). */
  headers: Array<[string, string]>
  body?: string | Buffer
  signal?: AbortSignal
  /** Cancels the stream (not the connection) when no answer came this long after it was sent. */
  timeoutMs?: number
}

const STREAM_WINDOW = 4 << 20
const CONNECTION_WINDOW = 16 << 20

/** Headers HTTP/2 forbids (they describe an HTTP/1.1 connection) and the one it spells `:authority`. */
const CONNECTION_HEADERS = new Set(['connection', 'host', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'te'])

/** The TLS options of an agent that may carry HTTP/2: an https.Agent (not a proxy's agent) for an https:// server. */
function tlsOptionsOf(agent: unknown): ConnectionOptions | undefined {
  if (!(agent instanceof HttpsAgent)) return undefined
  const o = (agent as unknown as { options?: Record<string, unknown> }).options ?? {}
  const pick: Record<string, unknown> = {}
  for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'ecdhCurve', 'crl', 'secureOptions', 'secureProtocol']) if (o[k] !== undefined && o[k] !== null) pick[k] = o[k]
  return pick as ConnectionOptions
}

/**
 * One origin's HTTP/2 connection, opened on first use. While the handshake is under way, requests wait
 * for it (they would wait for their own handshakes anyway); once the server has said which protocol it
 * speaks, HTTP/1.1 servers get `undefined` back and every later request too, without another probe.
 */
export class Http2Origin implements Destroyable {
  private session?: ClientHttp2Session
  private socket?: TLSSocket
  private opening?: Promise<ClientHttp2Session | undefined>
  private http1 = false
  private destroyed = false

  constructor(
    private readonly origin: URL,
    private readonly tls: ConnectionOptions,
    private readonly observe: AgentObserver = {},
  ) {}

  /** The answer over HTTP/2, or undefined when this server speaks only HTTP/1.1 (the caller sends it as before). */
  async request(r: Http2Request): Promise<Http2Answer | undefined> {
    const session = await this.connection()
    if (!session) return undefined
    return await new Promise<Http2Answer>((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { ':method': r.method, ':path': `${r.url.pathname}${r.url.search}` }
      for (const [k, v] of r.headers) {
        const name = k.toLowerCase()
        if (CONNECTION_HEADERS.has(name)) continue
        const had = headers[name]
        headers[name] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [String(had), v]
      }
      const body = r.body === undefined || r.body === '' ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body)
      if (body) headers['content-length'] = body.length
      let stream
      try {
        stream = session.request(headers, { endStream: !body, ...(r.signal ? { signal: r.signal } : {}) })
      } catch (err) {
        // The session went away between the handshake and this request (a GOAWAY): a dropped connection.
        this.forget(session)
        return reject(dropped(err))
      }
      const t0 = performance.now()
      if (r.timeoutMs) stream.setTimeout(r.timeoutMs, () => stream.close(http2Constants.NGHTTP2_CANCEL))
      let status = 0
      const out: Record<string, string> = {}
      const chunks: Buffer[] = []
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0)
        for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v)
        this.observe.onLatency?.(performance.now() - t0)
      })
      stream.on('data', (c: Buffer) => chunks.push(c))
      // A stream the server ended or reset before its response headers is a dropped request.
      stream.on('end', () => (status ? resolve({ status, headers: out, body: Buffer.concat(chunks) }) : reject(dropped(new Error('the stream ended before a response')))))
      stream.on('error', (err) => reject(r.signal?.aborted ? err : dropped(err)))
      stream.on('close', () => reject(dropped(new Error(`the stream was closed (code ${stream.rstCode ?? 0})`))))
      if (body) stream.end(body)
    })
  }

  private connection(): Promise<ClientHttp2Session | undefined> {
    if (this.http1 || this.destroyed) return Promise.resolve(undefined)
    if (this.session && !this.session.closed && !this.session.destroyed) return Promise.resolve(this.session)
    return (this.opening ??= this.open().finally(() => (this.opening = undefined)))
  }

  private open(): Promise<ClientHttp2Session | undefined> {
    return new Promise((resolve, reject) => {
      const host = this.origin.hostname.replace(/^\[|\]$/g, '')
      // An IP address is no server name (SNI): node warns about one, and kube-apiserver needs none.
      const servername = this.tls.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host)
      this.observe.onConnection?.()
      const socket: TLSSocket = (this.socket = tlsConnect({ ...this.tls, host, port: Number(this.origin.port || 443), ALPNProtocols: ['h2', 'http/1.1'], ...(servername ? { servername } : {}) }))
      const fail = (err: Error): void => reject(err)
      socket.once('error', fail)
      socket.once('secureConnect', () => {
        socket.off('error', fail)
        if (socket.alpnProtocol !== 'h2' || this.destroyed) {
          // An HTTP/1.1 server: from now on its requests take the keep-alive agent.
          this.http1 = true
          socket.destroy()
          return resolve(undefined)
        }
        // Windows as large as Go's HTTP/2 client uses (kubectl: 4 MiB a stream, more for the connection),
        // so a page of a big list is not throttled to 64 KiB per round trip by flow control.
        const session = http2Connect(this.origin, { createConnection: () => socket, settings: { initialWindowSize: STREAM_WINDOW } })
        session.setLocalWindowSize(CONNECTION_WINDOW)
        session.on('error', () => this.forget(session))
        session.on('goaway', () => this.forget(session))
        session.on('close', () => this.forget(session))
        this.session = session
        resolve(session)
      })
    })
  }

  private forget(session: ClientHttp2Session): void {
    if (this.session === session) this.session = undefined
  }

  destroy(): void {
    this.destroyed = true
    this.session?.destroy()
    this.session = undefined
    this.socket?.destroy()
  }
}

/** A stream or session that ended without an answer reads as a dropped connection (ECONNRESET), which the retry policy knows. */
function dropped(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err))
  const code = (e as { code?: unknown }).code
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE') return e
  return Object.assign(new Error(`the connection to the API server was dropped (${e.message})`), { code: 'ECONNRESET', cause: e })
}

/**
 * The HTTP/2 origins of one cluster target, one per TLS identity (the keep-alive agent a request came
 * with names it: the agents are pooled per identity already). Each origin is tracked, so the command's
 * end closes its connection.
 */
export class Http2Pool {
  private readonly byAgent = new WeakMap<object, Http2Origin | null>()
  constructor(private readonly observe: AgentObserver = {}) {}

  /** The origin for a request to `url` made with `agent`; undefined when that request cannot use HTTP/2 (plain http, a proxy). */
  for(url: URL, agent: unknown): Http2Origin | undefined {
    if (url.protocol !== 'https:' || !agent || typeof agent !== 'object') return undefined
    let origin = this.byAgent.get(agent)
    if (origin === undefined) {
      const tls = tlsOptionsOf(agent)
      origin = tls ? trackAgent(new Http2Origin(new URL(url.origin), tls, this.observe)) : null
      this.byAgent.set(agent, origin)
    }
    return origin ?? undefined
  }
}

