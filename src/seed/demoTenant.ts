// The demo tenant every `allot serve` starts with (unless --seed none): well-known credentials, like Azurite's
// development account, and a small directory to look at.

import type { Fixture } from "./fixture.js";

export const DEMO_TENANT_ID = "a110c0de-0000-4000-8000-000000000001";
export const DEMO_CLIENT_ID = "a110c0de-0000-4000-8000-0000000000a1";
export const DEMO_CLIENT_SECRET = "allot-dev-secret";

const id = (n: number) => `a110c0de-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const password = { forceChangePasswordNextSignIn: false, password: "Allot-demo-1!" };

const user = (n: number, given: string, surname: string, department: string) => ({
  id: id(0x100 + n),
  accountEnabled: true,
  displayName: `${given} ${surname}`,
  givenName: given,
  surname,
  mailNickname: given.toLowerCase(),
  userPrincipalName: `${given.toLowerCase()}@allotdemo.onmicrosoft.com`,
  mail: `${given.toLowerCase()}@allotdemo.onmicrosoft.com`,
  department,
  usageLocation: "US",
  passwordProfile: password,
});

const device = (n: number, name: string, model: string, groupTag: string) => ({
  id: id(0x200 + n),
  accountEnabled: true,
  deviceId: id(0x300 + n),
  displayName: name,
  operatingSystem: "Windows",
  operatingSystemVersion: "10.0.22631.4460",
  manufacturer: "Microsoft Corporation",
  model,
  trustType: "AzureAd",
  profileType: "RegisteredDevice",
  alternativeSecurityIds: [{ type: 2, identityProvider: null, key: Buffer.from(`allot-demo-${n}`).toString("base64") }],
  devicePhysicalIds: [`[ZTDId]:${id(0x400 + n)}`, `[OrderID]:${groupTag}`],
});

export const demoFixture: Fixture = {
  tenants: [
    {
      id: DEMO_TENANT_ID,
      displayName: "Allot Demo",
      domain: "allotdemo.onmicrosoft.com",
      // As in the documents' examples (List profiles, the reassign error message).
      mmdEnabledPersonas: ["SensitiveData", "Standard", "PowerUser"],
      apps: [{ clientId: DEMO_CLIENT_ID, displayName: "Allot demo app", secrets: [DEMO_CLIENT_SECRET], roles: ["*"], delegatedScopes: ["*"], publicClient: true }],
      users: [user(1, "Adele", "Vance", "Retail"), user(2, "Megan", "Bowen", "Marketing"), user(3, "Nestor", "Wilke", "Operations")],
      devices: [
        device(1, "MMD-000000001", "Surface Laptop 5", "Microsoft365Managed_Standard"),
        device(2, "MMD-000000002", "Surface Pro 9", "Microsoft365Managed_SensitiveData"),
        device(3, "MMD-000000003", "Surface Laptop 5", "Microsoft365Managed_PowerUser"),
      ],
      groups: [
        {
          id: id(0x500 + 1),
          displayName: "Modern Workplace Device Profiles - Standard",
          mailEnabled: false,
          mailNickname: "mwp-profile-standard",
          securityEnabled: true,
          groupTypes: ["DynamicMembership"],
          membershipRule: '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_Standard"))',
        },
        {
          id: id(0x500 + 2),
          displayName: "All Windows devices",
          mailEnabled: false,
          mailNickname: "all-windows",
          securityEnabled: true,
          groupTypes: ["DynamicMembership"],
          membershipRule: 'device.deviceOSType -eq "Windows"',
        },
        {
          id: id(0x500 + 3),
          displayName: "Retail and Marketing",
          mailEnabled: false,
          mailNickname: "retail-marketing",
          securityEnabled: true,
          members: [id(0x100 + 1), id(0x100 + 2)],
        },
      ],
      assignmentFilters: [
        {
          id: id(0x700 + 1),
          displayName: "Surface devices",
          description: "Windows devices made by Microsoft",
          platform: "windows10AndLater",
          rule: '(device.manufacturer -eq "Microsoft Corporation") and (device.model -startsWith "Surface")',
        },
      ],
      // A custom OMA-URI profile, the kind Managed Desktop's device profiles are made of; left unassigned.
      deviceConfigurations: [
        {
          id: id(0x600 + 1),
          "@odata.type": "#microsoft.graph.windows10CustomConfiguration",
          displayName: "Demo - Disable consumer experiences",
          description: "An example custom configuration",
          omaSettings: [
            {
              "@odata.type": "#microsoft.graph.omaSettingInteger",
              displayName: "Turn off Microsoft consumer experiences",
              omaUri: "./Device/Vendor/MSFT/Policy/Config/Experience/AllowWindowsConsumerFeatures",
              value: 0,
            },
          ],
        },
      ],
    },
  ],
};
