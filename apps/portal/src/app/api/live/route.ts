// Liveness: 200 while the web process serves, without touching the database. Load balancers check this one
// (a database failover must not make them replace every healthy web process); /api/health is readiness.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
