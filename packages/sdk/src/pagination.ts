/** One page of a list; also an async iterable over every item of every later page. */
export class Page<T> implements AsyncIterable<T> {
  readonly data: T[];
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
  /**
   * The journal position the page was read at, on lists that say it (payment intents, approvals,
   * transactions, service requests, spend authorizations, escrow intents); else null. Stream from it
   * (`events.stream({ after_seq })`) to see every change since, with none missed.
   */
  readonly journalSeq: number | null;
  private readonly fetchPage: (cursor: string) => Promise<Page<T>>;

  constructor(
    body: { data: T[]; has_more: boolean; next_cursor: string | null; journal_seq?: number },
    fetchPage: (cursor: string) => Promise<Page<T>>,
  ) {
    this.data = body.data;
    this.hasMore = body.has_more;
    this.nextCursor = body.next_cursor;
    this.journalSeq = body.journal_seq ?? null;
    this.fetchPage = fetchPage;
  }

  /** The next page, or null at the end. */
  async nextPage(): Promise<Page<T> | null> {
    if (!this.hasMore || this.nextCursor === null) return null;
    return this.fetchPage(this.nextCursor);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* this.data;
    let page = await this.nextPage();
    while (page) {
      yield* page.data;
      page = await page.nextPage();
    }
  }
}
