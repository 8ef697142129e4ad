// What the portal's worker may do in AWS: create, change and destroy environments and networks, nothing else.
//
// How it is scoped (every statement below says which applies):
// - Regions: everything regional is limited to the regions the portal offers (aws:RequestedRegion).
// - Tags: everything the platform creates is tagged ManagedBy=platform-portal (the programs' default tags).
//   Creating requires the tag in the request (aws:RequestTag); changing and deleting requires it on the
//   resource (aws:ResourceTag). So the worker cannot touch anything it did not create.
// - Names: environments' IAM roles live under /platform/environments/, their secrets under
//   platform/environments/, their log groups under /platform/: those are scoped by ARN.
// - IAM: roles can only be created with the permissions boundary (which allows pulling images, writing logs
//   and reading environments' secrets), can only get the ECS task execution managed policy attached, and can
//   only be passed to ECS tasks.
// - Read-only calls (Describe*, List*) cannot be scoped by resource in these services: "*" within the regions.
// - The options' managed services (ElastiCache replication groups, RDS instances and their subnet groups) follow
//   the same tag rule. RDS creates an instance's master password secret (`rds!db-…`) with the caller's
//   permissions: the worker may create, tag, rotate and describe such secrets, never read one (the environment's
//   tasks read theirs through their execution role; the boundary below denies the portal's own).
// - KMS: only grants AWS services make for their own resources (encryption at rest with AWS managed keys).
// Not needed and not granted: ECR (environments run the prebuilt voting-app image), Route 53 (the portal
// creates environments without DNS records), anything on the portal's own resources.
import { ENVIRONMENT_ROLE_PATH, ENVIRONMENT_SECRET_PREFIX } from "../aws/secrets";
import { MANAGED_BY } from "../aws/tags";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export interface WorkerPolicyInput {
  partition: string;
  accountId: string;
  /** Regions environments may be created in. */
  regions: string[];
  /** The permissions boundary every environment role must carry. */
  boundaryArn: string;
  /** The portal's own cluster: the worker protects its own task from scale-in while it runs operations. */
  ownCluster?: { region: string; name: string };
}

const TAG = "ManagedBy";

export function workerPolicy(i: WorkerPolicyInput): PolicyDocument {
  const { partition: p, accountId: a } = i;
  const inRegions = { StringEquals: { "aws:RequestedRegion": i.regions } };
  const requestTagged = {
    StringEquals: { [`aws:RequestTag/${TAG}`]: MANAGED_BY, "aws:RequestedRegion": i.regions },
  };
  const resourceTagged = {
    StringEquals: { [`aws:ResourceTag/${TAG}`]: MANAGED_BY, "aws:RequestedRegion": i.regions },
  };
  const ec2 = (type: string) => `arn:${p}:ec2:*:${a}:${type}/*`;
  const roles = `arn:${p}:iam::${a}:role${ENVIRONMENT_ROLE_PATH}*`;
  const secrets = `arn:${p}:secretsmanager:*:${a}:secret:${ENVIRONMENT_SECRET_PREFIX}*`;
  const logGroups = [
    `arn:${p}:logs:*:${a}:log-group:/platform/*`,
    `arn:${p}:logs:*:${a}:log-group:/platform/*:*`,
  ];
  const execPolicy = `arn:${p}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`;
  const boundary = { StringEquals: { "iam:PermissionsBoundary": i.boundaryArn } };
  const rds = (type: string) => `arn:${p}:rds:*:${a}:${type}:*`;
  const elasticache = (type: string) => `arn:${p}:elasticache:*:${a}:${type}:*`;
  const rdsManagedSecrets = `arn:${p}:secretsmanager:*:${a}:secret:rds!*`;

  const ec2Created = [
    "vpc",
    "subnet",
    "internet-gateway",
    "route-table",
    "natgateway",
    "elastic-ip",
    "security-group",
    "security-group-rule",
    "vpc-endpoint",
  ].map(ec2);

  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadOnlyLookups",
        Effect: "Allow",
        Action: [
          "ec2:Describe*",
          "elasticloadbalancing:Describe*",
          "ecs:Describe*",
          "ecs:List*",
          "logs:DescribeLogGroups",
          "application-autoscaling:Describe*",
          "elasticache:Describe*",
          "elasticache:ListTagsForResource",
          "rds:Describe*",
          "rds:ListTagsForResource",
        ],
        Resource: ["*"],
        Condition: inRegions,
      },
      {
        Sid: "Ec2CreateTagged",
        Effect: "Allow",
        Action: [
          "ec2:CreateVpc",
          "ec2:CreateSubnet",
          "ec2:CreateInternetGateway",
          "ec2:CreateRouteTable",
          "ec2:CreateNatGateway",
          "ec2:AllocateAddress",
          "ec2:CreateSecurityGroup",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:AuthorizeSecurityGroupEgress",
          "ec2:CreateVpcEndpoint",
        ],
        Resource: ec2Created,
        Condition: requestTagged,
      },
      {
        Sid: "Ec2TagOnCreateOnly",
        Effect: "Allow",
        Action: ["ec2:CreateTags"],
        Resource: ec2Created,
        Condition: {
          StringEquals: {
            "ec2:CreateAction": [
              "CreateVpc",
              "CreateSubnet",
              "CreateInternetGateway",
              "CreateRouteTable",
              "CreateNatGateway",
              "AllocateAddress",
              "CreateSecurityGroup",
              "AuthorizeSecurityGroupIngress",
              "AuthorizeSecurityGroupEgress",
              "CreateVpcEndpoint",
            ],
            [`aws:RequestTag/${TAG}`]: MANAGED_BY,
            "aws:RequestedRegion": i.regions,
          },
        },
      },
      {
        // Security groups of environments go into the region's network, which may be an adopted VPC that
        // carries no platform tag: only this one action may use a VPC that is not the platform's.
        Sid: "Ec2SecurityGroupsInNetworks",
        Effect: "Allow",
        Action: ["ec2:CreateSecurityGroup"],
        Resource: [ec2("vpc")],
        Condition: inRegions,
      },
      {
        Sid: "Ec2ChangeOwn",
        Effect: "Allow",
        Action: [
          "ec2:CreateSubnet",
          "ec2:CreateRouteTable",
          "ec2:CreateRoute",
          "ec2:ReplaceRoute",
          "ec2:DeleteRoute",
          "ec2:CreateNatGateway",
          "ec2:CreateVpcEndpoint",
          "ec2:ModifyVpcEndpoint",
          "ec2:AssociateRouteTable",
          "ec2:DisassociateRouteTable",
          "ec2:AttachInternetGateway",
          "ec2:DetachInternetGateway",
          "ec2:ModifyVpcAttribute",
          "ec2:ModifySubnetAttribute",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:AuthorizeSecurityGroupEgress",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupEgress",
          "ec2:ModifySecurityGroupRules",
          "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
          "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
          "ec2:CreateTags",
          "ec2:DeleteTags",
          "ec2:DeleteSecurityGroup",
          "ec2:DeleteNatGateway",
          "ec2:DisassociateAddress",
          "ec2:ReleaseAddress",
          "ec2:DeleteRouteTable",
          "ec2:DeleteInternetGateway",
          "ec2:DeleteSubnet",
          "ec2:DeleteVpcEndpoints",
          "ec2:DeleteVpc",
        ],
        Resource: [`arn:${p}:ec2:*:${a}:*`],
        Condition: resourceTagged,
      },
      {
        Sid: "LoadBalancersCreateTagged",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateLoadBalancer",
          "elasticloadbalancing:CreateTargetGroup",
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:AddTags",
        ],
        Resource: [
          `arn:${p}:elasticloadbalancing:*:${a}:loadbalancer/*`,
          `arn:${p}:elasticloadbalancing:*:${a}:targetgroup/*`,
          `arn:${p}:elasticloadbalancing:*:${a}:listener/*`,
        ],
        Condition: requestTagged,
      },
      {
        Sid: "LoadBalancersChangeOwn",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:AddTags",
          "elasticloadbalancing:RemoveTags",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:DeleteLoadBalancer",
        ],
        Resource: [
          `arn:${p}:elasticloadbalancing:*:${a}:loadbalancer/*`,
          `arn:${p}:elasticloadbalancing:*:${a}:targetgroup/*`,
          `arn:${p}:elasticloadbalancing:*:${a}:listener/*`,
        ],
        Condition: resourceTagged,
      },
      {
        Sid: "EcsCreateTagged",
        Effect: "Allow",
        Action: ["ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:CreateService", "ecs:TagResource"],
        Resource: [
          `arn:${p}:ecs:*:${a}:cluster/*`,
          `arn:${p}:ecs:*:${a}:task-definition/*`,
          `arn:${p}:ecs:*:${a}:service/*`,
        ],
        Condition: requestTagged,
      },
      {
        Sid: "EcsChangeOwn",
        Effect: "Allow",
        Action: [
          "ecs:CreateService",
          "ecs:UpdateService",
          "ecs:DeleteService",
          "ecs:UpdateCluster",
          "ecs:UpdateClusterSettings",
          "ecs:DeleteCluster",
          "ecs:TagResource",
          "ecs:UntagResource",
        ],
        Resource: [`arn:${p}:ecs:*:${a}:cluster/*`, `arn:${p}:ecs:*:${a}:service/*`],
        Condition: resourceTagged,
      },
      {
        // ECS offers no resource-level permission for these: region-limited.
        Sid: "EcsTaskDefinitionRevisions",
        Effect: "Allow",
        Action: ["ecs:DeregisterTaskDefinition"],
        Resource: ["*"],
        Condition: inRegions,
      },
      {
        Sid: "AutoScalingOfServices",
        Effect: "Allow",
        Action: [
          "application-autoscaling:RegisterScalableTarget",
          "application-autoscaling:DeregisterScalableTarget",
          "application-autoscaling:PutScalingPolicy",
          "application-autoscaling:DeleteScalingPolicy",
          "application-autoscaling:TagResource",
          "application-autoscaling:ListTagsForResource",
        ],
        Resource: ["*"],
        Condition: inRegions,
      },
      {
        // Target tracking policies create and delete their CloudWatch alarms (named TargetTracking-…).
        Sid: "AutoScalingAlarms",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"],
        Resource: [`arn:${p}:cloudwatch:*:${a}:alarm:TargetTracking-*`],
        Condition: inRegions,
      },
      {
        // The cache option. The default parameter group is AWS's (not taggable): named, not tagged.
        Sid: "ElastiCacheCreateTagged",
        Effect: "Allow",
        Action: [
          "elasticache:CreateReplicationGroup",
          "elasticache:CreateCacheCluster",
          "elasticache:CreateCacheSubnetGroup",
          "elasticache:AddTagsToResource",
        ],
        Resource: [
          elasticache("replicationgroup"),
          elasticache("cluster"),
          elasticache("subnetgroup"),
          `arn:${p}:elasticache:*:${a}:parametergroup:default.*`,
        ],
        Condition: requestTagged,
      },
      {
        Sid: "ElastiCacheChangeOwn",
        Effect: "Allow",
        Action: [
          "elasticache:ModifyReplicationGroup",
          "elasticache:IncreaseReplicaCount",
          "elasticache:DecreaseReplicaCount",
          "elasticache:CreateCacheCluster",
          "elasticache:DeleteCacheCluster",
          "elasticache:ModifyCacheSubnetGroup",
          "elasticache:AddTagsToResource",
          "elasticache:RemoveTagsFromResource",
          "elasticache:DeleteReplicationGroup",
          "elasticache:DeleteCacheSubnetGroup",
        ],
        Resource: [elasticache("replicationgroup"), elasticache("cluster"), elasticache("subnetgroup")],
        Condition: resourceTagged,
      },
      {
        // The database option.
        Sid: "RdsCreateTagged",
        Effect: "Allow",
        Action: ["rds:CreateDBInstance", "rds:CreateDBSubnetGroup", "rds:AddTagsToResource"],
        Resource: [rds("db"), rds("subgrp")],
        Condition: requestTagged,
      },
      {
        // What CreateDBInstance also names: AWS's default parameter and option groups (not the platform's).
        Sid: "RdsDefaultGroups",
        Effect: "Allow",
        Action: ["rds:CreateDBInstance"],
        Resource: [`arn:${p}:rds:*:${a}:pg:default.*`, `arn:${p}:rds:*:${a}:og:default:*`],
        Condition: inRegions,
      },
      {
        Sid: "RdsChangeOwn",
        Effect: "Allow",
        Action: [
          "rds:ModifyDBInstance",
          "rds:RebootDBInstance",
          "rds:ModifyDBSubnetGroup",
          "rds:AddTagsToResource",
          "rds:RemoveTagsFromResource",
          "rds:DeleteDBInstance",
          "rds:DeleteDBSubnetGroup",
        ],
        Resource: [rds("db"), rds("subgrp")],
        Condition: resourceTagged,
      },
      {
        // A database with deletion protection gets a final snapshot when deleted (its tags copied to it).
        Sid: "RdsFinalSnapshots",
        Effect: "Allow",
        Action: ["rds:CreateDBSnapshot", "rds:AddTagsToResource"],
        Resource: [rds("snapshot")],
        Condition: requestTagged,
      },
      {
        Sid: "RdsFinalSnapshotOfOwn",
        Effect: "Allow",
        Action: ["rds:CreateDBSnapshot"],
        Resource: [rds("db")],
        Condition: resourceTagged,
      },
      {
        // RDS creates, tags and rotates an instance's master password secret with the caller's permissions
        // (manageMasterUserPassword). No GetSecretValue: the worker never reads a database password.
        Sid: "RdsManagedPasswordSecrets",
        Effect: "Allow",
        Action: [
          "secretsmanager:CreateSecret",
          "secretsmanager:TagResource",
          "secretsmanager:RotateSecret",
          "secretsmanager:DescribeSecret",
        ],
        Resource: [rdsManagedSecrets],
        Condition: inRegions,
      },
      {
        // Encryption at rest with AWS managed keys: grants only the services make for their own resources.
        Sid: "KmsGrantsForManagedServices",
        Effect: "Allow",
        Action: ["kms:DescribeKey", "kms:CreateGrant"],
        Resource: [`arn:${p}:kms:*:${a}:key/*`],
        Condition: {
          StringLike: {
            "kms:ViaService": [
              "rds.*.amazonaws.com",
              "elasticache.*.amazonaws.com",
              "secretsmanager.*.amazonaws.com",
            ],
          },
          Bool: { "kms:GrantIsForAWSResource": "true" },
          StringEquals: { "aws:RequestedRegion": i.regions },
        },
      },
      {
        Sid: "EnvironmentRolesUnderBoundary",
        Effect: "Allow",
        Action: ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
        Resource: [roles],
        Condition: boundary,
      },
      {
        Sid: "EnvironmentRolesExecutionPolicyOnly",
        Effect: "Allow",
        Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
        Resource: [roles],
        Condition: { ArnEquals: { "iam:PolicyARN": execPolicy }, ...boundary },
      },
      {
        Sid: "EnvironmentRolesManage",
        Effect: "Allow",
        Action: [
          "iam:GetRole",
          "iam:GetRolePolicy",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
          "iam:ListRoleTags",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:UpdateRole",
          "iam:UpdateRoleDescription",
          "iam:UpdateAssumeRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:DeleteRole",
        ],
        Resource: [roles],
      },
      {
        Sid: "EnvironmentRolesToEcsTasksOnly",
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: [roles],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
      {
        Sid: "ServiceLinkedRolesOfUsedServices",
        Effect: "Allow",
        Action: ["iam:CreateServiceLinkedRole"],
        Resource: [`arn:${p}:iam::${a}:role/aws-service-role/*`],
        Condition: {
          StringEquals: {
            "iam:AWSServiceName": [
              "ecs.amazonaws.com",
              "elasticloadbalancing.amazonaws.com",
              "ecs.application-autoscaling.amazonaws.com",
              "elasticache.amazonaws.com",
              "rds.amazonaws.com",
            ],
          },
        },
      },
      {
        Sid: "NoBoundaryRemoval",
        Effect: "Deny",
        Action: ["iam:DeleteRolePermissionsBoundary"],
        Resource: [roles],
      },
      {
        Sid: "EnvironmentSecrets",
        Effect: "Allow",
        Action: [
          "secretsmanager:CreateSecret",
          "secretsmanager:DescribeSecret",
          "secretsmanager:GetSecretValue",
          "secretsmanager:PutSecretValue",
          "secretsmanager:UpdateSecret",
          "secretsmanager:GetResourcePolicy",
          "secretsmanager:ListSecretVersionIds",
          "secretsmanager:TagResource",
          "secretsmanager:UntagResource",
          "secretsmanager:DeleteSecret",
        ],
        Resource: [secrets],
        Condition: inRegions,
      },
      ...(i.ownCluster
        ? [
            {
              Sid: "OwnTaskScaleInProtection",
              Effect: "Allow" as const,
              Action: ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
              Resource: [`arn:${p}:ecs:${i.ownCluster.region}:${a}:task/${i.ownCluster.name}/*`],
            },
          ]
        : []),
      {
        Sid: "EnvironmentLogGroups",
        Effect: "Allow",
        Action: [
          "logs:CreateLogGroup",
          "logs:PutRetentionPolicy",
          "logs:DeleteRetentionPolicy",
          "logs:TagResource",
          "logs:UntagResource",
          "logs:TagLogGroup",
          "logs:ListTagsForResource",
          "logs:ListTagsLogGroup",
          "logs:DeleteLogGroup",
        ],
        Resource: logGroups,
        Condition: inRegions,
      },
    ],
  };
}

/**
 * The permissions boundary of every environment role: at most what an ECS task execution role needs to start
 * a voting-app task (pull its image, write its logs, read its Redis password and its database's password).
 * `protectedSecretArns`: secrets no environment role may ever read, whatever its own policy says (the portal's
 * own database password is an `rds!db-…` secret like every environment database's).
 */
export function environmentRoleBoundary(
  partition: string,
  accountId: string,
  protectedSecretArns: string[] = [],
): PolicyDocument {
  const protectedArns = protectedSecretArns.filter((arn) => arn.length > 0);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PullImages",
        Effect: "Allow",
        Action: [
          "ecr:GetAuthorizationToken",
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
        ],
        Resource: ["*"],
      },
      {
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`arn:${partition}:logs:*:${accountId}:log-group:/platform/*:*`],
      },
      {
        Sid: "ReadEnvironmentSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [
          `arn:${partition}:secretsmanager:*:${accountId}:secret:${ENVIRONMENT_SECRET_PREFIX}*`,
          // The database option's password, created and kept by RDS.
          `arn:${partition}:secretsmanager:*:${accountId}:secret:rds!db-*`,
        ],
      },
      ...(protectedArns.length > 0
        ? [
            {
              Sid: "NeverThePortalsSecrets",
              Effect: "Deny" as const,
              Action: ["secretsmanager:*"],
              Resource: protectedArns,
            },
          ]
        : []),
    ],
  };
}
