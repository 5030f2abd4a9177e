/**
 * Finds any of a fixed set of ASCII literals in text, ignoring ASCII case, in one pass: an
 * Aho-Corasick automaton compiled to a dense transition table. It replaces "lower-case the chunk, then
 * run one big alternation regex", which cost two passes and ran far below read speed (V8's regex
 * engine backtracks through every alternative at almost every position when the literals start with
 * common letters).
 */

/** Character classes: 0..127 for ASCII (upper case folded to lower), 128 for everything else. */
const CLASSES = 129
const OTHER = 128

function classOf(code: number): number {
  if (code >= 65 && code <= 90) return code + 32
  return code < 128 ? code : OTHER
}

export class NeedleSet {
  /** next[state * CLASSES + class] → state (failure transitions folded in). */
  private readonly next: Int32Array | Uint16Array
  /** Whether reaching the state means some needle ends here. */
  private readonly accepts: Uint8Array

  constructor(needles: readonly string[]) {
    const goto: Map<number, number>[] = [new Map()]
    const accepts: number[] = [0]
    for (const raw of needles) {
      if (!raw) throw new Error('empty needle')
      let s = 0
      for (let i = 0; i < raw.length; i++) {
        const c = raw.charCodeAt(i)
        if (c >= 128) throw new Error(`needle must be ASCII: ${raw}`)
        const cls = classOf(c)
        let t = goto[s]!.get(cls)
        if (t === undefined) {
          t = goto.length
          goto.push(new Map())
          accepts.push(0)
          goto[s]!.set(cls, t)
        }
        s = t
      }
      accepts[s] = 1
    }
    const n = goto.length
    const next = new Int32Array(n * CLASSES)
    const fail = new Int32Array(n)
    // Breadth-first: a state's failure target is settled before its children are.
    const queue: number[] = []
    for (let cls = 0; cls < CLASSES; cls++) {
      const t = goto[0]!.get(cls)
      next[cls] = t ?? 0
      if (t !== undefined) queue.push(t)
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!
      if (accepts[fail[s]!]) accepts[s] = 1
      for (let cls = 0; cls < CLASSES; cls++) {
        const t = goto[s]!.get(cls)
        if (t === undefined) next[s * CLASSES + cls] = next[fail[s]! * CLASSES + cls]!
        else {
          fail[t] = next[fail[s]! * CLASSES + cls]!
          next[s * CLASSES + cls] = t
          queue.push(t)
        }
      }
    }
    // Half the table size keeps more of it in cache; every state fits in 16 bits for our needle sets.
    this.next = n <= 0xffff ? Uint16Array.from(next) : next
    this.accepts = Uint8Array.from(accepts)
  }

  /**
   * Index just past the first needle occurrence in `bytes[from, to)` (UTF-8), or -1. Every needle is
   * ASCII and every byte of a multi-byte character is 128 or more (class OTHER), so the text need not
   * be decoded to be searched.
   */
  findEnd(bytes: Uint8Array, from = 0, to = bytes.length): number {
    const next = this.next
    const accepts = this.accepts
    let s = 0
    for (let i = from; i < to; i++) {
      const c = bytes[i]!
      s = next[s * CLASSES + (c >= 65 && c <= 90 ? c + 32 : c < 128 ? c : OTHER)]!
      if (accepts[s]) return i + 1
    }
    return -1
  }
}
