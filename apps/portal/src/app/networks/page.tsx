import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import Link from "next/link";
import { CostEstimateView } from "../../features/cost/components/cost-estimate";
import { networkEstimate, usd } from "../../features/cost/estimate";
import { AutoRefresh } from "../../features/environments/components/auto-refresh";
import { StatusBadge } from "../../features/environments/components/status-badge";
import { TableHead } from "../../features/environments/components/table-head";
import { age } from "../../features/environments/format";
import { CreateNetworkForm } from "../../features/networks/components/network-forms";
import { describeNetwork, LOCAL_NETWORK } from "../../features/networks/model";
import { listNetworks, sharingOf } from "../../features/networks/queries";
import { networkSettingsFrom } from "../../features/networks/settings";
import { awsEnabled, config } from "../../server/env";
import { requirePrincipal } from "../../server/identity";

export const metadata: Metadata = { title: "Networks" };
export const dynamic = "force-dynamic";

export default async function NetworksPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const principal = await requirePrincipal("/networks");
  const params = await searchParams;
  const c = config();
  const networks = await listNetworks();
  const regions = awsEnabled(c) ? c.AWS_REGIONS : [];
  const settings = networkSettingsFrom(c);
  const removed = typeof params.removed === "string" ? params.removed : undefined;
  const cost = (n: (typeof networks)[number]) => {
    const s = sharingOf(n, n._count.environments);
    return n.status === "destroyed"
      ? null
      : networkEstimate({ region: n.region, natGateways: s.natGateways, adopted: s.adopted });
  };

  return (
    <div className="space-y-6">
      <AutoRefresh seconds={c.LIST_REFRESH_SECONDS * 2} />
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Networks</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          The shared part every environment sits in. On AWS: one network per region (a VPC with public and
          private subnets across availability zones and its NAT gateways), created with the first environment
          of the region and shared by all of them, so no environment pays for a VPC or NAT gateway of its own.
        </p>
      </div>

      {removed && (
        <p
          role="status"
          className="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-800"
        >
          The record of network “{removed}” was removed.
        </p>
      )}

      <section
        aria-labelledby="aws-networks-heading"
        className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm"
      >
        <h2 id="aws-networks-heading" className="px-5 pt-4 text-base font-semibold">
          AWS networks
        </h2>
        {networks.length === 0 ? (
          <p className="px-5 pb-4 pt-2 text-sm text-slate-600" data-testid="networks-empty">
            {regions.length
              ? "No network yet: one is created with the first AWS environment of a region."
              : "AWS is not configured on this portal (AWS_REGIONS and credentials), so there are no AWS networks."}
          </p>
        ) : (
          <table className="mt-2 min-w-full text-sm" data-testid="networks-table">
            <TableHead
              labels={["Network", "Status", "Kind", "Environments", "Monthly cost", "Last operation"]}
              className="text-left text-xs uppercase tracking-wide text-slate-600"
              cellClassName="px-3 py-2 lg:px-4"
            />
            <tbody className="divide-y divide-slate-100">
              {networks.map((n) => {
                const estimate = cost(n);
                return (
                  <tr key={n.id} data-testid={`network-row-${n.name}`}>
                    <td className="px-3 py-2 lg:px-4">
                      <Link
                        href={`/networks/${n.name}`}
                        className="font-medium text-indigo-700 hover:underline"
                      >
                        {n.name}
                      </Link>
                      <span className="block text-xs text-slate-600">{n.region}</span>
                    </td>
                    <td className="px-3 py-2 lg:px-4">
                      <StatusBadge status={n.status} />
                    </td>
                    <td className="px-3 py-2 text-slate-700 lg:px-4">{describeNetwork(n)}</td>
                    <td className="px-3 py-2 tabular-nums lg:px-4" data-testid="network-environments">
                      {n._count.environments}
                    </td>
                    <td className="px-3 py-2 tabular-nums lg:px-4" data-testid="network-cost">
                      {estimate === null
                        ? "—"
                        : estimate.ok
                          ? usd(estimate.estimate.monthlyTotal)
                          : "no prices"}
                    </td>
                    <td className="px-3 py-2 text-slate-600 lg:px-4">
                      {n.lastOperation ? (
                        <>
                          {n.lastOperation.kind} <StatusBadge status={n.lastOperation.status} />
                          <span className="block text-xs">{age(n.lastOperation.createdAt)} ago</span>
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      <section
        aria-labelledby="local-network-heading"
        className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
        data-testid="local-network"
      >
        <h2 id="local-network-heading" className="text-base font-semibold">
          Local target
        </h2>
        <p className="mt-1 text-sm text-slate-700">
          Network: <span className="font-mono">{LOCAL_NETWORK.name}</span> — {LOCAL_NETWORK.description}.
          Nothing to create or destroy; it costs nothing.
        </p>
      </section>

      {principal.role === "admin" && regions.length > 0 && (
        <div className="grid gap-6 lg:grid-cols-2">
          <section className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <CreateNetworkForm
              regions={regions}
              taken={networks.filter((n) => n.status !== "destroyed").map((n) => n.region)}
              adopted={Object.keys(settings.adopt)}
              defaults={{ natGateways: settings.natGateways, availabilityZones: settings.availabilityZones }}
              idempotencyKey={randomUUID()}
            />
          </section>
          <CostEstimateView
            headingId="new-network-cost-heading"
            title="A new network costs"
            testId="new-network-cost"
            result={networkEstimate({
              region: regions[0] as string,
              natGateways: settings.natGateways === "onePerAz" ? settings.availabilityZones : 1,
              adopted: false,
            })}
            note={`With the defaults (${settings.natGateways === "onePerAz" ? "a NAT gateway per AZ" : "one NAT gateway"}) in ${regions[0]}; its environments share it.`}
          />
        </div>
      )}
    </div>
  );
}
