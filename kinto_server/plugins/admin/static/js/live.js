// Live updates from the server's change stream (its changes_stream
// capability): a ticket opens an EventSource, which cannot send an
// Authorization header, and resumes by itself when the stream ends.

export async function follow(context, resources, onChange) {
  const capability = context.root.capabilities.changes_stream;
  if (!capability || !capability.url) return () => {};
  let source = null;
  let closed = false;
  async function open() {
    const params = new URLSearchParams({ resources: resources.join(",") });
    try {
      const { json } = await context.api.request("POST", "/changes/stream/tickets");
      params.set("ticket", json.ticket);
    } catch {
      // Anonymous, or no ticket endpoint: what anyone may read.
    }
    if (closed) return;
    source = new EventSource(`${capability.url}?${params}`);
    source.addEventListener("ready", () => context.setLive(true));
    source.addEventListener("change", (event) => onChange(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      // A ticket opens one stream once: a reconnection needs a new one.
      context.setLive(false);
      source.close();
      if (!closed) setTimeout(open, 2000);
    });
  }
  open();
  return () => {
    closed = true;
    context.setLive(false);
    if (source) source.close();
  };
}
