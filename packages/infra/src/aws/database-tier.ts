// The database tier: RDS for PostgreSQL, the durable record of every vote (the voting app's durable mode).
//
//   frontend tasks ──TLS 5432──▶ RDS PostgreSQL (private subnets, not public, encrypted)
//
// The master credentials are created and kept by RDS in Secrets Manager (manageMasterUserPassword): no password
// passes through Pulumi or its state. The frontend reads the password from that secret as an ECS secret (the
// execution role may read that one secret) and gets host, port, database and user as plain settings. The
// instance's security group admits 5432 from the frontend's group only. Deletion protection is off for
// ephemeral environments (destroy deletes the instance without a final snapshot) and on when asked (AWS then
// refuses to delete it, and a final snapshot is taken once it is deleted).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { awsNames } from "./args";
import type { TierContext } from "./fargate";

/** What a tier outside ECS needs of the component's context. */
type TierBase = Pick<TierContext, "args" | "tags" | "parent" | "privateSubnetIds">;

import { groupRule } from "./sg-rule";
import { named } from "./tags";

export const POSTGRES_PORT = 5432;
/** PostgreSQL major version; RDS applies minor upgrades in the maintenance window. */
export const POSTGRES_ENGINE_VERSION = "16";
export const DATABASE_NAME = "voting";
export const DATABASE_USER = "voting_admin";

export interface DatabaseTier {
  instance: aws.rds.Instance;
  securityGroup: aws.ec2.SecurityGroup;
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  /** The RDS-managed secret ({"username","password"}); the frontend reads its `password` key. */
  secretArn: pulumi.Output<string>;
}

export interface DatabaseWiring {
  vpcId: pulumi.Input<string>;
  frontendSecurityGroupId: pulumi.Input<string>;
}

export function createDatabaseTier(ctx: TierBase, w: DatabaseWiring): DatabaseTier | undefined {
  const { args, tags, parent } = ctx;
  const options = args.database;
  if (!options) return undefined;
  const env = args.name;
  const name = awsNames(env).database;

  const securityGroup = new aws.ec2.SecurityGroup(
    name,
    {
      vpcId: w.vpcId,
      description: "PostgreSQL: 5432 from the frontend tasks only",
      revokeRulesOnDelete: true,
      tags: named(tags, name),
    },
    { parent },
  );
  const dbGroup = { key: "db", groupId: securityGroup.id };
  const frontendGroup = { key: "frontend", groupId: w.frontendSecurityGroupId };
  groupRule(
    env,
    "in",
    dbGroup,
    POSTGRES_PORT,
    frontendGroup,
    "PostgreSQL from the frontend tasks only",
    tags,
    parent,
  );
  groupRule(env, "out", frontendGroup, POSTGRES_PORT, dbGroup, "To the PostgreSQL database", tags, parent);

  const subnetGroup = new aws.rds.SubnetGroup(
    name,
    {
      name,
      description: `Private subnets of voting environment ${env}`,
      subnetIds: ctx.privateSubnetIds,
      tags: named(tags, name),
    },
    { parent },
  );

  // A final snapshot needs a name no earlier snapshot has (an environment can be recreated under its name).
  const finalSnapshot = options.deletionProtection
    ? new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, { parent }).hex.apply(
        (suffix) => `${name}-final-${suffix}`,
      )
    : undefined;

  const instance = new aws.rds.Instance(
    name,
    {
      identifier: name,
      engine: "postgres",
      engineVersion: POSTGRES_ENGINE_VERSION,
      instanceClass: options.instanceClass,
      allocatedStorage: options.storageGb,
      storageType: "gp3",
      storageEncrypted: true,
      dbName: DATABASE_NAME,
      username: DATABASE_USER,
      manageMasterUserPassword: true,
      port: POSTGRES_PORT,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      publiclyAccessible: false,
      backupRetentionPeriod: options.backupRetentionDays,
      copyTagsToSnapshot: true,
      deletionProtection: options.deletionProtection,
      skipFinalSnapshot: !options.deletionProtection,
      finalSnapshotIdentifier: finalSnapshot,
      autoMinorVersionUpgrade: true,
      // Class, storage and retention changes apply now, not in the next maintenance window.
      applyImmediately: true,
      tags: named(tags, name),
    },
    { parent },
  );

  return {
    instance,
    securityGroup,
    host: instance.address,
    port: instance.port,
    secretArn: instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error(`${name}: RDS reported no managed master user secret`);
      return arn;
    }),
  };
}

/** The frontend's settings for the database: plain values, and the password as an ECS secret. */
export function databaseContainerSettings(db: DatabaseTier) {
  return {
    environment: [
      { name: "DATABASE_HOST", value: db.host },
      { name: "DATABASE_PORT", value: db.port.apply(String) },
      { name: "DATABASE_NAME", value: pulumi.output(DATABASE_NAME) },
      { name: "DATABASE_USER", value: pulumi.output(DATABASE_USER) },
      // RDS for PostgreSQL 15+ requires TLS (rds.force_ssl). `require` encrypts; verify-full would need
      // Amazon's RDS CA bundle inside the image (DATABASE_SSL_CA_FILE).
      { name: "DATABASE_SSL", value: pulumi.output("require") },
    ],
    secrets: [{ name: "DATABASE_PASSWORD", valueFrom: pulumi.interpolate`${db.secretArn}:password::` }],
  };
}
