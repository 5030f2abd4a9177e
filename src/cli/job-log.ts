/**
 * The job log as a reader sees it when it does not land on a colour terminal (a file, a pipe, a CI
 * log, NO_COLOR): ANSI colour and erase codes removed, and GitLab's collapsible-section markers
 * (`\e[0Ksection_start:<unix ts>:<name>[options]\r\e[0K<header>`, `…section_end:<ts>:<name>\r\e[0K`)
 * turned into plain header lines. `--raw-log` keeps the bytes as the job wrote them, for tools that
 * read GitLab's log format.
 *
 * The filter works on a stream: a marker or an escape sequence may be split across chunks, so the
 * text after the last newline is held back until its line is complete (or the stream ends).
 */

export interface LogFilter {
  /** Feeds a chunk; returns what can be printed now. */
  push(text: string): string
  /** Ends the stream; returns what was held back. */
  end(): string
}

export type LogMode = 'raw' | 'readable'

const ESC = '\u001b'
// A section marker, with the erase-line codes around it. Names are [A-Za-z0-9_.-]; options such as [collapsed=true] may follow.
// eslint-disable-next-line no-control-regex
const SECTION = /(?:\u001b\[0?K)?section_(start|end):(\d+):([A-Za-z0-9_.-]+)(?:\[[^\]\r\n]*\])?\r?(?:\u001b\[0?K)?/g
// CSI sequences (colours, erase, cursor), OSC sequences (titles, links) and lone escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g

const MAX_HELD = 64 * 1024

/** Keeps the job log as it came. */
export const rawLog: LogFilter = { push: (t) => t, end: () => '' }

export function jobLogFilter(mode: LogMode): LogFilter {
  if (mode === 'raw') return rawLog
  const started = new Map<string, number>()
  let held = ''
  const line = (l: string): string => {
    if (!l.includes('section_') && !l.includes(ESC)) return l
    let out = ''
    let last = 0
    let marker = false
    for (const m of l.matchAll(SECTION)) {
      out += l.slice(last, m.index)
      last = m.index + m[0].length
      marker = true
      const [, kind, ts, name] = m as unknown as [string, 'start' | 'end', string, string]
      if (kind === 'start') {
        started.set(name, Number(ts))
        // The header is the rest of the line; a start without one is named by its section.
        const header = l.slice(last).replace(ANSI, '').trim()
        out += `--- ${header || name}`
        last = l.length
      } else {
        const t0 = started.get(name)
        started.delete(name)
        out += `--- end of ${name}${t0 !== undefined ? ` (${Math.max(0, Number(ts) - t0)}s)` : ''}`
      }
    }
    out += l.slice(last)
    const plain = out.replace(ANSI, '')
    // A marker line whose text was only erase codes and the marker itself leaves nothing else behind.
    return marker ? plain.replace(/\r/g, '') : plain
  }
  const lines = (text: string): string => text.split('\n').map(line).join('\n')
  return {
    push(text) {
      const all = held + text
      const cut = all.lastIndexOf('\n')
      if (cut === -1) {
        // A line that never ends (a progress bar redrawn with \r) is not held back forever.
        if (all.length <= MAX_HELD) {
          held = all
          return ''
        }
        held = ''
        return lines(all)
      }
      held = all.slice(cut + 1)
      return lines(all.slice(0, cut + 1))
    },
    end() {
      const rest = held
      held = ''
      return rest ? lines(rest) : ''
    },
  }
}
