/** One entry of the QAPI type table (table.ts). */
export type TypeDef =
  | { enum: readonly string[] }
  | { alternate: readonly (string | readonly [string])[] }
  | { data: Readonly<Record<string, string | readonly [string]>>; tag?: string; cases?: Readonly<Record<string, string>> };
