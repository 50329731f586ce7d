import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.js";
import { LocalSts, makeDevRolePrincipal } from "../../lib/local/sts-server.js";
import { EXPIRED, ROLE, T0, USER } from "../proof/fixtures.js";

// The real STS client, end to end: proves LocalSts speaks STS's wire protocol.
describe("LocalSts with @aws-sdk/client-sts", () => {
  const clock = new ManualClock(T0);
  const sts = new LocalSts({ principals: [ROLE, USER, EXPIRED], clock });
  let endpoint: string;
  const clients: STSClient[] = [];

  beforeAll(async () => {
    endpoint = await sts.start();
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await sts.stop();
  });

  function client(
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    skewMs = 0,
  ) {
    const c = new STSClient({
      endpoint,
      region: "eu-west-1",
      credentials,
      maxAttempts: 1,
      // The SDK signs with its own clock; LocalSts judges with the test's clock.
      systemClockOffset: T0 - Date.now() + skewMs,
    });
    clients.push(c);
    return c;
  }

  it("answers GetCallerIdentity for a role session and an IAM user", async () => {
    const role = await client(ROLE).send(new GetCallerIdentityCommand({}));
    expect({ Arn: role.Arn, UserId: role.UserId, Account: role.Account }).toEqual({
      Arn: ROLE.arn,
      UserId: ROLE.userId,
      Account: "111122223333",
    });
    const user = await client(USER).send(new GetCallerIdentityCommand({}));
    expect(user.Arn).toBe(USER.arn);
  });

  it("serves a generated dev role session", async () => {
    const dev = makeDevRolePrincipal({ account: "123456789012", roleName: "dev-role", sessionName: "my-fn" });
    expect(dev.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    sts.addPrincipal(dev);
    const answer = await client(dev).send(new GetCallerIdentityCommand({}));
    expect(answer.Arn).toBe("arn:aws:sts::123456789012:assumed-role/dev-role/my-fn");
    expect(answer.UserId).toBe(dev.userId);
  });

  it.each([
    ["a wrong secret", { ...ROLE, secretAccessKey: "wrong" }, 0, "SignatureDoesNotMatch", 403],
    ["an unknown key", { ...USER, accessKeyId: "AKIAUNKNOWN000000001" }, 0, "InvalidClientTokenId", 403],
    ["a wrong session token", { ...ROLE, sessionToken: "other" }, 0, "InvalidClientTokenId", 403],
    ["a missing session token", { ...ROLE, sessionToken: undefined }, 0, "InvalidClientTokenId", 403],
    ["expired credentials", EXPIRED, 0, "ExpiredToken", 403],
    ["a clock 16 minutes slow", USER, -16 * 60_000, "SignatureDoesNotMatch", 403],
    ["a clock 16 minutes fast", USER, 16 * 60_000, "SignatureDoesNotMatch", 403],
  ] as const)("refuses %s as STS does", async (_name, credentials, skew, code, status) => {
    const error = await client(credentials, skew)
      .send(new GetCallerIdentityCommand({}))
      .then(
        () => undefined,
        (e: { name: string; $metadata: { httpStatusCode?: number } }) => e,
      );
    expect(error?.name).toBe(code);
    expect(error?.$metadata.httpStatusCode).toBe(status);
  });

  it("accepts a clock 14 minutes off, as STS does", async () => {
    await expect(client(USER, -14 * 60_000).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Arn: USER.arn,
    });
  });

  it("answers IncompleteSignature and MissingAuthenticationToken for broken or absent Authorization", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${endpoint}/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: "Action=GetCallerIdentity&Version=2011-06-15",
      });
    const missing = await post({});
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain("<Code>MissingAuthenticationToken</Code>");
    const broken = await post({ authorization: "AWS4-HMAC-SHA256 Credential=x" });
    expect(broken.status).toBe(400);
    expect(await broken.text()).toContain("<Code>IncompleteSignature</Code>");
  });
});
