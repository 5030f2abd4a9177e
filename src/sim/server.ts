import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { Socket } from 'node:net'
import jsonPatch, { type Operation as JsonPatchOperation } from 'fast-json-patch'
import { RESOURCES, findResource, groupVersion, qualified, verbsOf, type ResourceDef } from './resources.js'
import { type Store, type Obj, involvedObjectNameOf } from './store.js'
import { impersonationHeaders } from './impersonation.js'
import { OPENAPI_V2_PROTOBUF_REPLY, wantsProtobufV2, openApiV2Json, openApiV2Protobuf } from './openapi-v2.js'
import { Authorizer, forbiddenWhy, impersonated, type Attributes, type User } from './rbac.js'
import { StatusError, badRequest, conflict, etcdError, forbidden, timeoutError, unauthorized } from './status.js'
import { mutate, validate, type AdmissionContext, type Operation } from './admission.js'
import { applyWithManagers, recordUpdate } from './managed-fields.js'
import { checkPodUpdate, mergePatch, strategicMerge } from './merge.js'
import { quotaCells } from './quota-status.js'
import { scaleOf, withScale } from './scale.js'
import { workloadColumns } from './workload-tables.js'
import { parse as parseYaml } from 'yaml'
import { reviewFromProtobuf } from './protobuf.js'
import { objectFromProtobuf } from './protobuf-objects.js'
import { faultFires, userOf, type Fault, type Scenario } from './scenario.js'
import type { Certs } from './tls.js'
import { ExecServer, type ExecTarget } from './exec.js'
import { SPDY_PROTOCOLS, acceptSpdy, negotiate } from './spdy.js'
import { gracePeriodOf, isNamespaces, namespaceUpdate } from './lifecycle.js'
import { IMMORTAL_NAMESPACES, checkNamespaceLifecycle } from './namespaces.js'
import { ByteLimit, formatLine, parseLogOptions, renderLog, type ContainerLog, type LogOptions } from './pod-logs.js'
import { applyDefaults, qosClass } from './defaults.js'
import { checkShape, labelKeyError, labelValueError, validateObject } from './validation.js'
import type { Duplex } from 'node:stream'
import type { EventEmitter } from 'node:events'
import { rfc3339 } from './time.js'

export interface AuditEntry {
  time: string
  user: string
  verb: string
  method: string
  path: string
  /** Path and query, as a real audit log's requestURI records it (exec commands travel in the query). */
  requestURI: string
  group?: string
  resource?: string
  subresource?: string
  namespace?: string
  name?: string
  dryRun: boolean
  /** HTTP status of the answer; -1 when the connection was dropped without one. */
  code: number
  /** Annotations admission added to the event (Pod Security's `pod-security.kubernetes.io/…`). */
  annotations?: Record<string, string>
}

export const K8S_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.1', gitCommit: '8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828', gitTreeState: 'clean', buildDate: '2025-05-15T08:19:14Z', goVersion: 'go1.24.2', compiler: 'gc', platform: 'linux/amd64' }

/** Verbs that change nothing: what "no persistent writes" means in the audit log. */
export const READ_VERBS = new Set(['get', 'list', 'watch'])

interface Route {
  def: ResourceDef
  namespace?: string
  name?: string
  subresource?: string
}

export interface SimServerOptions {
  scenario: Scenario
  certs: Certs
  store: Store
  latencyMs?: number
  sleep: (ms: number) => Promise<void>
  /** The kubelet's container logs: what was written so far, and a stream for `follow`. */
  logs?: LogSource
  /** How often a watch that asked for bookmarks gets one (the API server: about once a minute). */
  bookmarkMs?: number
  /** The main process of a running container (pods/attach connects to it), by pod uid and container. */
  containerProcess?: (podUid: string, container: string) => ExecTarget['process']
}

export interface LogSource {
  /** Output so far of a container, line by line with the time of each, by "podUid/container". */
  logs: Map<string, ContainerLog>
  /** 'data' (key, chunk, at) and 'end' (key). */
  logEvents: EventEmitter
  /** Keys of containers that have terminated. */
  terminated: Set<string>
  /** Output of each restarted container's previous instance. */
  previousLogs?: Map<string, ContainerLog>
}

export class SimServer {
  readonly audit: AuditEntry[] = []
  /** Errors that were no Status: bugs in the simulator, answered with 500 and kept here for tests. */
  readonly bugs: unknown[] = []
  readonly server: Server
  private readonly authz: Authorizer
  private readonly tokens = new Map<string, User>()
  private requests = 0
  private readonly faultCounts: number[] = []
  private readonly sockets = new Set<Socket>()
  private readonly watchers = new Set<() => void>()
  private readonly exec: ExecServer

  constructor(private readonly opts: SimServerOptions) {
    this.authz = new Authorizer(opts.store)
    this.exec = new ExecServer(opts.scenario.knobs.network ?? {})
    for (const id of opts.scenario.identities) this.tokens.set(id.token, userOf(id))
    // Like kube-apiserver, the simulator speaks HTTP/2 to clients that offer it in the TLS handshake
    // (ALPN: kubectl, gkr) and HTTP/1.1 to the others; exec/attach upgrades are HTTP/1.1 (clients
    // open a separate connection for them and offer only http/1.1 there).
    const http1 = createHttpServer((req, res) => void this.handle(req, res).catch(() => res.destroy()))
    http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head).catch(() => socket.destroy()))
    const http2 = createHttp2Server((req: Http2ServerRequest, res: Http2ServerResponse) => void this.handle(asHttp1Request(req), res as unknown as ServerResponse).catch(() => res.stream.destroy()))
    this.server = createTlsServer({ key: opts.certs.keyPem, cert: opts.certs.certPem, ALPNProtocols: ['h2', 'http/1.1'] }, (socket: TLSSocket) => {
      ;(socket.alpnProtocol === 'h2' ? http2 : http1).emit('connection', socket)
    })
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => resolve())
    })
    const addr = this.server.address()
    return typeof addr === 'object' && addr ? addr.port : port
  }

  private gone = false

  /** Stops listening (new connections are refused) and drops every open connection. */
  private goAway(): void {
    if (!this.gone) {
      this.gone = true
      const addr = this.server.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      const back = this.opts.scenario.knobs.comeBackAfterMs
      this.server.close(() => {
        if (back === undefined || this.closed) return
        this.comeBack = setTimeout(() => {
          if (this.closed) return
          this.server.listen(port, '127.0.0.1', () => (this.gone = false))
        }, back * this.factor)
      })
    }
    for (const s of this.sockets) s.destroy()
  }

  private closed = false
  private cameBack = false
  private comeBack?: NodeJS.Timeout
  private readonly late = new WeakMap<ServerResponse, () => never>()

  private get factor(): number {
    return this.opts.scenario.knobs.clockFactor ?? 1
  }

  /** Ends the exec/attach sessions of a container that was killed. */
  killContainer(podUid: string, container: string): void {
    this.exec.killContainer(podUid, container)
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.comeBack) clearTimeout(this.comeBack)
    this.exec.close()
    for (const stop of this.watchers) stop()
    for (const s of this.sockets) s.destroy()
    if (!this.gone) await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    const entry: AuditEntry = { time: new Date().toISOString(), user: '', verb: '', method: req.method ?? 'GET', path: url.pathname, requestURI: url.pathname + url.search, dryRun: url.searchParams.get('dryRun') === 'All', code: 0 }
    this.requests++
    const knobs = this.opts.scenario.knobs
    try {
      if (knobs.goAwayAfter !== undefined && this.requests > knobs.goAwayAfter && !this.cameBack) {
        // The API server goes away: this request is dropped, and from now on connections are refused.
        entry.code = -1
        if (knobs.comeBackAfterMs !== undefined) this.cameBack = true
        this.goAway()
        return
      }
      const latency = this.opts.latencyMs ?? knobs.latencyMs ?? 0
      if (latency > 0) await new Promise((r) => setTimeout(r, latency))
      const body = await readBody(req)
      if (url.pathname.startsWith('/api/v4/')) return this.gitlab(req, res, url, body, entry)
      const user = this.authenticate(req, entry)
      entry.user = user.name
      const route = this.route(url.pathname)
      const verb = verbOf(req.method ?? 'GET', route, url)
      entry.verb = verb
      if (route && typeof route !== 'string') Object.assign(entry, { group: route.def.group || undefined, resource: route.def.resource, subresource: route.subresource, namespace: route.namespace, name: route.name })
      const late = this.injectFault(verb, route && typeof route !== 'string' ? route.def.resource : '*', req)
      if (late) this.late.set(res, late)
      await this.dispatch(req, res, url, user, route, verb, body, entry)
    } catch (err) {
      this.late.delete(res)
      if (err instanceof StatusError) {
        entry.code = err.code
        if (err.code === 429) {
          res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Retry-After': '1' })
          res.end('Too many requests, please try again later.\n')
        } else this.send(res, err.code, err.body(), err.headers)
      } else if ((err as Error).message === 'reset') {
        entry.code = -1
        req.socket.destroy()
      } else {
        // A bug in the simulator: answered as the API server answers a panic in a handler, never a crash.
        entry.code = 500
        this.bugs.push(err)
        this.send(res, 500, new StatusError(500, `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, 'InternalError').body())
      }
    } finally {
      if (!entry.code) entry.code = res.statusCode
      this.audit.push(entry)
    }
  }

  /** WebSocket upgrades: pods/exec and pods/attach. Refusals answer with the Status as plain HTTP. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    const entry: AuditEntry = { time: new Date().toISOString(), user: '', verb: 'create', method: req.method ?? 'GET', path: url.pathname, requestURI: url.pathname + url.search, dryRun: false, code: 101 }
    try {
      // The latency knob delays an exec/attach upgrade as it delays every other request.
      const latency = this.opts.latencyMs ?? this.opts.scenario.knobs.latencyMs ?? 0
      if (latency > 0) await new Promise((r) => setTimeout(r, latency))
      const user = this.authenticate(req, entry)
      entry.user = user.name
      const route = this.route(url.pathname)
      if (typeof route !== 'object' || !route || (route.subresource !== 'exec' && route.subresource !== 'attach')) throw new StatusError(404, 'the server could not find the requested resource', 'NotFound')
      Object.assign(entry, { resource: route.def.resource, subresource: route.subresource, namespace: route.namespace, name: route.name })
      // Faults match the upgrade as "create pods/exec" or "create pods/attach" (and "* *").
      this.injectFault('create', `pods/${route.subresource}`, req)
      // WebSocket upgrades are GETs; current API servers also require create (k8s-api.md §4.3). SPDY is a POST: create.
      const spdy = /^spdy\//i.test(String(req.headers.upgrade ?? ''))
      for (const verb of spdy ? ['create'] : ['create', 'get']) this.authorize({ user, verb, group: '', resource: 'pods', subresource: route.subresource, ...(route.namespace ? { namespace: route.namespace } : {}), name: route.name! }, route)
      const pod = this.opts.store.get(route.def, route.namespace, route.name!)
      const spec = pod.spec as { containers?: Array<{ name: string }>; nodeName?: string }
      if (!spec.nodeName) throw badRequest(`pod ${route.name} does not have a host assigned`)
      const phase = (pod.status as { phase?: string } | undefined)?.phase
      if (phase !== 'Running') throw badRequest(`unable to upgrade connection: container not found ("${url.searchParams.get('container') ?? spec.containers?.[0]?.name}")`)
      const container = url.searchParams.get('container') ?? spec.containers?.[0]?.name ?? ''
      if (!spec.containers?.some((c) => c.name === container)) throw badRequest(`container ${container} is not valid for pod ${route.name}`)
      const cs = ((pod.status as { containerStatuses?: Array<{ name: string; state?: { terminated?: unknown } }> } | undefined)?.containerStatuses ?? []).find((c) => c.name === container)
      if (cs?.state?.terminated) throw badRequest(`unable to upgrade connection: container not found ("${container}")`)
      const command = route.subresource === 'exec' ? url.searchParams.getAll('command') : ['sh']
      const attach = route.subresource === 'attach'
      const target = { pod, container, command, stdin: parseBool(url, 'stdin'), attach, ...(attach ? { process: this.opts.containerProcess?.(String(pod.metadata.uid), container) } : {}) }
      if (!target.process) delete target.process
      if (spdy) return this.spdy(req, socket, head, url, target)
      this.exec.upgrade(req, socket, head, target)
    } catch (err) {
      if ((err as Error).message === 'reset') {
        entry.code = -1
        socket.destroy()
        return
      }
      if (!(err instanceof StatusError)) this.bugs.push(err)
      const e = err instanceof StatusError ? err : new StatusError(500, `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, 'InternalError')
      entry.code = e.code
      const body = JSON.stringify(e.body())
      socket.end(`HTTP/1.1 ${e.code} ${e.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    } finally {
      this.audit.push(entry)
    }
  }

  /** SPDY/3.1 remotecommand (spdy.ts): 403 with the handshake's words when no channel protocol is shared. */
  private spdy(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, target: ExecTarget): void {
    const protocol = negotiate(req)
    if (!protocol) throw new StatusError(403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(String(req.headers['x-stream-protocol-version'] ?? ''))}, server accepts [${SPDY_PROTOCOLS.join(' ')}]`, 'Forbidden')
    acceptSpdy(socket, head, protocol, { stdin: target.stdin, stdout: parseBool(url, 'stdout'), stderr: parseBool(url, 'stderr'), tty: parseBool(url, 'tty') }, (io) => this.exec.session(target, io))
  }

  /**
   * Throws the first fault that fires for this request; a fault that fires `after` the request is carried
   * out is returned instead (send() throws it in place of the answer).
   */
  private injectFault(verb: string, resource: string, _req: IncomingMessage): (() => never) | undefined {
    let late: (() => never) | undefined
    for (const [i, f] of (this.opts.scenario.knobs.faults ?? []).entries()) {
      const [v, r] = f.match.split(' ')
      if ((v !== '*' && v !== verb) || (r !== '*' && r !== resource)) continue
      // Deterministic: every (1/rate)-th matching request fails, so scenarios reproduce exactly.
      const n = (this.faultCounts[i] = (this.faultCounts[i] ?? 0) + 1)
      if (!faultFires(f, n)) continue
      if (f.after) late ??= () => throwFault(f)
      else throwFault(f)
    }
    return late
  }

  /** The requester, or whom it impersonates; a refused impersonation is audited as the requester's. */
  private authenticate(req: IncomingMessage, entry?: AuditEntry): User {
    const auth = req.headers.authorization ?? ''
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : ''
    const user = this.tokens.get(token)
    if (!user) throw unauthorized()
    if (entry) entry.user = user.name
    const imp = impersonationHeaders(req)
    if (imp) {
      const r = impersonated(this.authz, user, imp.user, imp.groups, imp)
      if ('denied' in r) throw forbidden(r.denied.group ? `${r.resource}.${r.denied.group}` : r.resource, r.denied.group ?? '', r.resource, r.name, forbiddenWhy(r.denied, ''))
      return r
    }
    return user
  }

  /** Resource path → route; otherwise the path itself (discovery and other non-resource URLs). */
  private route(pathname: string): Route | string | undefined {
    const parts = pathname.split('/').filter(Boolean)
    let group = ''
    let version: string
    let rest: string[]
    if (parts[0] === 'api' && parts.length >= 3) {
      version = parts[1]!
      rest = parts.slice(2)
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1]!
      version = parts[2]!
      rest = parts.slice(3)
    } else return pathname
    let namespace: string | undefined
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1]
      rest = rest.slice(2)
    }
    const def = findResource(group, version, rest[0]!)
    if (!def) {
      if (rest[0] === 'namespaces' && rest.length <= 2) {
        const nsDef = findResource('', 'v1', 'namespaces')!
        return { def: nsDef, ...(rest[1] ? { name: rest[1] } : namespace ? { name: namespace } : {}) }
      }
      // namespaces/<name>/finalize and namespaces/<name>/status.
      if (namespace && rest.length === 1 && (rest[0] === 'finalize' || rest[0] === 'status')) return { def: findResource('', 'v1', 'namespaces')!, name: namespace, subresource: rest[0] }
      return pathname
    }
    return { def, ...(namespace ? { namespace } : {}), ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) }
  }

  private authorize(attrs: Attributes, route: Route): void {
    const r = this.authz.authorize(attrs)
    if (!r.allowed) throw forbidden(qualified(route.def), route.def.group, route.def.resource, route.name, forbiddenWhy(attrs, r.reason))
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, user: User, route: Route | string | undefined, verb: string, body: Buffer, entry: AuditEntry): Promise<void> {
    if (typeof route === 'string' || route === undefined) return this.nonResource(req, res, url, user, body, entry)
    const { def, namespace, name, subresource } = route
    this.authorize({ user, verb, group: def.group, resource: def.resource, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) }, route)
    if (def.resource === 'selfsubjectreviews' && verb === 'create') return this.send(res, 201, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo: { username: user.name, groups: user.groups } } })
    const store = this.opts.store
    const dryRun = url.searchParams.get('dryRun')
    if (dryRun !== null && dryRun !== 'All') throw new StatusError(422, `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"${dryRun}"}: supported values: "All"`, 'Invalid')
    if (subresource === 'log') {
      // The options are decoded and validated before the pod is looked up, as LogREST.Get does it.
      const logOpts = parseLogOptions(url, name!)
      const podSpec = store.get(def, namespace, name!).spec as { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }> }
      const names = (podSpec.containers ?? []).map((c) => c.name)
      const inits = (podSpec.initContainers ?? []).map((c) => c.name)
      const container = url.searchParams.get('container')
      if (!container && names.length > 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`)
      if (container && !names.includes(container) && !inits.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`)
      return this.logs(req, res, route, container || (names[0] ?? ''), logOpts)
    }
    if (subresource === 'exec' || subresource === 'attach') throw badRequest(`pod ${name} does not have a host assigned`)
    if (subresource && isNamespaces(def) && !(def.subresources ?? []).find((s) => s.name === subresource)?.verbs.includes(verb)) throw new StatusError(405, `the server does not allow this method on the requested resource`, 'MethodNotAllowed')
    if (subresource === 'scale' && (def.subresources ?? []).some((s) => s.name === 'scale')) return this.scale(req, res, verb, route, body, dryRun === 'All')
    // The NamespaceLifecycle plugin keeps default, kube-system and kube-public.
    if (verb === 'delete' && isNamespaces(def) && IMMORTAL_NAMESPACES.has(name!)) throw forbidden('namespaces', '', 'namespaces', name, 'this namespace may not be deleted')
    switch (verb) {
      case 'get':
        return this.send(res, 200, this.present(store.get(def, namespace, name!), req, def))
      case 'list':
        return this.send(res, 200, this.listReply(req, url, def, namespace))
      case 'watch':
        return this.watch(req, res, url, def, namespace)
      case 'create': {
        const obj = parseObject(body, req, def)
        if (def.namespaced && obj.metadata?.namespace && namespace && obj.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
        obj.metadata ??= {}
        if (!obj.metadata.name && !obj.metadata.generateName) throw new StatusError(422, `${def.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, 'Invalid')
        if (def.namespaced && namespace && !store.tryGet(findResource('', 'v1', 'namespaces')!, undefined, namespace)) throw new StatusError(404, `namespaces "${namespace}" not found`, 'NotFound', { name: namespace, kind: 'namespaces' })
        checkNamespaceLifecycle(store, def, namespace, obj)
        applyDefaults(def, obj)
        validateObject(def, obj)
        recordUpdate(undefined, obj, writer(url, req, def))
        const ctx = this.admission(def, namespace, obj, dryRun === 'All', 'CREATE')
        const created = await this.admitCreate(url, ctx, entry)
        return this.send(res, 201, created, warningHeaders(ctx.warnings))
      }
      case 'update': {
        const obj = parseObject(body, req, def)
        const next = { ...obj, metadata: { ...obj.metadata, name } }
        validateObject(def, next)
        const old = store.get(def, namespace, name!)
        const ctx = this.admission(def, namespace, next, dryRun === 'All', 'UPDATE', old, subresource)
        await this.admitUpdate(url, ctx, entry)
        recordUpdate(old, ctx.obj, writer(url, req, def, subresource))
        return this.send(res, 200, store.update(def, namespace, ctx.obj, { dryRun: dryRun === 'All' }), warningHeaders(ctx.warnings))
      }
      case 'patch': {
        const type = String(req.headers['content-type'] ?? '')
        if (type.includes('apply-patch')) return this.serverSideApply(req, res, url, def, namespace, name!, subresource, body, dryRun === 'All', entry)
        const current = store.get(def, namespace, name!)
        const patch = decodeJson(body.toString('utf8') || '{}')
        if (type.includes('json-patch') && !Array.isArray(patch)) throw badRequest(`json: cannot unmarshal ${patch === null ? 'null' : typeof patch === 'object' ? 'object' : typeof patch} into Go value of type jsonpatch.Patch`)
        if (!type.includes('json-patch') && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) throw badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch} into Go value of type map[string]interface {}`)
        let next: Obj
        try {
          next = type.includes('json-patch') ? (jsonPatch.applyPatch(structuredClone(current), patch as JsonPatchOperation[], true, false).newDocument as Obj) : ((type.includes('strategic') ? strategicMerge(current, patch) : mergePatch(current, patch)) as Obj)
        } catch (err) {
          if (err instanceof StatusError) throw err
          throw new StatusError(422, `the server rejected our request due to an error in our request: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'Invalid')
        }
        validateObject(def, next)
        if (next.metadata?.name !== name) throw badRequest(`the name of the object (${String(next.metadata?.name)}) does not match the name on the URL (${name})`)
        // A resourceVersion in the patch is a precondition: a stale one is 409, as for an update.
        if (next.metadata.resourceVersion !== undefined && next.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(qualified(def), def.group, def.resource, name!)
        const ctx = this.admission(def, namespace, next, dryRun === 'All', 'UPDATE', current, subresource)
        await this.admitUpdate(url, ctx, entry)
        recordUpdate(current, ctx.obj, writer(url, req, def, subresource))
        return this.send(res, 200, store.update(def, namespace, { ...ctx.obj, metadata: { ...ctx.obj.metadata, resourceVersion: undefined } }, { dryRun: dryRun === 'All', checkRv: false }), warningHeaders(ctx.warnings))
      }
      case 'delete': {
        const opts = (() => {
          try {
            return JSON.parse(body.toString('utf8') || '{}') as { propagationPolicy?: unknown; preconditions?: { uid?: unknown; resourceVersion?: unknown } } | null
          } catch {
            return {}
          }
        })()
        const fromBody = opts && typeof opts === 'object' && typeof opts.propagationPolicy === 'string' ? opts.propagationPolicy : undefined
        const policy = url.searchParams.get('propagationPolicy') ?? fromBody ?? 'Background'
        if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw new StatusError(422, `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, 'Invalid')
        const pre = (opts && typeof opts === 'object' && opts.preconditions && typeof opts.preconditions === 'object' ? opts.preconditions : {}) as { uid?: unknown; resourceVersion?: unknown }
        if (pre.uid !== undefined || pre.resourceVersion !== undefined) {
          const current = store.get(def, namespace, name!)
          if (pre.uid !== undefined && pre.uid !== current.metadata.uid) throw new StatusError(409, `Operation cannot be fulfilled on ${def.resource}${def.group ? `.${def.group}` : ''} "${name}": Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(current.metadata.uid)}`, 'Conflict', { name, ...(def.group ? { group: def.group } : {}), kind: def.resource })
          if (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) throw new StatusError(409, `Operation cannot be fulfilled on ${def.resource}${def.group ? `.${def.group}` : ''} "${name}": Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(current.metadata.resourceVersion)}`, 'Conflict', { name, ...(def.group ? { group: def.group } : {}), kind: def.resource })
        }
        const old = store.get(def, namespace, name!)
        await this.withinRequestTimeout(url, validate(this.admission(def, namespace, old, dryRun === 'All', 'DELETE', old)))
        const deleted = store.delete(def, namespace, name!, { dryRun: dryRun === 'All', propagation: policy as 'Background' | 'Foreground' | 'Orphan', ...gracePeriodOf(url, opts) })
        // A deletion still pending (grace period, finalizers) answers with the object as it now is.
        return this.send(res, 200, def.resource === 'pods' || def.resource === 'namespaces' || deleted.metadata.deletionTimestamp ? deleted : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(def.group ? { group: def.group } : {}), kind: def.resource, uid: deleted.metadata.uid } })
      }
      case 'deletecollection': {
        // Only what the label and field selectors select; the answer is the list of what was deleted.
        const selected = store.list(def, namespace).filter(selectorsOf(url, def))
        // Each object goes through DELETE admission, as a single delete does; the first refusal ends the request.
        for (const o of selected) await this.withinRequestTimeout(url, validate(this.admission(def, o.metadata.namespace ?? namespace, o, dryRun === 'All', 'DELETE', o)))
        const deleted = selected.map((o) => store.delete(def, namespace, o.metadata.name!, { dryRun: dryRun === 'All' }))
        return this.send(res, 200, { kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: { resourceVersion: String(store.resourceVersion) }, items: deleted })
      }
    }
    throw new StatusError(405, `the server does not allow this method on the requested resource`, 'MethodNotAllowed')
  }

  /** `<workload>/scale`: read as an autoscaling/v1 Scale; a written (or patched) Scale sets the workload's replicas. */
  private scale(req: IncomingMessage, res: ServerResponse, verb: string, route: Route, body: Buffer, dryRun: boolean): void {
    const { def, namespace, name } = route
    const store = this.opts.store
    const current = store.get(def, namespace, name!)
    if (verb === 'get') return this.send(res, 200, scaleOf(current))
    if (verb !== 'update' && verb !== 'patch') throw new StatusError(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed')
    const type = String(req.headers['content-type'] ?? '')
    const sent = decodeJson(body.toString('utf8') || '{}')
    let scale: unknown
    try {
      scale = verb === 'update' ? sent : type.includes('json-patch') ? jsonPatch.applyPatch(scaleOf(current), sent as JsonPatchOperation[], true, false).newDocument : type.includes('strategic') ? strategicMerge(scaleOf(current), sent) : mergePatch(scaleOf(current), sent)
    } catch (err) {
      if (err instanceof StatusError) throw err
      throw new StatusError(422, `the server rejected our request due to an error in our request: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'Invalid')
    }
    const rv = (scale as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion
    if (verb === 'update' && rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(qualified(def), def.group, def.resource, name!)
    return this.send(res, 200, scaleOf(store.update(def, namespace, withScale(current, scale), { dryRun, checkRv: false })))
  }

  private admission(def: ResourceDef, namespace: string | undefined, obj: Obj, dryRun: boolean, operation: Operation, oldObj?: Obj, subresource?: string): AdmissionContext {
    const knobs = this.opts.scenario.knobs
    return { store: this.opts.store, def, ...(namespace ? { namespace } : {}), obj, operation, ...(oldObj ? { oldObj } : {}), ...(subresource ? { subresource } : {}), dryRun, webhooks: knobs.webhooks ?? {}, policies: knobs.policies ?? [], ...(knobs.podSecurity ? { podSecurity: knobs.podSecurity } : {}), sleep: this.opts.sleep, warnings: [], auditAnnotations: {} }
  }

  /** Mutating then validating admission of a new object; persists it unless dry-run. */
  private async admitCreate(url: URL, ctx: AdmissionContext, entry: AuditEntry): Promise<Obj> {
    const { def, obj } = ctx
    const store = this.opts.store
    ctx.username = entry.user
    if (def.namespaced && ctx.namespace && !store.tryGet(findResource('', 'v1', 'namespaces')!, undefined, ctx.namespace)) throw new StatusError(404, `namespaces "${ctx.namespace}" not found`, 'NotFound', { name: ctx.namespace, kind: 'namespaces' })
    checkNamespaceLifecycle(store, def, ctx.namespace, obj)
    try {
      mutate(ctx)
      if (!obj.metadata.name) obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`
      // The pod strategy replaces whatever status a client sent: Pending, with the QoS class of the
      // (mutated) spec. It is stored so, and a read before the scheduler acts returns it.
      if (def.resource === 'pods') obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) }
      await this.withinRequestTimeout(url, validate(ctx))
    } finally {
      if (Object.keys(ctx.auditAnnotations ?? {}).length) entry.annotations = { ...entry.annotations, ...ctx.auditAnnotations }
    }
    const created = store.create(def, ctx.namespace, obj, { dryRun: ctx.dryRun })
    entry.name = created.metadata.name
    return created
  }

  /**
   * An update (PUT or PATCH) of a stored object: a pod's status subresource changes only the status,
   * the pod itself only what a pod update may change; then validating admission as an UPDATE.
   */
  private async admitUpdate(url: URL, ctx: AdmissionContext, entry: AuditEntry): Promise<void> {
    const old = ctx.oldObj!
    ctx.username = entry.user
    if (isNamespaces(ctx.def)) ctx.obj = namespaceUpdate(old, ctx.obj, ctx.subresource)
    if (ctx.def.resource === 'pods') {
      if (ctx.subresource === 'status') ctx.obj = { ...old, metadata: { ...old.metadata, resourceVersion: ctx.obj.metadata.resourceVersion }, status: ctx.obj.status }
      else {
        checkPodUpdate(old, ctx.obj)
        ctx.obj = { ...ctx.obj, status: old.status }
      }
    }
    try {
      await this.withinRequestTimeout(url, validate(ctx))
    } finally {
      if (Object.keys(ctx.auditAnnotations ?? {}).length) entry.annotations = { ...entry.annotations, ...ctx.auditAnnotations }
    }
  }

  /**
   * Server-side apply (`application/apply-patch+yaml`, kubectl apply --server-side): creates the object
   * when it does not exist, otherwise merges the configuration into it, with the conflicts and
   * removals of field ownership (managed-fields.ts); `force=true` takes over conflicting fields.
   */
  private async serverSideApply(req: IncomingMessage, res: ServerResponse, url: URL, def: ResourceDef, namespace: string | undefined, name: string, subresource: string | undefined, body: Buffer, dryRun: boolean, entry: AuditEntry): Promise<void> {
    const manager = url.searchParams.get('fieldManager')
    if (!manager) throw new StatusError(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 'Invalid')
    let config: unknown
    try {
      config = parseYaml(body.toString('utf8'))
    } catch (err) {
      throw badRequest(`error decoding YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    }
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw badRequest('error decoding YAML: the apply configuration is not an object')
    const cfg = config as Obj
    if (!cfg.apiVersion || !cfg.kind) throw badRequest(`invalid object type: ${String(cfg.apiVersion ?? '')}, Kind=${String(cfg.kind ?? '')}`)
    if (cfg.apiVersion !== groupVersion(def) || cfg.kind !== def.kind) throw badRequest(`the apply configuration's ${cfg.apiVersion}, Kind=${cfg.kind} does not match the resource ${groupVersion(def)}, Kind=${def.kind}`)
    cfg.metadata ??= {}
    if (cfg.metadata.name !== undefined && cfg.metadata.name !== name) throw badRequest(`the name of the object (${String(cfg.metadata.name)}) does not match the name on the URL (${name})`)
    const store = this.opts.store
    const live = store.tryGet(def, namespace, name)
    const next = applyWithManagers(live, { ...cfg, metadata: { ...cfg.metadata, name } }, { ...writer(url, req, def, subresource), force: url.searchParams.get('force') === 'true' })
    validateObject(def, next)
    if (!live) {
      const ctx = this.admission(def, namespace, next, dryRun, 'CREATE')
      const created = await this.admitCreate(url, ctx, entry)
      return this.send(res, 201, created, warningHeaders(ctx.warnings))
    }
    if (cfg.metadata.resourceVersion !== undefined && cfg.metadata.resourceVersion !== live.metadata.resourceVersion) throw conflict(qualified(def), def.group, def.resource, name)
    const ctx = this.admission(def, namespace, next, dryRun, 'UPDATE', live, subresource)
    await this.admitUpdate(url, ctx, entry)
    return this.send(res, 200, store.update(def, namespace, { ...ctx.obj, metadata: { ...ctx.obj.metadata, resourceVersion: undefined } }, { dryRun, checkRv: false }), warningHeaders(ctx.warnings))
  }

  /**
   * The request's `timeout` parameter (kubectl --request-timeout, client timeouts) bounds the time
   * admission may take, on the scenario clock: a webhook slower than that ends the request with 504.
   */
  private async withinRequestTimeout(url: URL, work: Promise<void>): Promise<void> {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(url.searchParams.get('timeout') ?? '')
    if (!m) return work
    const ms = Number(m[1]) * { ms: 1, s: 1e3, m: 6e4, h: 36e5 }[m[2] as 'ms' | 's' | 'm' | 'h']
    let timedOut = false
    const deadline = this.opts.sleep(ms).then(() => {
      timedOut = true
    })
    await Promise.race([work, deadline])
    if (timedOut) {
      work.catch(() => undefined)
      throw timeoutError()
    }
  }

  private present(obj: Obj, req: IncomingMessage, def: ResourceDef): unknown {
    const accept = String(req.headers.accept ?? '')
    if (accept.includes('as=Table')) return table(def, [obj], String(this.opts.store.resourceVersion))
    if (accept.includes('as=PartialObjectMetadata;')) return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }
    return obj
  }

  private listReply(req: IncomingMessage, url: URL, def: ResourceDef, namespace?: string): unknown {
    // Shared, not copied: the reply only serializes them (and a page must not copy the whole collection).
    const about = involvedObjectNameOf(url.searchParams.get('fieldSelector'))
    let items = this.opts.store.list(def, namespace, { shared: true, ...(about !== undefined ? { involvedObjectName: about } : {}) }).filter(selectorsOf(url, def))
    const rv = String(this.opts.store.resourceVersion)
    const limit = Number(url.searchParams.get('limit') ?? 0)
    const cont = url.searchParams.get('continue')
    let start = 0
    if (cont) {
      try {
        const token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { start?: unknown } | null
        if (!token || typeof token.start !== 'number' || !Number.isInteger(token.start) || token.start < 0) throw new Error('bad continue token')
        start = token.start
      } catch {
        throw new StatusError(410, 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.', 'Expired')
      }
    }
    let meta: Record<string, unknown> = { resourceVersion: rv }
    if (limit > 0) {
      const page = items.slice(start, start + limit)
      if (start + limit < items.length) meta = { ...meta, continue: Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: start + limit })).toString('base64url'), remainingItemCount: items.length - start - limit }
      items = page
    } else if (start) items = items.slice(start)
    const accept = String(req.headers.accept ?? '')
    if (accept.includes('as=Table')) return table(def, items, rv, meta)
    if (accept.includes('as=PartialObjectMetadataList')) return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })) }
    return { kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: meta, items }
  }

  private watch(req: IncomingMessage, res: ServerResponse, url: URL, def: ResourceDef, namespace?: string): void {
    const store = this.opts.store
    const rvParam = url.searchParams.get('resourceVersion')
    const selected = selectorsOf(url, def)
    const matches = (o: Obj): boolean => (!def.namespaced || !namespace || o.metadata.namespace === namespace) && selected(o)
    let initial: Array<{ type: string; object: unknown }>
    try {
      initial = !rvParam || rvParam === '0' ? store.list(def, namespace).filter(matches).map((o) => ({ type: 'ADDED', object: o })) : store.since(def, Number(rvParam)).filter((e) => matches(e.object)).map((e) => ({ type: e.type, object: e.object }))
    } catch (err) {
      if (!(err instanceof StatusError) || err.code !== 410) throw err
      // A resourceVersion older than the history: 200 with one ERROR event, then the stream ends.
      res.writeHead(200, { 'Content-Type': 'application/json' })
      return void res.end(JSON.stringify({ type: 'ERROR', object: err.body() }) + '\n')
    }
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.flushHeaders()
    // kubectl get -w asks for tables: then every event carries a one-row Table (columns on the first).
    const asTable = String(req.headers.accept ?? '').includes('as=Table')
    let first = true
    const encode = (type: string, object: Obj): string => {
      if (!asTable) return JSON.stringify({ type, object }) + '\n'
      const t = table(def, [object], String(store.resourceVersion)) as { columnDefinitions?: unknown }
      if (!first) delete t.columnDefinitions
      first = false
      return JSON.stringify({ type, object: t }) + '\n'
    }
    for (const e of initial) res.write(encode(e.type, e.object as Obj))
    // With a selector, an object that stops matching is sent as DELETED and one that starts matching
    // as ADDED, as the API server's watch cache does.
    const inView = new Set(store.list(def, namespace).filter(matches).map((o) => o.metadata.uid))
    const onChange = (e: { type: string; def: ResourceDef; object: Obj }): void => {
      if (e.def !== def) return
      const uid = e.object.metadata.uid
      const was = inView.has(uid)
      const now = e.type !== 'DELETED' && matches(e.object)
      if (now) inView.add(uid)
      else inView.delete(uid)
      if (now) res.write(encode(was ? e.type : 'ADDED', e.object))
      else if (was) res.write(encode('DELETED', e.object))
      else if (e.type === 'DELETED' && matches(e.object)) res.write(encode('DELETED', e.object))
    }
    store.events.on('change', onChange)
    const bookmarks = parseBool(url, 'allowWatchBookmarks') ? setInterval(() => res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: groupVersion(def), metadata: { resourceVersion: String(store.resourceVersion), creationTimestamp: null } } }) + '\n'), this.opts.bookmarkMs ?? 60_000) : undefined
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0)
    const stop = (): void => {
      store.events.off('change', onChange)
      if (bookmarks) clearInterval(bookmarks)
      if (timer) clearTimeout(timer)
      this.watchers.delete(stop)
      if (!res.writableEnded) res.end()
    }
    const timer = timeout > 0 ? setTimeout(stop, timeout * 1000) : undefined
    this.watchers.add(stop)
    req.on('close', stop)
  }

  /**
   * pods/log as the kubelet answers it: 400 with the kubelet's words while the container waits to
   * start, otherwise its output, cut by `tailLines`, `sinceSeconds`/`sinceTime` and `limitBytes`,
   * each line after its RFC3339Nano time with `timestamps` (pod-logs.ts); with `follow=true` the
   * stream stays open and carries new output until the container terminates, `limitBytes` is
   * reached or the client goes away.
   */
  private logs(req: IncomingMessage, res: ServerResponse, route: Route, container: string, opts: LogOptions): void {
    const pod = this.opts.store.get(route.def, route.namespace, route.name!)
    const st = (pod.status ?? {}) as { containerStatuses?: Array<{ name: string; state?: { waiting?: { reason?: string } }; lastState?: { terminated?: unknown } }> }
    const cstatus = st.containerStatuses?.find((c) => c.name === container)
    const waiting = cstatus?.state?.waiting?.reason
    // A container in back-off shows its last run's log (the kubelet serves the previous instance).
    const previous = opts.previous
    if (previous && !cstatus?.lastState?.terminated) throw badRequest(`previous terminated container "${container}" in pod "${route.name}" not found`)
    if (waiting && !cstatus?.lastState?.terminated) {
      const why = waiting === 'ErrImagePull' ? "image can't be pulled" : waiting === 'ImagePullBackOff' ? 'trying and failing to pull image' : waiting
      throw badRequest(`container "${container}" in pod "${route.name}" is waiting to start: ${why}`)
    }
    const key = `${pod.metadata.uid}/${container}`
    const source = this.opts.logs
    const log = previous || waiting ? source?.previousLogs?.get(key) ?? (waiting ? source?.logs.get(key) : undefined) : source?.logs.get(key)
    const limit = new ByteLimit(opts.limitBytes)
    const text = limit.take(renderLog(log, opts))
    const running = !previous && !waiting && (st.containerStatuses ?? []).some((c) => c.name === container) && !source?.terminated.has(key)
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    if (!opts.follow || !source || !running || limit.reached) return void res.end(text)
    res.flushHeaders()
    if (text.length > 0) res.write(text)
    // Whether the next chunk starts a line (and so gets a timestamp of its own).
    let lineStart = log?.atLineStart ?? true
    const onData = (k: string, chunk: string, at: bigint): void => {
      if (k !== key) return
      let out = chunk
      if (opts.timestamps) {
        out = chunk.split(/(?<=\n)/).map((piece, i) => (i === 0 && !lineStart ? piece : formatLine({ at, text: piece }, opts))).join('')
        lineStart = chunk.endsWith('\n')
      }
      res.write(limit.take(out))
      if (limit.reached) stop()
    }
    const onEnd = (k: string): void => {
      if (k === key) stop()
    }
    const stop = (): void => {
      source.logEvents.off('data', onData)
      source.logEvents.off('end', onEnd)
      this.watchers.delete(stop)
      if (!res.writableEnded) res.end()
    }
    source.logEvents.on('data', onData)
    source.logEvents.on('end', onEnd)
    this.watchers.add(stop)
    req.on('close', stop)
  }

  private async nonResource(req: IncomingMessage, res: ServerResponse, url: URL, user: User, body: Buffer, entry: AuditEntry): Promise<void> {
    const p = url.pathname
    if (req.method === 'POST' && p.startsWith('/apis/authorization.k8s.io/v1/')) return this.review(req, res, p.split('/').pop()!, user, body, entry)
    entry.verb = (req.method ?? 'GET').toLowerCase()
    const attrs: Attributes = { user, verb: entry.verb, path: p }
    if (!this.authz.authorize(attrs).allowed) throw new StatusError(403, `forbidden: User "${user.name}" cannot ${entry.verb} path "${p}"`, 'Forbidden')
    const accept = String(req.headers.accept ?? '')
    if (p === '/version' || p === '/version/') return this.send(res, 200, K8S_VERSION)
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      return void res.end('ok')
    }
    if (p === '/api' || p === '/apis') return this.discovery(res, p, accept)
    if (p === '/openapi/v2') {
      if (wantsProtobufV2(accept)) {
        res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF_REPLY })
        return void res.end(openApiV2Protobuf(K8S_VERSION.gitVersion))
      }
      return this.send(res, 200, openApiV2Json(K8S_VERSION.gitVersion))
    }
    if (p === '/openapi/v3') {
      const paths = Object.fromEntries([...new Set(RESOURCES.map(groupVersion))].map((gv) => [gv.includes('/') ? `apis/${gv}` : `api/${gv}`, { serverRelativeURL: `/openapi/v3/${gv.includes('/') ? 'apis' : 'api'}/${gv}?hash=0123ABCD` }]))
      return this.send(res, 200, { paths })
    }
    if (p.startsWith('/openapi/v3/')) {
      const gv = p.replace('/openapi/v3/', '').replace(/^apis?\//, '')
      const defs = RESOURCES.filter((r) => groupVersion(r) === gv)
      const paths = Object.fromEntries(defs.map((r) => [`/${r.group ? 'apis' : 'api'}/${gv}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.resource}/{name}`, { patch: { 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind }, parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }], responses: {} } }]))
      return this.send(res, 200, { openapi: '3.0.0', info: { title: 'Kubernetes', version: K8S_VERSION.gitVersion }, paths, components: { schemas: {} } })
    }
    const gvMatch = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p)
    if (gvMatch) {
      const group = gvMatch[2] ?? ''
      const version = gvMatch[1] ?? gvMatch[3]!
      const defs = RESOURCES.filter((r) => r.group === group && r.version === version)
      if (defs.length === 0) return this.notFoundPage(res)
      const resources = defs.flatMap((r) => [
        { name: r.resource, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r), ...(r.shortNames ? { shortNames: r.shortNames } : {}), ...(r.categories ? { categories: r.categories } : {}) },
        ...(r.subresources ?? []).map((s) => ({ name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, ...(s.group !== undefined ? { group: s.group, version: s.version } : {}), kind: s.kind, verbs: s.verbs })),
      ])
      return this.send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources })
    }
    return this.notFoundPage(res)
  }

  private notFoundPage(res: ServerResponse): void {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end('404 page not found\n')
  }

  private discovery(res: ServerResponse, p: string, accept: string): void {
    const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))]
    const aggregated = accept.split(',').map((a) => a.trim()).find((a) => a.includes('as=APIGroupDiscoveryList') && (a.includes('v=v2;') || a.includes('v=v2beta1;')) && !a.includes('profile='))
    if (aggregated) {
      const v = aggregated.includes('v=v2beta1') ? 'v2beta1' : 'v2'
      const item = (group: string): unknown => ({
        metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
        versions: [{
          version: RESOURCES.find((r) => r.group === group)!.version,
          freshness: 'Current',
          resources: RESOURCES.filter((r) => r.group === group).map((r) => ({
            resource: r.resource, responseKind: { group: r.group, version: r.version, kind: r.kind }, scope: r.namespaced ? 'Namespaced' : 'Cluster', singularResource: r.kind.toLowerCase(), verbs: verbsOf(r),
            ...(r.shortNames ? { shortNames: r.shortNames } : {}),
            ...(r.categories ? { categories: r.categories } : {}),
            ...(r.subresources ? { subresources: r.subresources.map((s) => ({ subresource: s.name, responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind }, verbs: s.verbs })) } : {}),
          })),
        }],
      })
      const bodyObj = { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${v}`, metadata: {}, items: p === '/api' ? [item('')] : groups.map(item) }
      res.writeHead(200, { 'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`, Vary: 'Accept' })
      return void res.end(JSON.stringify(bodyObj))
    }
    if (p === '/api') return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }] })
    return this.send(res, 200, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((g) => {
        const v = RESOURCES.find((r) => r.group === g)!.version
        return { name: g, versions: [{ groupVersion: `${g}/${v}`, version: v }], preferredVersion: { groupVersion: `${g}/${v}`, version: v } }
      }),
    })
  }

  private review(req: IncomingMessage, res: ServerResponse, kind: string, user: User, body: Buffer, entry: AuditEntry): void {
    entry.verb = 'create'
    entry.group = 'authorization.k8s.io'
    entry.resource = kind
    const isProto = String(req.headers['content-type'] ?? '').includes('protobuf')
    const review = (isProto ? protobufReview(body) : decodeJson(body.toString('utf8') || '{}')) as { spec?: Record<string, unknown> } | null
    if (!review || typeof review !== 'object' || Array.isArray(review) || (review.spec !== undefined && (typeof review.spec !== 'object' || review.spec === null || Array.isArray(review.spec)))) throw badRequest('the object provided is unrecognized or could not be decoded')
    const spec = review.spec ?? {}
    const reviewAttrs: Attributes = { user, verb: 'create', group: 'authorization.k8s.io', resource: kind }
    const allowedToAsk = this.authz.authorize(reviewAttrs)
    if (!allowedToAsk.allowed) throw forbidden(`${kind}.authorization.k8s.io`, 'authorization.k8s.io', kind, undefined, forbiddenWhy(reviewAttrs, ''))
    if (kind === 'selfsubjectrulesreviews') {
      const ns = String(spec.namespace ?? '')
      const rules = this.authz.rulesFor(user, ns)
      const status = { resourceRules: rules.filter((r) => r.resources).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) })), nonResourceRules: rules.filter((r) => r.nonResourceURLs).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })), incomplete: false }
      return this.send(res, 201, { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status })
    }
    let subject = user
    if (kind === 'subjectaccessreviews') {
      const name = String(spec.user ?? '')
      const groups = Array.isArray(spec.groups) ? (spec.groups as string[]) : []
      const sa = /^system:serviceaccount:([^:]+):/.exec(name)
      subject = { name, groups: [...new Set([...groups, ...(sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`, 'system:authenticated'] : [])])] }
    }
    const ra = spec.resourceAttributes as Record<string, string> | undefined
    const nra = spec.nonResourceAttributes as Record<string, string> | undefined
    const attrs: Attributes = ra
      ? { user: subject, verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', ...(ra.subresource ? { subresource: ra.subresource } : {}), ...(ra.namespace ? { namespace: ra.namespace } : {}), ...(ra.name ? { name: ra.name } : {}) }
      : { user: subject, verb: nra?.verb ?? '', path: nra?.path ?? '' }
    const r = this.authz.authorize(attrs)
    const kindName = kind === 'subjectaccessreviews' ? 'SubjectAccessReview' : 'SelfSubjectAccessReview'
    return this.send(res, 201, { kind: kindName, apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status: { allowed: r.allowed, ...(r.reason ? { reason: r.reason } : {}) } })
  }

  /** The few GitLab API endpoints doctor's GitLab checks call, so scenarios stay on loopback. */
  private gitlab(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, entry: AuditEntry): void {
    entry.verb = `gitlab ${req.method}`
    const runnerToken = this.opts.scenario.knobs.gitlab?.runnerToken
    const token = (() => {
      try {
        return String((JSON.parse(body.toString('utf8') || '{}') as { token?: string }).token ?? '')
      } catch {
        return ''
      }
    })()
    if (url.pathname === '/api/v4/version' && req.method === 'GET') return this.send(res, 401, { message: '401 Unauthorized' })
    if (url.pathname === '/api/v4/runners/verify' && req.method === 'POST') return token && token === runnerToken ? this.send(res, 200, { id: 1, token: '[filtered]' }) : this.send(res, 403, { message: '403 Forbidden' })
    if (url.pathname === '/api/v4/jobs/request' && req.method === 'POST') {
      if (token && token === runnerToken) {
        res.writeHead(204)
        return void res.end()
      }
      return this.send(res, 403, { message: '403 Forbidden' })
    }
    return this.send(res, 404, { message: '404 Not Found' })
  }

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    const late = this.late.get(res)
    if (late) {
      // The request was carried out; its answer is lost (Fault.after).
      this.late.delete(res)
      late()
    }
    if (res.headersSent) {
      // An error after a stream began (watch, follow): all that is left is to end it.
      if (!res.writableEnded) res.end()
      return
    }
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
}

/** Admission warnings as the API server sends them: one `Warning: 299 - "…"` header each. */
function warningHeaders(warnings: string[] | undefined): Record<string, string[]> {
  return warnings?.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {}
}

function throwFault(f: Fault): never {
  if (f.kind === 'etcd') throw etcdError('etcdserver: leader changed')
  if (f.kind === 'timeout') throw timeoutError()
  if (f.kind === 'throttle') throw new StatusError(429, 'Too many requests, please try again later.', 'TooManyRequests')
  if (f.kind === 'unavailable') throw new StatusError(503, 'apiserver is shutting down', 'ServiceUnavailable', undefined, { 'Retry-After': '1' })
  throw new Error('reset')
}

/**
 * A boolean query parameter as the API server converts it (apimachinery's
 * Convert_Slice_string_To_bool, and the request-info resolver for `watch`): absent, `0` or `false` in
 * any case is false; any other value, `True` and `1` and even an empty one, is true.
 */
export function parseBool(url: URL, name: string): boolean {
  const v = url.searchParams.get(name)
  return v !== null && v !== '0' && v.toLowerCase() !== 'false'
}

function verbOf(method: string, route: Route | string | undefined, url: URL): string {
  const named = typeof route === 'object' && route.name !== undefined
  switch (method) {
    case 'GET':
      return parseBool(url, 'watch') ? 'watch' : named ? 'get' : 'list'
    case 'POST':
      return 'create'
    case 'PUT':
      return 'update'
    case 'PATCH':
      return 'patch'
    case 'DELETE':
      return named ? 'delete' : 'deletecollection'
    default:
      return method.toLowerCase()
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function protobufReview(body: Buffer): unknown {
  try {
    return reviewFromProtobuf(body)
  } catch {
    throw badRequest('the object provided is unrecognized or could not be decoded')
  }
}

function decodeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw badRequest('the object provided is unrecognized or could not be decoded')
  }
}

/** A request body as an object of the kind: 415 for protobuf of a kind not decoded here, 400 when it does not decode (shape and types). */
/**
 * Who a write is recorded as in managedFields: the `fieldManager` parameter, else the User-Agent up
 * to its first `/` (as the API server does), with the resource's version and the time.
 */
function writer(url: URL, req: IncomingMessage, def: ResourceDef, subresource?: string): { manager: string; apiVersion: string; subresource?: string; now: string } {
  const manager = url.searchParams.get('fieldManager') || String(req.headers['user-agent'] ?? '').split('/')[0]!.slice(0, 128) || 'unknown'
  return { manager, apiVersion: groupVersion(def), ...(subresource ? { subresource } : {}), now: rfc3339() }
}

function parseObject(body: Buffer, req: IncomingMessage, def: ResourceDef): Obj {
  const isProto = String(req.headers['content-type'] ?? '').includes('protobuf')
  const o = isProto ? objectFromProtobuf(def, body) : decodeJson(body.toString('utf8'))
  if (o === undefined) throw new StatusError(415, 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml', 'UnsupportedMediaType')
  checkShape(def, o)
  const obj = o as Obj
  obj.metadata ??= {}
  return obj
}

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!' ; values: string[] }

/**
 * Parses a label selector as the API server's parser does (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, comma-separated); a malformed one is 400 BadRequest, worded like it.
 */
export function parseSelector(selector: string | null): Requirement[] {
  if (!selector || !selector.trim()) return []
  const out: Requirement[] = []
  const bad = (why: string): StatusError => badRequest(`unable to parse requirement: ${why}`)
  const parts = selector.match(/[^,(]+(\([^)]*\))?[^,]*/g) ?? []
  if (parts.join(',').replace(/\s/g, '') !== selector.replace(/\s/g, '')) throw badRequest(`found '', expected: identifier`)
  for (const raw of parts) {
    const p = raw.trim()
    let m: RegExpExecArray | null
    const checkKey = (k: string): string => {
      const e = labelKeyError(k)
      if (e) throw bad(`<nil>: Invalid value: ${JSON.stringify(k)}: ${e}`)
      return k
    }
    const checkValue = (v: string): string => {
      const e = labelValueError(v)
      if (e) throw bad(`values[0][${JSON.stringify(v)}]: Invalid value: ${JSON.stringify(v)}: ${e}`)
      return v
    }
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(p))) {
      const vals = m[3]!.split(',').map((x) => x.trim())
      if (m[3]!.trim() === '') throw badRequest(`found ')', expected: identifier`)
      out.push({ key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values: vals.map(checkValue) })
    } else if ((m = /^([^!=\s]+)\s*!=\s*([^!=\s]*)$/.exec(p))) out.push({ key: checkKey(m[1]!), op: 'notin', values: [checkValue(m[2]!)] })
    else if ((m = /^([^!=\s]+)\s*==?\s*([^!=\s]*)$/.exec(p))) out.push({ key: checkKey(m[1]!), op: 'in', values: [checkValue(m[2]!)] })
    else if ((m = /^!\s*([^!=\s()]+)$/.exec(p))) out.push({ key: checkKey(m[1]!), op: '!', values: [] })
    else if ((m = /^([^!=\s()]+)$/.exec(p))) out.push({ key: checkKey(m[1]!), op: 'exists', values: [] })
    else throw badRequest(`couldn't parse the selector string "${selector}": found '${p}', expected: identifier, '!', '=', '!=', 'in' or 'notin'`)
  }
  return out
}

/** Label selector matching; labels that are not a string map (never stored: validation) match nothing. */
export function selectorMatch(selector: string | null | Requirement[], labels: Record<string, string>): boolean {
  const reqs = Array.isArray(selector) ? selector : parseSelector(selector)
  const has = (k: string): boolean => labels !== null && typeof labels === 'object' && Object.hasOwn(labels, k)
  return reqs.every((r) => {
    if (r.op === 'exists') return has(r.key)
    if (r.op === '!') return !has(r.key)
    if (r.op === 'in') return has(r.key) && r.values.includes(labels[r.key]!)
    return !has(r.key) || !r.values.includes(labels[r.key]!)
  })
}

/** Field labels each kind supports, as the API server's field-label conversion functions list them. */
const FIELD_LABELS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  secrets: ['type'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
}

type FieldReq = { field: string; op: '=' | '!='; value: string }

/** Parses a field selector; a field the kind does not support, or a malformed term, is 400. */
export function parseFieldSelector(selector: string | null, def: ResourceDef): FieldReq[] {
  if (!selector || !selector.trim()) return []
  const supported = new Set(['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[def.resource] ?? [])])
  return selector.split(',').map((p) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(p.trim())
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${p}'`)
    const field = m[1]!.trim()
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`)
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]! }
  })
}

/** The request's label and field selectors, parsed once (400 when malformed), as one predicate. */
function selectorsOf(url: URL, def: ResourceDef): (o: Obj) => boolean {
  const labels = parseSelector(url.searchParams.get('labelSelector'))
  const fields = parseFieldSelector(url.searchParams.get('fieldSelector'), def)
  // Without selectors, a page of a 50,000-object list must not call the matchers 50,000 times.
  if (labels.length === 0 && fields.length === 0) return () => true
  return (o) => selectorMatch(labels, o.metadata.labels ?? {}) && fieldMatch(fields, o)
}

function fieldValue(o: Obj, path: string): string | undefined {
  let v: unknown = o
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  return v === undefined || v === null ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v)
}

export function fieldMatch(reqs: FieldReq[], o: Obj): boolean {
  return reqs.every((r) => {
    const v = fieldValue(o, r.field) ?? ''
    return r.op === '!=' ? v !== r.value : v === r.value
  })
}

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>'
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000))
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`
}

/** Server-side printing (`as=Table`), as kubectl get shows it. */
function table(def: ResourceDef, items: Obj[], rv: string, listMeta: Record<string, unknown> = { resourceVersion: rv }): unknown {
  const col = (name: string, priority = 0): unknown => ({ name, type: 'string', format: name === 'Name' ? 'name' : '', description: name, priority })
  const partial = (o: Obj): unknown => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })
  if (def.resource === 'pods') {
    return {
      kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta,
      columnDefinitions: [col('Name'), col('Ready'), col('Status'), col('Restarts'), col('Age'), col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
      rows: items.map((o) => {
        const spec = o.spec as { containers?: unknown[]; nodeName?: string }
        const st = (o.status ?? {}) as { phase?: string; podIP?: string; containerStatuses?: Array<{ ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }> }
        const cs = st.containerStatuses ?? []
        const waiting = cs.map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find(Boolean)
        const status = o.metadata.deletionTimestamp ? 'Terminating' : (initStatusOf(o) ?? waiting ?? st.phase ?? 'Pending')
        return { cells: [o.metadata.name, `${cs.filter((c) => c.ready).length}/${spec?.containers?.length ?? 0}`, status, String(cs.reduce((a, c) => a + (c.restartCount ?? 0), 0)), age(o.metadata.creationTimestamp), st.podIP ?? '<none>', spec?.nodeName ?? '<none>', '<none>', '<none>'], object: partial(o) }
      }),
    }
  }
  if (def.group === '' && def.resource === 'namespaces') {
    return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions: [col('Name'), col('Status'), col('Age')], rows: items.map((o) => ({ cells: [o.metadata.name, String((o.status as { phase?: string } | undefined)?.phase ?? ''), age(o.metadata.creationTimestamp)], object: partial(o) })) }
  }
  const workload = workloadColumns(def)
  if (workload) return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions: workload.columns.map((c) => col(c)), rows: items.map((o) => ({ cells: workload.cells(o), object: partial(o) })) }
  if (def.resource === 'resourcequotas') {
    return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions: [col('Name'), col('Age'), col('Request'), col('Limit')], rows: items.map((o) => ({ cells: [o.metadata.name, age(o.metadata.creationTimestamp), ...quotaCells(o)], object: partial(o) })) }
  }
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions: [col('Name'), col('Age')], rows: items.map((o) => ({ cells: [o.metadata.name, age(o.metadata.creationTimestamp)], object: partial(o) })) }
}

/**
 * The STATUS column while a pod's init containers run, as the API server's pod printer has it:
 * `Init:<reason>` for a failed or waiting one (Init:Error, Init:CrashLoopBackOff), else `Init:<done>/<all>`.
 * Undefined once the pod is initialized.
 */
function initStatusOf(o: Obj): string | undefined {
  const inits = ((o.spec as { initContainers?: unknown[] } | undefined)?.initContainers ?? []).length
  const st = (o.status ?? {}) as { initContainerStatuses?: Array<{ state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number } } }>; conditions?: Array<{ type?: string; status?: string }> }
  if (inits === 0 || st.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True')) return undefined
  let done = 0
  for (const c of st.initContainerStatuses ?? []) {
    const t = c.state?.terminated
    if (t && t.exitCode === 0) done++
    else if (t) return `Init:${t.reason || `ExitCode:${t.exitCode}`}`
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return `Init:${c.state.waiting.reason}`
    else if (!c.state?.waiting) break
  }
  return `Init:${done}/${inits}`
}

/**
 * An HTTP/2 request as the handlers read HTTP/1.1 ones. Node joins repeated HTTP/2 header fields into
 * one comma-separated value, but the API server reads each Impersonate-Group line as one group, so
 * `headersDistinct` (which node's HTTP/2 request lacks) is rebuilt from the raw header list.
 */
function asHttp1Request(req: Http2ServerRequest): IncomingMessage {
  const distinct: Record<string, string[]> = {}
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase()
    if (!name.startsWith(':')) (distinct[name] ??= []).push(req.rawHeaders[i + 1]!)
  }
  Object.defineProperty(req, 'headersDistinct', { value: distinct })
  return req as unknown as IncomingMessage
}
