import { deadlineIn } from '../clock.js';
import { Metadata, status } from '@grpc/grpc-js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { GateStatus } from '../readiness.js';
import type { ZedClient } from './client.js';
import { classifyFailure } from './failure.js';
import { ruleSchemaProblems } from './rule-schema.js';
import type { CompiledRule } from '../config/rules.js';
import { indexSchema } from './schema-text.js';

export interface SchemaGateOptions {
  readonly client: ZedClient;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly rules: readonly CompiledRule[];
  readonly subjectTypes: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/**
 * The `spicedb` readiness gate: ready once SpiceDB answered ReadSchema with the preshared key and
 * every rule's definition and permission exists in the live schema. Until then its detail names
 * the cause (unreachable, key rejected, no schema yet, or which rule does not fit the schema).
 */
export class SchemaGate {
  private state: GateStatus;
  private probing: Promise<GateStatus> | undefined;

  constructor(private readonly opts: SchemaGateOptions) {
    this.state = { ready: false, detail: `schema of SpiceDB at ${opts.endpoint} not read yet` };
  }

  status(): GateStatus {
    return this.state;
  }

  /**
   * Reads the schema once (concurrent calls share one read) and updates the gate. With
   * `strict`, rules that do not fit the schema throw ConfigError instead (used at start).
   */
  probe(strict = false): Promise<GateStatus> {
    this.probing ??= this.read(strict).finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async read(strict: boolean): Promise<GateStatus> {
    const { client, endpoint, timeoutMs } = this.opts;
    let next: GateStatus;
    try {
      const res = await client.promises.readSchema({}, new Metadata(), {
        deadline: deadlineIn(timeoutMs),
      });
      const schema = indexSchema(res.schemaText);
      const problems = ruleSchemaProblems(this.opts.rules, this.opts.subjectTypes, schema);
      if (problems.length > 0 && strict) throw new ConfigError(problems);
      next = problems.length
        ? { ready: false, detail: problems.map((p) => `${p.path}: ${p.message}`).join('; ') }
        : { ready: true, detail: `${this.opts.rules.length} rules fit the schema at ${endpoint}` };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      next =
        (err as { code?: unknown }).code === status.NOT_FOUND
          ? {
              ready: false,
              detail: `SpiceDB at ${endpoint} has no schema yet (write one, e.g. examples/spicedb/schema.zed)`,
            }
          : { ready: false, detail: classifyFailure(err, endpoint, timeoutMs).message };
    }
    this.transition(next);
    return next;
  }

  private transition(next: GateStatus): void {
    const changed = next.ready !== this.state.ready || next.detail !== this.state.detail;
    this.state = next;
    if (!changed) return;
    if (next.ready) this.opts.logger.info('SpiceDB schema checked', { detail: next.detail });
    else this.opts.logger.error('SpiceDB not ready', { detail: next.detail });
  }
}
