import { deadlineIn } from '../clock.js';
import { Metadata, status } from '@grpc/grpc-js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { GateStatus } from '../readiness.js';
import type { ZedClient } from './client.js';
import { classifyFailure } from './failure.js';
import { toCheckRequest } from './permission-checker.js';
import { ruleSchemaProblems } from './rule-schema.js';
import type { CompiledRule } from '../config/rules.js';
import { indexSchema } from './schema-text.js';

/** The object id of the gate's probe checks (resource and subject); never granted anything. */
const PROBE_ID = 'jwtexchange-readiness-probe';

export interface SchemaGateOptions {
  readonly client: ZedClient;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly rules: readonly CompiledRule[];
  readonly subjectTypes: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/**
 * The `spicedb` readiness gate: ready once SpiceDB answered ReadSchema with the preshared key,
 * every rule's definition and permission exists in the live schema, and a check of each is
 * answered. Until then its detail names the cause (unreachable, key rejected, no schema yet,
 * which rule does not fit the schema, or a schema not yet visible to checks).
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
        : ((await this.notYetCheckable()) ?? {
            ready: true,
            detail: `${this.opts.rules.length} rules fit the schema at ${endpoint}`,
          });
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

  /**
   * ReadSchema reads at the head revision, but checks use minimize_latency, which reads at a
   * revision rounded down to SpiceDB's quantization window (5 s by default): for that long after
   * a schema is written, checks of its new definitions fail with FAILED_PRECONDITION. So each
   * rule's resource type and permission is checked once, as the authorize phase will, before the
   * gate is ready. The answer itself (a probe subject has no permission) does not matter.
   */
  private async notYetCheckable(): Promise<GateStatus | undefined> {
    const { client, endpoint, timeoutMs } = this.opts;
    const targets = new Map(this.opts.rules.map((r) => [`${r.resourceType}#${r.permission}`, r]));
    const probe = (rule: CompiledRule) =>
      client.promises
        .checkPermission(
          toCheckRequest({
            resourceType: rule.resourceType,
            resourceId: PROBE_ID,
            permission: rule.permission,
            subjectType: this.opts.subjectTypes.user!,
            subjectId: PROBE_ID,
          }),
          new Metadata(),
          { deadline: deadlineIn(timeoutMs) },
        )
        .then(
          () => undefined,
          (err: unknown) => ({ rule, failure: classifyFailure(err, endpoint, timeoutMs) }),
        );
    const failed = (await Promise.all([...targets.values()].map(probe))).find(Boolean);
    if (!failed) return undefined;
    const { rule, failure } = failed;
    if (failure.kind !== 'schema_mismatch') return { ready: false, detail: failure.message };
    const details = (failure.cause as { details?: unknown }).details ?? failure.cause;
    return {
      ready: false,
      detail: `the schema at ${endpoint} is not visible to checks yet (rule ${rule.name}: ${String(details)}); SpiceDB's minimize_latency reads lag a schema write by up to its quantization window`,
    };
  }

  private transition(next: GateStatus): void {
    const changed = next.ready !== this.state.ready || next.detail !== this.state.detail;
    this.state = next;
    if (!changed) return;
    if (next.ready) this.opts.logger.info('SpiceDB schema checked', { detail: next.detail });
    else this.opts.logger.error('SpiceDB not ready', { detail: next.detail });
  }
}
