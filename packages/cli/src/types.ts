// The API's answers as envctl reads them (the portal's OpenAPI document at /api/v1/openapi.json has them all).
export interface Operation {
  id: string;
  environment: string;
  kind: string;
  status: string;
  requestedBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: { done: number; expected: number };
  error: { code: string | null; message: string } | null;
  frontendReplicas: number;
  redisReplicas: number;
  changes: Record<string, number> | null;
  links: { self: string; events: string; stream: string };
}

export interface Environment {
  name: string;
  target: string;
  region: string | null;
  status: string;
  owner: string;
  team: string | null;
  frontendReplicas: { desired: number; current: number | null };
  redisReplicas: { desired: number; current: number | null };
  frontendUrl: string | null;
  /** The cache and database options, as the create form stored them ({}: the defaults). */
  options?: Record<string, unknown>;
  createdAt: string;
  expiresAt: string | null;
  lastOperation: Operation | null;
  links: { self: string; operations: string; page: string };
}

export interface CommandAnswer {
  message: string;
  environment: Environment | null;
  operation: Operation | null;
}

export interface EnvironmentList {
  items: Environment[];
  total: number;
  next: string | null;
}

export interface EventList {
  items: { id: string; type: string; severity: string | null; message: string; at: string }[];
  next: string | null;
  operation: { status: string; done: boolean };
}

export interface Me {
  id: string;
  name: string;
  role: string;
  teams: string[];
  token: { id: string; name: string; prefix: string; scope: string; expiresAt: string };
}
