// The environment's architecture as the issue states it, asserted on what the program registers under mocks.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AUTONAME_SUFFIX_LENGTH,
  AWS_LB_NAME_MAX,
  DEFAULT_APP_PATH,
  DEFAULT_REDIS_IMAGE,
  LIVENESS_PATH,
  READINESS_PATH,
  REDIS_PORT,
  REDIS_READER_PORT,
} from "../../src/aws";
import { contentTag } from "../../src/aws/image";
import {
  appDir,
  buildEnvironment,
  containerOf,
  containersOf,
  envOf,
  fakeAppDir,
  PRIVATE_SUBNETS,
  PUBLIC_SUBNETS,
  type Recorded,
  type Resources,
  T,
  VPC_ID,
} from "./harness";

type Built = Awaited<ReturnType<typeof buildEnvironment>>;

const nlbOf = (res: Resources) => res.one(T.lb, (r) => r.inputs.loadBalancerType === "network");
const albOf = (res: Resources) => res.one(T.lb, (r) => r.inputs.loadBalancerType === "application");
const serviceOf = (res: Resources, key: string) => res.named(T.service, `${res.all[0]?.name}-${key}`);
const taskOf = (res: Resources, service: Recorded) => res.byRef(service.inputs.taskDefinition);
const listenerOn = (res: Resources, lb: Recorded, port: number) =>
  res.one(T.listener, (l) => l.inputs.loadBalancerArn === lb.state.arn && l.inputs.port === port);
const sgNameOf = (res: Resources, id: string) => res.byRef(id).name;

describe("a three-tier environment (2 frontends, 1 Redis writer + 2 replicas)", () => {
  let b: Built;
  beforeAll(async () => {
    b = await buildEnvironment({ name: "arch", frontendReplicas: 2, redisReplicas: 3 });
  });

  it("puts Redis behind an INTERNAL network load balancer in the private subnets", () => {
    const nlb = nlbOf(b.res);
    expect(nlb.inputs.internal).toBe(true);
    expect(nlb.inputs.loadBalancerType).toBe("network");
    expect(nlb.inputs.subnets).toEqual(PRIVATE_SUBNETS);
    expect(nlb.inputs.securityGroups.map((id: string) => sgNameOf(b.res, id))).toEqual(["arch-redis-nlb"]);
    expect(nlb.inputs.enableCrossZoneLoadBalancing).toBe(true);
  });

  it("puts the frontend behind a PUBLIC application load balancer in the public subnets", () => {
    const alb = albOf(b.res);
    expect(alb.inputs.internal).toBe(false);
    expect(alb.inputs.subnets).toEqual(PUBLIC_SUBNETS);
    expect(alb.inputs.securityGroups.map((id: string) => sgNameOf(b.res, id))).toEqual(["arch-alb"]);
    expect(b.res.ofType(T.lb)).toHaveLength(2);
  });

  it("has a TCP 6379 writer listener and a TCP reader listener, each to its own ip target group on 6379", () => {
    const nlb = nlbOf(b.res);
    const writer = listenerOn(b.res, nlb, REDIS_PORT);
    const reader = listenerOn(b.res, nlb, REDIS_READER_PORT);
    for (const [listener, tgName] of [
      [writer, "arch-rw"],
      [reader, "arch-rr"],
    ] as const) {
      expect(listener.inputs.protocol).toBe("TCP");
      const tg = b.res.byRef(listener.inputs.defaultActions[0].targetGroupArn);
      expect(listener.inputs.defaultActions[0].type).toBe("forward");
      expect(tg.name).toBe(tgName);
      expect(tg.inputs).toMatchObject({ protocol: "TCP", port: REDIS_PORT, targetType: "ip", vpcId: VPC_ID });
      expect(tg.inputs.preserveClientIp).toBe("false");
      expect(tg.inputs.healthCheck.protocol).toBe("TCP");
      // A replaced writer drains fast, and its clients are cut off so they reconnect to the new one.
      expect(tg.inputs.deregistrationDelay).toBeLessThanOrEqual(30);
      expect(tg.inputs.connectionTermination).toBe(true);
    }
    expect(b.res.ofType(T.listener).filter((l) => l.inputs.loadBalancerArn === nlb.state.arn)).toHaveLength(
      2,
    );
  });

  it("gives every target group a health-check timeout below its interval (ELB: interval > timeout)", () => {
    const groups = b.res.ofType(T.targetGroup);
    expect(groups).toHaveLength(3);
    for (const tg of groups) {
      // Unset, the TCP timeout defaults to 10 s, which an interval of 10 s does not exceed.
      expect(tg.inputs.healthCheck.timeout, tg.name).toBeGreaterThanOrEqual(2);
      expect(tg.inputs.healthCheck.timeout, tg.name).toBeLessThan(tg.inputs.healthCheck.interval);
    }
  });

  it("serves HTTP 80 only (no certificate): forward to the frontend target group", () => {
    const alb = albOf(b.res);
    const listeners = b.res.ofType(T.listener).filter((l) => l.inputs.loadBalancerArn === alb.state.arn);
    expect(listeners.map((l) => l.inputs.port)).toEqual([80]);
    const http = listenerOn(b.res, alb, 80);
    expect(http.inputs.protocol).toBe("HTTP");
    const tg = b.res.byRef(http.inputs.defaultActions[0].targetGroupArn);
    expect(tg.inputs).toMatchObject({ protocol: "HTTP", port: 8080, targetType: "ip", vpcId: VPC_ID });
    expect(tg.inputs.deregistrationDelay).toBeLessThanOrEqual(30);
    expect(b.outputs.frontendUrl).toBe(`http://${alb.state.dnsName}`);
  });

  it("health-checks frontends on the liveness path, so a Redis outage never makes ECS replace them", () => {
    // The balancer's check decides which tasks ECS replaces; /readyz fails for every frontend while Redis
    // is down, so it must not be the one. Readiness stays for traffic (the app's 503s, the portal's probe).
    const tg = b.res.named(T.targetGroup, "arch-web");
    expect(tg.inputs.healthCheck).toMatchObject({ path: LIVENESS_PATH, protocol: "HTTP", matcher: "200" });
    expect(tg.inputs.healthCheck.path).not.toBe(READINESS_PATH);
    // The container's own check (which also makes ECS replace a task) is liveness too.
    const frontend = containerOf(taskOf(b.res, serviceOf(b.res, "frontend")));
    expect(frontend.healthCheck.command.join(" ")).toContain(`127.0.0.1:8080${LIVENESS_PATH}`);
    expect(frontend.healthCheck.command.join(" ")).not.toContain(READINESS_PATH);
  });

  it("runs every service on Fargate in the private subnets without public IPs, with rollback and grace period", () => {
    const services = b.res.ofType(T.service);
    expect(services).toHaveLength(3);
    for (const s of services) {
      expect(s.inputs.launchType).toBe("FARGATE");
      expect(s.inputs.networkConfiguration.assignPublicIp).toBe(false);
      expect(s.inputs.networkConfiguration.subnets).toEqual(PRIVATE_SUBNETS);
      expect(s.inputs.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
      expect(s.inputs.healthCheckGracePeriodSeconds).toBeGreaterThan(0);
      expect(s.inputs.cluster).toBe(b.res.one(T.cluster).state.arn);
      const task = taskOf(b.res, s);
      expect(task.inputs.requiresCompatibilities).toEqual(["FARGATE"]);
      expect(task.inputs.networkMode).toBe("awsvpc");
      // Tasks report to their load balancer's target group, on the port the container listens on.
      const [lb] = s.inputs.loadBalancers;
      const [container] = containersOf(task);
      expect(lb.containerName).toBe(container?.name);
      expect(container?.portMappings.map((p) => p.containerPort)).toContain(lb.containerPort);
    }
    const sgOf = (key: string) =>
      serviceOf(b.res, key).inputs.networkConfiguration.securityGroups.map((id: string) =>
        sgNameOf(b.res, id),
      );
    expect(sgOf("frontend")).toEqual(["arch-frontend"]);
    expect(sgOf("redis-writer")).toEqual(["arch-redis"]);
    expect(sgOf("redis-replicas")).toEqual(["arch-redis"]);
  });

  it("attaches each service to the right target group", () => {
    const tgName = (key: string) =>
      b.res.byRef(serviceOf(b.res, key).inputs.loadBalancers[0].targetGroupArn).name;
    expect(tgName("frontend")).toBe("arch-web");
    expect(tgName("redis-writer")).toBe("arch-rw");
    expect(tgName("redis-replicas")).toBe("arch-rr");
  });

  it("never runs two Redis writers at once", () => {
    const writer = serviceOf(b.res, "redis-writer");
    expect(writer.inputs.desiredCount).toBe(1);
    expect(writer.inputs.deploymentMaximumPercent).toBe(100);
    expect(writer.inputs.deploymentMinimumHealthyPercent).toBe(0);
  });

  it("runs the official redis image with a required password, replicas replicating from the writer endpoint", () => {
    const nlbDns = nlbOf(b.res).state.dnsName;
    const [writer] = containersOf(taskOf(b.res, serviceOf(b.res, "redis-writer")));
    const [replica] = containersOf(taskOf(b.res, serviceOf(b.res, "redis-replicas")));
    for (const c of [writer, replica]) {
      expect(c?.image).toBe(DEFAULT_REDIS_IMAGE);
      expect(c?.command?.slice(0, 2)).toEqual(["sh", "-c"]);
      expect(c?.command?.[2]).toContain('--requirepass "$REDIS_PASSWORD"');
      expect(c?.secrets.map((s) => s.name)).toEqual(["REDIS_PASSWORD"]);
    }
    for (const c of [writer, replica]) {
      // The NLB silently drops TCP flows idle for 350 s; Redis's keepalive probes must come more often.
      const keepalive = Number(/--tcp-keepalive (\d+)/.exec(c?.command?.[2] ?? "")?.[1]);
      expect(keepalive).toBeGreaterThan(0);
      expect(keepalive).toBeLessThan(350);
    }
    expect(writer?.command?.[2]).not.toContain("--replicaof");
    expect(replica?.command?.[2]).toContain(`--replicaof ${nlbDns} ${REDIS_PORT}`);
    expect(replica?.command?.[2]).toContain('--masterauth "$REDIS_PASSWORD"');
    expect(`${nlbDns}:${REDIS_PORT}`).toBe(b.outputs.redisWriterEndpoint);
  });

  it("runs Redis as the image's unprivileged redis user, not as root", () => {
    for (const key of ["redis-writer", "redis-replicas"]) {
      const container = containerOf(taskOf(b.res, serviceOf(b.res, key)));
      // `sh -c` bypasses the image entrypoint's switch to the redis user, so the task definition sets it.
      expect(container.user, key).toBe("redis");
    }
  });

  it("wires the frontend to the writer and reader endpoints, the password only as an ECS secret", () => {
    const nlbDns = nlbOf(b.res).state.dnsName;
    const secretArn = b.res.one(T.secret).state.arn;
    const frontend = containerOf(taskOf(b.res, serviceOf(b.res, "frontend")));
    const env = envOf(frontend);
    expect(env).toMatchObject({
      PORT: "8080",
      REDIS_HOST: nlbDns,
      REDIS_PORT: "6379",
      REDIS_READ_HOST: nlbDns,
      REDIS_READ_PORT: String(REDIS_READER_PORT),
    });
    expect(Object.keys(env)).not.toContain("REDIS_PASSWORD");
    expect(frontend?.secrets).toEqual([{ name: "REDIS_PASSWORD", valueFrom: secretArn }]);
    expect(frontend?.image).toBe(b.outputs.imageUri);
    expect(b.outputs.redisReaderEndpoint).toBe(`${nlbDns}:${REDIS_READER_PORT}`);
  });

  it("no container anywhere has REDIS_PASSWORD in its plain environment", () => {
    for (const task of b.res.ofType(T.taskDefinition)) {
      for (const c of containersOf(task)) {
        expect(c.environment.map((e) => e.name)).not.toContain("REDIS_PASSWORD");
        expect(c.secrets.find((s) => s.name === "REDIS_PASSWORD")).toBeDefined();
      }
    }
  });

  it("gives every service its own log group with retention, used by its containers", () => {
    const groups = b.res.ofType(T.logGroup);
    expect(groups.map((g) => g.inputs.name).sort()).toEqual(
      ["/platform/arch/frontend", "/platform/arch/redis-replicas", "/platform/arch/redis-writer"].sort(),
    );
    for (const g of groups) expect(g.inputs.retentionInDays).toBe(14);
    for (const [key, group] of [
      ["frontend", "/platform/arch/frontend"],
      ["redis-writer", "/platform/arch/redis-writer"],
      ["redis-replicas", "/platform/arch/redis-replicas"],
    ]) {
      const [c] = containersOf(taskOf(b.res, serviceOf(b.res, key as string)));
      expect(c?.logConfiguration.logDriver).toBe("awslogs");
      expect(c?.logConfiguration.options["awslogs-group"]).toBe(group);
      expect(c?.logConfiguration.options["awslogs-region"]).toBe("eu-west-1");
    }
    expect(b.outputs.logGroupNames).toEqual({
      frontend: "/platform/arch/frontend",
      redisWriter: "/platform/arch/redis-writer",
      redisReplicas: "/platform/arch/redis-replicas",
    });
  });

  it("builds the image from the app's Dockerfile into an immutable, lifecycle-managed ECR repository", () => {
    const repo = b.res.one(T.repository);
    expect(repo.inputs.imageTagMutability).toBe("IMMUTABLE");
    const lifecycle = b.res.one(T.lifecycle);
    expect(lifecycle.inputs.repository).toBe(repo.state.name);
    const [rule] = JSON.parse(lifecycle.inputs.policy).rules;
    expect(rule.selection).toMatchObject({ tagStatus: "any", countType: "imageCountMoreThan" });
    expect(rule.selection.countNumber).toBeGreaterThanOrEqual(3);
    expect(rule.action.type).toBe("expire");
    const image = b.res.one(T.image);
    expect(image.inputs.repositoryUrl).toBe(repo.state.repositoryUrl);
    expect(image.inputs.context).toBe(appDir);
    expect(image.inputs.dockerfile).toBe(path.join(appDir, "Dockerfile"));
    expect(image.inputs.platform).toBe("linux/amd64");
    expect(image.inputs.imageTag).toBe(contentTag(appDir, path.join(appDir, "Dockerfile")));
    expect(b.outputs.imageUri.startsWith(repo.state.repositoryUrl)).toBe(true);
  });

  it("creates no network of its own: no VPC, subnet, NAT gateway, Elastic IP or route table", () => {
    const networkTypes = [
      T.vpc,
      T.subnet,
      T.natGateway,
      T.eip,
      T.internetGateway,
      T.routeTable,
      "awsx:ec2:Vpc",
    ];
    expect(b.res.all.filter((r) => networkTypes.includes(r.type as never))).toEqual([]);
    expect(b.outputs.vpcId).toBe(VPC_ID);
  });

  it("outputs cluster and service names", () => {
    expect(b.outputs.clusterName).toBe(b.res.one(T.cluster).state.name);
    expect(b.outputs.serviceNames).toEqual({
      frontend: serviceOf(b.res, "frontend").state.name,
      redisWriter: serviceOf(b.res, "redis-writer").state.name,
      redisReplicas: serviceOf(b.res, "redis-replicas").state.name,
    });
  });

  it("starts services in order: listeners, the password and the execution role's grants first, the frontend after the Redis writer", () => {
    const deps = (key: string) => b.dependenciesOf(T.service, `arch-${key}`);
    // Tasks read the password at start through the execution role: its policies must be in place before any task
    // starts (the role's ARN alone does not wait for them), or the first tasks fail with AccessDenied.
    const beforeTasks = [
      `${T.secretVersion} arch-redis-password`,
      `${T.rolePolicy} arch-task-exec-redis-password`,
      `${T.rolePolicyAttachment} arch-task-exec`,
    ];
    expect(deps("redis-writer").sort()).toEqual([`${T.listener} arch-redis-writer`, ...beforeTasks].sort());
    expect(deps("redis-replicas").sort()).toEqual(
      [`${T.listener} arch-redis-reader`, `${T.listener} arch-redis-writer`, ...beforeTasks].sort(),
    );
    expect(deps("frontend").sort()).toEqual(
      [`${T.listener} arch-http`, `${T.service} arch-redis-writer`, ...beforeTasks].sort(),
    );
  });

  it("has no autoscaling unless asked", () => {
    expect(b.res.ofType(T.scalingTarget)).toHaveLength(0);
    expect(b.res.ofType(T.scalingPolicy)).toHaveLength(0);
  });
});

describe("replica counts", () => {
  // Frontend counts 1..N alongside Redis counts 1..N, each in its own environment.
  for (let n = 1; n <= 6; n++) {
    it(`frontendReplicas=${n}, redisReplicas=${n}: desired counts follow, replicas only when N > 1`, async () => {
      const { res, outputs } = await buildEnvironment({
        name: `count${n}`,
        frontendReplicas: n,
        redisReplicas: n,
      });
      expect(res.named(T.service, `count${n}-frontend`).inputs.desiredCount).toBe(n);
      expect(res.named(T.service, `count${n}-redis-writer`).inputs.desiredCount).toBe(1);
      const replicas = res.ofType(T.service).filter((s) => s.name === `count${n}-redis-replicas`);
      const nlb = nlbOf(res);
      const readerListeners = res.ofType(T.listener).filter((l) => l.inputs.port === REDIS_READER_PORT);
      const frontend = containerOf(taskOf(res, res.named(T.service, `count${n}-frontend`)));
      if (n === 1) {
        expect(replicas).toHaveLength(0);
        expect(readerListeners).toHaveLength(0);
        expect(res.ofType(T.targetGroup).map((t) => t.name)).not.toContain("count1-rr");
        expect(res.ofType(T.logGroup)).toHaveLength(2);
        expect(outputs.redisReaderEndpoint).toBeUndefined();
        expect(outputs.serviceNames.redisReplicas).toBeUndefined();
        expect(Object.keys(envOf(frontend))).not.toContain("REDIS_READ_HOST");
        expect(Object.keys(envOf(frontend))).not.toContain("REDIS_READ_PORT");
      } else {
        expect(replicas).toHaveLength(1);
        expect(replicas[0]?.inputs.desiredCount).toBe(n - 1);
        const replica = containerOf(taskOf(res, res.named(T.service, `count${n}-redis-replicas`)));
        expect(replica?.command?.[2]).toContain(`--replicaof ${nlb.state.dnsName} ${REDIS_PORT}`);
        expect(readerListeners).toHaveLength(1);
        expect(envOf(frontend).REDIS_READ_HOST).toBe(nlb.state.dnsName);
      }
    });
  }
});

describe("options", () => {
  it("with a certificate: HTTPS 443 with modern TLS, HTTP 80 redirects, https URL", async () => {
    const cert = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
    const { res, outputs } = await buildEnvironment({ name: "tls", certificateArn: cert });
    const alb = albOf(res);
    const https = listenerOn(res, alb, 443);
    expect(https.inputs).toMatchObject({ protocol: "HTTPS", certificateArn: cert });
    expect(https.inputs.sslPolicy).toMatch(/^ELBSecurityPolicy-TLS13/);
    expect(res.byRef(https.inputs.defaultActions[0].targetGroupArn).name).toBe("tls-web");
    const http = listenerOn(res, alb, 80);
    expect(http.inputs.defaultActions[0]).toMatchObject({
      type: "redirect",
      redirect: { protocol: "HTTPS", port: "443" },
    });
    expect(outputs.frontendUrl).toBe(`https://${alb.state.dnsName}`);
  });

  it("with a domain name and its hosted zone: an alias record to the ALB, and the URL uses the domain", async () => {
    const cert = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
    const { res, outputs } = await buildEnvironment({
      name: "dns",
      certificateArn: cert,
      domainName: "vote.example.com",
      hostedZoneId: "Z0123456789ABCDEFGHIJ",
    });
    const alb = albOf(res);
    const record = res.one(T.dnsRecord);
    expect(record.inputs).toMatchObject({
      zoneId: "Z0123456789ABCDEFGHIJ",
      name: "vote.example.com",
      type: "A",
    });
    expect(record.inputs.aliases).toEqual([
      { name: alb.state.dnsName, zoneId: alb.state.zoneId, evaluateTargetHealth: true },
    ]);
    // The certificate names the domain, not the ALB's own DNS name: the URL a browser accepts is the domain's.
    expect(outputs.frontendUrl).toBe("https://vote.example.com");
  });

  it("with a domain name but no hosted zone: no record (managed elsewhere), the URL uses the domain", async () => {
    const { res, outputs } = await buildEnvironment({ name: "dns2", domainName: "vote.example.com" });
    expect(res.ofType(T.dnsRecord)).toHaveLength(0);
    expect(outputs.frontendUrl).toBe("http://vote.example.com");
  });

  it("uses a configurable health-check path, app port, sizes, retention and app texts", async () => {
    const { res } = await buildEnvironment({
      name: "opts",
      healthCheckPath: "/livez",
      appPort: 3000,
      frontend: { cpu: 512, memory: 1024 },
      redis: { cpu: 1024, memory: 2048 },
      logRetentionDays: 30,
      voteOptions: ["Tabs", "Spaces"],
      appTitle: "Tabs or spaces?",
      allowReset: true,
    });
    const tg = res.named(T.targetGroup, "opts-web");
    expect(tg.inputs.healthCheck.path).toBe("/livez");
    expect(tg.inputs.port).toBe(3000);
    const frontendTask = taskOf(res, res.named(T.service, "opts-frontend"));
    expect(frontendTask.inputs).toMatchObject({ cpu: "512", memory: "1024" });
    expect(taskOf(res, res.named(T.service, "opts-redis-writer")).inputs).toMatchObject({
      cpu: "1024",
      memory: "2048",
    });
    expect(envOf(containerOf(frontendTask))).toMatchObject({
      PORT: "3000",
      VOTE_OPTIONS: "Tabs,Spaces",
      APP_TITLE: "Tabs or spaces?",
      ALLOW_RESET: "true",
    });
    expect(res.named(T.service, "opts-frontend").inputs.loadBalancers[0].containerPort).toBe(3000);
    for (const g of res.ofType(T.logGroup)) expect(g.inputs.retentionInDays).toBe(30);
  });

  it("offers the app's vote reset only when asked (ALLOW_RESET)", async () => {
    const { res } = await buildEnvironment({ name: "plain" });
    expect(envOf(containerOf(taskOf(res, res.named(T.service, "plain-frontend"))))).not.toHaveProperty(
      "ALLOW_RESET",
    );
  });

  it("places everything in the network it is given", async () => {
    const network = {
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
      publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
    };
    const { res, outputs } = await buildEnvironment({ name: "byo", redisReplicas: 2, network });
    expect(res.ofType(T.vpc)).toHaveLength(0);
    expect(outputs.vpcId).toBe(network.vpcId);
    for (const tg of res.ofType(T.targetGroup)) expect(tg.inputs.vpcId).toBe(network.vpcId);
    for (const sg of res.ofType(T.sg)) expect(sg.inputs.vpcId).toBe(network.vpcId);
    expect(nlbOf(res).inputs.subnets).toEqual(network.privateSubnetIds);
    expect(albOf(res).inputs.subnets).toEqual(network.publicSubnetIds);
    for (const s of res.ofType(T.service)) {
      expect(s.inputs.networkConfiguration.subnets).toEqual(network.privateSubnetIds);
    }
  });

  it("runs a prebuilt image without an ECR repository or a build of its own", async () => {
    const image = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/voting-app@sha256:${"cd".repeat(32)}`;
    const { res, outputs } = await buildEnvironment({ name: "pre", frontendImage: image });
    expect(res.ofType(T.repository)).toHaveLength(0);
    expect(res.ofType(T.image)).toHaveLength(0);
    expect(containerOf(taskOf(res, res.named(T.service, "pre-frontend"))).image).toBe(image);
    expect(outputs.imageUri).toBe(image);
  });

  it("adds CPU target-tracking autoscaling per service with min and max", async () => {
    const { res } = await buildEnvironment({
      name: "auto",
      frontendReplicas: 3,
      redisReplicas: 3,
      frontend: { cpu: 256, memory: 512, autoscaling: { min: 2, max: 8, targetCpu: 55 } },
      redis: { cpu: 256, memory: 512, autoscaling: { min: 1, max: 4, targetCpu: 70 } },
    });
    const cluster = res.one(T.cluster).state.name;
    for (const [key, min, max, cpu] of [
      ["frontend", 2, 8, 55],
      ["redis-replicas", 1, 4, 70],
    ] as const) {
      const service = res.named(T.service, `auto-${key}`);
      const target = res.named(T.scalingTarget, `auto-${key}`);
      expect(target.inputs).toMatchObject({
        minCapacity: min,
        maxCapacity: max,
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: `service/${cluster}/${service.state.name}`,
      });
      const policy = res.named(T.scalingPolicy, `auto-${key}-cpu`);
      expect(policy.inputs.policyType).toBe("TargetTrackingScaling");
      expect(policy.inputs.resourceId).toBe(target.inputs.resourceId);
      expect(policy.inputs.targetTrackingScalingPolicyConfiguration).toMatchObject({
        targetValue: cpu,
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
      });
    }
    // The writer is never scaled.
    expect(res.ofType(T.scalingTarget).map((t) => t.name)).not.toContain("auto-redis-writer");
  });

  it("leaves load balancer and target group names to Pulumi's auto-naming, so a replacement never collides", async () => {
    const name = "a234567890b234567890"; // 20 characters, the maximum
    const { res } = await buildEnvironment({ name, redisReplicas: 2 });
    const balancing = [...res.ofType(T.lb), ...res.ofType(T.targetGroup)];
    expect(balancing).toHaveLength(5);
    for (const r of balancing) {
      // A fixed name would make a replacement (new port, protocol, VPC) fail: the old one still holds it.
      expect(r.inputs.name, r.name).toBeUndefined();
      expect(r.inputs.namePrefix, r.name).toBeUndefined();
      // Auto-naming appends "-" and 7 random characters and refuses a prefix that would pass 32.
      expect(r.name.length + AUTONAME_SUFFIX_LENGTH, r.name).toBeLessThanOrEqual(AWS_LB_NAME_MAX);
      expect(`${r.name}-abc1234`).toMatch(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/);
      expect(r.name.startsWith("internal-")).toBe(false);
      // The console still shows a readable name.
      expect(r.inputs.tags.Name).toMatch(new RegExp(`^${name}-`));
    }
  });

  it("parents every resource to the component", async () => {
    const { res, parented, environment } = await buildEnvironment({ name: "parent", redisReplicas: 2 });
    const children = parented.filter((p) => p.type !== "platform:aws:VotingEnvironment");
    for (const child of children) expect(child.parent, `${child.type} ${child.name}`).toBe(environment);
    const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
    const registered = res.all.filter((r) => r.type !== "platform:aws:VotingEnvironment").map(key);
    expect(registered.length).toBeGreaterThan(30);
    expect(children.map(key).sort()).toEqual(registered.sort());
  });
});

describe("image tag", () => {
  it("follows the build context's content: same content same tag, changed content new tag", () => {
    const dir = fakeAppDir();
    const dockerfile = path.join(dir, "Dockerfile");
    const first = contentTag(dir, dockerfile);
    expect(contentTag(dir, dockerfile)).toBe(first);
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "node_modules", "x.js"), "ignored");
    expect(contentTag(dir, dockerfile)).toBe(first);
    fs.writeFileSync(path.join(dir, "main.js"), "console.log('changed')\n");
    const second = contentTag(dir, dockerfile);
    expect(second).not.toBe(first);
    expect(second).toMatch(/^sha-[0-9a-f]{20}$/);
  });

  it("skips what .dockerignore names, but always counts the Dockerfile", () => {
    const dir = fakeAppDir();
    const dockerfile = path.join(dir, "Dockerfile");
    fs.writeFileSync(path.join(dir, ".dockerignore"), "# comment\nscripts/\nDockerfile\n*.log\n");
    const first = contentTag(dir, dockerfile);
    fs.mkdirSync(path.join(dir, "scripts"));
    fs.writeFileSync(path.join(dir, "scripts", "dev.sh"), "echo dev");
    expect(contentTag(dir, dockerfile)).toBe(first);
    fs.appendFileSync(dockerfile, "EXPOSE 8080\n");
    expect(contentTag(dir, dockerfile)).not.toBe(first);
  });

  it("defaults the app path to packages/voting-app", () => {
    expect(DEFAULT_APP_PATH).toBe(path.resolve(__dirname, "..", "..", "..", "voting-app"));
  });
});
