// The web process's pg-boss instance: it only sends jobs (maintenance runs in the workers).
import type PgBoss from "pg-boss";
import { requireDatabaseUrl } from "./env";
import { startQueue } from "./queue";

const holder = globalThis as unknown as { __portalSender?: Promise<PgBoss> };

export function sender(): Promise<PgBoss> {
  holder.__portalSender ??= startQueue(requireDatabaseUrl(), { role: "sender" }).catch((e) => {
    holder.__portalSender = undefined;
    throw e;
  });
  return holder.__portalSender;
}
