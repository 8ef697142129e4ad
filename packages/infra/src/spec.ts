import { z } from "zod";
import { existingEnvironmentNameSchema } from "./environment-name";
import type { EnvironmentRef, EnvironmentSpec } from "./operations/types";

// One schema per contract: these validate what the portal hands to the operations, before any Pulumi run.

export const targetSchema = z.enum(["local", "aws"]);

const voteOptionsSchema = z
  .string()
  .refine(
    (v) => v.split(",").filter((o) => o.trim().length > 0).length >= 2,
    "voteOptions needs at least 2 options",
  )
  .refine((v) => !/[\p{Cc}]/u.test(v), "voteOptions must not contain control characters");

export const environmentSpecSchema = z
  .object({
    name: existingEnvironmentNameSchema,
    target: targetSchema,
    frontendReplicas: z.number().int().min(1).max(20),
    redisReplicas: z.number().int().min(1).max(6),
    owner: z.string().min(1).max(120).optional(),
    aws: z
      .object({
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "region must look like eu-west-1"),
        certificateArn: z.string().startsWith("arn:").optional(),
      })
      .strict()
      .optional(),
    app: z.object({ allowReset: z.boolean().optional() }).strict().optional(),
    local: z
      .object({
        voteOptions: voteOptionsSchema.optional(),
        appTitle: z.string().min(1).max(80).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.target === "aws" && !spec.aws) {
      ctx.addIssue({
        code: "custom",
        path: ["aws"],
        message: "target aws needs aws options (at least region)",
      });
    }
  }) satisfies z.ZodType<EnvironmentSpec>;

export const environmentRefSchema = z
  .object({ name: existingEnvironmentNameSchema, target: targetSchema })
  .strip() satisfies z.ZodType<EnvironmentRef>;

export const operationsConfigSchema = z.object({
  backendUrl: z
    .string()
    .refine(
      (u) => u.startsWith("postgres://") || u.startsWith("file://"),
      "backendUrl must be postgres://user:pass@host:port/db?sslmode=disable&table=NAME or file://<dir>",
    ),
  passphrase: z.string().min(1).optional(),
  dataDir: z.string().min(1),
  workspacesDir: z.string().min(1).optional(),
  pulumiHome: z.string().min(1).optional(),
  cliRoot: z.string().min(1).optional(),
  redisServerPath: z.string().min(1).optional(),
  votingAppMain: z.string().min(1).optional(),
  haproxyPath: z.string().min(1).optional(),
  supervisordPath: z.string().min(1).optional(),
});
