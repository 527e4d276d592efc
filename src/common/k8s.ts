/**
 * cdk8s-plus-27's generated Kubernetes 1.27 types (what it exports as `k8s`),
 * loaded without its higher-level constructs: this library uses only the
 * types, and the constructs are a third of the module-loading time of a synth.
 */
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s';

export { k8s };
