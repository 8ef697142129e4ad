// The cache tier as a managed ElastiCache (Redis OSS) replication group instead of Redis tasks on Fargate:
//
//   frontend tasks ──TLS 6379 + AUTH token──▶ primary endpoint (writes)
//                  ──TLS 6379 + AUTH token──▶ reader endpoint  (tallies; = primary without replicas)
//
// `redisReplicas` keeps its meaning: the nodes in total (1 primary + N-1 replicas). With replicas the group
// fails over automatically to a replica in another AZ (Multi-AZ). Data is encrypted in transit (TLS) and at
// rest; the AUTH token is the environment's Redis password (random, a Pulumi secret, kept in Secrets Manager and
// handed to the frontend as an ECS secret). The nodes sit in the private subnets, and their security group admits
// 6379 from the frontend's group only.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { awsNames, REDIS_PORT } from "./args";
import type { TierContext } from "./fargate";

/** What a tier outside ECS needs of the component's context. */
type TierBase = Pick<TierContext, "args" | "tags" | "parent" | "privateSubnetIds">;

import { groupRule } from "./sg-rule";
import { named } from "./tags";

/** Redis OSS 7.1, the newest major ElastiCache runs for Redis OSS; its default parameter group. */
export const ELASTICACHE_ENGINE_VERSION = "7.1";
export const ELASTICACHE_PARAMETER_GROUP = "default.redis7";

export interface ElastiCacheTier {
  replicationGroup: aws.elasticache.ReplicationGroup;
  securityGroup: aws.ec2.SecurityGroup;
  /** Writes go here (follows a failover). */
  primaryHost: pulumi.Output<string>;
  /** Spreads reads over the replicas (the primary when there are none). */
  readerHost: pulumi.Output<string>;
}

export interface ElastiCacheWiring {
  vpcId: pulumi.Input<string>;
  frontendSecurityGroupId: pulumi.Input<string>;
  /** The AUTH token (16–128 characters; the environment's random Redis password qualifies). */
  authToken: pulumi.Input<string>;
}

export function createElastiCacheTier(ctx: TierBase, w: ElastiCacheWiring): ElastiCacheTier {
  const { args, tags, parent } = ctx;
  const env = args.name;
  const name = awsNames(env).cache;
  const nodes = args.redisReplicas;
  const replicated = nodes > 1;

  const securityGroup = new aws.ec2.SecurityGroup(
    name,
    {
      vpcId: w.vpcId,
      description: "ElastiCache nodes: Redis (TLS) from the frontend tasks only",
      revokeRulesOnDelete: true,
      tags: named(tags, name),
    },
    { parent },
  );
  const cacheGroup = { key: "cache", groupId: securityGroup.id };
  const frontendGroup = { key: "frontend", groupId: w.frontendSecurityGroupId };
  groupRule(
    env,
    "in",
    cacheGroup,
    REDIS_PORT,
    frontendGroup,
    "Redis from the frontend tasks only",
    tags,
    parent,
  );
  groupRule(env, "out", frontendGroup, REDIS_PORT, cacheGroup, "To the ElastiCache endpoints", tags, parent);

  const subnetGroup = new aws.elasticache.SubnetGroup(
    name,
    {
      name,
      description: `Private subnets of voting environment ${env}`,
      subnetIds: ctx.privateSubnetIds,
      tags: named(tags, name),
    },
    { parent },
  );

  const replicationGroup = new aws.elasticache.ReplicationGroup(
    name,
    {
      replicationGroupId: name,
      description: `Vote tally of voting environment ${env}`,
      engine: "redis",
      engineVersion: ELASTICACHE_ENGINE_VERSION,
      parameterGroupName: ELASTICACHE_PARAMETER_GROUP,
      nodeType: args.cache.nodeType,
      numCacheClusters: nodes,
      port: REDIS_PORT,
      // A replica takes over when the primary fails, in another AZ; both need at least one replica.
      automaticFailoverEnabled: replicated,
      multiAzEnabled: replicated,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      authToken: w.authToken,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [securityGroup.id],
      // A day of snapshots: a cache that loses its nodes comes back with at most a day's drift, and with a
      // database tier the app rebuilds the exact tally from PostgreSQL anyway.
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
      // Scaling (node count) and node type changes apply now, not in the next maintenance window.
      applyImmediately: true,
      tags: named(tags, name),
    },
    { parent },
  );

  return {
    replicationGroup,
    securityGroup,
    primaryHost: replicationGroup.primaryEndpointAddress,
    readerHost: replicationGroup.readerEndpointAddress,
  };
}
