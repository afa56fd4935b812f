import { agencyName, type Agencies } from './agencies.ts';
import type { ApiClient } from './api-client.ts';
import type { Alert } from './api-types.ts';
import { createAssignControl } from './assign-control.ts';
import { h, setText } from './dom.ts';
import type { I18n, MessageKey } from './i18n.ts';

export { agencyName, type Agencies } from './agencies.ts';

/**
 * The handling side of the alert dialog (docs/operations-workflow.md): who the alert is with (agency,
 * person, escalation level, silence), the workflow buttons that apply to its state (acknowledge, start
 * work, resolve with an outcome), reassignment (assign-control.ts), the procedure (SOP) for its type with
 * steps to tick off, and an ad hoc silence for its sensor or its sensor's kind. The server decides what is
 * allowed; the buttons shown are what the state permits, for clarity.
 */
export type WorkflowAction = 'ack' | 'start' | 'resolve';
export const OUTCOMES = ['handled', 'falseAlarm', 'duplicate', 'deviceFault'] as const;

interface SopStep {
  id: string;
  text: string;
  who: string;
  links: Array<{ label: string; url: string }>;
  phones: Array<{ label: string; number: string }>;
  done?: { by: string; at: number };
}
interface SopReply {
  sop: { title: string; steps: SopStep[] } | null;
}

export interface WorkflowPanel {
  readonly element: HTMLElement;
  /** the buttons for the actions the alert's state allows; clicking one calls onChoose */
  readonly actions: HTMLElement;
  readonly outcome: HTMLSelectElement;
  show(alert: Alert, action: WorkflowAction): void;
  choose(action: WorkflowAction): void;
}

export function actionsFor(alert: Pick<Alert, 'state'>): WorkflowAction[] {
  if (alert.state === 'firing') return ['ack', 'resolve'];
  if (alert.state === 'acknowledged') return ['start', 'resolve'];
  if (alert.state === 'inProgress') return ['resolve'];
  return [];
}

/** One line for the alert row: the agency, the person, escalation and silence, as short as it can be. */
export function handlingText(alert: Alert, agencies: Agencies | undefined, i18n: I18n): string {
  const w = alert.workflow;
  if (!w) return '';
  const parts = [agencyName(agencies, w.agencyId, i18n.lang)];
  if (w.assignee) parts.push(i18n.t('wf.assignee', { who: w.assignee }));
  if (w.escalation.level > 0) parts.push(i18n.t('wf.escalated', { level: w.escalation.level }));
  if (w.silence) parts.push(i18n.t('wf.silencedShort'));
  return parts.join(' · ');
}

export function createWorkflowPanel(deps: {
  api: ApiClient;
  i18n: I18n;
  timeZone: string;
  /** the session's role may act on alerts (a viewer may not) */
  canAct: boolean;
  agencies(): Agencies | undefined;
  onChoose(action: WorkflowAction): void;
  /** a step was ticked off or the alert reassigned: the list shows the alert as the server now has it */
  onUpdated(alert: Alert): void;
}): WorkflowPanel {
  const { api, i18n } = deps;
  const who = h('p', { class: 'wf-who' });
  const actions = h('div', {
    class: 'wf-actions',
    role: 'group',
    'data-i18n-attr': 'aria-label:wf.actions',
    'aria-label': i18n.t('wf.actions'),
  });
  const outcome = h('select', { id: 'wf-outcome', name: 'outcome' });
  const outcomeWrap = h(
    'div',
    { class: 'wf-outcome' },
    h('label', { for: 'wf-outcome', 'data-i18n': 'wf.outcome' }, i18n.t('wf.outcome')),
    outcome,
  );
  const sopTitle = h('h3', { class: 'sop-title' });
  const steps = h('ol', { class: 'sop-steps' });
  const sop = h(
    'section',
    { class: 'sop-panel', 'aria-labelledby': 'sop-heading' },
    h('h3', { id: 'sop-heading', 'data-i18n': 'wf.sop' }, i18n.t('wf.sop')),
    sopTitle,
    steps,
  );
  const assign = createAssignControl({
    api,
    i18n,
    canAct: deps.canAct,
    agencies: deps.agencies,
    onAssigned: (alert) => {
      current = alert;
      setText(who, describe(alert));
      deps.onUpdated(alert);
    },
  });
  // an ad hoc silence for the alert's sensor, or every sensor of its kind: an end and a reason (POST /api/silences)
  const silenceScope = h('select', { id: 'wf-silence-scope', name: 'silenceScope' });
  const silenceHours = h(
    'select',
    { id: 'wf-silence-hours', name: 'silenceHours' },
    ...[1, 4, 24].map((n) => h('option', { value: n }, String(n))),
  );
  const silenceReason = h('input', { id: 'wf-silence-reason', name: 'silenceReason', maxlength: 500 });
  const silenceButton = h('button', { type: 'button', class: 'btn', 'data-i18n': 'wf.silence' }, i18n.t('wf.silence'));
  const silenceResult = h('p', { class: 'wf-silence-result', role: 'status' });
  const silenceBox = h(
    'fieldset',
    { class: 'wf-silence' },
    h('legend', { 'data-i18n': 'wf.silenceHeading' }, i18n.t('wf.silenceHeading')),
    h('label', { for: 'wf-silence-scope', 'data-i18n': 'wf.silenceScope' }, i18n.t('wf.silenceScope')),
    silenceScope,
    h('label', { for: 'wf-silence-hours', 'data-i18n': 'wf.silenceHours' }, i18n.t('wf.silenceHours')),
    silenceHours,
    h('label', { for: 'wf-silence-reason', 'data-i18n': 'wf.silenceReason' }, i18n.t('wf.silenceReason')),
    silenceReason,
    silenceButton,
    silenceResult,
  );
  const element = h('div', { class: 'wf-panel' }, who, actions, outcomeWrap, assign.element, sop, silenceBox);
  const time = (ms: number) =>
    new Intl.DateTimeFormat(i18n.locale, {
      timeZone: deps.timeZone,
      hour: '2-digit',
      minute: '2-digit',
      day: '2-digit',
      month: '2-digit',
    }).format(ms);
  let current: Alert | undefined;

  const renderSteps = (alert: Alert, list: SopStep[]) => {
    steps.replaceChildren(
      ...list.map((s) => {
        const tick = h('button', { type: 'button', class: 'btn btn-step' }, i18n.t('wf.tick'));
        tick.setAttribute('aria-label', `${i18n.t('wf.tick')}: ${s.text}`);
        tick.hidden = s.done !== undefined || alert.state === 'resolved' || alert.state === 'pending';
        tick.addEventListener('click', () => {
          tick.disabled = true;
          api
            .post<{ alert: Alert }>(`/api/alerts/${encodeURIComponent(alert.id)}/steps/${encodeURIComponent(s.id)}`, {})
            .then(
              (reply) => {
                current = reply.alert;
                deps.onUpdated(reply.alert);
                void load(reply.alert);
              },
              (err: Error) => {
                tick.disabled = false;
                setText(sopTitle, i18n.t('dialog.error', { message: err.message }));
              },
            );
        });
        const done = s.done
          ? h('span', { class: 'sop-done' }, i18n.t('wf.done', { who: s.done.by, time: time(s.done.at) }))
          : null;
        return h(
          'li',
          { class: s.done ? 'sop-step done' : 'sop-step' },
          h('p', { class: 'sop-text' }, s.text),
          h('p', { class: 'sop-by' }, i18n.t('wf.stepWho', { who: s.who })),
          ...s.links.map((l) => h('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.label)),
          ...s.phones.map((p) =>
            h('a', { href: `tel:${p.number.replace(/[^+0-9]/g, '')}` }, `${p.label}: ${p.number}`),
          ),
          done,
          tick,
        );
      }),
    );
  };

  async function load(alert: Alert): Promise<void> {
    try {
      const reply = await api.get<SopReply>(`/api/alerts/${encodeURIComponent(alert.id)}/sop?lang=${i18n.lang}`);
      if (current?.id !== alert.id) return;
      sop.hidden = !reply.sop;
      if (reply.sop) {
        setText(sopTitle, reply.sop.title);
        renderSteps(alert, reply.sop.steps);
      }
    } catch {
      sop.hidden = true;
    }
  }

  silenceButton.addEventListener('click', () => {
    const alert = current;
    const reason = silenceReason.value.trim();
    if (!alert) return;
    if (!reason) {
      setText(silenceResult, i18n.t('wf.silenceNeedsReason'));
      return;
    }
    const endsAt = Date.now() + Number(silenceHours.value) * 3_600_000;
    const match = silenceScope.value === 'kind' ? { sensorKind: [alert.kind] } : { sensorId: [alert.sensorId] };
    silenceButton.disabled = true;
    api
      .post<{ id: string }>('/api/silences', { match, reason, endsAt })
      .then(
        () => setText(silenceResult, i18n.t('wf.silenced', { reason: `${reason} (${time(endsAt)})` })),
        (err: Error) => setText(silenceResult, i18n.t('dialog.error', { message: err.message })),
      )
      .finally(() => {
        silenceButton.disabled = false;
      });
  });

  function describe(alert: Alert): string {
    const w = alert.workflow;
    if (!w) return '';
    const parts = [i18n.t('wf.agency', { agency: agencyName(deps.agencies(), w.agencyId, i18n.lang) })];
    if (w.assignee) parts.push(i18n.t('wf.assignee', { who: w.assignee }));
    if (w.escalation.level > 0) parts.push(i18n.t('wf.escalated', { level: w.escalation.level }));
    if (w.silence) parts.push(i18n.t('wf.silenced', { reason: w.silence.reason }));
    return parts.join(' · ');
  }

  function choose(action: WorkflowAction): void {
    for (const b of actions.querySelectorAll<HTMLButtonElement>('button'))
      b.setAttribute('aria-pressed', String(b.dataset.action === action));
    outcomeWrap.hidden = action !== 'resolve';
  }

  return {
    element,
    actions,
    outcome,
    choose,
    show(alert, action) {
      current = alert;
      setText(who, describe(alert));
      actions.replaceChildren(
        ...actionsFor(alert).map((a) => {
          const b = h(
            'button',
            { type: 'button', class: 'btn btn-wf', 'data-action': a },
            i18n.t(`wf.action.${a}` as MessageKey),
          );
          b.addEventListener('click', () => deps.onChoose(a));
          return b;
        }),
      );
      outcome.replaceChildren(
        ...OUTCOMES.map((o) => h('option', { value: o }, i18n.t(`wf.outcome.${o}` as MessageKey))),
      );
      choose(action);
      sop.hidden = true;
      steps.replaceChildren();
      silenceReason.value = '';
      setText(silenceResult, '');
      const kindKey = `kind.${alert.kind}` as MessageKey;
      const kind = i18n.t(kindKey) === kindKey ? alert.kind : i18n.t(kindKey);
      silenceScope.replaceChildren(
        h('option', { value: 'sensor' }, i18n.t('wf.silenceScope.sensor')),
        h('option', { value: 'kind' }, i18n.t('wf.silenceScope.kind', { kind })),
      );
      assign.show(alert);
      silenceBox.hidden = alert.state === 'resolved';
      void load(alert);
    },
  };
}
