// Whether a command's events reach the client before or after its reply. QEMU writes events as
// they are emitted, so the ones emitted synchronously inside the command handler precede the
// reply, and those emitted later by the job's coroutine follow it. Checked on qemu-storage-daemon
// 7.2.22: block-commit sends JOB_STATUS_CHANGE created and running (job_create(), job_start())
// before {"return": {}}; job-finalize (job_finalize_locked() -> job_do_finalize_locked()) and
// job-dismiss (job_do_dismiss_locked()) conclude synchronously; job-complete, job-pause,
// job-resume and job-cancel only kick the coroutine (job_enter_cond_locked()), whose status
// changes follow the reply, as do the model's own x-blockgraph-job-advance steps.
const SYNCHRONOUS = new Set([
  'block-commit', 'block-stream', 'blockdev-mirror', 'drive-mirror', 'blockdev-backup', 'drive-backup',
  'job-finalize', 'block-job-finalize', 'job-dismiss', 'block-job-dismiss',
  // an export no client uses is deleted at once (blk_exp_request_shutdown() -> blk_exp_unref()):
  // BLOCK_EXPORT_DELETED precedes the reply (checked for block-export-del; nbd-server-stop takes
  // the same path through blk_exp_close_all_type())
  'block-export-del', 'nbd-server-stop',
]);

export function eventsBeforeReply(command: string): boolean {
  return SYNCHRONOUS.has(command);
}
