import * as pulumi from "@pulumi/pulumi";
import type { Backend } from "./haproxy";
import type { LocalProcessKind, SupervisorControl } from "./process-runtime";
import { localProcessProvider } from "./provider";

const TYPE_NAMES: Record<LocalProcessKind, string> = {
  supervisor: "Supervisor",
  redis: "RedisServer",
  app: "VotingApp",
  "tcp-balancer": "TcpLoadBalancer",
  "http-balancer": "HttpLoadBalancer",
  postgres: "PostgresServer",
};

type Inputs<T> = { [K in keyof T]?: pulumi.Input<T[K]> };

export interface LocalProcessArgs {
  kind: LocalProcessKind;
  envDir: string;
  supervisord?: pulumi.Input<string>;
  node?: pulumi.Input<string>;
  eventsListener?: pulumi.Input<string>;
  supervisor?: pulumi.Input<SupervisorControl | undefined>;
  redisServer?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  replicaOf?: pulumi.Input<{ host: pulumi.Input<string>; port: pulumi.Input<number> }>;
  persistence?: pulumi.Input<"none" | "aof">;
  postgresBin?: pulumi.Input<string>;
  seedScript?: pulumi.Input<string>;
  main?: pulumi.Input<string>;
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  haproxy?: pulumi.Input<string>;
  backends?: pulumi.Input<Inputs<Backend>[]>;
  healthPath?: pulumi.Input<string>;
  redisRole?: pulumi.Input<"master">;
}

/**
 * One part of a local environment, managed by the dynamic provider: the environment's supervisor
 * (supervisord), or a service it runs (Redis, PostgreSQL, a frontend or a load balancer) on a fixed port.
 */
export class LocalProcess extends pulumi.dynamic.Resource {
  declare readonly port: pulumi.Output<number>;
  declare readonly host: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;
  declare readonly url: pulumi.Output<string | undefined>;
  declare readonly logFile: pulumi.Output<string>;
  /** The supervisor only: what its services need to reach it. */
  declare readonly control: pulumi.Output<SupervisorControl | undefined>;

  constructor(name: string, args: LocalProcessArgs, opts?: pulumi.CustomResourceOptions) {
    const provider = localProcessProvider(require.resolve("./process-runtime"));
    super(
      provider,
      name,
      {
        ...args,
        name,
        port: undefined,
        host: undefined,
        endpoint: undefined,
        url: undefined,
        logFile: undefined,
        control: undefined,
      },
      // The password reaches outputs through `password` and the app's environment: keep both encrypted.
      { ...opts, additionalSecretOutputs: ["password", "env"] },
      "local",
      TYPE_NAMES[args.kind],
    );
  }
}
