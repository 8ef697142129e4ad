import { describe, expect, it } from "vitest";
import { normaliseAssertion } from "../../src/server/auth/proxy-jwt";
import { makePrincipal, type RoleRules, refusalFor, roleOf, teamsOf } from "../../src/shared/access";

const rules: RoleRules = {
  adminGroups: ["portal-admins"],
  memberGroups: ["portal-members"],
  viewerGroups: ["portal-viewers"],
  defaultRole: null,
  adminUsers: ["boss@example.com"],
  teamGroupPrefix: "",
};

describe("roles and teams from groups", () => {
  it("gives the strongest role the groups give, else the default (none: no access)", () => {
    expect(roleOf(["portal-viewers", "portal-members"], undefined, rules)).toBe("member");
    expect(roleOf(["portal-admins", "portal-viewers"], undefined, rules)).toBe("admin");
    expect(roleOf(["portal-viewers"], undefined, rules)).toBe("viewer");
    expect(roleOf(["team-a"], undefined, rules)).toBeNull();
    expect(roleOf(["team-a"], undefined, { ...rules, defaultRole: "viewer" })).toBe("viewer");
    expect(roleOf([], "Boss@Example.com", rules)).toBe("admin");
  });
  it("takes every other group as a team, or only those with the prefix", () => {
    expect(teamsOf(["portal-members", "team-b", "team-a", "team-a"], rules)).toEqual(["team-a", "team-b"]);
    expect(teamsOf(["portal-members", "team-a", "staff"], { ...rules, teamGroupPrefix: "team-" })).toEqual([
      "team-a",
    ]);
  });
});

describe("who may do what", () => {
  const env = { name: "shop", owner: "ann@example.com", team: "team-a" };
  it("admins everything; viewers nothing; members their own and their teams' environments", () => {
    expect(refusalFor(makePrincipal("root@example.com", "admin"), "destroy", env)).toBeNull();
    expect(refusalFor(makePrincipal("vic@example.com", "viewer"), "create")).toMatch(/read-only/);
    expect(refusalFor(makePrincipal("vic@example.com", "viewer", ["team-a"]), "scale", env)).toMatch(
      /viewer/,
    );
    expect(refusalFor(makePrincipal("ann@example.com", "member"), "destroy", env)).toBeNull();
    expect(refusalFor(makePrincipal("tom@example.com", "member", ["team-a"]), "destroy", env)).toBeNull();
    expect(refusalFor(makePrincipal("bob@example.com", "member", ["team-b"]), "create")).toBeNull();
    expect(refusalFor(makePrincipal("bob@example.com", "member", ["team-b"]), "destroy", env)).toBe(
      "Only its owner (ann@example.com), members of team team-a and admins can destroy “shop”.",
    );
    expect(refusalFor(makePrincipal("bob@example.com", "member"), "cancel", { ...env, team: null })).toMatch(
      /^Only its owner \(ann@example.com\) and admins can cancel operations on “shop”/,
    );
  });
});

describe("proxy assertions", () => {
  it("drops the ALB's base64 padding and a Bearer prefix", () => {
    expect(normaliseAssertion("Bearer aGk=.eyJ9==.c2ln=")).toBe("aGk.eyJ9.c2ln");
  });
});
