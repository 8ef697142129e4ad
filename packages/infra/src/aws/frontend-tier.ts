// The voting app: a Fargate service behind the public Application Load Balancer (HTTP 80, HTTPS 443 with a
// certificate), wired to Redis through the internal NLB's endpoints.
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

/** Modern TLS only (TLS 1.3 and 1.2). */
export const HTTPS_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface FrontendTier {
  loadBalancer: aws.lb.LoadBalancer;
  service: aws.ecs.Service;
  logGroup: aws.cloudwatch.LogGroup;
}

export interface FrontendWiring {
  vpcId: pulumi.Input<string>;
  publicSubnetIds: pulumi.Input<string[]>;
  albSecurityGroupId: pulumi.Input<string>;
  frontendSecurityGroupId: pulumi.Input<string>;
  imageUri: pulumi.Input<string>;
  redisHost: pulumi.Input<string>;
  hasRedisReaders: boolean;
  /** Start the app only once these are up: its readiness check needs Redis. */
  startAfter: pulumi.Resource[];
  /** More settings (e.g. an ElastiCache cache's TLS and reader, a database); same names replace the above. */
  extraEnvironment?: ContainerDefinition["environment"];
  /** More ECS secrets (e.g. the database password). */
  extraSecrets?: ContainerDefinition["secrets"];
}

export function createFrontendTier(ctx: TierContext, w: FrontendWiring): FrontendTier {
  const { args } = ctx;
  const names = awsNames(args.name);

  const loadBalancer = createLoadBalancer(ctx, {
    name: names.alb,
    label: `${args.name}-web`,
    type: "application",
    internal: false,
    subnets: w.publicSubnetIds,
    securityGroupId: w.albSecurityGroupId,
    extra: { dropInvalidHeaderFields: true },
  });
  const targetGroup = new aws.lb.TargetGroup(
    names.frontendTargetGroup,
    {
      // Auto-named (see awsNames): changing appPort replaces the group, and the new one needs a new name.
      vpcId: w.vpcId,
      targetType: "ip",
      protocol: "HTTP",
      port: args.appPort,
      // LIVENESS, not readiness. This one check decides both where the ALB sends requests and which tasks ECS
      // replaces (a target the group calls unhealthy is stopped and replaced, and failing replacements trip the
      // deployment circuit breaker). /readyz fails whenever Redis is unreachable, and Redis is shared by every
      // frontend: a Redis blip or redeploy would mark all of them unhealthy at once, ECS would replace them all
      // (and roll back whatever deployment was running), while taking them out of rotation gains nothing, since
      // no other frontend could serve either. So the balancer checks /healthz (the process serves), and
      // readiness stays the signal for traffic where nothing is killed for it: the app itself answers votes
      // with a fast 503 while Redis is down, the portal's health probe reads /readyz through the ALB, the
      // frontend service starts only after the Redis writer is steady, and the local target's balancer routes
      // on /readyz (it takes a frontend out of rotation, never stops it).
      healthCheck: {
        protocol: "HTTP",
        path: args.healthCheckPath,
        matcher: "200",
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      // The app is stateless (votes live in Redis): drain quickly so deployments and scale-in are fast.
      deregistrationDelay: 15,
      tags: named(ctx.tags, `${args.name}-web`),
    },
    { parent: ctx.parent },
  );
  const listeners: aws.lb.Listener[] = [];
  if (args.certificateArn) {
    listeners.push(
      createListener(ctx, "https", loadBalancer, {
        protocol: "HTTPS",
        port: 443,
        certificateArn: args.certificateArn,
        sslPolicy: HTTPS_SSL_POLICY,
        defaultActions: forwardTo(targetGroup),
      }),
    );
  }
  listeners.push(
    createListener(ctx, "http", loadBalancer, {
      protocol: "HTTP",
      port: 80,
      // With a certificate, plain HTTP only redirects to HTTPS.
      defaultActions: args.certificateArn
        ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]
        : forwardTo(targetGroup),
    }),
  );

  if (args.domainName && args.hostedZoneId) {
    // An alias record (not a CNAME): free to query, and it can sit at a zone's apex.
    new aws.route53.Record(
      `${args.name}-web-dns`,
      {
        zoneId: args.hostedZoneId,
        name: args.domainName,
        type: "A",
        aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
      },
      { parent: ctx.parent },
    );
  }

  const environment: ContainerDefinition["environment"] = [
    { name: "PORT", value: String(args.appPort) },
    { name: "REDIS_HOST", value: w.redisHost },
    { name: "REDIS_PORT", value: String(REDIS_PORT) },
  ];
  if (w.hasRedisReaders) {
    environment.push(
      { name: "REDIS_READ_HOST", value: w.redisHost },
      { name: "REDIS_READ_PORT", value: String(REDIS_READER_PORT) },
    );
  }
  if (args.voteOptions) environment.push({ name: "VOTE_OPTIONS", value: args.voteOptions.join(",") });
  if (args.appTitle) environment.push({ name: "APP_TITLE", value: args.appTitle });
  if (args.allowReset) environment.push({ name: "ALLOW_RESET", value: "true" });
  for (const extra of w.extraEnvironment ?? []) {
    const at = environment.findIndex((e) => e.name === extra.name);
    if (at >= 0) environment[at] = extra;
    else environment.push(extra);
  }

  const logGroup = createLogGroup(ctx, "frontend-logs", names.logGroups.frontend);
  const taskDefinition = createTaskDefinition(ctx, "frontend", args.frontend, {
    name: "frontend",
    image: w.imageUri,
    essential: true,
    portMappings: [{ containerPort: args.appPort, protocol: "tcp" }],
    environment,
    // The password reaches the container as an ECS secret, read from Secrets Manager at task start.
    secrets: [redisPasswordSecret(ctx), ...(w.extraSecrets ?? [])],
    // Liveness inside the task, like the balancer's check (see the target group). The image is Node: it has fetch.
    healthCheck: {
      command: [
        "CMD",
        "node",
        "-e",
        `fetch('http://127.0.0.1:${args.appPort}${args.healthCheckPath}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
      ],
      interval: 15,
      timeout: 5,
      retries: 3,
      startPeriod: 20,
    },
    logConfiguration: awslogs(ctx, logGroup, "frontend"),
    stopTimeout: 20,
  });
  const service = createService(ctx, {
    key: "frontend",
    taskDefinition,
    desiredCount: args.frontendReplicas,
    securityGroupId: w.frontendSecurityGroupId,
    loadBalancer: { targetGroupArn: targetGroup.arn, containerName: "frontend", containerPort: args.appPort },
    dependsOn: [...listeners, ...w.startAfter],
    deploymentMinimumHealthyPercent: 100,
    deploymentMaximumPercent: 200,
    autoscaling: args.frontend.autoscaling,
  });
  return { loadBalancer, service, logGroup };
}
