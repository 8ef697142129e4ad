// The Redis password: random by default, always a Pulumi secret, stored in Secrets Manager and handed to containers
// as an ECS secret. It never appears in a task definition; only the task execution role can read it.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ValidVotingEnvironmentArgs } from "./args";
import { managedPolicyArn, partitionOf } from "./partition";
import { named, type Tags } from "./tags";

/** IAM path of every environment's roles. */
export const ENVIRONMENT_ROLE_PATH = "/platform/environments/";
/** Name prefix of every environment's Secrets Manager secrets. */
export const ENVIRONMENT_SECRET_PREFIX = "platform/environments/";

export interface RedisPassword {
  secret: aws.secretsmanager.Secret;
  version: aws.secretsmanager.SecretVersion;
  /** The value, as a Pulumi secret (encrypted in the state). */
  value: pulumi.Output<string>;
}

export function createRedisPassword(
  args: ValidVotingEnvironmentArgs,
  tags: Tags,
  parent: pulumi.Resource,
): RedisPassword {
  const env = args.name;
  const value = args.redisPassword
    ? pulumi.secret(args.redisPassword)
    : // Letters and digits only: safe in a shell argument, a URL and a redis.conf line alike.
      new random.RandomPassword(`${env}-redis-password`, { length: 32, special: false }, { parent }).result;
  const secret = new aws.secretsmanager.Secret(
    `${env}-redis-password`,
    {
      // Under one prefix, so the portal's worker can be allowed secrets of environments only (by ARN).
      namePrefix: `${ENVIRONMENT_SECRET_PREFIX}${env}/redis-password-`,
      description: `Redis password of voting environment ${env}`,
      // Deleted at once on destroy: an environment recreated under the same name must not wait 7-30 days.
      recoveryWindowInDays: 0,
      tags: named(tags, `${env}-redis-password`),
    },
    { parent },
  );
  const version = new aws.secretsmanager.SecretVersion(
    `${env}-redis-password`,
    { secretId: secret.id, secretString: value },
    { parent },
  );
  return { secret, version, value };
}

export interface ExecutionRole {
  role: aws.iam.Role;
  /**
   * The role's permissions. Tasks must not start before these exist: the role's ARN resolves as soon as the role
   * is created, without its policies, and a task started then fails to read its secret.
   */
  grants: pulumi.Resource[];
}

/**
 * The role ECS uses to start tasks: pull images, write logs, and read the environment's secrets (the Redis
 * password; the database's managed credentials when there is a database), nothing more.
 */
export function createExecutionRole(
  env: string,
  secretArns: pulumi.Input<string> | pulumi.Input<string>[],
  tags: Tags,
  parent: pulumi.Resource,
  permissionsBoundary?: string,
): ExecutionRole {
  const role = new aws.iam.Role(
    `${env}-task-exec`,
    {
      // Under one path, so the portal's worker can be allowed to manage (and pass) environments' roles only.
      path: ENVIRONMENT_ROLE_PATH,
      // With the portal on AWS, a boundary caps what any role the worker creates could ever be granted.
      permissionsBoundary,
      description: `ECS task execution role of voting environment ${env}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
      tags: named(tags, `${env}-task-exec`),
    },
    { parent },
  );
  const managed = new aws.iam.RolePolicyAttachment(
    `${env}-task-exec`,
    {
      role: role.name,
      // Not aws.iam.ManagedPolicy.*: those constants are commercial-partition ARNs (arn:aws:…).
      policyArn: managedPolicyArn(partitionOf(parent), "service-role/AmazonECSTaskExecutionRolePolicy"),
    },
    { parent },
  );
  const readPassword = new aws.iam.RolePolicy(
    `${env}-task-exec-redis-password`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: Array.isArray(secretArns) ? secretArns : [secretArns],
          },
        ],
      }),
    },
    { parent },
  );
  return { role, grants: [managed, readPassword] };
}
