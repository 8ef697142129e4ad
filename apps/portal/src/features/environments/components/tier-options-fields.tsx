"use client";
// The create form's cache and database options. Lists, bounds and names come from @platform/infra's spec (via
// shared/tier-options.ts); on the local target each option says what stands in for it there.
import { useState } from "react";
import {
  CACHE_KIND_LABELS,
  CACHE_KIND_LOCAL_MEANING,
  CACHE_KINDS,
  CACHE_NODE_TYPES,
  type CacheKind,
  DATABASE_BACKUP_RETENTION_DAYS,
  DATABASE_INSTANCE_CLASSES,
  DATABASE_STORAGE_GB,
} from "../../../shared/tier-options";
import { FieldError, inputClass } from "./form-bits";

const choiceClass =
  "flex cursor-pointer gap-3 rounded-lg border border-slate-300 bg-white p-3 has-[:checked]:border-indigo-600 has-[:checked]:ring-1 has-[:checked]:ring-indigo-600";

const CACHE_AWS_MEANING: Record<CacheKind, string> = {
  redis: "Redis tasks on ECS Fargate behind an internal load balancer; data in memory only.",
  elasticache:
    "A managed replication group: automatic failover and Multi-AZ with replicas, encrypted in transit and at rest, AUTH token from Secrets Manager.",
};

export function TierOptionsFields({
  target,
  cacheKind,
  onCacheKind,
  values,
  errors,
}: {
  target: string;
  cacheKind: CacheKind;
  onCacheKind: (kind: CacheKind) => void;
  values: Record<string, string>;
  errors: Record<string, string>;
}) {
  const [database, setDatabase] = useState(values.database ?? "none");
  const local = target !== "aws";
  const awsOnly = local ? " (used on AWS only)" : "";
  const describedBy = (id: string, hint?: string) =>
    [hint, errors[id] ? `${id}-error` : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <>
      <fieldset data-testid="cache-options">
        <legend className="text-sm font-medium text-slate-800">Cache</legend>
        <div className="mt-2 grid gap-3 sm:grid-cols-2">
          {CACHE_KINDS.map((kind) => (
            <label key={kind} className={choiceClass}>
              <input
                type="radio"
                name="cacheKind"
                value={kind}
                checked={cacheKind === kind}
                onChange={() => onCacheKind(kind)}
                aria-describedby={`cache-${kind}-hint`}
                className="mt-1"
              />
              <span>
                <span className="block text-sm font-medium">{CACHE_KIND_LABELS[kind]}</span>
                <span id={`cache-${kind}-hint`} className="block text-xs text-slate-500">
                  {local ? `Locally: ${CACHE_KIND_LOCAL_MEANING[kind]}.` : CACHE_AWS_MEANING[kind]}
                </span>
              </span>
            </label>
          ))}
        </div>
        <FieldError id="cacheKind-error" message={errors.cacheKind} />
        {cacheKind === "elasticache" && (
          <div className="mt-3 max-w-xs">
            <label htmlFor="cacheNodeType" className="text-sm font-medium text-slate-800">
              Node type<span className="font-normal text-slate-500">{awsOnly}</span>
            </label>
            <select
              id="cacheNodeType"
              name="cacheNodeType"
              defaultValue={values.cacheNodeType ?? CACHE_NODE_TYPES[0]}
              aria-invalid={errors.cacheNodeType ? true : undefined}
              aria-describedby={describedBy("cacheNodeType")}
              className={inputClass}
            >
              {CACHE_NODE_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
            <FieldError id="cacheNodeType-error" message={errors.cacheNodeType} />
          </div>
        )}
      </fieldset>

      <fieldset data-testid="database-options">
        <legend className="text-sm font-medium text-slate-800">Database</legend>
        <div className="mt-2 grid gap-3 sm:grid-cols-2">
          <label className={choiceClass}>
            <input
              type="radio"
              name="database"
              value="none"
              checked={database === "none"}
              onChange={() => setDatabase("none")}
              aria-describedby="database-none-hint"
              className="mt-1"
            />
            <span>
              <span className="block text-sm font-medium">None</span>
              <span id="database-none-hint" className="block text-xs text-slate-500">
                Votes live in the cache only.
              </span>
            </span>
          </label>
          <label className={choiceClass}>
            <input
              type="radio"
              name="database"
              value="postgres"
              checked={database === "postgres"}
              onChange={() => setDatabase("postgres")}
              aria-describedby="database-postgres-hint"
              className="mt-1"
            />
            <span>
              <span className="block text-sm font-medium">PostgreSQL</span>
              <span id="database-postgres-hint" className="block text-xs text-slate-500">
                {local
                  ? "Locally: a PostgreSQL server of its own in the environment's folder. Every vote is recorded; the cache is rebuilt from it when it loses its data."
                  : "RDS PostgreSQL in private subnets, encrypted, credentials kept by Secrets Manager. Every vote is recorded; the cache is rebuilt from it when it loses its data."}
              </span>
            </span>
          </label>
        </div>
        <FieldError id="database-error" message={errors.database} />
        {database === "postgres" && (
          <div className="mt-3 grid gap-4 sm:grid-cols-3">
            <div>
              <label htmlFor="dbInstanceClass" className="text-sm font-medium text-slate-800">
                Instance class<span className="font-normal text-slate-500">{awsOnly}</span>
              </label>
              <select
                id="dbInstanceClass"
                name="dbInstanceClass"
                defaultValue={values.dbInstanceClass ?? DATABASE_INSTANCE_CLASSES[0]}
                aria-invalid={errors.dbInstanceClass ? true : undefined}
                aria-describedby={describedBy("dbInstanceClass")}
                className={inputClass}
              >
                {DATABASE_INSTANCE_CLASSES.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
              <FieldError id="dbInstanceClass-error" message={errors.dbInstanceClass} />
            </div>
            <div>
              <label htmlFor="dbStorageGb" className="text-sm font-medium text-slate-800">
                Storage (GiB)<span className="font-normal text-slate-500">{awsOnly}</span>
              </label>
              <input
                id="dbStorageGb"
                name="dbStorageGb"
                type="number"
                inputMode="numeric"
                min={DATABASE_STORAGE_GB.min}
                max={DATABASE_STORAGE_GB.max}
                defaultValue={values.dbStorageGb ?? DATABASE_STORAGE_GB.default}
                aria-invalid={errors.dbStorageGb ? true : undefined}
                aria-describedby={describedBy("dbStorageGb")}
                className={inputClass}
              />
              <FieldError id="dbStorageGb-error" message={errors.dbStorageGb} />
            </div>
            <div>
              <label htmlFor="dbBackupRetentionDays" className="text-sm font-medium text-slate-800">
                Backups kept (days)<span className="font-normal text-slate-500">{awsOnly}</span>
              </label>
              <input
                id="dbBackupRetentionDays"
                name="dbBackupRetentionDays"
                type="number"
                inputMode="numeric"
                min={DATABASE_BACKUP_RETENTION_DAYS.min}
                max={DATABASE_BACKUP_RETENTION_DAYS.max}
                defaultValue={values.dbBackupRetentionDays ?? DATABASE_BACKUP_RETENTION_DAYS.default}
                aria-invalid={errors.dbBackupRetentionDays ? true : undefined}
                aria-describedby={describedBy("dbBackupRetentionDays", "dbBackupRetentionDays-hint")}
                className={inputClass}
              />
              <p id="dbBackupRetentionDays-hint" className="mt-1 text-xs text-slate-500">
                0 turns automated backups off.
              </p>
              <FieldError id="dbBackupRetentionDays-error" message={errors.dbBackupRetentionDays} />
            </div>
            <label className="flex items-start gap-2 sm:col-span-3">
              <input
                type="checkbox"
                name="dbDeletionProtection"
                defaultChecked={values.dbDeletionProtection === "on"}
                aria-describedby="dbDeletionProtection-hint"
                className="mt-1"
              />
              <span>
                <span className="block text-sm font-medium text-slate-800">
                  Deletion protection<span className="font-normal text-slate-500">{awsOnly}</span>
                </span>
                <span id="dbDeletionProtection-hint" className="block text-xs text-slate-500">
                  Off for ephemeral environments. On: AWS refuses to delete the database (destroy fails until
                  it is turned off) and keeps a final snapshot.
                </span>
              </span>
            </label>
          </div>
        )}
      </fieldset>
    </>
  );
}
