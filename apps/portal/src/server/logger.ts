// Structured JSON logs (pino): one line per event on stdout, with the process's role and host, and — in the
// worker — the operation and environment each line is about. Operators ship these lines as they are.
import pino, { type Logger } from "pino";

export type { Logger };

export interface LoggerOptions {
  /** What this process is: "start" (the start command), "worker", "web". */
  role: string;
  level?: string;
  host?: string;
  /** Where lines go (tests); default stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      base: {
        service: "portal",
        role: options.role,
        pid: process.pid,
        ...(options.host ? { host: options.host } : {}),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Errors as { type, message, stack }, also under the `error` key.
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}

/** A logger that writes nothing (tests, benchmarks). */
export const silentLogger = (): Logger => pino({ level: "silent" });

const holder = globalThis as unknown as { __portalWebLogger?: Logger };

/** The web process's logger (server-side errors of pages, actions and API routes). */
export function webLogger(): Logger {
  holder.__portalWebLogger ??= createLogger({ role: "web" });
  return holder.__portalWebLogger;
}
