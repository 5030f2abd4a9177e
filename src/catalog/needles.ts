/**
 * Finds any of a fixed set of ASCII literals in text, ignoring ASCII case, in one pass: an
 * Aho-Corasick automaton compiled to a dense transition table. It replaces "lower-case the chunk, then
 * run one big alternation regex", which cost two passes and ran far below read speed (V8's regex
 * engine backtracks through every alternative at almost every position when the literals start with
 * common letters).
 *
 * The table is indexed by state and raw byte (256 columns, case folded in) and numbers the accepting
 * states last, so a step is a shift, one load and one comparison.
 * A step still waits for the previous one (the next state depends on it), so `findAll` runs four
 * automata at once over four stretches of the range that start at line starts: their loads overlap,
 * which measured 1.7× the speed of one automaton on a 100 MB log (bench/explain.bench.ts).
 */

const NL = 0x0a
/** Below this many bytes one automaton does the whole range (splitting costs more than it saves). */
const MIN_SPLIT = 4096
/** Bytes the four automata step together per call (see findAll). */
const BLOCK = 1 << 16

/** A needle's byte as the trie holds it: ASCII upper case folded to lower (the rows hold both cases). */
function classOf(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code
}

export class NeedleSet {
  /**
   * next[(state << 8) | byte] → next state (failure transitions folded in). 16-bit entries: the table is
   * written whole on every start, and on these machines first touching a page of fresh memory is what
   * costs (about 10 ms for the catalog's 2.5 MB table at 32 bits, half that at 16).
   */
  private readonly next: Uint16Array
  /** States at or above this are those where some needle ends. */
  private readonly accepting: number
  /** Hits of the second to fourth automata, before they join the first one's (reused). */
  private readonly lanes: [number[], number[], number[]] = [[], [], []]

  constructor(needles: readonly string[]) {
    // The trie, as linked lists of edges: few states have more than a couple of children. (Built on
    // every start of gkr explain, so the loops below run cold: whole rows are copied natively.)
    let size = 1
    for (const raw of needles) size += raw.length
    const firstEdge = new Int32Array(size).fill(-1)
    const edgeNext = new Int32Array(size)
    const edgeClass = new Int32Array(size)
    const edgeTo = new Int32Array(size)
    const accepts = new Uint8Array(size)
    let states = 1
    const child = (s: number, cls: number): number => {
      for (let e = firstEdge[s]!; e >= 0; e = edgeNext[e]!) if (edgeClass[e] === cls) return edgeTo[e]!
      return -1
    }
    for (const raw of needles) {
      if (!raw) throw new Error('empty needle')
      let s = 0
      for (let i = 0; i < raw.length; i++) {
        const c = raw.charCodeAt(i)
        if (c >= 128) throw new Error(`needle must be ASCII: ${raw}`)
        // The search splits its range at line starts, where every automaton is in its start state.
        if (c === NL) throw new Error(`needle must be one line: ${JSON.stringify(raw)}`)
        const cls = classOf(c)
        let t = child(s, cls)
        if (t < 0) {
          const e = states - 1
          edgeClass[e] = cls
          edgeTo[e] = t = states++
          edgeNext[e] = firstEdge[s]!
          firstEdge[s] = e
        }
        s = t
      }
      accepts[s] = 1
    }
    // Breadth-first (a state's failure state is shallower, so settled first): failure links, found by
    // walking the trie, and with them which states accept (a state whose failure state accepts does too).
    const fail = new Int32Array(states)
    const queue = new Int32Array(states)
    let tail = 1
    for (let qi = 0; qi < tail; qi++) {
      const s = queue[qi]!
      if (accepts[fail[s]!]) accepts[s] = 1
      for (let e = firstEdge[s]!; e >= 0; e = edgeNext[e]!) {
        const t = edgeTo[e]!
        if (s !== 0) {
          let f = fail[s]!
          let to = child(f, edgeClass[e]!)
          while (to < 0 && f !== 0) {
            f = fail[f]!
            to = child(f, edgeClass[e]!)
          }
          fail[t] = to < 0 ? 0 : to
        }
        queue[tail++] = t
      }
    }
    // Number the states so the accepting ones come last (the start state stays 0: it never accepts).
    const id = new Int32Array(states)
    let k = 0
    for (let s = 0; s < states; s++) if (!accepts[s]) id[s] = k++
    if (states > 0x10000) throw new Error(`too many needle states for a 16-bit table: ${states}`)
    this.accepting = k
    for (let s = 0; s < states; s++) if (accepts[s]) id[s] = k++
    // The rows, in the same order: each is its failure state's row (copied whole, natively: these loops
    // run cold on every start) with the state's own children put in, a letter under both cases.
    const table = new Uint16Array(states * 256)
    for (let qi = 0; qi < tail; qi++) {
      const s = queue[qi]!
      const row = id[s]! * 256
      if (s !== 0) table.copyWithin(row, id[fail[s]!]! * 256, id[fail[s]!]! * 256 + 256)
      for (let e = firstEdge[s]!; e >= 0; e = edgeNext[e]!) {
        const cls = edgeClass[e]!
        const to = id[edgeTo[e]!]!
        table[row + cls] = to
        if (cls >= 97 && cls <= 122) table[row + cls - 32] = to
      }
    }
    this.next = table
  }

  /**
   * Appends to `out`, in ascending order, the index just past every position of `bytes[from, to)` where
   * some needle ends (`from` must be a line start: the start of the text or just after a newline).
   * Every needle is ASCII and every byte of a multi-byte UTF-8 character is 128 or more (never part of a
   * needle), so the text need not be decoded to be searched.
   */
  findAll(bytes: Uint8Array, from: number, to: number, out: number[]): void {
    if (to - from < MIN_SPLIT) {
      this.lane(bytes, from, to, 0, out)
      return
    }
    const quarter = (to - from) >> 2
    const at = this.at
    const ends = this.ends
    at[0] = from
    at[1] = ends[0] = lineStartAfter(bytes, from + quarter, to)
    at[2] = ends[1] = lineStartAfter(bytes, Math.max(at[1], from + 2 * quarter), to)
    at[3] = ends[2] = lineStartAfter(bytes, Math.max(at[2], from + 3 * quarter), to)
    ends[3] = to
    const state = this.state
    state.fill(0)
    const outs = [out, ...this.lanes]
    for (const o of this.lanes) o.length = 0
    // The four run together while every one has bytes left, in blocks: the loop is then a small function
    // V8 optimises whole after a few calls (as one long loop here it ran as on-stack-replaced code that
    // was thrown away, "insufficient type feedback", on every exit: seen with node --trace-deopt).
    for (;;) {
      const left = Math.min(ends[0]! - at[0]!, ends[1]! - at[1]!, ends[2]! - at[2]!, ends[3]! - at[3]!)
      if (left <= 0) break
      if (this.together(bytes, Math.min(left, BLOCK))) {
        for (let k = 0; k < 4; k++) if (state[k]! >= this.accepting) outs[k]!.push(at[k]!)
      }
    }
    // …then each finishes its own stretch (they differ by less than a line or so).
    for (let k = 0; k < 4; k++) this.lane(bytes, at[k]!, ends[k]!, state[k]!, outs[k]!)
    for (const o of this.lanes) for (const x of o) out.push(x)
  }

  /** Where each of the four automata is, the state it is in, and where its stretch ends. */
  private readonly at = new Int32Array(4)
  private readonly state = new Uint32Array(4)
  private readonly ends = new Int32Array(4)

  /**
   * Steps all four automata `n` bytes, or until one of them accepts (true: each one's position is then
   * just past the byte it last read).
   */
  private together(bytes: Uint8Array, n: number): boolean {
    const next = this.next
    const acc = this.accepting
    const at = this.at
    const state = this.state
    let i = at[0]!
    let j = at[1]!
    let k = at[2]!
    let l = at[3]!
    let s1 = state[0]!
    let s2 = state[1]!
    let s3 = state[2]!
    let s4 = state[3]!
    let hit = false
    for (const end = i + n; i < end; ) {
      s1 = next[(s1 << 8) | bytes[i++]!]!
      s2 = next[(s2 << 8) | bytes[j++]!]!
      s3 = next[(s3 << 8) | bytes[k++]!]!
      s4 = next[(s4 << 8) | bytes[l++]!]!
      if (s1 >= acc || s2 >= acc || s3 >= acc || s4 >= acc) {
        hit = true
        break
      }
    }
    at[0] = i
    at[1] = j
    at[2] = k
    at[3] = l
    state[0] = s1
    state[1] = s2
    state[2] = s3
    state[3] = s4
    return hit
  }

  /** One automaton from `state` over `bytes[from, to)`, every accepting position to `out`. */
  private lane(bytes: Uint8Array, from: number, to: number, state: number, out: number[]): void {
    const next = this.next
    const acc = this.accepting
    let s = state
    for (let i = from; i < to; i++) if ((s = next[(s << 8) | bytes[i]!]!) >= acc) out.push(i + 1)
  }
}

/** The first line start at or after `at` (the index after the next newline), or `to`. */
function lineStartAfter(bytes: Uint8Array, at: number, to: number): number {
  if (at >= to) return to
  if (at > 0 && bytes[at - 1] === NL) return at
  const nl = bytes.indexOf(NL, at)
  return nl < 0 || nl >= to ? to : nl + 1
}
