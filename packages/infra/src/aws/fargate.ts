// Building blocks shared by the frontend and Redis tiers: log group, Fargate task definition, ECS service and
// its optional CPU target-tracking autoscaling.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ValidVotingEnvironmentArgs } from "./args";
import { named, type Tags } from "./tags";

export interface TierContext {
  args: ValidVotingEnvironmentArgs;
  tags: Tags;
  parent: pulumi.Resource;
  region: pulumi.Output<string>;
  cluster: aws.ecs.Cluster;
  executionRoleArn: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string[]>;
  passwordSecretArn: pulumi.Output<string>;
  /** Resources tasks need before they can start: the secret's value and the execution role's policies. */
  taskPrerequisites: pulumi.Resource[];
}

export interface TaskSize {
  cpu: number;
  memory: number;
  autoscaling?: { min: number; max: number; targetCpu: number };
}

/** The ECS container definition fields we use (ECS's JSON shape). */
export interface ContainerDefinition {
  name: string;
  image: pulumi.Input<string>;
  essential: boolean;
  command?: pulumi.Input<string>[];
  /** Run as this user of the image instead of its default. */
  user?: string;
  portMappings: { containerPort: number; protocol: "tcp" }[];
  environment: { name: string; value: pulumi.Input<string> }[];
  secrets: { name: string; valueFrom: pulumi.Input<string> }[];
  healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  logConfiguration: { logDriver: "awslogs"; options: Record<string, pulumi.Input<string>> };
  stopTimeout?: number;
}

export function createLogGroup(ctx: TierContext, key: string, name: string): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    `${ctx.args.name}-${key}`,
    { name, retentionInDays: ctx.args.logRetentionDays, tags: named(ctx.tags, name) },
    { parent: ctx.parent },
  );
}

export function awslogs(ctx: TierContext, logGroup: aws.cloudwatch.LogGroup, prefix: string) {
  return {
    logDriver: "awslogs" as const,
    options: {
      "awslogs-group": logGroup.name,
      "awslogs-region": ctx.region,
      "awslogs-stream-prefix": prefix,
    },
  };
}

/** The ECS secret that puts the Redis password into a container's environment at start. */
export function redisPasswordSecret(ctx: TierContext) {
  return { name: "REDIS_PASSWORD", valueFrom: ctx.passwordSecretArn };
}

export function createTaskDefinition(
  ctx: TierContext,
  key: string,
  size: TaskSize,
  container: ContainerDefinition,
): aws.ecs.TaskDefinition {
  const family = `${ctx.args.name}-${key}`;
  return new aws.ecs.TaskDefinition(
    family,
    {
      family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(size.cpu),
      memory: String(size.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: ctx.executionRoleArn,
      containerDefinitions: pulumi.output([container]).apply((defs) => JSON.stringify(defs)),
      tags: named(ctx.tags, family),
    },
    { parent: ctx.parent },
  );
}

export interface ServiceOptions {
  key: string;
  taskDefinition: aws.ecs.TaskDefinition;
  desiredCount: number;
  securityGroupId: pulumi.Input<string>;
  loadBalancer: { targetGroupArn: pulumi.Input<string>; containerName: string; containerPort: number };
  /** Listeners must exist before ECS may register targets with their target group. */
  dependsOn: pulumi.Resource[];
  deploymentMinimumHealthyPercent: number;
  deploymentMaximumPercent: number;
  autoscaling?: TaskSize["autoscaling"];
}

export function createService(ctx: TierContext, o: ServiceOptions): aws.ecs.Service {
  const name = `${ctx.args.name}-${o.key}`;
  const service = new aws.ecs.Service(
    name,
    {
      cluster: ctx.cluster.arn,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      taskDefinition: o.taskDefinition.arn,
      desiredCount: o.desiredCount,
      networkConfiguration: {
        subnets: ctx.privateSubnetIds,
        securityGroups: [o.securityGroupId],
        // Tasks live in private subnets and are reached through load balancers only.
        assignPublicIp: false,
      },
      loadBalancers: [o.loadBalancer],
      // ECS replaces tasks that fail load balancer health checks; the grace period lets a new task warm up first.
      healthCheckGracePeriodSeconds: 60,
      // A deployment whose tasks keep failing stops and rolls back to the last working task definition.
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: o.deploymentMinimumHealthyPercent,
      deploymentMaximumPercent: o.deploymentMaximumPercent,
      // `up` returns only once the service runs healthy tasks (or fails when the circuit breaker rolls back).
      waitForSteadyState: true,
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      tags: named(ctx.tags, name),
    },
    {
      parent: ctx.parent,
      dependsOn: [...o.dependsOn, ...ctx.taskPrerequisites],
      // With autoscaling, the scaler owns the running count (the args' count is the initial one, within min..max).
      ignoreChanges: o.autoscaling ? ["desiredCount"] : [],
    },
  );
  if (o.autoscaling) createCpuAutoscaling(ctx, o.key, service, o.autoscaling);
  return service;
}

function createCpuAutoscaling(
  ctx: TierContext,
  key: string,
  service: aws.ecs.Service,
  a: NonNullable<TaskSize["autoscaling"]>,
) {
  const name = `${ctx.args.name}-${key}`;
  const target = new aws.appautoscaling.Target(
    name,
    {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: pulumi.interpolate`service/${ctx.cluster.name}/${service.name}`,
      minCapacity: a.min,
      maxCapacity: a.max,
      tags: named(ctx.tags, name),
    },
    { parent: ctx.parent },
  );
  new aws.appautoscaling.Policy(
    `${name}-cpu`,
    {
      policyType: "TargetTrackingScaling",
      serviceNamespace: target.serviceNamespace,
      scalableDimension: target.scalableDimension,
      resourceId: target.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        targetValue: a.targetCpu,
        scaleOutCooldown: 60,
        scaleInCooldown: 120,
      },
    },
    { parent: ctx.parent },
  );
}
