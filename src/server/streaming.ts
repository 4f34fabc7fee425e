/**
 * Answers that stream for as long as their source lasts: event streams and followed logs. Such
 * an answer is the last one on its connection (`Connection: close`), so the connection is
 * never idle between requests, and the listener leaves it without an idle timeout while it
 * streams: silence there is expected (event streams send heartbeats to keep proxies open).
 */
export function streamingResponse(
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
): Response {
  return new Response(body, { headers: { ...headers, connection: "close" } });
}

export function endsItsConnection(response: Response): boolean {
  return response.headers.get("connection")?.toLowerCase() === "close";
}
