import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What a PCCS serves for one platform, in Intel's PCS v4 shapes. */
export interface PccsContent {
  /** The PCK CRL (DER) and its issuer chain (PEM, PCK CA then root). */
  pckCrl: Buffer;
  pckCrlIssuerChain: string;
  /** The exact `tcbInfo` JSON text Intel signed, the raw r‖s signature in hex, and the signer's chain. */
  tcbInfo: string;
  tcbInfoSignature: string;
  tcbInfoIssuerChain: string;
  qeIdentity: string;
  qeIdentitySignature: string;
  qeIdentityIssuerChain: string;
  rootCaCrl: Buffer;
  /** false: answer 404 on the PCCS path, as Intel's PCS does (default true). */
  rootCaCrlOnPccs?: boolean;
}

export interface FakePccs {
  url: string;
  /** Requests per path (without query), e.g. `/tdx/certification/v4/tcb`. */
  hits: Map<string, number>;
  content: PccsContent;
  /** Answer every request with this status instead (e.g. 503). */
  failWith: number | undefined;
  close(): Promise<void>;
}

/**
 * A PCCS on 127.0.0.1 with Intel's v4 paths and headers (URL-encoded PEM issuer chains). It
 * serves the root CA CRL on the PCCS path `/sgx/certification/v4/rootcacrl` as a PCCS does.
 */
export async function startFakePccs(content: PccsContent): Promise<FakePccs> {
  const state = { content, failWith: undefined as number | undefined };
  const hits = new Map<string, number>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (state.failWith) {
      response.writeHead(state.failWith, { "content-type": "text/plain" }).end("unavailable");
      return;
    }
    const c = state.content;
    const chain = (value: string) => encodeURIComponent(value);
    switch (url.pathname) {
      case "/sgx/certification/v4/pckcrl":
        response
          .writeHead(200, { "content-type": "application/pkix-crl", "SGX-PCK-CRL-Issuer-Chain": chain(c.pckCrlIssuerChain) })
          .end(c.pckCrl);
        return;
      case "/tdx/certification/v4/tcb":
        response
          .writeHead(200, { "content-type": "application/json", "TCB-Info-Issuer-Chain": chain(c.tcbInfoIssuerChain) })
          .end(`{"tcbInfo":${c.tcbInfo},"signature":"${c.tcbInfoSignature}"}`);
        return;
      case "/tdx/certification/v4/qe/identity":
        response
          .writeHead(200, { "content-type": "application/json", "SGX-Enclave-Identity-Issuer-Chain": chain(c.qeIdentityIssuerChain) })
          .end(`{"enclaveIdentity":${c.qeIdentity},"signature":"${c.qeIdentitySignature}"}`);
        return;
      case "/sgx/certification/v4/rootcacrl":
        // Intel's PCS has no such path: a PCCS-less setup answers 404 like it.
        if (!c.rootCaCrlOnPccs && c.rootCaCrlOnPccs !== undefined) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { "content-type": "application/pkix-crl" }).end(c.rootCaCrl);
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    get content() {
      return state.content;
    },
    set content(value) {
      state.content = value;
    },
    get failWith() {
      return state.failWith;
    },
    set failWith(value) {
      state.failWith = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The PCCS content of a dcap-qvl collateral JSON (hex CRLs and signatures). */
export function pccsContentFromCollateral(collateral: Record<string, string>): PccsContent {
  return {
    pckCrl: Buffer.from(collateral.pck_crl!, "hex"),
    pckCrlIssuerChain: collateral.pck_crl_issuer_chain!,
    tcbInfo: collateral.tcb_info!,
    tcbInfoSignature: collateral.tcb_info_signature!,
    tcbInfoIssuerChain: collateral.tcb_info_issuer_chain!,
    qeIdentity: collateral.qe_identity!,
    qeIdentitySignature: collateral.qe_identity_signature!,
    qeIdentityIssuerChain: collateral.qe_identity_issuer_chain!,
    rootCaCrl: Buffer.from(collateral.root_ca_crl!, "hex"),
  };
}
