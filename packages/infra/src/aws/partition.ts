// ARNs of AWS-managed things, built for the partition the provider's region belongs to: `aws` (commercial),
// `aws-us-gov` (GovCloud) or `aws-cn` (China). The region check accepts all three, and an ARN written as
// `arn:aws:…` does not exist in the other two (IAM refuses to attach it).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The partition of the provider that `parent`'s resources use (a data source call, no resource). */
export function partitionOf(parent: pulumi.Resource): pulumi.Output<string> {
  return aws.getPartitionOutput({}, { parent }).partition;
}

/** `arn:<partition>:iam::aws:policy/<path and name>` of an AWS-managed IAM policy. */
export function managedPolicyArn(partition: pulumi.Input<string>, policy: string): pulumi.Output<string> {
  return pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;
}
