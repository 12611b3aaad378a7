import "reflect-metadata";
import { KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { enumerated, integer, octets, oid, sequence } from "./der.js";

x509.cryptoProvider.set(webcrypto as never);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;
const SGX = "1.2.840.113741.1.13.1";

export interface Issued {
  cert: x509.X509Certificate;
  pem: string;
  /** node:crypto handle of the private key, for signing quotes, reports and collateral. */
  key: KeyObject;
  keys: CryptoKeyPair;
}

/** What a PCK certificate says about its platform (Intel's SGX extensions, OID 1.2.840.113741.1.13.1.*). */
export interface PlatformTcb {
  fmspc: string;
  pceId: string;
  /** The 16 SGX TCB components (also the CPUSVN). */
  cpuSvn: number[];
  pceSvn: number;
}

export interface TestCa {
  root: Issued;
  pckCa: Issued;
  tcbSigning: Issued;
  /** CRLs signed by the root (for the PCK CA) and by the PCK CA (for PCK leaves), DER. */
  rootCrl: Buffer;
  pckCrl: Buffer;
  issuePck(tcb: PlatformTcb): Promise<Issued>;
}

export const newKeys = () => webcrypto.subtle.generateKey(P256, true, ["sign", "verify"]);

async function issue(
  subject: string,
  issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair } | undefined,
  options: { ca: boolean; notBefore: Date; notAfter: Date; extensions?: x509.Extension[] },
): Promise<Issued> {
  const keys = await newKeys();
  const extensions = [
    new x509.BasicConstraintsExtension(options.ca, options.ca ? 1 : undefined, true),
    new x509.KeyUsagesExtension(
      options.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ...(options.extensions ?? []),
  ];
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        subject,
        issuer: issuer.cert.subject,
        notBefore: options.notBefore,
        notAfter: options.notAfter,
        signingAlgorithm: P256,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        name: subject,
        keys,
        notBefore: options.notBefore,
        notAfter: options.notAfter,
        signingAlgorithm: P256,
        extensions,
      });
  return { cert, pem: cert.toString("pem"), key: KeyObject.from(keys.privateKey), keys };
}

/** The SGX extension Intel puts in PCK certificates: PPID, TCB (16 components, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type. */
export function sgxExtension(tcb: PlatformTcb): x509.Extension {
  const components = tcb.cpuSvn.map((svn, index) => sequence(oid(`${SGX}.2.${index + 1}`), integer(svn)));
  const value = sequence(
    sequence(oid(`${SGX}.1`), octets(Buffer.alloc(16, 0xab))),
    sequence(
      oid(`${SGX}.2`),
      sequence(
        ...components,
        sequence(oid(`${SGX}.2.17`), integer(tcb.pceSvn)),
        sequence(oid(`${SGX}.2.18`), octets(Buffer.from(tcb.cpuSvn))),
      ),
    ),
    sequence(oid(`${SGX}.3`), octets(Buffer.from(tcb.pceId, "hex"))),
    sequence(oid(`${SGX}.4`), octets(Buffer.from(tcb.fmspc, "hex"))),
    sequence(oid(`${SGX}.5`), enumerated(0)),
  );
  return new x509.Extension(SGX, false, value);
}

export async function createCrl(issuer: Issued, thisUpdate: Date, nextUpdate: Date): Promise<Buffer> {
  const list = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    thisUpdate,
    nextUpdate,
    signingAlgorithm: P256,
    signingKey: issuer.keys.privateKey,
    entries: [],
  });
  return Buffer.from(list.rawData);
}

/**
 * A stand-in for Intel's PKI: a root CA, a PCK platform CA issuing PCK leaves, a TCB signing
 * certificate, and the CRLs, all P-256 like Intel's. `name` tells two CAs apart ("other root").
 */
export async function createTestCa(options: {
  now: number;
  name?: string;
  crlDays?: number;
  /** Where the root says its CRL is published (Intel's root names certificates.trustedservices.intel.com). */
  rootCrlUrl?: string;
}): Promise<TestCa> {
  const name = options.name ?? "OpenClaw Test";
  const notBefore = new Date(options.now - DAY);
  const notAfter = new Date(options.now + 3650 * DAY);
  const root = await issue(`CN=${name} SGX Root CA, O=${name}`, undefined, {
    ca: true,
    notBefore,
    notAfter,
    ...(options.rootCrlUrl ? { extensions: [new x509.CRLDistributionPointsExtension([options.rootCrlUrl])] } : {}),
  });
  const pckCa = await issue(`CN=${name} SGX PCK Platform CA, O=${name}`, root, { ca: true, notBefore, notAfter });
  const tcbSigning = await issue(`CN=${name} SGX TCB Signing, O=${name}`, root, { ca: false, notBefore, notAfter });
  const crlUntil = new Date(options.now + (options.crlDays ?? 365) * DAY);
  return {
    root,
    pckCa,
    tcbSigning,
    rootCrl: await createCrl(root, notBefore, crlUntil),
    pckCrl: await createCrl(pckCa, notBefore, crlUntil),
    issuePck: (tcb) =>
      issue(`CN=${name} SGX PCK Certificate, O=${name}`, pckCa, { ca: false, notBefore, notAfter, extensions: [sgxExtension(tcb)] }),
  };
}

/** The in-TD attestation server's TLS certificate, whose SPKI the quote binds (report_data[32:64]). */
export async function createTlsCertificate(name: string, now: number): Promise<Buffer> {
  const issued = await issue(`CN=${name}`, undefined, { ca: false, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) });
  return Buffer.from(issued.cert.rawData);
}
