-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "host" TEXT;

-- CreateIndex
CREATE INDEX "environments_expires_at_idx" ON "environments"("expires_at");

-- CreateIndex
CREATE INDEX "operations_finished_at_idx" ON "operations"("finished_at");
