import QRCode from "qrcode";

/**
 * A ticket's QR code drawn in the page from its compact door form, so tickets show (and keep
 * showing) without a request per code. Same settings as shared/tickets/qr.ts, so the code the page
 * shows is the one the CLI and /v1/tickets/{id}/qr.svg produce.
 */
const ECC = "M";
const QUIET_ZONE = 4;

export async function qrSvg(text: string, label: string): Promise<SVGSVGElement> {
  const markup = await QRCode.toString(text, {
    type: "svg",
    errorCorrectionLevel: ECC,
    margin: QUIET_ZONE,
  });
  // The markup is the library's output for base64url text: parse it as SVG, not as HTML.
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true) as unknown as SVGSVGElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.classList.add("qr");
  return svg;
}
