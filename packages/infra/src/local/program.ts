import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentSpec } from "../operations/types";
import { LOCAL_NETWORK } from "../spec";
import { databaseUrl } from "./postgres-server";
import { LOOPBACK } from "./process-control";
import { LocalProcess } from "./resources";

/** Machine facts the local program needs besides the spec. */
export interface LocalProgramContext {
  dataDir: string;
  redisServerPath: string;
  votingAppMain: string;
  haproxyPath: string;
  supervisordPath: string;
  /** Redis password, derived per environment from the stack passphrase (so it is stable across runs). */
  redisPassword: string;
  /** With a database: the PostgreSQL binaries' folder and the database user's password (derived the same way). */
  postgres?: { binDir: string; password: string };
}

/** How many resources the program registers (stack, component, provider, supervisor, services): for progress. */
export function localResourceCount(
  spec: Pick<EnvironmentSpec, "frontendReplicas" | "redisReplicas" | "database">,
): number {
  return 3 + 1 + spec.redisReplicas + 2 + spec.frontendReplicas + 1 + (spec.database ? 1 : 0);
}

/** The liveness path the public load balancer checks: the app's `/healthz`, which does not depend on Redis. */
export const FRONTEND_HEALTH_PATH = "/healthz";

/**
 * The local target: the same environment as on AWS, as processes on this machine, all run by one
 * supervisord that restarts whatever exits (as ECS replaces a stopped task):
 *   supervisor (supervisord + its event listener)
 *   redis-0 (primary) + redis-1..N-1 (`replicaof` redis-0)
 *   redis-writer (HAProxy TCP → primary), redis-reader (HAProxy TCP → replicas, or the primary when none)
 *   frontend-0..M-1 (voting app; knows Redis only through the two balancer endpoints)
 *   web (HAProxy HTTP → live frontends): its URL is the environment's frontend URL.
 *   postgres (with a database): one PostgreSQL server, data in <envDir>/postgres; frontends get DATABASE_URL.
 * Cache kind `elasticache` (the local stand-in for a managed cache): the same redis-servers with AOF
 * persistence, so a restarted primary keeps its data (and its start skips the seed from a replica).
 * Resources are named by index, so scaling creates or deletes only the replicas that change; the balancers
 * take new backends in place (a reload), so their ports (the environment's endpoints) stay.
 */
export function localEnvironmentProgram(spec: EnvironmentSpec, ctx: LocalProgramContext) {
  return async () => {
    const envDir = path.join(path.resolve(ctx.dataDir), spec.name);
    const env = new pulumi.ComponentResource("platform:local:VotingEnvironment", spec.name, {});
    const parent = { parent: env };
    const password = pulumi.secret(ctx.redisPassword);
    const script = (file: string) => require.resolve(`./${file}`);
    // Only set for ElastiCache, so the processes of an environment created before this option stay as they are.
    const persistence = spec.cache?.kind === "elasticache" ? ("aof" as const) : undefined;

    const supervisor = new LocalProcess(
      "supervisor",
      {
        kind: "supervisor",
        envDir,
        supervisord: ctx.supervisordPath,
        node: process.execPath,
        eventsListener: script("supervisor-events"),
      },
      parent,
    );
    const service = { envDir, supervisor: supervisor.control };

    const primary = new LocalProcess(
      "redis-0",
      {
        ...service,
        kind: "redis",
        redisServer: ctx.redisServerPath,
        password,
        persistence,
        seedScript: script("redis-seed"),
      },
      parent,
    );
    const replicas: LocalProcess[] = [];
    for (let i = 1; i < spec.redisReplicas; i++) {
      replicas.push(
        new LocalProcess(
          `redis-${i}`,
          {
            ...service,
            kind: "redis",
            redisServer: ctx.redisServerPath,
            password,
            persistence,
            replicaOf: { host: LOOPBACK, port: primary.port },
          },
          parent,
        ),
      );
    }
    const backendOf = (p: LocalProcess, name: string) => ({ name, host: LOOPBACK, port: p.port });
    const writer = new LocalProcess(
      "redis-writer",
      {
        ...service,
        kind: "tcp-balancer",
        haproxy: ctx.haproxyPath,
        password,
        redisRole: "master",
        backends: [backendOf(primary, "redis-0")],
      },
      parent,
    );
    const readerBackends =
      replicas.length > 0
        ? replicas.map((r, i) => backendOf(r, `redis-${i + 1}`))
        : [backendOf(primary, "redis-0")];
    const reader = new LocalProcess(
      "redis-reader",
      { ...service, kind: "tcp-balancer", haproxy: ctx.haproxyPath, password, backends: readerBackends },
      parent,
    );

    let database: LocalProcess | undefined;
    let databaseEnv: pulumi.Output<string> | undefined;
    if (spec.database) {
      if (!ctx.postgres) throw new Error("a database needs the PostgreSQL binaries (ctx.postgres)");
      const dbPassword = pulumi.secret(ctx.postgres.password);
      database = new LocalProcess(
        "postgres",
        { ...service, kind: "postgres", postgresBin: ctx.postgres.binDir, password: dbPassword },
        parent,
      );
      databaseEnv = pulumi.secret(
        pulumi.all([database.port, dbPassword]).apply(([port, pw]) => databaseUrl(port, pw)),
      );
    }

    const frontends: LocalProcess[] = [];
    for (let i = 0; i < spec.frontendReplicas; i++) {
      const appEnv: Record<string, pulumi.Input<string>> = {
        REDIS_HOST: LOOPBACK,
        REDIS_PORT: writer.port.apply(String),
        REDIS_READ_HOST: LOOPBACK,
        REDIS_READ_PORT: reader.port.apply(String),
        REDIS_PASSWORD: password,
        REPLICA_NAME: `frontend-${i}`,
      };
      if (databaseEnv) appEnv.DATABASE_URL = databaseEnv;
      if (spec.local?.voteOptions) appEnv.VOTE_OPTIONS = spec.local.voteOptions;
      if (spec.local?.appTitle) appEnv.APP_TITLE = spec.local.appTitle;
      if (spec.app?.allowReset) appEnv.ALLOW_RESET = "true";
      frontends.push(
        new LocalProcess(
          `frontend-${i}`,
          { ...service, kind: "app", main: ctx.votingAppMain, env: appEnv },
          parent,
        ),
      );
    }
    const web = new LocalProcess(
      "web",
      {
        ...service,
        kind: "http-balancer",
        haproxy: ctx.haproxyPath,
        backends: frontends.map((f, i) => backendOf(f, `frontend-${i}`)),
        healthPath: FRONTEND_HEALTH_PATH,
      },
      parent,
    );

    return {
      frontendUrl: web.url,
      redisWriterEndpoint: writer.endpoint,
      redisReaderEndpoint: reader.endpoint,
      // Only with a database: an undefined output makes Pulumi warn in every operation's log.
      ...(database ? { databaseEndpoint: database.endpoint } : {}),
      frontendReplicas: spec.frontendReplicas,
      redisReplicas: spec.redisReplicas,
      // The shared part every local environment sits in (the AWS program outputs its network's name here).
      network: LOCAL_NETWORK.name,
      processes: pulumi
        .all([
          ...[primary, ...replicas, writer, reader, ...(database ? [database] : []), ...frontends, web].map(
            (p) => pulumi.all([p.urn, p.port]),
          ),
        ])
        .apply((list) => list.map(([urn, port]) => ({ name: urn.split("::").pop(), port }))),
    };
  };
}
