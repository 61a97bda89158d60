import { z } from 'zod';
import type { SchemaContext } from './fields.js';
import { authorizationSection } from './sections/authorization.js';
import { inboundSection } from './sections/inbound.js';
import { logSection, serverSection } from './sections/server.js';
import { spicedbSection } from './sections/spicedb.js';

/**
 * The whole configuration file. Each top-level key is one section with its own file in
 * sections/; every key is documented in docs/configuration.md.
 */
export const configSchema = (ctx: SchemaContext) =>
  z
    .strictObject({
      server: serverSection(),
      log: logSection(),
      inbound: inboundSection(ctx),
      spicedb: spicedbSection(ctx),
      authorization: authorizationSection(),
    })
    .refine((c) => c.authorization === undefined || c.spicedb !== undefined, {
      message: 'authorization needs a spicedb section (the SpiceDB to check permissions in)',
      path: ['spicedb'],
    });

export type Config = z.output<ReturnType<typeof configSchema>>;
