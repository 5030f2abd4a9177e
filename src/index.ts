/**
 * The explicit command map (oclif "explicit" discovery): every command gkr has, by id.
 * Topics use spaces on the command line: `sim:start` is `gkr sim start`.
 */
import type { Command } from '@oclif/core'

export const commands: Record<string, typeof Command> = {}
