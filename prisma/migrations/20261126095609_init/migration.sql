-- CreateEnum
CREATE TYPE "Target" AS ENUM ('local', 'aws');

-- CreateEnum
CREATE TYPE "EnvironmentStatus" AS ENUM ('queued', 'provisioning', 'ready', 'updating', 'failed', 'destroying', 'destroyed');

-- CreateEnum
CREATE TYPE "OperationKind" AS ENUM ('create', 'scale', 'refresh', 'destroy');

-- CreateEnum
CREATE TYPE "OperationStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted');

-- CreateTable
CREATE TABLE "environments" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "target" "Target" NOT NULL,
    "region" TEXT,
    "status" "EnvironmentStatus" NOT NULL DEFAULT 'queued',
    "owner" TEXT NOT NULL,
    "desired_frontend_replicas" INTEGER NOT NULL,
    "desired_redis_replicas" INTEGER NOT NULL,
    "current_frontend_replicas" INTEGER,
    "current_redis_replicas" INTEGER,
    "outputs" JSONB,
    "expires_at" TIMESTAMPTZ(3),
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "last_operation_id" UUID,

    CONSTRAINT "environments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operations" (
    "id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "kind" "OperationKind" NOT NULL,
    "status" "OperationStatus" NOT NULL DEFAULT 'queued',
    "requested_config" JSONB NOT NULL,
    "requested_by" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "retry_of_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "worker_id" TEXT,
    "heartbeat_at" TIMESTAMPTZ(3),
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "progress_done" INTEGER NOT NULL DEFAULT 0,
    "progress_expected" INTEGER NOT NULL DEFAULT 0,
    "error_code" TEXT,
    "error" TEXT,
    "outputs" JSONB,
    "changes" JSONB,
    "job_id" TEXT,

    CONSTRAINT "operations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operation_events" (
    "id" BIGSERIAL NOT NULL,
    "operation_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "severity" TEXT,
    "message" TEXT NOT NULL,
    "data" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "operation_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "environments_name_key" ON "environments"("name");

-- CreateIndex
CREATE UNIQUE INDEX "environments_idempotency_key_key" ON "environments"("idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "environments_last_operation_id_key" ON "environments"("last_operation_id");

-- CreateIndex
CREATE INDEX "environments_status_idx" ON "environments"("status");

-- CreateIndex
CREATE INDEX "environments_owner_idx" ON "environments"("owner");

-- CreateIndex
CREATE INDEX "environments_created_at_idx" ON "environments"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "operations_idempotency_key_key" ON "operations"("idempotency_key");

-- CreateIndex
CREATE INDEX "operations_environment_id_created_at_idx" ON "operations"("environment_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "operations_status_idx" ON "operations"("status");

-- CreateIndex
CREATE INDEX "operation_events_operation_id_id_idx" ON "operation_events"("operation_id", "id");

-- CreateIndex
CREATE INDEX "operation_events_created_at_idx" ON "operation_events"("created_at");

-- AddForeignKey
ALTER TABLE "environments" ADD CONSTRAINT "environments_last_operation_id_fkey" FOREIGN KEY ("last_operation_id") REFERENCES "operations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operation_events" ADD CONSTRAINT "operation_events_operation_id_fkey" FOREIGN KEY ("operation_id") REFERENCES "operations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One queued or running operation per environment at a time (Prisma cannot express partial indexes).
CREATE UNIQUE INDEX "operations_one_active_per_environment" ON "operations"("environment_id") WHERE "status" IN ('queued', 'running');
