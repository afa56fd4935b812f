import { validate } from 'node-cron';
import { z } from 'zod';

/**
 * `reports.handover` (issue 16 item 7): when shifts change (cron, city time; empty string: no scheduled
 * reports) and where each scheduled report is posted, signed like the alert webhooks, under their SSRF
 * policy (private addresses refused unless allowPrivate).
 */
const cron = z
  .string()
  .refine(
    (s) => s === '' || (/^\S+( \S+){4}$/.test(s) && validate(s)),
    'a five-field cron pattern such as "0 6,14,22 * * *", or "" for none',
  );

export const reportsSchema = z
  .object({
    handover: z
      .object({
        schedule: cron.default('0 6,14,22 * * *'),
        webhook: z
          .object({
            url: z.url({ protocol: /^https?$/ }),
            secret: z.string().min(16, 'a webhook secret has at least 16 characters'),
            allowPrivate: z.boolean().default(false),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type ReportsConfig = z.output<typeof reportsSchema>;
