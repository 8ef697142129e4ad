import type * as pulumi from "@pulumi/pulumi";
import type * as runtime from "./process-runtime";

/**
 * The dynamic provider of every local-target resource. Pulumi serializes this object with its closure into
 * the state and runs it in its provider plugin process; so it stays a thin shim that captures only a string
 * (the compiled runtime's absolute path) and `require`s the real logic there.
 */
export function localProcessProvider(runtimePath: string): pulumi.dynamic.ResourceProvider {
  const load = (): typeof runtime => require(runtimePath);
  return {
    async check(_olds, news) {
      return { inputs: news };
    },
    async diff(id, olds, news) {
      return load().diff(id, olds, news);
    },
    async create(inputs) {
      return load().create(inputs);
    },
    async read(id, props) {
      return load().read(id, props);
    },
    async update(id, olds, news) {
      return load().update(id, olds, news);
    },
    async delete(id, props) {
      await load().remove(id, props);
    },
  };
}
