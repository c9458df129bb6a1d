import { type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { GatewayError, toEnvelope } from "./errors.js";
import { newRequestId } from "./ids.js";
import type { Logger } from "./logger.js";

/** What Node's HTTP parser (or its timers) refused, in the gateway's own terms. */
function gatewayErrorOf(err: NodeJS.ErrnoException): GatewayError {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return new GatewayError("HEADERS_TOO_LARGE", "Request headers too large");
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return new GatewayError("PAYLOAD_TOO_LARGE", "Chunk extensions too large");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new GatewayError("REQUEST_TIMEOUT", "Request not received in time");
    default:
      return new GatewayError("MALFORMED_HTTP", "Malformed HTTP request");
  }
}

/**
 * Answers requests that never reach the app (unparseable HTTP, oversized headers, a request
 * that does not arrive in time) with the one error envelope instead of Node's bare status
 * line, then closes the connection, as Node does. Logged at debug: on a public port these
 * are scanners and broken clients, not the gateway's faults.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const headersSent = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage
      ?.headersSent;
    if (err.code === "ECONNRESET" || !socket.writable || headersSent === true) {
      socket.destroy();
      return;
    }
    const error = gatewayErrorOf(err);
    const requestId = newRequestId();
    logger.debug({ req_id: requestId, code: err.code, status: error.status }, "client error");
    const body = JSON.stringify(toEnvelope(error, requestId));
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ""}\r\n` +
        "Content-Type: application/json\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        "Cache-Control: no-store\r\n" +
        "X-Content-Type-Options: nosniff\r\n" +
        "Connection: close\r\n\r\n" +
        body,
    );
  });
}
