/**
 * A TCP proxy that makes loopback behave like a link with a real round-trip time. Every byte is
 * delayed by half the RTT in each direction, and the first bytes of a connection by one more RTT
 * (the TCP handshake the client did not have to wait for on loopback). A TLS handshake and each HTTP
 * request then cost what they cost on a real network, so connection reuse and request fan-out show
 * in the wall clock instead of being claimed by the code that does them.
 *
 * The proxy counts what it sees: connections accepted and bytes each way. It cannot see inside TLS,
 * so request counts come from the server behind it.
 */
import net from 'node:net'

export interface DelayProxyOptions {
  /** Where connections are forwarded. */
  target: { host: string; port: number }
  /** The simulated round-trip time in milliseconds. */
  rttMs: number
  /** Listen port (default: any free port on 127.0.0.1). */
  port?: number
}

export interface DelayProxyStats {
  connections: number
  bytesUp: number
  bytesDown: number
}

export interface DelayProxy {
  port: number
  stats(): DelayProxyStats
  /** Zero the counters (between two measured runs behind one proxy). */
  reset(): void
  close(): Promise<void>
}

/** Writes chunks to `to` in order, each no earlier than its due time. */
class DelayedPipe {
  private last = 0
  private pending = 0
  private ended = false

  constructor(
    private readonly to: net.Socket,
    private readonly count: (n: number) => void,
  ) {}

  push(chunk: Buffer, due: number): void {
    const at = Math.max(due, this.last)
    this.last = at
    this.pending++
    setTimeout(() => {
      this.pending--
      if (!this.to.destroyed) {
        this.count(chunk.length)
        this.to.write(chunk)
      }
      if (this.ended && this.pending === 0) this.to.end()
    }, Math.max(0, at - Date.now()))
  }

  end(): void {
    this.ended = true
    if (this.pending === 0) {
      const wait = Math.max(0, this.last - Date.now())
      setTimeout(() => this.to.end(), wait)
    }
  }
}

export async function startDelayProxy(opts: DelayProxyOptions): Promise<DelayProxy> {
  const half = opts.rttMs / 2
  const stats: DelayProxyStats = { connections: 0, bytesUp: 0, bytesDown: 0 }
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    stats.connections++
    const acceptedAt = Date.now()
    const upstream = net.connect(opts.target.port, opts.target.host)
    sockets.add(client)
    sockets.add(upstream)
    const up = new DelayedPipe(upstream, (n) => (stats.bytesUp += n))
    const down = new DelayedPipe(client, (n) => (stats.bytesDown += n))
    // The client's first bytes wait for the handshake a real link would have made it wait for.
    client.on('data', (chunk: Buffer) => up.push(chunk, Math.max(Date.now() + half, acceptedAt + opts.rttMs + half)))
    upstream.on('data', (chunk: Buffer) => down.push(chunk, Date.now() + half))
    client.on('end', () => up.end())
    upstream.on('end', () => down.end())
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', () => sockets.delete(client))
    upstream.on('close', () => sockets.delete(upstream))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('delay proxy: no listening address')
  return {
    port: address.port,
    stats: () => ({ ...stats }),
    reset: () => {
      stats.connections = 0
      stats.bytesUp = 0
      stats.bytesDown = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
