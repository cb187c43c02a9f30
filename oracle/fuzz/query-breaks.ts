// Inputs after which QEMU's own query-named-block-nodes fails, so the harness cannot read the
// graph (a "harness" finding) and the model has no graph to be compared with. The generator never
// sends them (docs/fidelity.md, "Bitmap directory read through a moved file child").
//
// Fuzz 3337831775: a qcow2 node reads its bitmap directory from bs->file at the offset and size
// its header extension gave when the image was opened or when it stored its bitmaps
// (update_ext_header_and_dir sets s->bitmap_directory_offset/size, s->nb_bitmaps).
// blockdev-reopen may move `file` onto another node (bdrv_reopen_parse_file_or_backing) but
// qcow2_reopen_prepare/commit never re-read the header, so the qcow2 node keeps the old offsets
// over the new child's bytes. query-named-block-nodes -> bdrv_block_device_info ->
// bdrv_query_image_info -> qcow2_get_specific_info -> qcow2_get_bitmap_info_list ->
// bitmap_list_load then parses whatever the new child has there (the guest view of another
// image: a fill pattern, so name_size 0xPPPP runs past the directory: "Broken bitmap
// directory"; zeros: "Bitmap '' doesn't satisfy the constraints") and the whole command fails,
// on 7.2 and on 10.0 alike. The model keeps no image layout (where the directory is, what the
// other image holds there), so it cannot predict that error: the form is avoided instead. Only
// while s->nb_bitmaps is not 0 (qcow2_get_bitmap_info_list returns at once otherwise): a node
// that loaded a directory at open or stored its bitmaps into one (ProcView.bitmapDirNodes); one
// that only carries a persistent bitmap not yet stored is left alone (transcript
// fuzz-reopen-file-unstored-persistent-bitmap).
import type { JsonObject, Step } from '../format.js';
import { isWaitStep } from '../format.js';
import type { ProcView } from './world.js';

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why QEMU's graph query would fail after `step`, or undefined when it is safe. */
export function queryBreaks(step: Step, p: ProcView): string | undefined {
  if (isWaitStep(step) || step.execute !== 'blockdev-reopen') return undefined;
  const list = Array.isArray(step.arguments?.options) ? step.arguments.options : [];
  for (const o of list) {
    if (!isObj(o) || typeof o['node-name'] !== 'string' || !('file' in o)) continue;
    const node = o['node-name'];
    if ((o.driver ?? p.driver(node)) !== 'qcow2' && p.driver(node) !== 'qcow2') continue;
    const image = p.imageOf(node);
    // qcow2_get_bitmap_info_list reads nothing while s->nb_bitmaps is 0 (ProcView.bitmapDirNodes);
    // a reopen to read-only stores the node's persistent bitmaps first (qcow2_reopen_prepare ->
    // qcow2_reopen_bitmaps_ro, through the old file) and then moves the file
    const persistent = p.graph.nodes.find((n) => n.name === node)?.bitmaps?.some((b) => / persistent\b/.test(b)) ?? false;
    if (!p.bitmapDirNodes.has(node) && !(o['read-only'] === true && persistent)) continue;
    const v = o.file;
    if (typeof v === 'string' && v === p.child(node, 'file')) continue;
    // the same bytes: a protocol node over the same image file
    const driver = typeof v === 'string' ? p.driver(v) : isObj(v) ? v.driver : undefined;
    const filename = typeof v === 'string' ? p.graph.nodes.find((n) => n.name === v)?.file : isObj(v) ? v.filename : undefined;
    if (driver === 'file' && filename === image) continue;
    return `fuzz 3337831775: reopen moves the file of '${node}', whose image may hold a bitmap directory, to another node (qcow2_get_bitmap_info_list would read it from the new child: query-named-block-nodes fails)`;
  }
  return undefined;
}
