// The OpenAPI document against the app: it is a valid OpenAPI 3.1 document (@readme/openapi-parser), and it
// documents every API route the app serves — the route list is derived from the files under src/app/api/v1
// (path segments and exported methods), not written by hand — and nothing more.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { validate } from "@readme/openapi-parser";
import type { OpenAPIV3_1 } from "openapi-types";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/features/api/openapi";
import { API_ROUTES } from "../../src/features/api/routes";

const apiDir = path.resolve(import.meta.dirname, "../../src/app/api/v1");
const limits = {
  frontendReplicas: { min: 1, max: 10 },
  redisReplicas: { min: 1, max: 5 },
  awsRegions: ["eu-west-1"],
  maxTtlHours: 336,
  defaultTtlHours: 24,
  replicasPerEnvironment: 12,
};

/** "METHOD /path" for every route file under src/app/api/v1, from its folders and exported handlers. */
function routesFromFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry === "route.ts") {
        const segments = path.relative(apiDir, dir).split(path.sep).filter(Boolean);
        if (segments.some((s) => s.startsWith("[..."))) continue; // the JSON 404 for unknown paths
        const openApiPath = `/${segments.map((s) => s.replace(/^\[(\w+)\]$/, "{$1}")).join("/")}`;
        const source = readFileSync(full, "utf8");
        for (const m of source.matchAll(
          /export (?:const|async function|function) (GET|POST|PUT|PATCH|DELETE)\b/g,
        )) {
          found.push(`${m[1]} ${openApiPath}`);
        }
      }
    }
  };
  walk(apiDir);
  return found.sort();
}

describe("the OpenAPI document", () => {
  const doc = openApiDocument(API_ROUTES, limits) as unknown as OpenAPIV3_1.Document;

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result, JSON.stringify(result, null, 1)).toMatchObject({ valid: true });
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it("is checked by a validator that does reject a broken document", async () => {
    const broken = structuredClone(doc) as unknown as {
      paths: Record<string, Record<string, { parameters: { in: string }[] }>>;
    };
    (broken.paths["/environments"]?.get?.parameters[0] as { in: string }).in = "body"; // OpenAPI 2's, not 3's
    expect((await validate(structuredClone(broken) as never)).valid).toBe(false);
  });

  it("documents exactly the routes the app serves", () => {
    const files = routesFromFiles();
    const documented = Object.entries(doc.paths ?? {})
      .flatMap(([p, item]) => Object.keys(item ?? {}).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(documented).toEqual(files);
  });

  it("says who may call what, and every operation has its errors and a unique id", () => {
    const ids = new Set<string>();
    for (const [p, item] of Object.entries(doc.paths ?? {})) {
      for (const [method, op] of Object.entries(item ?? {}) as [string, OpenAPIV3_1.OperationObject][]) {
        expect(ids.has(op.operationId as string), `${op.operationId} twice`).toBe(false);
        ids.add(op.operationId as string);
        const statuses = Object.keys(op.responses ?? {});
        if (p === "/openapi.json") {
          expect(op.security).toEqual([]);
          continue;
        }
        expect(statuses, `${method} ${p}`).toEqual(expect.arrayContaining(["401", "429", "500"]));
        if (method === "post") {
          expect(statuses, `${method} ${p}`).toEqual(
            expect.arrayContaining(
              ["202", "400", "403", "422"].filter((s) => s !== "202" || !p.endsWith("/remove")),
            ),
          );
          expect((op.parameters as OpenAPIV3_1.ParameterObject[]).map((x) => x.name)).toContain(
            "Idempotency-Key",
          );
        }
      }
    }
  });

  it("describes the create body from the create form's schema, with this portal's bounds", () => {
    const body = (doc.components?.schemas?.CreateEnvironmentRequest ?? {}) as OpenAPIV3_1.SchemaObject;
    const props = body.properties as Record<string, OpenAPIV3_1.SchemaObject>;
    expect(Object.keys(props)).toEqual(
      expect.arrayContaining(["name", "target", "frontendReplicas", "redisReplicas", "ttlHours", "team"]),
    );
    expect(props).not.toHaveProperty("idempotencyKey"); // the Idempotency-Key header supplies it
    expect(props.frontendReplicas).toMatchObject({ minimum: 1, maximum: 10 });
    expect(props.ttlHours).toMatchObject({ minimum: 1, maximum: 336 });
    // All three parts of the name rule survive (zod-to-openapi kept only the first).
    expect(JSON.stringify(props.name)).toContain("^[a-z0-9-]+$");
    expect(body.required).toEqual(
      expect.arrayContaining(["name", "target", "frontendReplicas", "redisReplicas"]),
    );
    expect(body.additionalProperties).toBe(false);
  });
});
