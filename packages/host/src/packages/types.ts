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
   * Deletes the packages no job references that were stored more than `minAgeMs` ago (by the
   * store's clock: a package stored a moment ago may be about to be referenced by a deploy on
   * another instance). Returns how many were deleted.
   */
  prunePackages(minAgeMs: number): Promise<number>;
}

/** What a package key looks like: a SHA-256 in lowercase hex. */
export const PACKAGE_HASH = /^[0-9a-f]{64}$/;

export function checkPackageHash(hash: string): void {
  if (!PACKAGE_HASH.test(hash)) throw new Error(`Invalid package hash '${hash.slice(0, 80)}'`);
}
