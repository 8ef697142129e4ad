import { fileStore } from "./file-store";
import { postgresStore } from "./postgres-store";
import type { StateStore } from "./types";

export type { CheckpointSummary, StackLock, StateStore } from "./types";

export function openStateStore(backendUrl: string): StateStore {
  if (backendUrl.startsWith("postgres://")) return postgresStore(backendUrl);
  if (backendUrl.startsWith("file://")) return fileStore(backendUrl);
  throw new Error(`unsupported state backend: ${backendUrl.split(":")[0]}`);
}
