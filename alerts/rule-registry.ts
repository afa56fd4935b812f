import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { City } from '../config/city-config.ts';
import { DomainError } from '../core/domain-error.ts';
import { canonicalJson, type EntryChanges } from '../core/entry-diff.ts';
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
  /**
   * The changes made through the API as entries (a cluster shares them: cluster/shared-state.ts):
   * `rule:<id>` -> the rule (canonical JSON), `removed:<id>` -> "1" for a shipped rule deleted.
   */
  entries(): Map<string, string>;
  /** Takes such entries from another node: each set or removed, persisted as an API change is. */
  applyEntries(changes: EntryChanges, by: string, now: number): void;
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

  const saveRule = (rule: Rule, by: string, now: number) => {
    if (!overrideDir) return;
    mkdirSync(overrideDir, { recursive: true });
    const header = `# Rule ${rule.id}, changed through the API by ${by} at ${new Date(now).toISOString()}.\n`;
    writeAtomic(join(overrideDir, `${rule.id}.yaml`), header + stringify([rule]));
  };
  const saveRemoved = () => {
    if (!removedFile) return;
    mkdirSync(overrideDir!, { recursive: true });
    writeAtomic(removedFile, JSON.stringify([...removed], null, 2));
  };
  const dropRule = (id: string) => {
    if (overrides.delete(id) && overrideDir) rmSync(join(overrideDir, `${id}.yaml`), { force: true });
  };

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
      saveRule(rule, by, now);
      overrides.set(rule.id, rule);
      if (removed.delete(rule.id)) saveRemoved();
      return rule;
    },
    remove(id, _by) {
      const known = overrides.has(id) || (base.has(id) && !removed.has(id));
      if (!known) throw new DomainError('not_found', 'rule_not_found', `no rule "${id}"`);
      dropRule(id);
      if (base.has(id)) {
        removed.add(id);
        saveRemoved();
      }
    },
    entries() {
      const out = new Map<string, string>();
      for (const [id, rule] of overrides) out.set(`rule:${id}`, canonicalJson(rule));
      for (const id of removed) out.set(`removed:${id}`, '1');
      return out;
    },
    applyEntries(changes, by, now) {
      let removedChanged = false;
      const refused: string[] = [];
      for (const [key, value] of changes) {
        const colon = key.indexOf(':');
        const id = key.slice(colon + 1);
        if (key.startsWith('removed:')) {
          removedChanged = true;
          if (value === null) removed.delete(id);
          else removed.add(id);
          continue;
        }
        if (!key.startsWith('rule:')) continue;
        if (value === null) {
          dropRule(id);
          continue;
        }
        // checked again here: another node's city or rule types could differ from this one's
        const { rule, issues } = validateRule(JSON.parse(value), city, types);
        if (!rule) {
          refused.push(`${id}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
          continue;
        }
        saveRule(rule, by, now);
        overrides.set(rule.id, rule);
      }
      if (removedChanged) saveRemoved();
      if (refused.length)
        throw new DomainError('invalid', 'rule_invalid', `rules from the cluster refused here: ${refused.join(' | ')}`);
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
    // a rule set given in code is not shared
    entries: () => new Map(),
    applyEntries: () => undefined,
  };
}
