/**
 * Running a command in a container of the job pod (pods/exec over the client's WebSocket), with an exit
 * code, streamed output, optional stdin and abort. The live run takes an `ExecFn` so tests can run the
 * same flow against local processes.
 */
import { Writable, type Readable } from 'node:stream'
import type { KubeConfig, V1Status } from '@kubernetes/client-node'
import { k8s } from '../kube/client.js'

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

export function kubeExec(kubeConfig: KubeConfig): ExecFn {
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
      exec
        .exec(req.namespace, req.pod, req.container, req.command, sink(req.stdout), sink(req.stderr), req.stdin ?? null, false, (status: V1Status) => {
          done(() => resolve(exitCodeOf(status)))
        })
        .then((ws) => {
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
