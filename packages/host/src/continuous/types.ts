/**
 * Continuous jobs on several instances (issue 11).
 *
 * Glossary
 * - instance status: what one instance says of one continuous job (`Running`, `InactiveInstance`…);
 *   each instance writes its own row when its status changes. Kudu's `detailed_status` is one line
 *   per live instance, `status` sums them up.
 * - singleton lease: `is_singleton: true` jobs run on one instance only, the holder of the job's
 *   lease. A lease has an expiry by the store's clock; the holder renews it well before, the others
 *   take it once it has expired (a holder killed with -9) or been released (a graceful stop).
 */

export interface ContinuousInstanceStatus {
  jobName: string;
  instanceId: string;
  status: string;
}

export interface ContinuousStore {
  /** Records this instance's status for a job (insert or replace its row). */
  setContinuousStatus(jobName: string, instanceId: string, status: string): Promise<void>;
  /** Forgets an instance's row for a job (the job was removed there). */
  deleteContinuousStatus(jobName: string, instanceId: string): Promise<void>;
  /**
   * Every job's status on every live instance (not stopped, heartbeat within `timeoutMs` by the
   * store's clock); rows of dead or unknown instances are left out. By job, then instance.
   */
  listContinuousStatuses(timeoutMs: number): Promise<ContinuousInstanceStatus[]>;
  /**
   * Takes or renews a job's singleton lease for `leaseMs` from the store's now. A conditional write:
   * true when `instanceId` holds it afterwards (it was free, expired, or already its own), false,
   * writing nothing, while another instance holds an unexpired lease.
   */
  acquireSingletonLease(jobName: string, instanceId: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease up at once, if `instanceId` holds it. */
  releaseSingletonLease(jobName: string, instanceId: string): Promise<void>;
  /** Who holds the job's unexpired lease, or null. */
  singletonLeaseHolder(jobName: string): Promise<string | null>;
}
