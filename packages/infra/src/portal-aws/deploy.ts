// The Pulumi program of the portal's own deployment (deploy/portal/Pulumi.yaml runs it): reads the stack's
// configuration, builds and pushes the portal and voting-app images (unless prebuilt ones are configured),
// creates the portal's network (or adopts a VPC), and the portal itself. See README.md, "Deploy the portal to AWS".
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { contentTag } from "../aws/image";
import { adoptedNetworkFacts, PlatformNetwork } from "../aws/network";
import { existingNetworkSchema } from "../spec";
import { PortalOnAws } from "./portal";

/** The repository root, from src/portal-aws or dist/portal-aws alike. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..", "..");

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** Pushes an image built from `dockerfile` (context `context`) to its own ECR repository. */
function image(key: string, context: string, dockerfile: string, tags: Record<string, string>) {
  const repository = new aws.ecr.Repository(key, {
    imageTagMutability: "IMMUTABLE",
    imageScanningConfiguration: { scanOnPush: true },
    tags: { ...tags, Name: key },
  });
  return new awsx.ecr.Image(key, {
    repositoryUrl: repository.repositoryUrl,
    context,
    dockerfile,
    platform: "linux/amd64",
    imageTag: contentTag(context, dockerfile),
  }).imageUri;
}

export async function deployPortal(): Promise<Record<string, pulumi.Input<unknown>>> {
  const cfg = new pulumi.Config("portal");
  const name = cfg.get("name") ?? "portal";
  const region = new pulumi.Config("aws").require("region");
  const tags = { ManagedBy: "platform-portal-deployment", Component: name };

  // The portal's own network: adopted when configured, else a small one of its own (one NAT gateway).
  const vpcId = cfg.get("vpcId");
  let network: {
    vpcId: pulumi.Input<string>;
    privateSubnetIds: pulumi.Input<string[]>;
    publicSubnetIds: pulumi.Input<string[]>;
  };
  let networkName: string;
  if (vpcId) {
    const existing = existingNetworkSchema.parse({
      vpcId,
      privateSubnetIds: list(cfg.get("privateSubnetIds")),
      publicSubnetIds: list(cfg.get("publicSubnetIds")),
    });
    await adoptedNetworkFacts(existing, {}); // the same checks as for environments' networks
    network = existing;
    networkName = vpcId;
  } else {
    const created = new PlatformNetwork(`${name}-network`, {
      name: `${name}-network`,
      owner: name,
      natGateways: cfg.get("natGateways") === "onePerAz" ? "onePerAz" : "single",
    });
    network = created;
    networkName = `${name}-network`;
  }

  const portalImage =
    cfg.get("image") ??
    image(`${name}-portal`, REPO_ROOT, path.join(REPO_ROOT, "apps/portal/Dockerfile"), tags);
  const votingApp = path.join(REPO_ROOT, "packages/voting-app");
  const votingAppImage =
    cfg.get("votingAppImage") ??
    image(`${name}-voting-app`, votingApp, path.join(votingApp, "Dockerfile"), tags);

  const portal = new PortalOnAws(name, {
    name,
    image: portalImage,
    votingAppImage,
    network: {
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      publicSubnetIds: network.publicSubnetIds,
    },
    domainName: cfg.require("domainName"),
    certificateArn: cfg.require("certificateArn"),
    hostedZoneId: cfg.get("hostedZoneId"),
    oidc: {
      issuer: cfg.require("oidcIssuer"),
      authorizationEndpoint: cfg.require("oidcAuthorizationEndpoint"),
      tokenEndpoint: cfg.require("oidcTokenEndpoint"),
      userInfoEndpoint: cfg.require("oidcUserInfoEndpoint"),
      clientId: cfg.require("oidcClientId"),
    },
    oidcClientSecret: cfg.requireSecret("oidcClientSecret"),
    environmentRegions: list(cfg.get("environmentRegions")).length
      ? list(cfg.get("environmentRegions"))
      : [region],
    web: cfg.getObject("web"),
    worker: cfg.getObject("worker"),
    database: cfg.getObject("database"),
  });
  return {
    url: portal.url,
    albDnsName: portal.albDnsName,
    databaseEndpoint: portal.databaseEndpoint,
    workerRoleArn: portal.workerRoleArn,
    environmentRoleBoundaryArn: portal.environmentRoleBoundaryArn,
    clusterName: portal.clusterName,
    network: networkName,
    portalImage,
    votingAppImage,
  };
}
