/**
 * The issuer URL: an API Gateway HTTP API in front of the discovery Lambda, optionally on
 * a custom domain (regional ACM certificate + Route 53 A alias).
 *
 * Why an HTTP API rather than a Function URL: the discovery Lambda must know its own
 * issuer URL (it is in every document it serves), and a Function URL's host only exists
 * once the function does, a dependency cycle; an HTTP API's ID does not depend on the
 * function. It also routes only the three documents' paths (a scanner's requests never
 * reach Lambda), throttles at the stage, and takes a custom domain with no CloudFront.
 * Discovery traffic is small (relying parties cache the documents), so its US$ 1 per
 * million requests does not matter.
 */
import { type RemovalPolicy, Stack } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as route53Targets from "aws-cdk-lib/aws-route53-targets";
import { Construct } from "constructs";
import {
  BUNDLE_PATH,
  JWKS_DOCUMENT_PATH,
  OPENID_CONFIGURATION_PATH,
} from "../discovery/discovery-endpoint.js";
import { acknowledge } from "./acknowledge.js";

export interface IssuerDomainOptions {
  /** The issuer's host name, e.g. `spiffe.example.com`: the issuer is `https://<domainName>`. */
  domainName: string;
  /** A certificate for domainName in this stack's region; made and DNS-validated when absent. */
  certificate?: acm.ICertificate;
  /** The zone that gets the alias records (and validates a made certificate). */
  hostedZone?: route53.IHostedZone;
}

export interface IssuerEndpointProps {
  domain?: IssuerDomainOptions;
  throttle: apigwv2.ThrottleSettings;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

export class IssuerEndpoint extends Construct {
  readonly api: apigwv2.HttpApi;
  /** The issuer URL, no trailing slash. */
  readonly url: string;
  readonly domainName?: apigwv2.DomainName;
  readonly accessLogs: logs.LogGroup;
  readonly #stage: apigwv2.HttpStage;

  constructor(scope: Construct, id: string, props: IssuerEndpointProps) {
    super(scope, id);
    const domain = props.domain;
    this.api = new apigwv2.HttpApi(this, "Api", {
      description: "SVID Bridge issuer: OIDC discovery, JWKS, SPIFFE bundle",
      createDefaultStage: false,
      // One canonical issuer URL: with a custom domain, the execute-api host answers nothing.
      disableExecuteApiEndpoint: Boolean(domain),
    });
    this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.#stage = this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLogs) },
    });

    if (!domain) {
      this.url = `https://${this.api.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`;
      return;
    }
    const certificate =
      domain.certificate ??
      (domain.hostedZone
        ? new acm.Certificate(this, "Certificate", {
            domainName: domain.domainName,
            validation: acm.CertificateValidation.fromDns(domain.hostedZone),
          })
        : undefined);
    if (!certificate)
      throw new Error(
        `issuer domain ${domain.domainName}: give a certificate, or a hosted zone to validate one`,
      );
    this.domainName = new apigwv2.DomainName(this, "Domain", {
      domainName: domain.domainName,
      certificate,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, "Mapping", {
      api: this.api,
      domainName: this.domainName,
      stage: this.#stage,
    });
    if (domain.hostedZone) {
      const target = route53.RecordTarget.fromAlias(
        new route53Targets.ApiGatewayv2DomainProperties(
          this.domainName.regionalDomainName,
          this.domainName.regionalHostedZoneId,
        ),
      );
      // A only: a regional API Gateway domain answers over IPv4 (an AAAA alias to it resolves to nothing).
      new route53.ARecord(this, "AliasA", { zone: domain.hostedZone, recordName: domain.domainName, target });
    }
    this.url = `https://${domain.domainName}`;
  }

  /** Routes the documents' paths (GET and HEAD) to the discovery function. */
  serve(handler: lambda.IFunction): void {
    const integration = new HttpLambdaIntegration("Discovery", handler, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    for (const path of [OPENID_CONFIGURATION_PATH, JWKS_DOCUMENT_PATH, BUNDLE_PATH])
      this.api.addRoutes({ path, methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.HEAD], integration });
    acknowledge(
      this.api,
      "APIG4",
      "OIDC discovery, JWKS and the SPIFFE bundle are public documents by definition: every relying party must fetch them without credentials",
    );
  }
}
