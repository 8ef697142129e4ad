// Entry point of deploy/portal/Pulumi.yaml: Pulumi calls the exported function and publishes its result as
// the stack's outputs.
import { deployPortal } from "./deploy";

export = deployPortal;
