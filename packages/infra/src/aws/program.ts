// The inline Pulumi program the operations run for target "aws": EnvironmentSpec in, EnvironmentOutputs out.
import * as aws from "@pulumi/aws";
import { z } from "zod";
import type { EnvironmentSpec } from "../operations/types";
import { defaultNetworkName, networkNameSchema } from "../spec";
import {
  certificateArnSchema,
  parseVotingEnvironmentArgs,
  toIssues,
  type VotingEnvironmentArgs,
  VotingEnvironmentArgsError,
} from "./args";
import { networkFromStack } from "./network-reference";
import { environmentTags } from "./tags";
import { VotingEnvironment, type VotingEnvironmentOutputs } from "./voting-environment";

/** Owner tag value when the spec names nobody. */
export const UNKNOWN_OWNER = "unknown";

const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

// Only what this program reads from the spec; the VotingEnvironment schema checks the rest (name, counts, owner).
const awsSpecSchema = z
  .object({
    target: z.literal("aws", { error: 'target must be "aws" for the AWS program' }),
    aws: z.object(
      {
        region: z.string().regex(REGION_PATTERN, "aws.region must be an AWS region such as eu-west-1"),
        certificateArn: certificateArnSchema.optional(),
        network: networkNameSchema.optional(),
      },
      { error: "aws options (region) are required for target aws" },
    ),
  })
  .superRefine((s, ctx) => {
    const arn = s.aws.certificateArn;
    // An ALB can only use an ACM certificate from its own region.
    if (arn && arn.split(":")[3] !== s.aws.region) {
      ctx.addIssue({
        code: "custom",
        path: ["aws", "certificateArn"],
        message: `aws.certificateArn must be in the environment's region ${s.aws.region}`,
      });
    }
  });

export interface AwsEnvironmentOutputs extends VotingEnvironmentOutputs {
  region: string;
  /** The network stack the environment lives in (absent when `overrides.network` gave the VPC directly). */
  network?: string;
}

/**
 * Settings the portal's spec does not carry, for operators (bigger tasks, autoscaling, a prebuilt image, or a
 * VPC given directly instead of the network stack).
 */
export type AwsEnvironmentOverrides = Omit<
  Partial<VotingEnvironmentArgs>,
  "name" | "owner" | "frontendReplicas" | "redisReplicas" | "certificateArn" | "cache" | "database"
>;

/** Stands in for the network until the program reads it, so the spec's other args can be checked up front. */
const PLACEHOLDER_NETWORK = {
  vpcId: "vpc-00000000",
  privateSubnetIds: ["subnet-00000001", "subnet-00000002"],
  publicSubnetIds: ["subnet-00000003", "subnet-00000004"],
};

/**
 * The spec's owner as a valid AWS tag value: the portal may send any display name or e-mail, and a character AWS
 * tags do not allow (e.g. an apostrophe) must not fail a deployment.
 */
export function ownerTagValue(owner: string | undefined): string {
  const cleaned = (owner ?? "")
    .replace(/[^\p{L}\p{N}\s+\-=._:/@]/gu, "-")
    .trim()
    .slice(0, 256);
  return cleaned || UNKNOWN_OWNER;
}

/**
 * The inline program for `LocalWorkspace.createOrSelectStack({ program })`. The whole spec is validated when this
 * is called (throws VotingEnvironmentArgsError listing every problem), so a bad spec fails before Pulumi starts.
 */
export function awsEnvironmentProgram(
  spec: EnvironmentSpec,
  overrides: AwsEnvironmentOverrides = {},
): () => Promise<AwsEnvironmentOutputs> {
  const parsed = awsSpecSchema.safeParse(spec);
  if (!parsed.success) throw new VotingEnvironmentArgsError(toIssues(parsed.error));
  const { region, certificateArn } = parsed.data.aws;
  const networkName = overrides.network ? undefined : (parsed.data.aws.network ?? defaultNetworkName(region));
  const owner = ownerTagValue(spec.owner);
  const args: Omit<VotingEnvironmentArgs, "network"> & Partial<Pick<VotingEnvironmentArgs, "network">> = {
    ...overrides,
    name: spec.name,
    owner,
    frontendReplicas: spec.frontendReplicas,
    redisReplicas: spec.redisReplicas,
    certificateArn,
    // The tiers' options come from the spec alone (the portal's form): absent means Redis on Fargate, no database.
    cache: spec.cache,
    database: spec.database,
    // The voting app's texts travel in the spec's `local` options today; they apply to both targets.
    voteOptions: spec.local?.voteOptions?.split(",").map((o) => o.trim()) ?? overrides.voteOptions,
    appTitle: spec.local?.appTitle ?? overrides.appTitle,
    allowReset: spec.app?.allowReset ?? overrides.allowReset ?? false,
  };
  // Fail now, not halfway through a Pulumi run.
  parseVotingEnvironmentArgs({ ...args, network: args.network ?? PLACEHOLDER_NETWORK });
  return async () => {
    // An explicit provider: the region comes from the spec, not from ambient config; default tags also cover
    // what component resources create on the provider's side.
    const provider = new aws.Provider("aws", {
      region: region as aws.Region,
      defaultTags: { tags: environmentTags(spec.name, owner) },
    });
    const network = networkName
      ? await networkFromStack(networkName, { region, provider })
      : (args.network as VotingEnvironmentArgs["network"]);
    const environment = new VotingEnvironment(
      spec.name,
      { ...args, network },
      { providers: { aws: provider } },
    );
    return { ...environment.outputs(), region, ...(networkName ? { network: networkName } : {}) };
  };
}
