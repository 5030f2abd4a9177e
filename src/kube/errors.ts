import { incompleteError, usageError, GkrError } from '../util/errors.js'
import type { CatalogId } from '../catalog/ids.js'

/** An error the API server answered with: its Status, never the client's raw exception text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

const NETWORK: Array<{ codes: string[]; catalog: CatalogId; text: (what: string, code: string) => string; fix: string }> = [
  { codes: ['ECONNREFUSED'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: () => 'the Kubernetes API server refused the connection', fix: 'Check the server address in the kubeconfig (or host in config.toml) and that the API server is up.' },
  { codes: ['ENOTFOUND', 'EAI_AGAIN'], catalog: 'dial-tcp-xxxxxxxxxx-io-timeout', text: () => 'the Kubernetes API server\'s host name does not resolve', fix: 'Check the server address and the DNS the runner uses.' },
  { codes: ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: (what) => `the Kubernetes API server dropped the connection during ${what} (an overloaded or restarting API server does this)`, fix: 'Check the API server\'s load and restarts; the runner retries such errors up to retry_limit.' },
  { codes: ['ETIMEDOUT', 'GKR_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'], catalog: 'dial-tcp-xxxxxxxxxx-io-timeout', text: (what) => `the Kubernetes API server did not answer ${what} in time`, fix: 'Check network paths (firewalls, proxies) to the API server and its load.' },
  { codes: ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: (_w, code) => `TLS to the Kubernetes API server failed (${code}): its certificate is not trusted for this address`, fix: 'Point the kubeconfig\'s certificate-authority (or ca_file in config.toml) at the CA that signed the API server certificate.' },
]

function codeOf(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e; i++) {
    const c = (e as { code?: unknown }).code
    if (typeof c === 'string') return c
    e = (e as { cause?: unknown }).cause ?? (e as { errors?: unknown[] }).errors?.[0]
  }
  return undefined
}

/**
 * Maps what the client threw, once: HTTP answers by status and Status.reason into ApiError; a cluster
 * that cannot be reached into GkrError (exit 3) with the catalog entry that explains it.
 */
export function mapError(err: unknown, what: string): Error {
  if (err instanceof ApiError || err instanceof GkrError) return err
  // The client's ApiException carries the HTTP status as a numeric `code` (network errors carry strings).
  const status = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined
  if (status !== undefined) {
    const raw = (err as { body?: unknown }).body
    let body: { message?: string; reason?: string; details?: Record<string, unknown> } = {}
    try {
      body = typeof raw === 'string' ? (JSON.parse(raw) as typeof body) : raw && typeof raw === 'object' ? (raw as typeof body) : {}
    } catch {
      body = { message: String(raw).trim() }
      // A Kubernetes API server answers a missing path with a JSON Status, or "404 page not found" in
      // plain text for an API group it does not serve; never with HTML: an HTML 404 page comes from a
      // web server that is not one (a wrong server address in the kubeconfig).
      if (status === 404 && typeof raw === 'string' && /^\s*</.test(raw)) return notKubernetes(what, raw)
    }
    if (status === 401) return incompleteError('kube-unauthorized', `the Kubernetes API server rejected gkr's credentials (401 Unauthorized) during ${what}`, { ref: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', suggestions: ['The token or client certificate is wrong or expired: check the kubeconfig user (or bearer_token in config.toml).'] })
    // A plain-text 429 or 503 says how long to wait only in its Retry-After header.
    const headers = (err as { headers?: Record<string, string> }).headers
    const retryAfter = Number(headers?.['retry-after'] ?? headers?.['Retry-After'])
    const details = Number.isFinite(retryAfter) && retryAfter > 0 && body.details?.retryAfterSeconds === undefined ? { ...body.details, retryAfterSeconds: retryAfter } : body.details
    return new ApiError(status, body.message ?? `HTTP ${status}`, body.reason, details)
  }
  const code = codeOf(err) ?? ''
  const net = NETWORK.find((n) => n.codes.includes(code))
  if (net) return incompleteError(`kube-${code.toLowerCase()}`, `${net.text(what, code)}`, { ref: net.catalog, suggestions: [net.fix] })
  return incompleteError('kube-unreachable', `cannot reach the Kubernetes API server during ${what}: ${(err as Error).message?.split('\n')[0] ?? String(err)}`, { ref: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api' })
}

/** The server answered, but not as a Kubernetes API server does (an HTML or plain-text page): the address is wrong. */
export function notKubernetes(what: string, body: unknown): GkrError {
  const text = typeof body === 'string' ? body : ''
  const kind = /^\s*</.test(text) ? 'an HTML page' : 'something that is not JSON'
  return usageError('kube-not-kubernetes', `the server answered ${what} with ${kind}: it is not a Kubernetes API server`, { suggestions: ['Check the server address in the kubeconfig (or host in config.toml): it must be the API server, e.g. https://HOST:6443, not a web page or dashboard.'] })
}
