/* libFuzzer harness: bytes as a checkpoint file, through checkpoint_parse (the container)
 * and session_load_file (gcbench's sections: configuration, run state, weights, history),
 * against the session of a small configuration:
 *   gcbench --image-size 94 --train-images 8 --val-images 4 --batch 4 --epochs 2
 * corpus/checkpoint/ holds checkpoints that this configuration wrote, so the fuzzer starts
 * from inputs that load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/model.h"
#include "engine/runtime/threads.h"
#include "io/input/synthetic.h"
#include "session.h"
#include "tests/fuzz/fuzz.h"

/* The container's header (engine/train/checkpoint.h): the payload checksum is its last 8 bytes. */
enum { HEADER_BYTES = 32, CHECKSUM_AT = 24 };

static options opt;
static session sess;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_checkpoint: %s: %s\n", what, gc_error_message());
    abort();
}

/* The session gcbench builds for the configuration above, up to --resume (main.c: load_data,
 * run_once, build_net). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char *args[] = {"gcbench", "--image-size", "94", "--train-images", "8", "--val-images", "4",
                           "--batch", "4", "--epochs", "2"};
    if (options_parse(&opt, (int)(sizeof args / sizeof *args), args) != GC_OK) die("options");
    sess = (session){.opt = &opt, .saved_epoch = -1};
    snprintf(sess.data_desc, sizeof sess.data_desc, "synthetic (seed %llu)", (unsigned long long)opt.seed);
    if (synthetic_dataset(&sess.train, opt.seed, 0, (size_t)opt.train_images, opt.image_size) != GC_OK ||
        synthetic_dataset(&sess.val, opt.seed, SYNTHETIC_VAL_BASE, (size_t)opt.val_images, opt.image_size) != GC_OK)
        die("synthetic data");
    sess.threads = threads_physical_cores(); /* gcbench's default */

    int size = opt.image_size, sizes[4];
    int count = train_batch_sizes(opt.batch, sess.train.count, sess.val.count, sizes);
    if (net_create(&sess.net, (act_shape){3, 3, size, size}, dnnl_format_tag_any) != GC_OK ||
        model_build(opt.model, sess.net, !opt.unfused) != GC_OK || net_plan(sess.net, sizes, count) != GC_OK)
        die("network");
    return 0;
}

/* What a successful load promises: the log inside the file, a run state that fits, and the
 * weights and optimizer state loaded into the network (its slots allocated). */
static void use(const resume_point *r)
{
    const uint8_t *lo = r->file.buf, *hi = r->file.buf + r->file.size, *log = (const uint8_t *)r->log;
    const param_store *ps = &sess.net->params;
    if (log < lo || log + r->log_size > hi || !r->state.ips || r->run_index < 0 || r->run_index > 1 ||
        sess.nhistory > 2 || ps->nslots != sess.opt->optimizer->nslots)
        abort();
}

static void load(const uint8_t *data, size_t size)
{
    checkpoint_file file;
    if (checkpoint_parse(data, size, "fuzz", &file) == GC_OK) {
        resume_point r;
        if (session_load_file(&sess, "fuzz", &file, &r) == GC_OK) use(&r);
        resume_point_free(&r);
    }
    /* Back to the state before --resume: no history, no message. */
    for (int i = 0; i < 2; i++) report_history_free(&sess.history[i]);
    sess.nhistory = 0;
    gc_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    /* Mutations almost never keep the checksum right, so without this the sections behind it
     * would go unfuzzed: the same bytes again with the checksum made to match. */
    if (size < HEADER_BYTES) return 0;
    uint64_t sum = checkpoint_hash(data + HEADER_BYTES, size - HEADER_BYTES), stored;
    memcpy(&stored, data + CHECKSUM_AT, sizeof stored);
    if (sum == stored) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    memcpy(fixed + CHECKSUM_AT, &sum, sizeof sum);
    load(fixed, size);
    free(fixed);
    return 0;
}
