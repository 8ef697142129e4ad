// Networks as the portal sees them: one shared network per (account, region) that every AWS environment of the
// region is placed in. Pure (zod and infra's zod-only schemas): used by the browser, the commands and the worker.

import { defaultNetworkName, existingNetworkSchema, LOCAL_NETWORK } from "@platform/infra/spec";
import type { NetworkSpec } from "@platform/infra/types";
import { z } from "zod";
import type { EnvironmentStatus, OperationKind, OperationStatus } from "../../shared/status";

export { defaultNetworkName, LOCAL_NETWORK };

/** What a network row holds that its spec is made of. */
export interface NetworkRecord {
  name: string;
  region: string;
  mode: "created" | "adopted";
  natGateways: string | null;
  availabilityZones: number | null;
  existing: unknown;
  createdBy: string;
}

/** The operations' NetworkSpec of a network row (what its create runs; stored on each operation as is). */
export function networkSpecOf(n: NetworkRecord): NetworkSpec {
  if (n.mode === "adopted") {
    return {
      name: n.name,
      region: n.region,
      owner: n.createdBy,
      existing: existingNetworkSchema.parse(n.existing),
    };
  }
  return {
    name: n.name,
    region: n.region,
    owner: n.createdBy,
    natGateways: n.natGateways === "onePerAz" ? "onePerAz" : "single",
    availabilityZones: n.availabilityZones ?? 2,
  };
}

/** The create-network form (admins). */
export function createNetworkSchema(regions: string[]) {
  return z.object({
    region: z
      .string({ message: "Choose a region." })
      .refine((r) => regions.includes(r), "Choose one of the offered regions."),
    natGateways: z.enum(["single", "onePerAz"], { message: "Choose how many NAT gateways." }),
    availabilityZones: z.coerce
      .number({ message: "Choose 2 or 3 availability zones." })
      .int()
      .min(2, "Choose 2 or 3 availability zones.")
      .max(3, "Choose 2 or 3 availability zones."),
    idempotencyKey: z.string().uuid("Reload the page and submit again."),
  });
}
export type CreateNetworkInput = z.infer<ReturnType<typeof createNetworkSchema>>;

export const networkActionSchema = z.object({
  name: z.string().min(3).max(40),
  idempotencyKey: z.string().uuid("Reload the page and submit again."),
});
export type NetworkActionInput = z.infer<typeof networkActionSchema>;

export const destroyNetworkSchema = networkActionSchema
  .extend({ confirmation: z.string().trim() })
  .refine((v) => v.confirmation === v.name, {
    path: ["confirmation"],
    message: "Type the network's name exactly to confirm.",
  });
export type DestroyNetworkInput = z.infer<typeof destroyNetworkSchema>;

export type NetworkAction = "create" | "refresh" | "retry" | "cancel" | "destroy" | "remove";

export interface NetworkState {
  status: EnvironmentStatus;
  lastOperationStatus?: OperationStatus | null;
  lastOperationKind?: OperationKind | null;
  /** Live environments placed in it (neither destroyed nor removed). */
  environments: number;
  /** Whether some operation ever started (resources may exist). */
  everStarted?: boolean;
}

const active = (s: OperationStatus | null | undefined) => s === "queued" || s === "running";

/** Why `action` cannot run on the network now, or null. The message is shown to people as is. */
export function networkRefusal(action: NetworkAction, n: NetworkState, name = "the network"): string | null {
  const busy = active(n.lastOperationStatus);
  const kind = n.lastOperationKind ?? "operation";
  switch (action) {
    case "cancel":
      return busy ? null : "Nothing to cancel: no operation is queued or running.";
    case "retry":
      if (busy) return `A ${kind} operation is already ${n.lastOperationStatus}.`;
      return n.lastOperationStatus === "failed" ||
        n.lastOperationStatus === "interrupted" ||
        n.lastOperationStatus === "cancelled"
        ? null
        : "Only a failed, cancelled or interrupted operation can be retried.";
    case "create":
      if (busy) return `A ${kind} operation is already ${n.lastOperationStatus}.`;
      return n.status === "destroyed" ? null : `${name} exists already.`;
    case "refresh":
      if (n.status === "destroyed") return `${name} is destroyed.`;
      if (busy) return `Cannot refresh now: a ${kind} operation is ${n.lastOperationStatus}.`;
      return null;
    case "destroy":
      if (n.status === "destroyed") return `${name} is already destroyed.`;
      if (busy) return `A ${kind} operation is ${n.lastOperationStatus}. Cancel it first, then destroy.`;
      if (n.environments > 0) {
        return `${name} is used by ${n.environments} environment${n.environments === 1 ? "" : "s"}: destroy ${n.environments === 1 ? "it" : "them"} first. Nothing was changed.`;
      }
      return null;
    case "remove":
      if (busy) return "An operation is still queued or running.";
      if (n.status === "destroyed" || !n.everStarted) return null;
      return `Destroy ${name} before removing its record.`;
  }
}

/** How a network is described to people. */
export function describeNetwork(n: {
  mode: string;
  natGateways: string | null;
  availabilityZones: number | null;
}) {
  if (n.mode === "adopted") return "Adopted VPC (configured)";
  const nat = n.natGateways === "onePerAz" ? "a NAT gateway per AZ" : "one NAT gateway";
  return `${n.availabilityZones ?? 2} AZs, ${nat}`;
}
