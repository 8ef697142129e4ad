// One security-group rule as its own resource, named like the rules in security-groups.ts
// (`<env>-<group>-<in|out>-<port>-<peer>`), for the tiers that bring their own group (cache, database).
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { named, type Tags } from "./tags";

export interface RulePeer {
  /** Short name of the peer group, used in the rule's name (e.g. "frontend"). */
  key: string;
  groupId: pulumi.Input<string>;
}

export function groupRule(
  env: string,
  direction: "in" | "out",
  on: { key: string; groupId: pulumi.Input<string> },
  port: number,
  peer: RulePeer,
  description: string,
  tags: Tags,
  parent: pulumi.Resource,
): aws.vpc.SecurityGroupIngressRule | aws.vpc.SecurityGroupEgressRule {
  const name = `${env}-${on.key}-${direction}-${port}-${peer.key}`;
  const args = {
    securityGroupId: on.groupId,
    ipProtocol: "tcp",
    fromPort: port,
    toPort: port,
    referencedSecurityGroupId: peer.groupId,
    description,
    tags: named(tags, name),
  };
  return direction === "in"
    ? new aws.vpc.SecurityGroupIngressRule(name, args, { parent })
    : new aws.vpc.SecurityGroupEgressRule(name, args, { parent });
}
