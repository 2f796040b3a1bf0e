// The audiences Allot's APIs accept tokens for. Verification itself lives in authenticator.ts.

export const GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];
export const MMD_AUDIENCE = "https://mwaas-services-customerapi-prod.azurewebsites.net";
