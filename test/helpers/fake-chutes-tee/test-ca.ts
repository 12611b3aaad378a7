import "reflect-metadata";
import { KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as never);

type KeyPair = webcrypto.CryptoKeyPair;

const ES384 = { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" };
const DAY = 24 * 60 * 60 * 1000;

export interface IssuedCert {
  der: Buffer;
  pem: string;
  privateKey: KeyObject;
  cert: x509.X509Certificate;
  keys: KeyPair;
}

async function issued(cert: x509.X509Certificate, keys: KeyPair): Promise<IssuedCert> {
  return { der: Buffer.from(cert.rawData), pem: cert.toString("pem"), privateKey: KeyObject.from(keys.privateKey), cert, keys };
}

/** A P-384 root CA for test chains (valid a year either side of `now`). */
export async function testRoot(name: string, now = Date.now()): Promise<IssuedCert> {
  const keys = (await webcrypto.subtle.generateKey(ES384, true, ["sign", "verify"])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: ES384,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  return issued(cert, keys);
}

/** A P-384 end-entity certificate signed by `issuer`. */
export async function testLeaf(
  name: string,
  issuer: IssuedCert,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<IssuedCert> {
  const keys = (await webcrypto.subtle.generateKey(ES384, true, ["sign", "verify"])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${name}`,
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ES384,
    notBefore: validity.notBefore ?? new Date(Date.now() - DAY),
    notAfter: validity.notAfter ?? new Date(Date.now() + 365 * DAY),
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return issued(cert, keys);
}
