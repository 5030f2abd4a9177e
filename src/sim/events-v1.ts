/**
 * events.k8s.io/v1 as the API server serves it: the same Event objects as core v1, in another shape
 * (regarding/note/reportingController instead of involvedObject/message/source), so what the kubelet
 * and the scheduler record shows in both, and an event created in one is read in the other.
 */
import { Store, type Obj, type WatchEvent } from './store.js'
import { findResource, type ResourceDef } from './resources.js'

const CORE = findResource('', 'v1', 'events')!
const V1 = findResource('events.k8s.io', 'v1', 'events')!

type Map = Record<string, unknown>

/** Fields renamed between the two shapes: [core, events.k8s.io]. */
const RENAMED: Array<[string, string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
]
const SAME = ['metadata', 'eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type']

export function toEventsV1(core: Obj): Obj {
  const c = core as Map
  const out: Map = { apiVersion: 'events.k8s.io/v1', kind: 'Event' }
  for (const k of SAME) if (c[k] !== undefined) out[k] = c[k]
  for (const [from, to] of RENAMED) if (c[from] !== undefined) out[to] = c[from]
  const source = c.source as { component?: string; host?: string } | undefined
  const controller = c.reportingComponent ?? source?.component
  if (controller) out.reportingController = controller
  if (out.reportingInstance === undefined && source?.host) out.reportingInstance = source.host
  out.eventTime ??= null
  return out as Obj
}

export function fromEventsV1(v1: Obj): Obj {
  const e = v1 as Map
  const out: Map = { apiVersion: 'v1', kind: 'Event' }
  for (const k of SAME) if (e[k] !== undefined) out[k] = e[k]
  for (const [to, from] of RENAMED) if (e[from] !== undefined) out[to] = e[from]
  if (e.reportingController !== undefined) out.reportingComponent = e.reportingController
  return out as Obj
}

const isV1 = (def: ResourceDef): boolean => def === V1

/** The store with events.k8s.io/v1 served from the core events, converted on the way in and out. */
export class ConvertingStore extends Store {
  constructor(now?: () => Date) {
    super(now)
    // Watchers of events.k8s.io see every change of a core event, in their shape.
    this.events.on('change', (e: WatchEvent) => {
      if (e.def === CORE) this.events.emit('change', { ...e, def: V1, object: toEventsV1(e.object) } satisfies WatchEvent)
    })
  }

  override get(def: ResourceDef, ns: string | undefined, name: string): Obj {
    return isV1(def) ? toEventsV1(super.get(CORE, ns, name)) : super.get(def, ns, name)
  }

  override tryGet(def: ResourceDef, ns: string | undefined, name: string): Obj | undefined {
    if (!isV1(def)) return super.tryGet(def, ns, name)
    const o = super.tryGet(CORE, ns, name)
    return o ? toEventsV1(o) : undefined
  }

  override list(def: ResourceDef, ns?: string, opts: Parameters<Store['list']>[2] = {}): Obj[] {
    return isV1(def) ? super.list(CORE, ns).map(toEventsV1) : super.list(def, ns, opts)
  }

  override create(def: ResourceDef, ns: string | undefined, input: Obj, opts: Parameters<Store['create']>[3] = {}): Obj {
    return isV1(def) ? toEventsV1(super.create(CORE, ns, fromEventsV1(input), opts)) : super.create(def, ns, input, opts)
  }

  override update(def: ResourceDef, ns: string | undefined, input: Obj, opts: Parameters<Store['update']>[3] = {}): Obj {
    return isV1(def) ? toEventsV1(super.update(CORE, ns, fromEventsV1(input), opts)) : super.update(def, ns, input, opts)
  }

  override delete(def: ResourceDef, ns: string | undefined, name: string, opts: Parameters<Store['delete']>[3] = {}): Obj {
    return isV1(def) ? toEventsV1(super.delete(CORE, ns, name, opts)) : super.delete(def, ns, name, opts)
  }

  override since(def: ResourceDef, rv: number): WatchEvent[] {
    return isV1(def) ? super.since(CORE, rv).map((e) => ({ ...e, def: V1, object: toEventsV1(e.object) })) : super.since(def, rv)
  }
}
