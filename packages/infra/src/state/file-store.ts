import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type { StackLock, StateStore } from "./types";
import { stackNames, summarizeCheckpoint } from "./types";

/** The CLI's DIY file backend: `<dir>/.pulumi/stacks/<project>/<stack>.json`, locks under `.pulumi/locks/`. */
export function fileStore(backendUrl: string): StateStore {
  const root = path.join(fileURLToPath(backendUrl.replace(/^file:\/\/(?!\/)/, "file:///")), ".pulumi");
  return {
    async ping() {},
    async listLocks(project, stack) {
      const locksRoot = path.join(root, "locks");
      if (!existsSync(locksRoot)) return [];
      const locks: StackLock[] = [];
      for (const org of readdirSync(locksRoot)) {
        const dir = path.join(locksRoot, org, project, stack);
        if (!existsSync(dir)) continue;
        for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
          const key = path.join(dir, file);
          const lock = JSON.parse(readFileSync(key, "utf8"));
          locks.push({
            key,
            pid: lock.pid,
            username: lock.username,
            hostname: lock.hostname,
            timestamp: lock.timestamp,
          });
        }
      }
      return locks;
    },
    async deleteLock(key) {
      rmSync(key, { force: true });
    },
    async readCheckpoint(project, stack) {
      const base = path.join(root, "stacks", project, `${stack}.json`);
      if (existsSync(base)) return summarizeCheckpoint(readFileSync(base, "utf8"));
      if (existsSync(`${base}.gz`))
        return summarizeCheckpoint(gunzipSync(readFileSync(`${base}.gz`)).toString("utf8"));
      return undefined;
    },
    async listStacks(project) {
      const dir = path.join(root, "stacks", project);
      return existsSync(dir) ? stackNames(readdirSync(dir)) : [];
    },
    async close() {},
  };
}
