import { z } from 'zod';
import { advanceCondition, INACTIVE, type Condition } from '../condition.ts';
import { commonRuleFields, metricName, selectorSchema } from '../rule-fields.ts';
import { defineRuleType, unchanged } from '../rule-type.ts';
import { selectSensors } from '../rule-targets.ts';
import {
  detectClockSkew,
  detectDrift,
  detectFlatline,
  detectSpike,
  nearestNeighbours,
  type Finding,
  type Sample,
} from './health-detectors.ts';

/**
 * `device-health`: a device whose readings look broken (flatlined, spiking, drifting from its neighbours
 * of the same kind, or stamped by a wrong clock) is unhealthy, and its alert is a maintenance task. Routing
 * by rule type (operations.yaml `match: { ruleKind: [device-health] }`) sends it to the technical agency;
 * the console marks the sensor and its other alerts, so a broken gauge is not taken for a flood. A finding
 * keeps the device unhealthy for `clearAfter` after it was last seen, so one good reading between spikes
 * does not close and reopen the task. Refusals by ingest do not reach rules (RuleInput has no rejection);
 * detectRefusals is there for the day they do.
 */
const minutes = z.number().positive();
const schema = z
  .object({
    ...commonRuleFields,
    type: z.literal('device-health'),
    selector: selectorSchema,
    metric: metricName,
    flatline: z
      .object({ readings: z.number().int().min(2), minutes })
      .strict()
      .optional(),
    /** the largest jump between consecutive readings the metric can really make, in its unit */
    spike: z.object({ maxJump: z.number().positive() }).strict().optional(),
    drift: z
      .object({
        k: z.number().int().min(2).default(3),
        radiusKm: z.number().positive(),
        maxDistance: z.number().positive(),
        maxAgeMinutes: minutes.default(30),
      })
      .strict()
      .optional(),
    clockSkew: z.object({ maxMinutes: minutes }).strict().optional(),
    clearAfterMinutes: minutes.default(60),
  })
  .strict();
type DeviceHealthRule = z.infer<typeof schema>;

interface HealthState {
  readonly cond: Condition;
  readonly window: readonly Sample[];
  readonly neighbours: Readonly<Record<string, { value: number; ts: number }>>;
  /** the latest finding of each problem and when it was seen */
  readonly findings: Readonly<Record<string, Finding & { at: number }>>;
}

const MIN = 60_000;
const PROBLEM_TEXT: Record<string, { vi: string; en: string }> = {
  flatline: { vi: 'giá trị đứng yên', en: 'flatlined values' },
  spike: { vi: 'giá trị nhảy bất thường', en: 'implausible spikes' },
  drift: { vi: 'lệch so với các trạm lân cận', en: 'drift from neighbouring sensors' },
  clockSkew: { vi: 'lệch đồng hồ thiết bị', en: 'device clock skew' },
  refusals: { vi: 'dữ liệu bị từ chối nhiều lần', en: 'repeated refusals' },
};

const live = (s: HealthState, rule: DeviceHealthRule, now: number) =>
  Object.values(s.findings).filter((f) => now - f.at < rule.clearAfterMinutes * MIN);

function settle(
  rule: DeviceHealthRule,
  s: HealthState,
  now: number,
): { state: HealthState; transition: ReturnType<typeof advanceCondition>['transition'] } {
  const current = live(s, rule, now);
  const findings = Object.fromEntries(current.map((f) => [f.problem, f]));
  const { cond, transition } = advanceCondition(s.cond, { holds: current.length > 0, value: current.length }, now, 0);
  return { state: { ...s, cond, findings }, transition };
}

export const deviceHealthType = defineRuleType<DeviceHealthRule, HealthState>({
  type: 'device-health',
  schema,
  messages: {
    unhealthy: {
      vi: 'Thiết bị {sensor} cần kiểm tra: {problems}',
      en: 'Device {sensor} needs maintenance: {problems}',
    },
  },
  targets: (rule, city) => selectSensors(city, rule.selector),
  feeds(rule, city, target) {
    const ids = [target.id];
    if (rule.drift) {
      // a rain gauge is a water sensor too: neighbours measure the same thing (same role tag, where set)
      const peers = city.sensors.filter((s) => s.tags?.role === target.tags?.role);
      ids.push(...nearestNeighbours(target, peers, rule.drift.k, rule.drift.radiusKm).map((s) => s.id));
    }
    return ids;
  },
  check(rule, _city, checks) {
    checks.selector('selector', rule.selector);
    checks.metric('metric', 'selector', rule.selector, rule.metric);
    if (!rule.flatline && !rule.spike && !rule.drift && !rule.clockSkew)
      checks.issue('flatline', 'name at least one of flatline, spike, drift, clockSkew');
  },
  initialState: () => ({ cond: INACTIVE, window: [], neighbours: {}, findings: {} }),
  evaluate(rule, target, state, input, now) {
    if (input.type === 'tick') return settle(rule, state, now);
    if (input.type !== 'reading' || input.derived) return unchanged(state);
    const value = input.reading.values[rule.metric];
    if (value === undefined || !Number.isFinite(value)) return unchanged(state);
    if (input.reading.sensorId !== target.id) {
      return unchanged({ ...state, neighbours: { ...state.neighbours, [input.reading.sensorId]: { value, ts: now } } });
    }
    const sample: Sample = { ts: input.reading.ts, value, receivedAt: now };
    const keep = Math.max(rule.flatline?.readings ?? 1, 2);
    const window = [...state.window, sample].slice(-keep);
    const found = [
      rule.flatline && detectFlatline(window, rule.flatline.readings, rule.flatline.minutes),
      rule.spike && detectSpike(state.window[state.window.length - 1], sample, rule.spike.maxJump),
      rule.drift &&
        detectDrift(
          value,
          Object.values(state.neighbours),
          now,
          rule.drift.maxDistance,
          rule.drift.maxAgeMinutes * MIN,
        ),
      rule.clockSkew && detectClockSkew(sample, rule.clockSkew.maxMinutes * MIN),
    ].filter((f): f is Finding => f !== undefined);
    const findings = { ...state.findings, ...Object.fromEntries(found.map((f) => [f.problem, { ...f, at: now }])) };
    return settle(rule, { ...state, window, findings }, now);
  },
  nextCheckAt(rule, state) {
    // the task closes by itself once every finding is older than clearAfter
    const ats = Object.values(state.findings).map((f) => f.at + rule.clearAfterMinutes * MIN);
    return state.cond.phase === 'firing' && ats.length ? Math.max(...ats) : undefined;
  },
  describe: (_rule, _target, state) => ({
    messageKey: 'unhealthy',
    vars: (lang) => ({
      problems: Object.keys(state.findings)
        .map((p) => PROBLEM_TEXT[p]?.[lang] ?? p)
        .join(', '),
    }),
  }),
});
