import { fileStore } from "./file-store";
import { postgresStore } from "./postgres-store";
import type { StateStore } from "./types";

export type { CheckpointSummary, StackLock, StateStore } from "./types";

export function openStateStore(backendUrl: string): StateStore {
  if (backendUrl.startsWith("postgres://")) return postgresStore(backendUrl);
  if (backendUrl.startsWith("file://")) return fileStore(backendUrl);
  throw new Error(`unsupported state backend: ${backendUrl.split(":")[0]}`);
}

/** The backend in words, without credentials: for messages. */
export function describeBackend(backendUrl: string): string {
  try {
    const url = new URL(backendUrl);
    if (url.protocol === "postgres:")
      return `PostgreSQL at ${url.hostname}:${url.port || 5432}, database ${decodeURIComponent(url.pathname.slice(1))}`;
    if (url.protocol === "file:") return `files in ${decodeURIComponent(url.pathname)}`;
  } catch {
    // not a URL: say nothing about it rather than echo it (it may hold a password)
  }
  return "the configured backend";
}
