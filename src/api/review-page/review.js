// The review pages (/review and /review/:id): plain browser JavaScript, no build. They read and act
// through the public API with the reviewer's credential: a review link's (from the URL fragment, kept in
// this tab only) or an API token pasted into the sign-in form. Live updates come from the session's
// event stream; if the stream breaks, the page polls instead.

const CHECKPOINTS = ['reviewing', 'waiting_for_input'];
const FINAL = ['completed', 'failed', 'stopped', 'expired'];
const PHASE_TEXT = {
  queued: 'Waiting for a free HeyGen slot.',
  creating: 'Starting the session at HeyGen.',
  thinking: 'The agent is working on the storyboard.',
  waiting_for_input: 'The agent has a question for you.',
  reviewing: 'The storyboard is ready for your review.',
  generating: 'Approved. HeyGen is rendering the video.',
  finalizing: 'Rendered. Fetching the video.',
  completed: 'Done: the video is ready.',
  failed: 'The session failed.',
  stopped: 'The session was stopped.',
  expired: 'Nobody decided in time, so the session ended.',
};
const TONE = { reviewing: 'act', waiting_for_input: 'act', completed: 'good', failed: 'bad', stopped: 'bad', expired: 'bad' };
const POLL_MS = 3000;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};
const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function notice(text, tone) {
  const node = $('notice');
  node.textContent = text ?? '';
  if (tone) node.dataset.tone = tone;
  else delete node.dataset.tone;
}

// ---------------------------------------------------------------------------------------------------
// Credentials: a review link's (for one session) or a signed-in token (for everything it may see).

const TOKEN_KEY = 'vao.token';
const linkKey = (id) => `vao.link.${id}`;

/** A link's credential arrives in the fragment (#t=...): kept for this tab, then taken out of the address bar. */
function takeLinkFromFragment(sessionId) {
  const match = /^#t=([A-Za-z0-9._-]+)$/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(linkKey(sessionId), match[1]);
  history.replaceState(null, '', location.pathname + location.search);
}

function credentialFor(sessionId) {
  return (sessionId && sessionStorage.getItem(linkKey(sessionId))) || sessionStorage.getItem(TOKEN_KEY);
}

function signOut(sessionId) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (sessionId) sessionStorage.removeItem(linkKey(sessionId));
  location.reload();
}

function askToSignIn(message) {
  if (message) notice(message, 'bad');
  const form = $('sign-in');
  form.hidden = false;
  form.onsubmit = (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    location.reload();
  };
}

/** A refused credential, in words (the API's own text speaks of headers; a link's refusal already reads well). */
function refusal(error, credential) {
  if (credential?.startsWith('rl1.')) return error.message;
  if (error.status === 401) return 'That token was not accepted. Check that you pasted all of it, and sign in again.';
  if (error.status === 403) return 'This token may not review sessions: it needs the sessions:review scope.';
  return error.message;
}

class ApiProblem extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(credential, method, path, { body, idempotencyKey } = {}) {
  const headers = { authorization: `Bearer ${credential}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiProblem(response.status, payload.error?.code ?? 'error', payload.error?.message ?? `The service answered ${response.status}.`);
  return { status: response.status, body: payload };
}

// ---------------------------------------------------------------------------------------------------
// /review: the sessions waiting for the signed-in token's tenant.

async function listPage() {
  const credential = sessionStorage.getItem(TOKEN_KEY);
  if (!credential) return askToSignIn();
  $('sign-out').hidden = false;
  $('sign-out').onclick = () => signOut();
  const refresh = async () => {
    try {
      const pages = await Promise.all(CHECKPOINTS.map((status) => api(credential, 'GET', `/v1/sessions?status=${status}&limit=100`)));
      const sessions = pages.flatMap((page) => page.body.sessions).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      renderList(sessions);
      notice('');
    } catch (error) {
      if (error instanceof ApiProblem && (error.status === 401 || error.status === 403)) {
        sessionStorage.removeItem(TOKEN_KEY);
        return askToSignIn(refusal(error, credential));
      }
      notice(`Could not load the sessions: ${error.message}`, 'bad');
    }
  };
  await refresh();
  setInterval(refresh, 15_000);
}

function renderList(sessions) {
  $('sessions').hidden = false;
  $('sessions-empty').hidden = sessions.length > 0;
  $('sessions-list').replaceChildren(
    ...sessions.map((session) =>
      el(
        'li',
        {},
        el('a', { href: `/review/${encodeURIComponent(session.id)}`, textContent: session.promptSummary || session.id }),
        el('br'),
        el('span', { className: 'muted', textContent: `${session.status === 'waiting_for_input' ? 'Question' : 'Storyboard'} · started ${when(session.createdAt)}${session.requestedBy ? ` by ${session.requestedBy}` : ''}` }),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// /review/:id: one session, live.

async function sessionPage() {
  const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
  takeLinkFromFragment(sessionId);
  const credential = credentialFor(sessionId);
  if (!credential) return askToSignIn();
  $('sign-out').hidden = false;
  $('sign-out').onclick = () => signOut(sessionId);
  // The list needs a token: someone with only this session's link is not sent to a sign-in form.
  if (!sessionStorage.getItem(TOKEN_KEY)) $('all-sessions').replaceWith(el('p', { className: 'brand', textContent: 'Review' }));

  const view = new SessionView(sessionId, credential);
  try {
    view.update((await api(credential, 'GET', `/v1/sessions/${encodeURIComponent(sessionId)}`)).body);
  } catch (error) {
    if (error instanceof ApiProblem && (error.status === 401 || error.status === 403 || error.status === 404)) {
      sessionStorage.removeItem(linkKey(sessionId));
      return askToSignIn(refusal(error, credential));
    }
    return notice(`Could not load the session: ${error.message}`, 'bad');
  }
  view.wireActions();
  view.follow();
  setInterval(() => view.renderDeadline(), 30_000);
}

class SessionView {
  constructor(id, credential) {
    this.id = id;
    this.credential = credential;
    this.state = null;
    this.rendered = {};
    this.busy = false;
  }

  /** Follows the event stream; polls when it breaks, and stops when the session has ended. */
  async follow() {
    await this.followUntilEnded();
    // The whole state once more: the stream carries no archive, and the archived copy is what to watch.
    try {
      this.update((await api(this.credential, 'GET', `/v1/sessions/${encodeURIComponent(this.id)}`)).body);
    } catch {
      // What the stream showed stays.
    }
  }

  async followUntilEnded() {
    while (!FINAL.includes(this.state.phase)) {
      try {
        await this.readStream();
      } catch {
        // The stream broke: poll below.
      }
      if (FINAL.includes(this.state.phase)) return;
      document.body.dataset.live = 'polling';
      // The stream broke or the API restarted: poll for a while, then try the stream again.
      for (let i = 0; i < 10 && !FINAL.includes(this.state.phase); i++) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        try {
          this.update((await api(this.credential, 'GET', `/v1/sessions/${encodeURIComponent(this.id)}`)).body);
        } catch (error) {
          if (error instanceof ApiProblem && (error.status === 401 || error.status === 403)) return notice(error.message, 'bad');
        }
      }
    }
  }

  async readStream() {
    const response = await fetch(`/v1/sessions/${encodeURIComponent(this.id)}/events`, {
      headers: { authorization: `Bearer ${this.credential}`, accept: 'text/event-stream' },
    });
    if (!response.ok || !response.body) return `status ${response.status}`;
    document.body.dataset.live = 'stream';
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'ended';
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (event === 'shutdown') return 'shutdown';
        if (data) this.apply(event, JSON.parse(data));
      }
    }
  }

  /** One stream event onto the state the page shows (the same changes the API's state goes through). */
  apply(event, data) {
    if (event === 'snapshot') return this.update(data);
    const state = structuredClone(this.state);
    switch (event) {
      case 'message':
        if (!state.messages.some((m) => m.seq === data.seq)) state.messages.push(data);
        break;
      case 'review':
        if (state.review && state.review.revision !== data.revision) keepEarlier(state);
        state.review = data;
        break;
      case 'progress':
        state.progress = data.progress;
        break;
      case 'queue':
        state.queue = data.queue;
        break;
      case 'video':
        state.video = data;
        break;
      case 'phase':
        // Leaving a checkpoint: its storyboard joins the earlier ones.
        if (CHECKPOINTS.includes(state.phase) && !CHECKPOINTS.includes(data.phase)) {
          keepEarlier(state);
          state.review = null;
        }
        Object.assign(state, { phase: data.phase, phaseSince: data.phaseSince, error: data.error });
        break;
      case 'end':
        state.phase = data.phase;
        break;
      default:
        return;
    }
    this.update(state);
  }

  update(state) {
    // "Approval sent." and the like hold until the session moves on; then its phase says what is true.
    if (this.sentNotice && this.sentNotice.phase !== state.phase && !this.busy) {
      this.sentNotice = null;
      notice('');
    }
    this.state = state;
    this.render();
  }

  render() {
    const s = this.state;
    $('session').hidden = false;
    document.body.dataset.phase = s.phase;
    document.title = `${s.title || s.promptSummary} · Review`;
    $('title').textContent = s.title || s.promptSummary;
    const badge = $('phase');
    badge.textContent = s.phase.replace(/_/g, ' ');
    badge.dataset.tone = TONE[s.phase] ?? '';
    $('phase-text').textContent = PHASE_TEXT[s.phase] ?? '';
    $('error').hidden = !s.error;
    $('error').textContent = s.error ? s.error.reason : '';
    $('progress-row').hidden = !(s.phase === 'generating' && typeof s.progress === 'number');
    if (typeof s.progress === 'number') $('progress').value = s.progress;
    this.renderDeadline();
    this.renderDecide();
    this.once('prompt', s.prompt || s.promptSummary, (text) => ($('prompt').textContent = text));
    this.once('messages', s.messages, (messages) => $('messages').replaceChildren(...messages.map(messageItem)));
    this.once('actions', s.actions, (actions) => $('actions').replaceChildren(...(actions.length ? actions.map(actionItem) : [el('li', { className: 'muted', textContent: 'None yet.' })])));
    this.once('storyboards', { review: s.review, earlier: s.earlierStoryboards }, ({ review, earlier }) => renderStoryboards(review, earlier));
    this.once('video', { video: s.video, archived: archivedFiles(s) }, ({ video, archived }) => this.renderVideo(video, archived));
  }

  /** Re-renders a part only when what it shows has changed (images are not reloaded on every event). */
  once(part, value, draw) {
    const key = JSON.stringify(value);
    if (this.rendered[part] === key) return;
    this.rendered[part] = key;
    draw(value);
  }

  renderDeadline() {
    const review = this.state?.review;
    const node = $('deadline');
    const show = review && CHECKPOINTS.includes(this.state.phase);
    node.hidden = !show;
    if (!show) return;
    const left = Date.parse(review.deadline) - Date.now();
    const hours = Math.round(left / 3_600_000);
    const relative = left <= 0 ? 'now' : hours >= 48 ? `in ${Math.round(hours / 24)} days` : hours >= 1 ? `in ${hours} hours` : `in ${Math.max(1, Math.round(left / 60_000))} minutes`;
    node.replaceChildren('Decide by ', el('time', { dateTime: review.deadline, textContent: when(review.deadline) }), ` (${relative}).`);
  }

  renderDecide() {
    const s = this.state;
    const open = CHECKPOINTS.includes(s.phase);
    $('decide').hidden = !open;
    const question = s.phase === 'waiting_for_input';
    $('changes-label').textContent = question ? 'Your answer' : 'What should change?';
    $('changes-button').textContent = question ? 'Send answer' : 'Request changes';
    for (const button of document.querySelectorAll('#decide button')) button.disabled = this.busy;
  }

  wireActions() {
    $('approve-form').onsubmit = (event) => {
      event.preventDefault();
      const note = $('approve-note').value.trim();
      void this.decide('approve', note ? { message: note } : {}, 'Approval sent.');
    };
    $('changes-form').onsubmit = (event) => {
      event.preventDefault();
      const message = $('changes-message').value.trim();
      if (!message) return;
      void this.decide('messages', { message }, 'Sent to the agent.');
    };
  }

  /** One decision, once: a retry after a network failure carries the same Idempotency-Key. */
  async decide(route, body, done) {
    this.busy = true;
    this.renderDecide();
    notice('Sending…');
    const key = crypto.randomUUID();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const { status, body: answer } = await api(this.credential, 'POST', `/v1/sessions/${encodeURIComponent(this.id)}/${route}`, { body, idempotencyKey: key });
          if (status === 200) this.update(answer);
          notice(status === 200 ? done : `${done} The session will act on it shortly.`);
          this.sentNotice = { phase: this.state.phase };
          $('approve-note').value = '';
          $('changes-message').value = '';
          return;
        } catch (error) {
          if (error instanceof ApiProblem || attempt >= 3) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
        }
      }
    } catch (error) {
      notice(error instanceof ApiProblem ? error.message : `Could not reach the service (${error.message}); try again.`, 'bad');
    } finally {
      this.busy = false;
      this.renderDecide();
    }
  }
}

SessionView.prototype.renderVideo = function (video, archived) {
  $('video').hidden = !video;
  if (!video) return;
  const parts = [];
  const title = video.title ?? 'the video';
  if (archived.includes('thumbnail')) {
    const img = el('img', { alt: `Thumbnail of ${title}` });
    void this.archivedUrl('thumbnail').then(({ url }) => (img.src = url), () => video.thumbnailUrl && (img.src = video.thumbnailUrl));
    parts.push(el('p', { className: 'video' }, img));
  } else if (video.thumbnailUrl) {
    parts.push(el('p', { className: 'video' }, el('img', { src: video.thumbnailUrl, alt: `Thumbnail of ${title}` })));
  }
  if (archived.includes('video')) {
    // Our copy, read with this page's credential (a plain link could not carry it).
    const play = el('button', { type: 'button', textContent: 'Play the video' });
    play.onclick = async () => {
      play.disabled = true;
      try {
        const { url, size } = await this.archivedUrl('video');
        const player = el('video', { src: url, controls: true, className: 'video' });
        player.dataset.bytes = String(size);
        play.replaceWith(player, el('p', {}, el('a', { href: url, download: `${this.id}.mp4`, textContent: 'Save the video' })));
      } catch (error) {
        play.disabled = false;
        notice(`Could not load the video (${error.message}); try again.`, 'bad');
      }
    };
    parts.push(el('p', {}, play));
  } else if (video.url) {
    parts.push(el('p', {}, el('a', { href: video.url, textContent: 'Open the video at HeyGen', rel: 'noreferrer' }), el('span', { className: 'muted', textContent: ' (HeyGen\'s link expires in 7 days; our copy shows here once archived)' })));
  }
  $('video-body').replaceChildren(...parts);
};

/** One archived file as a local URL of this page, and its size. */
SessionView.prototype.archivedUrl = async function (file) {
  const response = await fetch(`/v1/sessions/${encodeURIComponent(this.id)}/video/content?file=${file}`, { headers: { authorization: `Bearer ${this.credential}` } });
  if (!response.ok) throw new Error(`the service answered ${response.status}`);
  const blob = await response.blob();
  return { url: URL.createObjectURL(blob), size: blob.size };
};

function keepEarlier(state) {
  const review = state.review;
  if (review?.kind !== 'storyboard' || state.earlierStoryboards.some((s) => s.revision === review.revision)) return;
  state.earlierStoryboards = [...state.earlierStoryboards, { revision: review.revision, resources: review.resources, since: review.since }].slice(-10);
}

function messageItem(message) {
  const who = message.role === 'model' ? 'Agent' : message.role === 'user' ? 'You' : message.role;
  return el('li', {}, el('span', { className: 'role', textContent: who }), el('span', { className: 'prose', textContent: message.content }));
}

function actionItem(action) {
  const what = { approve: 'Approved', message: 'Sent a message', review_timeout: 'Review timed out', reapprove: 'Approved again', stop: 'Stopped' }[action.kind] ?? action.kind;
  const outcome = action.outcome === 'applied' ? '' : ` (${action.outcome}${action.reason ? `: ${action.reason}` : ''})`;
  return el('li', {}, `${what} by `, el('strong', { textContent: action.by ?? 'system' }), `, ${when(action.at)}${outcome}`);
}

/** The current storyboard first, then the earlier ones, newest first: side by side on a wide screen. */
function renderStoryboards(review, earlier) {
  const boards = [];
  if (review?.kind === 'storyboard') boards.push({ ...review, current: true });
  for (const board of [...earlier].reverse()) if (board.revision !== review?.revision) boards.push({ ...board, current: false });
  $('storyboards').hidden = boards.length === 0;
  $('revisions').replaceChildren(
    ...boards.map((board) => {
      const frames = board.resources.map((resource, index) => {
        const label = `Storyboard ${board.revision}, frame ${index + 1}`;
        const src = resource.url ?? resource.thumbnailUrl ?? resource.previewUrl;
        const body =
          resource.status === 'ready' && src
            ? el('img', { src, alt: label, loading: 'lazy', decoding: 'async' })
            : el('p', { className: 'muted', textContent: resource.status === 'loading' ? 'Loading…' : `Not available${resource.note ? `: ${resource.note}` : ''}` });
        return el('li', {}, el('figure', {}, body, el('figcaption', { textContent: `Frame ${index + 1}` })));
      });
      const article = el(
        'article',
        { className: 'revision' },
        el('h3', { textContent: `Revision ${board.revision}${board.current ? ' (current)' : ''}` }),
        el('p', { className: 'muted', textContent: `Drafted ${when(board.since)}` }),
        frames.length ? el('ul', { className: 'frames' }, ...frames) : el('p', { className: 'muted', textContent: 'No images.' }),
      );
      article.dataset.revision = String(board.revision);
      article.dataset.current = String(board.current);
      return article;
    }),
  );
}

/** The files of the video our archive holds (its copies outlive HeyGen's expiring links). */
function archivedFiles(state) {
  return (state.archive?.entries ?? []).map((entry) => entry.file);
}

if (document.body.dataset.page === 'list') void listPage();
else void sessionPage();
