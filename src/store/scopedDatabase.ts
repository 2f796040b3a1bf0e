// A Database view bound to an open transaction: code that opens its own transactions (the request handlers)
// then joins the outer one, so a whole seed fixture commits or rolls back as one.

import type { Database, Row, SqlExecutor } from "./database.js";

export function withinTransaction(db: Database, tx: SqlExecutor): Database {
  return {
    kind: db.kind,
    description: db.description,
    dialect: tx.dialect,
    all: <T extends Row = Row>(sql: string, params?: unknown[]) => tx.all<T>(sql, params),
    run: (sql: string, params?: unknown[]) => tx.run(sql, params),
    transaction: (work) => work(tx),
    // Reads inside the open transaction see rows that may yet roll back: none may be kept.
    readStamp: () => undefined,
    exec: async (script: string) => {
      for (const statement of script.split(";\n")) if (statement.trim()) await tx.run(statement);
    },
    close: async () => undefined,
  };
}
