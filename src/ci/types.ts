/**
 * A job of a local .gitlab-ci.yml as the executor sees it, after `default:`, `extends:`, anchors and
 * variable layering are resolved. Owned by src/ci (parser); read by checks (ctx.ciFile), the executor
 * renderer and run-job.
 */
import type { Document } from 'yaml'
import type { Location } from '../util/errors.js'

export interface CiImage {
  name: string
  entrypoint?: string[]
  /** Runner pull policy names as written (always, if-not-present, never), in order. */
  pull_policy?: string[]
  /** `ports:` of the image or service (web terminal / session proxy): a number or {number, protocol, name}. */
  ports?: CiPort[]
  /** `kubernetes: user:` — "uid[:gid]" the container runs as (within allowed_users/allowed_groups). */
  kubernetes?: { user?: string }
  at?: Location
}

export interface CiPort {
  number: number
  protocol?: string
  name?: string
}

export interface CiService extends CiImage {
  alias?: string
  command?: string[]
  variables?: Record<string, string>
}

export interface CiJob {
  name: string
  stage: string
  image?: CiImage
  services: CiService[]
  /** Global, default and job variables merged (job wins), plus --var overrides. */
  variables: Record<string, string>
  /** Names of variables declared `masked` or `masked_and_hidden`: their values print as [MASKED]. */
  masked?: string[]
  before_script: string[]
  script: string[]
  after_script: string[]
  /** Seconds, when the job sets `timeout`. */
  timeout?: number
  cache: { key?: string; paths: string[]; policy?: string }[]
  artifacts: { paths: string[]; when?: string; expire_in?: string }
  /** Keys present in the job that gkr does not act on (e.g. needs, rules, trigger), said to the user. */
  unsupported: string[]
  /** What the pipeline's includes did not provide (an include not followed, rules not evaluated). */
  notes?: string[]
  at?: Location
}

export interface CiFile {
  file: string
  /** Jobs by name (hidden `.` templates excluded). */
  jobs: Record<string, CiJob>
  /** Per include: what was not followed, or followed only in part. */
  notes?: string[]
}

/** A mapping of a parsed YAML file. */
export type Obj = Record<string, unknown>

/** One file of the pipeline as parsed (src/ci/parse.ts), before includes and extends are resolved (src/ci/include.ts). */
export interface CiDocument {
  file: string
  /** Its top-level mapping (undefined for an empty file), with `!reference` markers still in place. */
  raw: Obj | undefined
  /** Where each top-level key is written. */
  keyAt: Map<string, Location>
  doc: Document
  locate: (offset: number, path?: string) => Location
}
