import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Fragment } from "react";
import { CostEstimateView } from "../../../features/cost/components/cost-estimate";
import { networkEstimate, usd } from "../../../features/cost/estimate";
import { AutoRefresh } from "../../../features/environments/components/auto-refresh";
import { OperationLive } from "../../../features/environments/components/operation-live";
import { StatusBadge } from "../../../features/environments/components/status-badge";
import { TableHead } from "../../../features/environments/components/table-head";
import { age, duration } from "../../../features/environments/format";
import {
  DestroyNetworkForm,
  type NetworkOperationButton,
  NetworkOperationButtons,
} from "../../../features/networks/components/network-forms";
import { describeNetwork, type NetworkState, networkRefusal } from "../../../features/networks/model";
import { getNetwork, sharingOf } from "../../../features/networks/queries";
import { config } from "../../../server/env";
import { requirePrincipal } from "../../../server/identity";
import { isOperationActive } from "../../../shared/status";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: `Network ${decodeURIComponent((await params).name)}` };
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-600">{label}</dt>
      <dd className="mt-0.5 break-words text-sm text-slate-900">{children}</dd>
    </div>
  );
}

const list = (v: unknown) => (Array.isArray(v) ? v.join(", ") : "—");

export default async function NetworkPage({ params }: Params) {
  const raw = decodeURIComponent((await params).name);
  const principal = await requirePrincipal(`/networks/${raw}`);
  const network = /^[a-z0-9-]{3,40}$/.test(raw) ? await getNetwork(raw) : null;
  if (!network) notFound();
  const c = config();
  const op = network.lastOperation;
  const state: NetworkState = {
    status: network.status,
    lastOperationStatus: op?.status ?? null,
    lastOperationKind: op?.kind ?? null,
    environments: network.liveEnvironments,
    everStarted: network.everStarted,
  };
  const admin = principal.role === "admin";
  const title = `Network ${network.name}`;
  const buttons = (
    [
      { operation: "refresh", label: "Refresh" },
      { operation: "retry", label: `Retry ${op?.kind ?? ""}`.trim() },
      { operation: "cancel", label: `Cancel ${op?.kind ?? ""}`.trim() },
      { operation: "remove", label: "Remove record", danger: true },
    ] satisfies NetworkOperationButton[]
  ).filter((b) => networkRefusal(b.operation, state, title) === null);
  const outputs = (network.outputs ?? {}) as Record<string, unknown>;
  const sharing = sharingOf(network, network.liveEnvironments);
  const cost =
    network.status === "destroyed"
      ? null
      : networkEstimate({
          region: network.region,
          natGateways: sharing.natGateways,
          adopted: sharing.adopted,
        });
  const busy = isOperationActive(op?.status);

  return (
    <div className="space-y-6">
      <AutoRefresh seconds={busy ? c.LIST_REFRESH_SECONDS : c.LIST_REFRESH_SECONDS * 3} />
      <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
        <Link href="/networks" className="hover:underline">
          Networks
        </Link>{" "}
        / <span className="text-slate-700">{network.name}</span>
      </nav>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold tracking-tight" data-testid="network-name">
          {network.name}
        </h1>
        <StatusBadge status={network.status} />
      </div>

      <div className="grid gap-6 md:grid-cols-5 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 md:col-span-3 lg:col-span-2">
          <section
            aria-labelledby="network-state-heading"
            className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
          >
            <h2 id="network-state-heading" className="text-base font-semibold">
              State
            </h2>
            <dl className="mt-3 grid grid-cols-2 gap-4 lg:grid-cols-3">
              <Field label="Region">{network.region}</Field>
              <Field label="Kind">{describeNetwork(network)}</Field>
              <Field label="Created by">{network.createdBy}</Field>
              <Field label="VPC">
                <span className="font-mono text-xs">
                  {typeof outputs.vpcId === "string" ? outputs.vpcId : "—"}
                </span>
              </Field>
              <Field label="Availability zones">{list(outputs.availabilityZones)}</Field>
              <Field label="NAT gateways">
                {typeof outputs.natGatewayCount === "number" ? outputs.natGatewayCount : "—"}
              </Field>
              <Field label="Private subnets">
                <span className="font-mono text-xs">{list(outputs.privateSubnetIds)}</span>
              </Field>
              <Field label="Public subnets">
                <span className="font-mono text-xs">{list(outputs.publicSubnetIds)}</span>
              </Field>
              <Field label="Account">{typeof outputs.accountId === "string" ? outputs.accountId : "—"}</Field>
            </dl>
          </section>

          <section
            aria-labelledby="network-envs-heading"
            className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
          >
            <h2 id="network-envs-heading" className="text-base font-semibold">
              Environments in this network
            </h2>
            {network.environments.length === 0 ? (
              <p className="mt-2 text-sm text-slate-600" data-testid="network-environment-list-empty">
                None.
              </p>
            ) : (
              <ul className="mt-2 divide-y divide-slate-100 text-sm" data-testid="network-environment-list">
                {network.environments.map((e) => (
                  <li key={e.name} className="flex flex-wrap items-center justify-between gap-2 py-1.5">
                    <Link href={`/environments/${e.name}`} className="text-indigo-700 hover:underline">
                      {e.name}
                    </Link>
                    <span className="flex items-center gap-2 text-xs text-slate-600">
                      {e.owner} <StatusBadge status={e.status} />
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </section>

          {op && (
            <OperationLive
              key={op.id}
              environment={network.name}
              operationId={op.id}
              kind={op.kind}
              streamUrl={`/api/networks/${network.name}/operations/${op.id}/events`}
              initial={{
                status: op.status,
                done: op.progressDone,
                expected: op.progressExpected,
                error: op.error,
              }}
            />
          )}

          <section
            aria-labelledby="network-history-heading"
            className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm"
          >
            <h2 id="network-history-heading" className="px-5 pt-4 text-base font-semibold">
              Operation history
            </h2>
            <table className="mt-2 min-w-full text-sm" data-testid="network-history">
              <TableHead
                labels={["Operation", "Result", "Requested"]}
                className="text-left text-xs uppercase tracking-wide text-slate-600"
                cellClassName="px-3 py-2 lg:px-4"
              />
              <tbody className="divide-y divide-slate-100">
                {network.operations.map((o) => (
                  <Fragment key={o.id}>
                    <tr>
                      <td className="px-3 py-2 lg:px-4">
                        {o.kind}
                        <span className="block break-all text-xs text-slate-600">by {o.requestedBy}</span>
                      </td>
                      <td className="px-3 py-2 lg:px-4">
                        <StatusBadge status={o.status} />
                      </td>
                      <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-600 lg:px-4">
                        {age(o.createdAt)} ago
                        <span className="block text-xs">took {duration(o.startedAt, o.finishedAt)}</span>
                      </td>
                    </tr>
                    {o.error && (
                      <tr className="border-t-0">
                        <td colSpan={3} className="break-words px-3 pb-2 text-xs text-rose-700 lg:px-4">
                          {o.errorCode ? <span className="font-mono">[{o.errorCode}] </span> : null}
                          {o.error}
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </section>
        </div>

        <aside className="space-y-6 md:col-span-2 lg:col-span-1" aria-label="Cost and actions">
          <CostEstimateView
            headingId="network-cost-heading"
            title="Its own monthly cost"
            testId="network-cost-estimate"
            result={cost}
            note={
              cost?.ok && network.liveEnvironments > 0
                ? `Shared by ${network.liveEnvironments} environment${network.liveEnvironments === 1 ? "" : "s"}: each carries ${usd(cost.estimate.monthlyTotal / network.liveEnvironments)} of it.`
                : undefined
            }
          />
          {admin ? (
            <>
              <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                <h3 className="text-sm font-semibold">Operations</h3>
                <NetworkOperationButtons
                  key={network.name}
                  name={network.name}
                  idempotencyKey={randomUUID()}
                  buttons={buttons}
                />
              </section>
              {network.status !== "destroyed" && (
                <section className="rounded-lg border border-rose-200 bg-white p-5 shadow-sm">
                  <DestroyNetworkForm
                    name={network.name}
                    idempotencyKey={randomUUID()}
                    refusedBecause={networkRefusal("destroy", state, title)}
                  />
                </section>
              )}
            </>
          ) : (
            <p className="rounded-lg border border-slate-200 bg-white p-4 text-xs text-slate-600">
              Only admins operate networks; yours is created with the first environment of its region.
            </p>
          )}
        </aside>
      </div>
    </div>
  );
}
