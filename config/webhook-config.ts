import { z } from 'zod';
import { refusalReason } from './webhook-address-policy.ts';

/**
 * Webhook receivers of alert events (`webhooks:` in the platform config). Lives in config/ so the platform
 * config can validate it with everything else and report every error at once; alerts/delivery/ uses it.
 */
// bounded: a target added through the API is copied to every node and into Redis
const nonEmpty = z.string().trim().min(1).max(128);
const filterList = z.array(nonEmpty).max(100).optional();

export const webhookTargetSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, "_", "-" or "." (at most 64)'),
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2048),
    /** The receiver checks X-IOC-Signature with it; never shown by the API. */
    secret: z.string().min(16, 'use a secret of at least 16 characters').max(1024),
    /** Each list is "any of"; lists combine with "and"; absent means all. */
    filter: z
      .object({
        kind: filterList,
        severity: z
          .array(z.enum(['informational', 'low', 'medium', 'high', 'critical']))
          .max(5)
          .optional(),
        district: filterList,
      })
      .strict()
      .default({}),
    /** Which lifecycle events to send (default: all of them). */
    events: z
      .array(z.enum(['pending', 'firing', 'updated', 'acknowledged', 'workflow', 'resolved']))
      .min(1)
      .max(6)
      .optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /**
     * Lets a receiver on loopback, a private (RFC 1918, fc00::/7), link-local or otherwise internal address
     * be reached (config/webhook-address-policy.ts); cloud metadata addresses stay refused.
     */
    allowPrivate: z.boolean().default(false),
  })
  .strict()
  .superRefine((t, ctx) => {
    // literal addresses and loopback names are refused here; names are checked again on each connection
    const reason = URL.canParse(t.url) ? refusalReason(new URL(t.url).hostname, t.allowPrivate) : undefined;
    if (reason) ctx.addIssue({ code: 'custom', path: ['url'], message: `webhook "${t.id}" refused: ${reason}` });
  });

export type WebhookTarget = z.output<typeof webhookTargetSchema>;
export type WebhookTargetInput = z.input<typeof webhookTargetSchema>;

export const webhooksSchema = z
  .array(webhookTargetSchema)
  .default([])
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((t, i) => {
      if (seen.has(t.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `webhook "${t.id}" is defined twice` });
      seen.add(t.id);
    });
  });
