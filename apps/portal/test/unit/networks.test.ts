// Networks' rules (pure): their spec, which actions are possible when, and the estimate helpers.
import { describe, expect, it } from "vitest";
import { environmentEstimate, totalOf } from "../../src/features/cost/estimate";
import { createNetworkSchema, networkRefusal, networkSpecOf } from "../../src/features/networks/model";

describe("network rules", () => {
  const ready = {
    status: "ready" as const,
    lastOperationStatus: "succeeded" as const,
    lastOperationKind: "create" as const,
  };

  it("refuses a destroy while environments use it, saying how many", () => {
    expect(networkRefusal("destroy", { ...ready, environments: 2 }, "Network aws-eu-west-1")).toBe(
      "Network aws-eu-west-1 is used by 2 environments: destroy them first. Nothing was changed.",
    );
    expect(networkRefusal("destroy", { ...ready, environments: 0 })).toBeNull();
    expect(
      networkRefusal("destroy", {
        ...ready,
        lastOperationStatus: "running",
        lastOperationKind: "refresh",
        environments: 0,
      }),
    ).toBe("A refresh operation is running. Cancel it first, then destroy.");
  });

  it("allows a create again only once destroyed, and removing a record only when nothing can be left", () => {
    expect(networkRefusal("create", { ...ready, environments: 0 }, "The network of eu-west-1")).toBe(
      "The network of eu-west-1 exists already.",
    );
    expect(
      networkRefusal("create", {
        status: "destroyed",
        lastOperationStatus: "succeeded",
        lastOperationKind: "destroy",
        environments: 0,
      }),
    ).toBeNull();
    expect(networkRefusal("remove", { ...ready, environments: 0, everStarted: true })).toMatch(
      /^Destroy the network before/,
    );
    expect(
      networkRefusal("remove", {
        status: "failed",
        lastOperationStatus: "failed",
        environments: 0,
        everStarted: false,
      }),
    ).toBeNull();
  });

  it("makes the operations' spec of a created or an adopted network", () => {
    const base = { name: "aws-eu-west-1", region: "eu-west-1", createdBy: "ada@example.com" };
    expect(
      networkSpecOf({
        ...base,
        mode: "created",
        natGateways: "onePerAz",
        availabilityZones: 3,
        existing: null,
      }),
    ).toEqual({
      ...{ name: "aws-eu-west-1", region: "eu-west-1", owner: "ada@example.com" },
      natGateways: "onePerAz",
      availabilityZones: 3,
    });
    const existing = {
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
      publicSubnetIds: ["subnet-0123456789abcdef3", "subnet-0123456789abcdef4"],
    };
    expect(
      networkSpecOf({ ...base, mode: "adopted", natGateways: null, availabilityZones: null, existing }),
    ).toEqual({
      name: "aws-eu-west-1",
      region: "eu-west-1",
      owner: "ada@example.com",
      existing,
    });
  });

  it("validates the create-network form against the offered regions", () => {
    const schema = createNetworkSchema(["eu-west-1"]);
    const ok = {
      region: "eu-west-1",
      natGateways: "single",
      availabilityZones: "2",
      idempotencyKey: "7a6f0b0e-3f5e-4c2b-9d3c-2a1b0c9d8e7f",
    };
    expect(schema.safeParse(ok).success).toBe(true);
    expect(schema.safeParse({ ...ok, region: "us-east-1" }).error?.issues[0]?.message).toBe(
      "Choose one of the offered regions.",
    );
    expect(schema.safeParse({ ...ok, availabilityZones: "4" }).error?.issues[0]?.message).toBe(
      "Choose 2 or 3 availability zones.",
    );
  });
});

describe("estimates in the portal", () => {
  it("counts the new environment in its network's share, and says why a region has none", () => {
    const sharing = { natGateways: 1, adopted: false, environments: 3 };
    const joining = environmentEstimate({
      region: "us-east-1",
      frontendReplicas: 2,
      redisReplicas: 1,
      sharing,
      joining: true,
    });
    const member = environmentEstimate({
      region: "us-east-1",
      frontendReplicas: 2,
      redisReplicas: 1,
      sharing,
    });
    const share = (r: typeof joining) =>
      r.ok ? r.estimate.lineItems.find((l) => l.key === "network-share")?.monthly : NaN;
    // 36.50 of NAT a month: a fourth when it joins three others, a third when it is one of three.
    expect(share(joining)).toBe(9.13);
    expect(share(member)).toBe(12.17);
    const none = environmentEstimate({ region: "sa-east-1", frontendReplicas: 1, redisReplicas: 1, sharing });
    expect(none).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^no prices for region sa-east-1/),
    });
    expect(totalOf([joining, member, none])).toEqual({
      total:
        Math.round(
          ((joining.ok ? joining.estimate.monthlyTotal : 0) +
            (member.ok ? member.estimate.monthlyTotal : 0)) *
            100,
        ) / 100,
      estimated: 2,
      unpriced: 1,
    });
  });
});
