// The environment's network: a new two-AZ VPC (awsx) or an existing VPC and its subnets.
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { ValidVotingEnvironmentArgs } from "./args";
import { named, type Tags } from "./tags";

export interface Network {
  vpcId: pulumi.Output<string>;
  /** Tasks and the internal NLB: no route from the internet; outbound through NAT. */
  privateSubnetIds: pulumi.Output<string[]>;
  /** The public ALB. */
  publicSubnetIds: pulumi.Output<string[]>;
}

export function createNetwork(
  args: ValidVotingEnvironmentArgs,
  tags: Tags,
  parent: pulumi.Resource,
): Network {
  if (args.network) {
    return {
      vpcId: pulumi.output(args.network.vpcId),
      privateSubnetIds: pulumi.output(args.network.privateSubnetIds),
      publicSubnetIds: pulumi.output(args.network.publicSubnetIds),
    };
  }
  const vpc = new awsx.ec2.Vpc(
    `${args.name}-vpc`,
    {
      cidrBlock: "10.0.0.0/16",
      numberOfAvailabilityZones: 2,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetStrategy: "Auto",
      subnetSpecs: [
        { type: "Public", cidrMask: 22 },
        { type: "Private", cidrMask: 20 },
      ],
      // Private tasks pull images and ship logs through NAT.
      natGateways: { strategy: args.natGateways === "onePerAz" ? "OnePerAz" : "Single" },
      tags: named(tags, `${args.name}-vpc`),
    },
    { parent },
  );
  return { vpcId: vpc.vpcId, privateSubnetIds: vpc.privateSubnetIds, publicSubnetIds: vpc.publicSubnetIds };
}
