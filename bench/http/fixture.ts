// The directory the benchmark loads into Allot: one tenant, one all-permissions app and N synthetic users with
// deterministic ids, so the parent process knows every id without asking the server.

import type { Fixture } from "../../src/seed/fixture.js";

export const BENCH_TENANT_ID = "b3c40000-0000-4000-8000-000000000001";
export const BENCH_CLIENT_ID = "b3c40000-0000-4000-8000-0000000000a1";
export const BENCH_CLIENT_SECRET = "allot-bench-secret";

const DEPARTMENTS = ["Retail", "Marketing", "Operations", "Finance", "Engineering"];

/** The id of bench user n (1-based). */
export const benchUserId = (n: number) => `b3c40000-0000-4000-8001-${n.toString(16).padStart(12, "0")}`;

export function benchUser(n: number): Record<string, unknown> {
  const nick = `user${n}`;
  return {
    id: benchUserId(n),
    accountEnabled: true,
    displayName: `User ${n}`,
    givenName: "User",
    surname: String(n),
    mailNickname: nick,
    userPrincipalName: `${nick}@allotbench.onmicrosoft.com`,
    mail: `${nick}@allotbench.onmicrosoft.com`,
    department: DEPARTMENTS[n % DEPARTMENTS.length],
    usageLocation: "US",
    // Seeding hashes every password with scrypt (tens of ms each): only one user in a hundred has one, so that
    // 10,000 users load within the budget. Responses are the same either way (passwordProfile is write-only).
    passwordProfile: { forceChangePasswordNextSignIn: false, ...(n % 100 === 1 ? { password: "Allot-bench-1!" } : {}) },
  };
}

export function benchFixture(users: number): Fixture {
  return {
    tenants: [
      {
        id: BENCH_TENANT_ID,
        displayName: "Allot Bench",
        domain: "allotbench.onmicrosoft.com",
        apps: [{ clientId: BENCH_CLIENT_ID, displayName: "Allot bench app", secrets: [BENCH_CLIENT_SECRET], roles: ["*"] }],
        users: Array.from({ length: users }, (_, i) => benchUser(i + 1)),
      },
    ],
  };
}

/** How many of users 1..n have a displayName starting with "User 1" (1, 10–19, 100–199, …). */
export function countStartingWithOne(users: number): number {
  let count = 0;
  for (let n = 1; n <= users; n++) if (String(n).startsWith("1")) count++;
  return count;
}
