// The portal itself on AWS: its web process behind an ALB that signs people in (OIDC) and passes their claims to
// the portal (proxy-jwt), its worker (which runs environments' and networks' Pulumi operations), PostgreSQL on
// RDS for everything the portal keeps (its tables, the queue, the Pulumi state), all on ECS Fargate.
//
//   people ──HTTPS──▶ ALB (public subnets): authenticate-oidc → forward ──▶ web tasks (private, :3000)
//                                                                          │
//   worker tasks (private) ── Pulumi ──▶ AWS APIs (environments, networks)  ├──▶ RDS PostgreSQL (private, :5432)
//                           └───────────────────────────────────────────────┘
//
// The portal's own resources are tagged ManagedBy=platform-portal-deployment, NOT platform-portal: the worker
// may change only what carries the latter (worker-policy.ts), so it can never touch the portal itself.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { managedPolicyArn, partitionOf } from "../aws/partition";
import {
  albKeysUrl,
  PORTAL_LIVENESS_PATH,
  PORTAL_PORT,
  type PortalArgs,
  PROXY_JWT_ENV,
  parsePortalArgs,
  type ValidPortalArgs,
} from "./args";
import { environmentRoleBoundary, workerPolicy } from "./worker-policy";

export const PORTAL_TYPE = "platform:aws:Portal";
export const PORTAL_MANAGED_BY = "platform-portal-deployment";
/** The web process's database role (created by the worker at start). */
export const WEB_DB_ROLE = "portal_web";
/** The RDS CA bundle the image carries (apps/portal/Dockerfile): TLS to the database is verified. */
export const RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem";
/** Modern TLS only (TLS 1.3 and 1.2). */
const SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
const ANYWHERE = "0.0.0.0/0";

export type PortalOnAwsArgs = PortalArgs & {
  /** The OpenID client's secret: a Pulumi secret, held by the ALB only. */
  oidcClientSecret: pulumi.Input<string>;
};

interface Env {
  name: string;
  value: pulumi.Input<string>;
}

export class PortalOnAws extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly albDnsName: pulumi.Output<string>;
  readonly albArn: pulumi.Output<string>;
  readonly databaseEndpoint: pulumi.Output<string>;
  /** The Secrets Manager secret RDS manages with the database's credentials. */
  readonly databaseSecretArn: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly webServiceName: pulumi.Output<string>;
  readonly workerServiceName: pulumi.Output<string>;
  readonly workerRoleArn: pulumi.Output<string>;
  /** The boundary every environment role is created with. */
  readonly environmentRoleBoundaryArn: pulumi.Output<string>;

  /** @throws PortalArgsError on invalid args, before anything is registered. */
  constructor(name: string, args: PortalOnAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    const { oidcClientSecret, ...plain } = args;
    const a = parsePortalArgs(plain);
    super(PORTAL_TYPE, name, {}, opts);
    const parent: pulumi.Resource = this as pulumi.Resource;
    const n = a.name;
    const tags = { ManagedBy: PORTAL_MANAGED_BY, Component: n };
    const named = (suffix: string) => ({ ...tags, Name: `${n}-${suffix}` });
    const partition = partitionOf(this);
    const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const region = aws.getRegionOutput({}, { parent }).region;

    // ---- network: security groups with single-purpose rules (see aws/security-groups.ts for the style) ----
    const group = (key: string, description: string) =>
      new aws.ec2.SecurityGroup(
        `${n}-${key}`,
        { vpcId: a.network.vpcId, description, revokeRulesOnDelete: true, tags: named(key) },
        { parent },
      );
    const sg = {
      alb: group("alb", "Portal load balancer: HTTPS from people; sign-in calls to the OpenID Provider"),
      web: group("web", "Portal web tasks: the app port from the load balancer only"),
      worker: group("worker", "Portal worker tasks: no inbound; AWS APIs and the database"),
      db: group("db", "Portal database: PostgreSQL from the portal's web and worker tasks only"),
    };
    type Peer = { cidr: string } | { group: keyof typeof sg };
    const rule = (dir: "in" | "out", on: keyof typeof sg, port: number, peer: Peer, description: string) => {
      const ruleName = `${n}-${on}-${dir}-${port}-${"cidr" in peer ? "internet" : peer.group}`;
      const common = {
        securityGroupId: sg[on].id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description,
        tags: named(`${on}-${dir}-${port}`),
        ...("cidr" in peer ? { cidrIpv4: peer.cidr } : { referencedSecurityGroupId: sg[peer.group].id }),
      };
      return dir === "in"
        ? new aws.vpc.SecurityGroupIngressRule(ruleName, common, { parent })
        : new aws.vpc.SecurityGroupEgressRule(ruleName, common, { parent });
    };
    rule("in", "alb", 443, { cidr: ANYWHERE }, "HTTPS from people");
    rule("in", "alb", 80, { cidr: ANYWHERE }, "HTTP, redirected to HTTPS");
    rule("out", "alb", PORTAL_PORT, { group: "web" }, "To the web tasks (requests and health checks)");
    // The OIDC action: the ALB itself calls the provider's token and user-info endpoints.
    rule("out", "alb", 443, { cidr: ANYWHERE }, "To the OpenID Provider (token and user info)");
    rule("in", "web", PORTAL_PORT, { group: "alb" }, "From the load balancer only");
    rule("out", "web", 5432, { group: "db" }, "To the database");
    rule("out", "web", 443, { cidr: ANYWHERE }, "ECR, CloudWatch Logs, Secrets Manager; ALB signing keys");
    rule("out", "worker", 5432, { group: "db" }, "To the database (portal tables, queue, Pulumi state)");
    rule("out", "worker", 443, { cidr: ANYWHERE }, "AWS APIs of every environment region (Pulumi)");
    rule("in", "db", 5432, { group: "web" }, "From the web tasks");
    rule("in", "db", 5432, { group: "worker" }, "From the worker tasks");

    // ---- database: PostgreSQL on RDS, private, encrypted, backed up, credentials managed by Secrets Manager ----
    const subnetGroup = new aws.rds.SubnetGroup(
      `${n}-db`,
      { subnetIds: a.network.privateSubnetIds, description: `Portal ${n} database`, tags: named("db") },
      { parent },
    );
    const db = new aws.rds.Instance(
      `${n}-db`,
      {
        engine: "postgres",
        engineVersion: a.database.engineVersion,
        instanceClass: a.database.instanceClass,
        allocatedStorage: a.database.allocatedStorageGb,
        maxAllocatedStorage: a.database.maxAllocatedStorageGb,
        storageType: "gp3",
        storageEncrypted: true,
        dbName: "portal",
        username: "portal",
        // RDS creates and keeps the password in Secrets Manager; it never passes through Pulumi or its state.
        manageMasterUserPassword: true,
        publiclyAccessible: false,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [sg.db.id],
        multiAz: a.database.multiAz,
        backupRetentionPeriod: a.database.backupRetentionDays,
        copyTagsToSnapshot: true,
        deletionProtection: a.database.deletionProtection,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${n}-db-final`,
        autoMinorVersionUpgrade: true,
        caCertIdentifier: "rds-ca-rsa2048-g1",
        tags: named("db"),
      },
      { parent },
    );
    const dbSecretArn = db.masterUserSecrets.apply((s) => s?.[0]?.secretArn ?? "");
    new aws.secretsmanager.SecretRotation(
      `${n}-db-password-rotation`,
      a.database.passwordRotationDays
        ? {
            secretId: dbSecretArn,
            rotationRules: { automaticallyAfterDays: a.database.passwordRotationDays },
          }
        : // Tasks read the password at start; see args.ts (passwordRotationDays).
          { secretId: dbSecretArn, rotationEnabled: false },
      { parent },
    );

    // ---- the Pulumi secrets passphrase of every stack the worker runs ----
    const passphrase = new random.RandomPassword(
      `${n}-pulumi-passphrase`,
      { length: 48, special: false },
      { parent },
    );
    const passphraseSecret = new aws.secretsmanager.Secret(
      `${n}-pulumi-passphrase`,
      {
        namePrefix: `portal/${n}/pulumi-passphrase-`,
        description:
          "Encrypts the secrets in every environment's and network's Pulumi state: losing it loses them",
        // Kept recoverable for 30 days after a destroy.
        recoveryWindowInDays: 30,
        tags: named("pulumi-passphrase"),
      },
      { parent },
    );
    const passphraseVersion = new aws.secretsmanager.SecretVersion(
      `${n}-pulumi-passphrase`,
      { secretId: passphraseSecret.id, secretString: passphrase.result },
      { parent },
    );

    // ---- the web process's own database role: it cannot reach the Pulumi state table (the worker's role
    // creates it with this password at start and grants it what the web needs; README "Database roles") ----
    const webDbPassword = new random.RandomPassword(
      `${n}-web-db-password`,
      { length: 40, special: false },
      { parent },
    );
    const webDbSecret = new aws.secretsmanager.Secret(
      `${n}-web-db-password`,
      {
        namePrefix: `portal/${n}/web-db-password-`,
        description: "Password of the portal web process's database role (portal_web)",
        recoveryWindowInDays: 7,
        tags: named("web-db-password"),
      },
      { parent },
    );
    const webDbVersion = new aws.secretsmanager.SecretVersion(
      `${n}-web-db-password`,
      { secretId: webDbSecret.id, secretString: webDbPassword.result },
      { parent },
    );

    // ---- IAM ----
    const assumedByTasks = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
    const executionRole = new aws.iam.Role(
      `${n}-task-exec`,
      {
        path: "/portal/",
        assumeRolePolicy: assumedByTasks,
        description: `Starts portal ${n}'s tasks`,
        tags: named("task-exec"),
      },
      { parent },
    );
    const execGrants = [
      new aws.iam.RolePolicyAttachment(
        `${n}-task-exec`,
        {
          role: executionRole.name,
          policyArn: managedPolicyArn(partition, "service-role/AmazonECSTaskExecutionRolePolicy"),
        },
        { parent },
      ),
      new aws.iam.RolePolicy(
        `${n}-task-exec-secrets`,
        {
          role: executionRole.id,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue"],
                Resource: [dbSecretArn, passphraseSecret.arn, webDbSecret.arn],
              },
            ],
          }),
        },
        { parent },
      ),
    ];
    const boundary = new aws.iam.Policy(
      `${n}-environment-boundary`,
      {
        path: "/portal/",
        description: "Permissions boundary of every role the portal's worker creates for environments",
        // The portal's own database password is an `rds!db-…` secret like environments' databases': denied.
        policy: pulumi
          .all([partition, accountId, dbSecretArn, passphraseSecret.arn, webDbSecret.arn])
          .apply(([p, acc, ...own]) => JSON.stringify(environmentRoleBoundary(p, acc, own))),
        tags: named("environment-boundary"),
      },
      { parent },
    );
    const workerRole = new aws.iam.Role(
      `${n}-worker`,
      {
        path: "/portal/",
        assumeRolePolicy: assumedByTasks,
        description: `Portal ${n}'s worker: creates, changes and destroys environments and networks`,
        tags: named("worker"),
      },
      { parent },
    );
    const cluster = new aws.ecs.Cluster(
      n,
      { settings: [{ name: "containerInsights", value: "enabled" }], tags: named("cluster") },
      { parent },
    );
    const workerGrant = new aws.iam.RolePolicy(
      `${n}-worker`,
      {
        role: workerRole.id,
        policy: pulumi
          .all([partition, accountId, boundary.arn, region, cluster.name])
          .apply(([p, acc, boundaryArn, r, clusterName]) =>
            JSON.stringify(
              workerPolicy({
                partition: p,
                accountId: acc,
                regions: a.environmentRegions,
                boundaryArn,
                // Its own task's scale-in protection (server/worker/task-protection.ts in the portal).
                ownCluster: { region: r, name: clusterName },
              }),
            ),
          ),
      },
      { parent },
    );

    // ---- load balancer: HTTPS only, sign-in by the ALB's OIDC action ----
    const alb = new aws.lb.LoadBalancer(
      `${n}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: a.network.publicSubnetIds,
        securityGroups: [sg.alb.id],
        dropInvalidHeaderFields: true,
        // Above the event streams' 15 s keep-alive, with room.
        idleTimeout: 120,
        tags: named("alb"),
      },
      { parent },
    );
    const targetGroup = new aws.lb.TargetGroup(
      `${n}-web`,
      {
        vpcId: a.network.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port: PORTAL_PORT,
        // LIVENESS (the process serves), not /api/health (the database answers): a database failover must not
        // make ECS replace every healthy web task. Readiness is for people and monitors.
        healthCheck: {
          protocol: "HTTP",
          path: PORTAL_LIVENESS_PATH,
          matcher: "200",
          interval: 15,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        deregistrationDelay: 30,
        tags: named("web"),
      },
      { parent },
    );
    const https = new aws.lb.Listener(
      `${n}-https`,
      {
        loadBalancerArn: alb.arn,
        protocol: "HTTPS",
        port: 443,
        certificateArn: a.certificateArn,
        sslPolicy: SSL_POLICY,
        defaultActions: [
          {
            // Nobody reaches the portal unsigned: the ALB runs the OpenID Connect sign-in and then forwards with
            // the user's claims signed in x-amzn-oidc-data, which the portal verifies (proxy-jwt).
            type: "authenticate-oidc",
            order: 1,
            authenticateOidc: {
              issuer: a.oidc.issuer,
              authorizationEndpoint: a.oidc.authorizationEndpoint,
              tokenEndpoint: a.oidc.tokenEndpoint,
              userInfoEndpoint: a.oidc.userInfoEndpoint,
              clientId: a.oidc.clientId,
              clientSecret: pulumi.secret(oidcClientSecret),
              scope: a.oidc.scope,
              sessionTimeout: a.oidc.sessionTimeout,
              onUnauthenticatedRequest: "authenticate",
            },
          },
          { type: "forward", order: 2, targetGroupArn: targetGroup.arn },
        ],
        tags: named("https"),
      },
      { parent },
    );
    const http = new aws.lb.Listener(
      `${n}-http`,
      {
        loadBalancerArn: alb.arn,
        protocol: "HTTP",
        port: 80,
        defaultActions: [
          { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
        ],
        tags: named("http"),
      },
      { parent },
    );
    if (a.hostedZoneId) {
      new aws.route53.Record(
        `${n}-dns`,
        {
          zoneId: a.hostedZoneId,
          name: a.domainName,
          type: "A",
          aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
        },
        { parent },
      );
    }

    // ---- ECS: one image, two services (the cluster is made with the worker's role, which names it) ----
    const logGroup = (role: string) =>
      new aws.cloudwatch.LogGroup(
        `${n}-${role}`,
        // Outside /platform/: the worker may manage environments' log groups there, never the portal's.
        { name: `/portal/${n}/${role}`, retentionInDays: a.logRetentionDays, tags: named(`${role}-logs`) },
        { parent },
      );
    const database: Env[] = [
      { name: "DATABASE_HOST", value: db.address },
      { name: "DATABASE_PORT", value: db.port.apply(String) },
      { name: "DATABASE_NAME", value: "portal" },
      // RDS for PostgreSQL 15+ requires TLS; the certificate is verified against the bundle in the image.
      { name: "DATABASE_SSLMODE", value: "verify-full" },
      { name: "DATABASE_SSLROOTCERT", value: RDS_CA_BUNDLE },
    ];
    // The worker connects as the owner (RDS's managed credentials); the web process only as its own role.
    const ownerSecrets = [
      { name: "DATABASE_USER", valueFrom: pulumi.interpolate`${dbSecretArn}:username::` },
      { name: "DATABASE_PASSWORD", valueFrom: pulumi.interpolate`${dbSecretArn}:password::` },
    ];
    const webRoleSecrets = [{ name: "WEB_DATABASE_PASSWORD", valueFrom: webDbSecret.arn }];
    const common: Env[] = [
      ...database,
      { name: "WEB_DATABASE_USER", value: WEB_DB_ROLE },
      { name: "AWS_REGIONS", value: a.environmentRegions.join(",") },
      // Environments of this portal run on AWS; the local target would run them inside the worker's task.
      { name: "LOCAL_TARGET", value: "off" },
    ];
    const webEnv: Env[] = [
      ...common,
      { name: "PORTAL_ROLE", value: "web" },
      { name: "PORT", value: String(PORTAL_PORT) },
      { name: "LISTEN_HOST", value: "0.0.0.0" },
      // The web process has no AWS credentials (no task role): its workers have them.
      { name: "AWS_ENABLED", value: "true" },
      { name: PROXY_JWT_ENV.mode, value: "proxy-jwt" },
      { name: PROXY_JWT_ENV.header, value: "x-amzn-oidc-data" },
      { name: PROXY_JWT_ENV.keysUrl, value: region.apply(albKeysUrl) },
      { name: PROXY_JWT_ENV.algorithms, value: "ES256" },
      { name: PROXY_JWT_ENV.issuer, value: a.oidc.issuer },
      { name: PROXY_JWT_ENV.signer, value: alb.arn },
      { name: PROXY_JWT_ENV.publicUrl, value: `https://${a.domainName}` },
    ];
    const workerEnv: Env[] = [
      ...common,
      { name: "PORTAL_ROLE", value: "worker" },
      { name: "WORKER_CONCURRENCY", value: String(a.workerConcurrency) },
      { name: "VOTING_APP_IMAGE", value: a.votingAppImage },
      { name: "AWS_ENVIRONMENT_ROLE_BOUNDARY", value: boundary.arn },
      // Within ECS's 120 s stop timeout: running operations are cancelled cleanly and marked interrupted.
      { name: "SHUTDOWN_GRACE_SECONDS", value: "100" },
    ];
    const taskDefinition = (
      role: "web" | "worker",
      env: Env[],
      secrets: { name: string; valueFrom: pulumi.Input<string> }[],
      size: { cpu: number; memory: number },
      taskRoleArn?: pulumi.Input<string>,
    ) => {
      const logs = logGroup(role);
      const container = {
        name: role,
        image: a.image,
        essential: true,
        portMappings: role === "web" ? [{ containerPort: PORTAL_PORT, protocol: "tcp" }] : [],
        environment: env,
        secrets,
        ...(role === "web"
          ? {
              healthCheck: {
                command: [
                  "CMD",
                  "node",
                  "-e",
                  `fetch('http://127.0.0.1:${PORTAL_PORT}${PORTAL_LIVENESS_PATH}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
                ],
                interval: 15,
                timeout: 5,
                retries: 3,
                startPeriod: 60,
              },
            }
          : {}),
        logConfiguration: {
          logDriver: "awslogs",
          options: { "awslogs-group": logs.name, "awslogs-region": region, "awslogs-stream-prefix": role },
        },
        stopTimeout: role === "worker" ? 120 : 30,
      };
      return new aws.ecs.TaskDefinition(
        `${n}-${role}`,
        {
          family: `${n}-${role}`,
          requiresCompatibilities: ["FARGATE"],
          networkMode: "awsvpc",
          cpu: String(size.cpu),
          memory: String(size.memory),
          runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
          executionRoleArn: executionRole.arn,
          taskRoleArn,
          containerDefinitions: pulumi.output([container]).apply((defs) => JSON.stringify(defs)),
          tags: named(role),
        },
        { parent },
      );
    };
    const webTask = taskDefinition("web", webEnv, webRoleSecrets, a.web);
    const workerTask = taskDefinition(
      "worker",
      workerEnv,
      [
        ...ownerSecrets,
        ...webRoleSecrets,
        { name: "PULUMI_CONFIG_PASSPHRASE", valueFrom: passphraseSecret.arn },
      ],
      a.worker,
      workerRole.arn,
    );
    const service = (
      role: "web" | "worker",
      task: aws.ecs.TaskDefinition,
      size: ValidPortalArgs["web"],
      securityGroup: pulumi.Input<string>,
      dependsOn: pulumi.Resource[],
    ) =>
      new aws.ecs.Service(
        `${n}-${role}`,
        {
          cluster: cluster.arn,
          launchType: "FARGATE",
          platformVersion: "LATEST",
          taskDefinition: task.arn,
          desiredCount: size.min,
          networkConfiguration: {
            subnets: a.network.privateSubnetIds,
            securityGroups: [securityGroup],
            assignPublicIp: false,
          },
          ...(role === "web"
            ? {
                loadBalancers: [
                  { targetGroupArn: targetGroup.arn, containerName: "web", containerPort: PORTAL_PORT },
                ],
                healthCheckGracePeriodSeconds: 60,
              }
            : {}),
          deploymentCircuitBreaker: { enable: true, rollback: true },
          deploymentMinimumHealthyPercent: 100,
          deploymentMaximumPercent: 200,
          waitForSteadyState: true,
          propagateTags: "SERVICE",
          enableEcsManagedTags: true,
          tags: named(role),
        },
        // The scaler owns the running count after creation.
        { parent, dependsOn, ignoreChanges: ["desiredCount"] },
      );
    const prerequisites = [db, passphraseVersion, webDbVersion, ...execGrants];
    const worker = service("worker", workerTask, a.worker, sg.worker.id, [workerGrant, ...prerequisites]);
    // After the worker: its first start migrates the database and creates the web process's role.
    const web = service("web", webTask, a.web, sg.web.id, [https, http, worker, ...prerequisites]);

    // ---- each service scales on its own ----
    const scaling = (role: "web" | "worker", svc: aws.ecs.Service, size: ValidPortalArgs["web"]) => {
      const target = new aws.appautoscaling.Target(
        `${n}-${role}`,
        {
          serviceNamespace: "ecs",
          scalableDimension: "ecs:service:DesiredCount",
          resourceId: pulumi.interpolate`service/${cluster.name}/${svc.name}`,
          minCapacity: size.min,
          maxCapacity: size.max,
          tags: named(`${role}-scaling`),
        },
        { parent },
      );
      const policy = (
        key: string,
        metric: aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfiguration,
      ) =>
        new aws.appautoscaling.Policy(
          `${n}-${role}-${key}`,
          {
            policyType: "TargetTrackingScaling",
            serviceNamespace: target.serviceNamespace,
            scalableDimension: target.scalableDimension,
            resourceId: target.resourceId,
            targetTrackingScalingPolicyConfiguration: metric,
          },
          { parent },
        );
      policy("cpu", {
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        targetValue: size.targetCpu,
        scaleOutCooldown: 60,
        // Workers scale in slowly: a stopped worker's running operations end as interrupted (see README).
        scaleInCooldown: role === "worker" ? 900 : 300,
      });
      if (role === "web") {
        policy("requests", {
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: pulumi.interpolate`${alb.arnSuffix}/${targetGroup.arnSuffix}`,
          },
          targetValue: 1000,
          scaleOutCooldown: 60,
          scaleInCooldown: 300,
        });
      } else {
        // Pulumi runs are memory hungry too.
        policy("memory", {
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageMemoryUtilization" },
          targetValue: 70,
          scaleOutCooldown: 60,
          scaleInCooldown: 900,
        });
      }
    };
    scaling("web", web, a.web);
    scaling("worker", worker, a.worker);

    this.url = pulumi.output(`https://${a.domainName}`);
    this.albDnsName = alb.dnsName;
    this.albArn = alb.arn;
    this.databaseEndpoint = db.endpoint;
    this.databaseSecretArn = dbSecretArn;
    this.clusterName = cluster.name;
    this.webServiceName = web.name;
    this.workerServiceName = worker.name;
    this.workerRoleArn = workerRole.arn;
    this.environmentRoleBoundaryArn = boundary.arn;
    this.registerOutputs({
      url: this.url,
      albDnsName: this.albDnsName,
      databaseEndpoint: this.databaseEndpoint,
      clusterName: this.clusterName,
      workerRoleArn: this.workerRoleArn,
    });
  }
}
