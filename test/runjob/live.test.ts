import { spawn } from 'node:child_process'
import process from 'node:process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { parseCiSource } from '../../src/ci/parse.js'
import { ManualClock } from '../../src/runjob/clock.js'
import type { ExecFn } from '../../src/runjob/exec.js'
import type { KubeObject } from '../../src/runjob/objects.js'
import { runLive, type LiveInput, type Stage, type StageState } from '../../src/runjob/live.js'
import { plainLog } from '../../src/runjob/script.js'

/** Exec as the simulator's kubelet does it: the container command runs as a local process. */
const localExec: ExecFn = (req) =>
  new Promise((resolve, reject) => {
    // A process group of its own, so an abort ends what the script started too (as deleting a pod does).
    const child = spawn(req.command[0]!, req.command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    if (req.stdin) req.stdin.pipe(child.stdin)
    else child.stdin.end()
    if (req.stdout) child.stdout.pipe(req.stdout, { end: false })
    else child.stdout.resume()
    if (req.stderr) child.stderr.pipe(req.stderr, { end: false })
    else child.stderr.resume()
    const onAbort = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
      reject(req.signal!.reason)
    }
    req.signal?.addEventListener('abort', onAbort, { once: true })
    child.on('close', (code) => {
      req.signal?.removeEventListener('abort', onAbort)
      resolve(code ?? 1)
    })
  })

function cluster(podPhase = 'Running') {
  const store = new Map<string, KubeObject>()
  const client: LiveInput['client'] = {
    async create(obj) {
      const out = { ...obj, metadata: { ...obj.metadata, uid: 'u-' + obj.metadata?.name } }
      store.set(`${obj.kind}/${obj.metadata?.name}`, out)
      return out
    },
    async setOwner(obj) { return obj },
    async readPod(_ns, name) {
      return { metadata: { name }, spec: { containers: [{ name: 'build' }, { name: 'helper' }] }, status: { phase: podPhase, containerStatuses: [{ name: 'build', ready: podPhase === 'Running' }] } } as V1Pod
    },
    async podWarnings() { return [] },
    async delete(ref) { return store.delete(`${ref.kind}/${ref.name}`) ? 'deleted' : 'not-found' },
  }
  return { client, store }
}

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner-x' } },
]

async function setup(ci: string, opts: { artifacts?: boolean } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'gkr-live-src-'))
  await writeFile(join(root, 'input.txt'), 'from the laptop\n')
  await writeFile(join(root, '.gitignore'), 'ignored.txt\n')
  await writeFile(join(root, 'ignored.txt'), 'x')
  const builds = await mkdtemp(join(tmpdir(), 'gkr-live-builds-'))
  const projectDir = join(builds, 'local', 'app')
  const artifactsDir = opts.artifacts ? join(await mkdtemp(join(tmpdir(), 'gkr-live-art-')), 'out') : undefined
  const job = Object.values(parseCiSource(ci, '.gitlab-ci.yml').jobs)[0]!
  const c = cluster()
  let log = ''
  const stages: [Stage, StageState][] = []
  const input: LiveInput = {
    client: c.client, exec: localExec, namespace: 'ci', objects, job, env: { GREETING: 'hi there' }, projectRoot: root, projectDir,
    ...(artifactsDir ? { artifactsDir } : {}),
    settings: { pollIntervalMs: 3000, pollTimeoutMs: 30_000, cleanupTimeoutMs: 10_000, printWarningEvents: true },
    clock: new ManualClock(), signal: new AbortController().signal, log: (t) => (log += t), onStage: (s, st) => stages.push([s, st]),
  }
  return { input, c, log: () => plainLog(log), stages, projectDir, artifactsDir }
}

describe('runLive', () => {
  it('a passing job: project copied (gitignore honoured), scripts run in order, artifacts copied back, nothing left', async () => {
    const t = await setup(`job:
  before_script: [echo "$GREETING"]
  script: [cat input.txt, test ! -e ignored.txt, mkdir -p dist, echo built > dist/out.txt]
  after_script: [echo after]
  artifacts: { paths: [dist/, missing/] }
`, { artifacts: true })
    const r = await runLive(t.input)
    expect(r.failure).toBeUndefined()
    expect(r.success).toBe(true)
    expect(t.log()).toContain('$ echo "$GREETING"\nhi there\n$ cat input.txt\nfrom the laptop\n')
    expect(t.log()).toContain('Running after_script\n$ echo after\nafter\n')
    expect(await readFile(join(t.artifactsDir!, 'dist/out.txt'), 'utf8')).toBe('built\n')
    expect(t.c.store.size).toBe(0)
    expect(r.cleanup.deleted).toHaveLength(2)
    expect(t.stages.map(([s, st]) => `${s}:${st}`)).toEqual(['prepare:start', 'prepare:done', 'pre-build:start', 'pre-build:done', 'build:start', 'build:done', 'post-build:start', 'post-build:done', 'cleanup:start', 'cleanup:done'])
  })

  it('a failing job stops at the first failing command, still runs after_script and cleans up', async () => {
    const t = await setup(`job:
  script: [echo one, exit 3, echo never]
  after_script: [echo after]
`)
    const r = await runLive(t.input)
    expect(r.success).toBe(false)
    expect(r.scriptExitCode).toBe(3)
    expect(r.failure?.message).toBe('ERROR: Job failed: command terminated with exit code 3')
    expect(t.log()).toContain('one\n')
    expect(t.log()).not.toContain('never')
    expect(t.log()).toContain('after\n')
    expect(t.c.store.size).toBe(0)
  })

  it('the job timeout stops the script', async () => {
    const t = await setup(`job:
  timeout: 2s
  script: [sleep 30]
`)
    const clock = new ManualClock()
    t.input.clock = clock
    const run = runLive(t.input)
    while (clock.pending === 0) await new Promise((r) => setImmediate(r))
    clock.advance(2000)
    const r = await run
    expect(r.failure?.code).toBe('job-timeout')
    expect(r.failure?.message).toBe('ERROR: Job failed: execution took longer than 2s seconds')
    expect(t.c.store.size).toBe(0)
  })

  it('a job without timeout gets GitLab\'s default hour, and the runner\'s message when it is reached', async () => {
    const t = await setup(`job:
  script: [sleep 30]
`)
    const clock = new ManualClock()
    t.input.clock = clock
    t.input.explain = (m) => (m.includes('execution took longer than') ? { id: 'background-processes-cause-jobs-to-hang-and-timeout', fix: 'Detach background processes.' } : undefined)
    const run = runLive(t.input)
    while (clock.pending === 0) await new Promise((r) => setImmediate(r))
    clock.advance(3_599_999)
    await new Promise((r) => setImmediate(r))
    // Still waiting: the job timeout, and the pod watcher's next poll (pod-watch.ts).
    expect(clock.pending).toBe(2)
    clock.advance(1)
    const r = await run
    expect(r.failure).toEqual({
      code: 'job-timeout', message: 'ERROR: Job failed: execution took longer than 1h0m0s seconds', ref: 'background-processes-cause-jobs-to-hang-and-timeout',
      suggestions: ['Raise the job timeout or make the script faster.', 'Detach background processes.'],
    })
    expect(t.c.store.size).toBe(0)
  })

  it('interrupt during build: cleanup runs, exit 130', async () => {
    const t = await setup(`job:
  script: [echo started, sleep 30]
`)
    const ac = new AbortController()
    t.input.signal = ac.signal
    let log = ''
    t.input.log = (s) => {
      log += s
      if (log.includes('started')) ac.abort(new Error('interrupted by SIGINT'))
    }
    await expect(runLive(t.input)).rejects.toMatchObject({ code: 'interrupted', exit: 130 })
    expect(t.c.store.size).toBe(0)
    expect(existsSync(t.projectDir)).toBe(true)
  })

  it('a stream that ends without an exit status (API server or node gone): exit 3 with the container named, never an internal error; cleanup runs', async () => {
    const t = await setup(`job:
  script: [echo one]
`)
    let calls = 0
    t.input.exec = async (req) => {
      // Pre-build works; the build step's stream ends early, as the client reports it.
      if (++calls === 1) return localExec(req)
      throw new Error(`exec in ${req.pod}/${req.container} ended without an exit status`)
    }
    const err = await runLive(t.input).then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'pod-stream-lost', exit: 3 })
    expect((err as Error).message).toBe('the connection to container build of pod ci/runner-x was lost before the command finished: exec in runner-x/build ended without an exit status')
    expect(t.c.store.size).toBe(0)
  })

  it('a job timeout ends the step when it fires, not when the attach stream has finished closing (that may take the peer half a minute)', async () => {
    const t = await setup(`job:
  timeout: 1m
  script: [echo started]
`)
    const clock = new ManualClock()
    t.input.clock = clock
    t.input.settings = { ...t.input.settings, strategy: 'attach' }
    // The script is saved (exec), then the attach session never reports and never finishes closing.
    let closes = 0
    let attached!: () => void
    const attaching = new Promise<void>((resolve) => (attached = resolve))
    t.input.attach = async () => {
      attached()
      return { closed: new Promise<void>(() => undefined), close: () => void closes++ }
    }
    const run = runLive(t.input)
    await attaching
    await new Promise((r) => setImmediate(r))
    clock.advance(60_000)
    const r = await run
    expect(r.failure?.code).toBe('job-timeout')
    expect(closes).toBeGreaterThan(0)
    expect(t.c.store.size).toBe(0)
  })
})
