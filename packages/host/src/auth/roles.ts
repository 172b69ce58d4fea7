/**
 * Roles and what they may do. A route needs one permission (api/route-rules.ts); a role holds
 * every permission up to its rank, so the check is one comparison.
 *
 * - reader: looks at everything (jobs, runs, logs, settings without secret values).
 * - operator: also deploys, runs, cancels, starts and stops, edits job settings and job app settings.
 * - admin: also users, tokens, host-wide app settings, web hooks and the audit trail.
 */
export const Role = { Admin: "admin", Operator: "operator", Reader: "reader" } as const;
export type Role = (typeof Role)[keyof typeof Role];
export const roles: readonly Role[] = [Role.Reader, Role.Operator, Role.Admin];

export const Permission = {
  /** Anyone, without credentials (health, the dashboard's static files, logout). */
  Public: "public",
  /** Any valid credential (who am I, unknown routes answer 404 only to those). */
  Authenticated: "authenticated",
  Read: "read",
  Operate: "operate",
  Admin: "admin",
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

const rank: Record<Role, number> = { reader: 1, operator: 2, admin: 3 };
const needed: Record<Permission, number> = { public: 0, authenticated: 0, read: 1, operate: 2, admin: 3 };

export const roleAllows = (role: Role, permission: Permission): boolean => rank[role] >= needed[permission];

/** The least role that holds a permission (for messages and the OpenAPI document). */
export const leastRoleFor = (permission: Permission): Role | null =>
  needed[permission] === 0 ? null : (roles.find((role) => rank[role] >= needed[permission]) ?? Role.Admin);

export const isRole = (value: unknown): value is Role => typeof value === "string" && value in rank;
