/**
 * A Node.js runtime for LambdaSandbox: what /var/runtime does in a nodejs22.x sandbox,
 * cut to the part a function sees. Lambda starts it through AWS_LAMBDA_EXEC_WRAPPER when
 * that is set (the wrapper gets this command as its arguments), so the layer's wrapper
 * runs exactly as in AWS.
 *
 *   1. import LAMBDA_TASK_ROOT/<module> and take its export named by _HANDLER
 *      ("index.handler"); a failure here is reported on /runtime/init/error;
 *   2. loop: GET /runtime/invocation/next, call the handler with the event and a context,
 *      POST its result to /invocation/{id}/response, or the error to /invocation/{id}/error.
 *
 * Plain JavaScript on purpose: it runs under the runtime's own node with nothing else
 * loaded, as Lambda's does.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

/** Lambda's error shape: {errorType, errorMessage, stackTrace}. */
function errorBody(error) {
  return JSON.stringify({
    errorType: error instanceof Error ? error.name : "Error",
    errorMessage: error instanceof Error ? error.message : String(error),
    stackTrace: error instanceof Error && error.stack ? error.stack.split("\n").slice(1) : [],
  });
}

async function post(path, body, errorType) {
  await fetch(`${api}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(errorType && { "lambda-runtime-function-error-type": errorType }),
    },
    body,
  });
}

async function loadHandler() {
  const spec = process.env._HANDLER ?? "index.handler";
  const dot = spec.lastIndexOf(".");
  const [moduleName, exportName] = [spec.slice(0, dot), spec.slice(dot + 1)];
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const file = [".mjs", ".js", ".cjs"].map((ext) => join(root, moduleName + ext)).find(existsSync);
  if (!file)
    throw Object.assign(new Error(`Cannot find module '${moduleName}' in ${root}`), {
      name: "Runtime.ImportModuleError",
    });
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== "function")
    throw Object.assign(new Error(`${spec} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  return handler;
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  await post("/init/error", errorBody(error), error?.name ?? "Runtime.Unknown");
  process.exit(1);
}

for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const event = await next.json();
  const requestId = next.headers.get("lambda-runtime-aws-request-id");
  const deadlineMs = Number(next.headers.get("lambda-runtime-deadline-ms"));
  const context = {
    awsRequestId: requestId,
    invokedFunctionArn: next.headers.get("lambda-runtime-invoked-function-arn"),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
  try {
    const result = await handler(event, context);
    await post(`/invocation/${requestId}/response`, JSON.stringify(result ?? null));
  } catch (error) {
    await post(`/invocation/${requestId}/error`, errorBody(error), error?.name ?? "Error");
  }
}
