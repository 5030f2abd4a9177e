import process from 'node:process'
import { Errors, type Hook } from '@oclif/core'

/**
 * Help for a command gkr does not have (`gkr help dcotor`, `gkr dcotor --help`, `gkr sim strat -h`):
 * the same did-you-mean paragraph and exit 2 as running it, instead of oclif's "Command X not found"
 * (help) or the root help (a typo before --help). Runs before oclif shows any help.
 */
const hook: Hook<'init'> = async function (opts) {
  const argv = [...(opts.id ? [opts.id] : []), ...opts.argv]
  const end = argv.indexOf('--')
  const before = end === -1 ? argv : argv.slice(0, end)
  const asksHelp = before[0] === 'help' || before.includes('--help') || before.includes('-h')
  if (!asksHelp) return
  const words: string[] = []
  for (const a of before[0] === 'help' ? before.slice(1) : before) {
    if (a.startsWith('-')) break
    // oclif hands the id over with its internal separator when the words named a command.
    words.push(...a.split(':'))
  }
  if (words.length === 0) return
  let known = 0
  for (let n = words.length; n > 0 && known === 0; n--) {
    const id = words.slice(0, n).join(':')
    if (opts.config.findCommand(id) || opts.config.findTopic(id)) known = n
  }
  // A command followed by more words (its arguments) is still that command's help; a topic followed by a word that is none of its commands is a typo.
  if (known === words.length || (known > 0 && opts.config.findCommand(words.slice(0, known).join(':')))) return
  // Loaded only now: this hook runs before every command, and most never get here.
  const [{ formatErrorParagraph }, { unknownCommandError }] = await Promise.all([import('../base-command.js'), import('../unknown-command.js')])
  process.stderr.write(`${formatErrorParagraph(unknownCommandError(opts.config, words.join(':')))}\n`)
  Errors.exit(2)
}

export default hook
