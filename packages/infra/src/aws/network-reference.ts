// How an environment finds its network: the network stack's outputs, read through a StackReference when the
// environment's program runs (preview and up alike), so an environment always uses what the network stack
// currently publishes, and the environment's state records which network it depends on (that record is what
// refuses a network destroy while environments use it).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { ExistingNetwork } from "../operations/types";
import { networkStackReferenceName } from "../projects";

/** The environment cannot use its network. One line: a Pulumi run reports a program error's first line. */
export class NetworkReferenceError extends Error {
  override readonly name = "NetworkReferenceError";
}

const missing = (key: string) => ({ error: `${key} is missing` });
const networkOutputsSchema = z.object({
  vpcId: z.string(missing("vpcId")).regex(/^vpc-[0-9a-f]+$/, "vpcId is not a VPC id"),
  privateSubnetIds: z
    .array(z.string(), missing("privateSubnetIds"))
    .min(2, "privateSubnetIds needs at least 2 subnets"),
  publicSubnetIds: z
    .array(z.string(), missing("publicSubnetIds"))
    .min(2, "publicSubnetIds needs at least 2 subnets"),
  region: z.string(missing("region")).min(1, "region is missing"),
  accountId: z.string(missing("accountId")).regex(/^\d{12}$/, "accountId is not an account id"),
});

const KEYS = Object.keys(networkOutputsSchema.shape) as (keyof z.infer<typeof networkOutputsSchema>)[];

/**
 * Reads the network `name` and checks it suits an environment in `region` deployed with `provider`'s account.
 * @throws NetworkReferenceError when the network has no usable outputs, or is in another region or account.
 */
export async function networkFromStack(
  name: string,
  expected: { region: string; provider: aws.Provider },
): Promise<ExistingNetwork> {
  const ref = new pulumi.StackReference(`network-${name}`, { name: networkStackReferenceName(name) });
  const values = Object.fromEntries(
    await Promise.all(KEYS.map(async (k) => [k, (await ref.getOutputDetails(k)).value] as const)),
  );
  const fail = (message: string): never => {
    throw new NetworkReferenceError(message);
  };
  const parsed = networkOutputsSchema.safeParse(values);
  if (!parsed.success) {
    fail(
      `network ${name} has no usable outputs (${parsed.error.issues.map((i) => i.message).join(", ")}): its create has not succeeded yet`,
    );
  }
  const network = parsed.data as z.infer<typeof networkOutputsSchema>;
  if (network.region !== expected.region) {
    fail(`network ${name} is in ${network.region}, the environment in ${expected.region}`);
  }
  const me = await aws.getCallerIdentity({}, { provider: expected.provider });
  if (me.accountId !== network.accountId) {
    fail(
      `network ${name} belongs to account ${network.accountId}, but these AWS credentials are for account ${me.accountId}`,
    );
  }
  return {
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    publicSubnetIds: network.publicSubnetIds,
  };
}
