// RealtimeSocket: the browser side of the realtime core. No build step, no CDN.
//
//   const socket = new RealtimeSocket("/ws/chat/lobby/", {
//     onMessage: (frame) => { ... },        // every frame: {type: "...", ...}
//     query: () => ({ after: lastSeenId }), // re-read before every (re)connect
//     fallback: "/notifications/stream/",   // optional: Server-Sent Events of the same frames
//   });
//   socket.send("chat.send", { text: "hi" });
//
// The first socket made on a page drives the status pill; with several sockets
// (a page's own and the notifications badge) the page's own comes first.
//
// It picks ws:// or wss:// from the page, reconnects after any drop with
// exponential backoff and full jitter (so a restarted server is not hit by
// every tab at once), and shows its state in the page's [data-connection-status]
// element. Resuming is the page's job: `query` tells the server what it has.
//
// With a `fallback` (a realtime/streams.py stream of the same frames): after
// FALLBACK_AFTER attempts in a row that never opened (a proxy or network that
// breaks WebSockets), frames come through an EventSource meanwhile. It is
// read-only: send() returns false, so the page posts its forms instead. The
// EventSource resumes by itself (the Last-Event-ID header) when its stream ends;
// the socket keeps retrying with its backoff, and the first one that opens
// closes the stream. Frames that came both ways are the page's to skip (by id),
// as after any reconnect.

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const STABLE_AFTER_MS = 5000; // a connection open this long resets the backoff
const FALLBACK_AFTER = 3; // WebSocket attempts in a row that never opened

const LABELS = {
  connecting: "Connecting…",
  open: "Live",
  streaming: "Live", // through the fallback stream: receiving, not sending
  retrying: "Offline, reconnecting…",
};
// Close codes after which reconnecting cannot help: the server said why, and the
// page shows it instead of retrying (chat/services.py REMOVED).
const FINAL_CLOSE_CODES = {
  4403: "Removed from this room",
  4409: "Signed in as someone else: reload the page", // realtime/sessions.py OTHER_USER
};
// The user the page was rendered for (base.html): every socket names them, and the
// server refuses one whose session is now someone else's (realtime/sessions.py).
const PAGE_USER = document.querySelector('meta[name="realtime-user"]')?.content;

// A random UUID, also where crypto.randomUUID is missing (pages not served over
// https or from localhost).
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 1
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function claimStatusElement() {
  const element = document.querySelector("[data-connection-status]");
  if (!element || element.dataset.claimed) return null;
  element.dataset.claimed = "true";
  return element;
}

export class RealtimeSocket {
  constructor(
    path,
    {
      onMessage,
      onOpen = () => {},
      onStateChange = () => {},
      query = () => ({}),
      showStatus = true,
      fallback = null,
    } = {},
  ) {
    this.path = path;
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onStateChange = onStateChange;
    this.query = query;
    this.attempt = 0;
    this.socket = null;
    this.retryTimer = null;
    this.fallback = fallback;
    this.failures = 0; // attempts in a row that never opened
    this.stream = null; // the fallback EventSource, while the socket cannot open
    this.statusElement = showStatus ? claimStatusElement() : null;
    window.addEventListener("online", () => this.reconnectNow());
    this.connect();
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  get isStreaming() {
    return this.stream !== null && this.stream.readyState === EventSource.OPEN;
  }

  withQuery(path) {
    const params = new URLSearchParams();
    if (PAGE_USER) params.set("user", PAGE_USER);
    for (const [key, value] of Object.entries(this.query())) {
      if (value !== null && value !== undefined) params.set(key, value);
    }
    const search = params.toString();
    return `${path}${search ? `?${search}` : ""}`;
  }

  url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${this.withQuery(this.path)}`;
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      console.warn("realtime: ignoring a frame that is not JSON", data);
      return;
    }
    this.onMessage(frame);
  }

  connect() {
    if (!this.isStreaming) this.setState("connecting");
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch (error) {
      // Some browsers, policies and extensions refuse WebSockets outright (a
      // SecurityError): an attempt that never opened, not the end of the page.
      console.warn("realtime: the browser refused to open a WebSocket", error);
      this.neverOpened();
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let stableTimer = null;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      this.failures = 0;
      this.stopFallback(); // frames come through the socket again
      this.setState("open");
      stableTimer = setTimeout(() => { this.attempt = 0; }, STABLE_AFTER_MS);
      this.onOpen();
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      clearTimeout(stableTimer);
      if (this.socket !== socket) return; // replaced by reconnectNow()
      this.socket = null;
      if (FINAL_CLOSE_CODES[event.code]) {
        this.closedFor = event.code;
        this.setState("closed", FINAL_CLOSE_CODES[event.code]);
        return;
      }
      if (!opened) this.neverOpened();
      this.scheduleRetry();
    });
  }

  neverOpened() {
    this.failures += 1;
    if (this.fallback && this.failures >= FALLBACK_AFTER) this.startFallback();
  }

  scheduleRetry() {
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = Math.random() * ceiling;
    this.attempt += 1;
    if (!this.isStreaming) this.setState("retrying");
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startFallback() {
    if (this.stream) return; // open, or reconnecting by itself
    const stream = new EventSource(this.withQuery(this.fallback));
    this.stream = stream;
    stream.addEventListener("open", () => {
      if (this.stream === stream && !this.isOpen) this.setState("streaming");
    });
    stream.addEventListener("message", (event) => this.receive(event.data));
    stream.addEventListener("error", () => {
      if (this.stream !== stream) return;
      // CLOSED: refused (signed out, too many open), so the next failed socket attempt
      // opens a new one. Otherwise it is reconnecting by itself, with Last-Event-ID.
      if (stream.readyState === EventSource.CLOSED) this.stream = null;
      if (!this.isOpen) this.setState("retrying");
    });
  }

  stopFallback() {
    this.stream?.close();
    this.stream = null;
  }

  // Drop the socket and reconnect as after any drop (with backoff): the new
  // connection catches up from query()'s cursor. For a page that finds it missed a frame.
  resume() {
    this.socket?.close();
  }

  reconnectNow() {
    if (this.isOpen || this.closedFor) return;
    clearTimeout(this.retryTimer);
    if (this.socket) {
      const stale = this.socket;
      this.socket = null;
      stale.close();
    }
    this.connect();
  }

  send(type, fields = {}) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify({ type, ...fields }));
    return true;
  }

  setState(state, label = LABELS[state]) {
    this.state = state;
    if (this.statusElement) {
      this.statusElement.hidden = false;
      this.statusElement.dataset.state = state;
      this.statusElement.textContent = label;
    }
    this.onStateChange(state);
  }
}
