/**
 * The command map: every command gkr has, by id, for the docs generator, the tests and library users.
 * The CLI itself finds commands through oclif.manifest.json (written by `npm run build`) and imports
 * only the one that runs; test/meta/manifest.test.ts keeps the two in step.
 * Topics use spaces on the command line: `sim:start` is `gkr sim start`.
 */
import type { Command } from '@oclif/core'
import Cleanup from './commands/cleanup.js'
import Doctor from './commands/doctor.js'
import Explain from './commands/explain.js'
import Rbac from './commands/rbac.js'
import Render from './commands/render.js'
import RunJob from './commands/run-job.js'
import SimRun from './commands/sim/run.js'
import SimScenarios from './commands/sim/scenarios.js'
import SimStart from './commands/sim/start.js'
import Catalog from './commands/catalog/index.js'
import CatalogShow from './commands/catalog/show.js'

export const commands: Record<string, typeof Command> = {
  cleanup: Cleanup,
  doctor: Doctor,
  explain: Explain,
  rbac: Rbac,
  render: Render,
  'run-job': RunJob,
  'sim:run': SimRun,
  'sim:scenarios': SimScenarios,
  'sim:start': SimStart,
  catalog: Catalog,
  'catalog:show': CatalogShow,
}
