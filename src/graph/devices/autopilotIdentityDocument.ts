// The Autopilot identity of an enrolled device, linked to its managed and Entra faces. Built in one place for
// enrollment and the fleet generator.

export interface EnrolledIdentityFacts {
  groupTag: string;
  serialNumber: unknown;
  manufacturer: unknown;
  model: unknown;
  systemFamily: string;
  deviceName: unknown;
  azureADDeviceId: string;
  managedDeviceId: string;
  userPrincipalName?: string;
  userDisplayName?: string;
  /** Enrollment time (the remediation state's last change). */
  at: string;
  /** Last contact with the Autopilot service; the enrollment time when left out. */
  lastContactedAt?: string;
}

export function enrolledIdentityDocument(f: EnrolledIdentityFacts): Record<string, unknown> {
  return {
    deploymentProfileAssignmentStatus: "notAssigned",
    deploymentProfileAssignmentDetailedStatus: "none",
    deploymentProfileAssignedDateTime: null,
    groupTag: f.groupTag,
    purchaseOrderIdentifier: "",
    serialNumber: f.serialNumber,
    productKey: "",
    manufacturer: f.manufacturer,
    model: f.model,
    enrollmentState: "enrolled",
    lastContactedDateTime: f.lastContactedAt ?? f.at,
    addressableUserName: f.userDisplayName ?? "",
    userPrincipalName: f.userPrincipalName ?? "",
    resourceName: "",
    skuNumber: "",
    systemFamily: f.systemFamily,
    azureActiveDirectoryDeviceId: f.azureADDeviceId,
    azureAdDeviceId: f.azureADDeviceId,
    managedDeviceId: f.managedDeviceId,
    displayName: f.deviceName,
    deviceAccountUpn: "",
    deviceFriendlyName: "",
    remediationState: "noRemediationRequired",
    remediationStateLastModifiedDateTime: f.at,
    userlessEnrollmentStatus: "allowed",
  };
}
