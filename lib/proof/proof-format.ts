/**
 * The proof on the wire: a signed, unsent sts:GetCallerIdentity, as JSON.
 *
 *   {"method":"POST","headers":[["host","sts.eu-west-1.amazonaws.com"],…],"body":"Action=GetCallerIdentity&Version=2011-06-15"}
 *
 * Headers are a list of [name, value] pairs (names lower-case), not an object, so a
 * repeated header stays visible and is refused rather than silently merged. There is
 * no URL: the path is always "/" and the host is the bridge's choice.
 */
export interface Proof {
  method: string;
  headers: [name: string, value: string][];
  body: string;
}

export const GET_CALLER_IDENTITY_BODY = "Action=GetCallerIdentity&Version=2011-06-15";
export const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8";
export const DEFAULT_SERVER_ID_HEADER = "x-svid-bridge-server-id";
export const DEFAULT_BINDING_HEADER = "x-svid-bridge-binding";
/**
 * A random value the client signs into every proof. SigV4 is deterministic: without it,
 * two proofs for the same request in the same second are the same proof, and the
 * second is refused as a replay (a retry after a 503, two concurrent fetches).
 */
export const NONCE_HEADER = "x-svid-bridge-nonce";

/** Compact JSON text of a proof, for an exchange request body or a CLI flag. */
export function serializeProof(proof: Proof): string {
  return JSON.stringify({ method: proof.method, headers: proof.headers, body: proof.body });
}
