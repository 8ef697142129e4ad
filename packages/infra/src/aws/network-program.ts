// The inline program the operations run for a network stack: NetworkSpec in, NetworkOutputs out.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { NetworkSpec } from "../operations/types";
import { networkSpecSchema } from "../spec";
import { toIssues } from "./args";
import {
  adoptedNetworkFacts,
  NetworkArgsError,
  PlatformNetwork,
  type PlatformNetworkOutputs,
} from "./network";
import { ownerTagValue } from "./program";
import { MANAGED_BY } from "./tags";

export interface AwsNetworkOutputs extends PlatformNetworkOutputs {
  region: string;
  /** The account the network lives in: environments check they deploy into the same one. */
  accountId: pulumi.Output<string>;
}

/**
 * The inline program of a network. The spec is validated when this is called (throws NetworkArgsError); an
 * adopted VPC is checked against AWS when the program runs, before anything is registered.
 */
export function awsNetworkProgram(spec: NetworkSpec): () => Promise<AwsNetworkOutputs> {
  const parsed = networkSpecSchema.safeParse(spec);
  if (!parsed.success) throw new NetworkArgsError(toIssues(parsed.error));
  const s = parsed.data;
  const owner = ownerTagValue(s.owner);
  return async () => {
    const provider = new aws.Provider("aws", {
      region: s.region as aws.Region,
      defaultTags: { tags: { Network: s.name, Owner: owner, ManagedBy: MANAGED_BY } },
    });
    const adopted = s.existing ? await adoptedNetworkFacts(s.existing, { provider }) : undefined;
    const network = new PlatformNetwork(
      s.name,
      {
        name: s.name,
        owner,
        availabilityZones: s.availabilityZones,
        natGateways: s.natGateways,
        cidrBlock: s.cidrBlock,
        existing: s.existing,
        adopted,
      },
      { providers: { aws: provider } },
    );
    const identity = aws.getCallerIdentityOutput({}, { provider });
    return { ...network.outputs(), region: s.region, accountId: identity.accountId };
  };
}
