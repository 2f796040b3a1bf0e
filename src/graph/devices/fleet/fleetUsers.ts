// Synthetic users: unique user principal names in the tenant's domain (the ordinal makes them unique), with a
// department, a title and an office. No passwordProfile: fleet users do not sign in.

import type { StoredEntity } from "../../../store/entityStore.js";
import { CITIES, DEPARTMENTS, GIVEN_NAMES, SURNAMES } from "./fleetCatalogue.js";
import { scramble32, weighted, type GuidSequence, type SeededRandom } from "./seededRandom.js";

/** What a device needs of its primary user. */
export interface PrimaryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string;
}

const city = weighted(CITIES);

/**
 * The names of the user with this ordinal: a pure function of (seed, ordinal), so the generator can check the
 * names for collisions before it draws anything else. Names have no digits, so the ordinal suffix is unambiguous.
 */
export function fleetUserName(seedKey: number, ordinal: number, domain: string) {
  const h = scramble32((ordinal ^ seedKey) >>> 0);
  const given = GIVEN_NAMES[h % GIVEN_NAMES.length];
  const surname = SURNAMES[(h >>> 8) % SURNAMES.length];
  const nickname = `${given}.${surname}${ordinal}`.toLowerCase();
  return { given, surname, nickname, userPrincipalName: `${nickname}@${domain}` };
}

/** Draws one user; `at` in [0, 1) is its place in the call (users were created in that order). */
export function fleetUser(random: SeededRandom, ids: GuidSequence, seedKey: number, ordinal: number, at: number, domain: string, companyName: string, nowMs: number): StoredEntity {
  const { given, surname, nickname, userPrincipalName } = fleetUserName(seedKey, ordinal, domain);
  const department = random.pick(DEPARTMENTS);
  const place = city(random);
  return {
    id: ids.next(),
    type: "user",
    seq: 0,
    doc: {
      accountEnabled: !random.chance(0.03),
      displayName: `${given} ${surname}`,
      givenName: given,
      surname,
      userPrincipalName,
      mailNickname: nickname,
      mail: userPrincipalName,
      otherMails: [],
      proxyAddresses: [`SMTP:${userPrincipalName}`],
      jobTitle: random.pick(department.titles),
      department: department.name,
      companyName,
      employeeId: String(100_000 + ordinal),
      city: place.city,
      state: place.state,
      country: place.country,
      officeLocation: place.officeLocation,
      usageLocation: place.usageLocation,
      userType: "Member",
      businessPhones: [],
      preferredLanguage: place.language,
      createdDateTime: new Date(nowMs - Math.round(((1 - at) * 1500 + 30) * 1440 + random.int(60)) * 60_000).toISOString(),
    },
  };
}

export const asPrimaryUser = (u: StoredEntity): PrimaryUser => ({
  id: u.id,
  userPrincipalName: String(u.doc.userPrincipalName),
  displayName: String(u.doc.displayName),
  mail: String(u.doc.mail ?? u.doc.userPrincipalName),
});
