import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { EntryChanges } from '../core/entry-diff.ts';
import type { AlertEventLog } from './alert-event-log.ts';
import type { AlertLifecycle } from './alert-lifecycle.ts';
import type { AlertScheduler } from './alert-scheduler.ts';
import type { RuleRegistry } from './alert-service-api.ts';
import { LOCALES } from './alert-text.ts';
import { entryKey, type RuleEngine } from './rule-engine.ts';
import type { RuleStore } from './rule-registry.ts';
import type { Rule } from './rule-schema.ts';

/**
 * Rule administration: a new rule set takes effect at once. Open alerts of rules that are gone resolve;
 * rules that changed keep their alerts (and their phase), which follow a new severity or category.
 */
export class AlertRuleAdmin {
  constructor(
    private readonly engine: RuleEngine,
    private readonly lifecycle: AlertLifecycle,
    private readonly scheduler: AlertScheduler,
    private readonly ruleStore: RuleStore,
    private readonly log: AlertEventLog,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'info'>,
  ) {}

  apply(rules: readonly Rule[], by: string): void {
    const now = this.clock.now();
    this.engine.setRules(rules, now);
    for (const alert of this.lifecycle.open()) {
      const key = entryKey(alert.ruleId, alert.sensorId);
      const rule = this.engine.rule(alert.ruleId);
      if (!rule || !this.engine.has(key)) {
        this.lifecycle.close(alert, by, `${LOCALES.vi.ruleRemoved} / ${LOCALES.en.ruleRemoved}`);
        continue;
      }
      if (this.engine.condition(key)?.phase === 'inactive') {
        this.engine.restore(
          key,
          {
            phase: alert.state === 'pending' ? 'pending' : 'firing',
            since: alert.startsAt,
            value: alert.value,
            threshold: alert.threshold,
          },
          now,
        );
      }
      if (
        rule.severity !== alert.severity ||
        rule.category !== alert.category ||
        rule.subCategory !== alert.subCategory
      ) {
        this.lifecycle.update(alert, {
          severity: rule.severity,
          category: rule.category,
          subCategory: rule.subCategory,
        });
      }
    }
    this.scheduler.rescheduleAll();
  }

  private readonly changeListeners: Array<() => void> = [];

  /** after each rule change made on this node (a cluster shares it: cluster/shared-state.ts) */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Rule changes another node made: persisted here and applied at once, as an API change is. */
  applyShared(changes: EntryChanges, by: string): void {
    try {
      this.ruleStore.applyEntries(changes, by, this.clock.now());
    } finally {
      // what was taken applies even when one rule was refused
      this.apply(this.ruleStore.list(), by);
    }
  }

  entries(): Map<string, string> {
    return this.ruleStore.entries();
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  /** The API's view: changes are validated, persisted and applied, and return once their events are stored. */
  registry(): RuleRegistry {
    return {
      list: () => this.ruleStore.list(),
      get: (id) => this.ruleStore.get(id),
      put: async (raw, by) => {
        const rule = this.ruleStore.put(raw, by, this.clock.now());
        this.apply(this.ruleStore.list(), by);
        this.logger.info({ rule: rule.id, by }, 'rule saved');
        this.changed();
        await this.log.persisted(this.log.lastSeq);
        return rule;
      },
      remove: async (id, by) => {
        this.ruleStore.remove(id, by);
        this.apply(this.ruleStore.list(), by);
        this.logger.info({ rule: id, by }, 'rule removed');
        this.changed();
        await this.log.persisted(this.log.lastSeq);
      },
    };
  }
}
