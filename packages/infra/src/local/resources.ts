import * as pulumi from "@pulumi/pulumi";
import type { Backend } from "./balancer-core";
import type { LocalProcessKind } from "./process-runtime";
import { localProcessProvider } from "./provider";

const TYPE_NAMES: Record<LocalProcessKind, string> = {
  redis: "RedisServer",
  app: "VotingApp",
  "tcp-balancer": "TcpLoadBalancer",
  "http-balancer": "HttpLoadBalancer",
  postgres: "PostgresServer",
};

export interface LocalProcessArgs {
  kind: LocalProcessKind;
  envDir: string;
  redisServer?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  replicaOf?: pulumi.Input<{ host: pulumi.Input<string>; port: pulumi.Input<number> }>;
  persistence?: pulumi.Input<"none" | "aof">;
  postgresBin?: pulumi.Input<string>;
  main?: pulumi.Input<string>;
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  script?: pulumi.Input<string>;
  backends?: pulumi.Input<{ [K in keyof Backend]: pulumi.Input<Backend[K]> }[]>;
  healthPath?: pulumi.Input<string>;
}

/** One long-lived local process (Redis, PostgreSQL, a frontend or a load balancer), managed by the dynamic provider. */
export class LocalProcess extends pulumi.dynamic.Resource {
  declare readonly pid: pulumi.Output<number>;
  declare readonly port: pulumi.Output<number>;
  declare readonly host: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;
  declare readonly url: pulumi.Output<string | undefined>;
  declare readonly logFile: pulumi.Output<string>;

  constructor(name: string, args: LocalProcessArgs, opts?: pulumi.CustomResourceOptions) {
    const provider = localProcessProvider(require.resolve("./process-runtime"));
    super(
      provider,
      name,
      {
        ...args,
        name,
        pid: undefined,
        port: undefined,
        host: undefined,
        endpoint: undefined,
        url: undefined,
        logFile: undefined,
      },
      // The password reaches outputs through `password` and the app's environment: keep both encrypted.
      { ...opts, additionalSecretOutputs: ["password", "env"] },
      "local",
      TYPE_NAMES[args.kind],
    );
  }
}
