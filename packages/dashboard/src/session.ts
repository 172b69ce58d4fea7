import { useEffect, useState } from "preact/hooks";
import { api, type Role, type SessionJson } from "./api.ts";

const rank: Record<Role, number> = { reader: 1, operator: 2, admin: 3 };

/** What the caller's role allows, so that pages offer only what the host would accept. */
export const can = (session: SessionJson | null | undefined, needed: Role): boolean =>
  Boolean(session && rank[session.role] >= rank[needed]);

/** Who is logged in (`GET /api/session`); null when nobody is (the login page shows then). */
export function useSession(path: string): SessionJson | null | undefined {
  const [session, setSession] = useState<SessionJson | null | undefined>(undefined);
  useEffect(() => {
    if (path === "login") return;
    let alive = true;
    api<SessionJson>("/api/session").then(
      (value) => alive && setSession(value),
      () => alive && setSession(null),
    );
    return () => {
      alive = false;
    };
  }, [path === "login"]);
  return session;
}
