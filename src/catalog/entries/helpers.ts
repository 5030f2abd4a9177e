import type { Symptom } from '../types.js'
import { TROUBLESHOOTING_PAGE } from '../ids.js'

/** A symptom: `needle` is a lower-case literal every matching line contains. */
export const sym = (needle: string, pattern: RegExp, weight: number): Symptom => {
  if (needle !== needle.toLowerCase()) throw new Error(`catalog needle must be lower case: ${needle}`)
  return { needle, pattern, weight }
}

export const docRef = (id: string): string => `${TROUBLESHOOTING_PAGE}#${id}`
export const ownRef = (id: string): string => `docs/catalog.md#${id}`
