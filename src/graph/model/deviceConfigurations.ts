// Device configurations (spec §2.6–2.8): the polymorphic deviceConfiguration family under an abstract base, its
// contained assignments and legacy groupAssignments, and the certificate links of seed 004's ten paths.
//
// Certificate navigations (rootCertificate, identityCertificate, …) point at other deviceConfigurations of the
// same tenant. They are single- or multi-valued links served by the `deviceConfigurationLink` provider; a client
// sets them with `nav@odata.bind` on create or PATCH (docs/decisions.md, "Device configurations").

import type { EntityTypeDecl, NavigationDecl, PropertyDecl } from "../../odata/model.js";
import type { ModelPart } from "./modelPart.js";
import { areaPermissions } from "./permissions.js";

/** DeviceManagementConfiguration.Read.All / ReadWrite.All (spec §2.10). */
export const configurationPermissions = areaPermissions("DeviceManagementConfiguration");

export const DEVICE_CONFIGURATION_LINK_PROVIDER = "deviceConfigurationLink";

const ro = (type: string, extra: Partial<PropertyDecl> = {}): PropertyDecl => ({ type, readOnly: true, ...extra });
const text: PropertyDecl = { type: "Edm.String" };
const flag: PropertyDecl = { type: "Edm.Boolean" };
const int: PropertyDecl = { type: "Edm.Int32" };
const texts: PropertyDecl = { type: "Edm.String", collection: true };

/** The provider serving the link navigation of that name (one per name: a provider is not told which it serves). */
export const linkProviderName = (navigation: string) => `${DEVICE_CONFIGURATION_LINK_PROVIDER}.${navigation}`;

/** A link to another deviceConfiguration (a certificate profile), set with `name@odata.bind`. */
const link = (name: string, target: string, collection = false): Record<string, NavigationDecl> => ({
  [name]: { target, collection, storage: { kind: "provider", provider: linkProviderName(name) }, references: true },
});

const derived = (name: string, baseType: string, properties: Record<string, PropertyDecl> = {}, extra: Partial<EntityTypeDecl> = {}): EntityTypeDecl => ({
  name,
  baseType,
  properties,
  ...extra,
});

const applicabilityRuleType = { type: "deviceManagementApplicabilityRuleType" };

/** Shared by the SCEP profiles: subject/SAN formats, key settings and the validity period. */
const scepProperties: Record<string, PropertyDecl> = {
  scepServerUrls: texts,
  subjectNameFormatString: text,
  keyUsage: { type: "keyUsages" },
  keySize: { type: "keySize" },
  extendedKeyUsages: { type: "extendedKeyUsage", collection: true },
  subjectAlternativeNameFormatString: text,
};
const certificateProfileBaseProperties: Record<string, PropertyDecl> = {
  renewalThresholdPercentage: int,
  subjectNameFormat: { type: "appleSubjectNameFormat" },
  subjectAlternativeNameType: { type: "subjectAlternativeNameType" },
  certificateValidityPeriodValue: int,
  certificateValidityPeriodScale: { type: "certificateValidityPeriodScale" },
};
const trustedRootProperties: Record<string, PropertyDecl> = { trustedRootCertificate: { type: "Edm.Binary" }, certFileName: text };

export const deviceConfigurations: ModelPart = {
  enumTypes: [
    { name: "deviceConfigAssignmentIntent", members: ["apply", "remove"] },
    { name: "deviceManagementApplicabilityRuleType", members: ["include", "exclude"] },
    {
      name: "windows10EditionType",
      members: [
        "windows10Enterprise", "windows10EnterpriseN", "windows10Education", "windows10EducationN", "windows10MobileEnterprise",
        "windows10HolographicEnterprise", "windows10Professional", "windows10ProfessionalN", "windows10ProfessionalEducation",
        "windows10ProfessionalEducationN", "windows10ProfessionalWorkstation", "windows10ProfessionalWorkstationN",
        "notConfigured", "windows10Home", "windows10HomeChina", "windows10HomeN", "windows10HomeSingleLanguage", "windows10Mobile",
        "windows10IoTCore", "windows10IoTCoreCommercial",
      ],
    },
    { name: "windows10DeviceModeType", members: ["standardConfiguration", "sModeConfiguration"] },
    { name: "stateManagementSetting", members: ["notConfigured", "blocked", "allowed"] },
    { name: "defenderCloudBlockLevelType", members: ["notConfigured", "high", "highPlus", "zeroTolerance"] },
    { name: "firewallPreSharedKeyEncodingMethodType", members: ["deviceDefault", "none", "utF8"] },
    { name: "bitLockerEncryptionMethod", members: ["aesCbc128", "aesCbc256", "xtsAes128", "xtsAes256"] },
    { name: "applicationGuardBlockClipboardSharingType", members: ["notConfigured", "blockBoth", "blockHostToContainer", "blockContainerToHost", "blockNone"] },
    { name: "keyUsages", members: ["keyEncipherment", "digitalSignature"] },
    { name: "keySize", members: ["size1024", "size2048", "size4096"] },
    { name: "appleSubjectNameFormat", members: ["commonName", "commonNameAsEmail", "custom", "commonNameIncludingEmail", "commonNameAsIMEI", "commonNameAsSerialNumber"] },
    { name: "subjectAlternativeNameType", members: ["none", "emailAddress", "userPrincipalName", "customAzureADAttribute", "domainNameService", "universalResourceIdentifier"] },
    { name: "certificateValidityPeriodScale", members: ["days", "months", "years"] },
    { name: "certificateStore", members: ["user", "machine"] },
    { name: "vpnAuthenticationMethod", members: ["certificate", "usernameAndPassword", "sharedSecret", "derivedCredential", "azureAD"] },
    { name: "windowsVpnConnectionType", members: ["pulseSecure", "f5EdgeClient", "dellSonicWallMobileConnect", "checkPointCapsuleVpn"] },
    { name: "eapType", members: ["eapTls", "leap", "eapSim", "eapTtls", "peap", "eapFast", "teap"] },
    { name: "macOSEapAuthenticationMethod", members: ["usernameAndPassword", "certificate"] },
    { name: "wifiAuthenticationMethod", members: ["certificate", "usernameAndPassword", "derivedCredential"] },
    { name: "networkSingleSignOnType", members: ["disabled", "prelogon", "postlogon"] },
    { name: "wifiSecurityType", members: ["open", "wpaPersonal", "wpaEnterprise", "wep", "wpa2Personal", "wpa2Enterprise"] },
  ],
  complexTypes: [
    { name: "deviceManagementApplicabilityRuleOsEdition", properties: { osEditionTypes: { type: "windows10EditionType", collection: true }, name: text, ruleType: applicabilityRuleType } },
    { name: "deviceManagementApplicabilityRuleOsVersion", properties: { minOSVersion: text, maxOSVersion: text, name: text, ruleType: applicabilityRuleType } },
    { name: "deviceManagementApplicabilityRuleDeviceMode", properties: { deviceMode: { type: "windows10DeviceModeType" }, name: text, ruleType: applicabilityRuleType } },
    {
      name: "omaSetting",
      abstract: true,
      properties: {
        displayName: { type: "Edm.String", required: true },
        description: text,
        omaUri: { type: "Edm.String", required: true },
        secretReferenceValueId: ro("Edm.String"),
        isEncrypted: ro("Edm.Boolean"),
      },
    },
    { name: "omaSettingString", baseType: "omaSetting", properties: { value: { type: "Edm.String", required: true } } },
    { name: "omaSettingInteger", baseType: "omaSetting", properties: { value: { type: "Edm.Int32", required: true }, isReadOnly: flag } },
    { name: "omaSettingBoolean", baseType: "omaSetting", properties: { value: { type: "Edm.Boolean", required: true } } },
    { name: "omaSettingBase64", baseType: "omaSetting", properties: { fileName: text, value: { type: "Edm.Binary", required: true } } },
    { name: "omaSettingDateTime", baseType: "omaSetting", properties: { value: { type: "Edm.DateTimeOffset", required: true } } },
    { name: "omaSettingFloatingPoint", baseType: "omaSetting", properties: { value: { type: "Edm.Double", required: true } } },
    { name: "omaSettingStringXml", baseType: "omaSetting", properties: { fileName: text, value: { type: "Edm.Binary", required: true } } },
    { name: "extendedKeyUsage", properties: { name: text, objectIdentifier: text } },
    { name: "vpnServer", properties: { description: text, ipAddressOrFqdn: text, address: text, isDefaultServer: flag } },
  ],
  entityTypes: [
    {
      name: "deviceConfiguration",
      baseType: "entity",
      abstract: true,
      flavor: "intune",
      audit: { category: "DeviceConfiguration", component: "DeviceConfiguration" },
      properties: {
        lastModifiedDateTime: ro("Edm.DateTimeOffset", { filterable: true, sortable: true }),
        createdDateTime: ro("Edm.DateTimeOffset", { sortable: true }),
        roleScopeTagIds: { type: "Edm.String", collection: true, default: ["0"] },
        supportsScopeTags: ro("Edm.Boolean", { default: true }),
        deviceManagementApplicabilityRuleOsEdition: { type: "deviceManagementApplicabilityRuleOsEdition" },
        deviceManagementApplicabilityRuleOsVersion: { type: "deviceManagementApplicabilityRuleOsVersion" },
        deviceManagementApplicabilityRuleDeviceMode: { type: "deviceManagementApplicabilityRuleDeviceMode" },
        description: text,
        displayName: { type: "Edm.String", required: true, filterable: true, sortable: true },
        version: ro("Edm.Int32"),
      },
      navigation: {
        assignments: { target: "deviceConfigurationAssignment", collection: true, storage: { kind: "contained" } },
        groupAssignments: { target: "deviceConfigurationGroupAssignment", collection: true, storage: { kind: "contained" } },
      },
    },
    {
      name: "deviceConfigurationAssignment",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "DeviceConfiguration", component: "DeviceConfiguration" },
      properties: {
        target: { type: "deviceAndAppManagementAssignmentTarget", required: true },
        source: ro("deviceAndAppManagementAssignmentSource", { default: "direct" }),
        sourceId: ro("Edm.String"),
        intent: { type: "deviceConfigAssignmentIntent", default: "apply" },
      },
    },
    {
      // The legacy assignment shape (spec §2.6): one group, included or excluded.
      name: "deviceConfigurationGroupAssignment",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "DeviceConfiguration", component: "DeviceConfiguration" },
      properties: { targetGroupId: { type: "Edm.String", required: true }, excludeGroup: { type: "Edm.Boolean", default: false } },
    },

    // Windows 10
    derived("windows10CustomConfiguration", "deviceConfiguration", {
      omaSettings: { type: "omaSetting", collection: true, default: [] },
    }),
    derived("windows10GeneralConfiguration", "deviceConfiguration", {
      passwordRequired: flag,
      passwordMinimumLength: int,
      passwordBlockSimple: flag,
      passwordExpirationDays: int,
      passwordMinutesOfInactivityBeforeScreenTimeout: int,
      cameraBlocked: flag,
      bluetoothBlocked: flag,
      storageBlockRemovableStorage: flag,
      edgeBlocked: flag,
      defenderRequireRealTimeMonitoring: flag,
      cortanaBlocked: flag,
      screenCaptureBlocked: flag,
      usbBlocked: flag,
      lockScreenBlockActionCenterNotifications: flag,
      windowsSpotlightBlocked: flag,
      oneDriveDisableFileSync: flag,
      enterpriseCloudPrintDiscoveryEndPoint: text,
      experienceBlockDeviceDiscovery: flag,
    }),
    derived("windows10EndpointProtectionConfiguration", "deviceConfiguration", {
      firewallBlockStatefulFTP: flag,
      firewallPreSharedKeyEncodingMethod: { type: "firewallPreSharedKeyEncodingMethodType" },
      firewallCertificateRevocationListCheckMethod: text,
      defenderAttackSurfaceReductionExcludedPaths: texts,
      defenderCloudBlockLevel: { type: "defenderCloudBlockLevelType" },
      defenderSecurityCenterDisableAppBrowserUI: flag,
      bitLockerEncryptDevice: flag,
      bitLockerDisableWarningForOtherDiskEncryption: flag,
      bitLockerSystemDrivePolicy: text,
      applicationGuardEnabled: flag,
      applicationGuardBlockClipboardSharing: { type: "applicationGuardBlockClipboardSharingType" },
      smartScreenEnableInShell: flag,
      smartScreenBlockOverrideForFiles: flag,
      deviceGuardEnableVirtualizationBasedSecurity: flag,
      localSecurityOptionsBlockMicrosoftAccounts: flag,
      xboxServicesEnableXboxGameSaveTask: flag,
    }),
    derived("windowsDomainJoinConfiguration", "deviceConfiguration", {
      activeDirectoryDomainName: text,
      computerNameStaticPrefix: text,
      computerNameSuffixRandomCharCount: int,
      organizationalUnit: text,
    }),

    // iOS certificates: a SCEP profile names the trusted root it chains to.
    derived("iosTrustedRootCertificate", "deviceConfiguration", trustedRootProperties),
    derived("iosCertificateProfile", "deviceConfiguration", {}, { abstract: true }),
    derived("iosCertificateProfileBase", "iosCertificateProfile", certificateProfileBaseProperties, { abstract: true }),
    derived("iosScepCertificateProfile", "iosCertificateProfileBase", scepProperties, {
      navigation: { ...link("rootCertificate", "iosTrustedRootCertificate") },
    }),

    // macOS certificates and wired networks.
    derived("macOSTrustedRootCertificate", "deviceConfiguration", trustedRootProperties),
    derived("macOSCertificateProfileBase", "deviceConfiguration", certificateProfileBaseProperties, { abstract: true }),
    derived("macOSScepCertificateProfile", "macOSCertificateProfileBase", { ...scepProperties, certificateStore: { type: "certificateStore" } }, {
      navigation: { ...link("rootCertificate", "macOSTrustedRootCertificate") },
    }),
    derived(
      "macOSWiredNetworkConfiguration",
      "deviceConfiguration",
      { networkName: text, networkInterface: text, eapType: { type: "eapType" }, authenticationMethod: { type: "wifiAuthenticationMethod" }, eapFastConfiguration: text, trustedServerCertificateNames: texts, enableOuterIdentityPrivacy: text },
      {
        navigation: {
          ...link("rootCertificateForServerValidation", "macOSTrustedRootCertificate"),
          ...link("identityCertificateForClientAuthentication", "macOSCertificateProfileBase"),
        },
      },
    ),

    // Windows 8.1 / Windows Phone 8.1 certificates and VPN.
    derived("windows81TrustedRootCertificate", "deviceConfiguration", { ...trustedRootProperties, destinationStore: text }),
    derived("windowsCertificateProfileBase", "deviceConfiguration", { ...certificateProfileBaseProperties, keyStorageProvider: text }, { abstract: true }),
    derived("windows81CertificateProfileBase", "windowsCertificateProfileBase", { extendedKeyUsages: { type: "extendedKeyUsage", collection: true }, customSubjectAlternativeNames: texts }, { abstract: true }),
    derived("windows81SCEPCertificateProfile", "windows81CertificateProfileBase", { ...scepProperties, certificateStore: { type: "certificateStore" } }, {
      navigation: { ...link("rootCertificate", "windows81TrustedRootCertificate") },
    }),
    derived("windowsPhone81TrustedRootCertificate", "deviceConfiguration", trustedRootProperties),
    derived("windowsPhone81CertificateProfileBase", "deviceConfiguration", { ...certificateProfileBaseProperties, extendedKeyUsages: { type: "extendedKeyUsage", collection: true } }, { abstract: true }),
    derived("windowsPhone81SCEPCertificateProfile", "windowsPhone81CertificateProfileBase", scepProperties, {
      navigation: { ...link("rootCertificate", "windowsPhone81TrustedRootCertificate") },
    }),
    derived("windowsVpnConfiguration", "deviceConfiguration", { connectionName: text, servers: { type: "vpnServer", collection: true }, customXml: { type: "Edm.Binary" } }, { abstract: true }),
    derived("windows81VpnConfiguration", "windowsVpnConfiguration", { applyOnlyToWindows81: flag, connectionType: { type: "windowsVpnConnectionType" }, loginGroupOrDomain: text, enableSplitTunneling: flag }),
    derived(
      "windowsPhone81VpnConfiguration",
      "windows81VpnConfiguration",
      { bypassVpnOnCompanyWifi: flag, bypassVpnOnHomeWifi: flag, authenticationMethod: { type: "vpnAuthenticationMethod" }, rememberUserCredentials: flag, dnsSuffixSearchList: texts },
      { navigation: { ...link("identityCertificate", "windowsPhone81CertificateProfileBase") } },
    ),

    // Windows Wi-Fi enterprise (EAP).
    derived(
      "windowsWifiEnterpriseEAPConfiguration",
      "deviceConfiguration",
      {
        networkName: text,
        ssid: text,
        connectAutomatically: flag,
        connectWhenNetworkNameIsHidden: flag,
        wifiSecurityType: { type: "wifiSecurityType" },
        eapType: { type: "eapType" },
        trustedServerCertificateNames: texts,
        authenticationMethod: { type: "wifiAuthenticationMethod" },
        networkSingleSignOn: { type: "networkSingleSignOnType" },
        enablePairwiseMasterKeyCaching: flag,
      },
      {
        navigation: {
          ...link("rootCertificatesForServerValidation", "windows81TrustedRootCertificate", true),
          ...link("identityCertificateForClientAuthentication", "windowsCertificateProfileBase"),
        },
      },
    ),
  ],
  entitySets: [],
  operations: [
    {
      name: "assign",
      kind: "action",
      bindingType: "deviceConfiguration",
      bindingCollection: false,
      parameters: {
        assignments: { type: "deviceConfigurationAssignment", collection: true },
        deviceConfigurationGroupAssignments: { type: "deviceConfigurationGroupAssignment", collection: true },
      },
      returns: { type: "deviceConfigurationAssignment", collection: true },
      handler: "deviceConfigurationAssign",
      permissions: configurationPermissions.write,
    },
  ],
  deviceManagement: {
    deviceConfigurations: { target: "deviceConfiguration", collection: true, storage: { kind: "contained" }, permissions: configurationPermissions },
  },
};
