import { agencyName, mayHandle, type Agencies } from './agencies.ts';
import type { ApiClient } from './api-client.ts';
import type { Alert } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';

/**
 * Reassigning an alert from its dialog (`POST /api/alerts/{id}/assign`): to another agency, to a person of
 * an agency (one of its members), or both, always with a note, which the alert's history and the audit log
 * keep. Shown only to whom the server lets do it (not viewers; operators of the alert's agency, the person
 * it is assigned to, the IOC duty role) and not on a resolved alert.
 */
export interface AssignControl {
  readonly element: HTMLElement;
  show(alert: Alert): void;
}

export function createAssignControl(deps: {
  api: ApiClient;
  i18n: I18n;
  /** the session's role may act on alerts at all (a viewer may not) */
  canAct: boolean;
  agencies(): Agencies | undefined;
  onAssigned(alert: Alert): void;
}): AssignControl {
  const { api, i18n } = deps;
  const label = (id: string, key: 'wf.assignAgency' | 'wf.assignPerson' | 'wf.assignNote') =>
    h('label', { for: id, 'data-i18n': key }, i18n.t(key));
  const agency = h('select', { id: 'wf-assign-agency', name: 'assignAgency' });
  const person = h('select', { id: 'wf-assign-person', name: 'assignPerson' });
  const note = h('input', { id: 'wf-assign-note', name: 'assignNote', maxlength: 2000 });
  const button = h('button', { type: 'button', class: 'btn', 'data-i18n': 'wf.assign' }, i18n.t('wf.assign'));
  const result = h('p', { class: 'wf-assign-result', role: 'status' });
  const element = h(
    'fieldset',
    { class: 'wf-assign' },
    h('legend', { 'data-i18n': 'wf.assignHeading' }, i18n.t('wf.assignHeading')),
    label('wf-assign-agency', 'wf.assignAgency'),
    agency,
    label('wf-assign-person', 'wf.assignPerson'),
    person,
    label('wf-assign-note', 'wf.assignNote'),
    note,
    button,
    result,
  );
  let current: Alert | undefined;

  /** the chosen agency's members; the person kept when they are one of them */
  const fillPeople = (keep?: string): void => {
    const members = deps.agencies()?.agencies.find((a) => a.id === agency.value)?.members ?? [];
    person.replaceChildren(
      h('option', { value: '' }, i18n.t('wf.assignAnyone')),
      ...members.map((m) => h('option', { value: m }, m)),
    );
    person.value = keep !== undefined && members.includes(keep) ? keep : '';
  };
  agency.addEventListener('change', () => fillPeople());

  const render = (alert: Alert): void => {
    current = alert;
    const all = deps.agencies();
    element.hidden = !deps.canAct || !all || alert.state === 'resolved' || !mayHandle(all, alert);
    if (element.hidden || !all) return;
    agency.replaceChildren(...all.agencies.map((a) => h('option', { value: a.id }, a.name[i18n.lang])));
    agency.value = alert.workflow?.agencyId ?? all.dutyDesk;
    fillPeople(alert.workflow?.assignee);
  };

  button.addEventListener('click', () => {
    const alert = current;
    if (!alert) return;
    const w = alert.workflow;
    const chosen = person.value || undefined;
    const otherAgency = agency.value !== w?.agencyId;
    // the API drops the person when an agency is given: that is how "the whole agency" is chosen again
    const body: { agencyId?: string; assignee?: string; note: string } = { note: note.value.trim() };
    if (otherAgency || (chosen === undefined && w?.assignee !== undefined)) body.agencyId = agency.value;
    if (chosen !== undefined && (otherAgency || chosen !== w?.assignee)) body.assignee = chosen;
    if (body.agencyId === undefined && body.assignee === undefined) {
      setText(result, i18n.t('wf.assignNothing'));
      return;
    }
    if (!body.note) {
      setText(result, i18n.t('wf.assignNeedsNote'));
      return;
    }
    button.disabled = true;
    api
      .post<{ alert: Alert }>(`/api/alerts/${encodeURIComponent(alert.id)}/assign`, body)
      .then(
        (reply) => {
          const to = reply.alert.workflow;
          note.value = '';
          deps.onAssigned(reply.alert);
          render(reply.alert);
          const names = [agencyName(deps.agencies(), to?.agencyId, i18n.lang), to?.assignee];
          setText(result, i18n.t('wf.assigned', { to: names.filter(Boolean).join(' · ') }));
        },
        (err: Error) => setText(result, i18n.t('dialog.error', { message: err.message })),
      )
      .finally(() => {
        button.disabled = false;
      });
  });

  return {
    element,
    show(alert) {
      note.value = '';
      setText(result, '');
      render(alert);
    },
  };
}
