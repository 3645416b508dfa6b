/**
 * When the Gmail sandbox's responses to history.list and messages.get
 * arrived, recorded by wrapping the global fetch that the sandbox Gmail
 * client uses. Times are Date.now() milliseconds at the response headers.
 */
export class GmailCallTimings {
  /** Response times of history.list calls, in order. */
  readonly historyList: number[] = [];
  /** Response time of the last messages.get of each message id. */
  readonly messagesGet = new Map<string, number>();

  /** Wraps the global fetch; call it before any Gmail client is created, because clients keep the fetch they were given. */
  install(sandboxUrl: string): void {
    const originalFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const response = await originalFetch(input, init);
      const url = requestUrl(input);
      if (url.origin === new URL(sandboxUrl).origin) {
        this.record(url.pathname, Date.now());
      }
      return response;
    };
  }

  /** Returns the last history.list response at or before `time`. */
  historyListBefore(time: number): number | undefined {
    return this.historyList.filter((at) => at <= time).pop();
  }

  private record(pathname: string, at: number): void {
    if (/\/users\/[^/]+\/history$/.test(pathname)) {
      this.historyList.push(at);
    }
    const message = /\/users\/[^/]+\/messages\/([^/]+)$/.exec(pathname);
    if (message) {
      this.messagesGet.set(decodeURIComponent(message[1]), at);
    }
  }
}

function requestUrl(input: string | URL | Request): URL {
  if (typeof input === 'string') {
    return new URL(input);
  }
  return input instanceof URL ? input : new URL(input.url);
}
