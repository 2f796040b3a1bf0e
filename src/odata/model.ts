// The vocabulary for declaring an OData model once. Everything protocol-shaped (URL resolution, body validation,
// $select/$expand, @odata.context, @odata.type, $metadata, storage columns) is derived from a Model built from
// these declarations; see src/graph/model/ for the Graph model itself.

export type EdmPrimitive =
  | "Edm.String"
  | "Edm.Boolean"
  | "Edm.Int32"
  | "Edm.Int64"
  | "Edm.Double"
  | "Edm.DateTimeOffset"
  | "Edm.Guid"
  | "Edm.Binary";

export interface PropertyDecl {
  /** An Edm primitive, or the unqualified name of a complex or enum type of the model. */
  type: string;
  collection?: boolean;
  nullable?: boolean;
  /** Server-set: ignored in request bodies (spec §4.10 [I]: ignore silently). */
  readOnly?: boolean;
  /** Accepted in request bodies but never returned (passwords, secrets). */
  writeOnly?: boolean;
  /** Must be present on create. */
  required?: boolean;
  /** May appear in $filter. Filterable primitives become indexed columns of the entity's table. */
  filterable?: boolean;
  /** When only some $filter operators are served for the property (Intune's own limits), those that are. */
  filterOperators?: ("eq" | "ne" | "gt" | "ge" | "lt" | "le" | "in" | "contains" | "startswith" | "endswith" | "any" | "all")[];
  /** May appear in $orderby. */
  sortable?: boolean;
  /**
   * Whether the column of a filterable or sortable property gets an index (default true). Without one the column
   * still serves $filter and $orderby in SQL, by reading the tenant's rows in order: for the enums, booleans and
   * descriptive texts of big tables, where every index costs each bulk-loaded row a B-tree insert.
   */
  indexed?: boolean;
  /**
   * Keep the column written even without an index (SQLite otherwise derives an unindexed column from the
   * document, which a full read of the tenant's rows then parses for every row): for a status that clients poll.
   */
  stored?: boolean;
  maxLength?: number;
  /** Set on create when the body leaves the property out. */
  default?: unknown;
}

/** Permission names per kind of principal; a principal needs any one of the listed names. */
export interface PermissionDecl {
  application: string[];
  delegated: string[];
}

/** `write` with no names at all marks a read-only collection: writes to it have no route. */
export interface OperationPermissions {
  read: PermissionDecl;
  write: PermissionDecl;
}

export interface NavigationDecl {
  /** Unqualified entity type name. */
  target: string;
  collection: boolean;
  /**
   * `contained`: the target rows live in a table of their own, linked to the parent by parent_id.
   * `provider`: a named provider of the graph layer resolves it (group members, a device's profile …).
   */
  storage: { kind: "contained" } | { kind: "provider"; provider: string };
  /** Supports $ref (add/remove references) — only provider navigations. */
  references?: boolean;
  /**
   * Accepts `nav@odata.bind` in a create body without offering $ref routes: the links of an entity set once when it
   * is created (a run state's device, a detected app's devices). Only provider navigations with `addReference`.
   */
  bindable?: boolean;
  permissions?: OperationPermissions;
  /** Another name for a contained collection of the same type: both names serve the same rows. */
  aliasOf?: string;
  /** The methods the collection and its entities support, when not all of GET, POST, PATCH, DELETE. */
  methods?: ("GET" | "POST" | "PATCH" | "DELETE")[];
}

export interface StructuredTypeDecl {
  name: string;
  baseType?: string;
  abstract?: boolean;
  properties?: Record<string, PropertyDecl>;
}

export interface EntityTypeDecl extends StructuredTypeDecl {
  navigation?: Record<string, NavigationDecl>;
  /** The audit log's category and component for writes to this type (inherited by derived types). */
  audit?: { category: string; component: string };
  /**
   * Directory objects and Intune entities follow different conventions: the 404 code and message, and PATCH
   * answering 204 (directory) or 200 with the entity (Intune, spec §4.10).
   */
  flavor?: "directory" | "intune";
  /**
   * Top-level document fields that are no Graph property but that the area's own statements test on every row:
   * each is kept in a written, unindexed text column beside the document (never filterable or returned).
   */
  bookkeepingColumns?: string[];
  /**
   * Rows of this type are rewritten in place by the thousand without their indexed columns changing (a fleet's
   * Entra devices, whose `devicePhysicalIds` a bulk retag rewrites): the store leaves room on each page for the new
   * row versions (src/store/schema.ts).
   */
  rewrittenInPlace?: boolean;
}

export type ComplexTypeDecl = StructuredTypeDecl;

export interface EnumTypeDecl {
  name: string;
  members: string[];
}

export interface OperationParameterDecl extends PropertyDecl {}

export interface BoundOperationDecl {
  name: string;
  kind: "action" | "function";
  /** Unqualified entity type the operation is bound to, and whether to its collection. */
  bindingType: string;
  bindingCollection: boolean;
  parameters?: Record<string, OperationParameterDecl>;
  /** Return type: undefined = void (204). */
  returns?: { type: string; collection: boolean };
  /** The handler name the graph layer registers. */
  handler: string;
  permissions: PermissionDecl;
  /** An action that only reads (checkMemberGroups …): not audited. */
  readOnly?: boolean;
  /** Parameters beyond the declared ones are accepted when of this type (wipe's future booleans). */
  additionalParameters?: "Edm.Boolean";
}

export interface EntitySetDecl {
  name: string;
  entityType: string;
  permissions: OperationPermissions;
  /** Properties `$search="property:value"` may name (directory objects, with ConsistencyLevel: eventual). */
  search?: string[];
}

export interface SingletonDecl {
  name: string;
  type: string;
}

export interface ModelDecl {
  namespace: string;
  entityTypes: EntityTypeDecl[];
  complexTypes: ComplexTypeDecl[];
  enumTypes: EnumTypeDecl[];
  entitySets: EntitySetDecl[];
  singletons: SingletonDecl[];
  operations: BoundOperationDecl[];
}
