/** The shape of every stored object and its metadata, as the simulator's modules share it. */
export type Obj = { apiVersion?: string; kind?: string; metadata: Meta; [k: string]: unknown }
export interface Meta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>
  [k: string]: unknown
}
