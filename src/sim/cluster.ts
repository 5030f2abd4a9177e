import { EventEmitter } from 'node:events'
import type { Store, Obj, WatchEvent } from './store.js'
import { RESOURCES } from './resources.js'
import type { Scenario } from './scenario.js'
import { q } from './quantity.js'
import { StatusError } from './status.js'
import { killProcess, startProcess } from './exec.js'
import { ContainerLog, nowNs } from './pod-logs.js'
import { CrashBackOff, PodIPs, crashLoopWaiting, readiness, restartAfterOom, restartPolicyOf, shouldRestart, withConditions } from './lifecycle.js'
import { rfc3339 } from './time.js'

const res = (r: string): (typeof RESOURCES)[number] => RESOURCES.find((x) => x.resource === r && x.group === '')!

type Pod = Obj & { spec: { nodeName?: string; nodeSelector?: Record<string, string>; tolerations?: Array<{ key?: string; operator?: string; value?: string; effect?: string }>; containers: Array<{ name: string; image: string; command?: string[]; args?: string[]; stdin?: boolean; resources?: { requests?: Record<string, string> } }>; initContainers?: Array<{ name: string; image: string; command?: string[]; args?: string[] }>; affinity?: unknown }; status?: Record<string, unknown> }
type Node = Obj & { spec?: { taints?: Array<{ key: string; value?: string; effect: string }>; unschedulable?: boolean }; status?: { allocatable?: Record<string, string>; conditions?: Array<{ type: string; status: string }> } }

/**
 * The scheduler and the kubelets of the simulated cluster: pods are bound to a node that fits, or stay
 * Pending with a FailedScheduling event; bound pods pull their images (or fail to) and run.
 * Events and statuses are worded as the real components word them (k8s-api.md §6.3, §6.4).
 */
export class ClusterController {
  private readonly timers = new Set<NodeJS.Timeout>()
  /** Output of containers that ran to completion (or still run), line by line with the time each was written, by "uid/container". */
  readonly logs = new Map<string, ContainerLog>()
  /** 'data' (key, chunk, at) while a container writes, 'end' (key) when it terminates: what `follow` streams. */
  readonly logEvents = new EventEmitter()
  /** Containers that terminated, by "uid/container": a followed log of one of them ends at once. */
  readonly terminated = new Set<string>()
  /** Called when a container is OOM-killed, so exec/attach sessions in it end as well. */
  onKill: (podUid: string, container: string) => void = () => undefined
  private readonly processes = new Set<ReturnType<typeof startProcess>>()
  private eventSeq = 0
  /** Errors the controller hit in its timers: bugs in the simulator, kept rather than crashing it. */
  readonly bugs: unknown[] = []
  /** Pods being deleted gracefully, by uid: their containers are stopping and never restart. */
  private readonly stopping = new Set<string>()
  /** How often each container restarted, by "uid/container". */
  private readonly restarts = new Map<string, number>()
  /** The output of each container's previous instance (`pods/log?previous=true`), by "uid/container". */
  readonly previousLogs = new Map<string, ContainerLog>()
  private readonly ips = new PodIPs()
  /** The kubelet's crash back-off per container, on the simulated clock. */
  private readonly backOff: CrashBackOff
  /**
   * What each bound pod that has not terminated requests (by uid), and the sums per "node/resource":
   * kept up to date from the store's changes, so scheduling a pod does not re-add every pod's requests
   * (the scheduler's cache ignores Succeeded and Failed pods too).
   */
  private readonly podRequests = new Map<string, { node: string; cpu: number; memory: number }>()
  private readonly used: Record<string, number> = {}
  private readonly onChange = (e: WatchEvent): void => {
    if (e.def.resource !== 'pods' || e.def.group !== '') return
    this.track(e.type === 'DELETED' ? undefined : (e.object as Pod), String(e.object.metadata.uid))
    if (e.type === 'ADDED' && !(e.object.spec as Pod['spec']).nodeName) this.later(this.scenario.knobs.scheduling?.delayMs ?? 0, () => this.schedule(e.object as Pod))
    if (e.type === 'MODIFIED' && e.object.metadata.deletionTimestamp) this.stopPod(e.object as Pod)
    if (e.type === 'DELETED') this.killPod(e.object as Pod)
  }

  /** The main process of a running container: what pods/attach connects to. */
  containerProcess(podUid: string, container: string): ReturnType<typeof startProcess> | undefined {
    for (const p of this.processes) if ((p as { gkrKey?: string }).gkrKey === `${podUid}/${container}`) return p
    return undefined
  }

  private podProcesses(uid: string): Array<ReturnType<typeof startProcess>> {
    return [...this.processes].filter((p) => (p as { gkrKey?: string }).gkrKey?.startsWith(`${uid}/`))
  }

  /**
   * Graceful deletion, the kubelet's side: the pod got a deletionTimestamp, so its containers are
   * sent SIGTERM (a `Killing` event each) and SIGKILL once the grace period is over; when none is
   * left, the kubelet confirms with a delete of grace 0, and the pod goes unless finalizers keep it.
   */
  private stopPod(pod: Pod): void {
    const uid = String(pod.metadata.uid)
    const procs = this.podProcesses(uid)
    if (this.stopping.has(uid)) {
      // A second delete may have shortened the grace period to 0: kill now.
      if (pod.metadata.deletionGracePeriodSeconds === 0) for (const p of procs) killProcess(p)
      return
    }
    this.stopping.add(uid)
    const host = pod.spec.nodeName
    for (const p of procs) {
      const container = String((p as { gkrKey?: string }).gkrKey).slice(uid.length + 1)
      this.event(pod, 'Normal', 'Killing', `Stopping container ${container}`, 'kubelet', host, `spec.containers{${container}}`)
      killProcess(p, 'SIGTERM')
    }
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? 0)
    if (procs.length > 0) {
      this.later(grace * 1000, () => {
        for (const p of this.podProcesses(uid)) killProcess(p)
      })
    }
    this.later(0, () => this.confirmWhenStopped(pod))
  }

  /** Once a terminating pod's processes are gone: its sessions end, and the kubelet's final delete goes out. */
  private confirmWhenStopped(pod: Pod): void {
    const uid = String(pod.metadata.uid)
    if (!this.stopping.has(uid) || this.podProcesses(uid).length > 0) return
    this.stopping.delete(uid)
    for (const c of pod.spec.containers ?? []) this.onKill(uid, c.name)
    const cur = this.current(pod)
    if (cur && cur.metadata.uid === uid) this.store.delete(res('pods'), pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0 })
  }

  /** The pod is gone: the kubelet kills its containers (and with them their exec and attach sessions). */
  private killPod(pod: Pod): void {
    const uid = String(pod.metadata.uid)
    for (const p of this.processes) if ((p as { gkrKey?: string }).gkrKey?.startsWith(`${uid}/`)) killProcess(p)
    this.backOff.forget(uid)
    for (const c of pod.spec.containers ?? []) {
      const key = `${uid}/${c.name}`
      if (!this.terminated.has(key) && this.logs.has(key)) this.ended(key)
      this.onKill(uid, c.name)
    }
  }

  /** Counts (or stops counting) a pod's requests against its node. */
  private track(pod: Pod | undefined, uid: string): void {
    const old = this.podRequests.get(uid)
    if (old) {
      this.used[`${old.node}/cpu`] = (this.used[`${old.node}/cpu`] ?? 0) - old.cpu
      this.used[`${old.node}/memory`] = (this.used[`${old.node}/memory`] ?? 0) - old.memory
      this.podRequests.delete(uid)
    }
    const phase = (pod?.status as { phase?: string } | undefined)?.phase
    const node = pod?.spec?.nodeName
    if (!pod || !node || phase === 'Succeeded' || phase === 'Failed') return
    const want = (r: string): number => (pod.spec.containers ?? []).reduce((a, c) => a + q(c.resources?.requests?.[r] ?? 0), 0)
    const entry = { node, cpu: want('cpu'), memory: want('memory') }
    this.podRequests.set(uid, entry)
    this.used[`${node}/cpu`] = (this.used[`${node}/cpu`] ?? 0) + entry.cpu
    this.used[`${node}/memory`] = (this.used[`${node}/memory`] ?? 0) + entry.memory
  }

  constructor(private readonly store: Store, private readonly scenario: Scenario, private readonly factor: number) {
    this.backOff = new CrashBackOff(() => (factor > 0 ? Date.now() / factor : 0))
    for (const p of store.list(res('pods'), undefined, { shared: true })) this.track(p as Pod, String(p.metadata.uid))
    store.events.on('change', this.onChange)
    this.logEvents.setMaxListeners(0)
  }

  /** Appends container output to its log and to every follower. */
  private append(key: string, chunk: string): void {
    const at = nowNs()
    let log = this.logs.get(key)
    if (!log) this.logs.set(key, (log = new ContainerLog()))
    // Followers first: they need to know whether this chunk starts a line (for its timestamp).
    this.logEvents.emit('data', key, chunk, at)
    log.write(chunk, at)
  }

  private ended(key: string): void {
    this.terminated.add(key)
    this.logEvents.emit('end', key)
  }

  /**
   * The scenario's OOM killer: a container whose image matches `oomKill.match` is killed
   * `afterMs` (scenario clock) after it started: its processes and exec sessions end, and it is
   * terminated with exit code 137 and reason OOMKilled, as the kubelet reports it; the pod's
   * restartPolicy then decides, as for any exit (`restartAfterOom` in lifecycle.ts).
   */
  private armOomKiller(pod: Pod, c: Pod['spec']['containers'][number], exits: Map<string, number>): void {
    const oom = this.scenario.knobs.oomKill
    if (!oom || !(oom.match ?? []).some((pat) => c.image.includes(pat))) return
    const key = `${pod.metadata.uid}/${c.name}`
    const instance = this.restarts.get(key) ?? 0
    const startedAt = rfc3339()
    this.later(oom.afterMs ?? 0, () => {
      if (this.terminated.has(key) || (this.restarts.get(key) ?? 0) !== instance || this.stopping.has(String(pod.metadata.uid))) return
      this.ended(key)
      for (const p of this.processes) if ((p as { gkrKey?: string }).gkrKey === key) killProcess(p)
      this.onKill(pod.metadata.uid!, c.name)
      if (restartAfterOom(pod)) return this.restart(pod, c, exits, { exitCode: 137, reason: 'OOMKilled', startedAt })
      exits.set(c.name, 137)
      this.terminate(pod, c.name, 137, 'OOMKilled', exits)
    })
  }

  /** Sets a container's terminated state; the pod phase follows once every container has ended. */
  private terminate(pod: Pod, container: string, exitCode: number, reason: string, exits: Map<string, number>): void {
    const t = rfc3339()
    const allDone = pod.spec.containers.every((x) => exits.has(x.name))
    this.updateContainer(pod, container, (s) => {
      const startedAt = (s.state as { running?: { startedAt?: string } } | undefined)?.running?.startedAt ?? t
      return { ...s, ready: false, started: false, state: { terminated: { exitCode, reason, startedAt, finishedAt: t } } }
    }, allDone ? { phase: [...exits.values()].every((e) => e === 0) ? 'Succeeded' : 'Failed' } : {})
  }

  stop(): void {
    this.store.events.off('change', this.onChange)
    for (const t of this.timers) clearTimeout(t)
    for (const p of this.processes) killProcess(p)
  }

  /**
   * The kubelet starts every container of the pod: its command and args (the runner's build and
   * helper shells, the service containers svc-N or their aliases, a probe) run as a local process
   * with the container's env, mounts and network; containers with `stdin: true` keep stdin open, as
   * the runtime does, so a shell waits and a service keeps serving. Their output is the container log,
   * their exit its terminated state (a command the host lacks: StartError, 128, as containerd reports
   * it). A container without command or args would run its image's entrypoint; there are no images
   * here, so it stays running without a process. Every process is killed with the pod.
   */
  private runContainers(scheduled: Pod): void {
    // As the API server has it now (bound, with its pod IP), which is what the pod's /etc/hosts holds.
    const pod = this.current(scheduled) ?? scheduled
    if (this.stopping.has(String(pod.metadata.uid)) || pod.metadata.deletionTimestamp) return
    const exits = new Map<string, number>()
    for (const c of pod.spec.containers) {
      this.logs.set(`${pod.metadata.uid}/${c.name}`, new ContainerLog())
      this.startContainer(pod, c, exits)
    }
  }

  /** Every init container has completed (or there is none): the app containers start, the pod is Running and Ready. */
  private startApp(pod: Pod, host: string): void {
    const statuses = (state: Record<string, unknown>, ready: boolean): unknown[] => pod.spec.containers.map((c) => ({ name: c.name, state, lastState: {}, ready, restartCount: 0, image: c.image, imageID: '', started: ready }))
    for (const c of pod.spec.containers) {
      this.startedEvents(pod, c, host, 'containers')
    }
    const t = rfc3339()
    const ip = this.ips.allocate()
    this.setStatus(pod, {
      phase: 'Running', podIP: ip, podIPs: [{ ip }],
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t })),
      containerStatuses: statuses({ running: { startedAt: t } }, true),
    })
    this.runContainers(pod)
  }

  /**
   * The kubelet runs the init containers one after another, each to completion, before any app
   * container starts (the runner's init-permissions container prepares the log file this way). While
   * one runs the pod is Pending, Initialized=False (ContainersNotInitialized) and the app containers
   * wait in PodInitializing. One that fails is run again after the back-off (Init:CrashLoopBackOff)
   * unless the pod's restartPolicy is Never, which fails the pod. An init container without command
   * or args would run its image's entrypoint; there are no images here, so it completes at once.
   */
  private runInitContainers(pod: Pod, host: string, index: number): void {
    const inits = pod.spec.initContainers ?? []
    const uid = String(pod.metadata.uid)
    const cur = this.current(pod)
    if (!cur || cur.metadata.uid !== uid || cur.metadata.deletionTimestamp || this.stopping.has(uid)) return
    if (index >= inits.length) return this.startApp(pod, host)
    const c = inits[index]!
    const key = `${uid}/${c.name}`
    const restarts = this.restarts.get(key) ?? 0
    const at = (): string => rfc3339()
    const initStatuses = (current: Record<string, unknown>, ready = false): unknown[] => inits.map((x, j) => {
      const prior = ((this.current(pod)?.status?.initContainerStatuses ?? []) as Array<Record<string, unknown>>).find((s) => s.name === x.name)
      if (j < index) return prior ?? { name: x.name, state: { terminated: { exitCode: 0, reason: 'Completed' } }, lastState: {}, ready: true, restartCount: 0, image: x.image, imageID: '', started: false }
      if (j === index) return { name: x.name, lastState: {}, restartCount: restarts, image: x.image, imageID: '', ...(prior?.lastState ? { lastState: prior.lastState } : {}), ...current, ready }
      return { name: x.name, state: { waiting: { reason: 'PodInitializing' } }, lastState: {}, ready: false, restartCount: 0, image: x.image, imageID: '', started: false }
    })
    const incomplete = inits.slice(index).map((x) => x.name).join(' ')
    const pending = (t: string): Record<string, unknown> => ({
      phase: 'Pending',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: t },
        { type: 'Initialized', status: 'False', lastProbeTime: null, lastTransitionTime: t, reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete}]` },
        { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: t, reason: 'ContainersNotReady', message: `containers with unready status: [${pod.spec.containers.map((x) => x.name).join(' ')}]` },
        { type: 'ContainersReady', status: 'False', lastProbeTime: null, lastTransitionTime: t, reason: 'ContainersNotReady', message: `containers with unready status: [${pod.spec.containers.map((x) => x.name).join(' ')}]` },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: t },
      ],
      containerStatuses: pod.spec.containers.map((x) => ({ name: x.name, state: { waiting: { reason: 'PodInitializing' } }, lastState: {}, ready: false, restartCount: 0, image: x.image, imageID: '', started: false })),
    })
    this.startedEvents(pod, c, host, 'initContainers')
    const startedAt = at()
    this.setStatus(pod, { ...pending(startedAt), initContainerStatuses: initStatuses({ state: { running: { startedAt } }, started: true }) })
    this.logs.set(key, new ContainerLog())
    const done = (exit: number, reason: string): void => {
      this.ended(key)
      const t = at()
      const terminated = { terminated: { exitCode: exit, reason, startedAt, finishedAt: t } }
      if (exit === 0) {
        this.setStatus(pod, { initContainerStatuses: initStatuses({ state: terminated, started: false }, true) })
        return this.runInitContainers(pod, host, index + 1)
      }
      if (restartPolicyOf(pod) === 'Never') {
        this.setStatus(pod, { ...pending(t), phase: 'Failed', initContainerStatuses: initStatuses({ state: terminated, started: false }) })
        return
      }
      const n = restarts + 1
      this.restarts.set(key, n)
      const wait = this.backOff.failed(key)
      this.setStatus(pod, { initContainerStatuses: initStatuses({ state: crashLoopWaiting(pod, c.name, wait), lastState: terminated, restartCount: n, started: false }) })
      this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`, 'kubelet', host, `spec.initContainers{${c.name}}`)
      this.later(wait * 1000, () => {
        this.previousLogs.set(key, this.logs.get(key) ?? new ContainerLog())
        this.terminated.delete(key)
        this.runInitContainers(pod, host, index)
      })
    }
    const command = [...(c.command ?? []), ...(c.args ?? [])]
    if (command.length === 0) return done(0, 'Completed')
    this.spawnContainer(pod, c.name, command, false, (exit, reason) => {
      if (this.stopping.has(uid)) {
        this.ended(key)
        return void this.confirmWhenStopped(pod)
      }
      done(exit, reason)
    })
  }

  /**
   * Starts one container's process. When it exits, the pod's restartPolicy decides (Always: always,
   * OnFailure: unless it exited 0, Never: not at all): a container that is restarted waits out the
   * kubelet's back-off in CrashLoopBackOff, its previous run in `lastState`; one that is not stays
   * terminated. Either way the pod is not Ready while a container is not running.
   */
  private startContainer(pod: Pod, c: Pod['spec']['containers'][number], exits: Map<string, number>): void {
    const key = `${pod.metadata.uid}/${c.name}`
    this.armOomKiller(pod, c, exits)
    const command = [...(c.command ?? []), ...(c.args ?? [])]
    if (command.length === 0) return
    const startedAt = rfc3339()
    this.spawnContainer(pod, c.name, command, c.stdin === true, (exit, reason) => {
      if (this.terminated.has(key)) return void this.confirmWhenStopped(pod)
      this.ended(key)
      if (!this.stopping.has(String(pod.metadata.uid)) && shouldRestart(restartPolicyOf(pod), exit)) return this.restart(pod, c, exits, { exitCode: exit, reason, startedAt })
      exits.set(c.name, exit)
      this.terminate(pod, c.name, exit, reason, exits)
      this.confirmWhenStopped(pod)
    })
  }

  /**
   * Runs a container's command as a local process of the pod (init and app containers alike): its
   * output is the container log, stdin stays open only for `keepStdin`, and `onExit` gets the exit code
   * and reason as containerd reports them (a command the host lacks: StartError, 128; a signal: 128+n).
   */
  private spawnContainer(pod: Pod, name: string, command: string[], keepStdin: boolean, onExit: (exit: number, reason: string) => void): void {
    const key = `${pod.metadata.uid}/${name}`
    const child = startProcess(pod, name, command, this.scenario.knobs.network ?? {}, { group: true })
    Object.assign(child, { gkrKey: key })
    this.processes.add(child)
    this.backOff.started(key)
    if (!keepStdin) child.stdin.end()
    child.stdin.on('error', () => undefined)
    const append = (d: Buffer): void => this.append(key, d.toString())
    child.stdout.on('data', append)
    child.stderr.on('data', append)
    let startError = false
    child.on('error', (err) => {
      startError = true
      append(Buffer.from(`${err.message}\n`))
    })
    child.on('close', (code, signal) => {
      this.processes.delete(child)
      const exit = startError ? 128 : code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 1)
      onExit(exit, startError ? 'StartError' : exit === 0 ? 'Completed' : 'Error')
    })
  }

  /** The kubelet's events for a container it starts: the image is there (no registry here), created, started. */
  private startedEvents(pod: Pod, c: { name: string; image: string }, host: string | undefined, list: 'containers' | 'initContainers'): void {
    const field = `spec.${list}{${c.name}}`
    this.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet', host, field)
    this.event(pod, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet', host, field)
    this.event(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet', host, field)
  }

  /** A container that exited and is to run again: CrashLoopBackOff for the back-off, then a new instance. */
  private restart(pod: Pod, c: Pod['spec']['containers'][number], exits: Map<string, number>, last: { exitCode: number; reason: string; startedAt: string }): void {
    const key = `${pod.metadata.uid}/${c.name}`
    const n = (this.restarts.get(key) ?? 0) + 1
    this.restarts.set(key, n)
    const wait = this.backOff.failed(key)
    const t = rfc3339()
    this.updateContainer(pod, c.name, (s) => ({ ...s, state: crashLoopWaiting(pod, c.name, wait), lastState: { terminated: { ...last, finishedAt: t } }, ready: false, started: false, restartCount: n }))
    this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`, 'kubelet', pod.spec.nodeName, `spec.containers{${c.name}}`)
    this.later(wait * 1000, () => {
      const cur = this.current(pod)
      if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp || this.stopping.has(String(pod.metadata.uid))) return
      this.previousLogs.set(key, this.logs.get(key) ?? new ContainerLog())
      this.logs.set(key, new ContainerLog())
      this.terminated.delete(key)
      const host = pod.spec.nodeName
      this.startedEvents(pod, c, host, 'containers')
      const at = rfc3339()
      this.updateContainer(pod, c.name, (s) => ({ ...s, state: { running: { startedAt: at } }, ready: true, started: true }))
      this.startContainer(pod, c, exits)
    })
  }

  /** Changes one container's status and recomputes the pod's Ready conditions from all of them. */
  private updateContainer(pod: Pod, container: string, change: (s: Record<string, unknown>) => Record<string, unknown>, extra: Record<string, unknown> = {}): void {
    const cur = this.current(pod)
    if (!cur || cur.metadata.uid !== pod.metadata.uid) return
    const statuses = ((cur.status?.containerStatuses ?? []) as Array<Record<string, unknown>>).map((s) => (s.name === container ? change(s) : s))
    const at = rfc3339()
    const notReady = statuses.filter((s) => !s.ready).map((s) => String(s.name))
    this.setStatus(pod, { containerStatuses: statuses, conditions: withConditions(cur.status?.conditions, readiness(notReady, at)), ...extra })
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      try {
        fn()
      } catch (err) {
        // The pod was deleted in the meantime: nothing to do. Anything else is a bug in the simulator:
        // recorded (tests assert there are none) instead of thrown, which would end the process.
        if (!(err instanceof StatusError && err.code === 404)) this.bugs.push(err)
      }
    }, ms * this.factor)
    this.timers.add(t)
  }

  private current(pod: Pod): Pod | undefined {
    return this.store.tryGet(res('pods'), pod.metadata.namespace, pod.metadata.name!) as Pod | undefined
  }

  private event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, component: string, host?: string, fieldPath?: string): void {
    const now = rfc3339()
    const scheduler = component === 'default-scheduler'
    this.store.create(res('events'), pod.metadata.namespace, {
      metadata: { name: `${pod.metadata.name}.${Date.now().toString(16)}${(this.eventSeq++).toString(16).padStart(6, '0')}`, namespace: pod.metadata.namespace },
      involvedObject: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: 'v1', ...(fieldPath ? { fieldPath } : {}) },
      reason, message, type, count: 1,
      source: { component, ...(host ? { host } : {}) },
      firstTimestamp: scheduler ? null : now, lastTimestamp: scheduler ? null : now, eventTime: scheduler ? `${now.slice(0, -1)}.000000Z` : null,
      reportingComponent: component, reportingInstance: host ?? '',
      ...(scheduler ? { action: 'Scheduling' } : {}),
    })
  }

  private setStatus(pod: Pod, status: Record<string, unknown>, nodeName?: string): void {
    const cur = this.current(pod)
    if (!cur) return
    this.store.update(res('pods'), pod.metadata.namespace, { ...cur, spec: { ...cur.spec, ...(nodeName ? { nodeName } : {}) }, status: { ...(cur.status ?? {}), ...status } }, { checkRv: false })
  }

  /**
   * Why a node cannot take the pod, or undefined when it fits. Like the scheduler's filter plugins,
   * in their default order (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit), the
   * first one that fails is the reason reported for the node.
   */
  private misfit(pod: Pod, node: Node, used: Record<string, number>): string | undefined {
    if (node.spec?.unschedulable) return 'node(s) were unschedulable'
    for (const t of (node.spec?.taints ?? []).filter((x) => x.effect === 'NoSchedule' || x.effect === 'NoExecute')) {
      const tolerated = (pod.spec.tolerations ?? []).some((tol) => (tol.key === undefined && tol.operator === 'Exists') || (tol.key === t.key && (tol.operator === 'Exists' || tol.value === (t.value ?? '')) && (!tol.effect || tol.effect === t.effect)))
      if (!tolerated) return 'node(s) had untolerated taint(s)'
    }
    const labels = node.metadata.labels ?? {}
    for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector"
    const terms = ((pod.spec.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }> } } })?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms) ?? []
    if (terms.length > 0 && !terms.some((t) => (t.matchExpressions ?? []).every((e) => (e.operator === 'In' ? e.values?.includes(labels[e.key] ?? '') : e.operator === 'NotIn' ? !e.values?.includes(labels[e.key] ?? '') : e.operator === 'Exists' ? e.key in labels : !(e.key in labels))))) {
      return "node(s) didn't match Pod's node affinity/selector"
    }
    const alloc = node.status?.allocatable ?? {}
    for (const r of ['cpu', 'memory']) {
      const want = pod.spec.containers.reduce((a, c) => a + q(c.resources?.requests?.[r] ?? 0), 0)
      if (alloc[r] !== undefined && want + (used[`${node.metadata.name}/${r}`] ?? 0) > q(alloc[r])) return `Insufficient ${r}`
    }
    return undefined
  }

  private schedule(pod: Pod): void {
    if (!this.current(pod)) return
    const nodes = this.store.list(res('nodes')) as Node[]
    // Every other bound pod's requests (this one is not bound yet, so it is not among them).
    const used = this.used
    const reasons = new Map<string, number>()
    const fit = nodes.find((n) => {
      const why = this.misfit(pod, n, used)
      if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1)
      return !why
    })
    const now = rfc3339()
    if (!fit) {
      const message = nodes.length === 0 ? 'no nodes available to schedule pods' : `0/${nodes.length} nodes are available: ${[...reasons].sort((a, b) => a[0].localeCompare(b[0])).map(([r, n]) => `${n} ${r}`).join(', ')}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`
      this.setStatus(pod, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'Unschedulable', message }] })
      this.event(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler')
      return
    }
    const host = fit.metadata.name!
    this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${host}`, 'default-scheduler')
    const waiting = (reason: string, message?: string): Record<string, unknown> => ({ waiting: { reason, ...(message ? { message } : {}) } })
    const statuses = (state: Record<string, unknown>, ready: boolean): unknown[] => pod.spec.containers.map((c) => ({ name: c.name, state, lastState: {}, ready, restartCount: 0, image: c.image, imageID: '', started: ready }))
    this.setStatus(pod, { phase: 'Pending', hostIP: '10.0.0.2', startTime: now, conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }], containerStatuses: statuses(waiting('ContainerCreating'), false) }, host)
    const windows = fit.metadata.labels?.['kubernetes.io/os'] === 'windows'
    if (windows && this.scenario.knobs.windowsChownBug) {
      this.event(pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed for volume "kube-api-access-${pod.metadata.uid!.slice(0, 5)}" : chown c:\\var\\lib\\kubelet\\pods\\${pod.metadata.uid}\\volumes\\kubernetes.io~projected\\kube-api-access-${pod.metadata.uid!.slice(0, 5)}\\..2026_11_24_00_00_00.000000000\\token: not supported by windows`, 'kubelet', host)
      return
    }
    const failing = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => (this.scenario.knobs.imagePull?.fail ?? []).some((pat) => c.image.includes(pat)))
    this.later(this.scenario.knobs.imagePull?.delayMs ?? 0, () => {
      if (failing) {
        const ref = fullReference(failing.image)
        const err = `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`
        this.event(pod, 'Normal', 'Pulling', `Pulling image "${failing.image}"`, 'kubelet', host, `spec.containers{${failing.name}}`)
        this.event(pod, 'Warning', 'Failed', `Failed to pull image "${failing.image}": ${err}`, 'kubelet', host, `spec.containers{${failing.name}}`)
        this.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull', 'kubelet', host, `spec.containers{${failing.name}}`)
        this.setStatus(pod, { phase: 'Pending', containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, state: c === failing ? waiting('ErrImagePull', err) : waiting('ContainerCreating'), lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', started: false })) })
        this.later(1000, () => {
          this.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${failing.image}"`, 'kubelet', host, `spec.containers{${failing.name}}`)
          this.event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', 'kubelet', host, `spec.containers{${failing.name}}`)
          this.setStatus(pod, { containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, state: c === failing ? waiting('ImagePullBackOff', `Back-off pulling image "${failing.image}"`) : waiting('ContainerCreating'), lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', started: false })) })
        })
        return
      }
      this.runInitContainers(pod, host, 0)
    })
  }
}

/**
 * The image reference as containerd resolves it: Docker Hub names get `docker.io/` (and `library/`
 * for official images), names whose first part is a registry host (has a dot or a port, or is
 * localhost) stay as they are.
 */
export function fullReference(image: string): string {
  const first = image.split('/')[0]!
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return image
  return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`
}
