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
  { codes: ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: (_w, code) => `TLS to the Kubernetes API server failed (${code}): its certificate is not signed by a CA gkr trusts`, fix: 'Point the kubeconfig\'s certificate-authority (or ca_file in config.toml) at the CA that signed the API server certificate.' },
  // The certificate is trusted but unusable now or here; ClusterTarget adds its dates and names (tlsDetail).
  { codes: ['CERT_HAS_EXPIRED'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: (_w, code) => `TLS to the Kubernetes API server failed (${code}): its certificate has expired`, fix: 'Renew the API server certificate (on kubeadm clusters: kubeadm certs renew apiserver, then restart the API server), or correct this machine\'s clock if it is wrong.' },
  { codes: ['CERT_NOT_YET_VALID'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: (_w, code) => `TLS to the Kubernetes API server failed (${code}): its certificate is not valid yet`, fix: 'The clock of this machine or of the machine that issued the certificate is wrong: correct it (NTP).' },
  { codes: ['ERR_TLS_CERT_ALTNAME_INVALID'], catalog: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', text: (_w, code) => `TLS to the Kubernetes API server failed (${code}): its certificate is not issued for the address gkr connects to`, fix: 'Use a server address the certificate names, or set tls-server-name on the kubeconfig cluster to a name it holds.' },
]

/** The codes of a trusted certificate that cannot be used (dates, names): the peer certificate says why. */
export const TLS_CERT_PROBLEMS = new Set(['kube-cert_has_expired', 'kube-cert_not_yet_valid', 'kube-err_tls_cert_altname_invalid'])

/** What gkr read from the server's certificate on a second, unverified connection. */
export interface PeerCertificateFacts {
  validFrom: Date
  validTo: Date
  /** e.g. "IP Address:127.0.0.1, DNS:localhost" */
  altNames?: string
}

const day = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

function ago(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000)
  if (s < 120) return `${s} seconds`
  if (s < 7200) return `${Math.round(s / 60)} minutes`
  if (s < 129_600) return `${Math.round(s / 3600)} hours`
  return `${Math.round(s / 86_400)} days`
}

/** The TLS error said with the certificate's dates or names: when it expired, from when it is valid, which names it holds. */
export function tlsDetail(err: GkrError, cert: PeerCertificateFacts, host: string, now: Date): GkrError {
  const base = err.message.replace(/: its certificate .*$/, '')
  let message = err.message
  if (err.code === 'kube-cert_has_expired') message = `${base}: its certificate expired on ${day(cert.validTo)} (${ago(now.getTime() - cert.validTo.getTime())} ago; valid from ${day(cert.validFrom)})`
  else if (err.code === 'kube-cert_not_yet_valid') message = `${base}: its certificate is valid only from ${day(cert.validFrom)} (in ${ago(cert.validFrom.getTime() - now.getTime())}; this machine's clock says ${day(now)})`
  else if (err.code === 'kube-err_tls_cert_altname_invalid') message = `${base}: its certificate is for ${cert.altNames ? cert.altNames.replace(/IP Address:/g, 'IP ').replace(/DNS:/g, '') : 'other names'}, not for ${host}`
  return new GkrError(err.code, message, { exit: err.exit, suggestions: err.suggestions, ...(err.ref ? { ref: err.ref } : {}) })
}

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
