import { createInterface } from 'node:readline';

/**
 * The heavy clients of bench/history-bench.ts, in their own process as real HTTP clients are: `clients`
 * loops, each requesting the next path in turn until a line "stop" arrives on stdin. Prints "ready" after
 * the first answers, "count <done>" for a line "count", then one JSON line { done, failed } at the end.
 */
interface Input {
  baseUrl: string;
  token: string;
  paths: string[];
  clients: number;
}
const input = JSON.parse(process.argv[2] ?? '{}') as Input;
let running = true;
let done = 0;
let failed = 0;
let announced = false;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') running = false;
  if (line.trim() === 'count') process.stdout.write(`count ${done}\n`);
});

async function client(n: number): Promise<void> {
  for (let i = n; running; i += input.clients) {
    const res = await fetch(`${input.baseUrl}${input.paths[i % input.paths.length]}`, {
      headers: { authorization: `Bearer ${input.token}` },
    });
    await res.arrayBuffer();
    if (res.ok) done++;
    else failed++;
    if (!announced && done >= input.clients) {
      announced = true;
      process.stdout.write('ready\n');
    }
  }
}
await Promise.all(Array.from({ length: input.clients }, (_, n) => client(n)));
process.stdout.write(`${JSON.stringify({ done, failed })}\n`);
process.exit(0);
