// oracle/: the real qemu-storage-daemon as ground truth. Scenarios and the blockgraph-oracle/1
// transcript format, recording on the live daemon, running the same scenario on the model,
// normalising and comparing, importing recorded logs. May import commands/, engine/, store/, qmp/
// (the wire client); nothing below it imports oracle/.
export * from './format.js';
export * from './normalize.js';
export * from './compare.js';
export * from './harness.js';
export { runOnModel, modelRecorder, createModelImages, createModelMachine, MODEL_VERSION } from './run-model.js';
export { spawnQsd, qsdAvailable, createImagesWithQemuImg, createImageWithQemuImg, type QsdConnection, type SpawnQsdOptions } from './qsd.js';
export { importQmpLog, detectFormat, parseQmpShellLog, type ImportFormat, type ImportOptions, type ImportReport, type ImportStep } from './import.js';
export { PACKAGE_ROOT, TRANSCRIPTS_DIR, VM_TRANSCRIPTS_DIR } from './paths.js';
export { spawnVm, vmAvailable, vmArgs, VM_BASE_ARGS } from './qemu-vm.js';
