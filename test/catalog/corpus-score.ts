/**
 * Scores `gkr explain` on the labelled corpus in test/catalog/corpus (index.json: one entry per log with
 * its public source, the cause the thread established and the expected catalog entry, or null when no
 * entry fits). Shared by the corpus test (which fails below target) and `npm run bench -- explain`.
 *
 * - precision: of the logs explain gives an answer for (its top entry, whether a diagnosis, a tentative
 *   one or the first of a differential), the share where that entry is the expected one;
 * - recall: of the logs with an expected entry, the share where explain's top entry is it;
 * - confident near-miss mistakes: near misses (logs that look like an entry but whose cause is another)
 *   given a confident diagnosis (not tentative, not a differential) of the wrong entry;
 * - negatives: application logs, which must produce no finding at all.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { explainLog } from '../../src/catalog/match.js'

export interface CorpusEntry {
  file: string
  expect: string | null
  kind: 'match' | 'near-miss' | 'negative' | 'other'
  url: string
  cause: string
  /** Collected after the rules were written, to measure how they generalise. */
  holdout?: boolean
}

export interface Outcome {
  entry: CorpusEntry
  top: string | null
  kind: string
  confidence?: number
  findings: number
}

export interface Score {
  logs: number
  nearMisses: number
  negatives: number
  precision: number
  recall: number
  confidentNearMissMistakes: number
  negativesWithFindings: number
  wrong: Outcome[]
  outcomes: Outcome[]
}

export const CORPUS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus')

export function corpusIndex(dir: string = CORPUS_DIR): CorpusEntry[] {
  return JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as CorpusEntry[]
}

/** The hold-out: logs gathered after the rules were written and scored before any tuning (see its BASELINE.md). */
export const HOLDOUT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'holdout')

export async function scoreCorpus(entries: CorpusEntry[] = corpusIndex(), dir: string = CORPUS_DIR): Promise<Score> {
  const outcomes: Outcome[] = []
  for (const entry of entries) {
    const d = await explainLog(readFileSync(path.join(dir, entry.file), 'utf8'))
    const a = d.answer
    const top = a.kind === 'none' ? null : a.kind === 'differential' ? a.candidates[0]!.id : a.id
    outcomes.push({ entry, top, kind: a.kind, ...('confidence' in a ? { confidence: a.confidence } : {}), findings: d.matches.length })
  }
  const answered = outcomes.filter((o) => o.top !== null)
  const positives = outcomes.filter((o) => o.entry.expect !== null)
  const nearMisses = outcomes.filter((o) => o.entry.kind === 'near-miss')
  const negatives = outcomes.filter((o) => o.entry.kind === 'negative')
  return {
    logs: outcomes.length,
    nearMisses: nearMisses.length,
    negatives: negatives.length,
    precision: answered.filter((o) => o.top === o.entry.expect).length / Math.max(1, answered.length),
    recall: positives.filter((o) => o.top === o.entry.expect).length / Math.max(1, positives.length),
    confidentNearMissMistakes: nearMisses.filter((o) => o.kind === 'diagnosis' && o.top !== o.entry.expect).length,
    negativesWithFindings: negatives.filter((o) => o.findings > 0).length,
    wrong: outcomes.filter((o) => o.top !== o.entry.expect),
    outcomes,
  }
}

export function formatScore(s: Score): string {
  return [
    `corpus: ${s.logs} logs (${s.nearMisses} near misses, ${s.negatives} application logs)`,
    `precision ${s.precision.toFixed(3)}, recall ${s.recall.toFixed(3)}, confident near-miss mistakes ${s.confidentNearMissMistakes}/${s.nearMisses}, application logs with findings ${s.negativesWithFindings}/${s.negatives}`,
    ...s.wrong.map((o) => `  ${o.entry.file}: expected ${o.entry.expect ?? 'nothing'}, got ${o.top ?? 'nothing'} (${o.kind}${o.confidence !== undefined ? ` ${o.confidence}%` : ''})`),
  ].join('\n')
}
