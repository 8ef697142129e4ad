-- Identity, access and audit (issue 8).

-- Environments: a team, and soft deletion (a removed record keeps its row for history and the audit log).
-- And the voting app's reset option (off unless asked for at create time).
ALTER TABLE "environments" ADD COLUMN "team" TEXT,
ADD COLUMN "deleted_at" TIMESTAMPTZ(3),
ADD COLUMN "allow_vote_reset" BOOLEAN NOT NULL DEFAULT false;

-- A name is unique among live environments only: a removed environment's name can be used again.
DROP INDEX "environments_name_key";
CREATE UNIQUE INDEX "environments_name_live_key" ON "environments"("name") WHERE "deleted_at" IS NULL;
CREATE INDEX "environments_name_idx" ON "environments"("name");

-- CreateIndex
CREATE INDEX "environments_team_idx" ON "environments"("team");

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "actor_name" TEXT,
    "actor_role" TEXT,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "environment" TEXT,
    "environment_id" UUID,
    "operation_id" UUID,
    "address" TEXT,
    "details" JSONB,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at" DESC);
CREATE INDEX "audit_events_actor_at_idx" ON "audit_events"("actor", "at" DESC);
CREATE INDEX "audit_events_environment_at_idx" ON "audit_events"("environment", "at" DESC);
CREATE INDEX "audit_events_action_at_idx" ON "audit_events"("action", "at" DESC);

-- Append-only: no role (the table's owner included) can change or delete an entry through SQL DML.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "audit_events_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();

-- CreateTable: rate-limiter-flexible's PostgreSQL store layout (its own CREATE TABLE, made here once).
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);
