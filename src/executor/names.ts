/**
 * Names the runner gives the objects of a job (runner-facts §2.1, §2.8).
 */
import { randomInt } from 'node:crypto'

/** The runner's short token: prefixes stripped, first 9 characters. */
export function shortenToken(token: string): string {
  let t = token
  if (t.startsWith('glrt-')) t = t.slice(5).replace(/^t[123]_/, '')
  else if (/^t[123]_/.test(t)) t = t.slice(3)
  else if (t.startsWith('glrtr-')) t = t.slice(6)
  else if (t.startsWith('glcbt-')) t = t.slice(6)
  else if (/^GR[0-9a-fA-F]{7}/.test(t)) t = t.slice(9)
  return t.slice(0, 9)
}

/** Lower case, only [-a-z0-9], starting with an alphanumeric, at most 63 characters. */
export function makeRfc1123Compatible(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^-a-z0-9]/g, '')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '')
}

export function projectUniqueName(shortToken: string, projectId: number, concurrentId: number): string {
  return makeRfc1123Compatible(`runner-${shortToken}-project-${projectId}-concurrent-${concurrentId}`)
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** `<base cut to 54>-<8 random [a-z0-9]>`, as the runner names pods, secrets and services. */
export function generateResourceName(base: string, random: () => number): string {
  let suffix = ''
  for (let i = 0; i < 8; i++) suffix += ALPHABET[Math.floor(random() * ALPHABET.length) % ALPHABET.length]
  return `${base.slice(0, 54)}-${suffix}`
}

/** Label values: characters outside [A-Za-z0-9._-] become _, trimmed of -_. at the ends, at most 63. */
export function sanitizeLabel(v: string): string {
  const trim = (s: string): string => s.replace(/^[-_.]+|[-_.]+$/g, '')
  return trim(trim(v.replace(/[^A-Za-z0-9._-]/g, '_')).slice(0, 63))
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * Random numbers in [0, 1) from the operating system's CSPRNG, as the runner draws its name suffixes:
 * every run gets names of its own, so simultaneous runs in one namespace never collide.
 */
export function cryptoRandom(): () => number {
  return () => randomInt(0, 2 ** 32) / 2 ** 32
}

/** A seeded generator (mulberry32), so renders are reproducible in tests and docs (`gkr render`). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
