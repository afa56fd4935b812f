import type { AlertAction } from './alert-list.ts';
import type { Alert } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n, MessageKey } from './i18n.ts';
import type { WorkflowPanel } from './workflow-panel.ts';

export interface AlertDialog {
  readonly element: HTMLDialogElement;
  open(action: AlertAction, alert: Alert): void;
  /** switches the action the confirm button performs (the workflow buttons) */
  switchTo(action: AlertAction): void;
}

const TITLES: Record<AlertAction, MessageKey> = {
  ack: 'dialog.ackTitle',
  start: 'dialog.startTitle',
  resolve: 'dialog.resolveTitle',
};
const CONFIRMS: Record<AlertAction, MessageKey> = {
  ack: 'dialog.confirmAck',
  start: 'dialog.confirmStart',
  resolve: 'dialog.confirmResolve',
};

/**
 * One modal for the workflow's actions: a note is optional but recorded with who and when (the audit
 * trail); the workflow panel (who has it, the buttons for its state, the outcome, the SOP) sits inside.
 */
export function createAlertDialog(deps: {
  i18n: I18n;
  panel?: WorkflowPanel;
  submit(action: AlertAction, alert: Alert, note: string, outcome?: string): Promise<void>;
}): AlertDialog {
  const { i18n } = deps;
  const heading = h('h2', { id: 'alert-dialog-title' });
  const summary = h('p', { class: 'dialog-summary' });
  const note = h('textarea', { id: 'alert-dialog-note', name: 'note', rows: 3, maxlength: 1000 });
  const noteLabel = h('label', { for: 'alert-dialog-note', 'data-i18n': 'dialog.note' }, i18n.t('dialog.note'));
  const error = h('p', { class: 'dialog-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'btn', 'data-i18n': 'dialog.cancel' }, i18n.t('dialog.cancel'));
  const confirm = h('button', { type: 'submit', class: 'btn btn-primary' });
  const form = h(
    'form',
    { method: 'dialog' },
    heading,
    summary,
    deps.panel?.element,
    noteLabel,
    note,
    error,
    h('div', { class: 'dialog-buttons' }, cancel, confirm),
  );
  const element = h('dialog', { class: 'alert-dialog', 'aria-labelledby': 'alert-dialog-title' }, form);

  let current: { action: AlertAction; alert: Alert } | undefined;

  cancel.addEventListener('click', () => element.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!current) return;
    const { action, alert } = current;
    confirm.disabled = true;
    setText(error, '');
    deps
      .submit(action, alert, note.value.trim(), action === 'resolve' ? deps.panel?.outcome.value : undefined)
      .then(
        () => element.close(),
        (err: Error) => setText(error, i18n.t('dialog.error', { message: err.message })),
      )
      .finally(() => {
        confirm.disabled = false;
      });
  });

  const switchTo = (action: AlertAction): void => {
    if (current) current = { ...current, action };
    setText(heading, i18n.t(TITLES[action]));
    setText(confirm, i18n.t(CONFIRMS[action]));
    deps.panel?.choose(action);
  };

  return {
    element,
    switchTo,
    open(action, alert) {
      current = { action, alert };
      deps.panel?.show(alert, action);
      switchTo(action);
      setText(
        summary,
        `${i18n.t(`severity.${alert.severity}` as MessageKey)} · ${alert.title[i18n.lang]} ` +
          `· ${alert.message[i18n.lang]}`,
      );
      setText(error, '');
      note.value = '';
      element.showModal();
      note.focus();
    },
  };
}
