/**
 * A small RFC 4180 reader (quoted fields, "" inside quotes, CRLF or LF, a UTF-8 BOM) for sensor imports.
 * Each record keeps the line it started on, so problems are reported where a spreadsheet shows them.
 */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

export type CsvTable = { records: CsvRecord[]; error?: string };

export function parseCsv(text: string): CsvTable {
  const steps = parseCsvSteps(text);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/** The reader, pausing (yield) every `every` records so a caller can give the event loop back. */
export function* parseCsvSteps(text: string, every = 500): Generator<void, CsvTable> {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let touched = false;
  /** a record with a quoted field is data even when empty (""); an empty line is not */
  let hadQuote = false;
  let pending = false;
  const endField = () => {
    fields.push(field);
    field = '';
    touched = false;
  };
  const endRecord = () => {
    endField();
    if (hadQuote || !(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
    pending = records.length % every === 0;
    fields = [];
    hadQuote = false;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !touched && field === '') {
      quoted = true;
      touched = true;
      hadQuote = true;
    } else if (c === ',') endField();
    else if (c === '\r' && src[i + 1] === '\n') continue;
    else if (c === '\n') {
      endRecord();
      line++;
      start = line;
      if (pending) {
        pending = false;
        yield;
      }
    } else {
      field += c;
      touched = true;
    }
  }
  if (quoted) return { records, error: `line ${start}: a quoted field is never closed` };
  if (field !== '' || fields.length || hadQuote) endRecord();
  return { records };
}
