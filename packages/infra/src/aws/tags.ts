// Tags every taggable resource of an environment carries (checked by the tests for every taggable type).
export const MANAGED_BY = "platform-portal";

export type Tags = Record<string, string>;

export function environmentTags(environment: string, owner: string): Tags {
  return { Environment: environment, Owner: owner, ManagedBy: MANAGED_BY };
}

/** The common tags plus a Name, which the AWS console shows in its lists. */
export function named(tags: Tags, name: string): Tags {
  return { ...tags, Name: name };
}
