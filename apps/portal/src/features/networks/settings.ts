// The networks' settings from the portal's configuration (server side), and what the create form needs to
// estimate an AWS environment's share of its region's network.
import type { PortalConfig } from "../../server/env";
import type { SharingInput } from "../cost/estimate";
import type { NetworkSettings } from "./commands";
import { defaultNetworkName } from "./model";
import { type NetworkSharing, networkSharingByRegion } from "./queries";

export function networkSettingsFrom(c: PortalConfig): NetworkSettings {
  return {
    natGateways: c.AWS_NETWORK_NAT_GATEWAYS,
    availabilityZones: c.AWS_NETWORK_AVAILABILITY_ZONES,
    adopt: c.AWS_NETWORKS,
  };
}

export type RegionSharing = SharingInput & { network: string; exists: boolean };

/** Per offered region: its network's sharing, or what the network created with its first environment will be. */
export async function sharingForRegions(
  regions: string[],
  settings: NetworkSettings,
): Promise<Record<string, RegionSharing>> {
  if (regions.length === 0) return {};
  const existing: Record<string, NetworkSharing> = await networkSharingByRegion();
  return Object.fromEntries(
    regions.map((region) => {
      const n = existing[region];
      if (n) return [region, { ...n, network: n.name, exists: true }];
      const adopted = !!settings.adopt[region];
      return [
        region,
        {
          network: defaultNetworkName(region),
          exists: false,
          adopted,
          environments: 0,
          natGateways: adopted ? 0 : settings.natGateways === "onePerAz" ? settings.availabilityZones : 1,
        },
      ];
    }),
  );
}
