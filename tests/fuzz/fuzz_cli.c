/* libFuzzer harness: the input as NUL-separated argv words (at most 64) for options_parse.
 * The result is checked against the parser's promises, then dropped. */
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/model.h"
#include "engine/runtime/threads.h"
#include "options.h"
#include "tests/fuzz/fuzz.h"

enum { MAX_WORDS = 64 };

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

/* What a successful parse promises whatever the words. */
static void check(const options *o)
{
    if (o->epochs < 1 || o->batch < 1 || o->image_size < model_min_size(o->model) || o->train_images < 1 || o->val_images < 1 ||
        !(o->hp.lr > 0.0) || (!o->run_baseline && !o->run_gc) || o->nscaling < 0 || o->nscaling > OPTIONS_MAX_SCALING ||
        o->threads < 0 || o->threads > THREADS_MAX)
        abort();
    for (int i = 0; i < o->nscaling; i++)
        if (o->scaling[i] < 1 || o->scaling[i] > THREADS_MAX) abort();
    if (o->nscaling && (o->checkpoint_path || o->resume_path)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char program[] = "gcbench";
    char *argv[MAX_WORDS + 2] = {program};
    int argc = 1;
    /* Each word in its own exact-size allocation, so a read past its end is caught. */
    for (size_t at = 0; at < size && argc <= MAX_WORDS;) {
        const uint8_t *nul = memchr(data + at, 0, size - at);
        size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
        char *word = malloc(len + 1);
        if (!word) break; /* fuzz what was split */
        memcpy(word, data + at, len);
        word[len] = '\0';
        argv[argc++] = word;
        at += len + 1;
    }
    argv[argc] = NULL;

    options o;
    int rc = options_parse(&o, argc, argv);
    if (rc == GC_OK)
        check(&o);
    else if (rc != GC_EUSAGE || gc_error_message()[0] == '\0')
        abort(); /* bad usage, with a message naming the flag */
    gc_error_clear();
    for (int i = 1; i < argc; i++) free(argv[i]);
    return 0;
}
