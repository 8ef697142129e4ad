// Run before the local target's Redis writer starts: `node redis-seed.js <envDir> <name>` (from its start
// script). Redis keeps data in memory only here, so a writer restarted by the supervisor would come back
// empty, and its replicas would then resynchronise to that empty dataset: every vote gone. Instead the
// writer starts from a snapshot of its freshest replica: this asks the replicas (found through the
// environment's remembered ports) for their replication offset, has the furthest one write an RDB file
// (SAVE works on a replica whose writer is gone; a SYNC would not), and copies it into the writer's folder,
// from which redis-server loads it. Writes the writer acknowledged but had not yet replicated are lost, as
// with any failover of asynchronous replication.
//
// Nothing to do on a first start (no replicas yet) or when the writer keeps its own data (an append-only
// file in its folder). Never fails the start: at worst the writer starts empty, as before.
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";

type Reply = string | number | null | Error;

/** Sends RESP commands in order over one connection and returns their replies (a tiny Redis client). */
export function redisCommands(port: number, commands: string[][], timeoutMs = 3000): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const replies: Reply[] = [];
    let buffer = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timeout")));
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("connection closed before every reply")));
    socket.on("connect", () => {
      socket.write(
        commands
          .map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`)
          .join(""),
      );
    });
    socket.on("data", (d: Buffer) => {
      buffer = Buffer.concat([buffer, d]);
      for (;;) {
        const nl = buffer.indexOf("\r\n");
        if (nl < 0) return;
        const type = String.fromCharCode(buffer[0] ?? 0);
        const line = buffer.subarray(1, nl).toString("utf8");
        if (type === "$" && Number(line) >= 0) {
          const len = Number(line);
          if (buffer.length < nl + 2 + len + 2) return;
          replies.push(buffer.subarray(nl + 2, nl + 2 + len).toString("utf8"));
          buffer = buffer.subarray(nl + 2 + len + 2);
        } else {
          replies.push(
            type === "$" ? null : type === "-" ? new Error(line) : type === ":" ? Number(line) : line,
          );
          buffer = buffer.subarray(nl + 2);
        }
        if (replies.length === commands.length) {
          socket.end();
          resolve(replies);
          return;
        }
      }
    });
  });
}

/** `key value` lines of a redis.conf. */
function readConf(file: string): Map<string, string> {
  const conf = new Map<string, string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = line.match(/^(\S+)\s+(.*)$/);
    if (m?.[1] && m[2] !== undefined) conf.set(m[1], m[2]);
  }
  return conf;
}

function field(info: string, key: string): string | undefined {
  return info.match(new RegExp(`^${key}:(.*)$`, "m"))?.[1]?.trim();
}

export async function seedWriter(envDir: string, name: string, log: (line: string) => void): Promise<void> {
  const own = readConf(path.join(envDir, "conf", `${name}.conf`));
  const dir = own.get("dir");
  const port = Number(own.get("port"));
  const password = own.get("requirepass");
  if (!dir || !port) return;
  const target = path.join(dir, "dump.rdb");
  if (own.get("appendonly") === "yes" || existsSync(path.join(dir, "appendonlydir"))) return;
  // An old snapshot must never come back: without a fresh one the writer starts empty.
  rmSync(target, { force: true });

  let ports: Record<string, number> = {};
  try {
    ports = JSON.parse(readFileSync(path.join(envDir, "ports.json"), "utf8"));
  } catch {
    return;
  }
  const auth = password ? [["AUTH", password]] : [];
  let best: { name: string; offset: number; port: number } | undefined;
  for (const [other, otherPort] of Object.entries(ports)) {
    if (other === name || !/^redis-\d+$/.test(other)) continue;
    try {
      const replies = await redisCommands(otherPort, [...auth, ["INFO", "replication"]]);
      const info = replies.at(-1);
      if (typeof info !== "string") continue;
      // Only our own replicas: a leftover Redis on a remembered port must not seed the writer.
      if (field(info, "role") !== "slave" || Number(field(info, "master_port")) !== port) continue;
      const offset = Number(field(info, "slave_repl_offset") ?? -1);
      if (!best || offset > best.offset) best = { name: other, offset, port: otherPort };
    } catch {
      // not running: skip it
    }
  }
  if (!best || best.offset <= 0) return;
  const replicaConf = path.join(envDir, "conf", `${best.name}.conf`);
  const replicaDir = existsSync(replicaConf) ? readConf(replicaConf).get("dir") : undefined;
  if (!replicaDir) return;
  const replies = await redisCommands(best.port, [...auth, ["SAVE"]], 30_000);
  if (replies.at(-1) instanceof Error) throw replies.at(-1);
  const tmp = `${target}.seed`;
  copyFileSync(path.join(replicaDir, "dump.rdb"), tmp);
  renameSync(tmp, target);
  rmSync(path.join(replicaDir, "dump.rdb"), { force: true });
  log(
    `seeded from ${best.name}'s snapshot (replication offset ${best.offset}) so the replicas keep their data`,
  );
}

if (require.main === module) {
  const [envDir, name] = process.argv.slice(2);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} redis-seed: ${line}\n`);
  if (!envDir || !name) {
    log("usage: redis-seed <envDir> <name>");
    process.exit(0);
  }
  seedWriter(envDir, name, log)
    .catch((err) => log(`could not seed (the writer starts empty): ${String(err)}`))
    .finally(() => process.exit(0));
}
