/**
 * Facts gathered from a cluster before checks run. Each fact either holds a value or says why it
 * could not be read (a forbidden read names the verb and resource). src/kube/gather fills these in;
 * checks only read them. Offline, every fact is absent and checks that need one are skipped.
 */
export type FactResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: string; forbidden?: { verb: string; resource: string; namespace?: string } }

// The fact map is declared by src/kube (module augmentation keeps this file free of cluster types):
//   declare module '../checks/facts.js' { interface FactTypes { namespaces: V1Namespace[] } }
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FactTypes {}

export type FactName = keyof FactTypes extends never ? string : Extract<keyof FactTypes, string>

export type Facts = { [K in keyof FactTypes]?: FactResult<FactTypes[K]> }
