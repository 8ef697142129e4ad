// Who may do what. Pure (no I/O, no Next): the command layer is the authority and calls `refusalFor` before it
// changes anything; pages call the same function to show only the buttons that can work.
import type { EnvironmentAction } from "./status";

export const ROLES = ["admin", "member", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** The person (or system actor) behind a request, whichever way they signed in. */
export interface Principal {
  /** The owner key: the e-mail (lower-case) when the identity provider gives one, else the subject. */
  id: string;
  /** The identity provider's subject (`sub`), or the dev user. */
  subject: string;
  email?: string;
  /** Shown in the header. */
  name: string;
  groups: string[];
  role: Role;
  /** The groups that are teams (an environment can belong to one of them). */
  teams: string[];
  /** How the identity was established: dev, oidc, proxy-jwt, system (the worker's time-to-live), token (API). */
  via: "dev" | "oidc" | "proxy-jwt" | "system" | "token";
  /** The personal access token the request carried (via "token"): what it may do, recorded in the audit log. */
  token?: { id: string; prefix: string; scope: "read" | "write" };
}

export interface RoleRules {
  adminGroups: string[];
  memberGroups: string[];
  viewerGroups: string[];
  /** Role of someone in none of the groups; null: no access. */
  defaultRole: Role | null;
  /** Admins by e-mail (lower-case). */
  adminUsers: string[];
  /** Groups with this prefix are teams; "" means every group that does not grant a role. */
  teamGroupPrefix: string;
}

/** The strongest role the groups (or the admin list) give, else the default; null means no access. */
export function roleOf(groups: readonly string[], email: string | undefined, rules: RoleRules): Role | null {
  const has = (list: readonly string[]) => groups.some((g) => list.includes(g));
  if ((email && rules.adminUsers.includes(email.toLowerCase())) || has(rules.adminGroups)) return "admin";
  if (has(rules.memberGroups)) return "member";
  if (has(rules.viewerGroups)) return "viewer";
  return rules.defaultRole;
}

export function teamsOf(groups: readonly string[], rules: RoleRules): string[] {
  const roleGroups = new Set([...rules.adminGroups, ...rules.memberGroups, ...rules.viewerGroups]);
  return [
    ...new Set(
      groups.filter((g) =>
        rules.teamGroupPrefix ? g.startsWith(rules.teamGroupPrefix) : !roleGroups.has(g) && g.length > 0,
      ),
    ),
  ].sort();
}

/** What a person can ask of the portal. */
export type AccessAction = "create" | EnvironmentAction;

export interface OwnedEnvironment {
  name: string;
  owner: string;
  team: string | null;
}

const VERB: Record<AccessAction, string> = {
  create: "create environments",
  scale: "scale",
  preview: "preview a scale of",
  refresh: "refresh",
  reconcile: "reconcile",
  retry: "retry operations on",
  cancel: "cancel operations on",
  destroy: "destroy",
  remove: "remove the record of",
};

/** True when the environment is the person's own or one of their teams'. */
export const isOwnOrTeams = (p: Principal, env: OwnedEnvironment) =>
  env.owner === p.id || (env.team !== null && p.teams.includes(env.team));

/**
 * Why `principal` may not do `action` (on `env`), or null when they may. The message is shown to the person as
 * is: it says what rule refused them.
 */
export function refusalFor(
  principal: Principal,
  action: AccessAction,
  env?: OwnedEnvironment,
): string | null {
  if (principal.role === "admin") return null;
  if (principal.role === "viewer") {
    return `You have read-only access (viewer): you cannot ${VERB[action]}${env ? ` “${env.name}”` : ""}. Ask an admin for member access.`;
  }
  if (action === "create" || !env) return null;
  if (isOwnOrTeams(principal, env)) return null;
  const who = env.team ? `its owner (${env.owner}), members of team ${env.team}` : `its owner (${env.owner})`;
  return `Only ${who} and admins can ${VERB[action]} “${env.name}”.`;
}

/** A principal from its parts (tests, benchmarks, system actors). */
export function makePrincipal(
  id: string,
  role: Role,
  teams: string[] = [],
  via: Principal["via"] = "dev",
): Principal {
  return {
    id,
    subject: id,
    email: id.includes("@") ? id : undefined,
    name: id,
    groups: teams,
    role,
    teams,
    via,
  };
}
