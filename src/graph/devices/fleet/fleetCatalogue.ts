// What a synthetic fleet is drawn from: a small catalogue of real hardware, OS builds, Autopilot group tags and
// the people who use the devices. Weights give a plausible mix (mostly Windows laptops, mostly compliant).

import type { Weighted } from "./seededRandom.js";

export type Platform = "windows" | "ios" | "android" | "macos";

export interface Hardware {
  platform: Platform;
  manufacturer: string;
  model: string;
  /** Autopilot's systemFamily (Windows only). */
  systemFamily: string;
  processorArchitecture: "x64" | "arM64" | "unknown";
  deviceType: string;
  /** A serial number in the maker's format, unique per ordinal. */
  serial(ordinal: number): string;
  memoryGiB: number;
  storageGB: number;
}

// Serial numbers run consecutively per maker from the device's ordinal, as in a bulk purchase: unique, and cheap
// to index. Fixed width keeps text order equal to numeric order.
const run36 = (o: number, offset: number) => (o + offset).toString(36).toUpperCase().padStart(7, "0");
const surfaceSerial = (o: number) => `02${String(3_184_000_000 + o).padStart(10, "0")}`;
const dellServiceTag = (o: number) => run36(o, 7_400_000_000);
const hpSerial = (o: number) => `5CG${run36(o, 2_100_000_000)}`;
const lenovoSerial = (o: number) => `PF${run36(o, 5_300_000_000)}`;
const appleSerial = (o: number) => `F${run36(o, 9_100_000_000)}Q`;
const androidSerial = (o: number) => `R5C${run36(o, 1_900_000_000)}`;

const windows = (manufacturer: string, model: string, systemFamily: string, serial: (o: number) => string, arch: "x64" | "arM64" = "x64", memoryGiB = 16): Hardware => ({
  platform: "windows", manufacturer, model, systemFamily, processorArchitecture: arch, deviceType: "desktop", serial, memoryGiB, storageGB: 512,
});

export const HARDWARE: readonly Weighted<Hardware>[] = [
  { weight: 10, value: windows("Microsoft Corporation", "Surface Laptop 5", "Surface_Laptop_5", surfaceSerial) },
  { weight: 8, value: windows("Microsoft Corporation", "Surface Laptop 6 for Business", "Surface_Laptop_6_for_Business", surfaceSerial) },
  { weight: 4, value: windows("Microsoft Corporation", "Surface Laptop, 7th Edition", "Surface_Laptop_7th_Edition", surfaceSerial, "arM64") },
  { weight: 6, value: windows("Microsoft Corporation", "Surface Pro 9", "Surface_Pro_9", surfaceSerial) },
  { weight: 5, value: windows("Microsoft Corporation", "Surface Pro 10 for Business", "Surface_Pro_10_for_Business", surfaceSerial) },
  { weight: 3, value: windows("Microsoft Corporation", "Surface Pro, 11th Edition", "Surface_Pro_11th_Edition", surfaceSerial, "arM64") },
  { weight: 10, value: windows("Dell Inc.", "Latitude 5440", "Latitude", dellServiceTag) },
  { weight: 8, value: windows("Dell Inc.", "Latitude 7440", "Latitude", dellServiceTag) },
  { weight: 4, value: windows("Dell Inc.", "Latitude 7450", "Latitude", dellServiceTag) },
  { weight: 3, value: windows("Dell Inc.", "Precision 5680", "Precision", dellServiceTag, "x64", 32) },
  { weight: 9, value: windows("HP", "HP EliteBook 840 G10 Notebook PC", "103C_5336AN HP EliteBook", hpSerial) },
  { weight: 5, value: windows("HP", "HP EliteBook 860 G10 Notebook PC", "103C_5336AN HP EliteBook", hpSerial) },
  { weight: 5, value: windows("HP", "HP ProBook 450 15.6 inch G10 Notebook PC", "103C_5336AN HP ProBook", hpSerial, "x64", 8) },
  { weight: 8, value: windows("LENOVO", "ThinkPad T14 Gen 4", "ThinkPad T14 Gen 4", lenovoSerial) },
  { weight: 5, value: windows("LENOVO", "ThinkPad X1 Carbon Gen 11", "ThinkPad X1 Carbon Gen 11", lenovoSerial) },
  { weight: 4, value: windows("LENOVO", "ThinkPad L14 Gen 4", "ThinkPad L14 Gen 4", lenovoSerial, "x64", 8) },
  { weight: 5, value: { platform: "ios", manufacturer: "Apple", model: "iPhone 15", systemFamily: "", processorArchitecture: "unknown", deviceType: "iPhone", serial: appleSerial, memoryGiB: 6, storageGB: 128 } },
  { weight: 3, value: { platform: "ios", manufacturer: "Apple", model: "iPhone 14", systemFamily: "", processorArchitecture: "unknown", deviceType: "iPhone", serial: appleSerial, memoryGiB: 6, storageGB: 128 } },
  { weight: 2, value: { platform: "ios", manufacturer: "Apple", model: "iPad Air (5th generation)", systemFamily: "", processorArchitecture: "unknown", deviceType: "iPad", serial: appleSerial, memoryGiB: 8, storageGB: 256 } },
  { weight: 3, value: { platform: "android", manufacturer: "Google", model: "Pixel 8", systemFamily: "", processorArchitecture: "unknown", deviceType: "androidEnterprise", serial: androidSerial, memoryGiB: 8, storageGB: 128 } },
  { weight: 3, value: { platform: "android", manufacturer: "samsung", model: "SM-S911B", systemFamily: "", processorArchitecture: "unknown", deviceType: "androidEnterprise", serial: androidSerial, memoryGiB: 8, storageGB: 256 } },
  { weight: 2, value: { platform: "macos", manufacturer: "Apple", model: "MacBook Pro", systemFamily: "", processorArchitecture: "arM64", deviceType: "macMDM", serial: appleSerial, memoryGiB: 18, storageGB: 512 } },
  { weight: 2, value: { platform: "macos", manufacturer: "Apple", model: "MacBook Air", systemFamily: "", processorArchitecture: "arM64", deviceType: "macMDM", serial: appleSerial, memoryGiB: 16, storageGB: 256 } },
];

export interface PlatformTraits {
  /** managedDevice.operatingSystem and the Entra device's operatingSystem (Entra calls enrolled Macs MacMDM). */
  managedOS: string;
  entraOS: string;
  osVersions: readonly Weighted<string>[];
  /** Share of company-owned devices. */
  companyOwned: number;
  namePrefix: string;
}

export const PLATFORMS: Record<Platform, PlatformTraits> = {
  windows: {
    managedOS: "Windows",
    entraOS: "Windows",
    osVersions: [
      { value: "10.0.22631.4460", weight: 25 },
      { value: "10.0.22631.4602", weight: 20 },
      { value: "10.0.26100.2314", weight: 12 },
      { value: "10.0.26100.2605", weight: 13 },
      { value: "10.0.22621.4460", weight: 10 },
      { value: "10.0.19045.5131", weight: 12 },
      { value: "10.0.19045.5247", weight: 8 },
    ],
    companyOwned: 0.95,
    namePrefix: "LT",
  },
  ios: {
    managedOS: "iOS",
    entraOS: "iOS",
    osVersions: [
      { value: "18.2", weight: 35 },
      { value: "18.1.1", weight: 30 },
      { value: "17.7.2", weight: 25 },
      { value: "17.6.1", weight: 10 },
    ],
    companyOwned: 0.6,
    namePrefix: "IOS",
  },
  android: {
    managedOS: "Android",
    entraOS: "Android",
    osVersions: [
      { value: "15", weight: 30 },
      { value: "14", weight: 50 },
      { value: "13", weight: 20 },
    ],
    companyOwned: 0.6,
    namePrefix: "AND",
  },
  macos: {
    managedOS: "macOS",
    entraOS: "MacMDM",
    osVersions: [
      { value: "15.2", weight: 40 },
      { value: "15.1.1", weight: 35 },
      { value: "14.7.2", weight: 25 },
    ],
    companyOwned: 0.9,
    namePrefix: "MAC",
  },
};

export const MMD_GROUP_TAGS = ["Microsoft365Managed_Standard", "Microsoft365Managed_SensitiveData", "Microsoft365Managed_PowerUser"] as const;

export interface GroupTag {
  tag: string;
  /** The Autopilot deployment profile devices of this tag enroll with. */
  profileName: string;
  /** Managed by Microsoft Managed Desktop (managementFeatures). */
  mmd: boolean;
}

export const GROUP_TAGS: readonly Weighted<GroupTag>[] = [
  { weight: 50, value: { tag: "Microsoft365Managed_Standard", profileName: "Modern Workplace Autopilot Profile", mmd: true } },
  { weight: 15, value: { tag: "Microsoft365Managed_SensitiveData", profileName: "Modern Workplace Autopilot Profile - Sensitive Data", mmd: true } },
  { weight: 15, value: { tag: "Microsoft365Managed_PowerUser", profileName: "Modern Workplace Autopilot Profile - Power User", mmd: true } },
  { weight: 8, value: { tag: "Shared-Frontline", profileName: "Autopilot - Shared device", mmd: false } },
  { weight: 7, value: { tag: "Engineering-Lab", profileName: "Autopilot - Engineering", mmd: false } },
  { weight: 5, value: { tag: "Finance-Kiosk", profileName: "Autopilot - Kiosk (self-deploying)", mmd: false } },
];

export const COMPLIANCE: readonly Weighted<string>[] = [
  { value: "compliant", weight: 88 },
  { value: "noncompliant", weight: 6 },
  { value: "inGracePeriod", weight: 4 },
  { value: "unknown", weight: 2 },
];

export const GIVEN_NAMES = [
  "Adele", "Alex", "Allan", "Amara", "Ana", "Ben", "Bianca", "Carlos", "Chen", "Diego", "Elena", "Emily", "Fatima", "Grady",
  "Hana", "Henrietta", "Isaiah", "Jun", "Johanna", "Joni", "Kenji", "Lee", "Lidia", "Lynne", "Maya", "Megan", "Miriam",
  "Nestor", "Noah", "Olga", "Patti", "Pradeep", "Priya", "Raul", "Sara", "Sofia", "Tomas", "Yara", "Zoe", "Omar",
] as const;

export const SURNAMES = [
  "Vance", "Wilber", "Deyoung", "Okafor", "Silva", "Walker", "Rossi", "Garcia", "Wei", "Morales", "Petrova", "Clarke",
  "Haddad", "Archie", "Sato", "Mueller", "Johnson", "Park", "Lindqvist", "Sherman", "Tanaka", "Gu", "Holloway", "Guild",
  "Patel", "Bowen", "Gonzalez", "Wilke", "Cohen", "Ivanova", "Fernandez", "Gupta", "Iyer", "Romero", "Nilsson", "Costa",
  "Novak", "Haddad", "Brennan", "Farouk",
] as const;

export const DEPARTMENTS: readonly { name: string; titles: readonly string[] }[] = [
  { name: "Sales", titles: ["Account Executive", "Sales Manager", "Sales Representative"] },
  { name: "Marketing", titles: ["Marketing Manager", "Content Strategist", "Product Marketing Manager"] },
  { name: "Finance", titles: ["Financial Analyst", "Controller", "Accountant"] },
  { name: "Engineering", titles: ["Software Engineer", "Senior Software Engineer", "Engineering Manager"] },
  { name: "Operations", titles: ["Operations Manager", "Logistics Coordinator", "Planner"] },
  { name: "Human Resources", titles: ["HR Business Partner", "Recruiter", "HR Generalist"] },
  { name: "Legal", titles: ["Counsel", "Paralegal", "Compliance Officer"] },
  { name: "Customer Support", titles: ["Support Engineer", "Support Manager", "Customer Success Manager"] },
  { name: "IT", titles: ["Systems Administrator", "Endpoint Engineer", "IT Support Specialist"] },
  { name: "Retail", titles: ["Store Manager", "Retail Associate", "Merchandiser"] },
];

export const CITIES: readonly Weighted<{ city: string; state: string; country: string; usageLocation: string; officeLocation: string; language: string }>[] = [
  { weight: 20, value: { city: "Seattle", state: "WA", country: "United States", usageLocation: "US", officeLocation: "SEA-1", language: "en-US" } },
  { weight: 15, value: { city: "New York", state: "NY", country: "United States", usageLocation: "US", officeLocation: "NYC-5", language: "en-US" } },
  { weight: 8, value: { city: "Austin", state: "TX", country: "United States", usageLocation: "US", officeLocation: "AUS-2", language: "en-US" } },
  { weight: 10, value: { city: "London", state: "England", country: "United Kingdom", usageLocation: "GB", officeLocation: "LON-3", language: "en-GB" } },
  { weight: 6, value: { city: "Dublin", state: "Leinster", country: "Ireland", usageLocation: "IE", officeLocation: "DUB-1", language: "en-IE" } },
  { weight: 8, value: { city: "Berlin", state: "Berlin", country: "Germany", usageLocation: "DE", officeLocation: "BER-2", language: "de-DE" } },
  { weight: 6, value: { city: "Paris", state: "Île-de-France", country: "France", usageLocation: "FR", officeLocation: "PAR-1", language: "fr-FR" } },
  { weight: 7, value: { city: "Toronto", state: "ON", country: "Canada", usageLocation: "CA", officeLocation: "YYZ-1", language: "en-CA" } },
  { weight: 7, value: { city: "Sydney", state: "NSW", country: "Australia", usageLocation: "AU", officeLocation: "SYD-1", language: "en-AU" } },
  { weight: 6, value: { city: "Tokyo", state: "Tokyo", country: "Japan", usageLocation: "JP", officeLocation: "TYO-1", language: "ja-JP" } },
  { weight: 7, value: { city: "Bengaluru", state: "Karnataka", country: "India", usageLocation: "IN", officeLocation: "BLR-2", language: "en-IN" } },
];
