// MMD's own stored entities, declared once with the same vocabulary as the Graph model, so the generic store,
// $filter/$orderby translation and body validation serve them too: support tickets and elevation requests.

import { CompiledModel } from "../odata/compiledModel.js";
import type { ModelDecl } from "../odata/model.js";

const text = { type: "Edm.String" } as const;
const filterable = { type: "Edm.String", filterable: true, sortable: true } as const;
const none = { application: [], delegated: [] };
const unused = { read: none, write: none };

export const mmdModelDecl: ModelDecl = {
  namespace: "mmd",
  enumTypes: [],
  complexTypes: [
    { name: "contact", properties: { id: text, givenName: { ...text, required: true }, surname: { ...text, required: true }, email: { ...text, required: true }, phoneNumber: { ...text, required: true }, preferredLanguageId: text } },
    {
      name: "note",
      properties: { id: { type: "Edm.Int32" }, type: text, renderType: text, createdDateTime: { type: "Edm.DateTimeOffset" }, modifiedDateTime: { type: "Edm.DateTimeOffset" }, text, sender: text },
    },
  ],
  entityTypes: [
    { name: "entity", abstract: true, properties: { id: { type: "Edm.String", readOnly: true, filterable: true, sortable: true } } },
    {
      name: "customerTicket",
      baseType: "entity",
      properties: {
        title: { ...filterable, required: true },
        description: { ...text, required: true },
        isPartner: { type: "Edm.Boolean", default: false },
        type: { ...filterable, required: true },
        category: { ...filterable, required: true },
        subcategory: { ...filterable, required: true },
        compromiseIndicator: text,
        usersOrDevicesImpacted: { type: "Edm.Int32" },
        relatedAlerts: text,
        businessImpact: text,
        issueFirstNoticed: text,
        issueReproduced: text,
        endUserSupportEngaged: text,
        troubleshootingSteps: text,
        nextActionOwner: { ...text, readOnly: true },
        nextActionTime: { type: "Edm.DateTimeOffset", readOnly: true },
        reproSteps: text,
        severity: { type: "Edm.Int32", required: true, filterable: true, sortable: true },
        state: { type: "Edm.String", readOnly: true, filterable: true, sortable: true },
        createdDateTime: { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true },
        resolvedDateTime: { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true },
        contact: { type: "contact", required: true },
        emails: { type: "Edm.String", collection: true, default: [] },
        attachments: { type: "Edm.String", collection: true, readOnly: true },
        notes: { type: "note", collection: true, readOnly: true },
      },
    },
    {
      name: "elevationRequest",
      baseType: "entity",
      properties: {
        tenantId: { ...text, readOnly: true },
        partnerId: { ...text, readOnly: true },
        requestingAgentUpn: { ...filterable, readOnly: true },
        partnerTicketId: filterable,
        deviceName: { ...filterable, required: true },
        title: { ...filterable, required: true },
        category: { ...filterable, required: true },
        subcategory: filterable,
        planOfAction: text,
        actionsTaken: { ...text, readOnly: true },
        closingAgentUpn: { ...text, readOnly: true },
        requestCreationTime: { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true },
        requestClosureTime: { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true },
        requestRenewTime: { type: "Edm.DateTimeOffset", readOnly: true },
        isSuccessfulRequest: { type: "Edm.Boolean", readOnly: true, filterable: true },
        viewerUpns: { type: "Edm.String", collection: true, readOnly: true },
        passwordLastUpdatedTime: { type: "Edm.DateTimeOffset", readOnly: true },
        isDeleted: { type: "Edm.Boolean", readOnly: true, filterable: true },
        ttl: { type: "Edm.Int32", readOnly: true },
        eTag: { ...text, readOnly: true },
      },
    },
  ],
  entitySets: [
    { name: "mmdTickets", entityType: "customerTicket", permissions: unused },
    { name: "mmdElevationRequests", entityType: "elevationRequest", permissions: unused },
  ],
  singletons: [],
  operations: [],
};

export const mmdModel = new CompiledModel(mmdModelDecl);
