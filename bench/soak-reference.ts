import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Aedes, type Client, type PublishPacket } from 'aedes';

/**
 * The soak's same-run baseline for acknowledgement latency (bench/soak-bench.ts), in its own process: the least a
 * durable broker does, bare Aedes (no authentication, no validation, no rules, no store) that appends each QoS 1
 * payload to a file on the same disk as the platform's commit log and acknowledges once that append is durable (one
 * write to a file opened O_DSYNC, as the platform's log writes), committed in groups as the platform's log is
 * (whatever arrives during a write goes in the next one).
 *
 * The load generator sends it a small steady stream beside the platform's. Its PUBACK p99 per sample is the
 * machine's weather at that moment (CPU taken by other work, the disk's sync latency, the load generator's own
 * pauses): the platform's p99 divided by it is what the platform adds, and stays level when only the machine
 * changed. The file is cut back to empty every 64 MB, so a long run does not fill the disk.
 *
 * argv[2]: the directory for its file. Prints `{"port":N}` once listening; stops on SIGTERM or when stdin closes.
 */
const CUT_BYTES = 64 * 2 ** 20;
const dir = mkdtempSync(join(process.argv[2] ?? '/tmp', 'ioc-soak-reference-'));
const file = await open(
  join(dir, 'log'),
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC,
  0o600,
);
let size = 0;
let group: Array<{ payload: Buffer; done: (err?: Error | null) => void }> = [];
let syncing = false;

async function commit(): Promise<void> {
  syncing = true;
  while (group.length > 0) {
    const batch = group;
    group = [];
    try {
      const bytes = Buffer.concat(batch.map((p) => p.payload));
      await file.write(bytes, 0, bytes.length, size);
      size += bytes.length;
      for (const p of batch) p.done(null);
    } catch (err) {
      for (const p of batch) p.done(err as Error);
    }
    if (size > CUT_BYTES) {
      await file.truncate(0);
      size = 0;
    }
  }
  syncing = false;
}

function authorizePublish(_client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
  group.push({ payload: packet.payload as Buffer, done });
  if (!syncing) void commit();
}

const aedes = await Aedes.createBroker({ authorizePublish });
const tcp = createServer(aedes.handle);
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
process.stdout.write(`${JSON.stringify({ port: (tcp.address() as { port: number }).port })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  tcp.close();
  aedes.close(() => {
    void file.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
