import type { Check } from '../types.js'

/** Offline checks of the runner configuration alone (no cluster needed). */
export const configChecks: readonly Check[] = []
