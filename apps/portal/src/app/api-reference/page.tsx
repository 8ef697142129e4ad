import type { Metadata } from "next";
import { openApiDocument } from "../../features/api/openapi";
import { API_ROUTES } from "../../features/api/routes";
import { describeType, fieldsOf } from "../../features/api/schema-text";
import { config, limitsFrom, publicUrl } from "../../server/env";
import { requirePrincipal } from "../../server/identity";

export const metadata: Metadata = { title: "API reference" };
export const dynamic = "force-dynamic";

type Json = Record<string, unknown>;

const METHOD_STYLE: Record<string, string> = {
  get: "bg-sky-100 text-sky-900",
  post: "bg-emerald-100 text-emerald-900",
};
const cell = "px-3 py-2 align-top";
const headCell = "px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-600";

function FieldTable({ caption, rows }: { caption: string; rows: ReturnType<typeof fieldsOf> }) {
  if (rows.length === 0) return null;
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <caption className="py-1 text-left text-sm font-medium text-slate-800">{caption}</caption>
        <thead className="bg-slate-50">
          <tr>
            <th scope="col" className={headCell}>
              Field
            </th>
            <th scope="col" className={headCell}>
              Type
            </th>
            <th scope="col" className={headCell}>
              Description
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((r) => (
            <tr key={r.name}>
              <td className={`${cell} font-mono text-xs`}>
                {r.name}
                {r.required && <span className="ml-1 text-rose-700">required</span>}
              </td>
              <td className={`${cell} text-slate-700`}>{r.type}</td>
              <td className={`${cell} text-slate-700`}>{r.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The API's reference, rendered from the same OpenAPI document that /api/v1/openapi.json serves. */
export default async function ApiReferencePage() {
  await requirePrincipal("/api-reference");
  const c = config();
  const doc = openApiDocument(API_ROUTES, limitsFrom(c));
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  const tags = doc.tags as { name: string; description: string }[];
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  const base = `${publicUrl(c)}/api/v1`;
  return (
    <div className="space-y-8">
      <div className="space-y-2">
        <h1 className="text-2xl font-semibold tracking-tight">API reference</h1>
        <p className="max-w-3xl text-sm text-slate-700">
          The same commands as the pages, for scripts and CI pipelines. Base URL{" "}
          <code className="break-all font-mono">{base}</code>. Send a personal access token (
          <a href="/tokens" className="text-indigo-700 underline">
            Tokens
          </a>
          ) as <code className="font-mono">Authorization: Bearer envp_…</code>. Writes answer 202 with the
          operation they requested; send an <code className="font-mono">Idempotency-Key</code> header to retry
          them safely. Every error is <code className="font-mono">{"{ code, message, field? }"}</code>.
        </p>
        <p className="text-sm">
          <a href="/api/v1/openapi.json" className="text-indigo-700 underline">
            OpenAPI 3.1 document (openapi.json)
          </a>
        </p>
      </div>
      <nav aria-label="Operations" className="rounded-lg border border-slate-200 bg-white p-4 text-sm">
        <ul className="grid gap-1 sm:grid-cols-2">
          {operations.map(({ path, method, op }) => (
            <li key={`${method} ${path}`}>
              <a href={`#${op.operationId}`} className="text-indigo-700 underline">
                <span className="font-mono text-xs uppercase">{method}</span> {path}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tags.map((tag) => (
        <section key={tag.name} aria-labelledby={`tag-${tag.name}`} className="space-y-4">
          <h2 id={`tag-${tag.name}`} className="text-xl font-semibold">
            {tag.name}
            <span className="ml-2 text-sm font-normal text-slate-600">{tag.description}</span>
          </h2>
          {operations
            .filter(({ op }) => (op.tags as string[]).includes(tag.name))
            .map(({ path, method, op }) => {
              const params = (op.parameters as Json[]) ?? [];
              const bodyRef = (
                ((op.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as
                  | Json
                  | undefined
              )?.schema as Json | undefined;
              const body = bodyRef ? schemas[String(bodyRef.$ref).split("/").at(-1) ?? ""] : undefined;
              const responses = op.responses as Record<string, Json>;
              return (
                <article
                  key={`${method} ${path}`}
                  id={String(op.operationId)}
                  aria-labelledby={`${op.operationId}-title`}
                  className="space-y-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
                >
                  <h3
                    id={`${op.operationId}-title`}
                    className="flex flex-wrap items-center gap-2 font-semibold"
                  >
                    <span
                      className={`rounded px-2 py-0.5 font-mono text-xs uppercase ${METHOD_STYLE[method] ?? ""}`}
                    >
                      {method}
                    </span>
                    <code className="break-all font-mono text-sm">/api/v1{path}</code>
                    <span className="text-slate-800">{String(op.summary)}</span>
                  </h3>
                  {typeof op.description === "string" && (
                    <p className="text-sm text-slate-700">{op.description}</p>
                  )}
                  <p className="text-xs text-slate-600">
                    Token scope:{" "}
                    {String(op["x-token-scope"]) === "none" ? "none (public)" : String(op["x-token-scope"])}
                  </p>
                  <FieldTable
                    caption="Parameters"
                    rows={params.map((p) => ({
                      name: `${p.name} (${p.in})`,
                      type: describeType(p.schema as Json),
                      required: Boolean(p.required),
                      description: String(p.description ?? ""),
                    }))}
                  />
                  {body && <FieldTable caption="JSON body" rows={fieldsOf(body)} />}
                  <div>
                    <h4 className="text-sm font-medium text-slate-800">Responses</h4>
                    <ul className="mt-1 space-y-0.5 text-sm text-slate-700">
                      {Object.entries(responses).map(([status, r]) => {
                        const content = r.content as Record<string, Json> | undefined;
                        const [type, media] = Object.entries(content ?? {})[0] ?? [];
                        const shape = media?.schema ? describeType(media.schema as Json) : "";
                        return (
                          <li key={status}>
                            <span className="font-mono">{status}</span> {String(r.description)}
                            {shape && shape !== "Error" && (
                              <>
                                {" "}
                                —{" "}
                                {type === "text/event-stream" ? (
                                  "text/event-stream"
                                ) : (
                                  <a href={`#schema-${shape}`} className="text-indigo-700 underline">
                                    {shape}
                                  </a>
                                )}
                              </>
                            )}
                          </li>
                        );
                      })}
                    </ul>
                  </div>
                </article>
              );
            })}
        </section>
      ))}
      <section aria-labelledby="schemas-heading" className="space-y-4">
        <h2 id="schemas-heading" className="text-xl font-semibold">
          Schemas
        </h2>
        {Object.entries(schemas)
          .filter(([id]) => !id.endsWith("Request"))
          .map(([id, s]) => (
            <article
              key={id}
              id={`schema-${id}`}
              aria-labelledby={`schema-${id}-title`}
              className="space-y-2 rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
            >
              <h3 id={`schema-${id}-title`} className="font-mono font-semibold">
                {id}
              </h3>
              {typeof s.description === "string" && <p className="text-sm text-slate-700">{s.description}</p>}
              <FieldTable caption={`${id} fields`} rows={fieldsOf(s)} />
            </article>
          ))}
      </section>
    </div>
  );
}
