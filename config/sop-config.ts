import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from './config-error.ts';

/**
 * Standard operating procedures, one per alert type (the alert's subCategory: flood, airPollution, ...),
 * written by the agencies in Vietnamese (`sop/vi.yaml`) and English (`sop/en.yaml`). The two files must
 * describe the same steps (same types, same step ids in the same order): a step is ticked off by its id,
 * whichever language the operator reads it in.
 */
const stepId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a step id is lower-case letters, digits and "-"');
const stepSchema = z
  .object({
    id: stepId,
    text: z.string().min(1),
    /** who does it: a role or an agency, as the procedure says */
    who: z.string().min(1),
    links: z.array(z.object({ label: z.string().min(1), url: z.url({ protocol: /^https?$/ }) }).strict()).default([]),
    phones: z
      .array(
        z
          .object({ label: z.string().min(1), number: z.string().regex(/^\+?[0-9 .-]{3,20}$/, 'a phone number') })
          .strict(),
      )
      .default([]),
  })
  .strict();
const sopSchema = z.object({ title: z.string().min(1), steps: z.array(stepSchema).min(1) }).strict();
const sopFileSchema = z.record(
  z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, 'an alert type (subCategory)'),
  sopSchema,
);

export type SopStep = z.output<typeof stepSchema>;
export type Sop = z.output<typeof sopSchema>;
export interface Sops {
  readonly vi: Readonly<Record<string, Sop>>;
  readonly en: Readonly<Record<string, Sop>>;
}

function readSopFile(file: string): Record<string, Sop> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  const parsed = sopFileSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new ConfigError(`${file}: invalid procedures:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  return parsed.data;
}

export function checkSopPair(vi: Record<string, Sop>, en: Record<string, Sop>): string[] {
  const errors: string[] = [];
  for (const type of new Set([...Object.keys(vi), ...Object.keys(en)])) {
    const a = vi[type];
    const b = en[type];
    if (!a || !b) {
      errors.push(`${type}: in ${a ? 'vi.yaml' : 'en.yaml'} only; write it in both languages`);
      continue;
    }
    const ids = (s: Sop) => s.steps.map((x) => x.id).join(',');
    if (ids(a) !== ids(b)) errors.push(`${type}: steps differ between vi.yaml (${ids(a)}) and en.yaml (${ids(b)})`);
    if (new Set(a.steps.map((x) => x.id)).size !== a.steps.length) errors.push(`${type}: a step id appears twice`);
  }
  return errors;
}

/** The procedures in `dir` (none when the folder is absent). */
export function loadSops(dir: string): Sops {
  if (!existsSync(dir)) return { vi: {}, en: {} };
  const vi = readSopFile(join(dir, 'vi.yaml'));
  const en = readSopFile(join(dir, 'en.yaml'));
  const errors = checkSopPair(vi, en);
  if (errors.length) throw new ConfigError(`${dir}: procedures do not match:\n  - ${errors.join('\n  - ')}`);
  return { vi, en };
}
