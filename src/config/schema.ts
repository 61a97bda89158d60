import { z } from 'zod';
import type { SchemaContext } from './fields.js';
import { inboundSection } from './sections/inbound.js';
import { logSection, serverSection } from './sections/server.js';

/**
 * The whole configuration file. Each top-level key is one section with its own file in
 * sections/; every key is documented in docs/configuration.md.
 */
export const configSchema = (ctx: SchemaContext) =>
  z.strictObject({
    server: serverSection(),
    log: logSection(),
    inbound: inboundSection(ctx),
  });

export type Config = z.output<ReturnType<typeof configSchema>>;
