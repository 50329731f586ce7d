/**
 * The one source of truth for AWS partitions, region names and STS endpoints (issue 14,
 * fault 7: the exchange config and the verifier had two region rules that disagreed).
 * The exchange config, the verifier, the proof client and the ARN parser all read it.
 * The verifier builds every STS URL from this table and an allow-list of regions; a
 * host never comes from the caller.
 */

/** The partitions the bridge serves. ISO partitions are deliberately absent (see REGION_PATTERN). */
export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const;
export type Partition = (typeof PARTITIONS)[number];

export function isPartition(value: string): value is Partition {
  return (PARTITIONS as readonly string[]).includes(value);
}

/** The global endpoint: signed with scope us-east-1 (it is served in-region, except in opt-in regions). */
export const GLOBAL_STS_HOST = "sts.amazonaws.com";
export const GLOBAL_STS_REGION = "us-east-1";

// Commercial, China and GovCloud region names: <area>-<direction>-<number>, e.g. eu-west-1,
// eu-central-12 (numbers up to 2 digits), cn-north-1, us-gov-west-1. ISO partitions are
// deliberately absent: their endpoints and suffixes differ and nobody here can test them.
const REGION_PATTERN = /^(?:cn|us-gov|[a-z]{2})-[a-z]+-\d{1,2}$/;

/** True for a region name of a partition in PARTITIONS (eu-central-12 yes, aa-bb-cc-1 no). */
export function isRegionName(region: string): boolean {
  return REGION_PATTERN.test(region);
}

export function partitionOfRegion(region: string): Partition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

const DNS_SUFFIX: Record<Partition, string> = {
  aws: "amazonaws.com",
  "aws-cn": "amazonaws.com.cn",
  "aws-us-gov": "amazonaws.com",
};

/** The regional STS host, e.g. sts.eu-west-1.amazonaws.com, sts.cn-north-1.amazonaws.com.cn. */
export function regionalStsHost(region: string): string {
  if (!isRegionName(region)) throw new TypeError(`not an AWS region name: ${JSON.stringify(region)}`);
  return `sts.${region}.${DNS_SUFFIX[partitionOfRegion(region)]}`;
}
