import QRCode from "qrcode";

/**
 * QR rendering of a compact ticket, kept apart from compact.ts because `qrcode` is a Node/browser
 * library: the SVG path is pure JavaScript, but PNG output uses `pngjs` and Node Buffers, so do not
 * import this file from a Workers bundle (render QR codes in the browser or the CLI instead).
 */

/** M recovers ~15% damage (a scratched phone screen, glare) at a moderate size cost over L. */
export const TICKET_QR_ECC = "M";
/** Modules of quiet zone around the symbol; 4 is the ISO/IEC 18004 minimum. */
const QUIET_ZONE = 4;

export async function ticketQrSvg(compact: string): Promise<string> {
  return QRCode.toString(compact, {
    type: "svg",
    errorCorrectionLevel: TICKET_QR_ECC,
    margin: QUIET_ZONE,
  });
}

/** PNG bytes (Node only). `scale` is pixels per module. */
export async function ticketQrPng(compact: string, scale = 6): Promise<Uint8Array> {
  const buf = await QRCode.toBuffer(compact, {
    type: "png",
    errorCorrectionLevel: TICKET_QR_ECC,
    margin: QUIET_ZONE,
    scale,
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** QR version (1-40) the compact ticket needs: 21 + 4 × (version − 1) modules per side. */
export function ticketQrVersion(compact: string): number {
  return QRCode.create(compact, { errorCorrectionLevel: TICKET_QR_ECC }).version;
}
