import type { Logger } from "../logger.js";
import { isStale, type BrokerEndpoint, type BrokerRegistration, type ClusterMetadata } from "./metadata.js";

/**
 * This broker's membership of the cluster (Kafka's BrokerLifecycleManager): it registers, competes for
 * the controller role, and when the registration is lost (its etcd lease lapsed: etcd away for longer
 * than broker.session.timeout.ms, or the process paused) it fences the broker, registers again until etcd
 * takes it (a new broker epoch, as Kafka's re-registration), campaigns again and unfences. Meanwhile
 * failures are logged and retried with a bounded backoff; nothing here ends the process.
 */

/** What the session does to the rest of the broker. */
export interface SessionHost {
  readonly metadata: ClusterMetadata;
  readonly log: Logger;
  /** The registration is lost: take no more writes as leader. */
  fence(): void;
  /** Registered again: lead and follow what the partition states say now, then take writes again. */
  unfence(): Promise<void>;
}

/** The first and the longest wait between two tries at registering again. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

export class BrokerSession {
  private current: BrokerRegistration | undefined;
  private stopped = false;

  constructor(
    private readonly host: SessionHost,
    private readonly nodeId: number,
    private readonly listeners: readonly BrokerEndpoint[],
    private readonly rack: string | null,
  ) {}

  /** The registration in force; undefined before the first and while registering again. */
  get registration(): BrokerRegistration | undefined {
    return this.current;
  }

  /** Registers for the first time; throws when a live broker of the cluster has this node id. */
  async start(): Promise<void> {
    const r = await this.host.metadata.registerBroker(this.nodeId, this.listeners, this.rack);
    if (isStale(r)) throw new Error(`node.id ${this.nodeId} is taken by a live broker of the cluster`);
    this.hold(r);
  }

  /** Ends the registration (a clean shutdown) and stops registering again. */
  async stop(): Promise<void> {
    this.stopped = true;
    const r = this.current;
    this.current = undefined;
    await r?.unregister();
  }

  private hold(r: BrokerRegistration): void {
    this.current = r;
    r.campaign();
    void r.lost.then(() => this.renew(r));
  }

  private async renew(lost: BrokerRegistration): Promise<void> {
    if (this.stopped || this.current !== lost) return;
    this.current = undefined;
    this.host.fence();
    this.host.log.warn(`the broker registration (epoch ${lost.epoch}) is lost: registering again`);
    for (let delay = FIRST_RETRY_MS; !this.stopped; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      let why: string;
      try {
        const r = await this.host.metadata.registerBroker(this.nodeId, this.listeners, this.rack);
        if (!isStale(r)) {
          if (this.stopped) return void (await r.unregister());
          this.hold(r);
          this.host.log.warn(`registered again with broker epoch ${r.epoch}`);
          await this.host.unfence();
          return;
        }
        why = "a live broker of the cluster has this node id";
      } catch (e) {
        why = (e as Error).message;
      }
      this.host.log.warn(`registering again failed (${why}); next try in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
