/**
 * The troubleshooting catalog: documented entries (GitLab's troubleshooting page, in page order)
 * followed by gkr's own entries, in the order of src/catalog/ids.ts.
 */
import { ALL_IDS, isCatalogId, type CatalogId } from './ids.js'
import type { CatalogEntry } from './types.js'
import { documentedEntries } from './entries/documented.js'
import { ownEntries } from './entries/own.js'
import { workloadEntries } from './entries/workload.js'
import { editDistance as distance } from '../util/text.js'

export type { CatalogEntry, Symptom } from './types.js'

const byId = new Map<string, CatalogEntry>([...documentedEntries, ...ownEntries, ...workloadEntries].map((e) => [e.id, e]))

/** Every entry, in the order of ALL_IDS. */
export const CATALOG: readonly CatalogEntry[] = ALL_IDS.map((id) => {
  const e = byId.get(id)
  if (!e) throw new Error(`catalog entry missing for id ${id}`)
  return e
})

export function getEntry(id: string): CatalogEntry | undefined {
  return isCatalogId(id) ? byId.get(id) : undefined
}

export function entry(id: CatalogId): CatalogEntry {
  return byId.get(id)!
}

/** Catalog ids closest to `input` (for did-you-mean), best first. */
export function suggestIds(input: string, max = 3): string[] {
  const q = input.toLowerCase()
  const scored = ALL_IDS.map((id) => {
    const contains = id.includes(q) || (q.length > 3 && q.includes(id)) ? 0 : 1
    return { id, score: contains * 1000 + distance(q, id.slice(0, Math.max(q.length + 3, 8))) }
  })
  scored.sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
  return scored.filter((s) => s.score < 1000 || s.score - 1000 <= Math.max(3, q.length / 3)).slice(0, max).map((s) => s.id)
}

