import process from 'node:process'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { getEntry, suggestIds } from '../../catalog/index.js'
import { renderEntryText, resolveLang } from '../../catalog/render.js'
import { relatedChecks } from '../../catalog/links.js'
import { usageError } from '../../util/errors.js'
import { echoInput } from '../../util/text.js'

export default class CatalogShow extends BaseCommand {
  static override summary = 'Show one catalog entry in full.'
  static override description = 'Prints the explanation, likely causes, fix with its configuration snippet, related config keys and doctor checks, and example log lines of one entry.'
  static override examples = [
    { description: 'Show the quota entry', command: '<%= config.bin %> <%= command.id %> quota-exceeded' },
    { description: 'In Japanese', command: '<%= config.bin %> <%= command.id %> rbac-forbidden --lang ja' },
  ]

  static override args = { id: Args.string({ description: 'Catalog id (see `gkr catalog`).', required: true }) }
  static override flags = {
    lang: Flags.string({ description: 'Language of the text (default: from LANG/LC_ALL).', options: ['en', 'ja'] }),
  }

  public async run(): Promise<unknown> {
    const { args, flags } = await this.parse(CatalogShow)
    const entry = getEntry(args.id)
    if (!entry) {
      // No id is longer than a hundred characters: a longer input is compared by its start only.
      const near = suggestIds(args.id.slice(0, 200))
      throw usageError('catalog-id-unknown', `no catalog entry ${echoInput(args.id)}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`, {
        suggestions: ['Run `gkr catalog` to list every id.'],
      })
    }
    const lang = resolveLang(flags.lang, process.env)
    if (!this.jsonEnabled()) this.out.write(renderEntryText(entry, lang))
    const { symptoms, ...rest } = entry
    return { ...rest, checks: relatedChecks(entry), symptoms: symptoms.map((s) => ({ pattern: s.pattern.source, flags: s.pattern.flags, weight: s.weight })) }
  }
}
