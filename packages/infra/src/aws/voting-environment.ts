// One environment of the voting app on ECS Fargate, as a Pulumi component:
//
//   internet ──HTTP 80 / HTTPS 443──▶ ALB (public subnets)
//                                      │ app port
//                                      ▼
//                          frontend service (private subnets, N tasks)
//                                      │ 6379 writer / 6380 reader
//                                      ▼
//                          internal NLB (private subnets)
//                           │ 6379              │ 6379
//                           ▼                   ▼
//                  redis writer (1 task)   redis replicas (N-1 tasks, --replicaof the writer endpoint)
//
// All of it inside the region's shared network (VPC, subnets, NAT), which this component does not create.
// Options: the cache as an ElastiCache replication group instead (elasticache-tier.ts: no NLB, no Redis tasks),
// and a PostgreSQL database (database-tier.ts) that the frontend records every vote in.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  parseVotingEnvironmentArgs,
  REDIS_PORT,
  REDIS_READER_PORT,
  type VotingEnvironmentArgs,
} from "./args";
import { createDatabaseTier, databaseContainerSettings } from "./database-tier";
import { createElastiCacheTier } from "./elasticache-tier";
import type { TierContext } from "./fargate";
import { createFrontendTier, type FrontendWiring } from "./frontend-tier";
import { createFrontendImage } from "./image";
import { createRedisTier } from "./redis-tier";
import { createExecutionRole, createRedisPassword } from "./secrets";
import { createSecurityGroups } from "./security-groups";
import { environmentTags, named } from "./tags";

export const VOTING_ENVIRONMENT_TYPE = "platform:aws:VotingEnvironment";

export interface ServiceNames {
  frontend: string;
  /** Redis on Fargate only. */
  redisWriter?: string;
  redisReplicas?: string;
}

export interface LogGroupNames {
  frontend: string;
  /** Redis on Fargate only. */
  redisWriter?: string;
  redisReplicas?: string;
}

/** What an environment reports: the component's outputs as one object (the stack outputs of the AWS program). */
export interface VotingEnvironmentOutputs {
  frontendUrl: pulumi.Output<string>;
  redisWriterEndpoint: pulumi.Output<string>;
  redisReaderEndpoint: pulumi.Output<string | undefined>;
  clusterName: pulumi.Output<string>;
  serviceNames: pulumi.Output<ServiceNames>;
  imageUri: pulumi.Output<string>;
  logGroupNames: pulumi.Output<LogGroupNames>;
  vpcId: pulumi.Output<string>;
  /** `<RDS address>:5432`, or undefined without a database. */
  databaseEndpoint: pulumi.Output<string | undefined>;
}

export class VotingEnvironment extends pulumi.ComponentResource {
  /** http(s)://<domainName>, or http(s)://<ALB DNS name> without a domain name. */
  readonly frontendUrl: pulumi.Output<string>;
  /** <internal NLB DNS name>:6379 */
  readonly redisWriterEndpoint: pulumi.Output<string>;
  /** <internal NLB DNS name>:6380, or undefined without read replicas. */
  readonly redisReaderEndpoint: pulumi.Output<string | undefined>;
  readonly clusterName: pulumi.Output<string>;
  readonly serviceNames: pulumi.Output<ServiceNames>;
  readonly imageUri: pulumi.Output<string>;
  readonly logGroupNames: pulumi.Output<LogGroupNames>;
  readonly vpcId: pulumi.Output<string>;
  readonly databaseEndpoint: pulumi.Output<string | undefined>;

  /** Every output of the environment, e.g. to return from a program or to resolve in a test. */
  outputs(): VotingEnvironmentOutputs {
    return {
      frontendUrl: this.frontendUrl,
      redisWriterEndpoint: this.redisWriterEndpoint,
      redisReaderEndpoint: this.redisReaderEndpoint,
      clusterName: this.clusterName,
      serviceNames: this.serviceNames,
      imageUri: this.imageUri,
      logGroupNames: this.logGroupNames,
      vpcId: this.vpcId,
      databaseEndpoint: this.databaseEndpoint,
    };
  }

  /**
   * @param name Pulumi name of the component; the environment's AWS names derive from `args.name`.
   * @throws VotingEnvironmentArgsError on invalid args, before any resource is registered.
   */
  constructor(name: string, args: VotingEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    const settings = parseVotingEnvironmentArgs(args);
    super(VOTING_ENVIRONMENT_TYPE, name, {}, opts);

    const env = settings.name;
    const tags = environmentTags(env, settings.owner);

    // The shared network of the region (see network.ts): this environment creates no VPC of its own.
    const network = {
      vpcId: pulumi.output(settings.network.vpcId),
      privateSubnetIds: pulumi.output(settings.network.privateSubnetIds),
      publicSubnetIds: pulumi.output(settings.network.publicSubnetIds),
    };
    const sgs = createSecurityGroups(settings, network.vpcId, tags, this);
    const password = createRedisPassword(settings, tags, this);
    const base = { args: settings, tags, parent: this, privateSubnetIds: network.privateSubnetIds };
    const database = createDatabaseTier(base, {
      vpcId: network.vpcId,
      frontendSecurityGroupId: sgs.frontend.id,
    });
    const executionRole = createExecutionRole(
      env,
      database ? [password.secret.arn, database.secretArn] : password.secret.arn,
      tags,
      this,
      settings.roleBoundaryArn,
    );
    const cluster = new aws.ecs.Cluster(
      env,
      { settings: [{ name: "containerInsights", value: "enabled" }], tags: named(tags, env) },
      { parent: this },
    );
    const image = createFrontendImage(settings, tags, this);

    const ctx: TierContext = {
      ...base,
      region: aws.getRegionOutput({}, { parent: this }).region,
      cluster,
      executionRoleArn: executionRole.role.arn,
      passwordSecretArn: password.secret.arn,
      taskPrerequisites: [password.version, ...executionRole.grants],
    };
    const dbSettings = database ? databaseContainerSettings(database) : undefined;
    const frontendBase = {
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      albSecurityGroupId: sgs.alb.id,
      frontendSecurityGroupId: sgs.frontend.id,
      imageUri: image.imageUri,
      extraSecrets: dbSettings?.secrets,
    } satisfies Partial<FrontendWiring>;

    let frontend: ReturnType<typeof createFrontendTier>;
    if (settings.cache.kind === "elasticache") {
      const cache = createElastiCacheTier(base, {
        vpcId: network.vpcId,
        frontendSecurityGroupId: sgs.frontend.id,
        authToken: password.value,
      });
      const readers = settings.redisReplicas > 1;
      frontend = createFrontendTier(ctx, {
        ...frontendBase,
        redisHost: cache.primaryHost,
        hasRedisReaders: false,
        startAfter: [cache.replicationGroup, ...(database ? [database.instance] : [])],
        extraEnvironment: [
          { name: "REDIS_TLS", value: "true" },
          ...(readers
            ? [
                { name: "REDIS_READ_HOST", value: cache.readerHost },
                { name: "REDIS_READ_PORT", value: String(REDIS_PORT) },
              ]
            : []),
          ...(dbSettings?.environment ?? []),
        ],
      });
      this.redisWriterEndpoint = pulumi.interpolate`${cache.primaryHost}:${REDIS_PORT}`;
      this.redisReaderEndpoint = readers
        ? pulumi.interpolate`${cache.readerHost}:${REDIS_PORT}`
        : pulumi.output(undefined);
      this.serviceNames = pulumi.output({ frontend: frontend.service.name });
      this.logGroupNames = pulumi.output({ frontend: frontend.logGroup.name });
    } else {
      const redis = createRedisTier(
        ctx,
        network.vpcId,
        (sgs.nlb as aws.ec2.SecurityGroup).id,
        (sgs.redis as aws.ec2.SecurityGroup).id,
      );
      const hasReaders = redis.replicas !== undefined;
      frontend = createFrontendTier(ctx, {
        ...frontendBase,
        redisHost: redis.writerHost,
        hasRedisReaders: hasReaders,
        // The writer service waits for a healthy task, so the first frontend tasks find Redis ready.
        startAfter: [redis.writerService, ...(database ? [database.instance] : [])],
        extraEnvironment: dbSettings?.environment,
      });
      this.redisWriterEndpoint = pulumi.interpolate`${redis.writerHost}:${REDIS_PORT}`;
      this.redisReaderEndpoint = hasReaders
        ? pulumi.interpolate`${redis.writerHost}:${REDIS_READER_PORT}`
        : pulumi.output(undefined);
      this.serviceNames = pulumi.output({
        frontend: frontend.service.name,
        redisWriter: redis.writerService.name,
        redisReplicas: redis.replicas?.service.name,
      });
      this.logGroupNames = pulumi.output({
        frontend: frontend.logGroup.name,
        redisWriter: redis.writerLogGroup.name,
        redisReplicas: redis.replicas?.logGroup.name,
      });
    }

    const scheme = settings.certificateArn ? "https" : "http";
    this.frontendUrl = pulumi.interpolate`${scheme}://${settings.domainName ?? frontend.loadBalancer.dnsName}`;
    this.clusterName = cluster.name;
    this.imageUri = image.imageUri;
    this.vpcId = network.vpcId;
    this.databaseEndpoint = database
      ? pulumi.interpolate`${database.host}:${database.port}`
      : pulumi.output(undefined);

    this.registerOutputs(this.outputs());
  }
}
