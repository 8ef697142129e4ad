-- Shared networks (issue 9): one per (account, region), a Pulumi stack of its own that AWS environments are placed in.
-- Their operations are rows of "operations" (network_id instead of environment_id), so they run through the same
-- queue, workers and event stream.

-- CreateEnum
CREATE TYPE "NetworkMode" AS ENUM ('created', 'adopted');

-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "network_id" UUID;

-- AlterTable
ALTER TABLE "operations" ADD COLUMN     "network_id" UUID,
ALTER COLUMN "environment_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "networks" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "mode" "NetworkMode" NOT NULL DEFAULT 'created',
    "nat_gateways" TEXT,
    "availability_zones" INTEGER,
    "existing" JSONB,
    "status" "EnvironmentStatus" NOT NULL DEFAULT 'queued',
    "outputs" JSONB,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),
    "last_operation_id" UUID,

    CONSTRAINT "networks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "networks_last_operation_id_key" ON "networks"("last_operation_id");

-- CreateIndex
CREATE INDEX "networks_region_idx" ON "networks"("region");

-- CreateIndex
CREATE INDEX "networks_name_idx" ON "networks"("name");

-- CreateIndex
CREATE INDEX "environments_network_id_idx" ON "environments"("network_id");

-- CreateIndex
CREATE INDEX "operations_network_id_created_at_idx" ON "operations"("network_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "environments" ADD CONSTRAINT "environments_network_id_fkey" FOREIGN KEY ("network_id") REFERENCES "networks"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "networks" ADD CONSTRAINT "networks_last_operation_id_fkey" FOREIGN KEY ("last_operation_id") REFERENCES "operations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_network_id_fkey" FOREIGN KEY ("network_id") REFERENCES "networks"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- An operation belongs to exactly one environment or one network.
ALTER TABLE "operations" ADD CONSTRAINT "operations_environment_or_network"
  CHECK (num_nonnulls("environment_id", "network_id") = 1);

-- One queued or running operation per network at a time (as per environment).
CREATE UNIQUE INDEX "operations_one_active_per_network" ON "operations"("network_id") WHERE "status" IN ('queued', 'running');

-- One live network per name and per region (a removed record keeps its row for the history).
CREATE UNIQUE INDEX "networks_name_live_key" ON "networks"("name") WHERE "deleted_at" IS NULL;
CREATE UNIQUE INDEX "networks_region_live_key" ON "networks"("region") WHERE "deleted_at" IS NULL;
