// Redis: one writer task behind the internal NLB's writer listener (TCP 6379) and, when redisReplicas > 1,
// a second service of read replicas behind the reader listener (TCP 6380). Redis speaks plain TCP, which an
// Application Load Balancer cannot carry; a Network Load Balancer can.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { awsNames, REDIS_PORT, REDIS_READER_PORT } from "./args";
import {
  awslogs,
  type ContainerDefinition,
  createLogGroup,
  createService,
  createTaskDefinition,
  redisPasswordSecret,
  type TierContext,
} from "./fargate";
import { createListener, createLoadBalancer, forwardTo } from "./load-balancers";
import { named } from "./tags";

export interface RedisTier {
  loadBalancer: aws.lb.LoadBalancer;
  writerHost: pulumi.Output<string>;
  writerService: aws.ecs.Service;
  writerLogGroup: aws.cloudwatch.LogGroup;
  replicas?: { service: aws.ecs.Service; logGroup: aws.cloudwatch.LogGroup };
}

export const TCP_KEEPALIVE_SECONDS = 60;

/**
 * The shell line a Redis container runs. The password comes from the ECS secret in $REDIS_PASSWORD and is expanded
 * by the shell at start, so it is never written into the task definition.
 */
export function redisServerCommand(memoryMiB: number, replicaOf?: string): string {
  const maxmemory = Math.floor(memoryMiB * 0.75);
  const parts = [
    "exec redis-server",
    `--port ${REDIS_PORT}`,
    '--requirepass "$REDIS_PASSWORD"',
    // Fargate task storage is ephemeral: no snapshots or AOF, a restarted writer starts empty (votes are demo data).
    "--save ''",
    "--appendonly no",
    // Leave headroom below the task's memory so the kernel never kills Redis; refuse writes rather than evict votes.
    `--maxmemory ${maxmemory}mb`,
    "--maxmemory-policy noeviction",
    // Clients reach Redis through the NLB, which silently drops TCP flows idle for 350 s; keepalive probes
    // (which reset that timer) every 60 s keep idle connections alive (Redis's default, 300 s, is close to it).
    `--tcp-keepalive ${TCP_KEEPALIVE_SECONDS}`,
  ];
  if (replicaOf) {
    parts.push(
      `--replicaof ${replicaOf} ${REDIS_PORT}`,
      '--masterauth "$REDIS_PASSWORD"',
      "--replica-read-only yes",
    );
  }
  return parts.join(" ");
}

// redis-cli reads the password from REDISCLI_AUTH, so it does not show up in the process list either.
const REDIS_HEALTH_CHECK = {
  command: ["CMD-SHELL", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping | grep -q PONG'],
  interval: 10,
  timeout: 5,
  retries: 3,
  startPeriod: 10,
};

interface RedisEndpoint {
  targetGroup: aws.lb.TargetGroup;
  listener: aws.lb.Listener;
}

/**
 * One endpoint of the NLB: a TCP listener on `port` forwarding to its own ip target group, whose targets are
 * Redis tasks listening on 6379.
 */
function createRedisEndpoint(
  ctx: TierContext,
  loadBalancer: aws.lb.LoadBalancer,
  vpcId: pulumi.Input<string>,
  o: { key: string; port: number; targetGroupName: string },
): RedisEndpoint {
  const targetGroup = new aws.lb.TargetGroup(
    o.targetGroupName,
    {
      // Auto-named (see awsNames), so a replacement never collides with its predecessor's name.
      vpcId,
      targetType: "ip",
      protocol: "TCP",
      port: REDIS_PORT,
      // Off: tasks see the NLB (and its security group) as the source; see security-groups.ts.
      preserveClientIp: "false",
      // Redis is TCP: the health check opens a connection (an HTTP check would fail).
      healthCheck: {
        protocol: "TCP",
        port: "traffic-port",
        interval: 10,
        // Set explicitly: unset, a TCP check's timeout defaults to 10 s, equal to this interval, and ELB's
        // rule "the interval must be greater than the timeout" can refuse the target group.
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      deregistrationDelay: 10,
      // Close clients' connections to a deregistered task so they reconnect to the new writer at once.
      connectionTermination: true,
      tags: named(ctx.tags, `${ctx.args.name}-${o.key}`),
    },
    { parent: ctx.parent },
  );
  const listener = createListener(ctx, o.key, loadBalancer, {
    protocol: "TCP",
    port: o.port,
    defaultActions: forwardTo(targetGroup),
  });
  return { targetGroup, listener };
}

export function createRedisTier(
  ctx: TierContext,
  vpcId: pulumi.Input<string>,
  nlbSecurityGroupId: pulumi.Input<string>,
  redisSecurityGroupId: pulumi.Input<string>,
): RedisTier {
  const { args } = ctx;
  const names = awsNames(args.name);

  const loadBalancer = createLoadBalancer(ctx, {
    name: names.nlb,
    label: `${args.name}-redis`,
    type: "network",
    // Internal: reachable only inside the VPC; it must sit in the private subnets.
    internal: true,
    subnets: ctx.privateSubnetIds,
    securityGroupId: nlbSecurityGroupId,
    // One writer task lives in one AZ; cross-zone lets the NLB node in the other AZ reach it.
    extra: { enableCrossZoneLoadBalancing: true },
  });
  const writerHost = loadBalancer.dnsName;
  const writer = createRedisEndpoint(ctx, loadBalancer, vpcId, {
    key: "redis-writer",
    port: REDIS_PORT,
    targetGroupName: names.writerTargetGroup,
  });

  const redisContainer = (
    name: string,
    logGroup: aws.cloudwatch.LogGroup,
    command: pulumi.Input<string>,
  ): ContainerDefinition => ({
    name,
    image: args.redisImage,
    // `sh -c` skips the image entrypoint's switch from root to its redis user, so the task sets the user.
    user: "redis",
    essential: true,
    command: ["sh", "-c", command],
    portMappings: [{ containerPort: REDIS_PORT, protocol: "tcp" }],
    environment: [],
    secrets: [redisPasswordSecret(ctx)],
    healthCheck: REDIS_HEALTH_CHECK,
    logConfiguration: awslogs(ctx, logGroup, name),
    stopTimeout: 10,
  });

  const writerLogGroup = createLogGroup(ctx, "redis-writer-logs", names.logGroups.redisWriter);
  const writerTask = createTaskDefinition(
    ctx,
    "redis-writer",
    args.redis,
    redisContainer("redis", writerLogGroup, redisServerCommand(args.redis.memory)),
  );
  const writerService = createService(ctx, {
    key: "redis-writer",
    taskDefinition: writerTask,
    desiredCount: 1,
    securityGroupId: redisSecurityGroupId,
    loadBalancer: {
      targetGroupArn: writer.targetGroup.arn,
      containerName: "redis",
      containerPort: REDIS_PORT,
    },
    dependsOn: [writer.listener],
    // Never two writers at once: a deployment stops the old writer before it starts the new one.
    deploymentMinimumHealthyPercent: 0,
    deploymentMaximumPercent: 100,
  });

  let replicas: RedisTier["replicas"];
  const readers = args.redisReplicas - 1;
  if (readers > 0) {
    const reader = createRedisEndpoint(ctx, loadBalancer, vpcId, {
      key: "redis-reader",
      port: REDIS_READER_PORT,
      targetGroupName: names.readerTargetGroup,
    });
    const logGroup = createLogGroup(ctx, "redis-replicas-logs", names.logGroups.redisReplicas);
    // The command embeds the writer endpoint (the NLB's DNS name), known only once the NLB exists.
    const replicaCommand = writerHost.apply((host) => redisServerCommand(args.redis.memory, host));
    const taskDefinition = createTaskDefinition(
      ctx,
      "redis-replicas",
      args.redis,
      redisContainer("redis", logGroup, replicaCommand),
    );
    const service = createService(ctx, {
      key: "redis-replicas",
      taskDefinition,
      desiredCount: readers,
      securityGroupId: redisSecurityGroupId,
      loadBalancer: {
        targetGroupArn: reader.targetGroup.arn,
        containerName: "redis",
        containerPort: REDIS_PORT,
      },
      // Replicas start after the writer's endpoint is in place.
      dependsOn: [reader.listener, writer.listener],
      deploymentMinimumHealthyPercent: 50,
      deploymentMaximumPercent: 200,
      autoscaling: args.redis.autoscaling,
    });
    replicas = { service, logGroup };
  }

  return { loadBalancer, writerHost, writerService, writerLogGroup, replicas };
}
