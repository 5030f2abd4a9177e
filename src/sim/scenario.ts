import { readdirSync, existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Document, LineCounter } from 'yaml'
import { GkrError } from '../util/errors.js'
import type { Obj } from './store.js'
import { checkGenerators, expandGenerator, type GeneratorSpec } from './generate.js'
import { yamlDocuments } from './yaml-stream.js'
import type { PodSecurityConfig } from './pod-security-config.js'

export interface WebhookKnob {
  behavior: 'allow' | 'deny' | 'timeout' | 'unreachable'
  /** How long the webhook takes to answer (scenario clock); at or over its timeoutSeconds it times out. */
  delayMs?: number
  message?: string
  code?: number
  reason?: string
}

export interface PolicyKnob {
  engine: 'gatekeeper' | 'kyverno' | 'gke'
  kind: 'readOnlyRootFilesystem' | 'windowsHostAliases'
  name: string
}

export interface Identity {
  name: string
  token: string
  /** A user name, or a service account (system:serviceaccount:NS:NAME). */
  user?: string
  serviceAccount?: { namespace: string; name: string }
  groups?: string[]
}

export interface Scenario {
  name: string
  description: string
  /** What doctor reports for this scenario: the check that fails and its catalog entry. */
  expect?: { check?: string; catalog?: string; /** Doctor needs --live to see it. */ live?: boolean }
  identities: Identity[]
  /** The identity the written kubeconfig uses by default (its current context). */
  defaultIdentity: string
  /** The runner config.toml that reproduces the failure. */
  runnerConfig: string
  objects: Obj[]
  /** Objects made from a pattern when the simulator starts (generate.ts): many of a kind without listing them. */
  generate?: GeneratorSpec[]
  /**
   * A file whose documents after the first are objects (one each, as in a manifest): read one at a
   * time when the simulator starts, straight into its store.
   */
  documentsFile?: string
  knobs: {
    /** Simulated seconds per real second is 1/factor: 0.01 makes a 180 s wait last 1.8 s. */
    clockFactor?: number
    webhooks?: Record<string, WebhookKnob>
    policies?: PolicyKnob[]
    imagePull?: { fail?: string[]; delayMs?: number }
    scheduling?: { delayMs?: number }
    latencyMs?: number
    /** Fault injection: per "verb resource" (e.g. "list pods", "* *") a rate of failures. */
    faults?: Fault[]
    /** The API server stops answering (connection refused) after this many requests. */
    goAwayAfter?: number
    /** With goAwayAfter: the API server listens again (same address) this long after it went away (scenario clock), and stays up. */
    comeBackAfterMs?: number
    /** The GitLab side the simulator answers at <url>/api/v4 (runner token it accepts). */
    gitlab?: { runnerToken?: string }
    /** The pod network probe commands observe: DNS answers (host → address, or null for NXDOMAIN) and the interface MTU. */
    network?: { dns?: Record<string, string | null>; resolveOthers?: boolean; mtu?: number }
    /** Windows nodes fail to mount projected volumes (chown is not supported by windows). */
    windowsChownBug?: boolean
    /** Containers whose image contains one of `match` are OOM-killed `afterMs` (scenario clock) after they start. */
    oomKill?: { match?: string[]; afterMs?: number }
    /** The PodSecurity admission plugin's configuration: defaults per mode, exemptions (pod-security-config.ts). */
    podSecurity?: PodSecurityConfig
  }
}

export const SCENARIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios')

export function builtinScenarios(): Array<{ name: string; description: string }> {
  if (!existsSync(SCENARIO_DIR)) return []
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const s = loadScenarioFile(path.join(SCENARIO_DIR, f))
      return { name: s.name, description: s.description }
    })
}

/** A built-in scenario by name, or a YAML file. */
export function loadScenario(nameOrFile: string): Scenario {
  const builtin = path.join(SCENARIO_DIR, `${nameOrFile}.yaml`)
  if (existsSync(builtin)) return loadScenarioFile(builtin)
  if (existsSync(nameOrFile)) return loadScenarioFile(nameOrFile)
  const names = builtinScenarios().map((s) => s.name)
  throw new GkrError('scenario-not-found', `no built-in scenario named "${nameOrFile}" and no such file`, { at: { flag: '--scenario' }, suggestions: [`Built-in scenarios: ${names.join(', ')}.`, 'Or pass the path of a scenario YAML file (docs/sim.md describes the format).'] })
}

export function loadScenarioFile(file: string): Scenario {
  let docs: ReturnType<typeof yamlDocuments>
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    docs = yamlDocuments(file)
  } catch (err) {
    // A directory, a file without read permission, a name too long: the user's mistake, named with the flag.
    throw new GkrError('scenario-unreadable', `cannot read the scenario file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { at: { flag: '--scenario' } })
  }
  // The first document is the scenario; the documents after it (if any) are objects, read when the
  // simulator starts. Reading stops after the second one has begun, whatever the file's size.
  let first: { doc: Document.Parsed; lines: LineCounter } | undefined
  let more = false
  try {
    for (const d of docs) {
      if (d.index === 0) first = d
      else {
        more = true
        break
      }
    }
  } catch (err) {
    throw new GkrError('scenario-unreadable', `cannot read the scenario file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { at: { flag: '--scenario' } })
  } finally {
    docs.return(undefined)
  }
  if (!first) throw new GkrError('scenario-invalid', 'invalid scenario: the file is empty', { at: { file, line: 1, column: 1 } })
  const { doc, lines } = first
  syntaxCheck(doc, lines, file)
  const raw = (doc.toJS() ?? {}) as Partial<Scenario> & { knobs?: Scenario['knobs'] }
  const problems: string[] = []
  if (typeof raw.name !== 'string') problems.push('name must be a string')
  if (!Array.isArray(raw.identities) || raw.identities.length === 0) problems.push('identities must list at least one identity with a token')
  const generate = checkGenerators(doc, lines, file)
  if (raw.objects === undefined && (generate || more)) raw.objects = []
  if (!Array.isArray(raw.objects)) problems.push('objects must be a list of Kubernetes objects')
  for (const [i, o] of (raw.objects ?? []).entries()) {
    if (o && typeof o === 'object' && (o as Obj).kind && (o as Obj).metadata?.name) continue
    const pos = lines.linePos((doc.getIn(['objects', i], true) as { range?: number[] } | undefined)?.range?.[0] ?? 0)
    throw new GkrError('scenario-invalid', `invalid scenario: objects[${i}] needs kind and metadata.name`, { at: { file, line: pos.line, column: pos.col } })
  }
  if (problems.length) throw new GkrError('scenario-invalid', `invalid scenario: ${problems.join('; ')}`, { at: { file } })
  return {
    name: raw.name!,
    description: String(raw.description ?? ''),
    ...(raw.expect ? { expect: raw.expect } : {}),
    identities: raw.identities!,
    defaultIdentity: raw.defaultIdentity ?? raw.identities![0]!.name,
    runnerConfig: String(raw.runnerConfig ?? ''),
    objects: raw.objects as Obj[],
    ...(generate ? { generate } : {}),
    ...(more ? { documentsFile: file } : {}),
    knobs: raw.knobs ?? {},
  }
}

function syntaxCheck(doc: Document.Parsed, lines: LineCounter, file: string): void {
  if (doc.errors.length === 0) return
  const e = doc.errors[0]!
  const pos = lines.linePos(e.pos[0])
  throw new GkrError('scenario-syntax', `invalid scenario YAML: ${e.message.split('\n')[0]}`, { at: { file, line: pos.line, column: pos.col } })
}

/**
 * Every object the scenario puts in the store besides `objects`: its generators' (namespaces and
 * nodes first), then the documents after the first, one at a time. A document that is not an object
 * is refused with its file, line and column.
 */
export function* extraObjects(s: Scenario): Generator<Obj> {
  const first = (g: GeneratorSpec): number => (g.kind === 'Namespace' ? 0 : g.kind === 'Node' ? 1 : 2)
  for (const g of [...(s.generate ?? [])].sort((a, b) => first(a) - first(b))) yield* expandGenerator(g)
  if (!s.documentsFile) return
  const file = s.documentsFile
  for (const { doc, index, lines } of yamlDocuments(file)) {
    if (index === 0) continue
    syntaxCheck(doc, lines, file)
    const o = doc.toJS() as Obj | null
    if (o === null) continue
    if (typeof o !== 'object' || !o.kind || !o.metadata?.name) {
      const pos = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0])
      throw new GkrError('scenario-invalid', `invalid scenario: document ${index + 1} needs kind and metadata.name (each document after the first is one Kubernetes object)`, { at: { file, line: pos.line, column: pos.col } })
    }
    yield o
  }
}

export function userOf(id: Identity): { name: string; groups: string[] } {
  if (id.serviceAccount) {
    const { namespace, name } = id.serviceAccount
    return { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated', ...(id.groups ?? [])] }
  }
  return { name: id.user ?? id.name, groups: [...(id.groups ?? []), 'system:authenticated'] }
}

/**
 * A fault the API server injects into requests matching "verb resource" ("delete pods", "* *"): every
 * (1/rate)-th of them fails. With `times`, only that many fail, and then no more (a one-shot hiccup
 * with times: 1 and rate: 1).
 */
export interface Fault {
  match: string
  rate: number
  kind: 'etcd' | 'timeout' | 'throttle' | 'reset' | 'unavailable'
  times?: number
  /**
   * The request is carried out first (a create persists, a delete deletes), then its answer is lost: the
   * fault replaces it. What a client sees when etcd committed but the reply never came back.
   */
  after?: boolean
}

/** Whether the n-th request (from 1) that matches the fault fails. Deterministic, so scenarios reproduce exactly. */
export function faultFires(f: Fault, n: number): boolean {
  if (f.rate <= 0 || n % Math.max(1, Math.round(1 / f.rate)) !== 0) return false
  return f.times === undefined || Math.floor(n / Math.max(1, Math.round(1 / f.rate))) <= f.times
}
