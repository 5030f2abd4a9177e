import { editDistance } from '../util/text.js'

/**
 * The candidates closest to what was typed, best first, for did-you-mean: within about a third of the
 * input's length in edits (at least 2), or starting with it (`doc` → `doctor`); only those at the nearest distance.
 */
export function closest(input: string, candidates: readonly string[], max = 2): string[] {
  const q = input.toLowerCase()
  if (q === '') return []
  const limit = Math.max(2, Math.floor(q.length / 3))
  const scored = [...new Set(candidates)]
    // Lengths further apart than the limit are at least that many edits apart: skip the quadratic distance (a pasted 100 kB argument).
    .map((c) => ({ c, d: c.toLowerCase().startsWith(q) ? 0 : Math.abs(c.length - q.length) > limit ? limit + 1 : editDistance(q, c.toLowerCase()) }))
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
  // Only the nearest: `jsn` suggests `json`, not also `as`.
  return scored.filter((s) => s.d === scored[0]!.d).slice(0, max).map((s) => s.c)
}

/** An oclif command id (`sim:start`) as the user types it (`sim start`): internal ids are never shown. */
export const displayId = (id: string): string => id.replaceAll(':', ' ')
