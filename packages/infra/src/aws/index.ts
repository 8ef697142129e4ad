// The AWS target: one voting-app environment on ECS Fargate (see README.md, "AWS target").
export {
  AUTONAME_SUFFIX_LENGTH,
  AWS_LB_NAME_MAX,
  awsNames,
  DEFAULT_APP_PATH,
  DEFAULT_APP_PORT,
  DEFAULT_REDIS_IMAGE,
  LIVENESS_PATH,
  MAX_FRONTEND_REPLICAS,
  MAX_REDIS_REPLICAS,
  parseVotingEnvironmentArgs,
  READINESS_PATH,
  REDIS_PORT,
  REDIS_READER_PORT,
  type ValidVotingEnvironmentArgs,
  type VotingEnvironmentArgs,
  VotingEnvironmentArgsError,
  votingEnvironmentArgsSchema,
} from "./args";
export {
  type AdoptedNetworkFacts,
  adoptedNetworkFacts,
  DEFAULT_NETWORK_CIDR,
  NetworkArgsError,
  PLATFORM_NETWORK_TYPE,
  PlatformNetwork,
  type PlatformNetworkArgs,
  type PlatformNetworkOutputs,
  subnetCidrs,
} from "./network";
export { type AwsNetworkOutputs, awsNetworkProgram } from "./network-program";
export { NetworkReferenceError, networkFromStack } from "./network-reference";
export { managedPolicyArn, partitionOf } from "./partition";
export {
  type AwsEnvironmentOutputs,
  type AwsEnvironmentOverrides,
  awsEnvironmentProgram,
  UNKNOWN_OWNER,
} from "./program";
export { MANAGED_BY } from "./tags";
export {
  type LogGroupNames,
  type ServiceNames,
  VOTING_ENVIRONMENT_TYPE,
  VotingEnvironment,
  type VotingEnvironmentOutputs,
} from "./voting-environment";
