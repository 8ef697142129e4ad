import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Fragment, Suspense } from "react";
import { CostEstimateView } from "../../../features/cost/components/cost-estimate";
import { environmentEstimate } from "../../../features/cost/estimate";
import { AutoRefresh } from "../../../features/environments/components/auto-refresh";
import { DriftBadge } from "../../../features/environments/components/drift-badge";
import { DriftPanel } from "../../../features/environments/components/drift-panel";
import {
  DestroyForm,
  type OperationButton,
  OperationButtons,
  ScaleForm,
} from "../../../features/environments/components/environment-actions";
import { OperationLive } from "../../../features/environments/components/operation-live";
import { StatusBadge } from "../../../features/environments/components/status-badge";
import { TableHead } from "../../../features/environments/components/table-head";
import { Topology } from "../../../features/environments/components/topology";
import { age, duration, frontendUrlOf } from "../../../features/environments/format";
import { probeHealth } from "../../../features/environments/health";
import { getEnvironment } from "../../../features/environments/queries";
import { LOCAL_NETWORK } from "../../../features/networks/model";
import { networkOfEnvironment } from "../../../features/networks/queries";
import { config, limitsFrom } from "../../../server/env";
import { requirePrincipal } from "../../../server/identity";
import { refusalFor } from "../../../shared/access";
import { existingEnvironmentNameSchema } from "../../../shared/environment-schemas";
import { type EnvironmentState, isOperationActive, refusal } from "../../../shared/status";
import { type SyncReport, syncOf } from "../../../shared/sync";
import {
  CACHE_KIND_LOCAL_MEANING,
  cacheKindOf,
  cacheReplicaLabel,
  describeTierOptions,
  storedTierOptions,
} from "../../../shared/tier-options";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: decodeURIComponent((await params).name) };
}

/** The environment's last operation as a preview result, if it was a preview. */
function previewOf(
  op: { kind: string; status: string; requestedConfig: unknown; changes: unknown } | null,
): { frontend: number; redis: number; status: string; summary: string } | null {
  if (op?.kind !== "preview") return null;
  const cfg = op.requestedConfig as { frontendReplicas: number; redisReplicas: number };
  const changes = Object.entries((op.changes ?? {}) as Record<string, number>)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === "same" ? "unchanged" : `to ${k}`}`);
  return {
    frontend: cfg.frontendReplicas,
    redis: cfg.redisReplicas,
    status: op.status,
    summary: changes.length ? changes.join(", ") : "no changes",
  };
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 text-sm text-slate-900">{children}</dd>
    </div>
  );
}

export default async function EnvironmentPage({ params }: Params) {
  const raw = decodeURIComponent((await params).name);
  const principal = await requirePrincipal(`/environments/${encodeURIComponent(raw)}`);
  const parsedName = existingEnvironmentNameSchema.safeParse(raw);
  const env = parsedName.success ? await getEnvironment(parsedName.data) : null;
  if (!env) notFound(); // not-found.tsx: a message with the name, and a 404 status

  const c = config();
  const limits = limitsFrom(c);
  const op = env.lastOperation;
  const state: EnvironmentState = {
    status: env.status,
    lastOperationStatus: op?.status ?? null,
    lastOperationKind: op?.kind ?? null,
    everStarted: env.everStarted,
    expired: env.expiresAt !== null && env.expiresAt.getTime() <= Date.now(),
  };
  const url = frontendUrlOf(env.outputs);
  const outputs = (env.outputs ?? {}) as Record<string, unknown>;
  const tiers = storedTierOptions(env.options);
  // Buttons show only when both the person may (roles, ownership, team) and the state allows it; the commands
  // check both again on the server.
  const accessRefusal = refusalFor(principal, "destroy", env);
  const mayChange = accessRefusal === null;
  const can = (a: Parameters<typeof refusal>[0]) => mayChange && refusal(a, state) === null;
  const key = () => randomUUID();
  const busy = isOperationActive(op?.status);
  // Whether it is what was asked for: counts, the last refresh, the last drift check.
  const sync = syncOf(env);
  const driftCheckSeconds = env.target === "aws" ? c.DRIFT_CHECK_AWS_SECONDS : c.DRIFT_CHECK_LOCAL_SECONDS;
  // The operation buttons that can work in the current state (the server checks again).
  const operationButtons = (
    [
      { operation: "refresh", label: "Refresh", pendingLabel: "Requesting…" },
      { operation: "retry", label: `Retry ${op?.kind}`, pendingLabel: "Requesting…" },
      { operation: "cancel", label: `Cancel ${op?.kind}`, pendingLabel: "Cancelling…" },
      { operation: "remove", label: "Remove record", pendingLabel: "Removing…", danger: true },
    ] satisfies OperationButton[]
  ).filter((b) => can(b.operation));

  const network = env.target === "aws" ? await networkOfEnvironment(env.networkId) : null;
  const others = network
    ? Math.max(0, network.sharing.environments - (env.status === "destroyed" ? 0 : 1))
    : 0;
  const networkBox: Parameters<typeof Topology>[0]["network"] =
    env.target === "local"
      ? { title: LOCAL_NETWORK.name, detail: LOCAL_NETWORK.description }
      : network
        ? {
            title: network.name,
            href: `/networks/${network.name}`,
            detail: `${typeof (network.outputs as { vpcId?: unknown } | null)?.vpcId === "string" ? `VPC ${(network.outputs as { vpcId: string }).vpcId}, ` : ""}${network.region}, shared with ${others} other environment${others === 1 ? "" : "s"} (network ${network.status})`,
          }
        : undefined;
  // The estimate of what it costs (AWS): its desired replicas, its share of the network's NAT gateways.
  const cost =
    env.target === "aws" && env.region && env.status !== "destroyed"
      ? environmentEstimate({
          region: env.region,
          frontendReplicas: env.desiredFrontendReplicas,
          redisReplicas: env.desiredRedisReplicas,
          options: tiers,
          sharing: network?.sharing ?? { natGateways: 1, adopted: false, environments: 1 },
        })
      : env.target === "local"
        ? null
        : undefined;
  const topology: Parameters<typeof Topology>[0] = {
    network: networkBox,
    status: env.status,
    provisioned: env.currentFrontendReplicas !== null,
    target: env.target,
    frontends: env.status === "destroyed" ? 0 : (env.currentFrontendReplicas ?? env.desiredFrontendReplicas),
    redisNodes: env.status === "destroyed" ? 0 : (env.currentRedisReplicas ?? env.desiredRedisReplicas),
    frontendUrl: url,
    redisWriter: typeof outputs.redisWriterEndpoint === "string" ? outputs.redisWriterEndpoint : undefined,
    redisReader: typeof outputs.redisReaderEndpoint === "string" ? outputs.redisReaderEndpoint : undefined,
    cacheKind: cacheKindOf(tiers),
    database: tiers.database !== undefined,
    databaseEndpoint: typeof outputs.databaseEndpoint === "string" ? outputs.databaseEndpoint : undefined,
  };
  const tierText = describeTierOptions(tiers, env.target);
  const cacheLabel = cacheReplicaLabel(cacheKindOf(tiers));

  return (
    <div className="space-y-6">
      <AutoRefresh seconds={busy ? c.LIST_REFRESH_SECONDS : c.LIST_REFRESH_SECONDS * 3} />
      <nav aria-label="Breadcrumb" className="text-sm text-slate-500">
        <Link href="/" className="hover:underline">
          Environments
        </Link>{" "}
        / <span className="text-slate-700">{env.name}</span>
      </nav>

      <div className="flex flex-wrap items-center justify-between gap-4">
        <div className="flex items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight" data-testid="env-name">
            {env.name}
          </h1>
          <StatusBadge status={env.status} />
          {sync.drifted && <DriftBadge reasons={sync.reasons} />}
        </div>
        {url && env.status === "ready" ? (
          <a
            href={url}
            target="_blank"
            rel="noreferrer"
            data-testid="frontend-link"
            className="rounded-md bg-emerald-700 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-emerald-600"
          >
            Open frontend ↗
          </a>
        ) : null}
      </div>

      <div className="grid gap-6 md:grid-cols-5 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 md:col-span-3 lg:col-span-2">
          <DriftPanel name={env.name} report={sync} canReconcile={can("reconcile")} idempotencyKey={key()} />
          <section
            aria-labelledby="state-heading"
            className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm"
          >
            <h2 id="state-heading" className="text-base font-semibold">
              State
            </h2>
            <dl className="mt-3 grid grid-cols-2 gap-4 lg:grid-cols-4">
              <Field label="Target">
                {env.target}
                {env.region ? ` · ${env.region}` : ""}
              </Field>
              <Field label="Owner">
                <span className="break-all">{env.owner}</span>
              </Field>
              <Field label="Team">{env.team ?? "—"}</Field>
              <Field label="Age">{age(env.createdAt)}</Field>
              <Field label="Expires">
                {env.expiresAt ? env.expiresAt.toISOString().replace("T", " ").slice(0, 16) : "never"}
              </Field>
              <Field label="Frontends (desired / current)">
                <span data-testid="frontends-state">
                  {env.desiredFrontendReplicas} / {env.currentFrontendReplicas ?? "–"}
                </span>
              </Field>
              <Field label={`${cacheLabel.label} (desired / current)`}>
                {env.desiredRedisReplicas} / {env.currentRedisReplicas ?? "–"}
              </Field>
              <Field label="Cache">
                <span data-testid="cache-option">{tierText.cache}</span>
                {env.target === "local" && (
                  <span className="block text-xs text-slate-500">
                    Locally: {CACHE_KIND_LOCAL_MEANING[cacheKindOf(tiers)]}
                  </span>
                )}
              </Field>
              <Field label="Database">
                <span data-testid="database-option">{tierText.database}</span>
                {typeof outputs.databaseEndpoint === "string" && (
                  <span className="block break-all font-mono text-xs">{outputs.databaseEndpoint}</span>
                )}
              </Field>
              <Field label="Frontend URL">
                {url ? <span className="break-all font-mono text-xs">{url}</span> : "—"}
              </Field>
              <Field label="Drift check">
                <span data-testid="drift-check">{driftCheckText(sync, driftCheckSeconds)}</span>
              </Field>
              <Field label={cacheKindOf(tiers) === "elasticache" ? "Cache endpoints" : "Redis endpoints"}>
                <span className="break-all font-mono text-xs">
                  {typeof outputs.redisWriterEndpoint === "string" ? outputs.redisWriterEndpoint : "—"}
                  {typeof outputs.redisReaderEndpoint === "string" ? ` · ${outputs.redisReaderEndpoint}` : ""}
                </span>
              </Field>
            </dl>
          </section>

          {/* The page answers at once; the live health check streams in when the frontend has answered. */}
          <Suspense fallback={<Topology {...topology} />}>
            {url && env.status === "ready" ? (
              <LiveTopology {...topology} frontendUrl={url} />
            ) : (
              <Topology {...topology} />
            )}
          </Suspense>

          {cost !== undefined && (
            <CostEstimateView
              headingId="env-cost-heading"
              result={cost}
              note={
                network
                  ? `Its network ${network.name} is shared by ${network.sharing.environments} environment${network.sharing.environments === 1 ? "" : "s"}.`
                  : undefined
              }
            />
          )}

          {op && (
            <OperationLive
              key={op.id}
              environment={env.name}
              operationId={op.id}
              kind={op.kind}
              initial={{
                status: op.status,
                done: op.progressDone,
                expected: op.progressExpected,
                error: op.error,
              }}
            />
          )}

          <section
            aria-labelledby="history-heading"
            className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm"
          >
            <h2 id="history-heading" className="px-5 pt-4 text-base font-semibold">
              Operation history
            </h2>
            <table className="mt-2 min-w-full text-sm" data-testid="history">
              <TableHead
                labels={["Operation", "Result", "Requested"]}
                className="text-left text-xs uppercase tracking-wide text-slate-600"
                cellClassName="px-3 py-2 lg:px-4"
              />
              <tbody className="divide-y divide-slate-100">
                {env.operations.map((o) => {
                  const cfg = o.requestedConfig as { frontendReplicas?: number; redisReplicas?: number };
                  const changes = Object.entries((o.changes ?? {}) as Record<string, number>)
                    .filter(([k, n]) => k !== "same" && n > 0)
                    .map(([k, n]) => `${n} ${k}`)
                    .join(", ");
                  return (
                    <Fragment key={o.id}>
                      <tr>
                        <td className="px-3 py-2 lg:px-4">
                          <span className="whitespace-nowrap">
                            {o.kind}
                            <span className="text-xs text-slate-600">
                              {" "}
                              ({cfg.frontendReplicas}×web, {cfg.redisReplicas}×redis)
                            </span>
                          </span>
                          <span className="block break-all text-xs text-slate-600">by {o.requestedBy}</span>
                          {o.events.length > 0 && (
                            <ul
                              className="mt-1 space-y-0.5 text-xs text-slate-700"
                              data-testid="repair-details"
                            >
                              {o.events.map((e) => (
                                <li key={e.message}>{e.message}</li>
                              ))}
                            </ul>
                          )}
                        </td>
                        <td className="px-3 py-2 lg:px-4">
                          <StatusBadge status={o.status} />
                          {changes && <span className="block text-xs text-slate-600">{changes}</span>}
                        </td>
                        <td className="whitespace-nowrap px-3 py-2 tabular-nums text-slate-600 lg:px-4">
                          {age(o.createdAt)} ago
                          <span className="block text-xs text-slate-600">
                            took {duration(o.startedAt, o.finishedAt)}
                          </span>
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
                  );
                })}
              </tbody>
            </table>
          </section>
        </div>

        <aside className="space-y-6 md:col-span-2 lg:col-span-1" aria-label="Actions">
          {!mayChange && (
            <p
              className="rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-700"
              data-testid="read-only-reason"
            >
              {refusalFor(principal, "scale", env)}
            </p>
          )}
          {mayChange && env.status !== "destroyed" && (
            <section className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
              <ScaleForm
                name={env.name}
                limits={limits}
                current={{ frontend: env.currentFrontendReplicas, redis: env.currentRedisReplicas }}
                desired={{ frontend: env.desiredFrontendReplicas, redis: env.desiredRedisReplicas }}
                idempotencyKey={key()}
                cacheLabel={cacheLabel}
                disabledReason={refusal("scale", state)}
                lastPreview={previewOf(op)}
              />
            </section>
          )}

          {mayChange && (
            <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
              <h3 className="text-sm font-semibold">Operations</h3>
              <OperationButtons
                key={env.name}
                name={env.name}
                idempotencyKey={key()}
                buttons={operationButtons}
              />
            </section>
          )}

          {mayChange && env.status !== "destroyed" && (
            <section className="rounded-lg border border-rose-200 bg-white p-5 shadow-sm">
              <DestroyForm
                name={env.name}
                idempotencyKey={key()}
                refusedBecause={refusal("destroy", state)}
              />
            </section>
          )}
        </aside>
      </div>
    </div>
  );
}

/** What the last drift check said, for the State section. */
function driftCheckText(sync: SyncReport, everySeconds: number): string {
  const check = sync.lastCheck;
  if (!check)
    return everySeconds > 0 ? `not checked yet (every ${Math.round(everySeconds / 60) || 1} min)` : "off";
  const when = `${age(check.at)} ago`;
  if (check.failed) return `failed ${when}: ${check.failed}`;
  return `${check.inSync ? "in sync" : "drifted"} · ${when}`;
}

/** The topology with the frontend's live readiness check (only for a ready environment with a URL). */
async function LiveTopology(props: Parameters<typeof Topology>[0] & { frontendUrl: string }) {
  return <Topology {...props} live={await probeHealth(props.frontendUrl)} />;
}
