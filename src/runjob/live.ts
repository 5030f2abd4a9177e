/**
 * A live run of one job, stage by stage as the runner walks them: Prepare (objects + wait for the pod),
 * Pre-build (project files and cache into the builds directory), Build (before_script + script, then
 * after_script), Post-build (artifact and cache paths back to a local folder), Cleanup (every ledger entry,
 * always: on success, failure, job timeout and interrupt).
 */
import { mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, Writable, type Readable } from 'node:stream'
import type { CiJob } from '../ci/types.js'
import { goDuration } from '../ci/duration.js'
import { jobTimeout } from '../ci/predefined.js'
import { EXIT } from '../cli/exit-codes.js'
import { GkrError, incompleteError } from '../util/errors.js'
import type { Clock } from './clock.js'
import type { Explain } from './dryrun.js'
import type { ExecFn } from './exec.js'
import { attachStep, refusedStream, saveScript, type AttachFn } from './attach.js'
import { watchPodContainers } from './pod-watch.js'
import { CleanupLedger, describeLeftovers, type CleanupReport, type ObjectRef } from './ledger.js'
import type { KubeObject, ObjectClient } from './objects.js'
import { jobFailure, prepareFailureLine, preparePod } from './prepare.js'
import { shQuote, stepScript } from './script.js'
import { listProjectFiles, packFiles, unpackTo } from './workspace.js'

export type Stage = 'prepare' | 'pre-build' | 'build' | 'post-build' | 'cleanup'
export const STAGES: Stage[] = ['prepare', 'pre-build', 'build', 'post-build', 'cleanup']
export type StageState = 'start' | 'done' | 'failed' | 'skipped'

export interface LiveSettings {
  pollIntervalMs: number
  pollTimeoutMs: number
  cleanupTimeoutMs: number
  printWarningEvents: boolean
  /** How scripts reach the build container: attach (the runner's default) or exec (legacy strategy). */
  strategy?: 'attach' | 'exec'
  /** after_script timeout (the runner's default is 5 minutes). */
  afterScriptTimeoutMs?: number
}

export interface LiveInput {
  client: Pick<ObjectClient, 'create' | 'setOwner' | 'readPod' | 'podWarnings' | 'delete'> & Partial<Pick<ObjectClient, 'read' | 'readBack'>>
  exec: ExecFn
  /** Used for the build steps when settings.strategy is attach; without it they run through exec. */
  attach?: AttachFn
  namespace: string
  /** Rendered objects in creation order (exactly one Pod). */
  objects: KubeObject[]
  job: CiJob
  /** Variables the scripts see (predefined + job + --var). */
  env: Record<string, string>
  /** Local project root (repository holding the CI file). */
  projectRoot: string
  /** CI_PROJECT_DIR inside the pod. */
  projectDir: string
  /** Where artifact and cache paths are copied back; nothing is copied without it. */
  artifactsDir?: string
  settings: LiveSettings
  clock: Clock
  signal: AbortSignal
  /** The job log (build output, Pending reasons). */
  log: (text: string) => void
  onStage?: (stage: Stage, state: StageState, detail?: string) => void
  explain?: Explain
  /** Shared with the command so a second Ctrl-C can abandon cleanup. */
  ledger?: CleanupLedger
  buildContainer?: string
  helperContainer?: string
}

export interface LiveResult {
  success: boolean
  /** Exit code of the failing script command, when the script failed. */
  scriptExitCode?: number
  failure?: { code: string; message: string; ref?: string; suggestions: string[] }
  artifacts: string[]
  cleanup: CleanupReport
}

export async function runLive(input: LiveInput): Promise<LiveResult> {
  const ledger = input.ledger ?? new CleanupLedger()
  const stage = input.onStage ?? (() => undefined)
  const { job, signal } = input
  const build = input.buildContainer ?? 'build'
  let current: Stage = 'prepare'
  const result: Omit<LiveResult, 'cleanup'> = { success: false, artifacts: [] }
  let thrown: unknown
  try {
    stage('prepare', 'start')
    const pod = await preparePod({
      client: input.client, ledger, namespace: input.namespace, objects: input.objects, clock: input.clock, signal,
      pollIntervalMs: input.settings.pollIntervalMs, pollTimeoutMs: input.settings.pollTimeoutMs,
      printWarningEvents: input.settings.printWarningEvents, log: (l) => input.log(`${l}\n`), explain: input.explain, buildContainer: build,
    })
    stage('prepare', 'done')
    const podName = pod.metadata?.name ?? ''
    const names = new Set((pod.spec?.containers ?? []).map((c) => c.name))
    const helper = input.helperContainer ?? (names.has('helper') ? 'helper' : build)
    const streams = guardStreams(input, podName)
    const exec = (container: string, script: string, extra: Partial<Parameters<ExecFn>[0]> = {}) =>
      streams.exec({ namespace: input.namespace, pod: podName, container, command: ['sh', '-c', script], signal, ...extra })
    const buildSpec = (pod.spec?.containers ?? []).find((c) => c.name === build)
    const scriptsDir = buildSpec?.volumeMounts?.find((m) => m.name === 'scripts')?.mountPath ?? '/tmp/gkr-scripts'
    const runStep = (name: string, header: string, commands: string[], s: AbortSignal): Promise<number> => {
      const script = stepScript({ name, header, commands, env: input.env, cwd: input.projectDir })
      if (input.settings.strategy !== 'exec' && streams.attach) {
        return streams.lost(build, s, attachStep({ exec: streams.exec, attach: streams.attach, namespace: input.namespace, pod: podName, container: build, scriptsDir, name, script, out: logWriter(input.log), signal: s }))
      }
      // The exec strategy: save the script (on stdin, as attach does), then run the file.
      return saveScript(streams.exec, { namespace: input.namespace, pod: podName, container: build, signal: s }, scriptsDir, name, script)
        .then((file) => streams.exec({ namespace: input.namespace, pod: podName, container: build, command: ['sh', file], signal: s, stdout: logWriter(input.log), stderr: logWriter(input.log) }))
    }

    current = 'pre-build'
    stage('pre-build', 'start')
    const files = await listProjectFiles(input.projectRoot)
    const dir = shQuote(input.projectDir)
    const rc = await exec(helper, `mkdir -p ${dir} && tar -x -f - -C ${dir}`, { stdin: toReadable(packFiles(input.projectRoot, files)), stderr: logWriter(input.log) })
    if (rc !== 0) throw jobFailure(`copying the project into ${input.projectDir} failed (exit ${rc})`, undefined)
    for (const c of job.cache) {
      const local = input.artifactsDir ? join(input.artifactsDir, 'cache', c.key ?? 'default') : undefined
      if (!local || !existsSync(local)) continue
      const cached = await listProjectFiles(local, { useGit: false })
      await exec(helper, `tar -x -f - -C ${dir}`, { stdin: toReadable(packFiles(local, cached)) })
      input.log(`Restored cache ${c.key ?? 'default'} from ${local}\n`)
    }
    stage('pre-build', 'done', `${files.length} files`)

    current = 'build'
    stage('build', 'start')
    const commands = [...job.before_script, ...job.script]
    const timeoutS = jobTimeout(job)
    const code = await withTimeout(input, timeoutS * 1000, async (s) => {
      // The runner watches the pod meanwhile: a container in CrashLoopBackOff ends the job.
      const stop = new AbortController()
      const both = AbortSignal.any([s, stop.signal])
      const watcher = watchPodContainers({ client: input.client, namespace: input.namespace, pod: podName, clock: input.clock, intervalMs: input.settings.pollIntervalMs, signal: both, ...(input.explain ? { explain: input.explain } : {}) })
      watcher.catch(() => undefined)
      try {
        return await Promise.race([runStep('step_script', 'Executing "step_script" stage of the job script', commands, both), watcher])
      } finally {
        stop.abort()
      }
    })
    if (code === 'timeout') {
      const message = `ERROR: Job failed: execution took longer than ${goDuration(timeoutS)} seconds`
      const why = input.explain?.(message)
      result.failure = { code: 'job-timeout', message, ...(why ? { ref: why.id } : {}), suggestions: ['Raise the job timeout or make the script faster.', ...(why?.fix ? [why.fix] : [])] }
    } else if (code !== 0) {
      result.scriptExitCode = code
      result.failure = { code: 'job-failed', message: `ERROR: Job failed: command terminated with exit code ${code}`, suggestions: [] }
    }
    if (job.after_script.length > 0) {
      const after = await withTimeout(input, input.settings.afterScriptTimeoutMs ?? 300_000, (s) =>
        runStep('after_script', 'Running after_script', job.after_script, s))
      if (after !== 0) input.log(`WARNING: after_script failed${after === 'timeout' ? ' (timed out)' : ` with exit code ${after}`}; the job result is unchanged\n`)
    }
    stage('build', result.failure ? 'failed' : 'done', result.failure?.message)

    current = 'post-build'
    if (!input.artifactsDir) stage('post-build', 'skipped', 'no --artifacts-dir')
    else {
      stage('post-build', 'start')
      const wanted = result.failure ? (job.artifacts.when === 'always' || job.artifacts.when === 'on_failure' ? job.artifacts.paths : []) : job.artifacts.when === 'on_failure' ? [] : job.artifacts.paths
      await copyBack(input, exec, helper, wanted, input.artifactsDir, result.artifacts)
      for (const c of job.cache) {
        if (c.policy === 'pull') continue
        await copyBack(input, exec, helper, c.paths, join(input.artifactsDir, 'cache', c.key ?? 'default'), [])
      }
      stage('post-build', 'done', `${result.artifacts.length} artifact paths`)
    }
    result.success = !result.failure
  } catch (err) {
    const refused = refusedStream(err)
    if (refused) {
      const forbidden = refused.status === 403
      const message = `ERROR: Job failed: ${current}: the API server refused pods/${refused.subresource} on pod ${input.namespace}/${podNameOf(input.objects)} (HTTP ${refused.status}${forbidden ? ` Forbidden: the identity gkr uses may not create pods/${refused.subresource} in namespace ${input.namespace}` : ''})`
      result.failure = {
        code: 'stream-refused', message, ...(forbidden ? { ref: 'rbac-forbidden' } : {}),
        suggestions: forbidden ? [`Grant create and get on pods/${refused.subresource} to that identity in ${input.namespace}; gkr rbac -c config.toml prints the Role the config needs.`] : [],
      }
      stage(current, 'failed', message)
    } else if (err instanceof GkrError && err.exit === EXIT.FAILED) {
      const message = current === 'prepare' ? prepareFailureLine(err.code, err.message) : err.message
      result.failure = { code: err.code, message, ...(err.ref ? { ref: err.ref } : {}), suggestions: err.suggestions }
      stage(current, 'failed', err.message)
    } else {
      thrown = err
      stage(current, 'failed', err instanceof Error ? err.message : String(err))
    }
  }
  stage('cleanup', 'start')
  const readBack = input.client.readBack?.bind(input.client)
  const cleanup = await ledger.cleanup((ref, _s, uid) => input.client.delete(ref, uid), {
    timeoutMs: input.settings.cleanupTimeoutMs, clock: input.clock, ...(readBack ? { readBack: (ref: ObjectRef) => readBack(ref) } : {}),
  })
  stage('cleanup', cleanup.left.length === 0 ? 'done' : 'failed', `${cleanup.deleted.length} deleted, ${cleanup.left.length} left`)
  // Said on every path (success, failure, interrupt), before the final line.
  input.log(describeLeftovers(cleanup))
  if (thrown !== undefined || signal.aborted) {
    if (signal.aborted) {
      // An interrupt exits 130 even when cleanup left something: what is left is named in the message (stderr).
      throw new GkrError('interrupted', `interrupted; ${cleanup.left.length === 0 ? 'every object gkr created was deleted' : `${cleanup.left.length} object(s) left: ${cleanup.commands.join('; ')}`}`, { exit: EXIT.INTERRUPTED })
    }
    throw thrown
  }
  return { ...result, cleanup }
}

async function copyBack(input: LiveInput, exec: (c: string, s: string, e?: Partial<Parameters<ExecFn>[0]>) => Promise<number>, container: string, paths: string[], dest: string, copied: string[]): Promise<void> {
  if (paths.length === 0) return
  await mkdir(dest, { recursive: true })
  // Paths may hold globs: let the shell expand them, keep those that exist, tar them to stdout.
  const list = paths.map((p) => (/[*?[]/.test(p) ? p.replace(/[^A-Za-z0-9_./*?[\]-]/g, '\\$&') : shQuote(p))).join(' ')
  const script = `cd ${shQuote(input.projectDir)} && for p in ${list}; do [ -e "$p" ] && printf '%s\\n' "$p"; done > .gkr-paths; tar -c -f - -T .gkr-paths; rc=$?; rm -f .gkr-paths; exit $rc`
  const out = new PassThrough()
  const names = new PassThrough()
  const unpack = unpackTo(dest)
  const finished = new Promise<void>((resolve, reject) => {
    unpack.on('close', resolve).on('finish', resolve).on('error', reject)
  })
  out.pipe(unpack as unknown as Writable)
  const rc = await exec(container, script, { stdout: out, stderr: names })
  out.end()
  await finished
  if (rc !== 0) input.log(`WARNING: collecting ${paths.join(', ')} exited with ${rc}\n`)
  else copied.push(...paths)
}

async function withTimeout(input: LiveInput, ms: number | undefined, fn: (signal: AbortSignal) => Promise<number>): Promise<number | 'timeout'> {
  if (ms === undefined) return fn(input.signal)
  const ac = new AbortController()
  const timer = new AbortController()
  const onAbort = (): void => ac.abort(input.signal.reason)
  input.signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  void input.clock.sleep(ms, timer.signal).then(() => {
    timedOut = true
    ac.abort(new Error('job timeout'))
  }, () => undefined)
  // The step ends when the timeout or an interrupt fires, not when its stream has finished closing (a
  // WebSocket close handshake may wait for the peer for half a minute); cleanup deleting the pod ends it.
  const step = fn(ac.signal)
  step.catch(() => undefined)
  const stopped = new Promise<never>((_, reject) => {
    const fail = (): void => reject(ac.signal.reason as Error)
    if (ac.signal.aborted) fail()
    else ac.signal.addEventListener('abort', fail, { once: true })
  })
  stopped.catch(() => undefined)
  try {
    return await Promise.race([step, stopped])
  } catch (err) {
    if (timedOut) return 'timeout'
    throw err
  } finally {
    timer.abort()
    input.signal.removeEventListener('abort', onAbort)
  }
}

/**
 * The exec and attach streams of the run, with one reading of how they fail: a refusal (HTTP status on the
 * upgrade), an interrupt and gkr's own errors stay as they are; a stream that could not be opened or ended
 * before the command reported its exit status (the API server or the node went away) means the run could
 * not complete: exit 3, never an internal error.
 */
function guardStreams(input: LiveInput, pod: string): { exec: ExecFn; attach?: AttachFn; lost: <T>(container: string, signal: AbortSignal | undefined, p: Promise<T>) => Promise<T> } {
  const lost = <T>(container: string, signal: AbortSignal | undefined, p: Promise<T>): Promise<T> => p.catch((err: unknown) => {
    if (err instanceof GkrError || refusedStream(err) || signal?.aborted || input.signal.aborted || isBug(err)) throw err
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw incompleteError('pod-stream-lost', `the connection to container ${container} of pod ${input.namespace}/${pod} was lost before the command finished: ${why}`, {
      cause: err, suggestions: ['Check that the API server and the node are reachable (kubectl get --raw /readyz); the job did not complete, so run it again.'],
    })
  })
  const attach = input.attach
  return {
    exec: (req) => lost(req.container, req.signal, input.exec(req)),
    ...(attach ? { attach: (req: Parameters<AttachFn>[0]) => lost(req.container, req.signal, attach(req)) } : {}),
    lost,
  }
}

/** Errors that are gkr's own bugs, never a lost connection. */
function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError
}

function podNameOf(objects: KubeObject[]): string {
  return objects.find((o) => o.kind === 'Pod')?.metadata?.name ?? ''
}

function logWriter(log: (t: string) => void): Writable {
  return new Writable({ write: (chunk: Buffer, _e, cb) => { log(chunk.toString()); cb() } })
}

function toReadable(s: NodeJS.ReadableStream): Readable {
  const p = new PassThrough()
  s.pipe(p)
  return p
}
