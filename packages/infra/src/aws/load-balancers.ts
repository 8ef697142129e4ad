// Load balancers and listeners of both tiers (the public ALB and the internal Redis NLB), created the same way:
// parented to the component, tagged, one security group each.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { TierContext } from "./fargate";
import { named } from "./tags";

export interface LoadBalancerOptions {
  /** The Pulumi logical name; AWS gets it plus a random suffix (see awsNames). */
  name: string;
  /** The Name tag, which the console shows. */
  label: string;
  type: "application" | "network";
  internal: boolean;
  subnets: pulumi.Input<string[]>;
  /** NLBs accept security groups only when they are created, so both kinds get theirs at creation. */
  securityGroupId: pulumi.Input<string>;
  /** Settings of one kind only (e.g. cross-zone for the NLB, header checks for the ALB). */
  extra?: Pick<aws.lb.LoadBalancerArgs, "dropInvalidHeaderFields" | "enableCrossZoneLoadBalancing">;
}

export function createLoadBalancer(ctx: TierContext, o: LoadBalancerOptions): aws.lb.LoadBalancer {
  return new aws.lb.LoadBalancer(
    o.name,
    {
      // No `name`: auto-named, so a replacement never fails on a name its predecessor still holds.
      loadBalancerType: o.type,
      internal: o.internal,
      subnets: o.subnets,
      securityGroups: [o.securityGroupId],
      ...o.extra,
      tags: named(ctx.tags, o.label),
    },
    { parent: ctx.parent },
  );
}

export type ListenerOptions = Omit<aws.lb.ListenerArgs, "loadBalancerArn" | "tags">;

/** A listener named `<env>-<key>` on `loadBalancer`. */
export function createListener(
  ctx: TierContext,
  key: string,
  loadBalancer: aws.lb.LoadBalancer,
  o: ListenerOptions,
): aws.lb.Listener {
  const name = `${ctx.args.name}-${key}`;
  return new aws.lb.Listener(
    name,
    { ...o, loadBalancerArn: loadBalancer.arn, tags: named(ctx.tags, name) },
    { parent: ctx.parent },
  );
}

export function forwardTo(targetGroup: aws.lb.TargetGroup): aws.types.input.lb.ListenerDefaultAction[] {
  return [{ type: "forward", targetGroupArn: targetGroup.arn }];
}
