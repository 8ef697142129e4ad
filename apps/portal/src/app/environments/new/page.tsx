import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import { CreateEnvironmentForm } from "../../../features/environments/components/create-environment-form";
import { config, limitsFrom } from "../../../server/env";

export const metadata: Metadata = { title: "New environment" };
export const dynamic = "force-dynamic";

export default function NewEnvironmentPage() {
  const c = config();
  return (
    <div className="mx-auto max-w-3xl">
      <h1 className="text-2xl font-semibold tracking-tight">New environment</h1>
      <p className="mt-1 text-sm text-slate-600">
        A voting app: frontends behind a load balancer, and Redis with read replicas.
      </p>
      <div className="mt-6 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <CreateEnvironmentForm
          limits={limitsFrom(c)}
          defaults={{
            frontendReplicas: c.FRONTEND_REPLICAS_DEFAULT,
            redisReplicas: c.REDIS_REPLICAS_DEFAULT,
          }}
          idempotencyKey={randomUUID()}
        />
      </div>
    </div>
  );
}
