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
