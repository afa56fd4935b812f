import type { AlertAction } from './alert-list.ts';
import type { Alert } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n, MessageKey } from './i18n.ts';

export interface AlertDialog {
  readonly element: HTMLDialogElement;
  open(action: AlertAction, alert: Alert): void;
}

/** One modal for both actions: a note is optional but recorded with who and when (the audit trail). */
export function createAlertDialog(deps: { i18n: I18n; submit(action: AlertAction, alert: Alert, note: string): Promise<void> }): AlertDialog {
  const { i18n } = deps;
  const heading = h('h2', { id: 'alert-dialog-title' });
  const summary = h('p', { class: 'dialog-summary' });
  const note = h('textarea', { id: 'alert-dialog-note', name: 'note', rows: 3, maxlength: 1000 });
  const noteLabel = h('label', { for: 'alert-dialog-note', 'data-i18n': 'dialog.note' }, i18n.t('dialog.note'));
  const error = h('p', { class: 'dialog-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'btn', 'data-i18n': 'dialog.cancel' }, i18n.t('dialog.cancel'));
  const confirm = h('button', { type: 'submit', class: 'btn btn-primary' });
  const form = h('form', { method: 'dialog' }, heading, summary, noteLabel, note, error, h('div', { class: 'dialog-buttons' }, cancel, confirm));
  const element = h('dialog', { class: 'alert-dialog', 'aria-labelledby': 'alert-dialog-title' }, form);

  let current: { action: AlertAction; alert: Alert } | undefined;

  cancel.addEventListener('click', () => element.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!current) return;
    const { action, alert } = current;
    confirm.disabled = true;
    setText(error, '');
    deps.submit(action, alert, note.value.trim()).then(
      () => element.close(),
      (err: Error) => setText(error, i18n.t('dialog.error', { message: err.message })),
    ).finally(() => { confirm.disabled = false; });
  });

  return {
    element,
    open(action, alert) {
      current = { action, alert };
      setText(heading, i18n.t(action === 'ack' ? 'dialog.ackTitle' : 'dialog.resolveTitle'));
      setText(confirm, i18n.t(action === 'ack' ? 'dialog.confirmAck' : 'dialog.confirmResolve'));
      setText(summary, `${i18n.t(`severity.${alert.severity}` as MessageKey)} · ${alert.title[i18n.lang]} · ${alert.message[i18n.lang]}`);
      setText(error, '');
      note.value = '';
      element.showModal();
      note.focus();
    },
  };
}
