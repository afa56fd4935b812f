import { z } from 'zod';
import { parseJson } from '../parse-payload.ts';
import { isRejection } from '../parse-topic.ts';
import { reject, type Rejection } from '../rejection.ts';

/**
 * ONVIF-style alarm pushes as NVRs and cameras POST them (docs/cameras.md), in two shapes:
 * - JSON: `{"source": "<camera or video source token>", "topic": "tns1:RuleEngine/CellMotionDetector/Motion",
 *   "state": true, "time": "2026-12-06T03:30:00Z"}` (an array of them too);
 * - XML: one or more WS-BaseNotification `NotificationMessage`s as the ONVIF event service writes them
 *   (Topic text; Message UtcTime; Source SimpleItems; the first Data SimpleItem's Value is the state).
 * The XML is read by one linear tokenizer, not a parser: no DTD, entity or namespace is processed, so
 * nothing in the body can make the platform fetch or expand anything, nor cost more than one pass.
 */
export interface OnvifNotification {
  readonly topic: string;
  /** every Source item value, in order (the camera is the first one the source config maps) */
  readonly sources: readonly string[];
  readonly state: boolean;
  /** epoch ms, when the notification says */
  readonly time?: number;
}

const MAX_NOTIFICATIONS = 100;
const jsonNotification = z
  .object({
    source: z.string().min(1).max(200),
    topic: z.string().min(1).max(200),
    state: z.union([z.boolean(), z.enum(['true', 'false', 'active', 'inactive'])]),
    time: z.string().max(40).optional(),
  })
  .strict();

const truthy = (v: string | boolean): boolean => v === true || v === 'true' || v === 'active' || v === '1';

function fromJson(body: Buffer): OnvifNotification[] | Rejection {
  const json = parseJson(body);
  if (isRejection(json)) return json;
  const list = Array.isArray(json) ? json : [json];
  if (list.length > MAX_NOTIFICATIONS)
    return reject('too_many_readings', `at most ${MAX_NOTIFICATIONS} notifications in one push`);
  const out: OnvifNotification[] = [];
  for (const [index, item] of list.entries()) {
    const parsed = jsonNotification.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return reject('malformed_payload', `notification ${index}: ${issue.path.join('.') || 'body'}: ${issue.message}`, {
        index,
      });
    }
    const time = parsed.data.time === undefined ? undefined : Date.parse(parsed.data.time);
    out.push({
      topic: parsed.data.topic,
      sources: [parsed.data.source],
      state: truthy(parsed.data.state),
      ...(time !== undefined && !Number.isNaN(time) ? { time } : {}),
    });
  }
  return out;
}

const decode = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
const attr = (attrs: string, name: string): string | undefined => {
  const m = new RegExp(`(?:^|\\s)${name}\\s*=\\s*("([^"<>]*)"|'([^'<>]*)')`).exec(attrs);
  return m ? decode(m[2] ?? m[3] ?? '') : undefined;
};

// one token per match, each bounded by the next "<": a single linear pass whatever the body holds
// The attributes must start with a space or "/", so the name and the attributes never compete for the
// same characters: a tag that never closes costs one scan, not one per character (no backtracking blow-up).
const TOKEN = /<(\/?)([\w.:-]+)((?:[\s/][^<>]*)?)>|<[!?][^<>]*>|([^<]+)|</gy;

function fromXml(text: string): OnvifNotification[] | Rejection {
  const out: OnvifNotification[] = [];
  const stack: string[] = [];
  let current: { topic: string; sources: string[]; data?: string; time?: number } | undefined;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    const [, closing, qualified, attrs = '', chars] = m;
    const name = qualified?.slice(qualified.lastIndexOf(':') + 1);
    const selfClosing = attrs.endsWith('/');
    if (chars !== undefined) {
      if (current && stack.at(-1) === 'Topic') current.topic += chars;
      continue;
    }
    if (name === undefined) continue; // a comment, processing instruction or DOCTYPE: skipped, never processed
    if (closing) {
      if (name === 'NotificationMessage' && current) {
        const topic = decode(current.topic.trim());
        if (!topic || current.data === undefined)
          return reject('malformed_payload', `notification ${out.length}: needs a Topic and a Data SimpleItem`, {
            index: out.length,
          });
        out.push({
          topic,
          sources: current.sources,
          state: truthy(current.data.toLowerCase()),
          ...(current.time === undefined ? {} : { time: current.time }),
        });
        if (out.length > MAX_NOTIFICATIONS)
          return reject('too_many_readings', `at most ${MAX_NOTIFICATIONS} notifications in one push`);
        current = undefined;
      }
      if (stack.at(-1) === name) stack.pop();
      continue;
    }
    if (name === 'NotificationMessage') current = { topic: '', sources: [] };
    else if (current && name === 'Message') {
      const time = Date.parse(attr(attrs, 'UtcTime') ?? '');
      if (!Number.isNaN(time)) current.time = time;
    } else if (current && name === 'SimpleItem') {
      const value = attr(attrs, 'Value');
      if (value !== undefined && stack.includes('Source')) current.sources.push(value);
      else if (value !== undefined && stack.includes('Data') && current.data === undefined) current.data = value;
    }
    if (!selfClosing && stack.length < 64) stack.push(name);
  }
  if (out.length === 0) return reject('malformed_payload', 'no complete NotificationMessage in the XML body');
  return out;
}

export function parseOnvifNotifications(body: Buffer): OnvifNotification[] | Rejection {
  const text = body.toString('utf8').trimStart();
  return text.startsWith('<') ? fromXml(text) : fromJson(body);
}
