import type { Interfaces } from '@oclif/core'
import { EXIT } from './exit-codes.js'
import { GkrError } from '../util/errors.js'
import { closest, displayId } from './suggest.js'
import { echoInput } from '../util/text.js'

/**
 * The error for a command gkr does not have, with the nearest commands as the user types them
 * (`sim start`, never oclif's internal `sim:start`). One message for `gkr dcotor`, `gkr help dcotor`
 * and `gkr dcotor --help`.
 */
export function unknownCommandError(config: Interfaces.Config, id: string): GkrError {
  // oclif joins every word it could not resolve (`catalog shwo x`): the command is the topics plus one word, the rest its arguments.
  const words = id.split(':')
  let depth = 0
  while (depth < words.length - 1 && config.findTopic(words.slice(0, depth + 1).join(':'))) depth++
  const typed = words.slice(0, depth + 1).join(' ')
  const names = config.commands.filter((c) => !c.hidden).map((c) => displayId(c.id))
  const topic = typed.split(' ')[0]!
  const inTopic = config.findTopic(topic) ? names.filter((n) => n.startsWith(`${topic} `)) : []
  // `sim strat` is compared with the commands of its topic; `dcotor` with every command and topic.
  const near = closest(typed, inTopic.length > 0 ? inTopic : [...names, ...config.topics.map((t) => displayId(t.name))])
  const bin = config.bin
  return new GkrError('command-unknown', `${echoInput(typed)} is not a ${bin} command${near.length > 0 ? `; did you mean ${near.map((n) => `"${bin} ${n}"`).join(' or ')}?` : ''}`, {
    exit: EXIT.USAGE,
    suggestions: [inTopic.length > 0 ? `Run \`${bin} help ${topic}\` to list the ${topic} commands.` : `Run \`${bin} help\` to list every command.`],
  })
}
