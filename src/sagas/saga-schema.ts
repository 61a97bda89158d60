/**
 * The SpiceDB names of the saga model (examples/spicedb/schema.zed):
 *
 *   definition saga {
 *     relation initiator: user with expiration     // who started it (exactly one)
 *     relation executor: service with expiration   // who runs it
 *     permission execute = executor
 *   }
 *
 * Shared by the app-side writer (saga-relations.ts) and token-exchange's reader (saga-lookup.ts),
 * so both name the same relations.
 */
export interface SagaSchema {
  /** The saga definition. */
  readonly type: string;
  readonly initiatorRelation: string;
  readonly executorRelation: string;
  /** Checked for the calling service: SpiceDB's word that it executes the saga. */
  readonly executePermission: string;
  /** Subject type of initiators (the delegated token's sub). */
  readonly userType: string;
  /** Subject type of executors (the mTLS service names). */
  readonly serviceType: string;
}

export const DEFAULT_SAGA_SCHEMA: SagaSchema = {
  type: 'saga',
  initiatorRelation: 'initiator',
  executorRelation: 'executor',
  executePermission: 'execute',
  userType: 'user',
  serviceType: 'service',
};
