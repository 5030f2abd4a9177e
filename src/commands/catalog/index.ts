import process from 'node:process'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { CATALOG } from '../../catalog/index.js'
import { localText, renderCatalogTable, resolveLang } from '../../catalog/render.js'

export default class Catalog extends BaseCommand {
  static override summary = 'List the troubleshooting catalog.'
  static override description = 'Prints every catalog entry id with its title: the sections of GitLab\'s troubleshooting page first, then gkr\'s own entries. Use `catalog show ID` for one entry in full.'
  static override examples = [
    { description: 'List all entries', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'As JSON', command: '<%= config.bin %> <%= command.id %> --json' },
  ]

  static override flags = {
    lang: Flags.string({ description: 'Language of the titles (default: from LANG/LC_ALL).', options: ['en', 'ja'] }),
  }

  public async run(): Promise<unknown> {
    const { flags } = await this.parse(Catalog)
    const lang = resolveLang(flags.lang, process.env)
    if (!this.jsonEnabled()) this.out.write(renderCatalogTable(lang))
    return { entries: CATALOG.map((e) => ({ id: e.id, title: localText(e, lang).title, source: e.source, ref: e.ref })) }
  }
}
