import { inspect } from 'node:util'

export const REDACTED = '[REDACTED]'

/**
 * A value that must never be printed: runner tokens, bearer tokens, registry passwords.
 * Every way of turning it into text (String(), template literals, JSON.stringify, util.inspect)
 * yields `[REDACTED]`; only `reveal()` gives the value, for the one place that sends it.
 */
export class Secret {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  reveal(): string {
    return this.#value
  }
  get isEmpty(): boolean {
    return this.#value.length === 0
  }
  toString(): string {
    return REDACTED
  }
  toJSON(): string {
    return REDACTED
  }
  [inspect.custom](): string {
    return REDACTED
  }
  [Symbol.toPrimitive](): string {
    return REDACTED
  }
}

export const isSecret = (v: unknown): v is Secret => v instanceof Secret

/** Replaces every occurrence of the given secret strings in `text` with `[REDACTED]`. */
export function scrub(text: string, secrets: Iterable<string>): string {
  let out = text
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(REDACTED)
  return out
}

/** What the runner puts in a job log in place of a masked value. */
export const MASKED = '[MASKED]'

/**
 * Prefixes of GitLab tokens (docs.gitlab.com/security/tokens/#token-prefixes) that the runner masks in job
 * logs whatever variable holds them (FF_MASK_ALL_DEFAULT_TOKENS, on by default): the prefix stays, the rest
 * of the token becomes [MASKED] (`glpat-[MASKED]`).
 */
export const TOKEN_PREFIXES = [
  'glpat-', 'gloas-', 'gldt-', 'glrt-', 'glrtr-', 'glcbt-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'glwt-',
  'glsoat-', 'glffct-', '_gitlab_session=', 'GR1348941',
] as const

/** Characters a token body is made of; the token ends at the first other character. */
const TOKEN_CHAR = /[A-Za-z0-9_.-]/
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Masks text as the runner masks a job log: every occurrence of a masked value becomes [MASKED], and the
 * body of every token-shaped word (a GitLab token prefix followed by token characters) too. Values shorter
 * than 4 characters are not masked (they would mask half the log).
 */
export class Masker {
  readonly #re: RegExp
  readonly #values: ReadonlySet<string>
  /** Longest string that could still be the start of a match (a value or a token prefix). */
  readonly #starts: string[]
  constructor(values: Iterable<string> = []) {
    const vs = [...new Set([...values].filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length)
    this.#values = new Set(vs)
    const prefixes = [...TOKEN_PREFIXES].sort((a, b) => b.length - a.length)
    this.#re = new RegExp([...vs.map(escapeRe), `(?:${prefixes.map(escapeRe).join('|')})${TOKEN_CHAR.source}+`].join('|'), 'g')
    this.#starts = [...vs, ...prefixes]
  }

  /** A masker that also masks these values. */
  with(values: Iterable<string>): Masker {
    return new Masker([...this.#values, ...values])
  }

  mask(text: string): string {
    return text.replace(this.#re, (m) => this.#replacement(m))
  }

  #replacement(m: string): string {
    if (this.#values.has(m)) return MASKED
    const prefix = TOKEN_PREFIXES.find((p) => m.startsWith(p))
    return prefix && m.length > prefix.length ? `${prefix}${MASKED}` : MASKED
  }

  /** Every string inside a JSON-like value masked (keys kept). */
  maskDeep<T>(value: T): T {
    if (typeof value === 'string') return this.mask(value) as T
    if (Array.isArray(value)) return value.map((v: unknown) => this.maskDeep(v)) as T
    if (value && typeof value === 'object' && !(value instanceof Secret) && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.maskDeep(v)])) as T
    }
    return value
  }

  /**
   * A masking stream for a log that arrives in chunks: `push` returns the text that is safe to print now
   * (masked), holding back a tail that could be the start of a value or a token still being written;
   * `end` returns the rest. A value split across chunks is masked as if it had come in one.
   */
  stream(): { push: (chunk: string) => string; end: () => string } {
    let held = ''
    return {
      push: (chunk) => {
        const text = held + chunk
        const cut = this.#safeCut(text)
        held = text.slice(cut)
        return this.mask(text.slice(0, cut))
      },
      end: () => {
        const rest = this.mask(held)
        held = ''
        return rest
      },
    }
  }

  /** The longest prefix of `text` whose masking cannot change when more text follows. */
  #safeCut(text: string): number {
    let cut = text.length
    // A suffix that is the start of a value or token prefix may complete in the next chunk.
    for (const s of this.#starts) {
      for (let n = Math.min(s.length, text.length); n > 0; n--) {
        if (text.length - n < cut && text.endsWith(s.slice(0, n))) cut = text.length - n
      }
    }
    // A match that reaches the end may grow (a token goes on); a match across the cut must stay whole.
    this.#re.lastIndex = 0
    for (const m of text.matchAll(this.#re)) {
      const end = m.index + m[0].length
      if (end === text.length || (m.index < cut && end > cut)) cut = Math.min(cut, m.index)
    }
    return cut
  }
}

/** The masker for text that carries no job: token-shaped values only. */
export const tokenMasker = new Masker()
