/**
 * The example lines GitLab's troubleshooting page quotes, by section anchor: every line of a
 * `plaintext` block, every bullet that is one code span, and every heading that is one code span
 * (optionally after "Error"). Used by the catalog meta-test, and to refresh the committed fixture.
 */
export interface QuotedLine {
  id: string
  kind: 'heading' | 'block' | 'bullet'
  line: string
}

/** `page` is seed 000 (English); `anchors` are the section anchors in page order (from seed 001). */
export function quotedLines(page: string, anchors: string[]): QuotedLine[] {
  const out: QuotedLine[] = []
  let section = -1
  let fence: string | undefined
  for (const raw of page.split('\n')) {
    const fenceOpen = /^```(\w*)/.exec(raw)
    if (fenceOpen) {
      fence = fence === undefined ? fenceOpen[1] : undefined
      continue
    }
    if (fence === undefined && raw.startsWith('## ')) {
      section++
      const heading = /^## (?:Error:? )?`([^`]+)`$/.exec(raw)
      if (heading) out.push({ id: anchors[section]!, kind: 'heading', line: heading[1]! })
      continue
    }
    if (section < 0) continue
    if (fence === 'plaintext' && raw.trim()) out.push({ id: anchors[section]!, kind: 'block', line: raw.trim() })
    const bullet = fence === undefined ? /^- `([^`]+)`$/.exec(raw) : null
    if (bullet) out.push({ id: anchors[section]!, kind: 'bullet', line: bullet[1]! })
  }
  return out
}

export function anchorsOf(japanesePage: string): string[] {
  return [...japanesePage.matchAll(/^## .*\{#([a-z0-9_-]+)\}\s*$/gm)].map((m) => m[1]!)
}
