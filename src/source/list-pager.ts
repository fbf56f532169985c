/**
 * A paged list of one events collection, as client-go's pager reads it: `limit`/`continue` pages,
 * each handed over before the next is asked for (one page in memory), the page size shrunk while
 * pages come larger than a byte budget. A continue token that expired mid-list ends the list
 * (`continue_expired`): the reflector starts it over.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { kubeRequest } from '../kube/request.js';
import { KubeRequestError } from './errors.js';
import { failureOfStatus, requestError } from './failure.js';
import type { Failure } from './failure.js';

export interface ListPage {
  /** The raw list items; the consumer may clear each slot once handed on. */
  readonly items: unknown[];
  /** The list's apiVersion (its items carry none of their own). */
  readonly apiVersion: string;
  /** When the list's first page was asked for: the moment its snapshot stands for. */
  readonly startedMs: number;
}

/** `ok`: the snapshot's resourceVersion, and when its first page was asked for. */
export type ListEnd = { readonly kind: 'ok'; readonly resourceVersion: string; readonly startedMs: number } | { readonly kind: 'continue_expired' } | { readonly kind: 'aborted' } | Failure;

export interface ListPagerOptions {
  readonly pageSize: number;
  /** A page larger than this makes the next pages ask for proportionally fewer items (down to one). */
  readonly maxPageBytes: number;
  readonly listTimeoutMs: number;
  readonly fieldSelector: string | undefined;
}

export interface ListPagerDeps {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** For the log. */
  readonly stream: string;
}

export class ListPager {
  /** The list `limit`: `pageSize`, less while pages come too large; kept from one list to the next. */
  private pageLimit: number;

  constructor(
    private readonly options: ListPagerOptions,
    private readonly deps: ListPagerDeps,
  ) {
    this.pageLimit = Math.max(1, options.pageSize);
  }

  /** Lists `path`; `onPage` is awaited before the next page is asked for. */
  async list(path: string, defaultApiVersion: string, onPage: (page: ListPage) => Promise<void>, signal: AbortSignal): Promise<ListEnd> {
    const startedMs = this.deps.clock.now();
    let token: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.pageLimit) });
      if (token !== undefined) query.set('continue', token);
      if (this.options.fieldSelector) query.set('fieldSelector', this.options.fieldSelector);
      let res;
      try {
        res = await kubeRequest(this.deps.kubeConfig, `${path}?${query.toString()}`, { signal, timeoutMs: this.options.listTimeoutMs });
      } catch (err) {
        if (signal.aborted) return { kind: 'aborted' };
        return { kind: 'error', err };
      }
      if (res.status !== 200) {
        if (token === undefined) return failureOfStatus(res.status, res.body);
        // Mid-list, a 410 is the continue token's, and a 400 no configuration error.
        if (res.status === 410) return { kind: 'continue_expired' };
        return res.status === 400 ? requestError(res.status, res.body) : failureOfStatus(res.status, res.body);
      }
      const page = res.body as { apiVersion?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown } | undefined;
      if (!page || !Array.isArray(page.items) || typeof page.metadata?.resourceVersion !== 'string') {
        return { kind: 'error', status: 200, err: new KubeRequestError('list answer is not an EventList', 200) };
      }
      const items = page.items as unknown[];
      this.adaptPageLimit(items.length, res.bodyLength);
      await onPage({ items, apiVersion: typeof page.apiVersion === 'string' ? page.apiVersion : defaultApiVersion, startedMs });
      if (signal.aborted) return { kind: 'aborted' };
      const next = page.metadata.continue;
      if (typeof next !== 'string' || next === '') return { kind: 'ok', resourceVersion: page.metadata.resourceVersion, startedMs };
      token = next;
    }
  }

  /** Sizes the next page so that one page stays near `maxPageBytes` in memory. */
  private adaptPageLimit(items: number, bytes: number): void {
    const budget = Math.max(1, this.options.maxPageBytes);
    const before = this.pageLimit;
    if (bytes > budget && items > 1) this.pageLimit = Math.max(1, Math.floor((items * budget) / bytes));
    else if (bytes * 2 < budget) this.pageLimit = Math.min(Math.max(1, this.options.pageSize), this.pageLimit * 2);
    if (this.pageLimit < before) this.deps.logger.debug({ stream: this.deps.stream, pageBytes: bytes, items, limit: this.pageLimit }, 'list page too large; asking for fewer items');
  }
}
