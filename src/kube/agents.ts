/**
 * The HTTP agents gkr's Kubernetes requests go through. A request to an API server that accepted the
 * connection but never answers stays pending after gkr gave up on it (client-node 1.x cannot abort one),
 * and its socket keeps the process alive: when a command ends, every agent is destroyed, which closes
 * its sockets and ends the requests still pending on them. No Kubernetes client import here, so the
 * CLI layer can call it without loading the library.
 */
export interface Destroyable {
  destroy(): void
}

const open = new Set<Destroyable>()

/** Remembers an agent so `closeAgents` can destroy it. */
export function trackAgent<T extends Destroyable>(agent: T): T {
  open.add(agent)
  return agent
}

/** Destroys every tracked agent (and the sockets in use), ending pending requests. */
export function closeAgents(): void {
  for (const a of open) a.destroy()
  open.clear()
}

/**
 * Wraps the client's agent factory so every request to one cluster with the same TLS material shares
 * one keep-alive agent: one TCP and TLS handshake per connection instead of per request (client-node
 * 1.x builds a fresh agent for every call, so without this each request pays both handshakes again).
 * Agents made here are tracked, so `closeAgents` still ends them with the command.
 */
export function pooledAgentFactory<A extends unknown[]>(create: (cluster: unknown, options: Record<string, unknown>, ...rest: A) => Destroyable, observe: AgentObserver = {}): (cluster: unknown, options: Record<string, unknown>, ...rest: A) => Destroyable {
  const pool = new Map<string, Destroyable>()
  return (cluster, options, ...rest) => {
    const key = poolKey(cluster, options)
    let agent = pool.get(key)
    if (!agent) {
      agent = trackAgent(create(cluster, { ...options, keepAlive: true, maxSockets: MAX_SOCKETS }, ...rest))
      if (observe.onConnection) countConnections(agent, observe.onConnection)
      if (observe.onLatency) timeRequests(agent, observe.onLatency)
      pool.set(key, agent)
    }
    return agent
  }
}

/**
 * Connections per cluster at most. As large as the number of requests gkr lets be in flight at once
 * (MAX_IN_FLIGHT in connect.ts), so a request never waits inside the agent, where its span would
 * overlap others it actually waited for.
 */
export const MAX_SOCKETS = 64

export interface AgentObserver {
  /** A new connection was opened. */
  onConnection?: () => void
  /**
   * A request was answered: milliseconds from the moment it had a connection (a new one's handshakes
   * included) to the response headers — the server's part, without the time it waited for a free
   * connection in gkr's own pool.
   */
  onLatency?: (ms: number) => void
}

/** Times each request of an agent from the socket it got to its response (node's agents take every request through addRequest). */
function timeRequests(agent: Destroyable, onLatency: (ms: number) => void): void {
  const a = agent as unknown as { addRequest?: (req: EventEmitterLike, ...args: unknown[]) => unknown }
  const original = a.addRequest
  if (typeof original !== 'function') return
  a.addRequest = function (this: unknown, req: EventEmitterLike, ...args: unknown[]): unknown {
    req.once('socket', (socket: SocketLike) => {
      // A new connection first does its TCP and TLS handshakes: the clock starts once they are done,
      // so the figure is the request's own round trip plus the server's work.
      const fresh = !req.reusedSocket && (socket.connecting || socket.encrypted && !socket.authorized && !socket.authorizationError)
      const startClock = (): void => {
        const t0 = performance.now()
        req.once('response', () => onLatency(performance.now() - t0))
      }
      if (fresh) socket.once(socket.encrypted ? 'secureConnect' : 'connect', startClock)
      else startClock()
    })
    return original.call(this, req, ...args)
  }
}

interface SocketLike {
  connecting?: boolean
  encrypted?: boolean
  authorized?: boolean
  authorizationError?: unknown
  once(event: string, listener: () => void): unknown
}

interface EventEmitterLike {
  reusedSocket?: boolean
  once(event: 'socket', listener: (socket: SocketLike) => void): unknown
  once(event: string, listener: () => void): unknown
}

/** Counts the sockets an agent opens: node's agents open each through createConnection. */
function countConnections(agent: Destroyable, onConnection: () => void): void {
  const a = agent as unknown as { createConnection?: (...args: unknown[]) => unknown }
  const original = a.createConnection
  if (typeof original !== 'function') return
  a.createConnection = function (this: unknown, ...args: unknown[]): unknown {
    onConnection()
    return original.apply(this, args)
  }
}

/** What makes two agents interchangeable: the server, its proxy and every TLS option (buffers by content). */
function poolKey(cluster: unknown, options: Record<string, unknown>): string {
  const c = (cluster ?? {}) as { server?: unknown; proxyUrl?: unknown; skipTLSVerify?: unknown; tlsServerName?: unknown }
  const plain = (v: unknown): unknown => (Buffer.isBuffer(v) ? `b64:${v.toString('base64')}` : Array.isArray(v) ? v.map(plain) : v)
  const opts = Object.keys(options)
    .sort()
    .filter((k) => options[k] !== undefined)
    .map((k) => [k, plain(options[k])])
  return JSON.stringify([c.server, c.proxyUrl, c.skipTLSVerify, c.tlsServerName, opts])
}
