-- Drift detection and self-healing (issue 11): two operation kinds, and one row per environment with the
-- last drift check's result and where the worker stopped reading the local supervisor's process events.
-- (Written from `prisma migrate diff --from-empty --to-schema-datamodel`'s DDL: `migrate dev` cannot replay
-- the audit trigger migration's dollar-quoted function in the WebAssembly schema engine.)

-- AlterEnum
ALTER TYPE "OperationKind" ADD VALUE 'reconcile';
ALTER TYPE "OperationKind" ADD VALUE 'repair';

-- CreateEnum
CREATE TYPE "DriftStatus" AS ENUM ('in_sync', 'drifted', 'failed');

-- CreateTable
CREATE TABLE "environment_drift" (
    "environment_id" UUID NOT NULL,
    "status" "DriftStatus",
    "checked_at" TIMESTAMPTZ(3),
    "drifted_since" TIMESTAMPTZ(3),
    "changes" JSONB,
    "differences" JSONB,
    "error" TEXT,
    "duration_ms" INTEGER,
    "checking_by" TEXT,
    "checking_since" TIMESTAMPTZ(3),
    "repair_cursor" JSONB,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "environment_drift_pkey" PRIMARY KEY ("environment_id")
);

-- CreateIndex
CREATE INDEX "environment_drift_status_idx" ON "environment_drift"("status");

-- CreateIndex
CREATE INDEX "environment_drift_checked_at_idx" ON "environment_drift"("checked_at");

-- AddForeignKey
ALTER TABLE "environment_drift" ADD CONSTRAINT "environment_drift_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
