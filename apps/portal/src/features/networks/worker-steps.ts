// The worker's network-specific steps: a network's status while its operation runs and after it, and an AWS
// environment's wait for its network. The worker (server/worker/worker.ts) runs them around the operations.
import type { Prisma, PrismaClient } from "@platform/db/client";
import type { OperationKind, OperationStatus } from "../../shared/status";

type Db = PrismaClient | Prisma.TransactionClient;

/** The network's status while an operation of `kind` runs on it. */
export async function markNetworkRunning(
  db: Db,
  operationId: string,
  networkId: string,
  kind: OperationKind,
) {
  const current = await db.network.findUnique({ where: { id: networkId }, select: { status: true } });
  const status =
    kind === "destroy"
      ? "destroying"
      : kind === "create" && current?.status !== "ready"
        ? "provisioning"
        : "updating";
  await db.network.updateMany({ where: { id: networkId, lastOperationId: operationId }, data: { status } });
}

/** The network's status and outputs after its operation ended (in the worker's record transaction). */
export async function recordNetworkOutcome(
  tx: Prisma.TransactionClient,
  operationId: string,
  networkId: string,
  kind: OperationKind,
  status: OperationStatus,
  outputs: Prisma.InputJsonValue | null,
) {
  const data: Prisma.NetworkUpdateManyMutationInput =
    status !== "succeeded"
      ? { status: "failed" }
      : kind === "destroy"
        ? { status: "destroyed", outputs: null as unknown as Prisma.InputJsonValue }
        : { status: "ready", ...(outputs ? { outputs } : {}) };
  await tx.network.updateMany({ where: { id: networkId, lastOperationId: operationId }, data });
}

/** Thrown when an AWS environment's network is not there to be used: the operation fails with this code. */
export class NetworkNotReady extends Error {
  readonly code = "network-not-ready";
}

const ACTIVE: OperationStatus[] = ["queued", "running"];

/**
 * Waits until the AWS environment's network (by name) is ready: while its create (or a refresh) is queued or
 * running, `onWait` is told once and the wait goes on, ending early when `signal` aborts. A network that does
 * not exist, failed, or was destroyed ends the wait with NetworkNotReady, saying what to do.
 */
export async function waitForNetwork(
  db: PrismaClient,
  name: string,
  signal: AbortSignal,
  onWait: (message: string) => void,
  pollMs = 1000,
): Promise<void> {
  let told = false;
  for (;;) {
    if (signal.aborted)
      throw Object.assign(new Error("cancelled while waiting for the network"), { code: "cancelled" });
    const n = await db.network.findFirst({
      where: { name, deletedAt: null },
      include: { lastOperation: { select: { status: true, kind: true, error: true } } },
    });
    if (!n)
      throw new NetworkNotReady(`network ${name} does not exist: create the environment again to create it`);
    const busy = !!n.lastOperation && ACTIVE.includes(n.lastOperation.status);
    // Usable: nothing runs on it and it exists (its create succeeded once: it has outputs), also after a failed
    // refresh; not after a destroy, even a failed one (what is left of it is not a network to build on).
    const created = !!(n.outputs as { vpcId?: unknown } | null)?.vpcId;
    if (!busy && created && n.status !== "destroyed" && n.lastOperation?.kind !== "destroy") {
      if (told) onWait(`network ${name} is ready`);
      return;
    }
    if (!busy) {
      const why = n.status === "destroyed" ? "was destroyed" : `is ${n.status}`;
      const last = n.lastOperation?.error
        ? ` (its last ${n.lastOperation.kind}: ${n.lastOperation.error})`
        : "";
      throw new NetworkNotReady(
        `network ${name} ${why}${last}: retry this operation to create the network again, or ask an admin to retry it on the Networks page`,
      );
    }
    if (!told) {
      onWait(
        `waiting for network ${name} (${n.lastOperation?.kind} ${n.lastOperation?.status}) before this environment`,
      );
      told = true;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
