/**
 * What every topic and filter must look like before anything else reads it, for every account: valid
 * UTF-8, no NUL or control characters, bounded length and depth. mqtt-packet decodes topics with
 * Buffer#toString('utf8'), which turns invalid bytes into U+FFFD, so that character is how invalid UTF-8
 * shows here (no device contract topic contains it).
 */
export interface TopicBounds {
  readonly topicMaxBytes: number;
  readonly topicMaxLevels: number;
}

// C0 controls (NUL included), DEL and C1 controls
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function topicProblem(topic: string, bounds: TopicBounds): string | undefined {
  if (topic.length === 0) return 'empty topic';
  if (topic.includes('\ufffd')) return 'topic is not valid UTF-8';
  if (CONTROL.test(topic)) return 'topic contains NUL or a control character';
  const bytes = Buffer.byteLength(topic, 'utf8');
  if (bytes > bounds.topicMaxBytes) return `topic of ${bytes} bytes is longer than ${bounds.topicMaxBytes}`;
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  if (levels > bounds.topicMaxLevels) return `topic has ${levels} levels, more than ${bounds.topicMaxLevels}`;
  return undefined;
}

/** A printable, bounded form of a topic for logs and error messages (never the raw bytes). */
export function printableTopic(topic: string, max = 120): string {
  const clean = topic.replace(
    new RegExp(CONTROL.source, 'g'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
