/**
 * One `ioc` subcommand. Commands write through `io` (not the console) and return the exit code, so they
 * run the same in a terminal and in tests.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CliCommand {
  /** the word after `ioc` */
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};
