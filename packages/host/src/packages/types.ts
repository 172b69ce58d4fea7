/**
 * Installed job versions stored content-addressed in the store (issue 11: no shared disk). An
 * instance that did not receive a deploy fetches the version's package by the hash recorded with
 * the job and unpacks it into its own version cache.
 */
export interface PackageStore {
  /**
   * Stores a package under its hash (the SHA-256 of `content`, 64 lowercase hex digits). Storing
   * content that is already there writes nothing but its time: young packages are never pruned.
   */
  putPackage(hash: string, content: Buffer): Promise<void>;
  /** The package's content, or null when no package has that hash. */
  getPackage(hash: string): Promise<Buffer | null>;
  /**
   * Deletes the packages no job and no site revision references that were stored more than `minAgeMs` ago (by the
   * store's clock: a package stored a moment ago may be about to be referenced by a deploy on
   * another instance). Returns how many were deleted.
   */
  prunePackages(minAgeMs: number): Promise<number>;
  /**
   * Records a new site revision naming a stored package (the site's files without App_Data/jobs,
   * after a site deployment) and returns it, numbered by the store: numbers only grow. Throws when
   * no package has that hash.
   */
  recordSiteRevision(revision: NewSiteRevision): Promise<SiteRevision>;
  /** The revision with the highest number, or null when no site was ever recorded. */
  latestSiteRevision(): Promise<SiteRevision | null>;
  /**
   * Deletes all but the `keep` newest revisions (their packages become unreferenced, for
   * prunePackages). Returns how many were deleted.
   */
  pruneSiteRevisions(keep: number): Promise<number>;
}

export interface NewSiteRevision {
  packageHash: string;
  /** The deployment that produced it (null: none recorded). */
  deploymentId: string | null;
  /** The instance that stored it. */
  instanceId: string | null;
}

/** One deployed state of the site's files, shared by every instance (issue 11). */
export interface SiteRevision extends NewSiteRevision {
  revision: number;
  /** By the store's clock. */
  createdAt: Date;
}

/** What a package key looks like: a SHA-256 in lowercase hex. */
export const PACKAGE_HASH = /^[0-9a-f]{64}$/;

export function checkPackageHash(hash: string): void {
  if (!PACKAGE_HASH.test(hash)) throw new Error(`Invalid package hash '${hash.slice(0, 80)}'`);
}
