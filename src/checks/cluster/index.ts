import type { Check } from '../types.js'

/** Checks that judge facts gathered from a cluster. */
export const clusterChecks: readonly Check[] = []
