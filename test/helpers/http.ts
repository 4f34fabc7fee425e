/** An answer's status and body: the parsed JSON, or the text when it is not JSON. */
export async function readAnswer<T>(response: Response): Promise<{ status: number; body: T }> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body: body as T };
}
