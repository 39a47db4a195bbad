/**
 * One reader per watched session in this process, however many streams watch it: each read of the
 * session's state goes to every stream that was watching when it began, so N streams on one session
 * cost Temporal what one does. The reader starts with the first stream and stops with the last.
 */
import type { SessionState } from '../contract/session';
import { ApiError } from './errors';

/** One read's outcome: the state, nothing this time (no worker answered), or the session is gone. */
export type FeedUpdate = { kind: 'state'; state: SessionState } | { kind: 'unanswered' } | { kind: 'gone' };

export type FeedListener = (update: FeedUpdate) => void;

/** Reads a session's state again: undefined while no worker answers; a not_found ApiError once it is gone. */
export type StateReader = () => Promise<SessionState | undefined>;

class Feed {
  private readonly listeners = new Set<FeedListener>();

  private timer: NodeJS.Timeout | undefined;

  private reading = false;

  constructor(
    private readonly read: StateReader,
    private readonly intervalMs: number,
    private readonly onIdle: () => void,
    private readonly onRead: () => void,
  ) {}

  add(listener: FeedListener): void {
    this.listeners.add(listener);
    if (!this.timer && !this.reading) this.schedule();
  }

  remove(listener: FeedListener): void {
    this.listeners.delete(listener);
    if (!this.listeners.size) this.stop();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    this.onIdle();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    // A stream that joined during the read got a newer first state of its own: this read is not for it.
    const audience = [...this.listeners];
    this.reading = true;
    this.onRead();
    const update = await this.readOnce();
    this.reading = false;
    for (const listener of audience) if (this.listeners.has(listener)) listener(update);
    if (update.kind === 'gone') this.stop();
    else if (this.listeners.size) this.schedule();
  }

  private async readOnce(): Promise<FeedUpdate> {
    try {
      const state = await this.read();
      return state ? { kind: 'state', state } : { kind: 'unanswered' };
    } catch (error) {
      // Gone (its history passed retention): nothing more will come. Anything else: try again next time.
      return error instanceof ApiError && error.code === 'not_found' ? { kind: 'gone' } : { kind: 'unanswered' };
    }
  }
}

export class SessionFeeds {
  private readonly feeds = new Map<string, Feed>();

  private reads = 0;

  constructor(private readonly intervalMs: number) {}

  /**
   * Calls `listener` with every read of session `id` from now on, every `intervalMs`, until the returned
   * function is called or the session is gone. `read` is used only if no reader of `id` is running yet.
   */
  watch(id: string, read: StateReader, listener: FeedListener): () => void {
    let feed = this.feeds.get(id);
    if (!feed) {
      const created = new Feed(read, this.intervalMs, () => this.feeds.get(id) === created && this.feeds.delete(id), () => (this.reads += 1));
      this.feeds.set(id, created);
      feed = created;
    }
    const watched = feed;
    watched.add(listener);
    return () => watched.remove(listener);
  }

  /** Sessions read right now, and reads made so far (for metrics and tests). */
  get stats(): { sessions: number; reads: number } {
    return { sessions: this.feeds.size, reads: this.reads };
  }

  close(): void {
    for (const feed of [...this.feeds.values()]) feed.stop();
  }
}
