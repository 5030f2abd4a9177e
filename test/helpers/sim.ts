import { loadScenario, type Scenario } from '../../src/sim/index.js'

/** The healthy scenario with some knobs changed and some objects added (e.g. a clock 1000× fast). */
export function withKnobs(knobs: Scenario['knobs'], objects: Scenario['objects'] = []): Scenario {
  const s = loadScenario('healthy')
  s.knobs = { ...s.knobs, ...knobs }
  s.objects = [...s.objects, ...objects]
  return s
}
