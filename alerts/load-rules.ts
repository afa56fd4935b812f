import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { City } from '../config/city-config.ts';
import type { z } from 'zod';
import type { RuleChecks } from './rule-type.ts';
import { builtinRuleTypes, type Rule, type RuleTypes } from './rule-types.ts';
import { hasMetric, selectSensors } from './rule-targets.ts';
import { RULE_KIND_DEPRECATED, readRuleTypeAlias } from './rule-type-alias.ts';

/**
 * Reads and validates rule files. Every problem names the file, the rule (id and position) and the field,
 * like promtool: `rules/air.yaml: rule "aqi-bad" (#2): above: expected number, received string`.
 */
export interface RuleIssue {
  readonly file: string;
  /** position in the file, from 1 */
  readonly index?: number;
  readonly ruleId?: string;
  readonly field: string;
  readonly message: string;
}

/** Rules read from a file or folder; `warnings` (deprecated names) do not stop a rule from loading. */
export interface LoadedRules {
  readonly rules: Rule[];
  readonly issues: RuleIssue[];
  readonly warnings: RuleIssue[];
}

export function formatIssue(issue: RuleIssue): string {
  const rule = issue.index !== undefined ? ` rule ${issue.ruleId ? `"${issue.ruleId}" ` : ''}(#${issue.index})` : '';
  return `${issue.file}:${rule}${rule ? ':' : ''} ${issue.field}: ${issue.message}`;
}

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/** Checks a rule against the city: the sensors, kinds, districts, metrics and event types it names exist. */
export function cityIssues(rule: Rule, city: City, types: RuleTypes = builtinRuleTypes): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const issue = (field: string, message: string) => {
    issues.push({ field, message });
  };
  // "selects no sensor" only when the selector names nothing unknown (that error says it better)
  const selectsNone = (selectorField: string) => {
    if (!issues.some((i) => i.field.startsWith(`${selectorField}.`))) issue(selectorField, 'selects no sensor');
  };
  const checks: RuleChecks = {
    issue,
    selector(prefix, selector) {
      selector.sensorIds?.forEach((id, i) => {
        if (!city.sensorsById.has(id)) issue(`${prefix}.sensorIds.${i}`, `unknown sensor "${id}"`);
      });
      selector.kinds?.forEach((k, i) => {
        if (!city.kinds.has(k))
          issue(`${prefix}.kinds.${i}`, `unknown kind "${k}" (known: ${[...city.kinds.keys()].join(', ')})`);
      });
      const districts = new Set(city.sensors.map((s) => s.district));
      selector.districts?.forEach((d, i) => {
        if (!districts.has(d)) issue(`${prefix}.districts.${i}`, `no sensor in district "${d}"`);
      });
    },
    metric(field, selectorField, selector, metric) {
      const sensors = selectSensors(city, selector);
      if (sensors.length === 0) {
        selectsNone(selectorField);
        return;
      }
      const sensorKinds = [...new Set(sensors.map((s) => s.kind))];
      const missing = sensorKinds.filter((k) => !hasMetric(city, k, metric));
      if (missing.length)
        issue(
          field,
          `kind ${missing.join(', ')} has no metric "${metric}" (selected sensors of that kind: ${sensors
            .filter((s) => missing.includes(s.kind))
            .map((s) => s.id)
            .slice(0, 5)
            .join(', ')})`,
        );
    },
    selectsSome(selectorField, selector) {
      if (selectSensors(city, selector).length === 0) selectsNone(selectorField);
    },
    sensorExists(field, sensorId) {
      if (!city.sensorsById.has(sensorId)) issue(field, `unknown sensor "${sensorId}"`);
    },
  };
  types.of(rule).check(rule, city, checks);
  return issues;
}

/** Validates one rule: schema, then (with a city) what it refers to. */
export function validateRule(
  raw: unknown,
  city?: City,
  types: RuleTypes = builtinRuleTypes,
): { rule?: Rule; issues: FieldIssue[]; deprecated?: FieldIssue } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { issues: [{ field: '(rule)', message: 'expected a mapping with id, type, ...' }] };
  const alias = readRuleTypeAlias(raw);
  if (alias.outcome === 'conflict') return { issues: [{ field: 'kind', message: alias.message }] };
  const deprecated = alias.outcome === 'moved' ? { field: 'kind', message: RULE_KIND_DEPRECATED } : undefined;
  const result = validateRuleOfType(alias.raw as Record<string, unknown>, city, types);
  return deprecated ? { ...result, deprecated } : result;
}

function validateRuleOfType(
  raw: Record<string, unknown>,
  city: City | undefined,
  types: RuleTypes,
): { rule?: Rule; issues: FieldIssue[] } {
  const type = raw.type;
  if (typeof type !== 'string' || !types.get(type)) {
    return {
      issues: [{ field: 'type', message: `expected one of ${types.names().join(', ')}, got ${JSON.stringify(type)}` }],
    };
  }
  // a type of this platform's list; typed as the built-ins' union, which is all the rest of the code needs
  const parsed = types.schema.safeParse(raw) as z.ZodSafeParseResult<Rule>;
  if (!parsed.success) {
    return {
      issues: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(rule)', message: i.message })),
    };
  }
  const issues = city ? cityIssues(parsed.data, city, types) : [];
  return issues.length ? { issues } : { rule: parsed.data, issues };
}

/** Parses a rule file's text: a YAML list of rules (or a mapping with a `rules:` list). */
export function parseRuleFile(
  text: string,
  file: string,
  city?: City,
  types: RuleTypes = builtinRuleTypes,
): LoadedRules {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `line ${err.linePos[0].line}` : '(file)';
    return {
      rules: [],
      issues: [{ file, field: where, message: `invalid YAML: ${(err as Error).message.split('\n')[0]}` }],
      warnings: [],
    };
  }
  const list = Array.isArray(doc)
    ? doc
    : typeof doc === 'object' && doc !== null && Array.isArray((doc as { rules?: unknown }).rules)
      ? (doc as { rules: unknown[] }).rules
      : undefined;
  if (doc === null || doc === undefined) return { rules: [], issues: [], warnings: [] };
  if (!list)
    return {
      rules: [],
      issues: [{ file, field: '(file)', message: 'expected a list of rules (or a mapping with a "rules:" list)' }],
      warnings: [],
    };
  const rules: Rule[] = [];
  const issues: RuleIssue[] = [];
  // one warning per file, naming its rules, so a city's old files do not flood the log
  const usingKind: string[] = [];
  const seen = new Map<string, number>();
  list.forEach((raw, i) => {
    const ruleId =
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : undefined;
    const result = validateRule(raw, city, types);
    for (const issue of result.issues) issues.push({ file, index: i + 1, ruleId, ...issue });
    if (result.deprecated) usingKind.push(`${ruleId ? `"${ruleId}" ` : ''}(#${i + 1})`);
    if (ruleId !== undefined) {
      const first = seen.get(ruleId);
      if (first !== undefined)
        issues.push({ file, index: i + 1, ruleId, field: 'id', message: `duplicate id, first used by rule #${first}` });
      else seen.set(ruleId, i + 1);
    }
    if (result.rule) rules.push(result.rule);
  });
  const warnings = usingKind.length
    ? [{ file, field: 'kind', message: `${RULE_KIND_DEPRECATED}; in rule ${usingKind.join(', ')}` }]
    : [];
  return { rules, issues, warnings };
}

export function loadRuleFile(
  path: string,
  city?: City,
  label = path,
  types: RuleTypes = builtinRuleTypes,
): LoadedRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      rules: [],
      issues: [
        {
          file: label,
          field: '(file)',
          message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        },
      ],
      warnings: [],
    };
  }
  return parseRuleFile(text, label, city, types);
}

/** Loads every *.yaml/*.yml in a folder, in name order; an id used in two files is an error. */
export function loadRulesDir(
  dir: string,
  city?: City,
  types: RuleTypes = builtinRuleTypes,
): LoadedRules & { files: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { rules: [], issues: [], warnings: [], files: [] };
    throw err;
  }
  const rules: Rule[] = [];
  const issues: RuleIssue[] = [];
  const warnings: RuleIssue[] = [];
  const owner = new Map<string, string>();
  for (const name of names) {
    const loaded = loadRuleFile(join(dir, name), city, join(basename(dir), name), types);
    issues.push(...loaded.issues);
    warnings.push(...loaded.warnings);
    for (const rule of loaded.rules) {
      const first = owner.get(rule.id);
      if (first) {
        issues.push({
          file: join(basename(dir), name),
          ruleId: rule.id,
          index: undefined,
          field: 'id',
          message: `rule id "${rule.id}" is already defined in ${first}`,
        });
        continue;
      }
      owner.set(rule.id, join(basename(dir), name));
      rules.push(rule);
    }
  }
  return { rules, issues, warnings, files: names };
}
