import type { CatalogId } from './ids.js'

/** One way an entry shows up in a log: a cheap substring pre-filter plus the regex that confirms it. */
export interface Symptom {
  /** A literal substring every matching line contains (checked before the regex runs). */
  needle: string
  /** The pattern over the normalised line; named groups are the extracted fields. */
  pattern: RegExp
  /** Higher wins when several entries match the same line. */
  weight: number
}

export interface CatalogEntry {
  id: CatalogId
  title: string
  /** Link to the text this entry is based on. */
  ref: string
  source: 'gitlab-docs' | 'gkr'
  symptoms: Symptom[]
  explanation: string
  causes: string[]
  fix: { steps: string[]; snippet?: { lang: 'toml' | 'yaml'; text: string } }
  configKeys: string[]
  checks: string[]
  examples: string[]
  ja: { title: string; explanation: string; fix: string[] }
}
