import { z } from 'zod';

/**
 * The `ngsiLd:` section: who may read the NGSI-LD entities (api/ngsi-ld/), and an optional push of every
 * changed entity to an external context broker (Orion-LD, Scorpio, Stellio) by batch upsert.
 */
export const ngsiLdSchema = z
  .object({
    // true: GET /ngsi-ld/v1/entities... without a token (open data); false: viewer or above
    public: z.boolean().default(false),
    push: z
      .object({
        // the broker's base URL; the platform POSTs to <url>/ngsi-ld/v1/entityOperations/upsert
        url: z.url({ protocol: /^https?$/ }),
        // changed entities are sent at most this often, in one or more batches
        intervalSeconds: z.number().min(1).max(3600).default(10),
        batchSize: z.number().int().min(1).max(1000).default(100),
        timeoutSeconds: z.number().min(1).max(120).default(10),
        // sent as NGSILD-Tenant when the broker is multi-tenant
        tenant: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-"')
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NgsiLdConfig = z.output<typeof ngsiLdSchema>;
