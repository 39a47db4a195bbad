/**
 * The wire format of the API's live event streams (Server-Sent Events, `GET /v1/sessions/:id/events`),
 * read: each event with its id, name and JSON data. Comment lines (`: still here`) are skipped.
 */
export interface StreamedEvent {
  id: string;
  event: string;
  data: unknown;
}

/** The events of a stream's body, as they arrive; ends with the body. */
export async function* readEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<StreamedEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseEventBlock(block);
      if (event) yield event;
    }
  }
}

function parseEventBlock(block: string): StreamedEvent | undefined {
  let id = '';
  let event: string | undefined;
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (event === undefined && !data) return undefined; // only comments
  return { id, event: event ?? 'message', data: data ? (JSON.parse(data) as unknown) : {} };
}
