/**
 * Running a command in a container of the job pod (pods/exec over the client's WebSocket), with an exit
 * code, streamed output, optional stdin and abort. The live run takes an `ExecFn` so tests can run the
 * same flow against local processes.
 */
import { PassThrough, Writable, type Readable } from 'node:stream'
import type { KubeConfig, V1Status } from '@kubernetes/client-node'
import { k8s } from '../kube/client.js'
import { ApiError } from '../kube/errors.js'
import { EXIT } from '../cli/exit-codes.js'
import { GkrError } from '../util/errors.js'
import type { ApiCall } from './objects.js'

export interface ExecRequest {
  namespace: string
  pod: string
  container: string
  command: string[]
  stdin?: Readable
  stdout?: Writable
  stderr?: Writable
  signal?: AbortSignal
}

/** Resolves with the command's exit code. */
export type ExecFn = (req: ExecRequest) => Promise<number>

/** How exec and attach connections are made. */
export interface StreamOptions {
  /**
   * Makes the connection (the WebSocket upgrade), as every other API call is made: `ClusterTarget.call`,
   * with its time limit, its retries of transient failures (429, 503, a dropped connection) and its
   * counters. Without one, the upgrade is tried once.
   */
  call?: ApiCall
}

/** The part of the client's WebSocket gkr uses. */
export interface StreamSocket {
  close(): void
  on(event: 'close', fn: () => void): unknown
}

const once: ApiCall = (_what, fn) => fn()

/**
 * Opens a pods/exec or pods/attach stream. `open` gets the stdin to hand to the client: a gate that
 * receives the caller's stdin only once this attempt's connection is established and accepted. So a
 * failed upgrade can be tried again (nothing of the script has been sent), a retry can never send the
 * script twice, and an attempt that opens after gkr gave up on it (a time limit) is closed unfed.
 * Once the stream is open it is never retried.
 */
export async function openStream(kubeConfig: KubeConfig, at: { namespace: string; pod: string; subresource: 'exec' | 'attach' }, stdin: Readable | undefined, opts: StreamOptions, open: (stdin: Readable | null) => Promise<StreamSocket>): Promise<StreamSocket> {
  const call = opts.call ?? once
  let finished = false
  const late = new Set<StreamSocket>()
  let chosen: { ws: StreamSocket; gate: PassThrough | null } | undefined
  try {
    chosen = await call(`pods/${at.subresource} on ${at.namespace}/${at.pod}`, async () => {
      const gate = stdin ? new PassThrough() : null
      let ws: StreamSocket
      try {
        ws = await open(gate)
      } catch (err) {
        throw upgradeError(err)
      }
      if (finished) {
        ws.close()
        late.add(ws)
      }
      return { ws, gate }
    })
  } catch (err) {
    throw streamFailure(err, at, kubeConfig)
  } finally {
    finished = true
  }
  if (stdin && chosen.gate) stdin.pipe(chosen.gate)
  return chosen.ws
}

/**
 * The client reports a refused upgrade as an error event ("Unexpected server response: 503") and a
 * dropped connection with the socket's error code: as an ApiError (by status) or an error with that
 * code, the forms `ClusterTarget.call` judges and retries. A 500 on an upgrade is the API server failing
 * to reach the kubelet, not an etcd hiccup: it keeps its reason so it is not retried.
 */
function upgradeError(err: unknown): Error {
  const refused = refusedUpgrade(err)
  if (refused) {
    const reasons: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' }
    return new ApiError(refused, `HTTP ${refused}`, reasons[refused] ?? 'Unknown')
  }
  const inner = (err as { error?: unknown } | null)?.error
  const code = (inner as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') return Object.assign(new Error((inner as Error | undefined)?.message ?? code), { code })
  return err instanceof Error ? err : new Error((err as { message?: string } | null)?.message ?? String(err))
}

function refusedUpgrade(err: unknown): number | undefined {
  const message = (err as { message?: unknown } | null)?.message
  const m = typeof message === 'string' ? /Unexpected server response: (\d{3})/.exec(message) : null
  return m ? Number(m[1]) : undefined
}

/** Who the streams run as: the impersonated identity, else the kubeconfig's user entry. */
function identityOf(kubeConfig: KubeConfig): string {
  const user = kubeConfig.getCurrentUser()
  return user?.impersonateUser ? user.impersonateUser : user ? `the kubeconfig user "${user.name}"` : 'the identity gkr uses'
}

/**
 * What a stream that could not be opened means for the job. A 401/403 is a missing permission (exit 1,
 * the job fails as the runner's would, with the exact Role rule to add); anything else that stopped the
 * upgrade after the retries (503, a dropped connection, a time limit) leaves the run incomplete (exit 3).
 */
export function streamFailure(err: unknown, at: { namespace: string; pod: string; subresource: 'exec' | 'attach' }, kubeConfig: KubeConfig): Error {
  const what = `pods/${at.subresource} on pod ${at.namespace}/${at.pod}`
  if (err instanceof ApiError) {
    const who = identityOf(kubeConfig)
    if (err.status === 403) {
      return new GkrError('stream-refused', `ERROR: Job failed (system failure): the API server refused ${what} (403 Forbidden): ${who} may not create pods/${at.subresource} in namespace ${at.namespace}`, {
        exit: EXIT.FAILED,
        ref: 'rbac-forbidden',
        suggestions: [
          `Add this rule to the Role bound to ${who} in ${at.namespace}:\n- apiGroups: [""]\n  resources: ["pods/${at.subresource}"]\n  verbs: ["create", "get"]`,
          'gkr rbac -c config.toml prints the whole Role the config needs.',
        ],
      })
    }
    if (err.status === 401) return new GkrError('kube-unauthorized', `the Kubernetes API server rejected gkr's credentials (401 Unauthorized) when opening ${what}`, { exit: EXIT.INCOMPLETE, ref: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api', suggestions: ['The token or client certificate is wrong or expired: check the kubeconfig user (or bearer_token in config.toml).'] })
    return new GkrError('stream-unavailable', `the API server answered HTTP ${err.status} when opening ${what}${err.status === 429 || err.status === 503 ? ', also on every retry' : ''}`, { exit: EXIT.INCOMPLETE, suggestions: ['Check the API server\'s health and load (gkr doctor reports it); the runner retries such errors up to retry_limit.'] })
  }
  return err instanceof Error ? err : new Error(String(err))
}

export function kubeExec(kubeConfig: KubeConfig, opts: StreamOptions = {}): ExecFn {
  const exec = new (k8s().Exec)(kubeConfig)
  return (req) =>
    new Promise<number>((resolve, reject) => {
      req.signal?.throwIfAborted()
      let settled = false
      const done = (fn: () => void): void => {
        if (settled) return
        settled = true
        fn()
      }
      const sink = (w?: Writable): Writable => w ?? new Writable({ write: (_c, _e, cb) => cb() })
      openStream(kubeConfig, { namespace: req.namespace, pod: req.pod, subresource: 'exec' }, req.stdin, opts, (stdin) =>
        exec.exec(req.namespace, req.pod, req.container, req.command, sink(req.stdout), sink(req.stderr), stdin, false, (status: V1Status) => {
          done(() => resolve(exitCodeOf(status)))
        }),
      ).then((ws) => {
        const onAbort = (): void => {
          ws.close()
          done(() => reject(req.signal!.reason))
        }
        req.signal?.addEventListener('abort', onAbort, { once: true })
        ws.on('close', () => {
          req.signal?.removeEventListener('abort', onAbort)
          // Closed without a status: the stream ended early (pod gone, connection lost).
          done(() => reject(new Error(`exec in ${req.pod}/${req.container} ended without an exit status`)))
        })
      }, (err: unknown) => done(() => reject(err)))
    })
}

export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode')
  const n = Number(cause?.message)
  return Number.isInteger(n) ? n : 1
}
