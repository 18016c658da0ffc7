import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { type JWTPayload, SignJWT } from "jose";

/** A fresh RSA key pair with the public half as PEM, as an operator would configure it. */
export function rsaKeyPair(): { privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Seconds since the epoch, as JWT time claims count. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** Options of {@link signToken}. */
export interface SignOptions {
  alg?: string;
  kid?: string;
  /** Seconds from now; `null` leaves `exp` out. @default 300 */
  expiresInSec?: number | null;
}

/** Sign `claims` (merged over a valid tenant claim) with `key`. */
export async function signToken(
  key: KeyObject | Uint8Array,
  claims: JWTPayload,
  options: SignOptions = {},
): Promise<string> {
  const jwt = new SignJWT({ soorma_tenant: "acme", ...claims })
    .setProtectedHeader({ alg: options.alg ?? "HS256", ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuedAt();
  const expiresIn = options.expiresInSec === undefined ? 300 : options.expiresInSec;
  if (expiresIn !== null) jwt.setExpirationTime(nowSec() + expiresIn);
  return jwt.sign(key);
}

/** Encode an unsigned (`alg: none`) token by hand; jose refuses to make one. */
export function unsecuredToken(claims: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ exp: nowSec() + 300, ...claims })}.`;
}
