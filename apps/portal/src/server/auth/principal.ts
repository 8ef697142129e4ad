// From "who signed in and in which groups" to a Principal (role and teams from the configured groups).
import type { Principal, RoleRules } from "../../shared/access";
import { roleOf, teamsOf } from "../../shared/access";
import type { PortalConfig } from "../env";

export function roleRules(c: PortalConfig): RoleRules {
  return {
    adminGroups: c.ADMIN_GROUPS,
    memberGroups: c.MEMBER_GROUPS,
    viewerGroups: c.VIEWER_GROUPS,
    defaultRole: c.DEFAULT_ROLE === "none" ? null : c.DEFAULT_ROLE,
    adminUsers: c.ADMIN_USERS,
    teamGroupPrefix: c.TEAM_GROUP_PREFIX,
  };
}

export interface SignedInIdentity {
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
}

/** What resolving a request's identity gives: a principal, or why there is none (shown on the sign-in page). */
export type Resolution = { ok: true; principal: Principal } | { ok: false; reason: string };

export function principalFrom(who: SignedInIdentity, via: Principal["via"], c: PortalConfig): Resolution {
  const rules = roleRules(c);
  const email = who.email?.trim().toLowerCase() || undefined;
  const role = roleOf(who.groups, email, rules);
  const id = email ?? who.subject;
  if (!role) {
    return {
      ok: false,
      reason: `${id} is signed in but belongs to none of the portal's groups (${[...rules.adminGroups, ...rules.memberGroups, ...rules.viewerGroups].join(", ")}). Ask an admin for access.`,
    };
  }
  return {
    ok: true,
    principal: {
      id,
      subject: who.subject,
      email,
      name: who.name?.trim() || id,
      groups: [...new Set(who.groups)],
      role,
      teams: teamsOf(who.groups, rules),
      via,
    },
  };
}

/** Groups from a claim that may be an array, a comma/space separated string, or absent. */
export function groupsFromClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string" && g.length > 0);
  if (typeof value === "string")
    return value
      .split(/[,\s]+/)
      .map((g) => g.trim())
      .filter(Boolean);
  return [];
}

/** A system actor (the workers' time-to-live destroys): an admin that is no person. */
export const systemPrincipal = (name: string): Principal => ({
  id: name,
  subject: name,
  name,
  groups: [],
  role: "admin",
  teams: [],
  via: "system",
});
