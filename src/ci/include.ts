/**
 * `include:` of a .gitlab-ci.yml, followed as GitLab follows it where the file is at hand: `local:`
 * files (relative to the project, `*` and `**` globs included), and `project:`, `template:` and `remote:`
 * files when --include-dir provides them. Each included file is merged before the file that includes
 * it, in order, so later files win and the including file wins over all of them (hashes merged key by
 * key, jobs included; arrays replaced). What is not followed is said per include, as a note.
 *
 * --include-dir layout: `DIR/<group>/<project>/<file>` for `project:`, `DIR/templates/<name>` for
 * `template:`, `DIR/<host>/<path>` for `remote:`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { isCollection, type Node } from 'yaml'
import { usageError, type Location } from '../util/errors.js'
import type { CiDocument, Obj } from './types.js'

/** GitLab's limits: includes per pipeline, and how deep they may nest. */
const MAX_INCLUDES = 150
const MAX_DEPTH = 100

export interface IncludeContext {
  projectDir: string
  includeDir?: string
}

export interface Included {
  /** The merged top-level mapping (undefined when every file is empty). */
  raw: Obj | undefined
  /** Where each top-level key was written last (the file that wins). */
  keyAt: Map<string, Location>
  notes: string[]
}

type Load = (source: string, file: string) => CiDocument
type Merge = (base: Obj, over: Obj) => Obj

interface State {
  ctx: IncludeContext
  load: Load
  merge: Merge
  notes: string[]
  seen: Set<string>
  count: number
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

export function resolveIncludes(main: CiDocument, ctx: IncludeContext, load: Load, merge: Merge): Included {
  const state: State = { ctx, load, merge, notes: [], seen: new Set(), count: 0 }
  const out = expand(main, ctx.projectDir, state, 0)
  return { ...out, notes: state.notes }
}

/** A document with its includes merged under it. `base` is the folder its `local:` includes are relative to. */
function expand(doc: CiDocument, base: string, state: State, depth: number): Omit<Included, 'notes'> {
  if (!doc.raw) return { raw: undefined, keyAt: new Map() }
  const { include, ...own } = doc.raw
  if (include === undefined || include === null) return { raw: own, keyAt: doc.keyAt }
  let raw: Obj = {}
  const keyAt = new Map<string, Location>()
  const entries = Array.isArray(include) ? include : [include]
  entries.forEach((entry, i) => {
    const at = entryAt(doc, Array.isArray(include) ? ['include', i] : ['include'])
    for (const target of targets(entry, at, base, state)) {
      if (state.seen.has(target.file)) continue
      state.seen.add(target.file)
      if (++state.count > MAX_INCLUDES) throw usageError('ci-include-invalid', `more than ${MAX_INCLUDES} includes (GitLab's limit)`, { at })
      if (depth + 1 > MAX_DEPTH) throw usageError('ci-include-invalid', `includes nested more than ${MAX_DEPTH} levels deep (GitLab's limit)`, { at })
      let source: string
      try {
        source = readFileSync(target.file, 'utf8')
      } catch (err) {
        throw usageError('ci-include-unreadable', `cannot read included file ${target.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { at })
      }
      const child = expand(state.load(source, target.file), target.base, state, depth + 1)
      if (child.raw) raw = state.merge(raw, child.raw)
      for (const [k, v] of child.keyAt) keyAt.set(k, v)
    }
  })
  for (const [k, v] of doc.keyAt) if (k !== 'include') keyAt.set(k, v)
  return { raw: state.merge(raw, own), keyAt }
}

function entryAt(doc: CiDocument, keyPath: Array<string | number>): Location {
  const node = doc.doc.getIn(keyPath, true) as Node | undefined
  const offset = node && (isCollection(node) || 'range' in node) ? node.range?.[0] : undefined
  return offset !== undefined ? doc.locate(offset, 'include') : { file: doc.file, path: 'include' }
}

interface Target {
  file: string
  /** Where the included file's own `local:` includes are taken from. */
  base: string
}

/** The files one include entry names, or none (with a note saying why). */
function targets(entry: unknown, at: Location, base: string, state: State): Target[] {
  const e: Obj = typeof entry === 'string' ? (/^https?:\/\//i.test(entry) ? { remote: entry } : { local: entry }) : isObj(entry) ? entry : {}
  const kinds = ['local', 'project', 'template', 'remote', 'component'].filter((k) => typeof e[k] === 'string')
  if (kinds.length !== 1) {
    throw usageError('ci-include-invalid', 'an include must be a file path, or a mapping with one of local:, project: (with file:), template:, remote: or component:', { at })
  }
  const kind = kinds[0]!
  const name = `include ${kind}: ${String(e[kind])}${kind === 'project' && e.file !== undefined ? ` file: ${Array.isArray(e.file) ? e.file.join(', ') : String(e.file)}` : ''}`
  if (e.rules !== undefined) state.notes.push(`${name}: its rules: are not evaluated; gkr includes it`)
  if (e.inputs !== undefined) state.notes.push(`${name}: its inputs: are not interpolated`)
  const dir = state.ctx.includeDir
  const notFollowed = (why: string): Target[] => {
    state.notes.push(`${name} not followed: ${why}`)
    return []
  }
  switch (kind) {
    case 'local':
      return local(String(e.local), at, base, state)
    case 'component':
      return notFollowed('gkr does not fetch CI/CD components')
    case 'project': {
      const files = (Array.isArray(e.file) ? e.file : [e.file]).filter((f): f is string => typeof f === 'string')
      if (files.length === 0) throw usageError('ci-include-invalid', `${name}: a project include needs file: (a path or a list of paths)`, { at })
      const project = String(e.project).replace(/^\/+|\/+$/g, '')
      if (!dir) return notFollowed(`pass --include-dir DIR with ${files.map((f) => `DIR/${project}/${f.replace(/^\/+/, '')}`).join(', ')}`)
      const root = path.join(dir, project)
      return files.flatMap((f) => {
        const file = path.join(root, f.replace(/^\/+/, ''))
        return existsSync(file) ? [{ file, base: root }] : notFollowed(`${file} does not exist`)
      })
    }
    case 'template': {
      const rel = path.join('templates', String(e.template).replace(/^\/+/, ''))
      if (!dir) return notFollowed(`pass --include-dir DIR with DIR/${rel}`)
      const file = path.join(dir, rel)
      return existsSync(file) ? [{ file, base }] : notFollowed(`${file} does not exist`)
    }
    default: {
      let url: URL
      try {
        url = new URL(String(e.remote))
      } catch {
        throw usageError('ci-include-invalid', `${name}: not a URL`, { at })
      }
      const rel = path.join(url.hostname, decodeURIComponent(url.pathname).replace(/^\/+/, ''))
      if (!dir) return notFollowed(`gkr does not download; pass --include-dir DIR with DIR/${rel}`)
      const file = path.join(dir, rel)
      return existsSync(file) ? [{ file, base }] : notFollowed(`${file} does not exist`)
    }
  }
}

/** A `local:` include: a path in the project (a leading / is the project root), or a glob with * and **. */
function local(spec: string, at: Location, base: string, state: State): Target[] {
  const rel = spec.replace(/^\/+/, '')
  const inside = (p: string): boolean => {
    const r = path.relative(base, p)
    return r !== '' && !r.startsWith('..') && !path.isAbsolute(r)
  }
  if (!rel.includes('*')) {
    const file = path.resolve(base, rel)
    if (!inside(file)) throw usageError('ci-include-invalid', `include local: ${spec} is outside the project (${base})`, { at })
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw usageError('ci-include-missing', `include local: ${spec}: no such file in the project (looked for ${file})`, { at, suggestions: ['Local includes are relative to the project root (the repository holding the CI file).'] })
    }
    return [{ file, base }]
  }
  const pattern = globRegex(rel)
  const found = walk(base).filter((f) => pattern.test(f)).sort()
  if (found.length === 0) state.notes.push(`include local: ${spec} matched no file in the project`)
  return found.map((f) => ({ file: path.join(base, f), base }))
}

/** A star matches within one folder, two stars across folders (also none: a/, two stars, /x.yml matches a/x.yml). */
function globRegex(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?'
        i += 2
      } else {
        re += '.*'
        i++
      }
    } else if (c === '*') re += '[^/]*'
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** Files under `dir`, relative, skipping .git and node_modules. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = []
  let entries
  try {
    entries = readdirSync(path.join(dir, prefix), { withFileTypes: true })
  } catch {
    return out
  }
  for (const e of entries) {
    if (e.name === '.git' || e.name === 'node_modules') continue
    const rel = prefix ? `${prefix}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...walk(dir, rel))
    else if (e.isFile()) out.push(rel)
  }
  return out
}
