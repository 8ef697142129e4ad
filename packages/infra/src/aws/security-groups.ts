// Security groups with explicit, single-purpose rules (aws.vpc.SecurityGroup{Ingress,Egress}Rule), so the whole rule
// set is visible in one place and to the tests. Groups are created without inline rules; the AWS provider removes
// the default allow-all egress rule AWS adds to a new group, so only what is listed here is open.
//
// Traffic paths and why the Redis rules look the way they do:
//
//   internet ─80/443─▶ [alb] ─app port─▶ [frontend] ─6379/6380─▶ [nlb] ─6379─▶ [redis]
//                                                         ▲                    │
//                                                         └──6379 (replicas ───┘
//                                                              → writer endpoint)
//
// The Redis tier sits behind an internal Network Load Balancer that has its own security group (NLBs support
// groups since 2023; they can only be attached when the NLB is created). Its target groups have type `ip` with
// client IP preservation turned OFF (`preserveClientIp: "false"`, the default for ip targets, set explicitly
// in redis-tier.ts), so a Redis task sees every connection, including health checks, coming from the NLB's own
// ENIs, i.e. from the NLB's group. The rule "Redis takes 6379 only from the frontend's group" is therefore
// enforced at the NLB, the single way in: the NLB group admits 6379 (and the reader port 6380) from the
// frontend group only, plus 6379 from the Redis group because replicas replicate from the writer endpoint; the
// Redis task group admits 6379 from the NLB group only. With client IP preservation ON, tasks would see the
// frontend's address instead and would need the frontend group (and health checks would need the VPC range),
// so we keep it off. Nothing is open to 0.0.0.0/0 inbound except the ALB's listener ports.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { REDIS_PORT, REDIS_READER_PORT, type ValidVotingEnvironmentArgs } from "./args";
import { named, type Tags } from "./tags";

export interface SecurityGroups {
  alb: aws.ec2.SecurityGroup;
  frontend: aws.ec2.SecurityGroup;
  /** Redis on Fargate only (an ElastiCache cache and a database bring their own groups: elasticache-tier.ts, database-tier.ts). */
  nlb?: aws.ec2.SecurityGroup;
  redis?: aws.ec2.SecurityGroup;
}

const ANYWHERE_V4 = "0.0.0.0/0";
const HTTPS = 443;

type Peer = { group: aws.ec2.SecurityGroup; key: string } | { cidr: string; key: string };

export function createSecurityGroups(
  args: ValidVotingEnvironmentArgs,
  vpcId: pulumi.Input<string>,
  tags: Tags,
  parent: pulumi.Resource,
): SecurityGroups {
  const env = args.name;
  const fargateRedis = args.cache.kind === "redis";
  const hasReaders = fargateRedis && args.redisReplicas > 1;
  const group = (key: string, description: string) =>
    new aws.ec2.SecurityGroup(
      `${env}-${key}`,
      { vpcId, description, revokeRulesOnDelete: true, tags: named(tags, `${env}-${key}`) },
      { parent },
    );
  const sg: SecurityGroups = {
    alb: group("alb", "Public load balancer of the voting app: HTTP(S) from the internet"),
    frontend: group("frontend", "Voting app tasks: app port from the public load balancer only"),
  };
  if (fargateRedis) {
    sg.nlb = group(
      "redis-nlb",
      "Internal Redis load balancer: Redis ports from the frontend (and replicas) only",
    );
    sg.redis = group("redis", "Redis tasks: 6379 from the internal Redis load balancer only");
  }

  const rule = (
    direction: "in" | "out",
    on: keyof SecurityGroups,
    port: number,
    peer: Peer,
    description: string,
  ) => {
    const name = `${env}-${on}-${direction}-${port}-${peer.key}`;
    const common = {
      securityGroupId: (sg[on] as aws.ec2.SecurityGroup).id,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
      tags: named(tags, name),
      ...("cidr" in peer ? { cidrIpv4: peer.cidr } : { referencedSecurityGroupId: peer.group.id }),
    };
    return direction === "in"
      ? new aws.vpc.SecurityGroupIngressRule(name, common, { parent })
      : new aws.vpc.SecurityGroupEgressRule(name, common, { parent });
  };
  const internet: Peer = { cidr: ANYWHERE_V4, key: "internet" };
  const peer = (key: keyof SecurityGroups): Peer => ({ group: sg[key] as aws.ec2.SecurityGroup, key });

  // Public load balancer: only its listener ports are open to the internet.
  rule("in", "alb", 80, internet, "HTTP from the internet");
  if (args.certificateArn) rule("in", "alb", HTTPS, internet, "HTTPS from the internet");
  rule("out", "alb", args.appPort, peer("frontend"), "To the voting app tasks (traffic and health checks)");

  // Frontend tasks.
  rule("in", "frontend", args.appPort, peer("alb"), "From the public load balancer only");
  // ECR image pulls, CloudWatch Logs and Secrets Manager are HTTPS endpoints reached through the NAT gateway.
  rule("out", "frontend", HTTPS, internet, "HTTPS to AWS APIs (ECR, CloudWatch Logs, Secrets Manager)");
  if (!fargateRedis) return sg;
  rule("out", "frontend", REDIS_PORT, peer("nlb"), "To the Redis writer endpoint");
  if (hasReaders) rule("out", "frontend", REDIS_READER_PORT, peer("nlb"), "To the Redis reader endpoint");

  // Internal Redis load balancer: the only way into Redis.
  rule("in", "nlb", REDIS_PORT, peer("frontend"), "Writer endpoint from the frontend tasks");
  if (hasReaders) {
    rule("in", "nlb", REDIS_READER_PORT, peer("frontend"), "Reader endpoint from the frontend tasks");
    rule("in", "nlb", REDIS_PORT, peer("redis"), "Writer endpoint from the read replicas (replication)");
  }
  rule("out", "nlb", REDIS_PORT, peer("redis"), "To the Redis tasks (traffic and TCP health checks)");

  // Redis tasks.
  rule("in", "redis", REDIS_PORT, peer("nlb"), "From the internal Redis load balancer only");
  if (hasReaders)
    rule("out", "redis", REDIS_PORT, peer("nlb"), "Replicas to the writer endpoint (replication)");
  rule(
    "out",
    "redis",
    HTTPS,
    internet,
    "HTTPS for the image pull (ECR Public), CloudWatch Logs, Secrets Manager",
  );

  return sg;
}
