/**
 * The Lambda `Context` a handler gets when something local runs it (the loopback Function
 * URL, `svid-bridge dev`): the fields AWS sets, with a local ARN and log names.
 */
import type { Context } from "aws-lambda";

/**
 * A context for `functionName`: `requestId` as awsRequestId, `remainingMs` as
 * getRemainingTimeInMillis (milliseconds left before the invocation's deadline).
 */
export function localLambdaContext(
  functionName: string,
  requestId: string,
  remainingMs: () => number,
): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
