/**
 * pods/exec and pods/attach over WebSocket, with the channel protocols kubectl and client-node
 * negotiate (v5.channel.k8s.io, v4.channel.k8s.io): frames are [channel, ...bytes]; 0 stdin,
 * 1 stdout, 2 stderr, 3 the final Status, 255 "close this channel" (v5). A command runs as a local
 * child process in the pod's private directory; the pod's volume mounts (/builds, /scripts-…) are
 * directories inside it, and absolute paths under a mount are rewritten to them, so a real job
 * script runs.
 */
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
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
}

/** Where a pod's containers keep their files. */
export function podDir(pod: Obj): string {
  const dir = path.join(os.tmpdir(), 'gkr-sim-pods', String(pod.metadata.uid))
  mkdirSync(dir, { recursive: true })
  return dir
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

function envOf(pod: Obj, container: string, mounts: Mount[]): NodeJS.ProcessEnv {
  const spec = pod.spec as { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> }
  const c = (spec.containers ?? []).find((x) => x.name === container)
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(podDir(pod), 'home'), HOSTNAME: String(pod.metadata.name) }
  mkdirSync(env.HOME!, { recursive: true })
  for (const e of c?.env ?? []) env[e.name] = translate((e.value ?? '').replaceAll('$$', '$'), mounts)
  return env
}

const frame = (channel: number, data: Buffer | string): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)])

export class ExecServer {
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => PROTOCOLS.find((p) => protocols.has(p)) ?? false })
  private readonly children = new Set<ReturnType<typeof spawn>>()

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ExecTarget): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, target))
  }

  close(): void {
    for (const c of this.children) c.kill('SIGKILL')
    for (const c of this.wss.clients) c.terminate()
    this.wss.close()
  }

  private run(ws: WebSocket, t: ExecTarget): void {
    const mounts = mountsOf(t.pod, t.container)
    const workdir = mounts.find((m) => m.mountPath === '/builds')?.dir ?? podDir(t.pod)
    const [cmd, ...args] = t.command.map((a) => translate(a, mounts))
    const child = spawn(cmd!, args, { cwd: workdir, env: envOf(t.pod, t.container, mounts), stdio: ['pipe', 'pipe', 'pipe'] })
    this.children.add(child)
    if (!t.stdin) child.stdin.end()
    child.stdin.on('error', () => undefined)
    // An empty frame on the lowest output channel first, as the API server's translator sends.
    ws.send(frame(1, Buffer.alloc(0)))
    child.stdout.on('data', (d: Buffer) => ws.send(frame(1, d)))
    child.stderr.on('data', (d: Buffer) => ws.send(frame(2, d)))
    ws.on('message', (data: Buffer) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)
      if (buf[0] === 0 && t.stdin) child.stdin.write(buf.subarray(1))
      else if (buf[0] === 255 && buf[1] === 0) child.stdin.end()
    })
    ws.on('close', () => {
      if (t.stdin) child.stdin.end()
    })
    child.on('error', (err) => {
      this.children.delete(child)
      ws.send(frame(3, JSON.stringify({ metadata: {}, status: 'Failure', message: `Internal error occurred: error executing command in container: ${err.message}`, reason: 'InternalError', details: { causes: [{ message: err.message }] }, code: 500 })))
      ws.close(1000)
    })
    child.on('close', (code, sig) => {
      this.children.delete(child)
      const exit = code ?? (sig ? 137 : 1)
      const status = exit === 0
        ? { metadata: {}, status: 'Success' }
        : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${t.command.join(' ')}], exit code ${exit}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(exit) }] } }
      ws.send(frame(3, JSON.stringify(status)), () => ws.close(1000))
    })
  }
}
