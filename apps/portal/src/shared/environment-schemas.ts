// One schema per contract, used by the browser (instant field messages) and by the server actions (the
// authority). Bounds come from configuration, so the schemas are built from a `Limits` value.
import { environmentNameSchema, existingEnvironmentNameSchema } from "@platform/infra/environment-name";
import { z } from "zod";
import { ENVIRONMENT_STATUSES } from "./status";
import { type TierFields, tierOptionFields } from "./tier-options";

// The one name rule, shared with the operations and the AWS component.
// New names: the syntax and no reserved route word; names of environments that exist: the syntax (one created
// before a word was reserved stays reachable by the commands).
export { environmentNameSchema, existingEnvironmentNameSchema };

export interface ReplicaBounds {
  min: number;
  max: number;
}

export interface Limits {
  frontendReplicas: ReplicaBounds;
  redisReplicas: ReplicaBounds;
  /** Regions offered for the aws target; empty when AWS credentials are not configured. */
  awsRegions: string[];
  /** Longest time-to-live offered, in hours. */
  maxTtlHours: number;
  /** Time-to-live the create form starts with. */
  defaultTtlHours: number;
  /** Quota: frontends + Redis nodes of one environment. */
  replicasPerEnvironment: number;
  /** Whether the local target is offered (LOCAL_TARGET; default true). */
  localTarget?: boolean;
}

const replicas = (label: string, b: ReplicaBounds) =>
  z.coerce
    .number({ message: `${label} must be a number.` })
    .int(`${label} must be a whole number.`)
    .min(b.min, `${label}: at least ${b.min}.`)
    .max(b.max, `${label}: at most ${b.max}.`);

// Quotas (replicas per environment, required time-to-live, environments per person/team/portal) are not
// checked here but by the commands, which record every refusal in the audit log.

/** Form fields arrive as strings; an empty optional field means "not set". */
const emptyToUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);

export function createEnvironmentSchema(limits: Limits) {
  return z
    .object({
      name: environmentNameSchema,
      target: z.enum(["local", "aws"], { message: "Choose a target." }),
      region: z.preprocess(emptyToUndefined, z.string().optional()),
      frontendReplicas: replicas("Frontend replicas", limits.frontendReplicas),
      redisReplicas: replicas("Redis replicas", limits.redisReplicas),
      ttlHours: z.preprocess(
        emptyToUndefined,
        z.coerce
          .number({ message: "Time to live must be a number of hours." })
          .int("Time to live must be a whole number of hours.")
          .min(1, "Time to live: at least 1 hour.")
          .max(limits.maxTtlHours, `Time to live: at most ${limits.maxTtlHours} hours.`)
          .optional(),
      ),
      team: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
      /** The voting app's "reset all votes" (a checkbox: present means on). */
      allowReset: z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean()).optional(),
      // The cache and database options (shared/tier-options.ts, from @platform/infra's spec).
      ...tierOptionFields,
      idempotencyKey: z.string().uuid("Reload the page and submit again."),
    })
    .superRefine((v, ctx) => {
      if (v.target === "local" && limits.localTarget === false) {
        ctx.addIssue({
          code: "custom",
          path: ["target"],
          message: "The local target is not offered on this portal.",
        });
      }
      if (v.target !== "aws") return;
      if (limits.awsRegions.length === 0) {
        ctx.addIssue({ code: "custom", path: ["target"], message: "AWS is not configured on this portal." });
      } else if (!v.region || !limits.awsRegions.includes(v.region)) {
        ctx.addIssue({ code: "custom", path: ["region"], message: "Choose one of the offered regions." });
      }
    });
}
/** What the create command takes: the parsed form; the tier options may be left out (the defaults). */
export type CreateEnvironmentInput = Omit<
  z.infer<ReturnType<typeof createEnvironmentSchema>>,
  keyof typeof tierOptionFields
> &
  TierFields;

export function scaleEnvironmentSchema(limits: Limits) {
  return z.object({
    name: existingEnvironmentNameSchema,
    frontendReplicas: replicas("Frontend replicas", limits.frontendReplicas),
    redisReplicas: replicas("Redis replicas", limits.redisReplicas),
    idempotencyKey: z.string().uuid("Reload the page and submit again."),
  });
}
export type ScaleEnvironmentInput = z.infer<ReturnType<typeof scaleEnvironmentSchema>>;

export const destroyEnvironmentSchema = z
  .object({
    name: existingEnvironmentNameSchema,
    confirmation: z.string().trim(),
    idempotencyKey: z.string().uuid("Reload the page and submit again."),
  })
  .refine((v) => v.confirmation === v.name, {
    path: ["confirmation"],
    message: "Type the environment's name exactly to confirm.",
  });
export type DestroyEnvironmentInput = z.infer<typeof destroyEnvironmentSchema>;

/** Refresh, retry, cancel and remove: an environment name and a key against double submits. */
export const environmentActionSchema = z.object({
  name: existingEnvironmentNameSchema,
  idempotencyKey: z.string().uuid("Reload the page and submit again."),
});
export type EnvironmentActionInput = z.infer<typeof environmentActionSchema>;

export const listFilterSchema = z.object({
  status: z
    .enum(["all", "active", ...ENVIRONMENT_STATUSES])
    .catch("active")
    .default("active"),
  mine: z
    .enum(["0", "1"])
    .catch("0")
    .default("0")
    .transform((v) => v === "1"),
  page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1),
});
export type ListFilter = z.infer<typeof listFilterSchema>;

/** What every form action returns to the page: a message, and per-field messages with the values kept. */
export interface FormState {
  status: "idle" | "ok" | "error";
  message?: string;
  fieldErrors?: Record<string, string>;
  values?: Record<string, string>;
  /** A fresh idempotency key for the form's next submit. */
  nextKey?: string;
}

/** The first message of each field, keyed by field name ("" for form-level). */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "";
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}
