/** The slice of a pino logger that delivery uses; Fastify's and pino's loggers both fit it. */
export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: DeliveryLogger = { info() {}, warn() {}, error() {} };
