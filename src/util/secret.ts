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
