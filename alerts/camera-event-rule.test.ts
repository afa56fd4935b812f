import { describe, expect, it } from 'vitest';
import { cameraEvent, T0 } from './alert-test-kit.ts';
import {
  cameraCheckAt,
  evaluateCameraEvent,
  initialCameraEventState,
  type CameraEventState,
} from './camera-event-rule.ts';
import type { Transition } from './condition.ts';
import { cameraEventRuleSchema } from './rule-schema.ts';

const MIN = 60_000;
const rule = cameraEventRuleSchema.parse({
  id: 'intrusion',
  type: 'cameraEvent',
  severity: 'high',
  category: 'security',
  subCategory: 'intrusion',
  selector: { sensorIds: ['cam-ngomon'] },
  eventTypes: ['intrusion'],
  count: 3,
  window: '10m',
});

describe('camera event rule', () => {
  it('fires at `count` matching events within the window and clears when the window empties', () => {
    let state: CameraEventState = initialCameraEventState;
    const out: Array<[number, Transition]> = [];
    const feed = (min: number, type: string) => {
      const step = evaluateCameraEvent(
        rule,
        state,
        { type: 'event', event: cameraEvent('cam-ngomon', type, T0 + min * MIN) },
        T0 + min * MIN,
      );
      state = step.state;
      if (step.transition !== 'none') out.push([min, step.transition]);
    };
    feed(0, 'intrusion');
    feed(1, 'crowd');
    feed(2, 'intrusion');
    expect(out).toEqual([]);
    feed(4, 'intrusion');
    expect(out).toEqual([[4, 'firing']]);
    // the service's timer: when the oldest event leaves the window the count drops to 2
    const due = cameraCheckAt(rule, state)!;
    expect(due).toBe(T0 + 10 * MIN);
    const tick = evaluateCameraEvent(rule, state, { type: 'tick' }, due);
    expect(tick.transition).toBe('resolved');
    expect(tick.state.times).toHaveLength(2);
  });
});
