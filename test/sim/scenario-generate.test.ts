import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadScenarioFile, extraObjects, SCENARIO_DIR } from '../../src/sim/scenario.js'
import { seedScenario } from '../../src/sim/index.js'
import { ConvertingStore } from '../../src/sim/events-v1.js'
import { resourceForKind } from '../../src/sim/resources.js'
import { GkrError } from '../../src/util/errors.js'

/**
 * Scenario generators (`generate:`) and scenarios of many documents: what they make, where a mistake
 * in them is reported, and that a big scenario is read one document at a time.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-simscale-gen-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const HEADER = readFileSync(path.join(SCENARIO_DIR, 'healthy.yaml'), 'utf8').trimEnd()
let n = 0
const file = (text: string): string => {
  const f = path.join(dir, `s${n++}.yaml`)
  writeFileSync(f, text)
  return f
}

function thrown(fn: () => unknown): GkrError {
  try {
    fn()
  } catch (err) {
    if (err instanceof GkrError) return err
    throw err
  }
  throw new Error('did not throw')
}

describe('generate:', () => {
  it('makes count objects from the name pattern and template, substituting {{i}} and {{i%N}}', () => {
    const s = loadScenarioFile(file(`${HEADER}
generate:
  - { kind: Secret, count: 3, name: "app-{{i}}", namespace: gitlab-runner, labels: { app: bench, shard: "s{{i%2}}" }, template: { type: Opaque, data: { token: dmFsdWU= } } }
  - kind: Pod
    count: 2
    start: 10
    name: "web-{{i}}"
    namespace: gitlab-runner
    padBytes: 100
    template:
      spec: { nodeName: node-1, containers: [{ name: app, image: "registry.example.com/app:{{i}}" }] }
  - { kind: Namespace, count: 1, name: extra }
`))
    expect(s.generate).toHaveLength(3)
    const objs = [...extraObjects(s)]
    // Namespaces first, then the rest in file order.
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual(['Namespace//extra', 'Secret/gitlab-runner/app-0', 'Secret/gitlab-runner/app-1', 'Secret/gitlab-runner/app-2', 'Pod/gitlab-runner/web-10', 'Pod/gitlab-runner/web-11'])
    expect(objs[2]).toEqual({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { token: 'dmFsdWU=' }, metadata: { name: 'app-1', namespace: 'gitlab-runner', labels: { app: 'bench', shard: 's1' } } })
    expect((objs[5]!.spec as { containers: Array<{ image: string }> }).containers[0]!.image).toBe('registry.example.com/app:11')
    expect(objs[5]!.metadata.annotations!['sim.gkr.dev/padding']).toHaveLength(100)
    // Each object is new: changing one changes no other.
    objs[1]!.metadata.labels!.app = 'x'
    expect(objs[2]!.metadata.labels!.app).toBe('bench')
  })

  it('puts generated objects in the store with the listed ones', () => {
    const s = loadScenarioFile(file(`${HEADER}\ngenerate:\n  - { kind: ConfigMap, count: 2000, name: "cm-{{i}}", namespace: gitlab-runner, padBytes: 10 }\n`))
    const store = new ConvertingStore()
    seedScenario(store, s)
    const cm = resourceForKind('v1', 'ConfigMap')!
    expect(store.count(cm, 'gitlab-runner')).toBe(2000)
    expect(store.get(cm, 'gitlab-runner', 'cm-1999').data).toEqual({ padding: 'xxxxxxxxxx' })
    expect(store.count(resourceForKind('v1', 'Namespace')!)).toBe(s.objects.filter((o) => o.kind === 'Namespace').length)
  })

  it('refuses a name that two objects would share, and a second object of the same name', () => {
    const twice = loadScenarioFile(file(`${HEADER}\ngenerate:\n  - { kind: Secret, count: 1, name: gitlab-runner-token, namespace: gitlab-runner }\n  - { kind: Secret, count: 1, name: gitlab-runner-token, namespace: gitlab-runner }\n`))
    const e = thrown(() => seedScenario(new ConvertingStore(), twice))
    expect(e.message).toBe('invalid scenario: Secret gitlab-runner/gitlab-runner-token is listed (or generated) twice')
    expect(e.exit).toBe(2)
  })

  // [what, entries, message, line of the mistake among the entries, the text the column points at]
  const cases: Array<[string, string, string, number, string]> = [
    ['a count that is not a whole number', '  - { kind: Secret, count: 2.5 }', 'invalid scenario: generate[0].count must be a whole number of at least 1', 0, '2.5'],
    ['a missing count', '  - kind: Secret\n    name: "a-{{i}}"', 'invalid scenario: generate[0] needs count (how many objects to make)', 0, 'kind'],
    ['an unknown kind', '  - { kind: Secrets, count: 1 }', 'invalid scenario: generate[0]: unknown kind v1/Secrets (known: ', 0, 'Secrets'],
    ['an unknown key', '  - { kind: Secret, count: 1 }\n  - { kind: Secret, cuont: 1 }', 'invalid scenario: generate[1] has an unknown key "cuont" (known: ', 1, 'cuont'],
    ['a pattern without {{i}}', '  - { kind: Secret, count: 5, name: same }', 'invalid scenario: generate[0].name "same" must contain {{i}}: 5 objects cannot share one name', 0, 'same'],
    ['labels that are not strings', '  - { kind: Secret, count: 1, labels: { tier: 1 } }', 'invalid scenario: generate[0].labels must map names to strings (quote numbers and booleans)', 0, '{ tier'],
    ['a template that is a list', '  - { kind: Secret, count: 1, template: [a] }', 'invalid scenario: generate[0].template must be a mapping: the fields of each object besides kind and name', 0, '[a]'],
    ['an entry that is not a mapping', '  - Secret', 'invalid scenario: generate[0] must be a mapping with kind and count', 0, 'Secret'],
    ['too many objects', '  - { kind: Secret, count: 2000000, name: "s-{{i}}" }', 'invalid scenario: the generate entries ask for 2000000 objects; at most 1000000 are supported', 0, '2000000'],
  ]
  it.each(cases)('refuses %s, at its line and column', (_what, entries, message, lineAfter, token) => {
    const column = entries.split('\n')[lineAfter]!.indexOf(token) + 1
    const text = `${HEADER}\ngenerate:\n${entries}\n`
    const f = file(text)
    const e = thrown(() => loadScenarioFile(f))
    expect(e.code).toBe('scenario-invalid')
    expect(e.exit).toBe(2)
    expect(e.message.startsWith(message)).toBe(true)
    expect(e.at).toEqual({ file: f, line: HEADER.split('\n').length + 2 + lineAfter, column })
  })

  it('refuses generate: that is not a list', () => {
    const f = file(`${HEADER}\ngenerate: { kind: Secret }\n`)
    const e = thrown(() => loadScenarioFile(f))
    expect(e.message).toBe('invalid scenario: generate must be a list of generator entries (kind, count, name…)')
    expect(e.at).toEqual({ file: f, line: HEADER.split('\n').length + 1, column: 11 })
  })
})

describe('a scenario of many documents', () => {
  it('reads the documents after the first as objects when the simulator starts', () => {
    const f = file(`${HEADER}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: one, namespace: gitlab-runner }\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: two, namespace: gitlab-runner }\n`)
    const s = loadScenarioFile(f)
    expect(s.documentsFile).toBe(f)
    expect([...extraObjects(s)].map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/one', 'Secret/two'])
  })

  it('refuses a document that is not an object, at its line, when it is read', () => {
    const f = file(`${HEADER}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: one }\n---\njust: a mapping\n`)
    const s = loadScenarioFile(f)
    const e = thrown(() => [...extraObjects(s)])
    expect(e.message).toBe('invalid scenario: document 3 needs kind and metadata.name (each document after the first is one Kubernetes object)')
    expect(e.at).toEqual({ file: f, line: HEADER.split('\n').length + 6, column: 1 })
  })

  it('refuses a syntax error in a later document at its line and column', () => {
    const f = file(`${HEADER}\n---\nkind: ConfigMap\nmetadata: { name: [one }\n`)
    const e = thrown(() => [...extraObjects(loadScenarioFile(f))])
    expect(e.code).toBe('scenario-syntax')
    expect(e.at?.line).toBe(HEADER.split('\n').length + 3)
  })

  it('locates an object of the objects: list that lacks a name', () => {
    const f = file(`${HEADER}\n`.replace('objects:\n', 'objects:\n  - { kind: Secret, metadata: {} }\n'))
    const e = thrown(() => loadScenarioFile(f))
    expect(e.message).toBe('invalid scenario: objects[0] needs kind and metadata.name')
    expect(e.at).toEqual({ file: f, line: HEADER.split('\n').indexOf('objects:') + 2, column: 5 })
  })

  it('loads a 21 MB scenario one document at a time: the heap grows by what the store keeps, no more', () => {
    // 10,000 secrets of 2 KB, one document each.
    const blob = Buffer.alloc(1500, 7).toString('base64')
    const parts = [HEADER]
    for (let i = 0; i < 10_000; i++) parts.push(`---\napiVersion: v1\nkind: Secret\nmetadata: { name: big-${i}, namespace: gitlab-runner, labels: { app: big } }\ndata: { blob: ${blob}${String(i).padStart(6, '0')} }\n`)
    const text = parts.join('\n')
    const f = file(text)
    const size = Buffer.byteLength(text)
    parts.length = 0
    expect(size).toBeGreaterThan(20e6)
    // Live heap (after a full collection), not heapUsed with its garbage.
    v8.setFlagsFromString('--expose_gc')
    const gc = runInNewContext('gc') as () => void
    const live = (): number => {
      gc()
      return process.memoryUsage().heapUsed
    }
    const store = new ConvertingStore()
    const before = live()
    let peak = 0
    store.events.on('change', (e: { rv: number }) => {
      if (e.rv % 3000 === 0) peak = Math.max(peak, live() - before)
    })
    seedScenario(store, loadScenarioFile(f))
    const held = live() - before
    peak = Math.max(peak, held)
    expect(store.count(resourceForKind('v1', 'Secret')!, 'gitlab-runner')).toBe(10_000)
    // Bounded by what the store keeps: no copy of the text, of its syntax tree or of all the objects
    // on the side (the whole-file loader needed about 7× the file).
    expect(peak).toBeLessThan(held * 1.25)
    expect(peak).toBeLessThan(size * 2)
  })
})
