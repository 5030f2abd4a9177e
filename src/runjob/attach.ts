/**
 * The attach strategy (the runner's default, FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY=false): the
 * step script is saved into the pod with exec (on stdin), then one command line is written to the stdin of the
 * build container's own shell through pods/attach. That line runs the saved script in the background
 * and prints a JSON marker with its exit code, as the runner's does; the marker ends the step. The
 * container's shell keeps running, so the next step can attach again.
 */
import { PassThrough, Readable, Writable } from 'node:stream'
import type { KubeConfig } from '@kubernetes/client-node'
import { loadK8s } from '../kube/client.js'
import { openStream, type ExecFn, type StreamOptions } from './exec.js'
import { shQuote } from './script.js'

export interface AttachRequest {
  namespace: string
  pod: string
  container: string
  /** Written to the container's stdin. */
  stdin: Readable
  stdout: Writable
  stderr?: Writable
  signal?: AbortSignal
}

/** Resolves when the attach session ends (closed by either side); `close()` detaches. */
export type AttachFn = (req: AttachRequest) => Promise<{ closed: Promise<void>; close: () => void }>

/** Attaches through the client's WebSocket; the upgrade is made (and retried) as `openStream` says. */
export function kubeAttach(kubeConfig: KubeConfig, opts: StreamOptions = {}): AttachFn {
  return async (req) => {
    req.signal?.throwIfAborted()
    const { Attach } = await loadK8s()
    const attach = new Attach(kubeConfig)
    const ws = await openStream(kubeConfig, { namespace: req.namespace, pod: req.pod, subresource: 'attach' }, req.stdin, opts, (stdin) =>
      attach.attach(req.namespace, req.pod, req.container, req.stdout, req.stderr ?? null, stdin, false))
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
    return { closed, close: () => ws.close() }
  }
}

const MARKER = /\{"command_exit_code": (\d+), "script": "([^"]*)"\}\r?\n?/

export interface AttachStep {
  exec: ExecFn
  attach: AttachFn
  namespace: string
  pod: string
  container: string
  /** Folder in the container to save the script in (the runner's scripts volume). */
  scriptsDir: string
  /** Stage name, used as the script's file name. */
  name: string
  script: string
  out: Writable
  signal: AbortSignal
}

/** Where a step's script is saved in the pod. */
export const scriptFile = (scriptsDir: string, name: string): string => `${scriptsDir.replace(/\/+$/, '')}/${name}`

/**
 * Saves a step script into a container as an executable file. The script goes on the stdin of a plain
 * `sh` (a here-document), never into the command: exec arguments travel in the request URL, which API
 * server audit logs record, and the script exports the job's variables.
 */
export async function saveScript(exec: ExecFn, at: { namespace: string; pod: string; container: string; signal?: AbortSignal }, scriptsDir: string, name: string, script: string): Promise<string> {
  const file = scriptFile(scriptsDir, name)
  let delimiter = 'GKR_SCRIPT_END'
  while (script.includes(delimiter)) delimiter += '_'
  const body = script.endsWith('\n') ? script : `${script}\n`
  const saved = await exec({
    ...at,
    command: ['sh'],
    stdin: Readable.from([`mkdir -p ${shQuote(scriptsDir)} && cat > ${shQuote(file)} <<'${delimiter}' && chmod 755 ${shQuote(file)}\n${body}${delimiter}\n`]),
  })
  if (saved !== 0) throw new Error(`saving the ${name} script into the pod failed (exit ${saved})`)
  return file
}

/** Runs one step through attach; resolves with the script's exit code. */
export async function attachStep(step: AttachStep): Promise<number> {
  const file = await saveScript(step.exec, { namespace: step.namespace, pod: step.pod, container: step.container, signal: step.signal }, step.scriptsDir, step.name, step.script)
  const line = `(sh ${shQuote(file)}; ec=$?; echo; echo "{\\"command_exit_code\\": $ec, \\"script\\": \\"${file}\\"}") 2>&1 &\n`
  const stdin = new PassThrough()
  let code: number | undefined
  let buffered = ''
  let done: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (done = resolve))
  const stdout = new Writable({
    write: (chunk: Buffer, _e, cb) => {
      if (code !== undefined) return cb()
      buffered += chunk.toString()
      const m = MARKER.exec(buffered)
      if (m && m[2]!.endsWith(`/${step.name}`)) {
        code = Number(m[1])
        // The line runs `echo` before the marker; neither belongs to the job log.
        const before = buffered.slice(0, m.index).replace(/\n$/, '')
        if (before) step.out.write(before.endsWith('\n') ? before : `${before}\n`)
        done()
      } else {
        // Pass on whole lines; the last newline stays, it may precede the marker.
        const cut = buffered.lastIndexOf('\n')
        if (cut > 0) {
          step.out.write(buffered.slice(0, cut))
          buffered = buffered.slice(cut)
        }
      }
      cb()
    },
  })
  const session = await step.attach({ namespace: step.namespace, pod: step.pod, container: step.container, stdin, stdout, stderr: stdout, signal: step.signal })
  const onAbort = (): void => session.close()
  step.signal.addEventListener('abort', onAbort, { once: true })
  try {
    stdin.write(line)
    await Promise.race([finished, session.closed])
    step.signal.throwIfAborted()
    if (code === undefined) throw new Error(`attach to ${step.pod}/${step.container} ended before the ${step.name} script reported its exit code`)
    return code
  } finally {
    step.signal.removeEventListener('abort', onAbort)
    session.close()
    stdin.end()
  }
}

/**
 * A refused pods/exec or pods/attach WebSocket upgrade, as the client reports it (an error event whose
 * message carries the HTTP status and whose target is the socket with the request URL); undefined for
 * anything else.
 */
export function refusedStream(err: unknown): { status: number; subresource: 'exec' | 'attach' } | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { message?: unknown; target?: { url?: unknown } }
  const status = typeof e.message === 'string' ? /Unexpected server response: (\d{3})/.exec(e.message)?.[1] : undefined
  if (!status) return undefined
  const url = typeof e.target?.url === 'string' ? e.target.url : ''
  const sub = /\/pods\/[^/]+\/(exec|attach)\b/.exec(url)?.[1] as 'exec' | 'attach' | undefined
  return { status: Number(status), subresource: sub ?? 'exec' }
}
