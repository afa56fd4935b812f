import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { City } from '../config/city-config.ts';
import { DomainError } from '../core/domain-error.ts';
import { formatIssue, loadRulesDir, validateRule, type RuleIssue } from './load-rules.ts';
import type { Rule } from './rule-schema.ts';
import { builtinRuleTypes, type RuleTypes } from './rule-types.ts';

/**
 * The effective rule set: the city's shipped rule files (read-only at run time) with the changes made
 * through the API on top. API changes live in `<dataDir>/rules/`: one `<id>.yaml` per created or changed
 * rule (a one-rule list, so `ioc rules check` reads it like any rule file) and `removed.json` listing
 * shipped rules that were deleted. Without a data dir, changes last until the process ends.
 */
export interface RuleSet {
  readonly rules: Rule[];
  readonly issues: RuleIssue[];
  /** deprecated names that still loaded (a rule's `kind`), one per file */
  readonly warnings: RuleIssue[];
}

export interface RuleStore {
  load(): RuleSet;
  list(): Rule[];
  get(id: string): Rule | undefined;
  /** Validates and persists; returns the parsed rule (defaults filled in). */
  put(raw: unknown, by: string, now: number): Rule;
  remove(id: string, by: string): void;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

export function createRuleStore(
  city: City,
  rulesDir: string,
  overrideDir: string | undefined,
  types: RuleTypes = builtinRuleTypes,
): RuleStore {
  let base = new Map<string, Rule>();
  let overrides = new Map<string, Rule>();
  let removed = new Set<string>();
  const removedFile = overrideDir ? join(overrideDir, 'removed.json') : undefined;

  const effective = (): Rule[] => {
    const out = new Map<string, Rule>();
    for (const [id, rule] of base) if (!removed.has(id)) out.set(id, rule);
    for (const [id, rule] of overrides) out.set(id, rule);
    return [...out.values()];
  };

  return {
    load() {
      const shipped = loadRulesDir(rulesDir, city, types);
      const changed = overrideDir ? loadRulesDir(overrideDir, city, types) : { rules: [], issues: [], warnings: [] };
      base = new Map(shipped.rules.map((r) => [r.id, r]));
      overrides = new Map(changed.rules.map((r) => [r.id, r]));
      removed = new Set();
      if (removedFile) {
        try {
          const ids: unknown = JSON.parse(readFileSync(removedFile, 'utf8'));
          if (Array.isArray(ids)) removed = new Set(ids.filter((x): x is string => typeof x === 'string'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
            shipped.issues.push({ file: removedFile, field: '(file)', message: (err as Error).message });
        }
      }
      return {
        rules: effective(),
        issues: [...shipped.issues, ...changed.issues],
        warnings: [...shipped.warnings, ...changed.warnings],
      };
    },
    list: effective,
    get(id) {
      return effective().find((r) => r.id === id);
    },
    put(raw, by, now) {
      const { rule, issues } = validateRule(raw, city, types);
      if (!rule) {
        const id =
          typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
            ? (raw as { id: string }).id
            : undefined;
        const list = issues.map((i) => formatIssue({ file: 'request', index: 1, ruleId: id, ...i }));
        throw new DomainError(
          'invalid',
          'rule_invalid',
          `invalid rule: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
          { issues: list },
        );
      }
      if (overrideDir) {
        mkdirSync(overrideDir, { recursive: true });
        const header = `# Rule ${rule.id}, changed through the API by ${by} at ${new Date(now).toISOString()}.\n`;
        writeAtomic(join(overrideDir, `${rule.id}.yaml`), header + stringify([rule]));
      }
      overrides.set(rule.id, rule);
      if (removed.delete(rule.id) && removedFile) writeAtomic(removedFile, JSON.stringify([...removed], null, 2));
      return rule;
    },
    remove(id, _by) {
      const known = overrides.has(id) || (base.has(id) && !removed.has(id));
      if (!known) throw new DomainError('not_found', 'rule_not_found', `no rule "${id}"`);
      if (overrides.delete(id) && overrideDir) rmSync(join(overrideDir, `${id}.yaml`), { force: true });
      if (base.has(id)) {
        removed.add(id);
        if (removedFile) {
          mkdirSync(overrideDir!, { recursive: true });
          writeAtomic(removedFile, JSON.stringify([...removed], null, 2));
        }
      }
    },
  };
}

/** A rule set given in code (the backtest replays one rule file); changes stay in memory. */
export function createFixedRuleStore(
  city: City,
  rules: readonly Rule[],
  types: RuleTypes = builtinRuleTypes,
): RuleStore {
  const current = new Map(rules.map((r) => [r.id, r]));
  return {
    load: () => ({ rules: [...current.values()], issues: [], warnings: [] }),
    list: () => [...current.values()],
    get: (id) => current.get(id),
    put(raw) {
      const { rule, issues } = validateRule(raw, city, types);
      if (!rule)
        throw new DomainError(
          'invalid',
          'rule_invalid',
          `invalid rule: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
        );
      current.set(rule.id, rule);
      return rule;
    },
    remove(id) {
      if (!current.delete(id)) throw new DomainError('not_found', 'rule_not_found', `no rule "${id}"`);
    },
  };
}
