// The Pulumi projects of the platform. Every environment is a stack of the environments project; every
// shared network (one per account and region) a stack of the networks project. Both live in the same state
// backend, which is what lets an environment read its network's outputs through a StackReference.

export const ENVIRONMENT_PROJECT = "voting-environments";
export const NETWORK_PROJECT = "platform-networks";

/** The fully qualified name of a network's stack, as a StackReference takes it (DIY backend: `organization/…`). */
export function networkStackReferenceName(network: string): string {
  return `organization/${NETWORK_PROJECT}/${network}`;
}

/** The resource type Pulumi records for a StackReference in a stack's state. */
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
