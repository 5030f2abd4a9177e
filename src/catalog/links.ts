/**
 * The doctor checks related to a catalog entry: the ones the entry names itself plus every check whose
 * metadata points at the entry. Derived: check-links.ts is generated from the checks' metadata by
 * `npm run docs`, and test/meta/docs.test.ts fails when it is stale, so the catalog and the checks
 * cannot drift apart (and explain starts without loading every check).
 */
import { CHECKS_BY_ENTRY } from './check-links.js'
import type { CatalogEntry } from './types.js'

export function relatedChecks(e: CatalogEntry): string[] {
  return [...new Set([...e.checks, ...(CHECKS_BY_ENTRY[e.id] ?? [])])]
}
