import { describe, expect, it } from 'vitest'
import { allKeyPaths, type Kind } from '../../src/config/schema.js'
import { FEATURE_FLAGS } from '../../src/config/feature-flags.js'
import { FLAG_VERSIONS, KEY_VERSIONS } from '../../src/config/versions.js'

/** The Go types (common/config.go at HEAD) a schema kind may stand for. */
const GO_TYPES: Partial<Record<Kind, RegExp>> = {
  string: /^\*?(string|api\.ProcMountType|KubernetesDNSPolicy|KubernetesPodSpecPatchType|DockerPullPolicy)$/,
  quantity: /^\*?string$/,
  regex: /^\*?string$/,
  duration: /^\*?(string|time\.Duration)$/,
  int: /^\*?(int|int32|int64|RequestRetryLimit|RequestRetryBackoffMax)$/,
  datetime: /^time\.Time$/,
  bool: /^\*?bool$/,
  'string[]': /^\[\](string|api\.Capability|DockerPullPolicy)$/,
  'int[]': /^\[\]int64$/,
  'string|string[]': /^StringOrArray$/,
}

describe('version table', () => {
  it('has the version every schema key appeared in (and disappeared in, for removed keys)', () => {
    const missing = allKeyPaths().filter((p) => !KEY_VERSIONS[p.path]).map((p) => p.path)
    expect(missing).toEqual([])
    for (const p of allKeyPaths()) {
      const v = KEY_VERSIONS[p.path]!
      expect(v.added, p.path).toMatch(/^\d+\.\d+$/)
      if (p.def.status?.kind === 'removed') expect(v.removed, `${p.path} is removed in the schema`).toBe(p.def.status.since)
      else expect(v.removed, `${p.path} is not removed in the schema`).toBeUndefined()
    }
  })

  it('types every scalar key as the runner struct does (a TOML value of another type fails to load)', () => {
    const wrong: string[] = []
    for (const p of allKeyPaths()) {
      const go = KEY_VERSIONS[p.path]?.go
      const re = GO_TYPES[p.def.kind]
      if (go && re && !re.test(go)) wrong.push(`${p.path}: schema ${p.def.kind}, runner ${go}`)
    }
    expect(wrong).toEqual([])
  })

  it('has every feature flag the schema knows, with its version and defaults', () => {
    for (const f of FEATURE_FLAGS) {
      const v = FLAG_VERSIONS[f.name]
      expect(v, f.name).toBeDefined()
      expect(v!.removed, `${f.name} is still defined by the runner`).toBeUndefined()
      const last = v!.defaults[v!.defaults.length - 1]
      expect(last?.[1], `${f.name}: the schema's default is the newest one`).toBe(f.default)
    }
  })
})
