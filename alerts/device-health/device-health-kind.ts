import { z } from 'zod';
import { advanceCondition, INACTIVE, type Condition } from '../condition.ts';
import { commonRuleFields, metricName, selectorSchema } from '../rule-fields.ts';
import { defineRuleType, unchanged } from '../rule-type.ts';
import { selectSensors } from '../rule-targets.ts';
import {
  detectClockSkew,
  detectDrift,
  detectFlatline,
  detectRefusals,
  detectSpike,
  nearestNeighbours,
  extendRun,
  type Finding,
  type Run,
  type Sample,
} from './health-detectors.ts';

/**
 * `device-health`: a device whose readings look broken (flatlined, spiking, drifting from its neighbours
 * of the same kind, or stamped by a wrong clock) is unhealthy, and its alert is a maintenance task. Routing
 * by rule type (operations.yaml `match: { ruleType: [device-health] }`) sends it to the technical agency;
 * the console marks the sensor and its other alerts, so a broken gauge is not taken for a flood. A finding
 * keeps the device unhealthy for `clearAfter` after it was last seen, so one good reading between spikes
 * does not close and reopen the task. `refusals` counts the device's messages refused by ingest (payload,
 * range, clock skew) or by the broker (ACL, rate): a refusal event reaches the pair like a reading does.
 */
const minutes = z.number().positive();
const schema = z
  .object({
    ...commonRuleFields,
    type: z.literal('device-health'),
    selector: selectorSchema,
    /** the metric the reading detectors watch; a rule counting refusals only needs none */
    metric: metricName.optional(),
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
    /** more than `max` refused messages within `windowMinutes` */
    refusals: z
      .object({ max: z.number().int().min(0), windowMinutes: minutes })
      .strict()
      .optional(),
    clearAfterMinutes: minutes.default(60),
  })
  .strict();
type DeviceHealthRule = z.infer<typeof schema>;

interface HealthState {
  readonly cond: Condition;
  /** the previous reading of the target (spike) */
  readonly previous?: Sample;
  /** the run of one repeated value it is in (flatline) */
  readonly run?: Run;
  readonly neighbours: Readonly<Record<string, { value: number; ts: number }>>;
  /** the latest finding of each problem and when it was seen */
  readonly findings: Readonly<Record<string, Finding & { at: number }>>;
  /** when the latest refusals came (platform clock), at most `refusals.max + 1` of them */
  readonly refusedAt: readonly number[];
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

/** One refused message of `sensorId`; a device flooding refusals costs a bounded array, not a growing one. */
function refused(rule: DeviceHealthRule, targetId: string, s: HealthState, sensorId: string, now: number) {
  if (!rule.refusals || sensorId !== targetId) return unchanged(s);
  const { max, windowMinutes } = rule.refusals;
  const refusedAt = [...s.refusedAt.filter((t) => t > now - windowMinutes * MIN), now].slice(-(max + 1));
  const found = detectRefusals(refusedAt, now, windowMinutes * MIN, max);
  const findings = found ? { ...s.findings, refusals: { ...found, at: now } } : s.findings;
  return settle(rule, { ...s, refusedAt, findings }, now);
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
    if (rule.metric) checks.metric('metric', 'selector', rule.selector, rule.metric);
    else if (rule.flatline || rule.spike || rule.drift || rule.clockSkew)
      checks.issue('metric', 'flatline, spike, drift and clockSkew watch a metric: name it');
    if (!rule.flatline && !rule.spike && !rule.drift && !rule.clockSkew && !rule.refusals)
      checks.issue('flatline', 'name at least one of flatline, spike, drift, clockSkew, refusals');
  },
  initialState: () => ({ cond: INACTIVE, neighbours: {}, findings: {}, refusedAt: [] }),
  evaluate(rule, target, state, input, now) {
    if (input.type === 'tick') return settle(rule, state, now);
    if (input.type === 'refusal') return refused(rule, target.id, state, input.event.sensorId, now);
    if (input.type !== 'reading' || input.derived) return unchanged(state);
    const value = rule.metric === undefined ? undefined : input.reading.values[rule.metric];
    if (value === undefined || !Number.isFinite(value)) return unchanged(state);
    if (input.reading.sensorId !== target.id) {
      return unchanged({ ...state, neighbours: { ...state.neighbours, [input.reading.sensorId]: { value, ts: now } } });
    }
    const sample: Sample = { ts: input.reading.ts, value, receivedAt: now };
    const run = extendRun(state.run, sample);
    const found = [
      rule.flatline && detectFlatline(run, sample.ts, rule.flatline.readings, rule.flatline.minutes),
      rule.spike && detectSpike(state.previous, sample, rule.spike.maxJump),
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
    return settle(rule, { ...state, previous: sample, run, findings }, now);
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
