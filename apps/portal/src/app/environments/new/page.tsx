import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import { CreateEnvironmentForm } from "../../../features/environments/components/create-environment-form";
import { quotaUsage } from "../../../features/environments/queries";
import { networkSettingsFrom, sharingForRegions } from "../../../features/networks/settings";
import { config, limitsFrom } from "../../../server/env";
import { requirePrincipal } from "../../../server/identity";
import { quotasFrom } from "../../../server/limits";
import { refusalFor } from "../../../shared/access";

export const metadata: Metadata = { title: "New environment" };
export const dynamic = "force-dynamic";

export default async function NewEnvironmentPage() {
  const principal = await requirePrincipal("/environments/new");
  const c = config();
  const denied = refusalFor(principal, "create");
  const quotas = quotasFrom(c);
  const usage = denied ? null : await quotaUsage(principal.id, principal.teams);
  const limits = limitsFrom(c);
  const sharing = denied ? {} : await sharingForRegions(limits.awsRegions, networkSettingsFrom(c));
  return (
    <div className="mx-auto max-w-3xl">
      <h1 className="text-2xl font-semibold tracking-tight">New environment</h1>
      <p className="mt-1 text-sm text-slate-600">
        A voting app: frontends behind a load balancer, and Redis with read replicas.
      </p>
      {denied ? (
        <p
          role="alert"
          data-testid="create-denied"
          className="mt-6 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900"
        >
          {denied}
        </p>
      ) : (
        <>
          <section
            aria-labelledby="quota-heading"
            className="mt-6 rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-700"
            data-testid="quotas"
          >
            <h2 id="quota-heading" className="font-medium text-slate-900">
              Your limits
            </h2>
            <ul className="mt-1 list-inside list-disc space-y-0.5">
              <li>
                Your environments: {usage?.own ?? 0} of {quotas.environmentsPerPerson}
              </li>
              {principal.teams.map((t) => (
                <li key={t}>
                  Team {t}: {usage?.teams[t] ?? 0} of {quotas.environmentsPerTeam}
                </li>
              ))}
              <li>
                Whole portal: {usage?.total ?? 0} of {quotas.environmentsTotal}
              </li>
              <li>
                At most {quotas.replicasPerEnvironment} replicas per environment (frontends + Redis nodes)
              </li>
              <li>
                Time to live: at most {quotas.maxTtlHours} hours
                {principal.role === "admin" ? " (admins may leave it empty: never expires)" : " (required)"}
              </li>
              <li>At most {c.RATE_LIMIT_ACTIONS_PER_MINUTE} actions a minute</li>
            </ul>
          </section>
          <div className="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <CreateEnvironmentForm
              limits={limits}
              sharing={sharing}
              defaults={{
                frontendReplicas: c.FRONTEND_REPLICAS_DEFAULT,
                redisReplicas: c.REDIS_REPLICAS_DEFAULT,
              }}
              teams={principal.teams}
              ttlRequired={principal.role !== "admin"}
              idempotencyKey={randomUUID()}
            />
          </div>
        </>
      )}
    </div>
  );
}
