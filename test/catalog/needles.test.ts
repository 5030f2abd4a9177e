import { describe, expect, it } from 'vitest'
import { NeedleSet } from '../../src/catalog/needles.js'

/** The UTF-8 bytes NeedleSet searches. */
const b = (text: string): Buffer => Buffer.from(text, 'utf8')

/** Reference: the end (a byte offset) of the earliest-ending occurrence of any needle, by brute force. */
function naive(needles: string[], text: string, from = 0): number {
  const lower = b(text.replace(/[A-Z]/g, (c) => c.toLowerCase()))
  let best = -1
  for (const n of needles) {
    const i = lower.indexOf(n, from)
    if (i >= 0 && (best < 0 || i + n.length < best)) best = i + n.length
  }
  return best
}

/** The end of the earliest-ending needle in `bytes[from…]` (the first of findAll's ends), or -1. */
function firstEnd(set: NeedleSet, bytes: Buffer, from = 0): number {
  const out: number[] = []
  set.findAll(bytes, from, bytes.length, out)
  return out[0] ?? -1
}

describe('NeedleSet', () => {
  it('finds the earliest-ending needle, ignoring ASCII case, across overlaps and failure links', () => {
    const set = new NeedleSet(['abcd', 'bc', 'aab', 'exceeded quota: '])
    expect(firstEnd(set, b('xxABCx'))).toBe(5) // "bc" inside "abc…"
    expect(firstEnd(set, b('aaab'))).toBe(4) // needs the failure link from "aa" to "a"
    expect(firstEnd(set, b('pods is forbidden: Exceeded Quota: ci'))).toBe(35)
    expect(firstEnd(set, b('nothing here'))).toBe(-1)
    expect(firstEnd(set, b('bc ... bc'), 3)).toBe(9)
  })

  it('agrees with a brute-force search on generated text, including non-ASCII characters', () => {
    const needles = ['ab', 'bca', 'caab', 'ü-not-allowed'.replace('ü', 'u'), 'a b']
    const set = new NeedleSet(needles)
    const alphabet = ['a', 'b', 'c', 'A', 'B', ' ', 'ü', '\n', 'x']
    let seed = 7
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let k = 0; k < 300; k++) {
      let text = ''
      for (let i = 0; i < 40; i++) text += alphabet[Math.floor(rnd() * alphabet.length)]
      const from = Math.floor(rnd() * 10)
      expect(firstEnd(set, b(text), from), JSON.stringify(text)).toBe(naive(needles, text, from))
    }
  })

  it('rejects non-ASCII and empty needles', () => {
    expect(() => new NeedleSet(['größe'])).toThrow(/ASCII/)
    expect(() => new NeedleSet([''])).toThrow(/empty/)
  })
})

describe('NeedleSet.findAll', () => {
  /** Reference: every end (a byte offset) of an occurrence of any needle in `text[from…]`, ascending, once each. */
  function allEnds(needles: string[], text: string): number[] {
    const lower = b(text.replace(/[A-Z]/g, (c) => c.toLowerCase()))
    const ends = new Set<number>()
    for (const n of needles) for (let i = lower.indexOf(n); i >= 0; i = lower.indexOf(n, i + 1)) ends.add(i + n.length)
    return [...ends].sort((x, y) => x - y)
  }

  it('finds every end, in order, on texts long enough to be split four ways (splits land on line starts)', () => {
    const needles = ['ab', 'bca', 'caab', 'exceeded quota', 'a b']
    const set = new NeedleSet(needles)
    const words = ['a', 'b', 'c', 'A', 'B', ' ', 'ü', '\n', 'x', 'Exceeded Quota', '\n\n']
    let seed = 11
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let k = 0; k < 40; k++) {
      let text = ''
      // 5–40 KB: under and over the size below which one automaton does it all.
      const len = 5000 + Math.floor(rnd() * 35000)
      while (text.length < len) text += words[Math.floor(rnd() * words.length)]
      const out: number[] = []
      set.findAll(b(text), 0, b(text).length, out)
      expect(out).toEqual(allEnds(needles, text))
    }
  })

  it('splits a long line-less text without losing a needle that crosses a split point', () => {
    const set = new NeedleSet(['needle'])
    // One 40 KB line: every split point moves to the end, so one automaton reads it all.
    const text = 'x'.repeat(10_000 - 3) + 'needle' + 'y'.repeat(30_000)
    const out: number[] = []
    set.findAll(b(text), 0, text.length, out)
    expect(out).toEqual([10_003])
  })

  it('appends to what `out` holds and scans only [from, to)', () => {
    const set = new NeedleSet(['bc'])
    const out = [1]
    set.findAll(b('bc\nbc\nbc'), 3, 6, out)
    expect(out).toEqual([1, 5])
  })

  it('rejects a needle spanning lines (the search splits at line starts)', () => {
    expect(() => new NeedleSet(['a\nb'])).toThrow(/one line/)
  })
  it('holds states in 16 bits: a set of exactly 65,536 states still finds its deepest needle, one more is refused', () => {
    // A trie has one state per distinct prefix, plus the start state.
    const states = (needles: string[]): number => 1 + new Set(needles.flatMap((x) => Array.from(x, (_, i) => x.slice(0, i + 1)))).size
    const needle = (n: number, len: number): string => n.toString(36).padStart(4, '0').padEnd(len, 'x')
    const under = Array.from({ length: 655 }, (_, n) => needle(n, 100))
    const last = needle(655, 4 + 0x10000 - states([...under, needle(655, 4)]))
    under.push(last)
    expect(states(under)).toBe(0x10000)
    const set = new NeedleSet(under)
    const text = `noise ${last}\n`
    const out: number[] = []
    set.findAll(b(text), 0, text.length, out)
    expect(out).toEqual([text.length - 1])
    expect(() => new NeedleSet([...under, `${last}y`])).toThrow(/too many needle states/)
  })
})
