/**
 * cdk-nag (v3) findings this design accepts, each with its reason. They go through CDK's
 * own `Validations.of(scope).acknowledge`, so the constructs need no cdk-nag at run time;
 * `id` is the finding as cdk-nag names it (an IAM5 finding names the one resource it is about).
 */
import { type CfnElement, Stack, Token, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });
}

/** How cdk-nag spells an IAM5 resource with a `<LogicalId>` reference in it. */
export function logicalRef(element: CfnElement): string {
  return `<${Stack.of(element).getLogicalId(element)}>`;
}

/** `arn:<partition>:<service>:<region>:<account>:`, as cdk-nag renders this stack's ARNs. */
export function nagArnPrefix(scope: IConstruct, service: string): string {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? "<AWS::Region>" : stack.region;
  const account = Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account;
  // With @aws-cdk/core:enablePartitionLiterals, a stack with a known region has a literal partition.
  const partition = Token.isUnresolved(stack.partition) ? "<AWS::Partition>" : stack.partition;
  return `arn:${partition}:${service}:${region}:${account}:`;
}
