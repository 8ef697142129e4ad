// The audit log as CSV (admins only), with the page's filters.
import { auditCsv, auditFilterSchema } from "../../../features/audit/queries";
import { routePrincipal } from "../../../server/identity";

export const dynamic = "force-dynamic";

export async function GET(request: Request) {
  const principal = await routePrincipal(request);
  if (principal instanceof Response) return principal;
  if (principal.role !== "admin") {
    return Response.json(
      { error: "forbidden", message: "Only admins can read the audit log." },
      { status: 403 },
    );
  }
  const filter = auditFilterSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const rows = auditCsv(filter);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await rows.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "");
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="portal-audit-${stamp}.csv"`,
      "cache-control": "no-store",
    },
  });
}
