// Which members of a parsed QMP message were JSON floats with an integral value (`1e3`, `1.0`,
// `-0.0`): QEMU's parse_literal() stores every JSON_FLOAT token as a double QNum
// (qnum_from_double), and qnum_get_try_int()/qnum_get_try_uint() refuse a QNUM_DOUBLE, so
// visit_type_int() says "expected: integer" for `"size": 1e3` although its value is whole. A JS
// number cannot carry that kind, so the reader (qmp/json-reader.ts) marks the member on its
// container, and the schema visitor (commands/schema/index.ts) consults the mark. Values are
// untouched; a copied container simply has no marks.
const marks = new WeakMap<object, Set<string | number>>();

export function markIntegralFloat(container: object, key: string | number): void {
  let s = marks.get(container);
  if (!s) marks.set(container, (s = new Set()));
  s.add(key);
}

export function isIntegralFloat(container: object, key: string | number): boolean {
  return marks.get(container)?.has(key) ?? false;
}
