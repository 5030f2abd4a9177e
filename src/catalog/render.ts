/**
 * Plain-text and Markdown views of the catalog: `gkr explain`, `gkr catalog show`, and docs/catalog.md.
 * Deterministic (no dates, no colour) so the docs file can be compared byte for byte.
 */
import { CATALOG } from './index.js'
import type { CatalogEntry } from './types.js'
import type { Match } from './match.js'
import type { Advice } from './advice.js'
import type { Answer, Dismissed } from './diagnose.js'
import { relatedChecks } from './links.js'

export type Lang = 'en' | 'ja'

/** `--lang` wins; otherwise a `ja` locale in LC_ALL / LC_MESSAGES / LANG selects Japanese. */
export function resolveLang(flag: string | undefined, env: Record<string, string | undefined>): Lang {
  if (flag === 'en' || flag === 'ja') return flag
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || ''
  return /^ja(?:[_.@-]|$)/i.test(locale) ? 'ja' : 'en'
}

const L = {
  en: { why: 'Why', causes: 'Likely causes', fix: 'Fix', keys: 'Config keys', checks: 'Doctor checks', examples: 'Example log lines', more: 'More', line: 'line', found: 'Found', times: 'times', extracted: 'Extracted' },
  ja: { why: '説明', causes: '考えられる原因', fix: '対処', keys: '関連する設定キー', checks: 'doctorのチェック', examples: 'ログの例', more: '詳細', line: '行', found: '検出', times: '回', extracted: '抽出した値' },
} as const

const A = {
  en: { diagnosis: 'Diagnosis', tentative: 'Tentative', confidence: 'confidence', differential: 'Several entries fit; most likely first:', tell: 'tell apart', aside: 'Set aside', lookedLike: 'looked like', evidence: 'evidence', movedBecause: 'because' },
  ja: { diagnosis: '診断', tentative: '暫定', confidence: '確信度', differential: '複数のエントリが当てはまります（可能性の高い順）：', tell: '見分け方', aside: '除外', lookedLike: 'に見えましたが', evidence: '根拠', movedBecause: '理由' },
} as const

const titleOf = (id: string, lang: Lang): string => localText(CATALOG.find((x) => x.id === id)!, lang).title

/** The answer in a few lines: the diagnosis, a tentative one and why, or the differential with what tells the candidates apart. */
export function renderAnswerText(answer: Answer, dismissed: readonly Dismissed[], lang: Lang = 'en'): string {
  const a = A[lang]
  const out: string[] = []
  if (answer.kind === 'diagnosis') out.push(`${a.diagnosis}: ${titleOf(answer.id, lang)}  [${answer.id}] (${a.confidence} ${answer.confidence}%)`)
  else if (answer.kind === 'tentative') out.push(`${a.tentative}: ${titleOf(answer.id, lang)}  [${answer.id}] (${a.confidence} ${answer.confidence}%): ${answer.why}`)
  else if (answer.kind === 'differential') {
    out.push(a.differential)
    for (const c of answer.candidates) out.push(`  - ${titleOf(c.id, lang)}  [${c.id}] (${c.confidence}%); ${a.tell}: ${c.tellApart}`)
  }
  for (const d of dismissed.slice(0, 3)) out.push(`${a.aside}: ${lang === 'ja' ? '' : 'line '}${d.lineNumber}${lang === 'ja' ? '行目' : ''} ${a.lookedLike} ${d.id}${lang === 'ja' ? '、' : ', but '}${d.reason}`)
  return out.length ? out.join('\n') + '\n\n' : ''
}

export interface LocalText {
  title: string
  explanation: string
  fix: string[]
}

export function localText(e: CatalogEntry, lang: Lang): LocalText {
  return lang === 'ja' ? e.ja : { title: e.title, explanation: e.explanation, fix: e.fix.steps }
}

const indent = (s: string, pad: string): string => s.split('\n').map((l) => pad + l).join('\n')

/** One entry in full, as `gkr catalog show` prints it. */
export function renderEntryText(e: CatalogEntry, lang: Lang = 'en'): string {
  const t = localText(e, lang)
  const l = L[lang]
  const out = [`${e.id}`, `  ${t.title}`, '', `${l.why}:`, indent(t.explanation, '  ')]
  if (lang === 'en') out.push('', `${l.causes}:`, ...e.causes.map((c) => `  - ${c}`))
  out.push('', `${l.fix}:`, ...t.fix.map((s, i) => `  ${i + 1}. ${s}`))
  if (e.fix.snippet) out.push('', indent(e.fix.snippet.text, '    '))
  if (e.configKeys.length) out.push('', `${l.keys}: ${e.configKeys.join(', ')}`)
  const checks = relatedChecks(e)
  if (checks.length) out.push(`${l.checks}: ${checks.join(', ')}`)
  out.push('', `${l.examples}:`, ...e.examples.map((x) => `  ${x}`), '', `${l.more}: ${e.ref}`)
  return out.join('\n') + '\n'
}

/** The answer of `gkr explain`: each match with its line, what was extracted, and the fix. */
export function renderMatchesText(matches: (Match & { advice?: Advice })[], lang: Lang = 'en'): string {
  const l = L[lang]
  const blocks = matches.map((m, i) => {
    const e = CATALOG.find((x) => x.id === m.id)!
    const t = localText(e, lang)
    const out = [`${i + 1}. ${t.title}  [${m.id}]`, `   ${l.line} ${m.lineNumber}: ${m.line}`]
    for (const ev of (m.evidence ?? []).slice(1, 3)) out.push(`   ${A[lang].evidence}: ${l.line} ${ev.lineNumber} (${ev.emitter}${ev.stage ? `, ${ev.stage}` : ''}): ${ev.line.slice(0, 200)}`)
    if (m.why) out.push(`   ${A[lang].movedBecause}: ${m.why}`)
    if (m.occurrences > 1) out.push(`   ${l.found} ${m.occurrences} ${l.times} (${l.line} ${m.lineNumbers.join(', ')}${m.occurrences > m.lineNumbers.length ? ', …' : ''})`)
    const fields = Object.entries(m.fields)
    if (fields.length) out.push(`   ${l.extracted}: ${fields.map(([k, v]) => `${k}=${v}`).join(', ')}`)
    if (m.advice) {
      out.push('', ...m.advice.text.map((t) => `   ${t}`))
      if (m.advice.snippet) out.push('', indent(m.advice.snippet.text, '       '))
    }
    out.push('', indent(t.explanation, '   '), '', `   ${l.fix}:`, ...t.fix.map((s, j) => `     ${j + 1}. ${s}`))
    if (e.fix.snippet) out.push('', indent(e.fix.snippet.text, '       '))
    const checks = relatedChecks(e)
    if (checks.length) out.push('', `   ${l.checks}: gkr doctor --only ${checks.join(',')}`)
    out.push('', `   ${l.more}: ${e.ref}`)
    return out.join('\n')
  })
  return blocks.join('\n\n') + '\n'
}

/** The table `gkr catalog` prints. */
export function renderCatalogTable(lang: Lang = 'en'): string {
  const width = Math.max(...CATALOG.map((e) => e.id.length))
  return CATALOG.map((e) => `${e.id.padEnd(width)}  ${localText(e, lang).title}`).join('\n') + '\n'
}

/** docs/catalog.md: every entry, generated from the data. */
export function renderCatalogDocs(lang: Lang = 'en'): string {
  const l = L[lang]
  const out: string[] = [
    '<!-- Generated by scripts/gen-docs.ts from src/catalog. Do not edit by hand. -->',
    '',
    lang === 'ja' ? '# トラブルシューティングカタログ' : '# Troubleshooting catalog',
    '',
    lang === 'ja'
      ? '`gkr explain` と `gkr doctor` が参照するエントリの一覧です。GitLab のトラブルシューティングページの各節と、gkr 独自のエントリを含みます。'
      : 'Every entry `gkr explain` and `gkr doctor` refer to: one per section of GitLab\'s "Troubleshooting the Kubernetes executor" page, followed by gkr\'s own entries.',
    '',
    '| id | title |',
    '| --- | --- |',
    ...CATALOG.map((e) => `| [\`${e.id}\`](#${e.id}) | ${mdCell(localText(e, lang).title)} |`),
    '',
  ]
  for (const e of CATALOG) {
    const t = localText(e, lang)
    out.push(`## ${e.id}`, '', `**${mdCell(t.title)}**`, '', t.explanation, '')
    if (lang === 'en') out.push(`${l.causes}:`, '', ...e.causes.map((c) => `- ${c}`), '')
    out.push(`${l.fix}:`, '', ...t.fix.map((s, i) => `${i + 1}. ${s}`), '')
    if (e.fix.snippet) out.push('```' + e.fix.snippet.lang, e.fix.snippet.text, '```', '')
    if (e.configKeys.length) out.push(`${l.keys}: ${e.configKeys.map((k) => `\`${k}\``).join(', ')}`, '')
    const checks = relatedChecks(e)
    if (checks.length) out.push(`${l.checks}: ${checks.map((k) => `\`${k}\``).join(', ')}`, '')
    out.push(`${l.examples}:`, '', '```plaintext', ...e.examples, '```', '')
    if (e.source === 'gitlab-docs') out.push(`${l.more}: ${e.ref}`, '')
  }
  return out.join('\n')
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|')
