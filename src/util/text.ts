/** Levenshtein distance: the number of single-character edits between two strings (did-you-mean). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = tmp
    }
  }
  return prev[b.length]!
}

/** How much of a value the user typed an error message repeats. */
export const ECHO_MAX = 80

/**
 * A value the user gave (argument, flag value, name), quoted for an error message: JSON-quoted, so control
 * characters and terminal escapes are shown escaped, and cut to `max` characters with its full length
 * named, so a pasted log or a runaway shell expansion does not come back as a screenful.
 */
export function echoInput(value: string, max = ECHO_MAX): string {
  if (value.length <= max) return JSON.stringify(value)
  return `${JSON.stringify(`${value.slice(0, max)}…`)} (${value.length} characters)`
}

/** Every run of more than `max` non-blank characters in a message cut like echoInput cuts (for messages of other libraries that repeat input). */
export function clipLongWords(message: string, max = ECHO_MAX): string {
  return message.replace(new RegExp(`\\S{${max + 1},}`, 'g'), (w) => `${w.slice(0, max)}… (${w.length} characters)`)
}
