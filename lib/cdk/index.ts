/**
 * The CDK surface of the package (`svid-bridge/cdk`): the bridge construct, the stack the
 * CDK app deploys, and the layer with the helper that gives a function its identity.
 * aws-cdk-lib and constructs are the app's own (optional peer dependencies).
 */

export {
  DEFAULT_EXCHANGE_CONCURRENCY,
  SvidBridge,
  type SvidBridgeProps,
} from "./svid-bridge.js";
export {
  type AttachSvidBridgeOptions,
  attachSvidBridge,
  EXEC_WRAPPER_PATH,
  type SvidBridgeEndpoint,
  SvidBridgeLayer,
  type SvidBridgeLayerProps,
} from "./svid-bridge-layer.js";
export {
  CONTEXT_KEYS,
  configFromContext,
  SvidBridgeStack,
  type SvidBridgeStackConfig,
} from "./svid-bridge-stack.js";
