import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { City } from '../config/city-config.ts';
import { RULE_KINDS, ruleSchema, type Rule } from './rule-schema.ts';
import { hasMetric, selectSensors } from './rule-targets.ts';

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

export function formatIssue(issue: RuleIssue): string {
  const rule = issue.index !== undefined ? ` rule ${issue.ruleId ? `"${issue.ruleId}" ` : ''}(#${issue.index})` : '';
  return `${issue.file}:${rule}${rule ? ':' : ''} ${issue.field}: ${issue.message}`;
}

export interface FieldIssue { readonly field: string; readonly message: string }

/** Checks a rule against the city: the sensors, kinds, districts, metrics and event types it names exist. */
export function cityIssues(rule: Rule, city: City): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const checkSelector = (prefix: string, selector: { sensorIds?: string[]; kinds?: string[]; districts?: string[] }) => {
    selector.sensorIds?.forEach((id, i) => { if (!city.sensorsById.has(id)) issues.push({ field: `${prefix}.sensorIds.${i}`, message: `unknown sensor "${id}"` }); });
    selector.kinds?.forEach((k, i) => { if (!city.kinds.has(k)) issues.push({ field: `${prefix}.kinds.${i}`, message: `unknown kind "${k}" (known: ${[...city.kinds.keys()].join(', ')})` }); });
    const districts = new Set(city.sensors.map((s) => s.district));
    selector.districts?.forEach((d, i) => { if (!districts.has(d)) issues.push({ field: `${prefix}.districts.${i}`, message: `no sensor in district "${d}"` }); });
  };
  // "selects no sensor" only when the selector names nothing unknown (that error says it better)
  const selectsNone = (selectorField: string) => {
    if (!issues.some((i) => i.field.startsWith(`${selectorField}.`))) issues.push({ field: selectorField, message: 'selects no sensor' });
  };
  const checkMetric = (field: string, selectorField: string, selector: Parameters<typeof selectSensors>[1], metric: string) => {
    const sensors = selectSensors(city, selector);
    if (sensors.length === 0) { selectsNone(selectorField); return; }
    const kinds = [...new Set(sensors.map((s) => s.kind))];
    const missing = kinds.filter((k) => !hasMetric(city, k, metric));
    if (missing.length) issues.push({ field, message: `kind ${missing.join(', ')} has no metric "${metric}" (selected sensors of that kind: ${sensors.filter((s) => missing.includes(s.kind)).map((s) => s.id).slice(0, 5).join(', ')})` });
  };
  if (rule.kind === 'compound') {
    if (!city.sensorsById.has(rule.alertSensor)) issues.push({ field: 'alertSensor', message: `unknown sensor "${rule.alertSensor}"` });
    rule.conditions.forEach((c, i) => {
      checkSelector(`conditions.${i}.selector`, c.selector);
      checkMetric(`conditions.${i}.metric`, `conditions.${i}.selector`, c.selector, c.metric);
    });
    return issues;
  }
  checkSelector('selector', rule.selector);
  const selected = selectSensors(city, rule.selector);
  if (rule.kind === 'threshold' || rule.kind === 'rateOfChange') checkMetric('metric', 'selector', rule.selector, rule.metric);
  else if (selected.length === 0) selectsNone('selector');
  if (rule.kind === 'threshold' && rule.floodLevel !== undefined && selected.length && !selected.some((s) => s.floodLevels)) {
    issues.push({ field: 'floodLevel', message: 'none of the selected sensors has floodLevels in the sensors file' });
  }
  if (rule.kind === 'cameraEvent') {
    const known = new Set(selected.flatMap((s) => city.kinds.get(s.kind)?.eventTypes ?? []));
    rule.eventTypes.forEach((t, i) => { if (!known.has(t)) issues.push({ field: `eventTypes.${i}`, message: `no selected sensor reports event type "${t}" (known: ${[...known].join(', ') || 'none'})` }); });
  }
  return issues;
}

/** Validates one rule: schema, then (with a city) what it refers to. */
export function validateRule(raw: unknown, city?: City): { rule?: Rule; issues: FieldIssue[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { issues: [{ field: '(rule)', message: 'expected a mapping with id, kind, ...' }] };
  const kind = (raw as { kind?: unknown }).kind;
  if (!RULE_KINDS.includes(kind as Rule['kind'])) {
    return { issues: [{ field: 'kind', message: `expected one of ${RULE_KINDS.join(', ')}, got ${JSON.stringify(kind)}` }] };
  }
  const parsed = ruleSchema.safeParse(raw);
  if (!parsed.success) {
    return { issues: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(rule)', message: i.message })) };
  }
  const issues = city ? cityIssues(parsed.data, city) : [];
  return issues.length ? { issues } : { rule: parsed.data, issues };
}

/** Parses a rule file's text: a YAML list of rules (or a mapping with a `rules:` list). */
export function parseRuleFile(text: string, file: string, city?: City): { rules: Rule[]; issues: RuleIssue[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `line ${err.linePos[0].line}` : '(file)';
    return { rules: [], issues: [{ file, field: where, message: `invalid YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const list = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null && Array.isArray((doc as { rules?: unknown }).rules) ? (doc as { rules: unknown[] }).rules : undefined;
  if (doc === null || doc === undefined) return { rules: [], issues: [] };
  if (!list) return { rules: [], issues: [{ file, field: '(file)', message: 'expected a list of rules (or a mapping with a "rules:" list)' }] };
  const rules: Rule[] = [];
  const issues: RuleIssue[] = [];
  const seen = new Map<string, number>();
  list.forEach((raw, i) => {
    const ruleId = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
    const result = validateRule(raw, city);
    for (const issue of result.issues) issues.push({ file, index: i + 1, ruleId, ...issue });
    if (ruleId !== undefined) {
      const first = seen.get(ruleId);
      if (first !== undefined) issues.push({ file, index: i + 1, ruleId, field: 'id', message: `duplicate id, first used by rule #${first}` });
      else seen.set(ruleId, i + 1);
    }
    if (result.rule) rules.push(result.rule);
  });
  return { rules, issues };
}

export function loadRuleFile(path: string, city?: City, label = path): { rules: Rule[]; issues: RuleIssue[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { rules: [], issues: [{ file: label, field: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }] };
  }
  return parseRuleFile(text, label, city);
}

/** Loads every *.yaml/*.yml in a folder, in name order; an id used in two files is an error. */
export function loadRulesDir(dir: string, city?: City): { rules: Rule[]; issues: RuleIssue[]; files: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { rules: [], issues: [], files: [] };
    throw err;
  }
  const rules: Rule[] = [];
  const issues: RuleIssue[] = [];
  const owner = new Map<string, string>();
  for (const name of names) {
    const loaded = loadRuleFile(join(dir, name), city, join(basename(dir), name));
    issues.push(...loaded.issues);
    for (const rule of loaded.rules) {
      const first = owner.get(rule.id);
      if (first) {
        issues.push({ file: join(basename(dir), name), ruleId: rule.id, index: undefined, field: 'id', message: `rule id "${rule.id}" is already defined in ${first}` });
        continue;
      }
      owner.set(rule.id, join(basename(dir), name));
      rules.push(rule);
    }
  }
  return { rules, issues, files: names };
}
