/**
 * The doctor checks related to a catalog entry: the ones the entry names itself plus every check whose
 * metadata points at the entry. Derived, so the catalog and the checks cannot drift apart.
 */
import { ALL_CHECKS } from '../checks/registry.js'
import type { CatalogEntry } from './types.js'

export function relatedChecks(e: CatalogEntry): string[] {
  return [...new Set([...e.checks, ...ALL_CHECKS.filter((c) => c.catalog.includes(e.id)).map((c) => c.id)])]
}
