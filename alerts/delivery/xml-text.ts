// Characters XML 1.0 does not allow at all (C0 controls other than tab, LF, CR; lone surrogates; U+FFFE/F).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INVALID_XML = new RegExp(`${FORBIDDEN.source}|${LONE_SURROGATE.source}`, 'g');

/** Escapes text for element content and attribute values, dropping characters XML cannot carry. */
export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A child element: text content, nested children (rendered strings), or nothing (then it is left out). */
export type XmlContent = string | number | readonly string[] | undefined;

/** `<name>…</name>` indented by `depth` levels; undefined content leaves the element out. */
export function xmlElement(name: string, content: XmlContent, depth: number, attrs = ''): string {
  if (content === undefined) return '';
  const pad = '  '.repeat(depth);
  if (typeof content === 'string' || typeof content === 'number') {
    return `${pad}<${name}${attrs}>${escapeXml(String(content))}</${name}>\n`;
  }
  return `${pad}<${name}${attrs}>\n${content.join('')}${pad}</${name}>\n`;
}

/** `name="value"` pairs for an opening tag, escaped. */
export function xmlAttrs(attrs: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v!)}"`)
    .join('');
}
