/**
 * pods/exec and pods/attach over WebSocket, with the channel protocols kubectl and client-node
 * negotiate (v5.channel.k8s.io, v4.channel.k8s.io): frames are [channel, ...bytes]; 0 stdin,
 * 1 stdout, 2 stderr, 3 the final Status, 255 "close this channel" (v5). A command runs as a local
 * child process in the pod's private directory; the pod's volume mounts (/builds, /scripts-…) are
 * directories inside it, and absolute paths under a mount are rewritten to them, so a real job
 * script runs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Obj } from './store.js'

export const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io']

export interface ExecTarget {
  pod: Obj
  container: string
  command: string[]
  stdin: boolean
  /** pods/attach: what is written to stdin is typed into the container's shell, so its paths are mapped too (as for a plain `sh` exec). */
  attach?: boolean
  /** pods/attach to a container that runs a process: that process (its stdin and output), not a new one. */
  process?: ChildProcessWithoutNullStreams
}

/** What a session needs from its transport (WebSocket channels or SPDY streams). */
export interface SessionIO {
  stdout(d: Buffer): void
  stderr(d: Buffer): void
  /** The final Status (the error channel); the transport closes after sending it. */
  finish(status: Record<string, unknown>): void
  /** Registers what to do with stdin bytes and with the end of stdin. */
  onInput(stdin: (d: Buffer) => void, end: () => void): void
  /** Registers what to do when the client goes away. */
  onClose(cb: () => void): void
}

const podDirPath = (pod: Obj): string => path.join(os.tmpdir(), 'gkr-sim-pods', String(pod.metadata.uid))

/** Where a pod's containers keep their files (created on first use; `removePodDir` removes it). */
export function podDir(pod: Obj): string {
  const dir = podDirPath(pod)
  mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * Removes a pod's directory: when the pod is deleted (its containers were killed just before) and, for
 * the pods still there, when the simulator stops. The parent gkr-sim-pods goes too once it is empty
 * (other simulators in other processes may still use it).
 */
export function removePodDir(pod: Obj): void {
  const dir = podDirPath(pod)
  // A killed process may still be exiting: a few retries cover a file it wrote a moment ago.
  rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 10 })
  try {
    rmdirSync(path.dirname(dir))
  } catch {
    // Not empty (another pod, another simulator) or gone already.
  }
}

interface Mount {
  mountPath: string
  dir: string
}

function mountsOf(pod: Obj, container: string): Mount[] {
  const spec = pod.spec as { containers?: Array<{ name: string; volumeMounts?: Array<{ name: string; mountPath: string }> }>; initContainers?: Array<{ name: string; volumeMounts?: Array<{ name: string; mountPath: string }> }> }
  const c = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].find((x) => x.name === container)
  const root = podDir(pod)
  const mounts = (c?.volumeMounts ?? []).map((m) => ({ mountPath: m.mountPath.replace(/\/+$/, ''), dir: path.join(root, 'volumes', m.name) }))
  for (const m of mounts) mkdirSync(m.dir, { recursive: true })
  // Longest first, so /builds/x wins over /builds.
  return mounts.sort((a, b) => b.mountPath.length - a.mountPath.length)
}

/** Rewrites absolute paths under a mount to the pod's directory for that volume. */
export function translate(text: string, mounts: Mount[]): string {
  let out = text
  for (const m of mounts) {
    if (!m.mountPath || m.mountPath === '/') continue
    out = out.replace(new RegExp(`(^|[\\s'"=:(])${m.mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[/\\s'";:)])`, 'g'), `$1${m.dir}`)
  }
  return out
}

export interface PodNetwork {
  dns?: Record<string, string | null>
  /** Names not listed resolve to 10.0.0.x (true) or not at all (false). */
  resolveOthers?: boolean
  mtu?: number
}

/** The entries of the pod's /etc/hosts as the kubelet writes it: localhost, the pod's own name, then spec.hostAliases. */
export function hostsEntries(pod: Obj): Array<{ ip: string; hostname: string }> {
  const spec = pod.spec as { hostAliases?: Array<{ ip?: string; hostnames?: string[] }> }
  const podIP = (pod.status as { podIP?: string } | undefined)?.podIP
  return [
    { ip: '127.0.0.1', hostname: 'localhost' },
    ...(podIP ? [{ ip: podIP, hostname: String(pod.metadata.name) }] : []),
    ...(spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((hostname) => ({ ip: String(a.ip ?? ''), hostname }))),
  ].filter((e) => e.ip && /^[A-Za-z0-9.-]+$/.test(e.hostname))
}

/** Writes a file whole or not at all, so a shim another process runs is never seen half-written. */
function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
  writeFileSync(tmp, text, { mode })
  renameSync(tmp, file)
}

/**
 * The pod network as commands in the pod see it: `getent hosts` and `nslookup` answer first from the
 * pod's /etc/hosts (localhost, its own name, spec.hostAliases: where the runner points every service
 * alias at 127.0.0.1), then from the scenario's DNS table, as the resolver reads files before DNS;
 * /sys/class/net/eth0/mtu holds the network's MTU (shims first on PATH).
 */
function networkShims(pod: Obj, net: PodNetwork): { bin: string; mtuFile: string } {
  const root = podDir(pod)
  const bin = path.join(root, '.sim-bin')
  mkdirSync(bin, { recursive: true })
  // The first matching entry wins, as in /etc/hosts; `case` takes the first matching pattern too.
  const seen = new Set<string>()
  const hosts = hostsEntries(pod).filter((e) => !seen.has(e.hostname) && seen.add(e.hostname)).map((e) => `${e.hostname}) ADDR=${e.ip} ;;`)
  // `return`, not `exit`: a failed lookup must leave the caller (nslookup) free to print NXDOMAIN.
  const table = Object.entries(net.dns ?? {}).map(([h, a]) => `${h}) ${a === null ? 'return 2' : `ADDR=${a}`} ;;`)
  const fallback = net.resolveOthers === false ? 'return 2' : 'ADDR=10.0.0.53'
  const ip = '[0-9]*.[0-9]*.[0-9]*.[0-9]*) ADDR=$1 ;;'
  const lookup = `#!/bin/sh\n# gkr sim: the pod's /etc/hosts, then the DNS answers of the scenario's pod network\nlookup() {\n  case "$1" in\n    ${[ip, ...hosts, ...table].join('\n    ')}\n    *) ${fallback} ;;\n  esac\n}\n`
  writeAtomic(path.join(bin, 'getent'), `${lookup}[ "$1" = hosts ] || exit 1\nlookup "$2" || exit 2\necho "$ADDR       $2"\n`, 0o755)
  writeAtomic(path.join(bin, 'nslookup'), `${lookup}echo "Server:         10.96.0.10"\necho "Address:        10.96.0.10#53"\necho\nif lookup "$1"; then echo "Name:   $1"; echo "Address: $ADDR"; else echo "** server can't find $1: NXDOMAIN"; exit 1; fi\n`, 0o755)
  const mtuFile = path.join(root, '.sim-mtu')
  writeAtomic(mtuFile, `${net.mtu ?? 1450}\n`, 0o644)
  return { bin, mtuFile }
}

function envOf(pod: Obj, container: string, mounts: Mount[], net: PodNetwork): NodeJS.ProcessEnv {
  const spec = pod.spec as { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> }
  const c = (spec.containers ?? []).find((x) => x.name === container)
  const { bin } = networkShims(pod, net)
  const env: NodeJS.ProcessEnv = { PATH: `${bin}:${process.env.PATH}`, HOME: path.join(podDir(pod), 'home'), HOSTNAME: String(pod.metadata.name) }
  mkdirSync(env.HOME!, { recursive: true })
  for (const e of c?.env ?? []) env[e.name] = translate((e.value ?? '').replaceAll('$$', '$'), mounts)
  return env
}

const frame = (channel: number, data: Buffer | string): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)])

const containerProcesses = new Set<ChildProcessWithoutNullStreams>()
let exitHook = false

/**
 * Starts a container command as a local process, with the pod's mounts, env and network. A
 * container's main process (`group`) leads a process group of its own, so killing the container
 * kills everything it started (a `sh -c` service and the server it runs), as a container's cgroup does.
 */
export function startProcess(pod: Obj, container: string, command: string[], net: PodNetwork, opts: { group?: boolean } = {}): ChildProcessWithoutNullStreams {
  const mounts = mountsOf(pod, container)
  const workdir = mounts.find((m) => m.mountPath === '/builds')?.dir ?? podDir(pod)
  const env = envOf(pod, container, mounts, net)
  const mtu = path.join(podDir(pod), '.sim-mtu')
  const [cmd, ...args] = command.map((a) => translate(a, mounts).replaceAll('/sys/class/net/eth0/mtu', mtu))
  const child = spawn(cmd!, args, { cwd: workdir, env, stdio: ['pipe', 'pipe', 'pipe'], detached: opts.group === true })
  if (opts.group) {
    Object.assign(child, { gkrGroup: true })
    containerProcesses.add(child)
    child.on('close', () => containerProcesses.delete(child))
    if (!exitHook) {
      exitHook = true
      // A container leads a process group of its own, so nothing else would end it: if this process
      // exits without stopping the simulator (a test runner's worker going away), its containers go too.
      process.once('exit', () => {
        for (const c of containerProcesses) killProcess(c)
      })
    }
  }
  return child
}

/** Kills (or, with SIGTERM, asks to stop) a process started with `group` and every process in its group (or just the process otherwise). */
export function killProcess(child: ChildProcessWithoutNullStreams, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): void {
  if (child.pid !== undefined && (child as { gkrGroup?: boolean }).gkrGroup) {
    try {
      process.kill(-child.pid, signal)
      return
    } catch {
      // The group is gone already; fall through to the process itself.
    }
  }
  child.kill(signal)
}

/** `sh`, `bash`, … with no script argument (or `-s`): it reads its commands from stdin. */
function isPlainShell(command: string[]): boolean {
  const [cmd, ...args] = command
  return /^(?:\/(?:usr\/)?bin\/)?(?:sh|bash|ash|dash)$/.test(cmd ?? '') && args.every((a) => a === '-s' || a === '-e')
}

export class ExecServer {
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => PROTOCOLS.find((p) => protocols.has(p)) ?? false })
  private readonly children = new Set<ChildProcessWithoutNullStreams>()

  /** Ends every exec/attach session in a container (the container was killed). */
  killContainer(podUid: string, container: string): void {
    for (const c of this.children) if ((c as { gkrKey?: string }).gkrKey === `${podUid}/${container}`) killProcess(c)
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ExecTarget): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, target))
  }

  close(): void {
    for (const c of this.children) killProcess(c)
    for (const c of this.wss.clients) c.terminate()
    this.wss.close()
  }

  constructor(private readonly net: PodNetwork = {}) {}

  private run(ws: WebSocket, t: ExecTarget): void {
    // An empty frame on the lowest output channel first, as the API server's translator sends.
    ws.send(frame(1, Buffer.alloc(0)))
    this.session(t, {
      stdout: (d) => ws.send(frame(1, d)),
      stderr: (d) => ws.send(frame(2, d)),
      finish: (status) => ws.send(frame(3, JSON.stringify(status)), () => ws.close(1000)),
      onInput: (stdin, end) => ws.on('message', (data: Buffer) => {
        const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)
        if (buf[0] === 0) stdin(buf.subarray(1))
        else if (buf[0] === 255 && buf[1] === 0) end()
      }),
      onClose: (cb) => ws.on('close', cb),
    })
  }

  /**
   * One exec or attach session over any transport (WebSocket, SPDY). exec runs its command as a new
   * process; attach connects to the container's own process when it has one (`target.process`):
   * the session's stdin goes to that process, its output comes to the session, and the session ends
   * when the process does; detaching leaves it running. A container without a process (its image's
   * entrypoint, not simulated) gets a shell of the session's own.
   */
  session(t: ExecTarget, io: SessionIO): void {
    // Shell code typed on stdin (an attached shell, or a plain `sh` reading its script) names container
    // paths, so they are mapped like a command's arguments; any other stdin (a tar stream) is bytes.
    const typedIntoShell = t.attach === true || isPlainShell(t.command)
    const own = t.process === undefined
    // A process group of its own, so what the session started (a job script's `sleep`) ends with it.
    const child = t.process ?? startProcess(t.pod, t.container, t.command, this.net, { group: true })
    if (own) {
      Object.assign(child, { gkrKey: `${t.pod.metadata.uid}/${t.container}` })
      this.children.add(child)
      if (!t.stdin) child.stdin.end()
      child.stdin.on('error', () => undefined)
    }
    let done = false
    const onStdout = (d: Buffer): void => io.stdout(d)
    const onStderr = (d: Buffer): void => io.stderr(d)
    const detach = (): void => {
      child.stdout.off('data', onStdout)
      child.stderr.off('data', onStderr)
      child.off('close', onExit)
      child.off('error', onError)
    }
    const finish = (status: Record<string, unknown>): void => {
      if (done) return
      done = true
      detach()
      io.finish(status)
    }
    const onError = (err: Error): void => {
      this.children.delete(child)
      finish({ metadata: {}, status: 'Failure', message: `Internal error occurred: error executing command in container: ${err.message}`, reason: 'InternalError', details: { causes: [{ message: err.message }] }, code: 500 })
    }
    const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
      this.children.delete(child)
      const exit = code ?? (sig ? 137 : 1)
      finish(exit === 0
        ? { metadata: {}, status: 'Success' }
        : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${t.command.join(' ')}], exit code ${exit}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(exit) }] } })
    }
    child.stdout.on('data', onStdout)
    child.stderr.on('data', onStderr)
    child.on('error', onError)
    child.on('close', onExit)
    io.onInput(
      (d) => {
        if (t.stdin && child.stdin.writable) child.stdin.write(typedIntoShell ? translate(d.toString(), mountsOf(t.pod, t.container)) : d)
      },
      () => {
        if (own) child.stdin.end()
      },
    )
    io.onClose(() => {
      if (own && t.stdin) child.stdin.end()
      if (!own) detach()
    })
  }
}
